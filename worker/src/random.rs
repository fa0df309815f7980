//! Randomness for the worker (the runtime's `crypto.getRandomValues`).

use crate::error::ApiError;

/// `N` random bytes; fails closed if the runtime can't provide them.
pub fn bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf)
        .map_err(|e| ApiError::internal(format!("randomness unavailable: {e}")))?;
    Ok(buf)
}

/// A fresh request id (16 random bytes, hex).
pub fn request_id() -> String {
    // If randomness fails here we still need an id for the error envelope;
    // the failure itself surfaces wherever randomness is needed for security.
    bytes::<16>()
        .map(hex::encode)
        .unwrap_or_else(|_| "unavailable".to_owned())
}
