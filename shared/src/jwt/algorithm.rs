//! The JWS algorithms agentgate verifies, each bound to one key type.

use std::fmt;

/// A JWS signature algorithm (RFC 7518 names). Each is bound to exactly one
/// key type: RSA → [`Rs256`](Self::Rs256), EC P-256 → [`Es256`](Self::Es256),
/// OKP Ed25519 → [`EdDsa`](Self::EdDsa), shared secret → [`Hs256`](Self::Hs256).
/// `none` is not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`).
    Rs256,
    /// ECDSA on P-256 with SHA-256, IEEE P1363 `r || s` signature (`ES256`).
    Es256,
    /// Ed25519 (`EdDSA`).
    EdDsa,
    /// HMAC with SHA-256 (`HS256`).
    Hs256,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 4] = [Self::Rs256, Self::Es256, Self::EdDsa, Self::Hs256];

    /// The asymmetric algorithms (keys from a JWKS).
    pub const ASYMMETRIC: [Algorithm; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The `alg` header spelling, e.g. `RS256`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Hs256 => "HS256",
        }
    }

    /// Parses an `alg` value: exact, case-sensitive match (RFC 7515 §4.1.1);
    /// anything else, `none` included, is `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether this is the shared-secret algorithm.
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Self::Hs256)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.as_str()), Some(alg));
        }
        for other in [
            "none", "rs256", "Hs256", "RS384", "PS256", "ES256K", "", "EDDSA",
        ] {
            assert_eq!(Algorithm::from_name(other), None, "{other}");
        }
    }
}
