//! HTTP edge policy (SPEC §12): the security headers every response carries, and
//! the CORS decision for a request's `Origin`.

use crate::config::Config;

/// Largest request body accepted (bytes); larger → 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Header carrying the per-request id (also in the JSON error envelope).
pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// Headers set on every response, errors included.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("Content-Security-Policy", "default-src 'self'"),
    (
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-site"),
    (
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// Rate-limit headers exposed to browsers.
pub const RATE_LIMIT_HEADERS: &[&str] = &[
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
];

/// Headers a client may never set for us to trust (SPEC §3): stripped on entry.
pub const FORBIDDEN_IDENTITY_HEADERS: &[&str] = &["x-user-id", "x-user-email", "x-entity-id"];
pub const FORBIDDEN_IDENTITY_PREFIX: &str = "x-agentgate-";

/// Whether a client-sent header claims an identity and must be stripped.
pub fn is_identity_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    FORBIDDEN_IDENTITY_HEADERS.contains(&lower.as_str())
        || lower.starts_with(FORBIDDEN_IDENTITY_PREFIX)
}

/// The CORS headers for a response, or none when the origin isn't allowed
/// (other origins get no CORS headers at all).
pub fn cors_headers(
    config: &Config,
    origin: Option<&str>,
    preflight: bool,
) -> Vec<(&'static str, String)> {
    let Some(origin) = origin else {
        return Vec::new();
    };
    if !config.origin_allowed(origin) {
        return Vec::new();
    }
    let mut headers = vec![
        ("Access-Control-Allow-Origin", origin.to_owned()),
        ("Access-Control-Allow-Credentials", "true".to_owned()),
        ("Vary", "Origin".to_owned()),
    ];
    if preflight {
        headers.extend([
            (
                "Access-Control-Allow-Methods",
                "GET, POST, PUT, PATCH, DELETE, OPTIONS".to_owned(),
            ),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization, X-API-Key, x-eliza-csrf".to_owned(),
            ),
            ("Access-Control-Max-Age", "86400".to_owned()),
        ]);
    } else {
        headers.push(("Access-Control-Expose-Headers", expose_headers()));
    }
    headers
}

fn expose_headers() -> String {
    let mut v: Vec<&str> = RATE_LIMIT_HEADERS.to_vec();
    v.push(REQUEST_ID_HEADER);
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(origins: &str) -> Config {
        Config::from_lookup(|k| match k {
            "SERVER_ID" => Some("0190b6a0-0000-7000-8000-000000000001".into()),
            "ALLOWED_ORIGINS" => Some(origins.into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn allowed_origin_gets_credentials_and_exposed_headers() {
        let c = config("https://app.example");
        let h = cors_headers(&c, Some("https://app.example"), false);
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        assert_eq!(
            get("Access-Control-Allow-Origin").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            get("Access-Control-Allow-Credentials").as_deref(),
            Some("true")
        );
        assert!(get("Access-Control-Expose-Headers")
            .unwrap()
            .contains("X-RateLimit-Remaining"));
        let pre = cors_headers(&c, Some("https://app.example"), true);
        assert!(pre
            .iter()
            .any(|(k, v)| *k == "Access-Control-Max-Age" && v == "86400"));
    }

    #[test]
    fn other_origins_get_nothing() {
        let c = config("https://app.example");
        for origin in [
            Some("https://evil.example"),
            Some("null"),
            Some("https://app.example.evil"),
            None,
        ] {
            assert!(cors_headers(&c, origin, true).is_empty(), "{origin:?}");
        }
    }

    #[test]
    fn identity_headers_are_recognised() {
        for h in [
            "X-User-ID",
            "x-user-email",
            "X-Entity-Id",
            "X-Agentgate-Assertion",
            "x-agentgate-anything",
        ] {
            assert!(is_identity_header(h), "{h}");
        }
        for h in ["Authorization", "Cookie", "X-Request-Id"] {
            assert!(!is_identity_header(h), "{h}");
        }
    }
}
