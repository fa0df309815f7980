//! `POST /api/auth/bootstrap/exchange` (SPEC §6): one cloud bootstrap token,
//! exactly once. Verification and the single-use claim are
//! `auth::bootstrap::verify`; this module reads the request, writes the audit
//! row (success, or failure with the refusal's reason code) and answers.

use crate::audit::{route_action, AuditTrail};
use crate::auth::bootstrap::{self, VerifiedBootstrap};
use crate::auth::now_secs;
use crate::auth::session_issue::{self, NewSession};
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::response;
use crate::storage::SessionRepo;
use crate::{body, client};
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
    let trail = AuditTrail::new(store, cx, &req);
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
    exchanged(store, &req, cx, &verified).await
}

async fn verify(req: &mut Request, cx: &RequestContext<'_>) -> Result<VerifiedBootstrap, ApiError> {
    let request: ExchangeRequest = body::json(req).await?;
    bootstrap::verify(&request.token, cx.store()?, cx.config).await
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
    let entity_id = verified.entity_id();
    let scope = crate::auth::verified_identity_scope(cx.config, &entity_id);
    let now = now_secs();
    let ip = client::ip(req, cx.config);
    let user_agent = client::user_agent(req);
    let session = session_issue::issue(
        store,
        NewSession {
            scope: &scope,
            identity_id: &entity_id,
            kind: SessionKind::Bootstrap,
            remember_device: false,
            now,
            ip: ip.as_deref(),
            user_agent: user_agent.as_deref(),
        },
    )
    .await?;
    let mut resp = response::json(
        201,
        &json!({
            "containerId": claims.container_id,
            "jti": claims.jti,
            "tokenExpiresAt": claims.exp,
            "entityId": entity_id,
            "csrfToken": session.csrf_token(),
            "expiresAt": session.times.expires_at,
        }),
    );
    session_issue::set_cookies(&mut resp, &session, req, cx.config, now)?;
    Ok(resp)
}
