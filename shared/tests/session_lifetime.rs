//! Session lifetimes (SPEC §4) with an injected clock: browser sessions slide
//! up to their cap, machine sessions never slide, bootstrap sessions are
//! short and single use; plus the legacy bearer window.

use agentgate_shared::session::{
    cookie_max_age, legacy_token_active, new_session_expiry, touch, SessionError, SessionKind,
    SessionTimes, Touched, BOOTSTRAP_LIFETIME_SECS, BROWSER_CAP_SECS, BROWSER_IDLE_SECS,
    BROWSER_REMEMBER_CAP_SECS, LEGACY_WINDOW_SECS, MACHINE_LIFETIME_SECS,
};

const T0: u64 = 1_700_000_000;
const H: u64 = 3600;
const DAY: u64 = 24 * H;

#[test]
fn constants_match_spec() {
    assert_eq!(BROWSER_IDLE_SECS, 12 * H);
    assert_eq!(BROWSER_CAP_SECS, 24 * H);
    assert_eq!(BROWSER_REMEMBER_CAP_SECS, 30 * DAY);
    assert_eq!(MACHINE_LIFETIME_SECS, 90 * DAY);
    assert_eq!(BOOTSTRAP_LIFETIME_SECS, 15 * 60);
    assert_eq!(LEGACY_WINDOW_SECS, 14 * DAY);
}

#[test]
fn new_session_deadlines() {
    let cases: &[(SessionKind, bool, u64, u64)] = &[
        (SessionKind::Browser, false, T0 + 12 * H, T0 + 24 * H),
        (SessionKind::Browser, true, T0 + 12 * H, T0 + 30 * DAY),
        (SessionKind::Machine, false, T0 + 90 * DAY, T0 + 90 * DAY),
        (SessionKind::Machine, true, T0 + 90 * DAY, T0 + 90 * DAY),
        (SessionKind::Bootstrap, false, T0 + 900, T0 + 900),
        (SessionKind::Bootstrap, true, T0 + 900, T0 + 900),
    ];
    for &(kind, remember, expires_at, absolute) in cases {
        assert_eq!(
            new_session_expiry(kind, remember, T0),
            SessionTimes {
                expires_at,
                absolute_expires_at: absolute
            },
            "{kind:?} remember={remember}"
        );
    }
}

/// Use a browser session at each offset (seconds after creation), storing
/// what `touch` returns: the new deadline offset, or the refusal.
fn browse(remember: bool, uses: &[u64]) -> Vec<Result<u64, SessionError>> {
    let mut times = new_session_expiry(SessionKind::Browser, remember, T0);
    uses.iter()
        .map(|&offset| {
            let r = touch(times, SessionKind::Browser, T0 + offset);
            if let Ok(t) = r {
                times.expires_at = t.expires_at;
            }
            r.map(|t| t.expires_at - T0)
        })
        .collect()
}

#[test]
fn browser_sessions_slide_up_to_their_cap() {
    use SessionError::*;
    // (remember, uses, expected new deadline offsets or errors)
    type Case<'a> = (bool, &'a [u64], &'a [Result<u64, SessionError>]);
    let cases: &[Case<'_>] = &[
        // Every use slides to now + 12 h.
        (false, &[H, 2 * H], &[Ok(13 * H), Ok(14 * H)]),
        // Idle 12 h: expired exactly at the deadline, valid one second before.
        (false, &[12 * H - 1], &[Ok(24 * H - 1)]),
        (false, &[12 * H], &[Err(Expired)]),
        // Kept alive every 11 h: slides, but never past 24 h, then refused.
        (
            false,
            &[11 * H, 22 * H, 23 * H, 24 * H - 1, 24 * H],
            &[
                Ok(23 * H),
                Ok(24 * H),
                Ok(24 * H),
                Ok(24 * H),
                Err(AbsoluteCapReached),
            ],
        ),
        // rememberDevice: slides past 24 h...
        (
            true,
            &[11 * H, 22 * H, 33 * H],
            &[Ok(23 * H), Ok(34 * H), Ok(45 * H)],
        ),
        // ...but still idles out after 12 h.
        (true, &[11 * H, 34 * H], &[Ok(23 * H), Err(Expired)]),
        // rememberDevice does not stretch the idle timeout.
        (true, &[12 * H], &[Err(Expired)]),
    ];
    for (remember, uses, expected) in cases {
        assert_eq!(
            &browse(*remember, uses),
            expected,
            "remember={remember} uses={uses:?}"
        );
    }
}

#[test]
fn remembered_session_kept_alive_stops_at_thirty_days() {
    // A use every 11 h for 30 days: each slides to min(now + 12 h, 30 days).
    let mut uses: Vec<u64> = (1..=65).map(|k| k * 11 * H).collect();
    uses.extend([30 * DAY - 1, 30 * DAY]);
    let got = browse(true, &uses);
    for (offset, result) in uses.iter().zip(&got) {
        if *offset < 30 * DAY {
            assert_eq!(*result, Ok((offset + 12 * H).min(30 * DAY)), "at +{offset}");
        } else {
            assert_eq!(*result, Err(SessionError::AbsoluteCapReached));
        }
    }
}

#[test]
fn every_browser_use_chain_stays_within_the_cap() {
    // Exhaustive over a coarse grid: whatever the use pattern, the deadline
    // never passes the cap and the session never outlives it.
    for step in [H / 2, H, 5 * H, 11 * H, 12 * H - 1] {
        let mut times = new_session_expiry(SessionKind::Browser, false, T0);
        let mut now = T0;
        loop {
            now += step;
            match touch(times, SessionKind::Browser, now) {
                Ok(t) => {
                    assert!(t.expires_at <= T0 + 24 * H);
                    assert!(t.expires_at > now);
                    times.expires_at = t.expires_at;
                }
                Err(_) => break,
            }
        }
        assert!(now <= T0 + 24 * H + step);
    }
}

#[test]
fn machine_sessions_never_slide() {
    let times = new_session_expiry(SessionKind::Machine, false, T0);
    for offset in [0, 1, H, 30 * DAY, 90 * DAY - 1] {
        let t = touch(times, SessionKind::Machine, T0 + offset).unwrap();
        assert_eq!(
            t,
            Touched {
                expires_at: T0 + 90 * DAY,
                persist: false,
                consume: false
            }
        );
    }
    assert_eq!(
        touch(times, SessionKind::Machine, T0 + 90 * DAY),
        Err(SessionError::AbsoluteCapReached)
    );
}

#[test]
fn bootstrap_sessions_are_single_use_and_short() {
    let times = new_session_expiry(SessionKind::Bootstrap, false, T0);
    let t = touch(times, SessionKind::Bootstrap, T0 + 899).unwrap();
    assert!(t.consume, "the one use consumes it");
    assert_eq!(t.expires_at, T0 + 900);
    assert!(!t.persist);
    assert!(touch(times, SessionKind::Bootstrap, T0 + 900).is_err());
    assert!(touch(times, SessionKind::Bootstrap, T0 + DAY).is_err());
}

#[test]
fn touch_asks_to_persist_only_after_a_minute_of_slide() {
    let times = new_session_expiry(SessionKind::Browser, false, T0);
    assert!(!touch(times, SessionKind::Browser, T0 + 59).unwrap().persist);
    assert!(touch(times, SessionKind::Browser, T0 + 60).unwrap().persist);
    // A deadline already further out (never shortened).
    let far = SessionTimes {
        expires_at: T0 + 20 * H,
        absolute_expires_at: T0 + 24 * H,
    };
    let t = touch(far, SessionKind::Browser, T0).unwrap();
    assert_eq!(t.expires_at, T0 + 20 * H);
    assert!(!t.persist);
}

#[test]
fn cookie_max_age_is_time_to_the_cap() {
    let times = new_session_expiry(SessionKind::Browser, true, T0);
    assert_eq!(cookie_max_age(times, T0), 30 * DAY);
    assert_eq!(cookie_max_age(times, T0 + DAY), 29 * DAY);
    assert_eq!(cookie_max_age(times, T0 + 31 * DAY), 0);
}

#[test]
fn session_kind_spelling() {
    for k in [
        SessionKind::Browser,
        SessionKind::Machine,
        SessionKind::Bootstrap,
    ] {
        assert_eq!(SessionKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(SessionKind::parse("Browser"), None);
}

#[test]
fn legacy_bearer_window() {
    let since = T0;
    let cases: &[(u64, bool, bool)] = &[
        (since - 1, false, false),
        (since, false, true),
        (since + 14 * DAY - 1, false, true),
        (since + 14 * DAY, false, false),
        (since + DAY, true, false),
    ];
    for &(now, stronger, expected) in cases {
        assert_eq!(
            legacy_token_active(since, now, stronger),
            expected,
            "now=since{:+} stronger={stronger}",
            now as i64 - since as i64
        );
    }
}
