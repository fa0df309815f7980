//! Identifier formats. Randomness comes in as bytes (sans-IO).

/// A UUID version 7 (RFC 9562): 48-bit unix-millisecond timestamp, then 74
/// random bits; sorts by creation time.
pub fn uuid_v7(now_ms: u64, random: [u8; 10]) -> String {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&now_ms.to_be_bytes()[2..]);
    b[6..].copy_from_slice(&random);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_variant_and_order() {
        let a = uuid_v7(1_700_000_000_000, [0xff; 10]);
        let b = uuid_v7(1_700_000_000_001, [0x00; 10]);
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert!(a < b, "later ids sort after earlier ones");
        assert!(a.starts_with("018bcfe5-6800-7"), "{a}");
    }
}

/// SHA-256 of a presented secret, hex: what is stored instead of the secret.
pub fn sha256_hex(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// An opaque bearer secret: `prefix` + base64url (no padding) of 32 random bytes.
pub fn prefixed_token(prefix: &str, random: [u8; 32]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random))
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn prefixed_token_shape() {
        let t = prefixed_token("agt_", [7u8; 32]);
        assert!(t.starts_with("agt_"));
        assert_eq!(t.len(), 4 + 43);
        assert_ne!(t, prefixed_token("agt_", [8u8; 32]));
    }
}
