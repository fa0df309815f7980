//! SPEC §12 at the edge: error envelope, security headers, CORS, body limit,
//! configuration failures, health, unknown routes.

use agentgate_e2e::http::{client, expect_error, json};
use agentgate_e2e::{Gateway, ALLOWED_ORIGIN};

const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", "default-src 'self'"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-site"),
];

fn assert_security_headers(resp: &reqwest::Response, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        let got = resp.headers().get(*name).and_then(|v| v.to_str().ok());
        assert_eq!(got, Some(*value), "{name} on {what}");
    }
    assert!(
        resp.headers().contains_key("permissions-policy"),
        "permissions-policy on {what}"
    );
    assert!(
        resp.headers().contains_key("x-request-id"),
        "x-request-id on {what}"
    );
}

#[tokio::test]
async fn edge_basics_on_a_healthy_gateway() {
    let gw = Gateway::start().await;
    let http = client();

    // 200 with security headers.
    let resp = http.get(gw.url("/api/server/ping")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_security_headers(&resp, "200 ping");
    assert_eq!(json(resp).await["pong"], true);

    // Health reports D1.
    let resp = http.get(gw.url("/api/server/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = json(resp).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["d1"], "ok");

    // Unknown route: 404 envelope with security headers; unknown /api/ too.
    for path in [
        "/nope",
        "/api/unknown",
        "/api/server/ping/extra",
        "/api/server/%70ing",
    ] {
        let resp = http.get(gw.url(path)).send().await.unwrap();
        assert_security_headers(&resp, "404");
        expect_error(resp, 404, "NOT_FOUND").await;
    }

    // Known path, wrong method: 405 with Allow.
    let resp = http
        .delete(gw.url("/api/server/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers().get("allow").unwrap(), "GET");
    expect_error(resp, 405, "METHOD_NOT_ALLOWED").await;

    // Over 1 MiB: 413 before anything reads it.
    let big = vec![b'a'; 1024 * 1024 + 1];
    let resp = http
        .post(gw.url("/api/server/ping"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_security_headers(&resp, "413");
    expect_error(resp, 413, "PAYLOAD_TOO_LARGE").await;

    // A protected route without credentials.
    let resp = http.get(gw.url("/api/server/status")).send().await.unwrap();
    expect_error(resp, 401, "AUTH_REQUIRED").await;

    // Request ids differ per request.
    let a = http.get(gw.url("/api/server/ping")).send().await.unwrap();
    let b = http.get(gw.url("/api/server/ping")).send().await.unwrap();
    assert_ne!(
        a.headers().get("x-request-id"),
        b.headers().get("x-request-id")
    );
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let gw = Gateway::start().await;
    let http = client();

    // Allowed origin: credentials allowed, rate-limit headers exposed.
    let resp = http
        .get(gw.url("/api/server/ping"))
        .header("origin", ALLOWED_ORIGIN)
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    assert_eq!(
        h.get("access-control-allow-origin").unwrap(),
        ALLOWED_ORIGIN
    );
    assert_eq!(h.get("access-control-allow-credentials").unwrap(), "true");
    let exposed = h
        .get("access-control-expose-headers")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(exposed.contains("X-RateLimit-Remaining"), "{exposed}");

    // Preflight from the allowed origin.
    let resp = http
        .request(reqwest::Method::OPTIONS, gw.url("/api/server/status"))
        .header("origin", ALLOWED_ORIGIN)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_security_headers(&resp, "preflight");
    let h = resp.headers();
    assert_eq!(
        h.get("access-control-allow-origin").unwrap(),
        ALLOWED_ORIGIN
    );
    assert_eq!(h.get("access-control-max-age").unwrap(), "86400");
    assert!(h.get("access-control-allow-methods").is_some());

    // Any other origin: no CORS headers at all, preflight or not.
    for origin in [
        "http://evil.test",
        "null",
        "http://app.agentgate.test.evil.test",
    ] {
        for preflight in [false, true] {
            let method = if preflight {
                reqwest::Method::OPTIONS
            } else {
                reqwest::Method::GET
            };
            let resp = http
                .request(method, gw.url("/api/server/ping"))
                .header("origin", origin)
                .header("access-control-request-method", "GET")
                .send()
                .await
                .unwrap();
            for name in [
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-expose-headers",
                "access-control-allow-methods",
            ] {
                assert!(
                    resp.headers().get(name).is_none(),
                    "{name} must be absent for {origin} (preflight {preflight})"
                );
            }
        }
    }
}

#[tokio::test]
async fn misconfiguration_answers_503_on_every_route() {
    let cases: &[(&str, &str, &str)] = &[
        ("SERVER_ID", "not-a-uuid", "SERVER_ID"),
        ("JWT_SECRET", "too-short-for-hs256", "JWT_SECRET"),
    ];
    for (name, value, variable) in cases {
        let gw = Gateway::builder().var(name, *value).start().await;
        let http = client();
        for path in [
            "/api/server/ping",
            "/api/server/health",
            "/api/auth/me",
            "/nope",
        ] {
            let resp = http
                .get(gw.url(path))
                .header("authorization", "Bearer whatever")
                .header("origin", ALLOWED_ORIGIN)
                .send()
                .await
                .unwrap();
            assert_security_headers(&resp, "503");
            assert!(resp.headers().get("access-control-allow-origin").is_none());
            let body = expect_error(resp, 503, "MISCONFIGURED").await;
            assert_eq!(body["error"]["variable"], *variable, "{path}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(variable),
                "{body}"
            );
        }
    }
    // A missing required setting is refused the same way.
    let gw = Gateway::builder().unset("SERVER_ID").start().await;
    let resp = client()
        .get(gw.url("/api/server/ping"))
        .send()
        .await
        .unwrap();
    let body = expect_error(resp, 503, "MISCONFIGURED").await;
    assert_eq!(body["error"]["variable"], "SERVER_ID");
}

#[tokio::test]
async fn malformed_json_is_400_naming_the_problem() {
    let secret = "edge-e2e-shared-secret-at-least-32-bytes";
    let gw = Gateway::builder().var("JWT_SECRET", secret).start().await;
    let t = agentgate_e2e::jwt::now();
    let token =
        agentgate_e2e::jwt::hs256(secret, &serde_json::json!({"sub": "json", "exp": t + 300}));
    let cases: &[(&str, &str)] = &[
        ("{\"name\": ", "Malformed JSON"),
        ("[1, 2]", "Invalid"),
        ("{\"name\": 42}", "`name`"),
        ("{\"nmae\": \"typo\"}", "nmae"),
        ("", "JSON body is required"),
    ];
    for (body, mentions) in cases {
        let resp = client()
            .post(gw.url("/api/messaging/channels"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_security_headers(&resp, "400");
        let err = expect_error(resp, 400, "BAD_REQUEST").await;
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(mentions), "{body:?} → {message}");
    }
}
