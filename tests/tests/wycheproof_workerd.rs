//! The Wycheproof vectors inside workerd, through both of the worker's
//! verifiers (`POST /__dev/crypto/verify`): WebCrypto, which the gateway
//! uses, and the pure-Rust verifier compiled to wasm.
//!
//! The policy is not restated here: each file goes through
//! `shared::jwt::wycheproof::run_vectors`, the same runner (and written
//! policy: `valid` accepted, `invalid` refused, `acceptable` refused) that
//! `shared/tests/wycheproof_signatures.rs` runs natively. It runs twice: once
//! recording which signatures it asks about, then — after the worker has
//! answered all of them in a few batched requests — replaying the worker's
//! answers. The counts must equal the native run's exactly.
//! The test sets come from the `wycheproof` crate (a pinned dev-dependency).

use agentgate_e2e::http::client;
use agentgate_e2e::verify_route::{self, GroupOutcome, Implementation, Verdict, VerifyGroup};
use agentgate_e2e::Gateway;
use agentgate_shared::jwt::wycheproof::{run_vectors, VectorKind, VectorReport};
use agentgate_shared::jwt::{
    Algorithm, AsyncSignatureVerifier, PublicJwk, SignatureError, VerificationKey,
};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::VecDeque;

/// One signature the runner asked about.
struct Call {
    alg: Algorithm,
    key: VerificationKey,
    msg: Vec<u8>,
    sig: Vec<u8>,
}

/// Pass 1: records the runner's questions (answers are discarded).
#[derive(Default)]
struct Recorder(RefCell<Vec<Call>>);

impl AsyncSignatureVerifier for Recorder {
    async fn verify_async(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        self.0.borrow_mut().push(Call {
            alg,
            key: key.clone(),
            msg: msg.to_vec(),
            sig: sig.to_vec(),
        });
        Ok(())
    }
}

type Answer = (Vec<u8>, Vec<u8>, Result<(), SignatureError>);

/// Pass 2: answers with what the worker said, in the same order.
struct Replayer(RefCell<VecDeque<Answer>>);

impl AsyncSignatureVerifier for Replayer {
    async fn verify_async(
        &self,
        _: Algorithm,
        _: &VerificationKey,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        let (m, s, answer) = self.0.borrow_mut().pop_front().expect("an answer per case");
        assert!(m == msg && s == sig, "replay out of order");
        answer
    }
}

fn jwk(key: &VerificationKey) -> Value {
    match key.public_jwk().expect("vector keys are public keys") {
        PublicJwk::Rsa { n, e } => json!({"kty": "RSA", "n": n, "e": e}),
        PublicJwk::P256 { x, y } => json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
        PublicJwk::Ed25519 { x } => json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
    }
}

/// Consecutive calls with the same key become one group.
fn groups(calls: &[Call]) -> Vec<VerifyGroup> {
    let mut groups: Vec<VerifyGroup> = Vec::new();
    for call in calls {
        let jwk = jwk(&call.key);
        let case = (call.msg.clone(), call.sig.clone());
        match groups.last_mut() {
            Some(g) if g.jwk == jwk && g.alg == call.alg.as_str() => g.cases.push(case),
            _ => groups.push(VerifyGroup {
                alg: call.alg.as_str().to_owned(),
                jwk,
                cases: vec![case],
            }),
        }
    }
    groups
}

fn answer(verdict: &Verdict) -> Result<(), SignatureError> {
    match verdict {
        Verdict::Accepted => Ok(()),
        Verdict::Refused => Err(SignatureError::Invalid),
        Verdict::Error(e) if e == "key mismatch" => Err(SignatureError::KeyMismatch),
        Verdict::Error(_) => Err(SignatureError::Backend),
    }
}

/// The route's answers for `groups`.
async fn through_route(
    gw: &Gateway,
    implementation: Implementation,
    groups: &[VerifyGroup],
) -> Vec<GroupOutcome> {
    verify_route::verify_all(
        &client(),
        &gw.url(verify_route::PATH),
        implementation,
        groups,
    )
    .await
}

/// Runs one file through one of the worker's verifiers.
async fn run_in_worker(
    gw: &Gateway,
    implementation: Implementation,
    kind: VectorKind,
    text: &str,
) -> VectorReport {
    let recorder = Recorder::default();
    run_vectors(kind, text, &recorder).await.expect("readable");
    let calls = recorder.0.into_inner();
    let groups = groups(&calls);
    let outcomes = through_route(gw, implementation, &groups).await;
    let mut answers = VecDeque::with_capacity(calls.len());
    for (group, outcome) in groups.iter().zip(&outcomes) {
        let verdicts = match outcome {
            Ok(v) => v.clone(),
            // `shared` accepted this key natively; the worker must too.
            Err(reason) => {
                vec![Verdict::Error(format!("key refused: {reason}")); group.cases.len()]
            }
        };
        assert_eq!(verdicts.len(), group.cases.len());
        for ((msg, sig), verdict) in group.cases.iter().zip(&verdicts) {
            answers.push_back((msg.clone(), sig.clone(), answer(verdict)));
        }
    }
    let replayer = Replayer(RefCell::new(answers));
    let report = run_vectors(kind, text, &replayer).await.expect("readable");
    assert!(replayer.0.borrow().is_empty(), "every answer used");
    report
}

/// One row per test set: what the native run counts (shared/tests/wycheproof_signatures.rs).
struct Expected {
    kind: VectorKind,
    total: usize,
    valid_accepted: usize,
    invalid_refused: usize,
    acceptable_refused: usize,
}

const FILES: &[Expected] = &[
    Expected {
        kind: VectorKind::RsaPkcs1Sha256,
        total: 259,
        valid_accepted: 9,
        invalid_refused: 249,
        acceptable_refused: 1,
    },
    Expected {
        kind: VectorKind::EcdsaP256Sha256P1363,
        total: 262,
        valid_accepted: 173,
        invalid_refused: 89,
        acceptable_refused: 0,
    },
    Expected {
        kind: VectorKind::Ed25519,
        total: 151,
        valid_accepted: 88,
        invalid_refused: 63,
        acceptable_refused: 0,
    },
];

/// The Wycheproof test set of each kind, as the `wycheproof` crate bundles it
/// (a dev-dependency; the same sets as the native run).
fn vectors(kind: VectorKind) -> &'static str {
    use ::wycheproof::{ecdsa, eddsa, mac, rsa_pkcs1_verify};
    match kind {
        VectorKind::RsaPkcs1Sha256 => rsa_pkcs1_verify::TestName::Rsa2048Sha256.json_data(),
        VectorKind::EcdsaP256Sha256P1363 => ecdsa::TestName::EcdsaSecp256r1Sha256P1363.json_data(),
        VectorKind::Ed25519 => eddsa::TestName::Ed25519.json_data(),
        VectorKind::HmacSha256 => mac::TestName::HmacSha256.json_data(),
    }
}

#[tokio::test]
async fn wycheproof_vectors_hold_for_both_verifiers_inside_workerd() {
    let gw = Gateway::start().await;
    let mut broken = Vec::new();
    for expected in FILES {
        let text = vectors(expected.kind);
        for implementation in Implementation::BOTH {
            let r = run_in_worker(&gw, implementation, expected.kind, text).await;
            let name = format!("{} on {:?}", implementation.as_str(), expected.kind);
            if !r.failures.is_empty() {
                broken.push(format!("{name}: {:#?}", r.failures));
                continue;
            }
            assert_eq!(r.total, expected.total, "{name}");
            assert_eq!(r.valid_accepted, expected.valid_accepted, "{name}");
            assert_eq!(r.invalid_refused, expected.invalid_refused, "{name}");
            assert_eq!(r.acceptable_refused, expected.acceptable_refused, "{name}");
            assert!(r.skipped.is_empty(), "{name}");
        }
    }
    assert!(broken.is_empty(), "policy broken:\n{}", broken.join("\n"));
}

/// The route itself: a tampered signature is refused by both verifiers, a
/// key `shared::jwt` refuses is reported rather than used, and an unknown
/// algorithm is a 400.
#[tokio::test]
async fn the_verify_route_reports_refusals() {
    let gw = Gateway::start().await;
    let key = agentgate_e2e::keys::TestKey::rsa("rsa-a.pem", "rsa-a");
    let msg = b"header.payload".to_vec();
    let sig = key.sign_bytes(&msg);
    let mut tampered = sig.clone();
    tampered[10] ^= 1;
    let mut small = key.public_jwk();
    small["n"] = json!("AQAB"); // a 17-bit modulus
    let groups = [
        VerifyGroup {
            alg: "RS256".into(),
            jwk: key.public_jwk(),
            cases: vec![(msg.clone(), sig.clone()), (msg.clone(), tampered)],
        },
        VerifyGroup {
            alg: "RS256".into(),
            jwk: small,
            cases: vec![(msg.clone(), sig.clone())],
        },
        // The key decides the algorithm: an RSA key never verifies ES256.
        VerifyGroup {
            alg: "ES256".into(),
            jwk: key.public_jwk(),
            cases: vec![(msg.clone(), sig.clone())],
        },
    ];
    for implementation in Implementation::BOTH {
        let outcomes = through_route(&gw, implementation, &groups).await;
        let name = implementation.as_str();
        assert_eq!(
            outcomes[0],
            Ok(vec![Verdict::Accepted, Verdict::Refused]),
            "{name}"
        );
        assert!(
            outcomes[1].as_ref().is_err_and(|e| e.contains("2048")),
            "{name}: {:?}",
            outcomes[1]
        );
        assert_eq!(
            outcomes[2],
            Ok(vec![Verdict::Error("key mismatch".into())]),
            "{name}"
        );
    }
    let resp = client()
        .post(gw.url(verify_route::PATH))
        .json(&verify_route::request_body(
            Implementation::Rust,
            &[json!({"alg": "none", "jwk": key.public_jwk(), "cases": []})],
            1,
        ))
        .send()
        .await
        .unwrap();
    agentgate_e2e::http::expect_error(resp, 400, "BAD_REQUEST").await;
}
