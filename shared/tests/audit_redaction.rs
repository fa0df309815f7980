//! Audit events (SPEC §10): redaction of secret-looking metadata, user-agent
//! truncation, action names, and log lines that carry no secret.

use agentgate_shared::audit::{
    looks_secret, redact_metadata, to_log_line, truncate_chars, AuditAction, AuditEvent, Outcome,
    REDACTED,
};
use agentgate_shared::session::{
    machine_token_from_random, session_token_from_random, ws_ticket_from_random,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const UNSIGNED_JWT: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
const UUID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn machine_token() -> String {
    machine_token_from_random([0x5a; 32]).expose().to_owned()
}

#[test]
fn secret_shapes_are_recognised() {
    let session = session_token_from_random([0x3c; 32]).expose().to_owned();
    let ticket = ws_ticket_from_random([0x11; 32]).expose().to_owned();
    let secrets = [
        JWT.to_owned(),
        UNSIGNED_JWT.to_owned(),
        format!("token={JWT}"),
        machine_token(),
        format!("used {} today", machine_token()),
        ticket,
        session.clone(),
        session.to_uppercase(),
        "deadbeef".repeat(4),
        format!("Bearer {}", machine_token()),
        "Bearer abcdefgh12345678".to_owned(),
        "bearer    opaque-token-value".to_owned(),
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l".to_owned(),
        // 32 random bytes, standard base64 with padding, and base64url.
        "q3Jx9Lw0Vb2Ue7Rz+4Kp/8Nm1Yt6Hs5Gd0Fa2Cx3Bz4=".to_owned(),
        "q3Jx9Lw0Vb2Ue7Rz-4Kp_8Nm1Yt6Hs5Gd0Fa2Cx3Bz4".to_owned(),
        // A ghp-style API key.
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a".to_owned(),
    ];
    for s in &secrets {
        assert!(looks_secret(s), "{s}");
    }
}

#[test]
fn benign_values_are_kept() {
    let benign = [
        "hello",
        "",
        UUID,
        "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B",
        "alice@example.com",
        "42",
        "1700000000000",
        "192.168.0.1",
        "2001:db8::1",
        "agent:read messaging:send",
        "auth.login.password.failure",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
        "/api/messaging/channels/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/messages",
        "the password was wrong",
        "a bearer of bad news",
        "agm_",
        "deadbeef",
        "my-long-lowercase-kebab-case-name-for-a-bot",
    ];
    for s in benign {
        assert!(!looks_secret(s), "{s}");
    }
}

#[test]
fn redaction_table() {
    let token = machine_token();
    let input: BTreeMap<String, Value> = [
        ("email", json!("alice@example.com")),
        ("reason", json!("wrong password")),
        ("count", json!(3)),
        ("ok", json!(true)),
        ("entityId", json!(UUID)),
        ("tokenId", json!(UUID)),
        ("token_name", json!("ci-bot")),
        ("scopes", json!(["agent:read", "messaging:send"])),
        ("password", json!("hunter2-hunter2")),
        ("newPassword", json!("correct horse battery staple")),
        ("api_key", json!("short")),
        ("X-Api-Key", json!(12345)),
        ("Authorization", json!("Basic xyz")),
        ("cookie", json!("eliza_session=abc")),
        ("csrf", json!("abc")),
        ("session", json!({"nested": "thing"})),
        ("jwt", json!(null)),
        ("passwordChanged", json!(false)),
        ("note", json!(JWT)),
        ("header", json!(format!("Bearer {token}"))),
        ("tokenId_but_value_is_token", json!(token)),
        (
            "nested",
            json!({"deeper": {"secret": "s", "ok": "fine", "list": [UUID, JWT, "x"]}, "token_id": UUID}),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let out = redact_metadata(input);
    let expected = json!({
        "email": "alice@example.com",
        "reason": "wrong password",
        "count": 3,
        "ok": true,
        "entityId": UUID,
        "tokenId": UUID,
        "token_name": "ci-bot",
        "scopes": ["agent:read", "messaging:send"],
        "password": REDACTED,
        "newPassword": REDACTED,
        "api_key": REDACTED,
        "X-Api-Key": REDACTED,
        "Authorization": REDACTED,
        "cookie": REDACTED,
        "csrf": REDACTED,
        "session": REDACTED,
        "jwt": null,
        "passwordChanged": false,
        "note": REDACTED,
        "header": REDACTED,
        "tokenId_but_value_is_token": REDACTED,
        "nested": {"deeper": {"secret": REDACTED, "ok": "fine", "list": [UUID, REDACTED, "x"]}, "token_id": UUID},
    });
    assert_eq!(serde_json::to_value(&out).unwrap(), expected);
}

#[test]
fn user_agent_truncation() {
    assert_eq!(truncate_chars("abc", 200), "abc");
    let ascii = "a".repeat(250);
    assert_eq!(truncate_chars(&ascii, 200).len(), 200);
    // Multi-byte characters: 200 characters, never a split character.
    let crab = "🦀".repeat(201);
    let cut = truncate_chars(&crab, 200);
    assert_eq!(cut.chars().count(), 200);
    assert_eq!(cut.len(), 800);
    let mixed = format!("{}é漢🦀tail", "x".repeat(197));
    assert_eq!(
        truncate_chars(&mixed, 200),
        format!("{}é漢🦀", "x".repeat(197))
    );
    assert_eq!(truncate_chars(&mixed, 198), format!("{}é", "x".repeat(197)));

    let event = AuditEvent::builder("id", 1, "srv", AuditAction::LOGOUT, Outcome::Success)
        .user_agent(format!("Mozilla/5.0 {}", "日本".repeat(200)))
        .build();
    let ua = event.user_agent().unwrap();
    assert_eq!(ua.chars().count(), 200);
    assert!(ua.starts_with("Mozilla/5.0 日本"));
}

#[test]
fn events_are_built_redacted() {
    let token = machine_token();
    let event = AuditEvent::builder(
        UUID,
        1_700_000_000_123,
        "11111111-2222-4333-8444-555555555555",
        AuditAction::MACHINE_TOKEN_CREATE,
        Outcome::Success,
    )
    .actor(UUID)
    .ip("203.0.113.9")
    .user_agent("curl/8.5.0")
    .meta("tokenId", UUID)
    .meta("name", "ci-bot")
    .meta("token", token.as_str())
    .meta("echo", format!("issued {token}"))
    .build();

    assert_eq!(event.action(), "auth.machine_token.create.success");
    assert_eq!(event.outcome(), Outcome::Success);
    assert_eq!(event.ts(), 1_700_000_000_123);
    assert_eq!(event.actor_identity_id(), Some(UUID));
    assert_eq!(event.metadata()["token"], json!(REDACTED));
    assert_eq!(event.metadata()["echo"], json!(REDACTED));
    assert_eq!(event.metadata()["tokenId"], json!(UUID));

    let line = to_log_line(&event);
    assert!(!line.contains('\n'));
    assert!(!line.contains(&token), "{line}");
    assert!(!line.contains(&token[4..]));
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        parsed,
        json!({
            "type": "audit",
            "id": UUID,
            "ts": 1_700_000_000_123u64,
            "serverId": "11111111-2222-4333-8444-555555555555",
            "actorIdentityId": UUID,
            "ip": "203.0.113.9",
            "userAgent": "curl/8.5.0",
            "action": "auth.machine_token.create.success",
            "outcome": "success",
            "metadata": {"echo": REDACTED, "name": "ci-bot", "token": REDACTED, "tokenId": UUID},
        })
    );
    assert_eq!(
        serde_json::from_str::<Value>(&event.metadata_json()).unwrap(),
        parsed["metadata"]
    );
}

#[test]
fn log_lines_never_contain_secrets() {
    // Every kind of secret a login flow handles, in every field a caller
    // might put it: none survives into the line.
    let password = "correct-horse-battery-staple-9";
    let session = session_token_from_random([0x42; 32]).expose().to_owned();
    let token = machine_token();
    let secrets = [password, session.as_str(), token.as_str(), JWT];
    let event = AuditEvent::builder(
        UUID,
        5,
        "srv",
        AuditAction::LOGIN_PASSWORD,
        Outcome::Failure,
    )
    .ip("198.51.100.7")
    .user_agent(format!("evil-client {JWT}"))
    .meta("email", "alice@example.com")
    .meta("password", password)
    .meta("cookie", format!("eliza_session={session}"))
    .meta("presented", session.as_str())
    .meta("authorization", format!("Bearer {JWT}"))
    .meta(
        "details",
        json!({"attempt": {"credentials": password, "idToken": JWT}, "tokens": [token.as_str()]}),
    )
    .build();
    let line = to_log_line(&event);
    for secret in secrets {
        assert!(!line.contains(secret), "{secret} leaked: {line}");
    }
    assert!(!line.contains("eyJ"));
    assert!(line.contains("auth.login.password.failure"));
    assert!(line.contains("alice@example.com"));
    assert_eq!(event.user_agent(), Some(REDACTED));
}

#[test]
fn action_names() {
    let expected = [
        ("auth.login.password", "auth.login.password.success"),
        ("auth.login.jwt", "auth.login.jwt.success"),
        ("auth.setup", "auth.setup.success"),
        ("auth.bootstrap.exchange", "auth.bootstrap.exchange.success"),
        ("auth.owner.bind", "auth.owner.bind.success"),
        ("auth.session.revoke", "auth.session.revoke.success"),
        ("auth.session.revoke_all", "auth.session.revoke_all.success"),
        ("auth.password.change", "auth.password.change.success"),
        (
            "auth.machine_token.rotate",
            "auth.machine_token.rotate.success",
        ),
        (
            "connector.credentials.write",
            "connector.credentials.write.success",
        ),
        ("onboarding.write", "onboarding.write.success"),
        (
            "security.alert.auth_failures",
            "security.alert.auth_failures",
        ),
    ];
    for (base, success) in expected {
        let action = AuditAction::from_base(base).unwrap_or_else(|| panic!("{base}"));
        assert_eq!(action.name(Outcome::Success), success);
    }
    assert_eq!(
        AuditAction::LOGIN_PASSWORD.name(Outcome::Failure),
        "auth.login.password.failure"
    );
    // Names are dotted lowercase words.
    for a in AuditAction::ALL {
        let name = a.name(Outcome::Failure);
        assert!(name
            .split('.')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    }
}
