//! The error codes clients see (SPEC §12): one machine-readable `code` and one
//! HTTP status per failure kind. Each layer keeps its own typed error enum and
//! maps it onto one of these codes; the worker turns a code into the JSON
//! envelope `{error, code, requestId}` in exactly one place.

use serde::{Serialize, Serializer};

/// A client-visible failure kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    // Attacker or client input.
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotFound,
    MethodNotAllowed,
    UpgradeRequired,
    ApiKeyRequired,
    InvalidApiKey,
    AuthRequired,
    InvalidToken,
    InvalidCredentials,
    CsrfFailed,
    InsufficientPermissions,
    ChannelUnauthorized,
    RateLimitExceeded,
    Conflict,
    SetupRequired,
    WeakPassword,
    // Misconfiguration.
    Misconfigured,
    OriginNotConfigured,
    // Infrastructure.
    BootstrapUnavailable,
    StorageUnavailable,
    RateLimiterUnavailable,
    OriginUnavailable,
    OriginTimeout,
    Internal,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub const fn status(self) -> u16 {
        match self {
            Self::BadRequest | Self::WeakPassword => 400,
            Self::ApiKeyRequired
            | Self::InvalidApiKey
            | Self::AuthRequired
            | Self::InvalidToken
            | Self::InvalidCredentials => 401,
            Self::CsrfFailed | Self::InsufficientPermissions | Self::ChannelUnauthorized => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict | Self::SetupRequired => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::UpgradeRequired => 426,
            Self::RateLimitExceeded => 429,
            Self::Internal => 500,
            Self::OriginUnavailable => 502,
            Self::Misconfigured
            | Self::OriginNotConfigured
            | Self::BootstrapUnavailable
            | Self::StorageUnavailable
            | Self::RateLimiterUnavailable => 503,
            Self::OriginTimeout => 504,
        }
    }

    /// The wire spelling, e.g. `INVALID_TOKEN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BAD_REQUEST",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::UpgradeRequired => "UPGRADE_REQUIRED",
            Self::ApiKeyRequired => "API_KEY_REQUIRED",
            Self::InvalidApiKey => "INVALID_API_KEY",
            Self::AuthRequired => "AUTH_REQUIRED",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::CsrfFailed => "CSRF_FAILED",
            Self::InsufficientPermissions => "INSUFFICIENT_PERMISSIONS",
            Self::ChannelUnauthorized => "CHANNEL_UNAUTHORIZED",
            Self::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            Self::Conflict => "CONFLICT",
            Self::SetupRequired => "SETUP_REQUIRED",
            Self::WeakPassword => "WEAK_PASSWORD",
            Self::Misconfigured => "MISCONFIGURED",
            Self::OriginNotConfigured => "ORIGIN_NOT_CONFIGURED",
            Self::BootstrapUnavailable => "BOOTSTRAP_UNAVAILABLE",
            Self::StorageUnavailable => "STORAGE_UNAVAILABLE",
            Self::RateLimiterUnavailable => "RATE_LIMITER_UNAVAILABLE",
            Self::OriginUnavailable => "ORIGIN_UNAVAILABLE",
            Self::OriginTimeout => "ORIGIN_TIMEOUT",
            Self::Internal => "INTERNAL_ERROR",
        }
    }

    /// A generic human message, used when the layer has nothing more specific
    /// that is safe to show.
    pub const fn default_message(self) -> &'static str {
        match self {
            Self::BadRequest => "The request is malformed",
            Self::PayloadTooLarge => "The request body is larger than 1 MiB",
            Self::UnsupportedMediaType => "The request body must be application/json",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed on this route",
            Self::UpgradeRequired => "This route needs a WebSocket upgrade",
            Self::ApiKeyRequired => "An X-API-Key header is required",
            Self::InvalidApiKey => "The X-API-Key header is not valid",
            Self::AuthRequired => "Authentication required",
            Self::InvalidToken => "The presented credential is not valid",
            Self::InvalidCredentials => "Invalid email or password",
            Self::CsrfFailed => "CSRF check failed",
            Self::InsufficientPermissions => "Insufficient permissions",
            Self::ChannelUnauthorized => "Not a participant of this channel",
            Self::RateLimitExceeded => "Rate limit exceeded",
            Self::Conflict => "Conflict",
            Self::SetupRequired => "Setup has not been completed",
            Self::WeakPassword => "The password does not meet the policy",
            Self::Misconfigured => "The gateway is misconfigured",
            Self::OriginNotConfigured => "No agent origin is configured",
            Self::BootstrapUnavailable => "Cloud bootstrap verification is unavailable",
            Self::StorageUnavailable => "Storage is unavailable",
            Self::RateLimiterUnavailable => "The rate limiter is unavailable",
            Self::OriginUnavailable => "The agent origin is unavailable",
            Self::OriginTimeout => "The agent origin timed out",
            Self::Internal => "Internal error",
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spelling_matches_serde() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::InvalidToken,
            ErrorCode::RateLimitExceeded,
            ErrorCode::Misconfigured,
            ErrorCode::OriginTimeout,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(
            serde_json::to_string(&ErrorCode::Internal).unwrap(),
            "\"INTERNAL_ERROR\""
        );
    }

    #[test]
    fn statuses_are_errors() {
        for code in [
            ErrorCode::AuthRequired,
            ErrorCode::NotFound,
            ErrorCode::Internal,
        ] {
            assert!(code.status() >= 400);
        }
    }
}
