//! Randomness for the worker (the runtime's `crypto.getRandomValues`) and the
//! ids made from it.

use crate::clock::Now;
use crate::error::ApiError;
use agentgate_shared::ids::uuid_v7;

/// `N` random bytes; fails closed if the runtime can't provide them.
pub fn bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf)
        .map_err(|e| ApiError::internal(format!("randomness unavailable: {e}")))?;
    Ok(buf)
}

/// A new row id: a UUID v7 at `now` (time-ordered, 74 random bits).
pub fn new_id(now: Now) -> Result<String, ApiError> {
    Ok(uuid_v7(now.ms(), bytes::<10>()?))
}

/// A fresh request id (16 random bytes, hex).
pub fn request_id() -> String {
    // If randomness fails here we still need an id for the error envelope;
    // the failure itself surfaces wherever randomness is needed for security.
    bytes::<16>()
        .map(hex::encode)
        .unwrap_or_else(|_| "unavailable".to_owned())
}
