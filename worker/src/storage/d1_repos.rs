//! The repositories on D1.

use super::d1::{all, first, is_unique_violation, run};
use super::records::*;
use super::{AuditRepo, BootstrapJtiRepo, IdentityRepo, MachineTokenRepo, SessionRepo};
use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;
use worker::D1Database;

pub struct D1Store {
    db: D1Database,
}

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    pub(super) fn db(&self) -> &D1Database {
        &self.db
    }
}

const IDENTITY_COLUMNS: &str =
    "id, kind, display_name, email, password_hash, cloud_user_id, is_admin, tier, created_at";
const SESSION_COLUMNS: &str =
    "id_hash, identity_id, entity_id, kind, csrf_hash, remember_device, created_at, \
     last_seen_at, expires_at, absolute_expires_at, revoked_at, ip, user_agent";

impl IdentityRepo for D1Store {
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        i: &IdentityRecord,
    ) -> Result<bool, ApiError> {
        let inserted = run(
            &self.db,
            "INSERT INTO identities (id, server_id, kind, display_name, email, password_hash, cloud_user_id, is_admin, tier, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &[
                (&i.id).into(),
                scope.server_id().into(),
                (&i.kind).into(),
                (&i.display_name).into(),
                i.email.as_deref().into(),
                i.password_hash.as_deref().into(),
                i.cloud_user_id.as_deref().into(),
                i.is_admin.into(),
                (&i.tier).into(),
                i.created_at.into(),
            ],
        )
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, ApiError> {
        first(
            &self.db,
            &format!(
                "SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = ?1 AND email = ?2"
            ),
            &[scope.server_id().into(), email.into()],
        )
        .await
    }

    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, ApiError> {
        first(
            &self.db,
            &format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = ?1 AND id = ?2"),
            &[scope.server_id().into(), scope.entity_id().into()],
        )
        .await
    }

    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        let row: Option<serde_json::Value> = first(
            &self.db,
            "SELECT 1 AS present FROM identities WHERE server_id = ?1 AND kind = 'owner' LIMIT 1",
            &[scope.server_id().into()],
        )
        .await?;
        Ok(row.is_some())
    }

    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), ApiError> {
        run(
            &self.db,
            "UPDATE identities SET password_hash = ?3 WHERE server_id = ?1 AND id = ?2",
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                phc.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, ApiError> {
        let row: Option<serde_json::Value> = first(
            &self.db,
            "SELECT 1 AS present FROM identities WHERE server_id = ?1 AND kind = 'owner' \
             AND (password_hash IS NOT NULL OR cloud_user_id IS NOT NULL) LIMIT 1",
            &[scope.server_id().into()],
        )
        .await?;
        Ok(row.is_some())
    }
}

const MACHINE_TOKEN_COLUMNS: &str = "id, owner_entity_id, name, token_hash, scopes, channel_id, \
     agent_id, created_at, expires_at, last_used_at, revoked_at";

impl MachineTokenRepo for D1Store {
    async fn insert_machine_token(
        &self,
        scope: &EntityScope,
        t: &MachineTokenRecord,
    ) -> Result<(), ApiError> {
        run(
            &self.db,
            "INSERT INTO machine_tokens (id, server_id, owner_entity_id, name, token_hash, scopes, channel_id, agent_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &[
                (&t.id).into(),
                scope.server_id().into(),
                scope.entity_id().into(),
                (&t.name).into(),
                (&t.token_hash).into(),
                (&t.scopes).into(),
                t.channel_id.as_deref().into(),
                t.agent_id.as_deref().into(),
                t.created_at.into(),
                t.expires_at.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn machine_token_by_hash(
        &self,
        scope: &TenantScope,
        token_hash: &str,
    ) -> Result<Option<MachineTokenRecord>, ApiError> {
        first(
            &self.db,
            &format!(
                "SELECT {MACHINE_TOKEN_COLUMNS} FROM machine_tokens WHERE server_id = ?1 AND token_hash = ?2"
            ),
            &[scope.server_id().into(), token_hash.into()],
        )
        .await
    }

    async fn machine_tokens(
        &self,
        scope: &EntityScope,
    ) -> Result<Vec<MachineTokenRecord>, ApiError> {
        all(
            &self.db,
            &format!(
                "SELECT {MACHINE_TOKEN_COLUMNS} FROM machine_tokens WHERE server_id = ?1 AND owner_entity_id = ?2 \
                 ORDER BY created_at DESC, id DESC LIMIT 200"
            ),
            &[scope.server_id().into(), scope.entity_id().into()],
        )
        .await
    }

    async fn rotate_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        let changed = run(
            &self.db,
            "UPDATE machine_tokens SET token_hash = ?4 \
             WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?3 AND revoked_at IS NULL AND expires_at > ?5",
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                id.into(),
                new_hash.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn revoke_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        let changed = run(
            &self.db,
            "UPDATE machine_tokens SET revoked_at = ?4 \
             WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?3 AND revoked_at IS NULL",
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                id.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(changed > 0)
    }
}

impl SessionRepo for D1Store {
    async fn insert_session(&self, scope: &EntityScope, s: &SessionRecord) -> Result<(), ApiError> {
        run(
            &self.db,
            "INSERT INTO sessions (id_hash, server_id, identity_id, entity_id, kind, csrf_hash, remember_device, created_at, \
             last_seen_at, expires_at, absolute_expires_at, revoked_at, ip, user_agent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13)",
            &[
                (&s.id_hash).into(),
                scope.server_id().into(),
                (&s.identity_id).into(),
                scope.entity_id().into(),
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
    ) -> Result<Option<SessionRecord>, ApiError> {
        first(
            &self.db,
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE server_id = ?1 AND id_hash = ?2"
            ),
            &[scope.server_id().into(), id_hash.into()],
        )
        .await
    }

    async fn touch_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ApiError> {
        run(
            &self.db,
            "UPDATE sessions SET last_seen_at = ?4, expires_at = ?5 \
             WHERE server_id = ?1 AND entity_id = ?2 AND id_hash = ?3 AND revoked_at IS NULL",
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                id_hash.into(),
                now.into(),
                expires_at.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn sessions(&self, scope: &EntityScope) -> Result<Vec<SessionRecord>, ApiError> {
        all(
            &self.db,
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE server_id = ?1 AND entity_id = ?2 AND revoked_at IS NULL \
                 ORDER BY created_at DESC LIMIT 200"
            ),
            &[scope.server_id().into(), scope.entity_id().into()],
        )
        .await
    }

    async fn revoke_session(
        &self,
        scope: &EntityScope,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        let changed = run(
            &self.db,
            "UPDATE sessions SET revoked_at = ?4 \
             WHERE server_id = ?1 AND entity_id = ?2 AND id_hash = ?3 AND revoked_at IS NULL",
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                id_hash.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn revoke_sessions_except(
        &self,
        scope: &EntityScope,
        keep: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, ApiError> {
        #[derive(serde::Deserialize)]
        struct Row {
            id_hash: String,
        }
        let keep = keep.unwrap_or("");
        let rows: Vec<Row> = all(
            &self.db,
            "UPDATE sessions SET revoked_at = ?4 \
             WHERE server_id = ?1 AND entity_id = ?2 AND id_hash != ?3 AND revoked_at IS NULL RETURNING id_hash",
            &[scope.server_id().into(), scope.entity_id().into(), keep.into(), now.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.id_hash).collect())
    }
}

impl AuditRepo for D1Store {
    async fn insert_audit(&self, scope: &TenantScope, e: &AuditRecord) -> Result<(), ApiError> {
        run(
            &self.db,
            "INSERT INTO audit_events (id, ts, server_id, actor_identity_id, ip, user_agent, action, outcome, metadata) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &[
                (&e.id).into(),
                e.ts.into(),
                scope.server_id().into(),
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
    ) -> Result<Vec<AuditRecord>, ApiError> {
        all(
            &self.db,
            "SELECT id, ts, actor_identity_id, ip, user_agent, action, outcome, metadata FROM audit_events \
             WHERE server_id = ?1 AND ts < ?2 ORDER BY ts DESC, id DESC LIMIT ?3",
            &[
                scope.server_id().into(),
                before_ts.unwrap_or(i64::MAX / 2).into(),
                i64::from(limit.clamp(1, 200)).into(),
            ],
        )
        .await
    }
}

impl BootstrapJtiRepo for D1Store {
    async fn claim_jti(
        &self,
        scope: &TenantScope,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, ApiError> {
        // Forget expired entries first; the primary key makes the insert the check.
        run(
            &self.db,
            "DELETE FROM bootstrap_jti_seen WHERE server_id = ?1 AND expires_at < ?2",
            &[scope.server_id().into(), now.into()],
        )
        .await?;
        match run(
            &self.db,
            "INSERT INTO bootstrap_jti_seen (server_id, jti, expires_at, seen_at) VALUES (?1, ?2, ?3, ?4)",
            &[scope.server_id().into(), jti.into(), expires_at.into(), now.into()],
        )
        .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
