//! The adaptive penalty (SPEC §8): an entity that is refused repeatedly gets
//! divided limits for a while. The penalty lives in the bucket's own state, so
//! the `RateLimiter` object that refuses is the one that remembers.

use super::gcra::{check, Decision, GcraState, Limit};
use serde::{Deserialize, Serialize};

/// When and how hard repeated refusals are penalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdaptivePolicy {
    /// Refusals within [`refusal_window_ms`](Self::refusal_window_ms) that
    /// start a penalty; 0 disables the penalty.
    pub refusal_threshold: u32,
    /// The window refusals are counted in.
    pub refusal_window_ms: u64,
    /// How long a penalty lasts.
    pub penalty_ms: u64,
    /// The limit's count is divided by this while penalised (never below 1).
    pub divisor: u32,
}

impl AdaptivePolicy {
    /// SPEC §8: 3 refusals within 10 minutes halve the limit for one hour.
    pub const SPEC: Self = Self {
        refusal_threshold: 3,
        refusal_window_ms: 10 * 60_000,
        penalty_ms: 60 * 60_000,
        divisor: 2,
    };

    /// No penalty ever (IP buckets, and buckets the caller does not adapt).
    pub const OFF: Self = Self {
        refusal_threshold: 0,
        refusal_window_ms: 0,
        penalty_ms: 0,
        divisor: 1,
    };

    fn enabled(&self) -> bool {
        self.refusal_threshold > 0
    }
}

impl Default for AdaptivePolicy {
    fn default() -> Self {
        Self::SPEC
    }
}

/// Everything one `RateLimiter` stores for its key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimiterState {
    /// The GCRA state (`None`: full bucket).
    #[serde(default)]
    pub gcra: Option<GcraState>,
    /// Unix ms of recent refusals, oldest first, at most the policy's
    /// threshold of them, none older than its window.
    #[serde(default)]
    pub refusals_ms: Vec<u64>,
    /// While `now` is before this, the limit is divided.
    #[serde(default)]
    pub penalized_until_ms: Option<u64>,
}

impl LimiterState {
    /// Whether a penalty is in force at `now_ms`.
    pub fn is_penalized(&self, now_ms: u64) -> bool {
        self.penalized_until_ms.is_some_and(|until| now_ms < until)
    }

    /// The unix ms from which this state behaves exactly like a fresh one
    /// (full bucket, no penalty, no refusal still counted): the limiter may
    /// delete it then (its cleanup alarm).
    pub fn idle_at_ms(&self, policy: &AdaptivePolicy) -> u64 {
        let full = self.gcra.map_or(0, |g| g.full_at_ms());
        let penalty = self.penalized_until_ms.unwrap_or(0);
        let refusals = self
            .refusals_ms
            .last()
            .map_or(0, |t| t.saturating_add(policy.refusal_window_ms));
        full.max(penalty).max(refusals)
    }
}

/// One admission decision with the adaptive penalty: the limit in force is
/// `base_limit`, or `base_limit` divided by `policy.divisor` while penalised.
/// A refusal is recorded; the `refusal_threshold`-th refusal within the window
/// starts a penalty of `penalty_ms` (not extended by refusals during it, which
/// are still recorded, so sustained abuse is penalised again as soon as the
/// penalty ends). Returns the decision (its `limit` is the one in force) and
/// the state to store.
pub fn decide(
    state: LimiterState,
    base_limit: Limit,
    now_ms: u64,
    cost: u32,
    policy: &AdaptivePolicy,
) -> (Decision, LimiterState) {
    let mut next = state;
    if !next.is_penalized(now_ms) {
        next.penalized_until_ms = None;
    }
    let limit = if next.is_penalized(now_ms) {
        base_limit.divided(policy.divisor)
    } else {
        base_limit
    };
    let decision = check(next.gcra, limit, now_ms, cost);
    next.gcra = Some(decision.new_state);

    if !policy.enabled() {
        next.refusals_ms.clear();
        return (decision, next);
    }
    let horizon = now_ms.saturating_sub(policy.refusal_window_ms);
    next.refusals_ms.retain(|&t| t > horizon && t <= now_ms);
    if !decision.allowed {
        next.refusals_ms.push(now_ms);
        let threshold = policy.refusal_threshold as usize;
        if next.refusals_ms.len() > threshold {
            let excess = next.refusals_ms.len() - threshold;
            next.refusals_ms.drain(..excess);
        }
        if next.refusals_ms.len() >= threshold && !next.is_penalized(now_ms) {
            next.penalized_until_ms = Some(now_ms.saturating_add(policy.penalty_ms));
            next.refusals_ms.clear();
        }
    }
    (decision, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_at_covers_every_part() {
        let policy = AdaptivePolicy::SPEC;
        let s = LimiterState {
            gcra: Some(GcraState {
                tat_ms: 100,
                ..Default::default()
            }),
            refusals_ms: vec![50],
            penalized_until_ms: Some(90),
        };
        assert_eq!(s.idle_at_ms(&policy), 50 + 600_000);
        assert_eq!(LimiterState::default().idle_at_ms(&policy), 0);
    }

    #[test]
    fn off_policy_never_penalises() {
        let limit = Limit::new(1, 1000).unwrap();
        let mut s = LimiterState::default();
        for _ in 0..10 {
            let (_, next) = decide(s, limit, 0, 1, &AdaptivePolicy::OFF);
            s = next;
        }
        assert_eq!(s.penalized_until_ms, None);
        assert!(s.refusals_ms.is_empty());
    }
}
