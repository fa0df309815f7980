//! Rate limiting end to end (SPEC §8): the worker under `wrangler dev`
//! consulting real `RateLimiter` Durable Objects. Periods are shortened or
//! lengthened per test with `RATE_LIMIT_PERIOD_MS` / `RATE_LIMIT_PENALTY_MS`
//! so that exactness claims hold and expiry is observable without waiting
//! minutes. Other client IPs are simulated with the development-only
//! `X-Agentgate-Dev-Client-IP` test hook.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::jwt::{hs256, now};
use agentgate_e2e::process::repo_root;
use agentgate_e2e::ws::{connect, recv_json, send};
use agentgate_e2e::Gateway;
use reqwest::{RequestBuilder, Response};
use serde_json::json;
use std::time::{Duration, Instant};

const SECRET: &str = "ratelimit-e2e-shared-secret-at-least-32-bytes";
const DEV_IP: &str = "X-Agentgate-Dev-Client-IP";
const WAIT: Duration = Duration::from_secs(10);

fn token(sub: &str) -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 900}))
}

/// One response's rate-limit figures.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    status: u16,
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    retry_after: Option<u64>,
}

fn number(resp: &Response, name: &str) -> Option<u64> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: {v:?}")))
}

/// The figures of a response; a 429 must carry the error envelope with a
/// `retryAfter` equal to the `Retry-After` header.
async fn figures(resp: Response) -> Figures {
    let f = Figures {
        status: resp.status().as_u16(),
        limit: number(&resp, "x-ratelimit-limit"),
        remaining: number(&resp, "x-ratelimit-remaining"),
        reset: number(&resp, "x-ratelimit-reset"),
        retry_after: number(&resp, "retry-after"),
    };
    if f.status == 429 {
        let body = expect_error(resp, 429, "RATE_LIMIT_EXCEEDED").await;
        assert_eq!(
            body["error"]["retryAfter"].as_u64(),
            f.retry_after,
            "{body}"
        );
    }
    f
}

async fn send_all(requests: Vec<RequestBuilder>) -> Vec<Figures> {
    let handles: Vec<_> = requests
        .into_iter()
        .map(|r| tokio::spawn(async move { figures(r.send().await.unwrap()).await }))
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

fn me(gw: &Gateway, who: &str) -> RequestBuilder {
    client().get(gw.url("/api/auth/me")).bearer_auth(token(who))
}

#[tokio::test]
async fn auth_bucket_admits_exactly_the_limit_per_ip() {
    // 20 per 5 minutes: one request refills every 15 s, far longer than the
    // burst takes, so exactly 20 of 50 can be admitted.
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_PERIOD_MS", "300000")
        .start()
        .await;
    let started = Instant::now();
    let results = send_all((0..50).map(|_| me(&gw, "alice")).collect()).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "the burst took {took:?}");

    let mut remaining: Vec<u64> = results
        .iter()
        .filter(|f| f.status == 200)
        .map(|f| f.remaining.expect("X-RateLimit-Remaining on a 200"))
        .collect();
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..20).collect::<Vec<u64>>(),
        "exactly 20 admitted, each seeing its own place in the bucket"
    );
    let refused: Vec<&Figures> = results.iter().filter(|f| f.status != 200).collect();
    assert_eq!(refused.len(), 30);
    for f in &refused {
        assert_eq!(f.status, 429, "{f:?}");
        assert_eq!((f.limit, f.remaining), (Some(20), Some(0)), "{f:?}");
        let retry = f.retry_after.expect("Retry-After");
        assert!((1..=15).contains(&retry), "{f:?}");
        assert!(f.reset.expect("X-RateLimit-Reset") >= retry, "{f:?}");
    }
    for f in results.iter().filter(|f| f.status == 200) {
        assert_eq!(f.limit, Some(20), "{f:?}");
        assert!(f.reset.is_some() && f.retry_after.is_none(), "{f:?}");
    }

    // Forged forwarding headers don't change the key: still refused.
    let forged = figures(
        me(&gw, "alice")
            .header("X-Forwarded-For", "198.51.100.23")
            .header("True-Client-IP", "198.51.100.24")
            .header("X-Real-IP", "198.51.100.25")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(forged.status, 429, "{forged:?}");

    // Another client IP has its own bucket.
    let other = figures(
        me(&gw, "alice")
            .header(DEV_IP, "198.51.100.7")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (other.status, other.limit, other.remaining),
        (200, Some(20), Some(19))
    );

    // After Retry-After the first bucket admits again (exactly one).
    let retry = refused.iter().filter_map(|f| f.retry_after).max().unwrap();
    let last = figures(me(&gw, "alice").send().await.unwrap()).await;
    let wait = last.retry_after.unwrap_or(retry);
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(300)).await;
    let again = send_all((0..3).map(|_| me(&gw, "alice")).collect()).await;
    let admitted = again.iter().filter(|f| f.status == 200).count();
    assert_eq!(admitted, 1, "{again:?}");
}

#[tokio::test]
async fn auth_failures_are_limited_too_and_carry_the_headers() {
    // The IP bucket is consulted before authentication: bad tokens spend it.
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_PERIOD_MS", "300000")
        .start()
        .await;
    let bad = |gw: &Gateway| {
        client()
            .get(gw.url("/api/auth/me"))
            .bearer_auth("not-a-jwt")
            .header(DEV_IP, "203.0.113.50")
    };
    let results = send_all((0..25).map(|_| bad(&gw)).collect()).await;
    let unauthorized = results.iter().filter(|f| f.status == 401).count();
    let limited = results.iter().filter(|f| f.status == 429).count();
    assert_eq!((unauthorized, limited), (20, 5), "{results:?}");
    assert!(results
        .iter()
        .all(|f| f.limit == Some(20) && f.remaining.is_some()));
}

#[tokio::test]
async fn category_limits_are_per_entity() {
    // messaging:send is 50 per period; the period is an hour here so nothing
    // refills during the test.
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_PERIOD_MS", "3600000")
        .start()
        .await;
    let create = |who: &str| {
        client()
            .post(gw.url("/api/messaging/channels"))
            .bearer_auth(token(who))
            .json(&json!({"name": "general", "participants": []}))
    };
    let alice = send_all((0..56).map(|_| create("alice")).collect()).await;
    let created: Vec<&Figures> = alice.iter().filter(|f| f.status == 201).collect();
    assert_eq!(created.len(), 50, "{alice:?}");
    let mut remaining: Vec<u64> = created.iter().map(|f| f.remaining.unwrap()).collect();
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..50).collect::<Vec<u64>>(),
        "the category bucket (the tightest) is reported"
    );
    assert!(alice
        .iter()
        .filter(|f| f.status != 201)
        .all(|f| f.status == 429 && f.retry_after.is_some()));

    // Bob's bucket is his own.
    let bob = figures(create("bob").send().await.unwrap()).await;
    assert_eq!(
        (bob.status, bob.limit, bob.remaining),
        (201, Some(50), Some(49))
    );

    // Reading is another category: alice can still list (the api bucket,
    // 100, has 44 left after her 56 sends; messaging:read has 200).
    let list = figures(
        client()
            .get(gw.url("/api/messaging/channels"))
            .bearer_auth(token("alice"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (list.status, list.limit, list.remaining),
        (200, Some(100), Some(43)),
        "the api bucket is now the tightest"
    );
}

#[tokio::test]
async fn admin_tier_gets_the_higher_api_limit() {
    use agentgate_e2e::session::setup_owner;
    // The default api bucket: 100 per period for a user, 1000 for an admin
    // (the owner holds admin:*). The period is an hour: nothing refills.
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_PERIOD_MS", "3600000")
        .start()
        .await;
    let (owner, _) = setup_owner(&gw).await;
    let list = gw.url("/api/messaging/channels");
    let user = send_all(
        (0..101)
            .map(|_| client().get(&list).bearer_auth(token("carol")))
            .collect(),
    )
    .await;
    assert_eq!(user.iter().filter(|f| f.status == 200).count(), 100);
    assert_eq!(user.iter().filter(|f| f.status == 429).count(), 1);
    let admin = send_all(
        (0..101)
            .map(|_| client().get(&list).header("cookie", owner.cookie_header()))
            .collect(),
    )
    .await;
    assert!(admin.iter().all(|f| f.status == 200), "{admin:?}");
    // The admin's api bucket is the large one; the category (200) is now the
    // tightest and is what the headers report.
    let last = admin.iter().map(|f| f.remaining.unwrap()).min().unwrap();
    assert_eq!(last, 99, "{admin:?}");
    assert!(admin.iter().all(|f| f.limit == Some(200)));
}

#[tokio::test]
async fn adaptive_halving_kicks_in_and_expires() {
    // system:read is 20 per 2 s; three refusals halve it for 6 s.
    let gw = Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_PERIOD_MS", "2000")
        .var("RATE_LIMIT_PENALTY_MS", "6000")
        .start()
        .await;
    let status = || {
        client()
            .get(gw.url("/api/server/status"))
            .bearer_auth(token("mallory"))
    };
    let started = Instant::now();
    let flood = send_all((0..40).map(|_| status()).collect()).await;
    let refused = flood.iter().filter(|f| f.status == 429).count();
    assert!(refused >= 3, "{flood:?}");
    let penalised = figures(status().send().await.unwrap()).await;
    assert_eq!(penalised.limit, Some(10), "halved: {penalised:?}");

    // A full period later the bucket is full, but only 10 deep.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let during = send_all((0..16).map(|_| status()).collect()).await;
    let admitted = during.iter().filter(|f| f.status == 200).count();
    assert!(during.iter().all(|f| f.limit == Some(10)), "{during:?}");
    assert!((10..=12).contains(&admitted), "{admitted}: {during:?}");

    // After the penalty (6 s from the flood) and a full period: 20 again.
    let until = Duration::from_millis(6000 + 2300).saturating_sub(started.elapsed());
    tokio::time::sleep(until).await;
    let after = send_all((0..16).map(|_| status()).collect()).await;
    assert!(
        after.iter().all(|f| f.status == 200 && f.limit == Some(20)),
        "{after:?}"
    );

    // Another entity was never penalised.
    let other = figures(
        client()
            .get(gw.url("/api/server/status"))
            .bearer_auth(token("trent"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((other.status, other.limit), (200, Some(20)));
}

#[tokio::test]
async fn failed_logins_raise_one_alert_per_window() {
    use agentgate_e2e::session::{setup_owner, OWNER_EMAIL};
    let gw = Gateway::start().await;
    setup_owner(&gw).await;
    let login = |email: String, ip: String| {
        client()
            .post(gw.url("/api/auth/login/password"))
            .header(DEV_IP, ip)
            .json(&json!({"email": email, "password": "not-the-password-at-all"}))
    };
    let alerts = |gw: &Gateway| {
        gw.d1_query(
            "SELECT actor_identity_id, ip FROM audit_events \
             WHERE action = 'security.alert.auth_failures'",
        )
    };
    // One account from rotating IPs (each under the per-IP limit): the
    // account reaches five on the fifth failure, and alerts once per window.
    for i in 0..8 {
        let resp = login(OWNER_EMAIL.to_owned(), format!("203.0.113.{}", i % 4))
            .send()
            .await
            .unwrap();
        expect_error(resp, 401, "INVALID_CREDENTIALS").await;
        let expected = usize::from(i >= 4);
        assert_eq!(alerts(&gw).len(), expected, "after failure {}", i + 1);
    }
    let owner_alert = &alerts(&gw)[0];
    assert!(
        owner_alert["actor_identity_id"].is_string(),
        "{owner_alert}"
    );

    // One IP, many (unknown) accounts: the IP reaches five.
    for i in 0..5 {
        let resp = login(format!("nobody{i}@example.com"), "198.51.100.99".into())
            .send()
            .await
            .unwrap();
        expect_error(resp, 401, "INVALID_CREDENTIALS").await;
    }
    let rows = alerts(&gw);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().any(|r| r["ip"] == "198.51.100.99"), "{rows:?}");
}

#[tokio::test]
async fn concurrent_logins_from_one_ip_reach_the_handler_exactly_five_times() {
    use agentgate_e2e::session::{setup_owner, OWNER_EMAIL};
    let gw = Gateway::start().await;
    setup_owner(&gw).await;
    let attempts: Vec<RequestBuilder> = (0..50)
        .map(|_| {
            client()
                .post(gw.url("/api/auth/login/password"))
                .header(DEV_IP, "192.0.2.50")
                .json(&json!({"email": OWNER_EMAIL, "password": "guessing-the-password"}))
        })
        .collect();
    let results = send_all(attempts).await;
    let statuses: Vec<u16> = results.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        45,
        "{statuses:?}"
    );
    for refused in results.iter().filter(|f| f.status == 429) {
        assert!(
            refused.retry_after.is_some_and(|r| r > 0),
            "Retry-After on every 429"
        );
        assert_eq!(refused.limit, Some(5));
        assert_eq!(refused.remaining, Some(0));
    }
    // The handler ran exactly five times: five failure rows, no more.
    let rows = gw.d1_query(
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'auth.login.password.failure'",
    );
    assert_eq!(rows[0]["n"], 5);
    // Another IP is unaffected.
    let other = client()
        .post(gw.url("/api/auth/login/password"))
        .header(DEV_IP, "192.0.2.51")
        .json(&json!({"email": OWNER_EMAIL, "password": "guessing-the-password"}))
        .send()
        .await
        .unwrap();
    expect_error(other, 401, "INVALID_CREDENTIALS").await;
}

#[tokio::test]
async fn development_hooks_are_not_served_in_production() {
    let gw = Gateway::builder()
        .var("ENVIRONMENT", "production")
        .var("JWT_SECRET", SECRET)
        .start()
        .await;
    let resp = client()
        .post(gw.url("/__dev/ratelimit/burst"))
        .json(&json!({"key": "k", "n": 1, "concurrency": 1, "count": 1, "periodMs": 1000}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
    // In production the dev IP override is ignored: no request carries a
    // CF-Connecting-IP here unless the runtime adds it, and either way a
    // second "IP" does not get a fresh bucket.
    let first = figures(me(&gw, "alice").send().await.unwrap()).await;
    let spoofed = figures(
        me(&gw, "alice")
            .header(DEV_IP, "198.51.100.8")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first.remaining.map(|r| r - 1), spoofed.remaining);
}

/// The repository's wrangler config without the `RATE_LIMITER` binding.
fn config_without_limiter() -> std::path::PathBuf {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("wrangler.toml")).unwrap();
    assert!(text.contains(r#"{ name = "RATE_LIMITER", class_name = "RateLimiter" },"#));
    // No custom build either: the test uses the worker already built.
    let build = text.find("[build]").unwrap();
    let vars = text.find("[vars]").unwrap();
    let text = format!("{}{}", &text[..build], &text[vars..]);
    let text = text
        .replace(
            r#"  { name = "RATE_LIMITER", class_name = "RateLimiter" },"#,
            "",
        )
        .replace(
            r#"main = "worker/build/index.js""#,
            // The development build, as every harness gateway runs.
            &format!(r#"main = "{}/worker/build-dev/index.js""#, root.display()),
        )
        .replace(
            r#"migrations_dir = "migrations/d1""#,
            &format!(r#"migrations_dir = "{}/migrations/d1""#, root.display()),
        );
    let dir = root.join("target/ratelimit-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("wrangler-no-limiter-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn unreachable_limiter_fails_closed_unless_configured_open() {
    let config = config_without_limiter();
    let closed = Gateway::builder()
        .config(config.clone())
        .var("JWT_SECRET", SECRET)
        .start()
        .await;
    let resp = me(&closed, "alice").send().await.unwrap();
    expect_error(resp, 503, "RATE_LIMITER_UNAVAILABLE").await;
    // Public routes without buckets are unaffected.
    let ping = client()
        .get(closed.url("/api/server/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    drop(closed);

    let open = Gateway::builder()
        .config(config)
        .var("JWT_SECRET", SECRET)
        .var("RATE_LIMIT_FAIL_OPEN", "true")
        .start()
        .await;
    let resp = me(&open, "alice").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-ratelimit-limit").is_none());
    // Sensitive routes never proceed unlimited: no password is checked.
    let login = client()
        .post(open.url("/api/auth/login/password"))
        .json(&json!({"email": "someone@example.com", "password": "whatever-it-is-here"}))
        .send()
        .await
        .unwrap();
    expect_error(login, 503, "RATE_LIMITER_UNAVAILABLE").await;
}

#[tokio::test]
async fn socket_connects_and_messages_are_limited() {
    let gw = Gateway::builder().var("JWT_SECRET", SECRET).start().await;
    let resp = client()
        .post(gw.url("/api/messaging/channels"))
        .bearer_auth(token("alice"))
        .json(&json!({"name": "general", "participants": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let channel = json(resp).await["id"].as_str().unwrap().to_owned();
    let url = gw.ws_url(&format!("/api/messaging/channels/{channel}/ws"));
    let auth = format!("Bearer {}", token("alice"));

    // ws-connect: 10 per minute per entity; the 11th is refused before the
    // upgrade (one more refills every 6 s, far longer than this takes).
    let started = Instant::now();
    let mut sockets = Vec::new();
    for _ in 0..10 {
        sockets.push(connect(&url, &[("authorization", &auth)]).await.unwrap());
    }
    assert_eq!(
        connect(&url, &[("authorization", &auth)]).await.err(),
        Some(429)
    );
    assert!(started.elapsed() < Duration::from_secs(6));

    // ws-message: 30 per minute per entity. Frames beyond it get an error
    // event and are not broadcast; the socket stays open and usable. (Only
    // two over, so the adaptive penalty — three refusals — stays off.)
    let socket = &mut sockets[0];
    let started = Instant::now();
    for i in 0..32 {
        send(
            socket,
            &json!({"type": "message", "text": format!("m{i}")}).to_string(),
        )
        .await;
    }
    let (mut messages, mut refusals, mut order) = (0u64, 0u64, Vec::new());
    for _ in 0..32 {
        let event = recv_json(socket, WAIT).await;
        match event["type"].as_str() {
            Some("message") => {
                messages += 1;
                order.push(event["text"].as_str().unwrap()[1..].parse::<u32>().unwrap());
            }
            Some("error") => {
                assert_eq!(event["code"], "RATE_LIMIT_EXCEEDED", "{event}");
                refusals += 1;
            }
            _ => panic!("unexpected {event}"),
        }
    }
    let refills = started.elapsed().as_millis() as u64 / 2000;
    assert!(
        (1..=2).contains(&refusals),
        "{messages} messages, {refusals} refusals"
    );
    assert!(
        (30..=30 + refills).contains(&messages),
        "{messages} messages in {:?}",
        started.elapsed()
    );
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "admitted frames keep their order: {order:?}"
    );
    send(socket, r#"{"type":"ping"}"#).await;
    assert_eq!(recv_json(socket, WAIT).await["type"], "pong");
    // One more message is admitted once a slot refills (one every 2 s).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    send(socket, r#"{"type":"message","text":"after the wait"}"#).await;
    let event = recv_json(socket, WAIT).await;
    assert_eq!(
        (event["type"].as_str(), event["text"].as_str()),
        (Some("message"), Some("after the wait")),
        "{event}"
    );
}
