//! The `ws-message` bucket (SPEC §8): every frame a socket sends that wakes
//! its room (pings are answered by the runtime without waking it) is checked
//! with the entity's `RateLimiter`. A refused frame is dropped and answered
//! with an `error` event; the socket stays open.

use crate::limiter_client;
use crate::room_protocol::RoomJoin;
use agentgate_shared::ratelimit::{bucket_key, Subject};
use agentgate_shared::realtime::error_event;
use agentgate_shared::routes::RateBucket;
use worker::Env;

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
