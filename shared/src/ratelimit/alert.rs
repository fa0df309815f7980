//! Failed-login alerting (SPEC §8): five failed logins for one account or one
//! IP within 15 minutes emit one `security.alert.auth_failures` audit event —
//! once per window, not once per failure.

use super::limits::Subject;
use serde::{Deserialize, Serialize};

/// How many failures within which window raise an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertPolicy {
    /// Failures that raise an alert (at least 1).
    pub threshold: u32,
    /// The window they are counted in, and the quiet time after an alert.
    pub window_ms: u64,
}

impl AlertPolicy {
    /// SPEC §8: 5 failures within 15 minutes.
    pub const SPEC: Self = Self {
        threshold: 5,
        window_ms: 15 * 60_000,
    };
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self::SPEC
    }
}

/// The failed-login state of one account or IP.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedLoginTracker {
    /// Unix ms of recent failures, oldest first: at most `threshold` of them,
    /// none older than the window.
    #[serde(default)]
    pub failures_ms: Vec<u64>,
    /// Unix ms of the last alert raised.
    #[serde(default)]
    pub last_alert_ms: Option<u64>,
}

impl FailedLoginTracker {
    /// The unix ms after which this state is indistinguishable from a fresh
    /// one and may be deleted.
    pub fn idle_at_ms(&self, policy: &AlertPolicy) -> u64 {
        let last_failure = self.failures_ms.last().copied();
        last_failure
            .max(self.last_alert_ms)
            .map_or(0, |t| t.saturating_add(policy.window_ms))
    }
}

/// Record one failed login at `now_ms`. Returns the state to store and whether
/// to emit the alert: true when this failure makes `threshold` failures within
/// the trailing window and no alert was raised in the last window. A sustained
/// attack therefore raises one alert per window.
pub fn record_failure(
    state: FailedLoginTracker,
    now_ms: u64,
    policy: &AlertPolicy,
) -> (FailedLoginTracker, bool) {
    let mut next = state;
    let threshold = policy.threshold.max(1) as usize;
    let horizon = now_ms.saturating_sub(policy.window_ms);
    next.failures_ms.retain(|&t| t > horizon && t <= now_ms);
    next.failures_ms.push(now_ms);
    if next.failures_ms.len() > threshold {
        let excess = next.failures_ms.len() - threshold;
        next.failures_ms.drain(..excess);
    }
    let quiet = next
        .last_alert_ms
        .is_none_or(|at| now_ms >= at.saturating_add(policy.window_ms) || now_ms < at);
    let alert = next.failures_ms.len() >= threshold && quiet;
    if alert {
        next.last_alert_ms = Some(now_ms);
    }
    (next, alert)
}

/// The storage key of the failed-login tracker of an account or IP:
/// `auth-failures:account:<email>` or `auth-failures:ip:<ip>`.
pub fn failed_login_key(subject: &Subject<'_>) -> String {
    format!("auth-failures:{}", subject.key_suffix())
}
