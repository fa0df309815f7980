//! Channels and participants on D1. Participant rows are written at tenant
//! level (they name entities other than the scope's), as on PostgreSQL.

use super::D1Store;
use crate::storage::records::{ChannelRecord, Membership};
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{ChannelRepo, StorageError};

const CHANNEL_COLUMNS: &str = "c.id, c.name, c.type, c.creator_entity_id, c.dm_key, c.created_at";

/// One participant (tenant level), unless already there.
const INSERT_PARTICIPANT: &str = "INSERT OR IGNORE INTO channel_participants \
                                  (server_id, channel_id, entity_id, role, added_at) VALUES (?1, ?2, ?3, ?4, ?5)";

impl ChannelRepo for D1Store {
    async fn create_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        members: &[String],
        invited: &[String],
        now: i64,
    ) -> Result<(), StorageError> {
        let mut batch = vec![self.statement(
            scope,
            "INSERT INTO channels (server_id, creator_entity_id, id, name, type, dm_key, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                (&c.id).into(),
                (&c.name).into(),
                (&c.channel_type).into(),
                c.dm_key.as_deref().into(),
                c.created_at.into(),
            ],
        )?];
        let creator = (scope.entity_id(), "creator");
        let members = members
            .iter()
            .map(|m| (m.as_str(), Membership::Member.role()));
        let invited = invited
            .iter()
            .map(|i| (i.as_str(), Membership::Invited.role()));
        for (entity, role) in std::iter::once(creator).chain(members).chain(invited) {
            batch.push(self.statement(
                scope.tenant(),
                INSERT_PARTICIPANT,
                &[(&c.id).into(), entity.into(), role.into(), now.into()],
            )?);
        }
        self.batch(batch).await
    }

    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, StorageError> {
        self.first(
            scope,
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.server_id = ?1 AND c.id = ?2"
            ),
            &[channel_id.into()],
        )
        .await
    }

    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, StorageError> {
        self.all(
            scope,
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channel_participants p \
                 JOIN channels c ON c.id = p.channel_id AND c.server_id = p.server_id \
                 WHERE p.server_id = ?1 AND p.entity_id = ?2 AND p.role <> 'invited' \
                 AND c.created_at < ?3 \
                 ORDER BY c.created_at DESC, c.id DESC LIMIT ?4"
            ),
            &[
                before.unwrap_or(i64::MAX / 2).into(),
                i64::from(limit.clamp(1, 100)).into(),
            ],
        )
        .await
    }

    async fn is_participant(
        &self,
        scope: &EntityScope,
        channel_id: &str,
    ) -> Result<bool, StorageError> {
        self.exists(
            scope,
            "SELECT 1 AS present FROM channel_participants \
             WHERE channel_id = ?3 AND entity_id = ?2 AND server_id = ?1 \
             AND role <> 'invited'",
            &[channel_id.into()],
        )
        .await
    }

    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, StorageError> {
        #[derive(serde::Deserialize)]
        struct Row {
            entity_id: String,
        }
        let rows: Vec<Row> = self
            .all(
                scope,
                "SELECT entity_id FROM channel_participants WHERE server_id = ?1 AND channel_id = ?2 \
                 AND role <> 'invited' ORDER BY added_at, entity_id LIMIT 500",
                &[channel_id.into()],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.entity_id).collect())
    }

    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        membership: Membership,
        now: i64,
    ) -> Result<(), StorageError> {
        self.run(
            scope,
            INSERT_PARTICIPANT,
            &[
                channel_id.into(),
                entity_id.into(),
                membership.role().into(),
                now.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn accept_invitation(
        &self,
        scope: &EntityScope,
        channel_id: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        // Tenant level, as every participant row; the row is the scope's own.
        self.changed(
            scope.tenant(),
            "UPDATE channel_participants SET role = 'member', added_at = ?4 \
             WHERE server_id = ?1 AND channel_id = ?2 AND entity_id = ?3 AND role = 'invited'",
            &[channel_id.into(), scope.entity_id().into(), now.into()],
        )
        .await
    }

    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, StorageError> {
        self.changed(
            scope,
            "DELETE FROM channel_participants \
             WHERE server_id = ?1 AND channel_id = ?2 AND entity_id = ?3",
            &[channel_id.into(), entity_id.into()],
        )
        .await
    }

    async fn dm_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, StorageError> {
        let dm_key = c.dm_key.as_deref().unwrap_or_default();
        // INSERT OR IGNORE against the unique (server_id, dm_key) index: of
        // two concurrent callers exactly one inserts; both then read it.
        let inserted = self
            .run(
                scope,
                "INSERT OR IGNORE INTO channels \
                 (server_id, creator_entity_id, id, name, type, dm_key, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 'dm', ?5, ?6)",
                &[
                    (&c.id).into(),
                    (&c.name).into(),
                    dm_key.into(),
                    c.created_at.into(),
                ],
            )
            .await?;
        let channel: ChannelRecord = self
            .first(
                scope.tenant(),
                &format!(
                    "SELECT {CHANNEL_COLUMNS} FROM channels c \
                     WHERE c.server_id = ?1 AND c.dm_key = ?2"
                ),
                &[dm_key.into()],
            )
            .await?
            .ok_or_else(|| StorageError::Unavailable("dm channel vanished after insert".into()))?;
        if inserted > 0 {
            for entity in [scope.entity_id(), other] {
                self.add_participant(scope.tenant(), &channel.id, entity, Membership::Member, now)
                    .await?;
            }
        }
        Ok(channel)
    }

    async fn find_dm_channel(
        &self,
        scope: &EntityScope,
        dm_key: &str,
    ) -> Result<Option<ChannelRecord>, StorageError> {
        self.first(
            scope,
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels c \
                 JOIN channel_participants p ON p.channel_id = c.id AND p.server_id = c.server_id \
                 WHERE c.server_id = ?1 AND p.entity_id = ?2 AND p.role <> 'invited' \
                 AND c.dm_key = ?3"
            ),
            &[dm_key.into()],
        )
        .await
    }
}
