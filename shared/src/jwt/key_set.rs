//! The set of keys a token is checked against, and how a token's `kid` and
//! `alg` select candidates from it.

use super::{Algorithm, JwtError, VerificationKey};

/// The keys a token may be verified against: the JWKS keys and/or the shared
/// secret. Cheap to clone.
#[derive(Clone, Default, Debug)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

/// The candidate keys for one token (see [`KeySet::select`]).
#[derive(Debug)]
pub struct KeySelection<'k> {
    /// Keys to try, in set order; all bound to the token's algorithm.
    pub candidates: Vec<&'k VerificationKey>,
    /// The token named a `kid` that no key in the set has; the candidates are
    /// then only keys without a kid. If none verifies, the answer is
    /// [`JwtError::UnknownKid`] so the caller may refetch.
    pub kid_unknown: bool,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    pub fn push(&mut self, key: VerificationKey) {
        self.keys.push(key);
    }

    /// This set with `key` added.
    pub fn with(mut self, key: VerificationKey) -> Self {
        self.push(key);
        self
    }

    /// The keys of `self` followed by those of `other`.
    pub fn chain(&self, other: &KeySet) -> KeySet {
        let mut keys = self.keys.clone();
        keys.extend(other.keys.iter().cloned());
        KeySet { keys }
    }

    /// The keys, in order.
    pub fn iter(&self) -> impl Iterator<Item = &VerificationKey> {
        self.keys.iter()
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether some key has exactly this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid() == Some(kid))
    }

    /// The keys a token with algorithm `alg` and key id `kid` may be checked
    /// with. Every candidate is bound to `alg`.
    ///
    /// - With a `kid`: the keys carrying exactly that kid. If there are some
    ///   but none is bound to `alg` → [`JwtError::AlgorithmMismatch`]. If no key
    ///   has that kid, keys *without* a kid that are bound to `alg` (the shared
    ///   secret) are the candidates; if there are none → [`JwtError::UnknownKid`].
    /// - Without a `kid`: every key bound to `alg`; none →
    ///   [`JwtError::NoMatchingKey`].
    ///
    /// The kid is compared byte for byte and never interpreted, so odd
    /// characters (`../`, quotes) are simply a non-match.
    pub fn select(&self, alg: Algorithm, kid: Option<&str>) -> Result<KeySelection<'_>, JwtError> {
        let bound = |k: &&VerificationKey| k.algorithm() == alg;
        match kid {
            Some(kid) => {
                let named: Vec<&VerificationKey> =
                    self.keys.iter().filter(|k| k.kid() == Some(kid)).collect();
                if !named.is_empty() {
                    let candidates: Vec<_> = named.into_iter().filter(bound).collect();
                    if candidates.is_empty() {
                        return Err(JwtError::AlgorithmMismatch);
                    }
                    return Ok(KeySelection {
                        candidates,
                        kid_unknown: false,
                    });
                }
                let candidates: Vec<_> = self
                    .keys
                    .iter()
                    .filter(|k| k.kid().is_none())
                    .filter(bound)
                    .collect();
                if candidates.is_empty() {
                    return Err(JwtError::UnknownKid);
                }
                Ok(KeySelection {
                    candidates,
                    kid_unknown: true,
                })
            }
            None => {
                let candidates: Vec<_> = self.keys.iter().filter(bound).collect();
                if candidates.is_empty() {
                    return Err(JwtError::NoMatchingKey);
                }
                Ok(KeySelection {
                    candidates,
                    kid_unknown: false,
                })
            }
        }
    }
}

impl FromIterator<VerificationKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = VerificationKey>>(iter: I) -> Self {
        Self {
            keys: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed(seed: u8) -> VerificationKey {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        VerificationKey::ed25519(sk.verifying_key().as_bytes()).unwrap()
    }

    #[test]
    fn selection_by_kid() {
        let secret = VerificationKey::hmac(&[9; 32]).unwrap();
        let set = KeySet::new()
            .with(ed(1).with_kid("a"))
            .with(ed(2).with_kid("b"))
            .with(secret);
        let s = set.select(Algorithm::EdDsa, Some("b")).unwrap();
        assert_eq!(s.candidates.len(), 1);
        assert_eq!(s.candidates[0].kid(), Some("b"));
        assert!(!s.kid_unknown);
        assert_eq!(
            set.select(Algorithm::EdDsa, None).unwrap().candidates.len(),
            2
        );
        assert_eq!(
            set.select(Algorithm::Hs256, Some("a")).unwrap_err(),
            JwtError::AlgorithmMismatch
        );
        assert_eq!(
            set.select(Algorithm::EdDsa, Some("zzz")).unwrap_err(),
            JwtError::UnknownKid
        );
        let hs = set.select(Algorithm::Hs256, Some("zzz")).unwrap();
        assert!(hs.kid_unknown);
        assert_eq!(hs.candidates[0].algorithm(), Algorithm::Hs256);
        assert_eq!(
            set.select(Algorithm::Rs256, None).unwrap_err(),
            JwtError::NoMatchingKey
        );
        assert!(set.contains_kid("a") && !set.contains_kid("A"));
    }
}
