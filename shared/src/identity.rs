//! Rules about identities (SPEC §2).

/// An email as stored and looked up: trimmed and case-folded (SPEC §2: unique
/// per server, case-folded). `None` for something that is not an address:
/// empty local part, a domain without a dot, whitespace or control
/// characters, or over 254 bytes.
pub fn fold_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::fold_email;

    #[test]
    fn folds_case_and_trims() {
        assert_eq!(
            fold_email("  Alice@Example.COM ").as_deref(),
            Some("alice@example.com")
        );
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@localhost",
            "a b@example.com",
            "a\u{0}@x.io",
        ] {
            assert_eq!(fold_email(bad), None, "{bad:?}");
        }
        assert_eq!(
            fold_email(&format!("{}@example.com", "a".repeat(250))),
            None
        );
    }
}
