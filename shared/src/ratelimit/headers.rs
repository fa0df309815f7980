//! The rate-limit response headers (SPEC §8).

use super::gcra::Decision;

/// `X-RateLimit-Limit`: the limit in force (halved while penalised).
pub const HEADER_LIMIT: &str = "X-RateLimit-Limit";
/// `X-RateLimit-Remaining`: requests still admitted now.
pub const HEADER_REMAINING: &str = "X-RateLimit-Remaining";
/// `X-RateLimit-Reset`: whole seconds (rounded up) until the bucket is full.
pub const HEADER_RESET: &str = "X-RateLimit-Reset";
/// `Retry-After`: whole seconds (rounded up, at least 1) before retrying.
pub const HEADER_RETRY_AFTER: &str = "Retry-After";

/// The header values of one decision. Every limited response carries the
/// three `X-RateLimit-*` headers; a refusal (429) also `Retry-After` and the
/// body field `retryAfter` with the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset`, seconds.
    pub reset_secs: u64,
    /// `Retry-After`, seconds; `Some` only when refused.
    pub retry_after_secs: Option<u64>,
}

impl RateLimitHeaders {
    /// The header values of `decision`.
    pub fn from_decision(decision: &Decision) -> Self {
        Self {
            limit: decision.limit.count,
            remaining: decision.remaining,
            reset_secs: decision.reset_secs(),
            retry_after_secs: (!decision.allowed).then(|| decision.retry_after_secs()),
        }
    }

    /// `(name, value)` pairs, `Retry-After` last and only when refused.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (HEADER_LIMIT, self.limit.to_string()),
            (HEADER_REMAINING, self.remaining.to_string()),
            (HEADER_RESET, self.reset_secs.to_string()),
        ];
        if let Some(retry) = self.retry_after_secs {
            pairs.push((HEADER_RETRY_AFTER, retry.to_string()));
        }
        pairs
    }
}
