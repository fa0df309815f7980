//! Session credentials (SPEC §3, §4, §7): cookie attributes exactly as
//! specified, cookie parsing, CSRF double submit, token formats and hashes,
//! permission sets.

use agentgate_shared::ids::sha256_hex;
use agentgate_shared::routes::Permission;
use agentgate_shared::session::{
    clear_session_cookies, cookie_secure, csrf_ok, csrf_token_from_random, find_cookie, get_cookie,
    looks_like_machine_token, looks_like_session_token, looks_like_ws_ticket,
    machine_token_from_random, parse_cookie_header, permissions_for, session_cookies,
    session_id_hash, session_token_from_random, token_hash, ws_ticket_from_random, CookieLookup,
    IdentityKind, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, USER_BASE_PERMISSIONS,
};
use std::collections::BTreeSet;

fn attributes(cookie: &str) -> Vec<&str> {
    cookie.split("; ").collect()
}

#[test]
fn session_cookies_have_exactly_the_spec_attributes() {
    let session = session_token_from_random([0xab; 32]);
    let csrf = csrf_token_from_random([0xcd; 32]);
    let [s, c] = session_cookies(&session, &csrf, 86_400, true);
    assert_eq!(
        s,
        format!(
            "eliza_session={}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=86400",
            "ab".repeat(32)
        )
    );
    assert_eq!(
        c,
        format!(
            "eliza_csrf={}; Secure; SameSite=Lax; Path=/; Max-Age=86400",
            "cd".repeat(32)
        )
    );
    assert_eq!(
        attributes(&s)[1..],
        [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=86400"
        ]
    );
    assert_eq!(
        attributes(&c)[1..],
        ["Secure", "SameSite=Lax", "Path=/", "Max-Age=86400"]
    );
    assert!(!c.contains("HttpOnly"), "the CSRF cookie is readable");

    // Loopback development: Secure is the only attribute dropped.
    let [s, c] = session_cookies(&session, &csrf, 60, false);
    assert_eq!(
        attributes(&s)[1..],
        ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60"]
    );
    assert_eq!(
        attributes(&c)[1..],
        ["SameSite=Lax", "Path=/", "Max-Age=60"]
    );
}

#[test]
fn clearing_cookies() {
    assert_eq!(
        clear_session_cookies(true),
        [
            "eliza_session=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0".to_owned(),
            "eliza_csrf=; Secure; SameSite=Lax; Path=/; Max-Age=0".to_owned(),
        ]
    );
    assert_eq!(
        clear_session_cookies(false)[0],
        "eliza_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
    );
}

#[test]
fn secure_is_dropped_only_for_loopback_in_development() {
    let cases: &[(bool, &str, bool)] = &[
        (true, "localhost", false),
        (true, "localhost:8787", false),
        (true, "127.0.0.1", false),
        (true, "127.0.0.1:8787", false),
        (true, "[::1]:8787", false),
        (true, "[::1]", false),
        (true, "::1", false),
        (true, "example.com", true),
        (true, "example.com:443", true),
        (true, "localhost.example.com", true),
        (true, "10.0.0.1:8787", true),
        (false, "localhost", true),
        (false, "127.0.0.1:8787", true),
        (false, "example.com", true),
    ];
    for &(dev, host, secure) in cases {
        assert_eq!(cookie_secure(dev, host), secure, "dev={dev} host={host}");
    }
}

#[test]
fn cookie_header_parsing() {
    assert_eq!(
        parse_cookie_header("a=1; b=2;c=3 ;  d = 4 ;\te=\"quoted\"; flag; =nameless; f=x=y; g="),
        [
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("e", "quoted"),
            ("f", "x=y"),
            ("g", ""),
        ]
    );
    assert!(parse_cookie_header("").is_empty());
    assert!(parse_cookie_header(";;; ;").is_empty());

    let header = "theme=dark; eliza_session=abc; eliza_csrf=def";
    assert_eq!(get_cookie(header, SESSION_COOKIE), Some("abc"));
    assert_eq!(get_cookie(header, CSRF_COOKIE), Some("def"));
    assert_eq!(get_cookie(header, "missing"), None);
    // Names are case-sensitive and matched whole.
    assert_eq!(get_cookie("Eliza_Session=abc", SESSION_COOKIE), None);
    assert_eq!(get_cookie("xeliza_session=abc", SESSION_COOKIE), None);
    // Empty value counts as absent.
    assert_eq!(get_cookie("eliza_session=", SESSION_COOKIE), None);
    assert_eq!(
        find_cookie("eliza_session=", SESSION_COOKIE),
        CookieLookup::One("")
    );
}

#[test]
fn duplicated_cookie_is_ambiguous_and_ignored() {
    // A second eliza_csrf planted by a sibling subdomain (cookie tossing).
    let header = "eliza_csrf=attacker; eliza_session=abc; eliza_csrf=real";
    assert_eq!(find_cookie(header, CSRF_COOKIE), CookieLookup::Ambiguous);
    assert_eq!(get_cookie(header, CSRF_COOKIE), None);
    assert!(!csrf_ok(get_cookie(header, CSRF_COOKIE), Some("attacker")));
    assert!(!csrf_ok(get_cookie(header, CSRF_COOKIE), Some("real")));
    // The other cookie is unaffected.
    assert_eq!(get_cookie(header, SESSION_COOKIE), Some("abc"));
    // Even two identical copies are refused.
    assert_eq!(
        get_cookie("eliza_session=a; eliza_session=a", SESSION_COOKIE),
        None
    );
    assert_eq!(find_cookie("x=1", SESSION_COOKIE), CookieLookup::Absent);
}

#[test]
fn csrf_double_submit() {
    let token = "f".repeat(64);
    let cases: &[(Option<&str>, Option<&str>, bool)] = &[
        (None, None, false),
        (None, Some(&token), false),
        (Some(&token), None, false),
        (Some(""), Some(""), false),
        (Some(&token), Some(""), false),
        (Some(""), Some(&token), false),
        (Some(&token), Some("e"), false),
        (Some(&token), Some(&token[..63]), false),
        (Some("abc"), Some("abd"), false),
        (Some("abc"), Some("ABC"), false),
        (Some(&token), Some(&token), true),
        (Some("abc"), Some("abc"), true),
    ];
    for &(cookie, header, ok) in cases {
        assert_eq!(
            csrf_ok(cookie, header),
            ok,
            "cookie={cookie:?} header={header:?}"
        );
    }
    assert_eq!(CSRF_HEADER, "x-eliza-csrf");
}

#[test]
fn token_formats_and_hashes() {
    let session = session_token_from_random([0x01; 32]);
    assert_eq!(session.expose(), "01".repeat(32));
    assert!(looks_like_session_token(session.expose()));
    assert_eq!(
        session_id_hash(session.expose()),
        sha256_hex(session.expose())
    );
    assert_eq!(session.storage_hash(), session_id_hash(session.expose()));
    assert_ne!(session.storage_hash(), session.expose());
    assert_eq!(session.storage_hash().len(), 64);
    assert!(session.matches(&"01".repeat(32)));
    assert!(!session.matches(&"01".repeat(31)));

    for bad in [
        "",
        &"0".repeat(63),
        &"0".repeat(65),
        &"A".repeat(64),
        &"g".repeat(64),
    ] {
        assert!(!looks_like_session_token(bad), "{bad:?}");
    }

    let machine = machine_token_from_random([0xff; 32]);
    assert_eq!(machine.expose(), format!("agm_{}", "_".repeat(42) + "8"));
    assert!(looks_like_machine_token(machine.expose()));
    assert!(!looks_like_ws_ticket(machine.expose()));
    assert_eq!(machine.storage_hash(), token_hash(machine.expose()));

    let ticket = ws_ticket_from_random([0x00; 32]);
    assert_eq!(ticket.expose(), format!("agt_{}", "A".repeat(43)));
    assert!(looks_like_ws_ticket(ticket.expose()));
    assert!(!looks_like_machine_token(ticket.expose()));

    let body = &machine.expose()[4..];
    for bad in [
        "agm_".to_owned(),
        format!("agm_{}", &body[..42]),
        format!("agm_{body}A"),
        format!("agm_{body}="),
        format!("AGM_{body}"),
        format!("agm_{}+", &body[..42]),
        // Non-canonical trailing bits (43 chars encode 258 bits).
        format!("agm_{}9", &body[..42]),
        format!("Bearer agm_{body}"),
    ] {
        assert!(!looks_like_machine_token(&bad), "{bad}");
    }
}

#[test]
fn distinct_random_gives_distinct_tokens() {
    let a = session_token_from_random([1; 32]);
    let b = session_token_from_random([2; 32]);
    assert_ne!(a.expose(), b.expose());
    assert_ne!(a.storage_hash(), b.storage_hash());
}

#[test]
fn permission_sets() {
    let all: BTreeSet<_> = Permission::ALL.into_iter().collect();
    assert_eq!(permissions_for(IdentityKind::Owner, false, &[]), all);
    assert_eq!(
        permissions_for(IdentityKind::Owner, true, &[Permission::AgentRead]),
        all
    );

    let user = permissions_for(IdentityKind::User, false, &[Permission::SystemWrite]);
    assert_eq!(user, USER_BASE_PERMISSIONS.into_iter().collect());
    assert!(!user.contains(&Permission::Admin));
    assert!(!user.contains(&Permission::SystemWrite));
    for p in [
        "agent:read",
        "agent:create",
        "agent:write",
        "memory:read",
        "memory:write",
        "messaging:read",
        "messaging:send",
        "system:read",
    ] {
        assert!(user.contains(&Permission::parse(p).unwrap()), "{p}");
    }

    let admin = permissions_for(IdentityKind::User, true, &[]);
    assert!(admin.contains(&Permission::Admin));
    assert_eq!(admin.len(), USER_BASE_PERMISSIONS.len() + 1);

    let machine = permissions_for(IdentityKind::Machine, true, &[Permission::MessagingRead]);
    assert_eq!(machine, [Permission::MessagingRead].into_iter().collect());
    assert!(permissions_for(IdentityKind::Machine, false, &[]).is_empty());

    for k in [
        IdentityKind::Owner,
        IdentityKind::User,
        IdentityKind::Machine,
    ] {
        assert_eq!(IdentityKind::parse(k.as_str()), Some(k));
    }
}
