//! JSON Web Keys (RFC 7517) and JWKS documents, read strictly but tolerantly:
//! a bad document is refused whole, a bad key inside a good document is
//! skipped (with a reason, for logs) and the others are used.
//!
//! A key is **ignored** when:
//! - `use` is present and is not `sig`, or `key_ops` is present without `verify`;
//! - `alg` is present and contradicts the key type (RSA must be `RS256`, EC
//!   `ES256`, OKP `EdDSA`);
//! - `kty` is not `RSA`, `EC` or `OKP` (symmetric `oct` keys are never taken
//!   from a published document), or the curve is not P-256 / Ed25519;
//! - it carries private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`):
//!   a published private key is compromised;
//! - its material fails [`VerificationKey`]'s checks;
//! - the set already has [`MAX_JWKS_KEYS`] usable keys.
//!
//! `x5c`, `x5u`, `x5t` members are ignored (no certificate path is built).

use super::encoding::{b64url_decode, parse_json, JsonError};
use super::key::{KeyError, VerificationKey};
use super::key_set::KeySet;
use serde_json::{Map, Value};

/// The largest JWKS document read, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// The most usable keys kept from one JWKS document.
pub const MAX_JWKS_KEYS: usize = 32;

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// One JWK's members that matter for verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwk {
    /// `kty`.
    pub kty: String,
    /// `use`.
    pub key_use: Option<String>,
    /// `key_ops`.
    pub key_ops: Option<Vec<String>>,
    /// `alg`.
    pub alg: Option<String>,
    /// `kid`.
    pub kid: Option<String>,
    /// `crv` (EC, OKP).
    pub crv: Option<String>,
    /// `n` (RSA), base64url.
    pub n: Option<String>,
    /// `e` (RSA), base64url.
    pub e: Option<String>,
    /// `x` (EC, OKP), base64url.
    pub x: Option<String>,
    /// `y` (EC), base64url.
    pub y: Option<String>,
    /// Whether any private member is present.
    pub has_private_members: bool,
}

impl Jwk {
    /// Reads a JWK from a JSON object. Members of the wrong type make the key
    /// [`KeyError::Malformed`]; unknown members are ignored.
    pub fn from_json(obj: &Map<String, Value>) -> Result<Self, KeyError> {
        let s = |name: &str| -> Result<Option<String>, KeyError> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(v)) => Ok(Some(v.clone())),
                Some(_) => Err(KeyError::Malformed),
            }
        };
        let key_ops = match obj.get("key_ops") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned).ok_or(KeyError::Malformed))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(KeyError::Malformed),
        };
        Ok(Self {
            kty: s("kty")?.ok_or(KeyError::MissingMember)?,
            key_use: s("use")?,
            key_ops,
            alg: s("alg")?,
            kid: s("kid")?,
            crv: s("crv")?,
            n: s("n")?,
            e: s("e")?,
            x: s("x")?,
            y: s("y")?,
            has_private_members: PRIVATE_MEMBERS.iter().any(|m| obj.contains_key(*m)),
        })
    }

    /// Reads one JWK document (strict JSON, duplicates refused).
    pub fn parse(document: &[u8]) -> Result<Self, KeyError> {
        match parse_json(document) {
            Ok(Value::Object(obj)) => Self::from_json(&obj),
            _ => Err(KeyError::Malformed),
        }
    }

    /// The verification key this JWK describes, or why it is ignored (see
    /// the module docs).
    pub fn to_key(&self) -> Result<VerificationKey, KeyError> {
        if self.key_use.as_deref().is_some_and(|u| u != "sig") {
            return Err(KeyError::NotForSignatures);
        }
        if self
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|o| o == "verify"))
        {
            return Err(KeyError::NoVerifyOperation);
        }
        if !matches!(self.kty.as_str(), "RSA" | "EC" | "OKP") {
            return Err(KeyError::UnsupportedKeyType);
        }
        if self.has_private_members {
            return Err(KeyError::PrivateMaterial);
        }
        let alg_is = |expected: &str| match self.alg.as_deref() {
            None => Ok(()),
            Some(a) if a == expected => Ok(()),
            Some(_) => Err(KeyError::AlgContradictsKeyType),
        };
        let member = |v: &Option<String>| -> Result<Vec<u8>, KeyError> {
            let text = v.as_deref().ok_or(KeyError::MissingMember)?;
            b64url_decode(text).ok_or(KeyError::BadEncoding)
        };
        let key = match self.kty.as_str() {
            "RSA" => {
                alg_is("RS256")?;
                VerificationKey::rsa(&member(&self.n)?, &member(&self.e)?)?
            }
            "EC" => {
                alg_is("ES256")?;
                match self.crv.as_deref() {
                    None => return Err(KeyError::MissingMember),
                    Some("P-256") => {}
                    Some(_) => return Err(KeyError::UnsupportedCurve),
                }
                VerificationKey::p256(&member(&self.x)?, &member(&self.y)?)?
            }
            "OKP" => {
                alg_is("EdDSA")?;
                match self.crv.as_deref() {
                    None => return Err(KeyError::MissingMember),
                    Some("Ed25519") => {}
                    Some(_) => return Err(KeyError::UnsupportedCurve),
                }
                VerificationKey::ed25519(&member(&self.x)?)?
            }
            _ => return Err(KeyError::UnsupportedKeyType),
        };
        Ok(match &self.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }
}

/// Why a JWKS document was refused as a whole (the cached keys stay in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwksError {
    /// Larger than [`MAX_JWKS_BYTES`].
    TooLarge,
    /// Not a JSON object.
    InvalidJson,
    /// Some JSON object repeats a member name.
    DuplicateKey,
    /// No `keys` array.
    MissingKeys,
}

impl JwksError {
    /// A short, fixed reason, for logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooLarge => "JWKS document is too large",
            Self::InvalidJson => "JWKS document is not a JSON object",
            Self::DuplicateKey => "JWKS document has a duplicate member",
            Self::MissingKeys => "JWKS document has no keys array",
        }
    }
}

impl std::fmt::Display for JwksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for JwksError {}

/// A key that was skipped, with why (for logs; kids are the IdP's, not the
/// caller's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredJwk {
    /// Position in the document's `keys` array.
    pub index: usize,
    /// Its `kid`, if it had a readable one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub reason: KeyError,
}

/// A parsed JWKS document: the usable keys and the skipped ones.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: KeySet,
    ignored: Vec<IgnoredJwk>,
}

impl JwkSet {
    /// Reads a JWKS document `{"keys": [...]}` (see the module docs).
    pub fn parse(document: &[u8]) -> Result<Self, JwksError> {
        if document.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge);
        }
        let root = match parse_json(document) {
            Ok(Value::Object(root)) => root,
            Ok(_) | Err(JsonError::Invalid) => return Err(JwksError::InvalidJson),
            Err(JsonError::DuplicateKey) => return Err(JwksError::DuplicateKey),
        };
        let Some(Value::Array(entries)) = root.get("keys") else {
            return Err(JwksError::MissingKeys);
        };
        let mut set = JwkSet::default();
        for (index, entry) in entries.iter().enumerate() {
            let parsed = match entry {
                Value::Object(obj) => Jwk::from_json(obj),
                _ => Err(KeyError::Malformed),
            };
            let kid = parsed.as_ref().ok().and_then(|j| j.kid.clone());
            let key = parsed.and_then(|jwk| {
                if set.keys.len() >= MAX_JWKS_KEYS {
                    return Err(KeyError::TooManyKeys);
                }
                jwk.to_key()
            });
            match key {
                Ok(key) => set.keys.push(key),
                Err(reason) => set.ignored.push(IgnoredJwk { index, kid, reason }),
            }
        }
        Ok(set)
    }

    /// The usable keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The usable keys, by value.
    pub fn into_keys(self) -> KeySet {
        self.keys
    }

    /// The skipped keys and why.
    pub fn ignored(&self) -> &[IgnoredJwk] {
        &self.ignored
    }
}
