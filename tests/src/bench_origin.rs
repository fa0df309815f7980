//! Benchmark `origin`: the latency the gateway adds in front of the agent
//! origin. The same requests go to the test origin directly and through
//! agentgate (authentication with a JWT, registry ownership check, assertion
//! signing, forwarding, streaming back), interleaved so both sides see the
//! same machine noise: a small GET, and a 1 MiB streamed response.

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

/// One timed GET; the whole body is read. Fails on a non-200 or a short body.
async fn timed_get(
    client: &Client,
    url: &str,
    bearer: Option<&str>,
    expect_bytes: Option<usize>,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut req = client.get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
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

/// Runs `rounds` interleaved direct/gateway pairs (after a warm-up) and
/// prints both distributions and the added p50/p99.
async fn side_by_side(
    label: &str,
    client: &Client,
    direct: &str,
    through: &str,
    token: &str,
    rounds: usize,
    expect_bytes: Option<usize>,
) -> Result<(), String> {
    for _ in 0..rounds.min(20) {
        timed_get(client, direct, None, expect_bytes).await?;
        timed_get(client, through, Some(token), expect_bytes).await?;
    }
    let (mut d, mut g) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        d.push(timed_get(client, direct, None, expect_bytes).await?);
        g.push(timed_get(client, through, Some(token), expect_bytes).await?);
    }
    d.sort();
    g.sort();
    let p = |v: &[Duration], q: f64| crate::bench::percentile_us(v, q);
    println!(
        "{}",
        summary(&format!("{label}: direct to origin"), d.clone())
    );
    println!(
        "{}",
        summary(&format!("{label}: through agentgate"), g.clone())
    );
    println!(
        "{label:<48} added p50={:>9.1} µs  added p99={:>9.1} µs",
        p(&g, 50.0) - p(&d, 50.0),
        p(&g, 99.0) - p(&d, 99.0)
    );
    Ok(())
}

pub async fn run() -> Result<(), String> {
    let origin = TestOrigin::start().await;
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("GATEWAY_SIGNING_KEY", SIGNING_SEED)
        .var("AGENT_ORIGIN_URL", &origin.base_url)
        .start()
        .await;
    let t = now();
    let token = hs256(SECRET, &json!({"sub": "bench", "iat": t, "exp": t + 3600}));
    let client = client();
    let resp = client
        .post(gw.url("/api/agents"))
        .bearer_auth(&token)
        .json(&json!({"name": "bench", "id": "bench-agent"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.status() != 201 {
        return Err(format!("registering the agent: status {}", resp.status()));
    }
    let path = "/api/agents/bench-agent/logs";
    let direct = origin.base_url.clone() + path;
    let through = gw.url(path);
    println!("origin: gateway (wrangler dev, release wasm) in front of a loopback test origin");
    side_by_side(
        "small GET (JSON echo)",
        &client,
        &direct,
        &through,
        &token,
        SMALL_ROUNDS,
        None,
    )
    .await?;
    origin.set_body_size(Some(LARGE_BYTES));
    side_by_side(
        "1 MiB streamed GET",
        &client,
        &direct,
        &through,
        &token,
        LARGE_ROUNDS,
        Some(LARGE_BYTES),
    )
    .await
}
