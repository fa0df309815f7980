//! Cloud bootstrap tokens (SPEC §6), sans-IO: the token, the cloud issuer's
//! keys, the revocation list and `now` come in; a typed decision comes out.
//!
//! A bootstrap token is accepted only when all of these hold, each refused
//! with its own [`BootstrapError`] (and code string):
//! - the header `alg` is `RS256` (anything else, HS256 included, is
//!   [`BootstrapError::WrongAlgorithm`] before any key is looked at) and the
//!   signature verifies with a key from the cloud issuer's JWKS;
//! - `iss` equals `ELIZA_CLOUD_ISSUER` exactly (a configured issuer URL whose
//!   path is `/` is accepted with or without that trailing slash, since URL
//!   parsing adds it);
//! - `scope` is the string `bootstrap`; `containerId` equals
//!   `ELIZA_CLOUD_CONTAINER_ID`;
//! - `exp` is strictly after `now` (no leeway); `iat` is present, not more than
//!   60 s in the future, and `exp ≤ iat + 24 h`;
//! - `jti` is a non-empty string not in the revocation list.
//!
//! With no cloud keys at all (JWKS never fetched) the answer is
//! [`BootstrapError::Unavailable`] (`503 BOOTSTRAP_UNAVAILABLE`), never a
//! bypass. Single use (the replay set) is the storage layer's atomic insert of
//! the returned `jti` until `exp`; it reports [`BootstrapError::Replayed`].
//!
//! # `revocations.json`
//! `${ELIZA_CLOUD_ISSUER}/.well-known/revocations.json` is read by
//! [`RevocationList::parse`], which accepts either a JSON array or an object
//! with a `revoked` array (other members ignored); each entry is a non-empty
//! `jti` string or an object with a non-empty string `jti` (other members
//! ignored). Anything else — another shape, a bad entry, a duplicate JSON
//! member, more than [`RevocationList::MAX_ENTRIES`] entries or
//! [`RevocationList::MAX_BYTES`] bytes — refuses the whole document, so the
//! previously fetched list stays in force.

use crate::config::CloudConfig;
use crate::error::ErrorCode;
use crate::jwt::{
    self, numeric_date, parse_json_strict, string_claim, Algorithm, AsyncSignatureVerifier,
    DecodedToken, JwtError, KeySet, SignatureVerifier, Validation, VerifiedClaims,
};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// The longest lifetime (`exp - iat`) a bootstrap token may have.
pub const MAX_LIFETIME_SECS: u64 = 24 * 3600;
/// How far in the future `iat` may be (clock skew).
pub const IAT_LEEWAY_SECS: u64 = 60;
/// The required `scope` claim.
pub const SCOPE: &str = "bootstrap";

/// What a bootstrap token must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapPolicy {
    issuers: Vec<String>,
    container_id: String,
}

impl BootstrapPolicy {
    /// Accepts `iss` equal to `issuer` exactly and `containerId` equal to
    /// `container_id`.
    pub fn new(issuer: impl Into<String>, container_id: impl Into<String>) -> Self {
        Self {
            issuers: vec![issuer.into()],
            container_id: container_id.into(),
        }
    }

    /// The policy for the configured cloud issuer and container.
    pub fn from_config(cloud: &CloudConfig) -> Self {
        let spelled = cloud.issuer.as_str().to_owned();
        let mut issuers = vec![spelled.clone()];
        let bare_origin = cloud.issuer.path() == "/"
            && cloud.issuer.query().is_none()
            && cloud.issuer.fragment().is_none();
        if bare_origin {
            if let Some(without) = spelled.strip_suffix('/') {
                issuers.push(without.to_owned());
            }
        }
        Self {
            issuers,
            container_id: cloud.container_id.clone(),
        }
    }

    /// The accepted `iss` spellings.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The required `containerId`.
    pub fn container_id(&self) -> &str {
        &self.container_id
    }

    /// The generic JWT policy run before the bootstrap checks: RS256 only,
    /// these issuers, `sub` optional, 60 s leeway for `nbf`/`iat` (`exp` is
    /// re-checked strictly by [`verify_bootstrap_claims`]).
    pub fn validation(&self) -> Validation {
        Validation::new(&[Algorithm::Rs256])
            .with_leeway(IAT_LEEWAY_SECS)
            .with_issuers(self.issuers.iter().cloned())
            .require_subject(false)
    }
}

/// Why a bootstrap token was refused. Each reason has its own
/// [`reason_code`](Self::reason_code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BootstrapError {
    /// No cloud keys are available (JWKS never fetched) or the verifier could
    /// not run: `503 BOOTSTRAP_UNAVAILABLE`.
    Unavailable,
    /// The header `alg` is not RS256.
    WrongAlgorithm,
    /// No cloud key verified the signature.
    BadSignature,
    /// The `kid` is not among the cloud keys (the caller may refetch).
    UnknownKid,
    /// `iss` is not the cloud issuer.
    WrongIssuer,
    /// `scope` is not `bootstrap`.
    WrongScope,
    /// `containerId` is not this container's.
    WrongContainer,
    /// `exp` is missing or not after `now`.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is missing.
    MissingIssuedAt,
    /// `iat` is in the future.
    IssuedInFuture,
    /// `exp` is more than 24 h after `iat`.
    LifetimeTooLong,
    /// `jti` is missing or empty.
    MissingJti,
    /// `jti` is in the revocation list.
    Revoked,
    /// `jti` was already exchanged (reported by the storage layer).
    Replayed,
    /// Any other token defect (form, encoding, JSON, claim types).
    Invalid(JwtError),
}

impl BootstrapError {
    /// A stable machine-readable code per reason, e.g. `BOOTSTRAP_WRONG_CONTAINER`
    /// (for audit metadata and development-mode answers).
    pub fn reason_code(self) -> &'static str {
        match self {
            Self::Unavailable => "BOOTSTRAP_UNAVAILABLE",
            Self::WrongAlgorithm => "BOOTSTRAP_WRONG_ALGORITHM",
            Self::BadSignature => "BOOTSTRAP_BAD_SIGNATURE",
            Self::UnknownKid => "BOOTSTRAP_UNKNOWN_KID",
            Self::WrongIssuer => "BOOTSTRAP_WRONG_ISSUER",
            Self::WrongScope => "BOOTSTRAP_WRONG_SCOPE",
            Self::WrongContainer => "BOOTSTRAP_WRONG_CONTAINER",
            Self::Expired => "BOOTSTRAP_EXPIRED",
            Self::NotYetValid => "BOOTSTRAP_NOT_YET_VALID",
            Self::MissingIssuedAt => "BOOTSTRAP_MISSING_IAT",
            Self::IssuedInFuture => "BOOTSTRAP_ISSUED_IN_FUTURE",
            Self::LifetimeTooLong => "BOOTSTRAP_LIFETIME_TOO_LONG",
            Self::MissingJti => "BOOTSTRAP_MISSING_JTI",
            Self::Revoked => "BOOTSTRAP_REVOKED",
            Self::Replayed => "BOOTSTRAP_REPLAYED",
            Self::Invalid(_) => "BOOTSTRAP_INVALID",
        }
    }

    /// A short human reason (development mode only).
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unavailable => "cloud bootstrap keys are unavailable",
            Self::WrongAlgorithm => "bootstrap tokens must be RS256",
            Self::BadSignature => "bootstrap token signature is invalid",
            Self::UnknownKid => "bootstrap token key id is unknown",
            Self::WrongIssuer => "bootstrap token issuer is not the cloud issuer",
            Self::WrongScope => "bootstrap token scope is not bootstrap",
            Self::WrongContainer => "bootstrap token is for another container",
            Self::Expired => "bootstrap token has expired",
            Self::NotYetValid => "bootstrap token is not valid yet",
            Self::MissingIssuedAt => "bootstrap token has no iat",
            Self::IssuedInFuture => "bootstrap token was issued in the future",
            Self::LifetimeTooLong => "bootstrap token lives longer than 24 hours",
            Self::MissingJti => "bootstrap token has no jti",
            Self::Revoked => "bootstrap token has been revoked",
            Self::Replayed => "bootstrap token was already used",
            Self::Invalid(e) => e.reason(),
        }
    }

    /// The client-visible code: `503 BOOTSTRAP_UNAVAILABLE` for
    /// [`Unavailable`](Self::Unavailable), `401 INVALID_TOKEN` otherwise.
    pub fn code(self) -> ErrorCode {
        match self {
            Self::Unavailable => ErrorCode::BootstrapUnavailable,
            _ => ErrorCode::InvalidToken,
        }
    }

    /// Whether refetching the cloud JWKS could help.
    pub fn suggests_refetch(self) -> bool {
        matches!(self, Self::UnknownKid)
    }

    fn from_jwt(e: JwtError) -> Self {
        match e {
            JwtError::UnsecuredToken
            | JwtError::UnsupportedAlgorithm
            | JwtError::AlgorithmNotAllowed
            | JwtError::AlgorithmMismatch => Self::WrongAlgorithm,
            JwtError::BadSignature | JwtError::NoMatchingKey => Self::BadSignature,
            JwtError::UnknownKid => Self::UnknownKid,
            JwtError::VerifierFailed => Self::Unavailable,
            JwtError::Expired | JwtError::MissingExp => Self::Expired,
            JwtError::NotYetValid => Self::NotYetValid,
            JwtError::IssuedInFuture => Self::IssuedInFuture,
            JwtError::WrongIssuer => Self::WrongIssuer,
            other => Self::Invalid(other),
        }
    }
}

impl fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for BootstrapError {}

/// The facts of an accepted bootstrap token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BootstrapClaims {
    /// `sub`: the cloud user id, when present.
    pub sub: Option<String>,
    /// `jti`: to insert into the replay set until `exp`.
    pub jti: String,
    /// `iat`, unix seconds.
    pub iat: u64,
    /// `exp`, unix seconds.
    pub exp: u64,
    /// `containerId` (equal to the configured one).
    pub container_id: String,
}

/// The `jti`s the cloud has revoked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    jtis: HashSet<String>,
}

/// Why a revocation document was refused (the previous list stays in force).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationError {
    /// More than [`RevocationList::MAX_BYTES`] bytes.
    TooLarge,
    /// Not JSON, or a duplicate member.
    InvalidJson,
    /// Neither an array nor an object with a `revoked` array.
    BadShape,
    /// An entry is not a non-empty string or an object with one in `jti`.
    BadEntry,
    /// More than [`RevocationList::MAX_ENTRIES`] entries.
    TooManyEntries,
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "revocation list is too large",
            Self::InvalidJson => "revocation list is not valid JSON",
            Self::BadShape => "revocation list is neither an array nor {\"revoked\": [...]}",
            Self::BadEntry => "revocation list has an entry without a jti",
            Self::TooManyEntries => "revocation list has too many entries",
        })
    }
}

impl std::error::Error for RevocationError {}

impl RevocationList {
    /// The largest document read, in bytes.
    pub const MAX_BYTES: usize = 1024 * 1024;
    /// The most entries read.
    pub const MAX_ENTRIES: usize = 100_000;

    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `revocations.json` (format in the module docs).
    pub fn parse(document: &[u8]) -> Result<Self, RevocationError> {
        if document.len() > Self::MAX_BYTES {
            return Err(RevocationError::TooLarge);
        }
        let root = jwt_json(document)?;
        let entries = match &root {
            Value::Array(items) => items,
            Value::Object(obj) => match obj.get("revoked") {
                Some(Value::Array(items)) => items,
                _ => return Err(RevocationError::BadShape),
            },
            _ => return Err(RevocationError::BadShape),
        };
        if entries.len() > Self::MAX_ENTRIES {
            return Err(RevocationError::TooManyEntries);
        }
        let jtis = entries
            .iter()
            .map(|entry| {
                let jti = match entry {
                    Value::String(s) => Some(s),
                    Value::Object(obj) => obj.get("jti").and_then(|j| match j {
                        Value::String(s) => Some(s),
                        _ => None,
                    }),
                    _ => None,
                };
                match jti {
                    Some(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(RevocationError::BadEntry),
                }
            })
            .collect::<Result<HashSet<_>, _>>()?;
        Ok(Self { jtis })
    }

    /// Whether `jti` is revoked.
    pub fn contains(&self, jti: &str) -> bool {
        self.jtis.contains(jti)
    }

    /// How many distinct `jti`s.
    pub fn len(&self) -> usize {
        self.jtis.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.jtis.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for RevocationList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self {
            jtis: iter.into_iter().map(Into::into).collect(),
        }
    }
}

/// The same duplicate-refusing parser as tokens and JWKS.
fn jwt_json(document: &[u8]) -> Result<Value, RevocationError> {
    parse_json_strict(document).map_err(|_| RevocationError::InvalidJson)
}

/// Step 1 for bootstrap tokens: parse and refuse any algorithm but RS256
/// before a key is looked at.
pub fn decode_bootstrap(
    token: &str,
    policy: &BootstrapPolicy,
) -> Result<DecodedToken, BootstrapError> {
    jwt::decode(token, &policy.validation()).map_err(BootstrapError::from_jwt)
}

/// The bootstrap-specific checks on a verified token's claims (see the module
/// docs). Re-checks the algorithm, issuer and `exp` itself, so it is correct
/// even after a looser generic policy.
pub fn verify_bootstrap_claims(
    claims: &VerifiedClaims,
    policy: &BootstrapPolicy,
    now: u64,
    revoked: &RevocationList,
) -> Result<BootstrapClaims, BootstrapError> {
    if claims.alg != Algorithm::Rs256 {
        return Err(BootstrapError::WrongAlgorithm);
    }
    if !claims
        .iss
        .as_deref()
        .is_some_and(|iss| policy.issuers.iter().any(|i| i == iss))
    {
        return Err(BootstrapError::WrongIssuer);
    }
    let raw = &claims.raw;
    let invalid = |_| BootstrapError::Invalid(JwtError::InvalidClaim);
    if string_claim(raw, "scope")
        .map_err(|_| BootstrapError::WrongScope)?
        .as_deref()
        != Some(SCOPE)
    {
        return Err(BootstrapError::WrongScope);
    }
    let container = string_claim(raw, "containerId").map_err(|_| BootstrapError::WrongContainer)?;
    if container.as_deref() != Some(policy.container_id.as_str()) {
        return Err(BootstrapError::WrongContainer);
    }
    let exp = numeric_date(raw, "exp")
        .map_err(invalid)?
        .ok_or(BootstrapError::Expired)?;
    if exp <= now {
        return Err(BootstrapError::Expired);
    }
    let iat = numeric_date(raw, "iat")
        .map_err(invalid)?
        .ok_or(BootstrapError::MissingIssuedAt)?;
    if iat > now.saturating_add(IAT_LEEWAY_SECS) {
        return Err(BootstrapError::IssuedInFuture);
    }
    if exp > iat.saturating_add(MAX_LIFETIME_SECS) {
        return Err(BootstrapError::LifetimeTooLong);
    }
    let jti = match string_claim(raw, "jti").map_err(invalid)? {
        Some(jti) if !jti.is_empty() => jti,
        _ => return Err(BootstrapError::MissingJti),
    };
    if revoked.contains(&jti) {
        return Err(BootstrapError::Revoked);
    }
    Ok(BootstrapClaims {
        sub: claims.sub.clone(),
        jti,
        iat,
        exp,
        container_id: policy.container_id.clone(),
    })
}

/// The whole bootstrap check with a synchronous verifier: `keys` are the
/// cloud issuer's (empty → [`BootstrapError::Unavailable`]).
pub fn verify_bootstrap_token<V: SignatureVerifier + ?Sized>(
    token: &str,
    keys: &KeySet,
    policy: &BootstrapPolicy,
    verifier: &V,
    now: u64,
    revoked: &RevocationList,
) -> Result<BootstrapClaims, BootstrapError> {
    if keys.is_empty() {
        return Err(BootstrapError::Unavailable);
    }
    let verified = decode_bootstrap(token, policy)?
        .verify_signature(keys, verifier)
        .map_err(BootstrapError::from_jwt)?;
    let claims = jwt::validate_claims(&verified, &policy.validation(), now)
        .map_err(BootstrapError::from_jwt)?;
    verify_bootstrap_claims(&claims, policy, now, revoked)
}

/// [`verify_bootstrap_token`] with an asynchronous verifier (WebCrypto).
pub async fn verify_bootstrap_token_async<V: AsyncSignatureVerifier + ?Sized>(
    token: &str,
    keys: &KeySet,
    policy: &BootstrapPolicy,
    verifier: &V,
    now: u64,
    revoked: &RevocationList,
) -> Result<BootstrapClaims, BootstrapError> {
    if keys.is_empty() {
        return Err(BootstrapError::Unavailable);
    }
    let verified = decode_bootstrap(token, policy)?
        .verify_signature_async(keys, verifier)
        .await
        .map_err(BootstrapError::from_jwt)?;
    let claims = jwt::validate_claims(&verified, &policy.validation(), now)
        .map_err(BootstrapError::from_jwt)?;
    verify_bootstrap_claims(&claims, policy, now, revoked)
}
