//! What the worker (and a `ChannelRoom`) say to a `RateLimiter` (SPEC §8):
//! JSON over internal `fetch` requests to the instance named by the bucket key
//! (`agentgate_shared::ratelimit::bucket_key`). The limiter reads its own
//! clock; callers send only the limit, the cost and the policy.

use agentgate_shared::ratelimit::{AdaptivePolicy, AlertPolicy, Limit, RateLimitHeaders};
use serde::{Deserialize, Serialize};

/// The DO namespace binding of the limiters (wrangler.toml).
pub const RATE_LIMITER_BINDING: &str = "RATE_LIMITER";

/// Internal paths (the host part of the URL is irrelevant).
pub const PATH_CHECK: &str = "/check";
pub const PATH_FAILED_LOGIN: &str = "/failed-login";

/// Admit a request of `cost` under `limit`, with the adaptive `policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckRequest {
    pub limit: Limit,
    pub cost: u32,
    pub adaptive: WireAdaptivePolicy,
}

/// [`AdaptivePolicy`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAdaptivePolicy {
    pub refusal_threshold: u32,
    pub refusal_window_ms: u64,
    pub penalty_ms: u64,
    pub divisor: u32,
}

impl From<AdaptivePolicy> for WireAdaptivePolicy {
    fn from(p: AdaptivePolicy) -> Self {
        Self {
            refusal_threshold: p.refusal_threshold,
            refusal_window_ms: p.refusal_window_ms,
            penalty_ms: p.penalty_ms,
            divisor: p.divisor,
        }
    }
}

impl From<WireAdaptivePolicy> for AdaptivePolicy {
    fn from(p: WireAdaptivePolicy) -> Self {
        Self {
            refusal_threshold: p.refusal_threshold,
            refusal_window_ms: p.refusal_window_ms,
            penalty_ms: p.penalty_ms,
            divisor: p.divisor,
        }
    }
}

/// The limiter's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResponse {
    pub allowed: bool,
    /// The limit in force (halved while penalised).
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full.
    pub reset_secs: u64,
    /// Seconds to wait; present only when refused.
    pub retry_after_secs: Option<u64>,
}

impl CheckResponse {
    /// The response headers of this decision.
    pub fn headers(&self) -> RateLimitHeaders {
        RateLimitHeaders {
            limit: self.limit,
            remaining: self.remaining,
            reset_secs: self.reset_secs,
            retry_after_secs: if self.allowed {
                None
            } else {
                Some(self.retry_after_secs.unwrap_or(1).max(1))
            },
        }
    }
}

impl From<&RateLimitHeaders> for CheckResponse {
    fn from(h: &RateLimitHeaders) -> Self {
        Self {
            allowed: h.retry_after_secs.is_none(),
            limit: h.limit,
            remaining: h.remaining,
            reset_secs: h.reset_secs,
            retry_after_secs: h.retry_after_secs,
        }
    }
}

/// Record one failed login for the account or IP this limiter is named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedLoginRequest {
    pub threshold: u32,
    pub window_ms: u64,
}

impl From<AlertPolicy> for FailedLoginRequest {
    fn from(p: AlertPolicy) -> Self {
        Self {
            threshold: p.threshold,
            window_ms: p.window_ms,
        }
    }
}

impl From<FailedLoginRequest> for AlertPolicy {
    fn from(r: FailedLoginRequest) -> Self {
        Self {
            threshold: r.threshold,
            window_ms: r.window_ms,
        }
    }
}

/// Whether this failure raises the alert (once per window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedLoginResponse {
    pub alert: bool,
}

/// The `ws-message` limit a room applies to one socket's frames (SPEC §8),
/// stated by the worker in the socket's join statement (`room_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketMessageLimit {
    pub check: CheckRequest,
    /// `RATE_LIMIT_FAIL_OPEN`: admit frames when the limiter can't be reached.
    pub fail_open: bool,
}

impl SocketMessageLimit {
    /// SPEC §8 exactly (30 per minute per entity, adaptive, fail closed): what
    /// a join statement that names no limit gets.
    pub fn spec() -> Self {
        use agentgate_shared::ratelimit::{LimitTable, Tier};
        use agentgate_shared::routes::RateBucket;
        Self {
            check: CheckRequest {
                limit: LimitTable::SPEC.limit_for(RateBucket::WsMessage, Tier::Standard),
                cost: 1,
                adaptive: AdaptivePolicy::SPEC.into(),
            },
            fail_open: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentgate_shared::ratelimit::{check, Limit};

    #[test]
    fn decisions_survive_the_wire() {
        let limit = Limit::per_minute(2);
        let admitted = check(None, limit, 0, 1);
        let first = admitted.new_state;
        let refused = check(Some(check(Some(first), limit, 0, 1).new_state), limit, 0, 1);
        for decision in [admitted, refused] {
            let headers = RateLimitHeaders::from_decision(&decision);
            let wire: CheckResponse = serde_json::from_str(
                &serde_json::to_string(&CheckResponse::from(&headers)).unwrap(),
            )
            .unwrap();
            assert_eq!(wire.allowed, decision.allowed);
            assert_eq!(wire.headers(), headers);
        }
        assert_eq!(
            RateLimitHeaders::from_decision(&refused).retry_after_secs,
            Some(30)
        );
    }

    #[test]
    fn policies_survive_the_wire() {
        let p = AdaptivePolicy::SPEC;
        assert_eq!(AdaptivePolicy::from(WireAdaptivePolicy::from(p)), p);
        let a = AlertPolicy::SPEC;
        assert_eq!(AlertPolicy::from(FailedLoginRequest::from(a)), a);
        let spec = SocketMessageLimit::spec();
        assert_eq!(spec.check.limit, Limit::per_minute(30));
        assert!(!spec.fail_open);
    }
}
