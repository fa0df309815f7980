//! The ElizaOS 1.7 realtime events on top of Socket.IO (SPEC §9), as the
//! unmodified `@elizaos/client` and `@elizaos/server` speak them.
//!
//! A client sends `message` `{type: 1 ROOM_JOINING | 2 SEND_MESSAGE, payload}`
//! (or, as ElizaOS also accepts, the events named `"1"` and `"2"` with the
//! payload alone). The gateway differs from ElizaOS where security needs it:
//! the sender is the verified entity, never the payload's `senderId`
//! (a different one is refused), and channels are never auto-created by a
//! message.

use crate::realtime::{check_new_message, ChannelMessage, MAX_CLIENT_ID_BYTES};
use crate::rules::parse_id;
use serde_json::{json, Map, Value};

/// ElizaOS's `SOCKET_MESSAGE_TYPE.ROOM_JOINING`.
pub const ROOM_JOINING: u64 = 1;
/// ElizaOS's `SOCKET_MESSAGE_TYPE.SEND_MESSAGE`.
pub const SEND_MESSAGE: u64 = 2;

/// What a client asked for, after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Join {
        channel_id: String,
    },
    Send {
        channel_id: String,
        text: String,
        /// The client's own id for the message (`messageId`), echoed back as
        /// `clientMessageId`.
        client_message_id: Option<String>,
        sender_name: Option<String>,
        metadata: Option<Map<String, Value>>,
    },
}

/// Why an event was refused. The connection stays open; the client gets a
/// `messageError` naming the problem, as ElizaOS sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    #[error("unknown event `{0}`")]
    UnknownEvent(String),
    #[error(
        "a message event needs `type` 1 (ROOM_JOINING) or 2 (SEND_MESSAGE) and a `payload` object"
    )]
    Malformed,
    #[error("`channelId` must be a UUID")]
    BadChannel,
    #[error("the sender must be this connection's verified entity")]
    SenderMismatch,
    #[error("{0}")]
    BadMessage(String),
}

impl CommandError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEvent(_) => "UNKNOWN_EVENT",
            Self::Malformed | Self::BadChannel => "BAD_EVENT",
            Self::SenderMismatch => "USER_MISMATCH",
            Self::BadMessage(_) => "BAD_MESSAGE",
        }
    }
}

/// Reads one Socket.IO event from a connection whose verified entity is
/// `entity_id`.
pub fn parse_event(name: &str, args: &[Value], entity_id: &str) -> Result<Command, CommandError> {
    let (kind, payload) = match name {
        "message" => {
            let obj = args
                .first()
                .and_then(Value::as_object)
                .ok_or(CommandError::Malformed)?;
            let kind = obj
                .get("type")
                .and_then(Value::as_u64)
                .ok_or(CommandError::Malformed)?;
            (kind, obj.get("payload"))
        }
        "1" => (ROOM_JOINING, args.first()),
        "2" => (SEND_MESSAGE, args.first()),
        other => {
            let shown: String = other.chars().take(64).collect();
            return Err(CommandError::UnknownEvent(shown));
        }
    };
    let payload = payload
        .and_then(Value::as_object)
        .ok_or(CommandError::Malformed)?;
    let channel_id = channel_of(payload)?;
    match kind {
        ROOM_JOINING => Ok(Command::Join { channel_id }),
        SEND_MESSAGE => parse_send(payload, channel_id, entity_id),
        _ => Err(CommandError::Malformed),
    }
}

fn channel_of(payload: &Map<String, Value>) -> Result<String, CommandError> {
    let raw = payload
        .get("channelId")
        .or_else(|| payload.get("roomId"))
        .and_then(Value::as_str)
        .ok_or(CommandError::BadChannel)?;
    parse_id("channelId", raw).map_err(|_| CommandError::BadChannel)
}

fn optional_str<'a>(
    payload: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, CommandError> {
    match payload.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CommandError::BadMessage(format!(
            "`{key}` must be a string"
        ))),
    }
}

/// Longest display name carried on a message.
const MAX_SENDER_NAME_CHARS: usize = 100;
/// Largest `metadata` object carried on a message (bytes of JSON).
const MAX_METADATA_BYTES: usize = 4 * 1024;

fn parse_send(
    payload: &Map<String, Value>,
    channel_id: String,
    entity_id: &str,
) -> Result<Command, CommandError> {
    for key in ["senderId", "author_id", "entityId"] {
        match payload.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.eq_ignore_ascii_case(entity_id) => {}
            Some(_) => return Err(CommandError::SenderMismatch),
        }
    }
    let text = optional_str(payload, "message")?
        .ok_or_else(|| CommandError::BadMessage("`message` must be a string".into()))?;
    let client_message_id = optional_str(payload, "messageId")?;
    check_new_message(text, client_message_id).map_err(|e| {
        let field = if e.field == "clientId" {
            "messageId"
        } else {
            "message"
        };
        CommandError::BadMessage(format!("`{field}`: {}", e.expected))
    })?;
    debug_assert!(client_message_id.is_none_or(|c| c.len() <= MAX_CLIENT_ID_BYTES));
    let sender_name = optional_str(payload, "senderName")?
        .map(|n| n.chars().take(MAX_SENDER_NAME_CHARS).collect::<String>());
    let metadata = match payload.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            if Value::Object(m.clone()).to_string().len() > MAX_METADATA_BYTES {
                return Err(CommandError::BadMessage(
                    "`metadata`: at most 4 KiB of JSON".into(),
                ));
            }
            Some(m.clone())
        }
        Some(_) => {
            return Err(CommandError::BadMessage(
                "`metadata` must be an object".into(),
            ))
        }
    };
    Ok(Command::Send {
        channel_id,
        text: text.to_owned(),
        client_message_id: client_message_id.map(str::to_owned),
        sender_name,
        metadata,
    })
}

/// The credentials a client put in its handshake's `auth` object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeAuth {
    /// A machine token (`agm_…`), as the web UI's key box sends it.
    pub api_key: Option<String>,
    /// A bearer JWT.
    pub token: Option<String>,
    /// A single-use ws ticket.
    pub ticket: Option<String>,
}

/// Reads the handshake `auth` object; fields of the wrong type are ignored
/// (absent), so they can never stand in for a credential.
pub fn handshake_auth(auth: Option<&Value>) -> HandshakeAuth {
    let get = |key: &str| {
        auth.and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    HandshakeAuth {
        api_key: get("apiKey"),
        token: get("token"),
        ticket: get("ticket"),
    }
}

/// `authenticated` `{entityId, timestamp}`, sent once the namespace is joined.
/// The handshake's own `auth.entityId` is never read: ElizaOS clients make up
/// a random one and keep it in localStorage, and `@elizaos/client` replaces it
/// with the one this event names. Events that then claim another sender are
/// refused ([`CommandError::SenderMismatch`]).
pub fn authenticated(entity_id: &str, now_ms: u64) -> Value {
    json!({ "entityId": entity_id, "timestamp": now_ms })
}

/// `channel_joined` / `room_joined` payload.
pub fn joined(socket_id: &str, channel_id: &str) -> Value {
    json!({
        "message": format!("Socket {socket_id} successfully joined channel {channel_id}."),
        "channelId": channel_id,
        "roomId": channel_id,
    })
}

/// `messageError` `{error}`.
pub fn message_error(error: &CommandError) -> Value {
    json!({ "error": error.to_string(), "code": error.code() })
}

/// `connection_established` `{message, socketId}`, as ElizaOS sends it.
pub fn connection_established(socket_id: &str) -> Value {
    json!({ "message": "Connected to Eliza Socket.IO server", "socketId": socket_id })
}

/// The message server id broadcasts name: ElizaOS's default server, the one
/// its web UI selects (one per deployment).
pub const MESSAGE_SERVER_ID: &str = "00000000-0000-0000-0000-000000000000";

/// `messageBroadcast` in ElizaOS's shape. The sender's own copy also names
/// the client's id for it (`clientMessageId`), as ElizaOS does.
pub fn message_broadcast(message: &ChannelMessage, to_sender: bool) -> Value {
    let mut v = json!({
        "id": message.id,
        "senderId": message.sender_id,
        "senderName": "User",
        "text": message.text,
        "channelId": message.channel_id,
        "roomId": message.channel_id,
        "messageServerId": MESSAGE_SERVER_ID,
        "createdAt": message.created_at,
        "source": "socketio_client",
        "attachments": [],
    });
    if to_sender {
        if let (Some(id), Value::Object(obj)) = (&message.client_id, &mut v) {
            obj.insert("clientMessageId".into(), id.clone().into());
        }
    }
    v
}

/// `messageAck` for the sender.
pub fn message_ack(message: &ChannelMessage) -> Value {
    json!({
        "clientMessageId": message.client_id,
        "messageId": message.id,
        "status": "received_by_server_and_processing",
        "channelId": message.channel_id,
        "roomId": message.channel_id,
    })
}

/// `messageError` for a refusal that isn't a [`CommandError`] (a channel the
/// entity isn't in, a rate limit): `{error, code}`.
pub fn refusal(code: &str, error: &str) -> Value {
    json!({ "error": error, "code": code })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "11111111-1111-4111-8111-111111111111";
    const CH: &str = "22222222-2222-4222-8222-222222222222";

    fn msg(kind: u64, payload: Value) -> Vec<Value> {
        vec![json!({ "type": kind, "payload": payload })]
    }

    #[test]
    fn join_by_message_event_or_numbered_event() {
        let want = Ok(Command::Join {
            channel_id: CH.into(),
        });
        assert_eq!(
            parse_event(
                "message",
                &msg(1, json!({"channelId": CH, "entityId": "x"})),
                ME
            ),
            want
        );
        assert_eq!(parse_event("1", &[json!({ "roomId": CH })], ME), want);
        assert_eq!(
            parse_event(
                "message",
                &msg(1, json!({"channelId": CH.to_uppercase()})),
                ME
            ),
            want,
            "ids are canonical"
        );
    }

    #[test]
    fn send_keeps_text_and_client_id_and_checks_the_sender() {
        let ok = parse_event(
            "message",
            &msg(
                2,
                json!({"channelId": CH, "senderId": ME, "message": "hi", "messageId": "c1",
                       "senderName": "Ann", "messageServerId": "00000000-0000-0000-0000-000000000000"}),
            ),
            ME,
        );
        assert_eq!(
            ok,
            Ok(Command::Send {
                channel_id: CH.into(),
                text: "hi".into(),
                client_message_id: Some("c1".into()),
                sender_name: Some("Ann".into()),
                metadata: None,
            })
        );
        let other = "33333333-3333-4333-8333-333333333333";
        for key in ["senderId", "author_id", "entityId"] {
            assert_eq!(
                parse_event(
                    "2",
                    &[json!({"channelId": CH, key: other, "message": "hi"})],
                    ME
                ),
                Err(CommandError::SenderMismatch),
                "{key}"
            );
        }
    }

    #[test]
    fn refusals_are_typed() {
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("subscribe_logs", vec![], "UNKNOWN_EVENT"),
            ("message", vec![], "BAD_EVENT"),
            ("message", vec![json!("text")], "BAD_EVENT"),
            ("message", msg(3, json!({"channelId": CH})), "BAD_EVENT"),
            ("message", vec![json!({"type": 1})], "BAD_EVENT"),
            ("message", msg(1, json!({"channelId": "nope"})), "BAD_EVENT"),
            ("message", msg(1, json!({"channelId": 5})), "BAD_EVENT"),
            ("2", vec![json!({"channelId": CH})], "BAD_MESSAGE"),
            (
                "2",
                vec![json!({"channelId": CH, "message": "  "})],
                "BAD_MESSAGE",
            ),
            (
                "2",
                vec![json!({"channelId": CH, "message": "x".repeat(16 * 1024 + 1)})],
                "BAD_MESSAGE",
            ),
            (
                "2",
                vec![json!({"channelId": CH, "message": "hi", "messageId": "m".repeat(129)})],
                "BAD_MESSAGE",
            ),
            (
                "2",
                vec![json!({"channelId": CH, "message": "hi", "metadata": "x"})],
                "BAD_MESSAGE",
            ),
            (
                "2",
                vec![
                    json!({"channelId": CH, "message": "hi", "metadata": {"k": "v".repeat(5000)}}),
                ],
                "BAD_MESSAGE",
            ),
        ];
        for (name, args, code) in cases {
            let got = parse_event(name, &args, ME).map_err(|e| e.code());
            assert_eq!(got, Err(code), "{name} {args:?}");
        }
    }

    #[test]
    fn handshake_auth_reads_strings_only() {
        let auth = handshake_auth(Some(
            &json!({"apiKey": "agm_x", "token": 5, "entityId": ME, "ticket": ""}),
        ));
        assert_eq!(auth.api_key.as_deref(), Some("agm_x"));
        assert_eq!(auth.token, None);
        assert_eq!(auth.ticket, None);
        assert_eq!(handshake_auth(None), HandshakeAuth::default());
    }
}

#[cfg(test)]
mod broadcast_tests {
    use super::*;

    #[test]
    fn broadcast_has_elizaos_fields_and_only_the_sender_sees_its_client_id() {
        let m = ChannelMessage {
            id: "m".into(),
            channel_id: "c".into(),
            sender_id: "s".into(),
            text: "hi".into(),
            created_at: 5,
            client_id: Some("k".into()),
        };
        let mine = message_broadcast(&m, true);
        for key in [
            "id",
            "senderId",
            "senderName",
            "text",
            "channelId",
            "roomId",
            "messageServerId",
            "createdAt",
            "source",
            "attachments",
        ] {
            assert!(mine.get(key).is_some(), "{key}");
        }
        assert_eq!(mine["clientMessageId"], "k");
        assert!(message_broadcast(&m, false)
            .get("clientMessageId")
            .is_none());
        assert_eq!(message_ack(&m)["messageId"], "m");
    }
}
