//! GCRA: the pure admission decision for one bucket.
//!
//! With limit L per period T the emission interval is `I = T/L` and the burst
//! tolerance `T − I`. The state is the theoretical arrival time (TAT): the
//! moment at which the bucket would be completely refilled. A request of cost
//! c at `now` moves the TAT to `max(TAT, now) + c·I` and is admitted when that
//! is at most `now + T`.
//!
//! `I` is usually fractional (60 000 ms / 7), so all arithmetic runs on
//! integers in units of `1/L` ms (`u128`, no overflow); the state keeps the
//! fractional millisecond exactly ([`GcraState::tat_frac`]).

use super::{RateLimitError, MINUTE_MS};
use serde::{Deserialize, Serialize};

/// A limit: `count` requests per `period_ms`, with a burst of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    /// Requests admitted per period (and the largest burst).
    pub count: u32,
    /// The period, in milliseconds.
    pub period_ms: u64,
}

impl Limit {
    /// A checked limit: `count ≥ 1` and `period_ms ≥ 1`.
    pub fn new(count: u32, period_ms: u64) -> Result<Self, RateLimitError> {
        if count == 0 {
            return Err(RateLimitError::ZeroCount);
        }
        if period_ms == 0 {
            return Err(RateLimitError::ZeroPeriod);
        }
        Ok(Self { count, period_ms })
    }

    /// `count` requests per minute.
    pub const fn per_minute(count: u32) -> Self {
        Self {
            count,
            period_ms: MINUTE_MS,
        }
    }

    /// The same period with `count / divisor` requests, never below 1 (the
    /// adaptive penalty). A divisor of 0 or 1 leaves the limit unchanged.
    pub const fn divided(self, divisor: u32) -> Self {
        if divisor <= 1 {
            return self;
        }
        let count = self.count / divisor;
        Self {
            count: if count == 0 { 1 } else { count },
            period_ms: self.period_ms,
        }
    }
}

/// The stored state of one bucket: its theoretical arrival time (TAT), the
/// instant at which the bucket is full again, as `tat_ms + tat_frac/frac_scale`
/// unix milliseconds.
///
/// `frac_scale` is the limit count the fraction was computed under (the
/// arithmetic runs in `1/count` ms). A state written under another count (a
/// tier change, the adaptive penalty) is converted rounding *up*, which can
/// only make the limiter stricter. A state with only `tat_ms` (`{"tatMs":…}`)
/// is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GcraState {
    /// Whole milliseconds of the TAT.
    pub tat_ms: u64,
    /// Fraction of a millisecond, in units of `1/frac_scale` (`< frac_scale`).
    #[serde(default)]
    pub tat_frac: u32,
    /// The denominator of `tat_frac` (0 means no fraction).
    #[serde(default)]
    pub frac_scale: u32,
}

impl GcraState {
    /// The TAT rounded up to whole milliseconds: from then on the bucket is
    /// full and the state may be forgotten.
    pub fn full_at_ms(&self) -> u64 {
        if self.tat_frac > 0 && self.frac_scale > 0 {
            self.tat_ms.saturating_add(1)
        } else {
            self.tat_ms
        }
    }

    /// The TAT in units of `1/scale` ms, rounded up when the stored fraction
    /// has another denominator.
    fn scaled(&self, scale: u128) -> u128 {
        let whole = u128::from(self.tat_ms) * scale;
        if self.tat_frac == 0 || self.frac_scale == 0 {
            return whole;
        }
        let stored_scale = u128::from(self.frac_scale);
        let frac = u128::from(self.tat_frac);
        if stored_scale == scale {
            whole + frac
        } else {
            whole + (frac * scale).div_ceil(stored_scale)
        }
    }

    fn from_scaled(tat: u128, scale: u128) -> Self {
        // `scale` is a u32 count, so the remainder fits; the whole part only
        // saturates past the year 584 million.
        Self {
            tat_ms: u64::try_from(tat / scale).unwrap_or(u64::MAX),
            tat_frac: u32::try_from(tat % scale).unwrap_or(0),
            frac_scale: u32::try_from(scale).unwrap_or(0),
        }
    }
}

/// The outcome of one admission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// The state to store (also after a refusal: it is normalised to `now`).
    pub new_state: GcraState,
    /// The limit this decision was made under (halved while penalised).
    pub limit: Limit,
    /// How many more cost-1 requests would be admitted right now.
    pub remaining: u32,
    /// Milliseconds until the bucket is full again (`remaining == limit.count`).
    pub reset_after_ms: u64,
    /// Unix milliseconds at which the bucket is full again.
    pub reset_at_ms: u64,
    /// Milliseconds to wait before this request could be admitted; 0 when
    /// admitted. A cost above the limit can never be admitted: it is refused
    /// with the period as its retry delay.
    pub retry_after_ms: u64,
}

impl Decision {
    /// `X-RateLimit-Reset`: seconds until the bucket is full, rounded up.
    pub fn reset_secs(&self) -> u64 {
        self.reset_after_ms.div_ceil(1000)
    }

    /// `Retry-After`: seconds to wait, rounded up, at least 1 when refused and
    /// 0 when admitted.
    pub fn retry_after_secs(&self) -> u64 {
        if self.allowed {
            0
        } else {
            self.retry_after_ms.div_ceil(1000).max(1)
        }
    }
}

/// Decide whether a request of `cost` at `now_ms` is admitted under `limit`,
/// given the stored `state` (`None`: a fresh, full bucket). Pure: the caller
/// stores [`Decision::new_state`].
///
/// A cost of 0 admits and only reports the bucket. A limit with a zero count
/// or period (not constructible through [`Limit::new`]) refuses everything.
/// A clock that steps backwards never admits more: the stored TAT stays.
pub fn check(state: Option<GcraState>, limit: Limit, now_ms: u64, cost: u32) -> Decision {
    let scale = u128::from(limit.count);
    let period = u128::from(limit.period_ms);
    if scale == 0 || period == 0 {
        return Decision {
            allowed: false,
            new_state: state.unwrap_or(GcraState {
                tat_ms: now_ms,
                ..GcraState::default()
            }),
            limit,
            remaining: 0,
            reset_after_ms: limit.period_ms,
            reset_at_ms: now_ms.saturating_add(limit.period_ms),
            retry_after_ms: limit.period_ms.max(1),
        };
    }

    // Everything below is in units of 1/L ms: one request advances the TAT by
    // exactly `period` units (T/L ms), and the burst window is `period·L`.
    let now = u128::from(now_ms) * scale;
    let window = period * scale;
    let tat = state.map_or(now, |s| s.scaled(scale)).max(now);
    let candidate = tat + period * u128::from(cost);
    let allowed = candidate <= now + window;
    let tat_after = if allowed { candidate } else { tat };

    let headroom = (now + window).saturating_sub(tat_after);
    let remaining = u32::try_from((headroom / period).min(scale)).unwrap_or(limit.count);
    let reset_after_ms = to_ms_ceil(tat_after - now, scale);
    let retry_after_ms = if allowed {
        0
    } else if u128::from(cost) > scale {
        limit.period_ms
    } else {
        to_ms_ceil(candidate - window - now, scale)
    };

    Decision {
        allowed,
        new_state: GcraState::from_scaled(tat_after, scale),
        limit,
        remaining,
        reset_after_ms,
        reset_at_ms: now_ms.saturating_add(reset_after_ms),
        retry_after_ms,
    }
}

/// Scaled units back to whole milliseconds, rounded up.
fn to_ms_ceil(units: u128, scale: u128) -> u64 {
    u64::try_from(units.div_ceil(scale)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_bucket_reports_full_minus_one() {
        let d = check(None, Limit::per_minute(5), 1_000, 1);
        assert!(d.allowed);
        assert_eq!(d.remaining, 4);
        assert_eq!(d.reset_after_ms, 12_000);
        assert_eq!(d.reset_at_ms, 13_000);
        assert_eq!(d.retry_after_ms, 0);
    }

    #[test]
    fn fractional_interval_is_exact() {
        // 7 per minute: I = 8571.428… ms.
        let limit = Limit::per_minute(7);
        let mut state = None;
        for _ in 0..7 {
            let d = check(state, limit, 0, 1);
            assert!(d.allowed);
            state = Some(d.new_state);
        }
        assert_eq!(state.unwrap().tat_ms, 60_000);
        assert!(!check(state, limit, 0, 1).allowed);
        assert!(!check(state, limit, 8_571, 1).allowed);
        let d = check(state, limit, 8_572, 1);
        assert!(d.allowed);
        assert_eq!(d.new_state.full_at_ms(), 68_572);
    }

    #[test]
    fn state_from_another_scale_rounds_stricter() {
        // TAT 10.5 ms stored at scale 2, read at scale 3 → ceil(31.5)=32/3 ms.
        let s = GcraState {
            tat_ms: 10,
            tat_frac: 1,
            frac_scale: 2,
        };
        assert_eq!(s.scaled(3), 32);
        assert_eq!(s.scaled(2), 21);
        assert_eq!(s.full_at_ms(), 11);
    }

    #[test]
    fn oversized_cost_is_refused_with_the_period() {
        let d = check(None, Limit::per_minute(3), 0, 4);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 3);
        assert_eq!(d.retry_after_ms, 60_000);
    }

    #[test]
    fn zero_limit_refuses() {
        let d = check(
            None,
            Limit {
                count: 0,
                period_ms: 1000,
            },
            5,
            1,
        );
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs(), 1);
        assert!(Limit::new(0, 1).is_err());
        assert!(Limit::new(1, 0).is_err());
        assert_eq!(
            Limit::new(2, 3),
            Ok(Limit {
                count: 2,
                period_ms: 3
            })
        );
    }

    #[test]
    fn divided_never_reaches_zero() {
        assert_eq!(Limit::per_minute(5).divided(2).count, 2);
        assert_eq!(Limit::per_minute(1).divided(2).count, 1);
        assert_eq!(Limit::per_minute(9).divided(0).count, 9);
    }

    #[test]
    fn state_json_is_camel_case_and_tolerant() {
        let s: GcraState = serde_json::from_str(r#"{"tatMs":5}"#).unwrap();
        assert_eq!(
            s,
            GcraState {
                tat_ms: 5,
                tat_frac: 0,
                frac_scale: 0
            }
        );
    }
}
