//! Sessions on PostgreSQL. The lookup by hash runs at tenant level keyed to
//! the presented hash (`app.credential_hash`); everything else at the
//! session's entity level.

use super::{get, record_uuid, FromRow, PgStore, Settings, P};
use crate::storage::records::SessionRecord;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{SessionRepo, StorageError};
use tokio_postgres::Row;

const SESSION_COLUMNS: &str = "id_hash, identity_id::text, entity_id::text, kind, csrf_hash, \
                               remember_device, created_at, last_seen_at, expires_at, absolute_expires_at, revoked_at, \
                               ip, user_agent";

impl FromRow for SessionRecord {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        Ok(Self {
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
}

impl SessionRepo for PgStore {
    async fn insert_session(
        &self,
        scope: &EntityScope,
        s: &SessionRecord,
    ) -> Result<(), StorageError> {
        let identity_id = record_uuid(&s.identity_id, "identity id")?;
        self.exec(
            scope,
            "INSERT INTO sessions (server_id, entity_id, id_hash, identity_id, kind, \
             csrf_hash, remember_device, created_at, last_seen_at, expires_at, \
             absolute_expires_at, revoked_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13)",
            &[
                P::Text(&s.id_hash),
                P::Uuid(identity_id),
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
    }

    async fn session_by_hash(
        &self,
        scope: &TenantScope,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, StorageError> {
        let settings = Settings::of(scope)?.credential_hash(id_hash);
        self.transact_as(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE server_id = $1 AND id_hash = $2"
                ),
                &[P::Text(id_hash)],
            )
            .await
        })
        .await
    }

    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        self.exec(
            scope,
            "UPDATE sessions SET last_seen_at = $4, expires_at = $5 \
             WHERE server_id = $1 AND entity_id = $2 AND id_hash = $3 AND revoked_at IS NULL",
            &[P::Text(id_hash), P::Int(now), P::Int(expires_at)],
        )
        .await
        .map(drop)
    }

    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, StorageError> {
        self.all(
            scope,
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE server_id = $1 AND entity_id = $2 AND revoked_at IS NULL \
                 ORDER BY created_at DESC LIMIT 200"
            ),
            &[],
        )
        .await
    }

    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        self.changed(
            scope,
            "UPDATE sessions SET revoked_at = $4 \
             WHERE server_id = $1 AND entity_id = $2 AND id_hash = $3 \
             AND revoked_at IS NULL",
            &[P::Text(id_hash), P::Int(now)],
        )
        .await
    }

    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, StorageError> {
        self.all(
            scope,
            "UPDATE sessions SET revoked_at = $4 \
             WHERE server_id = $1 AND entity_id = $2 AND id_hash <> $3 AND revoked_at IS NULL \
             RETURNING id_hash",
            &[P::Text(keep.unwrap_or("")), P::Int(now)],
        )
        .await
    }
}
