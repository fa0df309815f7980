//! Benchmark `origin`: the latency the gateway adds in front of the agent
//! origin. The same requests go to the test origin directly and through
//! agentgate (authentication with a JWT, registry ownership check, assertion
//! signing, forwarding, streaming back), interleaved so both sides see the
//! same machine noise: a small GET, and a 1 MiB streamed response. A third
//! column is a plain JavaScript pass-through worker under the same `wrangler
//! dev` (bench/proxy-baseline): what the runtime costs by itself.

use crate::bench::summary;
use crate::http::client;
use crate::jwt::{hs256, now};
use crate::origin::TestOrigin;
use crate::Gateway;
use reqwest::Client;
use serde_json::json;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-origin-shared-secret-at-least-32-bytes";
const SIGNING_SEED: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SMALL_ROUNDS: usize = 300;
const LARGE_ROUNDS: usize = 40;
const LARGE_BYTES: usize = 1024 * 1024;

/// A header one side's requests carry (its credential).
pub(crate) type Credential<'a> = Option<(&'a str, &'a str)>;

/// One timed GET; the whole body is read. Fails on a non-200 or a short body.
async fn timed_get(
    client: &Client,
    url: &str,
    credential: Credential<'_>,
    expect_bytes: Option<usize>,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut req = client.get(url);
    if let Some((name, value)) = credential {
        req = req.header(name, value);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    if status != 200 {
        return Err(format!("{url}: status {status}"));
    }
    if let Some(n) = expect_bytes {
        if body.len() != n {
            return Err(format!("{url}: {} bytes, expected {n}", body.len()));
        }
    }
    Ok(elapsed)
}

/// The three URLs one request is timed against, each with its credential.
pub(crate) struct Targets<'a> {
    pub direct: (&'a str, Credential<'a>),
    pub baseline: (&'a str, Credential<'a>),
    pub gateway: (&'a str, Credential<'a>),
}

/// Runs `rounds` interleaved direct/baseline/gateway triples (after a
/// warm-up) and prints the distributions and what the gateway adds.
pub(crate) async fn side_by_side(
    label: &str,
    client: &Client,
    urls: &Targets<'_>,
    rounds: usize,
    expect_bytes: Option<usize>,
) -> Result<(), String> {
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds + 20 {
        let d = timed_get(client, urls.direct.0, urls.direct.1, expect_bytes).await?;
        let b = timed_get(client, urls.baseline.0, urls.baseline.1, expect_bytes).await?;
        let g = timed_get(client, urls.gateway.0, urls.gateway.1, expect_bytes).await?;
        if round >= 20 {
            for (v, t) in samples.iter_mut().zip([d, b, g]) {
                v.push(t);
            }
        }
    }
    for v in &mut samples {
        v.sort();
    }
    let [d, b, g] = samples;
    let p = |v: &[Duration], q: f64| crate::bench::percentile_us(v, q);
    println!(
        "{}",
        summary(&format!("{label}: direct to origin"), d.clone())
    );
    println!(
        "{}",
        summary(&format!("{label}: plain JS pass-through"), b.clone())
    );
    println!(
        "{}",
        summary(&format!("{label}: through agentgate"), g.clone())
    );
    println!(
        "{:<56} p50={:>+10.1} µs  p99={:>+10.1} µs",
        format!("{label}: agentgate added vs direct"),
        p(&g, 50.0) - p(&d, 50.0),
        p(&g, 99.0) - p(&d, 99.0)
    );
    println!(
        "{:<56} p50={:>+10.1} µs  p99={:>+10.1} µs",
        format!("{label}: agentgate added vs pass-through"),
        p(&g, 50.0) - p(&b, 50.0),
        p(&g, 99.0) - p(&b, 99.0)
    );
    Ok(())
}

pub async fn run() -> Result<(), String> {
    let origin = TestOrigin::start().await;
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("GATEWAY_SIGNING_KEY", SIGNING_SEED)
        .var("AGENT_ORIGIN_URL", &origin.base_url)
        // Hundreds of requests a minute exceed the SPEC's agent:read limit;
        // the limiter's own cost is measured by `bench/run.sh ratelimit`.
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    let baseline = Gateway::builder()
        .config(crate::process::repo_root().join("bench/proxy-baseline/wrangler.toml"))
        .var("ORIGIN", &origin.base_url)
        .start()
        .await;
    let t = now();
    let token = hs256(SECRET, &json!({"sub": "bench", "iat": t, "exp": t + 3600}));
    let client = client();
    // The create is forwarded too: the origin answers as ElizaOS would
    // (no such agent yet, then created).
    let agent = agentgate_shared::entity_id::eliza_uuid("bench");
    origin.script(
        &format!("GET /api/agents/{agent}"),
        404,
        json!({"success": false}),
    );
    origin.script(
        "POST /api/agents",
        201,
        json!({"success": true, "data": {"id": agent}}),
    );
    let resp = client
        .post(gw.url("/api/agents"))
        .bearer_auth(&token)
        .json(&json!({"name": "bench"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.status() != 201 {
        return Err(format!("registering the agent: status {}", resp.status()));
    }
    let path = format!("/api/agents/{agent}/logs");
    let direct = origin.base_url.clone() + &path;
    let bearer = format!("Bearer {token}");
    let urls = Targets {
        direct: (&direct, None),
        baseline: (&baseline.url(&path), None),
        gateway: (&gw.url(&path), Some(("authorization", &bearer))),
    };
    println!("origin: gateway (wrangler dev, release wasm) in front of a loopback test origin");
    side_by_side("small GET (JSON echo)", &client, &urls, SMALL_ROUNDS, None).await?;
    origin.set_body_size(Some(LARGE_BYTES));
    side_by_side(
        "1 MiB streamed GET",
        &client,
        &urls,
        LARGE_ROUNDS,
        Some(LARGE_BYTES),
    )
    .await
}
