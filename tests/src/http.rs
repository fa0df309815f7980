//! HTTP client helpers.

use reqwest::{Client, Response};
use serde_json::Value;

/// A client that follows no redirects and keeps no cookies (tests pass the
/// cookies they mean to send).
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// The response's JSON body (panics with the raw text when it isn't JSON).
pub async fn json(resp: Response) -> Value {
    let text = resp.text().await.expect("response body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts ElizaOS's JSON error envelope (`{success: false, error: {code,
/// message, requestId}}`): status, `code`, a message, and a request id equal
/// to the `X-Request-Id` header. Returns the body.
pub async fn expect_error(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status for expected {code}");
    let header_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("X-Request-Id header");
    let body = json(resp).await;
    assert_eq!(body["success"], false, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "body: {body}"
    );
    assert_eq!(body["error"]["requestId"], header_id, "body: {body}");
    body
}
