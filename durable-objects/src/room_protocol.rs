//! What the worker and a `ChannelRoom` say to each other (SPEC §9). The worker
//! calls the room over internal `fetch` requests; only the worker can reach a
//! Durable Object, so these are trusted here.

use agentgate_shared::agent_delivery::AgentRouting;
use serde::{Deserialize, Serialize};

/// The DO namespace binding of the channel rooms (wrangler.toml).
pub const CHANNEL_ROOM_BINDING: &str = "CHANNEL_ROOM";

/// Internal header on the worker → room connect request: a JSON [`RoomJoin`].
pub const JOIN_HEADER: &str = "X-Agentgate-Room-Join";

/// Internal header on the connect request, when an agent origin is
/// configured: a JSON [`AgentRouting`].
pub const ROUTING_HEADER: &str = "X-Agentgate-Room-Agents";

/// Internal paths (the host part of the URL is irrelevant).
pub const PATH_CONNECT: &str = "/connect";
pub const PATH_POST: &str = "/messages/post";
pub const PATH_HISTORY: &str = "/messages/history";
pub const PATH_CLOSE: &str = "/sockets/close";
/// `POST` a JSON [`AgentRouting`]: the room's agents after a participant change.
pub const PATH_AGENTS: &str = "/agents";

/// The gateway's statement of who is joining a room. It is stored as the
/// socket's attachment, so it survives hibernation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RoomJoin {
    pub channel_id: String,
    pub entity_id: String,
    pub credential: String,
    /// SHA-256 of the session id, when the socket rides on a session (so
    /// revoking the session can close it).
    pub session_hash: Option<String>,
    /// Unix seconds after which the socket's credential is no longer valid.
    pub expires_at: Option<u64>,
    /// The channel's participants when the socket joined (for world-state).
    pub participants: Vec<String>,
    /// The `ws-message` limit of this socket's frames; `null` only when
    /// limiting is off (development), absent means the SPEC limit.
    #[serde(default = "spec_message_limit")]
    pub message_limit: Option<crate::limiter_protocol::SocketMessageLimit>,
    /// The joining caller's permissions (the `scopes` of the assertion when
    /// one of its messages is handed to an agent).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The channel's agents this caller may address, as of joining (only
    /// with an agent origin): its messages are handed to these.
    #[serde(default)]
    pub agents: Vec<String>,
}

fn spec_message_limit() -> Option<crate::limiter_protocol::SocketMessageLimit> {
    Some(crate::limiter_protocol::SocketMessageLimit::spec())
}

/// A message posted over REST, to be logged and broadcast like a socket one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostMessage {
    pub channel_id: String,
    pub sender_id: String,
    pub text: String,
    pub client_id: Option<String>,
    /// The sender's permissions (see [`RoomJoin::permissions`]).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The room's agents as the sender sees them, when an origin is configured.
    #[serde(default)]
    pub routing: Option<AgentRouting>,
}

/// Which sockets to close, and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseSockets {
    pub session_hash: Option<String>,
    pub entity_id: Option<String>,
    pub code: u16,
    pub reason: String,
}

/// Socket.IO (SPEC §9): a connection object subscribes to the channel's room
/// when it joins; the room then fans every new message out to it.
/// `POST` a JSON [`Subscription`].
pub const PATH_SUBSCRIBE: &str = "/socketio/subscribe";
/// `POST` a JSON [`Subscription`] (only `sid` is read).
pub const PATH_UNSUBSCRIBE: &str = "/socketio/unsubscribe";

/// The DO namespace binding of the Socket.IO connection objects
/// (wrangler.toml); an object's name is its Engine.IO session id.
pub const SOCKETIO_BINDING: &str = "SOCKETIO_CONNECTION";
/// Room → connection: `POST` a JSON [`Delivery`]; 410 means "forget me".
pub const SIO_PATH_DELIVER: &str = "/room/deliver";
/// Room → connection: `POST` a JSON [`Leave`] (the entity left the channel).
pub const SIO_PATH_LEAVE: &str = "/room/leave";

/// One Socket.IO connection subscribed to a room.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub sid: String,
    pub channel_id: String,
    pub entity_id: String,
    pub session_hash: Option<String>,
}

/// A new message for a subscribed connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub channel_id: String,
    pub message: agentgate_shared::realtime::ChannelMessage,
}

/// The connection may no longer read the channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leave {
    pub channel_id: String,
    pub code: u16,
    pub reason: String,
}

/// Close codes (SPEC §9 / issue 6).
pub const CLOSE_SESSION_REVOKED: u16 = 4001;
pub const CLOSE_CHANNEL_UNAUTHORIZED: u16 = 4003;

/// The auto-response pair: a client `{"type":"ping"}` is answered with
/// `{"type":"pong"}` by the runtime without waking the object.
pub const PING: &str = r#"{"type":"ping"}"#;
pub const PONG: &str = r#"{"type":"pong"}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter_protocol::SocketMessageLimit;

    #[test]
    fn a_join_without_a_limit_gets_the_spec_limit() {
        let base = r#""channelId":"c","entityId":"e","credential":"jwt","sessionHash":null,"expiresAt":null,"participants":[]"#;
        let absent: RoomJoin = serde_json::from_str(&format!("{{{base}}}")).unwrap();
        assert_eq!(absent.message_limit, Some(SocketMessageLimit::spec()));
        let off: RoomJoin =
            serde_json::from_str(&format!(r#"{{{base},"messageLimit":null}}"#)).unwrap();
        assert_eq!(off.message_limit, None);
    }
}
