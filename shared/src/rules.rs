//! Input rules for the registry and messaging: one id rule for every back
//! end, and the limits on names and lists. Each refusal names its field, so
//! the worker's 400 says what was wrong.

use std::fmt;

/// A refused input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field as the client named it (`name`, `sharedWith`, …).
    pub field: &'static str,
    /// What it must be.
    pub expected: &'static str,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid field `{}`: {}", self.field, self.expected)
    }
}

impl std::error::Error for FieldError {}

fn refuse<T>(field: &'static str, expected: &'static str) -> Result<T, FieldError> {
    Err(FieldError { field, expected })
}

/// The longest display name of an agent or a channel, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The most entities an agent is shared with, or a channel is created with.
pub const MAX_LISTED_ENTITIES: usize = 100;

/// The one id rule (agents, channels, entities): a UUID, as ElizaOS and the
/// PostgreSQL schema have them. Returns the canonical lowercase hyphenated
/// form, so an id compares equal on both back ends.
pub fn parse_id(field: &'static str, id: &str) -> Result<String, FieldError> {
    // Only the hyphenated form: braces, URNs and bare hex are other spellings
    // of the same id that a path could not carry unambiguously.
    if id.len() != 36 {
        return refuse(field, "a UUID");
    }
    match uuid::Uuid::try_parse(id) {
        Ok(uuid) => Ok(uuid.hyphenated().to_string()),
        Err(_) => refuse(field, "a UUID"),
    }
}

/// A display name: trimmed, 1 to 200 characters.
pub fn display_name(field: &'static str, name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return refuse(field, "1 to 200 characters");
    }
    Ok(name.to_owned())
}

/// A list of entity ids (an agent's `sharedWith`, a new channel's
/// `participants`): at most 100 UUIDs, canonical, sorted, without duplicates
/// and without `except` (the owner or creator, who is there anyway).
pub fn entity_list(
    field: &'static str,
    ids: &[String],
    except: &str,
) -> Result<Vec<String>, FieldError> {
    if ids.len() > MAX_LISTED_ENTITIES {
        return refuse(field, "up to 100 entity ids");
    }
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        let id = parse_id(field, id).map_err(|_| FieldError {
            field,
            expected: "up to 100 entity ids (UUIDs)",
        })?;
        if id != except {
            list.push(id);
        }
    }
    list.sort();
    list.dedup();
    Ok(list)
}

/// A channel's type.
pub fn channel_type(kind: &str) -> Result<&str, FieldError> {
    match kind {
        "public" | "private" | "dm" => Ok(kind),
        _ => refuse("type", "public, private or dm"),
    }
}

/// One page of a listing, from `?before=&limit=`: `before` is the key
/// (a creation time) the page ends before, `limit` how many items at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: u32,
}

impl Page {
    /// Parses the query values of a listing that returns at most
    /// `max_limit` items a page: `before` a non-negative integer that fits
    /// the stored keys, `limit` 1 to `max_limit`. Anything else is refused,
    /// never wrapped or silently capped.
    pub fn parse(
        before: Option<&str>,
        limit: Option<&str>,
        default_limit: u32,
        max_limit: u32,
    ) -> Result<Self, FieldError> {
        let before = match before {
            None => None,
            Some(v) => match v.parse::<i64>() {
                Ok(b) if b >= 0 => Some(b),
                _ => return refuse("before", "a non-negative integer"),
            },
        };
        let limit = match limit {
            None => default_limit.min(max_limit),
            Some(v) => match v.parse::<u32>() {
                Ok(l) if (1..=max_limit).contains(&l) => l,
                _ => return refuse("limit", "an integer from 1 to the listing's maximum"),
            },
        };
        Ok(Self { before, limit })
    }

    /// Where the next page starts: the key of the last item returned when the
    /// page is full (there may be more), `None` when the listing ended.
    pub fn next_before(&self, returned: usize, last_key: Option<i64>) -> Option<i64> {
        if returned >= self.limit as usize {
            last_key
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0190b6a0-0000-7000-8000-000000000001";
    const B: &str = "0190b6a0-0000-7000-8000-000000000002";

    #[test]
    fn ids_are_canonical_uuids() {
        assert_eq!(
            parse_id("id", "0190B6A0-0000-7000-8000-00000000000A").unwrap(),
            "0190b6a0-0000-7000-8000-00000000000a"
        );
        for bad in [
            "",
            "agent-eliza",
            "../etc",
            "0190b6a0000070008000000000000001",
            "{0190b6a0-0000-7000-8000-000000000001}",
            "0190b6a0-0000-7000-8000-00000000000g",
            "0190b6a0-0000-7000-8000-000000000001/x",
        ] {
            let e = parse_id("agentId", bad).unwrap_err();
            assert_eq!(e.field, "agentId", "{bad:?}");
        }
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert_eq!(display_name("name", "  Eliza ").unwrap(), "Eliza");
        assert!(display_name("name", &"é".repeat(200)).is_ok());
        assert!(display_name("name", &"é".repeat(201)).is_err());
        assert!(display_name("name", "   ").is_err());
    }

    #[test]
    fn entity_lists_are_bounded_canonical_and_without_the_owner() {
        let list = entity_list("sharedWith", &[B.into(), A.to_uppercase(), B.into()], "x").unwrap();
        assert_eq!(list, vec![A.to_string(), B.to_string()]);
        assert_eq!(
            entity_list("sharedWith", &[A.into()], A).unwrap(),
            Vec::<String>::new()
        );
        let e = entity_list("participants", &["a b".into()], A).unwrap_err();
        assert_eq!(e.field, "participants");
        let many: Vec<String> = (0..101)
            .map(|i| format!("0190b6a0-0000-7000-8000-{i:012}"))
            .collect();
        assert!(entity_list("sharedWith", &many, A).is_err());
        assert!(entity_list("sharedWith", &many[..100], A).is_ok());
    }

    #[test]
    fn channel_types() {
        assert!(channel_type("dm").is_ok());
        assert_eq!(channel_type("group").unwrap_err().field, "type");
    }

    #[test]
    fn pages_parse_into_the_domain_or_refuse() {
        assert_eq!(
            Page::parse(None, None, 50, 100).unwrap(),
            Page {
                before: None,
                limit: 50
            }
        );
        assert_eq!(
            Page::parse(Some("9223372036854775807"), Some("100"), 50, 100).unwrap(),
            Page {
                before: Some(i64::MAX),
                limit: 100
            }
        );
        for (before, limit, field) in [
            (Some("9223372036854775808"), None, "before"),
            (Some("-1"), None, "before"),
            (Some("1e3"), None, "before"),
            (None, Some("0"), "limit"),
            (None, Some("101"), "limit"),
            (None, Some("-5"), "limit"),
        ] {
            assert_eq!(
                Page::parse(before, limit, 50, 100).unwrap_err().field,
                field
            );
        }
    }

    #[test]
    fn a_full_page_says_where_to_continue() {
        let page = Page {
            before: None,
            limit: 2,
        };
        assert_eq!(page.next_before(2, Some(7)), Some(7));
        assert_eq!(page.next_before(1, Some(7)), None);
        assert_eq!(page.next_before(0, None), None);
    }
}
