//! Facts about the client that sent a request, for sessions and audit rows:
//! its IP (the one the rate limiter counts: `CF-Connecting-IP` only, see
//! `ratelimit::request_ip`) and its user agent.

use crate::pipeline::header;
use agentgate_shared::config::Config;
use worker::Request;

/// The client IP, when the request names one the gateway trusts.
pub fn ip(req: &Request, config: &Config) -> Option<String> {
    crate::ratelimit::request_ip(req, config).ok()
}

/// The `User-Agent` header, if any (the audit layer truncates it).
pub fn user_agent(req: &Request) -> Option<String> {
    header(req, "user-agent")
}
