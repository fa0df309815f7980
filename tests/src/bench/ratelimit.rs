//! `bench/run.sh ratelimit`: what the rate limiter costs.
//!
//! 1. Added latency per request: the same routes on two gateways started side
//!    by side, one limiting (`RATE_LIMIT_PERIOD_MS=1`, so nothing is ever
//!    refused and every request still consults its limiters) and one with
//!    limiting off (`RATE_LIMIT_DISABLED=true`, development only). Requests
//!    alternate between the two so machine noise hits both alike.
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
const WARMUP: usize = 30;

fn token() -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": "bench", "iat": t, "exp": t + 3600}))
}

async fn timed_get(http: &reqwest::Client, url: &str, token: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let resp = http
        .get(url)
        .bearer_auth(token)
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
    let limited = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_PERIOD_MS", "1")
        .start()
        .await;
    let off = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    let http = client();
    let token = token();
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
        for _ in 0..WARMUP {
            timed_get(&http, &on_url, &token).await?;
            timed_get(&http, &off_url, &token).await?;
        }
        let (mut on, mut without) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            on.push(timed_get(&http, &on_url, &token).await?);
            without.push(timed_get(&http, &off_url, &token).await?);
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
                "count": 1_000_000,
                "periodMs": 60_000,
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
