//! The agent rules the gateway applies to ElizaOS's agent routes (SPEC §7):
//! which id a create will give the agent (ElizaOS derives it from the name),
//! what a create may not ask for, which agents of the origin's list a caller
//! sees, and what of a character a caller who doesn't own it may read.
//!
//! Architecture Invariant: an agent id is known before a create reaches the
//! origin, so the registry can hold it first; a create that resolves to an id
//! already registered or already at the origin is refused, never merged.

use crate::entity_id::eliza_uuid;
use crate::rules::parse_id;
use serde_json::Value;

/// Why a create body is refused before it reaches the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateRefusal {
    /// `characterPath` makes the origin read a file or fetch a URL of the
    /// caller's choosing.
    CharacterPath,
    /// The character's `id` is not a UUID.
    BadId,
    /// Neither an `id` nor a `name` to derive one from.
    NoName,
}

impl std::fmt::Display for CreateRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CharacterPath => {
                "Field `characterPath` is not accepted: send the character as `characterJson`"
            }
            Self::BadId => "Invalid field `id`: expected a UUID",
            Self::NoName => "Missing field `name` (or a character with a name)",
        })
    }
}

/// The character a create body carries, the way ElizaOS 1.7 reads it:
/// `characterJson`, else `agent`; else (the gateway's own form) the body.
pub fn character_of(body: &Value) -> &Value {
    ["characterJson", "agent", "character"]
        .into_iter()
        .find_map(|k| body.get(k).filter(|v| v.is_object()))
        .unwrap_or(body)
}

/// The id the origin will give the agent a create body describes: the
/// character's `id`, else ElizaOS's `stringToUuid(name)`. Refused:
/// `characterPath`, an `id` that is not a UUID, and no name.
pub fn predicted_agent_id(body: &Value) -> Result<String, CreateRefusal> {
    if body.get("characterPath").is_some_and(|v| !v.is_null()) {
        return Err(CreateRefusal::CharacterPath);
    }
    let character = character_of(body);
    // The gateway's form may name the id at the top next to a character.
    let id = character.get("id").or_else(|| body.get("id"));
    match id {
        Some(Value::String(id)) => parse_id("id", id).map_err(|_| CreateRefusal::BadId),
        Some(Value::Null) | None => match agent_name(body) {
            Some(name) => Ok(eliza_uuid(name)),
            None => Err(CreateRefusal::NoName),
        },
        Some(_) => Err(CreateRefusal::BadId),
    }
}

/// The agent's name in a create body: the character's, else the body's.
pub fn agent_name(body: &Value) -> Option<&str> {
    character_of(body)
        .get("name")
        .or_else(|| body.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
}

/// ElizaOS's answer to `GET /api/agents` (`{success, data: {agents: [..]}}`)
/// with only the agents `visible` keeps; everything else as the origin gave
/// it. `None` when the answer is not of that shape (the caller fails closed).
pub fn filter_agent_list(mut answer: Value, visible: impl Fn(&str) -> bool) -> Option<Value> {
    let agents = answer.pointer_mut("/data/agents")?.as_array_mut()?;
    agents.retain(|a| a.get("id").and_then(Value::as_str).is_some_and(&visible));
    Some(answer)
}

/// The ids in ElizaOS's answer to `GET /api/agents`.
pub fn listed_agent_ids(answer: &Value) -> Vec<String> {
    answer
        .pointer("/data/agents")
        .and_then(Value::as_array)
        .map(|agents| {
            agents
                .iter()
                .filter_map(|a| a.get("id")?.as_str())
                .filter_map(|id| parse_id("id", id).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes a character's secrets (`secrets`, `settings.secrets`) for a
/// caller who does not own the agent.
pub fn strip_secrets(character: &mut Value) {
    if let Some(map) = character.as_object_mut() {
        map.remove("secrets");
        if let Some(settings) = map.get_mut("settings").and_then(Value::as_object_mut) {
            settings.remove("secrets");
        }
    }
}

/// [`strip_secrets`] on the character of ElizaOS's `{success, data: {..}}`.
pub fn strip_answer_secrets(answer: &mut Value) {
    if let Some(data) = answer.get_mut("data") {
        strip_secrets(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "0190b6a0-0000-7000-8000-00000000000a";

    #[test]
    fn the_id_is_known_before_the_origin_creates_the_agent() {
        let by_name = eliza_uuid("Eliza");
        let cases = [
            (
                json!({"characterJson": {"name": "Eliza"}}),
                Ok(by_name.clone()),
            ),
            (
                json!({"agent": {"name": "Eliza", "bio": "b"}}),
                Ok(by_name.clone()),
            ),
            (json!({"name": "Eliza"}), Ok(by_name.clone())),
            (
                json!({"characterJson": {"name": "Eliza", "id": ID}}),
                Ok(ID.into()),
            ),
            (json!({"name": "Other", "id": ID}), Ok(ID.into())),
            (
                json!({"characterJson": {"name": "Eliza", "id": "x"}}),
                Err(CreateRefusal::BadId),
            ),
            (json!({"name": "Eliza", "id": 7}), Err(CreateRefusal::BadId)),
            (
                json!({"characterJson": {"bio": "b"}}),
                Err(CreateRefusal::NoName),
            ),
            (
                json!({"characterJson": {"name": "  "}}),
                Err(CreateRefusal::NoName),
            ),
            (
                json!({"characterPath": "/etc/passwd", "characterJson": {"name": "E"}}),
                Err(CreateRefusal::CharacterPath),
            ),
            (
                json!({"characterPath": "https://evil.example/c.json"}),
                Err(CreateRefusal::CharacterPath),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(predicted_agent_id(&body), want, "{body}");
        }
        // ElizaOS's own example: stringToUuid("Eliza").
        assert_eq!(by_name, "b850bc30-45f8-0041-a00a-83df46d8555d");
    }

    #[test]
    fn the_list_keeps_the_envelope_and_only_visible_agents() {
        let answer = json!({"success": true, "data": {"agents": [
            {"id": "a", "name": "A", "status": "active"},
            {"id": "b", "name": "B", "status": "inactive"},
            {"name": "no id"},
        ]}});
        let filtered = filter_agent_list(answer, |id| id == "b").unwrap();
        assert_eq!(
            filtered,
            json!({"success": true, "data": {"agents": [
                {"id": "b", "name": "B", "status": "inactive"},
            ]}})
        );
        assert_eq!(filter_agent_list(json!({"agents": []}), |_| true), None);
        assert_eq!(filter_agent_list(json!("nope"), |_| true), None);
        let listed = json!({"data": {"agents": [{"id": ID}, {"id": "not-a-uuid"}]}});
        assert_eq!(listed_agent_ids(&listed), vec![ID.to_owned()]);
    }

    #[test]
    fn secrets_go_for_callers_who_dont_own_the_agent() {
        let mut answer = json!({"success": true, "data": {
            "id": ID, "name": "E", "secrets": {"K": "v"},
            "settings": {"secrets": {"OPENAI_API_KEY": "sk"}, "model": "m"},
        }});
        strip_answer_secrets(&mut answer);
        assert_eq!(
            answer,
            json!({"success": true, "data": {
                "id": ID, "name": "E", "settings": {"model": "m"},
            }})
        );
    }
}
