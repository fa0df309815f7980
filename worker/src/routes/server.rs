//! `/api/server/*` and the gateway's public key set.

use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::response;
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
    let d1 = crate::storage::d1_reachable(cx.env).await;
    let (status, state) = if d1 { (200, "ok") } else { (503, "degraded") };
    Ok(response::json(
        status,
        &json!({
            "status": state,
            "checks": { "d1": if d1 { "ok" } else { "unavailable" } },
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
