//! Audit events (SPEC §10): the row, secret redaction, the action names and
//! the JSON log line. The worker writes each event synchronously (failing the
//! request closed when the write fails) and emits [`to_log_line`] once.
//!
//! # Action names
//! An action is `<area>.<object>[.<detail>]` (a [`AuditAction`], e.g.
//! `auth.login.password`); the stored `action` is that base plus the outcome,
//! `auth.login.password.success` / `auth.login.password.failure` (the SPEC's
//! spelling), and the outcome is also its own column so queries need no
//! string matching. Alerts are observations, not attempts: their name is fixed
//! (`security.alert.auth_failures`, no suffix) and they are written with
//! outcome `failure` (they report failed activity).
//!
//! # Redaction
//! Every event's metadata is redacted when the event is built, so an
//! [`AuditEvent`] never holds an unredacted value (see [`redact_metadata`]).
//! The user agent is truncated to 200 characters and redacted the same way.
//!
//! # Time
//! `ts` is **unix milliseconds** (the `audit_events.ts` column).

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";
/// Longest stored user agent, in characters.
pub const MAX_USER_AGENT_CHARS: usize = 200;
/// A hex run at least this long is treated as a secret.
pub const MIN_HEX_RUN: usize = 32;
/// A base64/base64url run at least this long (with upper- and lowercase
/// letters and digits) is treated as a secret.
pub const MIN_BASE64_RUN: usize = 32;

/// Whether the audited attempt succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It succeeded.
    Success,
    /// It was refused or failed.
    Failure,
}

impl Outcome {
    /// `Success` when `succeeded`, else `Failure`.
    pub const fn from_success(succeeded: bool) -> Self {
        if succeeded {
            Self::Success
        } else {
            Self::Failure
        }
    }

    /// `success` or `failure` (the `outcome` column).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// An audited action (SPEC §10). See the module docs for the naming scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditAction {
    base: &'static str,
    /// Whether the stored name ends in `.success`/`.failure`.
    suffixed: bool,
}

impl AuditAction {
    const fn attempt(base: &'static str) -> Self {
        Self {
            base,
            suffixed: true,
        }
    }

    const fn observation(base: &'static str) -> Self {
        Self {
            base,
            suffixed: false,
        }
    }

    /// Password login.
    pub const LOGIN_PASSWORD: Self = Self::attempt("auth.login.password");
    /// Login with an external JWT (a session created from it).
    pub const LOGIN_JWT: Self = Self::attempt("auth.login.jwt");
    /// Use of the legacy static bearer (deprecated).
    pub const LOGIN_LEGACY_TOKEN: Self = Self::attempt("auth.login.legacy_token");
    /// Logout.
    pub const LOGOUT: Self = Self::attempt("auth.logout");
    /// Registration of a user identity.
    pub const REGISTER: Self = Self::attempt("auth.register");
    /// First-run setup.
    pub const SETUP: Self = Self::attempt("auth.setup");
    /// Cloud bootstrap token exchange.
    pub const BOOTSTRAP_EXCHANGE: Self = Self::attempt("auth.bootstrap.exchange");
    /// Owner binding.
    pub const OWNER_BIND: Self = Self::attempt("auth.owner.bind");
    /// Owner binding verification.
    pub const OWNER_VERIFY: Self = Self::attempt("auth.owner.verify");
    /// Revocation of one session.
    pub const SESSION_REVOKE: Self = Self::attempt("auth.session.revoke");
    /// Revocation of all (other) sessions.
    pub const SESSION_REVOKE_ALL: Self = Self::attempt("auth.session.revoke_all");
    /// Password change.
    pub const PASSWORD_CHANGE: Self = Self::attempt("auth.password.change");
    /// Machine token creation.
    pub const MACHINE_TOKEN_CREATE: Self = Self::attempt("auth.machine_token.create");
    /// Machine token rotation.
    pub const MACHINE_TOKEN_ROTATE: Self = Self::attempt("auth.machine_token.rotate");
    /// Machine token revocation.
    pub const MACHINE_TOKEN_REVOKE: Self = Self::attempt("auth.machine_token.revoke");
    /// Connector credentials written (set or replaced).
    pub const CONNECTOR_CREDENTIALS_WRITE: Self = Self::attempt("connector.credentials.write");
    /// Connector credentials deleted.
    pub const CONNECTOR_CREDENTIALS_DELETE: Self = Self::attempt("connector.credentials.delete");
    /// An onboarding write.
    pub const ONBOARDING_WRITE: Self = Self::attempt("onboarding.write");
    /// Five failed logins for one account or IP within 15 minutes.
    pub const SECURITY_ALERT_AUTH_FAILURES: Self =
        Self::observation("security.alert.auth_failures");

    /// Agent registered.
    pub const AGENT_CREATE: Self = Self::attempt("agent.create");
    /// Agent updated.
    pub const AGENT_UPDATE: Self = Self::attempt("agent.update");
    /// Agent deleted.
    pub const AGENT_DELETE: Self = Self::attempt("agent.delete");
    /// Agent started (at the origin).
    pub const AGENT_START: Self = Self::attempt("agent.start");
    /// Agent stopped (at the origin).
    pub const AGENT_STOP: Self = Self::attempt("agent.stop");
    /// An agent's memories deleted (at the origin).
    pub const MEMORY_DELETE: Self = Self::attempt("memory.delete");
    /// A memory room created (at the origin).
    pub const MEMORY_ROOM_CREATE: Self = Self::attempt("memory.room.create");
    /// The agent server told to stop.
    pub const SERVER_STOP: Self = Self::attempt("server.stop");
    /// An agent's log entry deleted (at the origin).
    pub const AGENT_LOG_DELETE: Self = Self::attempt("agent.log.delete");
    /// An agent added to a world, or its world settings changed (at the origin).
    pub const AGENT_WORLD_WRITE: Self = Self::attempt("agent.world.write");
    /// Media uploaded for an agent (at the origin).
    pub const AGENT_MEDIA_UPLOAD: Self = Self::attempt("agent.media.upload");
    /// A memory changed (at the origin).
    pub const MEMORY_UPDATE: Self = Self::attempt("memory.update");
    /// A world created, deleted or cleared (at the origin).
    pub const MEMORY_WORLD_WRITE: Self = Self::attempt("memory.world.write");
    /// The agent server's logs cleared.
    pub const SERVER_LOGS_CLEAR: Self = Self::attempt("server.logs.clear");
    /// Log entries submitted to the agent server.
    pub const SERVER_LOGS_SUBMIT: Self = Self::attempt("server.logs.submit");
    /// The agent server's local environment changed.
    pub const SYSTEM_ENV_UPDATE: Self = Self::attempt("system.env.update");

    /// Every action, for lookups and tests.
    pub const ALL: [Self; 35] = [
        Self::LOGIN_PASSWORD,
        Self::LOGIN_JWT,
        Self::LOGIN_LEGACY_TOKEN,
        Self::LOGOUT,
        Self::REGISTER,
        Self::SETUP,
        Self::BOOTSTRAP_EXCHANGE,
        Self::OWNER_BIND,
        Self::OWNER_VERIFY,
        Self::SESSION_REVOKE,
        Self::SESSION_REVOKE_ALL,
        Self::PASSWORD_CHANGE,
        Self::MACHINE_TOKEN_CREATE,
        Self::MACHINE_TOKEN_ROTATE,
        Self::MACHINE_TOKEN_REVOKE,
        Self::CONNECTOR_CREDENTIALS_WRITE,
        Self::CONNECTOR_CREDENTIALS_DELETE,
        Self::ONBOARDING_WRITE,
        Self::SECURITY_ALERT_AUTH_FAILURES,
        Self::AGENT_CREATE,
        Self::AGENT_UPDATE,
        Self::AGENT_DELETE,
        Self::AGENT_START,
        Self::AGENT_STOP,
        Self::MEMORY_DELETE,
        Self::MEMORY_ROOM_CREATE,
        Self::SERVER_STOP,
        Self::AGENT_LOG_DELETE,
        Self::AGENT_WORLD_WRITE,
        Self::AGENT_MEDIA_UPLOAD,
        Self::MEMORY_UPDATE,
        Self::MEMORY_WORLD_WRITE,
        Self::SERVER_LOGS_CLEAR,
        Self::SERVER_LOGS_SUBMIT,
        Self::SYSTEM_ENV_UPDATE,
    ];

    /// The base name, e.g. `auth.login.password` (what a route table names).
    pub const fn base(self) -> &'static str {
        self.base
    }

    /// The stored name for `outcome`, e.g. `auth.login.password.failure`.
    pub fn name(self, outcome: Outcome) -> String {
        if self.suffixed {
            format!("{}.{}", self.base, outcome.as_str())
        } else {
            self.base.to_owned()
        }
    }

    /// The action with this base name.
    pub fn from_base(base: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.base == base)
    }
}

/// One audit row. Built only through [`AuditEvent::builder`], so its metadata
/// and user agent are always redacted and bounded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    id: String,
    ts: u64,
    server_id: String,
    actor_identity_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    action: String,
    outcome: Outcome,
    metadata: BTreeMap<String, Value>,
}

impl AuditEvent {
    /// Start an event: its id (a uuid v7 the caller drew), time (unix ms),
    /// tenant, action and outcome.
    pub fn builder(
        id: impl Into<String>,
        ts_ms: u64,
        server_id: impl Into<String>,
        action: AuditAction,
        outcome: Outcome,
    ) -> AuditEventBuilder {
        AuditEventBuilder {
            event: Self {
                id: id.into(),
                ts: ts_ms,
                server_id: server_id.into(),
                actor_identity_id: None,
                ip: None,
                user_agent: None,
                action: action.name(outcome),
                outcome,
                metadata: BTreeMap::new(),
            },
        }
    }

    /// The event id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Unix milliseconds.
    pub fn ts(&self) -> u64 {
        self.ts
    }
    /// The tenant.
    pub fn server_id(&self) -> &str {
        &self.server_id
    }
    /// Who acted, when known (for a failed login: the identity of the
    /// attempted email only if it exists).
    pub fn actor_identity_id(&self) -> Option<&str> {
        self.actor_identity_id.as_deref()
    }
    /// The client IP.
    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }
    /// The user agent, at most 200 characters.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }
    /// The stored action name, e.g. `auth.login.password.success`.
    pub fn action(&self) -> &str {
        &self.action
    }
    /// The outcome.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
    /// The redacted metadata.
    pub fn metadata(&self) -> &BTreeMap<String, Value> {
        &self.metadata
    }
    /// The metadata as a JSON object string (the `metadata` column).
    pub fn metadata_json(&self) -> String {
        serde_json::to_string(&self.metadata).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// Builds an [`AuditEvent`]; [`build`](Self::build) redacts.
#[derive(Debug, Clone)]
pub struct AuditEventBuilder {
    event: AuditEvent,
}

impl AuditEventBuilder {
    /// The acting identity.
    pub fn actor(mut self, identity_id: impl Into<String>) -> Self {
        self.event.actor_identity_id = Some(identity_id.into());
        self
    }

    /// The client IP.
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.event.ip = Some(ip.into());
        self
    }

    /// The user agent (truncated to 200 characters when built).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.event.user_agent = Some(user_agent.into());
        self
    }

    /// One metadata entry (redacted when built).
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.event.metadata.insert(key.into(), value.into());
        self
    }

    /// Several metadata entries (redacted when built).
    pub fn metadata(mut self, entries: BTreeMap<String, Value>) -> Self {
        self.event.metadata.extend(entries);
        self
    }

    /// The event, with metadata redacted and the user agent truncated and
    /// redacted.
    pub fn build(self) -> AuditEvent {
        let mut event = self.event;
        event.metadata = redact_metadata(event.metadata);
        event.user_agent = event
            .user_agent
            .map(|ua| truncate_chars(&ua, MAX_USER_AGENT_CHARS))
            .map(|ua| {
                if looks_secret(&ua) {
                    REDACTED.to_owned()
                } else {
                    ua
                }
            });
        event
    }
}

/// The first `max` characters of `s` (never splits a character).
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s[..end].to_owned(),
        None => s.to_owned(),
    }
}

/// The event as one JSON line (no newline inside, none at the end):
/// `{"type":"audit", …the event's camelCase fields…}`.
pub fn to_log_line(event: &AuditEvent) -> String {
    let mut line = Map::new();
    line.insert("type".into(), Value::from("audit"));
    if let Ok(Value::Object(fields)) = serde_json::to_value(event) {
        line.extend(fields);
    }
    Value::Object(line).to_string()
}

/// Redact a metadata map: a value is replaced by `"[REDACTED]"` when
/// - its key names a secret (see [`is_secret_key`]), whatever its type
///   (except `null` and booleans), or
/// - it is a string that looks like a secret (see [`looks_secret`]);
///
/// arrays and objects are walked recursively with the same rules.
pub fn redact_metadata(map: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    map.into_iter()
        .map(|(k, v)| {
            let v = redact_entry(&k, v);
            (k, v)
        })
        .collect()
}

fn redact_entry(key: &str, value: Value) -> Value {
    if is_secret_key(key) && !matches!(value, Value::Null | Value::Bool(_)) {
        return Value::from(REDACTED);
    }
    redact_value(value)
}

fn redact_value(value: Value) -> Value {
    match value {
        Value::String(s) if looks_secret(&s) => Value::from(REDACTED),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_value).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = redact_entry(&k, v);
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Key names that mark their value as secret (matched on the key lowercased
/// with `-`, `_`, `.` and spaces removed).
const SECRET_KEY_WORDS: [&str; 13] = [
    "password",
    "passwd",
    "passphrase",
    "token",
    "secret",
    "cookie",
    "authorization",
    "jwt",
    "apikey",
    "csrf",
    "session",
    "bearer",
    "credential",
];

/// Last words that mark a key as naming something *about* a secret rather
/// than holding it (`tokenId`, `session_id`, `token_name`): such keys are not
/// redacted by name (their values are still checked by [`looks_secret`],
/// which catches an actual token or session id).
const NON_SECRET_LAST_WORDS: [&str; 5] = ["id", "ids", "name", "kind", "type"];

fn is_key_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.' | ' ')
}

/// Whether a metadata key names a secret: its normalised form (lowercased,
/// `-`, `_`, `.` and spaces removed) contains one of `password passwd
/// passphrase token secret cookie authorization jwt apikey csrf session bearer
/// credential`, and its last word (split at separators and camelCase humps)
/// is not `id`, `ids`, `name`, `kind` or `type`.
pub fn is_secret_key(key: &str) -> bool {
    let normalised: String = key
        .chars()
        .filter(|&c| !is_key_separator(c))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEY_WORDS.iter().any(|w| normalised.contains(w))
        && !NON_SECRET_LAST_WORDS.contains(&last_word(key).as_str())
}

/// The last word of a key, lowercased: `tokenId` → `id`, `token_name` →
/// `name`, `tokenID` → `id`, `sessionid` → `sessionid`.
fn last_word(key: &str) -> String {
    let chars: Vec<char> = key.trim_end_matches(is_key_separator).chars().collect();
    let mut start = chars.len();
    if chars.last().is_some_and(|c| c.is_uppercase()) {
        while start > 0 && chars[start - 1].is_uppercase() {
            start -= 1;
        }
    } else {
        while start > 0 && !is_key_separator(chars[start - 1]) && !chars[start - 1].is_uppercase() {
            start -= 1;
        }
        if start > 0 && chars[start - 1].is_uppercase() {
            start -= 1;
        }
    }
    chars[start..]
        .iter()
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// Whether a string looks like (or contains) a secret:
/// - a JWT: `eyJ` + base64url, `.`, base64url, `.` (signature may be empty);
/// - an agentgate token: `agm_` or `agt_` followed by 16+ base64url chars;
/// - `Bearer ` or `Basic ` followed by a credential (any letter case);
/// - a run of [`MIN_HEX_RUN`]+ hex digits (a session id, a hash, a key);
/// - a run of [`MIN_BASE64_RUN`]+ base64/base64url characters containing an
///   uppercase letter, a lowercase letter and a digit (random keys; a UUID or
///   an all-lowercase path has no uppercase letter and is kept).
///
/// UUIDs (hex groups of at most 12 split by dashes), emails, short numbers and
/// ordinary words are kept.
pub fn looks_secret(s: &str) -> bool {
    contains_jwt(s)
        || contains_prefixed_token(s)
        || contains_auth_scheme(s)
        || has_hex_run(s)
        || has_base64_run(s)
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_b64_any(b: u8) -> bool {
    is_b64url(b) || b == b'+' || b == b'/' || b == b'='
}

/// Length of the run of `pred` bytes starting at `from`.
fn run_len(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes[from..].iter().take_while(|&&b| pred(b)).count()
}

fn contains_jwt(s: &str) -> bool {
    let bytes = s.as_bytes();
    s.match_indices("eyJ").any(|(start, _)| {
        let header = run_len(bytes, start, is_b64url);
        let dot1 = start + header;
        if bytes.get(dot1) != Some(&b'.') {
            return false;
        }
        let payload = run_len(bytes, dot1 + 1, is_b64url);
        payload > 0 && bytes.get(dot1 + 1 + payload) == Some(&b'.')
    })
}

fn contains_prefixed_token(s: &str) -> bool {
    let bytes = s.as_bytes();
    ["agm_", "agt_"].iter().any(|prefix| {
        s.match_indices(prefix)
            .any(|(start, p)| run_len(bytes, start + p.len(), is_b64url) >= 16)
    })
}

fn contains_auth_scheme(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    ["bearer ", "basic "].iter().any(|scheme| {
        lower.match_indices(scheme).any(|(start, p)| {
            let rest = start + p.len();
            let rest = rest + run_len(bytes, rest, |b| b == b' ');
            run_len(bytes, rest, |b| !b.is_ascii_whitespace()) >= 8
        })
    })
}

fn has_hex_run(s: &str) -> bool {
    longest_runs(s.as_bytes(), |b| b.is_ascii_hexdigit()).any(|run| run.len() >= MIN_HEX_RUN)
}

fn has_base64_run(s: &str) -> bool {
    longest_runs(s.as_bytes(), is_b64_any).any(|run| {
        run.len() >= MIN_BASE64_RUN
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit)
    })
}

/// The maximal runs of bytes satisfying `pred`.
fn longest_runs(bytes: &[u8], pred: impl Fn(u8) -> bool) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(move |&b| !pred(b))
        .filter(|run| !run.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_scheme() {
        assert_eq!(
            AuditAction::LOGIN_PASSWORD.name(Outcome::Success),
            "auth.login.password.success"
        );
        assert_eq!(
            AuditAction::SECURITY_ALERT_AUTH_FAILURES.name(Outcome::Failure),
            "security.alert.auth_failures"
        );
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_base(a.base()), Some(a));
        }
    }

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "newPassword",
            "api_key",
            "X-Api-Key",
            "Authorization",
            "csrf",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["password_valid", "sessionid", "tokenLength"] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "tokenId",
            "tokenID",
            "session_id",
            "token_name",
            "email",
            "reason",
            "scopes",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
