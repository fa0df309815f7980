//! The channel socket protocol (SPEC §9): parsing client events and building
//! server events. Pure: the `ChannelRoom` Durable Object feeds frames in and
//! sends what comes out.

use crate::rules::FieldError;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Largest message text accepted (bytes of UTF-8).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Largest client message id (bytes), on every path.
pub const MAX_CLIENT_ID_BYTES: usize = 128;

/// The limits of a new message, the same on every path (REST, the JSON
/// socket, Socket.IO): text not blank and at most [`MAX_TEXT_BYTES`], a
/// client id of at most [`MAX_CLIENT_ID_BYTES`].
pub fn check_new_message(text: &str, client_id: Option<&str>) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError {
            field: "text",
            expected: "a message that is not empty",
        });
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(FieldError {
            field: "text",
            expected: "at most 16 KiB of UTF-8",
        });
    }
    if client_id.is_some_and(|c| c.len() > MAX_CLIENT_ID_BYTES) {
        return Err(FieldError {
            field: "clientId",
            expected: "at most 128 bytes",
        });
    }
    Ok(())
}

/// Largest frame parsed at all; anything bigger is refused before parsing.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Messages returned in a `world-state` event.
pub const WORLD_STATE_MESSAGES: usize = 50;

/// A client → server event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    Message {
        text: String,
        client_id: Option<String>,
    },
    RequestWorldState,
    Ping,
}

/// Why a frame was refused; each maps to an `error` event code. The socket
/// stays open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    #[error("frame is not a JSON object with a known type: {0}")]
    BadEvent(String),
    #[error("message text is larger than {MAX_TEXT_BYTES} bytes")]
    MessageTooLarge,
    #[error("the sender id does not match this socket's identity")]
    UserMismatch,
}

impl EventError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadEvent(_) => "BAD_EVENT",
            Self::MessageTooLarge => "MESSAGE_TOO_LARGE",
            Self::UserMismatch => "USER_MISMATCH",
        }
    }
}

/// Parses one text frame from a socket whose identity is `entity_id`.
/// A client-supplied sender id (`senderId`, `userId`, `entityId`) must equal
/// the socket's identity.
pub fn parse_client_event(frame: &str, entity_id: &str) -> Result<ClientEvent, EventError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(EventError::MessageTooLarge);
    }
    let value: Value = serde_json::from_str(frame)
        .map_err(|e| EventError::BadEvent(format!("malformed JSON ({e})")))?;
    let Value::Object(obj) = value else {
        return Err(EventError::BadEvent("not a JSON object".into()));
    };
    for key in ["senderId", "userId", "entityId"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == entity_id => {}
            Some(_) => return Err(EventError::UserMismatch),
        }
    }
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| EventError::BadEvent("missing string field `type`".into()))?;
    match kind {
        "message" => {
            let text = obj
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| EventError::BadEvent("message needs a string `text`".into()))?;
            let client_id = match obj.get("clientId") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(EventError::BadEvent("`clientId` must be a string".into())),
            };
            match check_new_message(text, client_id.as_deref()) {
                Err(_) if text.len() > MAX_TEXT_BYTES => return Err(EventError::MessageTooLarge),
                Err(e) => return Err(EventError::BadEvent(e.to_string())),
                Ok(()) => {}
            }
            Ok(ClientEvent::Message {
                text: text.to_owned(),
                client_id,
            })
        }
        "request-world-state" => Ok(ClientEvent::RequestWorldState),
        "ping" => Ok(ClientEvent::Ping),
        other => Err(EventError::BadEvent(format!(
            "unknown type `{}`",
            truncate(other, 64)
        ))),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A message as stored in a room's log and sent to sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelMessage {
    pub id: String,
    pub channel_id: String,
    pub sender_id: String,
    pub text: String,
    /// Unix milliseconds.
    pub created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// `{"type":"message", …}`.
pub fn message_event(message: &ChannelMessage) -> String {
    let mut v = serde_json::to_value(message).unwrap_or_else(|_| Value::Object(Map::new()));
    if let Value::Object(obj) = &mut v {
        obj.insert("type".into(), "message".into());
    }
    v.to_string()
}

/// `{"type":"world-state", participants, messages}` (oldest message first).
pub fn world_state_event(
    channel_id: &str,
    participants: &[String],
    messages: &[ChannelMessage],
) -> String {
    json!({
        "type": "world-state",
        "channelId": channel_id,
        "participants": participants,
        "messages": messages,
    })
    .to_string()
}

/// `{"type":"error", code, error}`.
pub fn error_event(code: &str, message: &str) -> String {
    json!({ "type": "error", "code": code, "error": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_messages_have_one_set_of_limits() {
        assert!(check_new_message("hi", Some(&"c".repeat(MAX_CLIENT_ID_BYTES))).is_ok());
        let too_long = "c".repeat(MAX_CLIENT_ID_BYTES + 1);
        assert_eq!(
            check_new_message("hi", Some(&too_long)).unwrap_err().field,
            "clientId"
        );
        assert_eq!(check_new_message("  ", None).unwrap_err().field, "text");
        let big = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(check_new_message(&big, None).unwrap_err().field, "text");
        let frame = format!(r#"{{"type":"message","text":"hi","clientId":"{too_long}"}}"#);
        assert!(matches!(
            parse_client_event(&frame, "e"),
            Err(EventError::BadEvent(_))
        ));
    }

    const ME: &str = "11111111-1111-0111-8111-111111111111";

    #[test]
    fn parses_and_refuses_table_driven() {
        let big = "x".repeat(MAX_TEXT_BYTES + 1);
        let big_frame = format!(r#"{{"type":"message","text":"{big}"}}"#);
        let mine = format!(r#"{{"type":"message","text":"hi","senderId":"{ME}"}}"#);
        let cases: Vec<(&str, Result<ClientEvent, &str>)> = vec![
            (r#"{"type":"ping"}"#, Ok(ClientEvent::Ping)),
            (
                r#"{"type":"request-world-state"}"#,
                Ok(ClientEvent::RequestWorldState),
            ),
            (
                r#"{"type":"message","text":"hi","clientId":"c1"}"#,
                Ok(ClientEvent::Message {
                    text: "hi".into(),
                    client_id: Some("c1".into()),
                }),
            ),
            (
                &mine,
                Ok(ClientEvent::Message {
                    text: "hi".into(),
                    client_id: None,
                }),
            ),
            ("not json", Err("BAD_EVENT")),
            ("[1,2]", Err("BAD_EVENT")),
            (r#"{"text":"no type"}"#, Err("BAD_EVENT")),
            (r#"{"type":"shout","text":"x"}"#, Err("BAD_EVENT")),
            (r#"{"type":"message"}"#, Err("BAD_EVENT")),
            (r#"{"type":"message","text":42}"#, Err("BAD_EVENT")),
            (r#"{"type":"message","text":"   "}"#, Err("BAD_EVENT")),
            (&big_frame, Err("MESSAGE_TOO_LARGE")),
            (
                r#"{"type":"message","text":"hi","senderId":"someone-else"}"#,
                Err("USER_MISMATCH"),
            ),
            (
                r#"{"type":"message","text":"hi","userId":"someone-else"}"#,
                Err("USER_MISMATCH"),
            ),
            (
                r#"{"type":"message","text":"hi","entityId":7}"#,
                Err("USER_MISMATCH"),
            ),
        ];
        for (frame, expected) in cases {
            let got = parse_client_event(frame, ME).map_err(|e| e.code());
            assert_eq!(got, expected, "{}", truncate(frame, 80));
        }
    }

    #[test]
    fn exactly_16_kib_is_accepted() {
        let text = "é".repeat(MAX_TEXT_BYTES / 2);
        let frame = json!({"type": "message", "text": text}).to_string();
        assert!(matches!(
            parse_client_event(&frame, ME),
            Ok(ClientEvent::Message { .. })
        ));
    }

    #[test]
    fn message_event_has_type_and_fields() {
        let m = ChannelMessage {
            id: "m1".into(),
            channel_id: "c".into(),
            sender_id: ME.into(),
            text: "hello".into(),
            created_at: 5,
            client_id: None,
        };
        let v: Value = serde_json::from_str(&message_event(&m)).unwrap();
        assert_eq!(v["type"], "message");
        assert_eq!(v["senderId"], ME);
        assert_eq!(v["channelId"], "c");
        assert_eq!(v["createdAt"], 5);
        assert!(v.get("clientId").is_none());
    }
}
