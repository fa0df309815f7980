//! Secret material wrapped so it can't leak through `Debug` or logs.

use subtle::ConstantTimeEq;

/// A secret string (a shared key, a token). It deliberately implements neither
/// `Debug` nor `Display`; read it with [`Secret::expose`] where it is used.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for the one place that needs them.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison with a presented value (length leaks, content doesn't).
    pub fn matches(&self, presented: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_value() {
        let s = Secret::new("correct horse");
        assert!(s.matches("correct horse"));
        for wrong in ["correct hors", "correct horsE", "", "correct horse "] {
            assert!(!s.matches(wrong), "{wrong:?} must not match");
        }
    }
}
