//! The repositories on PostgreSQL, reached through the Hyperdrive binding with
//! `tokio-postgres` (SPEC §11). The schema and its row-level security are in
//! `migrations/postgres/0001_initial.sql`; read its header first.
//!
//! Every repository call is one transaction on one connection:
//!
//! 1. `BEGIN`, then, with bound parameters, `SELECT set_config('app.server_id',
//!    …, true), set_config('app.entity_id', …, true), …` (SET LOCAL: nothing
//!    outlives the transaction, so a pooled connection carries no identity
//!    into the next one). A [`TenantScope`] leaves `app.entity_id` empty,
//!    which the policies read as "tenant level": only the explicitly named
//!    tenant-level policies apply. Pre-auth lookups also set the presented
//!    key (`app.credential_hash`, `app.login_email`) their policy is keyed to.
//! 2. The statements, which still filter on `server_id` (and the entity)
//!    themselves: RLS is the second wall, not the only one.
//! 3. `COMMIT` (or `ROLLBACK` on any error). The whole of
//!    [`PgStore::transact`] is this.
//!
//! A store serves one request and keeps one connection for it: opened by the
//! first transaction, reused by the next ones (each with its own `SET LOCAL`
//! scope), closed by [`PgStore::close`] when the request is done (the client
//! is dropped, tokio-postgres sends Terminate and closes the socket, and the
//! connection task is awaited). A connection whose transaction failed is
//! closed at once, never reused; a store dropped without `close` drops its
//! connection, which ends the connection task and its socket.
//!
//! Under `wrangler dev` 4.86 the binding goes through a local proxy that
//! crashes the whole process when the database *refuses* a connection (see
//! wrangler.toml); the tests put `tests/src/pg.rs`'s `NeverRefuseProxy` in
//! front of the cluster.
//!
//! Statements go through `query_typed`/`execute_typed` (parameter types given
//! up front, unnamed statements): one round trip each, and no named prepared
//! statements, which transaction-mode pooling such as Hyperdrive's can't keep.
//!
//! Every PostgreSQL failure becomes `STORAGE_UNAVAILABLE` (503) with the
//! SQLSTATE in the internal detail. The "insert is the check" writes (the
//! bootstrap jti, the DM channel) use `ON CONFLICT DO NOTHING`, so a
//! concurrent duplicate is an outcome (0 rows), never an error.
//!
//! Ids are `uuid` columns. A malformed id from a scope or a stored record is
//! an internal fault (503); one that came from a client is "no such row" for
//! reads and 400 for writes (D1 would store any string).

mod agents;
mod channels;
mod machine_tokens;

use super::records::*;
use super::{AuditRepo, BootstrapJtiRepo, IdentityRepo, SessionRepo};
use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;
use futures::channel::oneshot;
use futures::future::{self, Either};
use std::cell::RefCell;
use std::time::Duration;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::Row;
use uuid::Uuid;
use worker::postgres_tls::PassthroughTls;
use worker::{Delay, Env, Hyperdrive, SecureTransport, Socket};

/// The Hyperdrive binding name (wrangler.toml).
pub const HYPERDRIVE_BINDING: &str = "HYPERDRIVE";

/// How long opening a connection may take before the request fails (503).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Server-side bound on every statement (and lock wait) of a transaction.
const STATEMENT_TIMEOUT: &str = "10s";

/// The PostgreSQL store of one request.
pub struct PgStore {
    hyperdrive: Hyperdrive,
    /// The request's connection between two transactions.
    idle: RefCell<Option<Conn>>,
}

impl PgStore {
    pub fn new(hyperdrive: Hyperdrive) -> Self {
        Self {
            hyperdrive,
            idle: RefCell::new(None),
        }
    }

    /// Closes the request's connection, if one is open.
    pub async fn close(&self) {
        let idle = self.idle.borrow_mut().take();
        if let Some(conn) = idle {
            conn.close().await;
        }
    }

    /// The idle connection of this request, or a new one.
    async fn connection(&self) -> Result<Conn, ApiError> {
        let idle = self.idle.borrow_mut().take();
        match idle {
            Some(conn) if !conn.client.is_closed() => Ok(conn),
            Some(conn) => {
                conn.close().await;
                Conn::open(&self.hyperdrive).await
            }
            None => Conn::open(&self.hyperdrive).await,
        }
    }

    /// The store on the `HYPERDRIVE` binding.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        let hyperdrive = env
            .hyperdrive(HYPERDRIVE_BINDING)
            .map_err(|e| ApiError::storage(format!("Hyperdrive binding: {e}")))?;
        Ok(Self::new(hyperdrive))
    }

    /// Whether PostgreSQL answers a trivial query (health checks).
    pub async fn reachable(&self) -> bool {
        let Ok(tx) = self.begin_raw(None).await else {
            return false;
        };
        let r = tx.rows("SELECT 1", &[]).await.map(drop);
        tx.finish(r).await.is_ok()
    }

    /// Runs `work` as one transaction with `settings` applied: commits
    /// after success, rolls back after failure, then closes the connection
    /// (see [`Tx::finish`]). Every repository method is one call.
    async fn transact<T>(
        &self,
        settings: Settings<'_>,
        work: impl AsyncFnOnce(&Tx) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let tx = self.begin_raw(Some(settings)).await?;
        let result = work(&tx).await;
        tx.finish(result).await
    }

    /// Opens a connection, `BEGIN`s and applies the scope settings.
    async fn begin_raw(&self, settings: Option<Settings<'_>>) -> Result<Tx<'_>, ApiError> {
        let tx = Tx {
            conn: Some(self.connection().await?),
            idle: &self.idle,
        };
        let started = async {
            let client = tx.client();
            let begin = client.batch_execute("BEGIN");
            match settings {
                None => begin.await.map_err(pg_error),
                Some(s) => {
                    let server_id = s.server_id.to_string();
                    let entity_id = s.entity_id.map(|e| e.to_string()).unwrap_or_default();
                    let credential = s.credential_hash.unwrap_or_default();
                    let email = s.login_email.unwrap_or_default();
                    let params: [(&(dyn ToSql + Sync), Type); 5] = [
                        (&server_id, Type::TEXT),
                        (&entity_id, Type::TEXT),
                        (&credential, Type::TEXT),
                        (&email, Type::TEXT),
                        (&STATEMENT_TIMEOUT, Type::TEXT),
                    ];
                    // Sequential on purpose: pipelining the two (one round
                    // trip fewer) stalled ~40 ms on every other request under
                    // `wrangler dev` (Nagle / delayed ACK through its local
                    // Hyperdrive proxy); two loopback round trips cost ~1 ms.
                    begin.await.map_err(pg_error)?;
                    client
                        .query_typed(
                            "SELECT set_config('app.server_id', $1, true), \
                                set_config('app.entity_id', $2, true), \
                                set_config('app.credential_hash', $3, true), \
                                set_config('app.login_email', $4, true), \
                                set_config('statement_timeout', $5, true)",
                            &params,
                        )
                        .await
                        .map(drop)
                        .map_err(pg_error)
                }
            }
        }
        .await;
        match started {
            Ok(()) => Ok(tx),
            Err(e) => tx.finish(Err(e)).await,
        }
    }
}

/// One connection: the client, and the end of its connection task.
struct Conn {
    client: tokio_postgres::Client,
    done: oneshot::Receiver<()>,
}

impl Conn {
    async fn open(hyperdrive: &Hyperdrive) -> Result<Conn, ApiError> {
        let config = parse_config(&hyperdrive.connection_string())?;
        let (host, port) = (hyperdrive.host(), hyperdrive.port());
        // As the workers-rs example does: StartTLS-capable socket, upgraded
        // only if the server agrees to the SSLRequest (Hyperdrive terminates
        // TLS itself; a local test cluster answers "no TLS").
        let socket = Socket::builder()
            .secure_transport(SecureTransport::StartTls)
            .connect(host, port)
            .map_err(|e| ApiError::storage(format!("postgres connect: {e}")))?;
        let connect = std::pin::pin!(config.connect_raw(socket, PassthroughTls));
        let (client, connection) = match future::select(connect, Delay::from(CONNECT_TIMEOUT)).await
        {
            Either::Left((Ok(pair), _)) => pair,
            Either::Left((Err(e), _)) => return Err(pg_error(e)),
            Either::Right(((), _)) => return Err(ApiError::storage("postgres connect: timed out")),
        };
        let (finished, done) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = connection.await {
                worker::console_warn!("postgres connection ended with an error: {e}");
            }
            let _ = finished.send(());
        });
        Ok(Conn { client, done })
    }

    /// Drops the client (the connection then says goodbye to the server and
    /// closes its socket) and waits for the connection task to finish.
    async fn close(self) {
        let Conn { client, done } = self;
        drop(client);
        let _ = done.await;
    }
}

fn parse_config(url: &str) -> Result<tokio_postgres::Config, ApiError> {
    url.parse()
        .map_err(|e| ApiError::storage(format!("postgres connection string: {e}")))
}

/// What a transaction sets before its first statement.
#[derive(Clone, Copy)]
struct Settings<'a> {
    server_id: Uuid,
    entity_id: Option<Uuid>,
    credential_hash: Option<&'a str>,
    login_email: Option<&'a str>,
}

impl<'a> Settings<'a> {
    fn tenant(scope: &TenantScope) -> Result<Self, ApiError> {
        Ok(Self {
            server_id: scope_uuid(scope.server_id(), "server id")?,
            entity_id: None,
            credential_hash: None,
            login_email: None,
        })
    }

    fn entity(scope: &EntityScope) -> Result<Self, ApiError> {
        Ok(Self {
            entity_id: Some(scope_uuid(scope.entity_id(), "entity id")?),
            ..Self::tenant(scope.tenant())?
        })
    }

    fn credential_hash(mut self, hash: &'a str) -> Self {
        self.credential_hash = Some(hash);
        self
    }

    fn login_email(mut self, email: &'a str) -> Self {
        self.login_email = Some(email);
        self
    }
}

/// A transaction on its own connection. End it with [`Tx::finish`] on
/// every path.
struct Tx<'s> {
    conn: Option<Conn>,
    /// Where the connection goes back after a clean end.
    idle: &'s RefCell<Option<Conn>>,
}

impl Tx<'_> {
    fn client(&self) -> &tokio_postgres::Client {
        &self
            .conn
            .as_ref()
            .expect("a live transaction has its connection")
            .client
    }

    async fn rows(&self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>, ApiError> {
        self.client()
            .query_typed(sql, &bind(params))
            .await
            .map_err(pg_error)
    }

    async fn first(&self, sql: &str, params: &[P<'_>]) -> Result<Option<Row>, ApiError> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }

    /// Runs a write; returns the number of rows it changed.
    async fn exec(&self, sql: &str, params: &[P<'_>]) -> Result<u64, ApiError> {
        self.client()
            .execute_typed(sql, &bind(params))
            .await
            .map_err(pg_error)
    }

    /// Switches the rest of the transaction to another entity, or to tenant
    /// level (`None`), as the D1 code switches from an EntityScope to its
    /// tenant() within one operation.
    async fn set_entity(&self, entity: Option<Uuid>) -> Result<(), ApiError> {
        let entity = entity.map(|e| e.to_string()).unwrap_or_default();
        self.client()
            .query_typed(
                "SELECT set_config('app.entity_id', $1, true)",
                &[(&entity, Type::TEXT)],
            )
            .await
            .map(drop)
            .map_err(pg_error)
    }

    /// Commits after success, rolls back after failure. The connection goes
    /// back to the store after a clean commit; after any failure it is
    /// closed (it may be broken or mid-transaction).
    async fn finish<T>(mut self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        let conn = self.conn.take().expect("finish runs once");
        let ended = match &result {
            Ok(_) => conn.client.batch_execute("COMMIT").await.map_err(pg_error),
            Err(_) => conn
                .client
                .batch_execute("ROLLBACK")
                .await
                .map_err(pg_error),
        };
        let reusable = result.is_ok() && ended.is_ok();
        let spare = if reusable {
            self.idle.borrow_mut().replace(conn)
        } else {
            Some(conn)
        };
        // A second connection (concurrent calls on one store) is closed too.
        if let Some(spare) = spare {
            spare.close().await;
        }
        match (result, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        // Only reached without `finish` if the request itself was dropped:
        // dropping the client ends the connection task, which closes the
        // socket on its own (the server rolls the transaction back).
        self.conn.take();
    }
}

/// A bound parameter, with the PostgreSQL type it is sent as.
enum P<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    Bool(bool),
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Uuids(Vec<Uuid>),
}

fn bind<'a>(params: &'a [P<'a>]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    params
        .iter()
        .map(|p| -> (&'a (dyn ToSql + Sync), Type) {
            match p {
                P::Text(v) => (v, Type::TEXT),
                P::OptText(v) => (v, Type::TEXT),
                P::Int(v) => (v, Type::INT8),
                P::Bool(v) => (v, Type::BOOL),
                P::Uuid(v) => (v, Type::UUID),
                P::OptUuid(v) => (v, Type::UUID),
                P::Uuids(v) => (v, Type::UUID_ARRAY),
            }
        })
        .collect()
}

/// A PostgreSQL failure: 503, with the SQLSTATE kept for the logs.
fn pg_error(e: tokio_postgres::Error) -> ApiError {
    match e.as_db_error() {
        Some(db) => ApiError::storage(format!("postgres {}: {}", db.code().code(), db.message())),
        None => ApiError::storage(format!("postgres: {e}")),
    }
}

/// An id from a scope (the auth layer's): must be a UUID.
fn scope_uuid(id: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::storage(format!("{what} is not a UUID")))
}

/// An id the gateway generated or read back (records): must be a UUID.
fn record_uuid(id: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::internal(format!("{what} `{id}` is not a UUID")))
}

/// An id a client sent, used to look something up: not a UUID, no such row.
fn lookup_uuid(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// An id a client sent, to be stored: must be a UUID (400 otherwise).
fn input_uuid(id: &str, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_request(format!("Invalid field `{field}`: not a UUID")))
}

fn get<'r, T: FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T, ApiError> {
    row.try_get(idx)
        .map_err(|e| ApiError::storage(format!("postgres row, column {idx}: {e}")))
}

const IDENTITY_COLUMNS: &str = "id::text, kind, display_name, email, password_hash, \
     cloud_user_id, is_admin, tier, created_at";

fn identity_row(r: &Row) -> Result<IdentityRecord, ApiError> {
    Ok(IdentityRecord {
        id: get(r, 0)?,
        kind: get(r, 1)?,
        display_name: get(r, 2)?,
        email: get(r, 3)?,
        password_hash: get(r, 4)?,
        cloud_user_id: get(r, 5)?,
        is_admin: i64::from(get::<bool>(r, 6)?),
        tier: get(r, 7)?,
        created_at: get(r, 8)?,
    })
}

const SESSION_COLUMNS: &str = "id_hash, identity_id::text, entity_id::text, kind, csrf_hash, \
     remember_device, created_at, last_seen_at, expires_at, absolute_expires_at, revoked_at, \
     ip, user_agent";

fn session_row(r: &Row) -> Result<SessionRecord, ApiError> {
    Ok(SessionRecord {
        id_hash: get(r, 0)?,
        identity_id: get(r, 1)?,
        entity_id: get(r, 2)?,
        kind: get(r, 3)?,
        csrf_hash: get(r, 4)?,
        remember_device: i64::from(get::<bool>(r, 5)?),
        created_at: get(r, 6)?,
        last_seen_at: get(r, 7)?,
        expires_at: get(r, 8)?,
        absolute_expires_at: get(r, 9)?,
        revoked_at: get(r, 10)?,
        ip: get(r, 11)?,
        user_agent: get(r, 12)?,
    })
}

fn audit_row(r: &Row) -> Result<AuditRecord, ApiError> {
    Ok(AuditRecord {
        id: get(r, 0)?,
        ts: get(r, 1)?,
        actor_identity_id: get(r, 2)?,
        ip: get(r, 3)?,
        user_agent: get(r, 4)?,
        action: get(r, 5)?,
        outcome: get(r, 6)?,
        metadata: get(r, 7)?,
    })
}

impl IdentityRepo for PgStore {
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        i: &IdentityRecord,
    ) -> Result<bool, ApiError> {
        let settings = Settings::tenant(scope)?;
        let id = record_uuid(&i.id, "identity id")?;
        self.transact(settings, async |tx| {
            tx.exec(
                "INSERT INTO identities (id, server_id, kind, display_name, email, password_hash, \
                 cloud_user_id, is_admin, tier, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                &[
                    P::Uuid(id),
                    P::Uuid(settings.server_id),
                    P::Text(&i.kind),
                    P::Text(&i.display_name),
                    P::OptText(i.email.as_deref()),
                    P::OptText(i.password_hash.as_deref()),
                    P::OptText(i.cloud_user_id.as_deref()),
                    P::Bool(i.is_admin != 0),
                    P::Text(&i.tier),
                    P::Int(i.created_at),
                ],
            )
            .await
            .map(|inserted| inserted > 0)
        })
        .await
    }

    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, ApiError> {
        let settings = Settings::tenant(scope)?.login_email(email);
        self.transact(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = $1 AND email = $2"
                ),
                &[P::Uuid(settings.server_id), P::Text(email)],
            )
            .await?
            .as_ref()
            .map(identity_row)
            .transpose()
        })
        .await
    }

    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = $1 AND id = $2"
                ),
                &[P::Uuid(settings.server_id), P::Uuid(entity(&settings))],
            )
            .await?
            .as_ref()
            .map(identity_row)
            .transpose()
        })
        .await
    }

    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        let settings = Settings::tenant(scope)?;
        self.transact(settings, async |tx| {
            tx.first(
                "SELECT 1 FROM identities WHERE server_id = $1 AND kind = 'owner' LIMIT 1",
                &[P::Uuid(settings.server_id)],
            )
            .await
            .map(|row| row.is_some())
        })
        .await
    }

    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        let settings = Settings::tenant(scope)?;
        self.transact(settings, async |tx| {
            tx.first(
                "SELECT 1 FROM identities WHERE server_id = $1 AND kind = 'owner' \
                 AND (password_hash IS NOT NULL OR cloud_user_id IS NOT NULL) LIMIT 1",
                &[P::Uuid(settings.server_id)],
            )
            .await
            .map(|row| row.is_some())
        })
        .await
    }

    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.exec(
                "UPDATE identities SET password_hash = $3 WHERE server_id = $1 AND id = $2",
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(entity(&settings)),
                    P::Text(phc),
                ],
            )
            .await
            .map(drop)
        })
        .await
    }
}

/// The entity of an entity-level transaction.
fn entity(settings: &Settings<'_>) -> Uuid {
    settings
        .entity_id
        .expect("entity-level settings carry an entity")
}

impl SessionRepo for PgStore {
    async fn insert_session(&self, scope: &EntityScope, s: &SessionRecord) -> Result<(), ApiError> {
        let settings = Settings::entity(scope)?;
        let identity_id = record_uuid(&s.identity_id, "identity id")?;
        self.transact(settings, async |tx| {
            tx
            .exec(
                "INSERT INTO sessions (id_hash, server_id, identity_id, entity_id, kind, csrf_hash, \
                 remember_device, created_at, last_seen_at, expires_at, absolute_expires_at, \
                 revoked_at, ip, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13)",
                &[
                    P::Text(&s.id_hash),
                    P::Uuid(settings.server_id),
                    P::Uuid(identity_id),
                    P::Uuid(entity(&settings)),
                    P::Text(&s.kind),
                    P::OptText(s.csrf_hash.as_deref()),
                    P::Bool(s.remember_device != 0),
                    P::Int(s.created_at),
                    P::Int(s.last_seen_at),
                    P::Int(s.expires_at),
                    P::Int(s.absolute_expires_at),
                    P::OptText(s.ip.as_deref()),
                    P::OptText(s.user_agent.as_deref()),
                ],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn session_by_hash(
        &self,
        scope: &TenantScope,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, ApiError> {
        let settings = Settings::tenant(scope)?.credential_hash(id_hash);
        self.transact(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE server_id = $1 AND id_hash = $2"
                ),
                &[P::Uuid(settings.server_id), P::Text(id_hash)],
            )
            .await?
            .as_ref()
            .map(session_row)
            .transpose()
        })
        .await
    }

    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.exec(
                "UPDATE sessions SET last_seen_at = $4, expires_at = $5 \
                 WHERE server_id = $1 AND entity_id = $2 AND id_hash = $3 AND revoked_at IS NULL",
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(entity(&settings)),
                    P::Text(id_hash),
                    P::Int(now),
                    P::Int(expires_at),
                ],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.rows(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions \
                     WHERE server_id = $1 AND entity_id = $2 AND revoked_at IS NULL \
                     ORDER BY created_at DESC LIMIT 200"
                ),
                &[P::Uuid(settings.server_id), P::Uuid(entity(&settings))],
            )
            .await?
            .iter()
            .map(session_row)
            .collect()
        })
        .await
    }

    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.exec(
                "UPDATE sessions SET revoked_at = $4 \
                 WHERE server_id = $1 AND entity_id = $2 AND id_hash = $3 AND revoked_at IS NULL",
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(entity(&settings)),
                    P::Text(id_hash),
                    P::Int(now),
                ],
            )
            .await
            .map(|changed| changed > 0)
        })
        .await
    }

    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.rows(
                "UPDATE sessions SET revoked_at = $4 \
                 WHERE server_id = $1 AND entity_id = $2 AND id_hash <> $3 AND revoked_at IS NULL \
                 RETURNING id_hash",
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(entity(&settings)),
                    P::Text(keep.unwrap_or("")),
                    P::Int(now),
                ],
            )
            .await?
            .iter()
            .map(|row| get::<String>(row, 0))
            .collect()
        })
        .await
    }
}

impl AuditRepo for PgStore {
    async fn insert_audit(&self, scope: &TenantScope, e: &AuditRecord) -> Result<(), ApiError> {
        let settings = Settings::tenant(scope)?;
        let id = record_uuid(&e.id, "audit id")?;
        let actor = e
            .actor_identity_id
            .as_deref()
            .map(|a| record_uuid(a, "actor id"))
            .transpose()?;
        self.transact(settings, async |tx| {
            tx.exec(
                "INSERT INTO audit_events (id, ts, server_id, actor_identity_id, ip, user_agent, \
                 action, outcome, metadata) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
                &[
                    P::Uuid(id),
                    P::Int(e.ts),
                    P::Uuid(settings.server_id),
                    P::OptUuid(actor),
                    P::OptText(e.ip.as_deref()),
                    P::OptText(e.user_agent.as_deref()),
                    P::Text(&e.action),
                    P::Text(&e.outcome),
                    P::Text(&e.metadata),
                ],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, ApiError> {
        let settings = Settings::tenant(scope)?;
        self.transact(settings, async |tx| {
            tx.rows(
                "SELECT id::text, ts, actor_identity_id::text, ip, user_agent, action, outcome, \
                 metadata::text FROM audit_events \
                 WHERE server_id = $1 AND ts < $2 ORDER BY ts DESC, id DESC LIMIT $3",
                &[
                    P::Uuid(settings.server_id),
                    P::Int(before_ts.unwrap_or(i64::MAX / 2)),
                    P::Int(i64::from(limit.clamp(1, 200))),
                ],
            )
            .await?
            .iter()
            .map(audit_row)
            .collect()
        })
        .await
    }
}

impl BootstrapJtiRepo for PgStore {
    async fn claim_jti(
        &self,
        scope: &TenantScope,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, ApiError> {
        let settings = Settings::tenant(scope)?;
        self.transact(settings, async |tx| {
            // Forget expired entries (the policy lets only rows already
            // expired by the database clock go); then the primary key makes
            // the insert the check: a concurrent duplicate waits for the
            // first to commit and then inserts nothing.
            tx.exec(
                "DELETE FROM bootstrap_jti_seen WHERE server_id = $1 AND expires_at < $2",
                &[P::Uuid(settings.server_id), P::Int(now)],
            )
            .await?;
            let inserted = tx
                .exec(
                    "INSERT INTO bootstrap_jti_seen (server_id, jti, expires_at, seen_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[
                        P::Uuid(settings.server_id),
                        P::Text(jti),
                        P::Int(expires_at),
                        P::Int(now),
                    ],
                )
                .await?;
            Ok(inserted == 1)
        })
        .await
    }
}
