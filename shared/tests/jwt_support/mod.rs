//! Shared helpers for the JWT, Wycheproof and bootstrap integration tests:
//! fixed test keys, a token builder and a poll-once executor.
#![allow(dead_code)] // each test file uses a different subset

use agentgate_shared::jwt::wycheproof::VectorKind;
use agentgate_shared::jwt::{b64url_decode, b64url_encode, KeySet, VerificationKey};
use serde_json::Value;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The Wycheproof test set behind each vector kind, as the `wycheproof`
/// crate bundles it (a dev-dependency: the same files the runner was written
/// against, nothing read from outside the repository).
pub fn wycheproof(kind: VectorKind) -> &'static str {
    use ::wycheproof::{ecdsa, eddsa, mac, rsa_pkcs1_verify};
    match kind {
        VectorKind::RsaPkcs1Sha256 => rsa_pkcs1_verify::TestName::Rsa2048Sha256.json_data(),
        VectorKind::EcdsaP256Sha256P1363 => ecdsa::TestName::EcdsaSecp256r1Sha256P1363.json_data(),
        VectorKind::Ed25519 => eddsa::TestName::Ed25519.json_data(),
        VectorKind::HmacSha256 => mac::TestName::HmacSha256.json_data(),
    }
}

/// Runs a future that completes without waiting (every verifier here is
/// synchronous underneath).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the future was expected to be ready"),
    }
}

/// A fixed RSA-2048 test key (tests/data/jwt/rsa_keys.json).
#[derive(Clone)]
pub struct RsaTestKey {
    pub private: rsa::RsaPrivateKey,
    pub n: String,
    pub e: String,
    pub public_pem: String,
    pub public_pkcs1_pem: String,
    pub public_der: Vec<u8>,
}

impl RsaTestKey {
    pub fn load(name: &str) -> Self {
        let text = include_str!("../data/jwt/rsa_keys.json");
        let doc: Value = serde_json::from_str(text).unwrap();
        let k = &doc["keys"][name];
        let s = |m: &str| k[m].as_str().unwrap().to_owned();
        let big = |m: &str| rsa::BigUint::from_bytes_be(&b64url_decode(&s(m)).unwrap());
        let private = rsa::RsaPrivateKey::from_components(
            big("n"),
            big("e"),
            big("d"),
            vec![big("p"), big("q")],
        )
        .unwrap();
        use base64::Engine;
        let public_der = base64::engine::general_purpose::STANDARD
            .decode(s("public_der_b64"))
            .unwrap();
        Self {
            private,
            n: s("n"),
            e: s("e"),
            public_pem: s("public_pem"),
            public_pkcs1_pem: s("public_pkcs1_pem"),
            public_der,
        }
    }

    pub fn verification_key(&self) -> VerificationKey {
        VerificationKey::rsa(
            &b64url_decode(&self.n).unwrap(),
            &b64url_decode(&self.e).unwrap(),
        )
        .unwrap()
    }

    pub fn public_jwk(&self, kid: &str) -> Value {
        serde_json::json!({"kty":"RSA","use":"sig","alg":"RS256","kid":kid,"n":self.n,"e":self.e})
    }

    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding, Signer};
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.private.clone());
        signer.sign(input).to_vec()
    }
}

/// A P-256 key from a fixed seed.
pub fn ec_key(seed: u8) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()
}

pub fn ec_coordinates(key: &p256::ecdsa::SigningKey) -> (Vec<u8>, Vec<u8>) {
    let point = key.verifying_key().to_encoded_point(false);
    (point.x().unwrap().to_vec(), point.y().unwrap().to_vec())
}

pub fn ec_verification_key(key: &p256::ecdsa::SigningKey) -> VerificationKey {
    let (x, y) = ec_coordinates(key);
    VerificationKey::p256(&x, &y).unwrap()
}

pub fn ec_public_jwk(key: &p256::ecdsa::SigningKey, kid: &str) -> Value {
    let (x, y) = ec_coordinates(key);
    serde_json::json!({"kty":"EC","crv":"P-256","kid":kid,"x":b64url_encode(&x),"y":b64url_encode(&y)})
}

/// An Ed25519 key from a fixed seed.
pub fn ed_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

pub fn ed_verification_key(key: &ed25519_dalek::SigningKey) -> VerificationKey {
    VerificationKey::ed25519(key.verifying_key().as_bytes()).unwrap()
}

pub fn ed_public_jwk(key: &ed25519_dalek::SigningKey, kid: &str) -> Value {
    serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":kid,"x":b64url_encode(key.verifying_key().as_bytes())})
}

pub fn hmac_sha256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// How a test token is signed.
pub enum Signer<'a> {
    Rsa(&'a RsaTestKey),
    Ec(&'a p256::ecdsa::SigningKey),
    Ed(&'a ed25519_dalek::SigningKey),
    Hmac(&'a [u8]),
    /// An empty signature segment.
    Nothing,
    /// These bytes as the signature.
    Raw(Vec<u8>),
}

impl Signer<'_> {
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        match self {
            Signer::Rsa(k) => k.sign(input),
            Signer::Ec(k) => {
                use p256::ecdsa::signature::Signer as _;
                let sig: p256::ecdsa::Signature = k.sign(input);
                sig.to_bytes().to_vec()
            }
            Signer::Ed(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(input).to_bytes().to_vec()
            }
            Signer::Hmac(secret) => hmac_sha256(secret, input),
            Signer::Nothing => Vec::new(),
            Signer::Raw(bytes) => bytes.clone(),
        }
    }
}

/// A compact JWS over the exact header and claims text given.
pub fn token_raw(header_json: &str, claims_json: &str, signer: &Signer) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(header_json.as_bytes()),
        b64url_encode(claims_json.as_bytes())
    );
    let sig = signer.sign(input.as_bytes());
    format!("{input}.{}", b64url_encode(&sig))
}

/// A compact JWS over JSON values.
pub fn token(header: &Value, claims: &Value, signer: &Signer) -> String {
    token_raw(&header.to_string(), &claims.to_string(), signer)
}

/// The test clock.
pub const NOW: u64 = 1_750_000_000;

/// Claims that pass the default test policy at [`NOW`].
pub fn good_claims() -> Value {
    serde_json::json!({
        "iss": "https://idp.example",
        "sub": "user-1",
        "aud": "agentgate",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 600,
        "jti": "jti-1",
    })
}

/// The IdP's keys: RSA `idp-1`, P-256 `ec-1`, Ed25519 `ed-1`.
pub struct Idp {
    pub rsa: RsaTestKey,
    pub ec: p256::ecdsa::SigningKey,
    pub ed: ed25519_dalek::SigningKey,
}

impl Idp {
    pub fn new() -> Self {
        Self {
            rsa: RsaTestKey::load("idp"),
            ec: ec_key(11),
            ed: ed_key(12),
        }
    }

    pub fn keys(&self) -> KeySet {
        KeySet::new()
            .with(self.rsa.verification_key().with_kid("idp-1"))
            .with(ec_verification_key(&self.ec).with_kid("ec-1"))
            .with(ed_verification_key(&self.ed).with_kid("ed-1"))
    }
}

/// A shared secret of the required length.
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-shared";
