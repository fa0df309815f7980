//! Socket tickets on D1.

use super::D1Store;
use crate::storage::records::WsTicketGrant;
use crate::storage::scope::{EntityScope, TenantScope};
use crate::storage::{StorageError, WsTicketRepo};

impl WsTicketRepo for D1Store {
    async fn insert_ticket(
        &self,
        scope: &EntityScope,
        ticket_hash: &str,
        g: &WsTicketGrant,
    ) -> Result<(), StorageError> {
        self.run(
            scope,
            "INSERT INTO ws_tickets (server_id, entity_id, ticket_hash, channel_id, session_hash, \
             expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                ticket_hash.into(),
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
    ) -> Result<Option<WsTicketGrant>, StorageError> {
        // One statement: a second use finds used_at set.
        let rows: Vec<WsTicketGrant> = self
            .all(
                scope,
                "UPDATE ws_tickets SET used_at = ?3 \
                 WHERE server_id = ?1 AND ticket_hash = ?2 AND used_at IS NULL AND expires_at > ?3 \
                 RETURNING entity_id, channel_id, session_hash, expires_at",
                &[ticket_hash.into(), now.into()],
            )
            .await?;
        Ok(rows.into_iter().next())
    }
}
