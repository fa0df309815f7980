//! Strict decoding primitives: unpadded canonical base64url, and JSON objects
//! that refuse duplicate member names (serde_json alone keeps the last one,
//! which lets two parsers disagree about a token's claims).

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

/// base64url without padding; non-canonical trailing bits are refused so each
/// byte string has exactly one accepted encoding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes unpadded base64url (`A-Z a-z 0-9 - _` only; no `=`, no whitespace,
/// canonical trailing bits). `None` for anything else.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    B64URL.decode(s).ok()
}

/// Encodes bytes as unpadded base64url.
pub fn b64url_encode(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

/// Why [`parse_json_object`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Not UTF-8 JSON, trailing data, or not an object at the top level.
    Invalid,
    /// Some object (at any depth) repeats a member name.
    DuplicateKey,
}

/// Parses `bytes` as one JSON object, refusing duplicate member names at any
/// depth, trailing data and non-object documents. Nesting is bounded by
/// serde_json's recursion limit.
pub fn parse_json_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match parse_json(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::Invalid),
    }
}

/// Parses any JSON document, refusing duplicate member names at any depth.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonError> {
    let duplicate = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed {
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match value {
        Ok(v) => Ok(v),
        Err(_) if duplicate.get() => Err(JsonError::DuplicateKey),
        Err(_) => Err(JsonError::Invalid),
    }
}

/// Builds a `serde_json::Value`, failing (and raising the flag) on the first
/// repeated member name.
#[derive(Clone, Copy)]
struct StrictSeed<'a> {
    duplicate: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                self.duplicate.set(true);
                return Err(de::Error::custom("duplicate member name"));
            }
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(b64url_decode("AQAB"), Some(vec![1, 0, 1]));
        assert_eq!(b64url_decode("_-8"), Some(vec![0xff, 0xef]));
        assert_eq!(b64url_decode(""), Some(vec![]));
        for bad in [
            "AQAB=", "AQ==", "A", "AQ+B", "AQ/B", "AQ B", "AQ\nB", "AR", "é",
        ] {
            assert_eq!(b64url_decode(bad), None, "{bad:?}");
        }
        assert_eq!(b64url_encode(&[0xff, 0xef]), "_-8");
    }

    #[test]
    fn json_objects_refuse_duplicates_at_any_depth() {
        assert!(parse_json_object(br#"{"a":1,"b":{"c":[1,{"d":2}]}}"#).is_ok());
        for dup in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"a":{"b":1,"b":1}}"#,
            br#"{"a":[{"x":1,"x":2}]}"#,
            br#"{"a":1,"\u0061":2}"#,
        ] {
            assert_eq!(parse_json_object(dup), Err(JsonError::DuplicateKey));
        }
        for bad in [
            &b"[1]"[..],
            b"\"s\"",
            b"{} {}",
            b"{",
            b"",
            b"\xff",
            br#"{"a":"\ud800"}"#,
        ] {
            assert_eq!(parse_json_object(bad), Err(JsonError::Invalid), "{bad:?}");
        }
    }
}
