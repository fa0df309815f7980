//! One store type for both back ends, chosen by `STORAGE=d1|postgres`: every
//! repository trait, delegated to the configured back end.

use super::{D1Store, PgStore};
use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;
use crate::storage::records::*;
use crate::storage::{
    AgentRepo, AuditRepo, BootstrapJtiRepo, ChannelRepo, IdentityRepo, MachineTokenRepo,
    SessionRepo, WsTicketRepo,
};
use agentgate_shared::config::{Config, StorageBackend};
use worker::Env;

/// The configured store of one request.
pub enum Store {
    D1(D1Store),
    Pg(PgStore),
}

/// Opens the store `config.storage` names: D1 (`DB`) or PostgreSQL through
/// Hyperdrive (`HYPERDRIVE`). No I/O happens until the first call; on
/// PostgreSQL each call is one transaction, on the store's one connection
/// (see [`RequestStore`], which closes it when the request is done).
pub fn open(env: &Env, config: &Config) -> Result<Store, ApiError> {
    match config.storage {
        StorageBackend::D1 => D1Store::from_env(env).map(Store::D1),
        StorageBackend::Postgres => PgStore::from_env(env).map(Store::Pg),
    }
}

/// The same call on whichever back end `$store` is.
macro_rules! on_backend {
    ($store:expr, $s:ident => $call:expr) => {
        match $store {
            Store::D1($s) => $call,
            Store::Pg($s) => $call,
        }
    };
}

impl Store {
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
        on_backend!(self, s => s.insert_identity(scope, identity).await)
    }

    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, ApiError> {
        on_backend!(self, s => s.identity_by_email(scope, email).await)
    }

    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, ApiError> {
        on_backend!(self, s => s.identity(scope).await)
    }

    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        on_backend!(self, s => s.owner_exists(scope).await)
    }

    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), ApiError> {
        on_backend!(self, s => s.set_password_hash(scope, phc).await)
    }

    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        on_backend!(self, s => s.owner_has_login(scope).await)
    }
}

impl SessionRepo for Store {
    async fn insert_session(
        &self,
        scope: &EntityScope,
        session: &SessionRecord,
    ) -> Result<(), ApiError> {
        on_backend!(self, s => s.insert_session(scope, session).await)
    }

    async fn session_by_hash(
        &self,
        scope: &TenantScope,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, ApiError> {
        on_backend!(self, s => s.session_by_hash(scope, id_hash).await)
    }

    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ApiError> {
        on_backend!(self, s => s.touch_session(scope, id_hash, now, expires_at).await)
    }

    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, ApiError> {
        on_backend!(self, s => s.sessions(scope).await)
    }

    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        on_backend!(self, s => s.revoke_session(scope, id_hash, now).await)
    }

    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, ApiError> {
        on_backend!(self, s => s.revoke_sessions_except(scope, keep, now).await)
    }
}

impl AuditRepo for Store {
    async fn insert_audit(&self, scope: &TenantScope, event: &AuditRecord) -> Result<(), ApiError> {
        on_backend!(self, s => s.insert_audit(scope, event).await)
    }

    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, ApiError> {
        on_backend!(self, s => s.audit_page(scope, before_ts, limit).await)
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
        on_backend!(self, s => s.claim_jti(scope, jti, expires_at, now).await)
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
        on_backend!(self, s => s.create_channel(scope, channel, others, now).await)
    }

    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, ApiError> {
        on_backend!(self, s => s.channel(scope, channel_id).await)
    }

    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, ApiError> {
        on_backend!(self, s => s.channels_of(scope, before, limit).await)
    }

    async fn is_participant(
        &self,
        scope: &EntityScope,
        channel_id: &str,
    ) -> Result<bool, ApiError> {
        on_backend!(self, s => s.is_participant(scope, channel_id).await)
    }

    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, ApiError> {
        on_backend!(self, s => s.participants(scope, channel_id).await)
    }

    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        on_backend!(self, s => s.add_participant(scope, channel_id, entity_id, now).await)
    }

    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, ApiError> {
        on_backend!(self, s => s.remove_participant(scope, channel_id, entity_id).await)
    }

    async fn dm_channel(
        &self,
        scope: &EntityScope,
        channel: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, ApiError> {
        on_backend!(self, s => s.dm_channel(scope, channel, other, now).await)
    }
}

impl WsTicketRepo for Store {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        grant: &WsTicketGrant,
    ) -> Result<(), ApiError> {
        on_backend!(self, s => s.insert_ticket(scope, ticket_hash, grant).await)
    }

    async fn consume_ticket(
        &self,
        scope: &TenantScope,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<WsTicketGrant>, ApiError> {
        on_backend!(self, s => s.consume_ticket(scope, ticket_hash, now).await)
    }
}

impl MachineTokenRepo for Store {
    async fn insert_machine_token(
        &self,
        scope: &EntityScope,
        token: &MachineTokenRecord,
    ) -> Result<(), ApiError> {
        on_backend!(self, s => s.insert_machine_token(scope, token).await)
    }

    async fn machine_token_by_hash(
        &self,
        scope: &TenantScope,
        token_hash: &str,
    ) -> Result<Option<MachineTokenRecord>, ApiError> {
        on_backend!(self, s => s.machine_token_by_hash(scope, token_hash).await)
    }

    async fn machine_tokens(
        &self,
        scope: &EntityScope,
    ) -> Result<Vec<MachineTokenRecord>, ApiError> {
        on_backend!(self, s => s.machine_tokens(scope).await)
    }

    async fn rotate_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        on_backend!(self, s => s.rotate_machine_token(scope, id, new_hash, now).await)
    }

    async fn revoke_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        on_backend!(self, s => s.revoke_machine_token(scope, id, now).await)
    }
}

impl AgentRepo for Store {
    async fn insert_agent(&self, scope: &EntityScope, a: &AgentRecord) -> Result<bool, ApiError> {
        on_backend!(self, s => s.insert_agent(scope, a).await)
    }

    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, ApiError> {
        on_backend!(self, s => s.visible_agent(scope, agent_id).await)
    }

    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, ApiError> {
        on_backend!(self, s => s.visible_agents(scope, limit).await)
    }

    async fn update_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> Result<Option<AgentRecord>, ApiError> {
        on_backend!(self, s => s.update_agent(scope, agent_id, changes, now).await)
    }

    async fn delete_agent(&self, scope: &EntityScope, agent_id: &str) -> Result<bool, ApiError> {
        on_backend!(self, s => s.delete_agent(scope, agent_id).await)
    }
}

/// The store of one request: opened on first use and shared by every step
/// of the request (authentication, the handler, its audit rows), so on
/// PostgreSQL one connection serves the whole request. The pipeline closes
/// it once the handler has answered.
pub struct RequestStore<'a> {
    env: &'a Env,
    config: &'a Config,
    store: std::cell::OnceCell<Store>,
}

impl<'a> RequestStore<'a> {
    pub fn new(env: &'a Env, config: &'a Config) -> Self {
        Self {
            env,
            config,
            store: std::cell::OnceCell::new(),
        }
    }

    /// The configured store (see [`open`]).
    pub fn get(&self) -> Result<&Store, ApiError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let store = open(self.env, self.config)?;
        Ok(self.store.get_or_init(|| store))
    }

    /// Ends the request's use of the store (closes its PostgreSQL connection).
    pub async fn close(&self) {
        if let Some(Store::Pg(store)) = self.store.get() {
            store.close().await;
        }
    }
}
