//! A room's message log in the Durable Object's SQLite storage.

use agentgate_shared::ids::uuid_v7;
use agentgate_shared::realtime::ChannelMessage;
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

pub struct MessageLog {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    channel_id: String,
    sender_id: String,
    text: String,
    created_at: f64,
    client_id: Option<String>,
}

impl From<Row> for ChannelMessage {
    fn from(r: Row) -> Self {
        ChannelMessage {
            id: r.id,
            channel_id: r.channel_id,
            sender_id: r.sender_id,
            text: r.text,
            created_at: r.created_at as u64,
            client_id: r.client_id,
        }
    }
}

impl MessageLog {
    pub fn new(sql: SqlStorage) -> Self {
        // Idempotent; runs once per object instantiation.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS messages (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
               id TEXT NOT NULL UNIQUE,
               channel_id TEXT NOT NULL,
               sender_id TEXT NOT NULL,
               text TEXT NOT NULL,
               client_id TEXT,
               created_at INTEGER NOT NULL)",
            None,
        );
        Self { sql }
    }

    /// Appends a message with a server-assigned id and time.
    pub fn append(
        &self,
        channel_id: &str,
        sender_id: &str,
        text: &str,
        client_id: Option<String>,
    ) -> Result<ChannelMessage> {
        let now = worker::Date::now().as_millis();
        let mut random = [0u8; 10];
        getrandom::getrandom(&mut random).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let message = ChannelMessage {
            id: uuid_v7(now, random),
            channel_id: channel_id.to_owned(),
            sender_id: sender_id.to_owned(),
            text: text.to_owned(),
            created_at: now,
            client_id,
        };
        self.sql.exec(
            "INSERT INTO messages (id, channel_id, sender_id, text, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                message.id.clone().into(),
                message.channel_id.clone().into(),
                message.sender_id.clone().into(),
                message.text.clone().into(),
                message.client_id.clone().map_or(SqlStorageValue::Null, Into::into),
                SqlStorageValue::Integer(now as i64),
            ],
        )?;
        Ok(message)
    }

    /// The last `n` messages, oldest first.
    pub fn recent(&self, n: usize) -> Result<Vec<ChannelMessage>> {
        self.page(None, n)
    }

    /// Up to `limit` messages created before `before_ms` (or the newest),
    /// oldest first.
    pub fn page(&self, before_ms: Option<u64>, limit: usize) -> Result<Vec<ChannelMessage>> {
        let before = before_ms.map_or(i64::MAX, |b| b as i64);
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT id, channel_id, sender_id, text, client_id, created_at FROM messages
                 WHERE created_at < ? ORDER BY seq DESC LIMIT ?",
                vec![
                    SqlStorageValue::Integer(before),
                    SqlStorageValue::Integer(limit as i64),
                ],
            )?
            .to_array()?;
        let mut messages: Vec<ChannelMessage> = rows.into_iter().map(Into::into).collect();
        messages.reverse();
        Ok(messages)
    }
}
