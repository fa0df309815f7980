//! Rate-limit policy (SPEC §8): the limits table, bucket keys, the adaptive
//! penalty, the failed-login alert and the header values, with an injected
//! clock and short configured durations.

use agentgate_shared::ratelimit::{
    bucket_key, check, decide, failed_login_key, limit_for, record_failure, AdaptivePolicy,
    AlertPolicy, FailedLoginTracker, Limit, LimitTable, LimiterState, RateLimitHeaders, Subject,
    Tier, MINUTE_MS,
};
use agentgate_shared::routes::{Permission, RateBucket};

#[test]
fn limits_table_matches_spec() {
    use Permission::*;
    use RateBucket::*;
    let per_min = |count| Limit {
        count,
        period_ms: MINUTE_MS,
    };
    let cases: &[(RateBucket, Tier, u32)] = &[
        (Sensitive, Tier::Standard, 5),
        (Sensitive, Tier::Admin, 5),
        (Auth, Tier::Standard, 20),
        (Auth, Tier::Premium, 20),
        (Api, Tier::Standard, 100),
        (Api, Tier::Premium, 200),
        (Api, Tier::Admin, 1000),
        (Category(AgentRead), Tier::Standard, 60),
        (Category(AgentWrite), Tier::Standard, 20),
        (Category(AgentCreate), Tier::Standard, 20),
        (Category(MemoryRead), Tier::Standard, 100),
        (Category(MemoryWrite), Tier::Standard, 30),
        (Category(MessagingSend), Tier::Standard, 50),
        (Category(MessagingSend), Tier::Admin, 50),
        (Category(MessagingRead), Tier::Standard, 200),
        (Category(SystemRead), Tier::Standard, 20),
        (Category(SystemWrite), Tier::Standard, 5),
        (Category(Admin), Tier::Standard, 5),
        (WsConnect, Tier::Standard, 10),
        (WsMessage, Tier::Standard, 30),
    ];
    for &(bucket, tier, count) in cases {
        assert_eq!(
            limit_for(bucket, tier),
            per_min(count),
            "{bucket:?} {tier:?}"
        );
        assert_eq!(
            LimitTable::default().limit_for(bucket, tier),
            per_min(count)
        );
    }
    let custom = LimitTable {
        sensitive: Limit::per_minute(2),
        ..LimitTable::SPEC
    };
    assert_eq!(custom.limit_for(Sensitive, Tier::Standard).count, 2);
}

#[test]
fn bucket_keys() {
    use RateBucket::*;
    let ip = Subject::Ip("1.2.3.4");
    let v6 = Subject::Ip("::1");
    let entity = Subject::Entity("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    let cases: &[(RateBucket, Subject<'_>, &str)] = &[
        (Sensitive, ip, "sensitive:ip:1.2.3.4"),
        (Auth, ip, "auth:ip:1.2.3.4"),
        (
            Api,
            entity,
            "api:entity:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ),
        (
            Category(Permission::AgentRead),
            entity,
            "cat:agent:read:entity:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ),
        (WsConnect, v6, "ws-connect:ip:::1"),
        (
            WsConnect,
            entity,
            "ws-connect:entity:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ),
        (
            WsMessage,
            entity,
            "ws-message:entity:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ),
    ];
    for (bucket, subject, key) in cases {
        assert_eq!(bucket_key(*bucket, subject), *key);
    }
    assert_eq!(
        failed_login_key(&Subject::Account("alice@example.com")),
        "auth-failures:account:alice@example.com"
    );
    assert_eq!(failed_login_key(&ip), "auth-failures:ip:1.2.3.4");
}

/// Short durations: 3 refusals within 1 s start a 5 s penalty halving the limit.
const FAST: AdaptivePolicy = AdaptivePolicy {
    refusal_threshold: 3,
    refusal_window_ms: 1_000,
    penalty_ms: 5_000,
    divisor: 2,
};

fn hammer(mut state: LimiterState, limit: Limit, now: u64, n: usize) -> (LimiterState, Vec<bool>) {
    let mut outcomes = Vec::new();
    for _ in 0..n {
        let (d, next) = decide(state, limit, now, 1, &FAST);
        outcomes.push(d.allowed);
        state = next;
    }
    (state, outcomes)
}

#[test]
fn adaptive_penalty_starts_halves_and_expires() {
    let limit = Limit::new(4, 1_000).unwrap();
    // 4 admitted, then 3 refusals in the same instant: penalised.
    let (state, outcomes) = hammer(LimiterState::default(), limit, 10_000, 7);
    assert_eq!(outcomes, [true, true, true, true, false, false, false]);
    assert_eq!(state.penalized_until_ms, Some(15_000));
    assert!(state.is_penalized(14_999));
    assert!(state.refusals_ms.is_empty());

    // While penalised the limit in force is 2 (reported in the decision).
    let (d, _) = decide(state.clone(), limit, 12_000, 1, &FAST);
    assert_eq!(d.limit.count, 2);
    let (_, outcomes) = hammer(state.clone(), limit, 12_000, 3);
    assert_eq!(outcomes, [true, true, false]);

    // After the penalty: the full limit again.
    let (d, after) = decide(state.clone(), limit, 15_000, 1, &FAST);
    assert_eq!(d.limit.count, 4);
    assert_eq!(after.penalized_until_ms, None);
    let (_, outcomes) = hammer(state, limit, 15_000, 5);
    assert_eq!(outcomes, [true, true, true, true, false]);
}

#[test]
fn refusals_spread_beyond_the_window_do_not_penalise() {
    let limit = Limit::new(1, 10_000).unwrap();
    let mut state = LimiterState::default();
    // One admitted, then one refusal every 600 ms: never 3 within 1 s.
    for (i, t) in [0u64, 100, 700, 1_300, 1_900, 2_500]
        .into_iter()
        .enumerate()
    {
        let (d, next) = decide(state, limit, t, 1, &FAST);
        assert_eq!(d.allowed, i == 0);
        state = next;
        assert_eq!(state.penalized_until_ms, None, "at {t}");
        assert!(state.refusals_ms.len() <= 2);
    }
}

#[test]
fn spec_policy_is_three_in_ten_minutes_for_an_hour() {
    assert_eq!(AdaptivePolicy::default(), AdaptivePolicy::SPEC);
    assert_eq!(AdaptivePolicy::SPEC.refusal_threshold, 3);
    assert_eq!(AdaptivePolicy::SPEC.refusal_window_ms, 600_000);
    assert_eq!(AdaptivePolicy::SPEC.penalty_ms, 3_600_000);
    let limit = limit_for(
        RateBucket::Category(Permission::MessagingSend),
        Tier::Standard,
    );
    let mut state = LimiterState::default();
    let start = 1_700_000_000_000;
    for i in 0..53u64 {
        let (_, next) = decide(state, limit, start + i, 1, &AdaptivePolicy::SPEC);
        state = next;
    }
    assert_eq!(state.penalized_until_ms, Some(start + 52 + 3_600_000));
    let (d, _) = decide(
        state.clone(),
        limit,
        start + 3_599_000,
        1,
        &AdaptivePolicy::SPEC,
    );
    assert_eq!(d.limit.count, 25);
    assert!(state.idle_at_ms(&AdaptivePolicy::SPEC) >= start + 52 + 3_600_000);
}

#[test]
fn limiter_state_survives_json() {
    let limit = Limit::new(2, 1_000).unwrap();
    let (state, _) = hammer(LimiterState::default(), limit, 5, 5);
    let json = serde_json::to_string(&state).unwrap();
    let back: LimiterState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
    let empty: LimiterState = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, LimiterState::default());
}

#[test]
fn failed_login_alert_once_per_window() {
    let policy = AlertPolicy::SPEC;
    assert_eq!(policy.threshold, 5);
    assert_eq!(policy.window_ms, 900_000);
    let start = 1_000_000u64;
    let mut state = FailedLoginTracker::default();
    let mut alerts = Vec::new();
    // 12 failures one minute apart: the 5th alerts; the rest of that window
    // is quiet; the first failure 15 minutes after the alert alerts again.
    for i in 0..20u64 {
        let (next, alert) = record_failure(state, start + i * 60_000, &policy);
        state = next;
        if alert {
            alerts.push(i);
        }
    }
    assert_eq!(alerts, [4, 19]);
    assert!(state.failures_ms.len() <= 5);
}

#[test]
fn failed_logins_spread_out_never_alert() {
    let policy = AlertPolicy::SPEC;
    let mut state = FailedLoginTracker::default();
    // One failure every 4 minutes: at most 4 within any 15 minutes.
    for i in 0..30u64 {
        let (next, alert) = record_failure(state, i * 240_000, &policy);
        assert!(!alert, "failure {i}");
        state = next;
    }
    assert!(state.idle_at_ms(&policy) > 29 * 240_000);
}

#[test]
fn failed_login_burst_alerts_exactly_once() {
    let policy = AlertPolicy {
        threshold: 5,
        window_ms: 1_000,
    };
    let mut state = FailedLoginTracker::default();
    let mut count = 0;
    for _ in 0..50 {
        let (next, alert) = record_failure(state, 42, &policy);
        state = next;
        count += usize::from(alert);
    }
    assert_eq!(count, 1);
}

#[test]
fn header_values() {
    let limit = Limit::per_minute(5);
    let admitted = check(None, limit, 0, 1);
    let headers = RateLimitHeaders::from_decision(&admitted);
    assert_eq!(
        headers.pairs(),
        [
            ("X-RateLimit-Limit", "5".to_owned()),
            ("X-RateLimit-Remaining", "4".to_owned()),
            ("X-RateLimit-Reset", "12".to_owned()),
        ]
    );

    // 1 per 1.5 s: a refusal 1 ms before the refill still says Retry-After: 1.
    let limit = Limit::new(1, 1_500).unwrap();
    let first = check(None, limit, 0, 1);
    let refused = check(Some(first.new_state), limit, 1_499, 1);
    assert!(!refused.allowed);
    assert_eq!(refused.retry_after_ms, 1);
    let headers = RateLimitHeaders::from_decision(&refused);
    assert_eq!(headers.retry_after_secs, Some(1));
    assert_eq!(headers.reset_secs, 1, "1 ms until full rounds up to 1 s");
    assert_eq!(
        headers.pairs().last().unwrap(),
        &("Retry-After", "1".to_owned())
    );

    // 1.5 s to wait rounds up to 2, 2.001 s up to 3.
    let refused = check(Some(first.new_state), limit, 0, 1);
    assert_eq!(refused.retry_after_ms, 1_500);
    assert_eq!(refused.retry_after_secs(), 2);
    let limit = Limit::new(1, 2_001).unwrap();
    let first = check(None, limit, 0, 1);
    assert_eq!(
        check(Some(first.new_state), limit, 0, 1).retry_after_secs(),
        3
    );
}
