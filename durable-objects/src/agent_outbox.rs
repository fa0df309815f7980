//! A room's deliveries to the agent origin (SPEC §13, messages handed to
//! agents). The room keeps its agent participants and an outbox in its
//! SQLite storage: a message for agents is queued in the same turn that
//! broadcasts it, and the room's alarm delivers the queue, so the sender
//! never waits for the origin and a delivery survives hibernation, eviction
//! and a restart. Failures are retried with the backoff of
//! [`agentgate_shared::agent_delivery`].

use agentgate_shared::agent_delivery::{next_attempt_at, recipients, AgentRouting, BATCH};
use agentgate_shared::realtime::ChannelMessage;
use serde::Deserialize;
use std::collections::BTreeSet;
use worker::{Result, SqlStorage, SqlStorageValue};

pub struct AgentOutbox {
    sql: SqlStorage,
}

/// One queued delivery.
pub struct Pending {
    pub seq: i64,
    pub message: ChannelMessage,
    pub agent_ids: Vec<String>,
    /// The sender's permissions (the assertion's `scopes`).
    pub scopes: Vec<String>,
    /// The gateway's URL origin (the assertion's `iss`).
    pub issuer: String,
    pub attempts: u32,
}

#[derive(Deserialize)]
struct PendingRow {
    seq: f64,
    message: String,
    agent_ids: String,
    scopes: String,
    issuer: String,
    attempts: f64,
}

#[derive(Deserialize)]
struct AgentRow {
    agent_id: String,
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
}

#[derive(Deserialize)]
struct NextRow {
    next_at: Option<f64>,
}

fn decode(r: PendingRow) -> Result<Pending> {
    Ok(Pending {
        seq: r.seq as i64,
        message: serde_json::from_str(&r.message).map_err(json_error)?,
        agent_ids: serde_json::from_str(&r.agent_ids).map_err(json_error)?,
        scopes: serde_json::from_str(&r.scopes).map_err(json_error)?,
        issuer: r.issuer,
        attempts: r.attempts as u32,
    })
}

fn json_error(e: serde_json::Error) -> worker::Error {
    worker::Error::RustError(format!("agent outbox row: {e}"))
}

impl AgentOutbox {
    pub fn new(sql: SqlStorage) -> Self {
        // Idempotent; runs once per object instantiation.
        for ddl in [
            "CREATE TABLE IF NOT EXISTS room_agents (agent_id TEXT PRIMARY KEY)",
            "CREATE TABLE IF NOT EXISTS room_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS agent_outbox (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
               message TEXT NOT NULL,
               agent_ids TEXT NOT NULL,
               scopes TEXT NOT NULL,
               issuer TEXT NOT NULL,
               attempts INTEGER NOT NULL,
               next_at INTEGER NOT NULL)",
        ] {
            let _ = sql.exec(ddl, None);
        }
        Self { sql }
    }

    /// Takes the worker's statement of the room's agents (see
    /// [`AgentRouting::merge`]) and the gateway's issuer.
    pub fn apply(&self, routing: &AgentRouting) -> Result<()> {
        let merged = routing.merge(&self.agents()?.into_iter().collect::<Vec<_>>());
        self.sql.exec("DELETE FROM room_agents", None)?;
        for agent in merged {
            self.sql.exec(
                "INSERT INTO room_agents (agent_id) VALUES (?)",
                vec![agent.into()],
            )?;
        }
        self.sql.exec(
            "INSERT INTO room_meta (key, value) VALUES ('issuer', ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![routing.issuer.clone().into()],
        )?;
        Ok(())
    }

    pub fn agents(&self) -> Result<BTreeSet<String>> {
        let rows: Vec<AgentRow> = self
            .sql
            .exec("SELECT agent_id FROM room_agents", None)?
            .to_array()?;
        Ok(rows.into_iter().map(|r| r.agent_id).collect())
    }

    fn issuer(&self) -> Result<Option<String>> {
        let rows: Vec<ValueRow> = self
            .sql
            .exec("SELECT value FROM room_meta WHERE key = 'issuer'", None)?
            .to_array()?;
        Ok(rows.into_iter().next().map(|r| r.value))
    }

    /// Queues `message` for the room's agents its sender may address (see
    /// [`recipients`]). Returns whether anything was queued.
    pub fn enqueue(
        &self,
        message: &ChannelMessage,
        addressable: &[String],
        scopes: &[String],
        now: u64,
    ) -> Result<bool> {
        if addressable.is_empty() {
            return Ok(false);
        }
        let agent_ids = recipients(&self.agents()?, addressable, &message.sender_id);
        let Some(issuer) = self.issuer()? else {
            return Ok(false);
        };
        if agent_ids.is_empty() {
            return Ok(false);
        }
        self.sql.exec(
            "INSERT INTO agent_outbox (message, agent_ids, scopes, issuer, attempts, next_at)
             VALUES (?, ?, ?, ?, 0, ?)",
            vec![
                serde_json::to_string(message).map_err(json_error)?.into(),
                serde_json::to_string(&agent_ids)
                    .map_err(json_error)?
                    .into(),
                serde_json::to_string(scopes).map_err(json_error)?.into(),
                issuer.into(),
                SqlStorageValue::Integer(now as i64),
            ],
        )?;
        Ok(true)
    }

    /// Deliveries whose time has come, oldest first.
    pub fn due(&self, now: u64) -> Result<Vec<Pending>> {
        let rows: Vec<PendingRow> = self
            .sql
            .exec(
                "SELECT seq, message, agent_ids, scopes, issuer, attempts FROM agent_outbox
                 WHERE next_at <= ? ORDER BY seq LIMIT ?",
                vec![
                    SqlStorageValue::Integer(now as i64),
                    SqlStorageValue::Integer(BATCH as i64),
                ],
            )?
            .to_array()?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let seq = row.seq as i64;
            match decode(row) {
                Ok(pending) => due.push(pending),
                Err(e) => {
                    // One unreadable row must not stop the room's deliveries.
                    worker::console_error!(
                        "{}",
                        serde_json::json!({"event": "agent_delivery.unreadable", "seq": seq, "reason": e.to_string()})
                    );
                    self.done(seq)?;
                }
            }
        }
        Ok(due)
    }

    /// The origin took it: forget it.
    pub fn done(&self, seq: i64) -> Result<()> {
        self.sql.exec(
            "DELETE FROM agent_outbox WHERE seq = ?",
            vec![SqlStorageValue::Integer(seq)],
        )?;
        Ok(())
    }

    /// An attempt failed: schedule the next one, or give up (returns `false`)
    /// after the last.
    pub fn failed(&self, pending: &Pending, now: u64) -> Result<bool> {
        let attempts = pending.attempts + 1;
        match next_attempt_at(attempts, now) {
            Some(at) => {
                self.sql.exec(
                    "UPDATE agent_outbox SET attempts = ?, next_at = ? WHERE seq = ?",
                    vec![
                        SqlStorageValue::Integer(i64::from(attempts)),
                        SqlStorageValue::Integer(at as i64),
                        SqlStorageValue::Integer(pending.seq),
                    ],
                )?;
                Ok(true)
            }
            None => {
                self.done(pending.seq)?;
                Ok(false)
            }
        }
    }

    /// When the next queued delivery is due, if any.
    pub fn next_due(&self) -> Result<Option<u64>> {
        let rows: Vec<NextRow> = self
            .sql
            .exec("SELECT MIN(next_at) AS next_at FROM agent_outbox", None)?
            .to_array()?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.next_at)
            .map(|t| t.max(0.0) as u64))
    }
}
