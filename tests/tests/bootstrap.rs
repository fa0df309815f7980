//! Cloud bootstrap tokens (SPEC §6) through `POST /api/auth/bootstrap/exchange`:
//! the harness's test IdP plays the cloud issuer (JWKS and revocation list on
//! loopback). Each refusal is checked for its client code and, since the
//! harness runs in development, for its own reason code in the detail.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::idp::TestIdp;
use agentgate_e2e::jwt::{now, sign_hs256};
use agentgate_e2e::keys::TestKey;
use agentgate_e2e::Gateway;
use serde_json::{json, Value};
use std::time::Duration;

const CONTAINER: &str = "container-e2e-1";
const JWKS: &str = "/.well-known/jwks.json";
const REVOCATIONS: &str = "/.well-known/revocations.json";
const EXCHANGE: &str = "/api/auth/bootstrap/exchange";
const REVOKED_JTI: &str = "jti-revoked-by-the-cloud";
const DAY: u64 = 24 * 3600;

fn cloud_key() -> TestKey {
    TestKey::rsa("rsa-cloud.pem", "cloud-1")
}

/// A unique jti per call.
fn fresh_jti(label: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "jti-{label}-{}-{}",
        now(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Valid bootstrap claims for this container.
fn claims(idp: &TestIdp, jti: &str) -> Value {
    let t = now();
    json!({
        "iss": idp.base_url,
        "sub": "cloud-user-1",
        "scope": "bootstrap",
        "containerId": CONTAINER,
        "iat": t,
        "exp": t + 600,
        "jti": jti,
    })
}

/// `claims` with members replaced (`null` removes one).
fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("changes object") {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn publish(idp: &TestIdp) {
    idp.publish_keys(JWKS, &[&cloud_key()]);
    idp.serve(
        REVOCATIONS,
        json!({"revoked": [REVOKED_JTI, {"jti": "another"}]}),
    );
}

async fn gateway(idp: &TestIdp) -> Gateway {
    Gateway::builder()
        .var("ELIZA_CLOUD_ISSUER", idp.base_url.clone())
        .var("ELIZA_CLOUD_CONTAINER_ID", CONTAINER)
        .var("ELIZA_CLOUD_PROVISIONED", "1")
        // More exchanges from one address than the `sensitive` bucket allows
        // per minute; rate limiting has its own tests.
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await
}

async fn exchange(gw: &Gateway, token: &str) -> reqwest::Response {
    client()
        .post(gw.url(EXCHANGE))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
}

/// Expects a refusal with `status`/`code` whose detail names `reason`.
async fn expect_refused(resp: reqwest::Response, status: u16, code: &str, reason: &str) {
    let body = expect_error(resp, status, code).await;
    let detail = body["error"]["details"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(reason),
        "expected {reason}, body: {body}"
    );
}

#[tokio::test]
async fn a_valid_token_is_exchanged_exactly_once() {
    let idp = TestIdp::start().await;
    publish(&idp);
    let gw = gateway(&idp).await;
    let key = cloud_key();

    let jti = fresh_jti("once");
    let token = key.sign(&claims(&idp, &jti), &json!({}));
    let resp = exchange(&gw, &token).await;
    assert_eq!(resp.status(), 201);
    let body = json(resp).await;
    assert_eq!(body["containerId"], CONTAINER);
    assert_eq!(body["jti"], jti.as_str());
    let exp = claims(&idp, &jti)["exp"].as_u64().unwrap();
    assert!(
        body["tokenExpiresAt"]
            .as_u64()
            .is_some_and(|e| e.abs_diff(exp) <= 5),
        "{body}"
    );

    // The replay set holds the jti until the token's exp.
    let rows = gw.d1_query(&format!(
        "SELECT expires_at FROM bootstrap_jti_seen WHERE jti = '{jti}'"
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["expires_at"], body["tokenExpiresAt"]);
    // The exchange's session is the 15-minute bootstrap kind.
    let session_expiry = body["expiresAt"].as_u64().unwrap();
    assert!(session_expiry.abs_diff(now() + 15 * 60) <= 5, "{body}");

    // A second use is refused with its own reason.
    expect_refused(
        exchange(&gw, &token).await,
        401,
        "INVALID_TOKEN",
        "BOOTSTRAP_REPLAYED",
    )
    .await;

    // Concurrent exchanges of one fresh token: exactly one wins, every time.
    for round in 0..3 {
        let token = key.sign(&claims(&idp, &fresh_jti("race")), &json!({}));
        let attempts = (0..4).map(|_| exchange(&gw, &token));
        let responses = futures_util::future::join_all(attempts).await;
        let mut won = 0;
        for resp in responses {
            if resp.status() == 201 {
                won += 1;
            } else {
                expect_refused(resp, 401, "INVALID_TOKEN", "BOOTSTRAP_REPLAYED").await;
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one exchange wins");
    }

    // Every exchange has its audit row: 4 successes, 1 + 3 × 3 replays.
    let rows = audit_rows(&gw);
    let count = |outcome: &str, needle: &str| {
        rows.iter()
            .filter(|r| r["outcome"] == outcome && r["metadata"].as_str().unwrap().contains(needle))
            .count()
    };
    assert_eq!(count("success", &jti), 1, "{rows:?}");
    assert_eq!(count("success", "jti-race"), 3, "{rows:?}");
    assert_eq!(count("failure", "BOOTSTRAP_REPLAYED"), 10, "{rows:?}");
}

/// The audit rows of bootstrap exchanges.
fn audit_rows(gw: &Gateway) -> Vec<Value> {
    let rows = gw.d1_query(
        "SELECT action, outcome, metadata FROM audit_events \
         WHERE action LIKE 'auth.bootstrap.exchange%'",
    );
    assert!(!rows.is_empty());
    rows
}

#[tokio::test]
async fn each_defect_is_refused_with_its_own_reason() {
    let idp = TestIdp::start().await;
    publish(&idp);
    let gw = gateway(&idp).await;
    let key = cloud_key();
    let other_key = TestKey::rsa("rsa-a.pem", "cloud-1");
    let t = now();
    let hs256_secret = String::from_utf8(key.rsa_public_key_encodings()[1].clone()).unwrap();

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong containerId",
            key.sign(
                &with(
                    claims(&idp, &fresh_jti("c")),
                    json!({"containerId": "someone-else"}),
                ),
                &json!({}),
            ),
            "BOOTSTRAP_WRONG_CONTAINER",
        ),
        (
            "expired",
            key.sign(
                &with(
                    claims(&idp, &fresh_jti("e")),
                    json!({"iat": t - 7200, "exp": t - 3600}),
                ),
                &json!({}),
            ),
            "BOOTSTRAP_EXPIRED",
        ),
        (
            "exp more than 24 h after iat",
            key.sign(
                &with(claims(&idp, &fresh_jti("l")), json!({"exp": t + DAY + 60})),
                &json!({}),
            ),
            "BOOTSTRAP_LIFETIME_TOO_LONG",
        ),
        (
            "missing jti",
            key.sign(
                &with(claims(&idp, "unused"), json!({"jti": null})),
                &json!({}),
            ),
            "BOOTSTRAP_MISSING_JTI",
        ),
        (
            "HS256 with the cloud's public key as the secret",
            sign_hs256(
                &hs256_secret,
                &json!({"alg": "HS256", "typ": "JWT", "kid": "cloud-1"}),
                &claims(&idp, &fresh_jti("h")),
            ),
            "BOOTSTRAP_WRONG_ALGORITHM",
        ),
        (
            "revoked jti",
            key.sign(&claims(&idp, REVOKED_JTI), &json!({})),
            "BOOTSTRAP_REVOKED",
        ),
        (
            "wrong scope",
            key.sign(
                &with(claims(&idp, &fresh_jti("s")), json!({"scope": "admin"})),
                &json!({}),
            ),
            "BOOTSTRAP_WRONG_SCOPE",
        ),
        (
            "wrong issuer",
            key.sign(
                &with(
                    claims(&idp, &fresh_jti("i")),
                    json!({"iss": "https://evil.example"}),
                ),
                &json!({}),
            ),
            "BOOTSTRAP_WRONG_ISSUER",
        ),
        (
            "signed by another key under the cloud's kid",
            other_key.sign(&claims(&idp, &fresh_jti("k")), &json!({})),
            "BOOTSTRAP_BAD_SIGNATURE",
        ),
    ];
    for (name, token, reason) in &cases {
        let resp = exchange(&gw, token).await;
        assert_eq!(resp.status(), 401, "{name}");
        expect_refused(resp, 401, "INVALID_TOKEN", reason).await;
    }

    // A refused token burns nothing: the same jti in a valid token still works.
    let jti = fresh_jti("after-refusal");
    let refused = key.sign(
        &with(claims(&idp, &jti), json!({"containerId": "someone-else"})),
        &json!({}),
    );
    assert_eq!(exchange(&gw, &refused).await.status(), 401);
    let good = key.sign(&claims(&idp, &jti), &json!({}));
    assert_eq!(exchange(&gw, &good).await.status(), 201);

    // Each refusal's audit row names its reason.
    let rows = audit_rows(&gw);
    for (name, _, reason) in &cases {
        assert!(
            rows.iter()
                .any(|r| r["outcome"] == "failure"
                    && r["metadata"].as_str().unwrap().contains(reason)),
            "{name}: no audit row with {reason}: {rows:?}"
        );
    }

    // A body without a token is a 400 naming the field.
    let resp = client()
        .post(gw.url(EXCHANGE))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 400, "BAD_REQUEST").await;
    assert!(body.to_string().contains("token"), "{body}");
}

#[tokio::test]
async fn an_unreachable_issuer_locks_bootstrap_until_it_answers() {
    let idp = TestIdp::start().await;
    publish(&idp);
    idp.set_down(true);
    let gw = gateway(&idp).await;
    let key = cloud_key();
    let token = key.sign(&claims(&idp, &fresh_jti("down")), &json!({}));

    // JWKS down on first use: 503, never a bypass, and no fetch per request.
    for _ in 0..5 {
        expect_refused(
            exchange(&gw, &token).await,
            503,
            "BOOTSTRAP_UNAVAILABLE",
            "BOOTSTRAP_UNAVAILABLE",
        )
        .await;
    }
    assert_eq!(idp.fetches(JWKS), 1, "failures back off");

    // Keys reachable but no revocation list: still locked (fail closed).
    idp.set_down(false);
    idp.serve(REVOCATIONS, json!({"unexpected": true}));
    tokio::time::sleep(Duration::from_secs(11)).await; // the 10 s back-off
    let body = expect_error(exchange(&gw, &token).await, 503, "BOOTSTRAP_UNAVAILABLE").await;
    assert!(
        body["error"]["details"]
            .as_str()
            .is_some_and(|d| d.contains("revocation list")),
        "{body}"
    );
    assert_eq!(idp.fetches(JWKS), 2);

    // Once the list is readable, the same token is exchanged.
    publish(&idp);
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(exchange(&gw, &token).await.status(), 201);
}

#[tokio::test]
async fn rotation_refetches_once_and_brings_the_new_revocations() {
    let idp = TestIdp::start().await;
    publish(&idp);
    let gw = gateway(&idp).await;
    let old = cloud_key();
    let new = TestKey::rsa("rsa-b.pem", "cloud-2");

    let first = old.sign(&claims(&idp, &fresh_jti("before")), &json!({}));
    assert_eq!(exchange(&gw, &first).await.status(), 201);
    assert_eq!((idp.fetches(JWKS), idp.fetches(REVOCATIONS)), (1, 1));

    // The cloud rotates its key and revokes a jti.
    idp.publish_keys(JWKS, &[&old, &new]);
    let newly_revoked = fresh_jti("revoked-later");
    idp.serve(REVOCATIONS, json!([REVOKED_JTI, newly_revoked]));

    // Within 60 s of the last fetch, unknown kids refetch nothing.
    for _ in 0..5 {
        let token = new.sign(&claims(&idp, &fresh_jti("early")), &json!({}));
        expect_refused(
            exchange(&gw, &token).await,
            401,
            "INVALID_TOKEN",
            "BOOTSTRAP_UNKNOWN_KID",
        )
        .await;
    }
    assert_eq!(idp.fetches(JWKS), 1, "unknown kids are throttled");

    // After the interval, one refetch: the new key, and the new revocations
    // with it.
    tokio::time::sleep(Duration::from_secs(61)).await;
    let revoked = new.sign(&claims(&idp, &newly_revoked), &json!({}));
    expect_refused(
        exchange(&gw, &revoked).await,
        401,
        "INVALID_TOKEN",
        "BOOTSTRAP_REVOKED",
    )
    .await;
    assert_eq!((idp.fetches(JWKS), idp.fetches(REVOCATIONS)), (2, 2));
    let fresh = new.sign(&claims(&idp, &fresh_jti("after")), &json!({}));
    assert_eq!(exchange(&gw, &fresh).await.status(), 201);
    assert_eq!(idp.fetches(JWKS), 2);
}

#[tokio::test]
async fn without_a_cloud_issuer_there_is_nothing_to_exchange() {
    let gw = Gateway::builder().start().await;
    let token = cloud_key().sign(
        &json!({"iss": "https://cloud.example", "scope": "bootstrap"}),
        &json!({}),
    );
    let body = expect_error(exchange(&gw, &token).await, 503, "BOOTSTRAP_UNAVAILABLE").await;
    assert!(
        body["error"]["details"]
            .as_str()
            .is_some_and(|d| d.contains("ELIZA_CLOUD_ISSUER")),
        "{body}"
    );
}

#[tokio::test]
async fn the_exchanged_session_completes_cloud_setup_exactly_once() {
    use agentgate_e2e::session::{BrowserSession, STRONG_PASSWORD};
    use reqwest::Method;

    let idp = TestIdp::start().await;
    publish(&idp);
    let gw = gateway(&idp).await;
    let key = cloud_key();
    let owner = json!({"email": "owner@cloud.test", "password": STRONG_PASSWORD, "displayName": "Cloud Owner"});

    // Cloud-provisioned: no setup without a bootstrap token.
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&owner)
        .send()
        .await
        .unwrap();
    expect_error(resp, 401, "AUTH_REQUIRED").await;

    let resp = exchange(
        &gw,
        &key.sign(&claims(&idp, &fresh_jti("setup")), &json!({})),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let bootstrap = BrowserSession::from_response(&resp);
    // A bootstrap session finishes setup and nothing else.
    expect_error(bootstrap.me(&gw).await, 403, "INSUFFICIENT_PERMISSIONS").await;
    let resp = bootstrap
        .request(Method::POST, &gw.url("/api/auth/setup"))
        .json(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let session = BrowserSession::from_response(&resp);
    let me = json(session.me(&gw).await).await;
    assert_eq!(me["identityKind"], "owner", "{me}");
    assert_eq!(me["credential"], "session");
    // Single use: the bootstrap session is gone.
    let again = bootstrap
        .request(Method::POST, &gw.url("/api/auth/setup"))
        .json(&owner)
        .send()
        .await
        .unwrap();
    expect_error(again, 401, "INVALID_TOKEN").await;
    // And setup is done for good: a new token changes nothing.
    let mut late = owner.clone();
    late["bootstrapToken"] = json!(key.sign(&claims(&idp, &fresh_jti("late")), &json!({})));
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&late)
        .send()
        .await
        .unwrap();
    expect_error(resp, 409, "CONFLICT").await;
    drop(gw);

    // The token can also come with the setup request itself.
    let gw = gateway(&idp).await;
    let mut direct = owner.clone();
    direct["bootstrapToken"] = json!(key.sign(&claims(&idp, &fresh_jti("direct")), &json!({})));
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&direct)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = client()
        .post(gw.url("/api/auth/setup"))
        .json(&direct)
        .send()
        .await
        .unwrap();
    expect_error(resp, 409, "CONFLICT").await;
    let linked = gw.d1_query("SELECT cloud_user_id FROM identities WHERE kind = 'owner'");
    assert!(linked[0]["cloud_user_id"].is_string(), "{linked:?}");
}
