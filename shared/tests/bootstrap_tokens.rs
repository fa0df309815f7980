//! Cloud bootstrap tokens (SPEC §6): each refusal with its own code.

mod jwt_support;

use agentgate_shared::bootstrap::{
    decode_bootstrap, verify_bootstrap_claims, verify_bootstrap_token,
    verify_bootstrap_token_async, BootstrapError, BootstrapPolicy, RevocationError, RevocationList,
    MAX_LIFETIME_SECS,
};
use agentgate_shared::config::CloudConfig;
use agentgate_shared::jwt::{
    verify_token, Algorithm, JwtError, KeySet, RustCryptoVerifier, Validation,
};
use agentgate_shared::ErrorCode;
use jwt_support::*;
use serde_json::{json, Value};
use std::collections::HashSet;

const ISSUER: &str = "https://cloud.example";
const CONTAINER: &str = "ctr-123";

struct Cloud {
    rsa: RsaTestKey,
    keys: KeySet,
    policy: BootstrapPolicy,
}

fn cloud() -> Cloud {
    let rsa = RsaTestKey::load("idp");
    let keys = KeySet::new().with(rsa.verification_key().with_kid("cloud-1"));
    Cloud {
        rsa,
        keys,
        policy: BootstrapPolicy::new(ISSUER, CONTAINER),
    }
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "cloud-user-9",
        "containerId": CONTAINER,
        "scope": "bootstrap",
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "jti": "boot-1",
    })
}

fn patched(patch: Value) -> Value {
    let mut c = claims();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn signed(c: &Cloud, claims: &Value) -> String {
    token(
        &json!({"alg":"RS256","kid":"cloud-1"}),
        claims,
        &Signer::Rsa(&c.rsa),
    )
}

fn check(c: &Cloud, token: &str, revoked: &RevocationList) -> Result<(), BootstrapError> {
    verify_bootstrap_token(token, &c.keys, &c.policy, &RustCryptoVerifier, NOW, revoked).map(|_| ())
}

#[test]
fn a_valid_token_is_accepted_with_its_facts() {
    let c = cloud();
    let t = signed(&c, &claims());
    let b = verify_bootstrap_token(
        &t,
        &c.keys,
        &c.policy,
        &RustCryptoVerifier,
        NOW,
        &RevocationList::new(),
    )
    .unwrap();
    assert_eq!(b.jti, "boot-1");
    assert_eq!(b.sub.as_deref(), Some("cloud-user-9"));
    assert_eq!((b.iat, b.exp), (NOW - 60, NOW + 3600));
    assert_eq!(b.container_id, CONTAINER);
    let async_b = block_on(verify_bootstrap_token_async(
        &t,
        &c.keys,
        &c.policy,
        &RustCryptoVerifier,
        NOW,
        &RevocationList::new(),
    ))
    .unwrap();
    assert_eq!(async_b, b);
    // Exactly 24 h of lifetime is allowed; sub is optional.
    let t = signed(
        &c,
        &patched(json!({"iat": NOW - 10, "exp": NOW - 10 + MAX_LIFETIME_SECS, "sub": null})),
    );
    assert_eq!(check(&c, &t, &RevocationList::new()), Ok(()));
}

#[test]
fn each_defect_has_its_own_code() {
    let c = cloud();
    let revoked: RevocationList = ["boot-revoked"].into_iter().collect();
    let other_cloud_key = RsaTestKey::load("attacker");
    let hs = token(
        &json!({"alg":"HS256","kid":"cloud-1"}),
        &claims(),
        &Signer::Hmac(SECRET),
    );
    let hs_pem = token(
        &json!({"alg":"HS256"}),
        &claims(),
        &Signer::Hmac(c.rsa.public_pem.as_bytes()),
    );
    let es = token(
        &json!({"alg":"ES256","kid":"cloud-1"}),
        &claims(),
        &Signer::Ec(&ec_key(5)),
    );
    let none = token(&json!({"alg":"none"}), &claims(), &Signer::Nothing);
    let forged = token(
        &json!({"alg":"RS256","kid":"cloud-1"}),
        &claims(),
        &Signer::Rsa(&other_cloud_key),
    );
    let unknown_kid = token(
        &json!({"alg":"RS256","kid":"cloud-2"}),
        &claims(),
        &Signer::Rsa(&c.rsa),
    );
    let cases: Vec<(&str, String, BootstrapError, &str)> = vec![
        (
            "wrong containerId",
            signed(&c, &patched(json!({"containerId": "ctr-999"}))),
            BootstrapError::WrongContainer,
            "BOOTSTRAP_WRONG_CONTAINER",
        ),
        (
            "containerId missing",
            signed(&c, &patched(json!({"containerId": null}))),
            BootstrapError::WrongContainer,
            "BOOTSTRAP_WRONG_CONTAINER",
        ),
        (
            "containerId not a string",
            signed(&c, &patched(json!({"containerId": 123}))),
            BootstrapError::WrongContainer,
            "BOOTSTRAP_WRONG_CONTAINER",
        ),
        (
            "expired",
            signed(&c, &patched(json!({"exp": NOW - 1}))),
            BootstrapError::Expired,
            "BOOTSTRAP_EXPIRED",
        ),
        (
            "exp == now (no leeway)",
            signed(&c, &patched(json!({"exp": NOW}))),
            BootstrapError::Expired,
            "BOOTSTRAP_EXPIRED",
        ),
        (
            "exp missing",
            signed(&c, &patched(json!({"exp": null}))),
            BootstrapError::Expired,
            "BOOTSTRAP_EXPIRED",
        ),
        (
            "exp > iat + 24 h",
            signed(
                &c,
                &patched(json!({"iat": NOW - 10, "exp": NOW - 10 + MAX_LIFETIME_SECS + 1})),
            ),
            BootstrapError::LifetimeTooLong,
            "BOOTSTRAP_LIFETIME_TOO_LONG",
        ),
        (
            "iat missing",
            signed(&c, &patched(json!({"iat": null}))),
            BootstrapError::MissingIssuedAt,
            "BOOTSTRAP_MISSING_IAT",
        ),
        (
            "iat far in the future",
            signed(&c, &patched(json!({"iat": NOW + 3000, "exp": NOW + 4000}))),
            BootstrapError::IssuedInFuture,
            "BOOTSTRAP_ISSUED_IN_FUTURE",
        ),
        (
            "jti missing",
            signed(&c, &patched(json!({"jti": null}))),
            BootstrapError::MissingJti,
            "BOOTSTRAP_MISSING_JTI",
        ),
        (
            "jti empty",
            signed(&c, &patched(json!({"jti": ""}))),
            BootstrapError::MissingJti,
            "BOOTSTRAP_MISSING_JTI",
        ),
        (
            "jti revoked",
            signed(&c, &patched(json!({"jti": "boot-revoked"}))),
            BootstrapError::Revoked,
            "BOOTSTRAP_REVOKED",
        ),
        (
            "wrong scope",
            signed(&c, &patched(json!({"scope": "admin"}))),
            BootstrapError::WrongScope,
            "BOOTSTRAP_WRONG_SCOPE",
        ),
        (
            "scope list",
            signed(&c, &patched(json!({"scope": "bootstrap admin"}))),
            BootstrapError::WrongScope,
            "BOOTSTRAP_WRONG_SCOPE",
        ),
        (
            "scope missing",
            signed(&c, &patched(json!({"scope": null}))),
            BootstrapError::WrongScope,
            "BOOTSTRAP_WRONG_SCOPE",
        ),
        (
            "wrong issuer",
            signed(&c, &patched(json!({"iss": "https://evil.example"}))),
            BootstrapError::WrongIssuer,
            "BOOTSTRAP_WRONG_ISSUER",
        ),
        (
            "HS256 with some secret",
            hs,
            BootstrapError::WrongAlgorithm,
            "BOOTSTRAP_WRONG_ALGORITHM",
        ),
        (
            "HS256 with the public key",
            hs_pem,
            BootstrapError::WrongAlgorithm,
            "BOOTSTRAP_WRONG_ALGORITHM",
        ),
        (
            "ES256",
            es,
            BootstrapError::WrongAlgorithm,
            "BOOTSTRAP_WRONG_ALGORITHM",
        ),
        (
            "alg none",
            none,
            BootstrapError::WrongAlgorithm,
            "BOOTSTRAP_WRONG_ALGORITHM",
        ),
        (
            "signed by another key",
            forged,
            BootstrapError::BadSignature,
            "BOOTSTRAP_BAD_SIGNATURE",
        ),
        (
            "unknown kid",
            unknown_kid,
            BootstrapError::UnknownKid,
            "BOOTSTRAP_UNKNOWN_KID",
        ),
        (
            "not a JWS",
            "garbage".into(),
            BootstrapError::Invalid(JwtError::Malformed),
            "BOOTSTRAP_INVALID",
        ),
    ];
    let mut codes = HashSet::new();
    for (what, t, expected, code) in cases {
        let err = check(&c, &t, &revoked).unwrap_err();
        assert_eq!(err, expected, "{what}");
        assert_eq!(err.reason_code(), code, "{what}");
        assert_eq!(err.code(), ErrorCode::InvalidToken, "{what}");
        codes.insert(code);
    }
    assert_eq!(codes.len(), 13, "distinct codes");
    assert!(BootstrapError::UnknownKid.suggests_refetch());
}

#[test]
fn no_cloud_keys_is_unavailable_never_a_bypass() {
    let c = cloud();
    let t = signed(&c, &claims());
    let err = verify_bootstrap_token(
        &t,
        &KeySet::new(),
        &c.policy,
        &RustCryptoVerifier,
        NOW,
        &RevocationList::new(),
    )
    .unwrap_err();
    assert_eq!(err, BootstrapError::Unavailable);
    assert_eq!(err.code(), ErrorCode::BootstrapUnavailable);
    assert_eq!(err.code().status(), 503);
    assert_eq!(err.reason_code(), "BOOTSTRAP_UNAVAILABLE");
    // Even an unsigned token gets no further.
    let none = token(&json!({"alg":"none"}), &claims(), &Signer::Nothing);
    assert_eq!(
        verify_bootstrap_token(
            &none,
            &KeySet::new(),
            &c.policy,
            &RustCryptoVerifier,
            NOW,
            &RevocationList::new()
        ),
        Err(BootstrapError::Unavailable)
    );
}

#[test]
fn the_claims_check_stands_on_its_own() {
    // Claims verified under a looser generic policy (e.g. the external-JWT one
    // with leeway) are still held to the bootstrap rules.
    let c = cloud();
    let loose = Validation::new(&Algorithm::ALL)
        .require_subject(false)
        .with_leeway(300);
    let t = signed(&c, &patched(json!({"exp": NOW - 100})));
    let verified = verify_token(&t, &c.keys, &loose, &RustCryptoVerifier, NOW).unwrap();
    assert_eq!(
        verify_bootstrap_claims(&verified, &c.policy, NOW, &RevocationList::new()),
        Err(BootstrapError::Expired)
    );
    let t = signed(&c, &patched(json!({"iss": "https://other.example"})));
    let verified = verify_token(&t, &c.keys, &loose, &RustCryptoVerifier, NOW).unwrap();
    assert_eq!(
        verify_bootstrap_claims(&verified, &c.policy, NOW, &RevocationList::new()),
        Err(BootstrapError::WrongIssuer)
    );
    let ed = ed_key(4);
    let t = token(&json!({"alg":"EdDSA"}), &claims(), &Signer::Ed(&ed));
    let keys = KeySet::new().with(ed_verification_key(&ed));
    let verified = verify_token(&t, &keys, &loose, &RustCryptoVerifier, NOW).unwrap();
    assert_eq!(
        verify_bootstrap_claims(&verified, &c.policy, NOW, &RevocationList::new()),
        Err(BootstrapError::WrongAlgorithm)
    );
    // Algorithm refused before any key is looked at.
    let hs = token(&json!({"alg":"HS256"}), &claims(), &Signer::Hmac(SECRET));
    assert_eq!(
        decode_bootstrap(&hs, &c.policy).unwrap_err(),
        BootstrapError::WrongAlgorithm
    );
}

#[test]
fn policy_from_config_accepts_the_issuer_with_or_without_slash() {
    let cfg = CloudConfig {
        issuer: ISSUER.parse().unwrap(),
        container_id: CONTAINER.into(),
        provisioned: true,
    };
    let policy = BootstrapPolicy::from_config(&cfg);
    assert_eq!(
        policy.issuers(),
        &["https://cloud.example/".to_string(), ISSUER.to_string()]
    );
    assert_eq!(policy.container_id(), CONTAINER);
    let c = Cloud { policy, ..cloud() };
    for iss in [ISSUER, "https://cloud.example/"] {
        assert_eq!(
            check(
                &c,
                &signed(&c, &patched(json!({ "iss": iss }))),
                &RevocationList::new()
            ),
            Ok(())
        );
    }
    assert_eq!(
        check(
            &c,
            &signed(&c, &patched(json!({"iss": "https://cloud.example//"}))),
            &RevocationList::new()
        ),
        Err(BootstrapError::WrongIssuer)
    );
    // An issuer with a path is matched exactly.
    let cfg = CloudConfig {
        issuer: "https://cloud.example/tenant".parse().unwrap(),
        ..cfg
    };
    assert_eq!(
        BootstrapPolicy::from_config(&cfg).issuers(),
        &["https://cloud.example/tenant".to_string()]
    );
}

#[test]
fn revocation_documents() {
    let accepted: [(&str, &[&str]); 6] = [
        (r#"{"revoked": ["a", "b"]}"#, &["a", "b"]),
        (r#"["a", "b", "a"]"#, &["a", "b"]),
        (
            r#"{"revoked": [{"jti": "a", "exp": 1}, "b"], "updated_at": "2025-01-01"}"#,
            &["a", "b"],
        ),
        (r#"{"revoked": []}"#, &[]),
        ("[]", &[]),
        (r#"[{"jti": "x", "reason": "rotated"}]"#, &["x"]),
    ];
    for (doc, jtis) in accepted {
        let list = RevocationList::parse(doc.as_bytes()).unwrap();
        assert_eq!(list.len(), jtis.len(), "{doc}");
        for jti in jtis {
            assert!(list.contains(jti), "{doc} {jti}");
        }
        assert!(!list.contains("zzz"));
    }
    let refused: [(&str, RevocationError); 10] = [
        ("", RevocationError::InvalidJson),
        ("{", RevocationError::InvalidJson),
        (
            r#"{"revoked": ["a"], "revoked": []}"#,
            RevocationError::InvalidJson,
        ),
        (r#"{"jtis": ["a"]}"#, RevocationError::BadShape),
        (r#"{"revoked": "a"}"#, RevocationError::BadShape),
        (r#""a""#, RevocationError::BadShape),
        (r#"["a", 1]"#, RevocationError::BadEntry),
        (r#"["a", ""]"#, RevocationError::BadEntry),
        (r#"[{"id": "a"}]"#, RevocationError::BadEntry),
        (r#"[null]"#, RevocationError::BadEntry),
    ];
    for (doc, expected) in refused {
        assert_eq!(
            RevocationList::parse(doc.as_bytes()).unwrap_err(),
            expected,
            "{doc}"
        );
    }
    let huge = vec![b' '; RevocationList::MAX_BYTES + 1];
    assert_eq!(
        RevocationList::parse(&huge).unwrap_err(),
        RevocationError::TooLarge
    );
    let many = serde_json::to_string(
        &(0..RevocationList::MAX_ENTRIES + 1)
            .map(|i| i.to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        RevocationList::parse(many.as_bytes()).unwrap_err(),
        RevocationError::TooManyEntries
    );
}
