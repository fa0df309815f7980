//! Socket.IO protocol v5 packets, carried inside Engine.IO message packets.
//!
//! Wire form: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`. The
//! gateway serves the main namespace `/` only and refuses binary packets, as
//! the ElizaOS protocol uses neither.

use serde_json::{json, Value};

/// Largest ack id a client may send (Socket.IO's own ids are a counter).
const MAX_ACK_ID: u64 = u32::MAX as u64;

/// A packet from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientPacket {
    /// `0[{auth}]`: join the namespace, with the handshake's `auth` object.
    Connect { auth: Option<Value> },
    /// `1`: leave the namespace.
    Disconnect,
    /// `2[ack]["name", args…]`.
    Event {
        name: String,
        args: Vec<Value>,
        ack: Option<u64>,
    },
    /// `3<ack>[args…]`: the client answers one of our acks (none are asked
    /// for today; accepted and ignored).
    Ack { id: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type")]
    UnknownType,
    #[error("binary packets are not accepted")]
    Binary,
    #[error("only the main namespace `/` is served")]
    Namespace,
    #[error("malformed ack id")]
    BadAck,
    #[error("malformed JSON payload")]
    BadJson,
    #[error("an event needs a JSON array that starts with its name")]
    BadEvent,
    #[error("a packet type only servers send")]
    ServerOnly,
}

/// Decodes the data of one Engine.IO message packet.
pub fn decode(data: &str) -> Result<ClientPacket, PacketError> {
    let kind = *data.as_bytes().first().ok_or(PacketError::Empty)?;
    match kind {
        b'5' | b'6' => return Err(PacketError::Binary),
        b'0'..=b'4' => {}
        _ => return Err(PacketError::UnknownType),
    }
    // The first byte is an ASCII digit, so slicing after it is on a char
    // boundary.
    let mut rest = &data[1..];
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        if &rest[..end] != "/" {
            return Err(PacketError::Namespace);
        }
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack = if digits == 0 {
        None
    } else {
        let id: u64 = rest[..digits].parse().map_err(|_| PacketError::BadAck)?;
        if id > MAX_ACK_ID {
            return Err(PacketError::BadAck);
        }
        Some(id)
    };
    let json = &rest[digits..];
    let payload: Option<Value> = if json.is_empty() {
        None
    } else {
        Some(serde_json::from_str(json).map_err(|_| PacketError::BadJson)?)
    };
    match kind {
        b'0' => match payload {
            None => Ok(ClientPacket::Connect { auth: None }),
            Some(v @ Value::Object(_)) => Ok(ClientPacket::Connect { auth: Some(v) }),
            Some(_) => Err(PacketError::BadJson),
        },
        b'1' => Ok(ClientPacket::Disconnect),
        b'2' => match payload {
            Some(Value::Array(mut items)) if matches!(items.first(), Some(Value::String(_))) => {
                let Value::String(name) = items.remove(0) else {
                    return Err(PacketError::BadEvent);
                };
                Ok(ClientPacket::Event {
                    name,
                    args: items,
                    ack,
                })
            }
            _ => Err(PacketError::BadEvent),
        },
        b'3' => Ok(ClientPacket::Ack {
            id: ack.ok_or(PacketError::BadAck)?,
        }),
        _ => Err(PacketError::ServerOnly),
    }
}

/// `0{"sid":…}`: the namespace is joined.
pub fn connect(sid: &str) -> String {
    format!("0{}", json!({ "sid": sid }))
}

/// `4{"message":…,"data":{"code":…}}`: the namespace refused the client;
/// socket.io-client surfaces it as a `connect_error` whose `message` is
/// `message` and whose `data.code` is the gateway's error code.
pub fn connect_error(code: &str, message: &str) -> String {
    format!(
        "4{}",
        json!({ "message": message, "data": { "code": code } })
    )
}

/// `1`: the server ends the namespace session.
pub fn disconnect() -> String {
    "1".into()
}

/// `2["name", payload]`.
pub fn event(name: &str, payload: &Value) -> String {
    format!("2{}", json!([name, payload]))
}

/// `3<id>[payload]`: answers a client's ack request.
pub fn ack(id: u64, payload: &Value) -> String {
    format!("3{id}{}", json!([payload]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_with_and_without_auth() {
        assert_eq!(decode("0"), Ok(ClientPacket::Connect { auth: None }));
        assert_eq!(decode("0/,"), Ok(ClientPacket::Connect { auth: None }));
        assert_eq!(
            decode(r#"0{"apiKey":"agm_x","entityId":"e"}"#),
            Ok(ClientPacket::Connect {
                auth: Some(json!({"apiKey": "agm_x", "entityId": "e"}))
            })
        );
        assert_eq!(decode("0[1]"), Err(PacketError::BadJson));
        assert_eq!(decode("0/admin,"), Err(PacketError::Namespace));
        assert_eq!(decode("0/admin"), Err(PacketError::Namespace));
    }

    #[test]
    fn events_with_and_without_ack() {
        assert_eq!(
            decode(r#"2["message",{"type":1}]"#),
            Ok(ClientPacket::Event {
                name: "message".into(),
                args: vec![json!({"type": 1})],
                ack: None
            })
        );
        assert_eq!(
            decode(r#"212["ping"]"#),
            Ok(ClientPacket::Event {
                name: "ping".into(),
                args: vec![],
                ack: Some(12)
            })
        );
        assert_eq!(
            decode(r#"2/,7["x",1,2]"#),
            Ok(ClientPacket::Event {
                name: "x".into(),
                args: vec![json!(1), json!(2)],
                ack: Some(7)
            })
        );
        for bad in ["2", "2{}", "2[]", "2[1]", "2[\"x\"", "299999999999[\"x\"]"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
        assert_eq!(decode("299999999999[\"x\"]"), Err(PacketError::BadAck));
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(""), Err(PacketError::Empty));
        assert_eq!(decode("51-[\"x\",{}]"), Err(PacketError::Binary));
        assert_eq!(decode("6"), Err(PacketError::Binary));
        assert_eq!(decode("4{}"), Err(PacketError::ServerOnly));
        assert_eq!(decode("x"), Err(PacketError::UnknownType));
        assert_eq!(decode("é"), Err(PacketError::UnknownType));
        assert_eq!(decode("3"), Err(PacketError::BadAck));
        assert_eq!(decode("1"), Ok(ClientPacket::Disconnect));
        assert_eq!(decode("35[1]"), Ok(ClientPacket::Ack { id: 5 }));
    }

    #[test]
    fn server_packets() {
        assert_eq!(connect("abc"), r#"0{"sid":"abc"}"#);
        let err: Value = serde_json::from_str(&connect_error("INVALID_TOKEN", "bad")[1..]).unwrap();
        assert_eq!(err["message"], "bad");
        assert_eq!(err["data"]["code"], "INVALID_TOKEN");
        assert_eq!(
            event("messageBroadcast", &json!({"a": 1})),
            r#"2["messageBroadcast",{"a":1}]"#
        );
        assert_eq!(ack(3, &json!({"ok": true})), r#"33[{"ok":true}]"#);
    }
}
