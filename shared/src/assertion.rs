//! The gateway's identity assertion (SPEC §13): a 60 s EdDSA JWT the gateway
//! signs for every request it forwards to the agent origin, naming who the
//! caller is. The origin verifies it against the gateway's
//! `/.well-known/jwks.json`.
//!
//! Sans-IO: the key material, `now` and the `jti` come in as parameters.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use jwt_compact::alg::Ed25519;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How long an assertion is valid, in seconds.
pub const ASSERTION_TTL_SECS: u64 = 60;
/// The request header that carries the assertion to the origin.
pub const ASSERTION_HEADER: &str = "X-Agentgate-Assertion";

/// The DER prefix of a PKCS#8 (RFC 8410) Ed25519 private key; the 32-byte
/// seed follows it.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// An Ed25519 signing key and its RFC 7638 thumbprint (`kid`). Deliberately
/// not `Debug`: it is secret material.
#[derive(Clone)]
pub struct AssertionKey {
    key: ed25519_dalek::SigningKey,
    kid: String,
}

impl AssertionKey {
    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        // RFC 7638: the required members, lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Self { key, kid }
    }

    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) Ed25519 key, or a
    /// 32-byte seed in base64 or base64url. The reason names the problem,
    /// never the key.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        let seed: Vec<u8> = if let Some(rest) = text.strip_prefix("-----BEGIN PRIVATE KEY-----") {
            let body = rest
                .strip_suffix("-----END PRIVATE KEY-----")
                .ok_or("a PEM key must end with -----END PRIVATE KEY-----")?;
            let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let der = STANDARD
                .decode(b64)
                .map_err(|_| "the PEM body is not base64")?;
            match der.strip_prefix(&PKCS8_ED25519_PREFIX[..]) {
                Some(seed) if der.len() == 48 => seed.to_vec(),
                _ => return Err("the PEM key is not a PKCS#8 Ed25519 private key"),
            }
        } else {
            let cleaned = text.trim_end_matches('=');
            URL_SAFE_NO_PAD
                .decode(cleaned.replace('+', "-").replace('/', "_"))
                .map_err(|_| "must be a PKCS#8 PEM Ed25519 key or a base64 32-byte seed")?
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| "an Ed25519 seed must be 32 bytes")?;
        Ok(Self::from_seed(seed))
    }

    /// The RFC 7638 JWK thumbprint, used as `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK (for `/.well-known/jwks.json`).
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// Signs `claims` as a compact JWS (`alg: EdDSA`, `typ: JWT`, this key's
    /// `kid`), minted by `jwt-compact`.
    pub fn sign(&self, claims: &AssertionClaims) -> Result<String, SignError> {
        let header = Header::empty()
            .with_key_id(self.kid.clone())
            .with_token_type("JWT");
        let at = |secs: u64| {
            i64::try_from(secs)
                .ok()
                .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
                .ok_or(SignError::Time)
        };
        let mut jwt = Claims::new(claims.custom());
        jwt.issued_at = Some(at(claims.iat)?);
        jwt.expiration = Some(at(claims.exp)?);
        Ed25519
            .token(&header, &jwt, &self.key)
            .map_err(|e| SignError::Encode(e.to_string()))
    }
}

/// Why an assertion could not be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("an assertion time is out of range")]
    Time,
    #[error("the assertion could not be encoded: {0}")]
    Encode(String),
}

/// The public key set: the current key, and the previous one during rotation.
pub fn public_jwks(current: Option<&AssertionKey>, previous: Option<&AssertionKey>) -> Value {
    let keys: Vec<Value> = current
        .into_iter()
        .chain(previous)
        .map(AssertionKey::public_jwk)
        .collect();
    json!({ "keys": keys })
}

/// What an assertion states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    /// The gateway (its public origin).
    pub iss: String,
    /// The agent origin the request goes to.
    pub aud: String,
    /// The caller's entity id.
    pub sub: String,
    pub server_id: String,
    /// The caller's permissions (`agent:read`, …).
    pub scopes: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

impl AssertionClaims {
    /// Claims issued at `now`, valid for [`ASSERTION_TTL_SECS`].
    pub fn new(
        iss: impl Into<String>,
        aud: impl Into<String>,
        sub: impl Into<String>,
        server_id: impl Into<String>,
        scopes: Vec<String>,
        now: u64,
        jti: impl Into<String>,
    ) -> Self {
        Self {
            iss: iss.into(),
            aud: aud.into(),
            sub: sub.into(),
            server_id: server_id.into(),
            scopes,
            iat: now,
            exp: now + ASSERTION_TTL_SECS,
            jti: jti.into(),
        }
    }

    /// The claims besides the times (`iat`, `exp` are jwt-compact's).
    fn custom(&self) -> Value {
        json!({
            "iss": self.iss,
            "aud": self.aud,
            "sub": self.sub,
            "server_id": self.server_id,
            "scopes": self.scopes,
            "scope": self.scopes.join(" "),
            "jti": self.jti,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{verify_token, Algorithm, JwkSet, JwtError, RustCryptoVerifier, Validation};

    const NOW: u64 = 1_800_000_000;
    const ORIGIN: &str = "https://agents.example";

    fn key(byte: u8) -> AssertionKey {
        AssertionKey::from_seed([byte; 32])
    }

    fn claims() -> AssertionClaims {
        AssertionClaims::new(
            "https://gateway.example",
            ORIGIN,
            "entity-1",
            "server-1",
            vec!["agent:read".into(), "memory:read".into()],
            NOW,
            "jti-1",
        )
    }

    fn verify(token: &str, jwks: &Value, aud: &str, now: u64) -> Result<(), JwtError> {
        let set = JwkSet::parse(jwks.to_string().as_bytes()).expect("jwks");
        let policy = Validation::new(&[Algorithm::EdDsa])
            .with_leeway(0)
            .with_audience(Some(aud.to_owned()));
        verify_token(token, set.keys(), &policy, &RustCryptoVerifier, now).map(|_| ())
    }

    #[test]
    fn signed_assertion_verifies_against_the_published_set() {
        let k = key(7);
        let token = k.sign(&claims()).unwrap();
        let jwks = public_jwks(Some(&k), None);
        assert_eq!(verify(&token, &jwks, ORIGIN, NOW + 1), Ok(()));
        let payload = token.split('.').nth(1).unwrap();
        let decoded: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(decoded["sub"], "entity-1");
        assert_eq!(decoded["exp"], NOW + 60);
        assert_eq!(decoded["scopes"], json!(["agent:read", "memory:read"]));
    }

    #[test]
    fn refused_when_expired_for_another_audience_or_another_key() {
        let k = key(7);
        let token = k.sign(&claims()).unwrap();
        let jwks = public_jwks(Some(&k), None);
        let other = public_jwks(Some(&key(8)), None);
        let cases: &[(&Value, &str, u64, bool)] = &[
            (&jwks, ORIGIN, NOW + 59, true),
            (&jwks, ORIGIN, NOW + 60, false),
            (&jwks, ORIGIN, NOW + 3600, false),
            (&jwks, "https://elsewhere.example", NOW, false),
            (&other, ORIGIN, NOW, false),
        ];
        for (set, aud, now, ok) in cases {
            assert_eq!(
                verify(&token, set, aud, *now).is_ok(),
                *ok,
                "{aud} at {now}"
            );
        }
    }

    #[test]
    fn rotation_publishes_both_keys_and_either_verifies() {
        let (current, previous) = (key(1), key(2));
        let jwks = public_jwks(Some(&current), Some(&previous));
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        for k in [&current, &previous] {
            assert_eq!(
                verify(&k.sign(&claims()).unwrap(), &jwks, ORIGIN, NOW),
                Ok(())
            );
        }
        assert_eq!(public_jwks(None, None), json!({ "keys": [] }));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap()
            .try_into()
            .unwrap();
        let k = AssertionKey::from_seed(seed);
        assert_eq!(k.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(
            k.public_jwk()["x"],
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
    }

    #[test]
    fn parses_pem_and_seed_forms_and_refuses_the_rest() {
        let seed = [9u8; 32];
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(&der)
        );
        let expected = AssertionKey::from_seed(seed);
        for text in [
            pem.as_str(),
            &STANDARD.encode(seed),
            &URL_SAFE_NO_PAD.encode(seed),
        ] {
            assert_eq!(AssertionKey::parse(text).unwrap().kid(), expected.kid());
        }
        for bad in [
            "",
            "not base64!",
            &STANDARD.encode([1u8; 31]),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA",
        ] {
            assert!(AssertionKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
