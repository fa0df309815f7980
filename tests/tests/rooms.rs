//! Channel rooms end to end (SPEC §9): real WebSocket clients against
//! `ChannelRoom` Durable Objects under `wrangler dev`.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::jwt::{hs256, now};
use agentgate_e2e::ws::{connect, recv_close, recv_json, send};
use agentgate_e2e::Gateway;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "rooms-e2e-shared-secret-at-least-32-bytes";
const WAIT: Duration = Duration::from_secs(10);

fn token(sub: &str) -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 600}))
}

async fn gateway() -> Gateway {
    Gateway::builder().var("JWT_SECRET", SECRET).start().await
}

async fn entity(gw: &Gateway, who: &str) -> String {
    let resp = client()
        .get(gw.url("/api/auth/me"))
        .bearer_auth(token(who))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await["entityId"].as_str().unwrap().to_owned()
}

async fn create_channel(gw: &Gateway, who: &str, participants: &[&str]) -> String {
    let resp = client()
        .post(gw.url("/api/messaging/channels"))
        .bearer_auth(token(who))
        .json(&json!({"name": "general", "participants": participants}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    json(resp).await["id"].as_str().unwrap().to_owned()
}

/// `who` accepts its invitation to `channel` (naming someone else in a
/// channel only invites them).
async fn accept(gw: &Gateway, who: &str, entity: &str, channel: &str) {
    let resp = client()
        .post(gw.url(&format!("/api/messaging/channels/{channel}/participants")))
        .bearer_auth(token(who))
        .json(&json!({ "entityId": entity }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

fn ws_path(channel: &str) -> String {
    format!("/api/messaging/channels/{channel}/ws")
}

#[tokio::test]
async fn participants_exchange_messages_and_strangers_are_refused() {
    let gw = gateway().await;
    let bob = entity(&gw, "bob").await;
    let alice = entity(&gw, "alice").await;
    let channel = create_channel(&gw, "alice", &[&bob]).await;
    accept(&gw, "bob", &bob, &channel).await;

    let auth_a = format!("Bearer {}", token("alice"));
    let auth_b = format!("Bearer {}", token("bob"));
    let mut a = connect(
        &gw.ws_url(&ws_path(&channel)),
        &[("authorization", &auth_a)],
    )
    .await
    .unwrap();
    let mut b = connect(
        &gw.ws_url(&ws_path(&channel)),
        &[("authorization", &auth_b)],
    )
    .await
    .unwrap();

    // A stranger is refused before the upgrade.
    let auth_c = format!("Bearer {}", token("carol"));
    assert_eq!(
        connect(
            &gw.ws_url(&ws_path(&channel)),
            &[("authorization", &auth_c)]
        )
        .await
        .err(),
        Some(403)
    );
    // No credential, and a long-lived token in the query string, are refused too.
    assert_eq!(
        connect(&gw.ws_url(&ws_path(&channel)), &[]).await.err(),
        Some(401)
    );
    let in_query = format!(
        "{}?token={}&access_token={}",
        ws_path(&channel),
        token("alice"),
        token("alice")
    );
    assert_eq!(connect(&gw.ws_url(&in_query), &[]).await.err(), Some(401));

    // Messages reach both, in order, with server-assigned ids and sender.
    for i in 0..5 {
        send(
            &mut a,
            &json!({"type": "message", "text": format!("hello {i}"), "clientId": format!("c{i}")})
                .to_string(),
        )
        .await;
    }
    let mut seen = Vec::new();
    for socket in [&mut a, &mut b] {
        let mut ids = Vec::new();
        for i in 0..5 {
            let m = recv_json(socket, WAIT).await;
            assert_eq!(m["type"], "message");
            assert_eq!(m["text"], format!("hello {i}"));
            assert_eq!(m["senderId"], alice);
            assert_eq!(m["channelId"], channel);
            ids.push(m["id"].as_str().unwrap().to_owned());
        }
        seen.push(ids);
    }
    assert_eq!(
        seen[0], seen[1],
        "both sockets saw the same messages in the same order"
    );

    // Ping is answered; world-state lists participants and recent messages.
    send(&mut b, r#"{"type":"ping"}"#).await;
    assert_eq!(recv_json(&mut b, WAIT).await["type"], "pong");
    send(&mut b, r#"{"type":"request-world-state"}"#).await;
    let ws = recv_json(&mut b, WAIT).await;
    assert_eq!(ws["type"], "world-state");
    assert_eq!(ws["messages"].as_array().unwrap().len(), 5);
    let participants: Vec<&str> = ws["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        participants.contains(&alice.as_str()) && participants.contains(&bob.as_str()),
        "{ws}"
    );

    // History over REST equals what the sockets saw; a REST post reaches the sockets.
    let resp = client()
        .get(gw.url(&format!(
            "/api/messaging/channels/{channel}/messages?limit=50"
        )))
        .bearer_auth(token("bob"))
        .send()
        .await
        .unwrap();
    let history = json(resp).await;
    let history_ids: Vec<String> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history_ids, seen[0]);
    let resp = client()
        .post(gw.url("/api/messaging/submit"))
        .bearer_auth(token("bob"))
        .json(&json!({"channelId": channel, "text": "over REST"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let posted = json(resp).await;
    for socket in [&mut a, &mut b] {
        let m = recv_json(socket, WAIT).await;
        assert_eq!(m["id"], posted["id"]);
        assert_eq!(m["text"], "over REST");
        assert_eq!(m["senderId"], bob);
    }

    // A stranger can't read the history either (404: no existence leak).
    let resp = client()
        .get(gw.url(&format!("/api/messaging/channels/{channel}/messages")))
        .bearer_auth(token("carol"))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;

    // Removing a participant closes their socket with 4003.
    let resp = client()
        .delete(gw.url(&format!(
            "/api/messaging/channels/{channel}/participants/{bob}"
        )))
        .bearer_auth(token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (code, reason) = recv_close(&mut b, WAIT).await;
    assert_eq!((code, reason.as_str()), (4003, "CHANNEL_UNAUTHORIZED"));
}

#[tokio::test]
async fn bad_events_get_error_codes_and_the_socket_stays_usable() {
    let gw = gateway().await;
    let alice = entity(&gw, "alice").await;
    let channel = create_channel(&gw, "alice", &[]).await;
    let auth = format!("Bearer {}", token("alice"));
    let mut a = connect(&gw.ws_url(&ws_path(&channel)), &[("authorization", &auth)])
        .await
        .unwrap();

    let big = "x".repeat(17 * 1024);
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "BAD_EVENT"),
        (r#"{"type":"dance"}"#.into(), "BAD_EVENT"),
        (
            json!({"type": "message", "text": big}).to_string(),
            "MESSAGE_TOO_LARGE",
        ),
        (
            json!({"type": "message", "text": "hi", "senderId": "someone-else"}).to_string(),
            "USER_MISMATCH",
        ),
    ];
    for (frame, code) in &cases {
        send(&mut a, frame).await;
        let e = recv_json(&mut a, WAIT).await;
        assert_eq!(e["type"], "error", "{frame:.40}");
        assert_eq!(e["code"], *code, "{frame:.40}");
    }
    send(&mut a, r#"{"type":"message","text":"still here"}"#).await;
    let m = recv_json(&mut a, WAIT).await;
    assert_eq!(
        (m["type"].as_str(), m["senderId"].as_str()),
        (Some("message"), Some(alice.as_str()))
    );
}

#[tokio::test]
async fn tickets_work_once_and_expire() {
    let gw = gateway().await;
    let channel = create_channel(&gw, "alice", &[]).await;
    let ticket = |gw: &Gateway, channel: &str| {
        let url = gw.url("/api/messaging/ws-ticket");
        let body = json!({"channelId": channel});
        async move {
            let resp = client()
                .post(url)
                .bearer_auth(token("alice"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
            json(resp).await["ticket"].as_str().unwrap().to_owned()
        }
    };

    let t1 = ticket(&gw, &channel).await;
    let url = gw.ws_url(&format!("{}?ticket={t1}", ws_path(&channel)));
    let mut socket = connect(&url, &[]).await.expect("first use of a ticket");
    send(&mut socket, r#"{"type":"ping"}"#).await;
    assert_eq!(recv_json(&mut socket, WAIT).await["type"], "pong");
    assert_eq!(connect(&url, &[]).await.err(), Some(401), "second use");

    // A ticket for one channel does not open another.
    let other = create_channel(&gw, "alice", &[]).await;
    let t2 = ticket(&gw, &channel).await;
    let wrong = gw.ws_url(&format!("{}?ticket={t2}", ws_path(&other)));
    assert_eq!(connect(&wrong, &[]).await.err(), Some(403));

    // Strangers can't get a ticket for the channel.
    let resp = client()
        .post(gw.url("/api/messaging/ws-ticket"))
        .bearer_auth(token("mallory"))
        .json(&json!({"channelId": channel}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;

    // After 30 s a ticket is dead.
    let t3 = ticket(&gw, &channel).await;
    tokio::time::sleep(Duration::from_secs(31)).await;
    let late = gw.ws_url(&format!("{}?ticket={t3}", ws_path(&channel)));
    assert_eq!(connect(&late, &[]).await.err(), Some(401));
}

#[tokio::test]
async fn dm_channel_is_idempotent_under_concurrency() {
    let gw = gateway().await;
    let resp = client()
        .post(gw.url("/api/agents"))
        .bearer_auth(token("alice"))
        .json(&json!({"name": "helper"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let agent = json(resp).await["id"].as_str().unwrap().to_owned();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let url = gw.url("/api/messaging/dm-channel");
        let body = json!({ "agentId": agent });
        handles.push(tokio::spawn(async move {
            let resp = client()
                .post(url)
                .bearer_auth(token("alice"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            json(resp).await["id"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "one DM channel: {ids:?}");
    let listed: Value = json(
        client()
            .get(gw.url("/api/messaging/channels"))
            .bearer_auth(token("alice"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let dms = listed["channels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "dm")
        .count();
    assert_eq!(dms, 1, "{listed}");
}

#[tokio::test]
async fn cookie_sockets_need_an_allowed_origin_and_close_when_their_session_is_revoked() {
    use agentgate_e2e::session::{
        login, setup_owner, BrowserSession, OWNER_EMAIL, STRONG_PASSWORD,
    };
    use reqwest::Method;

    let gw = gateway().await;
    let (first, body) = setup_owner(&gw).await;
    let owner_id = body["identity"]["id"].as_str().unwrap().to_owned();
    let second = BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await);
    let resp = first
        .request(Method::POST, &gw.url("/api/messaging/channels"))
        .json(&json!({"name": "ops"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let channel = json(resp).await["id"].as_str().unwrap().to_owned();
    let url = gw.ws_url(&ws_path(&channel));

    // Cross-site WebSocket hijacking: the cookie alone, or with a foreign
    // Origin, is refused before the upgrade.
    let cookie = first.cookie_header();
    assert_eq!(connect(&url, &[("cookie", &cookie)]).await.err(), Some(403));
    assert_eq!(
        connect(
            &url,
            &[("cookie", &cookie), ("origin", "https://evil.example")]
        )
        .await
        .err(),
        Some(403)
    );
    let page = agentgate_e2e::ALLOWED_ORIGIN;
    let mut a = connect(&url, &[("cookie", &cookie), ("origin", page)])
        .await
        .unwrap();
    // The second session joins through a single-use ticket it asked for.
    let ticket = json(
        second
            .request(Method::POST, &gw.url("/api/messaging/ws-ticket"))
            .json(&json!({"channelId": channel}))
            .send()
            .await
            .unwrap(),
    )
    .await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut b = connect(&format!("{url}?ticket={ticket}"), &[])
        .await
        .unwrap();

    send(
        &mut a,
        r#"{"type":"message","text":"from the cookie socket"}"#,
    )
    .await;
    for socket in [&mut a, &mut b] {
        let m = recv_json(socket, WAIT).await;
        assert_eq!(m["senderId"], owner_id.as_str(), "{m}");
    }

    // Logging the second session out closes its socket with 4001 within a
    // second; the first session's socket is untouched.
    let out = second
        .request(Method::POST, &gw.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let (code, reason) = recv_close(&mut b, Duration::from_secs(1)).await;
    assert_eq!((code, reason.as_str()), (4001, "SESSION_REVOKED"));
    send(&mut a, r#"{"type":"ping"}"#).await;
    assert_eq!(recv_json(&mut a, WAIT).await["type"], "pong");

    // Revoking every session, the current one included, closes the first.
    let all = first
        .request(
            Method::DELETE,
            &gw.url("/api/auth/sessions/all?includeCurrent=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 200);
    let (code, reason) = recv_close(&mut a, Duration::from_secs(1)).await;
    assert_eq!((code, reason.as_str()), (4001, "SESSION_REVOKED"));
}

/// Hibernation: an idle room leaves memory while its sockets stay open, and
/// the instance built for the next message knows the sender only from the
/// socket's attachment. workerd evicts an idle room after some seconds; the
/// room logs `channel_room.started` each time an instance is built.
#[tokio::test]
async fn identity_survives_hibernation_through_the_socket_attachment() {
    let gw = gateway().await;
    let alice = entity(&gw, "alice").await;
    let channel = create_channel(&gw, "alice", &[]).await;
    let auth = format!("Bearer {}", token("alice"));
    let mut a = connect(&gw.ws_url(&ws_path(&channel)), &[("authorization", &auth)])
        .await
        .unwrap();
    send(&mut a, r#"{"type":"message","text":"before"}"#).await;
    assert_eq!(recv_json(&mut a, WAIT).await["senderId"], alice.as_str());
    assert!(gw.log_eventually_contains("channel_room.started").await);
    let started = || gw.log().matches("channel_room.started").count();
    let before = started();

    // Idle (pings are answered by the runtime without waking the room), then
    // a message: once the room was evicted, a new instance handles it.
    let mut rebuilt = false;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(15)).await;
        send(&mut a, r#"{"type":"ping"}"#).await;
        assert_eq!(recv_json(&mut a, WAIT).await["type"], "pong");
        send(&mut a, r#"{"type":"message","text":"after"}"#).await;
        let m = recv_json(&mut a, WAIT).await;
        assert_eq!(m["senderId"], alice.as_str(), "{m}");
        assert_eq!(m["text"], "after");
        tokio::time::sleep(Duration::from_millis(500)).await;
        if started() > before {
            rebuilt = true;
            break;
        }
    }
    assert!(
        rebuilt,
        "the room was never evicted while its socket stayed open"
    );
}

#[tokio::test]
async fn a_channel_at_its_participant_limit_accepts_sockets_and_reports_everyone() {
    let gw = gateway().await;
    // 99 others plus the creator: the join statement a socket carries (its
    // hibernation attachment) grows with the participants. UUID-shaped ids,
    // as PostgreSQL stores entity ids; a UUID `sub` is its own entity id.
    // Each accepts its invitation.
    let others: Vec<String> = (0..99)
        .map(|i| format!("00000000-0000-7000-8000-{i:012}"))
        .collect();
    let refs: Vec<&str> = others.iter().map(String::as_str).collect();
    let channel = create_channel(&gw, "alice", &refs).await;
    for other in &others {
        accept(&gw, other, other, &channel).await;
    }
    let auth = format!("Bearer {}", token("alice"));
    let mut socket = connect(&gw.ws_url(&ws_path(&channel)), &[("authorization", &auth)])
        .await
        .expect("socket in a full channel");
    send(&mut socket, r#"{"type":"request-world-state"}"#).await;
    let state = recv_json(&mut socket, WAIT).await;
    assert_eq!(state["type"], "world-state", "{state}");
    assert_eq!(state["participants"].as_array().map(Vec::len), Some(100));
    send(&mut socket, r#"{"type":"message","text":"hello everyone"}"#).await;
    let echo = recv_json(&mut socket, WAIT).await;
    assert_eq!(echo["text"], "hello everyone", "{echo}");
}
