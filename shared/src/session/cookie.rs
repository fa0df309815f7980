//! Session cookies (SPEC §4): building `Set-Cookie` values and reading the
//! `Cookie` request header.

use super::token::SecretToken;
use crate::config::is_loopback_host;

/// The session cookie: `HttpOnly; Secure; SameSite=Lax; Path=/`.
pub const SESSION_COOKIE: &str = "eliza_session";
/// The CSRF cookie: readable by the page (no `HttpOnly`), otherwise the same.
pub const CSRF_COOKIE: &str = "eliza_csrf";

/// The two `Set-Cookie` values of a session, in this exact form:
///
/// ```text
/// eliza_session=<token>; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=<n>
/// eliza_csrf=<token>; Secure; SameSite=Lax; Path=/; Max-Age=<n>
/// ```
///
/// `; Secure` is left out when `secure` is false (see [`cookie_secure`]).
pub fn session_cookies(
    session_token: &SecretToken,
    csrf_token: &SecretToken,
    max_age_secs: u64,
    secure: bool,
) -> [String; 2] {
    [
        set_cookie(
            SESSION_COOKIE,
            session_token.expose(),
            true,
            max_age_secs,
            secure,
        ),
        set_cookie(
            CSRF_COOKIE,
            csrf_token.expose(),
            false,
            max_age_secs,
            secure,
        ),
    ]
}

/// The two `Set-Cookie` values that delete the session cookies (empty value,
/// `Max-Age=0`, same attributes so the browser matches them).
pub fn clear_session_cookies(secure: bool) -> [String; 2] {
    [
        set_cookie(SESSION_COOKIE, "", true, 0, secure),
        set_cookie(CSRF_COOKIE, "", false, 0, secure),
    ]
}

fn set_cookie(name: &str, value: &str, http_only: bool, max_age: u64, secure: bool) -> String {
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}{http_only}{secure}; SameSite=Lax; Path=/; Max-Age={max_age}")
}

/// Whether cookies carry `Secure`: always, except for a loopback host
/// (`localhost`, `127.0.0.0/8`, `::1`, with or without a port) in development,
/// where `wrangler dev` serves plain http.
pub fn cookie_secure(is_development: bool, host: &str) -> bool {
    !(is_development && is_loopback_host(host_without_port(host)))
}

/// `example.com:443` → `example.com`, `[::1]:8787` → `[::1]`; a bare IPv6
/// address (more than one colon, no brackets) is kept whole.
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.split_once(':') {
        Some((name, port)) if !port.contains(':') => name,
        _ => host,
    }
}

/// Every `name=value` pair of a `Cookie` request header, in order, duplicates
/// kept. Pairs are split on `;`, spaces and tabs around names and values are
/// trimmed, a value in double quotes is unquoted, and a piece without `=` or
/// with an empty name is skipped.
pub fn parse_cookie_header(header: &str) -> Vec<(&str, &str)> {
    header
        .split(';')
        .filter_map(|piece| {
            let (name, value) = piece.split_once('=')?;
            let name = name.trim_matches([' ', '\t']);
            if name.is_empty() {
                return None;
            }
            let value = value.trim_matches([' ', '\t']);
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name, value))
        })
        .collect()
}

/// What a `Cookie` header holds under one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieLookup<'a> {
    /// No cookie of that name.
    Absent,
    /// Exactly one, with this value.
    One(&'a str),
    /// The name appears more than once (e.g. a sibling subdomain planted a
    /// second cookie): which one the browser meant is unknowable.
    Ambiguous,
}

/// Look one cookie up by exact (case-sensitive) name.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> CookieLookup<'a> {
    let mut found = CookieLookup::Absent;
    for (n, v) in parse_cookie_header(header) {
        if n == name {
            if found != CookieLookup::Absent {
                return CookieLookup::Ambiguous;
            }
            found = CookieLookup::One(v);
        }
    }
    found
}

/// The value of cookie `name`, or `None` when it is absent, empty or
/// **duplicated**. A duplicated session or CSRF cookie is how cookie tossing
/// (a planted cookie from a sibling subdomain) shows up, so rather than guess
/// ("first wins" is browser-order dependent) the request is treated as not
/// carrying that cookie: no session (401), or a failed CSRF check (403).
pub fn get_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    match find_cookie(header, name) {
        CookieLookup::One(v) if !v.is_empty() => Some(v),
        _ => None,
    }
}
