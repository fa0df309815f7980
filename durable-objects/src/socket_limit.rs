//! The `ws-message` bucket (SPEC §8): every frame a socket sends that wakes
//! its room (pings are answered by the runtime without waking it) is checked
//! with the entity's `RateLimiter`. A refused frame is dropped and answered
//! with an `error` event; the socket stays open.
//!
//! The check is the first `await` in a room's frame handler, so frames could
//! overtake each other while their checks are in flight; [`Turns`] makes the
//! room handle frames strictly in arrival order.

use crate::limiter_client;
use crate::room_protocol::RoomJoin;
use agentgate_shared::ratelimit::{bucket_key, Subject};
use agentgate_shared::realtime::error_event;
use agentgate_shared::routes::RateBucket;
use futures::channel::oneshot;
use std::cell::RefCell;
use worker::Env;

/// Arrival-order turns: each frame waits for the one before it to finish.
#[derive(Default)]
pub struct Turns {
    last: RefCell<Option<oneshot::Receiver<()>>>,
}

/// Held while a frame is handled; dropping it lets the next frame go.
pub struct Turn {
    _done: oneshot::Sender<()>,
}

impl Turns {
    /// Takes the next turn (synchronously, in arrival order) and waits for it.
    pub async fn next(&self) -> Turn {
        let (done, next) = oneshot::channel();
        let previous = self.last.replace(Some(next));
        if let Some(previous) = previous {
            // Resolves (as cancelled) when the previous frame drops its turn.
            let _ = previous.await;
        }
        Turn { _done: done }
    }
}

/// `None` when the frame is admitted, else the error event to send back.
pub async fn refusal(env: &Env, join: &RoomJoin) -> Option<String> {
    let limit = join.message_limit.as_ref()?;
    let key = bucket_key(RateBucket::WsMessage, &Subject::Entity(&join.entity_id));
    match limiter_client::check(env, &key, &limit.check).await {
        Ok(answer) if answer.allowed => None,
        Ok(answer) => {
            let retry = answer.headers().retry_after_secs.unwrap_or(1);
            Some(error_event(
                "RATE_LIMIT_EXCEEDED",
                &format!("Too many messages; retry in {retry} s"),
            ))
        }
        Err(_) if limit.fail_open => None,
        Err(_) => Some(error_event(
            "RATE_LIMITER_UNAVAILABLE",
            "The rate limiter is unavailable; the message was not sent",
        )),
    }
}
