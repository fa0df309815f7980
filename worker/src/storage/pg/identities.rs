//! Identities on PostgreSQL. The lookup by email runs at tenant level keyed
//! to the presented email (`app.login_email`).

use super::{get, record_uuid, FromRow, PgStore, Settings, P};
use crate::storage::records::IdentityRecord;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{IdentityRepo, StorageError};
use tokio_postgres::Row;

const IDENTITY_COLUMNS: &str = "id::text, kind, display_name, email, password_hash, \
                                cloud_user_id, is_admin, tier, created_at";

impl FromRow for IdentityRecord {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        Ok(Self {
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
}

impl IdentityRepo for PgStore {
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        i: &IdentityRecord,
    ) -> Result<bool, StorageError> {
        let id = record_uuid(&i.id, "identity id")?;
        self.changed(
            scope,
            "INSERT INTO identities (server_id, id, kind, display_name, email, \
             password_hash, cloud_user_id, is_admin, tier, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            &[
                P::Uuid(id),
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
    }

    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, StorageError> {
        let settings = Settings::of(scope)?.login_email(email);
        self.transact_as(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = $1 AND email = $2"
                ),
                &[P::Text(email)],
            )
            .await
        })
        .await
    }

    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, StorageError> {
        self.first(
            scope,
            &format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = $1 AND id = $2"),
            &[],
        )
        .await
    }

    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, StorageError> {
        self.exists(
            scope,
            "SELECT 1 FROM identities WHERE server_id = $1 AND kind = 'owner' LIMIT 1",
            &[],
        )
        .await
    }

    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), StorageError> {
        self.exec(
            scope,
            "UPDATE identities SET password_hash = $3 WHERE server_id = $1 AND id = $2",
            &[P::Text(phc)],
        )
        .await
        .map(drop)
    }

    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, StorageError> {
        self.exists(
            scope,
            "SELECT 1 FROM identities WHERE server_id = $1 AND kind = 'owner' \
             AND (password_hash IS NOT NULL OR cloud_user_id IS NOT NULL) LIMIT 1",
            &[],
        )
        .await
    }
}
