//! Identities, passwords, sessions with CSRF, machine tokens, first run,
//! legacy bearer, gateway key and the audit log (SPEC §2–§5, §10), end to end
//! through `wrangler dev` with its real D1.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::session::{
    login, set_cookies, setup_owner, BrowserSession, OWNER_EMAIL, STRONG_PASSWORD,
};
use agentgate_e2e::Gateway;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// These flows send more sensitive requests (setup, logins, revocations) per
/// minute from one address than the limiter allows; rate limiting has its own
/// suite (tests/tests/ratelimit.rs).
fn limits_off() -> agentgate_e2e::GatewayBuilder {
    Gateway::builder().var("RATE_LIMIT_DISABLED", "true")
}

async fn gateway() -> Gateway {
    limits_off().start().await
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn first_run_setup_happens_once_and_status_tells_the_client() {
    let gw = gateway().await;
    let status = json(
        client()
            .get(gw.url("/api/auth/status"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status["setupRequired"], true, "{status}");
    assert_eq!(status["cloudProvisioned"], false, "{status}");
    assert!(status["loginMethods"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));

    let (owner, body) = setup_owner(&gw).await;
    assert_eq!(body["identity"]["kind"], "owner");
    assert_eq!(body["identity"]["email"], OWNER_EMAIL);
    assert_eq!(body["csrfToken"], owner.csrf.as_str());

    let status = json(
        client()
            .get(gw.url("/api/auth/status"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status["setupRequired"], false, "{status}");
    let text = status.to_string();
    assert!(!text.contains(OWNER_EMAIL) && !text.contains(&owner.session));

    let again = client()
        .post(gw.url("/api/auth/setup"))
        .json(&json!({"email": "second@agentgate.test", "password": STRONG_PASSWORD, "displayName": "Second"}))
        .send()
        .await
        .unwrap();
    expect_error(again, 409, "CONFLICT").await;

    // The setup session works and says who it is.
    let me = json(owner.me(&gw).await).await;
    assert_eq!(me["identityKind"], "owner", "{me}");
    assert_eq!(me["credential"], "session");
    assert_eq!(me["entityId"], body["identity"]["id"]);
    assert!(me["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("admin:*")));
}

#[tokio::test]
async fn concurrent_setups_create_exactly_one_owner() {
    let gw = gateway().await;
    let attempts = (0..4).map(|i| {
        client()
            .post(gw.url("/api/auth/setup"))
            .json(&json!({
                "email": format!("owner{i}@agentgate.test"),
                "password": STRONG_PASSWORD,
                "displayName": format!("Owner {i}"),
            }))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let owners = gw
        .query("SELECT COUNT(*) AS n FROM identities WHERE kind = 'owner'")
        .await;
    assert_eq!(owners[0]["n"], 1);
}

#[tokio::test]
async fn cookies_have_the_spec_attributes_and_only_hashes_are_stored() {
    let gw = gateway().await;
    let (setup_session, _) = setup_owner(&gw).await;

    let resp = login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let cookies = set_cookies(&resp);
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("eliza_session="))
        .unwrap();
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("eliza_csrf="))
        .unwrap();
    let attrs =
        |c: &str| -> Vec<String> { c.split(';').skip(1).map(|a| a.trim().to_owned()).collect() };
    let s_attrs = attrs(session_cookie);
    for expected in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(s_attrs.iter().any(|a| a == expected), "{session_cookie}");
    }
    // Loopback host in development: no Secure (SPEC §4).
    assert!(!s_attrs.iter().any(|a| a == "Secure"), "{session_cookie}");
    let c_attrs = attrs(csrf_cookie);
    assert!(!c_attrs.iter().any(|a| a == "HttpOnly"), "{csrf_cookie}");
    assert!(c_attrs.iter().any(|a| a == "SameSite=Lax") && c_attrs.iter().any(|a| a == "Path=/"));

    let session = BrowserSession::from_response(&resp);
    // A new id at login: no fixation.
    assert_ne!(session.session, setup_session.session);
    assert_eq!(session.session.len(), 64);
    let body = json(resp).await;
    assert_eq!(body["csrfToken"], session.csrf.as_str());

    // D1 holds SHA-256 of the cookie, never the cookie itself.
    let rows = gw.query("SELECT id_hash, csrf_hash FROM sessions").await;
    assert_eq!(rows.len(), 2);
    let hashes: Vec<&str> = rows
        .iter()
        .map(|r| r["id_hash"].as_str().unwrap())
        .collect();
    assert!(
        hashes.contains(&sha256_hex(&session.session).as_str()),
        "{rows:?}"
    );
    let dump = serde_json::to_string(&rows).unwrap();
    assert!(!dump.contains(&session.session) && !dump.contains(&session.csrf));
}

#[tokio::test]
async fn secure_cookie_outside_development() {
    // One sensitive request: limits stay on (RATE_LIMIT_DISABLED is
    // development-only).
    let gw = Gateway::builder()
        .var("ENVIRONMENT", "production")
        .start()
        .await;
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&json!({"email": OWNER_EMAIL, "password": STRONG_PASSWORD, "displayName": "Owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    for cookie in set_cookies(&resp) {
        assert!(cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");
    }
}

#[tokio::test]
async fn login_failures_look_alike_and_logout_ends_the_session() {
    let gw = gateway().await;
    setup_owner(&gw).await;

    let wrong = login(&gw, OWNER_EMAIL, "not-the-right-password-1").await;
    let wrong = expect_error(wrong, 401, "INVALID_CREDENTIALS").await;
    let unknown = login(&gw, "nobody@agentgate.test", STRONG_PASSWORD).await;
    let unknown = expect_error(unknown, 401, "INVALID_CREDENTIALS").await;
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"]);

    let resp = login(&gw, "OWNER@AgentGate.test", STRONG_PASSWORD).await;
    assert_eq!(resp.status(), 200, "email is case-folded");
    let session = BrowserSession::from_response(&resp);
    assert_eq!(session.me(&gw).await.status(), 200);

    let out = session
        .request(Method::POST, &gw.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(set_cookies(&out).iter().all(|c| c.contains("Max-Age=0")));
    expect_error(session.me(&gw).await, 401, "INVALID_TOKEN").await;
}

#[tokio::test]
async fn csrf_is_required_on_unsafe_cookie_requests() {
    let gw = gateway().await;
    let (owner, _) = setup_owner(&gw).await;
    let url = gw.url("/api/messaging/channels");
    let body = json!({"name": "general"});

    // GET needs no token.
    let get = owner.bare(Method::GET, &url).send().await.unwrap();
    assert_eq!(get.status(), 200);

    let cases: [(&str, reqwest::RequestBuilder); 4] = [
        ("cookie but no header", owner.bare(Method::POST, &url)),
        (
            "mismatched header",
            owner
                .bare(Method::POST, &url)
                .header("x-eliza-csrf", "0".repeat(64)),
        ),
        (
            "foreign Origin with a valid token",
            owner
                .bare(Method::POST, &url)
                .header("x-eliza-csrf", &owner.csrf)
                .header("origin", "https://evil.example"),
        ),
        (
            "header and cookie that match each other but not the session",
            client()
                .post(&url)
                .header(
                    "cookie",
                    format!(
                        "eliza_session={}; eliza_csrf={}",
                        owner.session,
                        "a".repeat(64)
                    ),
                )
                .header("x-eliza-csrf", "a".repeat(64)),
        ),
    ];
    for (name, req) in cases {
        let resp = req.json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{name}");
        assert_eq!(json(resp).await["error"]["code"], "CSRF_FAILED", "{name}");
    }
    let ok = owner
        .request(Method::POST, &url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn password_change_revokes_other_sessions_and_keeps_the_current_one() {
    let gw = gateway().await;
    let (first, _) = setup_owner(&gw).await;
    let second = BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await);
    let url = gw.url("/api/auth/password/change");
    const NEW: &str = "marmalade-orbit-quarry-55";

    let wrong = first
        .request(Method::POST, &url)
        .json(&json!({"currentPassword": "wrong-password-entirely", "newPassword": NEW}))
        .send()
        .await
        .unwrap();
    expect_error(wrong, 401, "INVALID_CREDENTIALS").await;
    let weak = first
        .request(Method::POST, &url)
        .json(&json!({"currentPassword": STRONG_PASSWORD, "newPassword": "password1234"}))
        .send()
        .await
        .unwrap();
    let weak = expect_error(weak, 400, "WEAK_PASSWORD").await;
    assert_eq!(weak["error"]["reason"], "too_weak");

    let changed = first
        .request(Method::POST, &url)
        .json(&json!({"currentPassword": STRONG_PASSWORD, "newPassword": NEW}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(json(changed).await["revokedSessions"], 1);
    assert_eq!(first.me(&gw).await.status(), 200, "current session kept");
    expect_error(second.me(&gw).await, 401, "INVALID_TOKEN").await;
    expect_error(
        login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_eq!(login(&gw, OWNER_EMAIL, NEW).await.status(), 200);
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_or_all() {
    let gw = gateway().await;
    let (a, _) = setup_owner(&gw).await;
    let b = BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await);
    let c = BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await);

    let list = json(
        a.request(Method::GET, &gw.url("/api/auth/sessions"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{list}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let text = list.to_string();
    for secret in [&a.session, &b.session, &c.session] {
        assert!(!text.contains(secret.as_str()) && !text.contains(&sha256_hex(secret)));
    }

    // Revoke b by its listed id (b is the one that is neither current for a
    // nor c: ask b which id is its own).
    let b_list = json(
        b.request(Method::GET, &gw.url("/api/auth/sessions"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let b_id = b_list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = a
        .request(
            Method::POST,
            &gw.url(&format!("/api/auth/sessions/{b_id}/revoke")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    expect_error(b.me(&gw).await, 401, "INVALID_TOKEN").await;
    let unknown = a
        .request(
            Method::POST,
            &gw.url(&format!("/api/auth/sessions/{}/revoke", "f".repeat(32))),
        )
        .send()
        .await
        .unwrap();
    expect_error(unknown, 404, "NOT_FOUND").await;

    // All but current.
    let all = a
        .request(Method::DELETE, &gw.url("/api/auth/sessions/all"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(all).await["revoked"], 1);
    expect_error(c.me(&gw).await, 401, "INVALID_TOKEN").await;
    assert_eq!(a.me(&gw).await.status(), 200);
    // And the current one too.
    let all = a
        .request(
            Method::DELETE,
            &gw.url("/api/auth/sessions/all?includeCurrent=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(all).await["revoked"], 1);
    expect_error(a.me(&gw).await, 401, "INVALID_TOKEN").await;
}

#[tokio::test]
async fn machine_tokens_hold_only_their_scopes() {
    let gw = gateway().await;
    let (owner, _) = setup_owner(&gw).await;
    let created = owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "reader bot", "scopes": ["messaging:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("agm_") && token.len() == 4 + 43,
        "{token}"
    );

    let bearer = |t: &str, m: Method, path: &str| {
        client().request(m, gw.url(path)).bearer_auth(t.to_owned())
    };
    let me = json(
        bearer(&token, Method::GET, "/api/auth/me")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["credential"], "machine_token", "{me}");
    assert_eq!(me["identityKind"], "machine");
    assert_eq!(me["permissions"], json!(["messaging:read"]));

    // In scope.
    let read = bearer(&token, Method::GET, "/api/messaging/channels")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    // Out of scope: a route needing messaging:send.
    let send = bearer(&token, Method::POST, "/api/messaging/channels")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(send, 403, "INSUFFICIENT_PERMISSIONS").await;
    // A cookie-only route.
    let sessions = bearer(&token, Method::GET, "/api/auth/sessions")
        .send()
        .await
        .unwrap();
    expect_error(sessions, 403, "INSUFFICIENT_PERMISSIONS").await;
    // A machine token cannot mint machine tokens.
    let mint = bearer(&token, Method::POST, "/api/auth/machine-tokens")
        .json(&json!({"name": "y", "scopes": ["messaging:read"]}))
        .send()
        .await
        .unwrap();
    expect_error(mint, 403, "INSUFFICIENT_PERMISSIONS").await;
    // The owner may grant any scope they hold, admin:* included (SPEC §3);
    // unknown scopes are refused.
    let admin = owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "root", "scopes": ["admin:*", "agent:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 201);
    let admin_token = json(admin).await["token"].as_str().unwrap().to_owned();
    let admin_me = json(
        bearer(&admin_token, Method::GET, "/api/auth/me")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        admin_me["permissions"],
        json!(["agent:read", "admin:*"]),
        "{admin_me}"
    );
    let unknown = owner
        .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
        .json(&json!({"name": "x", "scopes": ["agent:*"]}))
        .send()
        .await
        .unwrap();
    expect_error(unknown, 400, "BAD_REQUEST").await;
    // Both tokens act for their owner: the owner's entity, not their own.
    let owner_me = json(owner.me(&gw).await).await;
    assert_eq!(me["entityId"], owner_me["entityId"], "{me} {owner_me}");
    assert_eq!(admin_me["entityId"], owner_me["entityId"]);
    assert_ne!(me["entityId"], id.as_str());

    // The listing shows no secret.
    let list = json(
        owner
            .request(Method::GET, &gw.url("/api/auth/machine-tokens"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        list["machineTokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str()),
        "{list}"
    );
    assert!(!list.to_string().contains(&token[4..]));
    let stored = gw
        .query(&format!(
            "SELECT token_hash FROM machine_tokens WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(stored[0]["token_hash"], sha256_hex(&token).as_str());

    // Rotate: the old secret stops, the new one works.
    let rotated = json(
        owner
            .request(
                Method::POST,
                &gw.url(&format!("/api/auth/machine-tokens/{id}/rotate")),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    expect_error(
        bearer(&token, Method::GET, "/api/auth/me")
            .send()
            .await
            .unwrap(),
        401,
        "INVALID_TOKEN",
    )
    .await;
    assert_eq!(
        bearer(&new_token, Method::GET, "/api/auth/me")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Revoke.
    let revoked = owner
        .request(
            Method::DELETE,
            &gw.url(&format!("/api/auth/machine-tokens/{id}")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    expect_error(
        bearer(&new_token, Method::GET, "/api/auth/me")
            .send()
            .await
            .unwrap(),
        401,
        "INVALID_TOKEN",
    )
    .await;
    // A forged token of the right shape.
    let forged = format!("agm_{}", "A".repeat(43));
    expect_error(
        bearer(&forged, Method::GET, "/api/auth/me")
            .send()
            .await
            .unwrap(),
        401,
        "INVALID_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn weak_passwords_are_refused_with_a_reason() {
    let gw = gateway().await;
    let cases = [
        ("eleven-char", "too_short"),
        ("password1234", "too_weak"),
        ("owner@agentgate.test", "same_as_identity"),
    ];
    for (password, reason) in cases {
        let resp = client()
            .post(gw.url("/api/auth/setup"))
            .json(&json!({"email": OWNER_EMAIL, "password": password, "displayName": "Owner"}))
            .send()
            .await
            .unwrap();
        let body = expect_error(resp, 400, "WEAK_PASSWORD").await;
        assert_eq!(body["error"]["reason"], reason, "{password}: {body}");
    }
    let long = "x".repeat(2048);
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&json!({"email": OWNER_EMAIL, "password": long, "displayName": "Owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(resp, 400, "WEAK_PASSWORD").await["error"]["reason"],
        "too_long"
    );
    // Nothing was created by the refused attempts.
    let n = gw.query("SELECT COUNT(*) AS n FROM identities").await;
    assert_eq!(n[0]["n"], 0);
}

#[tokio::test]
async fn registration_exists_only_when_enabled() {
    let closed = gateway().await;
    let body =
        json!({"email": "user@agentgate.test", "password": STRONG_PASSWORD, "displayName": "User"});
    let resp = client()
        .post(closed.url("/api/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
    drop(closed);

    let open = limits_off().var("ALLOW_REGISTRATION", "true").start().await;
    let resp = client()
        .post(open.url("/api/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let user = BrowserSession::from_response(&resp);
    let me = json(user.me(&open).await).await;
    assert_eq!(me["identityKind"], "user");
    assert!(!me["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("admin:*")));
    // The owner-only routes refuse a user.
    let audit = user
        .request(Method::GET, &open.url("/api/auth/audit"))
        .send()
        .await
        .unwrap();
    expect_error(audit, 403, "INSUFFICIENT_PERMISSIONS").await;
    let again = client()
        .post(open.url("/api/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(again, 409, "CONFLICT").await;
}

#[tokio::test]
async fn audit_rows_record_outcomes_and_never_secrets() {
    let gw = gateway().await;
    let (owner, owner_body) = setup_owner(&gw).await;
    let owner_id = owner_body["identity"]["id"].as_str().unwrap().to_owned();
    expect_error(
        login(&gw, OWNER_EMAIL, "wrong-password-attempt").await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    expect_error(
        login(&gw, "ghost@agentgate.test", "wrong-password-attempt").await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    let second = BrowserSession::from_response(&login(&gw, OWNER_EMAIL, STRONG_PASSWORD).await);
    let token = json(
        owner
            .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
            .json(&json!({"name": "bot", "scopes": ["messaging:read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .request(Method::DELETE, &gw.url("/api/auth/sessions/all"))
        .send()
        .await
        .unwrap();

    let page = json(
        owner
            .request(Method::GET, &gw.url("/api/auth/audit?limit=50"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let events = page["events"].as_array().unwrap();
    let find =
        |action: &str| -> Vec<&Value> { events.iter().filter(|e| e["action"] == action).collect() };
    assert_eq!(find("auth.setup.success").len(), 1, "{page}");
    assert_eq!(
        find("auth.setup.success")[0]["actorIdentityId"],
        owner_id.as_str()
    );
    let failures = find("auth.login.password.failure");
    assert_eq!(failures.len(), 2, "{page}");
    // The known email's failure names its identity; the unknown one names none.
    assert!(failures
        .iter()
        .any(|e| e["actorIdentityId"] == owner_id.as_str()));
    assert!(failures.iter().any(|e| e["actorIdentityId"].is_null()));
    assert_eq!(find("auth.login.password.success").len(), 1);
    assert_eq!(find("auth.machine_token.create.success").len(), 1);
    assert_eq!(find("auth.session.revoke_all.success").len(), 1);
    assert!(events.iter().all(|e| e["ip"].is_string()));

    // No row and no log line holds a password, a token, a cookie or a CSRF token.
    let rows = serde_json::to_string(&gw.query("SELECT * FROM audit_events").await).unwrap();
    assert!(
        gw.log_eventually_contains("auth.session.revoke_all.success")
            .await,
        "audit log lines are emitted"
    );
    let log = gw.log();
    for secret in [
        STRONG_PASSWORD,
        "wrong-password-attempt",
        token.as_str(),
        &token[4..],
        owner.session.as_str(),
        owner.csrf.as_str(),
        second.session.as_str(),
    ] {
        assert!(!rows.contains(secret), "audit rows contain a secret");
        assert!(!log.contains(secret), "the log contains a secret");
    }
}

#[tokio::test]
async fn legacy_bearer_works_in_its_window_until_the_owner_has_a_password() {
    const LEGACY: &str = "legacy-static-token-for-the-e2e-suite";
    let now = agentgate_e2e::jwt::now();
    let gw = limits_off()
        .var("ELIZA_LEGACY_TOKEN", LEGACY)
        .var("LEGACY_TOKEN_SINCE", (now - 3600).to_string())
        .start()
        .await;
    let me = client()
        .get(gw.url("/api/auth/me"))
        .bearer_auth(LEGACY)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me = json(me).await;
    assert_eq!(me["credential"], "legacy_token", "{me}");
    assert!(
        gw.log_eventually_contains("deprecated").await,
        "use is logged as deprecated"
    );
    let wrong = client()
        .get(gw.url("/api/auth/me"))
        .bearer_auth("legacy-static-token-for-the-e2e-suitE")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    setup_owner(&gw).await;
    let after = client()
        .get(gw.url("/api/auth/me"))
        .bearer_auth(LEGACY)
        .send()
        .await
        .unwrap();
    expect_error(after, 401, "INVALID_TOKEN").await;
    drop(gw);

    let expired = limits_off()
        .var("ELIZA_LEGACY_TOKEN", LEGACY)
        .var("LEGACY_TOKEN_SINCE", (now - 15 * 24 * 3600).to_string())
        .start()
        .await;
    let me = client()
        .get(expired.url("/api/auth/me"))
        .bearer_auth(LEGACY)
        .send()
        .await
        .unwrap();
    expect_error(me, 401, "INVALID_TOKEN").await;
}

#[tokio::test]
async fn gateway_key_guards_every_api_route_but_the_public_ones() {
    const KEY: &str = "gateway-key-of-the-e2e-suite";
    let gw = limits_off()
        .var("ELIZA_SERVER_AUTH_TOKEN", KEY)
        .start()
        .await;
    let ping = client()
        .get(gw.url("/api/server/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let status = client()
        .get(gw.url("/api/auth/status"))
        .send()
        .await
        .unwrap();
    expect_error(status, 401, "API_KEY_REQUIRED").await;
    let wrong = client()
        .get(gw.url("/api/auth/status"))
        .header("x-api-key", "gateway-key-of-the-e2e-suitX")
        .send()
        .await
        .unwrap();
    expect_error(wrong, 401, "INVALID_API_KEY").await;
    let right = client()
        .get(gw.url("/api/auth/status"))
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
}

/// SPEC §3: an admin may grant what they hold, `admin:*` included, and a
/// token holds its scopes only while its owner does: demote the owner and
/// the token loses `admin:*` on its very next use.
#[tokio::test]
async fn a_machine_token_holds_its_scopes_only_while_its_owner_does() {
    let gw = limits_off().var("ALLOW_REGISTRATION", "true").start().await;
    setup_owner(&gw).await;
    let resp = client()
        .post(gw.url("/api/auth/register"))
        .json(&json!({"email": "admin@agentgate.test", "password": STRONG_PASSWORD, "displayName": "Admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let admin = BrowserSession::from_response(&resp);
    let admin_entity = json(admin.me(&gw).await).await["entityId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mint = |scopes: Value| {
        admin
            .request(Method::POST, &gw.url("/api/auth/machine-tokens"))
            .json(&json!({"name": "admin bot", "scopes": scopes}))
            .send()
    };
    // A plain user mints no tokens.
    expect_error(
        mint(json!(["agent:read"])).await.unwrap(),
        403,
        "INSUFFICIENT_PERMISSIONS",
    )
    .await;
    // The admin role (set as the owner would, here in the store).
    let set_admin = |on: bool| {
        let flag = if on { "(1 = 1)" } else { "(1 = 0)" };
        format!("UPDATE identities SET is_admin = {flag} WHERE id = '{admin_entity}'")
    };
    gw.query(&set_admin(true)).await;
    // What the admin doesn't hold can't be granted (users lack system:write).
    expect_error(
        mint(json!(["system:write"])).await.unwrap(),
        400,
        "BAD_REQUEST",
    )
    .await;
    let created = mint(json!(["admin:*", "agent:read"])).await.unwrap();
    assert_eq!(created.status(), 201);
    let token = json(created).await["token"].as_str().unwrap().to_owned();
    let me = || async {
        json(
            client()
                .get(gw.url("/api/auth/me"))
                .header("X-API-KEY", &token)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let before = me().await;
    assert_eq!(before["entityId"], admin_entity.as_str(), "{before}");
    assert_eq!(before["permissions"], json!(["agent:read", "admin:*"]));
    let logs = || {
        client()
            .get(gw.url("/api/server/logs"))
            .header("X-API-KEY", &token)
            .send()
    };
    // admin:* passes the route's check (then: no origin configured).
    expect_error(logs().await.unwrap(), 503, "ORIGIN_NOT_CONFIGURED").await;

    gw.query(&set_admin(false)).await;
    let after = me().await;
    assert_eq!(after["permissions"], json!(["agent:read"]), "{after}");
    expect_error(logs().await.unwrap(), 403, "INSUFFICIENT_PERMISSIONS").await;
}
