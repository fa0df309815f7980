//! GCRA (SPEC §8) with an injected clock: exact bursts, exact recovery, the
//! windowed admission bound, and consistent `remaining`.
//!
//! GCRA with limit L per period T admits a burst of L and then one request per
//! T/L. So the bound over a window of length Δ is `L + floor(Δ·L/T)` (which is
//! `2L − 1` for a half-open window of length T); "at most L in every window of
//! length T" would contradict the refill and is not what GCRA promises.

use agentgate_shared::ratelimit::{check, Decision, GcraState, Limit};
use proptest::prelude::*;

/// Runs `times` (non-decreasing unix ms) through one bucket, cost 1 each.
fn run(limit: Limit, times: &[u64]) -> Vec<(u64, Decision)> {
    let mut state: Option<GcraState> = None;
    times
        .iter()
        .map(|&t| {
            let d = check(state, limit, t, 1);
            state = Some(d.new_state);
            (t, d)
        })
        .collect()
}

fn admitted(decisions: &[(u64, Decision)]) -> Vec<u64> {
    decisions
        .iter()
        .filter(|(_, d)| d.allowed)
        .map(|&(t, _)| t)
        .collect()
}

/// Arbitrary limits (fractional intervals included) and request times built
/// from gaps relative to the interval, so bursts, steady streams and idle
/// periods all occur.
fn scenario() -> impl Strategy<Value = (Limit, Vec<u64>)> {
    (1u32..=20, 1u64..=120_000).prop_flat_map(|(count, period_ms)| {
        let interval = (period_ms / u64::from(count)).max(1);
        let gap = prop_oneof![
            3 => Just(0u64),
            3 => 0..=interval,
            2 => 0..=(2 * interval),
            1 => 0..=(3 * period_ms),
        ];
        (
            Just(Limit::new(count, period_ms).unwrap()),
            (0u64..=10u64.pow(12), prop::collection::vec(gap, 1..160)),
        )
            .prop_map(|(limit, (start, gaps))| {
                let times = gaps
                    .iter()
                    .scan(start, |t, g| {
                        *t += g;
                        Some(*t)
                    })
                    .collect();
                (limit, times)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Over any window [t_j, t_k] the admitted count is at most
    /// L + floor((t_k − t_j)·L/T).
    #[test]
    fn never_admits_more_than_the_gcra_bound((limit, times) in scenario()) {
        let ok = admitted(&run(limit, &times));
        let l = u128::from(limit.count);
        let t = u128::from(limit.period_ms);
        for j in 0..ok.len() {
            for k in j..ok.len() {
                let n = (k - j + 1) as u128;
                let span = u128::from(ok[k] - ok[j]);
                prop_assert!(
                    n <= l + span * l / t,
                    "{n} admitted within {span} ms under {limit:?}"
                );
            }
        }
    }

    /// The same bound for sliding windows of length T: at most 2L − 1 in any
    /// half-open window [a, a + T), and at most L in any window shorter than
    /// the interval T/L.
    #[test]
    fn sliding_window_of_one_period((limit, times) in scenario()) {
        let ok = admitted(&run(limit, &times));
        let l = limit.count as usize;
        let short = u128::from(limit.period_ms).div_ceil(u128::from(limit.count)) as u64;
        for (j, &start) in ok.iter().enumerate() {
            let in_period = ok[j..].iter().take_while(|&&x| x < start + limit.period_ms).count();
            prop_assert!(in_period < 2 * l, "{in_period} in one period under {limit:?}");
            let in_interval = ok[j..].iter().take_while(|&&x| x < start + short).count();
            prop_assert!(in_interval <= l, "{in_interval} within one interval under {limit:?}");
        }
    }

    /// A fresh bucket admits exactly L at one instant, then refuses.
    #[test]
    fn admits_exactly_l_from_a_fresh_bucket(count in 1u32..=200, period_ms in 1u64..=3_600_000, now in 0u64..=10u64.pow(13), extra in 1usize..50) {
        let limit = Limit::new(count, period_ms).unwrap();
        let times = vec![now; count as usize + extra];
        let decisions = run(limit, &times);
        prop_assert_eq!(admitted(&decisions).len(), count as usize);
        prop_assert!(decisions[..count as usize].iter().all(|(_, d)| d.allowed));
        for (_, d) in &decisions[count as usize..] {
            prop_assert!(!d.allowed);
            prop_assert_eq!(d.remaining, 0);
            prop_assert!(d.retry_after_ms >= 1);
        }
    }

    /// After draining, nothing until ceil(T/L) ms later, then exactly one
    /// more; and k intervals later, k more.
    #[test]
    fn recovers_at_rate_l_per_t(count in 1u32..=100, period_ms in 1u64..=600_000, now in 0u64..=10u64.pow(12), k in 1u64..=5) {
        let limit = Limit::new(count, period_ms).unwrap();
        let mut state = None;
        for _ in 0..count {
            let d = check(state, limit, now, 1);
            prop_assert!(d.allowed);
            state = Some(d.new_state);
        }
        let refill_ms = |n: u64| (u128::from(n) * u128::from(period_ms)).div_ceil(u128::from(count)) as u64;
        let one = refill_ms(1);
        let early = check(state, limit, now + one - 1, 1);
        prop_assert!(!early.allowed);
        prop_assert_eq!(early.retry_after_ms, 1);
        let on_time = check(state, limit, now + one, 1);
        prop_assert!(on_time.allowed);
        prop_assert!(!check(Some(on_time.new_state), limit, now + one, 1).allowed);

        // k intervals after the burst: exactly k more (capped at L).
        let later = now + refill_ms(k);
        let mut s = state;
        let mut got = 0u64;
        while got <= u64::from(count) {
            let d = check(s, limit, later, 1);
            if !d.allowed { break; }
            s = Some(d.new_state);
            got += 1;
        }
        prop_assert_eq!(got, k.min(u64::from(count)));
    }

    /// `remaining` after any decision is exactly the number of further cost-1
    /// requests admitted at that instant; `reset_after_ms` is when the bucket
    /// is full again; a refusal's `retry_after_ms` is exact.
    #[test]
    fn remaining_and_timings_are_consistent((limit, times) in scenario()) {
        let mut state: Option<GcraState> = None;
        for &t in &times {
            let d = check(state, limit, t, 1);
            prop_assert!(d.remaining <= limit.count);
            prop_assert_eq!(d.reset_at_ms, t + d.reset_after_ms);

            let mut probe = Some(d.new_state);
            let mut more = 0u32;
            loop {
                let p = check(probe, limit, t, 1);
                if !p.allowed { break; }
                probe = Some(p.new_state);
                more += 1;
                prop_assert!(more <= limit.count);
            }
            prop_assert_eq!(more, d.remaining);

            let full = check(Some(d.new_state), limit, t + d.reset_after_ms, 0);
            prop_assert_eq!(full.remaining, limit.count);
            if d.allowed {
                prop_assert_eq!(d.retry_after_ms, 0);
            } else {
                prop_assert!(d.retry_after_ms >= 1);
                prop_assert!(!check(state, limit, t + d.retry_after_ms - 1, 1).allowed);
                prop_assert!(check(state, limit, t + d.retry_after_ms, 1).allowed);
            }
            state = Some(d.new_state);
        }
    }
}

#[test]
fn five_per_minute_login_flood() {
    // SPEC §8 sensitive bucket: 50 attempts at one instant → exactly 5.
    let limit = Limit::per_minute(5);
    let decisions = run(limit, &[1_700_000_000_000; 50]);
    assert_eq!(admitted(&decisions).len(), 5);
    let refused = &decisions[5].1;
    assert_eq!(refused.retry_after_ms, 12_000);
    assert_eq!(refused.retry_after_secs(), 12);
    assert_eq!(refused.reset_secs(), 60);
    assert_eq!(refused.limit, limit);
}

#[test]
fn cost_larger_than_one() {
    let limit = Limit::per_minute(10);
    let d = check(None, limit, 0, 4);
    assert!(d.allowed);
    assert_eq!(d.remaining, 6);
    let d = check(Some(d.new_state), limit, 0, 7);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 6, "a refusal consumes nothing");
    assert_eq!(d.retry_after_ms, 6_000);
}

#[test]
fn zero_cost_only_reports() {
    let limit = Limit::per_minute(3);
    let d = check(None, limit, 100, 0);
    assert!(d.allowed);
    assert_eq!(d.remaining, 3);
    assert_eq!(d.reset_after_ms, 0);
}

#[test]
fn a_clock_stepping_back_admits_nothing_extra() {
    let limit = Limit::per_minute(2);
    let times = [100_000, 100_000];
    let decisions = run(limit, &times);
    let state = decisions[1].1.new_state;
    assert!(!check(Some(state), limit, 40_000, 1).allowed);
    assert!(!check(Some(state), limit, 100_000, 1).allowed);
}

#[test]
fn limit_change_keeps_the_tat() {
    // Drained at 10/min, then read at 5/min (the adaptive penalty): the bucket
    // is still empty and refills at the slower rate.
    let fast = Limit::per_minute(10);
    let decisions = run(fast, &[0; 10]);
    let state = decisions[9].1.new_state;
    assert_eq!(state.full_at_ms(), 60_000);
    let slow = Limit::per_minute(5);
    assert!(!check(Some(state), slow, 0, 1).allowed);
    assert!(!check(Some(state), slow, 11_999, 1).allowed);
    assert!(check(Some(state), slow, 12_000, 1).allowed);
}
