//! One store type for both back ends, chosen by `STORAGE=d1|postgres`: every
//! repository trait, delegated. (Lives here only to keep `storage/mod.rs`
//! untouched while callers still use `storage::open` and `D1Store`; it can
//! move to `storage/` once they switch.)

use super::PgStore;
use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;
use crate::storage::records::*;
use crate::storage::{
    AuditRepo, BootstrapJtiRepo, ChannelRepo, D1Store, IdentityRepo, SessionRepo, WsTicketRepo,
};
use agentgate_shared::config::{Config, StorageBackend};
use worker::Env;

/// The configured store of one request.
pub enum Store {
    D1(D1Store),
    Pg(PgStore),
}

/// Opens the store `config.storage` names: D1 (`DB`) or PostgreSQL through
/// Hyperdrive (`HYPERDRIVE`). No I/O happens until the first call.
pub fn open_configured(env: &Env, config: &Config) -> Result<Store, ApiError> {
    match config.storage {
        StorageBackend::D1 => crate::storage::open(env).map(Store::D1),
        StorageBackend::Postgres => PgStore::from_env(env).map(Store::Pg),
    }
}

impl Store {
    /// PostgreSQL: keep one connection for the calls that follow (see
    /// [`PgStore::hold`]); D1: nothing to do.
    pub async fn hold(&self) -> Result<(), ApiError> {
        match self {
            Store::D1(_) => Ok(()),
            Store::Pg(s) => s.hold().await,
        }
    }

    /// Ends a held PostgreSQL connection; D1: nothing to do.
    pub async fn close(&self) {
        if let Store::Pg(s) = self {
            s.close().await;
        }
    }

    /// Whether the back end answers a trivial query (health checks).
    pub async fn reachable(&self, env: &Env) -> bool {
        match self {
            Store::D1(_) => crate::storage::d1_reachable(env).await,
            Store::Pg(s) => s.reachable().await,
        }
    }
}

impl IdentityRepo for Store {
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        identity: &IdentityRecord,
    ) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.insert_identity(scope, identity).await,
            Store::Pg(s) => s.insert_identity(scope, identity).await,
        }
    }

    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, ApiError> {
        match self {
            Store::D1(s) => s.identity_by_email(scope, email).await,
            Store::Pg(s) => s.identity_by_email(scope, email).await,
        }
    }

    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, ApiError> {
        match self {
            Store::D1(s) => s.identity(scope).await,
            Store::Pg(s) => s.identity(scope).await,
        }
    }

    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.owner_exists(scope).await,
            Store::Pg(s) => s.owner_exists(scope).await,
        }
    }

    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.set_password_hash(scope, phc).await,
            Store::Pg(s) => s.set_password_hash(scope, phc).await,
        }
    }

    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.owner_has_login(scope).await,
            Store::Pg(s) => s.owner_has_login(scope).await,
        }
    }
}

impl SessionRepo for Store {
    async fn insert_session(
        &self,
        scope: &EntityScope,
        session: &SessionRecord,
    ) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.insert_session(scope, session).await,
            Store::Pg(s) => s.insert_session(scope, session).await,
        }
    }

    async fn session_by_hash(
        &self,
        scope: &TenantScope,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, ApiError> {
        match self {
            Store::D1(s) => s.session_by_hash(scope, id_hash).await,
            Store::Pg(s) => s.session_by_hash(scope, id_hash).await,
        }
    }

    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.touch_session(scope, id_hash, now, expires_at).await,
            Store::Pg(s) => s.touch_session(scope, id_hash, now, expires_at).await,
        }
    }

    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, ApiError> {
        match self {
            Store::D1(s) => s.sessions(scope).await,
            Store::Pg(s) => s.sessions(scope).await,
        }
    }

    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.revoke_session(scope, id_hash, now).await,
            Store::Pg(s) => s.revoke_session(scope, id_hash, now).await,
        }
    }

    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, ApiError> {
        match self {
            Store::D1(s) => s.revoke_sessions_except(scope, keep, now).await,
            Store::Pg(s) => s.revoke_sessions_except(scope, keep, now).await,
        }
    }
}

impl AuditRepo for Store {
    async fn insert_audit(&self, scope: &TenantScope, event: &AuditRecord) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.insert_audit(scope, event).await,
            Store::Pg(s) => s.insert_audit(scope, event).await,
        }
    }

    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, ApiError> {
        match self {
            Store::D1(s) => s.audit_page(scope, before_ts, limit).await,
            Store::Pg(s) => s.audit_page(scope, before_ts, limit).await,
        }
    }
}

impl BootstrapJtiRepo for Store {
    async fn claim_jti(
        &self,
        scope: &TenantScope,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.claim_jti(scope, jti, expires_at, now).await,
            Store::Pg(s) => s.claim_jti(scope, jti, expires_at, now).await,
        }
    }
}

impl ChannelRepo for Store {
    async fn create_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        others: &[String],
        now: i64,
    ) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.create_channel(scope, channel, others, now).await,
            Store::Pg(s) => s.create_channel(scope, channel, others, now).await,
        }
    }

    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, ApiError> {
        match self {
            Store::D1(s) => s.channel(scope, channel_id).await,
            Store::Pg(s) => s.channel(scope, channel_id).await,
        }
    }

    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, ApiError> {
        match self {
            Store::D1(s) => s.channels_of(scope, before, limit).await,
            Store::Pg(s) => s.channels_of(scope, before, limit).await,
        }
    }

    async fn is_participant(
        &self,
        scope: &EntityScope,
        channel_id: &str,
    ) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.is_participant(scope, channel_id).await,
            Store::Pg(s) => s.is_participant(scope, channel_id).await,
        }
    }

    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, ApiError> {
        match self {
            Store::D1(s) => s.participants(scope, channel_id).await,
            Store::Pg(s) => s.participants(scope, channel_id).await,
        }
    }

    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.add_participant(scope, channel_id, entity_id, now).await,
            Store::Pg(s) => s.add_participant(scope, channel_id, entity_id, now).await,
        }
    }

    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, ApiError> {
        match self {
            Store::D1(s) => s.remove_participant(scope, channel_id, entity_id).await,
            Store::Pg(s) => s.remove_participant(scope, channel_id, entity_id).await,
        }
    }

    async fn dm_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, ApiError> {
        match self {
            Store::D1(s) => s.dm_channel(scope, channel, other, now).await,
            Store::Pg(s) => s.dm_channel(scope, channel, other, now).await,
        }
    }
}

impl WsTicketRepo for Store {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        grant: &WsTicketGrant,
    ) -> Result<(), ApiError> {
        match self {
            Store::D1(s) => s.insert_ticket(scope, ticket_hash, grant).await,
            Store::Pg(s) => s.insert_ticket(scope, ticket_hash, grant).await,
        }
    }

    async fn consume_ticket(
        &self,
        scope: &TenantScope,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<WsTicketGrant>, ApiError> {
        match self {
            Store::D1(s) => s.consume_ticket(scope, ticket_hash, now).await,
            Store::Pg(s) => s.consume_ticket(scope, ticket_hash, now).await,
        }
    }
}
