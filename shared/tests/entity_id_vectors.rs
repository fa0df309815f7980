//! `eliza_uuid` against independently computed vectors.
//!
//! Expected values were computed outside Rust, twice, and agreed:
//! - python3: `urllib.parse.quote(s, safe="-_.!~*'()")`, `hashlib.sha1(...)`,
//!   first 16 bytes, `b[6] &= 0x0f`, `b[8] = (b[8] & 0x3f) | 0x80`, 8-4-4-4-12 hex;
//! - node: the same with the real `encodeURIComponent` and `crypto.createHash("sha1")`
//!   (ElizaOS `stringToUuid`, returning `s` as is when it matches
//!   `/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i`).

use agentgate_shared::entity_id::{eliza_uuid, encode_uri_component};

const VECTORS: &[(&str, &str)] = &[
    ("", "da39a3ee-5e6b-0b0d-b255-bfef95601890"),
    ("alice", "522b276a-356b-0f39-813d-fabea2cd43e1"),
    ("a b", "3eef69cc-e15c-0b7f-af9b-8a819fb16d49"),
    ("a/b?c=d&e", "9db0c9df-05ab-008b-b2a8-5938c339125a"),
    ("did:privy:abc", "06e05e54-634f-026c-9046-1fe2aa83d0ae"),
    ("user@example.com", "be14940a-8d93-02cf-ae30-3b5962e968cd"),
    ("é", "51b673b1-3118-0437-9b1d-d95aa960dbf0"),
    ("日本", "ef1b2804-2e42-04d8-b4f6-00198b22d3f7"),
    ("😀", "3b1cb9c3-73ce-0f5d-95b7-896b3fd16f69"),
    ("-_.!~*'()", "5d7fefa5-2f91-0fb1-b734-f27d1226ba15"),
    ("A+B#C,D;E$", "009698b2-3d06-0da3-ba38-094dbff33f19"),
    ("Zaphod Beeblebrox", "ab5fe0ae-5d6b-07f3-8f80-7f15dc0649b1"),
    ("user|123", "2f0d5797-d79c-0a76-9557-ff98932228a1"),
    (
        "auth0|5f7c8ec7c33c6c004bbafe82",
        "c314d7d5-506e-0c43-a5b5-74be82d35b99",
    ),
];

#[test]
fn matches_independently_computed_ids() {
    for (sub, expected) in VECTORS {
        assert_eq!(eliza_uuid(sub), *expected, "sub {sub:?}");
    }
}

#[test]
fn uuid_subjects_pass_through_unchanged() {
    for sub in [
        "550e8400-e29b-41d4-a716-446655440000",
        // Kept as is, upper case included, exactly like ElizaOS.
        "550E8400-E29B-41D4-A716-446655440000",
        "00000000-0000-0000-0000-000000000000",
    ] {
        assert_eq!(eliza_uuid(sub), sub);
    }
    // Near misses are hashed, not passed through.
    for near in [
        "550e8400e29b41d4a716446655440000",
        "{550e8400-e29b-41d4-a716-446655440000}",
        " 550e8400-e29b-41d4-a716-446655440000",
        "550e8400-e29b-41d4-a716-44665544000g",
    ] {
        let id = eliza_uuid(near);
        assert_ne!(id, near);
        assert_eq!(&id[14..15], "0", "version nibble 0: {id}");
    }
}

#[test]
fn encode_uri_component_matches_javascript() {
    // node: encodeURIComponent(s) for each.
    let cases = [
        ("a b", "a%20b"),
        ("a/b?c=d&e", "a%2Fb%3Fc%3Dd%26e"),
        ("did:privy:abc", "did%3Aprivy%3Aabc"),
        ("user@example.com", "user%40example.com"),
        ("é", "%C3%A9"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("😀", "%F0%9F%98%80"),
        ("-_.!~*'()", "-_.!~*'()"),
        ("A+B#C,D;E$", "A%2BB%23C%2CD%3BE%24"),
        ("[]{}<>\"\\^`|%", "%5B%5D%7B%7D%3C%3E%22%5C%5E%60%7C%25"),
        ("\u{0}\n\u{7f}", "%00%0A%7F"),
    ];
    for (s, expected) in cases {
        assert_eq!(encode_uri_component(s), expected, "{s:?}");
    }
}

#[test]
fn same_sub_same_id_different_sub_different_id() {
    assert_eq!(eliza_uuid("did:privy:abc"), eliza_uuid("did:privy:abc"));
    assert_ne!(eliza_uuid("did:privy:abc"), eliza_uuid("did:privy:abd"));
    // Encoding matters: "a b" and "a%20b" differ once encoded ("%" → "%25").
    assert_ne!(eliza_uuid("a b"), eliza_uuid("a%20b"));
}
