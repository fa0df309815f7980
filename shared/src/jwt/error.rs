//! The one error type of token verification.

use crate::error::ErrorCode;

/// Why a token was refused. Every variant is one distinct reason; none carries
/// attacker-controlled text, so [`reason`](Self::reason) and `Display` are safe
/// to show in development mode and to log. Clients always get
/// [`code`](Self::code) (`401 INVALID_TOKEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is longer than [`MAX_TOKEN_BYTES`](super::MAX_TOKEN_BYTES).
    TooLarge,
    /// The token uses the JWS JSON serialization (starts with `{`).
    JsonSerialization,
    /// Not exactly three non-empty dot-separated segments.
    Malformed,
    /// A segment is not unpadded, canonical base64url.
    BadEncoding,
    /// The header or claims are not UTF-8 JSON objects.
    BadJson,
    /// A JSON object in the header or claims repeats a member name.
    DuplicateKey,
    /// A header member has the wrong type (`alg`, `kid`, `typ`, `crit`).
    MalformedHeader,
    /// `alg` is `none` in any letter case.
    UnsecuredToken,
    /// `alg` names an algorithm agentgate does not implement.
    UnsupportedAlgorithm,
    /// `alg` is supported but not allowed by this policy.
    AlgorithmNotAllowed,
    /// `alg` differs from the algorithm bound to the key the token names.
    AlgorithmMismatch,
    /// The header has `crit` (agentgate understands no critical extension).
    UnknownCritical,
    /// The token's `kid` is not in the key set: the caller may refetch the
    /// JWKS (subject to [`JwksCache::on_unknown_kid`](super::JwksCache::on_unknown_kid)).
    UnknownKid,
    /// No configured key can verify this algorithm.
    NoMatchingKey,
    /// No candidate key verified the signature.
    BadSignature,
    /// The signature check could not run (e.g. WebCrypto failed); fail closed.
    VerifierFailed,
    /// The claims have no `exp`.
    MissingExp,
    /// `exp` (plus leeway) is not after `now`.
    Expired,
    /// `nbf` is after `now` plus leeway.
    NotYetValid,
    /// `iat` is after `now` plus leeway.
    IssuedInFuture,
    /// `iss` is missing or not in the issuer whitelist.
    WrongIssuer,
    /// An audience is required and `aud` does not contain it.
    WrongAudience,
    /// The policy requires `sub` and it is missing or empty.
    MissingSubject,
    /// A registered claim has the wrong JSON type.
    InvalidClaim,
}

impl JwtError {
    /// A short, fixed, human-readable reason (shown only in development).
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooLarge => "token is too large",
            Self::JsonSerialization => "JWS JSON serialization is not accepted",
            Self::Malformed => "token is not a compact JWS of three segments",
            Self::BadEncoding => "token segment is not base64url",
            Self::BadJson => "token header or claims are not a JSON object",
            Self::DuplicateKey => "token JSON has a duplicate member",
            Self::MalformedHeader => "token header is malformed",
            Self::UnsecuredToken => "unsecured tokens (alg none) are refused",
            Self::UnsupportedAlgorithm => "token algorithm is not supported",
            Self::AlgorithmNotAllowed => "token algorithm is not allowed",
            Self::AlgorithmMismatch => "token algorithm does not match the key",
            Self::UnknownCritical => "token has critical header extensions",
            Self::UnknownKid => "token key id is unknown",
            Self::NoMatchingKey => "no key for the token algorithm",
            Self::BadSignature => "token signature is invalid",
            Self::VerifierFailed => "token signature could not be checked",
            Self::MissingExp => "token has no expiry",
            Self::Expired => "token has expired",
            Self::NotYetValid => "token is not valid yet",
            Self::IssuedInFuture => "token was issued in the future",
            Self::WrongIssuer => "token issuer is not accepted",
            Self::WrongAudience => "token audience is not accepted",
            Self::MissingSubject => "token has no subject",
            Self::InvalidClaim => "token claim has the wrong type",
        }
    }

    /// The client-visible code: always `401 INVALID_TOKEN`.
    pub const fn code(self) -> ErrorCode {
        ErrorCode::InvalidToken
    }

    /// Whether refetching the key set could make this token verify.
    pub const fn suggests_refetch(self) -> bool {
        matches!(self, Self::UnknownKid)
    }
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for JwtError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_reason() {
        for e in [
            JwtError::TooLarge,
            JwtError::UnknownKid,
            JwtError::InvalidClaim,
        ] {
            assert_eq!(e.to_string(), e.reason());
            assert_eq!(e.code(), ErrorCode::InvalidToken);
        }
        assert!(JwtError::UnknownKid.suggests_refetch());
        assert!(!JwtError::BadSignature.suggests_refetch());
    }
}
