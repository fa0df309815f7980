//! Socket tickets on PostgreSQL. Issued at the holder's entity level; used
//! at tenant level keyed to the presented hash (`app.credential_hash`).

use super::{get, record_uuid, FromRow, PgStore, Settings, P};
use crate::storage::records::WsTicketGrant;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{StorageError, WsTicketRepo};
use tokio_postgres::Row;

impl FromRow for WsTicketGrant {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        Ok(Self {
            entity_id: get(r, 0)?,
            channel_id: get(r, 1)?,
            session_hash: get(r, 2)?,
            expires_at: get(r, 3)?,
        })
    }
}

impl WsTicketRepo for PgStore {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        g: &WsTicketGrant,
    ) -> Result<(), StorageError> {
        let channel = record_uuid(&g.channel_id, "channel id")?;
        self.exec(
            scope,
            "INSERT INTO ws_tickets (server_id, entity_id, ticket_hash, channel_id, \
             session_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                P::Text(ticket_hash),
                P::Uuid(channel),
                P::OptText(g.session_hash.as_deref()),
                P::Int(g.expires_at),
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
    ) -> Result<Option<WsTicketGrant>, StorageError> {
        let settings = Settings::of(scope)?.credential_hash(ticket_hash);
        self.transact_as(settings, async |tx| {
            // A concurrent second use waits on the row lock, then finds
            // used_at set: exactly one caller gets the grant.
            tx.first(
                "UPDATE ws_tickets SET used_at = $3 \
                 WHERE server_id = $1 AND ticket_hash = $2 AND used_at IS NULL AND expires_at > $3 \
                 RETURNING entity_id::text, channel_id::text, session_hash, expires_at",
                &[P::Text(ticket_hash), P::Int(now)],
            )
            .await
        })
        .await
    }
}
