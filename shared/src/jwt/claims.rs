//! Registered-claim checks against the policy and an injected `now`.
//!
//! - `exp` is required: refused when `now >= exp + leeway`.
//! - `nbf`, when present: refused when `nbf > now + leeway`.
//! - `iat`, when present: refused when `iat > now + leeway` (issued in the future).
//! - `iss`: with a whitelist, must be present and equal one entry exactly.
//! - `aud`: with a required audience, must be that string or an array containing it.
//! - `sub`: when the policy requires it, a non-empty string.
//!
//! NumericDates are JSON numbers ≥ 0 (fractions are truncated); any other
//! type for a registered claim is [`JwtError::InvalidClaim`].

use super::token::VerifiedToken;
use super::{Algorithm, JwtError, Validation};
use serde_json::{Map, Value};
use std::fmt;

/// The claims of a token whose signature, algorithm binding and registered
/// claims have all been checked. Only this crate constructs it.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerifiedClaims {
    /// `sub` (present and non-empty when the policy requires it).
    pub sub: Option<String>,
    /// `iss`.
    pub iss: Option<String>,
    /// `aud`, normalised to a list (empty when absent).
    pub aud: Vec<String>,
    /// `exp`, unix seconds.
    pub exp: u64,
    /// `iat`, unix seconds.
    pub iat: Option<u64>,
    /// `nbf`, unix seconds.
    pub nbf: Option<u64>,
    /// `jti`.
    pub jti: Option<String>,
    /// The algorithm the signature was verified with.
    pub alg: Algorithm,
    /// The `kid` of the key that verified it, if that key has one.
    pub kid: Option<String>,
    /// Every claim as sent (for application claims such as `scope`).
    pub raw: Map<String, Value>,
}

impl VerifiedClaims {
    /// A string claim from [`raw`](Self::raw).
    pub fn string(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Value::as_str)
    }
}

impl fmt::Debug for VerifiedClaims {
    // Claims are JWT bodies: never dumped whole into logs (SPEC §10).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedClaims")
            .field("iss", &self.iss)
            .field("exp", &self.exp)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Checks the registered claims of a signature-verified token against
/// `policy` at `now` (unix seconds). See the module docs for the rules.
pub fn validate_claims(
    token: &VerifiedToken,
    policy: &Validation,
    now: u64,
) -> Result<VerifiedClaims, JwtError> {
    // Third check of the allowlist: this policy may differ from decode's.
    if !policy.allows(token.algorithm()) {
        return Err(JwtError::AlgorithmNotAllowed);
    }
    let claims = token.claims();
    let exp = numeric_date(claims, "exp")?;
    let nbf = numeric_date(claims, "nbf")?;
    let iat = numeric_date(claims, "iat")?;
    let iss = string_claim(claims, "iss")?;
    let sub = string_claim(claims, "sub")?;
    let jti = string_claim(claims, "jti")?;
    let aud = audience(claims)?;

    let leeway = policy.leeway_secs();
    let exp = exp.ok_or(JwtError::MissingExp)?;
    if now >= exp.saturating_add(leeway) {
        return Err(JwtError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(JwtError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(JwtError::IssuedInFuture);
    }
    if !policy.issuers().is_empty()
        && !iss
            .as_deref()
            .is_some_and(|iss| policy.issuers().iter().any(|w| w == iss))
    {
        return Err(JwtError::WrongIssuer);
    }
    if let Some(required) = policy.audience() {
        if !aud.iter().any(|a| a == required) {
            return Err(JwtError::WrongAudience);
        }
    }
    if policy.requires_subject() && sub.as_deref().is_none_or(str::is_empty) {
        return Err(JwtError::MissingSubject);
    }
    Ok(VerifiedClaims {
        sub,
        iss,
        aud,
        exp,
        iat,
        nbf,
        jti,
        alg: token.algorithm(),
        kid: token.key_id().map(str::to_owned),
        raw: claims.clone(),
    })
}

/// A NumericDate claim: a JSON number ≥ 0, fractions truncated.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<u64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                return Ok(Some(v));
            }
            match n.as_f64() {
                // `as` saturates at u64::MAX for huge values.
                Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
                _ => Err(JwtError::InvalidClaim),
            }
        }
        Some(_) => Err(JwtError::InvalidClaim),
    }
}

pub(crate) fn string_claim(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::InvalidClaim),
    }
}

fn audience(claims: &Map<String, Value>) -> Result<Vec<String>, JwtError> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or(JwtError::InvalidClaim))
            .collect(),
        Some(_) => Err(JwtError::InvalidClaim),
    }
}
