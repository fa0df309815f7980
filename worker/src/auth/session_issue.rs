//! Starting sessions (SPEC §4): a fresh random id on every login (no
//! fixation), only its SHA-256 stored, the CSRF token bound to it, and the two
//! cookies with the SPEC's attributes.

use crate::error::ApiError;
use crate::random;
use crate::storage::records::SessionRecord;
use crate::storage::scope::EntityScope;
use crate::storage::SessionRepo;
use agentgate_shared::audit::{truncate_chars, MAX_USER_AGENT_CHARS};
use agentgate_shared::config::Config;
use agentgate_shared::session::{
    clear_session_cookies, cookie_max_age, cookie_secure, csrf_token_from_random,
    new_session_expiry, session_cookies, session_token_from_random, SecretToken, SessionKind,
    SessionTimes,
};
use worker::{Request, Response};

/// A session just written to the store; its secrets exist only here and in
/// the response that sets them.
pub struct IssuedSession {
    token: SecretToken,
    csrf: SecretToken,
    pub times: SessionTimes,
}

impl IssuedSession {
    /// The CSRF token, which the client also gets in the response body.
    pub fn csrf_token(&self) -> &str {
        self.csrf.expose()
    }
}

/// Who the new session is for and how it came to be.
pub struct NewSession<'a> {
    pub scope: &'a EntityScope,
    pub identity_id: &'a str,
    pub kind: SessionKind,
    pub remember_device: bool,
    pub now: u64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn issue(
    store: &impl SessionRepo,
    new: NewSession<'_>,
) -> Result<IssuedSession, ApiError> {
    let token = session_token_from_random(random::bytes::<32>()?);
    let csrf = csrf_token_from_random(random::bytes::<32>()?);
    let times = new_session_expiry(new.kind, new.remember_device, new.now);
    let record = SessionRecord {
        id_hash: token.storage_hash(),
        identity_id: new.identity_id.to_owned(),
        entity_id: new.scope.entity_id().to_owned(),
        kind: new.kind.as_str().to_owned(),
        csrf_hash: Some(csrf.storage_hash()),
        remember_device: i64::from(new.remember_device),
        created_at: new.now as i64,
        last_seen_at: new.now as i64,
        expires_at: times.expires_at as i64,
        absolute_expires_at: times.absolute_expires_at as i64,
        revoked_at: None,
        ip: new.ip.map(str::to_owned),
        user_agent: new
            .user_agent
            .map(|ua| truncate_chars(ua, MAX_USER_AGENT_CHARS)),
    };
    store.insert_session(new.scope, &record).await?;
    Ok(IssuedSession { token, csrf, times })
}

/// Whether cookies get `Secure`: always, except on a loopback host in
/// development (SPEC §4).
fn secure(req: &Request, config: &Config) -> bool {
    let host = req
        .url()
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    cookie_secure(config.is_development(), &host)
}

/// Sets the session and CSRF cookies on `response`.
pub fn set_cookies(
    response: &mut Response,
    session: &IssuedSession,
    req: &Request,
    config: &Config,
    now: u64,
) -> Result<(), ApiError> {
    let max_age = cookie_max_age(session.times, now);
    let cookies = session_cookies(&session.token, &session.csrf, max_age, secure(req, config));
    append_cookies(response, &cookies)
}

/// Expires both cookies on `response` (logout).
pub fn clear_cookies(
    response: &mut Response,
    req: &Request,
    config: &Config,
) -> Result<(), ApiError> {
    append_cookies(response, &clear_session_cookies(secure(req, config)))
}

fn append_cookies(response: &mut Response, cookies: &[String]) -> Result<(), ApiError> {
    let headers = response.headers_mut();
    for cookie in cookies {
        headers.append("Set-Cookie", cookie)?;
    }
    Ok(())
}
