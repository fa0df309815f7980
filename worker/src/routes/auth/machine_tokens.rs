//! Machine tokens (SPEC §3 item 3), managed by the owner: create (the secret
//! is shown once), list (no secrets), rotate (a new secret, same id, scopes
//! and expiry) and revoke. Stored as SHA-256 only; 90 days absolute.
//!
//! A token may be bound to one channel (`channelId`) and may act as one of
//! the owner's agents (`agentId`): such a token is the agent's credential at
//! the gateway, e.g. for posting the agent's replies to a channel.

use crate::auth::{machine_token_scopes, Caller};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{body, response};
use crate::random;
use crate::storage::records::MachineTokenRecord;
use crate::storage::{AgentRepo, MachineTokenRepo};
use agentgate_shared::audit::Outcome;
use agentgate_shared::ids::uuid_v7;
use agentgate_shared::routes::Permission;
use agentgate_shared::rules;
use agentgate_shared::session::{
    grantable_scopes, machine_token_from_random, MACHINE_LIFETIME_SECS,
};
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
}

/// Scopes a machine token may carry: any permission the granter holds,
/// `admin:*` included (SPEC §3).
fn parse_scopes(names: &[String], granter: &Caller) -> Result<Vec<Permission>, ApiError> {
    grantable_scopes(names, &granter.permissions)
        .map_err(|why| ApiError::bad_request(format!("Invalid field `scopes`: {why}")))
}

fn token_json(t: &MachineTokenRecord) -> Result<serde_json::Value, ApiError> {
    let scopes: Vec<&str> = machine_token_scopes(t)?
        .iter()
        .map(|p| p.as_str())
        .collect();
    Ok(json!({
        "id": t.id,
        "name": t.name,
        "scopes": scopes,
        "channelId": t.channel_id,
        "agentId": t.agent_id,
        "createdAt": t.created_at,
        "expiresAt": t.expires_at,
        "revokedAt": t.revoked_at,
    }))
}

/// `POST /api/auth/machine-tokens`.
pub async fn create(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let input: CreateBody = body::json(&mut req).await?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "Invalid field `name`: 1 to 100 characters",
        ));
    }
    let scopes = parse_scopes(&input.scopes, caller)?;
    let channel_id = input
        .channel_id
        .as_deref()
        .map(|c| rules::parse_id("channelId", c))
        .transpose()?;
    let agent_id = input
        .agent_id
        .as_deref()
        .map(|a| rules::parse_id("agentId", a))
        .transpose()?;
    let store = cx.store()?;
    if let Some(agent_id) = &agent_id {
        // Only the agent's owner may hand out its credential; anyone else's
        // (or an unknown) agent is 404, as everywhere.
        let owned = store
            .visible_agent(&caller.scope, agent_id)
            .await?
            .is_some_and(|a| a.owner_entity_id == caller.entity_id);
        if !owned {
            return Err(ApiError::new(ErrorCode::NotFound)
                .with_message("No agent with this `agentId` is yours"));
        }
    }
    let now_ms = worker::Date::now().as_millis();
    let now = (now_ms / 1000) as i64;
    let token = machine_token_from_random(random::bytes::<32>()?);
    let names: Vec<&str> = scopes.iter().map(|p| p.as_str()).collect();
    let record = MachineTokenRecord {
        id: uuid_v7(now_ms, random::bytes::<10>()?),
        owner_entity_id: caller.entity_id.clone(),
        name: name.to_owned(),
        token_hash: token.storage_hash(),
        scopes: serde_json::to_string(&names).map_err(|e| ApiError::internal(e.to_string()))?,
        channel_id,
        agent_id,
        created_at: now,
        expires_at: now + MACHINE_LIFETIME_SECS as i64,
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_machine_token(&caller.scope, &record).await?;
    cx.audit()?
        .record(
            cx.audit_action()?,
            Outcome::Success,
            caller.identity_id.as_deref(),
            &[("tokenId", json!(record.id)), ("scopes", json!(names))],
        )
        .await?;
    let mut body = token_json(&record)?;
    body["token"] = json!(token.expose());
    Ok(response::json(201, &body))
}

/// `GET /api/auth/machine-tokens`: the owner's tokens, without secrets.
pub async fn list(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let tokens = cx.store()?.machine_tokens(&caller.scope).await?;
    let items = tokens
        .iter()
        .map(token_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(response::json(200, &json!({ "machineTokens": items })))
}

/// `POST /api/auth/machine-tokens/:tokenId/rotate`: the old secret stops
/// working at once.
pub async fn rotate(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let id = cx.param("tokenId")?;
    let token = machine_token_from_random(random::bytes::<32>()?);
    let store = cx.store()?;
    let rotated = store
        .rotate_machine_token(&caller.scope, id, &token.storage_hash(), cx.now.unix())
        .await?;
    cx.audit_change(rotated, &[("tokenId", json!(id))]).await?;
    // The old secret is gone: so are the Socket.IO connections it opened.
    close_token_connections(cx, &caller.entity_id, id).await;
    Ok(response::json(
        200,
        &json!({ "id": id, "token": token.expose() }),
    ))
}

/// `DELETE /api/auth/machine-tokens/:tokenId`.
pub async fn revoke(cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let id = cx.param("tokenId")?;
    let store = cx.store()?;
    let revoked = store
        .revoke_machine_token(&caller.scope, id, cx.now.unix())
        .await?;
    cx.audit_change(revoked, &[("tokenId", json!(id))]).await?;
    close_token_connections(cx, &caller.entity_id, id).await;
    Ok(response::json(200, &json!({ "revoked": id })))
}

/// Ends the Socket.IO connections a token opened. A token acts for its
/// owner, so they are in the owner's hub, named by the token's key.
async fn close_token_connections(cx: &RequestContext<'_>, owner_entity: &str, token_id: &str) {
    use crate::socketio::hub;
    hub::close_connections(
        cx.env,
        owner_entity,
        Some(vec![hub::token_key(token_id)]),
        "TOKEN_REVOKED",
    )
    .await;
}
