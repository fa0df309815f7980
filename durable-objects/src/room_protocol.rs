//! What the worker and a `ChannelRoom` say to each other, and what sockets
//! carry (SPEC §9).

use serde::{Deserialize, Serialize};

/// The DO namespace binding of the channel rooms (wrangler.toml).
pub const CHANNEL_ROOM_BINDING: &str = "CHANNEL_ROOM";

/// Internal header on the worker → room connect request: a JSON [`RoomJoin`].
pub const JOIN_HEADER: &str = "X-Agentgate-Room-Join";

/// The gateway's statement of who is joining a room. It is stored as the
/// socket's attachment, so it survives hibernation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RoomJoin {
    pub channel_id: String,
    pub entity_id: String,
    pub credential: String,
    /// Unix seconds after which the socket's credential is no longer valid.
    pub expires_at: Option<u64>,
}

/// The auto-response pair: a client `{"type":"ping"}` is answered with
/// `{"type":"pong"}` by the runtime without waking the object.
pub const PING: &str = r#"{"type":"ping"}"#;
pub const PONG: &str = r#"{"type":"pong"}"#;
