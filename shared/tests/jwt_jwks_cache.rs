//! The JWKS cache state machine, with injected time.

mod jwt_support;

use agentgate_shared::jwt::{
    verify_token, Algorithm, JwkSet, JwksCache, JwtError, KeySet, RefetchDecision, RefreshSchedule,
    RustCryptoVerifier, Validation,
};
use jwt_support::*;
use serde_json::json;

const T0: u64 = 1_000_000;

fn one_key_set(seed: u8, kid: &str) -> KeySet {
    KeySet::new().with(ed_verification_key(&ed_key(seed)).with_kid(kid))
}

#[test]
fn ttl_drives_refresh() {
    let mut cache = JwksCache::new(JwksCache::DEFAULT_TTL_SECS);
    assert!(!cache.is_loaded() && cache.keys().is_empty());
    assert!(cache.needs_fetch(T0), "never fetched");
    cache.on_fetch_success(one_key_set(1, "a"), T0);
    assert!(cache.is_loaded());
    assert!(!cache.needs_fetch(T0));
    assert!(!cache.needs_fetch(T0 + 3599));
    assert!(cache.needs_fetch(T0 + 3600));
    // A document fetched earlier by another isolate (shared cache) ages from then.
    cache.on_fetch_success(one_key_set(1, "a"), T0 + 3000);
    assert!(!cache.needs_fetch(T0 + 6599));
    assert!(cache.needs_fetch(T0 + 6600));
}

#[test]
fn cloud_issuer_ttl_is_six_hours() {
    let mut cache = JwksCache::for_cloud_issuer();
    assert_eq!(cache.schedule().ttl_secs(), 6 * 3600);
    cache.on_fetch_success(one_key_set(1, "a"), T0);
    assert!(!cache.needs_fetch(T0 + 6 * 3600 - 1));
    assert!(cache.needs_fetch(T0 + 6 * 3600));
}

#[test]
fn unknown_kid_refetches_at_most_once_a_minute() {
    let mut cache = JwksCache::new(3600);
    cache.on_fetch_success(one_key_set(1, "a"), T0);
    // Right after a fetch, the fresh set already answered: no refetch.
    assert_eq!(
        cache.on_unknown_kid(T0 + 10),
        RefetchDecision::Throttled { retry_at: T0 + 60 }
    );
    assert_eq!(cache.on_unknown_kid(T0 + 60), RefetchDecision::Refetch);
    assert_eq!(
        cache.on_unknown_kid(T0 + 61),
        RefetchDecision::Throttled { retry_at: T0 + 120 }
    );
    assert_eq!(
        cache.on_unknown_kid(T0 + 119),
        RefetchDecision::Throttled { retry_at: T0 + 120 }
    );
    assert_eq!(cache.on_unknown_kid(T0 + 120), RefetchDecision::Refetch);
}

#[test]
fn a_flood_of_bogus_kids_causes_a_handful_of_fetches() {
    let mut cache = JwksCache::new(3600);
    cache.on_fetch_success(one_key_set(1, "a"), T0);
    let keys_before = cache.keys().len();
    let mut fetches = 0;
    // 1,000 requests with random unknown kids over 10 minutes (a fixed LCG).
    let mut x: u64 = 42;
    let mut times: Vec<u64> = (0..1000)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            T0 + (x >> 33) % 600
        })
        .collect();
    times.sort_unstable();
    for now in times {
        if cache.on_unknown_kid(now) == RefetchDecision::Refetch {
            fetches += 1;
            // The endpoint answers with the same keys: the bogus kid stays unknown.
            cache.on_fetch_success(one_key_set(1, "a"), now);
        }
    }
    assert!(
        fetches <= 10,
        "{fetches} fetches for 1,000 bogus kids in 10 minutes"
    );
    assert!(fetches >= 1);
    assert_eq!(
        cache.keys().len(),
        keys_before,
        "valid keys are never dropped"
    );
}

#[test]
fn failures_keep_the_cached_keys_and_back_off() {
    let mut cache = JwksCache::new(3600);
    cache.on_fetch_success(one_key_set(1, "a"), T0);
    let stale = T0 + 3600;
    assert!(cache.needs_fetch(stale));
    cache.on_fetch_failure(stale);
    assert_eq!(cache.keys().len(), 1, "stale keys still served");
    assert!(cache.keys().contains_kid("a"));
    // Exponential back-off: 10, 20, 40, ... capped at 300 s.
    let mut now = stale;
    for expected in [10, 20, 40, 80, 160, 300, 300, 300] {
        assert!(
            !cache.needs_fetch(now + expected - 1),
            "backing off {expected}"
        );
        assert!(cache.needs_fetch(now + expected));
        assert!(matches!(
            cache.on_unknown_kid(now + expected - 1),
            RefetchDecision::Throttled { .. }
        ));
        now += expected;
        cache.on_fetch_failure(now);
    }
    assert_eq!(cache.schedule().failures(), 9);
    // Success resets everything.
    cache.on_fetch_success(one_key_set(2, "b"), now + 1);
    assert_eq!(cache.schedule().failures(), 0);
    assert!(cache.keys().contains_kid("b") && !cache.keys().contains_kid("a"));
    assert!(!cache.needs_fetch(now + 2));
}

#[test]
fn a_failed_first_fetch_never_admits_a_token() {
    let mut cache = JwksCache::new(3600);
    cache.on_fetch_failure(T0);
    assert!(!cache.is_loaded());
    assert!(!cache.needs_fetch(T0 + 5), "backing off");
    assert!(cache.needs_fetch(T0 + 10));
    let key = ed_key(1);
    let t = token(
        &json!({"alg":"EdDSA","kid":"a"}),
        &good_claims(),
        &Signer::Ed(&key),
    );
    let t_no_kid = token(&json!({"alg":"EdDSA"}), &good_claims(), &Signer::Ed(&key));
    let policy = Validation::new(&Algorithm::ASYMMETRIC);
    assert_eq!(
        verify_token(&t, cache.keys(), &policy, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::UnknownKid
    );
    assert_eq!(
        verify_token(&t_no_kid, cache.keys(), &policy, &RustCryptoVerifier, NOW).unwrap_err(),
        JwtError::NoMatchingKey
    );
}

#[test]
fn key_rotation_verifies_after_one_refetch() {
    let old = ed_key(1);
    let new = ed_key(2);
    let jwks = |key: &ed25519_dalek::SigningKey, kid: &str| {
        JwkSet::parse(
            json!({"keys": [ed_public_jwk(key, kid)]})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
        .into_keys()
    };
    let policy = Validation::new(&Algorithm::ASYMMETRIC);
    let mut cache = JwksCache::new(3600);
    cache.on_fetch_success(jwks(&old, "2024"), T0);
    let t = token(
        &json!({"alg":"EdDSA","kid":"2025"}),
        &good_claims(),
        &Signer::Ed(&new),
    );
    let now = T0 + 600;
    let err = verify_token(&t, cache.keys(), &policy, &RustCryptoVerifier, NOW).unwrap_err();
    assert!(err.suggests_refetch());
    assert_eq!(cache.on_unknown_kid(now), RefetchDecision::Refetch);
    cache.on_fetch_success(jwks(&new, "2025"), now);
    assert!(verify_token(&t, cache.keys(), &policy, &RustCryptoVerifier, NOW).is_ok());
}

#[test]
fn schedule_is_reusable_for_other_documents() {
    let mut s = RefreshSchedule::new(21_600);
    assert!(s.is_stale(T0) && s.needs_fetch(T0));
    s.on_success(T0);
    assert_eq!(s.fetched_at(), Some(T0));
    assert!(!s.is_stale(T0 + 21_599));
    s.on_failure(T0 + 21_600);
    assert!(s.is_stale(T0 + 21_600) && !s.needs_fetch(T0 + 21_605));
}
