//! Cross-site request forgery (SPEC §3 item 2). A state-changing request
//! that a session cookie authenticates is accepted when its `Origin` is the
//! gateway's own or an allowed one (or, with no `Origin`, when
//! `Sec-Fetch-Site` says same-origin: the same-origin web UI), or when the
//! `x-eliza-csrf` header equals the `eliza_csrf` cookie (double submit) and no
//! foreign `Origin` is present. The routes that sign a browser in take the
//! same Origin rule and a JSON body.

use crate::secret::constant_time_eq;

/// The request header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-eliza-csrf";

/// Whether the double submit holds: the cookie and the header are both
/// present, non-empty and equal (compared in constant time; only the length
/// can leak, and both are the caller's own values). Pass the cookie value as
/// [`get_cookie`](super::get_cookie) returns it, so a duplicated `eliza_csrf`
/// cookie counts as missing.
pub fn csrf_ok(cookie_value: Option<&str>, header_value: Option<&str>) -> bool {
    match (cookie_value, header_value) {
        (Some(cookie), Some(header)) if !cookie.is_empty() && !header.is_empty() => {
            constant_time_eq(cookie.as_bytes(), header.as_bytes())
        }
        _ => false,
    }
}

/// Why a cookie-authenticated state change was refused (all answer 403
/// `CSRF_FAILED`; the reason is internal detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfRefusal {
    #[error("the CSRF header or cookie is missing")]
    Missing,
    #[error("the CSRF header does not match the CSRF cookie")]
    Mismatch,
    #[error("the CSRF token was not issued with this session")]
    NotThisSession,
    #[error("the request's Origin is not allowed")]
    ForeignOrigin,
}

/// What a cookie-authenticated unsafe request presents.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsrfEvidence<'a> {
    /// The `eliza_csrf` cookie.
    pub cookie: Option<&'a str>,
    /// The `x-eliza-csrf` header.
    pub header: Option<&'a str>,
    /// The `Origin` header, if the client sent one.
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header, if the browser sent one.
    pub sec_fetch_site: Option<&'a str>,
}

/// SPEC §3 item 2 for a cookie-authenticated unsafe request. An `Origin`
/// decides alone: allowed (`origin_allowed`: the configured origins or the
/// gateway's own) passes, anything else is refused. Without one,
/// `Sec-Fetch-Site: same-origin` passes; otherwise the double submit must
/// hold, with the token the one issued with this session
/// (`session_csrf_hash`, so a cookie planted by a sibling subdomain doesn't
/// pass).
pub fn check_csrf(
    evidence: CsrfEvidence<'_>,
    session_csrf_hash: Option<&str>,
    origin_allowed: impl Fn(&str) -> bool,
) -> Result<(), CsrfRefusal> {
    match evidence.origin {
        Some(origin) if origin_allowed(origin) => return Ok(()),
        Some(_) => return Err(CsrfRefusal::ForeignOrigin),
        None if evidence.sec_fetch_site == Some("same-origin") => return Ok(()),
        None => {}
    }
    let (Some(cookie), Some(_)) = (evidence.cookie, evidence.header) else {
        return Err(CsrfRefusal::Missing);
    };
    if !csrf_ok(evidence.cookie, evidence.header) {
        return Err(CsrfRefusal::Mismatch);
    }
    let presented = super::token::token_hash(cookie);
    match session_csrf_hash {
        Some(stored) if constant_time_eq(stored.as_bytes(), presented.as_bytes()) => Ok(()),
        _ => Err(CsrfRefusal::NotThisSession),
    }
}
/// Why a request to a route that signs a browser in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignInRefusal {
    /// 403 `CSRF_FAILED`.
    #[error("the request comes from another site")]
    CrossSite,
    /// 415: forms and `text/plain` are what a foreign page can send without
    /// asking; JSON needs a CORS preflight that foreign origins don't pass.
    #[error("the body is not application/json")]
    NotJson,
}

/// SPEC §3 for setup, login, register and bootstrap exchange: an `Origin`
/// must be allowed; without one, a browser's `Sec-Fetch-Site` must not say
/// another site (non-browser clients send neither); and the body must be
/// `application/json`.
pub fn check_sign_in(
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    content_type: Option<&str>,
    origin_allowed: impl Fn(&str) -> bool,
) -> Result<(), SignInRefusal> {
    let same_site = match origin {
        Some(origin) => origin_allowed(origin),
        None => !matches!(sec_fetch_site, Some("cross-site" | "same-site")),
    };
    if !same_site {
        return Err(SignInRefusal::CrossSite);
    }
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/json") {
        return Err(SignInRefusal::NotJson);
    }
    Ok(())
}
