//! Development-only hooks (404 in production, see the route table).
//!
//! `POST /__dev/crypto/verify` runs signature cases inside workerd through
//! either of the worker's verifiers: the one the gateway uses
//! ([`WorkerVerifier`]: WebCrypto for RSA/EC/Ed25519) or the pure-Rust one
//! compiled to wasm ([`RustCryptoVerifier`]). One code path serves both, so
//! the Wycheproof vectors hold both to the same policy in the real runtime,
//! and the verify benchmark times both.
//!
//! Request: `{"implementation": "webcrypto"|"rust", "repeat"?: n,
//! "groups": [{"alg", "jwk", "cases": [{"msg": hex, "sig": hex}]}]}`. Each
//! case is verified `repeat` times (1 by default), for timing. Answer:
//! `{"results": [{"verdicts": [true|false|{"error"}…]} | {"keyError"}]}`,
//! one per group: a JWK that `shared::jwt` refuses is reported, not used.
//!
//! `POST /__dev/storage/conformance` runs the storage conformance suite
//! (`storage::conformance`) against the configured back end.
//!
//! `POST /__dev/panic` panics with [`PANIC_MESSAGE`], to show that a panic's
//! message is logged (tests/tests/hardening.rs).

use crate::context::RequestContext;
use crate::crypto::WorkerVerifier;
use crate::error::ApiError;
use crate::http::body;
use crate::http::response;
use agentgate_shared::jwt::{
    Algorithm, AsyncSignatureVerifier, Jwk, RustCryptoVerifier, SignatureError, VerificationKey,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use worker::{Request, Response};

/// What `POST /__dev/panic` panics with.
const PANIC_MESSAGE: &str = "deliberate panic from /__dev/panic";

/// `POST /__dev/panic`: never returns.
pub fn panic() -> Result<Response, ApiError> {
    panic!("{PANIC_MESSAGE}")
}

/// The most times one case may be repeated.
const MAX_REPEAT: u32 = 100_000;

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
struct Group {
    alg: String,
    jwk: Map<String, Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct VerifyRequest {
    implementation: Implementation,
    groups: Vec<Group>,
    #[serde(default = "one")]
    repeat: u32,
}

fn one() -> u32 {
    1
}

/// A group ready to run: its key (or why `shared::jwt` refused it) and its
/// decoded cases.
struct PreparedGroup {
    alg: Algorithm,
    key: Result<VerificationKey, &'static str>,
    cases: Vec<(Vec<u8>, Vec<u8>)>,
}

pub async fn crypto_verify(
    mut req: Request,
    _cx: &RequestContext<'_>,
) -> Result<Response, ApiError> {
    let request: VerifyRequest = body::json(&mut req).await?;
    let groups = request
        .groups
        .iter()
        .map(prepare)
        .collect::<Result<Vec<_>, _>>()?;
    let repeat = request.repeat.clamp(1, MAX_REPEAT);
    let results = match request.implementation {
        Implementation::Webcrypto => run(&WorkerVerifier, &groups, repeat).await,
        Implementation::Rust => run(&RustCryptoVerifier, &groups, repeat).await,
    };
    Ok(response::json(200, &json!({ "results": results })))
}

fn prepare(group: &Group) -> Result<PreparedGroup, ApiError> {
    let alg = Algorithm::from_name(&group.alg)
        .ok_or_else(|| ApiError::bad_request("`alg` is not a supported algorithm"))?;
    let key = Jwk::from_json(&group.jwk)
        .and_then(|jwk| jwk.to_key())
        .map_err(|e| e.reason());
    let hex =
        |text: &str, what: &'static str| hex::decode(text).map_err(|_| ApiError::bad_request(what));
    let cases = group
        .cases
        .iter()
        .map(|c| {
            Ok((
                hex(&c.msg, "`msg` must be hex")?,
                hex(&c.sig, "`sig` must be hex")?,
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(PreparedGroup { alg, key, cases })
}

/// Runs every group through `verifier`.
async fn run<V: AsyncSignatureVerifier>(
    verifier: &V,
    groups: &[PreparedGroup],
    repeat: u32,
) -> Vec<Value> {
    let mut results = Vec::with_capacity(groups.len());
    for group in groups {
        let key = match &group.key {
            Ok(key) => key,
            Err(reason) => {
                results.push(json!({ "keyError": reason }));
                continue;
            }
        };
        let mut verdicts = Vec::with_capacity(group.cases.len());
        for (msg, sig) in &group.cases {
            let mut outcome = Err(SignatureError::Backend);
            for _ in 0..repeat {
                outcome = verifier.verify_async(group.alg, key, msg, sig).await;
            }
            verdicts.push(match outcome {
                Ok(()) => json!(true),
                Err(SignatureError::Invalid) => json!(false),
                Err(SignatureError::KeyMismatch) => json!({ "error": "key mismatch" }),
                Err(_) => json!({ "error": "verifier failed to run" }),
            });
        }
        results.push(json!({ "verdicts": verdicts }));
    }
    results
}

/// `POST /__dev/storage/conformance`: every case's outcome; 200 even when
/// cases fail (the caller asserts on `cases`), 503 if the store can't open.
pub async fn storage_conformance(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let store = cx.store()?;
    let now = (worker::Date::now().as_millis() / 1000) as i64;
    let cases = crate::storage::conformance::run(store, cx.config, now).await?;
    Ok(response::json(
        200,
        &json!({
            "storage": format!("{:?}", cx.config.storage).to_lowercase(),
            "cases": cases,
        }),
    ))
}
