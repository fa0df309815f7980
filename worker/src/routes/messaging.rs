//! `/api/messaging/*`: channel sockets (SPEC §9).

use crate::error::ApiError;
use crate::pipeline::{header, RequestContext};
use agentgate_durable_objects::room_protocol::{
    RoomJoin, CHANNEL_ROOM_BINDING, JOIN_HEADER, PATH_CONNECT,
};
use agentgate_shared::ErrorCode;
use worker::{Headers, Request, RequestInit, Response};

/// `GET /api/messaging/channels/:channelId/ws`: authenticated in the pipeline,
/// then handed to the channel's `ChannelRoom`. The room receives a fresh
/// request carrying only the gateway's own statement of who joins; nothing the
/// client sent reaches it.
pub async fn connect(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    if !header(&req, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(ErrorCode::UpgradeRequired.into());
    }
    let caller = cx.caller.as_ref().ok_or(ErrorCode::AuthRequired)?;
    let channel_id = cx.params.get("channelId").ok_or(ErrorCode::NotFound)?;
    let join = RoomJoin {
        channel_id: channel_id.to_owned(),
        entity_id: caller.entity_id.clone(),
        credential: caller.credential.as_str().to_owned(),
        session_hash: caller.session_hash.clone(),
        expires_at: caller.expires_at,
        participants: Vec::new(),
    };
    let headers = Headers::new();
    headers.set("Upgrade", "websocket")?;
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
