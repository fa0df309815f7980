//! `POST /api/auth/bootstrap/exchange` (SPEC §6): one cloud bootstrap token,
//! exactly once. Verification and the single-use claim are
//! `auth::bootstrap::verify`; this module reads the request, writes the audit
//! row (success, or failure with the refusal's reason code) and answers.

use crate::audit::{route_action, AuditTrail};
use crate::auth::bootstrap::{self, VerifiedBootstrap};
use crate::body;
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::response;
use crate::storage::pg::open_configured;
use agentgate_shared::audit::Outcome;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
struct ExchangeRequest {
    token: String,
}

pub async fn exchange(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let store = open_configured(cx.env, cx.config)?;
    let trail = AuditTrail::new(&store, cx, &req);
    let action = route_action(cx)?;
    let verified = match verify(&mut req, cx).await {
        Ok(verified) => verified,
        Err(e) => {
            let reason = [("reason", json!(bootstrap::refusal_reason(&e)))];
            trail
                .record(action, Outcome::Failure, None, &reason)
                .await?;
            return Err(e);
        }
    };
    let claims = &verified.claims;
    trail
        .record(
            action,
            Outcome::Success,
            None,
            &[
                ("jti", json!(claims.jti)),
                ("containerId", json!(claims.container_id)),
            ],
        )
        .await?;
    Ok(exchanged(&verified))
}

async fn verify(req: &mut Request, cx: &RequestContext<'_>) -> Result<VerifiedBootstrap, ApiError> {
    let request: ExchangeRequest = body::json(req).await?;
    bootstrap::verify(&request.token, cx.env, cx.config).await
}

/// The answer to a successful exchange.
fn exchanged(verified: &VerifiedBootstrap) -> Response {
    let claims = &verified.claims;
    response::json(
        201,
        &json!({
            "containerId": claims.container_id,
            "jti": claims.jti,
            "expiresAt": claims.exp,
        }),
    )
}
