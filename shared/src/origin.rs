//! Forwarding to the agent origin (SPEC §13), the decisions only: which
//! request headers may go to the origin, which response headers come back,
//! and the origin URL of a request.
//!
//! The identity the origin sees is the gateway's assertion and nothing the
//! client sent: identity headers, credentials and cookies never pass.

use crate::http_policy::is_identity_header;
use url::Url;

/// The header a stock ElizaOS server reads its API key from
/// (`ELIZA_SERVER_AUTH_TOKEN`): the gateway sends `AGENT_ORIGIN_API_KEY` in it.
pub const ORIGIN_API_KEY_HEADER: &str = "X-API-KEY";
/// The header ElizaOS scopes logs and memories by: the gateway sends the
/// verified entity in it (the client's own is stripped, see below).
pub const ENTITY_HEADER: &str = "X-Entity-Id";

/// What the gateway adds to every request to the origin, on top of the
/// assertion: the origin's key (when configured) and the verified entity.
pub fn origin_headers<'a>(
    api_key: Option<&'a str>,
    entity_id: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let mut headers = vec![(ENTITY_HEADER, entity_id)];
    if let Some(key) = api_key {
        headers.push((ORIGIN_API_KEY_HEADER, key));
    }
    headers
}

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

/// The id an origin's answer to an agent create gives the agent, if it names
/// one that is a valid id: ElizaOS answers `{success, data: {id}}` (1.7) or
/// `{data: {agent: {id}}}`; a bare `{id}` or `{agent: {id}}` is accepted too,
/// in that order.
pub fn created_agent_id(answer: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(answer).ok()?;
    ["/id", "/data/id", "/agent/id", "/data/agent/id"]
        .into_iter()
        .find_map(|pointer| crate::rules::parse_id("id", answer.pointer(pointer)?.as_str()?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_agent_ids_come_from_the_answer_in_order() {
        let a = "0190b6a0-0000-7000-8000-00000000000a";
        let b = "0190b6a0-0000-7000-8000-00000000000b";
        let cases = [
            (format!(r#"{{"id":"{a}","data":{{"id":"{b}"}}}}"#), Some(a)),
            (
                format!(r#"{{"success":true,"data":{{"id":"{a}"}}}}"#),
                Some(a),
            ),
            (format!(r#"{{"data":{{"agent":{{"id":"{a}"}}}}}}"#), Some(a)),
            (
                format!(r#"{{"id":"not an id","data":{{"id":"{b}"}}}}"#),
                Some(b),
            ),
            (r#"{"success":true}"#.to_string(), None),
            ("not json".to_string(), None),
        ];
        for (answer, want) in cases {
            assert_eq!(
                created_agent_id(answer.as_bytes()).as_deref(),
                want,
                "{answer}"
            );
        }
    }

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
    fn the_origin_gets_its_key_and_the_verified_entity_only() {
        let e = "0190b6a0-0000-7000-8000-00000000000e";
        assert_eq!(origin_headers(None, e), vec![(ENTITY_HEADER, e)]);
        assert_eq!(
            origin_headers(Some("k"), e),
            vec![(ENTITY_HEADER, e), (ORIGIN_API_KEY_HEADER, "k")]
        );
        // The client's own values of both never pass.
        assert!(!forwards_request_header(ENTITY_HEADER));
        assert!(!forwards_request_header(ORIGIN_API_KEY_HEADER));
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
