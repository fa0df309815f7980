//! What the worker, the connection objects and the entity hubs say to each
//! other over internal `fetch` requests (trusted: only this script reaches a
//! Durable Object; the worker strips client-sent `X-Agentgate-*` headers).

use super::identity::Identity;
use serde::{Deserialize, Serialize};

/// DO bindings (wrangler.toml).
pub use agentgate_durable_objects::room_protocol::SOCKETIO_BINDING as CONNECTION_BINDING;
pub const HUB_BINDING: &str = "SOCKETIO_HUB";

/// Worker → connection: a JSON [`HttpStatement`] on every forwarded request.
pub const STATEMENT_HEADER: &str = "X-Agentgate-Sio";

/// Worker → connection paths.
pub const PATH_OPEN: &str = "/engine/open";
pub const PATH_POLL: &str = "/engine/poll";
pub const PATH_WEBSOCKET: &str = "/engine/websocket";
/// Hub → connection: close for good (revocation).
pub const PATH_CLOSE: &str = "/engine/close";

/// Hub paths.
pub const HUB_REGISTER: &str = "/hub/register";
pub const HUB_UNREGISTER: &str = "/hub/unregister";
pub const HUB_CLOSE: &str = "/hub/close";

/// What the worker verified about the HTTP request it forwards.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpStatement {
    /// The identity the request's own credential proved (a session cookie
    /// with an allowed Origin, or an `Authorization` header), if any.
    pub http: Option<Identity>,
}

/// A connection registering with its entity's hub, or leaving it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubEntry {
    pub sid: String,
    /// The revocable credential it rides on: a session's hash or a machine
    /// token's key.
    pub session_hash: Option<String>,
}

/// Close the entity's connections: all, or those riding on these sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubClose {
    pub session_hashes: Option<Vec<String>>,
    pub reason: String,
}

/// Hub → connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseConnection {
    pub reason: String,
}
