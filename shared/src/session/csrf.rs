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
