//! Single-use WebSocket tickets (SPEC §9): `POST /api/messaging/ws-ticket`
//! issues one for a channel; the upgrade presents it as `?ticket=`; it works
//! once, within 30 s. Only its SHA-256 is stored.

use super::{tenant, Caller, CredentialKind};
use crate::error::ApiError;
use crate::storage::scope::EntityScope;
use crate::storage::{SessionRepo, Store, WsTicketRepo};
use agentgate_shared::config::Config;
use agentgate_shared::ids::sha256_hex;
use agentgate_shared::ratelimit::Tier;
use agentgate_shared::routes::Permission;
use agentgate_shared::session::IdentityKind;
use agentgate_shared::ErrorCode;

/// Tickets live this long (seconds).
pub const TICKET_TTL_SECS: i64 = 30;
/// Ticket prefix.
pub const TICKET_PREFIX: &str = "agt_";

pub async fn authenticate(
    ticket: &str,
    store: &Store,
    config: &Config,
    now: u64,
) -> Result<Caller, ApiError> {
    if !ticket.starts_with(TICKET_PREFIX) || ticket.len() > 128 {
        return Err(ApiError::new(ErrorCode::InvalidToken).with_detail("not a socket ticket"));
    }
    let now = now as i64;
    let grant = store
        .consume_ticket(&tenant(config), &sha256_hex(ticket), now)
        .await?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidToken).with_detail("ticket unknown, used or expired")
        })?;
    // A ticket asked for by a session lives no longer than that session: one
    // revoked or expired since then is refused, and the socket's expiry is
    // the session's.
    let expires_at = match &grant.session_hash {
        None => None,
        Some(hash) => {
            let session = store
                .session_by_hash(&tenant(config), hash)
                .await?
                .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidToken)
                        .with_detail("the ticket's session has ended")
                })?;
            u64::try_from(session.expires_at).ok()
        }
    };
    Ok(Caller {
        scope: EntityScope::new(tenant(config), grant.entity_id.clone()),
        entity_id: grant.entity_id,
        credential: CredentialKind::WsTicket,
        identity_kind: IdentityKind::User,
        identity_id: None,
        tier: Tier::Standard,
        acts_for_owner: false,
        issuer: None,
        permissions: [Permission::MessagingRead, Permission::MessagingSend]
            .into_iter()
            .collect(),
        expires_at,
        session_hash: grant.session_hash,
        machine_token_id: None,
        ticket_channel: Some(grant.channel_id),
    })
}
