//! CSRF double submit (SPEC §3 item 2): on every state-changing request that
//! a session cookie authenticates, the `x-eliza-csrf` header must equal the
//! `eliza_csrf` cookie.

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
}

/// The double-submit check of SPEC §3 item 2, plus two bindings: the token
/// must be the one issued with this session (`session_csrf_hash`, so a
/// cookie planted by a sibling subdomain doesn't pass), and an `Origin`, when
/// present, must be allowed (`origin_allowed`: the configured origins or the
/// gateway's own).
pub fn check_csrf(
    evidence: CsrfEvidence<'_>,
    session_csrf_hash: Option<&str>,
    origin_allowed: impl Fn(&str) -> bool,
) -> Result<(), CsrfRefusal> {
    if let Some(origin) = evidence.origin {
        if !origin_allowed(origin) {
            return Err(CsrfRefusal::ForeignOrigin);
        }
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
