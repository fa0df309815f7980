//! The explicit verification policy (modelled on jsonwebtoken's `Validation`).

use super::Algorithm;

/// What a token must satisfy beyond its signature. Built explicitly; there is
/// no permissive default for the algorithm allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    algorithms: Vec<Algorithm>,
    leeway_secs: u64,
    issuers: Vec<String>,
    audience: Option<String>,
    require_subject: bool,
}

impl Validation {
    /// The default clock leeway, in seconds.
    pub const DEFAULT_LEEWAY_SECS: u64 = 60;
    /// The largest clock leeway accepted, in seconds.
    pub const MAX_LEEWAY_SECS: u64 = 300;

    /// A policy allowing exactly `algorithms`: leeway 60 s, any issuer, no
    /// audience, `exp` and `sub` required.
    pub fn new(algorithms: &[Algorithm]) -> Self {
        let mut algs = Vec::with_capacity(algorithms.len());
        for alg in algorithms {
            if !algs.contains(alg) {
                algs.push(*alg);
            }
        }
        Self {
            algorithms: algs,
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
            issuers: Vec::new(),
            audience: None,
            require_subject: true,
        }
    }

    /// Sets the clock leeway, capped at [`MAX_LEEWAY_SECS`](Self::MAX_LEEWAY_SECS).
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs.min(Self::MAX_LEEWAY_SECS);
        self
    }

    /// Accepts only these exact `iss` values (empty: any issuer, `iss` optional).
    pub fn with_issuers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, issuers: I) -> Self {
        self.issuers = issuers.into_iter().map(Into::into).collect();
        self
    }

    /// Requires `aud` (a string or an array of strings) to contain `audience`.
    pub fn with_audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience;
        self
    }

    /// Whether a non-empty `sub` is required (default: yes).
    pub fn require_subject(mut self, required: bool) -> Self {
        self.require_subject = required;
        self
    }

    /// The algorithm allowlist.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// Whether `alg` is allowed.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    /// The clock leeway in seconds.
    pub fn leeway_secs(&self) -> u64 {
        self.leeway_secs
    }

    /// The issuer whitelist.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The required audience.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Whether `sub` is required.
    pub fn requires_subject(&self) -> bool {
        self.require_subject
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leeway_is_capped_and_algorithms_deduplicated() {
        let v = Validation::new(&[Algorithm::Rs256, Algorithm::Rs256]).with_leeway(10_000);
        assert_eq!(v.leeway_secs(), 300);
        assert_eq!(v.algorithms(), &[Algorithm::Rs256]);
        assert_eq!(Validation::new(&[]).leeway_secs(), 60);
    }
}
