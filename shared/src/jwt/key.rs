//! Verification keys, each bound to exactly one algorithm by its type.
//!
//! The binding (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA, shared secret →
//! HS256) is fixed when the key is built, so the token header can never pick
//! a different algorithm for a key (no HMAC with a public key, no RSA/EC
//! confusion). Key material is validated on construction, so a broken key is
//! dropped when the JWKS is read, not at verification time:
//!
//! - RSA: modulus 2048..=4096 bits and odd; exponent odd, ≥ 3 and ≤ 2³³−1
//!   (the `rsa` crate's cap). Leading zero octets of `n`/`e` are tolerated.
//! - P-256: `x` and `y` exactly 32 bytes each, each below the field prime, a
//!   point on the curve (an affine point is never the identity).
//!
//! These checks are written here rather than left to the `rsa` and `p256`
//! crates, which only the pure-Rust verifier (feature `dev`) links: the
//! production module verifies RS256/ES256 through WebCrypto and must refuse
//! the same keys without them (the native tests build both and compare).
//! - Ed25519: 32 bytes that decode to a point that is not of small order.
//! - Shared secret: at least 32 bytes (RFC 7518 §3.2, SPEC §3 `JWT_SECRET`).

use super::encoding::b64url_encode;
use super::Algorithm;
use crate::secret::Secret;
use std::fmt;
use std::sync::Arc;

/// The smallest accepted RSA modulus, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// The largest accepted RSA modulus, in bits.
pub const MAX_RSA_BITS: usize = 4096;
/// The shortest accepted HS256 secret, in bytes.
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

/// Why key material was not accepted (a JWK is then ignored, a secret refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyError {
    /// RSA modulus shorter than [`MIN_RSA_BITS`].
    RsaTooSmall,
    /// RSA modulus longer than [`MAX_RSA_BITS`].
    RsaTooLarge,
    /// RSA modulus or exponent unusable (even, exponent < 3, too large).
    RsaInvalid,
    /// Not a P-256 point (wrong length, off the curve, identity).
    EcInvalid,
    /// Not an Ed25519 point.
    Ed25519Invalid,
    /// An Ed25519 point of small order.
    Ed25519Weak,
    /// Shared secret shorter than [`MIN_HMAC_SECRET_BYTES`].
    SecretTooShort,
    /// JWK `use` is present and not `sig`.
    NotForSignatures,
    /// JWK `key_ops` is present and lacks `verify`.
    NoVerifyOperation,
    /// JWK `alg` contradicts the key type.
    AlgContradictsKeyType,
    /// JWK `kty` is not RSA, EC or OKP (symmetric `oct` keys are never taken
    /// from a JWKS).
    UnsupportedKeyType,
    /// JWK curve is not P-256 (EC) or Ed25519 (OKP).
    UnsupportedCurve,
    /// A required JWK member is missing or not a string.
    MissingMember,
    /// A JWK member is not unpadded base64url.
    BadEncoding,
    /// The JWK carries private key material; a published private key is
    /// compromised, so it is not trusted.
    PrivateMaterial,
    /// The JWK is not an object of the expected shape.
    Malformed,
    /// The set already holds the maximum number of keys.
    TooManyKeys,
}

impl KeyError {
    /// A short, fixed reason, for logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::RsaTooSmall => "RSA modulus is shorter than 2048 bits",
            Self::RsaTooLarge => "RSA modulus is longer than 4096 bits",
            Self::RsaInvalid => "RSA modulus or exponent is invalid",
            Self::EcInvalid => "not a valid P-256 public key",
            Self::Ed25519Invalid => "not a valid Ed25519 public key",
            Self::Ed25519Weak => "Ed25519 public key has small order",
            Self::SecretTooShort => "shared secret is shorter than 32 bytes",
            Self::NotForSignatures => "key use is not sig",
            Self::NoVerifyOperation => "key_ops does not allow verify",
            Self::AlgContradictsKeyType => "key alg contradicts its type",
            Self::UnsupportedKeyType => "key type is not supported",
            Self::UnsupportedCurve => "key curve is not supported",
            Self::MissingMember => "a required key member is missing",
            Self::BadEncoding => "a key member is not base64url",
            Self::PrivateMaterial => "key contains private material",
            Self::Malformed => "key is malformed",
            Self::TooManyKeys => "too many keys in the set",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for KeyError {}

/// The public members of an asymmetric key as canonical base64url strings
/// (minimal-length `n`/`e`), the form WebCrypto's `importKey("jwk", …)` takes.
/// Usable as a cache key for imported keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublicJwk {
    /// `kty: RSA`.
    Rsa { n: String, e: String },
    /// `kty: EC`, `crv: P-256`.
    P256 { x: String, y: String },
    /// `kty: OKP`, `crv: Ed25519`.
    Ed25519 { x: String },
}

/// The largest RSA public exponent accepted (the `rsa` crate's cap).
const MAX_RSA_EXPONENT: u64 = (1 << 33) - 1;

#[derive(Clone)]
pub(crate) enum Material {
    Rsa {
        /// The modulus length in bytes (= the signature length).
        size: usize,
        /// The parsed key, for the pure-Rust verifier.
        #[cfg(feature = "dev")]
        key: rsa::RsaPublicKey,
    },
    P256 {
        #[cfg(feature = "dev")]
        key: p256::ecdsa::VerifyingKey,
    },
    Ed25519 {
        #[cfg(feature = "dev")]
        key: ed25519_dalek::VerifyingKey,
    },
    Hmac(Vec<u8>),
}

#[derive(Clone)]
struct KeyInner {
    kid: Option<String>,
    material: Material,
    public: Option<PublicJwk>,
}

/// A key a token may be verified with, bound to one [`Algorithm`]. Cheap to
/// clone (shared). Its `Debug` never shows secret material.
#[derive(Clone)]
pub struct VerificationKey(Arc<KeyInner>);

impl VerificationKey {
    fn new(material: Material, public: Option<PublicJwk>) -> Self {
        Self(Arc::new(KeyInner {
            kid: None,
            material,
            public,
        }))
    }

    /// An RSA public key (RS256) from big-endian modulus and exponent bytes.
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = match n.first() {
            None => 0,
            Some(top) => n.len() * 8 - top.leading_zeros() as usize,
        };
        if bits < MIN_RSA_BITS {
            return Err(KeyError::RsaTooSmall);
        }
        if bits > MAX_RSA_BITS {
            return Err(KeyError::RsaTooLarge);
        }
        let odd = |v: &[u8]| v.last().is_some_and(|b| b & 1 == 1);
        let exponent = if e.len() <= 8 {
            e.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
        } else {
            u64::MAX
        };
        // e ≤ 2³³−1 < 2²⁰⁴⁷ ≤ n, so e < n as the `rsa` crate requires.
        if !odd(n) || !odd(e) || !(3..=MAX_RSA_EXPONENT).contains(&exponent) {
            return Err(KeyError::RsaInvalid);
        }
        let material = Material::Rsa {
            size: n.len(),
            #[cfg(feature = "dev")]
            key: rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(n),
                rsa::BigUint::from_bytes_be(e),
            )
            .map_err(|_| KeyError::RsaInvalid)?,
        };
        let public = PublicJwk::Rsa {
            n: b64url_encode(n),
            e: b64url_encode(e),
        };
        Ok(Self::new(material, Some(public)))
    }

    /// A P-256 public key (ES256) from its 32-byte affine coordinates.
    pub fn p256(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let (Ok(xa), Ok(ya)) = (<[u8; 32]>::try_from(x), <[u8; 32]>::try_from(y)) else {
            return Err(KeyError::EcInvalid);
        };
        if !super::p256_curve::is_on_curve(&xa, &ya) {
            return Err(KeyError::EcInvalid);
        }
        let material = Material::P256 {
            #[cfg(feature = "dev")]
            key: {
                let point =
                    p256::EncodedPoint::from_affine_coordinates(&xa.into(), &ya.into(), false);
                p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .map_err(|_| KeyError::EcInvalid)?
            },
        };
        let public = PublicJwk::P256 {
            x: b64url_encode(&xa),
            y: b64url_encode(&ya),
        };
        Ok(Self::new(material, Some(public)))
    }

    /// An Ed25519 public key (EdDSA) from its 32-byte encoding.
    pub fn ed25519(x: &[u8]) -> Result<Self, KeyError> {
        let xa = <[u8; 32]>::try_from(x).map_err(|_| KeyError::Ed25519Invalid)?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(&xa).map_err(|_| KeyError::Ed25519Invalid)?;
        if key.is_weak() {
            return Err(KeyError::Ed25519Weak);
        }
        let public = PublicJwk::Ed25519 {
            x: b64url_encode(&xa),
        };
        #[cfg(not(feature = "dev"))]
        let _ = key;
        let material = Material::Ed25519 {
            #[cfg(feature = "dev")]
            key,
        };
        Ok(Self::new(material, Some(public)))
    }

    /// A shared secret (HS256) of at least [`MIN_HMAC_SECRET_BYTES`] bytes.
    /// Such a key has no `kid` by default and then matches HS256 tokens
    /// whatever `kid` they carry.
    pub fn hmac(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_HMAC_SECRET_BYTES {
            return Err(KeyError::SecretTooShort);
        }
        Ok(Self::new(Material::Hmac(secret.to_vec()), None))
    }

    /// The HS256 key for a configured secret (its UTF-8 bytes, e.g. `JWT_SECRET`).
    pub fn from_secret(secret: &Secret) -> Result<Self, KeyError> {
        Self::hmac(secret.expose().as_bytes())
    }

    /// The same key with a key id.
    pub fn with_kid(self, kid: impl Into<String>) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.0);
        inner.kid = Some(kid.into());
        Self(Arc::new(inner))
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.0.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self.0.material {
            Material::Rsa { .. } => Algorithm::Rs256,
            Material::P256 { .. } => Algorithm::Es256,
            Material::Ed25519 { .. } => Algorithm::EdDsa,
            Material::Hmac(_) => Algorithm::Hs256,
        }
    }

    /// The public members (for WebCrypto import); `None` for a shared secret.
    pub fn public_jwk(&self) -> Option<&PublicJwk> {
        self.0.public.as_ref()
    }

    /// The shared secret's bytes, for a [`SignatureVerifier`](super::SignatureVerifier)
    /// implementation; `None` for public keys.
    pub fn hmac_secret(&self) -> Option<&[u8]> {
        match &self.0.material {
            Material::Hmac(secret) => Some(secret),
            _ => None,
        }
    }

    /// The exact signature length this key's algorithm produces: the modulus
    /// length for RS256, 64 for ES256 (P1363 `r || s`) and EdDSA, 32 for HS256.
    /// The token flow refuses other lengths before calling any verifier.
    pub fn signature_len(&self) -> usize {
        match &self.0.material {
            Material::Rsa { size, .. } => *size,
            Material::P256 { .. } | Material::Ed25519 { .. } => 64,
            Material::Hmac(_) => 32,
        }
    }

    pub(crate) fn material(&self) -> &Material {
        &self.0.material
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed(seed: u8) -> VerificationKey {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        VerificationKey::ed25519(sk.verifying_key().as_bytes()).unwrap()
    }

    #[test]
    fn secrets_must_be_long_enough() {
        assert_eq!(
            VerificationKey::hmac(&[1; 31]).unwrap_err(),
            KeyError::SecretTooShort
        );
        let k = VerificationKey::hmac(&[1; 32]).unwrap();
        assert_eq!(k.algorithm(), Algorithm::Hs256);
        assert!(k.public_jwk().is_none());
        assert!(!format!("{k:?}").contains("1, 1"));
    }

    #[test]
    fn rsa_bounds() {
        let mut n = vec![0xffu8; 256];
        n[255] = 0xfd;
        assert!(VerificationKey::rsa(&n, &[1, 0, 1]).is_ok());
        assert_eq!(
            VerificationKey::rsa(&n[1..], &[1, 0, 1]).unwrap_err(),
            KeyError::RsaTooSmall
        );
        assert_eq!(
            VerificationKey::rsa(&[0xff; 513], &[1, 0, 1]).unwrap_err(),
            KeyError::RsaTooLarge
        );
        let mut even = n.clone();
        even[255] = 0xfe;
        assert_eq!(
            VerificationKey::rsa(&even, &[1, 0, 1]).unwrap_err(),
            KeyError::RsaInvalid
        );
        assert_eq!(
            VerificationKey::rsa(&n, &[1]).unwrap_err(),
            KeyError::RsaInvalid
        );
        assert_eq!(
            VerificationKey::rsa(&n, &[2]).unwrap_err(),
            KeyError::RsaInvalid
        );
        // The exponent cap, 2³³−1, as the `rsa` crate's.
        assert!(VerificationKey::rsa(&n, &[1, 0xff, 0xff, 0xff, 0xff]).is_ok());
        for e in [&[3, 0, 0, 0, 1][..], &[1, 0, 0, 0, 0, 0, 0, 0, 0, 1]] {
            assert_eq!(
                VerificationKey::rsa(&n, e).unwrap_err(),
                KeyError::RsaInvalid
            );
        }
        let mut padded = vec![0u8];
        padded.extend_from_slice(&n);
        let k = VerificationKey::rsa(&padded, &[0, 1, 0, 1]).unwrap();
        assert_eq!(k.signature_len(), 256);
        match k.public_jwk() {
            Some(PublicJwk::Rsa { e, n: enc }) => {
                assert_eq!(e, "AQAB");
                assert_eq!(enc.len(), 342, "minimal-length modulus");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn p256_and_ed25519_validation() {
        assert_eq!(
            VerificationKey::p256(&[1; 32], &[2; 32]).unwrap_err(),
            KeyError::EcInvalid
        );
        assert_eq!(
            VerificationKey::p256(&[1; 31], &[2; 32]).unwrap_err(),
            KeyError::EcInvalid
        );
        // The identity point (y = 1, x = 0) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            VerificationKey::ed25519(&identity).unwrap_err(),
            KeyError::Ed25519Weak
        );
        assert_eq!(
            VerificationKey::ed25519(&[1; 31]).unwrap_err(),
            KeyError::Ed25519Invalid
        );
        assert_eq!(ed(7).algorithm(), Algorithm::EdDsa);
    }
}
