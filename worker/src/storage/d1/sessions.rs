//! Sessions on D1.

use super::D1Store;
use crate::storage::records::SessionRecord;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{SessionRepo, StorageError};

const SESSION_COLUMNS: &str =
    "id_hash, identity_id, entity_id, kind, csrf_hash, remember_device, created_at, \
     last_seen_at, expires_at, absolute_expires_at, revoked_at, ip, user_agent";

impl SessionRepo for D1Store {
    async fn insert_session(
        &self,
        scope: &EntityScope,
        s: &SessionRecord,
    ) -> Result<(), StorageError> {
        self.run(
            scope,
            "INSERT INTO sessions (server_id, entity_id, id_hash, identity_id, kind, csrf_hash, \
             remember_device, created_at, last_seen_at, expires_at, absolute_expires_at, \
             revoked_at, ip, user_agent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13)",
            &[
                (&s.id_hash).into(),
                (&s.identity_id).into(),
                (&s.kind).into(),
                s.csrf_hash.as_deref().into(),
                s.remember_device.into(),
                s.created_at.into(),
                s.last_seen_at.into(),
                s.expires_at.into(),
                s.absolute_expires_at.into(),
                s.ip.as_deref().into(),
                s.user_agent.as_deref().into(),
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
        self.first(
            scope,
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE server_id = ?1 AND id_hash = ?2"
            ),
            &[id_hash.into()],
        )
        .await
    }

    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        self.run(
            scope,
            "UPDATE sessions SET last_seen_at = ?4, expires_at = ?5 \
             WHERE server_id = ?1 AND entity_id = ?2 AND id_hash = ?3 AND revoked_at IS NULL",
            &[id_hash.into(), now.into(), expires_at.into()],
        )
        .await
        .map(drop)
    }

    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, StorageError> {
        self.all(
            scope,
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE server_id = ?1 AND entity_id = ?2 AND revoked_at IS NULL \
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
            "UPDATE sessions SET revoked_at = ?4 \
             WHERE server_id = ?1 AND entity_id = ?2 AND id_hash = ?3 AND revoked_at IS NULL",
            &[id_hash.into(), now.into()],
        )
        .await
    }

    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, StorageError> {
        #[derive(serde::Deserialize)]
        struct Row {
            id_hash: String,
        }
        let rows: Vec<Row> = self
            .all(
                scope,
                "UPDATE sessions SET revoked_at = ?4 \
                 WHERE server_id = ?1 AND entity_id = ?2 AND id_hash != ?3 AND revoked_at IS NULL \
                 RETURNING id_hash",
                &[keep.unwrap_or("").into(), now.into()],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.id_hash).collect())
    }
}
