//! A connection's calls to the channel rooms and the rate limiter: subscribe
//! on join, post a message (logged and fanned out exactly like REST and the
//! raw sockets' messages), and the `ws-message` bucket.

use super::identity::Identity;
use crate::rooms;
use agentgate_durable_objects::limiter_client;
use agentgate_durable_objects::room_protocol::{PostMessage, Subscription};
use agentgate_shared::ratelimit::{bucket_key, Subject};
use agentgate_shared::realtime::ChannelMessage;
use agentgate_shared::routes::RateBucket;
use worker::{Env, Result};

fn internal(e: crate::error::ApiError) -> worker::Error {
    worker::Error::RustError(e.detail().unwrap_or(e.code.as_str()).to_owned())
}

pub async fn subscribe(env: &Env, channel_id: &str, sid: &str, identity: &Identity) -> Result<()> {
    let sub = Subscription {
        sid: sid.to_owned(),
        channel_id: channel_id.to_owned(),
        entity_id: identity.entity_id.clone(),
        session_hash: identity.session_hash.clone(),
    };
    rooms::subscribe(env, &sub).await.map_err(internal)
}

/// Best effort: a room that keeps a departed subscriber forgets it at the
/// next delivery (410).
pub async fn unsubscribe(env: &Env, channel_id: &str, sid: &str) {
    let sub = Subscription {
        sid: sid.to_owned(),
        channel_id: channel_id.to_owned(),
        entity_id: String::new(),
        session_hash: None,
    };
    let _ = rooms::unsubscribe(env, &sub).await;
}

pub async fn post(
    env: &Env,
    identity: &Identity,
    channel_id: &str,
    text: String,
    client_id: Option<String>,
) -> Result<ChannelMessage> {
    // Agent routing (handing the message to the channel's agents) joins here
    // with the agent loop (issue 15 item 4); until then the room logs and
    // broadcasts it.
    rooms::post(
        env,
        &PostMessage {
            channel_id: channel_id.to_owned(),
            sender_id: identity.entity_id.clone(),
            text,
            client_id,
            permissions: identity.permissions.clone(),
            routing: None,
        },
    )
    .await
    .map_err(internal)
}

/// `Some((code, message))` when the `ws-message` bucket refuses.
pub async fn rate_limited(env: &Env, identity: &Identity) -> Option<(&'static str, String)> {
    let limit = identity.message_limit.as_ref()?;
    let key = bucket_key(RateBucket::WsMessage, &Subject::Entity(&identity.entity_id));
    match limiter_client::check(env, &key, &limit.check).await {
        Ok(answer) if answer.allowed => None,
        Ok(answer) => {
            let retry = answer.headers().retry_after_secs.unwrap_or(1);
            Some((
                "RATE_LIMIT_EXCEEDED",
                format!("Too many messages; retry in {retry} s"),
            ))
        }
        Err(_) if limit.fail_open => None,
        Err(_) => Some((
            "RATE_LIMITER_UNAVAILABLE",
            "The rate limiter is unavailable; the message was not sent".to_owned(),
        )),
    }
}
