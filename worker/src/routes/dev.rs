//! Development-only hooks (404 in production, see the route table).
//!
//! `POST /__dev/crypto/verify` runs signature cases through one of the
//! worker's verifiers inside workerd, so the Wycheproof vectors run against
//! the WebCrypto path exactly as they run natively against the pure-Rust one,
//! and the benchmark can time both in the real runtime.
//!
//! `POST /__dev/storage/conformance` runs the storage conformance suite
//! (`storage::conformance`) against the configured back end.

use crate::body;
use crate::crypto::webcrypto::{self, AsymmetricAlg, PublicJwk};
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::response;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum Implementation {
    Webcrypto,
    Rust,
}

#[derive(Deserialize)]
struct Case {
    msg: String,
    sig: String,
}

#[derive(Deserialize)]
struct VerifyRequest {
    implementation: Implementation,
    alg: String,
    jwk: serde_json::Value,
    cases: Vec<Case>,
    #[serde(default = "one")]
    repeat: u32,
}

fn one() -> u32 {
    1
}

pub async fn crypto_verify(
    mut req: Request,
    _cx: &RequestContext<'_>,
) -> Result<Response, ApiError> {
    let request: VerifyRequest = body::json(&mut req).await?;
    let mut results = Vec::with_capacity(request.cases.len());
    for case in &request.cases {
        let msg = hex::decode(&case.msg).map_err(|_| ApiError::bad_request("`msg` must be hex"))?;
        let sig = hex::decode(&case.sig).map_err(|_| ApiError::bad_request("`sig` must be hex"))?;
        let mut verdict = None;
        for _ in 0..request.repeat.clamp(1, 100_000) {
            verdict = Some(match request.implementation {
                Implementation::Webcrypto => {
                    webcrypto_verify(&request.alg, &request.jwk, &msg, &sig).await
                }
                Implementation::Rust => Err("pure-Rust verifier not wired".to_owned()),
            });
        }
        results.push(match verdict {
            Some(Ok(ok)) => json!(ok),
            Some(Err(e)) => json!({ "error": e }),
            None => json!(null),
        });
    }
    Ok(response::json(200, &json!({ "results": results })))
}

async fn webcrypto_verify(
    alg: &str,
    jwk: &serde_json::Value,
    msg: &[u8],
    sig: &[u8],
) -> Result<bool, String> {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("jwk.{name} missing"))
    };
    let (alg, key) = match alg {
        "RS256" => (
            AsymmetricAlg::Rs256,
            PublicJwk::Rsa {
                n: member("n")?,
                e: member("e")?,
            },
        ),
        "ES256" => (
            AsymmetricAlg::Es256,
            PublicJwk::P256 {
                x: member("x")?,
                y: member("y")?,
            },
        ),
        "EdDSA" => (AsymmetricAlg::EdDsa, PublicJwk::Ed25519 { x: member("x")? }),
        other => return Err(format!("{other} is not verified through WebCrypto")),
    };
    webcrypto::verify(alg, &key, msg, sig)
        .await
        .map_err(|e| e.to_string())
}

/// `POST /__dev/storage/conformance`: every case's outcome; 200 even when
/// cases fail (the caller asserts on `cases`), 503 if the store can't open.
pub async fn storage_conformance(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let store = crate::storage::open(cx.env, cx.config)?;
    let now = (worker::Date::now().as_millis() / 1000) as i64;
    let cases = crate::storage::conformance::run(&store, cx.config, now).await?;
    Ok(response::json(
        200,
        &json!({
            "storage": format!("{:?}", cx.config.storage).to_lowercase(),
            "cases": cases,
        }),
    ))
}
