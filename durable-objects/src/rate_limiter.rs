//! `RateLimiter`: one Durable Object per bucket key (SPEC §8).
//!
//! Its state lives in the object's SQLite storage (so eviction or a restart
//! loses nothing). The runtime delivers one event at a time and only switches
//! at an `await`; between reading the state and writing the new one there is
//! no `await` (the SQL API is synchronous), so N concurrent checks against a
//! limit L admit exactly min(N, L). An alarm deletes the key's rows once it
//! is idle (full bucket, no penalty, no refusal or failure still counted).

use crate::limiter_protocol::*;
use agentgate_shared::ratelimit::{
    decide, record_failure, AdaptivePolicy, AlertPolicy, FailedLoginTracker, LimiterState,
    RateLimitHeaders,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, SqlStorageValue, State,
};

/// The row holding the bucket's [`LimiterState`].
const LIMITER_ROW: &str = "limiter";
/// The row holding the failed-login [`FailedLoginTracker`].
const FAILURES_ROW: &str = "failures";

#[durable_object]
pub struct RateLimiter {
    state: State,
    /// Whether the table exists (created once per instance).
    table_ready: Cell<bool>,
    /// Whether this instance has an alarm pending (after an eviction the new
    /// instance sets it again, which is harmless).
    alarm_pending: Cell<bool>,
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
}

#[derive(Deserialize)]
struct IdleRow {
    idle_at: Option<f64>,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            table_ready: Cell::new(false),
            alarm_pending: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() != Method::Post {
            return Response::error("unknown rate limiter operation", 404);
        }
        match req.path().as_str() {
            PATH_CHECK => {
                let request: CheckRequest = req.json().await?;
                let (answer, idle_at) = self.check(&request)?;
                self.arm_alarm(idle_at).await?;
                Response::from_json(&answer)
            }
            PATH_FAILED_LOGIN => {
                let request: FailedLoginRequest = req.json().await?;
                let (answer, idle_at) = self.failed_login(request.into())?;
                self.arm_alarm(idle_at).await?;
                Response::from_json(&answer)
            }
            _ => Response::error("unknown rate limiter operation", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_pending.set(false);
        let now = now_ms();
        match self.latest_idle_at()? {
            Some(idle_at) if idle_at > now => self.arm_alarm(idle_at).await?,
            _ => {
                // Idle: forget the key's rows. Synchronous, so no check can
                // slip in between deciding and deleting. (Not `DROP TABLE` +
                // `deleteAll()`: with those, requests under `wrangler dev`
                // occasionally stalled for minutes; cause not isolated.)
                self.state.storage().sql().exec("DELETE FROM state", None)?;
            }
        }
        Response::ok("")
    }
}

impl RateLimiter {
    /// One admission decision: read, decide, write — synchronously.
    fn check(&self, request: &CheckRequest) -> Result<(CheckResponse, u64)> {
        let now = now_ms();
        let policy: AdaptivePolicy = request.adaptive.into();
        let stored: LimiterState = self.load(LIMITER_ROW)?.unwrap_or_default();
        let (decision, next) = decide(stored, request.limit, now, request.cost, &policy);
        let idle_at = next.idle_at_ms(&policy);
        self.save(LIMITER_ROW, &next, idle_at)?;
        let headers = RateLimitHeaders::from_decision(&decision);
        Ok((CheckResponse::from(&headers), idle_at))
    }

    /// One failed login: read, record, write — synchronously.
    fn failed_login(&self, policy: AlertPolicy) -> Result<(FailedLoginResponse, u64)> {
        let now = now_ms();
        let stored: FailedLoginTracker = self.load(FAILURES_ROW)?.unwrap_or_default();
        let (next, alert) = record_failure(stored, now, &policy);
        let idle_at = next.idle_at_ms(&policy);
        self.save(FAILURES_ROW, &next, idle_at)?;
        Ok((FailedLoginResponse { alert }, idle_at))
    }

    fn ensure_table(&self) -> Result<()> {
        if !self.table_ready.get() {
            self.state.storage().sql().exec(
                "CREATE TABLE IF NOT EXISTS state (
                   name TEXT PRIMARY KEY,
                   value TEXT NOT NULL,
                   idle_at INTEGER NOT NULL)",
                None,
            )?;
            self.table_ready.set(true);
        }
        Ok(())
    }

    /// A stored value; a value that no longer parses is an error (the caller
    /// fails closed), never a silently fresh bucket.
    fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        self.ensure_table()?;
        let rows: Vec<ValueRow> = self
            .state
            .storage()
            .sql()
            .exec("SELECT value FROM state WHERE name = ?", vec![name.into()])?
            .to_array()?;
        rows.into_iter()
            .next()
            .map(|row| serde_json::from_str(&row.value).map_err(worker::Error::from))
            .transpose()
    }

    fn save<T: Serialize>(&self, name: &str, value: &T, idle_at: u64) -> Result<()> {
        self.ensure_table()?;
        let text = serde_json::to_string(value)?;
        self.state.storage().sql().exec(
            "INSERT INTO state (name, value, idle_at) VALUES (?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value, idle_at = excluded.idle_at",
            vec![
                name.into(),
                text.into(),
                SqlStorageValue::Integer(i64::try_from(idle_at).unwrap_or(i64::MAX)),
            ],
        )?;
        Ok(())
    }

    /// The moment from which every stored row is idle, if any row exists.
    fn latest_idle_at(&self) -> Result<Option<u64>> {
        self.ensure_table()?;
        let rows: Vec<IdleRow> = self
            .state
            .storage()
            .sql()
            .exec("SELECT MAX(idle_at) AS idle_at FROM state", None)?
            .to_array()?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.idle_at)
            .map(|t| t.max(0.0) as u64))
    }

    /// Schedules the cleanup alarm unless one is pending. An alarm that fires
    /// before the key is idle re-arms itself for the latest idle time.
    async fn arm_alarm(&self, idle_at: u64) -> Result<()> {
        if self.alarm_pending.replace(true) {
            return Ok(());
        }
        let offset = idle_at.saturating_sub(now_ms()).max(1);
        let result = self
            .state
            .storage()
            .set_alarm(i64::try_from(offset).unwrap_or(i64::MAX))
            .await;
        if result.is_err() {
            self.alarm_pending.set(false);
        }
        result
    }
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
