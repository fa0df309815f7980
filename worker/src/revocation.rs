//! Revocation reaches sockets (SPEC §4, §9): after sessions are revoked in
//! the store, every channel room of the entity closes the sockets opened with
//! those sessions (close code 4001, `SESSION_REVOKED`).
//!
//! The store is the authority: a revoked session is refused on its very next
//! HTTP request whatever happens here, and a room re-checks a socket's
//! session expiry on each message. Closing is best effort on top of that: a
//! room that can't be reached is logged, not retried.

use crate::error::ApiError;
use crate::rooms;
use crate::storage::scope::EntityScope;
use crate::storage::ChannelRepo;
use agentgate_durable_objects::room_protocol::{CloseSockets, CLOSE_SESSION_REVOKED};
use worker::Env;

/// How many of the entity's channels are visited (pages of 200).
const MAX_CHANNELS: usize = 2_000;

pub async fn close_sockets(
    env: &Env,
    store: &impl ChannelRepo,
    scope: &EntityScope,
    session_hashes: &[String],
) {
    if session_hashes.is_empty() {
        return;
    }
    // Socket.IO connections first: one call to the entity's hub, whatever
    // channels they joined.
    crate::socketio::hub::close_connections(
        env,
        scope.entity_id(),
        Some(session_hashes.to_vec()),
        "SESSION_REVOKED",
    )
    .await;
    if let Err(e) = close_in_every_room(env, store, scope, session_hashes).await {
        worker::console_warn!(
            "{}",
            serde_json::json!({
                "level": "warn",
                "event": "revocation.sockets_not_closed",
                "detail": e.detail().unwrap_or_default(),
            })
        );
    }
}

async fn close_in_every_room(
    env: &Env,
    store: &impl ChannelRepo,
    scope: &EntityScope,
    session_hashes: &[String],
) -> Result<(), ApiError> {
    let mut before = None;
    let mut visited = 0;
    while visited < MAX_CHANNELS {
        let page = store.channels_of(scope, before, 200).await?;
        for channel in &page {
            for hash in session_hashes {
                let close = CloseSockets {
                    session_hash: Some(hash.clone()),
                    entity_id: None,
                    code: CLOSE_SESSION_REVOKED,
                    reason: "SESSION_REVOKED".to_owned(),
                };
                rooms::close_sockets(env, &channel.id, &close).await?;
            }
        }
        visited += page.len();
        match page.last() {
            Some(last) if page.len() == 200 => before = Some(last.created_at),
            _ => break,
        }
    }
    Ok(())
}
