//! Stored rows, as the repositories return them. Times are unix seconds
//! (audit: milliseconds).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub cloud_user_id: Option<String>,
    pub is_admin: i64,
    pub tier: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id_hash: String,
    pub identity_id: String,
    pub entity_id: String,
    pub kind: String,
    pub csrf_hash: Option<String>,
    pub remember_device: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub absolute_expires_at: i64,
    pub revoked_at: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: String,
    pub ts: i64,
    pub actor_identity_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub outcome: String,
    pub metadata: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelRecord {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub channel_type: String,
    pub creator_entity_id: String,
    pub dm_key: Option<String>,
    pub created_at: i64,
}

/// How an entity is in a channel: a participant, or only invited (no
/// history, messages or socket until it accepts; see `shared::consent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Member,
    Invited,
}

impl Membership {
    /// The stored `role` (the creator's row is `creator`).
    pub fn role(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Invited => "invited",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WsTicketGrant {
    pub entity_id: String,
    pub channel_id: String,
    pub session_hash: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MachineTokenRecord {
    pub id: String,
    pub owner_entity_id: String,
    pub name: String,
    pub token_hash: String,
    /// JSON array of permission names.
    pub scopes: String,
    /// When set, the token may only act in this channel.
    pub channel_id: Option<String>,
    /// When set, the token acts as this agent (its entity id), e.g. to post
    /// the agent's replies; otherwise the token is its own entity.
    pub agent_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A registered agent (SPEC §7): owned by one entity, optionally shared with
/// others (who may read it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentRecord {
    pub id: String,
    pub name: String,
    pub owner_entity_id: String,
    pub shared_with: Vec<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an owner may change about an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub shared_with: Option<Vec<String>>,
    pub status: Option<String>,
}
