//! The audit log on D1.

use super::D1Store;
use crate::storage::records::AuditRecord;
use crate::storage::scope::TenantScope;
use crate::storage::{AuditRepo, StorageError};

impl AuditRepo for D1Store {
    async fn insert_audit(&self, scope: &TenantScope, e: &AuditRecord) -> Result<(), StorageError> {
        self.run(
            scope,
            "INSERT INTO audit_events (server_id, id, ts, actor_identity_id, ip, user_agent, \
             action, outcome, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &[
                (&e.id).into(),
                e.ts.into(),
                e.actor_identity_id.as_deref().into(),
                e.ip.as_deref().into(),
                e.user_agent.as_deref().into(),
                (&e.action).into(),
                (&e.outcome).into(),
                (&e.metadata).into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StorageError> {
        self.all(
            scope,
            "SELECT id, ts, actor_identity_id, ip, user_agent, action, outcome, metadata \
             FROM audit_events WHERE server_id = ?1 AND ts < ?2 ORDER BY ts DESC, id DESC LIMIT ?3",
            &[
                before_ts.unwrap_or(i64::MAX / 2).into(),
                i64::from(limit.clamp(1, 200)).into(),
            ],
        )
        .await
    }
}
