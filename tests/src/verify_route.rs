//! A client of the development route `POST /__dev/crypto/verify`, which runs
//! signature cases inside workerd through the worker's WebCrypto verifier or
//! its pure-Rust one (see worker/src/routes/dev.rs for the wire format).

use serde_json::{json, Value};

/// The route's path.
pub const PATH: &str = "/__dev/crypto/verify";

/// Request bodies are kept under this size (the gateway's limit is 1 MiB).
const MAX_BODY_BYTES: usize = 512 * 1024;

/// Which verifier the route runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// The gateway's verifier: WebCrypto for RSA/EC/Ed25519.
    WebCrypto,
    /// `shared::jwt::RustCryptoVerifier` compiled to wasm.
    Rust,
}

impl Implementation {
    pub const BOTH: [Implementation; 2] = [Self::WebCrypto, Self::Rust];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebCrypto => "webcrypto",
            Self::Rust => "rust",
        }
    }
}

/// Cases that share one key.
#[derive(Debug, Clone)]
pub struct VerifyGroup {
    /// The JWS algorithm name, e.g. `RS256`.
    pub alg: String,
    /// The public JWK.
    pub jwk: Value,
    /// `(message, signature)` pairs.
    pub cases: Vec<(Vec<u8>, Vec<u8>)>,
}

impl VerifyGroup {
    /// The group as the route (and the JS baseline worker) reads it.
    pub fn to_json(&self) -> Value {
        let cases: Vec<Value> = self
            .cases
            .iter()
            .map(|(msg, sig)| json!({"msg": hex(msg), "sig": hex(sig)}))
            .collect();
        json!({"alg": self.alg, "jwk": self.jwk, "cases": cases})
    }
}

/// What the route answered for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Refused,
    /// The verifier could not run (or the key did not match the algorithm).
    Error(String),
}

/// What the route answered for one group.
pub type GroupOutcome = Result<Vec<Verdict>, String>;

/// The body of one request for `groups`.
pub fn request_body(implementation: Implementation, groups: &[Value], repeat: u32) -> Value {
    json!({"implementation": implementation.as_str(), "repeat": repeat, "groups": groups})
}

/// Runs `groups` through the route at `url`, batching them into as few
/// requests as the body limit allows. One outcome per group, in order: the
/// verdicts, or the reason the key was refused.
pub async fn verify_all(
    client: &reqwest::Client,
    url: &str,
    implementation: Implementation,
    groups: &[VerifyGroup],
) -> Vec<GroupOutcome> {
    let mut outcomes = Vec::with_capacity(groups.len());
    let mut batch: Vec<Value> = Vec::new();
    let mut batch_bytes = 0;
    for group in groups {
        let json = group.to_json();
        let size = json.to_string().len();
        if !batch.is_empty() && batch_bytes + size > MAX_BODY_BYTES {
            outcomes.extend(send(client, url, implementation, &batch).await);
            batch.clear();
            batch_bytes = 0;
        }
        batch_bytes += size;
        batch.push(json);
    }
    if !batch.is_empty() {
        outcomes.extend(send(client, url, implementation, &batch).await);
    }
    outcomes
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    implementation: Implementation,
    groups: &[Value],
) -> Vec<GroupOutcome> {
    let resp = client
        .post(url)
        .json(&request_body(implementation, groups, 1))
        .send()
        .await
        .expect("verify route request");
    let status = resp.status();
    let body: Value = resp.json().await.expect("verify route JSON");
    assert_eq!(status, 200, "verify route: {body}");
    let results = body["results"].as_array().expect("results array");
    assert_eq!(results.len(), groups.len(), "one result per group: {body}");
    results.iter().map(parse_outcome).collect()
}

fn parse_outcome(result: &Value) -> GroupOutcome {
    if let Some(reason) = result.get("keyError") {
        return Err(reason.as_str().unwrap_or("key refused").to_owned());
    }
    let verdicts = result["verdicts"].as_array().expect("verdicts array");
    Ok(verdicts
        .iter()
        .map(|v| match v {
            Value::Bool(true) => Verdict::Accepted,
            Value::Bool(false) => Verdict::Refused,
            other => Verdict::Error(other["error"].as_str().unwrap_or("?").to_owned()),
        })
        .collect())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
