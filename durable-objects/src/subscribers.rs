//! A room's Socket.IO subscribers: the connection objects (one per Engine.IO
//! session) that joined the channel. The room fans each new message out to
//! them; a connection that answers 410 has gone and is forgotten.

use crate::room_protocol::{Delivery, Subscription, SIO_PATH_DELIVER, SOCKETIO_BINDING};
use agentgate_shared::realtime::ChannelMessage;
use futures::future::join_all;
use serde::Deserialize;
use worker::{Env, Headers, Method, Request, RequestInit, Result, SqlStorage, SqlStorageValue};

pub struct Subscribers {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct Row {
    sid: String,
    channel_id: String,
    entity_id: String,
    session_hash: Option<String>,
}

impl Subscribers {
    pub fn new(sql: SqlStorage) -> Self {
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS sio_subscribers (
               sid TEXT PRIMARY KEY,
               channel_id TEXT NOT NULL,
               entity_id TEXT NOT NULL,
               session_hash TEXT)",
            None,
        );
        Self { sql }
    }

    pub fn add(&self, s: &Subscription) -> Result<()> {
        self.sql.exec(
            "INSERT OR REPLACE INTO sio_subscribers (sid, channel_id, entity_id, session_hash) VALUES (?, ?, ?, ?)",
            vec![
                s.sid.clone().into(),
                s.channel_id.clone().into(),
                s.entity_id.clone().into(),
                s.session_hash
                    .clone()
                    .map_or(SqlStorageValue::Null, Into::into),
            ],
        )?;
        Ok(())
    }

    pub fn remove(&self, sid: &str) -> Result<()> {
        self.sql.exec(
            "DELETE FROM sio_subscribers WHERE sid = ?",
            vec![sid.to_owned().into()],
        )?;
        Ok(())
    }

    fn all(&self) -> Result<Vec<Row>> {
        self.sql
            .exec(
                "SELECT sid, channel_id, entity_id, session_hash FROM sio_subscribers",
                None,
            )?
            .to_array()
    }

    /// The subscribers (sid, channel) of `entity_id` or riding on
    /// `session_hash`, removed.
    pub fn take_matching(
        &self,
        entity_id: Option<&str>,
        session_hash: Option<&str>,
    ) -> Result<Vec<(String, String)>> {
        let mut taken = Vec::new();
        for row in self.all()? {
            let by_entity = entity_id == Some(row.entity_id.as_str());
            let by_session = session_hash.is_some() && session_hash == row.session_hash.as_deref();
            if by_entity || by_session {
                self.remove(&row.sid)?;
                taken.push((row.sid, row.channel_id));
            }
        }
        Ok(taken)
    }

    /// Hands `message` to every subscriber, concurrently, and waits for all:
    /// the caller holds the room's fan-out turn, so the next message starts
    /// only after this one reached everyone (per-channel order).
    pub async fn deliver(&self, env: &Env, message: &ChannelMessage) -> Result<()> {
        let rows = self.all()?;
        if rows.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_string(&Delivery {
            channel_id: message.channel_id.clone(),
            message: message.clone(),
        })?;
        let calls = rows
            .iter()
            .map(|row| call(env, &row.sid, SIO_PATH_DELIVER, &body));
        for (row, status) in rows.iter().zip(join_all(calls).await) {
            match status {
                Ok(200) => {}
                // Gone (closed, expired, left): forget it.
                Ok(410) => self.remove(&row.sid)?,
                other => worker::console_warn!(
                    "{}",
                    serde_json::json!({
                        "event": "socketio.delivery_failed",
                        "sid_prefix": &row.sid[..row.sid.len().min(8)],
                        "status": other.as_ref().ok(),
                    })
                ),
            }
        }
        Ok(())
    }
}

/// One internal POST to the connection object named `sid`; its status.
pub async fn call(env: &Env, sid: &str, path: &str, body: &str) -> Result<u16> {
    let stub = env
        .durable_object(SOCKETIO_BINDING)?
        .id_from_name(sid)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.to_owned().into()));
    let req = Request::new_with_init(&format!("https://socketio-connection{path}"), &init)?;
    Ok(stub.fetch_with_request(req).await?.status_code())
}
