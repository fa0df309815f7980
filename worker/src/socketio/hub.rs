//! `EntityHub`: one Durable Object per entity, the index of its live
//! Socket.IO connections. A connection registers once its CONNECT succeeds
//! and leaves when it closes; revocation (logout, session revoke, password
//! change) asks the hub once, and the hub closes the matching connections,
//! whatever channels they joined (or none).

use super::protocol::*;
use futures::future::join_all;
use serde::Serialize;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, RequestInit, Response, Result,
    State,
};

#[durable_object]
pub struct EntityHub {
    state: State,
    env: Env,
}

impl DurableObject for EntityHub {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let storage = self.state.storage();
        match (req.method(), req.path().as_str()) {
            (Method::Post, HUB_REGISTER) => {
                let entry: HubEntry = req.json().await?;
                storage
                    .put(&entry.sid, serde_json::to_string(&entry)?)
                    .await?;
                Response::ok("")
            }
            (Method::Post, HUB_UNREGISTER) => {
                let entry: HubEntry = req.json().await?;
                storage.delete(&entry.sid).await?;
                Response::ok("")
            }
            (Method::Post, HUB_CLOSE) => {
                let close: HubClose = req.json().await?;
                let entries = storage.list().await?;
                let mut targets = Vec::new();
                for value in entries.values() {
                    let Some(text) = value.ok().and_then(|v| v.as_string()) else {
                        continue;
                    };
                    let Ok(entry) = serde_json::from_str::<HubEntry>(&text) else {
                        continue;
                    };
                    let matches = match &close.session_hashes {
                        None => true,
                        Some(hashes) => entry
                            .session_hash
                            .as_ref()
                            .is_some_and(|h| hashes.contains(h)),
                    };
                    if matches {
                        targets.push(entry.sid);
                    }
                }
                let body = CloseConnection {
                    reason: close.reason,
                };
                let calls = targets
                    .iter()
                    .map(|sid| post(&self.env, CONNECTION_BINDING, sid, PATH_CLOSE, &body));
                join_all(calls).await;
                for sid in &targets {
                    storage.delete(sid).await?;
                }
                Response::from_json(&serde_json::json!({ "closed": targets.len() }))
            }
            _ => Response::error("unknown hub operation", 404),
        }
    }
}

/// One internal POST to the object `name` of `binding`; its status.
pub async fn post<T: Serialize>(
    env: &Env,
    binding: &str,
    name: &str,
    path: &str,
    body: &T,
) -> Result<u16> {
    let stub = env
        .durable_object(binding)?
        .id_from_name(name)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(body)?.into()));
    let req = Request::new_with_init(&format!("https://socketio{path}"), &init)?;
    Ok(stub.fetch_with_request(req).await?.status_code())
}

/// Closes `entity_id`'s connections riding on these sessions (all of its
/// connections with `None`). Best effort, like the rooms' closing: the store
/// already refuses the revoked credential.
/// The hub's name for a machine token's connections (sessions are named by
/// their hash, which can't take this form).
pub fn token_key(token_id: &str) -> String {
    format!("machine-token:{token_id}")
}

pub async fn close_connections(
    env: &Env,
    entity_id: &str,
    session_hashes: Option<Vec<String>>,
    reason: &str,
) {
    let close = HubClose {
        session_hashes,
        reason: reason.to_owned(),
    };
    let outcome = post(env, HUB_BINDING, entity_id, HUB_CLOSE, &close).await;
    worker::console_log!(
        "{}",
        serde_json::json!({"event": "socketio.revoked", "reason": reason, "status": outcome.as_ref().ok()})
    );
    if let Err(e) = outcome {
        worker::console_warn!(
            "{}",
            serde_json::json!({"level": "warn", "event": "socketio.hub_unreachable", "detail": e.to_string()})
        );
    }
}
