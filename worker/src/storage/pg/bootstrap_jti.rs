//! The bootstrap-token `jti` set on PostgreSQL (tenant level).

use super::{PgStore, P};
use crate::storage::scope::TenantScope;
use crate::storage::{BootstrapJtiRepo, StorageError};

impl BootstrapJtiRepo for PgStore {
    async fn claim_jti(
        &self,
        scope: &TenantScope,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StorageError> {
        self.transact(scope, async |tx| {
            // Forget expired entries (the policy lets only rows already
            // expired by the database clock go); then the primary key makes
            // the insert the check: a concurrent duplicate waits for the
            // first to commit and then inserts nothing.
            tx.exec(
                "DELETE FROM bootstrap_jti_seen WHERE server_id = $1 AND expires_at < $2",
                &[P::Int(now)],
            )
            .await?;
            let inserted = tx
                .exec(
                    "INSERT INTO bootstrap_jti_seen (server_id, jti, expires_at, seen_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[P::Text(jti), P::Int(expires_at), P::Int(now)],
                )
                .await?;
            Ok(inserted == 1)
        })
        .await
    }
}
