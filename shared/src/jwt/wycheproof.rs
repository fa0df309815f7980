//! A Wycheproof vector runner generic over the verifier, so the pure-Rust
//! verifier (natively, in `cargo test`) and the Worker's WebCrypto verifier
//! (in the Worker, with the same files embedded) are held to the same
//! vectors. Sans-IO: the caller passes the file's text.
//!
//! Policy, checked per test case:
//! - `valid` → must be accepted;
//! - `invalid` → must be refused;
//! - `acceptable` → **must be refused**. Acceptable cases are legacy or
//!   edge-case encodings (in the files used here only RSA `MissingNull`, a
//!   DigestInfo without its `NULL`); a verifier for bearer tokens gains nothing
//!   by accepting them, and WebCrypto refuses them too;
//! - HMAC groups whose `tagSize` is below 256 bits: every case must be
//!   refused — a truncated tag is never a valid HS256 JWS signature;
//! - HMAC cases whose key is shorter than 32 bytes are skipped and listed:
//!   such a key cannot be configured (RFC 7518 §3.2; `JWT_SECRET` ≥ 32 bytes),
//!   and the runner checks that building it is refused;
//! - a group whose public key is refused by [`VerificationKey`]'s checks
//!   counts its cases as refused: a failure only if one of them is `valid`.
//!
//! A verifier answering [`SignatureError::Backend`] fails the case.

use super::encoding::b64url_encode;
use super::jwk::Jwk;
use super::{Algorithm, AsyncSignatureVerifier, KeyError, SignatureError, VerificationKey};
use serde_json::{Map, Value};

/// Which Wycheproof file format (and JWS algorithm) a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorKind {
    /// `rsa_signature_*_sha256_test.json` (RS256).
    RsaPkcs1Sha256,
    /// `ecdsa_secp256r1_sha256_p1363_test.json` (ES256).
    EcdsaP256Sha256P1363,
    /// `ed25519_test.json` (EdDSA).
    Ed25519,
    /// `hmac_sha256_test.json` (HS256).
    HmacSha256,
}

impl VectorKind {
    /// The JWS algorithm the vectors exercise.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::RsaPkcs1Sha256 => Algorithm::Rs256,
            Self::EcdsaP256Sha256P1363 => Algorithm::Es256,
            Self::Ed25519 => Algorithm::EdDsa,
            Self::HmacSha256 => Algorithm::Hs256,
        }
    }
}

/// A case that did not match the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorFailure {
    /// Wycheproof `tcId`.
    pub tc_id: u64,
    /// Wycheproof `result`.
    pub expected: String,
    /// Wycheproof `comment` and flags.
    pub comment: String,
    /// What the verifier did.
    pub got: String,
}

/// A case not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedVector {
    /// Wycheproof `tcId`.
    pub tc_id: u64,
    /// Why it was not run.
    pub reason: &'static str,
}

/// The outcome of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorReport {
    /// Cases in the file.
    pub total: usize,
    /// `valid` cases accepted.
    pub valid_accepted: usize,
    /// `invalid` cases refused.
    pub invalid_refused: usize,
    /// `acceptable` cases refused (the policy).
    pub acceptable_refused: usize,
    /// Truncated-tag HMAC cases refused (the policy), whatever their `result`.
    pub truncated_refused: usize,
    /// Cases not run.
    pub skipped: Vec<SkippedVector>,
    /// Cases that broke the policy.
    pub failures: Vec<VectorFailure>,
}

/// The vector file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorFileError(pub String);

impl std::fmt::Display for VectorFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable Wycheproof file: {}", self.0)
    }
}

impl std::error::Error for VectorFileError {}

fn shape(what: &str) -> VectorFileError {
    VectorFileError(what.to_owned())
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, VectorFileError> {
    obj.get(name)
        .ok_or_else(|| shape(&format!("missing {name}")))
}

fn hex_field(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, VectorFileError> {
    let text = field(obj, name)?
        .as_str()
        .ok_or_else(|| shape(&format!("{name} is not a string")))?;
    hex::decode(text).map_err(|_| shape(&format!("{name} is not hex")))
}

/// A fixed-width big-endian coordinate from Wycheproof's signed hex.
fn coordinate(hex_text: &[u8]) -> Option<Vec<u8>> {
    let start = hex_text
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(hex_text.len());
    let trimmed = &hex_text[start..];
    if trimmed.len() > 32 {
        return None;
    }
    let mut out = vec![0u8; 32 - trimmed.len()];
    out.extend_from_slice(trimmed);
    Some(out)
}

fn group_key(
    kind: VectorKind,
    group: &Map<String, Value>,
) -> Result<Result<VerificationKey, KeyError>, VectorFileError> {
    let jwk_member = match kind {
        VectorKind::RsaPkcs1Sha256 => "keyJwk",
        _ => "publicKeyJwk",
    };
    if let Some(Value::Object(jwk)) = group.get(jwk_member) {
        return Ok(Jwk::from_json(jwk).and_then(|j| j.to_key()));
    }
    // Some ECDSA groups only give the point's coordinates.
    let public = field(group, "publicKey")?
        .as_object()
        .ok_or_else(|| shape("publicKey is not an object"))?;
    match kind {
        VectorKind::EcdsaP256Sha256P1363 => {
            let (Some(x), Some(y)) = (
                coordinate(&hex_field(public, "wx")?),
                coordinate(&hex_field(public, "wy")?),
            ) else {
                return Ok(Err(KeyError::EcInvalid));
            };
            // Through the JWK path, as a JWKS key would arrive.
            let jwk = Jwk {
                kty: "EC".into(),
                crv: Some("P-256".into()),
                x: Some(b64url_encode(&x)),
                y: Some(b64url_encode(&y)),
                ..Jwk::default()
            };
            Ok(jwk.to_key())
        }
        _ => Err(shape("group has no JWK")),
    }
}

/// Runs every case of one Wycheproof file through `verifier` under the
/// module's policy.
pub async fn run_vectors<V: AsyncSignatureVerifier + ?Sized>(
    kind: VectorKind,
    file_text: &str,
    verifier: &V,
) -> Result<VectorReport, VectorFileError> {
    let root: Value = serde_json::from_str(file_text).map_err(|e| shape(&e.to_string()))?;
    let groups = root
        .get("testGroups")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("no testGroups"))?;
    let alg = kind.algorithm();
    let mut report = VectorReport::default();
    for group in groups {
        let group = group
            .as_object()
            .ok_or_else(|| shape("group is not an object"))?;
        let tests = field(group, "tests")?
            .as_array()
            .ok_or_else(|| shape("tests is not an array"))?;
        let truncated =
            kind == VectorKind::HmacSha256 && field(group, "tagSize")?.as_u64() != Some(256);
        let shared_key = match kind {
            VectorKind::HmacSha256 => None,
            _ => Some(group_key(kind, group)?),
        };
        for case in tests {
            let case = case
                .as_object()
                .ok_or_else(|| shape("test is not an object"))?;
            report.total += 1;
            let tc_id = field(case, "tcId")?.as_u64().ok_or_else(|| shape("tcId"))?;
            let expected = field(case, "result")?
                .as_str()
                .ok_or_else(|| shape("result"))?
                .to_owned();
            let msg = hex_field(case, "msg")?;
            let (key, sig) = match &shared_key {
                Some(key) => (key.clone(), hex_field(case, "sig")?),
                None => {
                    let raw_key = hex_field(case, "key")?;
                    let key = VerificationKey::hmac(&raw_key);
                    if raw_key.len() < 32 {
                        if key.is_ok() {
                            return Err(shape("a short HMAC key was accepted"));
                        }
                        report.skipped.push(SkippedVector {
                            tc_id,
                            reason: "HMAC key shorter than 32 bytes cannot be configured",
                        });
                        continue;
                    }
                    (key, hex_field(case, "tag")?)
                }
            };
            let outcome = match &key {
                Ok(key) => verifier.verify_async(alg, key, &msg, &sig).await,
                Err(_) => Err(SignatureError::Invalid),
            };
            let accepted = match outcome {
                Ok(()) => true,
                Err(SignatureError::Backend) => {
                    report
                        .failures
                        .push(failure(tc_id, &expected, case, "verifier failed to run"));
                    continue;
                }
                Err(_) => false,
            };
            let must_accept = expected == "valid" && !truncated;
            if accepted != must_accept {
                let got = match (&key, accepted) {
                    (Err(e), _) => format!("key refused: {e}"),
                    (_, true) => "accepted".to_owned(),
                    (_, false) => "refused".to_owned(),
                };
                report.failures.push(failure(tc_id, &expected, case, &got));
            } else if truncated {
                report.truncated_refused += 1;
            } else {
                match expected.as_str() {
                    "valid" => report.valid_accepted += 1,
                    "invalid" => report.invalid_refused += 1,
                    "acceptable" => report.acceptable_refused += 1,
                    _ => return Err(shape("unknown result")),
                }
            }
        }
    }
    Ok(report)
}

fn failure(tc_id: u64, expected: &str, case: &Map<String, Value>, got: &str) -> VectorFailure {
    let comment = case.get("comment").and_then(Value::as_str).unwrap_or("");
    let flags = case.get("flags").map(Value::to_string).unwrap_or_default();
    VectorFailure {
        tc_id,
        expected: expected.to_owned(),
        comment: format!("{comment} {flags}"),
        got: got.to_owned(),
    }
}
