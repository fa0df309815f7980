//! The official `@elizaos/api-client` 1.7.2 against the real ElizaOS 1.7.2
//! origin, directly (the first half of the conformance comparison; the run
//! through the gateway comes next): every call the client offers, in order,
//! with real ids (`tests/eliza/conformance.mjs`).
//!
//! The calls that fail directly fail for reasons of ElizaOS 1.7.2 itself
//! (routes the client names but the server lacks, client/server body
//! mismatches, jobs that never complete, speech synthesis that throws before
//! reaching the model); the table printed here names each with its status.

use agentgate_e2e::eliza::{api_client_conformance, ElizaOrigin};

/// The calls that succeeded directly when this was measured (of 102, with
/// `server.stopServer` run last). A drop means the origin, the model plugin
/// or the script regressed.
const DIRECT_FLOOR: usize = 83;

#[tokio::test]
async fn the_api_client_works_directly_against_the_real_origin() {
    let origin = ElizaOrigin::start().await;
    println!("origin ready in {:?} at {}", origin.startup, origin.url());

    let direct = api_client_conformance(origin.url(), None, &[]).await;
    println!("direct against ElizaOS 1.7.2:\n{}", direct.table());

    // Every method of every service the client offers was counted.
    assert!(direct.total >= 100, "only {} calls counted", direct.total);
    assert!(
        !direct
            .records
            .iter()
            .any(|r| r["errorCode"] == "NOT_EXERCISED"),
        "calls the script does not reach:\n{}",
        direct.table()
    );
    // Nothing the calls set off in the server tried to leave loopback.
    assert!(
        !origin.log().contains("ELIZA_ORIGIN_BLOCKED_LOOKUP"),
        "the origin looked up an external host:\n{}",
        origin.log()
    );
    assert!(
        direct.ok >= DIRECT_FLOOR,
        "{} ok of {} directly, fewer than the {DIRECT_FLOOR} measured:\n{}\n{}",
        direct.ok,
        direct.total,
        direct.table(),
        origin.log()
    );
}

/// The origin's own key in the run through the gateway: the origin is closed
/// to everyone but the gateway (`ELIZA_SERVER_AUTH_TOKEN`).
const ORIGIN_KEY: &str = "origin-key-for-the-conformance-run";
/// Ed25519 seed (base64) of the gateway's assertion key.
const SIGNING_SEED: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// Calls outside `/api/messaging` that succeed directly and that the
/// gateway refuses on purpose, with why (the README lists them too).
const REFUSED: &[(&str, &str)] = &[];

/// The calls that succeeded through the gateway when this was measured (82
/// directly against the closed origin, same run). A drop means a route
/// regressed.
const GATEWAY_FLOOR: usize = 34;

/// Whether a call of the run went to ElizaOS's messaging surface, which is
/// issue #15's (the gateway answers `/api/messaging/*` itself).
fn is_messaging(record: &serde_json::Value) -> bool {
    record["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/api/messaging"))
        })
        || record["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/api/messaging"))
}

/// Whether a call failed only because an id it needed was never made: the
/// memories and runs the script addresses come from the messages that the
/// messaging calls exchange (through the gateway, issue #15), so the client
/// puts `undefined` in the path and the origin answers 400 `INVALID_ID`.
fn needs_messaging_ids(record: &serde_json::Value) -> bool {
    record["errorCode"] == "INVALID_ID"
        && record["path"]
            .as_str()
            .is_some_and(|p| p.split('/').any(|s| s == "undefined"))
}

#[tokio::test]
async fn the_api_client_works_through_the_gateway_with_a_machine_token() {
    use agentgate_e2e::http::json;
    use agentgate_e2e::session::setup_owner;
    use agentgate_e2e::Gateway;
    use reqwest::Method;
    use serde_json::json;

    let origin = ElizaOrigin::builder().auth_token(ORIGIN_KEY).start().await;
    let gw = Gateway::builder()
        .var("AGENT_ORIGIN_URL", origin.url())
        .var("AGENT_ORIGIN_API_KEY", ORIGIN_KEY)
        .var("GATEWAY_SIGNING_KEY", SIGNING_SEED)
        .var("RATE_LIMIT_DISABLED", "1")
        .start()
        .await;

    // Closed: without the key the origin refuses.
    let refused = agentgate_e2e::http::client()
        .get(origin.url_for("/api/agents"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "the origin is open without its key");

    let (owner, _) = setup_owner(&gw).await;
    let scopes: Vec<&str> = agentgate_shared::routes::Permission::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    let created = owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "api-client", "scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let token = json(created).await["token"].as_str().unwrap().to_owned();

    let skip = ["server.stopServer"];
    let direct = api_client_conformance(origin.url(), Some(ORIGIN_KEY), &skip).await;
    let through = api_client_conformance(&gw.url(""), Some(&token), &skip).await;

    println!("{:<42} {:<8} gateway", "call", "direct");
    let mut lost = Vec::new();
    for d in &direct.records {
        let call = format!(
            "{}.{}",
            d["service"].as_str().unwrap_or("?"),
            d["method"].as_str().unwrap_or("?")
        );
        let g = through.record(&call).cloned().unwrap_or_default();
        let outcome = |r: &serde_json::Value| {
            if r["ok"].as_bool() == Some(true) {
                "ok".to_owned()
            } else {
                format!("{} {}", r["status"], r["errorCode"].as_str().unwrap_or(""))
            }
        };
        println!("{call:<42} {:<8} {}", outcome(d), outcome(&g));
        if d["ok"].as_bool() == Some(true) && g["ok"].as_bool() != Some(true) {
            let why = if is_messaging(&g) || is_messaging(d) {
                Some("ElizaOS messaging surface: issue #15")
            } else if needs_messaging_ids(&g) {
                Some("addresses a memory or run that only the messaging calls (issue #15) create")
            } else {
                REFUSED
                    .iter()
                    .find(|(c, _)| *c == call)
                    .map(|(_, why)| *why)
            };
            lost.push((call, outcome(&g), why));
        }
    }
    println!(
        "direct: {} ok of {}; through the gateway: {} ok of {}",
        direct.ok, direct.total, through.ok, through.total
    );
    for (call, outcome, why) in &lost {
        println!(
            "refused through the gateway: {call} ({outcome}): {}",
            why.unwrap_or("UNEXPLAINED")
        );
    }
    println!("gateway table:\n{}", through.table());
    let unexplained: Vec<_> = lost.iter().filter(|(_, _, why)| why.is_none()).collect();
    assert!(
        unexplained.is_empty(),
        "calls that work directly but not through the gateway, without a reason: {unexplained:?}\n{}",
        gw.log()
    );
    assert!(
        through.ok >= GATEWAY_FLOOR,
        "{} ok through the gateway, fewer than the {GATEWAY_FLOOR} measured",
        through.ok
    );
}
