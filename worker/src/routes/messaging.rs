//! `/api/messaging/*`: channels, participants, messages and channel sockets
//! (SPEC §9). Participant checks are single indexed lookups; not-yours is 404
//! for REST, 403 `CHANNEL_UNAUTHORIZED` at socket upgrade.

use super::page;
use crate::auth::{Caller, CredentialKind};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::header;
use crate::http::{body, response};
use crate::storage::records::{ChannelRecord, Membership, WsTicketGrant};
use crate::storage::{AgentRepo, ChannelRepo, Store, WsTicketRepo};
use crate::{origin, random, rooms};
use agentgate_durable_objects::room_protocol::{
    CloseSockets, PostMessage, RoomJoin, CHANNEL_ROOM_BINDING, CLOSE_CHANNEL_UNAUTHORIZED,
    JOIN_HEADER, PATH_CONNECT, ROUTING_HEADER,
};
use agentgate_shared::consent::{self, AddParticipant, RemoveParticipant};
use agentgate_shared::ids::{prefixed_token, sha256_hex};
use agentgate_shared::realtime::check_new_message;
use agentgate_shared::rules;
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::json;
use worker::{Headers, Request, RequestInit, Response};

fn channel_json(c: &ChannelRecord) -> serde_json::Value {
    json!({
        "id": c.id,
        "name": c.name,
        "type": c.channel_type,
        "creatorId": c.creator_entity_id,
        "createdAt": c.created_at,
    })
}

/// The channel, if the caller participates in it (and, for a credential
/// bound to one channel, it is that one); otherwise 404.
async fn participant_channel(
    store: &Store,
    caller: &Caller,
    channel_id: &str,
) -> Result<ChannelRecord, ApiError> {
    let bound_elsewhere = caller
        .ticket_channel
        .as_deref()
        .is_some_and(|c| c != channel_id);
    if bound_elsewhere || !store.is_participant(&caller.scope, channel_id).await? {
        return Err(ErrorCode::NotFound.into());
    }
    store
        .channel(caller.scope.tenant(), channel_id)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateChannel {
    name: String,
    #[serde(rename = "type", default = "public")]
    channel_type: String,
    #[serde(default)]
    participants: Vec<String>,
}

fn public() -> String {
    "public".into()
}

/// The agents the caller may address (its own and those shared with it):
/// the ones a channel takes without asking (see `shared::consent`).
async fn addressable_agents(store: &Store, caller: &Caller) -> Result<Vec<String>, ApiError> {
    Ok(store
        .visible_agents(&caller.scope, 200)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}

/// The most channels (storage's cap) and messages (the room's) a page holds.
const MAX_CHANNELS_PAGE: u32 = 100;
const MAX_MESSAGES_PAGE: u32 = 200;

/// `POST /api/messaging/channels`: the creator and the listed agents it may
/// address become participants; anyone else listed is only invited.
pub async fn create(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    if caller.ticket_channel.is_some() {
        return Err(ApiError::new(ErrorCode::InsufficientPermissions)
            .with_message("A credential bound to one channel can't create channels"));
    }
    let input: CreateChannel = body::json(&mut req).await?;
    let name = rules::display_name("name", &input.name)?;
    rules::channel_type(&input.channel_type)?;
    let listed = rules::entity_list("participants", &input.participants, &caller.entity_id)?;
    let store = cx.store()?;
    let agents = if listed.is_empty() {
        Vec::new()
    } else {
        addressable_agents(store, caller).await?
    };
    let admission = consent::admit(listed, |id| agents.iter().any(|a| a == id));
    let now = cx.now.unix();
    let channel = ChannelRecord {
        id: random::new_id(cx.now)?,
        name,
        channel_type: input.channel_type,
        creator_entity_id: caller.entity_id.clone(),
        dm_key: None,
        created_at: now,
    };
    let issuer = origin::issuer(&req)?;
    store
        .create_channel(
            &caller.scope,
            &channel,
            &admission.members,
            &admission.invited,
            now,
        )
        .await?;
    if !admission.members.is_empty() {
        rooms::refresh_agents(cx, store, caller, &issuer, &channel.id).await?;
    }
    let mut body = channel_json(&channel);
    body["invited"] = json!(admission.invited);
    Ok(response::json(201, &body))
}

/// `GET /api/messaging/channels?before=&limit=`: only the caller's channels.
pub async fn list(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let page = page(&req, 50, MAX_CHANNELS_PAGE)?;
    let store = cx.store()?;
    let channels = match &caller.ticket_channel {
        // A credential bound to one channel sees only that one.
        Some(bound) => match participant_channel(store, caller, bound).await {
            Ok(c) if page.before.is_none_or(|b| c.created_at < b) => vec![c],
            Ok(_) => Vec::new(),
            Err(e) if e.code == ErrorCode::NotFound => Vec::new(),
            Err(e) => return Err(e),
        },
        None => {
            store
                .channels_of(&caller.scope, page.before, page.limit)
                .await?
        }
    };
    let next = page.next_before(channels.len(), channels.last().map(|c| c.created_at));
    let items: Vec<_> = channels.iter().map(channel_json).collect();
    Ok(response::json(
        200,
        &json!({ "channels": items, "nextBefore": next }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewParticipant {
    entity_id: String,
}

/// `POST /api/messaging/channels/:channelId/participants {entityId}`: the
/// creator adds an agent it may address, or invites anyone else; an invitee
/// naming itself accepts its invitation (see `shared::consent`).
pub async fn add_participant(
    mut req: Request,
    cx: &RequestContext<'_>,
) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let issuer = origin::issuer(&req)?;
    let input: NewParticipant = body::json(&mut req).await?;
    let entity_id = rules::parse_id("entityId", &input.entity_id)?;
    let channel_id = cx.id_param("channelId")?;
    let store = cx.store()?;
    let now = cx.now.unix();
    if entity_id == caller.entity_id {
        // Not a participant yet: no channel lookup before the invitation is
        // found (not invited reads as not found).
        let bound_elsewhere = caller
            .ticket_channel
            .as_deref()
            .is_some_and(|c| c != channel_id);
        if bound_elsewhere
            || !store
                .accept_invitation(&caller.scope, &channel_id, now)
                .await?
        {
            return Err(ErrorCode::NotFound.into());
        }
        rooms::refresh_agents(cx, store, caller, &issuer, &channel_id).await?;
        return Ok(response::json(
            200,
            &json!({ "channelId": channel_id, "entityId": entity_id, "status": "member" }),
        ));
    }
    let channel = participant_channel(store, caller, &channel_id).await?;
    let addressable = addressable_agents(store, caller)
        .await?
        .contains(&entity_id);
    let membership = match consent::add_participant(
        &caller.entity_id,
        &channel.creator_entity_id,
        &entity_id,
        addressable,
    ) {
        AddParticipant::AddMember => Membership::Member,
        AddParticipant::Invite => Membership::Invited,
        AddParticipant::NotCreator | AddParticipant::AcceptInvitation => {
            return Err(not_creator());
        }
    };
    store
        .add_participant(
            caller.scope.tenant(),
            &channel.id,
            &entity_id,
            membership,
            now,
        )
        .await?;
    if membership == Membership::Member {
        rooms::refresh_agents(cx, store, caller, &issuer, &channel.id).await?;
    }
    Ok(response::json(
        200,
        &json!({ "channelId": channel.id, "entityId": entity_id, "status": membership.role() }),
    ))
}

fn not_creator() -> ApiError {
    ApiError::new(ErrorCode::InsufficientPermissions)
        .with_message("Only the channel's creator manages its participants")
}

/// `DELETE /api/messaging/channels/:channelId/participants/:entityId`: a
/// participant leaves (or an invitee declines) by naming itself; the creator
/// removes anyone. The removed entity's sockets in the room are closed with
/// 4003.
pub async fn remove_participant(
    req: Request,
    cx: &RequestContext<'_>,
) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let entity_id = cx.id_param("entityId")?;
    let channel_id = cx.id_param("channelId")?;
    let store = cx.store()?;
    let channel_id = if entity_id == caller.entity_id {
        // Leaving needs no other right than being there (or invited): the
        // delete below finds nothing otherwise.
        if caller
            .ticket_channel
            .as_deref()
            .is_some_and(|c| c != channel_id)
        {
            return Err(ErrorCode::NotFound.into());
        }
        channel_id
    } else {
        let channel = participant_channel(store, caller, &channel_id).await?;
        match consent::remove_participant(&caller.entity_id, &channel.creator_entity_id, &entity_id)
        {
            RemoveParticipant::Remove | RemoveParticipant::Leave => channel.id,
            RemoveParticipant::NotCreator => return Err(not_creator()),
        }
    };
    if !store
        .remove_participant(caller.scope.tenant(), &channel_id, &entity_id)
        .await?
    {
        return Err(ErrorCode::NotFound.into());
    }
    rooms::close_sockets(
        cx.env,
        &channel_id,
        &CloseSockets {
            session_hash: None,
            entity_id: Some(entity_id.clone()),
            code: CLOSE_CHANNEL_UNAUTHORIZED,
            reason: "CHANNEL_UNAUTHORIZED".into(),
        },
    )
    .await?;
    rooms::refresh_agents(cx, store, caller, &origin::issuer(&req)?, &channel_id).await?;
    Ok(response::json(
        200,
        &json!({ "channelId": channel_id, "removed": entity_id }),
    ))
}

/// `GET /api/messaging/dm-channel?agentId=`: the caller's existing DM
/// channel with that agent, or 404. Never creates one (a GET changes
/// nothing): see `POST`.
pub async fn dm_channel(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let agent_id = crate::http::query_param(&req, "agentId")
        .ok_or_else(|| ApiError::bad_request("Query `agentId` is required"))?;
    let agent_id = rules::parse_id("agentId", &agent_id)?;
    let channel = cx
        .store()?
        .find_dm_channel(
            &caller.scope,
            &consent::dm_key(&caller.entity_id, &agent_id),
        )
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(response::json(200, &channel_json(&channel)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewDm {
    agent_id: String,
}

/// `POST /api/messaging/dm-channel {agentId}`: the caller's DM channel with
/// an agent it may address (its own or shared with it; any other id is
/// 404), created on first use; idempotent under concurrency.
pub async fn create_dm_channel(
    mut req: Request,
    cx: &RequestContext<'_>,
) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let input: NewDm = body::json(&mut req).await?;
    let agent_id = rules::parse_id("agentId", &input.agent_id)?;
    let store = cx.store()?;
    if store
        .visible_agent(&caller.scope, &agent_id)
        .await?
        .is_none()
    {
        return Err(ErrorCode::NotFound.into());
    }
    let now = cx.now.unix();
    let wanted = ChannelRecord {
        id: random::new_id(cx.now)?,
        name: format!("dm:{agent_id}"),
        channel_type: "dm".into(),
        creator_entity_id: caller.entity_id.clone(),
        dm_key: Some(consent::dm_key(&caller.entity_id, &agent_id)),
        created_at: now,
    };
    let channel = store
        .dm_channel(&caller.scope, &wanted, &agent_id, now)
        .await?;
    rooms::refresh_agents(cx, store, caller, &origin::issuer(&req)?, &channel.id).await?;
    Ok(response::json(200, &channel_json(&channel)))
}

/// `GET /api/messaging/channels/:channelId/messages?before=&limit=`.
pub async fn messages(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let page = page(&req, 50, MAX_MESSAGES_PAGE)?;
    let store = cx.store()?;
    let channel = participant_channel(store, caller, &cx.id_param("channelId")?).await?;
    let messages = rooms::history(cx.env, &channel.id, page).await?;
    let oldest = messages.first().map(|m| m.created_at as i64);
    let next = page.next_before(messages.len(), oldest);
    Ok(response::json(
        200,
        &json!({ "messages": messages, "nextBefore": next }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewMessage {
    text: String,
    client_id: Option<String>,
    channel_id: Option<String>,
}

async fn post_message(
    cx: &RequestContext<'_>,
    issuer: &str,
    channel_id: &str,
    input: NewMessage,
) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    check_new_message(&input.text, input.client_id.as_deref())?;
    let store = cx.store()?;
    let channel = participant_channel(store, caller, channel_id).await?;
    let routing = rooms::agent_routing(cx, store, caller, issuer, &channel.id).await?;
    let message = rooms::post(
        cx.env,
        &PostMessage {
            channel_id: channel.id,
            sender_id: caller.entity_id.clone(),
            text: input.text,
            client_id: input.client_id,
            permissions: rooms::permission_names(caller),
            routing,
        },
    )
    .await?;
    Ok(response::json(201, &message))
}

/// `POST /api/messaging/channels/:channelId/messages`: logged and broadcast
/// exactly as a socket message.
pub async fn post(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let issuer = origin::issuer(&req)?;
    let input: NewMessage = body::json(&mut req).await?;
    post_message(cx, &issuer, &cx.id_param("channelId")?, input).await
}

/// `POST /api/messaging/submit` `{channelId, text}`.
pub async fn submit(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let issuer = origin::issuer(&req)?;
    let mut input: NewMessage = body::json(&mut req).await?;
    let channel_id = input
        .channel_id
        .take()
        .ok_or_else(|| ApiError::bad_request("Invalid field `channelId`: missing"))?;
    post_message(cx, &issuer, &channel_id, input).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TicketRequest {
    channel_id: String,
}

/// `POST /api/messaging/ws-ticket` `{channelId}` → a single-use, 30 s ticket.
pub async fn ws_ticket(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let input: TicketRequest = body::json(&mut req).await?;
    let store = cx.store()?;
    let channel = participant_channel(store, caller, &input.channel_id).await?;
    let ticket = prefixed_token(crate::auth::TICKET_PREFIX, random::bytes::<32>()?);
    let expires_at = cx.now.unix() + crate::auth::TICKET_TTL_SECS;
    store
        .insert_ticket(
            &caller.scope,
            &sha256_hex(&ticket),
            &WsTicketGrant {
                entity_id: caller.entity_id.clone(),
                channel_id: channel.id.clone(),
                session_hash: caller.session_hash.clone(),
                expires_at,
            },
        )
        .await?;
    Ok(response::json(
        201,
        &json!({ "ticket": ticket, "channelId": channel.id, "expiresAt": expires_at }),
    ))
}

/// `GET /api/messaging/channels/:channelId/ws`: authenticated in the pipeline;
/// checked for participation here, before the upgrade reaches the room. The
/// room receives a fresh request carrying only the gateway's statement of who
/// joins; nothing the client sent reaches it.
pub async fn connect(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    if !header(&req, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(ErrorCode::UpgradeRequired.into());
    }
    let caller = cx.caller()?;
    let channel_id = &cx.id_param("channelId")?;
    // A cookie rides along on any cross-site upgrade: require an allowed Origin
    // (no cross-site WebSocket hijacking).
    if caller.credential == CredentialKind::Session
        && !header(&req, "origin").is_some_and(|o| cx.config.origin_allowed(&o))
    {
        return Err(ApiError::new(ErrorCode::CsrfFailed)
            .with_message("Origin not allowed for a cookie-authenticated socket"));
    }
    if caller
        .ticket_channel
        .as_deref()
        .is_some_and(|c| c != channel_id)
    {
        return Err(ErrorCode::ChannelUnauthorized.into());
    }
    let store = cx.store()?;
    if !store.is_participant(&caller.scope, channel_id).await? {
        return Err(ErrorCode::ChannelUnauthorized.into());
    }
    let participants = store
        .participants(caller.scope.tenant(), channel_id)
        .await?;
    let issuer = origin::issuer(&req)?;
    let routing = rooms::routing_among(cx, store, caller, &issuer, participants.clone()).await?;
    let join = RoomJoin {
        channel_id: channel_id.to_owned(),
        entity_id: caller.entity_id.clone(),
        credential: caller.credential.as_str().to_owned(),
        session_hash: caller.session_hash.clone(),
        expires_at: caller.expires_at,
        participants,
        message_limit: crate::ratelimit::socket_message_limit(cx.config, caller),
        permissions: rooms::permission_names(caller),
        agents: routing
            .as_ref()
            .map(|r| r.agents.clone())
            .unwrap_or_default(),
    };
    let headers = Headers::new();
    headers.set("Upgrade", "websocket")?;
    if let Some(routing) = routing {
        headers.set(
            ROUTING_HEADER,
            &serde_json::to_string(&routing).map_err(|e| ApiError::internal(e.to_string()))?,
        )?;
    }
    headers.set(
        JOIN_HEADER,
        &serde_json::to_string(&join).map_err(|e| ApiError::internal(e.to_string()))?,
    )?;
    let mut init = RequestInit::new();
    init.with_headers(headers);
    let room_request =
        Request::new_with_init(&format!("https://channel-room{PATH_CONNECT}"), &init)?;
    let stub = cx
        .env
        .durable_object(CHANNEL_ROOM_BINDING)?
        .id_from_name(channel_id)?
        .get_stub()?;
    let room_response = stub.fetch_with_request(room_request).await?;
    match room_response.websocket() {
        Some(socket) => Ok(Response::from_websocket(socket)?),
        None => Err(ApiError::internal("channel room did not accept the socket")),
    }
}
