//! Facts about the client that sent a request, for rate limits, sessions and
//! audit rows: its IP (`CF-Connecting-IP` only) and its user agent.

use crate::error::ApiError;
use crate::http::header;
use agentgate_shared::config::Config;
use agentgate_shared::ratelimit::{ClientIpError, CLIENT_IP_HEADER};
use agentgate_shared::ErrorCode;
use worker::Request;

/// What the pipeline learns about the client once per request.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The client IP, when the request names one the gateway trusts.
    pub ip: Option<String>,
    /// The `User-Agent` header, if any (the audit layer truncates it).
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn of(req: &Request, config: &Config) -> Self {
        Self {
            ip: request_ip(req, config).ok(),
            user_agent: header(req, "user-agent"),
        }
    }
}

/// The client IP the rate limiter counts: `CF-Connecting-IP` only (the
/// development override is a test hook of the development build, honoured
/// only with `ENVIRONMENT=development`; the production module never reads it).
pub fn request_ip(req: &Request, config: &Config) -> Result<String, ApiError> {
    let platform = header(req, CLIENT_IP_HEADER);
    #[cfg(feature = "dev")]
    let ip = agentgate_shared::ratelimit::client_ip(
        platform.as_deref(),
        header(req, agentgate_shared::ratelimit::DEV_CLIENT_IP_HEADER).as_deref(),
        config.is_development(),
    );
    #[cfg(not(feature = "dev"))]
    let ip = agentgate_shared::ratelimit::platform_client_ip(
        platform.as_deref(),
        config.is_development(),
    );
    ip.map_err(|e| match e {
        // A client IP header that names no address is the request's fault.
        ClientIpError::Malformed(header) => {
            ApiError::bad_request(format!("Invalid header `{header}`: an IP address"))
        }
        // No client IP at all in production: the platform did not say who
        // is calling, so nothing can be counted; fail closed.
        ClientIpError::Missing => {
            ApiError::new(ErrorCode::RateLimiterUnavailable).with_detail(e.to_string())
        }
    })
}
