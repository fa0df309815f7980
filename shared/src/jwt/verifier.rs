//! The signature seam: one trait the token logic calls, implemented natively
//! by `RustCryptoVerifier` (feature `dev`) and in the Worker by a WebCrypto
//! verifier (SPEC §3a) that takes HS256 from [`HmacVerifier`], so the same
//! vectors and tests run against both.
//!
//! What `RustCryptoVerifier` accepts, per algorithm (HS256 is
//! [`HmacVerifier`]'s, in every build):
//! - **RS256**: RSASSA-PKCS1-v1_5 with SHA-256 (`rsa`); the signature must be
//!   exactly the modulus length; the DigestInfo must be the exact DER encoding
//!   (no BER variants, no missing `NULL`).
//! - **ES256**: exactly 64 bytes `r || s` (IEEE P1363, RFC 7518 §3.4; no DER);
//!   `r` or `s` equal to 0 or ≥ n is refused (`p256`). Both low-S and high-S
//!   signatures are accepted, as Wycheproof marks high-S valid and as
//!   WebCrypto does: ECDSA is malleable and nothing here depends on a
//!   signature being unique (replay defence uses `jti`, never the signature).
//! - **EdDSA**: Ed25519 with `verify_strict` (canonical `S < L`, small-order
//!   `R` and keys refused, cofactorless equation).
//! - **HS256**: HMAC-SHA-256, full 32-byte tag only (truncated tags refused),
//!   compared in constant time.

use super::key::Material;
use super::{Algorithm, VerificationKey};
use crate::secret::constant_time_eq;

/// Why a signature check did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify (or has the wrong length or encoding).
    Invalid,
    /// The algorithm is not the one bound to the key; nothing was checked.
    KeyMismatch,
    /// The verifier could not run (e.g. WebCrypto threw). Fail closed.
    Backend,
}

/// A synchronous signature verifier.
pub trait SignatureVerifier {
    /// Checks `signature` over `signing_input` (`base64url(header) "."
    /// base64url(payload)`) with `key` under `alg`. Implementations must
    /// refuse with [`SignatureError::KeyMismatch`] when
    /// `alg != key.algorithm()`.
    fn verify(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError>;
}

/// An asynchronous signature verifier (the Worker's WebCrypto path). Every
/// [`SignatureVerifier`] is one too.
#[allow(async_fn_in_trait)] // used on one thread (wasm); no Send bound wanted
pub trait AsyncSignatureVerifier {
    /// As [`SignatureVerifier::verify`].
    async fn verify_async(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError>;
}

impl<T: SignatureVerifier + ?Sized> AsyncSignatureVerifier for T {
    async fn verify_async(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        self.verify(alg, key, signing_input, signature)
    }
}

/// HS256 only (HMAC-SHA-256 with `hmac` and `sha2`): the verifier the Worker
/// uses for shared-secret tokens in every build. Any other key is a
/// [`SignatureError::KeyMismatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HmacVerifier;

impl SignatureVerifier for HmacVerifier {
    fn verify(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match key.material() {
            Material::Hmac(secret) if alg == Algorithm::Hs256 => {
                if verify_hs256(secret, signing_input, signature) {
                    Ok(())
                } else {
                    Err(SignatureError::Invalid)
                }
            }
            _ => Err(SignatureError::KeyMismatch),
        }
    }
}

/// The pure-Rust verifier: `rsa`, `p256`, `ed25519-dalek`, `hmac` (see the
/// module docs for exactly what it accepts). Development and tests only
/// (feature `dev`).
#[cfg(feature = "dev")]
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoVerifier;

#[cfg(feature = "dev")]
impl SignatureVerifier for RustCryptoVerifier {
    fn verify(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if alg != key.algorithm() {
            return Err(SignatureError::KeyMismatch);
        }
        let ok = match key.material() {
            Material::Rsa { key, .. } => verify_rs256(key, signing_input, signature),
            Material::P256 { key } => verify_es256(key, signing_input, signature),
            Material::Ed25519 { key } => verify_eddsa(key, signing_input, signature),
            Material::Hmac(secret) => verify_hs256(secret, signing_input, signature),
        };
        if ok {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

#[cfg(feature = "dev")]
fn verify_rs256(key: &rsa::RsaPublicKey, input: &[u8], signature: &[u8]) -> bool {
    use rsa::signature::Verifier;
    use rsa::traits::PublicKeyParts;
    if signature.len() != key.size() {
        return false;
    }
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
        .verify(input, &sig)
        .is_ok()
}

#[cfg(feature = "dev")]
fn verify_es256(key: &p256::ecdsa::VerifyingKey, input: &[u8], signature: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier;
    if signature.len() != 64 {
        return false;
    }
    // from_slice refuses r or s equal to zero or not below the group order.
    let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else {
        return false;
    };
    key.verify(input, &sig).is_ok()
}

#[cfg(feature = "dev")]
fn verify_eddsa(key: &ed25519_dalek::VerifyingKey, input: &[u8], signature: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    let sig = ed25519_dalek::Signature::from_bytes(&bytes);
    key.verify_strict(input, &sig).is_ok()
}

fn verify_hs256(secret: &[u8], input: &[u8], tag: &[u8]) -> bool {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(input);
    let expected = mac.finalize().into_bytes();
    constant_time_eq(&expected, tag)
}

#[cfg(all(test, feature = "dev"))]
mod tests {
    use super::*;

    #[test]
    fn refuses_an_algorithm_not_bound_to_the_key() {
        let k = VerificationKey::hmac(&[3; 32]).unwrap();
        for alg in [Algorithm::Rs256, Algorithm::Es256, Algorithm::EdDsa] {
            assert_eq!(
                RustCryptoVerifier.verify(alg, &k, b"x", &[0; 64]),
                Err(SignatureError::KeyMismatch)
            );
        }
    }

    #[test]
    fn hs256_needs_the_full_tag() {
        use hmac::{Hmac, Mac};
        let secret = [5u8; 32];
        let k = VerificationKey::hmac(&secret).unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
        mac.update(b"input");
        let tag = mac.finalize().into_bytes();
        let verifiers: [&dyn SignatureVerifier; 2] = [&RustCryptoVerifier, &HmacVerifier];
        for v in verifiers {
            assert!(v.verify(Algorithm::Hs256, &k, b"input", &tag).is_ok());
            assert_eq!(
                v.verify(Algorithm::Hs256, &k, b"input", &tag[..16]),
                Err(SignatureError::Invalid)
            );
            assert_eq!(
                v.verify(Algorithm::Hs256, &k, b"inpuT", &tag),
                Err(SignatureError::Invalid)
            );
        }
    }

    #[test]
    fn the_hmac_verifier_takes_only_hmac_keys() {
        let ed = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let k = VerificationKey::ed25519(ed.verifying_key().as_bytes()).unwrap();
        for alg in [Algorithm::Hs256, Algorithm::EdDsa] {
            assert_eq!(
                HmacVerifier.verify(alg, &k, b"x", &[0; 64]),
                Err(SignatureError::KeyMismatch)
            );
        }
        let h = VerificationKey::hmac(&[3; 32]).unwrap();
        assert_eq!(
            HmacVerifier.verify(Algorithm::Rs256, &h, b"x", &[0; 32]),
            Err(SignatureError::KeyMismatch)
        );
    }
}
