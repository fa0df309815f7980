//! Response construction and the headers every response carries.

use agentgate_shared::config::Config;
use agentgate_shared::http_policy::{cors_headers, REQUEST_ID_HEADER, SECURITY_HEADERS};
use serde::Serialize;
use worker::{Headers, Response};

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    // Serialising our own response types can't fail; if it ever did, the answer
    // is a bare 500, never a partial body.
    let Ok(text) = serde_json::to_vec(body) else {
        return empty(500);
    };
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    let _ = headers.set("Cache-Control", "no-store");
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(text)
}

/// An empty response with `status`.
pub fn empty(status: u16) -> Response {
    Response::builder().with_status(status).empty()
}

/// Adds the security headers, the request id and (for allowed origins) the
/// CORS headers. `config` is `None` when configuration is invalid: then no
/// CORS headers are given.
pub fn finalize(
    mut response: Response,
    request_id: &str,
    config: Option<&Config>,
    origin: Option<&str>,
    preflight: bool,
) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        let _ = headers.set(name, value);
    }
    let _ = headers.set(REQUEST_ID_HEADER, request_id);
    if let Some(config) = config {
        for (name, value) in cors_headers(config, origin, preflight) {
            let _ = headers.set(name, &value);
        }
    }
    response
}
