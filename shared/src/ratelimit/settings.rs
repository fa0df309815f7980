//! The deployment's rate-limit settings: the SPEC §8 table with the
//! configured period, the adaptive penalty, the failed-login alert policy, and
//! whether limiting is on at all (off only in development, for the benchmark).
//! Parsed once by `config::Config::from_lookup`.

use super::adaptive::AdaptivePolicy;
use super::alert::AlertPolicy;
use super::gcra::Limit;
use super::limits::LimitTable;
use super::MINUTE_MS;

/// Everything the worker needs to enforce SPEC §8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// False only with `RATE_LIMIT_DISABLED=true` in development (the
    /// benchmark's baseline); production always limits.
    pub enabled: bool,
    /// The limits in force (the SPEC table, possibly with another period).
    pub limits: LimitTable,
    /// The adaptive penalty of entity buckets (IP buckets never adapt).
    pub adaptive: AdaptivePolicy,
    /// Failed-login alerting.
    pub alert: AlertPolicy,
}

impl RateLimitSettings {
    /// SPEC §8 exactly: per-minute limits, halving for an hour.
    pub const SPEC: Self = Self {
        enabled: true,
        limits: LimitTable::SPEC,
        adaptive: AdaptivePolicy::SPEC,
        alert: AlertPolicy::SPEC,
    };

    /// The SPEC counts over `period_ms` instead of one minute, and the adaptive
    /// penalty lasting `penalty_ms`. Zero values are treated as 1 ms.
    pub fn with_timing(period_ms: u64, penalty_ms: u64) -> Self {
        let mut s = Self::SPEC;
        s.limits = s.limits.with_period(period_ms.max(1));
        s.adaptive.penalty_ms = penalty_ms.max(1);
        s
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self::SPEC
    }
}

impl LimitTable {
    /// Every limit with the same count over `period_ms`.
    pub const fn with_period(self, period_ms: u64) -> Self {
        const fn p(l: Limit, period_ms: u64) -> Limit {
            Limit {
                count: l.count,
                period_ms,
            }
        }
        Self {
            sensitive: p(self.sensitive, period_ms),
            auth: p(self.auth, period_ms),
            api_standard: p(self.api_standard, period_ms),
            api_premium: p(self.api_premium, period_ms),
            api_admin: p(self.api_admin, period_ms),
            agent_read: p(self.agent_read, period_ms),
            agent_write: p(self.agent_write, period_ms),
            memory_read: p(self.memory_read, period_ms),
            memory_write: p(self.memory_write, period_ms),
            messaging_send: p(self.messaging_send, period_ms),
            messaging_read: p(self.messaging_read, period_ms),
            system_read: p(self.system_read, period_ms),
            system_write: p(self.system_write, period_ms),
            ws_connect: p(self.ws_connect, period_ms),
            ws_message: p(self.ws_message, period_ms),
        }
    }
}

/// The default period (`RATE_LIMIT_PERIOD_MS` unset).
pub const DEFAULT_PERIOD_MS: u64 = MINUTE_MS;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::Tier;
    use crate::routes::{Permission, RateBucket};

    #[test]
    fn with_timing_keeps_counts_and_changes_periods() {
        let s = RateLimitSettings::with_timing(2_000, 5_000);
        let cases = [
            (RateBucket::Sensitive, Tier::Standard, 5),
            (RateBucket::Auth, Tier::Standard, 20),
            (RateBucket::Api, Tier::Admin, 1000),
            (
                RateBucket::Category(Permission::MessagingSend),
                Tier::Standard,
                50,
            ),
            (RateBucket::WsConnect, Tier::Standard, 10),
            (RateBucket::WsMessage, Tier::Standard, 30),
        ];
        for (bucket, tier, count) in cases {
            let l = s.limits.limit_for(bucket, tier);
            assert_eq!((l.count, l.period_ms), (count, 2_000), "{bucket:?}");
        }
        assert_eq!(s.adaptive.penalty_ms, 5_000);
        assert_eq!(s.adaptive.refusal_threshold, 3);
        assert_eq!(RateLimitSettings::default(), RateLimitSettings::SPEC);
        assert_eq!(
            RateLimitSettings::with_timing(DEFAULT_PERIOD_MS, 3_600_000),
            RateLimitSettings::SPEC
        );
    }
}
