//! Session cookies (SPEC §3 item 2, §4): the cookie's SHA-256 is looked up,
//! its lifetime decided by `shared::session::touch` (sliding for browsers,
//! fixed for machine and bootstrap sessions), and unsafe methods must carry
//! the CSRF proof. A revoked or expired session fails on its very next use.

use super::{tenant, Caller, CredentialKind};
use crate::error::ApiError;
use crate::http::header;
use crate::storage::records::{IdentityRecord, SessionRecord};
use crate::storage::scope::EntityScope;
use crate::storage::{IdentityRepo, SessionRepo, Store};
use agentgate_shared::config::Config;
use agentgate_shared::ratelimit::Tier;
use agentgate_shared::routes::{Method, RouteSpec};
use agentgate_shared::session::{
    check_csrf, get_cookie, is_admin, looks_like_session_token, permissions_for, session_id_hash,
    touch, CsrfEvidence, IdentityKind, SessionKind, SessionTimes, CSRF_COOKIE, CSRF_HEADER,
};
use agentgate_shared::ErrorCode;
use std::collections::BTreeSet;
use worker::Request;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidToken).with_detail(detail)
}

pub async fn authenticate(
    req: &Request,
    cookies: &str,
    token: &str,
    store: &Store,
    config: &Config,
    spec: &RouteSpec,
    now: u64,
) -> Result<Caller, ApiError> {
    if !looks_like_session_token(token) {
        return Err(invalid("malformed session cookie"));
    }
    let id_hash = session_id_hash(token);
    let record = store
        .session_by_hash(&tenant(config), &id_hash)
        .await?
        .ok_or_else(|| invalid("unknown session"))?;
    if record.revoked_at.is_some() {
        return Err(invalid("session revoked"));
    }
    let kind = SessionKind::parse(&record.kind)
        .ok_or_else(|| ApiError::internal(format!("stored session kind `{}`", record.kind)))?;
    let times = SessionTimes {
        expires_at: stored_time(record.expires_at)?,
        absolute_expires_at: stored_time(record.absolute_expires_at)?,
    };
    let touched = touch(times, kind, now).map_err(|e| invalid(e.to_string()))?;

    check_request_origin(req, cookies, &record, config, spec)?;

    let scope = EntityScope::new(tenant(config), record.entity_id.clone());
    let (credential, identity) = match kind {
        SessionKind::Bootstrap => (CredentialKind::BootstrapSession, None),
        SessionKind::Browser | SessionKind::Machine => {
            let identity = store
                .identity(&scope)
                .await?
                .ok_or_else(|| invalid("the session's identity no longer exists"))?;
            (CredentialKind::Session, Some(identity))
        }
    };
    if touched.persist {
        store
            .touch_session(&scope, &id_hash, now as i64, touched.expires_at as i64)
            .await?;
    }
    let (identity_kind, permissions, tier) = match &identity {
        Some(identity) => identity_grants(identity, config)?,
        // A bootstrap session can only finish first-run setup.
        None => (IdentityKind::Owner, BTreeSet::new(), Tier::Standard),
    };
    Ok(Caller {
        scope,
        entity_id: record.entity_id,
        credential,
        identity_kind,
        identity_id: identity.map(|i| i.id),
        issuer: None,
        permissions,
        expires_at: Some(touched.expires_at),
        session_hash: Some(id_hash),
        machine_token_id: None,
        ticket_channel: None,
        tier,
        acts_for_owner: credential == CredentialKind::Session
            && identity_kind == IdentityKind::Owner,
    })
}

fn stored_time(t: i64) -> Result<u64, ApiError> {
    u64::try_from(t).map_err(|_| ApiError::internal("negative stored session time"))
}

/// What a local identity may do (SPEC §7): owners hold everything, users the
/// base set plus `admin:*` when they carry the admin flag the owner sets. A
/// local identity's email was typed into a form and proves nothing, so
/// `ADMIN_EMAILS` never applies to it.
pub fn identity_grants(
    identity: &IdentityRecord,
    config: &Config,
) -> Result<
    (
        IdentityKind,
        BTreeSet<agentgate_shared::routes::Permission>,
        Tier,
    ),
    ApiError,
> {
    let kind = IdentityKind::parse(&identity.kind)
        .ok_or_else(|| ApiError::internal(format!("stored identity kind `{}`", identity.kind)))?;
    let is_admin = is_admin(identity.is_admin != 0, None, &config.admin_emails);
    let permissions = permissions_for(kind, is_admin, &[]);
    let tier = if is_admin || kind == IdentityKind::Owner {
        Tier::Admin
    } else {
        Tier::parse(&identity.tier).unwrap_or(Tier::Standard)
    };
    Ok((kind, permissions, tier))
}

/// Cookies ride along on cross-site requests, so a cookie-authenticated
/// unsafe request must show it came from an allowed page (the CSRF proof).
/// Socket upgrades are GETs; their `Origin` is checked at the upgrade
/// (`routes::messaging::connect`).
fn check_request_origin(
    req: &Request,
    cookies: &str,
    record: &SessionRecord,
    config: &Config,
    _spec: &RouteSpec,
) -> Result<(), ApiError> {
    let origin = header(req, "origin");
    let sec_fetch_site = header(req, "sec-fetch-site");
    let unsafe_method = Method::parse(&crate::http::method(req)).is_none_or(Method::is_unsafe);
    if !unsafe_method {
        return Ok(());
    }
    let csrf_header = header(req, CSRF_HEADER);
    let evidence = CsrfEvidence {
        cookie: get_cookie(cookies, CSRF_COOKIE),
        header: csrf_header.as_deref(),
        origin: origin.as_deref(),
        sec_fetch_site: sec_fetch_site.as_deref(),
    };
    let allowed = |o: &str| super::origin_allowed(req, config, o);
    check_csrf(evidence, record.csrf_hash.as_deref(), allowed)
        .map_err(|e| ApiError::new(ErrorCode::CsrfFailed).with_detail(e.to_string()))
}
