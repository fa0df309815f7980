//! The bootstrap-token `jti` set on D1.

use super::D1Store;
use crate::storage::scope::TenantScope;
use crate::storage::{BootstrapJtiRepo, StorageError};

impl BootstrapJtiRepo for D1Store {
    async fn claim_jti(
        &self,
        scope: &TenantScope,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StorageError> {
        // Forget expired entries first; the primary key makes the insert the check.
        self.run(
            scope,
            "DELETE FROM bootstrap_jti_seen WHERE server_id = ?1 AND expires_at < ?2",
            &[now.into()],
        )
        .await?;
        self.insert_unique(
            scope,
            "INSERT INTO bootstrap_jti_seen (server_id, jti, expires_at, seen_at) \
             VALUES (?1, ?2, ?3, ?4)",
            &[jti.into(), expires_at.into(), now.into()],
        )
        .await
    }
}
