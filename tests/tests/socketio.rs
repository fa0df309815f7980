//! Socket.IO at `/socket.io/` end to end (SPEC §9): the unmodified
//! `socket.io-client` 4 (polling then upgrade, and WebSocket only) against
//! the gateway under `wrangler dev`, authenticating with a session cookie, a
//! machine token (`auth.apiKey`) and a JWT (`auth.token`), joining channels
//! and exchanging ElizaOS messages through the channel rooms.

use agentgate_e2e::http::{client, json};
use agentgate_e2e::jwt::{hs256, now};
use agentgate_e2e::session::{login, setup_owner, BrowserSession, OWNER_EMAIL, STRONG_PASSWORD};
use agentgate_e2e::socketio::SioClients;
use agentgate_e2e::{Gateway, ALLOWED_ORIGIN};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "socketio-e2e-shared-secret-at-least-32-bytes";
const WAIT: Duration = Duration::from_secs(15);

fn token(sub: &str) -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 600}))
}

async fn gateway() -> Gateway {
    Gateway::builder().var("JWT_SECRET", SECRET).start().await
}

async fn entity_of(gw: &Gateway, bearer: &str) -> String {
    let resp = client()
        .get(gw.url("/api/auth/me"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await["entityId"].as_str().unwrap().to_owned()
}

async fn machine_token(gw: &Gateway, owner: &BrowserSession) -> (String, String) {
    let created = owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "sio bot", "scopes": ["messaging:read", "messaging:send"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

async fn channel_of_owner(gw: &Gateway, owner: &BrowserSession, participants: &[&str]) -> String {
    let resp = owner
        .request(Method::POST, &gw.url("/api/messaging/channels"))
        .json(&json!({"name": "sio", "participants": participants}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    json(resp).await["id"].as_str().unwrap().to_owned()
}

fn join(channel: &str, entity: &str) -> Value {
    json!({"type": 1, "payload": {"channelId": channel, "roomId": channel, "entityId": entity}})
}

fn send(channel: &str, sender: &str, text: &str, message_id: &str) -> Value {
    json!({"type": 2, "payload": {
        "channelId": channel, "roomId": channel, "senderId": sender,
        "senderName": "tester", "message": text, "messageId": message_id,
        "source": "client_chat", "metadata": {}
    }})
}

#[tokio::test]
async fn clients_authenticate_join_and_exchange_messages_then_logout_disconnects() {
    let gw = gateway().await;
    let (owner, _) = setup_owner(&gw).await;
    let owner_id = json(owner.me(&gw).await).await["entityId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (bot_token_id, bot_token) = machine_token(&gw, &owner).await;
    let bot_id = entity_of(&gw, &bot_token).await;
    let bob_id = entity_of(&gw, &token("bob")).await;
    let carol_id = entity_of(&gw, &token("carol")).await;
    let mut participants = vec![bob_id.as_str()];
    if bot_id != owner_id {
        participants.push(bot_id.as_str());
    }
    let channel = channel_of_owner(&gw, &owner, &participants).await;
    // Naming Bob only invited him (SPEC §7 consent): he accepts.
    let accepted = client()
        .post(gw.url(&format!("/api/messaging/channels/{channel}/participants")))
        .bearer_auth(token("bob"))
        .json(&json!({ "entityId": bob_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let url = gw.url("");
    let mut io = SioClients::start().await;

    // The owner's browser: cookie + allowed Origin, default transports
    // (polling, then the upgrade). Its made-up entityId is replaced.
    let cookie = owner.cookie_header();
    let browser_headers = [("cookie", cookie.as_str()), ("origin", ALLOWED_ORIGIN)];
    io.connect(
        "owner",
        &url,
        json!({"entityId": "11111111-1111-4111-8111-111111111111"}),
        None,
        &browser_headers,
    )
    .await;
    let auth = io.expect("owner", "authenticated", WAIT).await;
    assert_eq!(auth["data"]["entityId"], owner_id.as_str());
    io.expect("owner", "connection_established", WAIT).await;
    assert_eq!(
        io.expect("owner", "upgrade", WAIT).await["data"],
        "websocket"
    );

    // Bob: a JWT in `auth.token`, WebSocket only.
    io.connect(
        "bob",
        &url,
        json!({"token": token("bob"), "entityId": owner_id}),
        Some(&["websocket"]),
        &[],
    )
    .await;
    let auth = io.expect("bob", "authenticated", WAIT).await;
    assert_eq!(auth["data"]["entityId"], bob_id.as_str());
    assert_eq!(auth["transport"], "websocket");

    // The bot: a machine token in `auth.apiKey`, default transports.
    io.connect("bot", &url, json!({"apiKey": bot_token}), None, &[])
        .await;
    let auth = io.expect("bot", "authenticated", WAIT).await;
    assert_eq!(auth["data"]["entityId"], bot_id.as_str());

    // A bad machine token: connect_error with a code, no connection.
    io.connect(
        "forged",
        &url,
        json!({"apiKey": format!("agm_{}", "A".repeat(43))}),
        None,
        &[],
    )
    .await;
    let refused = io.expect("forged", "connect_error", WAIT).await;
    assert_eq!(
        refused["data"]["data"]["code"], "INVALID_TOKEN",
        "{refused}"
    );
    // No credential at all.
    io.connect("nobody", &url, json!({}), Some(&["websocket"]), &[])
        .await;
    let refused = io.expect("nobody", "connect_error", WAIT).await;
    assert_eq!(
        refused["data"]["data"]["code"], "AUTH_REQUIRED",
        "{refused}"
    );

    for (id, entity) in [("owner", &owner_id), ("bob", &bob_id), ("bot", &bot_id)] {
        io.emit(id, "message", join(&channel, entity)).await;
        let joined = io.expect(id, "channel_joined", WAIT).await;
        assert_eq!(joined["data"]["channelId"], channel.as_str());
        io.expect(id, "room_joined", WAIT).await;
    }

    // Carol is no participant: refused, and she hears nothing.
    io.connect("carol", &url, json!({"token": token("carol")}), None, &[])
        .await;
    let auth = io.expect("carol", "authenticated", WAIT).await;
    assert_eq!(auth["data"]["entityId"], carol_id.as_str());
    io.emit("carol", "message", join(&channel, &carol_id)).await;
    let refused = io.expect("carol", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "CHANNEL_UNAUTHORIZED", "{refused}");
    io.emit(
        "carol",
        "message",
        send(&channel, &carol_id, "let me in", "c1"),
    )
    .await;
    let refused = io.expect("carol", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "CHANNEL_UNAUTHORIZED", "{refused}");

    // The owner sends; everyone in the channel gets the broadcast in
    // ElizaOS's shape, with the verified sender, in order.
    for i in 0..3 {
        io.emit(
            "owner",
            "message",
            send(&channel, &owner_id, &format!("hello {i}"), &format!("m{i}")),
        )
        .await;
    }
    let mut ids = Vec::new();
    for id in ["owner", "bob", "bot"] {
        let mut seen = Vec::new();
        for i in 0..3 {
            let b = io.expect(id, "messageBroadcast", WAIT).await["data"].clone();
            assert_eq!(b["text"], format!("hello {i}"), "{id}: {b}");
            assert_eq!(b["senderId"], owner_id.as_str());
            assert_eq!(b["channelId"], channel.as_str());
            assert_eq!(b["roomId"], channel.as_str());
            for key in ["id", "senderName", "messageServerId", "createdAt", "source"] {
                assert!(b.get(key).is_some(), "{key} in {b}");
            }
            // The sender's own connections (the bot's machine token acts for
            // the owner) get the client's id back; others never see it.
            if id == "owner" || (id == "bot" && bot_id == owner_id) {
                assert_eq!(b["clientMessageId"], format!("m{i}"));
            } else {
                assert!(b.get("clientMessageId").is_none(), "{b}");
            }
            seen.push(b["id"].as_str().unwrap().to_owned());
        }
        ids.push(seen);
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    for i in 0..3 {
        let ack = io.expect("owner", "messageAck", WAIT).await;
        assert_eq!(ack["data"]["clientMessageId"], format!("m{i}"));
    }
    assert!(io
        .maybe("carol", "messageBroadcast", Duration::from_millis(300))
        .await
        .is_none());

    // Sending as someone else is refused and nothing is broadcast.
    io.emit(
        "bob",
        "message",
        send(&channel, &owner_id, "I am the owner", "x"),
    )
    .await;
    let refused = io.expect("bob", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "USER_MISMATCH", "{refused}");

    // Unknown events, malformed and oversized messages: an error event each,
    // and the connection stays usable.
    io.emit("bob", "subscribe_logs", json!({})).await;
    let refused = io.expect("bob", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "UNKNOWN_EVENT", "{refused}");
    io.emit("bob", "message", json!({"type": 2})).await;
    let refused = io.expect("bob", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "BAD_EVENT", "{refused}");
    let huge = "x".repeat(20_000);
    io.emit("bob", "message", send(&channel, &bob_id, &huge, "h1"))
        .await;
    let refused = io.expect("bob", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "BAD_MESSAGE", "{refused}");

    // A message posted over REST reaches the Socket.IO clients too.
    let resp = client()
        .post(gw.url(&format!("/api/messaging/channels/{channel}/messages")))
        .bearer_auth(token("bob"))
        .json(&json!({"text": "from rest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let b = io.expect("bot", "messageBroadcast", WAIT).await;
    assert_eq!(b["data"]["text"], "from rest");
    assert_eq!(b["data"]["senderId"], bob_id.as_str());
    let b = io.expect("owner", "messageBroadcast", WAIT).await;
    assert_eq!(b["data"]["text"], "from rest");
    let b = io.expect("bob", "messageBroadcast", WAIT).await;
    assert_eq!(b["data"]["text"], "from rest");
    assert_eq!(
        b["data"]["clientMessageId"],
        Value::Null,
        "a REST message has none"
    );

    // A single-use ticket in `auth.ticket` works once.
    let resp = client()
        .post(gw.url("/api/messaging/ws-ticket"))
        .bearer_auth(token("bob"))
        .json(&json!({"channelId": channel}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let ticket = json(resp).await["ticket"].as_str().unwrap().to_owned();
    io.connect(
        "ticket",
        &url,
        json!({"ticket": ticket}),
        Some(&["websocket"]),
        &[],
    )
    .await;
    let auth = io.expect("ticket", "authenticated", WAIT).await;
    assert_eq!(auth["data"]["entityId"], bob_id.as_str());
    io.connect(
        "ticket2",
        &url,
        json!({"ticket": ticket}),
        Some(&["websocket"]),
        &[],
    )
    .await;
    let refused = io.expect("ticket2", "connect_error", WAIT).await;
    assert_eq!(
        refused["data"]["data"]["code"], "INVALID_TOKEN",
        "{refused}"
    );
    io.close("ticket").await;

    // Bob is removed from the channel: told so, and hears no more of it.
    let resp = owner
        .request(
            Method::DELETE,
            &gw.url(&format!(
                "/api/messaging/channels/{channel}/participants/{bob_id}"
            )),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let removed = io.expect("bob", "messageError", WAIT).await;
    assert_eq!(removed["data"]["code"], "CHANNEL_UNAUTHORIZED", "{removed}");
    assert_eq!(removed["data"]["channelId"], channel.as_str());
    io.emit(
        "bot",
        "message",
        send(&channel, &bot_id, "bob is gone", "t1"),
    )
    .await;
    for id in ["owner", "bot"] {
        let b = io.expect(id, "messageBroadcast", WAIT).await;
        assert_eq!(b["data"]["text"], "bob is gone");
        assert_eq!(b["data"]["senderId"], bot_id.as_str());
    }
    assert!(io
        .maybe("bob", "messageBroadcast", Duration::from_millis(500))
        .await
        .is_none());
    io.emit(
        "bob",
        "message",
        send(&channel, &bob_id, "let me back", "b0"),
    )
    .await;
    let refused = io.expect("bob", "messageError", WAIT).await;
    assert_eq!(refused["data"]["code"], "CHANNEL_UNAUTHORIZED", "{refused}");

    // A second browser session of the owner, polling only.
    let second = BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await);
    let cookie2 = second.cookie_header();
    io.connect(
        "owner2",
        &url,
        json!({}),
        Some(&["polling"]),
        &[("cookie", cookie2.as_str()), ("origin", ALLOWED_ORIGIN)],
    )
    .await;
    io.expect("owner2", "authenticated", WAIT).await;
    io.emit("owner2", "message", join(&channel, &owner_id))
        .await;
    io.expect("owner2", "channel_joined", WAIT).await;
    // (Both events answered: no poll of it is in flight. A poll that reaches
    // the worker between the store's revocation and the hub's close is
    // refused 401 instead, which the client reports as `transport error`.)
    io.expect("owner2", "room_joined", WAIT).await;

    // Logging the second session out disconnects its client (polling)
    // within a second, and only it.
    let started = Instant::now();
    let out = second
        .request(Method::POST, &gw.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let gone = io.expect("owner2", "disconnect", WAIT).await;
    let polling_close = started.elapsed();
    assert_eq!(gone["data"], "io server disconnect");
    assert!(io
        .maybe("owner", "disconnect", Duration::from_millis(300))
        .await
        .is_none());

    // The first session's logout disconnects the upgraded client.
    let started = Instant::now();
    let out = owner
        .request(Method::POST, &gw.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let gone = io.expect("owner", "disconnect", WAIT).await;
    let websocket_close = started.elapsed();
    assert_eq!(gone["data"], "io server disconnect");
    eprintln!("socketio revocation: polling client {polling_close:?}, websocket client {websocket_close:?}");
    assert!(polling_close < Duration::from_secs(1), "{polling_close:?}");
    assert!(
        websocket_close < Duration::from_secs(1),
        "{websocket_close:?}"
    );

    // The bot carries on until its token is revoked.
    io.emit(
        "bot",
        "message",
        send(&channel, &bot_id, "still here", "t2"),
    )
    .await;
    let b = io.expect("bot", "messageBroadcast", WAIT).await;
    assert_eq!(b["data"]["text"], "still here");
    let (admin, _) = (
        BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await),
        (),
    );
    let started = Instant::now();
    let resp = admin
        .request(
            Method::DELETE,
            &gw.url(&format!("/api/auth/machine-tokens/{bot_token_id}")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let gone = io.expect("bot", "disconnect", WAIT).await;
    let token_close = started.elapsed();
    assert_eq!(gone["data"], "io server disconnect");
    eprintln!("socketio token revocation: {token_close:?}");
    assert!(token_close < Duration::from_secs(1), "{token_close:?}");
    // Bob, never revoked, is still connected.
    assert!(io
        .maybe("bob", "disconnect", Duration::from_millis(300))
        .await
        .is_none());
}

async fn engine_get(gw: &Gateway, query: &str, bearer: Option<&str>) -> (u16, String) {
    let mut req = client().get(gw.url(&format!("/socket.io/?{query}")));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn engine_code(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap_or(Value::Null)["code"].clone()
}

#[tokio::test]
async fn engine_io_refuses_bad_requests_and_foreign_sessions() {
    let gw = gateway().await;
    let bob = token("bob");
    let carol = token("carol");

    let (status, body) = engine_get(&gw, "EIO=3&transport=polling", None).await;
    assert_eq!((status, engine_code(&body)), (400, json!(5)), "{body}");
    let (status, body) = engine_get(&gw, "EIO=4&transport=carrier-pigeon", None).await;
    assert_eq!((status, engine_code(&body)), (400, json!(0)), "{body}");
    let (status, body) = engine_get(&gw, "EIO=4&transport=polling&sid=../../x", None).await;
    assert_eq!((status, engine_code(&body)), (400, json!(1)), "{body}");
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, body) =
        engine_get(&gw, &format!("EIO=4&transport=polling&sid={unknown}"), None).await;
    assert_eq!((status, engine_code(&body)), (400, json!(1)), "{body}");

    // A session opened by Bob's request.
    let (status, open) = engine_get(&gw, "EIO=4&transport=polling", Some(&bob)).await;
    assert_eq!(status, 200, "{open}");
    assert!(open.starts_with('0'), "{open}");
    let handshake: Value = serde_json::from_str(&open[1..]).unwrap();
    let sid = handshake["sid"].as_str().unwrap().to_owned();
    assert_eq!(sid.len(), 32);
    assert_eq!(handshake["upgrades"], json!(["websocket"]));

    // Carol's request can't read or drive it, and neither can an anonymous one.
    let poll = format!("EIO=4&transport=polling&sid={sid}");
    for who in [Some(carol.as_str()), None] {
        let (status, body) = engine_get(&gw, &poll, who).await;
        assert_eq!((status, engine_code(&body)), (403, json!(4)), "{body}");
        let mut post = client()
            .post(gw.url(&format!("/socket.io/?{poll}")))
            .body("40");
        if let Some(b) = who {
            post = post.bearer_auth(b);
        }
        let resp = post.send().await.unwrap();
        assert_eq!(resp.status(), 403);
    }

    // Bob connects (the request's own credential) and hears his events.
    let resp = client()
        .post(gw.url(&format!("/socket.io/?{poll}")))
        .bearer_auth(&bob)
        .body("40")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");
    let (status, body) = engine_get(&gw, &poll, Some(&bob)).await;
    assert_eq!(status, 200);
    let packets: Vec<&str> = body.split('\u{1e}').collect();
    assert!(packets[0].starts_with("40{\"sid\""), "{body}");
    assert!(packets[1].starts_with("42[\"authenticated\""), "{body}");

    // A binary packet is refused, and ends the session.
    let resp = client()
        .post(gw.url(&format!("/socket.io/?{poll}")))
        .bearer_auth(&bob)
        .body("bAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let (status, body) = engine_get(&gw, &poll, Some(&bob)).await;
    assert_eq!((status, engine_code(&body)), (400, json!(1)), "{body}");

    // A session cookie needs an allowed Origin (or a same-origin fetch).
    let (owner, _) = setup_owner(&gw).await;
    for origin in [Some("http://evil.test"), None] {
        let mut req = owner.bare(Method::GET, &gw.url("/socket.io/?EIO=4&transport=polling"));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 403, "{origin:?}");
        assert_eq!(engine_code(&resp.text().await.unwrap()), json!(4));
    }
    let resp = owner
        .bare(Method::GET, &gw.url("/socket.io/?EIO=4&transport=polling"))
        .header("origin", ALLOWED_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // A handshake POST without a session is Engine.IO's "bad handshake".
    let resp = client()
        .post(gw.url("/socket.io/?EIO=4&transport=polling"))
        .body("40")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(engine_code(&resp.text().await.unwrap()), json!(2));
}

/// Engine.IO pings: over a WebSocket they come from the connection's alarm
/// (so it can hibernate in between), over polling as the long-poll's answer
/// after `pingInterval`; either way the idle clients stay connected and
/// usable, its identity kept across hibernation. Waits one or more ping
/// intervals (25 s).
#[tokio::test]
async fn idle_connections_are_pinged_and_stay_usable() {
    let gw = gateway().await;
    let bob_id = entity_of(&gw, &token("bob")).await;
    let url = gw.url("");
    let mut io = SioClients::start().await;
    for (id, transports) in [("ws", ["websocket"]), ("poll", ["polling"])] {
        io.connect(
            id,
            &url,
            json!({"token": token("bob")}),
            Some(&transports),
            &[],
        )
        .await;
        let auth = io.expect(id, "authenticated", WAIT).await;
        assert_eq!(auth["data"]["entityId"], bob_id.as_str());
    }
    assert!(
        gw.log_eventually_contains("socketio_connection.started")
            .await
    );
    let started = || gw.log().matches("socketio_connection.started").count();
    let before = started();
    let wait = Duration::from_secs(40);
    for id in ["ws", "poll"] {
        io.expect(id, "ping", wait).await;
    }
    // Between pings the WebSocket connection's object hibernates (a new
    // instance handles the next event); the polling one always has a
    // long-poll in flight and stays.
    let mut rebuilt = started() > before;
    for _ in 0..3 {
        if rebuilt {
            break;
        }
        io.expect("ws", "ping", wait).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        rebuilt = started() > before;
    }
    assert!(rebuilt, "the WebSocket connection never hibernated");
    // Both still answer after the ping.
    let resp = client()
        .post(gw.url("/api/messaging/channels"))
        .bearer_auth(token("bob"))
        .json(&json!({"name": "after ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let channel = json(resp).await["id"].as_str().unwrap().to_owned();
    for id in ["ws", "poll"] {
        io.emit(id, "message", join(&channel, &bob_id)).await;
        io.expect(id, "channel_joined", WAIT).await;
        assert!(io
            .maybe(id, "disconnect", Duration::from_millis(10))
            .await
            .is_none());
    }
}

/// A flood is held to the `ws-message` bucket (30 a minute per entity):
/// messages beyond it get `messageError` `RATE_LIMIT_EXCEEDED` and are not
/// broadcast; the connection stays open.
#[tokio::test]
async fn a_message_flood_is_rate_limited() {
    let gw = gateway().await;
    let bob_id = entity_of(&gw, &token("bob")).await;
    let resp = client()
        .post(gw.url("/api/messaging/channels"))
        .bearer_auth(token("bob"))
        .json(&json!({"name": "flood"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let channel = json(resp).await["id"].as_str().unwrap().to_owned();
    let mut io = SioClients::start().await;
    io.connect(
        "bob",
        &gw.url(""),
        json!({"token": token("bob")}),
        Some(&["websocket"]),
        &[],
    )
    .await;
    io.expect("bob", "authenticated", WAIT).await;
    io.emit("bob", "message", join(&channel, &bob_id)).await;
    io.expect("bob", "channel_joined", WAIT).await;
    let sent = 35;
    for i in 0..sent {
        io.emit(
            "bob",
            "message",
            send(&channel, &bob_id, &format!("f{i}"), &format!("f{i}")),
        )
        .await;
    }
    let (mut acks, mut limited) = (0, 0);
    while acks + limited < sent {
        if io
            .maybe("bob", "messageAck", Duration::from_millis(50))
            .await
            .is_some()
        {
            acks += 1;
            continue;
        }
        match io.maybe("bob", "messageError", WAIT).await {
            Some(e) => {
                assert_eq!(e["data"]["code"], "RATE_LIMIT_EXCEEDED", "{e}");
                limited += 1;
            }
            None => panic!("{acks} acks and {limited} refusals of {sent}"),
        }
    }
    assert!(
        acks <= 30 && limited >= sent - 30,
        "{acks} acks, {limited} refused"
    );
    let mut broadcasts = 0;
    while io
        .maybe("bob", "messageBroadcast", Duration::from_millis(500))
        .await
        .is_some()
    {
        broadcasts += 1;
    }
    assert_eq!(broadcasts, acks, "only admitted messages are broadcast");
    assert!(io
        .maybe("bob", "disconnect", Duration::from_millis(10))
        .await
        .is_none());
}
