//! Bearer machine tokens (SPEC §3 item 3): `agm_` + 32 random bytes, only
//! their SHA-256 stored, 90 days absolute (never sliding), holding exactly
//! the scopes the owner gave them. A token acts for its owner (the owner's
//! entity, its scopes ∩ the owner's current permissions), or, when bound to
//! an agent, as that agent (with the same permissions).

use super::{tenant, Caller, CredentialKind};
use crate::error::ApiError;
use crate::storage::records::MachineTokenRecord;
use crate::storage::scope::EntityScope;
use crate::storage::{AgentRepo, IdentityRepo, MachineTokenRepo, Store};
use agentgate_shared::config::Config;
use agentgate_shared::routes::Permission;
use agentgate_shared::session::{machine_token_permissions, token_hash, IdentityKind};
use agentgate_shared::ErrorCode;

fn invalid(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidToken).with_detail(detail.to_owned())
}

pub async fn authenticate(
    token: &str,
    store: &Store,
    config: &Config,
    now: u64,
) -> Result<Caller, ApiError> {
    let record = store
        .machine_token_by_hash(&tenant(config), &token_hash(token))
        .await?
        .ok_or_else(|| invalid("unknown machine token"))?;
    if record.revoked_at.is_some() {
        return Err(invalid("machine token revoked"));
    }
    if now as i64 >= record.expires_at {
        return Err(invalid("machine token expired"));
    }
    let scopes = stored_scopes(&record)?;
    if let Some(agent_id) = &record.agent_id {
        // The binding holds only while the agent is registered and still its
        // owner's (a deleted agent's id may be registered again by anyone).
        let owner = EntityScope::new(tenant(config), record.owner_entity_id.clone());
        let still_owned = store
            .visible_agent(&owner, agent_id)
            .await?
            .is_some_and(|a| a.owner_entity_id == record.owner_entity_id);
        if !still_owned {
            return Err(invalid("the token's agent is no longer its owner's"));
        }
    }
    // The owner's current grants bound the token's: a demoted or deleted
    // owner's tokens lose what the owner lost.
    let owner_scope = EntityScope::new(tenant(config), record.owner_entity_id.clone());
    let owner = store
        .identity(&owner_scope)
        .await?
        .ok_or_else(|| invalid("the token's owner no longer exists"))?;
    let (owner_kind, owner_permissions, tier) = super::session::identity_grants(&owner, config)?;
    let entity_id = record
        .agent_id
        .clone()
        .unwrap_or_else(|| record.owner_entity_id.clone());
    Ok(Caller {
        scope: EntityScope::new(tenant(config), entity_id.clone()),
        entity_id,
        credential: CredentialKind::MachineToken,
        identity_kind: IdentityKind::Machine,
        identity_id: None,
        issuer: None,
        permissions: machine_token_permissions(&scopes, &owner_permissions),
        expires_at: u64::try_from(record.expires_at).ok(),
        session_hash: None,
        machine_token_id: Some(record.id.clone()),
        ticket_channel: record.channel_id,
        tier,
        // A token bound to an agent acts as that agent, not as the owner.
        acts_for_owner: owner_kind == IdentityKind::Owner && record.agent_id.is_none(),
    })
}

/// The permissions stored with a token (a JSON array of their names).
pub fn stored_scopes(record: &MachineTokenRecord) -> Result<Vec<Permission>, ApiError> {
    let names: Vec<String> = serde_json::from_str(&record.scopes)
        .map_err(|e| ApiError::internal(format!("stored machine token scopes: {e}")))?;
    names
        .iter()
        .map(|n| {
            Permission::parse(n)
                .ok_or_else(|| ApiError::internal(format!("stored machine token scope `{n}`")))
        })
        .collect()
}
