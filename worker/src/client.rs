//! Facts about the client that sent a request: its IP and user agent.
//!
//! The IP comes from `CF-Connecting-IP` only, which Cloudflare sets and a
//! client cannot; `X-Forwarded-For` and `True-Client-IP` are client-forgeable
//! and never read. Under `wrangler dev` there is no such header: the
//! loopback address stands in.

use crate::pipeline::header;
use worker::Request;

/// The address used when the runtime names none (`wrangler dev`).
const LOOPBACK: &str = "127.0.0.1";

/// The client IP (SPEC §8).
pub fn ip(req: &Request) -> String {
    header(req, "cf-connecting-ip")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or_else(|| LOOPBACK.to_owned())
}

/// The `User-Agent` header, if any (the audit layer truncates it).
pub fn user_agent(req: &Request) -> Option<String> {
    header(req, "user-agent")
}
