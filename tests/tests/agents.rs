//! The agent server behind the gateway (SPEC §7, §13), end to end: the agents
//! registry and its ownership rules, and forwarding to a test origin on
//! loopback that verifies the gateway's assertion against the gateway's own
//! `/.well-known/jwks.json`.

use agentgate_e2e::eliza::ElizaOrigin;
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

/// A fixed, readable agent id: the UUID ElizaOS derives from `label`.
fn uid(label: &str) -> String {
    agentgate_shared::entity_id::eliza_uuid(label)
}

/// Registers an agent as `who` and checks the registry holds it. The id is
/// chosen here, so that an origin's echo (which names no id) keeps it; a
/// scripted `origin` first says it has no such agent, as ElizaOS would.
async fn create_agent(
    gw: &Gateway,
    origin: Option<&TestOrigin>,
    who: &str,
    name: &str,
    shared_with: &[&str],
) -> String {
    let id = uid(&format!("agent-{who}-{name}"));
    if let Some(origin) = origin {
        origin.script(
            &format!("GET /api/agents/{id}"),
            404,
            json!({"success": false}),
        );
    }
    let resp = as_user(gw, who, Method::POST, "/api/agents")
        .json(&json!({"name": name, "id": id, "sharedWith": shared_with}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "create: {}", resp.status());
    let body = registered(gw, who, &id).await.expect("registered");
    assert_eq!(body["name"], name);
    assert_eq!(body["status"], "stopped");
    id
}

/// The registry's view of agent `id` for `who`, if they may see it: read
/// from the store, as an operator would (with an origin, `GET
/// /api/agents/:id` is the origin's answer).
async fn registered(gw: &Gateway, who: &str, id: &str) -> Option<Value> {
    let me = entity(gw, who).await;
    let rows = gw
        .query(&format!(
            "SELECT name, owner_entity_id, shared_with, status FROM agents WHERE id = '{id}'"
        ))
        .await;
    let row = rows.first()?;
    let shared: Vec<String> = match &row["shared_with"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => serde_json::from_value(other.clone()).unwrap(),
    };
    let owner = row["owner_entity_id"].as_str().unwrap().to_owned();
    if owner != me && !shared.contains(&me) {
        return None;
    }
    Some(json!({
        "name": row["name"],
        "ownerId": owner,
        "sharedWith": shared,
        "status": row["status"],
    }))
}

/// How many audit rows have `action`.
async fn audited(gw: &Gateway, action: &str) -> usize {
    gw.query(&format!(
        "SELECT id FROM audit_events WHERE action = '{action}'"
    ))
    .await
    .len()
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
        .var("AGENT_ORIGIN_API_KEY", ORIGIN_KEY)
        .var("GATEWAY_SIGNING_KEY_PREVIOUS", PREVIOUS_SEED)
        .start()
        .await;
    let (owner, _) = setup_owner(&gw).await;
    let owner_entity = json(owner.me(&gw).await).await["entityId"]
        .as_str()
        .unwrap()
        .to_owned();
    // ElizaOS's id for "Eliza" (from the name): the gateway asks whether the
    // origin has it (no), then forwards the create.
    let eliza_id = uid("Eliza");
    origin.script(
        &format!("GET /api/agents/{eliza_id}"),
        404,
        json!({"success": false}),
    );
    origin.script(
        "POST /api/agents",
        201,
        json!({"success": true, "data": {"id": eliza_id}}),
    );
    let resp = owner
        .request(Method::POST, &gw.url("/api/agents"))
        .json(&json!({"name": "Eliza"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // The client forges identity headers and sends its credentials along.
    let resp = owner
        .request(
            Method::POST,
            &gw.url(&format!("/api/memory/{eliza_id}/rooms?source=e2e&x=%20y")),
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
        format!("/api/memory/{eliza_id}/rooms?source=e2e&x=%20y")
    );

    let received = origin.received_under("/api/memory");
    assert_eq!(received.len(), 1);
    let seen = &received[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.target,
        format!("/api/memory/{eliza_id}/rooms?source=e2e&x=%20y")
    );
    assert_eq!(seen.body, br#"{"name":"a room","worldId":"w1"}"#);
    for stripped in [
        "x-user-id",
        "x-user-email",
        "cookie",
        "authorization",
        "x-eliza-csrf",
    ] {
        assert_eq!(seen.header(stripped), None, "{stripped} reached the origin");
    }
    // What a stock ElizaOS server understands: its own key, and the
    // verified entity (never the client's).
    assert_eq!(seen.header("x-api-key"), Some(ORIGIN_KEY));
    assert_eq!(seen.header("x-entity-id"), Some(owner_entity.as_str()));
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
        .request(Method::PATCH, &gw.url(&format!("/api/agents/{eliza_id}")))
        .json(&json!({"sharedWith": [bob]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = as_user(
        &gw,
        "bob",
        Method::GET,
        &format!("/api/agents/{eliza_id}/logs"),
    )
    .header("X-User-ID", owner_entity.as_str())
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = origin.received_under(&format!("/api/agents/{eliza_id}/logs"));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("x-user-id"), None);
    assert_eq!(seen[0].header("x-entity-id"), Some(bob.as_str()));
    assert_eq!(seen[0].header("x-api-key"), Some(ORIGIN_KEY));
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
            &gw.url(&format!("/api/agents/{eliza_id}/logs?follow=1")),
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
        .request(
            Method::POST,
            &gw.url(&format!("/api/agents/{eliza_id}/start")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let status = gw
        .query(&format!(
            "SELECT status FROM agents WHERE id = '{eliza_id}'"
        ))
        .await;
    assert_eq!(status[0]["status"], "running");
    let audit = gw
        .query("SELECT action FROM audit_events WHERE action LIKE 'agent.%' ORDER BY ts")
        .await;
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

/// The real ElizaOS origin's key in these tests (it runs closed).
const ORIGIN_KEY: &str = "agents-e2e-origin-key-0123456789";

/// The gateway in front of a real ElizaOS 1.7.2 origin that runs closed
/// with its own key, which the gateway holds.
async fn gateway_with_eliza() -> (ElizaOrigin, Gateway) {
    let origin = ElizaOrigin::builder().auth_token(ORIGIN_KEY).start().await;
    let gw = builder()
        .var("AGENT_ORIGIN_URL", origin.url())
        .var("AGENT_ORIGIN_API_KEY", ORIGIN_KEY)
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await;
    (origin, gw)
}

/// `who` creates an agent from an ElizaOS character; its id (ElizaOS's, from
/// the name) is returned.
async fn create_character(gw: &Gateway, who: &str, body: Value) -> String {
    let resp = as_user(gw, who, Method::POST, "/api/agents")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let answer = json(resp).await;
    assert_eq!(status, 201, "{answer}");
    answer["data"]["id"].as_str().unwrap().to_owned()
}

/// `who`'s `GET /api/agents`.
async fn list(gw: &Gateway, who: &str) -> Value {
    json(
        as_user(gw, who, Method::GET, "/api/agents")
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The names in ElizaOS's `GET /api/agents` answer, sorted.
fn listed_names(v: &Value) -> Vec<String> {
    assert_eq!(v["success"], true, "{v}");
    let mut n: Vec<String> = v["data"]["agents"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn at_a_real_origin_agents_are_their_registrants_and_not_yours_is_404() {
    let (origin, gw) = gateway_with_eliza().await;
    let bob = entity(&gw, "bob").await;
    let private = create_character(
        &gw,
        "alice",
        json!({"characterJson": {
            "name": "Private",
            "bio": ["Alice's own."],
            "settings": {"secrets": {"SOME_KEY": "alice-secret"}},
        }}),
    )
    .await;
    // ElizaOS's id: derived from the name.
    assert_eq!(private, uid("Private"));
    let shared = create_character(
        &gw,
        "alice",
        json!({
            "agent": {
                "name": "Shared",
                "bio": ["Shared with Bob."],
                "settings": {"secrets": {"SOME_KEY": "shared-secret"}},
            },
            "sharedWith": [bob],
        }),
    )
    .await;
    assert_eq!(
        registered(&gw, "alice", &shared).await.unwrap()["sharedWith"],
        json!([bob])
    );

    // Bob can neither read, change, start, stop nor delete Alice's agent,
    // nor touch its memory, logs, runs or voice: 404 for all.
    let refused = [
        (Method::GET, format!("/api/agents/{private}")),
        (Method::PATCH, format!("/api/agents/{private}")),
        (Method::DELETE, format!("/api/agents/{private}")),
        (Method::POST, format!("/api/agents/{private}/start")),
        (Method::POST, format!("/api/agents/{private}/stop")),
        (Method::GET, format!("/api/agents/{private}/logs")),
        (Method::GET, format!("/api/agents/{private}/panels")),
        (Method::GET, format!("/api/agents/{private}/runs")),
        (Method::GET, format!("/api/memory/{private}/memories")),
        (Method::DELETE, format!("/api/memory/{private}/memories")),
        (Method::GET, format!("/api/memory/{private}/rooms")),
        (Method::POST, format!("/api/memory/{private}/rooms")),
        (
            Method::POST,
            format!("/api/audio/{private}/speech/generate"),
        ),
        (
            Method::POST,
            format!("/api/media/agents/{private}/upload-media"),
        ),
        // Shared means read-only: changes stay the owner's.
        (Method::PATCH, format!("/api/agents/{shared}")),
        (Method::DELETE, format!("/api/agents/{shared}")),
        (Method::POST, format!("/api/agents/{shared}/start")),
        (Method::DELETE, format!("/api/memory/{shared}/memories")),
        // An agent nobody registered and that doesn't exist.
        (Method::GET, format!("/api/agents/{}", uid("nobody"))),
        (Method::POST, format!("/api/agents/{}/start", uid("nobody"))),
    ];
    for (method, path) in &refused {
        let resp = as_user(&gw, "bob", method.clone(), path)
            .json(&json!({"name": "mine now", "text": "hi"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, 404, "NOT_FOUND").await;
    }

    // Bob reads the shared agent as ElizaOS answers it, without its secrets;
    // Alice, its owner, gets them as the origin gives them.
    let resp = as_user(&gw, "bob", Method::GET, &format!("/api/agents/{shared}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = json(resp).await;
    assert_eq!(seen["success"], true, "{seen}");
    assert_eq!(seen["data"]["name"], "Shared");
    assert!(seen["data"].get("secrets").is_none(), "{seen}");
    assert!(seen["data"]["settings"].get("secrets").is_none(), "{seen}");
    let resp = as_user(&gw, "alice", Method::GET, &format!("/api/agents/{shared}"))
        .send()
        .await
        .unwrap();
    let own = json(resp).await;
    assert!(
        own["data"]["settings"]["secrets"]["SOME_KEY"].is_string(),
        "{own}"
    );

    // Listings: the origin's, each filtered to its caller.
    assert_eq!(
        listed_names(&list(&gw, "alice").await),
        ["Private", "Shared"]
    );
    assert_eq!(listed_names(&list(&gw, "bob").await), ["Shared"]);
    assert!(listed_names(&list(&gw, "carol").await).is_empty());

    // A create whose id is taken is 409, whoever holds it and wherever:
    // Alice's agent, or one made at the origin directly (the deployment
    // owner's). The answers can't be told apart, and nothing changes hands.
    let direct = origin
        .request(Method::POST, "/api/agents")
        .json(&json!({"characterJson": {"name": "Direct", "bio": ["made at the origin"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 201);
    let direct_id = uid("Direct");
    let mut answers = Vec::new();
    for (who, name) in [("bob", "Private"), ("alice", "Private"), ("bob", "Direct")] {
        let resp = as_user(&gw, who, Method::POST, "/api/agents")
            .json(&json!({"characterJson": {"name": name, "bio": ["squat"]}}))
            .send()
            .await
            .unwrap();
        let mut error = expect_error(resp, 409, "CONFLICT").await;
        error["error"]["requestId"] = Value::Null;
        answers.push(error);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let resp = as_user(&gw, "bob", Method::POST, "/api/agents")
        .json(&json!({"characterJson": {"name": "Bob's", "id": private}}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 409, "CONFLICT").await;
    assert_eq!(
        registered(&gw, "alice", &private).await.unwrap()["ownerId"],
        entity(&gw, "alice").await.as_str()
    );
    assert!(registered(&gw, "bob", &direct_id).await.is_none());
    assert_eq!(listed_names(&list(&gw, "bob").await), ["Shared"]);

    // Bad input is 400 before the origin: no name, a bad id, characterPath.
    for body in [
        json!({"characterJson": {"bio": ["nameless"]}}),
        json!({"characterJson": {"name": "x", "id": "agent-x"}}),
        json!({"characterPath": "/etc/passwd"}),
        json!({"characterPath": "http://127.0.0.1:1/c.json", "characterJson": {"name": "P"}}),
        json!(["not", "an", "object"]),
    ] {
        let resp = as_user(&gw, "alice", Method::POST, "/api/agents")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, 400, "BAD_REQUEST").await;
    }

    // Origin agents nobody registered are the deployment owner's: the owner
    // (and the owner's machine token, in X-API-KEY as the api-client sends
    // it) sees "Direct" and may use it; nobody else sees it.
    let (owner, _) = setup_owner(&gw).await;
    let resp = owner
        .request(Method::GET, &gw.url("/api/agents"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed_names(&json(resp).await), ["Direct"]);
    let token = json(
        owner
            .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
            .json(&json!({"name": "client", "scopes": ["agent:read", "agent:write"]}))
            .send()
            .await
            .unwrap(),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = client()
        .get(gw.url(&format!("/api/agents/{direct_id}")))
        .header("X-API-KEY", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["data"]["name"], "Direct");
    assert!(listed_names(&list(&gw, "alice").await)
        .iter()
        .all(|n| n != "Direct"));

    // Alice runs her agent: start, the origin's status, a change, a delete.
    let resp = as_user(
        &gw,
        "alice",
        Method::POST,
        &format!("/api/agents/{private}/start"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let listed = list(&gw, "alice").await;
    let status = listed["data"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == private.as_str())
        .map(|a| a["status"].clone());
    assert_eq!(status, Some(json!("active")), "{listed}");
    let resp = as_user(
        &gw,
        "alice",
        Method::PATCH,
        &format!("/api/agents/{private}"),
    )
    .json(&json!({"bio": ["changed"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = as_user(
        &gw,
        "alice",
        Method::POST,
        &format!("/api/agents/{private}/stop"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = as_user(
        &gw,
        "alice",
        Method::DELETE,
        &format!("/api/agents/{private}"),
    )
    .send()
    .await
    .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert!(registered(&gw, "alice", &private).await.is_none());
    let resp = as_user(&gw, "alice", Method::GET, &format!("/api/agents/{private}"))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
    // Gone at the origin too, so its name may be taken again.
    let again = create_character(
        &gw,
        "bob",
        json!({"characterJson": {"name": "Private", "bio": ["Bob's now."]}}),
    )
    .await;
    assert_eq!(again, private);
    assert_eq!(audited(&gw, "agent.create.failure").await, 4);
}

#[tokio::test]
async fn changes_with_an_origin_are_checked_in_the_registry_then_follow_the_origins_answer() {
    let origin = TestOrigin::start().await;
    let gw = gateway_with_origin(&origin.base_url).await;
    let id = create_agent(&gw, Some(&origin), "alice", "eliza", &[]).await;
    let path = format!("/api/agents/{id}");
    // What reached the origin at `path`, beyond the create's lookup.
    let changes = || -> Vec<agentgate_e2e::origin::Received> {
        origin
            .received_under(&path)
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    };

    // Not Bob's: 404, and the origin hears nothing of it.
    for method in [Method::PATCH, Method::DELETE] {
        let resp = as_user(&gw, "bob", method.clone(), &path)
            .json(&json!({"name": "mine now"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, 404, "NOT_FOUND").await;
    }
    assert!(changes().is_empty());

    // Alice's change goes to the origin as sent (ElizaOS's fields included)
    // and, once it agrees, to the registry.
    let patch = json!({"name": "renamed", "settings": {"voice": "en-US"}}).to_string();
    let resp = as_user(&gw, "alice", Method::PATCH, &path)
        .header("content-type", "application/json")
        .body(patch.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["method"], "PATCH", "the origin's answer");
    let seen = changes();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PATCH");
    assert_eq!(seen[0].body, patch.as_bytes());
    assert_eq!(
        registered(&gw, "alice", &id).await.unwrap()["name"],
        "renamed"
    );

    // A patch of the origin's fields only is forwarded too.
    let resp = as_user(&gw, "alice", Method::PATCH, &path)
        .json(&json!({"settings": {"voice": "fr-FR"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(changes().len(), 2);

    // The origin refuses: the client gets its answer, the registry stays.
    let failure = json!({"success": false, "error": {"message": "boom"}});
    origin.script("PATCH /api/agents", 500, failure.clone());
    let resp = as_user(&gw, "alice", Method::PATCH, &path)
        .json(&json!({"name": "not applied"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(json(resp).await, failure);
    assert_eq!(
        registered(&gw, "alice", &id).await.unwrap()["name"],
        "renamed"
    );
    origin.script("DELETE /api/agents", 409, json!({"success": false}));
    let resp = as_user(&gw, "alice", Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert!(
        registered(&gw, "alice", &id).await.is_some(),
        "deleted anyway"
    );

    // Once the origin has deleted it, the registry forgets it.
    let resp = as_user(&gw, "alice", Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["method"], "DELETE");
    assert!(registered(&gw, "alice", &id).await.is_none());
    assert_eq!(changes().len(), 5);

    for (action, rows) in [
        ("agent.update.success", 2),
        ("agent.update.failure", 2),
        ("agent.delete.success", 1),
        ("agent.delete.failure", 2),
    ] {
        assert_eq!(audited(&gw, action).await, rows, "{action}");
    }

    // An agent the origin no longer knows (404 to the delete) leaves the
    // registry too, instead of lingering there for good.
    let ghost = create_agent(&gw, Some(&origin), "alice", "ghost", &[]).await;
    origin.script("DELETE /api/agents", 404, json!({"error": "no such agent"}));
    let resp = as_user(
        &gw,
        "alice",
        Method::DELETE,
        &format!("/api/agents/{ghost}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(registered(&gw, "alice", &ghost).await.is_none());
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
    let agent = create_agent(&gw, Some(&origin), "bob", "mine", &[]).await;
    let creates = origin.received().len();
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
    assert_eq!(origin.received().len(), creates, "the origin was reached");

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
    let targets: Vec<String> = origin
        .received_under("/api/server")
        .into_iter()
        .map(|r| r.target)
        .collect();
    assert_eq!(targets, ["/api/server/logs", "/api/server/stop"]);
}

#[tokio::test]
async fn origin_down_is_502_and_the_registry_is_untouched() {
    let down = format!("http://127.0.0.1:{}", free_port());
    let gw = gateway_with_origin(&down).await;
    // A create the origin never saw registers nothing (the requested id is
    // not left held).
    for body in [
        json!({"name": "a", "id": uid("agent-down")}),
        json!({"name": "b"}),
    ] {
        let resp = as_user(&gw, "alice", Method::POST, "/api/agents")
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, 502, "ORIGIN_UNAVAILABLE").await;
    }
    let resp = as_user(&gw, "alice", Method::GET, "/api/agents")
        .send()
        .await
        .unwrap();
    expect_error(resp, 502, "ORIGIN_UNAVAILABLE").await;
    assert!(gw.query("SELECT id FROM agents").await.is_empty());
    assert_eq!(audited(&gw, "agent.create.failure").await, 2);
    assert_eq!(audited(&gw, "agent.create.success").await, 0);

    // An agent the registry holds (put there as an operator would) can be
    // neither started, renamed nor deleted while the origin is down.
    let alice = entity(&gw, "alice").await;
    let down_id = uid("agent-down");
    gw.query(&format!(
        "INSERT INTO agents (id, server_id, name, owner_entity_id, shared_with, status, created_at, updated_at) \
         VALUES ('{down_id}', '{TEST_SERVER_ID}', 'a', '{alice}', '[]', 'stopped', 1, 1)"
    ))
    .await;
    for (method, path) in [
        (Method::POST, format!("/api/agents/{down_id}/start")),
        (Method::PATCH, format!("/api/agents/{down_id}")),
        (Method::DELETE, format!("/api/agents/{down_id}")),
    ] {
        let resp = as_user(&gw, "alice", method.clone(), &path)
            .json(&json!({"name": "renamed"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, 502, "ORIGIN_UNAVAILABLE").await;
    }
    // The registry still answers, unchanged, and the failures are audited.
    let agent = registered(&gw, "alice", &uid("agent-down")).await.unwrap();
    assert_eq!(agent["status"], "stopped");
    assert_eq!(agent["name"], "a");
    for action in [
        "agent.start.failure",
        "agent.update.failure",
        "agent.delete.failure",
    ] {
        assert_eq!(audited(&gw, action).await, 1, "{action}");
    }
}

#[tokio::test]
async fn slow_origin_is_504_after_the_configured_timeout() {
    let origin = TestOrigin::start().await;
    let gw = builder()
        .var("AGENT_ORIGIN_URL", &origin.base_url)
        .var("AGENT_ORIGIN_TIMEOUT_MS", "1000")
        .start()
        .await;
    let agent = create_agent(&gw, Some(&origin), "alice", "a", &[]).await;
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
    // A create the origin is too slow to answer registers nothing.
    let resp = as_user(&gw, "alice", Method::POST, "/api/agents")
        .json(&json!({"name": "late", "id": uid("agent-late")}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 504, "ORIGIN_TIMEOUT").await;
    assert!(registered(&gw, "alice", &uid("agent-late")).await.is_none());
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
    let agent = create_agent(&gw, None, "alice", "offline", &[]).await;
    // The registry answers itself, and knows only its own fields.
    let resp = as_user(&gw, "alice", Method::POST, "/api/agents")
        .json(&json!({"name": "second"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let second = json(resp).await;
    assert_eq!(second["name"], "second");
    assert_eq!(second["ownerId"], entity(&gw, "alice").await.as_str());
    for (method, path, body) in [
        (
            Method::POST,
            "/api/agents".to_owned(),
            json!({"name": "x", "owner": "someone"}),
        ),
        (
            Method::POST,
            "/api/agents".to_owned(),
            json!({"name": "x", "characterJson": {"name": "x"}}),
        ),
        (
            Method::POST,
            "/api/agents".to_owned(),
            json!({"characterJson": {"name": "x"}}),
        ),
        (
            Method::PATCH,
            format!("/api/agents/{agent}"),
            json!({"settings": {}}),
        ),
        (Method::PATCH, format!("/api/agents/{agent}"), json!({})),
    ] {
        let resp = as_user(&gw, "alice", method.clone(), &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(resp, 400, "BAD_REQUEST").await;
    }
    let resp = as_user(&gw, "alice", Method::PATCH, &format!("/api/agents/{agent}"))
        .json(&json!({"name": "renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["name"], "renamed");
    let second_id = second["id"].as_str().unwrap();
    let resp = as_user(
        &gw,
        "alice",
        Method::DELETE,
        &format!("/api/agents/{second_id}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await, json!({"id": second_id, "deleted": true}));
    assert!(registered(&gw, "alice", second_id).await.is_none());
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
    assert_eq!(body["error"]["variable"], "GATEWAY_SIGNING_KEY");
}
