//! Who a Socket.IO connection is. A session cookie is verified by the worker
//! on the HTTP request (with an allowed Origin); a machine token, a JWT or a
//! ticket in the handshake's `auth` object arrives in the CONNECT packet,
//! possibly over the WebSocket, so the connection object verifies it with the
//! same functions as HTTP (`auth::handshake_caller`).

use crate::auth::{self, Caller};
use crate::clock::Now;
use crate::error::ApiError;
use crate::storage::RequestStore;
use agentgate_durable_objects::limiter_protocol::SocketMessageLimit;
use agentgate_shared::config::Config;
use agentgate_shared::routes::Permission;
use agentgate_shared::socketio::eliza::HandshakeAuth;
use agentgate_shared::ErrorCode;
use serde::{Deserialize, Serialize};

/// A verified identity, as a connection keeps it (it survives hibernation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub entity_id: String,
    pub credential: String,
    pub session_hash: Option<String>,
    /// The machine token's id, when the credential is one.
    #[serde(default)]
    pub machine_token_id: Option<String>,
    /// Unix seconds after which the credential is no longer valid.
    pub expires_at: Option<u64>,
    pub permissions: Vec<String>,
    /// A ticket (or channel-bound token) may act in this channel only.
    pub ticket_channel: Option<String>,
    /// The `ws-message` limit; `None` only when limiting is off.
    pub message_limit: Option<SocketMessageLimit>,
}

impl Identity {
    pub fn of(caller: &Caller, config: &Config) -> Self {
        Self {
            entity_id: caller.entity_id.clone(),
            credential: caller.credential.as_str().to_owned(),
            session_hash: caller.session_hash.clone(),
            machine_token_id: caller.machine_token_id.clone(),
            expires_at: caller.expires_at,
            permissions: crate::rooms::permission_names(caller),
            ticket_channel: caller.ticket_channel.clone(),
            message_limit: crate::ratelimit::socket_message_limit(config, caller),
        }
    }

    /// What revoking this connection's credential names: its session's hash,
    /// or its machine token (see [`crate::socketio::hub::token_key`]).
    pub fn revocation_key(&self) -> Option<String> {
        self.session_hash.clone().or_else(|| {
            self.machine_token_id
                .as_deref()
                .map(crate::socketio::hub::token_key)
        })
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.permissions.iter().any(|p| p == permission.as_str())
    }

    pub fn expired(&self, now_secs: u64) -> bool {
        self.expires_at.is_some_and(|exp| exp <= now_secs)
    }

    /// Whether this identity may act in `channel_id` at all (a ticket is
    /// bound to one channel); participation is checked separately.
    pub fn bound_elsewhere(&self, channel_id: &str) -> bool {
        self.ticket_channel
            .as_deref()
            .is_some_and(|c| c != channel_id)
    }
}

/// A refusal at CONNECT: socket.io-client's `connect_error` with
/// `data.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self {
            code: e.code.as_str(),
            message: e.message().to_owned(),
        }
    }
}

/// The identity of a CONNECT: the handshake's credential when it has one
/// (it fails if invalid, never falling back to the cookie), else the
/// cookie's, else a refusal.
pub async fn at_connect(
    auth_fields: &HandshakeAuth,
    http: Option<&Identity>,
    stores: &RequestStore<'_>,
    config: &Config,
) -> Result<Identity, Refusal> {
    let now = Now::read().secs();
    let caller = if let Some(ticket) = &auth_fields.ticket {
        Some(auth::handshake_ticket(ticket, stores, config, now).await?)
    } else if let Some(token) = auth_fields.api_key.as_ref().or(auth_fields.token.as_ref()) {
        Some(auth::handshake_token(token, stores, config, now).await?)
    } else {
        None
    };
    let identity = match (caller, http) {
        (Some(caller), _) => Identity::of(&caller, config),
        (None, Some(http)) => http.clone(),
        (None, None) => return Err(ApiError::new(ErrorCode::AuthRequired).into()),
    };
    if !identity.may(Permission::MessagingRead) {
        return Err(ApiError::new(ErrorCode::InsufficientPermissions)
            .with_message("Requires permission messaging:read")
            .into());
    }
    Ok(identity)
}
