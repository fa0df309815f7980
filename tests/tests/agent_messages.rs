//! Messages handed to agents (SPEC §13, issue #8 item 5), end to end under
//! `wrangler dev`: a user's message in a channel with an agent participant
//! reaches the test origin's `POST /api/messaging/submit` with a verifiable
//! assertion, without making the sender wait; failed deliveries are retried
//! with backoff; the agent's reply, posted through the gateway with a machine
//! token bound to the agent and the channel, reaches the room's sockets.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::jwt::{hs256, now};
use agentgate_e2e::origin::{reply_text, verify_assertion, Received, TestOrigin};
use agentgate_e2e::session::{setup_owner, BrowserSession};
use agentgate_e2e::ws::{connect, recv_json, send, Socket};
use agentgate_e2e::{Gateway, ALLOWED_ORIGIN};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "agent-messages-e2e-shared-secret-32-bytes";
const SIGNING_SEED: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
/// The origin's own key, which the gateway sends with every delivery.
const ORIGIN_KEY: &str = "agent-messages-origin-key-0123";

async fn gateway(origin: &str) -> Gateway {
    Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("GATEWAY_SIGNING_KEY", SIGNING_SEED)
        .var("AGENT_ORIGIN_URL", origin)
        .var("AGENT_ORIGIN_API_KEY", ORIGIN_KEY)
        .start()
        .await
}

fn user_token(sub: &str) -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 600}))
}

/// `POST`/`GET` as the owner's browser; the JSON answer after checking its status.
async fn owner_call(
    gw: &Gateway,
    owner: &BrowserSession,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let mut req = owner.request(method, &gw.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), status, "{path}");
    json(resp).await
}

/// The owner, one registered agent, and the owner's DM channel with it.
struct AgentChannel {
    owner: BrowserSession,
    owner_entity: String,
    agent: String,
    channel: String,
}

/// A fresh UUID-shaped agent id, as the origin assigns them.
fn origin_agent_id(n: u16) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:08x}-0000-7000-8000-{:012x}", nanos & 0xffff_ffff_ffff)
}

/// Makes the origin accept the next agent creation under a fresh id (after
/// saying it has no agent under the id ElizaOS would derive from `name`).
fn origin_creates_agent(origin: &TestOrigin, name: &str) -> String {
    let id = origin_agent_id(1);
    let derived = agentgate_shared::entity_id::eliza_uuid(name);
    origin.script(
        &format!("GET /api/agents/{derived}"),
        404,
        json!({"success": false}),
    );
    origin.script("POST /api/agents", 201, json!({"id": id, "name": name}));
    id
}

async fn agent_channel(gw: &Gateway, origin: &TestOrigin) -> AgentChannel {
    let (owner, _) = setup_owner(gw).await;
    let me = owner_call(gw, &owner, Method::GET, "/api/auth/me", None, 200).await;
    let owner_entity = me["entityId"].as_str().unwrap().to_owned();
    // With an origin, creating an agent is forwarded; the id is the origin's.
    let agent = origin_creates_agent(origin, "helper");
    let created = owner_call(
        gw,
        &owner,
        Method::POST,
        "/api/agents",
        Some(json!({"name": "helper"})),
        201,
    )
    .await;
    assert_eq!(created["id"], agent.as_str());
    let channel = owner_call(
        gw,
        &owner,
        Method::POST,
        "/api/messaging/dm-channel",
        Some(json!({ "agentId": agent })),
        200,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    AgentChannel {
        owner,
        owner_entity,
        agent,
        channel,
    }
}

/// A machine token that acts as `agent`, bound to `channel`, for replies.
async fn reply_token(gw: &Gateway, setup: &AgentChannel, channel: &str) -> String {
    owner_call(
        gw,
        &setup.owner,
        Method::POST,
        "/api/auth/machine-tokens",
        Some(json!({
            "name": "agent replies",
            "scopes": ["messaging:send"],
            "channelId": channel,
            "agentId": setup.agent,
        })),
        201,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn owner_socket(gw: &Gateway, owner: &BrowserSession, channel: &str) -> Socket {
    connect(
        &gw.ws_url(&format!("/api/messaging/channels/{channel}/ws")),
        &[
            ("cookie", &owner.cookie_header()),
            ("origin", ALLOWED_ORIGIN),
        ],
    )
    .await
    .expect("owner socket")
}

/// The next `message` event on `socket` (skipping anything else).
async fn next_message(socket: &mut Socket, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = recv_json(socket, left).await;
        if event["type"] == "message" {
            return event;
        }
    }
}

/// A message posted as the owner's browser; the stored message.
async fn owner_post(gw: &Gateway, owner: &BrowserSession, channel: &str, text: &str) -> Value {
    let path = format!("/api/messaging/channels/{channel}/messages");
    owner_call(
        gw,
        owner,
        Method::POST,
        &path,
        Some(json!({ "text": text })),
        201,
    )
    .await
}

/// A message posted with a bearer token; the raw answer.
async fn token_post(gw: &Gateway, token: &str, channel: &str, text: &str) -> reqwest::Response {
    client()
        .post(gw.url(&format!("/api/messaging/channels/{channel}/messages")))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

/// After a pause long enough for a delivery, the origin still has exactly
/// `n` deliveries.
async fn assert_submits_stay(origin: &TestOrigin, n: usize, why: &str) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        origin.received_under("/api/messaging/submit").len(),
        n,
        "{why}"
    );
}

/// Waits until the origin has received `n` deliveries; returns them.
async fn deliveries(origin: &TestOrigin, n: usize, within: Duration) -> Vec<Received> {
    let deadline = Instant::now() + within;
    loop {
        let got = origin.received_under("/api/messaging/submit");
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn jwks(gw: &Gateway) -> Value {
    json(
        client()
            .get(gw.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_message_reaches_the_agent_and_its_reply_reaches_the_sockets() {
    let origin = TestOrigin::start().await;
    let gw = gateway(&origin.base_url).await;
    let setup = agent_channel(&gw, &origin).await;
    let token = reply_token(&gw, &setup, &setup.channel).await;
    origin.reply_through(&gw.url(""), &token);

    let mut socket = owner_socket(&gw, &setup.owner, &setup.channel).await;
    send(
        &mut socket,
        &json!({"type": "message", "text": "hello agent"}).to_string(),
    )
    .await;
    let echo = next_message(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(echo["senderId"], setup.owner_entity.as_str());
    assert_eq!(echo["text"], "hello agent");

    // The agent's reply arrives on the same socket, from the agent.
    let reply = next_message(&mut socket, Duration::from_secs(15)).await;
    assert_eq!(reply["senderId"], setup.agent.as_str(), "{reply}");
    assert_eq!(reply["text"], reply_text("hello agent"));

    // The origin got the message once, with a valid assertion naming the
    // sender, and nothing of the browser's credentials.
    let got = deliveries(&origin, 1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "one delivery: {got:?}");
    let delivery = &got[0];
    assert_eq!(delivery.method, "POST");
    assert!(delivery.header("cookie").is_none());
    assert!(delivery.header("authorization").is_none());
    // What a stock ElizaOS server reads: its key, and the sender.
    assert_eq!(delivery.header("x-api-key"), Some(ORIGIN_KEY));
    assert_eq!(
        delivery.header("x-entity-id"),
        Some(setup.owner_entity.as_str())
    );
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body["channelId"], setup.channel.as_str());
    assert_eq!(body["senderId"], setup.owner_entity.as_str());
    assert_eq!(body["text"], "hello agent");
    assert_eq!(body["messageId"], echo["id"]);
    assert_eq!(body["agentIds"], json!([setup.agent]));
    let assertion = delivery
        .header("x-agentgate-assertion")
        .expect("assertion header");
    let claims = verify_assertion(assertion, &jwks(&gw).await, &origin.base_url, now())
        .expect("the origin accepts the assertion");
    assert_eq!(claims["sub"], setup.owner_entity.as_str());
    assert!(
        claims["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("messaging:send")),
        "{claims}"
    );

    // The reply itself is not handed back to the agent, and a channel without
    // an agent hands nothing to the origin.
    let plain = owner_call(
        &gw,
        &setup.owner,
        Method::POST,
        "/api/messaging/channels",
        Some(json!({"name": "no agents here"})),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner_post(&gw, &setup.owner, &plain, "just us").await;
    assert_submits_stay(
        &origin,
        1,
        "only the user's message in the agent's channel is delivered",
    )
    .await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_without_holding_the_sender() {
    let origin = TestOrigin::start().await;
    let gw = gateway(&origin.base_url).await;
    let setup = agent_channel(&gw, &origin).await;
    origin.script("POST /api/messaging/submit", 503, json!({"error": "busy"}));
    origin.script("POST /api/messaging/submit", 500, json!({"error": "oops"}));

    let posted = owner_post(&gw, &setup.owner, &setup.channel, "are you there?").await;
    // The sender had its answer before the origin took the message.
    assert!(
        origin.received_under("/api/messaging/submit").len() <= 1,
        "the post did not wait for the retries"
    );

    let got = deliveries(&origin, 3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3, "two failures, then delivered: {got:?}");
    for delivery in &got {
        let body: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(
            body["messageId"], posted["id"],
            "the same message each time"
        );
    }
    let first_wait = got[1].at - got[0].at;
    let second_wait = got[2].at - got[1].at;
    assert!(
        first_wait >= Duration::from_millis(900),
        "first retry after ~1 s, was {first_wait:?}"
    );
    assert!(
        second_wait >= Duration::from_millis(1_900) && second_wait > first_wait,
        "the wait doubles: {first_wait:?} then {second_wait:?}"
    );
    assert!(gw.log_eventually_contains("agent_delivery.retry").await);
    assert!(gw.log_eventually_contains("agent_delivery.delivered").await);
    assert_submits_stay(&origin, 3, "nothing more once delivered").await;

    // A refusal for good (a 4xx other than 408/429) is not retried.
    origin.script(
        "POST /api/messaging/submit",
        422,
        json!({"error": "unprocessable"}),
    );
    owner_post(&gw, &setup.owner, &setup.channel, "you won't take this").await;
    assert!(gw.log_eventually_contains("agent_delivery.refused").await);
    assert_submits_stay(&origin, 4, "one attempt for a refused message").await;
}

#[tokio::test]
async fn an_unreachable_origin_never_holds_up_the_room() {
    let origin = TestOrigin::start().await;
    let gw = gateway(&origin.base_url).await;
    let setup = agent_channel(&gw, &origin).await;
    // The origin goes away once the agent exists: its port is closed now.
    drop(origin);
    let mut socket = owner_socket(&gw, &setup.owner, &setup.channel).await;
    for text in ["first", "second"] {
        send(
            &mut socket,
            &json!({"type": "message", "text": text}).to_string(),
        )
        .await;
        let echo = next_message(&mut socket, Duration::from_secs(5)).await;
        assert_eq!(echo["text"], text);
    }
    assert!(gw.log_eventually_contains("agent_delivery.retry").await);
    assert!(gw.log().contains("origin unreachable"));
}

#[tokio::test]
async fn agent_tokens_are_the_owners_to_give_and_stay_in_their_channel() {
    let origin = TestOrigin::start().await;
    let gw = gateway(&origin.base_url).await;
    let setup = agent_channel(&gw, &origin).await;

    // Someone else's agent can't be bound to the owner's token.
    let bob_agent_id = origin_creates_agent(&origin, "bob's agent");
    let bob_agent = client()
        .post(gw.url("/api/agents"))
        .bearer_auth(user_token("bob"))
        .json(&json!({"name": "bob's agent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bob_agent.status(), 201);
    assert_eq!(json(bob_agent).await["id"], bob_agent_id.as_str());
    let bob_agent = bob_agent_id;
    let refused = setup
        .owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "x", "scopes": ["messaging:send"], "agentId": bob_agent}))
        .send()
        .await
        .unwrap();
    expect_error(refused, 404, "NOT_FOUND").await;

    // A token bound to the agent and one channel acts as the agent there…
    let token = reply_token(&gw, &setup, &setup.channel).await;
    let posted = token_post(&gw, &token, &setup.channel, "agent speaking").await;
    assert_eq!(posted.status(), 201);
    assert_eq!(json(posted).await["senderId"], setup.agent.as_str());

    // …and nowhere else, even in a channel the agent participates in.
    let other = owner_call(
        &gw,
        &setup.owner,
        Method::POST,
        "/api/messaging/channels",
        Some(json!({"name": "second", "participants": [setup.agent]})),
        201,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = token_post(&gw, &token, &other, "should not land").await;
    expect_error(elsewhere, 404, "NOT_FOUND").await;
    // Its scope is messaging:send only.
    let read = client()
        .get(gw.url(&format!(
            "/api/messaging/channels/{}/messages",
            setup.channel
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_error(read, 403, "INSUFFICIENT_PERMISSIONS").await;
    // A channel-bound token makes no channels…
    let make = client()
        .post(gw.url("/api/messaging/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "side channel", "participants": [setup.owner_entity]}))
        .send()
        .await
        .unwrap();
    expect_error(make, 403, "INSUFFICIENT_PERMISSIONS").await;
    // …and, even with messaging:read, lists only its own channel although
    // the agent participates in two.
    let reader = owner_call(
        &gw,
        &setup.owner,
        Method::POST,
        "/api/auth/machine-tokens",
        Some(json!({
            "name": "agent reader",
            "scopes": ["messaging:read", "messaging:send"],
            "channelId": setup.channel,
            "agentId": setup.agent,
        })),
        201,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = client()
        .get(gw.url("/api/messaging/channels"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let ids: Vec<Value> = json(listed).await["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(setup.channel)]);

    // An agent may not take a person's id (a token acting as the agent would
    // act as the person)…
    let impostor = setup
        .owner
        .request(Method::POST, &gw.url("/api/agents"))
        .json(&json!({"name": "me, really", "id": setup.owner_entity}))
        .send()
        .await
        .unwrap();
    expect_error(impostor, 409, "CONFLICT").await;
    // …nor be registered under an id the origin never named.
    origin.script(
        &format!(
            "GET /api/agents/{}",
            agentgate_shared::entity_id::eliza_uuid("nameless")
        ),
        404,
        json!({"success": false}),
    );
    origin.script("POST /api/agents", 201, json!({"success": true}));
    let unnamed = setup
        .owner
        .request(Method::POST, &gw.url("/api/agents"))
        .json(&json!({"name": "nameless"}))
        .send()
        .await
        .unwrap();
    expect_error(unnamed, 502, "ORIGIN_UNAVAILABLE").await;
    assert!(gw
        .query("SELECT id FROM agents WHERE name = 'nameless'")
        .await
        .is_empty());

    // Once the agent is deleted, its tokens stop working.
    owner_call(
        &gw,
        &setup.owner,
        Method::DELETE,
        &format!("/api/agents/{}", setup.agent),
        None,
        200,
    )
    .await;
    let after = token_post(&gw, &token, &setup.channel, "still here?").await;
    expect_error(after, 401, "INVALID_TOKEN").await;
}

#[tokio::test]
async fn only_senders_who_may_address_an_agent_reach_it() {
    let origin = TestOrigin::start().await;
    let gw = gateway(&origin.base_url).await;
    let as_user = |who: &str, method: Method, path: &str| {
        client()
            .request(method, gw.url(path))
            .bearer_auth(user_token(who))
    };
    let entity = |who: &'static str| {
        let me = as_user(who, Method::GET, "/api/auth/me").send();
        async move {
            json(me.await.unwrap()).await["entityId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let bob = entity("bob").await;
    // Alice's private agent (shared with nobody).
    let agent = origin_creates_agent(&origin, "alice's agent");
    let created = as_user("alice", Method::POST, "/api/agents")
        .json(&json!({"name": "alice's agent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Alice makes a channel with her agent in it and invites Bob, who
    // accepts.
    let made = json(
        as_user("alice", Method::POST, "/api/messaging/channels")
            .json(&json!({"name": "three of us", "participants": [bob, agent]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(made["invited"], json!([bob]), "{made}");
    let channel = made["id"].as_str().unwrap().to_owned();
    let accepted = as_user(
        "bob",
        Method::POST,
        &format!("/api/messaging/channels/{channel}/participants"),
    )
    .json(&json!({ "entityId": bob }))
    .send()
    .await
    .unwrap();
    assert_eq!(accepted.status(), 200);
    let post = |who: &'static str, text: &'static str| {
        as_user(
            who,
            Method::POST,
            &format!("/api/messaging/channels/{channel}/messages"),
        )
        .json(&json!({ "text": text }))
        .send()
    };
    // Alice may address her agent: her message reaches it.
    assert_eq!(post("alice", "from alice").await.unwrap().status(), 201);
    let got = deliveries(&origin, 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["text"], "from alice");

    // Bob can't see the agent: neither his REST post nor his socket message
    // is handed to it, although the room knows the agent from Alice.
    assert_eq!(
        post("bob", "from bob over REST").await.unwrap().status(),
        201
    );
    let auth = format!("Bearer {}", user_token("bob"));
    let mut socket = connect(
        &gw.ws_url(&format!("/api/messaging/channels/{channel}/ws")),
        &[("authorization", &auth)],
    )
    .await
    .expect("bob's socket");
    send(
        &mut socket,
        &json!({"type": "message", "text": "from bob's socket"}).to_string(),
    )
    .await;
    next_message(&mut socket, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let texts: Vec<Value> = origin
        .received_under("/api/messaging/submit")
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("from alice")], "only Alice's message");
}
