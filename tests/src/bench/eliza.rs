//! Benchmark `eliza`: the latency the gateway adds to `GET /api/agents` in
//! front of the real ElizaOS 1.7.2 origin (closed with its own key), side by
//! side in one run with the origin directly and a plain JavaScript
//! pass-through worker (bench/proxy-baseline). Rate limits are off, so the
//! figure is authentication (a machine token in `X-API-KEY`, as the
//! api-client sends it), the registry read, forwarding and filtering.

use crate::bench::origin::{side_by_side, Targets};
use crate::eliza::ElizaOrigin;
use crate::http::client;
use crate::session::setup_owner;
use crate::Gateway;
use reqwest::Method;
use serde_json::json;

const ORIGIN_KEY: &str = "bench-origin-key-0123456789";
const SIGNING_SEED: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
// ElizaOS limits each client IP to 1000 requests per 15 min; the three
// sides (all from loopback) share that budget.
const ROUNDS: usize = 250;

pub async fn run() -> Result<(), String> {
    let origin = ElizaOrigin::builder().auth_token(ORIGIN_KEY).start().await;
    let gw = Gateway::builder()
        .var("AGENT_ORIGIN_URL", origin.url())
        .var("AGENT_ORIGIN_API_KEY", ORIGIN_KEY)
        .var("GATEWAY_SIGNING_KEY", SIGNING_SEED)
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    let baseline = Gateway::builder()
        .config(crate::process::repo_root().join("bench/proxy-baseline/wrangler.toml"))
        .var("ORIGIN", origin.url())
        .start()
        .await;
    let (owner, _) = setup_owner(&gw).await;
    let created = owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "bench", "scopes": ["agent:read", "agent:create"]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let created: serde_json::Value = created.json().await.map_err(|e| e.to_string())?;
    let token = created["token"]
        .as_str()
        .ok_or("no machine token")?
        .to_owned();
    let client = client();
    // Two agents at the origin: one created through the gateway (the
    // caller's), one directly (the deployment owner's, adopted on sight).
    for (base, key, name) in [
        (gw.url(""), token.as_str(), "bench gateway agent"),
        (origin.url().to_owned(), ORIGIN_KEY, "bench origin agent"),
    ] {
        let resp = client
            .post(format!("{base}/api/agents"))
            .header("x-api-key", key)
            .json(&json!({"characterJson": {"name": name, "bio": ["bench"]}}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status() != 201 {
            return Err(format!("creating {name}: status {}", resp.status()));
        }
    }
    let direct = origin.url_for("/api/agents");
    let urls = Targets {
        direct: (&direct, Some(("x-api-key", ORIGIN_KEY))),
        baseline: (
            &baseline.url("/api/agents"),
            Some(("x-api-key", ORIGIN_KEY)),
        ),
        gateway: (&gw.url("/api/agents"), Some(("x-api-key", &token))),
    };
    println!("eliza: gateway (wrangler dev, release wasm) in front of ElizaOS 1.7.2 on loopback");
    side_by_side("GET /api/agents", &client, &urls, ROUNDS, None).await
}
