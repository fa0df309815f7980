//! The worker's side of the `ChannelRoom` protocol: internal requests to the
//! room of one channel.

use crate::auth::Caller;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::storage::{AgentRepo, ChannelRepo, Store};
use agentgate_durable_objects::room_protocol::*;
use agentgate_shared::agent_delivery::AgentRouting;
use agentgate_shared::realtime::ChannelMessage;
use agentgate_shared::rules::Page;
use serde::Serialize;
use worker::{Env, Headers, Method, Request, RequestInit, Stub};

fn stub(env: &Env, channel_id: &str) -> Result<Stub, ApiError> {
    Ok(env
        .durable_object(CHANNEL_ROOM_BINDING)?
        .id_from_name(channel_id)?
        .get_stub()?)
}

async fn call<T: Serialize>(
    env: &Env,
    channel_id: &str,
    method: Method,
    path: &str,
    body: Option<&T>,
) -> Result<worker::Response, ApiError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = Headers::new();
        headers.set("Content-Type", "application/json")?;
        init.with_headers(headers);
        let text = serde_json::to_string(body).map_err(|e| ApiError::internal(e.to_string()))?;
        init.with_body(Some(text.into()));
    }
    let req = Request::new_with_init(&format!("https://channel-room{path}"), &init)?;
    let resp = stub(env, channel_id)?.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        return Err(ApiError::internal(format!(
            "channel room answered {} to {path}",
            resp.status_code()
        )));
    }
    Ok(resp)
}

/// Logs a message in the room and broadcasts it to its sockets.
pub async fn post(env: &Env, post: &PostMessage) -> Result<ChannelMessage, ApiError> {
    let mut resp = call(env, &post.channel_id, Method::Post, PATH_POST, Some(post)).await?;
    Ok(resp.json().await?)
}

/// A page of the room's history (oldest first).
pub async fn history(
    env: &Env,
    channel_id: &str,
    page: Page,
) -> Result<Vec<ChannelMessage>, ApiError> {
    let mut path = format!("{PATH_HISTORY}?limit={}", page.limit);
    if let Some(before) = page.before {
        path.push_str(&format!("&before={before}"));
    }
    let mut resp = call::<()>(env, channel_id, Method::Get, &path, None).await?;
    Ok(resp.json().await?)
}

/// Closes the room's sockets that match.
pub async fn close_sockets(
    env: &Env,
    channel_id: &str,
    close: &CloseSockets,
) -> Result<(), ApiError> {
    call(env, channel_id, Method::Post, PATH_CLOSE, Some(close))
        .await
        .map(drop)
}

/// What the room of `channel_id` should learn about its agents when `caller`
/// acts in it: the channel's participants that are agents the caller may
/// address (its own or shared with it), and the current participants.
/// `None` without an agent origin: then nothing is handed to agents.
pub async fn agent_routing(
    cx: &RequestContext<'_>,
    store: &Store,
    caller: &Caller,
    issuer: &str,
    channel_id: &str,
) -> Result<Option<AgentRouting>, ApiError> {
    if cx.config.agent_origin.is_none() {
        return Ok(None);
    }
    let participants = store
        .participants(caller.scope.tenant(), channel_id)
        .await?;
    routing_among(cx, store, caller, issuer, participants).await
}

/// [`agent_routing`] for a channel whose `participants` are already known.
pub async fn routing_among(
    cx: &RequestContext<'_>,
    store: &Store,
    caller: &Caller,
    issuer: &str,
    participants: Vec<String>,
) -> Result<Option<AgentRouting>, ApiError> {
    if cx.config.agent_origin.is_none() {
        return Ok(None);
    }
    let agents = store
        .visible_agents(&caller.scope, 200)
        .await?
        .into_iter()
        .map(|a| a.id)
        .filter(|id| participants.contains(id))
        .collect();
    Ok(Some(AgentRouting {
        issuer: issuer.to_owned(),
        agents,
        participants,
    }))
}

/// Tells the room about its agents after its participants changed.
pub async fn update_agents(
    env: &Env,
    channel_id: &str,
    routing: &AgentRouting,
) -> Result<(), ApiError> {
    call(env, channel_id, Method::Post, PATH_AGENTS, Some(routing))
        .await
        .map(drop)
}

/// [`agent_routing`] then [`update_agents`], when an origin is configured.
pub async fn refresh_agents(
    cx: &RequestContext<'_>,
    store: &Store,
    caller: &Caller,
    issuer: &str,
    channel_id: &str,
) -> Result<(), ApiError> {
    match agent_routing(cx, store, caller, issuer, channel_id).await? {
        Some(routing) => update_agents(cx.env, channel_id, &routing).await,
        None => Ok(()),
    }
}

/// The caller's permissions as names (what a room passes on to the origin).
pub fn permission_names(caller: &Caller) -> Vec<String> {
    caller
        .permissions
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect()
}

/// Subscribes a Socket.IO connection to the room of its channel.
pub async fn subscribe(env: &Env, sub: &Subscription) -> Result<(), ApiError> {
    call(
        env,
        &sub.channel_id,
        Method::Post,
        PATH_SUBSCRIBE,
        Some(sub),
    )
    .await
    .map(drop)
}

/// Forgets a Socket.IO connection in the room of its channel.
pub async fn unsubscribe(env: &Env, sub: &Subscription) -> Result<(), ApiError> {
    call(
        env,
        &sub.channel_id,
        Method::Post,
        PATH_UNSUBSCRIBE,
        Some(sub),
    )
    .await
    .map(drop)
}
