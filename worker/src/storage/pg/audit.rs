//! The audit log on PostgreSQL (tenant level).

use super::{get, record_uuid, FromRow, PgStore, P};
use crate::storage::records::AuditRecord;
use crate::storage::scope::TenantScope;
use crate::storage::{AuditRepo, StorageError};
use tokio_postgres::Row;

impl FromRow for AuditRecord {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        Ok(Self {
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
}

impl AuditRepo for PgStore {
    async fn insert_audit(&self, scope: &TenantScope, e: &AuditRecord) -> Result<(), StorageError> {
        let id = record_uuid(&e.id, "audit id")?;
        let actor = e
            .actor_identity_id
            .as_deref()
            .map(|a| record_uuid(a, "actor id"))
            .transpose()?;
        self.exec(
            scope,
            "INSERT INTO audit_events (server_id, id, ts, actor_identity_id, ip, user_agent, \
             action, outcome, metadata) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
            &[
                P::Uuid(id),
                P::Int(e.ts),
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
    }

    async fn audit_page(
        &self,
        scope: &TenantScope,
        before_ts: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StorageError> {
        self.all(
            scope,
            "SELECT id::text, ts, actor_identity_id::text, ip, user_agent, action, outcome, \
             metadata::text FROM audit_events \
             WHERE server_id = $1 AND ts < $2 ORDER BY ts DESC, id DESC LIMIT $3",
            &[
                P::Int(before_ts.unwrap_or(i64::MAX / 2)),
                P::Int(i64::from(limit.clamp(1, 200))),
            ],
        )
        .await
    }
}
