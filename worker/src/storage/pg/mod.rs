//! The repositories on PostgreSQL, reached through the Hyperdrive binding with
//! `tokio-postgres` (SPEC §11). The schema and its row-level security are in
//! `migrations/postgres/0001_initial.sql`; read its header first.
//!
//! Every repository call is one transaction on one connection
//! ([`PgStore::transact`]):
//!
//! 1. `BEGIN`, then, with bound parameters, `SELECT set_config('app.server_id',
//!    …, true), set_config('app.entity_id', …, true), …` (SET LOCAL: nothing
//!    outlives the transaction, so a pooled connection carries no identity
//!    into the next one). A `TenantScope` leaves `app.entity_id` empty,
//!    which the policies read as "tenant level": only the explicitly named
//!    tenant-level policies apply. Pre-auth lookups also set the presented
//!    key (`app.credential_hash`, `app.login_email`) their policy is keyed to.
//! 2. The statements, which still filter on `server_id` (and the entity)
//!    themselves: RLS is the second wall, not the only one. [`Tx`] binds the
//!    same values the settings carry: `$1` is the scope's `server_id`, `$2`
//!    (entity level) its entity, and a repository's own parameters follow.
//! 3. `COMMIT` (or `ROLLBACK` on any error).
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
//! A PostgreSQL failure is [`StorageError::Unavailable`] with the SQLSTATE in
//! its detail, or, for SQLSTATE 23505, [`StorageError::UniqueViolation`]. The
//! "insert is the check" writes (an identity, an agent, the bootstrap jti,
//! the DM channel) use `ON CONFLICT DO NOTHING`, so a concurrent duplicate is
//! an outcome (0 rows), never an error.
//!
//! Ids are `uuid` columns. A malformed id from a scope or a stored record is
//! an internal fault (503 / 500); one that came from a client is "no such
//! row" for reads and 400 for writes (D1 would store any string).

mod agents;
mod audit;
mod bootstrap_jti;
mod channels;
mod identities;
mod machine_tokens;
mod sessions;
mod ws_tickets;

use super::scope::{EntityScope, Scope};
use super::StorageError;
use futures::channel::oneshot;
use futures::future::{self, Either};
use std::cell::{Cell, RefCell};
use std::time::Duration;
use tokio_postgres::error::SqlState;
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
    /// The store on the `HYPERDRIVE` binding.
    pub fn from_env(env: &Env) -> Result<Self, StorageError> {
        let hyperdrive = env
            .hyperdrive(HYPERDRIVE_BINDING)
            .map_err(|e| StorageError::Unavailable(format!("Hyperdrive binding: {e}")))?;
        Ok(Self {
            hyperdrive,
            idle: RefCell::new(None),
        })
    }

    /// Closes the request's connection, if one is open.
    pub async fn close(&self) {
        let idle = self.idle.borrow_mut().take();
        if let Some(conn) = idle {
            conn.close().await;
        }
    }

    /// Whether PostgreSQL answers a trivial query (health checks).
    pub async fn reachable(&self) -> bool {
        let Ok(conn) = self.connection().await else {
            return false;
        };
        let answered = conn.client.batch_execute("SELECT 1").await.is_ok();
        release(&self.idle, conn, answered).await;
        answered
    }

    /// The idle connection of this request, or a new one.
    async fn connection(&self) -> Result<Conn, StorageError> {
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

    /// Runs `work` as one transaction bound to `scope`: commits after
    /// success, rolls back after failure (see [`Tx::finish`]). Every
    /// repository method is one transaction: this, [`Self::transact_as`], or
    /// one of the single-statement helpers below.
    async fn transact<T>(
        &self,
        scope: &impl Scope,
        work: impl AsyncFnOnce(&Tx) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.transact_as(Settings::of(scope)?, work).await
    }

    /// [`Self::transact`] with settings beyond the scope (a pre-auth
    /// lookup's presented key).
    async fn transact_as<T>(
        &self,
        settings: Settings<'_>,
        work: impl AsyncFnOnce(&Tx) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let tx = self.begin(settings).await?;
        let result = work(&tx).await;
        tx.finish(result).await
    }

    /// One query as its own transaction: its rows, decoded (bound as
    /// [`Tx::rows`]).
    async fn all<T: FromRow>(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Vec<T>, StorageError> {
        self.transact(scope, async |tx| tx.all(sql, params).await)
            .await
    }

    /// One query as its own transaction: its first row, decoded.
    async fn first<T: FromRow>(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Option<T>, StorageError> {
        self.transact(scope, async |tx| tx.first(sql, params).await)
            .await
    }

    /// One query as its own transaction: whether it has any row.
    async fn exists(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<bool, StorageError> {
        self.transact(scope, async |tx| tx.exists(sql, params).await)
            .await
    }

    /// One write as its own transaction; the number of rows it changed.
    async fn exec(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<u64, StorageError> {
        self.transact(scope, async |tx| tx.exec(sql, params).await)
            .await
    }

    /// One write as its own transaction; whether it changed any row.
    async fn changed(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<bool, StorageError> {
        Ok(self.exec(scope, sql, params).await? > 0)
    }

    /// Takes the connection, `BEGIN`s and applies the settings.
    async fn begin(&self, settings: Settings<'_>) -> Result<Tx<'_>, StorageError> {
        let tx = Tx {
            conn: Some(self.connection().await?),
            idle: &self.idle,
            bound: Cell::new(settings.bound),
        };
        let started = async {
            let client = tx.client();
            let server_id = settings.bound.server_id.to_string();
            let entity_id = settings
                .bound
                .entity_id
                .map(|e| e.to_string())
                .unwrap_or_default();
            let credential = settings.credential_hash.unwrap_or_default();
            let email = settings.login_email.unwrap_or_default();
            let params: [(&(dyn ToSql + Sync), Type); 5] = [
                (&server_id, Type::TEXT),
                (&entity_id, Type::TEXT),
                (&credential, Type::TEXT),
                (&email, Type::TEXT),
                (&STATEMENT_TIMEOUT, Type::TEXT),
            ];
            // Sequential on purpose: pipelining the two (one round trip
            // fewer) stalled ~40 ms on every other request under `wrangler
            // dev` (Nagle / delayed ACK through its local Hyperdrive proxy);
            // two loopback round trips cost ~1 ms.
            client.batch_execute("BEGIN").await.map_err(pg_error)?;
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
    async fn open(hyperdrive: &Hyperdrive) -> Result<Conn, StorageError> {
        let config: tokio_postgres::Config = hyperdrive
            .connection_string()
            .parse()
            .map_err(|e| StorageError::Unavailable(format!("postgres connection string: {e}")))?;
        let (host, port) = (hyperdrive.host(), hyperdrive.port());
        // As the workers-rs example does: StartTLS-capable socket, upgraded
        // only if the server agrees to the SSLRequest (Hyperdrive terminates
        // TLS itself; a local test cluster answers "no TLS").
        let socket = Socket::builder()
            .secure_transport(SecureTransport::StartTls)
            .connect(host, port)
            .map_err(|e| StorageError::Unavailable(format!("postgres connect: {e}")))?;
        let connect = std::pin::pin!(config.connect_raw(socket, PassthroughTls));
        let (client, connection) = match future::select(connect, Delay::from(CONNECT_TIMEOUT)).await
        {
            Either::Left((Ok(pair), _)) => pair,
            Either::Left((Err(e), _)) => return Err(pg_error(e)),
            Either::Right(((), _)) => {
                return Err(StorageError::Unavailable(
                    "postgres connect: timed out".into(),
                ))
            }
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

/// Gives a connection back to its store after a clean use, closes it after
/// any failure (it may be broken or mid-transaction). A second connection
/// (concurrent calls on one store) is closed too.
async fn release(idle: &RefCell<Option<Conn>>, conn: Conn, reusable: bool) {
    let spare = if reusable {
        idle.borrow_mut().replace(conn)
    } else {
        Some(conn)
    };
    if let Some(spare) = spare {
        spare.close().await;
    }
}

/// What every statement of a transaction is bound to (`$1`, `$2`), and what
/// its `SET LOCAL app.server_id` / `app.entity_id` say.
#[derive(Clone, Copy)]
struct Bound {
    server_id: Uuid,
    /// `None` at tenant level.
    entity_id: Option<Uuid>,
}

/// What a transaction sets before its first statement.
#[derive(Clone, Copy)]
struct Settings<'a> {
    bound: Bound,
    credential_hash: Option<&'a str>,
    login_email: Option<&'a str>,
}

impl<'a> Settings<'a> {
    fn of(scope: &impl Scope) -> Result<Self, StorageError> {
        Ok(Self {
            bound: Bound {
                server_id: scope_uuid(scope.server_id(), "server id")?,
                entity_id: scope
                    .entity()
                    .map(|e| scope_uuid(e, "entity id"))
                    .transpose()?,
            },
            credential_hash: None,
            login_email: None,
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

/// A transaction on its own connection, bound to a scope. End it with
/// [`Tx::finish`] on every path.
struct Tx<'s> {
    conn: Option<Conn>,
    /// Where the connection goes back after a clean end.
    idle: &'s RefCell<Option<Conn>>,
    bound: Cell<Bound>,
}

impl Tx<'_> {
    fn client(&self) -> &tokio_postgres::Client {
        &self
            .conn
            .as_ref()
            .expect("a live transaction has its connection")
            .client
    }

    /// Runs a statement: `$1` is the scope's `server_id`, `$2` (entity
    /// level) its entity, then `params` in order (`$2…` / `$3…`).
    async fn rows(&self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>, StorageError> {
        let bound = self.bound.get();
        self.client()
            .query_typed(sql, &bind(&bound, params))
            .await
            .map_err(pg_error)
    }

    /// The rows of a query, decoded.
    async fn all<T: FromRow>(&self, sql: &str, params: &[P<'_>]) -> Result<Vec<T>, StorageError> {
        self.rows(sql, params)
            .await?
            .iter()
            .map(T::from_row)
            .collect()
    }

    /// The first row of a query, decoded.
    async fn first<T: FromRow>(
        &self,
        sql: &str,
        params: &[P<'_>],
    ) -> Result<Option<T>, StorageError> {
        self.rows(sql, params)
            .await?
            .first()
            .map(T::from_row)
            .transpose()
    }

    /// Whether a query has any row.
    async fn exists(&self, sql: &str, params: &[P<'_>]) -> Result<bool, StorageError> {
        Ok(!self.rows(sql, params).await?.is_empty())
    }

    /// Runs a write (bound as [`Tx::rows`]); returns the number of rows it
    /// changed.
    async fn exec(&self, sql: &str, params: &[P<'_>]) -> Result<u64, StorageError> {
        let bound = self.bound.get();
        self.client()
            .execute_typed(sql, &bind(&bound, params))
            .await
            .map_err(pg_error)
    }

    /// Switches the rest of the transaction to tenant level (`app.entity_id`
    /// empty, statements bound to `$1` only), as the D1 code switches from
    /// an EntityScope to its tenant() within one operation.
    async fn to_tenant_level(&self) -> Result<(), StorageError> {
        self.client()
            .query_typed("SELECT set_config('app.entity_id', '', true)", &[])
            .await
            .map_err(pg_error)?;
        self.bound.set(Bound {
            entity_id: None,
            ..self.bound.get()
        });
        Ok(())
    }

    /// Commits after success, rolls back after failure. The connection goes
    /// back to the store after a clean commit; after any failure it is
    /// closed (see [`release`]).
    async fn finish<T>(mut self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        let conn = self.conn.take().expect("finish runs once");
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = conn.client.batch_execute(end).await.map_err(pg_error);
        release(self.idle, conn, result.is_ok() && ended.is_ok()).await;
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

/// A parameter a repository binds, with the PostgreSQL type it is sent as.
enum P<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    Bool(bool),
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Uuids(Vec<Uuid>),
}

/// The scope's values (`$1`, `$2` at entity level), then `params`.
fn bind<'a>(bound: &'a Bound, params: &'a [P<'a>]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    let scope = std::iter::once(&bound.server_id)
        .chain(&bound.entity_id)
        .map(|id| -> (&'a (dyn ToSql + Sync), Type) { (id, Type::UUID) });
    let params = params.iter().map(|p| -> (&'a (dyn ToSql + Sync), Type) {
        match p {
            P::Text(v) => (v, Type::TEXT),
            P::OptText(v) => (v, Type::TEXT),
            P::Int(v) => (v, Type::INT8),
            P::Bool(v) => (v, Type::BOOL),
            P::Uuid(v) => (v, Type::UUID),
            P::OptUuid(v) => (v, Type::UUID),
            P::Uuids(v) => (v, Type::UUID_ARRAY),
        }
    });
    scope.chain(params).collect()
}

/// A PostgreSQL failure: SQLSTATE 23505 is a unique violation; anything
/// else the back end failing, with the SQLSTATE kept for the logs.
fn pg_error(e: tokio_postgres::Error) -> StorageError {
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => StorageError::UniqueViolation {
            constraint: db.constraint().map(str::to_owned),
        },
        Some(db) => {
            StorageError::Unavailable(format!("postgres {}: {}", db.code().code(), db.message()))
        }
        None => StorageError::Unavailable(format!("postgres: {e}")),
    }
}

/// A row decoded into a record (the counterpart of D1's serde rows).
trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, StorageError>;
}

/// A one-column row.
impl FromRow for String {
    fn from_row(row: &Row) -> Result<Self, StorageError> {
        get(row, 0)
    }
}

fn get<'r, T: FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T, StorageError> {
    row.try_get(idx)
        .map_err(|e| StorageError::Corrupt(format!("postgres row, column {idx}: {e}")))
}

/// An id from a scope (the auth layer's): must be a UUID. PostgreSQL would
/// refuse it just the same (22P02), so it is the back end failing (503).
fn scope_uuid(id: &str, what: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(id).map_err(|_| StorageError::Unavailable(format!("{what} is not a UUID")))
}

/// The entity of an entity scope, as data (e.g. a channel's creator among
/// its participants, written at tenant level).
fn entity_uuid(scope: &EntityScope) -> Result<Uuid, StorageError> {
    scope_uuid(scope.entity_id(), "entity id")
}

/// An id the gateway generated or read back (records): must be a UUID.
fn record_uuid(id: &str, what: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(id).map_err(|_| StorageError::Internal(format!("{what} `{id}` is not a UUID")))
}

/// An id a client sent, used to look something up: not a UUID, no such row.
fn lookup_uuid(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// An id a client sent, to be stored: must be a UUID (400 otherwise).
fn input_uuid(id: &str, field: &'static str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(id).map_err(|_| StorageError::InvalidId { field })
}
