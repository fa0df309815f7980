//! Sessions and credentials' pure parts (SPEC §3, §4, §7): lifetimes, token
//! formats and their storage hashes, CSRF double submit, cookies, permission
//! sets and the legacy bearer window.
//!
//! # Time
//! Every time in this module is **unix seconds** (`u64`), like the session
//! columns in storage.
//!
//! # Tokens
//! Every bearer secret is generated from 32 random bytes the caller draws
//! (sans-IO) and is stored only as its SHA-256 hex ([`token_hash`]):
//!
//! | token | format | lifetime |
//! |---|---|---|
//! | session (`eliza_session` cookie) | 64 lowercase hex | [`SessionKind`] |
//! | CSRF (`eliza_csrf` cookie, `x-eliza-csrf` header) | 64 lowercase hex | the session's |
//! | machine token | `agm_` + base64url (no padding) | [`MACHINE_LIFETIME_SECS`], absolute |
//! | WebSocket ticket | `agt_` + base64url (no padding) | [`WS_TICKET_TTL_SECS`], single use |
//!
//! Tokens are [`SecretToken`]s: no `Debug`, no `Display`, read with
//! [`SecretToken::expose`] where they are sent.

mod cookie;
mod csrf;
mod legacy;
mod lifetime;
mod permissions;
mod token;

pub use cookie::{
    clear_session_cookies, cookie_secure, find_cookie, get_cookie, parse_cookie_header,
    session_cookies, CookieLookup, CSRF_COOKIE, SESSION_COOKIE,
};
pub use csrf::{
    check_csrf, check_sign_in, csrf_ok, CsrfEvidence, CsrfRefusal, SignInRefusal, CSRF_HEADER,
};
pub use legacy::{legacy_token_active, LEGACY_SCOPE, LEGACY_WINDOW_SECS};
pub use lifetime::{
    cookie_max_age, new_session_expiry, touch, SessionKind, SessionTimes, Touched,
    BOOTSTRAP_LIFETIME_SECS, BROWSER_CAP_SECS, BROWSER_IDLE_SECS, BROWSER_REMEMBER_CAP_SECS,
    MACHINE_LIFETIME_SECS, TOUCH_PERSIST_GRANULARITY_SECS,
};
pub use permissions::{
    grantable_scopes, is_admin, machine_token_permissions, permissions_for, proven_email,
    IdentityKind, ScopeRefusal, USER_BASE_PERMISSIONS,
};
pub use token::{
    csrf_token_from_random, looks_like_machine_token, looks_like_session_token,
    looks_like_ws_ticket, machine_token_from_random, public_session_id, session_id_hash,
    session_token_from_random, token_hash, ws_ticket_from_random, SecretToken,
    MACHINE_TOKEN_PREFIX, WS_TICKET_PREFIX, WS_TICKET_TTL_SECS,
};

use crate::error::ErrorCode;

/// Why a session (or a session-like credential) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Idle too long: `now ≥ expires_at`.
    #[error("the session expired")]
    Expired,
    /// Past its absolute cap: `now ≥ absolute_expires_at`.
    #[error("the session reached its maximum lifetime")]
    AbsoluteCapReached,
}

impl SessionError {
    /// Clients see `401 INVALID_TOKEN` either way.
    pub const fn code(self) -> ErrorCode {
        ErrorCode::InvalidToken
    }
}
