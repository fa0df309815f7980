//! The JOSE header: which members are read, which are refused, which are
//! ignored.
//!
//! - `alg` (required string): `none` in any letter case is refused
//!   ([`JwtError::UnsecuredToken`]); anything but an exact supported name is
//!   [`JwtError::UnsupportedAlgorithm`].
//! - `crit`: agentgate understands no critical extension, so any `crit` is
//!   refused ([`JwtError::UnknownCritical`]); one that is not a non-empty array
//!   of strings is [`JwtError::MalformedHeader`].
//! - `kid`, `typ`, `cty`: strings when present. `kid` only selects among
//!   configured keys; it is never interpreted (no paths, no queries).
//! - `jku`, `x5u`, `jwk`, `x5c`, `x5t`, `x5t#S256`: **never** used to find a
//!   key. They stay in [`Header::raw`] and have no effect.

use super::{Algorithm, JwtError};
use serde_json::{Map, Value};

/// The checked JOSE header of a compact JWS.
#[derive(Debug, Clone)]
pub struct Header {
    alg: Algorithm,
    kid: Option<String>,
    typ: Option<String>,
    raw: Map<String, Value>,
}

impl Header {
    /// Checks a parsed header object (see the module docs).
    pub(crate) fn from_json(raw: Map<String, Value>) -> Result<Self, JwtError> {
        let alg = match raw.get("alg") {
            Some(Value::String(name)) if name.eq_ignore_ascii_case("none") => {
                return Err(JwtError::UnsecuredToken)
            }
            Some(Value::String(name)) => {
                Algorithm::from_name(name).ok_or(JwtError::UnsupportedAlgorithm)?
            }
            _ => return Err(JwtError::MalformedHeader),
        };
        if let Some(crit) = raw.get("crit") {
            return Err(match crit {
                Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
                    JwtError::UnknownCritical
                }
                _ => JwtError::MalformedHeader,
            });
        }
        let kid = optional_string(&raw, "kid")?;
        let typ = optional_string(&raw, "typ")?;
        optional_string(&raw, "cty")?;
        Ok(Self { alg, kid, typ, raw })
    }

    /// The algorithm the token claims (still to be matched against the key).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if any: only ever compared for equality with configured kids.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `typ` member, if any (informational; not checked).
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The whole header object, including members that are ignored.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }
}

fn optional_string(raw: &Map<String, Value>, name: &str) -> Result<Option<String>, JwtError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::MalformedHeader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header(v: Value) -> Result<Header, JwtError> {
        match v {
            Value::Object(m) => Header::from_json(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn alg_rules() {
        assert_eq!(
            header(json!({"alg":"RS256"})).unwrap().alg(),
            Algorithm::Rs256
        );
        for none in ["none", "None", "NONE", "nOnE"] {
            assert_eq!(
                header(json!({ "alg": none })).unwrap_err(),
                JwtError::UnsecuredToken
            );
        }
        assert_eq!(
            header(json!({"alg":"RS512"})).unwrap_err(),
            JwtError::UnsupportedAlgorithm
        );
        assert_eq!(
            header(json!({"alg":"rs256"})).unwrap_err(),
            JwtError::UnsupportedAlgorithm
        );
        assert_eq!(header(json!({})).unwrap_err(), JwtError::MalformedHeader);
        assert_eq!(
            header(json!({"alg":null})).unwrap_err(),
            JwtError::MalformedHeader
        );
        assert_eq!(
            header(json!({"alg":["RS256"]})).unwrap_err(),
            JwtError::MalformedHeader
        );
    }

    #[test]
    fn crit_is_always_refused() {
        assert_eq!(
            header(json!({"alg":"RS256","crit":["exp"],"exp":1})).unwrap_err(),
            JwtError::UnknownCritical
        );
        for bad in [json!([]), json!("b64"), json!([1]), json!(null), json!({})] {
            assert_eq!(
                header(json!({"alg":"RS256","crit":bad})).unwrap_err(),
                JwtError::MalformedHeader
            );
        }
    }

    #[test]
    fn typed_members() {
        let h = header(json!({"alg":"ES256","kid":"k1","typ":"JWT","jku":"https://evil"})).unwrap();
        assert_eq!(h.kid(), Some("k1"));
        assert_eq!(h.typ(), Some("JWT"));
        assert!(h.raw().contains_key("jku"));
        for bad in [
            json!({"alg":"ES256","kid":1}),
            json!({"alg":"ES256","typ":{}}),
        ] {
            assert_eq!(header(bad).unwrap_err(), JwtError::MalformedHeader);
        }
    }
}
