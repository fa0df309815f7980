//! ElizaOS-compatible deterministic entity ids (SPEC §2).
//!
//! A caller proven by an external JWT is known to the agent runtime by
//! `eliza_uuid(sub)`, the same id ElizaOS's `stringToUuid` derives, so an
//! identity means the same entity over HTTP, over WebSocket and inside the
//! agent:
//!
//! 1. a `sub` that already is a UUID (ElizaOS's `validateUuid`:
//!    `/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i`) is
//!    returned **as is**, letter case preserved, exactly like ElizaOS (which
//!    does not lowercase it either);
//! 2. otherwise `encodeURIComponent(sub)` (see [`encode_uri_component`]) is
//!    hashed with SHA-1, the first 16 bytes are kept, `b[6] &= 0x0f` (version
//!    nibble 0, ElizaOS's custom version) and `b[8] = (b[8] & 0x3f) | 0x80`
//!    (RFC 4122 variant), printed as lowercase 8-4-4-4-12 hex.

use sha1::{Digest, Sha1};

/// The ElizaOS deterministic entity id of a JWT `sub` (see the module docs).
pub fn eliza_uuid(sub: &str) -> String {
    if is_uuid(sub) {
        return sub.to_owned();
    }
    let digest = Sha1::digest(encode_uri_component(sub).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] &= 0x0f;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Whether `s` has the 8-4-4-4-12 hex shape ElizaOS's `validateUuid`
/// accepts (any letter case, no braces, no version or variant check).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// JavaScript's `encodeURIComponent`: the characters `A-Z a-z 0-9 - _ . ! ~ * ' ( )`
/// stay as they are; every other character is percent-encoded byte by byte
/// from its UTF-8 form with UPPERCASE hex. (A Rust `&str` cannot hold the lone
/// surrogates for which JavaScript throws, so this never fails.)
pub fn encode_uri_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for &byte in s.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("550e8400-e29b-41d4-a716-446655440000"));
        assert!(is_uuid("550E8400-E29B-41D4-A716-446655440000"));
        for not in [
            "",
            "550e8400e29b41d4a716446655440000",
            "{550e8400-e29b-41d4-a716-446655440000}",
            "550e8400-e29b-41d4-a716-44665544000g",
            "550e8400-e29b-41d4-a716-4466554400000",
            "550e8400+e29b-41d4-a716-446655440000",
        ] {
            assert!(!is_uuid(not), "{not:?}");
        }
    }

    #[test]
    fn output_has_version_zero_and_rfc4122_variant() {
        let id = eliza_uuid("someone");
        assert!(is_uuid(&id));
        assert_eq!(&id[14..15], "0", "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_eq!(id, id.to_lowercase());
    }
}
