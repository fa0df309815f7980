//! Wycheproof vectors through the `SignatureVerifier` seam.
//!
//! Policy (see `agentgate_shared::jwt::wycheproof`): `valid` accepted,
//! `invalid` refused, `acceptable` REFUSED (only RSA `MissingNull` occurs
//! here); HMAC groups with truncated tags (< 256 bits) must be refused
//! entirely; HMAC keys under 32 bytes are not configurable and are skipped
//! (counted exactly below). The runner is generic over the verifier, so the
//! Worker's WebCrypto verifier is held to the same files.
//!
//! The files come from the `wycheproof` crate (a dev-dependency, pinned):
//! `rsa_signature_2048_sha256`, `ecdsa_secp256r1_sha256_p1363`, `ed25519`
//! and `hmac_sha256`.

mod jwt_support;

use agentgate_shared::jwt::wycheproof::{run_vectors, VectorKind, VectorReport};
use agentgate_shared::jwt::{
    Algorithm, RustCryptoVerifier, SignatureError, SignatureVerifier, VerificationKey,
};
use jwt_support::{block_on, wycheproof};

/// The verifiers shipped in `shared`; the Worker adds its own to its suite.
fn verifiers() -> Vec<(&'static str, Box<dyn SignatureVerifier>)> {
    vec![("RustCryptoVerifier", Box::new(RustCryptoVerifier))]
}

fn run(kind: VectorKind, verifier: &dyn SignatureVerifier) -> VectorReport {
    block_on(run_vectors(kind, wycheproof(kind), verifier)).expect("vector file is readable")
}

fn assert_clean(name: &str, kind: VectorKind, report: &VectorReport) {
    assert!(
        report.failures.is_empty(),
        "{name} broke the policy on {kind:?}: {:#?}",
        report.failures
    );
}

#[test]
fn rsa_pkcs1_2048_sha256() {
    for (name, verifier) in verifiers() {
        let kind = VectorKind::RsaPkcs1Sha256;
        let r = run(kind, verifier.as_ref());
        assert_clean(name, kind, &r);
        assert_eq!(r.total, 259);
        assert_eq!(r.valid_accepted, 9);
        assert_eq!(r.invalid_refused, 249);
        assert_eq!(r.acceptable_refused, 1, "MissingNull is refused by policy");
        assert!(r.skipped.is_empty());
    }
}

#[test]
fn ecdsa_p256_sha256_p1363() {
    for (name, verifier) in verifiers() {
        let kind = VectorKind::EcdsaP256Sha256P1363;
        let r = run(kind, verifier.as_ref());
        assert_clean(name, kind, &r);
        assert_eq!(r.total, 262);
        // Includes tcId 1, a high-S ("signature malleability") signature that
        // Wycheproof marks valid: high S is accepted.
        assert_eq!(r.valid_accepted, 173);
        assert_eq!(r.invalid_refused, 89);
        assert!(r.skipped.is_empty());
    }
}

#[test]
fn ed25519() {
    for (name, verifier) in verifiers() {
        let kind = VectorKind::Ed25519;
        let r = run(kind, verifier.as_ref());
        assert_clean(name, kind, &r);
        assert_eq!(r.total, 151);
        assert_eq!(r.valid_accepted, 88);
        assert_eq!(r.invalid_refused, 63);
        assert!(r.skipped.is_empty());
    }
}

#[test]
fn hmac_sha256() {
    for (name, verifier) in verifiers() {
        let kind = VectorKind::HmacSha256;
        let r = run(kind, verifier.as_ref());
        assert_clean(name, kind, &r);
        assert_eq!(r.total, 174);
        // 256-bit tags: 27 valid (32-byte keys) + 3 valid (65-byte keys).
        assert_eq!(r.valid_accepted, 30);
        assert_eq!(r.invalid_refused, 54);
        // 128-bit tags: 81 cases with 32-byte keys + 3 with 65-byte keys.
        assert_eq!(r.truncated_refused, 84);
        // 16-byte keys (3 with full, 3 with truncated tags): not configurable.
        assert_eq!(r.skipped.len(), 6);
        assert!(r
            .skipped
            .iter()
            .all(|s| s.reason.contains("shorter than 32 bytes")));
    }
}

/// The runner itself must be able to fail: a verifier that accepts everything
/// and one that refuses everything both break the policy.
#[test]
fn the_runner_catches_broken_verifiers() {
    struct AcceptAll;
    impl SignatureVerifier for AcceptAll {
        fn verify(
            &self,
            _: Algorithm,
            _: &VerificationKey,
            _: &[u8],
            _: &[u8],
        ) -> Result<(), SignatureError> {
            Ok(())
        }
    }
    struct RefuseAll;
    impl SignatureVerifier for RefuseAll {
        fn verify(
            &self,
            _: Algorithm,
            _: &VerificationKey,
            _: &[u8],
            _: &[u8],
        ) -> Result<(), SignatureError> {
            Err(SignatureError::Invalid)
        }
    }
    struct Crashes;
    impl SignatureVerifier for Crashes {
        fn verify(
            &self,
            _: Algorithm,
            _: &VerificationKey,
            _: &[u8],
            _: &[u8],
        ) -> Result<(), SignatureError> {
            Err(SignatureError::Backend)
        }
    }
    let kinds = [
        VectorKind::RsaPkcs1Sha256,
        VectorKind::EcdsaP256Sha256P1363,
        VectorKind::Ed25519,
        VectorKind::HmacSha256,
    ];
    for kind in kinds {
        let accept = run(kind, &AcceptAll);
        assert!(
            accept.failures.iter().any(|f| f.expected == "invalid"),
            "{kind:?}"
        );
        let refuse = run(kind, &RefuseAll);
        assert!(
            refuse.failures.iter().any(|f| f.expected == "valid"),
            "{kind:?}"
        );
        let crash = run(kind, &Crashes);
        assert_eq!(
            crash.failures.len(),
            crash.total - crash.skipped.len(),
            "{kind:?}"
        );
    }
}
