//! The caller's sessions (SPEC §4): list them (current marked), revoke one,
//! revoke all. Sessions are named by a public id derived from their stored
//! hash, never by the cookie or the hash itself. Revocation is immediate for
//! HTTP and closes the session's sockets with 4001.

use crate::auth::session_issue;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::query_param;
use crate::http::response;
use crate::revocation;
use crate::storage::SessionRepo;
use agentgate_shared::audit::Outcome;
use agentgate_shared::session::public_session_id;
use agentgate_shared::ErrorCode;
use serde_json::json;
use worker::{Request, Response};

/// `GET /api/auth/sessions`.
pub async fn list(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let current = caller.session_hash.as_deref();
    let now = cx.now.unix();
    let sessions = cx.store()?.sessions(&caller.scope).await?;
    let items: Vec<_> = sessions
        .iter()
        .filter(|s| s.expires_at > now)
        .map(|s| {
            json!({
                "id": public_session_id(&s.id_hash),
                "current": Some(s.id_hash.as_str()) == current,
                "kind": s.kind,
                "createdAt": s.created_at,
                "lastSeenAt": s.last_seen_at,
                "expiresAt": s.expires_at,
                "ip": s.ip,
                "userAgent": s.user_agent,
            })
        })
        .collect();
    Ok(response::json(200, &json!({ "sessions": items })))
}

/// `POST /api/auth/sessions/:sessionId/revoke`: one of the caller's own
/// sessions; anyone else's is 404.
pub async fn revoke(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let wanted = cx.param("sessionId")?;
    let store = cx.store()?;
    let trail = cx.audit()?;
    let action = cx.audit_action()?;
    let actor = caller.identity_id.as_deref();
    let target = store
        .sessions(&caller.scope)
        .await?
        .into_iter()
        .find(|s| public_session_id(&s.id_hash) == wanted);
    let revoked = match &target {
        Some(s) => {
            store
                .revoke_session(&caller.scope, &s.id_hash, cx.now.unix())
                .await?
        }
        None => false,
    };
    let Some(target) = target.filter(|_| revoked) else {
        return Err(trail
            .refused(action, actor, "not_found", ErrorCode::NotFound.into())
            .await);
    };
    trail
        .record(
            action,
            Outcome::Success,
            actor,
            &[("session", json!(wanted))],
        )
        .await?;
    revocation::close_sockets(
        cx.env,
        store,
        &caller.scope,
        std::slice::from_ref(&target.id_hash),
    )
    .await;
    let current = caller.session_hash.as_deref() == Some(target.id_hash.as_str());
    let mut resp = response::json(200, &json!({ "revoked": wanted, "current": current }));
    if current {
        session_issue::clear_cookies(&mut resp, &req, cx.config)?;
    }
    Ok(resp)
}

/// `DELETE /api/auth/sessions/all`: every session but the current one, or
/// all of them with `?includeCurrent=true`.
pub async fn revoke_all(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let include_current = match query_param(&req, "includeCurrent").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid query `includeCurrent`: true or false",
            ))
        }
    };
    let keep = if include_current {
        None
    } else {
        caller.session_hash.as_deref()
    };
    let store = cx.store()?;
    let revoked = store
        .revoke_sessions_except(&caller.scope, keep, cx.now.unix())
        .await?;
    cx.audit()?
        .record(
            cx.audit_action()?,
            Outcome::Success,
            caller.identity_id.as_deref(),
            &[
                ("count", json!(revoked.len())),
                ("includeCurrent", json!(include_current)),
            ],
        )
        .await?;
    revocation::close_sockets(cx.env, store, &caller.scope, &revoked).await;
    let mut resp = response::json(200, &json!({ "revoked": revoked.len() }));
    if include_current {
        session_issue::clear_cookies(&mut resp, &req, cx.config)?;
    }
    Ok(resp)
}
