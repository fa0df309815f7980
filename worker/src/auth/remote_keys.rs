//! The keys of one JWKS endpoint in this isolate: fetched through
//! `remote_document` (single flight, shared across isolates via the Cache
//! API), kept under the sans-IO `JwksCache` state machine (TTL, failure
//! back-off, at most one unknown-`kid` refetch per 60 s). Used for the
//! external JWT provider (`JWT_JWKS_URI`) and the cloud issuer (SPEC §6).

use crate::remote_document;
use agentgate_shared::jwt::{JwkSet, JwksCache, KeySet, RefetchDecision};
use std::cell::RefCell;
use std::collections::HashMap;
use worker::Url;

thread_local! {
    static CACHES: RefCell<HashMap<String, JwksCache>> = RefCell::new(HashMap::new());
}

/// One JWKS endpoint and the TTL its keys are kept for.
pub struct RemoteKeys<'a> {
    url: &'a Url,
    ttl_secs: u64,
}

impl<'a> RemoteKeys<'a> {
    pub fn new(url: &'a Url, ttl_secs: u64) -> Self {
        Self { url, ttl_secs }
    }

    fn with_cache<T>(&self, f: impl FnOnce(&mut JwksCache) -> T) -> T {
        CACHES.with(|caches| {
            let mut caches = caches.borrow_mut();
            let cache = caches
                .entry(self.url.to_string())
                .or_insert_with(|| JwksCache::new(self.ttl_secs));
            f(cache)
        })
    }

    /// The cached keys (possibly stale; empty before the first success).
    pub fn keys(&self) -> KeySet {
        self.with_cache(|c| c.keys().clone())
    }

    /// When the keys were last fetched successfully.
    pub fn fetched_at(&self) -> Option<u64> {
        self.with_cache(|c| c.schedule().fetched_at())
    }

    /// Fetches the set when the TTL says so (the Cache API copy first).
    pub async fn ensure_fresh(&self, now: u64) {
        if self.with_cache(|c| c.needs_fetch(now)) {
            self.refresh(true, now).await;
        }
    }

    /// A token named a `kid` the set lacks: refetch from the network if the
    /// throttle allows (one attempt per 60 s). `true` when a refetch
    /// succeeded and the token is worth trying again.
    pub async fn refetch_for_unknown_kid(&self, now: u64) -> bool {
        if self.with_cache(|c| c.on_unknown_kid(now)) != RefetchDecision::Refetch {
            return false;
        }
        self.refresh(false, now).await
    }

    /// Fetches the document and records the outcome; `true` on success.
    async fn refresh(&self, use_shared_cache: bool, now: u64) -> bool {
        let document =
            remote_document::load(self.url, self.ttl_secs, use_shared_cache, is_jwks).await;
        let parsed = document.ok().and_then(|d| JwkSet::parse(d.as_bytes()).ok());
        self.with_cache(|cache| match parsed {
            Some(set) => {
                cache.on_fetch_success(set.into_keys(), now);
                true
            }
            None => {
                cache.on_fetch_failure(now);
                false
            }
        })
    }
}

fn is_jwks(document: &str) -> bool {
    JwkSet::parse(document.as_bytes()).is_ok()
}
