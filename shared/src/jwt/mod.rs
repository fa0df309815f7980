//! External JWT verification (SPEC §3 item 4, §3a), sans-IO: the token, the
//! key set, the policy and `now` come in; a typed decision comes out.
//!
//! # Policy
//! - **Form**: compact JWS only — three base64url segments (no padding, no
//!   other characters), at most [`MAX_TOKEN_BYTES`] (8 KiB); the JWS JSON
//!   serialization is refused. Header and claims are JSON objects with no
//!   duplicate member names at any depth.
//! - **Algorithm**: taken from the key, never from the header alone. Each
//!   [`VerificationKey`] is bound to one [`Algorithm`] by its type (RSA →
//!   RS256, P-256 → ES256, Ed25519 → EdDSA, shared secret → HS256). The
//!   header's `alg` must be in the policy's allowlist (checked at
//!   [`decode`], again at key selection and again in
//!   [`validate_claims`]) and equal to the key's bound algorithm. `none` in any
//!   letter case is always refused; an HS256 header against a public key can
//!   never verify (the key is not an HMAC key).
//! - **Keys**: only configured keys — a JWKS the operator named, or the
//!   shared secret. `jku`, `x5u`, embedded `jwk` and `x5c` headers are never
//!   used to find a key. A `kid` selects among configured keys by exact
//!   comparison; an unknown `kid` is [`JwtError::UnknownKid`] so the caller
//!   may refetch (bounded by [`JwksCache`]).
//! - **`crit`**: no critical extension is understood, so any `crit` is refused.
//! - **Claims** ([`Validation`]): `exp` required; `exp`/`nbf`/`iat` checked
//!   against `now` with a leeway (default 60 s, at most 300 s); `iss` exactly
//!   in the whitelist when one is set; `aud` containing the audience when one
//!   is set; `sub` required by default.
//! - **Errors**: one [`JwtError`]; each variant one reason, none with
//!   attacker-controlled text; all map to `401 INVALID_TOKEN`.
//!
//! # Flow
//! One call for synchronous verifiers ([`verify_token`]) or asynchronous ones
//! such as the Worker's WebCrypto ([`verify_token_async`]); or the steps
//! separately: [`decode`] → [`DecodedToken::verify_signature`] /
//! [`DecodedToken::verify_signature_async`] → [`validate_claims`]. The
//! [`SignatureVerifier`] / [`AsyncSignatureVerifier`] traits are the seam;
//! [`HmacVerifier`] verifies HS256 in every build; `RustCryptoVerifier` (all
//! four algorithms, pure Rust) and `wycheproof::run_vectors` (which holds any
//! implementation to the same vectors) exist only with the `dev` feature, so
//! the production module links no `rsa` or `p256` code: it verifies RS256,
//! ES256 and EdDSA through WebCrypto.

mod algorithm;
mod claims;
mod encoding;
mod error;
mod header;
mod jwk;
mod jwks_cache;
mod key;
mod key_set;
mod p256_curve;
mod token;
mod validation;
mod verifier;
#[cfg(feature = "dev")]
pub mod wycheproof;

pub use algorithm::Algorithm;
pub use claims::{validate_claims, VerifiedClaims};
pub use encoding::{b64url_decode, b64url_encode};
pub use error::JwtError;
pub use header::Header;
pub use jwk::{IgnoredJwk, Jwk, JwkSet, JwksError, MAX_JWKS_BYTES, MAX_JWKS_KEYS};
pub use jwks_cache::{JwksCache, RefetchDecision, RefreshSchedule};
pub use key::{
    KeyError, PublicJwk, VerificationKey, MAX_RSA_BITS, MIN_HMAC_SECRET_BYTES, MIN_RSA_BITS,
};
pub use key_set::{KeySelection, KeySet};
pub use token::{
    decode, verify_token, verify_token_async, DecodedToken, VerifiedToken, MAX_TOKEN_BYTES,
};
pub use validation::Validation;
#[cfg(feature = "dev")]
pub use verifier::RustCryptoVerifier;
pub use verifier::{AsyncSignatureVerifier, HmacVerifier, SignatureError, SignatureVerifier};

pub(crate) use claims::{numeric_date, string_claim};
pub(crate) use encoding::parse_json as parse_json_strict;
