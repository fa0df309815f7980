//! Engine.IO protocol v4: the transport framing under Socket.IO.
//!
//! A packet is one type digit followed by its data. Over WebSocket each text
//! frame is one packet; over HTTP long-polling a body carries several packets
//! separated by the record separator `\x1e`. Binary packets (`b` + base64 on
//! polling, binary frames on WebSocket) are refused: the ElizaOS protocol
//! sends JSON only, and refusing them keeps one parser for every input.

use serde::Serialize;

/// Separates packets in a long-polling body.
pub const RECORD_SEPARATOR: char = '\u{1e}';
/// How often the server pings, advertised in the open packet (ms).
pub const PING_INTERVAL_MS: u32 = 25_000;
/// How long the server waits for a pong, advertised in the open packet (ms).
pub const PING_TIMEOUT_MS: u32 = 20_000;
/// Largest polling body or WebSocket frame accepted, advertised as
/// `maxPayload`. It bounds one frame; a message's own limits
/// (`realtime::check_new_message`) still apply inside it.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Packets accepted in one polling body; more is a flood, not a client.
pub const MAX_PACKETS_PER_PAYLOAD: usize = 64;

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Open(String),
    Close,
    Ping(&'a str),
    Pong(&'a str),
    Message(&'a str),
    Upgrade,
    Noop,
}

/// Why a frame or polling body was refused. The transport is closed: an
/// Engine.IO peer that sends these is not a client we can keep talking to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    #[error("binary packets are not accepted")]
    Binary,
    #[error("payload larger than {MAX_PAYLOAD_BYTES} bytes")]
    TooLarge,
    #[error("more than {MAX_PACKETS_PER_PAYLOAD} packets in one payload")]
    TooManyPackets,
    #[error("a client may not send the open packet")]
    UnexpectedOpen,
}

/// Decodes one packet sent by a client.
pub fn decode(frame: &str) -> Result<Packet<'_>, EngineError> {
    if frame.len() > MAX_PAYLOAD_BYTES {
        return Err(EngineError::TooLarge);
    }
    let mut chars = frame.chars();
    let kind = chars.next().ok_or(EngineError::Empty)?;
    let data = chars.as_str();
    match kind {
        '0' => Err(EngineError::UnexpectedOpen),
        '1' => Ok(Packet::Close),
        '2' => Ok(Packet::Ping(data)),
        '3' => Ok(Packet::Pong(data)),
        '4' => Ok(Packet::Message(data)),
        '5' => Ok(Packet::Upgrade),
        '6' => Ok(Packet::Noop),
        'b' => Err(EngineError::Binary),
        other => Err(EngineError::UnknownType(other)),
    }
}

/// Decodes a long-polling body: packets separated by [`RECORD_SEPARATOR`].
pub fn decode_payload(body: &str) -> Result<Vec<Packet<'_>>, EngineError> {
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(EngineError::TooLarge);
    }
    let mut packets = Vec::new();
    for part in body.split(RECORD_SEPARATOR) {
        if packets.len() == MAX_PACKETS_PER_PAYLOAD {
            return Err(EngineError::TooManyPackets);
        }
        packets.push(decode(part)?);
    }
    Ok(packets)
}

/// Encodes one packet for the wire.
pub fn encode(packet: &Packet<'_>) -> String {
    match packet {
        Packet::Open(json) => format!("0{json}"),
        Packet::Close => "1".into(),
        Packet::Ping(d) => format!("2{d}"),
        Packet::Pong(d) => format!("3{d}"),
        Packet::Message(d) => format!("4{d}"),
        Packet::Upgrade => "5".into(),
        Packet::Noop => "6".into(),
    }
}

/// Joins already encoded packets into one long-polling body.
pub fn encode_payload<S: AsRef<str>>(packets: &[S]) -> String {
    let mut out = String::new();
    for (i, p) in packets.iter().enumerate() {
        if i > 0 {
            out.push(RECORD_SEPARATOR);
        }
        out.push_str(p.as_ref());
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Handshake<'a> {
    sid: &'a str,
    upgrades: &'a [&'a str],
    ping_interval: u32,
    ping_timeout: u32,
    max_payload: usize,
}

/// The open packet that starts a session. `can_upgrade` is false on a
/// session that is already a WebSocket.
pub fn open_packet(sid: &str, can_upgrade: bool) -> String {
    let upgrades: &[&str] = if can_upgrade { &["websocket"] } else { &[] };
    let handshake = Handshake {
        sid,
        upgrades,
        ping_interval: PING_INTERVAL_MS,
        ping_timeout: PING_TIMEOUT_MS,
        max_payload: MAX_PAYLOAD_BYTES,
    };
    encode(&Packet::Open(
        serde_json::to_string(&handshake).unwrap_or_default(),
    ))
}

/// The transports a client may ask for in `?transport=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Polling,
    WebSocket,
}

/// Why an Engine.IO request's query was refused (HTTP 400, Engine.IO's
/// own error codes in the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("unsupported protocol version (EIO=4 is required)")]
    BadProtocol,
    #[error("unknown transport")]
    UnknownTransport,
    #[error("malformed session id")]
    BadSid,
}

impl QueryError {
    /// Engine.IO's numeric error code, which its clients log.
    pub fn engine_code(self) -> u8 {
        match self {
            Self::UnknownTransport => 0,
            Self::BadSid => 1,
            Self::BadProtocol => 5,
        }
    }
}

/// What an Engine.IO request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineQuery {
    pub transport: Transport,
    /// `None` opens a new session.
    pub sid: Option<String>,
}

/// Session ids the gateway issues are 32 lowercase hex characters; anything
/// else cannot name a session and is refused before any lookup.
pub fn is_valid_sid(sid: &str) -> bool {
    sid.len() == 32 && sid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads `EIO`, `transport` and `sid` from the query pairs.
pub fn parse_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<EngineQuery, QueryError> {
    let (mut eio, mut transport, mut sid) = (None, None, None);
    for (k, v) in pairs {
        match k {
            "EIO" => eio = Some(v),
            "transport" => transport = Some(v),
            "sid" => sid = Some(v),
            _ => {}
        }
    }
    if eio != Some("4") {
        return Err(QueryError::BadProtocol);
    }
    let transport = match transport {
        Some("polling") => Transport::Polling,
        Some("websocket") => Transport::WebSocket,
        _ => return Err(QueryError::UnknownTransport),
    };
    let sid = match sid {
        None => None,
        Some(s) if is_valid_sid(s) => Some(s.to_owned()),
        Some(_) => return Err(QueryError::BadSid),
    };
    Ok(EngineQuery { transport, sid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_client_packet_type() {
        assert_eq!(decode("1"), Ok(Packet::Close));
        assert_eq!(decode("2probe"), Ok(Packet::Ping("probe")));
        assert_eq!(decode("3"), Ok(Packet::Pong("")));
        assert_eq!(decode("40"), Ok(Packet::Message("0")));
        assert_eq!(decode("5"), Ok(Packet::Upgrade));
        assert_eq!(decode("6"), Ok(Packet::Noop));
        assert_eq!(decode(""), Err(EngineError::Empty));
        assert_eq!(decode("0{}"), Err(EngineError::UnexpectedOpen));
        assert_eq!(decode("bAAAA"), Err(EngineError::Binary));
        assert_eq!(decode("9"), Err(EngineError::UnknownType('9')));
        assert_eq!(decode("é"), Err(EngineError::UnknownType('é')));
        let big = format!("4{}", "x".repeat(MAX_PAYLOAD_BYTES));
        assert_eq!(decode(&big), Err(EngineError::TooLarge));
    }

    #[test]
    fn payloads_split_on_the_record_separator_and_round_trip() {
        let body = "40\u{1e}42[\"message\",{}]\u{1e}3";
        let packets = decode_payload(body).unwrap();
        assert_eq!(
            packets,
            vec![
                Packet::Message("0"),
                Packet::Message("2[\"message\",{}]"),
                Packet::Pong("")
            ]
        );
        let encoded: Vec<String> = packets.iter().map(encode).collect();
        assert_eq!(encode_payload(&encoded), body);
        assert_eq!(decode_payload(""), Err(EngineError::Empty));
        assert_eq!(decode_payload("40\u{1e}"), Err(EngineError::Empty));
        let flood = vec!["6"; MAX_PACKETS_PER_PAYLOAD + 1].join("\u{1e}");
        assert_eq!(decode_payload(&flood), Err(EngineError::TooManyPackets));
        let ok = vec!["6"; MAX_PACKETS_PER_PAYLOAD].join("\u{1e}");
        assert_eq!(decode_payload(&ok).unwrap().len(), MAX_PACKETS_PER_PAYLOAD);
    }

    #[test]
    fn open_packet_is_what_socket_io_client_expects() {
        let sid = "0123456789abcdef0123456789abcdef";
        let open = open_packet(sid, true);
        assert!(open.starts_with('0'));
        let v: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
        assert_eq!(v["sid"], sid);
        assert_eq!(v["upgrades"], serde_json::json!(["websocket"]));
        assert_eq!(v["pingInterval"], PING_INTERVAL_MS);
        assert_eq!(v["pingTimeout"], PING_TIMEOUT_MS);
        assert_eq!(v["maxPayload"], MAX_PAYLOAD_BYTES);
        let ws: serde_json::Value = serde_json::from_str(&open_packet(sid, false)[1..]).unwrap();
        assert_eq!(ws["upgrades"], serde_json::json!([]));
    }

    #[test]
    fn query_needs_eio4_a_known_transport_and_a_well_formed_sid() {
        let sid = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            parse_query([("EIO", "4"), ("transport", "polling"), ("t", "x")]),
            Ok(EngineQuery {
                transport: Transport::Polling,
                sid: None
            })
        );
        assert_eq!(
            parse_query([("EIO", "4"), ("transport", "websocket"), ("sid", sid)]),
            Ok(EngineQuery {
                transport: Transport::WebSocket,
                sid: Some(sid.into())
            })
        );
        assert_eq!(
            parse_query([("EIO", "3"), ("transport", "polling")]),
            Err(QueryError::BadProtocol)
        );
        assert_eq!(
            parse_query([("transport", "polling")]),
            Err(QueryError::BadProtocol)
        );
        assert_eq!(
            parse_query([("EIO", "4"), ("transport", "flashsocket")]),
            Err(QueryError::UnknownTransport)
        );
        for bad in ["", "../x", "0123456789ABCDEF0123456789ABCDEF", "abc"] {
            assert_eq!(
                parse_query([("EIO", "4"), ("transport", "polling"), ("sid", bad)]),
                Err(QueryError::BadSid),
                "{bad}"
            );
        }
    }
}
