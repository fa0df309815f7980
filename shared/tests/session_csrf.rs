//! The CSRF decision for cookie-authenticated unsafe requests (SPEC §3 item 2).

use agentgate_shared::session::{
    check_csrf, csrf_token_from_random, token_hash, CsrfEvidence, CsrfRefusal,
};

const APP: &str = "https://app.example";

fn allowed(origin: &str) -> bool {
    origin == APP
}

/// (name, what the request presents, the session's stored CSRF hash, verdict)
type Case<'a> = (
    &'a str,
    CsrfEvidence<'a>,
    Option<&'a str>,
    Result<(), CsrfRefusal>,
);

#[test]
fn table() {
    let issued = csrf_token_from_random([7; 32]);
    let other = csrf_token_from_random([8; 32]);
    let good = issued.expose();
    let stored = token_hash(good);
    let cases: &[Case<'_>] = &[
        (
            "matching header, cookie and session, no Origin",
            CsrfEvidence {
                cookie: Some(good),
                header: Some(good),
                origin: None,
            },
            Some(&stored),
            Ok(()),
        ),
        (
            "allowed Origin",
            CsrfEvidence {
                cookie: Some(good),
                header: Some(good),
                origin: Some(APP),
            },
            Some(&stored),
            Ok(()),
        ),
        (
            "no header",
            CsrfEvidence {
                cookie: Some(good),
                header: None,
                origin: None,
            },
            Some(&stored),
            Err(CsrfRefusal::Missing),
        ),
        (
            "no cookie",
            CsrfEvidence {
                cookie: None,
                header: Some(good),
                origin: None,
            },
            Some(&stored),
            Err(CsrfRefusal::Missing),
        ),
        (
            "header differs from cookie",
            CsrfEvidence {
                cookie: Some(good),
                header: Some(other.expose()),
                origin: None,
            },
            Some(&stored),
            Err(CsrfRefusal::Mismatch),
        ),
        (
            "empty header and cookie",
            CsrfEvidence {
                cookie: Some(""),
                header: Some(""),
                origin: None,
            },
            Some(&stored),
            Err(CsrfRefusal::Mismatch),
        ),
        (
            "planted pair that matches itself but not the session",
            CsrfEvidence {
                cookie: Some(other.expose()),
                header: Some(other.expose()),
                origin: None,
            },
            Some(&stored),
            Err(CsrfRefusal::NotThisSession),
        ),
        (
            "session without a CSRF token",
            CsrfEvidence {
                cookie: Some(good),
                header: Some(good),
                origin: None,
            },
            None,
            Err(CsrfRefusal::NotThisSession),
        ),
        (
            "foreign Origin even with a valid token",
            CsrfEvidence {
                cookie: Some(good),
                header: Some(good),
                origin: Some("https://evil.example"),
            },
            Some(&stored),
            Err(CsrfRefusal::ForeignOrigin),
        ),
        (
            "Origin null",
            CsrfEvidence {
                cookie: Some(good),
                header: Some(good),
                origin: Some("null"),
            },
            Some(&stored),
            Err(CsrfRefusal::ForeignOrigin),
        ),
    ];
    for (name, evidence, session, expected) in cases {
        assert_eq!(
            check_csrf(*evidence, *session, allowed),
            *expected,
            "{name}"
        );
    }
}
