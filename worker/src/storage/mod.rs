//! Storage: one repository trait per aggregate (SPEC §11), each method taking
//! a scope that only the auth layer can construct. D1 is the default back end.
//!
//! Architecture Invariant: every statement filters or writes `server_id` from
//! the scope it was given; no query here can omit it.

pub mod conformance;
pub mod d1;
mod d1_agents;
mod d1_channels;
mod d1_repos;
pub mod pg;
pub mod records;
mod store;

pub use d1_repos::D1Store;
pub use pg::PgStore;
pub use store::{RequestStore, Store};

use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;
use records::*;
use worker::Env;

/// The D1 binding name (wrangler.toml).
pub const D1_BINDING: &str = "DB";

/// Whether D1 answers a trivial query.
pub async fn d1_reachable(env: &Env) -> bool {
    let Ok(db) = env.d1(D1_BINDING) else {
        return false;
    };
    db.prepare("SELECT 1 AS ok")
        .first::<serde_json::Value>(None)
        .await
        .is_ok()
}

impl D1Store {
    /// The store on the `DB` binding.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        let db = env
            .d1(D1_BINDING)
            .map_err(|e| ApiError::storage(format!("D1 binding: {e}")))?;
        Ok(D1Store::new(db))
    }
}

#[allow(async_fn_in_trait)]
pub trait IdentityRepo {
    /// Inserts a new identity; `false` if its email (or, for an owner, the
    /// tenant's one owner) already exists. The insert is the check.
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        identity: &IdentityRecord,
    ) -> Result<bool, ApiError>;
    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, ApiError>;
    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, ApiError>;
    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, ApiError>;
    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), ApiError>;
    /// Whether the owner has a stronger login than the legacy bearer: a
    /// password or a cloud link (SPEC §3 item 5).
    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, ApiError>;
}

#[allow(async_fn_in_trait)]
pub trait MachineTokenRepo {
    async fn insert_machine_token(
        &self,
        scope: &EntityScope,
        token: &MachineTokenRecord,
    ) -> Result<(), ApiError>;
    /// Looks a presented token up by its hash (pre-auth: tenant scope).
    async fn machine_token_by_hash(
        &self,
        scope: &TenantScope,
        token_hash: &str,
    ) -> Result<Option<MachineTokenRecord>, ApiError>;
    /// The scope's (owner's) tokens, newest first.
    async fn machine_tokens(
        &self,
        scope: &EntityScope,
    ) -> Result<Vec<MachineTokenRecord>, ApiError>;
    /// Replaces an active token's secret; `false` if it isn't the scope's or
    /// isn't active.
    async fn rotate_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError>;
    async fn revoke_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        now: i64,
    ) -> Result<bool, ApiError>;
}

#[allow(async_fn_in_trait)]
pub trait SessionRepo {
    async fn insert_session(
        &self,
        scope: &EntityScope,
        session: &SessionRecord,
    ) -> Result<(), ApiError>;
    /// Looks a presented session up by its hash (pre-auth: tenant scope).
    async fn session_by_hash(
        &self,
        scope: &TenantScope,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, ApiError>;
    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ApiError>;
    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, ApiError>;
    /// Revokes one of the scope's sessions; `false` if it isn't theirs/active.
    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError>;
    /// Revokes all of the scope's sessions except `keep`; returns the revoked hashes.
    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, ApiError>;
}

#[allow(async_fn_in_trait)]
pub trait AuditRepo {
    async fn insert_audit(&self, scope: &TenantScope, event: &AuditRecord) -> Result<(), ApiError>;
    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, ApiError>;
}

#[allow(async_fn_in_trait)]
pub trait BootstrapJtiRepo {
    /// Records `jti` as used. `true` if this call recorded it, `false` if it
    /// was already there (a replay). The insert itself is the check.
    async fn claim_jti(
        &self,
        scope: &TenantScope,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, ApiError>;
}

#[allow(async_fn_in_trait)]
pub trait ChannelRepo {
    /// Creates the channel with its creator (and `others`) as participants.
    async fn create_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        others: &[String],
        now: i64,
    ) -> Result<(), ApiError>;
    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, ApiError>;
    /// The scope's channels, newest first, created before `before` (unix s).
    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, ApiError>;
    /// One indexed lookup on (channel_id, entity_id).
    async fn is_participant(&self, scope: &EntityScope, channel_id: &str)
        -> Result<bool, ApiError>;
    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, ApiError>;
    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        now: i64,
    ) -> Result<(), ApiError>;
    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, ApiError>;
    /// The DM channel for `dm_key`, created if missing; idempotent under
    /// concurrency (the unique index on dm_key decides).
    async fn dm_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, ApiError>;
}

#[allow(async_fn_in_trait)]
pub trait WsTicketRepo {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        grant: &WsTicketGrant,
    ) -> Result<(), ApiError>;
    /// Uses a ticket: succeeds once, before it expires.
    async fn consume_ticket(
        &self,
        scope: &TenantScope,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<WsTicketGrant>, ApiError>;
}

/// The agents registry (SPEC §7). Every read is entity-scoped: an agent is
/// visible to its owner and to the entities it is shared with; only the owner
/// changes or deletes it.
#[allow(async_fn_in_trait)]
pub trait AgentRepo {
    /// Registers `agent` with the scope as its owner; `false` if the id is taken.
    async fn insert_agent(
        &self,
        scope: &EntityScope,
        agent: &AgentRecord,
    ) -> Result<bool, ApiError>;
    /// The agent, if the scope owns it or it is shared with the scope.
    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, ApiError>;
    /// The scope's own and shared agents, newest first.
    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, ApiError>;
    /// Applies `changes` to one of the scope's own agents; `None` if it isn't theirs.
    async fn update_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> Result<Option<AgentRecord>, ApiError>;
    /// Deletes one of the scope's own agents; `false` if it isn't theirs.
    async fn delete_agent(&self, scope: &EntityScope, agent_id: &str) -> Result<bool, ApiError>;
}
