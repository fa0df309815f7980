//! The verification policy: claim boundaries, key selection, the two-phase
//! (async-capable) API and JWKS reading.

mod jwt_support;

use agentgate_shared::jwt::{
    decode, validate_claims, verify_token, verify_token_async, Algorithm, AsyncSignatureVerifier,
    JwkSet, JwksError, JwtError, KeyError, KeySet, PublicJwk, RustCryptoVerifier, SignatureError,
    SignatureVerifier, Validation, VerificationKey, MAX_JWKS_KEYS,
};
use jwt_support::*;
use serde_json::{json, Value};
use std::cell::Cell;

fn ed_token(claims: &Value) -> (String, KeySet) {
    let key = ed_key(3);
    let t = token(&json!({"alg":"EdDSA","kid":"k"}), claims, &Signer::Ed(&key));
    (
        t,
        KeySet::new().with(ed_verification_key(&key).with_kid("k")),
    )
}

fn claims_with(patch: Value) -> Value {
    let mut c = good_claims();
    for (k, v) in patch.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

#[test]
fn verified_claims_carry_the_registered_claims() {
    let (t, keys) = ed_token(&claims_with(
        json!({"aud": ["x", "agentgate"], "scope": "read"}),
    ));
    let policy = Validation::new(&[Algorithm::EdDsa]).with_audience(Some("agentgate".into()));
    let c = verify_token(&t, &keys, &policy, &RustCryptoVerifier, NOW).unwrap();
    assert_eq!(c.sub.as_deref(), Some("user-1"));
    assert_eq!(c.iss.as_deref(), Some("https://idp.example"));
    assert_eq!(c.aud, vec!["x".to_string(), "agentgate".to_string()]);
    assert_eq!(
        (c.exp, c.iat, c.nbf),
        (NOW + 600, Some(NOW - 10), Some(NOW - 10))
    );
    assert_eq!(c.jti.as_deref(), Some("jti-1"));
    assert_eq!((c.alg, c.kid.as_deref()), (Algorithm::EdDsa, Some("k")));
    assert_eq!(c.string("scope"), Some("read"));
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("user-1") && !debug.contains("read"),
        "Debug does not dump claims: {debug}"
    );
}

#[test]
fn time_boundaries_with_leeway() {
    // (claim patch, leeway, expected) at NOW.
    let cases: Vec<(Value, u64, Result<(), JwtError>)> = vec![
        (json!({"exp": NOW + 1}), 0, Ok(())),
        (json!({"exp": NOW}), 0, Err(JwtError::Expired)),
        (json!({"exp": NOW - 59}), 60, Ok(())),
        (json!({"exp": NOW - 60}), 60, Err(JwtError::Expired)),
        (json!({"exp": NOW - 299}), 300, Ok(())),
        (json!({"exp": NOW - 299}), 10_000, Ok(())), // leeway capped at 300 …
        (json!({"exp": NOW - 300}), 10_000, Err(JwtError::Expired)), // … not more
        (json!({"nbf": NOW}), 0, Ok(())),
        (json!({"nbf": NOW + 1}), 0, Err(JwtError::NotYetValid)),
        (json!({"nbf": NOW + 60}), 60, Ok(())),
        (json!({"nbf": NOW + 61}), 60, Err(JwtError::NotYetValid)),
        (json!({"iat": NOW + 60}), 60, Ok(())),
        (json!({"iat": NOW + 61}), 60, Err(JwtError::IssuedInFuture)),
        (json!({"exp": (NOW + 10) as f64 + 0.5}), 0, Ok(())),
        (json!({"exp": -1}), 60, Err(JwtError::InvalidClaim)),
        (json!({"nbf": "0"}), 60, Err(JwtError::InvalidClaim)),
        (json!({"iat": true}), 60, Err(JwtError::InvalidClaim)),
        (json!({"exp": 1e300}), 60, Ok(())),
    ];
    for (patch, leeway, expected) in cases {
        let (t, keys) = ed_token(&claims_with(patch.clone()));
        let policy = Validation::new(&[Algorithm::EdDsa]).with_leeway(leeway);
        let got = verify_token(&t, &keys, &policy, &RustCryptoVerifier, NOW).map(|_| ());
        assert_eq!(got, expected, "{patch} leeway {leeway}");
    }
}

#[test]
fn issuer_whitelist_and_audience() {
    let (t, keys) = ed_token(&good_claims());
    let base = Validation::new(&[Algorithm::EdDsa]);
    let ok = |p: &Validation| verify_token(&t, &keys, p, &RustCryptoVerifier, NOW).map(|_| ());
    assert_eq!(ok(&base), Ok(()), "no whitelist: any issuer");
    assert_eq!(
        ok(&base
            .clone()
            .with_issuers(["https://other", "https://idp.example"])),
        Ok(())
    );
    assert_eq!(
        ok(&base.clone().with_issuers(["https://other"])),
        Err(JwtError::WrongIssuer)
    );
    assert_eq!(
        ok(&base.clone().with_audience(Some("agentgate".into()))),
        Ok(())
    );
    assert_eq!(
        ok(&base.clone().with_audience(Some("agentgat".into()))),
        Err(JwtError::WrongAudience)
    );
    // Without a configured audience, any aud is fine.
    let (t2, keys2) = ed_token(&claims_with(json!({"aud": ["a", "b"]})));
    assert!(verify_token(&t2, &keys2, &base, &RustCryptoVerifier, NOW).is_ok());
    // sub optional when the policy says so.
    let mut no_sub = good_claims();
    no_sub.as_object_mut().unwrap().remove("sub");
    let (t3, keys3) = ed_token(&no_sub);
    assert_eq!(
        verify_token(&t3, &keys3, &base, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::MissingSubject
    );
    let c = verify_token(
        &t3,
        &keys3,
        &base.clone().require_subject(false),
        &RustCryptoVerifier,
        NOW,
    )
    .unwrap();
    assert_eq!(c.sub, None);
}

#[test]
fn key_selection_without_and_with_kid() {
    let a = ed_key(1);
    let b = ed_key(2);
    let keys = KeySet::new()
        .with(ed_verification_key(&a).with_kid("a"))
        .with(ed_verification_key(&b).with_kid("b"));
    let policy = Validation::new(&[Algorithm::EdDsa]);
    // No kid: every EdDSA key is tried.
    for key in [&a, &b] {
        let t = token(&json!({"alg":"EdDSA"}), &good_claims(), &Signer::Ed(key));
        let c = verify_token(&t, &keys, &policy, &RustCryptoVerifier, NOW).unwrap();
        assert_eq!(
            c.kid.as_deref(),
            Some(if std::ptr::eq(key, &a) { "a" } else { "b" })
        );
    }
    // A kid pins the key: b's signature under kid a fails.
    let t = token(
        &json!({"alg":"EdDSA","kid":"a"}),
        &good_claims(),
        &Signer::Ed(&b),
    );
    assert_eq!(
        verify_token(&t, &keys, &policy, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::BadSignature
    );
    // The shared secret has no kid: HS256 tokens with any kid reach it, but an
    // unverified one with an unknown kid still reports UnknownKid (refetch hint).
    let secret_keys = keys.chain(&KeySet::new().with(VerificationKey::hmac(SECRET).unwrap()));
    let all = Validation::new(&Algorithm::ALL);
    let t = token(
        &json!({"alg":"HS256","kid":"whatever"}),
        &good_claims(),
        &Signer::Hmac(SECRET),
    );
    assert!(verify_token(&t, &secret_keys, &all, &RustCryptoVerifier, NOW).is_ok());
    let t = token(
        &json!({"alg":"HS256","kid":"whatever"}),
        &good_claims(),
        &Signer::Hmac(b"another secret of at least 32 bytes!!"),
    );
    assert_eq!(
        verify_token(&t, &secret_keys, &all, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::UnknownKid
    );
}

/// An async verifier standing in for the Worker's WebCrypto one: it counts
/// calls and delegates to the pure-Rust verifier.
struct CountingAsync {
    calls: Cell<usize>,
    fail_backend: bool,
}

impl AsyncSignatureVerifier for CountingAsync {
    async fn verify_async(
        &self,
        alg: Algorithm,
        key: &VerificationKey,
        input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        self.calls.set(self.calls.get() + 1);
        if self.fail_backend {
            return Err(SignatureError::Backend);
        }
        assert!(
            key.public_jwk().is_some(),
            "asymmetric keys expose their JWK for import"
        );
        RustCryptoVerifier.verify(alg, key, input, signature)
    }
}

#[test]
fn two_phase_api_with_an_async_verifier() {
    let idp = Idp::new();
    let policy = Validation::new(&Algorithm::ASYMMETRIC);
    let t = token(
        &json!({"alg":"ES256","kid":"ec-1"}),
        &good_claims(),
        &Signer::Ec(&idp.ec),
    );
    let keys = idp.keys();

    let decoded = decode(&t, &policy).unwrap();
    assert_eq!(
        (decoded.algorithm(), decoded.kid()),
        (Algorithm::Es256, Some("ec-1"))
    );
    let selection = decoded.select_keys(&keys).unwrap();
    assert_eq!(selection.candidates.len(), 1);
    assert!(matches!(
        selection.candidates[0].public_jwk(),
        Some(PublicJwk::P256 { .. })
    ));

    let verifier = CountingAsync {
        calls: Cell::new(0),
        fail_backend: false,
    };
    let verified = block_on(decoded.verify_signature_async(&keys, &verifier)).unwrap();
    assert_eq!(verifier.calls.get(), 1);
    assert_eq!(verified.key_id(), Some("ec-1"));
    let claims = validate_claims(&verified, &policy, NOW).unwrap();
    assert_eq!(claims.sub.as_deref(), Some("user-1"));
    // The claims step re-checks the allowlist against its own policy.
    assert_eq!(
        validate_claims(&verified, &Validation::new(&[Algorithm::Rs256]), NOW).unwrap_err(),
        JwtError::AlgorithmNotAllowed
    );

    // One call does the same.
    let c = block_on(verify_token_async(&t, &keys, &policy, &verifier, NOW)).unwrap();
    assert_eq!(c.kid.as_deref(), Some("ec-1"));

    // A verifier that cannot run fails closed.
    let broken = CountingAsync {
        calls: Cell::new(0),
        fail_backend: true,
    };
    assert_eq!(
        block_on(verify_token_async(&t, &keys, &policy, &broken, NOW)).unwrap_err(),
        JwtError::VerifierFailed
    );
    // A wrongly sized signature never reaches the verifier.
    let (input, sig) = t.rsplit_once('.').unwrap();
    let short = format!("{input}.{}", &sig[..sig.len() - 2]);
    let before = verifier.calls.get();
    assert_eq!(
        block_on(verify_token_async(&short, &keys, &policy, &verifier, NOW)).unwrap_err(),
        JwtError::BadSignature
    );
    assert_eq!(verifier.calls.get(), before);
    // A bad signature never reaches the claims step.
    let forged = token(
        &json!({"alg":"ES256","kid":"ec-1"}),
        &good_claims(),
        &Signer::Ec(&ec_key(77)),
    );
    assert_eq!(
        block_on(verify_token_async(&forged, &keys, &policy, &verifier, NOW)).unwrap_err(),
        JwtError::BadSignature
    );
}

#[test]
fn jwks_documents_are_read_strictly_but_tolerantly() {
    let idp = Idp::new();
    let good_ec = ec_public_jwk(&idp.ec, "ec-1");
    let with_alg = |patch: Value, base: &Value| {
        let mut k = base.clone();
        for (m, v) in patch.as_object().unwrap() {
            k[m] = v.clone();
        }
        k
    };
    let rsa = idp.rsa.public_jwk("idp-1");
    let doc = json!({"keys": [
        rsa.clone(),                                                        // 0 ok
        good_ec.clone(),                                                    // 1 ok
        ed_public_jwk(&idp.ed, "ed-1"),                                     // 2 ok
        with_alg(json!({"use": "enc", "kid": "enc"}), &rsa),                // 3 use enc
        with_alg(json!({"alg": "RS512", "kid": "rs512"}), &rsa),            // 4 alg contradicts
        with_alg(json!({"alg": "HS256", "kid": "confused"}), &rsa),         // 5 alg contradicts
        with_alg(json!({"alg": "ES384", "kid": "es384"}), &good_ec),        // 6 alg contradicts
        with_alg(json!({"crv": "P-384", "kid": "p384"}), &good_ec),         // 7 curve
        {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},                      // 8 symmetric
        {"kty": "PQC", "kid": "future"},                                    // 9 unknown kty
        with_alg(json!({"d": "AAAA", "kid": "private"}), &good_ec),         // 10 private
        with_alg(json!({"key_ops": ["encrypt"], "kid": "ops"}), &rsa),      // 11 key_ops
        with_alg(json!({"x": "AAAA", "kid": "short"}), &good_ec),           // 12 bad point
        with_alg(json!({"n": "not base64!", "kid": "b64"}), &rsa),          // 13 encoding
        "a string",                                                         // 14 malformed
        {"kid": "no-kty"},                                                  // 15 missing kty
        with_alg(json!({"kid": 7}), &rsa),                                  // 16 bad kid type
        {"kty": "OKP", "crv": "X25519", "x": "AAAA", "kid": "x25519"},      // 17 curve
        with_alg(json!({"use": "sig", "key_ops": ["verify"], "alg": "ES256", "kid": "explicit"}), &good_ec), // 18 ok
    ]});
    let set = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
    let kids: Vec<_> = set
        .keys()
        .iter()
        .map(|k| k.kid().unwrap().to_owned())
        .collect();
    assert_eq!(kids, ["idp-1", "ec-1", "ed-1", "explicit"]);
    let reasons: Vec<(usize, KeyError)> =
        set.ignored().iter().map(|i| (i.index, i.reason)).collect();
    assert_eq!(
        reasons,
        vec![
            (3, KeyError::NotForSignatures),
            (4, KeyError::AlgContradictsKeyType),
            (5, KeyError::AlgContradictsKeyType),
            (6, KeyError::AlgContradictsKeyType),
            (7, KeyError::UnsupportedCurve),
            (8, KeyError::UnsupportedKeyType),
            (9, KeyError::UnsupportedKeyType),
            (10, KeyError::PrivateMaterial),
            (11, KeyError::NoVerifyOperation),
            (12, KeyError::EcInvalid),
            (13, KeyError::BadEncoding),
            (14, KeyError::Malformed),
            (15, KeyError::MissingMember),
            (16, KeyError::Malformed),
            (17, KeyError::UnsupportedCurve),
        ]
    );
    assert_eq!(set.ignored()[0].kid.as_deref(), Some("enc"));

    // Keys read from the document verify tokens; ignored ones never do.
    let policy = Validation::new(&Algorithm::ASYMMETRIC);
    let keys = set.into_keys();
    let t = token(
        &json!({"alg":"RS256","kid":"idp-1"}),
        &good_claims(),
        &Signer::Rsa(&idp.rsa),
    );
    assert!(verify_token(&t, &keys, &policy, &RustCryptoVerifier, NOW).is_ok());
    let t = token(
        &json!({"alg":"RS256","kid":"enc"}),
        &good_claims(),
        &Signer::Rsa(&idp.rsa),
    );
    assert_eq!(
        verify_token(&t, &keys, &policy, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::UnknownKid
    );

    // Whole-document refusals.
    assert_eq!(JwkSet::parse(b"[]").unwrap_err(), JwksError::InvalidJson);
    assert_eq!(JwkSet::parse(b"{}").unwrap_err(), JwksError::MissingKeys);
    assert_eq!(
        JwkSet::parse(br#"{"keys":{}}"#).unwrap_err(),
        JwksError::MissingKeys
    );
    assert_eq!(
        JwkSet::parse(br#"{"keys":[],"keys":[]}"#).unwrap_err(),
        JwksError::DuplicateKey
    );
    let dup_member = format!(
        r#"{{"keys":[{{"kty":"EC","kty":"RSA","n":"{}","e":"AQAB"}}]}}"#,
        idp.rsa.n
    );
    assert_eq!(
        JwkSet::parse(dup_member.as_bytes()).unwrap_err(),
        JwksError::DuplicateKey
    );
    assert_eq!(
        JwkSet::parse(&vec![b' '; 300 * 1024]).unwrap_err(),
        JwksError::TooLarge
    );
    assert!(JwkSet::parse(br#"{"keys":[]}"#).unwrap().keys().is_empty());
}

#[test]
fn jwks_key_count_is_capped() {
    let keys: Vec<Value> = (0..40u8)
        .map(|i| ed_public_jwk(&ed_key(i), &format!("k{i}")))
        .collect();
    let set = JwkSet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap();
    assert_eq!(set.keys().len(), MAX_JWKS_KEYS);
    assert_eq!(set.ignored().len(), 40 - MAX_JWKS_KEYS);
    assert!(set
        .ignored()
        .iter()
        .all(|i| i.reason == KeyError::TooManyKeys));
}

#[test]
fn policy_from_configuration() {
    use agentgate_shared::config::JwtConfig;
    use agentgate_shared::secret::Secret;
    let cfg = JwtConfig {
        jwks_uri: Some("https://idp.example/jwks".parse().unwrap()),
        secret: None,
        issuer_whitelist: vec!["https://idp.example".into()],
        audience: Some("agentgate".into()),
        leeway_secs: 60,
        jwks_cache_ttl_secs: 3600,
    };
    let idp = Idp::new();
    let p = cfg.validation();
    let rs = token(
        &json!({"alg":"RS256","kid":"idp-1"}),
        &good_claims(),
        &Signer::Rsa(&idp.rsa),
    );
    assert!(verify_token(&rs, &idp.keys(), &p, &RustCryptoVerifier, NOW).is_ok());
    let hs = token(
        &json!({"alg":"HS256"}),
        &good_claims(),
        &Signer::Hmac(SECRET),
    );
    let with_secret = idp.keys().with(
        VerificationKey::from_secret(&Secret::new(std::str::from_utf8(SECRET).unwrap())).unwrap(),
    );
    assert_eq!(
        verify_token(&hs, &with_secret, &p, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::AlgorithmNotAllowed,
        "HS256 only when JWT_SECRET is configured"
    );
    let cfg2 = JwtConfig {
        secret: Some(Secret::new(std::str::from_utf8(SECRET).unwrap())),
        ..cfg
    };
    assert!(verify_token(
        &hs,
        &with_secret,
        &cfg2.validation(),
        &RustCryptoVerifier,
        NOW
    )
    .is_ok());
}
