//! Findings of the adversarial probe (issue #17) that cross the worker: each
//! test here failed before its fix.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::session::setup_owner;
use agentgate_e2e::Gateway;
use reqwest::Method;
use serde_json::json;

/// Methods the route table does not list are 405 with `Allow`, never run as
/// GET (the runtime maps unknown methods to GET).
#[tokio::test]
async fn unknown_methods_are_405_not_get() {
    let gw = Gateway::start().await;
    let (owner, _) = setup_owner(&gw).await;
    for (method, path, allow) in [
        ("PROPFIND", "/api/auth/audit", "GET"),
        ("PROPPATCH", "/api/server/ping", "GET"),
        ("PROPFIND", "/api/messaging/channels", "GET, POST"),
    ] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = owner
            .request(method.clone(), &gw.url(path))
            .send()
            .await
            .unwrap();
        let mut got: Vec<String> = resp
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().split(", ").map(str::to_owned).collect())
            .unwrap_or_default();
        got.sort();
        assert_eq!(got.join(", "), allow, "{method} {path}");
        expect_error(resp, 405, "METHOD_NOT_ALLOWED").await;
    }
}

/// `?before=` and `?limit=` parse into the domain's type or 400: no wrap to a
/// negative key, no silent cap that loses the next page.
#[tokio::test]
async fn pagination_refuses_what_it_cannot_honour() {
    let gw = Gateway::start().await;
    let (owner, _) = setup_owner(&gw).await;
    for query in [
        "/api/auth/audit?before=9223372036854775808",
        "/api/auth/audit?before=-1",
        "/api/auth/audit?limit=0",
        "/api/auth/audit?limit=201",
        "/api/messaging/channels?limit=101",
        "/api/messaging/channels?before=9223372036854775808",
    ] {
        let resp = owner
            .request(Method::GET, &gw.url(query))
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, 400, "BAD_REQUEST").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("`before`") || message.contains("`limit`"),
            "{query}: {message}"
        );
    }
    // A full page says where to continue; the last one does not.
    for i in 0..3 {
        let resp = owner
            .request(Method::POST, &gw.url("/api/messaging/channels"))
            .json(&json!({"name": format!("c{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let full = json(
        owner
            .request(Method::GET, &gw.url("/api/messaging/channels?limit=3"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(full["channels"].as_array().unwrap().len(), 3);
    assert!(full["nextBefore"].is_i64(), "{full}");
    let last = json(
        owner
            .request(Method::GET, &gw.url("/api/messaging/channels?limit=4"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(last["nextBefore"].is_null(), "{last}");
}

/// One id rule on add and delete: a participant id that is not an entity id
/// is refused on add, so nothing is stored that the delete path can't name.
#[tokio::test]
async fn participant_ids_follow_the_one_id_rule() {
    let gw = Gateway::start().await;
    let (owner, _) = setup_owner(&gw).await;
    let channel = json(
        owner
            .request(Method::POST, &gw.url("/api/messaging/channels"))
            .json(&json!({"name": "ids"}))
            .send()
            .await
            .unwrap(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let add = gw.url(&format!("/api/messaging/channels/{channel}/participants"));
    for bad in ["a b", "x/y", "not-a-uuid", ""] {
        let resp = owner
            .request(Method::POST, &add)
            .json(&json!({"entityId": bad}))
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, 400, "BAD_REQUEST").await;
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("entityId"));
    }
    let resp = owner
        .request(Method::POST, &gw.url("/api/messaging/channels"))
        .json(&json!({"name": "p", "participants": ["a b"]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "BAD_REQUEST").await;
    // An id in upper case is the same entity: added once, removed by either spelling.
    let id = "0190B6A0-0000-7000-8000-0000000000AB";
    let resp = owner
        .request(Method::POST, &add)
        .json(&json!({"entityId": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["entityId"], id.to_lowercase());
    let resp = owner
        .request(Method::DELETE, &format!("{add}/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// A client IP header that names no address is the client's error (400), not
/// a limiter outage (503).
#[tokio::test]
async fn a_malformed_client_ip_is_400() {
    let gw = Gateway::start().await;
    let http = client();
    for header in ["CF-Connecting-IP", "X-Agentgate-Dev-Client-IP"] {
        let resp = http
            .post(gw.url("/api/auth/login/password"))
            .header(header, "nope")
            .json(&json!({"email": "a@example.com", "password": "x"}))
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, 400, "BAD_REQUEST").await;
        assert!(
            body["error"]["message"].as_str().unwrap().contains(header),
            "{body}"
        );
    }
}

/// A chunked body with no declared length is cut at the limit while it
/// streams: the 413 comes while the client is still sending (the body here
/// never ends), so the worker never holds more than the limit.
#[tokio::test]
async fn a_chunked_body_is_cut_at_the_limit_while_streaming() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gw = Gateway::start().await;
    let addr = format!("127.0.0.1:{}", gw.port);
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/auth/login/password HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    // 2 MiB in 64 KiB chunks, then silence: the body is never finished.
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..32 {
        let frame = format!("{:x}\r\n", chunk.len());
        if conn.write_all(frame.as_bytes()).await.is_err()
            || conn.write_all(&chunk).await.is_err()
            || conn.write_all(b"\r\n").await.is_err()
        {
            break; // the gateway already answered and closed
        }
    }
    // Read the answer while the body is still unfinished (headers and body
    // may come in separate reads).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("PAYLOAD_TOO_LARGE") {
        let read = tokio::time::timeout_at(deadline, conn.read(&mut buf))
            .await
            .expect("the gateway answered before the body ended")
            .unwrap();
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..read]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
}

/// The same message limits over REST as over sockets: an oversized
/// `clientId` is refused, not stored and broadcast.
#[tokio::test]
async fn message_fields_are_bounded_over_rest() {
    let gw = Gateway::start().await;
    let (owner, _) = setup_owner(&gw).await;
    let channel = json(
        owner
            .request(Method::POST, &gw.url("/api/messaging/channels"))
            .json(&json!({"name": "limits"}))
            .send()
            .await
            .unwrap(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = gw.url(&format!("/api/messaging/channels/{channel}/messages"));
    for (body, field) in [
        (
            json!({"text": "hi", "clientId": "c".repeat(1_000_000)}),
            "clientId",
        ),
        (
            json!({"text": "hi", "clientId": "c".repeat(129)}),
            "clientId",
        ),
        (json!({"text": "x".repeat(16 * 1024 + 1)}), "text"),
        (json!({"text": "   "}), "text"),
    ] {
        let resp = owner
            .request(Method::POST, &post)
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = expect_error(resp, 400, "BAD_REQUEST").await;
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{field}`")), "{message}");
    }
    let resp = owner
        .request(Method::POST, &post)
        .json(&json!({"text": "hi", "clientId": "c".repeat(128)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let page = json(owner.request(Method::GET, &post).send().await.unwrap()).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "{page}");
}

/// Login CSRF (SPEC §3): a foreign page can't sign a browser in, with a
/// form, `text/plain`, or JSON from its own origin; the gateway's own pages
/// and non-browser clients can.
#[tokio::test]
async fn a_foreign_page_cannot_sign_a_browser_in() {
    use agentgate_e2e::session::{OWNER_EMAIL, STRONG_PASSWORD};
    let gw = Gateway::start().await;
    setup_owner(&gw).await;
    let http = client();
    let login = gw.url("/api/auth/login/password");
    let creds = json!({"email": OWNER_EMAIL, "password": STRONG_PASSWORD});
    let form = format!("email={OWNER_EMAIL}&password={STRONG_PASSWORD}");
    let refusals = [
        (
            "text/plain from a foreign page",
            http.post(&login)
                .header("origin", "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .header("content-type", "text/plain")
                .body(creds.to_string()),
            403,
            "CSRF_FAILED",
        ),
        (
            "a form without Origin",
            http.post(&login)
                .header("sec-fetch-site", "cross-site")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone()),
            403,
            "CSRF_FAILED",
        ),
        (
            "text/plain without Origin or fetch metadata",
            http.post(&login)
                .header("content-type", "text/plain")
                .body(creds.to_string()),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "JSON from a foreign origin",
            http.post(&login)
                .header("origin", "https://evil.example")
                .json(&creds),
            403,
            "CSRF_FAILED",
        ),
    ];
    for (name, req, status, code) in refusals {
        let resp = req.send().await.unwrap();
        assert!(resp.headers().get("set-cookie").is_none(), "{name}");
        assert_eq!(resp.status().as_u16(), status, "{name}");
        expect_error(resp, status, code).await;
    }
    let own = gw.url("").trim_end_matches('/').to_owned();
    let resp = http
        .post(&login)
        .header("origin", &own)
        .header("sec-fetch-site", "same-origin")
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the gateway's own page");
    let resp = http.post(&login).json(&creds).send().await.unwrap();
    assert_eq!(resp.status(), 200, "a non-browser client");
}

/// SPEC §3: the same-origin web UI sends no `x-eliza-csrf`; its `Origin` (or,
/// without one, `Sec-Fetch-Site: same-origin`) is the CSRF proof. A foreign
/// or missing proof is still refused.
#[tokio::test]
async fn same_origin_pages_need_no_double_submit() {
    let gw = Gateway::start().await;
    let (owner, _) = setup_owner(&gw).await;
    let url = gw.url("/api/messaging/channels");
    let own = gw.url("").trim_end_matches('/').to_owned();
    let body = json!({"name": "ui"});
    let resp = owner
        .bare(Method::POST, &url)
        .header("origin", &own)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "own Origin");
    let resp = owner
        .bare(Method::POST, &url)
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "same-origin fetch metadata");
    for (name, site, origin) in [
        ("cross-site fetch metadata", Some("cross-site"), None),
        (
            "foreign Origin",
            Some("same-origin"),
            Some("https://evil.example"),
        ),
    ] {
        let mut req = owner.bare(Method::POST, &url).json(&body);
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 403, "{name}");
        expect_error(resp, 403, "CSRF_FAILED").await;
    }
}

/// No self-made admins (SPEC §7): `ADMIN_EMAILS` grants `admin:*` only for an
/// email a verified identity provider asserts, never one typed into
/// registration.
#[tokio::test]
async fn admin_emails_need_a_proven_address() {
    use agentgate_e2e::jwt::{hs256, now};
    use agentgate_e2e::session::{BrowserSession, STRONG_PASSWORD};
    const SECRET: &str = "hardening-e2e-shared-secret-at-least-32-bytes";
    let gw = Gateway::builder()
        .var("ALLOW_REGISTRATION", "true")
        .var("ADMIN_EMAILS", "admin@example.com")
        .var("JWT_SECRET", SECRET)
        .start()
        .await;
    setup_owner(&gw).await;
    let holds_admin = |me: &serde_json::Value| {
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("admin:*"))
    };
    let resp = client()
        .post(gw.url("/api/auth/register"))
        .json(&json!({
            "email": "ADMIN@Example.com",
            "password": STRONG_PASSWORD,
            "displayName": "Mallory"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let squatter = BrowserSession::from_response(&resp);
    let me = json(squatter.me(&gw).await).await;
    assert!(!holds_admin(&me), "registration granted admin: {me}");

    let me_with = |claims: serde_json::Value| {
        let token = hs256(SECRET, &claims);
        let url = gw.url("/api/auth/me");
        async move { json(client().get(url).bearer_auth(token).send().await.unwrap()).await }
    };
    let t = now();
    let proven = me_with(json!({"sub": "boss", "exp": t + 300,
        "email": "Admin@example.com", "email_verified": true}))
    .await;
    assert!(holds_admin(&proven), "{proven}");
    let unproven =
        me_with(json!({"sub": "boss2", "exp": t + 300, "email": "admin@example.com"})).await;
    assert!(!holds_admin(&unproven), "{unproven}");
}

/// With the gateway key on, a browser (which can't send `X-API-Key` on a page
/// load or a socket upgrade) passes on its verified session, and a machine
/// token may ride in `X-API-KEY` as the official clients send it; anything
/// else still needs the key.
#[tokio::test]
async fn the_gateway_key_gives_way_to_credentials_the_gateway_issued() {
    use agentgate_e2e::jwt::{hs256, now};
    const KEY: &str = "gateway-key-of-the-hardening-suite";
    const SECRET: &str = "hardening-e2e-shared-secret-at-least-32-bytes";
    let gw = Gateway::builder()
        .var("ELIZA_SERVER_AUTH_TOKEN", KEY)
        .var("JWT_SECRET", SECRET)
        .start()
        .await;
    let http = client();
    let resp = http
        .post(gw.url("/api/auth/setup"))
        .header("x-api-key", KEY)
        .json(&json!({
            "email": agentgate_e2e::session::OWNER_EMAIL,
            "password": agentgate_e2e::session::STRONG_PASSWORD,
            "displayName": "Owner"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let owner = agentgate_e2e::session::BrowserSession::from_response(&resp);
    // The session alone, no key.
    assert_eq!(owner.me(&gw).await.status(), 200);
    let token = json(
        owner
            .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
            .json(&json!({"name": "cli", "scopes": ["agent:read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A machine token as X-API-KEY, no gateway key.
    let resp = http
        .get(gw.url("/api/auth/me"))
        .header("x-api-key", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["credential"], "machine_token");
    // A made-up token in X-API-KEY is refused as a missing key.
    let forged = format!("agm_{}", "A".repeat(token.len() - 4));
    let resp = http
        .get(gw.url("/api/auth/me"))
        .header("x-api-key", forged)
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "API_KEY_REQUIRED").await;
    // An external JWT still needs the key.
    let jwt = hs256(SECRET, &json!({"sub": "someone", "exp": now() + 300}));
    let resp = http
        .get(gw.url("/api/auth/me"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "API_KEY_REQUIRED").await;
    let resp = http
        .get(gw.url("/api/auth/me"))
        .bearer_auth(&jwt)
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Anonymous callers too.
    let resp = http.get(gw.url("/api/auth/status")).send().await.unwrap();
    expect_error(resp, 401, "API_KEY_REQUIRED").await;
}

/// Channels with consent (item 5): naming someone in a channel only invites
/// them; a DM is made by POST with an agent the caller may address, never
/// by GET; any participant can leave, and leaving ends its sockets there.
#[tokio::test]
async fn channels_need_the_participants_consent() {
    use agentgate_e2e::jwt::{hs256, now};
    use agentgate_e2e::ws::{connect, recv_close};
    use std::time::{Duration, Instant};

    const SECRET: &str = "consent-e2e-shared-secret-at-least-32-bytes";
    // UUID subjects are their own entity ids.
    const ALICE: &str = "0190b6a0-0000-7000-8000-00000000a11c";
    const BOB: &str = "0190b6a0-0000-7000-8000-000000000b0b";
    const MALLORY: &str = "0190b6a0-0000-7000-8000-0000000bad00";
    const CAROL: &str = "0190b6a0-0000-7000-8000-00000000ca10";
    let gw = Gateway::builder().var("JWT_SECRET", SECRET).start().await;
    let token = |sub: &str| {
        let t = now();
        hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 600}))
    };
    let call = |who: &str, method: Method, path: &str| {
        client()
            .request(method, gw.url(path))
            .bearer_auth(token(who))
    };
    let ws = |channel: &str| gw.ws_url(&format!("/api/messaging/channels/{channel}/ws"));

    // Mallory names Bob in her channel: Bob is only invited.
    let made = call(MALLORY, Method::POST, "/api/messaging/channels")
        .json(&json!({"name": "trap", "participants": [BOB]}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let made = json(made).await;
    assert_eq!(made["invited"], json!([BOB]), "{made}");
    let trap = made["id"].as_str().unwrap().to_owned();
    let posted = call(
        MALLORY,
        Method::POST,
        &format!("/api/messaging/channels/{trap}/messages"),
    )
    .json(&json!({"text": "click here"}))
    .send()
    .await
    .unwrap();
    assert_eq!(posted.status(), 201);
    assert!(channels_of_entity(&gw, &token(BOB)).await.is_empty());
    let read = call(
        BOB,
        Method::GET,
        &format!("/api/messaging/channels/{trap}/messages"),
    )
    .send()
    .await
    .unwrap();
    expect_error(read, 404, "NOT_FOUND").await;
    let bob_auth = format!("Bearer {}", token(BOB));
    assert_eq!(
        connect(&ws(&trap), &[("authorization", &bob_auth)])
            .await
            .err(),
        Some(403)
    );
    // Nobody accepts for Bob: Mallory naming him again changes nothing, and
    // someone without an invitation can't join by naming themselves.
    let again = call(
        MALLORY,
        Method::POST,
        &format!("/api/messaging/channels/{trap}/participants"),
    )
    .json(&json!({"entityId": BOB}))
    .send()
    .await
    .unwrap();
    assert_eq!(json(again).await["status"], "invited");
    let gatecrash = call(
        CAROL,
        Method::POST,
        &format!("/api/messaging/channels/{trap}/participants"),
    )
    .json(&json!({"entityId": CAROL}))
    .send()
    .await
    .unwrap();
    expect_error(gatecrash, 404, "NOT_FOUND").await;
    assert!(channels_of_entity(&gw, &token(BOB)).await.is_empty());

    // Bob accepts, opens a socket, then leaves: the socket ends within 1 s.
    let accepted = call(
        BOB,
        Method::POST,
        &format!("/api/messaging/channels/{trap}/participants"),
    )
    .json(&json!({"entityId": BOB}))
    .send()
    .await
    .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(
        channels_of_entity(&gw, &token(BOB)).await,
        vec![trap.clone()]
    );
    let mut socket = connect(&ws(&trap), &[("authorization", &bob_auth)])
        .await
        .expect("a participant's socket");
    let left = call(
        BOB,
        Method::DELETE,
        &format!("/api/messaging/channels/{trap}/participants/{BOB}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(left.status(), 200);
    let since = Instant::now();
    let (code, reason) = recv_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!((code, reason.as_str()), (4003, "CHANNEL_UNAUTHORIZED"));
    assert!(
        since.elapsed() <= Duration::from_secs(1),
        "{:?}",
        since.elapsed()
    );
    assert!(channels_of_entity(&gw, &token(BOB)).await.is_empty());
    let again = call(
        BOB,
        Method::DELETE,
        &format!("/api/messaging/channels/{trap}/participants/{BOB}"),
    )
    .send()
    .await
    .unwrap();
    expect_error(again, 404, "NOT_FOUND").await;

    // DMs: Alice's private agent, and one she shares with Bob.
    let agent = |name: &str, shared: &[&str]| {
        let req = call(ALICE, Method::POST, "/api/agents")
            .json(&json!({"name": name, "sharedWith": shared}))
            .send();
        async move {
            let resp = req.await.unwrap();
            assert_eq!(resp.status(), 201);
            json(resp).await["id"].as_str().unwrap().to_owned()
        }
    };
    let private = agent("private", &[]).await;
    let shared = agent("shared", &[BOB]).await;
    let dm_get = |who: &str, agent: &str| {
        call(
            who,
            Method::GET,
            &format!("/api/messaging/dm-channel?agentId={agent}"),
        )
        .send()
    };
    let dm_post = |who: &str, agent: &str| {
        call(who, Method::POST, "/api/messaging/dm-channel")
            .json(&json!({ "agentId": agent }))
            .send()
    };
    // A GET creates nothing (not even for one's own agent)…
    expect_error(dm_get(ALICE, &private).await.unwrap(), 404, "NOT_FOUND").await;
    assert!(channels_of_entity(&gw, &token(ALICE)).await.is_empty());
    // …and an agent the caller can't see is not found, by GET or POST.
    expect_error(dm_get(MALLORY, &private).await.unwrap(), 404, "NOT_FOUND").await;
    expect_error(dm_post(MALLORY, &private).await.unwrap(), 404, "NOT_FOUND").await;
    assert_eq!(
        channels_of_entity(&gw, &token(MALLORY)).await,
        vec![trap.clone()]
    );
    // The POST makes it once; the GET then reads that one.
    let dm = json(dm_post(ALICE, &private).await.unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = json(dm_post(ALICE, &private).await.unwrap()).await;
    assert_eq!(again["id"], dm.as_str());
    let read = json(dm_get(ALICE, &private).await.unwrap()).await;
    assert_eq!(read["id"], dm.as_str());
    // An agent shared with Bob is one he may address: a DM, and a member at once.
    assert_eq!(dm_post(BOB, &shared).await.unwrap().status(), 200);
    let group = json(
        call(BOB, Method::POST, "/api/messaging/channels")
            .json(&json!({"name": "with help", "participants": [shared, private]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(group["invited"], json!([private]), "{group}");
}

/// The ids of the channels a bearer token's caller participates in.
async fn channels_of_entity(gw: &Gateway, token: &str) -> Vec<String> {
    let resp = client()
        .get(gw.url("/api/messaging/channels"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A panic is logged with its message (worker 0.8.7's panic hook, installed
/// once per instance; see worker/src/lib.rs), answers as an error rather
/// than hanging, and the next request is served by a fresh instance.
#[tokio::test]
async fn a_panic_logs_its_message_and_the_worker_recovers() {
    let gw = Gateway::start().await;
    let resp = client()
        .post(gw.url("/__dev/panic"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_server_error(), "{}", resp.status());
    assert!(
        gw.log_eventually_contains("Rust panic: ").await
            && gw
                .log_eventually_contains("deliberate panic from /__dev/panic")
                .await,
        "{}",
        gw.log()
    );
    let ping = client()
        .get(gw.url("/api/server/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
}
