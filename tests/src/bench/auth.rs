//! `bash bench/run.sh auth`: what sessions cost inside the Worker (issue #4),
//! through `wrangler dev`, side by side in one run, 200 requests each,
//! interleaved so machine noise hits all three alike:
//!
//! - `GET /api/server/ping`: the gateway's floor (routing, headers);
//! - `GET /api/auth/me` with a session cookie: session lookup by hash,
//!   sliding expiry, identity load;
//! - `POST /api/messaging/ws-ticket` with cookie + CSRF header: the same
//!   plus the CSRF double-submit check and a D1 write;
//! - `POST /api/auth/login/password`: argon2id at the configured (floor)
//!   parameters, plus a new session.
//!
//! Timers inside a Worker don't advance during computation, so times are the
//! client's; login minus ping is the argon2id verify plus the session write.

use crate::bench::summary;
use crate::http::{client, json};
use crate::session::{login, setup_owner, OWNER_EMAIL, STRONG_PASSWORD};
use crate::Gateway;
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

const N: usize = 200;

pub async fn run() -> Result<(), String> {
    // Limits off: 200 logins from one IP is the point of the measurement.
    let gw = Gateway::builder()
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    let (owner, _) = setup_owner(&gw).await;
    let created = owner
        .request(Method::POST, &gw.url("/api/messaging/channels"))
        .json(&json!({"name": "bench"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let channel = json(created).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (mut ping, mut me, mut csrf, mut logins) = (vec![], vec![], vec![], vec![]);
    for _ in 0..N {
        let t = Instant::now();
        let r = client().get(gw.url("/api/server/ping")).send().await;
        check(r, 200)?;
        ping.push(t.elapsed());

        let t = Instant::now();
        check(Ok(owner.me(&gw).await), 200)?;
        me.push(t.elapsed());

        let t = Instant::now();
        let r = owner
            .request(Method::POST, &gw.url("/api/messaging/ws-ticket"))
            .json(&json!({"channelId": channel}))
            .send()
            .await;
        check(r, 201)?;
        csrf.push(t.elapsed());

        let t = Instant::now();
        check(Ok(login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await), 200)?;
        logins.push(t.elapsed());
    }
    println!("{}", summary("GET /api/server/ping", ping));
    println!("{}", summary("GET /api/auth/me (session cookie)", me));
    println!(
        "{}",
        summary("POST ws-ticket (cookie + CSRF + write)", csrf)
    );
    println!(
        "{}",
        summary("POST /api/auth/login/password (argon2id)", logins)
    );
    Ok(())
}

fn check(resp: Result<reqwest::Response, reqwest::Error>, status: u16) -> Result<(), String> {
    let resp = resp.map_err(|e| e.to_string())?;
    if resp.status().as_u16() == status {
        Ok(())
    } else {
        Err(format!("expected {status}, got {}", resp.status()))
    }
}
