//! When to (re)fetch a JWKS, as a sans-IO state machine: the Worker does the
//! fetching and tells the cache what happened; time is always passed in.
//!
//! Rules (SPEC §3 item 4, §6):
//! - keys are fresh for a TTL after a successful fetch (default 1 h, cloud
//!   issuer 6 h); [`JwksCache::needs_fetch`] says when to refresh;
//! - a token with an unknown `kid` may trigger a refetch, but at most one
//!   fetch attempt (of any kind) per 60 s: a flood of bogus kids costs at most
//!   one fetch a minute, and valid tokens keep verifying with the cached keys
//!   meanwhile;
//! - a failed fetch keeps the cached keys (stale keys are still served) and
//!   backs off exponentially (10 s doubling to 5 min) before the next attempt;
//!   a failure never makes a token acceptable — with no keys, every token is
//!   refused.
//!
//! Single-flight of concurrent fetches is the Worker's job (one shared
//! future); [`JwksCache::on_unknown_kid`] records its attempt immediately so
//! concurrent unknown-kid requests in one isolate do not each fetch.

use super::KeySet;

/// Whether an unknown `kid` may trigger a fetch now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefetchDecision {
    /// Fetch the JWKS now, then report with `on_fetch_success`/`on_fetch_failure`
    /// and retry the token once.
    Refetch,
    /// Don't fetch; refuse the token. A fetch may be tried again at `retry_at`
    /// (unix seconds).
    Throttled {
        /// The earliest time a fetch will be allowed.
        retry_at: u64,
    },
}

/// The timing half of the cache, reusable for other documents refreshed on
/// the same cadence (e.g. the bootstrap revocation list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSchedule {
    ttl_secs: u64,
    fetched_at: Option<u64>,
    last_attempt_at: Option<u64>,
    failures: u32,
    retry_at: u64,
}

impl RefreshSchedule {
    /// The least time between two fetch attempts caused by unknown kids.
    pub const MIN_REFETCH_INTERVAL_SECS: u64 = 60;
    /// The first back-off after a failed fetch.
    pub const BACKOFF_BASE_SECS: u64 = 10;
    /// The longest back-off after repeated failures.
    pub const BACKOFF_MAX_SECS: u64 = 300;

    /// A schedule that has never fetched, with the given TTL.
    pub fn new(ttl_secs: u64) -> Self {
        Self {
            ttl_secs,
            fetched_at: None,
            last_attempt_at: None,
            failures: 0,
            retry_at: 0,
        }
    }

    /// The TTL in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// When the last successful fetch happened.
    pub fn fetched_at(&self) -> Option<u64> {
        self.fetched_at
    }

    /// Consecutive failed fetches since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Never fetched, or older than the TTL.
    pub fn is_stale(&self, now: u64) -> bool {
        self.fetched_at
            .is_none_or(|at| now >= at.saturating_add(self.ttl_secs))
    }

    /// Whether a fetch should happen now: stale and not backing off.
    pub fn needs_fetch(&self, now: u64) -> bool {
        self.is_stale(now) && now >= self.retry_at
    }

    /// An unknown `kid` was seen: fetch now, or not (see the module docs).
    pub fn on_unknown_kid(&mut self, now: u64) -> RefetchDecision {
        let interval_end = self
            .last_attempt_at
            .map_or(0, |t| t.saturating_add(Self::MIN_REFETCH_INTERVAL_SECS));
        let retry_at = interval_end.max(self.retry_at);
        if now < retry_at {
            return RefetchDecision::Throttled { retry_at };
        }
        self.last_attempt_at = Some(now);
        RefetchDecision::Refetch
    }

    /// A fetch succeeded; `fetched_at` is when (may be earlier than now when the
    /// document came from a shared cache).
    pub fn on_success(&mut self, fetched_at: u64) {
        self.fetched_at = Some(fetched_at);
        self.last_attempt_at = Some(
            self.last_attempt_at
                .map_or(fetched_at, |t| t.max(fetched_at)),
        );
        self.failures = 0;
        self.retry_at = 0;
    }

    /// A fetch failed at `now`: keep what we have, back off.
    pub fn on_failure(&mut self, now: u64) {
        self.failures = self.failures.saturating_add(1);
        let shift = (self.failures - 1).min(16);
        let delay = Self::BACKOFF_BASE_SECS
            .saturating_mul(1u64 << shift)
            .min(Self::BACKOFF_MAX_SECS);
        self.last_attempt_at = Some(now);
        self.retry_at = now.saturating_add(delay);
    }
}

/// The cached keys of one JWKS endpoint and when to refresh them.
#[derive(Debug, Clone)]
pub struct JwksCache {
    keys: KeySet,
    schedule: RefreshSchedule,
}

impl JwksCache {
    /// The default TTL (`JWKS_CACHE_TTL`), 1 h.
    pub const DEFAULT_TTL_SECS: u64 = 3600;
    /// The cloud issuer's TTL (SPEC §6), 6 h.
    pub const CLOUD_TTL_SECS: u64 = 6 * 3600;

    /// An empty cache with this TTL.
    pub fn new(ttl_secs: u64) -> Self {
        Self {
            keys: KeySet::new(),
            schedule: RefreshSchedule::new(ttl_secs),
        }
    }

    /// An empty cache for the cloud issuer's JWKS (6 h TTL).
    pub fn for_cloud_issuer() -> Self {
        Self::new(Self::CLOUD_TTL_SECS)
    }

    /// The cached keys (possibly stale; empty before the first success).
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Whether any fetch has ever succeeded.
    pub fn is_loaded(&self) -> bool {
        self.schedule.fetched_at().is_some()
    }

    /// The timing state.
    pub fn schedule(&self) -> &RefreshSchedule {
        &self.schedule
    }

    /// See [`RefreshSchedule::needs_fetch`].
    pub fn needs_fetch(&self, now: u64) -> bool {
        self.schedule.needs_fetch(now)
    }

    /// See [`RefreshSchedule::on_unknown_kid`].
    pub fn on_unknown_kid(&mut self, now: u64) -> RefetchDecision {
        self.schedule.on_unknown_kid(now)
    }

    /// Replaces the keys with a freshly fetched set.
    pub fn on_fetch_success(&mut self, keys: KeySet, fetched_at: u64) {
        self.keys = keys;
        self.schedule.on_success(fetched_at);
    }

    /// Records a failed fetch; the cached keys stay in use.
    pub fn on_fetch_failure(&mut self, now: u64) {
        self.schedule.on_failure(now);
    }
}
