//! One check per fuzz target: feed the input to a parser of
//! `agentgate-shared` and assert that it does not panic and that what it
//! accepts satisfies the parser's documented invariants. A violated invariant
//! panics, which libFuzzer reports as a crash.
//!
//! Shared by the libFuzzer targets (`fuzz/fuzz_targets/*.rs`) and by the
//! corpus replay test of `agentgate-shared` (`shared/tests/fuzz_corpus.rs`),
//! so a committed crash input stays a regression test on stable Rust.

use agentgate_shared::jwt::{
    b64url_decode, b64url_encode, decode, verify_token, Algorithm, JwtError, KeySet,
    RustCryptoVerifier, Validation, VerificationKey, MAX_TOKEN_BYTES,
};
use agentgate_shared::realtime::{
    parse_client_event, ClientEvent, EventError, MAX_CLIENT_ID_BYTES, MAX_FRAME_BYTES,
    MAX_TEXT_BYTES,
};
use agentgate_shared::routes::{resolve, Method, Resolution, ROUTES};
use agentgate_shared::rules::{
    channel_type, display_name, entity_list, parse_id, Page, MAX_LISTED_ENTITIES, MAX_NAME_CHARS,
};
use agentgate_shared::session::{find_cookie, get_cookie, parse_cookie_header, CookieLookup};
use agentgate_shared::socketio::{eliza, engine, packet};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One target's check.
pub type Check = fn(&[u8]);

/// The targets by name, for the replay test.
pub const TARGETS: &[(&str, Check)] = &[
    ("jws", jws),
    ("cookie", cookie),
    ("route", route),
    ("socket_event", socket_event),
    ("fields", fields),
    ("socketio", socketio),
];

const HMAC_SECRET: &[u8] = b"fuzzing-secret-fuzzing-secret-0123456789";
const NOW: u64 = 1_700_000_000;

/// Splits the input at the first `sep` byte (the rest empty when absent).
fn split(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == sep) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// The compact JWS parser, two ways. The first byte picks the mode:
/// - even: the rest is a token, decoded under a policy allowing every
///   algorithm and verified against an HMAC key;
/// - odd: the rest is `header-json \0 payload-json`, encoded and **signed**
///   with the HMAC key, so the header and claims checks behind the signature
///   are reached too.
pub fn jws(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let keys = KeySet::new().with(VerificationKey::hmac(HMAC_SECRET).expect("a long secret"));
    let policy = Validation::new(&Algorithm::ALL);
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        // Strict base64url: what decodes re-encodes to the very same text.
        if let Some(bytes) = b64url_decode(&token) {
            assert_eq!(b64url_encode(&bytes), token, "base64url is not canonical");
        }
        match decode(&token, &policy) {
            Ok(decoded) => {
                assert!(
                    token.len() <= MAX_TOKEN_BYTES,
                    "a token over the limit parsed"
                );
                assert_eq!(token.matches('.').count(), 2, "not three segments");
                let input = std::str::from_utf8(decoded.signing_input()).expect("ascii");
                assert!(
                    token.starts_with(input),
                    "signing input is not the token's prefix"
                );
                assert!(!decoded.signature().is_empty(), "empty signature accepted");
                assert!(decoded.signature().len() <= token.len());
                assert!(policy.allows(decoded.algorithm()));
            }
            Err(JwtError::TooLarge) => assert!(token.len() > MAX_TOKEN_BYTES),
            Err(_) => {}
        }
        // What verifies carries the key's MAC over its first two segments
        // (the fuzzer can't forge one; the seeds hold a real one).
        if verify_token(&token, &keys, &policy, &RustCryptoVerifier, NOW).is_ok() {
            let (input, signature) = token.rsplit_once('.').expect("three segments");
            assert_eq!(
                signature,
                hs256(input),
                "a token verified without the key's MAC"
            );
        }
    } else {
        let (header, payload) = split(rest, 0);
        let signing_input = format!("{}.{}", b64url_encode(header), b64url_encode(payload));
        let token = format!("{signing_input}.{}", hs256(&signing_input));
        for policy in [
            policy.clone(),
            Validation::new(&[Algorithm::Hs256])
                .with_issuers(["https://issuer.example"])
                .with_audience(Some("agentgate".into())),
        ] {
            if let Ok(claims) = verify_token(&token, &keys, &policy, &RustCryptoVerifier, NOW) {
                let sub = claims.string("sub").unwrap_or_default();
                assert!(!sub.is_empty(), "a verified token without a subject");
                let alg = serde_json::from_slice::<serde_json::Value>(header)
                    .ok()
                    .and_then(|h| h.get("alg").and_then(|a| a.as_str().map(str::to_owned)));
                assert_eq!(alg.as_deref(), Some("HS256"), "verified under another alg");
            }
        }
    }
}

/// The `Cookie` header parser and the duplicate-refusing lookups.
pub fn cookie(data: &[u8]) {
    let (name, header) = split(data, b'\n');
    let name = String::from_utf8_lossy(name);
    let header = String::from_utf8_lossy(header);
    let pairs = parse_cookie_header(&header);
    for (n, v) in &pairs {
        assert!(!n.is_empty(), "an empty cookie name");
        assert!(!n.contains(';') && !v.contains(';'), "a pair spans a `;`");
        assert!(!n.contains('='), "a name holds `=`");
        assert_eq!(*n, n.trim_matches([' ', '\t']), "a name keeps its padding");
    }
    let count = pairs.iter().filter(|(n, _)| *n == name.as_ref()).count();
    let lookup = find_cookie(&header, &name);
    match count {
        0 => assert_eq!(lookup, CookieLookup::Absent),
        1 => assert!(matches!(lookup, CookieLookup::One(_))),
        _ => assert_eq!(lookup, CookieLookup::Ambiguous),
    }
    match get_cookie(&header, &name) {
        Some(v) => {
            assert_eq!(count, 1, "a duplicated cookie was read");
            assert!(!v.is_empty());
        }
        None => assert!(count != 1 || lookup == CookieLookup::One("")),
    }
}

/// The HS256 signature segment of `signing_input` under [`HMAC_SECRET`].
fn hs256(signing_input: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(HMAC_SECRET).expect("any key length");
    mac.update(signing_input.as_bytes());
    b64url_encode(&mac.finalize().into_bytes())
}

/// The route resolver: `METHOD \n path`.
pub fn route(data: &[u8]) {
    let (method, path) = split(data, b'\n');
    let method = String::from_utf8_lossy(method);
    let path = String::from_utf8_lossy(path);
    match resolve(&method, &path) {
        Resolution::Found(spec, params) => {
            assert_eq!(Method::parse(&method), Some(spec.method));
            // Round trip: the pattern with its captured parameters put back
            // is the path, and every parameter is a safe id.
            let rebuilt: Vec<&str> = spec
                .pattern
                .split('/')
                .map(|seg| match seg.strip_prefix(':') {
                    Some(name) => {
                        let v = params.get(name).expect("every parameter captured");
                        assert!(!v.is_empty() && v.len() <= 128);
                        assert!(v
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
                        v
                    }
                    None => seg,
                })
                .collect();
            assert_eq!(
                rebuilt.join("/"),
                path.as_ref(),
                "route does not round-trip"
            );
            assert!(ROUTES.iter().any(|r| std::ptr::eq(r, spec)));
        }
        Resolution::MethodNotAllowed(allowed) => {
            assert!(!allowed.is_empty());
            if let Some(m) = Method::parse(&method) {
                assert!(!allowed.contains(&m), "405 for an allowed method");
            }
            // Each allowed method does resolve.
            for m in allowed {
                assert!(matches!(resolve(m.as_str(), &path), Resolution::Found(..)));
            }
        }
        Resolution::NotFound => {
            for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                assert_eq!(resolve(m, &path), Resolution::NotFound, "path known to {m}");
            }
        }
    }
}

/// The channel socket's client events: `entity-id \n frame`.
pub fn socket_event(data: &[u8]) {
    let (entity, frame) = split(data, b'\n');
    let entity = String::from_utf8_lossy(entity);
    let frame = String::from_utf8_lossy(frame);
    match parse_client_event(&frame, &entity) {
        Ok(ClientEvent::Message { text, client_id }) => {
            assert!(frame.len() <= MAX_FRAME_BYTES);
            assert!(!text.trim().is_empty(), "a blank message accepted");
            assert!(
                text.len() <= MAX_TEXT_BYTES,
                "a message over the limit accepted"
            );
            assert!(client_id.is_none_or(|c| c.len() <= MAX_CLIENT_ID_BYTES));
        }
        Ok(_) => assert!(frame.len() <= MAX_FRAME_BYTES),
        Err(EventError::BadEvent(reason)) => {
            // The reason is echoed to the client: bounded, whatever the input.
            assert!(reason.len() <= 1024, "an unbounded error reason");
        }
        Err(_) => {}
    }
}

/// The body and query field rules: `selector, then \n-separated values`.
pub fn fields(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let values: Vec<&str> = text.split('\n').collect();
    match selector % 4 {
        0 => {
            for v in &values {
                if let Ok(id) = parse_id("id", v) {
                    // Canonical: lowercase hyphenated, and a fixed point.
                    assert_eq!(id, v.to_ascii_lowercase());
                    assert_eq!(parse_id("id", &id).as_deref(), Ok(id.as_str()));
                }
            }
        }
        1 => {
            if let Ok(name) = display_name("name", &text) {
                assert_eq!(name, name.trim());
                assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
            }
            let _ = channel_type(&text);
        }
        2 => {
            let ids: Vec<String> = values.iter().skip(1).map(|s| (*s).to_owned()).collect();
            if let Ok(list) = entity_list("participants", &ids, values[0]) {
                assert!(list.len() <= MAX_LISTED_ENTITIES);
                assert!(
                    list.windows(2).all(|w| w[0] < w[1]),
                    "not sorted and unique"
                );
                assert!(!list.iter().any(|id| id == values[0]), "the creator listed");
            }
        }
        _ => {
            let before = values.first().copied();
            let limit = values.get(1).copied();
            let max = values.get(2).map_or(0, |s| s.len() as u32 * 7);
            if let Ok(page) = Page::parse(before, limit, 50, max) {
                assert!(page.before.is_none_or(|b| b >= 0));
                assert!(page.limit <= max || (limit.is_none() && page.limit <= 50));
                assert!(limit.is_none() || page.limit >= 1);
                // A full page says where to continue; a short one does not.
                let full = page.limit as usize;
                assert_eq!(page.next_before(full, Some(7)), Some(7));
                if full > 0 {
                    assert_eq!(page.next_before(full - 1, Some(7)), None);
                }
            }
        }
    }
}

/// The Socket.IO stack, as a polling body or a WebSocket frame arrives:
/// `entity \n body`. Engine.IO packets re-encode to what decodes the same;
/// Socket.IO events go through ElizaOS's event rules, and whatever they
/// accept is within the message limits and never speaks for another sender.
pub fn socketio(data: &[u8]) {
    let (entity, body) = split(data, b'\n');
    let entity = String::from_utf8_lossy(entity);
    let body = String::from_utf8_lossy(body);
    let _ = engine::decode(&body);
    let Ok(packets) = engine::decode_payload(&body) else {
        return;
    };
    assert!(
        body.len() <= engine::MAX_PAYLOAD_BYTES,
        "a body over the limit decoded"
    );
    assert!(packets.len() <= engine::MAX_PACKETS_PER_PAYLOAD);
    for p in packets {
        let encoded = engine::encode(&p);
        assert_eq!(
            engine::decode(&encoded).as_ref(),
            Ok(&p),
            "engine packet does not round-trip"
        );
        let engine::Packet::Message(data) = p else {
            continue;
        };
        let Ok(packet::ClientPacket::Event { name, args, .. }) = packet::decode(data) else {
            continue;
        };
        match eliza::parse_event(&name, &args, &entity) {
            Ok(eliza::Command::Send {
                text,
                client_message_id,
                ..
            }) => {
                assert!(!text.trim().is_empty(), "a blank message accepted");
                assert!(
                    text.len() <= MAX_TEXT_BYTES,
                    "a message over the limit accepted"
                );
                assert!(client_message_id.is_none_or(|c| c.len() <= MAX_CLIENT_ID_BYTES));
                let payload = args.first().and_then(|a| a.get("payload")).or(args.first());
                for key in ["senderId", "author_id", "entityId"] {
                    if let Some(s) = payload.and_then(|p| p.get(key)).and_then(|v| v.as_str()) {
                        assert!(s.eq_ignore_ascii_case(&entity), "spoke for another sender");
                    }
                }
            }
            Ok(eliza::Command::Join { channel_id }) => {
                assert!(
                    parse_id("channelId", &channel_id).is_ok(),
                    "joined a non-UUID channel"
                );
            }
            Err(_) => {}
        }
    }
}
