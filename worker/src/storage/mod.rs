//! Storage (SPEC §11): one repository trait per aggregate, each method
//! taking a scope that only the auth layer mints ([`scope`]), and two back
//! ends behind them: D1 (the default) and PostgreSQL through Hyperdrive.
//!
//! - `mod.rs` — the repository traits (this file).
//! - [`scope`] — [`TenantScope`] / [`EntityScope`], and what statements bind.
//! - [`records`] — the rows the repositories take and return.
//! - `error.rs` — [`StorageError`], and its one mapping to a response.
//! - `store.rs` — [`Store`] (the configured back end, forwarding every trait)
//!   and [`RequestStore`] (one store per request).
//! - `d1/`, `pg/` — the two back ends, with the same file names: `mod.rs`
//!   (connection, statements bound to a scope, error classification) and one
//!   file per aggregate, so a query's D1 and PostgreSQL versions are found at
//!   the same path.
//! - `conformance` — the shared suite both back ends pass, run in workerd
//!   (development build only, feature `dev`).
//!
//! Architecture Invariant: every statement filters or writes `server_id`
//! from the scope it was given. The back ends' statement helpers bind the
//! scope's `server_id` as the first parameter (`?1` / `$1`) and, for an
//! [`EntityScope`], its entity as the second (`?2` / `$2`); on PostgreSQL the
//! same values are the transaction's `SET LOCAL app.*` settings that
//! row-level security checks. No repository passes either by hand.
//!
//! Architecture Invariant: storage depends on nothing above it: not on
//! `auth`, `pipeline`, `routes` or any service module (only `crate::error`,
//! for the `From` impl, and `crate::random` for the conformance suite's ids).

#[cfg(feature = "dev")]
pub mod conformance;
mod d1;
mod error;
mod pg;
pub mod records;
pub mod scope;
mod store;

pub use d1::D1Store;
pub use error::StorageError;
pub use pg::PgStore;
pub use store::{RequestStore, Store};

use records::*;
use scope::{EntityScope, TenantScope};

#[allow(async_fn_in_trait)]
pub trait IdentityRepo {
    /// Inserts a new identity; `false` if its email (or, for an owner, the
    /// tenant's one owner) already exists. The insert is the check.
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        identity: &IdentityRecord,
    ) -> Result<bool, StorageError>;
    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, StorageError>;
    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, StorageError>;
    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, StorageError>;
    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), StorageError>;
    /// Whether the owner has a stronger login than the legacy bearer: a
    /// password or a cloud link (SPEC §3 item 5).
    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, StorageError>;
}

#[allow(async_fn_in_trait)]
pub trait MachineTokenRepo {
    async fn insert_machine_token(
        &self,
        scope: &EntityScope,
        token: &MachineTokenRecord,
    ) -> Result<(), StorageError>;
    /// Looks a presented token up by its hash (pre-auth: tenant scope).
    async fn machine_token_by_hash(
        &self,
        scope: &TenantScope,
        token_hash: &str,
    ) -> Result<Option<MachineTokenRecord>, StorageError>;
    /// The scope's (owner's) tokens, newest first.
    async fn machine_tokens(
        &self,
        scope: &EntityScope,
    ) -> Result<Vec<MachineTokenRecord>, StorageError>;
    /// Replaces an active token's secret; `false` if it isn't the scope's or
    /// isn't active.
    async fn rotate_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, StorageError>;
    async fn revoke_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        now: i64,
    ) -> Result<bool, StorageError>;
}

#[allow(async_fn_in_trait)]
pub trait SessionRepo {
    async fn insert_session(
        &self,
        scope: &EntityScope,
        session: &SessionRecord,
    ) -> Result<(), StorageError>;
    /// Looks a presented session up by its hash (pre-auth: tenant scope).
    async fn session_by_hash(
        &self,
        scope: &TenantScope,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, StorageError>;
    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError>;
    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, StorageError>;
    /// Revokes one of the scope's sessions; `false` if it isn't theirs/active.
    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, StorageError>;
    /// Revokes all of the scope's sessions except `keep`; returns the revoked hashes.
    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, StorageError>;
}

#[allow(async_fn_in_trait)]
pub trait AuditRepo {
    async fn insert_audit(
        &self,
        scope: &TenantScope,
        event: &AuditRecord,
    ) -> Result<(), StorageError>;
    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StorageError>;
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
    ) -> Result<bool, StorageError>;
}

#[allow(async_fn_in_trait)]
pub trait ChannelRepo {
    /// Creates the channel with its creator and `members` as participants,
    /// and `invited` as invitations.
    async fn create_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        members: &[String],
        invited: &[String],
        now: i64,
    ) -> Result<(), StorageError>;
    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, StorageError>;
    /// The scope's channels (participations, not invitations), newest first,
    /// created before `before` (unix s).
    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, StorageError>;
    /// One indexed lookup on (channel_id, entity_id); an invitation is not
    /// participation.
    async fn is_participant(
        &self,
        scope: &EntityScope,
        channel_id: &str,
    ) -> Result<bool, StorageError>;
    /// The participants (invitations left out).
    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, StorageError>;
    /// Adds a participant or an invitation, unless the entity is already in
    /// the channel either way.
    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        membership: Membership,
        now: i64,
    ) -> Result<(), StorageError>;
    /// Turns the scope's own invitation into participation; false when it
    /// has none for that channel.
    async fn accept_invitation(
        &self,
        scope: &EntityScope,
        channel_id: &str,
        now: i64,
    ) -> Result<bool, StorageError>;
    /// Removes a participant or an invitation.
    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, StorageError>;
    /// The DM channel for `dm_key`, created if missing; idempotent under
    /// concurrency (the unique index on dm_key decides).
    async fn dm_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, StorageError>;
    /// The existing DM channel for `dm_key` in which the scope participates.
    async fn find_dm_channel(
        &self,
        scope: &EntityScope,
        dm_key: &str,
    ) -> Result<Option<ChannelRecord>, StorageError>;
}

#[allow(async_fn_in_trait)]
pub trait WsTicketRepo {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        grant: &WsTicketGrant,
    ) -> Result<(), StorageError>;
    /// Uses a ticket: succeeds once, before it expires.
    async fn consume_ticket(
        &self,
        scope: &TenantScope,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<WsTicketGrant>, StorageError>;
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
    ) -> Result<bool, StorageError>;
    /// The agent, if the scope owns it or it is shared with the scope.
    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, StorageError>;
    /// The scope's own and shared agents, newest first.
    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, StorageError>;
    /// Applies `changes` to one of the scope's own agents; `None` if it isn't theirs.
    async fn update_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> Result<Option<AgentRecord>, StorageError>;
    /// Deletes one of the scope's own agents; `false` if it isn't theirs.
    async fn delete_agent(&self, scope: &EntityScope, agent_id: &str)
        -> Result<bool, StorageError>;
}
