//! RFC 7515 Appendix A examples: the published tokens and keys, verbatim.

mod jwt_support;

use agentgate_shared::jwt::{
    b64url_decode, verify_token, Algorithm, JwtError, KeySet, RustCryptoVerifier, Validation,
    VerificationKey,
};
use serde_json::Value;

/// The payload shared by A.1–A.5: `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
const PAYLOAD: &str =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const EXP: u64 = 1_300_819_380;
/// A moment before the examples expire.
const BEFORE_EXP: u64 = EXP - 3600;

/// A.1: HS256, header `{"typ":"JWT",\r\n "alg":"HS256"}`.
const A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

/// A.2: RS256, header `{"alg":"RS256"}`.
const A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

/// A.3: ES256, header `{"alg":"ES256"}`.
const A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

/// A.5: unsecured, header `{"alg":"none"}`, empty signature.
const A5_TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";

fn a2_token() -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.{PAYLOAD}.{A2_SIGNATURE}")
}

fn a3_token() -> String {
    format!("eyJhbGciOiJFUzI1NiJ9.{PAYLOAD}.{A3_SIGNATURE}")
}

fn hs_key() -> VerificationKey {
    VerificationKey::hmac(&b64url_decode(A1_KEY).unwrap()).unwrap()
}

fn rs_key() -> VerificationKey {
    VerificationKey::rsa(&b64url_decode(A2_N).unwrap(), &[1, 0, 1]).unwrap()
}

fn es_key() -> VerificationKey {
    VerificationKey::p256(&b64url_decode(A3_X).unwrap(), &b64url_decode(A3_Y).unwrap()).unwrap()
}

/// The examples carry no `sub`; everything else is the default policy.
fn policy(alg: Algorithm) -> Validation {
    Validation::new(&[alg]).require_subject(false)
}

fn all_keys() -> KeySet {
    KeySet::new().with(hs_key()).with(rs_key()).with(es_key())
}

#[test]
fn a1_hs256_verifies() {
    let keys = KeySet::new().with(hs_key());
    let claims = verify_token(
        A1_TOKEN,
        &keys,
        &policy(Algorithm::Hs256),
        &RustCryptoVerifier,
        BEFORE_EXP,
    )
    .expect("RFC 7515 A.1 must verify");
    assert_eq!(claims.iss.as_deref(), Some("joe"));
    assert_eq!(claims.exp, EXP);
    assert_eq!(claims.alg, Algorithm::Hs256);
    assert_eq!(claims.raw["http://example.com/is_root"], Value::Bool(true));
}

#[test]
fn a2_rs256_verifies() {
    let keys = KeySet::new().with(rs_key());
    let claims = verify_token(
        &a2_token(),
        &keys,
        &policy(Algorithm::Rs256),
        &RustCryptoVerifier,
        BEFORE_EXP,
    )
    .expect("RFC 7515 A.2 must verify");
    assert_eq!(claims.iss.as_deref(), Some("joe"));
    assert_eq!(claims.alg, Algorithm::Rs256);
}

#[test]
fn a3_es256_verifies() {
    let keys = KeySet::new().with(es_key());
    let claims = verify_token(
        &a3_token(),
        &keys,
        &policy(Algorithm::Es256),
        &RustCryptoVerifier,
        BEFORE_EXP,
    )
    .expect("RFC 7515 A.3 must verify");
    assert_eq!(claims.alg, Algorithm::Es256);
}

#[test]
fn a5_unsecured_is_refused_whatever_the_policy() {
    let everything = Validation::new(&Algorithm::ALL).require_subject(false);
    assert_eq!(
        verify_token(
            A5_TOKEN,
            &all_keys(),
            &everything,
            &RustCryptoVerifier,
            BEFORE_EXP
        )
        .unwrap_err(),
        JwtError::UnsecuredToken
    );
}

#[test]
fn examples_expire_and_bind_to_their_keys() {
    let everything = Validation::new(&Algorithm::ALL).require_subject(false);
    let keys = all_keys();
    for token in [A1_TOKEN.to_owned(), a2_token(), a3_token()] {
        verify_token(&token, &keys, &everything, &RustCryptoVerifier, BEFORE_EXP).unwrap();
        // exp + leeway (60 s) is the first refused second.
        assert!(verify_token(&token, &keys, &everything, &RustCryptoVerifier, EXP + 59).is_ok());
        assert_eq!(
            verify_token(&token, &keys, &everything, &RustCryptoVerifier, EXP + 60).unwrap_err(),
            JwtError::Expired
        );
    }
    // Each example against only the other examples' keys.
    assert_eq!(
        verify_token(
            A1_TOKEN,
            &KeySet::new().with(rs_key()).with(es_key()),
            &everything,
            &RustCryptoVerifier,
            BEFORE_EXP
        )
        .unwrap_err(),
        JwtError::NoMatchingKey
    );
    // A policy that does not allow the example's algorithm.
    assert_eq!(
        verify_token(
            A1_TOKEN,
            &keys,
            &policy(Algorithm::Rs256),
            &RustCryptoVerifier,
            BEFORE_EXP
        )
        .unwrap_err(),
        JwtError::AlgorithmNotAllowed
    );
}

#[test]
fn a_flipped_signature_bit_is_refused() {
    let keys = all_keys();
    let everything = Validation::new(&Algorithm::ALL).require_subject(false);
    for token in [A1_TOKEN.to_owned(), a2_token(), a3_token()] {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut bytes = b64url_decode(sig).unwrap();
        bytes[5] ^= 0x01;
        let tampered = format!("{input}.{}", agentgate_shared::jwt::b64url_encode(&bytes));
        assert_eq!(
            verify_token(
                &tampered,
                &keys,
                &everything,
                &RustCryptoVerifier,
                BEFORE_EXP
            )
            .unwrap_err(),
            JwtError::BadSignature
        );
    }
}
