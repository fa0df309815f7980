//! The agent server behind the gateway (SPEC §7, §13), end to end: the agents
//! registry and its ownership rules, and forwarding to a test origin on
//! loopback that verifies the gateway's assertion against the gateway's own
//! `/.well-known/jwks.json`.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::jwt::{hs256, now};
use agentgate_e2e::origin::{streamed_body, verify_assertion, TestOrigin};
use agentgate_e2e::process::free_port;
use agentgate_e2e::session::setup_owner;
use agentgate_e2e::{Gateway, GatewayBuilder, TEST_SERVER_ID};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

const SECRET: &str = "agents-e2e-shared-secret-at-least-32-bytes";
/// Ed25519 seeds (base64) of the gateway's current and previous signing keys.
const SIGNING_SEED: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const PREVIOUS_SEED: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn token(sub: &str) -> String {
    let t = now();
    hs256(SECRET, &json!({"sub": sub, "iat": t, "exp": t + 600}))
}

fn builder() -> GatewayBuilder {
    Gateway::builder()
        .var("JWT_SECRET", SECRET)
        .var("GATEWAY_SIGNING_KEY", SIGNING_SEED)
}

async fn gateway_with_origin(origin: &str) -> Gateway {
    builder().var("AGENT_ORIGIN_URL", origin).start().await
}

/// A request as the JWT user `who`.
fn as_user(gw: &Gateway, who: &str, method: Method, path: &str) -> RequestBuilder {
    client()
        .request(method, gw.url(path))
        .bearer_auth(token(who))
}

async fn entity(gw: &Gateway, who: &str) -> String {
    let resp = as_user(gw, who, Method::GET, "/api/auth/me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await["entityId"].as_str().unwrap().to_owned()
}

async fn create_agent(gw: &Gateway, who: &str, name: &str, shared_with: &[&str]) -> String {
    let resp = as_user(gw, who, Method::POST, "/api/agents")
        .json(&json!({"name": name, "sharedWith": shared_with}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body = json(resp).await;
    assert_eq!(body["name"], name);
    assert_eq!(body["status"], "stopped");
    body["id"].as_str().unwrap().to_owned()
}

async fn jwks(gw: &Gateway) -> Value {
    let resp = client()
        .get(gw.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await
}

#[tokio::test]
async fn forwarded_requests_carry_a_verifiable_assertion_and_no_client_identity() {
    let origin = TestOrigin::start().await;
    let gw = builder()
        .var("AGENT_ORIGIN_URL", &origin.base_url)
        .var("GATEWAY_SIGNING_KEY_PREVIOUS", PREVIOUS_SEED)
        .start()
        .await;
    let (owner, _) = setup_owner(&gw).await;
    let owner_entity = json(owner.me(&gw).await).await["entityId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = owner
        .request(Method::POST, &gw.url("/api/agents"))
        .json(&json!({"name": "Eliza", "id": "agent-eliza"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // The client forges identity headers and sends its credentials along.
    let resp = owner
        .request(
            Method::POST,
            &gw.url("/api/memory/agent-eliza/rooms?source=e2e&x=%20y"),
        )
        .header("X-User-ID", "forged-user")
        .header("X-User-Email", "forged@example.com")
        .header("X-Entity-Id", "forged-entity")
        .header("X-Agentgate-Assertion", "forged.assertion.value")
        .header("X-API-Key", "client-sent-key")
        .header("content-type", "application/json")
        .body(r#"{"name":"a room","worldId":"w1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("x-origin").map(|v| v.to_str().unwrap()),
        Some("test-origin")
    );
    assert!(
        resp.headers().get("set-cookie").is_none(),
        "the origin's cookie came back to the client"
    );
    let echoed = json(resp).await;
    assert_eq!(
        echoed["target"],
        "/api/memory/agent-eliza/rooms?source=e2e&x=%20y"
    );

    let received = origin.received();
    assert_eq!(received.len(), 1);
    let seen = &received[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.target,
        "/api/memory/agent-eliza/rooms?source=e2e&x=%20y"
    );
    assert_eq!(seen.body, br#"{"name":"a room","worldId":"w1"}"#);
    for stripped in [
        "x-user-id",
        "x-user-email",
        "x-entity-id",
        "x-api-key",
        "cookie",
        "authorization",
        "x-eliza-csrf",
    ] {
        assert_eq!(seen.header(stripped), None, "{stripped} reached the origin");
    }
    let assertion = seen.header("x-agentgate-assertion").expect("assertion");
    assert_ne!(assertion, "forged.assertion.value");
    let all_assertions = seen
        .headers
        .iter()
        .filter(|(n, _)| n.starts_with("x-agentgate-"))
        .count();
    assert_eq!(
        all_assertions, 1,
        "only the gateway's own x-agentgate header"
    );

    // Verified against the gateway's published keys, as the origin would.
    let keys = jwks(&gw).await;
    assert_eq!(
        keys["keys"].as_array().unwrap().len(),
        2,
        "current + previous"
    );
    let t = now();
    let claims = verify_assertion(assertion, &keys, &origin.base_url, t).expect("verifies");
    assert_eq!(claims["sub"], owner_entity.as_str());
    assert_eq!(claims["server_id"], TEST_SERVER_ID);
    assert_eq!(claims["aud"], origin.base_url.as_str());
    assert_eq!(claims["iss"], gw.base_url.as_str());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    let scopes: Vec<&str> = claims["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for scope in ["memory:write", "agent:write", "admin:*"] {
        assert!(scopes.contains(&scope), "owner scopes {scopes:?}");
    }
    // For another audience, or replayed after its 60 s, it fails.
    assert!(verify_assertion(assertion, &keys, "http://127.0.0.1:1", t).is_err());
    let iat = claims["iat"].as_u64().unwrap();
    assert!(verify_assertion(assertion, &keys, &origin.base_url, iat + 61).is_err());
    // Not signed by a key outside the published set.
    let only_previous = json!({"keys": [keys["keys"][1].clone()]});
    assert!(verify_assertion(assertion, &only_previous, &origin.base_url, t).is_err());

    // A JWT user's assertion names that user, with the user's scopes only.
    let bob = entity(&gw, "bob").await;
    let resp = owner
        .request(Method::PATCH, &gw.url("/api/agents/agent-eliza"))
        .json(&json!({"sharedWith": [bob]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = as_user(&gw, "bob", Method::GET, "/api/agents/agent-eliza/logs")
        .header("X-User-ID", owner_entity.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = origin.received_under("/api/agents/agent-eliza/logs");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("x-user-id"), None);
    let claims = verify_assertion(
        seen[0].header("x-agentgate-assertion").unwrap(),
        &keys,
        &origin.base_url,
        now(),
    )
    .unwrap();
    assert_eq!(claims["sub"], bob.as_str());
    assert!(!claims["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("admin:*")));

    // A large response streams through intact.
    const SIZE: usize = 1024 * 1024;
    origin.set_body_size(Some(SIZE));
    let resp = owner
        .request(
            Method::GET,
            &gw.url("/api/agents/agent-eliza/logs?follow=1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    assert_eq!(body.len(), SIZE);
    assert!(body.as_ref() == streamed_body(SIZE).as_slice());

    // Start and stop reach the origin and update the registry's status.
    origin.set_body_size(None);
    let resp = owner
        .request(Method::POST, &gw.url("/api/agents/agent-eliza/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = owner
        .request(Method::GET, &gw.url("/api/agents/agent-eliza"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["status"], "running");
    let audit =
        gw.d1_query("SELECT action FROM audit_events WHERE action LIKE 'agent.%' ORDER BY ts");
    let actions: Vec<&str> = audit.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "agent.create.success",
            "agent.update.success",
            "agent.start.success"
        ]
    );
}

#[tokio::test]
async fn ownership_comes_from_the_registry_and_not_yours_is_404() {
    let origin = TestOrigin::start().await;
    let gw = gateway_with_origin(&origin.base_url).await;
    let bob = entity(&gw, "bob").await;
    let private = create_agent(&gw, "alice", "private", &[]).await;
    let shared = create_agent(&gw, "alice", "shared", &[&bob]).await;

    // Bob can neither read, change, start, stop nor delete Alice's agent,
    // nor touch its memory: 404 for all, and the origin never hears of it.
    let refused = [
        (Method::GET, format!("/api/agents/{private}")),
        (Method::PATCH, format!("/api/agents/{private}")),
        (Method::DELETE, format!("/api/agents/{private}")),
        (Method::POST, format!("/api/agents/{private}/start")),
        (Method::POST, format!("/api/agents/{private}/stop")),
        (Method::GET, format!("/api/agents/{private}/logs")),
        (Method::GET, format!("/api/memory/{private}/memories")),
        (Method::DELETE, format!("/api/memory/{private}/memories")),
        (Method::POST, format!("/api/memory/{private}/rooms")),
        (
            Method::GET,
            format!("/api/agents/{private}/rooms/r1/memories"),
        ),
        // Shared means read-only: changes stay the owner's.
        (Method::PATCH, format!("/api/agents/{shared}")),
        (Method::DELETE, format!("/api/agents/{shared}")),
        (Method::POST, format!("/api/agents/{shared}/start")),
        (Method::DELETE, format!("/api/memory/{shared}/memories")),
        // An agent nobody registered.
        (Method::GET, "/api/agents/no-such-agent".to_owned()),
        (Method::POST, "/api/agents/no-such-agent/start".to_owned()),
    ];
    for (method, path) in &refused {
        let resp = as_user(&gw, "bob", method.clone(), path)
            .json(&json!({"name": "mine now"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{method} {path}");
        expect_error(resp, 404, "NOT_FOUND").await;
    }
    assert!(
        origin.received().is_empty(),
        "a refused request reached the origin"
    );

    // Bob reads the shared agent (and its logs, at the origin).
    let resp = as_user(&gw, "bob", Method::GET, &format!("/api/agents/{shared}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    assert_eq!(body["name"], "shared");
    assert!(
        body.get("sharedWith").is_none(),
        "only the owner sees the share list"
    );
    let resp = as_user(
        &gw,
        "bob",
        Method::GET,
        &format!("/api/memory/{shared}/memories"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(origin.received().len(), 1);

    // Listings: each sees their own and what is shared with them.
    let names = |v: Value| -> Vec<String> {
        let mut n: Vec<String> = v["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    let list = |who: &'static str| as_user(&gw, who, Method::GET, "/api/agents").send();
    assert_eq!(
        names(json(list("alice").await.unwrap()).await),
        ["private", "shared"]
    );
    assert_eq!(names(json(list("bob").await.unwrap()).await), ["shared"]);
    assert!(names(json(list("carol").await.unwrap()).await).is_empty());

    // The owner changes and deletes; then it is gone for both.
    let resp = as_user(
        &gw,
        "alice",
        Method::PATCH,
        &format!("/api/agents/{shared}"),
    )
    .json(&json!({"name": "renamed", "sharedWith": []}))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["sharedWith"], json!([]));
    let resp = as_user(&gw, "bob", Method::GET, &format!("/api/agents/{shared}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "unshared");
    let resp = as_user(
        &gw,
        "alice",
        Method::DELETE,
        &format!("/api/agents/{private}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = as_user(&gw, "alice", Method::GET, &format!("/api/agents/{private}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Bad input is a clear 400; a taken id is 409.
    for body in [
        json!({"name": ""}),
        json!({"name": "x", "id": "../etc"}),
        json!({"name": "x", "sharedWith": ["a b"]}),
        json!({"name": "x", "owner": "someone"}),
    ] {
        let resp = as_user(&gw, "alice", Method::POST, "/api/agents")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, 400, "BAD_REQUEST").await;
    }
    let resp = as_user(&gw, "bob", Method::POST, "/api/agents")
        .json(&json!({"name": "squat", "id": shared}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 409, "CONFLICT").await;
}

#[tokio::test]
async fn admin_routes_refuse_users_and_unknown_api_paths_never_reach_the_origin() {
    let origin = TestOrigin::start().await;
    let gw = gateway_with_origin(&origin.base_url).await;
    for (method, path) in [
        (Method::GET, "/api/server/logs"),
        (Method::POST, "/api/server/stop"),
    ] {
        let resp = as_user(&gw, "bob", method.clone(), path)
            .send()
            .await
            .unwrap();
        expect_error(resp, 403, "INSUFFICIENT_PERMISSIONS").await;
    }
    let agent = create_agent(&gw, "bob", "mine", &[]).await;
    for (method, path) in [
        (Method::GET, format!("/api/agents/{agent}/secrets")),
        (Method::GET, format!("/api/memory/{agent}")),
        (Method::POST, "/api/server/restart".to_owned()),
        (Method::GET, "/api/audio/x".to_owned()),
        (Method::GET, "/api/anything".to_owned()),
    ] {
        let resp = as_user(&gw, "bob", method.clone(), &path)
            .send()
            .await
            .unwrap();
        expect_error(resp, 404, "NOT_FOUND").await;
    }
    assert!(origin.received().is_empty(), "the origin was reached");

    // The owner holds admin:*: server logs and stop are forwarded.
    let (owner, _) = setup_owner(&gw).await;
    let resp = owner
        .request(Method::GET, &gw.url("/api/server/logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = owner
        .request(Method::POST, &gw.url("/api/server/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let targets: Vec<String> = origin.received().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/api/server/logs", "/api/server/stop"]);
}

#[tokio::test]
async fn origin_down_is_502() {
    let down = format!("http://127.0.0.1:{}", free_port());
    let gw = gateway_with_origin(&down).await;
    let agent = create_agent(&gw, "alice", "a", &[]).await;
    let resp = as_user(
        &gw,
        "alice",
        Method::POST,
        &format!("/api/agents/{agent}/start"),
    )
    .send()
    .await
    .unwrap();
    expect_error(resp, 502, "ORIGIN_UNAVAILABLE").await;
    // The registry still answers, and the failed start is audited as such.
    let resp = as_user(&gw, "alice", Method::GET, &format!("/api/agents/{agent}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["status"], "stopped");
    let audit = gw.d1_query("SELECT action FROM audit_events WHERE action LIKE 'agent.start%'");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "agent.start.failure");
}

#[tokio::test]
async fn slow_origin_is_504_after_the_configured_timeout() {
    let origin = TestOrigin::start().await;
    let gw = builder()
        .var("AGENT_ORIGIN_URL", &origin.base_url)
        .var("AGENT_ORIGIN_TIMEOUT_MS", "1000")
        .start()
        .await;
    let agent = create_agent(&gw, "alice", "a", &[]).await;
    let logs = format!("/api/agents/{agent}/logs");
    origin.set_delay(Some(std::time::Duration::from_secs(4)));
    let started = std::time::Instant::now();
    let resp = as_user(&gw, "alice", Method::GET, &logs)
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    expect_error(resp, 504, "ORIGIN_TIMEOUT").await;
    assert!(
        waited >= std::time::Duration::from_millis(900)
            && waited < std::time::Duration::from_secs(4),
        "answered after {waited:?}"
    );
    origin.set_delay(None);
    let resp = as_user(&gw, "alice", Method::GET, &logs)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn without_an_origin_runtime_routes_are_503_and_the_registry_works() {
    let gw = Gateway::builder().var("JWT_SECRET", SECRET).start().await;
    assert_eq!(jwks(&gw).await, json!({"keys": []}));
    let agent = create_agent(&gw, "alice", "offline", &[]).await;
    let resp = as_user(&gw, "alice", Method::GET, &format!("/api/agents/{agent}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let runtime = [
        (Method::POST, format!("/api/agents/{agent}/start")),
        (Method::POST, format!("/api/agents/{agent}/stop")),
        (Method::GET, format!("/api/agents/{agent}/logs")),
        (Method::GET, format!("/api/memory/{agent}/memories")),
        (Method::DELETE, format!("/api/memory/{agent}/memories")),
        (Method::POST, format!("/api/memory/{agent}/rooms")),
        (
            Method::GET,
            format!("/api/agents/{agent}/rooms/r1/memories"),
        ),
    ];
    for (method, path) in &runtime {
        let resp = as_user(&gw, "alice", method.clone(), path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503, "{method} {path}");
        expect_error(resp, 503, "ORIGIN_NOT_CONFIGURED").await;
    }
    let (owner, _) = setup_owner(&gw).await;
    let resp = owner
        .request(Method::GET, &gw.url("/api/server/logs"))
        .send()
        .await
        .unwrap();
    expect_error(resp, 503, "ORIGIN_NOT_CONFIGURED").await;
}

#[tokio::test]
async fn an_origin_without_a_signing_key_is_misconfigured() {
    let origin = TestOrigin::start().await;
    let gw = Gateway::builder()
        .var("AGENT_ORIGIN_URL", &origin.base_url)
        .start()
        .await;
    let resp = client()
        .get(gw.url("/api/server/ping"))
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 503, "MISCONFIGURED").await;
    assert_eq!(body["variable"], "GATEWAY_SIGNING_KEY");
}
