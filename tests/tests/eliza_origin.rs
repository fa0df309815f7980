//! The real ElizaOS 1.7.2 origin the gateway stands in front of
//! (`tests/eliza/origin.mjs`), on its own: an agent created, started and
//! added to a channel answers a user's message deterministically, over the
//! HTTP transport and over the message bus; and with its own API key
//! (`ELIZA_SERVER_AUTH_TOKEN`) it refuses requests without `X-API-KEY`.

use agentgate_e2e::eliza::{reply_to, ElizaOrigin, DEFAULT_MESSAGE_SERVER_ID};
use agentgate_e2e::http::{client, json};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The user who talks to the agent (ElizaOS takes any UUID as an author).
const USER: &str = "5d2c4f0e-7a1b-4c3d-9e8f-0a1b2c3d4e5f";

async fn call(
    origin: &ElizaOrigin,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = origin.request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let resp = request.send().await.expect("request to the origin");
    let status = resp.status().as_u16();
    (status, json(resp).await)
}

#[tokio::test]
async fn an_agent_answers_deterministically_over_http_and_the_message_bus() {
    let origin = ElizaOrigin::start().await;
    println!("origin ready in {:?} at {}", origin.startup, origin.url());

    let (status, created) = call(
        &origin,
        Method::POST,
        "/api/agents",
        Some(json!({"characterJson": {"name": "Eliza", "bio": ["The agent of the deterministic loop."]}})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let agent_id = created["data"]["id"].as_str().expect("agent id").to_owned();

    let (status, started) = call(
        &origin,
        Method::POST,
        &format!("/api/agents/{agent_id}/start"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["data"]["status"], "active", "{started}");

    let (status, channel) = call(
        &origin,
        Method::POST,
        "/api/messaging/channels",
        Some(json!({
            "name": "deterministic loop",
            "type": "GROUP",
            "message_server_id": DEFAULT_MESSAGE_SERVER_ID,
            "participantCentralUserIds": [USER],
        })),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let channel_id = channel["data"]["id"]
        .as_str()
        .expect("channel id")
        .to_owned();

    let (status, added) = call(
        &origin,
        Method::POST,
        &format!("/api/messaging/channels/{channel_id}/agents"),
        Some(json!({"agentId": agent_id})),
    )
    .await;
    assert_eq!(status, 201, "{added}");

    // Transport `http`: the agent's answer comes back in the response.
    let text = "hello <over> http & more";
    let (status, answer) = call(
        &origin,
        Method::POST,
        &format!("/api/messaging/channels/{channel_id}/messages"),
        Some(json!({
            "author_id": USER,
            "content": text,
            "message_server_id": DEFAULT_MESSAGE_SERVER_ID,
            "transport": "http",
        })),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["userMessage"]["content"], text, "{answer}");
    assert_eq!(answer["agentResponse"]["text"], reply_to(text), "{answer}");
    assert_eq!(
        answer["agentResponse"]["actions"],
        json!(["REPLY"]),
        "{answer}"
    );

    // The default transport: the message goes on the internal bus, the agent
    // answers by posting to the server (`/api/messaging/submit`), and the
    // answer shows up among the channel's messages.
    let text = "hello over the bus";
    let (status, posted) = call(
        &origin,
        Method::POST,
        &format!("/api/messaging/channels/{channel_id}/messages"),
        Some(json!({
            "author_id": USER,
            "content": text,
            "message_server_id": DEFAULT_MESSAGE_SERVER_ID,
        })),
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let reply = loop {
        let (status, listed) = call(
            &origin,
            Method::GET,
            &format!("/api/messaging/channels/{channel_id}/messages?limit=20"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{listed}");
        let messages = listed["data"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(reply) = messages
            .iter()
            .find(|m| m["authorId"] == agent_id.as_str() && m["content"] == reply_to(text).as_str())
        {
            break reply.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no reply from the agent within 30 s: {listed}\n{}",
            origin.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reply["channelId"], channel_id.as_str(), "{reply}");

    // Nothing in the server tried to reach a host other than loopback.
    assert!(
        !origin.log().contains("ELIZA_ORIGIN_BLOCKED_LOOKUP"),
        "the origin looked up an external host:\n{}",
        origin.log()
    );
}

#[tokio::test]
async fn with_its_own_api_key_the_origin_refuses_requests_without_it() {
    const KEY: &str = "eliza-origin-api-key-for-tests";
    let origin = ElizaOrigin::builder().auth_token(KEY).start().await;
    let agents = origin.url_for("/api/agents");

    let missing = client().get(&agents).send().await.expect("request");
    assert_eq!(missing.status().as_u16(), 401);
    let body = json(missing).await;
    assert_eq!(body["error"], "API key required", "{body}");

    let wrong = client()
        .get(&agents)
        .header("X-API-KEY", "not-the-key")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status().as_u16(), 401);

    let right = client()
        .get(&agents)
        .header("X-API-KEY", KEY)
        .send()
        .await
        .expect("request");
    assert_eq!(right.status().as_u16(), 200);
    let body = json(right).await;
    assert_eq!(body["success"], true, "{body}");
    assert!(body["data"]["agents"].is_array(), "{body}");
}
