//! Password policy and hashing (SPEC §5).

use agentgate_shared::config::PasswordHashParams;
use agentgate_shared::password::{
    check_policy, check_then, dummy_phc, hash_password, needs_rehash, set_password,
    verify_or_dummy, verify_password, PasswordError, PasswordPolicyError, PolicyInputs, MAX_BYTES,
    MIN_CHARS,
};
use agentgate_shared::ErrorCode;
use std::cell::Cell;

const STRONG: &str = "vintage-pelican-harbor-42";
const SALT: [u8; 16] = *b"0123456789abcdef";

const ALICE: PolicyInputs<'static> = PolicyInputs {
    email: Some("alice.liddell@example.com"),
    display_name: Some("Alice Liddell"),
};

#[test]
fn weak_passwords_are_refused_with_a_reason() {
    for weak in [
        "password1234",
        "123456789012",
        "aaaaaaaaaaaa",
        "qwertyuiop12",
        "Password1234!",
        "abcdefghijklmnop",
    ] {
        match check_policy(weak, PolicyInputs::default()) {
            Err(PasswordPolicyError::TooWeak { score, feedback }) => {
                assert!(score < 3, "{weak}: {score}");
                let message = PasswordPolicyError::TooWeak {
                    score,
                    feedback: feedback.clone(),
                }
                .to_string();
                assert!(message.contains("too easy to guess"), "{message}");
                assert!(
                    !message.contains(weak),
                    "the message never echoes the password"
                );
            }
            other => panic!("{weak}: {other:?}"),
        }
    }
}

#[test]
fn length_limits() {
    // 11 characters, strong-looking: too short.
    assert_eq!(
        check_policy("Zq8#vW2!mK5", PolicyInputs::default()),
        Err(PasswordPolicyError::TooShort {
            min_chars: MIN_CHARS
        })
    );
    // 12 characters, strong: accepted.
    assert_eq!(
        check_policy("Zq8#vW2!mK5p", PolicyInputs::default()),
        Ok(())
    );
    // Characters, not bytes: 11 multi-byte characters (33 bytes) are too short.
    assert!(matches!(
        check_policy("ü字🦀ü字🦀ü字🦀ü字", PolicyInputs::default()),
        Err(PasswordPolicyError::TooShort { .. })
    ));
    // 1024 bytes is the limit; 1025 is over it.
    let at_limit: String = STRONG.chars().cycle().take(MAX_BYTES).collect();
    assert_ne!(
        check_policy(&at_limit, PolicyInputs::default()),
        Err(PasswordPolicyError::TooLong {
            max_bytes: MAX_BYTES
        })
    );
    let over = format!("{at_limit}x");
    assert_eq!(
        check_policy(&over, PolicyInputs::default()),
        Err(PasswordPolicyError::TooLong {
            max_bytes: MAX_BYTES
        })
    );
    // 300 three-byte characters: 900 bytes, allowed by length; 400: 1200, refused.
    assert!(!matches!(
        check_policy(&"字".repeat(300), PolicyInputs::default()),
        Err(PasswordPolicyError::TooLong { .. })
    ));
    assert!(matches!(
        check_policy(&"字".repeat(400), PolicyInputs::default()),
        Err(PasswordPolicyError::TooLong { .. })
    ));
}

#[test]
fn two_kib_password_is_refused_without_hashing() {
    let two_kib: String = STRONG.chars().cycle().take(2048).collect();
    let hashed = Cell::new(false);
    let result = check_then(&two_kib, PolicyInputs::default(), || hashed.set(true));
    assert_eq!(
        result,
        Err(PasswordPolicyError::TooLong {
            max_bytes: MAX_BYTES
        })
    );
    assert!(!hashed.get(), "the hashing step never ran");

    // The real flow and the low-level functions refuse it too, before argon2.
    let err = set_password(
        &two_kib,
        PolicyInputs::default(),
        &SALT,
        PasswordHashParams::FLOOR,
    )
    .unwrap_err();
    assert_eq!(
        err,
        PasswordError::Policy(PasswordPolicyError::TooLong {
            max_bytes: MAX_BYTES
        })
    );
    assert_eq!(err.code(), ErrorCode::WeakPassword);
    assert!(matches!(
        hash_password(&two_kib, &SALT, PasswordHashParams::FLOOR),
        Err(PasswordError::Policy(PasswordPolicyError::TooLong { .. }))
    ));
    let dummy = dummy_phc(PasswordHashParams::FLOOR).unwrap();
    assert_eq!(verify_password(&two_kib, dummy.as_str()), Ok(false));

    // A policy pass does run the step.
    assert_eq!(
        check_then(STRONG, PolicyInputs::default(), || hashed.set(true)),
        Ok(())
    );
    assert!(hashed.get());
}

#[test]
fn identity_values_are_refused() {
    let cases = [
        "alice.liddell@example.com",
        "ALICE.LIDDELL@EXAMPLE.COM",
        "alice liddell",
        "Alice Liddell",
    ];
    for pw in cases {
        assert_eq!(
            check_policy(pw, ALICE),
            Err(PasswordPolicyError::SameAsIdentity),
            "{pw}"
        );
    }
    // Built from the identity: zxcvbn knows the user inputs.
    assert!(matches!(
        check_policy("aliceliddell1", ALICE),
        Err(PasswordPolicyError::TooWeak { .. })
    ));
    assert_eq!(check_policy(STRONG, ALICE), Ok(()));
    assert_eq!(
        PasswordPolicyError::SameAsIdentity.code(),
        ErrorCode::WeakPassword
    );
}

#[test]
fn hash_verify_roundtrip_and_parameters() {
    // The only test that hashes more than once; each run is one argon2id at
    // the floor parameters.
    let phc = set_password(STRONG, ALICE, &SALT, PasswordHashParams::FLOOR).unwrap();
    assert!(
        phc.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        phc.as_str()
    );
    assert!(!phc.as_str().contains(STRONG));
    assert_eq!(verify_password(STRONG, phc.as_str()), Ok(true));
    assert_eq!(
        verify_password("vintage-pelican-harbor-43", phc.as_str()),
        Ok(false)
    );
    assert!(!needs_rehash(phc.as_str(), PasswordHashParams::FLOOR));
    let stronger = PasswordHashParams {
        iterations: 3,
        ..PasswordHashParams::FLOOR
    };
    assert!(needs_rehash(phc.as_str(), stronger));

    // Unknown email: the dummy path answers false.
    assert_eq!(
        verify_or_dummy(STRONG, None, PasswordHashParams::FLOOR),
        Ok(false)
    );
    assert_eq!(
        verify_or_dummy(STRONG, Some(phc.as_str()), PasswordHashParams::FLOOR),
        Ok(true)
    );
}

#[test]
fn parameters_below_the_floor_are_refused() {
    for weak in [
        PasswordHashParams {
            memory_kib: 19_455,
            ..PasswordHashParams::FLOOR
        },
        PasswordHashParams {
            iterations: 1,
            ..PasswordHashParams::FLOOR
        },
        PasswordHashParams {
            parallelism: 0,
            ..PasswordHashParams::FLOOR
        },
    ] {
        assert_eq!(
            hash_password(STRONG, &SALT, weak),
            Err(PasswordError::ParamsBelowFloor)
        );
        assert_eq!(dummy_phc(weak), Err(PasswordError::ParamsBelowFloor));
    }
    assert_eq!(
        PasswordError::ParamsBelowFloor.code(),
        ErrorCode::Misconfigured
    );
}

#[test]
fn stored_hashes_are_checked_before_hashing() {
    let cases: &[(&str, PasswordError)] = &[
        ("", PasswordError::MalformedHash),
        ("not a hash", PasswordError::MalformedHash),
        (
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            PasswordError::UnsupportedAlgorithm,
        ),
        (
            "$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            PasswordError::UnsupportedAlgorithm,
        ),
        (
            "$pbkdf2-sha256$i=1000$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            PasswordError::UnsupportedAlgorithm,
        ),
        // 4 GiB of memory: refused rather than attempted.
        (
            "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            PasswordError::ParamsOutOfRange,
        ),
    ];
    for (phc, err) in cases {
        assert_eq!(verify_password(STRONG, phc).as_ref(), Err(err), "{phc}");
        assert!(needs_rehash(phc, PasswordHashParams::FLOOR));
    }
}
