//! External JWTs at the edge (SPEC §3 item 4): JWKS and shared-secret modes,
//! attacks refused over HTTP, key rotation and the kid-flood bound, and the
//! provider being down.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::idp::TestIdp;
use agentgate_e2e::jwt::{hs256, now, sign_hs256};
use agentgate_e2e::keys::TestKey;
use agentgate_e2e::Gateway;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

const ISSUER: &str = "https://idp.agentgate.test";
const AUDIENCE: &str = "agentgate-e2e";
const SECRET: &str = "an-hs256-shared-secret-of-at-least-32-bytes";
const JWKS: &str = "/.well-known/jwks.json";

fn claims(sub: &str) -> Value {
    let t = now();
    json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": t, "nbf": t - 5, "exp": t + 300})
}

async fn me(gw: &Gateway, token: &str) -> reqwest::Response {
    client()
        .get(gw.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn gateway(idp: &TestIdp) -> Gateway {
    Gateway::builder()
        .var("JWT_JWKS_URI", idp.url(JWKS))
        .var("JWT_SECRET", SECRET)
        .var("JWT_ISSUER_WHITELIST", ISSUER)
        .var("JWT_AUDIENCE", AUDIENCE)
        // These tests send over a thousand requests from one address to an
        // `auth`-bucket route; rate limiting has its own tests (ratelimit.rs).
        .var("RATE_LIMIT_DISABLED", "true")
        .start()
        .await
}

#[tokio::test]
async fn valid_tokens_of_every_key_type_are_accepted() {
    let idp = TestIdp::start().await;
    let (rsa, ec, ed) = (
        TestKey::rsa("rsa-a.pem", "rsa-a"),
        TestKey::ec("ec-a.pem", "ec-a"),
        TestKey::ed("ed-a.pem", "ed-a"),
    );
    idp.publish_keys(JWKS, &[&rsa, &ec, &ed]);
    let gw = gateway(&idp).await;

    for (name, token) in [
        ("RS256", rsa.sign(&claims("did:privy:alice"), &json!({}))),
        ("ES256", ec.sign(&claims("did:privy:alice"), &json!({}))),
        ("EdDSA", ed.sign(&claims("did:privy:alice"), &json!({}))),
        ("HS256", hs256(SECRET, &claims("did:privy:alice"))),
    ] {
        let resp = me(&gw, &token).await;
        assert_eq!(resp.status(), 200, "{name}");
        let body = json(resp).await;
        assert_eq!(body["credential"], "jwt", "{name}");
        assert_eq!(body["issuer"], ISSUER, "{name}");
        // eliza_uuid("did:privy:alice"): SHA-1 of encodeURIComponent(sub),
        // version nibble 0, RFC 4122 variant (python: see shared/src/entity_id.rs).
        let entity = body["entityId"].as_str().unwrap();
        assert_eq!(entity.len(), 36, "{name}: {entity}");
        assert_eq!(&entity[14..15], "0", "{name}: version nibble 0");
        assert!(
            body["permissions"]
                .as_array()
                .is_some_and(|p| !p.is_empty()),
            "{name}: {body}"
        );
    }
    // Same sub → same entity id, whatever the key.
    let a = json(me(&gw, &rsa.sign(&claims("bob"), &json!({}))).await).await;
    let b = json(me(&gw, &hs256(SECRET, &claims("bob"))).await).await;
    assert_eq!(a["entityId"], b["entityId"]);
    // A sub that is already a UUID is used as is.
    let uuid = "7d4d0a34-3ac5-4e1c-9a4b-5b0e8f0c1d2e";
    let c = json(me(&gw, &hs256(SECRET, &claims(uuid))).await).await;
    assert_eq!(c["entityId"], uuid);
}

#[tokio::test]
async fn attacks_are_refused_with_invalid_token() {
    let idp = TestIdp::start().await;
    let rsa = TestKey::rsa("rsa-a.pem", "rsa-a");
    let attacker = TestKey::rsa("rsa-b.pem", "rsa-a"); // same kid, other key
    let attacker_ec = TestKey::ec("ec-a.pem", "attacker");
    idp.publish_keys(JWKS, &[&rsa]);
    let gw = gateway(&idp).await;
    let t = now();
    let good = claims("mallory");

    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let valid = rsa.sign(&good, &json!({}));
    let parts: Vec<&str> = valid.split('.').collect();
    let mut cases: Vec<(&str, String)> = Vec::new();
    for none in ["none", "None", "NONE", "nOnE"] {
        cases.push((
            "alg none",
            format!(
                "{}.{}.",
                enc(&json!({"alg": none, "typ": "JWT"})),
                enc(&good)
            ),
        ));
    }
    for public in rsa.rsa_public_key_encodings() {
        let secret = String::from_utf8_lossy(&public).to_string();
        cases.push((
            "RS256 key confusion to HS256",
            sign_hs256(&secret, &json!({"alg": "HS256", "kid": "rsa-a"}), &good),
        ));
    }
    cases.extend([
        ("expired", rsa.sign(&json!({"sub": "m", "iss": ISSUER, "aud": AUDIENCE, "iat": t - 4000, "exp": t - 3600}), &json!({}))),
        ("nbf in the future", rsa.sign(&json!({"sub": "m", "iss": ISSUER, "aud": AUDIENCE, "nbf": t + 3600, "exp": t + 7200}), &json!({}))),
        ("wrong iss", rsa.sign(&json!({"sub": "m", "iss": "https://evil.test", "aud": AUDIENCE, "exp": t + 300}), &json!({}))),
        ("wrong aud", rsa.sign(&json!({"sub": "m", "iss": ISSUER, "aud": "other", "exp": t + 300}), &json!({}))),
        ("no exp", rsa.sign(&json!({"sub": "m", "iss": ISSUER, "aud": AUDIENCE}), &json!({}))),
        ("unknown crit", rsa.sign(&good, &json!({"crit": ["exp-ext"], "exp-ext": 1}))),
        ("kid with path characters", rsa.sign(&good, &json!({"kid": "../../etc/passwd"}))),
        ("kid with SQL", rsa.sign(&good, &json!({"kid": "' OR 1=1 --"}))),
        ("known kid, key not in set", attacker.sign(&good, &json!({}))),
        ("embedded jwk", attacker_ec.sign(&good, &json!({"jwk": attacker_ec.public_jwk(), "kid": null}))),
        ("jku to attacker", attacker_ec.sign(&good, &json!({"jku": idp.url("/attacker.json")}))),
        ("x5u to attacker", attacker_ec.sign(&good, &json!({"x5u": idp.url("/attacker.pem")}))),
        ("truncated", format!("{}.{}", parts[0], parts[1])),
        ("extra segment", format!("{valid}.{}", parts[2])),
        ("non-base64url characters", format!("{}.{}.{}", parts[0], parts[1], parts[2].replace('-', "+"))),
        ("padding", format!("{}.{}.{}==", parts[0], parts[1], parts[2])),
        ("9 KiB token", rsa.sign(&json!({"sub": "m", "iss": ISSUER, "aud": AUDIENCE, "exp": t + 300, "pad": "x".repeat(9 * 1024)}), &json!({}))),
        ("JWS JSON serialization", json!({"payload": parts[1], "protected": parts[0], "signature": parts[2]}).to_string()),
        ("HS256 with wrong secret", hs256("another-secret-that-is-32-bytes-long!!", &good)),
    ]);
    idp.publish_keys("/attacker.json", &[&attacker_ec]);
    for (name, token) in &cases {
        let resp = me(&gw, token).await;
        let body = expect_error(resp, 401, "INVALID_TOKEN").await;
        assert!(body.get("entityId").is_none(), "{name}");
    }
    // The attacker's key locations were never fetched.
    assert_eq!(idp.fetches("/attacker.json"), 0);
    assert_eq!(idp.fetches("/attacker.pem"), 0);

    // No credential at all is a different answer.
    let resp = client().get(gw.url("/api/auth/me")).send().await.unwrap();
    expect_error(resp, 401, "AUTH_REQUIRED").await;
    // The reason is shown in development only.
    let body = expect_error(me(&gw, &cases[0].1).await, 401, "INVALID_TOKEN").await;
    assert!(
        body["error"]["details"].as_str().is_some(),
        "development shows the reason: {body}"
    );
}

#[tokio::test]
async fn production_hides_the_reason() {
    let gw = Gateway::builder()
        .var("ENVIRONMENT", "production")
        .var("JWT_SECRET", SECRET)
        .start()
        .await;
    let body = expect_error(
        me(&gw, "eyJhbGciOiJub25lIn0.e30.").await,
        401,
        "INVALID_TOKEN",
    )
    .await;
    assert!(body["error"].get("details").is_none(), "{body}");
    // The development verify hook does not exist in production.
    let resp = client()
        .post(gw.url("/__dev/crypto/verify"))
        .json(&json!({"implementation": "rust", "groups": []}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn rotation_and_the_unknown_kid_flood() {
    let idp = TestIdp::start().await;
    let old = TestKey::rsa("rsa-a.pem", "k-old");
    let new = TestKey::rsa("rsa-b.pem", "k-new");
    idp.publish_keys(JWKS, &[&old]);
    let gw = gateway(&idp).await;

    assert_eq!(
        me(&gw, &old.sign(&claims("r"), &json!({}))).await.status(),
        200
    );
    let before = idp.fetches(JWKS);
    assert!(before >= 1);

    // The provider rotates: a token with the new kid verifies after one
    // refetch. Unknown-kid refetches are throttled to one per 60 s, counted
    // from the last fetch, so within the first minute the new kid is refused.
    idp.publish_keys(JWKS, &[&old, &new]);
    assert_eq!(
        me(&gw, &new.sign(&claims("r"), &json!({}))).await.status(),
        401,
        "throttled: no refetch within 60 s of the last fetch"
    );
    assert_eq!(idp.fetches(JWKS), before);
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    assert_eq!(
        me(&gw, &new.sign(&claims("r"), &json!({}))).await.status(),
        200
    );
    assert_eq!(
        idp.fetches(JWKS),
        before + 1,
        "exactly one refetch for the new kid"
    );

    // 1,000 requests with random unknown kids: at most a handful of fetches,
    // and valid tokens keep working throughout.
    let flood_start = idp.fetches(JWKS);
    let http = client();
    let mut handles = Vec::new();
    // ES256 signs fast; the kid is what matters here.
    let flooder = TestKey::ec("ec-a.pem", "flooder");
    for i in 0..1000u32 {
        let token = flooder.sign(
            &claims("flood"),
            &json!({"kid": format!("bogus-{i}-{}", i.wrapping_mul(2654435761))}),
        );
        let http = http.clone();
        let url = gw.url("/api/auth/me");
        handles.push(tokio::spawn(async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
        if i % 50 == 0 {
            for h in handles.drain(..) {
                assert_eq!(h.await.unwrap(), 401);
            }
            assert_eq!(
                me(&gw, &new.sign(&claims("r"), &json!({}))).await.status(),
                200
            );
        }
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 401);
    }
    let flood_fetches = idp.fetches(JWKS) - flood_start;
    println!("JWKS fetches during 1,000 unknown-kid requests: {flood_fetches}");
    assert!(flood_fetches <= 3, "{flood_fetches} fetches");
}

#[tokio::test]
async fn provider_down_keeps_cached_keys_and_never_opens() {
    let idp = TestIdp::start().await;
    let key = TestKey::ec("ec-a.pem", "ec-a");
    idp.publish_keys(JWKS, &[&key]);

    // Down before first use: nothing verifies (503-free: the token is simply not valid).
    idp.set_down(true);
    let gw = gateway(&idp).await;
    let resp = me(&gw, &key.sign(&claims("d"), &json!({}))).await;
    assert_eq!(resp.status(), 401, "no keys, no entry");

    // Up: works. Down again: cached keys keep working, unknown keys stay out.
    idp.set_down(false);
    // The failed fetch backs off up to 60 s before the next attempt for an unknown kid;
    // a fresh gateway shows the cached-keys behaviour without waiting.
    let gw = gateway(&idp).await;
    assert_eq!(
        me(&gw, &key.sign(&claims("d"), &json!({}))).await.status(),
        200
    );
    idp.set_down(true);
    assert_eq!(
        me(&gw, &key.sign(&claims("d"), &json!({}))).await.status(),
        200
    );
    let stranger = TestKey::ed("ed-a.pem", "stranger");
    assert_eq!(
        me(&gw, &stranger.sign(&claims("d"), &json!({})))
            .await
            .status(),
        401
    );
}
