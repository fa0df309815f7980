//! The worker's [`AsyncSignatureVerifier`]: RSA, EC and Ed25519 through
//! WebCrypto, HMAC in Rust (SPEC §3a). Used for external JWTs, bootstrap
//! tokens and the development verify route.

use super::webcrypto;
use agentgate_shared::jwt::{
    Algorithm, AsyncSignatureVerifier, HmacVerifier, PublicJwk, SignatureError, SignatureVerifier,
    VerificationKey,
};

/// RSA, EC and Ed25519 through WebCrypto; HMAC in Rust (SPEC §3a).
pub struct WorkerVerifier;

impl AsyncSignatureVerifier for WorkerVerifier {
    async fn verify_async(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        input: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        if alg != key.algorithm() {
            return Err(SignatureError::KeyMismatch);
        }
        // A signature of the wrong length is invalid, as for the pure-Rust
        // verifier. Checked here because workerd's Ed25519 verify throws on
        // one instead of answering false (found by the Wycheproof run in
        // workerd, tests/tests/wycheproof_workerd.rs).
        if sig.len() != key.signature_len() {
            return Err(SignatureError::Invalid);
        }
        let jwk = match (alg, key.public_jwk()) {
            (Algorithm::Hs256, _) => return HmacVerifier.verify(alg, key, input, sig),
            (Algorithm::Rs256, Some(jwk @ PublicJwk::Rsa { .. }))
            | (Algorithm::Es256, Some(jwk @ PublicJwk::P256 { .. }))
            | (Algorithm::EdDsa, Some(jwk @ PublicJwk::Ed25519 { .. })) => jwk,
            _ => return Err(SignatureError::KeyMismatch),
        };
        match webcrypto::verify(jwk, input, sig).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SignatureError::Invalid),
            Err(_) => Err(SignatureError::Backend),
        }
    }
}
