//! The worker's side of `/socket.io/`: reads the Engine.IO query, proves the
//! request's own credential (a session cookie needs an allowed Origin, as at
//! any socket upgrade), and forwards a fresh request carrying only the
//! gateway's statement to the session's connection object. A new session's
//! id is minted here (32 random hex characters) and names its object.

use super::identity::Identity;
use super::protocol::*;
use crate::auth::CredentialKind;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{header, method};
use crate::random;
use agentgate_shared::socketio::engine::{self, Transport, MAX_PAYLOAD_BYTES};
use worker::{Headers, Method, Request, RequestInit, Response};

/// Engine.IO's transport error: HTTP 400 (403 for code 4) with
/// `{code, message}`.
fn engine_error(code: u8, message: &str) -> Response {
    let status = if code == 4 { 403 } else { 400 };
    crate::http::response::json(
        status,
        &serde_json::json!({ "code": code, "message": message }),
    )
}

pub async fn handle(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let url = req.url()?;
    let pairs: Vec<_> = url.query_pairs().collect();
    let query = match engine::parse_query(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))) {
        Ok(q) => q,
        Err(e) => return Ok(engine_error(e.engine_code(), &e.to_string())),
    };
    let http = match &cx.caller {
        Some(caller) => {
            let cookie = matches!(
                caller.credential,
                CredentialKind::Session | CredentialKind::BootstrapSession
            );
            // A cookie rides along on any cross-site request: require an
            // allowed Origin (or a same-origin fetch) before acting with it.
            let same_origin = header(&req, "sec-fetch-site").as_deref() == Some("same-origin");
            let origin_ok = header(&req, "origin")
                .is_some_and(|o| crate::auth::origin_allowed(&req, cx.config, &o));
            if cookie && !(origin_ok || (same_origin && header(&req, "origin").is_none())) {
                return Ok(engine_error(
                    4,
                    "Origin not allowed for a cookie-authenticated connection",
                ));
            }
            Some(Identity::of(caller, cx.config))
        }
        None => None,
    };
    let statement = serde_json::to_string(&HttpStatement { http })
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let upgrade = header(&req, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let post = method(&req) == "POST";
    let (sid, path, body) = match (&query.sid, query.transport, post) {
        (None, Transport::Polling, false) => (new_sid()?, PATH_OPEN, None),
        (None, Transport::WebSocket, false) if upgrade => (new_sid()?, PATH_OPEN, None),
        (Some(sid), Transport::WebSocket, false) if upgrade => (sid.clone(), PATH_WEBSOCKET, None),
        (Some(sid), Transport::Polling, false) => (sid.clone(), PATH_POLL, None),
        (Some(sid), Transport::Polling, true) => {
            let bytes = crate::http::body::bytes(&mut req).await?;
            if bytes.len() > MAX_PAYLOAD_BYTES {
                return Ok(engine_error(3, "payload too large"));
            }
            let Ok(text) = String::from_utf8(bytes) else {
                return Ok(engine_error(3, "binary payloads are not accepted"));
            };
            (sid.clone(), PATH_POLL, Some(text))
        }
        (None, _, true) => return Ok(engine_error(2, "Bad handshake method")),
        _ => return Ok(engine_error(3, "Bad request")),
    };
    let headers = Headers::new();
    headers.set(STATEMENT_HEADER, &statement)?;
    if upgrade {
        headers.set("Upgrade", "websocket")?;
    }
    let mut init = RequestInit::new();
    init.with_headers(headers);
    if let Some(body) = body {
        init.with_method(Method::Post).with_body(Some(body.into()));
    }
    let target = format!("https://socketio-connection{path}?sid={sid}");
    let forwarded = Request::new_with_init(&target, &init)?;
    let stub = cx
        .env
        .durable_object(CONNECTION_BINDING)?
        .id_from_name(&sid)?
        .get_stub()?;
    let answer = stub.fetch_with_request(forwarded).await?;
    if upgrade && answer.status_code() == 101 {
        return match answer.websocket() {
            Some(ws) => Ok(Response::from_websocket(ws)?),
            None => Err(ApiError::internal("connection did not accept the socket")),
        };
    }
    Ok(answer)
}

fn new_sid() -> Result<String, ApiError> {
    Ok(hex::encode(random::bytes::<16>()?))
}
