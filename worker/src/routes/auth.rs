//! `/api/auth/*` handlers.

use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::response;
use agentgate_shared::ErrorCode;
use serde_json::json;
use worker::Response;

/// `GET /api/auth/me`: who the gateway thinks the caller is.
pub fn me(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller.as_ref().ok_or(ErrorCode::AuthRequired)?;
    let permissions: Vec<&str> = caller.permissions.iter().map(|p| p.as_str()).collect();
    Ok(response::json(
        200,
        &json!({
            "entityId": caller.entity_id,
            "credential": caller.credential.as_str(),
            "issuer": caller.issuer,
            "permissions": permissions,
            "expiresAt": caller.expires_at,
        }),
    ))
}
