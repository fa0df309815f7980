//! `/api/server/*` and the gateway's public key set.

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::response;
use serde_json::json;
use worker::Response;

/// `GET /api/server/ping`: liveness, no dependencies.
pub fn ping(_cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    Ok(response::json(
        200,
        &json!({ "pong": true, "timestamp": worker::Date::now().as_millis() }),
    ))
}

/// `GET /api/server/health`: 200 when storage answers, 503 otherwise.
pub async fn health(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let reachable = match cx.store() {
        Ok(store) => store.reachable(cx.env).await,
        Err(_) => false,
    };
    let (status, state) = if reachable {
        (200, "ok")
    } else {
        (503, "degraded")
    };
    // Keyed by the configured back end: `d1` or `postgres`.
    let backend = format!("{:?}", cx.config.storage).to_lowercase();
    Ok(response::json(
        status,
        &json!({
            "status": state,
            "checks": { backend: if reachable { "ok" } else { "unavailable" } },
            "requestId": cx.request_id,
        }),
    ))
}

/// `GET /api/server/status` (`system:read`).
pub fn status(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    Ok(response::json(
        200,
        &json!({
            "serverId": cx.config.server_id.to_string(),
            "environment": if cx.config.is_development() { "development" } else { "production" },
            "storage": format!("{:?}", cx.config.storage).to_lowercase(),
            "agentOrigin": cx.config.agent_origin.is_some(),
        }),
    ))
}

/// `GET /.well-known/jwks.json`: the gateway's own signing keys (SPEC §13):
/// the current key and, during rotation, the previous one. Empty when no
/// signing key is configured.
pub fn gateway_jwks(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let mut response = response::json(
        200,
        &agentgate_shared::assertion::public_jwks(
            cx.config.signing_key.as_ref(),
            cx.config.signing_key_previous.as_ref(),
        ),
    );
    let _ = response
        .headers_mut()
        .set("Cache-Control", "public, max-age=300");
    Ok(response)
}
