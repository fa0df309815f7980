//! The CSRF decision for cookie-authenticated unsafe requests (SPEC §3 item 2).

use agentgate_shared::session::{
    check_csrf, check_sign_in, csrf_token_from_random, token_hash, CsrfEvidence, CsrfRefusal,
    SignInRefusal,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
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
                sec_fetch_site: None,
            },
            Some(&stored),
            Err(CsrfRefusal::ForeignOrigin),
        ),
        (
            "allowed Origin alone: the same-origin UI sends no header",
            CsrfEvidence {
                cookie: Some(good),
                header: None,
                origin: Some(APP),
                sec_fetch_site: None,
            },
            Some(&stored),
            Ok(()),
        ),
        (
            "no Origin, Sec-Fetch-Site same-origin",
            CsrfEvidence {
                cookie: Some(good),
                header: None,
                origin: None,
                sec_fetch_site: Some("same-origin"),
            },
            Some(&stored),
            Ok(()),
        ),
        (
            "no Origin, Sec-Fetch-Site cross-site, no header",
            CsrfEvidence {
                cookie: Some(good),
                header: None,
                origin: None,
                sec_fetch_site: Some("cross-site"),
            },
            Some(&stored),
            Err(CsrfRefusal::Missing),
        ),
        (
            "allowed-looking Origin with a suffix",
            CsrfEvidence {
                cookie: Some(good),
                header: None,
                origin: Some("https://app.example.evil.example"),
                sec_fetch_site: Some("same-origin"),
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

/// (name, Origin, Sec-Fetch-Site, Content-Type, verdict)
type SignInCase<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Result<(), SignInRefusal>,
);

/// SPEC §3: the routes that sign a browser in take the Origin rule and JSON.
#[test]
fn sign_in_needs_same_site_and_json() {
    const JSON: Option<&str> = Some("application/json; charset=utf-8");
    let cases: &[SignInCase] = &[
        ("non-browser client", None, None, JSON, Ok(())),
        (
            "the app's own page",
            Some(APP),
            Some("same-origin"),
            JSON,
            Ok(()),
        ),
        (
            "upper-case media type",
            None,
            None,
            Some("Application/JSON"),
            Ok(()),
        ),
        (
            "foreign page, JSON",
            Some("https://evil.example"),
            Some("cross-site"),
            JSON,
            Err(SignInRefusal::CrossSite),
        ),
        (
            "foreign form without Origin",
            None,
            Some("cross-site"),
            JSON,
            Err(SignInRefusal::CrossSite),
        ),
        (
            "sibling site without Origin",
            None,
            Some("same-site"),
            JSON,
            Err(SignInRefusal::CrossSite),
        ),
        (
            "Origin null",
            Some("null"),
            None,
            JSON,
            Err(SignInRefusal::CrossSite),
        ),
        (
            "text/plain",
            None,
            None,
            Some("text/plain"),
            Err(SignInRefusal::NotJson),
        ),
        (
            "form",
            Some(APP),
            None,
            Some("application/x-www-form-urlencoded"),
            Err(SignInRefusal::NotJson),
        ),
        (
            "no content type",
            None,
            None,
            None,
            Err(SignInRefusal::NotJson),
        ),
        (
            "json lookalike",
            None,
            None,
            Some("application/jsonp"),
            Err(SignInRefusal::NotJson),
        ),
    ];
    for (name, origin, site, content_type, expected) in cases {
        assert_eq!(
            check_sign_in(*origin, *site, *content_type, allowed),
            *expected,
            "{name}"
        );
    }
}
