//! `/api/auth/*` handlers, one module per concern: first run, password login
//! and registration, sessions, machine tokens, the audit log. What they share
//! (the caller, the identity's JSON, starting a session) lives here.

mod audit_log;
mod machine_tokens;
mod password;
mod password_login;
mod sessions;
mod setup;

pub use audit_log::list as audit_list;
pub use machine_tokens::{
    create as machine_token_create, list as machine_token_list, revoke as machine_token_revoke,
    rotate as machine_token_rotate,
};
pub use password::change as password_change;
pub use password_login::{login, logout, register};
pub use sessions::{
    list as sessions_list, revoke as session_revoke, revoke_all as sessions_revoke_all,
};
pub use setup::setup;

use crate::auth::session_issue::{self, NewSession};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::response;
use crate::storage::records::IdentityRecord;
use crate::storage::{IdentityRepo, SessionRepo};
use agentgate_shared::session::SessionKind;
use serde_json::json;
use worker::{Request, Response};

fn identity_json(identity: &IdentityRecord) -> serde_json::Value {
    json!({
        "id": identity.id,
        "kind": identity.kind,
        "displayName": identity.display_name,
        "email": identity.email,
    })
}

/// Starts a browser session for `identity` and answers `status` with the
/// identity, the CSRF token and the cookies (login, setup, registration).
pub(crate) async fn session_response(
    store: &impl SessionRepo,
    req: &Request,
    cx: &RequestContext<'_>,
    identity: &IdentityRecord,
    remember_device: bool,
    status: u16,
) -> Result<Response, ApiError> {
    let body = json!({ "identity": identity_json(identity) });
    let kind = SessionKind::Browser;
    start_session(
        store,
        req,
        cx,
        &identity.id,
        (kind, remember_device),
        status,
        body,
    )
    .await
}

/// Starts a session of `kind` for the identity whose credentials the caller
/// just proved: answers `status` with `body` plus the CSRF token and the
/// expiry, and sets the cookies.
pub(crate) async fn start_session(
    store: &impl SessionRepo,
    req: &Request,
    cx: &RequestContext<'_>,
    identity_id: &str,
    (kind, remember_device): (SessionKind, bool),
    status: u16,
    mut body: serde_json::Value,
) -> Result<Response, ApiError> {
    let now = cx.now.secs();
    let scope = crate::auth::verified_identity_scope(cx.config, identity_id);
    let session = session_issue::issue(
        store,
        NewSession {
            scope: &scope,
            identity_id,
            kind,
            remember_device,
            now,
            ip: cx.client.ip.as_deref(),
            user_agent: cx.client.user_agent.as_deref(),
        },
    )
    .await?;
    body["csrfToken"] = json!(session.csrf_token());
    body["expiresAt"] = json!(session.times.expires_at);
    body["absoluteExpiresAt"] = json!(session.times.absolute_expires_at);
    let mut resp = response::json(status, &body);
    session_issue::set_cookies(&mut resp, &session, req, cx.config, now)?;
    Ok(resp)
}

/// `GET /api/auth/me`: who the gateway thinks the caller is.
pub async fn me(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let permissions: Vec<&str> = caller.permissions.iter().map(|p| p.as_str()).collect();
    let identity = match &caller.identity_id {
        Some(_) => cx.store()?.identity(&caller.scope).await?,
        None => None,
    };
    Ok(response::json(
        200,
        &json!({
            "entityId": caller.entity_id,
            "identityKind": caller.identity_kind.as_str(),
            "credential": caller.credential.as_str(),
            "issuer": caller.issuer,
            "permissions": permissions,
            "tier": caller.tier.as_str(),
            "expiresAt": caller.expires_at,
            "channelId": caller.ticket_channel,
            "identity": identity.as_ref().map(identity_json),
        }),
    ))
}

/// `GET /api/auth/status`: what a client needs to show the right screen —
/// whether first-run setup is pending and which login methods exist. No
/// secrets, no identities.
pub async fn status(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let owner_exists = cx
        .store()?
        .owner_exists(&crate::auth::tenant(cx.config))
        .await?;
    let cloud = cx.config.cloud.as_ref();
    let mut methods = vec!["password"];
    if cx.config.jwt.jwks_uri.is_some() || cx.config.jwt.secret.is_some() {
        methods.push("jwt");
    }
    if cloud.is_some() {
        methods.push("bootstrap");
    }
    Ok(response::json(
        200,
        &json!({
            "setupRequired": !owner_exists,
            "cloudProvisioned": cloud.is_some_and(|c| c.provisioned),
            "registrationOpen": cx.config.allow_registration,
            "loginMethods": methods,
        }),
    ))
}
