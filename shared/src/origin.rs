//! Forwarding to the agent origin (SPEC §13), the decisions only: which
//! request headers may go to the origin, which response headers come back,
//! and the origin URL of a request.
//!
//! The identity the origin sees is the gateway's assertion and nothing the
//! client sent: identity headers, credentials and cookies never pass.

use crate::http_policy::is_identity_header;
use url::Url;

/// Request headers that are never forwarded: credentials, cookies, the CSRF
/// proof, hop-by-hop headers and those the runtime sets itself.
const DROPPED_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "x-api-key",
    "x-eliza-csrf",
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "forwarded",
    "x-forwarded-for",
    "x-real-ip",
];

/// Whether a client's request header may be forwarded to the origin.
pub fn forwards_request_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !(is_identity_header(&lower)
        || DROPPED_REQUEST_HEADERS.contains(&lower.as_str())
        || lower.starts_with("cf-")
        || lower.starts_with("proxy-"))
}

/// Response headers of the origin that are not passed back: cookies (the
/// origin never sets the gateway's session), hop-by-hop headers, and those
/// the gateway sets itself on every response.
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "set-cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "trailer",
    "upgrade",
    "x-request-id",
];

/// Whether an origin's response header is passed back to the client.
pub fn returns_response_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !(DROPPED_RESPONSE_HEADERS.contains(&lower.as_str())
        || lower.starts_with("access-control-")
        || is_identity_header(&lower))
}

/// The URL a request goes to: the origin's base path joined with the
/// request's path, the query unchanged.
pub fn origin_url(origin: &Url, path: &str, query: Option<&str>) -> Url {
    let mut url = origin.clone();
    let base = origin.path().trim_end_matches('/');
    url.set_path(&format!("{base}{path}"));
    url.set_query(query);
    url.set_fragment(None);
    url
}

/// The value of the assertion's `aud`: the origin's scheme, host and port.
pub fn audience(origin: &Url) -> String {
    origin.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_identity_and_credentials_never_reach_the_origin() {
        for name in [
            "X-User-ID",
            "x-user-email",
            "X-Entity-Id",
            "X-Agentgate-Assertion",
            "x-agentgate-anything",
            "Authorization",
            "Cookie",
            "X-API-Key",
            "x-eliza-csrf",
            "CF-Connecting-IP",
            "Host",
            "Transfer-Encoding",
        ] {
            assert!(!forwards_request_header(name), "{name}");
        }
        for name in ["content-type", "accept", "user-agent", "x-custom", "range"] {
            assert!(forwards_request_header(name), "{name}");
        }
    }

    #[test]
    fn origin_cookies_and_cors_are_not_passed_back() {
        for name in [
            "Set-Cookie",
            "access-control-allow-origin",
            "X-Request-Id",
            "x-user-id",
        ] {
            assert!(!returns_response_header(name), "{name}");
        }
        for name in ["content-type", "cache-control", "x-origin-thing"] {
            assert!(returns_response_header(name), "{name}");
        }
    }

    #[test]
    fn urls_keep_path_and_query() {
        let cases = [
            (
                "http://127.0.0.1:9/",
                "/api/agents/a/logs",
                Some("tail=5&x=%20"),
                "http://127.0.0.1:9/api/agents/a/logs?tail=5&x=%20",
            ),
            (
                "https://o.example/eliza/",
                "/api/server/logs",
                None,
                "https://o.example/eliza/api/server/logs",
            ),
            (
                "https://o.example/eliza",
                "/api/memory/a/memories",
                Some(""),
                "https://o.example/eliza/api/memory/a/memories?",
            ),
        ];
        for (origin, path, query, expected) in cases {
            let origin = Url::parse(origin).unwrap();
            assert_eq!(origin_url(&origin, path, query).as_str(), expected);
        }
        assert_eq!(
            audience(&Url::parse("https://o.example:8443/eliza").unwrap()),
            "https://o.example:8443"
        );
    }
}
