//! Compact JWS parsing and the two-phase verification flow.
//!
//! 1. [`decode`]: size limit, compact form, strict base64url and JSON, header
//!    checks, algorithm allowlist (first check). Nothing is trusted yet.
//! 2. [`DecodedToken::verify_signature`] (sync) or
//!    [`DecodedToken::verify_signature_async`] (e.g. WebCrypto): key selection
//!    from the configured set only, algorithm bound to the key and allowlisted
//!    again (second check), signature length checked against the key (so every
//!    verifier sees only well-sized signatures), signature checked by the
//!    verifier.
//! 3. [`validate_claims`](super::validate_claims): `exp`/`nbf`/`iat`/`iss`/
//!    `aud`/`sub` at the injected `now` (allowlist checked a third time).
//!
//! [`verify_token`] and [`verify_token_async`] run all three.

use super::encoding::{b64url_decode, parse_json_object, JsonError};
use super::{
    validate_claims, Algorithm, AsyncSignatureVerifier, Header, JwtError, KeySelection, KeySet,
    SignatureError, SignatureVerifier, Validation, VerificationKey, VerifiedClaims,
};
use serde_json::{Map, Value};
use std::fmt;

/// The largest token accepted, in bytes (SPEC §3 item 4).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A parsed, header-checked, **unverified** token.
#[derive(Clone)]
pub struct DecodedToken {
    header: Header,
    claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
    allowed: Vec<Algorithm>,
}

/// A token whose signature verified with a configured key bound to its
/// algorithm; its claims are not checked yet (see
/// [`validate_claims`](super::validate_claims)).
#[derive(Clone)]
pub struct VerifiedToken {
    header: Header,
    claims: Map<String, Value>,
    key_id: Option<String>,
}

/// Parses a compact JWS and checks its header against `policy` (step 1).
///
/// Refused, in this order: longer than [`MAX_TOKEN_BYTES`]; JWS JSON
/// serialization (starts with `{`); not three `.`-separated segments; empty
/// header or payload segment; header not unpadded base64url, not a JSON
/// object, or with duplicate members; the rules of [`Header`] (so an
/// unsecured `alg: none` token is reported as such even with its empty
/// signature); `alg` not in the allowlist; empty signature segment; payload or
/// signature not unpadded base64url; claims not a JSON object or with
/// duplicate members.
pub fn decode(token: &str, policy: &Validation) -> Result<DecodedToken, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::TooLarge);
    }
    if token.trim_start().starts_with('{') {
        return Err(JwtError::JsonSerialization);
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    if h64.is_empty() || p64.is_empty() {
        return Err(JwtError::Malformed);
    }
    let header_bytes = b64url_decode(h64).ok_or(JwtError::BadEncoding)?;
    let header = Header::from_json(json_object(&header_bytes)?)?;
    if !policy.allows(header.alg()) {
        return Err(JwtError::AlgorithmNotAllowed);
    }
    if s64.is_empty() {
        return Err(JwtError::Malformed);
    }
    let payload = b64url_decode(p64).ok_or(JwtError::BadEncoding)?;
    let signature = b64url_decode(s64).ok_or(JwtError::BadEncoding)?;
    let claims = json_object(&payload)?;
    Ok(DecodedToken {
        header,
        claims,
        signing_input: format!("{h64}.{p64}"),
        signature,
        allowed: policy.algorithms().to_vec(),
    })
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, JwtError> {
    parse_json_object(bytes).map_err(|e| match e {
        JsonError::DuplicateKey => JwtError::DuplicateKey,
        JsonError::Invalid => JwtError::BadJson,
    })
}

impl DecodedToken {
    /// The checked header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The algorithm the header names (allowlisted, not yet matched to a key).
    pub fn algorithm(&self) -> Algorithm {
        self.header.alg()
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid()
    }

    /// The bytes the signature covers: `base64url(header) "." base64url(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The unverified claims: for diagnostics only, never for decisions.
    pub fn unverified_claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The configured keys this token may be checked with (see
    /// [`KeySet::select`]); a worker may use it to pre-import keys.
    pub fn select_keys<'k>(&self, keys: &'k KeySet) -> Result<KeySelection<'k>, JwtError> {
        if !self.allowed.contains(&self.algorithm()) {
            return Err(JwtError::AlgorithmNotAllowed);
        }
        let selection = keys.select(self.algorithm(), self.kid())?;
        // Second check: every candidate is bound to the header's algorithm.
        if selection
            .candidates
            .iter()
            .any(|k| k.algorithm() != self.algorithm())
        {
            return Err(JwtError::AlgorithmMismatch);
        }
        Ok(selection)
    }

    /// Step 2 with a synchronous verifier: tries each candidate key in order.
    pub fn verify_signature<V: SignatureVerifier + ?Sized>(
        self,
        keys: &KeySet,
        verifier: &V,
    ) -> Result<VerifiedToken, JwtError> {
        let selection = self.select_keys(keys)?;
        let mut outcome = Outcome::default();
        for key in &selection.candidates {
            let result = if self.signature.len() != key.signature_len() {
                Err(SignatureError::Invalid)
            } else {
                verifier.verify(
                    self.algorithm(),
                    key,
                    self.signing_input(),
                    self.signature(),
                )
            };
            if outcome.record(key, result) {
                break;
            }
        }
        let kid_unknown = selection.kid_unknown;
        outcome.finish(self, kid_unknown)
    }

    /// Step 2 with an asynchronous verifier (WebCrypto in the Worker).
    pub async fn verify_signature_async<V: AsyncSignatureVerifier + ?Sized>(
        self,
        keys: &KeySet,
        verifier: &V,
    ) -> Result<VerifiedToken, JwtError> {
        let selection = self.select_keys(keys)?;
        let mut outcome = Outcome::default();
        for key in &selection.candidates {
            let result = if self.signature.len() != key.signature_len() {
                Err(SignatureError::Invalid)
            } else {
                verifier
                    .verify_async(
                        self.algorithm(),
                        key,
                        self.signing_input(),
                        self.signature(),
                    )
                    .await
            };
            if outcome.record(key, result) {
                break;
            }
        }
        let kid_unknown = selection.kid_unknown;
        outcome.finish(self, kid_unknown)
    }
}

/// The fold over candidate keys shared by the sync and async paths.
#[derive(Default)]
struct Outcome {
    verified_by: Option<(Algorithm, Option<String>)>,
    backend_failed: bool,
}

impl Outcome {
    /// Records one attempt; `true` once a key has verified the signature.
    fn record(&mut self, key: &VerificationKey, result: Result<(), SignatureError>) -> bool {
        match result {
            Ok(()) => {
                self.verified_by = Some((key.algorithm(), key.kid().map(str::to_owned)));
                true
            }
            Err(SignatureError::Backend) => {
                self.backend_failed = true;
                false
            }
            Err(_) => false,
        }
    }

    fn finish(self, token: DecodedToken, kid_unknown: bool) -> Result<VerifiedToken, JwtError> {
        match self.verified_by {
            Some((alg, key_id)) if alg == token.algorithm() => Ok(VerifiedToken {
                header: token.header,
                claims: token.claims,
                key_id,
            }),
            Some(_) => Err(JwtError::AlgorithmMismatch),
            None if self.backend_failed => Err(JwtError::VerifierFailed),
            None if kid_unknown => Err(JwtError::UnknownKid),
            None => Err(JwtError::BadSignature),
        }
    }
}

impl VerifiedToken {
    /// The checked header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The algorithm the signature was verified with.
    pub fn algorithm(&self) -> Algorithm {
        self.header.alg()
    }

    /// The `kid` of the key that verified the signature, if it has one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The signed claims (registered claims not yet validated).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
}

impl fmt::Debug for DecodedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedToken")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("alg", &self.algorithm())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Decodes, verifies the signature with a synchronous verifier and validates
/// the claims at `now` (unix seconds).
pub fn verify_token<V: SignatureVerifier + ?Sized>(
    token: &str,
    keys: &KeySet,
    policy: &Validation,
    verifier: &V,
    now: u64,
) -> Result<VerifiedClaims, JwtError> {
    let verified = decode(token, policy)?.verify_signature(keys, verifier)?;
    validate_claims(&verified, policy, now)
}

/// [`verify_token`] with an asynchronous verifier.
pub async fn verify_token_async<V: AsyncSignatureVerifier + ?Sized>(
    token: &str,
    keys: &KeySet,
    policy: &Validation,
    verifier: &V,
    now: u64,
) -> Result<VerifiedClaims, JwtError> {
    let verified = decode(token, policy)?
        .verify_signature_async(keys, verifier)
        .await?;
    validate_claims(&verified, policy, now)
}
