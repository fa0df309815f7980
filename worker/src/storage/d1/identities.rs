//! Identities on D1.

use super::D1Store;
use crate::storage::records::IdentityRecord;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{IdentityRepo, StorageError};

const IDENTITY_COLUMNS: &str =
    "id, kind, display_name, email, password_hash, cloud_user_id, is_admin, tier, created_at";

impl IdentityRepo for D1Store {
    async fn insert_identity(
        &self,
        scope: &TenantScope,
        i: &IdentityRecord,
    ) -> Result<bool, StorageError> {
        self.insert_unique(
            scope,
            "INSERT INTO identities (server_id, id, kind, display_name, email, password_hash, \
             cloud_user_id, is_admin, tier, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &[
                (&i.id).into(),
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
        .await
    }

    async fn identity_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<IdentityRecord>, StorageError> {
        self.first(
            scope,
            &format!(
                "SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = ?1 AND email = ?2"
            ),
            &[email.into()],
        )
        .await
    }

    async fn identity(&self, scope: &EntityScope) -> Result<Option<IdentityRecord>, StorageError> {
        self.first(
            scope,
            &format!("SELECT {IDENTITY_COLUMNS} FROM identities WHERE server_id = ?1 AND id = ?2"),
            &[],
        )
        .await
    }

    async fn owner_exists(&self, scope: &TenantScope) -> Result<bool, StorageError> {
        self.exists(
            scope,
            "SELECT 1 AS present FROM identities WHERE server_id = ?1 AND kind = 'owner' LIMIT 1",
            &[],
        )
        .await
    }

    async fn set_password_hash(&self, scope: &EntityScope, phc: &str) -> Result<(), StorageError> {
        self.run(
            scope,
            "UPDATE identities SET password_hash = ?3 WHERE server_id = ?1 AND id = ?2",
            &[phc.into()],
        )
        .await
        .map(drop)
    }

    async fn owner_has_login(&self, scope: &TenantScope) -> Result<bool, StorageError> {
        self.exists(
            scope,
            "SELECT 1 AS present FROM identities WHERE server_id = ?1 AND kind = 'owner' \
             AND (password_hash IS NOT NULL OR cloud_user_id IS NOT NULL) LIMIT 1",
            &[],
        )
        .await
    }
}
