//! Test signing keys (fixed, in tests/data/keys) and token minting with them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// A private key the harness signs with, as an identity provider would.
pub enum TestKey {
    Rsa {
        kid: String,
        key: rsa::RsaPrivateKey,
    },
    Ec {
        kid: String,
        key: p256::ecdsa::SigningKey,
    },
    Ed {
        kid: String,
        key: ed25519_dalek::SigningKey,
    },
}

fn pem(name: &str) -> String {
    let path = crate::process::repo_root()
        .join("tests/data/keys")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl TestKey {
    /// An RSA key from `tests/data/keys/<file>` (PKCS#8 PEM).
    pub fn rsa(file: &str, kid: &str) -> Self {
        use rsa::pkcs8::DecodePrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem(file)).expect("rsa pem");
        Self::Rsa {
            kid: kid.into(),
            key,
        }
    }

    pub fn ec(file: &str, kid: &str) -> Self {
        use p256::pkcs8::DecodePrivateKey;
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem(file)).expect("ec pem");
        Self::Ec {
            kid: kid.into(),
            key,
        }
    }

    pub fn ed(file: &str, kid: &str) -> Self {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem(file)).expect("ed pem");
        Self::Ed {
            kid: kid.into(),
            key,
        }
    }

    pub fn kid(&self) -> &str {
        match self {
            Self::Rsa { kid, .. } | Self::Ec { kid, .. } | Self::Ed { kid, .. } => kid,
        }
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Self::Rsa { .. } => "RS256",
            Self::Ec { .. } => "ES256",
            Self::Ed { .. } => "EdDSA",
        }
    }

    /// The public JWK, as a JWKS would publish it.
    pub fn public_jwk(&self) -> Value {
        match self {
            Self::Rsa { kid, key } => {
                use rsa::traits::PublicKeyParts;
                json!({
                    "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                    "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                })
            }
            Self::Ec { kid, key } => {
                let point = key.verifying_key().to_encoded_point(false);
                json!({
                    "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                    "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
                    "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
                })
            }
            Self::Ed { kid, key } => json!({
                "kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA",
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            }),
        }
    }

    /// The RSA public key as SPKI DER and PEM bytes (for the HS256 key
    /// confusion attack).
    pub fn rsa_public_key_encodings(&self) -> Vec<Vec<u8>> {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let Self::Rsa { key, .. } = self else {
            panic!("not an RSA key")
        };
        let public = key.to_public_key();
        vec![
            public.to_public_key_der().expect("der").as_bytes().to_vec(),
            public
                .to_public_key_pem(LineEnding::LF)
                .expect("pem")
                .into_bytes(),
        ]
    }

    /// Signs `claims` with this key; `header` entries are merged over the
    /// default `{alg, typ, kid}`.
    pub fn sign(&self, claims: &Value, header: &Value) -> String {
        let mut h = json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid()});
        if let (Some(h), Some(extra)) = (h.as_object_mut(), header.as_object()) {
            for (k, v) in extra {
                if v.is_null() {
                    h.remove(k);
                } else {
                    h.insert(k.clone(), v.clone());
                }
            }
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(h.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign_bytes(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// A raw signature over `data` (RS256 PKCS#1 v1.5, ES256 r||s, Ed25519).
    pub fn sign_bytes(&self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Rsa { key, .. } => {
                use rsa::signature::{SignatureEncoding, Signer};
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
                signer.sign(data).to_vec()
            }
            Self::Ec { key, .. } => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = key.sign(data);
                sig.to_bytes().to_vec()
            }
            Self::Ed { key, .. } => {
                use ed25519_dalek::Signer;
                key.sign(data).to_bytes().to_vec()
            }
        }
    }
}
