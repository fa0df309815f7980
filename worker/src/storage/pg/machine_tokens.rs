//! Machine tokens on PostgreSQL. Writes run at the owner's entity level
//! (`machine_tokens_own`); the pre-auth lookup runs at tenant level keyed to
//! the presented hash (`machine_tokens_lookup_by_hash`).

use super::{get, input_uuid, lookup_uuid, record_uuid, FromRow, PgStore, Settings, P};
use crate::storage::records::MachineTokenRecord;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{MachineTokenRepo, StorageError};
use tokio_postgres::Row;

const MACHINE_TOKEN_COLUMNS: &str = "id::text, owner_entity_id::text, name, token_hash, \
                                     scopes::text, channel_id::text, created_at, expires_at, last_used_at, revoked_at, agent_id";

impl FromRow for MachineTokenRecord {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        Ok(Self {
            id: get(r, 0)?,
            owner_entity_id: get(r, 1)?,
            name: get(r, 2)?,
            token_hash: get(r, 3)?,
            scopes: get(r, 4)?,
            channel_id: get(r, 5)?,
            created_at: get(r, 6)?,
            expires_at: get(r, 7)?,
            last_used_at: get(r, 8)?,
            revoked_at: get(r, 9)?,
            agent_id: get(r, 10)?,
        })
    }
}

impl MachineTokenRepo for PgStore {
    async fn insert_machine_token(
        &self,
        scope: &EntityScope,
        t: &MachineTokenRecord,
    ) -> Result<(), StorageError> {
        let id = record_uuid(&t.id, "machine token id")?;
        let channel = t
            .channel_id
            .as_deref()
            .map(|c| input_uuid(c, "channelId"))
            .transpose()?;
        self.exec(
            scope,
            "INSERT INTO machine_tokens (server_id, owner_entity_id, id, name, token_hash, \
             scopes, channel_id, created_at, expires_at, agent_id) \
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)",
            &[
                P::Uuid(id),
                P::Text(&t.name),
                P::Text(&t.token_hash),
                P::Text(&t.scopes),
                P::OptUuid(channel),
                P::Int(t.created_at),
                P::Int(t.expires_at),
                P::OptText(t.agent_id.as_deref()),
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
        let settings = Settings::of(scope)?.credential_hash(token_hash);
        self.transact_as(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {MACHINE_TOKEN_COLUMNS} FROM machine_tokens \
                     WHERE server_id = $1 AND token_hash = $2"
                ),
                &[P::Text(token_hash)],
            )
            .await
        })
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
                 WHERE server_id = $1 AND owner_entity_id = $2 \
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
        let Some(id) = lookup_uuid(id) else {
            return Ok(false);
        };
        self.changed(
            scope,
            "UPDATE machine_tokens SET token_hash = $4 \
             WHERE server_id = $1 AND owner_entity_id = $2 AND id = $3 \
             AND revoked_at IS NULL AND expires_at > $5",
            &[P::Uuid(id), P::Text(new_hash), P::Int(now)],
        )
        .await
    }

    async fn revoke_machine_token(
        &self,
        scope: &EntityScope,
        id: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let Some(id) = lookup_uuid(id) else {
            return Ok(false);
        };
        self.changed(
            scope,
            "UPDATE machine_tokens SET revoked_at = $4 \
             WHERE server_id = $1 AND owner_entity_id = $2 AND id = $3 \
             AND revoked_at IS NULL",
            &[P::Uuid(id), P::Int(now)],
        )
        .await
    }
}
