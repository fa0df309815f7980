//! Fetching small JSON documents the gateway depends on (JWKS, revocation
//! lists), shared across isolates through the Workers Cache API and fetched
//! at most once at a time per isolate (single flight).
//!
//! The freshness policy (when to fetch, how to treat failures) is decided by
//! the sans-IO JWKS cache in `shared`; this module only moves bytes.

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{AbortController, Cache, Delay, Fetch, Headers, Response, Url};

/// Why a document could not be had. The caller keeps what it had before.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("fetch failed: {0}")]
    Network(String),
    #[error("status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("document larger than {0} bytes")]
    TooLarge(usize),
    #[error("document is not what was expected")]
    Invalid,
}

/// Whether a fetched document is usable (e.g. parses as a JWKS). Only a
/// usable document is shared through the Cache API or taken from it, so a
/// broken answer from the endpoint never sticks for a whole TTL.
pub type Validator = fn(&str) -> bool;

const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const FETCH_TIMEOUT_MS: u64 = 5_000;

type Flight = Shared<LocalBoxFuture<'static, Result<Rc<String>, FetchError>>>;

thread_local! {
    static IN_FLIGHT: RefCell<HashMap<String, Flight>> = RefCell::new(HashMap::new());
}

/// A cached copy from the Cache API (shared by the isolates of a colo), if
/// one is there. `None` on any cache failure.
pub async fn cached(url: &Url) -> Option<String> {
    let cache = Cache::default();
    let mut response = cache.get(url.as_str(), false).await.ok()??;
    response.text().await.ok()
}

/// The document: the Cache API copy when `use_shared_cache` and a usable one
/// is there, otherwise from the network (see [`fetch`]).
pub async fn load(
    url: &Url,
    ttl_secs: u64,
    use_shared_cache: bool,
    usable: Validator,
) -> Result<String, FetchError> {
    if use_shared_cache {
        if let Some(doc) = cached(url).await.filter(|d| usable(d)) {
            return Ok(doc);
        }
    }
    fetch(url, ttl_secs, usable).await.map(|d| (*d).clone())
}

/// Fetches `url` from the network (joining a fetch already under way in this
/// isolate); a usable document is stored in the Cache API for `ttl_secs`.
pub async fn fetch(url: &Url, ttl_secs: u64, usable: Validator) -> Result<Rc<String>, FetchError> {
    let key = url.to_string();
    let flight = IN_FLIGHT.with(|f| f.borrow().get(&key).cloned());
    let flight = match flight {
        Some(flight) => flight,
        None => {
            let url = url.clone();
            let flight = async move { fetch_and_cache(url, ttl_secs, usable).await.map(Rc::new) }
                .boxed_local()
                .shared();
            IN_FLIGHT.with(|f| f.borrow_mut().insert(key.clone(), flight.clone()));
            flight
        }
    };
    let result = flight.await;
    IN_FLIGHT.with(|f| f.borrow_mut().remove(&key));
    result
}

async fn fetch_and_cache(url: Url, ttl_secs: u64, usable: Validator) -> Result<String, FetchError> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let request = Fetch::Url(url.clone());
    let response = futures::select! {
        r = request.send_with_signal(&signal).fuse() => r.map_err(|e| FetchError::Network(e.to_string()))?,
        _ = Delay::from(std::time::Duration::from_millis(FETCH_TIMEOUT_MS)).fuse() => {
            controller.abort();
            return Err(FetchError::Timeout);
        }
    };
    let mut response = response;
    let status = response.status_code();
    if status != 200 {
        return Err(FetchError::Status(status));
    }
    let body = response
        .text()
        .await
        .map_err(|e| FetchError::Network(e.to_string()))?;
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(FetchError::TooLarge(MAX_DOCUMENT_BYTES));
    }
    if !usable(&body) {
        return Err(FetchError::Invalid);
    }
    // Share with the other isolates; a cache failure is not a fetch failure.
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("Cache-Control", &format!("max-age={ttl_secs}"));
    if let Ok(copy) = Response::ok(body.clone()).map(|r| r.with_headers(headers)) {
        let _ = Cache::default().put(url.as_str(), copy).await;
    }
    Ok(body)
}
