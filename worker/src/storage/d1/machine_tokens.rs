//! Machine tokens on D1.

use super::D1Store;
use crate::storage::records::MachineTokenRecord;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{MachineTokenRepo, StorageError};

const MACHINE_TOKEN_COLUMNS: &str = "id, owner_entity_id, name, token_hash, scopes, channel_id, \
                                     agent_id, created_at, expires_at, last_used_at, revoked_at";

impl MachineTokenRepo for D1Store {
    async fn insert_machine_token(
        &self,
        scope: &EntityScope,
        t: &MachineTokenRecord,
    ) -> Result<(), StorageError> {
        self.run(
            scope,
            "INSERT INTO machine_tokens (server_id, owner_entity_id, id, name, token_hash, scopes, \
             channel_id, agent_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &[
                (&t.id).into(),
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
    ) -> Result<Option<MachineTokenRecord>, StorageError> {
        self.first(
            scope,
            &format!(
                "SELECT {MACHINE_TOKEN_COLUMNS} FROM machine_tokens \
                 WHERE server_id = ?1 AND token_hash = ?2"
            ),
            &[token_hash.into()],
        )
        .await
    }

    async fn machine_tokens(
        &self,
        scope: &EntityScope,
    ) -> Result<Vec<MachineTokenRecord>, StorageError> {
        self.all(
            scope,
            &format!(
                "SELECT {MACHINE_TOKEN_COLUMNS} FROM machine_tokens \
                 WHERE server_id = ?1 AND owner_entity_id = ?2 \
                 ORDER BY created_at DESC, id DESC LIMIT 200"
            ),
            &[],
        )
        .await
    }

    async fn rotate_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        self.changed(
            scope,
            "UPDATE machine_tokens SET token_hash = ?4 \
             WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?3 \
             AND revoked_at IS NULL AND expires_at > ?5",
            &[id.into(), new_hash.into(), now.into()],
        )
        .await
    }

    async fn revoke_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        self.changed(
            scope,
            "UPDATE machine_tokens SET revoked_at = ?4 \
             WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?3 AND revoked_at IS NULL",
            &[id.into(), now.into()],
        )
        .await
    }
}
