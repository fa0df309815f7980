//! Rate limiting (SPEC §8), sans-IO: the stored state, the limit, `now` and the
//! request's cost come in; a decision and the new state come out. The
//! `RateLimiter` Durable Object (one per [bucket key](bucket_key)) stores the
//! state and serializes requests, so N concurrent requests against a limit L
//! admit exactly min(N, L).
//!
//! # Time
//! Every time in this module is **unix milliseconds** (`u64`), named `*_ms`.
//! Header values ([`RateLimitHeaders`]) are whole seconds, rounded up.
//!
//! # Pieces
//! - [`check`]: GCRA (generic cell rate algorithm): one theoretical arrival
//!   time per key, limit L per period T with burst L. Exact: the arithmetic is
//!   integer, in units of `1/L` ms, so no rounding ever admits an extra request.
//! - [`decide`]: GCRA plus the adaptive penalty (an entity refused 3 times in
//!   10 minutes gets halved limits for an hour), state in [`LimiterState`].
//! - [`limit_for`] / [`LimitTable`]: the SPEC §8 limits as data, by tier.
//! - [`bucket_key`]: the Durable Object name of a bucket and subject.
//! - [`FailedLoginTracker`]: five failed logins in 15 minutes raise one
//!   `security.alert.auth_failures` alert per window.
//! - [`RateLimitHeaders`]: `X-RateLimit-*` and `Retry-After` values.
//! - [`RateLimitSettings`]: the configured table, penalty and alert policy.
//! - [`counted_by`], [`tier_for`], [`client_ip`], [`tightest`]: which subject
//!   a bucket counts, the caller's tier, the client IP, and the figures a
//!   response reports.
//!
//! # What GCRA guarantees (and what it cannot)
//! From a fresh key, exactly L requests are admitted at one instant; after
//! that, one more every T/L ms. Over any window of length Δ at most
//! `L + floor(Δ·L/T)` requests are admitted, so at most `2L − 1` in any window
//! of length T (a full burst at the start of the window plus the steady
//! refill). "Never more than L in any sliding window of length T" is *not*
//! a GCRA property: it contradicts refilling one request per T/L ms after a
//! burst. The property tests in `shared/tests/ratelimit_gcra.rs` check the
//! exact bounds above.

mod adaptive;
mod alert;
mod gcra;
mod headers;
mod limits;
mod plan;
mod settings;

pub use adaptive::{decide, AdaptivePolicy, LimiterState};
pub use alert::{failed_login_key, record_failure, AlertPolicy, FailedLoginTracker};
pub use gcra::{check, Decision, GcraState, Limit};
pub use headers::{
    RateLimitHeaders, HEADER_LIMIT, HEADER_REMAINING, HEADER_RESET, HEADER_RETRY_AFTER,
};
pub use limits::{bucket_key, limit_for, LimitTable, Subject, Tier};
pub use plan::{
    client_ip, counted_by, may_proceed_unlimited, platform_client_ip, tier_for, tightest,
    ClientIpError, Counted, CLIENT_IP_HEADER, DEV_CLIENT_IP_HEADER, DEV_LOOPBACK_IP,
};
pub use settings::{RateLimitSettings, DEFAULT_PERIOD_MS};

use crate::error::ErrorCode;

/// One minute in milliseconds: the period of every SPEC §8 limit.
pub const MINUTE_MS: u64 = 60_000;

/// Why a rate-limit value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// A limit must admit at least one request per period.
    #[error("a rate limit needs a count of at least 1")]
    ZeroCount,
    /// A limit's period must be at least 1 ms.
    #[error("a rate limit needs a period of at least 1 ms")]
    ZeroPeriod,
}

impl RateLimitError {
    /// These are configuration mistakes: the gateway is misconfigured.
    pub const fn code(self) -> ErrorCode {
        ErrorCode::Misconfigured
    }
}
