//! What a repository call can fail with, independent of the back end and of
//! HTTP. The `From` impl at the end is the one place a storage failure
//! becomes a response: whatever the cause, the request fails closed.

use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique constraint refused a write. Repositories whose insert is the
    /// check turn it into an outcome (`Ok(false)`); anywhere else it is a
    /// failure like any other.
    #[error("unique constraint violated ({})", constraint.as_deref().unwrap_or("unnamed"))]
    UniqueViolation { constraint: Option<String> },
    /// The back end could not be reached, or failed or refused a statement.
    #[error("{0}")]
    Unavailable(String),
    /// A stored row that does not decode into its record.
    #[error("undecodable row: {0}")]
    Corrupt(String),
    /// A client-sent value the back end cannot store (on PostgreSQL, an id
    /// that is not a UUID): the request is malformed.
    #[error("Invalid field `{field}`: not a UUID")]
    InvalidId { field: &'static str },
    /// A value the gateway itself produced is unusable: a bug, not an outage.
    #[error("{0}")]
    Internal(String),
}

/// 503 `STORAGE_UNAVAILABLE` for every back-end failure, 400 for a malformed
/// client id, 500 for the gateway's own faults; the detail stays internal
/// (logged, shown only in development).
impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::InvalidId { .. } => ApiError::bad_request(e.to_string()),
            StorageError::Internal(detail) => ApiError::internal(detail),
            StorageError::UniqueViolation { .. }
            | StorageError::Unavailable(_)
            | StorageError::Corrupt(_) => ApiError::storage(e.to_string()),
        }
    }
}
