//! Channels and participants on PostgreSQL.
//!
//! Channel rows are written at entity level (the creator is the scope's
//! entity, which `channels_create` checks); participant rows of *other*
//! entities at tenant level (`channel_participants_tenant_manage`), as the
//! D1 code adds them through the scope's tenant.

use super::{entity_uuid, get, input_uuid, lookup_uuid, record_uuid, FromRow, PgStore, P};
use crate::storage::records::{ChannelRecord, Membership};
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{ChannelRepo, StorageError};
use tokio_postgres::Row;
use uuid::Uuid;

const CHANNEL_COLUMNS: &str =
    "c.id::text, c.name, c.type, c.creator_entity_id::text, c.dm_key, c.created_at";

impl FromRow for ChannelRecord {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        Ok(Self {
            id: get(r, 0)?,
            name: get(r, 1)?,
            channel_type: get(r, 2)?,
            creator_entity_id: get(r, 3)?,
            dm_key: get(r, 4)?,
            created_at: get(r, 5)?,
        })
    }
}

/// Inserts participants (tenant level) in order, the first as the creator
/// when `$4`, the others with role `$6`, skipping any already there, in one
/// statement: `$2` the channel, `$3` the time, `$5` the entities.
const INSERT_PARTICIPANTS: &str =
    "INSERT INTO channel_participants (server_id, channel_id, entity_id, role, added_at) \
     SELECT $1, $2, u.entity_id, CASE WHEN $4 AND u.n = 1 THEN 'creator' ELSE $6 END, $3 \
     FROM unnest($5::uuid[]) WITH ORDINALITY AS u(entity_id, n) ORDER BY u.n \
     ON CONFLICT DO NOTHING";

const MEMBER: P<'static> = P::Text("member");

impl ChannelRepo for PgStore {
    async fn create_channel(
        &self,
        scope: &EntityScope,
        c: &ChannelRecord,
        members: &[String],
        invited: &[String],
        now: i64,
    ) -> Result<(), StorageError> {
        let id = record_uuid(&c.id, "channel id")?;
        let mut joined = Vec::with_capacity(members.len() + 1);
        joined.push(entity_uuid(scope)?);
        for member in members {
            joined.push(input_uuid(member, "participants")?);
        }
        let invited = invited
            .iter()
            .map(|i| input_uuid(i, "participants"))
            .collect::<Result<Vec<_>, _>>()?;
        self.transact(scope, async |tx| {
            tx.exec(
                "INSERT INTO channels (server_id, creator_entity_id, id, name, type, dm_key, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    P::Uuid(id),
                    P::Text(&c.name),
                    P::Text(&c.channel_type),
                    P::OptText(c.dm_key.as_deref()),
                    P::Int(c.created_at),
                ],
            )
            .await?;
            tx.to_tenant_level().await?;
            tx.exec(
                INSERT_PARTICIPANTS,
                &[
                    P::Uuid(id),
                    P::Int(now),
                    P::Bool(true),
                    P::Uuids(joined),
                    MEMBER,
                ],
            )
            .await?;
            if !invited.is_empty() {
                tx.exec(
                    INSERT_PARTICIPANTS,
                    &[
                        P::Uuid(id),
                        P::Int(now),
                        P::Bool(false),
                        P::Uuids(invited),
                        P::Text(Membership::Invited.role()),
                    ],
                )
                .await?;
            }
            Ok(())
        })
        .await
    }

    async fn channel(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Option<ChannelRecord>, StorageError> {
        let Some(id) = lookup_uuid(channel_id) else {
            return Ok(None);
        };
        self.first(
            scope,
            &format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.server_id = $1 AND c.id = $2"
            ),
            &[P::Uuid(id)],
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
                 WHERE p.server_id = $1 AND p.entity_id = $2 AND p.role <> 'invited' \
                 AND c.created_at < $3 \
                 ORDER BY c.created_at DESC, c.id DESC LIMIT $4"
            ),
            &[
                P::Int(before.unwrap_or(i64::MAX / 2)),
                P::Int(i64::from(limit.clamp(1, 100))),
            ],
        )
        .await
    }

    async fn is_participant(
        &self,
        scope: &EntityScope,
        channel_id: &str,
    ) -> Result<bool, StorageError> {
        let Some(id) = lookup_uuid(channel_id) else {
            return Ok(false);
        };
        self.exists(
            scope,
            "SELECT 1 FROM channel_participants \
             WHERE channel_id = $3 AND entity_id = $2 AND server_id = $1 \
             AND role <> 'invited'",
            &[P::Uuid(id)],
        )
        .await
    }

    async fn participants(
        &self,
        scope: &TenantScope,
        channel_id: &str,
    ) -> Result<Vec<String>, StorageError> {
        let Some(id) = lookup_uuid(channel_id) else {
            return Ok(Vec::new());
        };
        self.all(
            scope,
            "SELECT entity_id::text FROM channel_participants \
             WHERE server_id = $1 AND channel_id = $2 AND role <> 'invited' \
             ORDER BY added_at, entity_id LIMIT 500",
            &[P::Uuid(id)],
        )
        .await
    }

    async fn add_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
        membership: Membership,
        now: i64,
    ) -> Result<(), StorageError> {
        let channel = input_uuid(channel_id, "channelId")?;
        let entity = input_uuid(entity_id, "entityId")?;
        self.exec(
            scope,
            INSERT_PARTICIPANTS,
            &[
                P::Uuid(channel),
                P::Int(now),
                P::Bool(false),
                P::Uuids(vec![entity]),
                P::Text(membership.role()),
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
        let Some(channel) = lookup_uuid(channel_id) else {
            return Ok(false);
        };
        let me = entity_uuid(scope)?;
        // Tenant level, as every participant row (the worker role may insert
        // and delete them, not update): the invitation is swapped for a
        // membership in one transaction.
        self.transact(scope.tenant(), async |tx| {
            let taken = tx
                .exec(
                    "DELETE FROM channel_participants WHERE server_id = $1 AND channel_id = $2 \
                     AND entity_id = $3 AND role = 'invited'",
                    &[P::Uuid(channel), P::Uuid(me)],
                )
                .await?;
            if taken == 0 {
                return Ok(false);
            }
            tx.exec(
                INSERT_PARTICIPANTS,
                &[
                    P::Uuid(channel),
                    P::Int(now),
                    P::Bool(false),
                    P::Uuids(vec![me]),
                    MEMBER,
                ],
            )
            .await?;
            Ok(true)
        })
        .await
    }

    async fn remove_participant(
        &self,
        scope: &TenantScope,
        channel_id: &str,
        entity_id: &str,
    ) -> Result<bool, StorageError> {
        let (Some(channel), Some(entity)) = (lookup_uuid(channel_id), lookup_uuid(entity_id))
        else {
            return Ok(false);
        };
        self.changed(
            scope,
            "DELETE FROM channel_participants \
             WHERE server_id = $1 AND channel_id = $2 AND entity_id = $3",
            &[P::Uuid(channel), P::Uuid(entity)],
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
        let id = record_uuid(&c.id, "channel id")?;
        let me = entity_uuid(scope)?;
        let other: Uuid = input_uuid(other, "agentId")?;
        let dm_key = c.dm_key.as_deref().unwrap_or_default();
        self.transact(scope, async |tx| {
            // Against the unique (server_id, dm_key) index: of two concurrent
            // callers exactly one inserts; the other waits for it to commit,
            // inserts nothing, and reads the winner's row.
            let inserted = tx
                .exec(
                    "INSERT INTO channels (server_id, creator_entity_id, id, name, type, dm_key, \
                     created_at) VALUES ($1, $2, $3, $4, 'dm', $5, $6) ON CONFLICT DO NOTHING",
                    &[
                        P::Uuid(id),
                        P::Text(&c.name),
                        P::Text(dm_key),
                        P::Int(c.created_at),
                    ],
                )
                .await?;
            // As in D1, the lookup and the participants are tenant-level.
            tx.to_tenant_level().await?;
            let channel: ChannelRecord = tx
                .first(
                    &format!(
                        "SELECT {CHANNEL_COLUMNS} FROM channels c \
                         WHERE c.server_id = $1 AND c.dm_key = $2"
                    ),
                    &[P::Text(dm_key)],
                )
                .await?
                .ok_or_else(|| {
                    StorageError::Unavailable("dm channel vanished after insert".into())
                })?;
            if inserted > 0 {
                tx.exec(
                    INSERT_PARTICIPANTS,
                    &[
                        P::Uuid(id),
                        P::Int(now),
                        P::Bool(false),
                        P::Uuids(vec![me, other]),
                        MEMBER,
                    ],
                )
                .await?;
            }
            Ok(channel)
        })
        .await
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
                 WHERE c.server_id = $1 AND p.entity_id = $2 AND p.role <> 'invited' \
                 AND c.dm_key = $3"
            ),
            &[P::Text(dm_key)],
        )
        .await
    }
}
