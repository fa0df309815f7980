//! Channels, participants and socket tickets on D1.

use super::d1::{all, first, run, statement, storage_error, Param};
use super::records::{ChannelRecord, WsTicketGrant};
use super::{ChannelRepo, D1Store, WsTicketRepo};
use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;

const CHANNEL_COLUMNS: &str = "c.id, c.name, c.type, c.creator_entity_id, c.dm_key, c.created_at";

impl ChannelRepo for D1Store {
    async fn create_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        others: &[String],
        now: i64,
    ) -> Result<(), ApiError> {
        let mut batch = vec![statement(
            self.db(),
            "INSERT INTO channels (id, server_id, name, type, creator_entity_id, dm_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                (&c.id).into(),
                scope.server_id().into(),
                (&c.name).into(),
                (&c.channel_type).into(),
                scope.entity_id().into(),
                c.dm_key.as_deref().into(),
                c.created_at.into(),
            ],
        )?];
        let creator = scope.entity_id().to_owned();
        for (entity, role) in
            std::iter::once((&creator, "creator")).chain(others.iter().map(|o| (o, "member")))
        {
            batch.push(statement(
                self.db(),
                "INSERT OR IGNORE INTO channel_participants (channel_id, entity_id, server_id, role, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[(&c.id).into(), entity.into(), scope.server_id().into(), role.into(), now.into()],
            )?);
        }
        self.db().batch(batch).await.map_err(storage_error)?;
        Ok(())
    }

    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, ApiError> {
        first(
            self.db(),
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.server_id = ?1 AND c.id = ?2"
            ),
            &[scope.server_id().into(), channel_id.into()],
        )
        .await
    }

    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, ApiError> {
        all(
            self.db(),
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channel_participants p JOIN channels c ON c.id = p.channel_id AND c.server_id = p.server_id \
                 WHERE p.server_id = ?1 AND p.entity_id = ?2 AND c.created_at < ?3 ORDER BY c.created_at DESC, c.id DESC LIMIT ?4"
            ),
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
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
    ) -> Result<bool, ApiError> {
        let row: Option<serde_json::Value> = first(
            self.db(),
            "SELECT 1 AS present FROM channel_participants WHERE channel_id = ?1 AND entity_id = ?2 AND server_id = ?3",
            &[channel_id.into(), scope.entity_id().into(), scope.server_id().into()],
        )
        .await?;
        Ok(row.is_some())
    }

    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, ApiError> {
        #[derive(serde::Deserialize)]
        struct Row {
            entity_id: String,
        }
        let rows: Vec<Row> = all(
            self.db(),
            "SELECT entity_id FROM channel_participants WHERE server_id = ?1 AND channel_id = ?2 ORDER BY added_at, entity_id LIMIT 500",
            &[scope.server_id().into(), channel_id.into()],
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.entity_id).collect())
    }

    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        run(
            self.db(),
            "INSERT OR IGNORE INTO channel_participants (channel_id, entity_id, server_id, role, added_at) VALUES (?1, ?2, ?3, 'member', ?4)",
            &[channel_id.into(), entity_id.into(), scope.server_id().into(), now.into()],
        )
        .await
        .map(drop)
    }

    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, ApiError> {
        let changed = run(
            self.db(),
            "DELETE FROM channel_participants WHERE server_id = ?1 AND channel_id = ?2 AND entity_id = ?3",
            &[scope.server_id().into(), channel_id.into(), entity_id.into()],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn dm_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, ApiError> {
        let dm_key = c.dm_key.as_deref().unwrap_or_default();
        // INSERT OR IGNORE against the unique (server_id, dm_key) index: of
        // two concurrent callers exactly one inserts; both then read it.
        let inserted = run(
            self.db(),
            "INSERT OR IGNORE INTO channels (id, server_id, name, type, creator_entity_id, dm_key, created_at) VALUES (?1, ?2, ?3, 'dm', ?4, ?5, ?6)",
            &[
                (&c.id).into(),
                scope.server_id().into(),
                (&c.name).into(),
                scope.entity_id().into(),
                dm_key.into(),
                c.created_at.into(),
            ],
        )
        .await?;
        let channel: ChannelRecord = first(
            self.db(),
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.server_id = ?1 AND c.dm_key = ?2"
            ),
            &[scope.server_id().into(), dm_key.into()],
        )
        .await?
        .ok_or_else(|| ApiError::storage("dm channel vanished after insert"))?;
        if inserted > 0 {
            for entity in [scope.entity_id(), other] {
                self.add_participant(scope.tenant(), &channel.id, entity, now)
                    .await?;
            }
        }
        Ok(channel)
    }
}

impl WsTicketRepo for D1Store {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        g: &WsTicketGrant,
    ) -> Result<(), ApiError> {
        run(
            self.db(),
            "INSERT INTO ws_tickets (ticket_hash, server_id, entity_id, channel_id, session_hash, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                ticket_hash.into(),
                scope.server_id().into(),
                scope.entity_id().into(),
                (&g.channel_id).into(),
                g.session_hash.as_deref().into(),
                g.expires_at.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn consume_ticket(
        &self,
        scope: &TenantScope,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<WsTicketGrant>, ApiError> {
        let rows: Vec<WsTicketGrant> = all(
            self.db(),
            "UPDATE ws_tickets SET used_at = ?3 WHERE server_id = ?1 AND ticket_hash = ?2 AND used_at IS NULL AND expires_at > ?3 \
             RETURNING entity_id, channel_id, session_hash, expires_at",
            &[scope.server_id().into(), ticket_hash.into(), Param::Int(now)],
        )
        .await?;
        Ok(rows.into_iter().next())
    }
}
