//! Bearer secret formats and their storage hashes.

use crate::ids::{prefixed_token, sha256_hex};
use crate::secret::constant_time_eq;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The prefix of machine tokens (`Authorization: Bearer agm_…`).
pub const MACHINE_TOKEN_PREFIX: &str = "agm_";
/// The prefix of single-use WebSocket tickets (`?ticket=agt_…`).
pub const WS_TICKET_PREFIX: &str = "agt_";
/// A WebSocket ticket's lifetime (single use): 30 s.
pub const WS_TICKET_TTL_SECS: u64 = 30;

/// Length of 32 bytes in unpadded base64url.
const B64_32_LEN: usize = 43;

/// A freshly generated bearer secret, to be sent to its owner once and
/// stored only as [`storage_hash`](Self::storage_hash). It implements neither
/// `Debug` nor `Display`, so it cannot end up in a log line by accident. Only
/// this module constructs one, so its text is always cookie- and URL-safe.
#[derive(Clone)]
pub struct SecretToken(String);

impl SecretToken {
    /// The token's text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 hex of the token: the value stored and looked up.
    pub fn storage_hash(&self) -> String {
        token_hash(&self.0)
    }

    /// Constant-time comparison with a presented value.
    pub fn matches(&self, presented: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

/// The storage hash of any presented token: SHA-256 of its UTF-8 text, lowercase
/// hex (64 chars). Only this is stored, never the token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token)
}

/// The storage key of a session: SHA-256 hex of the `eliza_session` cookie
/// value (same as [`token_hash`]).
pub fn session_id_hash(session_token: &str) -> String {
    token_hash(session_token)
}

/// A session token (the `eliza_session` cookie): 32 random bytes as 64
/// lowercase hex.
/// The id a session is listed and revoked by (`GET /api/auth/sessions`,
/// `POST /api/auth/sessions/:id/revoke`): derived from the stored hash, so
/// the listing reveals neither the cookie nor the lookup key.
pub fn public_session_id(id_hash: &str) -> String {
    let mut id = sha256_hex(&format!("agentgate-session-id:{id_hash}"));
    id.truncate(32);
    id
}

pub fn session_token_from_random(random: [u8; 32]) -> SecretToken {
    SecretToken(hex::encode(random))
}

/// A CSRF token (the `eliza_csrf` cookie and `x-eliza-csrf` header): 32
/// random bytes as 64 lowercase hex. Draw it independently of the session
/// token.
pub fn csrf_token_from_random(random: [u8; 32]) -> SecretToken {
    SecretToken(hex::encode(random))
}

/// A machine token: `agm_` + base64url (no padding) of 32 random bytes.
pub fn machine_token_from_random(random: [u8; 32]) -> SecretToken {
    SecretToken(prefixed_token(MACHINE_TOKEN_PREFIX, random))
}

/// A WebSocket ticket: `agt_` + base64url (no padding) of 32 random bytes.
pub fn ws_ticket_from_random(random: [u8; 32]) -> SecretToken {
    SecretToken(prefixed_token(WS_TICKET_PREFIX, random))
}

/// Whether `s` has the shape of a session (or CSRF) token: exactly 64
/// lowercase hex digits. Check before any storage lookup.
pub fn looks_like_session_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `s` has the shape of a machine token: `agm_` then the canonical
/// unpadded base64url of exactly 32 bytes.
pub fn looks_like_machine_token(s: &str) -> bool {
    prefixed_32_bytes(s, MACHINE_TOKEN_PREFIX)
}

/// Whether `s` has the shape of a WebSocket ticket: `agt_` then the canonical
/// unpadded base64url of exactly 32 bytes.
pub fn looks_like_ws_ticket(s: &str) -> bool {
    prefixed_32_bytes(s, WS_TICKET_PREFIX)
}

fn prefixed_32_bytes(s: &str, prefix: &str) -> bool {
    let Some(body) = s.strip_prefix(prefix) else {
        return false;
    };
    body.len() == B64_32_LEN
        && URL_SAFE_NO_PAD
            .decode(body)
            .is_ok_and(|bytes| bytes.len() == 32)
}
