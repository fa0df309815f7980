//! `POST /api/auth/bootstrap/exchange` (SPEC §6): one cloud bootstrap token,
//! exactly once. Verification and the single-use claim are
//! `auth::bootstrap::verify`; this module reads the request, writes the audit
//! row (success, or failure with the refusal's reason code) and answers.

use super::auth::start_session;
use crate::auth::bootstrap::{self, VerifiedBootstrap};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::body;
use crate::storage::SessionRepo;
use agentgate_shared::audit::Outcome;
use agentgate_shared::session::SessionKind;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
struct ExchangeRequest {
    token: String,
}

pub async fn exchange(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let store = cx.store()?;
    let trail = cx.audit()?;
    let action = cx.audit_action()?;
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
    exchanged(store, &req, cx, &verified).await
}

async fn verify(req: &mut Request, cx: &RequestContext<'_>) -> Result<VerifiedBootstrap, ApiError> {
    let request: ExchangeRequest = body::json(req).await?;
    bootstrap::verify(&request.token, cx.store()?, cx.config, cx.now.secs()).await
}

/// The answer to a successful exchange: a 15-minute, single-use bootstrap
/// session (SPEC §4, §6) whose only use is finishing first-run setup.
async fn exchanged(
    store: &impl SessionRepo,
    req: &Request,
    cx: &RequestContext<'_>,
    verified: &VerifiedBootstrap,
) -> Result<Response, ApiError> {
    let claims = &verified.claims;
    let body = json!({
        "containerId": claims.container_id,
        "jti": claims.jti,
        "tokenExpiresAt": claims.exp,
        "entityId": verified.entity_id(),
    });
    let kind = (SessionKind::Bootstrap, false);
    start_session(store, req, cx, &verified.entity_id(), kind, 201, body).await
}
