//! Passwords (SPEC §5): the policy, argon2id hashing to PHC strings, constant
//! time verification, and the dummy hash that makes an unknown email cost the
//! same as a wrong password. Salt bytes come in as a parameter (sans-IO).
//!
//! # Order of checks
//! [`check_policy`] runs the cheap checks first and the one expensive check
//! (zxcvbn) last: byte length (≤ 1024, O(1)), character count (≥ 12),
//! equality with the email or display name, then the strength score (≥ 3).
//! [`set_password`] runs the whole policy before it hashes, through
//! [`check_then`], so an over-long password is refused without any hashing;
//! [`hash_password`] and [`verify_password`] also refuse over-long input
//! before touching argon2.
//!
//! # Unknown emails
//! A login for an email with no identity verifies the presented password
//! against [`dummy_phc`]: a syntactically valid PHC string at the configured
//! parameters with a fixed salt and an all-zero hash. Verifying it runs exactly
//! the argon2id computation a real verification runs (same parameters, same
//! constant-time comparison) and can never succeed, and building it costs no
//! hashing, so there is nothing to precompute or cache.
//! [`verify_or_dummy`] does this in one call.
//!
//! # The one clock read
//! zxcvbn scores dates relative to the current year, which it reads itself
//! once per isolate (`std::time` natively, `Date` through `js-sys` in wasm).
//! That is the only clock or JavaScript access in this crate's dependency
//! tree; it affects only how "recent year" patterns score.

use crate::config::PasswordHashParams;
use crate::error::ErrorCode;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;

/// Shortest accepted password, in characters (Unicode scalar values).
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in UTF-8 bytes.
pub const MAX_BYTES: usize = 1024;
/// Lowest accepted zxcvbn score (0–4).
pub const MIN_SCORE: u8 = 3;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;
/// Hash output length in bytes.
pub const OUTPUT_LEN: usize = 32;
/// Largest memory cost accepted anywhere (also in stored hashes): 1 GiB, the
/// configuration's ceiling. A stored hash above it is refused rather than
/// allowed to exhaust the isolate.
pub const MAX_MEMORY_KIB: u32 = 1 << 20;
/// Largest iteration count accepted anywhere.
pub const MAX_ITERATIONS: u32 = 10;
/// Largest parallelism accepted anywhere.
pub const MAX_PARALLELISM: u32 = 4;

/// The fixed salt of [`dummy_phc`] (not secret: the dummy never matches).
const DUMMY_SALT: [u8; SALT_LEN] = *b"agentgate-dummy!";

/// What a password must not resemble: the identity's own email and name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyInputs<'a> {
    /// The identity's email, if any.
    pub email: Option<&'a str>,
    /// The identity's display name, if any.
    pub display_name: Option<&'a str>,
}

/// Why a password was refused by the policy. Safe to show to the user: no
/// variant carries the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordPolicyError {
    /// Over [`MAX_BYTES`] UTF-8 bytes.
    #[error("the password is longer than {max_bytes} bytes")]
    TooLong {
        /// The limit, [`MAX_BYTES`].
        max_bytes: usize,
    },
    /// Under [`MIN_CHARS`] characters.
    #[error("the password is shorter than {min_chars} characters")]
    TooShort {
        /// The limit, [`MIN_CHARS`].
        min_chars: usize,
    },
    /// Equal (ignoring case) to the email or the display name.
    #[error("the password must not be your email or name")]
    SameAsIdentity,
    /// A zxcvbn score under [`MIN_SCORE`].
    #[error("the password is too easy to guess (strength {score} of 4, 3 needed){}", feedback_suffix(.feedback))]
    TooWeak {
        /// The zxcvbn score, 0–2.
        score: u8,
        /// zxcvbn's warning and suggestions, possibly empty.
        feedback: String,
    },
}

fn feedback_suffix(feedback: &str) -> String {
    if feedback.is_empty() {
        String::new()
    } else {
        format!(": {feedback}")
    }
}

impl PasswordPolicyError {
    /// Clients see `400 WEAK_PASSWORD` with this error's message.
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::WeakPassword
    }

    /// A stable machine-readable reason (the `reason` field of the 400).
    pub const fn reason_code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "too_long",
            Self::TooShort { .. } => "too_short",
            Self::SameAsIdentity => "same_as_identity",
            Self::TooWeak { .. } => "too_weak",
        }
    }
}

/// Why hashing or verifying failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password breaks the policy.
    #[error(transparent)]
    Policy(#[from] PasswordPolicyError),
    /// Hash parameters below the SPEC floor (m=19456 KiB, t=2, p=1).
    #[error("argon2 parameters are below the floor m=19456,t=2,p=1")]
    ParamsBelowFloor,
    /// Hash parameters above the ceilings ([`MAX_MEMORY_KIB`] …).
    #[error("argon2 parameters are out of range")]
    ParamsOutOfRange,
    /// The stored hash is not a parseable PHC string.
    #[error("the stored password hash is malformed")]
    MalformedHash,
    /// The stored hash is not argon2id version 19.
    #[error("the stored password hash is not argon2id v19")]
    UnsupportedAlgorithm,
    /// argon2 itself failed.
    #[error("password hashing failed")]
    Hashing,
}

impl PasswordError {
    /// The client-visible code: policy failures are `WEAK_PASSWORD`, bad
    /// configured parameters `MISCONFIGURED`, anything else internal.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Policy(p) => p.code(),
            Self::ParamsBelowFloor => ErrorCode::Misconfigured,
            _ => ErrorCode::Internal,
        }
    }
}

/// An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), the
/// stored form of a password. Its `Debug` hides the hash (an offline-cracking
/// target).
#[derive(Clone, PartialEq, Eq)]
pub struct PhcString(String);

impl PhcString {
    /// The string to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The string to store, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for PhcString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhcString(..)")
    }
}

/// Only the byte length: O(1), before anything else looks at the password.
fn check_too_long(password: &str) -> Result<(), PasswordPolicyError> {
    if password.len() > MAX_BYTES {
        return Err(PasswordPolicyError::TooLong {
            max_bytes: MAX_BYTES,
        });
    }
    Ok(())
}

/// The whole policy, cheapest check first (see the module docs): too long
/// (bytes), too short (characters), equal to email or display name (ignoring
/// case and surrounding spaces of the identity values), then zxcvbn with the
/// email, its local part, the display name and their words as user inputs.
pub fn check_policy(password: &str, inputs: PolicyInputs<'_>) -> Result<(), PasswordPolicyError> {
    // 1. Byte length first: a 2 KiB body never reaches anything else.
    check_too_long(password)?;
    // 2. Character count.
    if password.chars().count() < MIN_CHARS {
        return Err(PasswordPolicyError::TooShort {
            min_chars: MIN_CHARS,
        });
    }
    // 3. Not the identity itself.
    let lowered = password.to_lowercase();
    let identity_values = [inputs.email, inputs.display_name];
    if identity_values
        .into_iter()
        .flatten()
        .map(str::trim)
        .any(|v| !v.is_empty() && v.to_lowercase() == lowered)
    {
        return Err(PasswordPolicyError::SameAsIdentity);
    }
    // 4. Strength, the only expensive step.
    let user_inputs = user_inputs(inputs);
    let user_inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(password, &user_inputs);
    let score = u8::from(entropy.score());
    if score < MIN_SCORE {
        return Err(PasswordPolicyError::TooWeak {
            score,
            feedback: entropy
                .feedback()
                .map(describe_feedback)
                .unwrap_or_default(),
        });
    }
    Ok(())
}

/// The dictionary zxcvbn gets from the identity: the email, its local part,
/// the display name, each of their words, and each joined without separators
/// (`Alice Liddell` → `alice liddell`, `alice`, `liddell`, `aliceliddell`).
fn user_inputs(inputs: PolicyInputs<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let local_part = inputs
        .email
        .map(|e| e.split_once('@').map_or(e, |(local, _)| local));
    for value in [inputs.email, local_part, inputs.display_name]
        .into_iter()
        .flatten()
    {
        out.push(value.to_owned());
        let words: Vec<&str> = value
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .collect();
        if words.len() > 1 {
            out.push(words.concat());
        }
        out.extend(words.into_iter().map(str::to_owned));
    }
    out.dedup();
    out
}

fn describe_feedback(feedback: &zxcvbn::feedback::Feedback) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(warning) = feedback.warning() {
        parts.push(warning.to_string());
    }
    parts.extend(feedback.suggestions().iter().map(|s| s.to_string()));
    parts.join(" ")
}

/// Run the policy, and only if it passes run `then` (the hashing step). This
/// is the one place the order "validate, then hash" is decided;
/// [`set_password`] is built on it.
pub fn check_then<T>(
    password: &str,
    inputs: PolicyInputs<'_>,
    then: impl FnOnce() -> T,
) -> Result<T, PasswordPolicyError> {
    check_policy(password, inputs)?;
    Ok(then())
}

/// Setting a password (setup, register, change): the policy, then argon2id.
/// A refused password is never hashed.
pub fn set_password(
    password: &str,
    inputs: PolicyInputs<'_>,
    salt: &[u8; SALT_LEN],
    params: PasswordHashParams,
) -> Result<PhcString, PasswordError> {
    check_then(password, inputs, || hash_password(password, salt, params))?
}

fn check_params(params: PasswordHashParams) -> Result<(), PasswordError> {
    let floor = PasswordHashParams::FLOOR;
    if params.memory_kib < floor.memory_kib
        || params.iterations < floor.iterations
        || params.parallelism < floor.parallelism
    {
        return Err(PasswordError::ParamsBelowFloor);
    }
    within_ceilings(params.memory_kib, params.iterations, params.parallelism)
}

fn within_ceilings(m: u32, t: u32, p: u32) -> Result<(), PasswordError> {
    if m > MAX_MEMORY_KIB || t > MAX_ITERATIONS || p > MAX_PARALLELISM {
        return Err(PasswordError::ParamsOutOfRange);
    }
    Ok(())
}

fn hasher(params: PasswordHashParams) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(OUTPUT_LEN),
    )
    .map_err(|_| PasswordError::ParamsOutOfRange)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hash `password` with argon2id v19 at `params` (refused below the SPEC
/// floor) and the caller's random `salt`, as a PHC string. Refuses a password
/// over [`MAX_BYTES`] before hashing. Does not apply the rest of the policy:
/// use [`set_password`] for new passwords.
pub fn hash_password(
    password: &str,
    salt: &[u8; SALT_LEN],
    params: PasswordHashParams,
) -> Result<PhcString, PasswordError> {
    check_too_long(password)?;
    check_params(params)?;
    let argon2 = hasher(params)?;
    let salt = SaltString::encode_b64(salt).map_err(|_| PasswordError::Hashing)?;
    let hash = argon2
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| PasswordError::Hashing)?;
    Ok(PhcString(hash.to_string()))
}

/// Verify `password` against a stored PHC string in constant time (argon2's
/// output comparison). `Ok(false)` for a wrong password, and for a password
/// over [`MAX_BYTES`] (which no stored hash can match) without hashing. The
/// stored parameters are used as they are, even below today's floor (flag
/// those with [`needs_rehash`]), but a hash that is not argon2id v19, or whose
/// parameters exceed the ceilings, is an error.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, PasswordError> {
    if password.len() > MAX_BYTES {
        return Ok(false);
    }
    let hash = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    check_algorithm(&hash)?;
    let params = Params::try_from(&hash).map_err(|_| PasswordError::MalformedHash)?;
    within_ceilings(params.m_cost(), params.t_cost(), params.p_cost())?;
    match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(_) => Err(PasswordError::Hashing),
    }
}

fn check_algorithm(hash: &PasswordHash<'_>) -> Result<(), PasswordError> {
    let is_argon2id = hash.algorithm == Algorithm::Argon2id.ident();
    let is_v19 = hash.version == Some(Version::V0x13 as u32);
    if is_argon2id && is_v19 {
        Ok(())
    } else {
        Err(PasswordError::UnsupportedAlgorithm)
    }
}

/// The dummy PHC string for `params` (see the module docs): argon2id v19,
/// these parameters, a fixed salt and an all-zero 32-byte hash. Building it
/// costs no hashing; verifying against it costs one full argon2id run and
/// always answers `false`.
pub fn dummy_phc(params: PasswordHashParams) -> Result<PhcString, PasswordError> {
    check_params(params)?;
    let salt = SaltString::encode_b64(&DUMMY_SALT).map_err(|_| PasswordError::Hashing)?;
    // B64 (unpadded standard base64) of 32 zero bytes is 43 'A's.
    let zero_hash = "A".repeat(43);
    Ok(PhcString(format!(
        "$argon2id$v=19$m={},t={},p={}${}${zero_hash}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        salt.as_str()
    )))
}

/// A login's verification: against the stored hash when the identity exists
/// (`stored` is `Some`), otherwise against [`dummy_phc`] at the configured
/// `params` (the answer is then always `false`), so both paths cost one
/// argon2id run and the caller answers both with the same error.
pub fn verify_or_dummy(
    password: &str,
    stored: Option<&str>,
    params: PasswordHashParams,
) -> Result<bool, PasswordError> {
    match stored {
        Some(phc) => verify_password(password, phc),
        None => {
            let dummy = dummy_phc(params)?;
            verify_password(password, dummy.as_str()).map(|_| false)
        }
    }
}

/// Whether a stored hash should be replaced at the next successful login: it
/// is not argon2id v19, is malformed, or its parameters or output length
/// differ from the configured ones (higher or lower).
pub fn needs_rehash(phc: &str, params: PasswordHashParams) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    if check_algorithm(&hash).is_err() {
        return true;
    }
    let Ok(stored) = Params::try_from(&hash) else {
        return true;
    };
    stored.m_cost() != params.memory_kib
        || stored.t_cost() != params.iterations
        || stored.p_cost() != params.parallelism
        || hash.hash.is_none_or(|h| h.len() != OUTPUT_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_order_is_cheapest_first() {
        // Too long and too weak at once: the length is what is reported.
        let long = "a".repeat(MAX_BYTES + 1);
        assert_eq!(
            check_policy(&long, PolicyInputs::default()),
            Err(PasswordPolicyError::TooLong {
                max_bytes: MAX_BYTES
            })
        );
        // Short and equal to the name: shortness is reported.
        let inputs = PolicyInputs {
            email: None,
            display_name: Some("bob"),
        };
        assert!(matches!(
            check_policy("bob", inputs),
            Err(PasswordPolicyError::TooShort { .. })
        ));
    }

    #[test]
    fn dummy_is_well_formed_and_floor_checked() {
        let dummy = dummy_phc(PasswordHashParams::FLOOR).unwrap();
        assert!(PasswordHash::new(dummy.as_str()).is_ok());
        assert!(!needs_rehash(dummy.as_str(), PasswordHashParams::FLOOR));
        let weak = PasswordHashParams {
            memory_kib: 1024,
            ..PasswordHashParams::FLOOR
        };
        assert_eq!(dummy_phc(weak), Err(PasswordError::ParamsBelowFloor));
    }

    #[test]
    fn phc_debug_hides_the_hash() {
        let dummy = dummy_phc(PasswordHashParams::FLOOR).unwrap();
        assert_eq!(format!("{dummy:?}"), "PhcString(..)");
    }
}
