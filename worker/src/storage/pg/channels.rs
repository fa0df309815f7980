//! Channels, participants and socket tickets on PostgreSQL.
//!
//! Channel rows are written at entity level (the creator is the scope's
//! entity, which `channels_create` checks); participant rows of *other*
//! entities at tenant level (`channel_participants_tenant_manage`), as the
//! D1 code adds them through the scope's tenant.

use super::{get, input_uuid, lookup_uuid, record_uuid, PgStore, Settings, P};
use crate::auth::scope::{EntityScope, TenantScope};
use crate::error::ApiError;
use crate::storage::records::{ChannelRecord, WsTicketGrant};
use crate::storage::{ChannelRepo, WsTicketRepo};
use tokio_postgres::Row;
use uuid::Uuid;

const CHANNEL_COLUMNS: &str =
    "c.id::text, c.name, c.type, c.creator_entity_id::text, c.dm_key, c.created_at";

fn channel_row(r: &Row) -> Result<ChannelRecord, ApiError> {
    Ok(ChannelRecord {
        id: get(r, 0)?,
        name: get(r, 1)?,
        channel_type: get(r, 2)?,
        creator_entity_id: get(r, 3)?,
        dm_key: get(r, 4)?,
        created_at: get(r, 5)?,
    })
}

/// Inserts participants in order (the first is the creator when `creator`),
/// skipping any already there, in one statement.
const INSERT_PARTICIPANTS: &str =
    "INSERT INTO channel_participants (channel_id, entity_id, server_id, role, added_at) \
     SELECT $1, u.entity_id, $2, CASE WHEN $4 AND u.n = 1 THEN 'creator' ELSE 'member' END, $3 \
     FROM unnest($5::uuid[]) WITH ORDINALITY AS u(entity_id, n) ORDER BY u.n \
     ON CONFLICT DO NOTHING";

impl ChannelRepo for PgStore {
    async fn create_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        others: &[String],
        now: i64,
    ) -> Result<(), ApiError> {
        let settings = Settings::entity(scope)?;
        let id = record_uuid(&c.id, "channel id")?;
        let creator = super::entity(&settings);
        let mut members = Vec::with_capacity(others.len() + 1);
        members.push(creator);
        for other in others {
            members.push(input_uuid(other, "participants")?);
        }
        self.transact(settings, async |tx| {
            tx.exec(
                "INSERT INTO channels (id, server_id, name, type, creator_entity_id, dm_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    P::Uuid(id),
                    P::Uuid(settings.server_id),
                    P::Text(&c.name),
                    P::Text(&c.channel_type),
                    P::Uuid(creator),
                    P::OptText(c.dm_key.as_deref()),
                    P::Int(c.created_at),
                ],
            )
            .await?;
            tx.set_entity(None).await?;
            tx.exec(
                INSERT_PARTICIPANTS,
                &[
                    P::Uuid(id),
                    P::Uuid(settings.server_id),
                    P::Int(now),
                    P::Bool(true),
                    P::Uuids(members),
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, ApiError> {
        let settings = Settings::tenant(scope)?;
        let Some(id) = lookup_uuid(channel_id) else {
            return Ok(None);
        };
        self.transact(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.server_id = $1 AND c.id = $2"
                ),
                &[P::Uuid(settings.server_id), P::Uuid(id)],
            )
            .await?
            .as_ref()
            .map(channel_row)
            .transpose()
        })
        .await
    }

    async fn channels_of(
        &self,
        scope: &EntityScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChannelRecord>, ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.rows(
                &format!(
                    "SELECT {CHANNEL_COLUMNS} FROM channel_participants p \
                     JOIN channels c ON c.id = p.channel_id AND c.server_id = p.server_id \
                     WHERE p.server_id = $1 AND p.entity_id = $2 AND c.created_at < $3 \
                     ORDER BY c.created_at DESC, c.id DESC LIMIT $4"
                ),
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(super::entity(&settings)),
                    P::Int(before.unwrap_or(i64::MAX / 2)),
                    P::Int(i64::from(limit.clamp(1, 100))),
                ],
            )
            .await?
            .iter()
            .map(channel_row)
            .collect()
        })
        .await
    }

    async fn is_participant(
        &self,
        scope: &EntityScope,
        channel_id: &str,
    ) -> Result<bool, ApiError> {
        let settings = Settings::entity(scope)?;
        let Some(id) = lookup_uuid(channel_id) else {
            return Ok(false);
        };
        self.transact(settings, async |tx| {
            tx.first(
                "SELECT 1 FROM channel_participants \
                 WHERE channel_id = $1 AND entity_id = $2 AND server_id = $3",
                &[
                    P::Uuid(id),
                    P::Uuid(super::entity(&settings)),
                    P::Uuid(settings.server_id),
                ],
            )
            .await
            .map(|row| row.is_some())
        })
        .await
    }

    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, ApiError> {
        let settings = Settings::tenant(scope)?;
        let Some(id) = lookup_uuid(channel_id) else {
            return Ok(Vec::new());
        };
        self.transact(settings, async |tx| {
            tx.rows(
                "SELECT entity_id::text FROM channel_participants \
                 WHERE server_id = $1 AND channel_id = $2 ORDER BY added_at, entity_id LIMIT 500",
                &[P::Uuid(settings.server_id), P::Uuid(id)],
            )
            .await?
            .iter()
            .map(|row| get::<String>(row, 0))
            .collect()
        })
        .await
    }

    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let settings = Settings::tenant(scope)?;
        let channel = input_uuid(channel_id, "channelId")?;
        let entity = input_uuid(entity_id, "entityId")?;
        self.transact(settings, async |tx| {
            tx.exec(
                INSERT_PARTICIPANTS,
                &[
                    P::Uuid(channel),
                    P::Uuid(settings.server_id),
                    P::Int(now),
                    P::Bool(false),
                    P::Uuids(vec![entity]),
                ],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, ApiError> {
        let settings = Settings::tenant(scope)?;
        let (Some(channel), Some(entity)) = (lookup_uuid(channel_id), lookup_uuid(entity_id))
        else {
            return Ok(false);
        };
        self.transact(settings, async |tx| {
            tx.exec(
                "DELETE FROM channel_participants \
                 WHERE server_id = $1 AND channel_id = $2 AND entity_id = $3",
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(channel),
                    P::Uuid(entity),
                ],
            )
            .await
            .map(|changed| changed > 0)
        })
        .await
    }

    async fn dm_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        other: &str,
        now: i64,
    ) -> Result<ChannelRecord, ApiError> {
        let settings = Settings::entity(scope)?;
        let id = record_uuid(&c.id, "channel id")?;
        let me = super::entity(&settings);
        let other: Uuid = input_uuid(other, "agentId")?;
        let dm_key = c.dm_key.as_deref().unwrap_or_default();
        self.transact(settings, async |tx| {
            // Against the unique (server_id, dm_key) index: of two concurrent
            // callers exactly one inserts; the other waits for it to commit,
            // inserts nothing, and reads the winner's row.
            let inserted = tx
                .exec(
                    "INSERT INTO channels (id, server_id, name, type, creator_entity_id, dm_key, created_at) \
                     VALUES ($1, $2, $3, 'dm', $4, $5, $6) ON CONFLICT DO NOTHING",
                    &[
                        P::Uuid(id),
                        P::Uuid(settings.server_id),
                        P::Text(&c.name),
                        P::Uuid(me),
                        P::Text(dm_key),
                        P::Int(c.created_at),
                    ],
                )
                .await?;
            // As in D1, the lookup and the participants are tenant-level.
            tx.set_entity(None).await?;
            let channel = tx
                .first(
                    &format!(
                        "SELECT {CHANNEL_COLUMNS} FROM channels c \
                         WHERE c.server_id = $1 AND c.dm_key = $2"
                    ),
                    &[P::Uuid(settings.server_id), P::Text(dm_key)],
                )
                .await?
                .as_ref()
                .map(channel_row)
                .transpose()?
                .ok_or_else(|| ApiError::storage("dm channel vanished after insert"))?;
            if inserted > 0 {
                tx.exec(
                    INSERT_PARTICIPANTS,
                    &[
                        P::Uuid(id),
                        P::Uuid(settings.server_id),
                        P::Int(now),
                        P::Bool(false),
                        P::Uuids(vec![me, other]),
                    ],
                )
                .await?;
            }
            Ok(channel)
        })
        .await
    }
}

impl WsTicketRepo for PgStore {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        g: &WsTicketGrant,
    ) -> Result<(), ApiError> {
        let settings = Settings::entity(scope)?;
        let channel = record_uuid(&g.channel_id, "channel id")?;
        self.transact(settings, async |tx| {
            tx
            .exec(
                "INSERT INTO ws_tickets (ticket_hash, server_id, entity_id, channel_id, session_hash, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    P::Text(ticket_hash),
                    P::Uuid(settings.server_id),
                    P::Uuid(super::entity(&settings)),
                    P::Uuid(channel),
                    P::OptText(g.session_hash.as_deref()),
                    P::Int(g.expires_at),
                ],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn consume_ticket(
        &self,
        scope: &TenantScope,
        ticket_hash: &str,
        now: i64,
    ) -> Result<Option<WsTicketGrant>, ApiError> {
        let settings = Settings::tenant(scope)?.credential_hash(ticket_hash);
        self.transact(settings, async |tx| {
            // A concurrent second use waits on the row lock, then finds
            // used_at set: exactly one caller gets the grant.
            tx.first(
                "UPDATE ws_tickets SET used_at = $3 \
                 WHERE server_id = $1 AND ticket_hash = $2 AND used_at IS NULL AND expires_at > $3 \
                 RETURNING entity_id::text, channel_id::text, session_hash, expires_at",
                &[
                    P::Uuid(settings.server_id),
                    P::Text(ticket_hash),
                    P::Int(now),
                ],
            )
            .await?
            .map(|row| {
                Ok(WsTicketGrant {
                    entity_id: get(&row, 0)?,
                    channel_id: get(&row, 1)?,
                    session_hash: get(&row, 2)?,
                    expires_at: get(&row, 3)?,
                })
            })
            .transpose()
        })
        .await
    }
}
