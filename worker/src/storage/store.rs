//! One store type for both back ends, chosen by `STORAGE=d1|postgres`: every
//! repository trait, delegated to the configured back end.

use super::records::*;
use super::scope::{EntityScope, TenantScope};
use super::{
    AgentRepo, AuditRepo, BootstrapJtiRepo, ChannelRepo, D1Store, IdentityRepo, MachineTokenRepo,
    PgStore, SessionRepo, StorageError, WsTicketRepo,
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
pub fn open(env: &Env, config: &Config) -> Result<Store, StorageError> {
    match config.storage {
        StorageBackend::D1 => D1Store::from_env(env).map(Store::D1),
        StorageBackend::Postgres => PgStore::from_env(env).map(Store::Pg),
    }
}

impl Store {
    /// Whether the back end answers a trivial query (health checks).
    pub async fn reachable(&self, env: &Env) -> bool {
        match self {
            Store::D1(_) => super::d1::reachable(env).await,
            Store::Pg(s) => s.reachable().await,
        }
    }
}

/// Implements each listed repository trait for [`Store`] by calling the same
/// method on whichever back end it holds. The signatures are the traits'
/// (without `&self` and the `Result<_, StorageError>` around the output), so
/// a list that drifts from its trait does not compile.
macro_rules! forward {
    ($($repo:ident {
        $(fn $method:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty;)*
    })*) => {$(
        impl $repo for Store {
            $(async fn $method(&self, $($arg: $ty),*) -> Result<$out, StorageError> {
                match self {
                    Store::D1(s) => s.$method($($arg),*).await,
                    Store::Pg(s) => s.$method($($arg),*).await,
                }
            })*
        }
    )*};
}

forward! {
    IdentityRepo {
        fn insert_identity(scope: &TenantScope, identity: &IdentityRecord) -> bool;
        fn identity_by_email(scope: &TenantScope, email: &str) -> Option<IdentityRecord>;
        fn identity(scope: &EntityScope) -> Option<IdentityRecord>;
        fn owner_exists(scope: &TenantScope) -> bool;
        fn set_password_hash(scope: &EntityScope, phc: &str) -> ();
        fn owner_has_login(scope: &TenantScope) -> bool;
    }
    SessionRepo {
        fn insert_session(scope: &EntityScope, session: &SessionRecord) -> ();
        fn session_by_hash(scope: &TenantScope, id_hash: &str) -> Option<SessionRecord>;
        fn touch_session(scope: &EntityScope, id_hash: &str, now: i64, expires_at: i64) -> ();
        fn sessions(scope: &EntityScope) -> Vec<SessionRecord>;
        fn revoke_session(scope: &EntityScope, id_hash: &str, now: i64) -> bool;
        fn revoke_sessions_except(scope: &EntityScope, keep: Option<&str>, now: i64)
            -> Vec<String>;
    }
    MachineTokenRepo {
        fn insert_machine_token(scope: &EntityScope, token: &MachineTokenRecord) -> ();
        fn machine_token_by_hash(scope: &TenantScope, token_hash: &str)
            -> Option<MachineTokenRecord>;
        fn machine_tokens(scope: &EntityScope) -> Vec<MachineTokenRecord>;
        fn rotate_machine_token(scope: &EntityScope, id: &str, new_hash: &str, now: i64) -> bool;
        fn revoke_machine_token(scope: &EntityScope, id: &str, now: i64) -> bool;
    }
    WsTicketRepo {
        fn insert_ticket(scope: &EntityScope, ticket_hash: &str, grant: &WsTicketGrant) -> ();
        fn consume_ticket(scope: &TenantScope, ticket_hash: &str, now: i64)
            -> Option<WsTicketGrant>;
    }
    AuditRepo {
        fn insert_audit(scope: &TenantScope, event: &AuditRecord) -> ();
        fn audit_page(scope: &TenantScope, before_ts: Option<i64>, limit: u32)
            -> Vec<AuditRecord>;
    }
    BootstrapJtiRepo {
        fn claim_jti(scope: &TenantScope, jti: &str, expires_at: i64, now: i64) -> bool;
    }
    ChannelRepo {
        fn create_channel(scope: &EntityScope, channel: &ChannelRecord, members: &[String],
            invited: &[String], now: i64) -> ();
        fn channel(scope: &TenantScope, channel_id: &str) -> Option<ChannelRecord>;
        fn channels_of(scope: &EntityScope, before: Option<i64>, limit: u32)
            -> Vec<ChannelRecord>;
        fn is_participant(scope: &EntityScope, channel_id: &str) -> bool;
        fn participants(scope: &TenantScope, channel_id: &str) -> Vec<String>;
        fn add_participant(scope: &TenantScope, channel_id: &str, entity_id: &str,
            membership: Membership, now: i64) -> ();
        fn accept_invitation(scope: &EntityScope, channel_id: &str, now: i64) -> bool;
        fn remove_participant(scope: &TenantScope, channel_id: &str, entity_id: &str) -> bool;
        fn dm_channel(scope: &EntityScope, channel: &ChannelRecord, other: &str, now: i64)
            -> ChannelRecord;
        fn find_dm_channel(scope: &EntityScope, dm_key: &str) -> Option<ChannelRecord>;
    }
    AgentRepo {
        fn insert_agent(scope: &EntityScope, agent: &AgentRecord) -> bool;
        fn visible_agent(scope: &EntityScope, agent_id: &str) -> Option<AgentRecord>;
        fn visible_agents(scope: &EntityScope, limit: u32) -> Vec<AgentRecord>;
        fn update_agent(scope: &EntityScope, agent_id: &str, changes: &AgentChanges, now: i64)
            -> Option<AgentRecord>;
        fn delete_agent(scope: &EntityScope, agent_id: &str) -> bool;
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
    pub fn get(&self) -> Result<&Store, StorageError> {
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
