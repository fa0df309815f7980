//! `bench/run.sh ratelimit`: what the rate limiter costs.
//!
//! 1. Added latency per request: the same routes on two gateways started side
//!    by side, one limiting with the SPEC limits and one with limiting off
//!    (`RATE_LIMIT_DISABLED=true`, development only). Requests alternate
//!    between the two so machine noise hits both alike. They rotate over a
//!    pool of client IPs (the development `X-Agentgate-Dev-Client-IP` hook)
//!    and of callers, as real traffic from many clients would, so no bucket
//!    ever refuses and every limiter instance is warm after the warm-up.
//! 2. Decisions per second one limiter instance sustains: the development hook
//!    `POST /__dev/ratelimit/burst` sends checks to one instance from inside
//!    the worker and times them in the runtime.

use crate::bench::summary;
use crate::http::client;
use crate::jwt::{hs256, now};
use crate::Gateway;
use serde_json::json;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-ratelimit-shared-secret-at-least-32-bytes";
const ROUNDS: usize = 400;
/// Client IPs: 20/min each for `auth`, so every IP sees at most ~8 requests.
const IPS: usize = 64;
/// Callers: 100/min each for `api`, so every caller sees at most ~30.
const CALLERS: usize = 16;

fn token(i: usize) -> String {
    let t = now();
    hs256(
        SECRET,
        &json!({"sub": format!("bench-{i}"), "iat": t, "exp": t + 3600}),
    )
}

/// Client `i`: its IP and its caller's token.
struct Client {
    ip: String,
    token: String,
}

async fn timed_get(http: &reqwest::Client, url: &str, client: &Client) -> Result<Duration, String> {
    let start = Instant::now();
    let resp = http
        .get(url)
        .bearer_auth(&client.token)
        .header("X-Agentgate-Dev-Client-IP", &client.ip)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    resp.bytes().await.map_err(|e| e.to_string())?;
    let took = start.elapsed();
    if !status.is_success() {
        return Err(format!("{url} answered {status}"));
    }
    Ok(took)
}

pub async fn run() -> Result<(), String> {
    let limited = Gateway::builder().var("JWT_SECRET", SECRET).start().await;
    let off = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    let http = client();
    let tokens: Vec<String> = (0..CALLERS).map(token).collect();
    let clients: Vec<Client> = (0..IPS)
        .map(|i| Client {
            ip: format!("198.18.{}.{}", i / 250, i % 250 + 1),
            token: tokens[i % CALLERS].clone(),
        })
        .collect();
    let routes = [
        ("GET /api/auth/me (1 IP bucket)", "/api/auth/me"),
        (
            "GET /api/messaging/channels (2 entity buckets)",
            "/api/messaging/channels",
        ),
    ];
    println!("added latency of the limiter, {ROUNDS} requests per side, alternating:");
    for (label, path) in routes {
        let (on_url, off_url) = (limited.url(path), off.url(path));
        for client in &clients {
            timed_get(&http, &on_url, client).await?;
            timed_get(&http, &off_url, client).await?;
        }
        let (mut on, mut without) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let client = &clients[round % IPS];
            on.push(timed_get(&http, &on_url, client).await?);
            without.push(timed_get(&http, &off_url, client).await?);
        }
        let p = |v: &mut Vec<Duration>, q: f64| {
            v.sort();
            crate::bench::percentile_us(v, q)
        };
        let (on50, on99) = (p(&mut on, 50.0), p(&mut on, 99.0));
        let (off50, off99) = (p(&mut without, 50.0), p(&mut without, 99.0));
        println!("  {label}");
        println!("    {}", summary("limiting on", on));
        println!("    {}", summary("limiting off", without));
        println!(
            "    added: p50 {:+.1} µs, p99 {:+.1} µs",
            on50 - off50,
            on99 - off99
        );
    }

    println!("decisions per second, one limiter instance (timed inside workerd):");
    for (i, concurrency) in [1u32, 8, 32, 64].into_iter().enumerate() {
        let n = if concurrency == 1 { 1000 } else { 4000 };
        let resp = http
            .post(limited.url("/__dev/ratelimit/burst"))
            .json(&json!({
                "key": format!("burst-{i}"),
                "n": n,
                "concurrency": concurrency,
                // Never refuses within the run, and stays busy (not idle) so
                // the cleanup alarm doesn't churn.
                "count": 10_000,
                "periodMs": 3_600_000,
            }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("burst answered {}", resp.status()));
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
        let elapsed_ms = body["elapsedMs"].as_u64().unwrap_or(0).max(1);
        let admitted = body["admitted"].as_u64().unwrap_or(0);
        println!(
            "  concurrency {concurrency:>3}: {n} decisions ({admitted} admitted) in {elapsed_ms} ms = {:.0} decisions/s",
            n as f64 * 1000.0 / elapsed_ms as f64
        );
    }
    Ok(())
}
