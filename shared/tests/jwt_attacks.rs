//! Known JWT attacks, each refused with its own reason. Every attack token is
//! built like the baseline token that verifies, so a refusal is caused by the
//! attack and nothing else.

mod jwt_support;

use agentgate_shared::jwt::{
    b64url_decode, b64url_encode, decode, verify_token, Algorithm, JwtError, KeySet,
    RustCryptoVerifier, Validation, VerificationKey, MAX_TOKEN_BYTES,
};
use jwt_support::*;
use serde_json::{json, Value};

/// The gateway's policy: JWKS algorithms, issuer and audience configured.
fn policy() -> Validation {
    Validation::new(&Algorithm::ASYMMETRIC)
        .with_issuers(["https://idp.example"])
        .with_audience(Some("agentgate".into()))
}

/// The same with a shared secret configured too (HS256 allowed).
fn policy_with_secret() -> Validation {
    Validation::new(&Algorithm::ALL)
        .with_issuers(["https://idp.example"])
        .with_audience(Some("agentgate".into()))
}

fn keys_with_secret(idp: &Idp) -> KeySet {
    idp.keys().with(VerificationKey::hmac(SECRET).unwrap())
}

fn check(token: &str, keys: &KeySet, policy: &Validation) -> Result<(), JwtError> {
    verify_token(token, keys, policy, &RustCryptoVerifier, NOW).map(|_| ())
}

fn rs_header(kid: &str) -> Value {
    json!({"alg":"RS256","typ":"JWT","kid":kid})
}

#[test]
fn baselines_verify() {
    let idp = Idp::new();
    let claims = good_claims();
    let cases = [
        token(&rs_header("idp-1"), &claims, &Signer::Rsa(&idp.rsa)),
        token(
            &json!({"alg":"ES256","kid":"ec-1"}),
            &claims,
            &Signer::Ec(&idp.ec),
        ),
        token(
            &json!({"alg":"EdDSA","kid":"ed-1"}),
            &claims,
            &Signer::Ed(&idp.ed),
        ),
    ];
    for t in &cases {
        assert_eq!(check(t, &idp.keys(), &policy()), Ok(()));
        assert_eq!(
            check(t, &keys_with_secret(&idp), &policy_with_secret()),
            Ok(())
        );
    }
    let hs = token(&json!({"alg":"HS256"}), &claims, &Signer::Hmac(SECRET));
    assert_eq!(
        check(&hs, &keys_with_secret(&idp), &policy_with_secret()),
        Ok(())
    );
}

#[test]
fn alg_none_in_any_spelling() {
    let idp = Idp::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        for signer in [
            Signer::Nothing,
            Signer::Raw(vec![1, 2, 3]),
            Signer::Rsa(&idp.rsa),
        ] {
            let t = token(
                &json!({"alg": alg, "kid": "idp-1"}),
                &good_claims(),
                &signer,
            );
            for (keys, p) in [
                (idp.keys(), policy()),
                (keys_with_secret(&idp), policy_with_secret()),
            ] {
                assert_eq!(check(&t, &keys, &p), Err(JwtError::UnsecuredToken), "{alg}");
            }
        }
    }
}

#[test]
fn rs256_key_reused_as_hs256_secret() {
    let idp = Idp::new();
    let secrets: [(&str, Vec<u8>); 4] = [
        ("SPKI PEM", idp.rsa.public_pem.clone().into_bytes()),
        (
            "SPKI PEM without trailing newline",
            idp.rsa.public_pem.trim_end().as_bytes().to_vec(),
        ),
        ("PKCS#1 PEM", idp.rsa.public_pkcs1_pem.clone().into_bytes()),
        ("SPKI DER", idp.rsa.public_der.clone()),
    ];
    for (what, secret) in &secrets {
        let signer = Signer::Hmac(secret);
        let with_kid = token(
            &json!({"alg":"HS256","kid":"idp-1"}),
            &good_claims(),
            &signer,
        );
        let without_kid = token(&json!({"alg":"HS256"}), &good_claims(), &signer);
        // JWKS only: HS256 is not even allowed.
        assert_eq!(
            check(&with_kid, &idp.keys(), &policy()),
            Err(JwtError::AlgorithmNotAllowed),
            "{what}"
        );
        assert_eq!(
            check(&without_kid, &idp.keys(), &policy()),
            Err(JwtError::AlgorithmNotAllowed),
            "{what}"
        );
        // HS256 allowed but no secret configured: no key can verify HS256.
        assert_eq!(
            check(&without_kid, &idp.keys(), &policy_with_secret()),
            Err(JwtError::NoMatchingKey),
            "{what}"
        );
        // A secret configured: the RSA key's kid is bound to RS256 ...
        assert_eq!(
            check(&with_kid, &keys_with_secret(&idp), &policy_with_secret()),
            Err(JwtError::AlgorithmMismatch),
            "{what}"
        );
        // ... and the real secret does not verify the forgery.
        assert_eq!(
            check(&without_kid, &keys_with_secret(&idp), &policy_with_secret()),
            Err(JwtError::BadSignature),
            "{what}"
        );
    }
}

/// The P-256 group order n.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

#[test]
fn es256_signature_scalars_out_of_range() {
    let idp = Idp::new();
    let header = json!({"alg":"ES256","kid":"ec-1"});
    let good = token(&header, &good_claims(), &Signer::Ec(&idp.ec));
    let (input, sig) = good.rsplit_once('.').unwrap();
    let sig = b64url_decode(sig).unwrap();
    let (r, s) = sig.split_at(32);
    let n = hex::decode(P256_N).unwrap();
    let mut n_plus_1 = n.clone();
    n_plus_1[31] += 1;
    let zero = vec![0u8; 32];
    let max = vec![0xffu8; 32];
    let mut s_plus_n = s.to_vec();
    // s + n overflows 256 bits for most s; use (s + n) mod 2^256 when it does not.
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let v = u16::from(s_plus_n[i]) + u16::from(n[i]) + carry;
        s_plus_n[i] = v as u8;
        carry = v >> 8;
    }
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("r = 0", zero.clone(), s.to_vec()),
        ("s = 0", r.to_vec(), zero.clone()),
        ("r = s = 0", zero.clone(), zero.clone()),
        ("r = n", n.clone(), s.to_vec()),
        ("s = n", r.to_vec(), n.clone()),
        ("r = n + 1", n_plus_1.clone(), s.to_vec()),
        ("s = n + 1", r.to_vec(), n_plus_1.clone()),
        ("r = 2^256 - 1", max.clone(), s.to_vec()),
        ("s = 2^256 - 1", r.to_vec(), max.clone()),
        ("s + n (mod 2^256)", r.to_vec(), s_plus_n),
    ];
    for (what, r2, s2) in cases {
        let forged = format!("{input}.{}", b64url_encode(&[r2, s2].concat()));
        assert_eq!(
            check(&forged, &idp.keys(), &policy()),
            Err(JwtError::BadSignature),
            "{what}"
        );
    }
    // DER-encoded and truncated signatures are refused too (P1363 only).
    for bad in [
        sig[..63].to_vec(),
        [sig.clone(), vec![0]].concat(),
        vec![0x30, 0x44, 0x02, 0x20],
    ] {
        let forged = format!("{input}.{}", b64url_encode(&bad));
        assert_eq!(
            check(&forged, &idp.keys(), &policy()),
            Err(JwtError::BadSignature)
        );
    }
    assert_eq!(check(&good, &idp.keys(), &policy()), Ok(()));
}

#[test]
fn kid_with_path_or_sql_characters_is_just_unknown() {
    let idp = Idp::new();
    let long = "k".repeat(4000);
    for kid in [
        "../../etc/passwd",
        "/dev/null",
        "' OR 1=1 --",
        "idp-1' --",
        "idp-1\u{0}",
        "idp-1 ",
        "IDP-1",
        "${jndi:ldap://evil}",
        "%2e%2e%2f",
        long.as_str(),
    ] {
        let t = token(
            &json!({"alg":"RS256","kid":kid}),
            &good_claims(),
            &Signer::Rsa(&idp.rsa),
        );
        let err = check(&t, &idp.keys(), &policy()).unwrap_err();
        assert_eq!(err, JwtError::UnknownKid, "{kid:?}");
        assert!(
            !err.to_string().contains(kid),
            "the reason never echoes the kid"
        );
    }
}

#[test]
fn header_key_references_are_never_followed() {
    let idp = Idp::new();
    let attacker = RsaTestKey::load("attacker");
    let attacker_ed = ed_key(99);
    let references = json!({
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "jwk": attacker.public_jwk("attacker"),
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    });
    for kid in [Some("attacker"), Some("idp-1"), None] {
        let mut header = references.clone();
        header["alg"] = json!("RS256");
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let t = token(&header, &good_claims(), &Signer::Rsa(&attacker));
        let expected = if kid == Some("attacker") {
            JwtError::UnknownKid
        } else {
            JwtError::BadSignature
        };
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(expected),
            "kid {kid:?}"
        );
        // The same references on a token the IdP signed change nothing.
        let honest = token(&header, &good_claims(), &Signer::Rsa(&idp.rsa));
        if kid != Some("attacker") {
            assert_eq!(check(&honest, &idp.keys(), &policy()), Ok(()));
        }
    }
    // An embedded Ed25519 jwk, signed with that key.
    let header = json!({"alg":"EdDSA","jwk": ed_public_jwk(&attacker_ed, "x")});
    let t = token(&header, &good_claims(), &Signer::Ed(&attacker_ed));
    assert_eq!(
        check(&t, &idp.keys(), &policy()),
        Err(JwtError::BadSignature)
    );
    // With an empty key set nothing in the header can supply a key.
    assert_eq!(
        check(&t, &KeySet::new(), &policy()),
        Err(JwtError::NoMatchingKey)
    );
}

#[test]
fn crit_is_refused() {
    let idp = Idp::new();
    for header in [
        json!({"alg":"RS256","kid":"idp-1","crit":["http://example.invalid/unknown"],"http://example.invalid/unknown":true}),
        json!({"alg":"RS256","kid":"idp-1","crit":["b64"],"b64":false}),
        json!({"alg":"RS256","kid":"idp-1","crit":["exp"],"exp":1}),
    ] {
        let t = token(&header, &good_claims(), &Signer::Rsa(&idp.rsa));
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(JwtError::UnknownCritical),
            "{header}"
        );
    }
    for crit in [json!([]), json!("b64"), json!([1]), json!(null)] {
        let t = token(
            &json!({"alg":"RS256","kid":"idp-1","crit":crit}),
            &good_claims(),
            &Signer::Rsa(&idp.rsa),
        );
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(JwtError::MalformedHeader),
            "{crit}"
        );
    }
}

#[test]
fn claims_out_of_policy() {
    let idp = Idp::new();
    let cases: Vec<(&str, Value, JwtError)> = vec![
        (
            "expired beyond leeway",
            json!({"exp": NOW - 61}),
            JwtError::Expired,
        ),
        ("exp missing", json!({"exp": null}), JwtError::MissingExp),
        (
            "nbf in the future",
            json!({"nbf": NOW + 61}),
            JwtError::NotYetValid,
        ),
        (
            "iat in the future",
            json!({"iat": NOW + 61}),
            JwtError::IssuedInFuture,
        ),
        (
            "wrong iss",
            json!({"iss": "https://evil.example"}),
            JwtError::WrongIssuer,
        ),
        (
            "iss differs by a slash",
            json!({"iss": "https://idp.example/"}),
            JwtError::WrongIssuer,
        ),
        (
            "iss differs by case",
            json!({"iss": "https://IDP.example"}),
            JwtError::WrongIssuer,
        ),
        ("iss missing", json!({"iss": null}), JwtError::WrongIssuer),
        (
            "wrong aud",
            json!({"aud": "someone-else"}),
            JwtError::WrongAudience,
        ),
        (
            "aud array without us",
            json!({"aud": ["a", "b"]}),
            JwtError::WrongAudience,
        ),
        ("aud missing", json!({"aud": null}), JwtError::WrongAudience),
        (
            "sub missing",
            json!({"sub": null}),
            JwtError::MissingSubject,
        ),
        ("sub empty", json!({"sub": ""}), JwtError::MissingSubject),
        (
            "exp as string",
            json!({"exp": "9999999999"}),
            JwtError::InvalidClaim,
        ),
        ("aud as number", json!({"aud": 7}), JwtError::InvalidClaim),
        (
            "sub as object",
            json!({"sub": {"id": 1}}),
            JwtError::InvalidClaim,
        ),
    ];
    for (what, patch, expected) in cases {
        let mut claims = good_claims();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        let t = token(&rs_header("idp-1"), &claims, &Signer::Rsa(&idp.rsa));
        assert_eq!(check(&t, &idp.keys(), &policy()), Err(expected), "{what}");
    }
}

#[test]
fn broken_compact_form() {
    let idp = Idp::new();
    let good = token(&rs_header("idp-1"), &good_claims(), &Signer::Rsa(&idp.rsa));
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let cases: Vec<(&str, String, JwtError)> = vec![
        ("one segment", h.to_owned(), JwtError::Malformed),
        ("two segments", format!("{h}.{p}"), JwtError::Malformed),
        (
            "four segments",
            format!("{h}.{p}.{s}.{s}"),
            JwtError::Malformed,
        ),
        (
            "five segments (JWE shape)",
            format!("{h}.{p}.{s}.{s}.{s}"),
            JwtError::Malformed,
        ),
        ("trailing dot", format!("{good}."), JwtError::Malformed),
        ("empty signature", format!("{h}.{p}."), JwtError::Malformed),
        ("empty payload", format!("{h}..{s}"), JwtError::Malformed),
        ("empty header", format!(".{p}.{s}"), JwtError::Malformed),
        ("empty token", String::new(), JwtError::Malformed),
        (
            "padding on signature",
            format!("{good}=="),
            JwtError::BadEncoding,
        ),
        (
            "padding on header",
            format!("{h}=.{p}.{s}"),
            JwtError::BadEncoding,
        ),
        (
            "'+' in signature",
            format!("{h}.{p}.+{}", &s[1..]),
            JwtError::BadEncoding,
        ),
        (
            "'/' in signature",
            format!("{h}.{p}./{}", &s[1..]),
            JwtError::BadEncoding,
        ),
        (
            "space in payload",
            format!("{h}.{} {}.{s}", &p[..4], &p[4..]),
            JwtError::BadEncoding,
        ),
        (
            "'*' in header",
            format!("*{}.{p}.{s}", &h[1..]),
            JwtError::BadEncoding,
        ),
        (
            "leading whitespace",
            format!(" {good}"),
            JwtError::BadEncoding,
        ),
        (
            "newline at the end",
            format!("{good}\n"),
            JwtError::BadEncoding,
        ),
        ("non-ASCII", format!("{h}.{p}.{s}é"), JwtError::BadEncoding),
        (
            "JWS JSON serialization",
            json!({"payload": p, "protected": h, "signature": s}).to_string(),
            JwtError::JsonSerialization,
        ),
        (
            "JWS JSON with whitespace",
            format!("  {{\"payload\":\"{p}\"}}"),
            JwtError::JsonSerialization,
        ),
    ];
    for (what, t, expected) in cases {
        assert_eq!(check(&t, &idp.keys(), &policy()), Err(expected), "{what}");
    }
}

#[test]
fn size_limit() {
    let idp = Idp::new();
    let sign = |pad: usize| {
        let mut claims = good_claims();
        claims["pad"] = json!("a".repeat(pad));
        token(&rs_header("idp-1"), &claims, &Signer::Rsa(&idp.rsa))
    };
    // A properly signed 9 KiB token is refused for its size alone.
    let big = sign(6500);
    assert!(
        big.len() > 9 * 1024 - 200 && big.len() > MAX_TOKEN_BYTES,
        "{}",
        big.len()
    );
    assert_eq!(check(&big, &idp.keys(), &policy()), Err(JwtError::TooLarge));
    // The largest size reached below the limit verifies; one byte more is
    // refused. (RS256 signatures here are 256 bytes = 342 base64url chars, so
    // the length is known before signing.)
    let length = |pad: usize| {
        let mut claims = good_claims();
        claims["pad"] = json!("a".repeat(pad));
        let h = b64url_encode(rs_header("idp-1").to_string().as_bytes());
        let p = b64url_encode(claims.to_string().as_bytes());
        h.len() + 1 + p.len() + 1 + 342
    };
    let fits = (5000..6500)
        .rev()
        .find(|pad| length(*pad) <= MAX_TOKEN_BYTES)
        .unwrap();
    let (at_limit, over) = (sign(fits), sign(fits + 1));
    assert_eq!(at_limit.len(), length(fits));
    assert!(at_limit.len() >= MAX_TOKEN_BYTES - 3, "{}", at_limit.len());
    assert_eq!(check(&at_limit, &idp.keys(), &policy()), Ok(()));
    assert_eq!(
        check(&over, &idp.keys(), &policy()),
        Err(JwtError::TooLarge)
    );
}

#[test]
fn signature_by_a_key_outside_the_set_under_a_known_kid() {
    let idp = Idp::new();
    let attacker = RsaTestKey::load("attacker");
    let t = token(&rs_header("idp-1"), &good_claims(), &Signer::Rsa(&attacker));
    assert_eq!(
        check(&t, &idp.keys(), &policy()),
        Err(JwtError::BadSignature)
    );
    let t = token(
        &json!({"alg":"ES256","kid":"ec-1"}),
        &good_claims(),
        &Signer::Ec(&ec_key(200)),
    );
    assert_eq!(
        check(&t, &idp.keys(), &policy()),
        Err(JwtError::BadSignature)
    );
    let t = token(
        &json!({"alg":"EdDSA","kid":"ed-1"}),
        &good_claims(),
        &Signer::Ed(&ed_key(201)),
    );
    assert_eq!(
        check(&t, &idp.keys(), &policy()),
        Err(JwtError::BadSignature)
    );
}

#[test]
fn header_algorithm_must_match_the_named_key() {
    let idp = Idp::new();
    // An ES256 header naming the RSA key, and the reverse.
    let t = token(
        &json!({"alg":"ES256","kid":"idp-1"}),
        &good_claims(),
        &Signer::Ec(&idp.ec),
    );
    assert_eq!(
        check(&t, &idp.keys(), &policy()),
        Err(JwtError::AlgorithmMismatch)
    );
    let t = token(
        &json!({"alg":"RS256","kid":"ec-1"}),
        &good_claims(),
        &Signer::Rsa(&idp.rsa),
    );
    assert_eq!(
        check(&t, &idp.keys(), &policy()),
        Err(JwtError::AlgorithmMismatch)
    );
    for alg in [
        "RS384", "RS512", "PS256", "ES384", "ES256K", "HS512", "rs256", "RS256 ", "Ed25519",
    ] {
        let t = token(
            &json!({"alg":alg,"kid":"idp-1"}),
            &good_claims(),
            &Signer::Rsa(&idp.rsa),
        );
        assert_eq!(
            check(&t, &idp.keys(), &policy_with_secret()),
            Err(JwtError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
}

#[test]
fn duplicate_json_members() {
    let idp = Idp::new();
    let claims = good_claims().to_string();
    let dup_claims = claims.replacen('{', "{\"sub\":\"admin\",", 1);
    let cases = [
        (
            r#"{"alg":"RS256","kid":"idp-1","alg":"RS256"}"#.to_owned(),
            claims.clone(),
        ),
        (
            r#"{"alg":"none","kid":"idp-1","alg":"RS256"}"#.to_owned(),
            claims.clone(),
        ),
        (
            r#"{"alg":"RS256","kid":"other","kid":"idp-1"}"#.to_owned(),
            claims.clone(),
        ),
        (r#"{"alg":"RS256","kid":"idp-1"}"#.to_owned(), dup_claims),
        (
            r#"{"alg":"RS256","kid":"idp-1"}"#.to_owned(),
            claims.replacen('{', r#"{"ext":{"role":"user","role":"admin"},"#, 1),
        ),
    ];
    for (header, claims) in cases {
        let t = token_raw(&header, &claims, &Signer::Rsa(&idp.rsa));
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(JwtError::DuplicateKey),
            "{header} {claims}"
        );
    }
}

#[test]
fn header_and_claims_must_be_json_objects() {
    let idp = Idp::new();
    let header = r#"{"alg":"RS256","kid":"idp-1"}"#;
    for claims in [
        "[1,2,3]",
        r#"[{"sub":"x","exp":9999999999}]"#,
        "\"sub\"",
        "42",
        "null",
        "{",
        " ",
        "{} {}",
    ] {
        let t = token_raw(header, claims, &Signer::Rsa(&idp.rsa));
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(JwtError::BadJson),
            "{claims:?}"
        );
    }
    for header in [
        r#"["RS256"]"#,
        "\"RS256\"",
        "{\"alg\":\"RS256\"",
        "\u{feff}{\"alg\":\"RS256\"}",
    ] {
        let t = token_raw(header, &good_claims().to_string(), &Signer::Rsa(&idp.rsa));
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(JwtError::BadJson),
            "{header:?}"
        );
    }
    // Bytes that are not UTF-8.
    let t = format!(
        "{}.{}.AAAA",
        b64url_encode(b"{\"alg\":\"RS256\xff\"}"),
        b64url_encode(b"{}")
    );
    assert_eq!(decode(&t, &policy()).unwrap_err(), JwtError::BadJson);
    // Wrong member types in the header.
    for header in [
        json!({"alg":"RS256","kid":5}),
        json!({"alg":256}),
        json!({"kid":"idp-1"}),
    ] {
        let t = token(&header, &good_claims(), &Signer::Rsa(&idp.rsa));
        assert_eq!(
            check(&t, &idp.keys(), &policy()),
            Err(JwtError::MalformedHeader),
            "{header}"
        );
    }
}
