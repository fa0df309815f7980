//! The legacy static bearer (SPEC §3 item 5): `ELIZA_LEGACY_TOKEN` works for
//! 14 days from `LEGACY_TOKEN_SINCE` as a machine session with scope
//! `legacy`, and ends early once the owner has a stronger login (a password
//! or a cloud link). Every use is logged as deprecated.

use super::{tenant, Caller, CredentialKind};
use crate::error::ApiError;
use crate::storage::scope::EntityScope;
use crate::storage::{IdentityRepo, Store};
use agentgate_shared::config::{Config, LegacyTokenConfig};
use agentgate_shared::entity_id::eliza_uuid;
use agentgate_shared::ratelimit::Tier;
use agentgate_shared::session::{legacy_token_active, permissions_for, IdentityKind, LEGACY_SCOPE};
use agentgate_shared::ErrorCode;

pub async fn authenticate(
    legacy: &LegacyTokenConfig,
    store: &Store,
    config: &Config,
    now: u64,
) -> Result<Caller, ApiError> {
    let stronger_login = store.owner_has_login(&tenant(config)).await?;
    if !legacy_token_active(legacy.since, now, stronger_login) {
        return Err(
            ApiError::new(ErrorCode::InvalidToken).with_detail(if stronger_login {
                "the legacy token ended: the owner has a password or cloud link"
            } else {
                "the legacy token's 14-day window is over"
            }),
        );
    }
    worker::console_warn!(
        "{}",
        serde_json::json!({
            "level": "warn",
            "event": "auth.legacy_token.used",
            "message": "ELIZA_LEGACY_TOKEN is deprecated; create a machine token instead",
        })
    );
    // One stable entity for the legacy caller of this deployment.
    let entity_id = eliza_uuid(&format!("{LEGACY_SCOPE}:{}", config.server_id));
    Ok(Caller {
        scope: EntityScope::new(tenant(config), entity_id.clone()),
        entity_id,
        credential: CredentialKind::LegacyBearer,
        identity_kind: IdentityKind::Machine,
        identity_id: None,
        issuer: None,
        // What an ElizaOS client used the static token for: the user set.
        permissions: permissions_for(IdentityKind::User, false, &[]),
        expires_at: Some(legacy.since + agentgate_shared::session::LEGACY_WINDOW_SECS),
        session_hash: None,
        machine_token_id: None,
        ticket_channel: None,
        tier: Tier::Standard,
        acts_for_owner: false,
    })
}
