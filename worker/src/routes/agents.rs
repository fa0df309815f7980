//! `/api/agents*` and `/api/memory/*` (SPEC §7, §13). The registry routes are
//! answered from the gateway's agents registry; the runtime routes (start,
//! stop, logs, memory) are checked against it and forwarded to the agent
//! origin. Not-yours is 404: reads need the agent to be the caller's own or
//! shared with them, changes need it to be their own.

use super::auth::caller;
use crate::audit::{route_action, AuditTrail};
use crate::auth::{now_secs, Caller};
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::storage::records::{AgentChanges, AgentRecord};
use crate::storage::{self, AgentRepo, Store};
use crate::{body, origin, random, response};
use agentgate_shared::audit::Outcome;
use agentgate_shared::ids::uuid_v7;
use agentgate_shared::routes::Permission;
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Request, Response};

const MAX_SHARED_WITH: usize = 100;

fn agent_json(a: &AgentRecord, caller: &Caller) -> Value {
    let mut v = json!({
        "id": a.id,
        "name": a.name,
        "ownerId": a.owner_entity_id,
        "status": a.status,
        "createdAt": a.created_at,
        "updatedAt": a.updated_at,
    });
    // Who else sees the agent is the owner's business.
    if a.owner_entity_id == caller.entity_id {
        v["sharedWith"] = json!(a.shared_with);
    }
    v
}

fn path_agent<'a>(cx: &'a RequestContext<'_>) -> Result<&'a str, ApiError> {
    cx.params
        .get("agentId")
        .ok_or_else(|| ErrorCode::NotFound.into())
}

fn is_entity_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "Invalid field `name`: 1 to 200 characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_shared_with(list: Vec<String>, owner: &str) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_SHARED_WITH || !list.iter().all(|e| is_entity_id(e)) {
        return Err(ApiError::bad_request(
            "Invalid field `sharedWith`: up to 100 entity ids",
        ));
    }
    let mut list: Vec<String> = list.into_iter().filter(|e| e != owner).collect();
    list.sort();
    list.dedup();
    Ok(list)
}

/// Writes the route's audit row (the trail was taken from the request
/// before it was consumed).
async fn audit(
    trail: &AuditTrail<'_, Store>,
    cx: &RequestContext<'_>,
    caller: &Caller,
    outcome: Outcome,
    agent_id: Option<&str>,
) -> Result<(), ApiError> {
    let mut meta = vec![("entityId", json!(caller.entity_id))];
    if let Some(id) = agent_id {
        meta.push(("agentId", json!(id)));
    }
    trail
        .record(
            route_action(cx)?,
            outcome,
            caller.identity_id.as_deref(),
            &meta,
        )
        .await
}

/// Audits an owner-only change to `agent_id`; one that touched nothing (not
/// the caller's agent) answers 404 after its failure row.
async fn audit_change(
    req: &Request,
    cx: &RequestContext<'_>,
    store: &Store,
    caller: &Caller,
    agent_id: &str,
    changed: bool,
) -> Result<(), ApiError> {
    let outcome = if changed {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    audit(
        &AuditTrail::new(store, cx, req),
        cx,
        caller,
        outcome,
        Some(agent_id),
    )
    .await?;
    if changed {
        Ok(())
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

/// `GET /api/agents`: the caller's own agents and those shared with them.
pub async fn list(_req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    let agents = storage::open(cx.env, cx.config)?
        .visible_agents(&caller.scope, 200)
        .await?;
    let items: Vec<Value> = agents.iter().map(|a| agent_json(a, caller)).collect();
    Ok(response::json(200, &json!({ "agents": items })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewAgent {
    name: String,
    /// An id the origin already knows the agent by; generated when absent.
    id: Option<String>,
    #[serde(default)]
    shared_with: Vec<String>,
}

/// `POST /api/agents` (`agent:create`): registers an agent owned by the caller.
pub async fn create(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    let input: NewAgent = body::json(&mut req).await?;
    let id = match input.id {
        Some(id) if is_entity_id(&id) => id,
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid field `id`: letters, digits, `-` and `_`, at most 128",
            ))
        }
        None => uuid_v7(worker::Date::now().as_millis(), random::bytes::<10>()?),
    };
    let now = now_secs() as i64;
    let agent = AgentRecord {
        id,
        name: check_name(&input.name)?,
        owner_entity_id: caller.entity_id.clone(),
        shared_with: check_shared_with(input.shared_with, &caller.entity_id)?,
        status: "stopped".into(),
        created_at: now,
        updated_at: now,
    };
    let store = storage::open(cx.env, cx.config)?;
    if !store.insert_agent(&caller.scope, &agent).await? {
        audit(
            &AuditTrail::new(&store, cx, &req),
            cx,
            caller,
            Outcome::Failure,
            Some(&agent.id),
        )
        .await?;
        return Err(ApiError::new(ErrorCode::Conflict)
            .with_message("An agent with this id is already registered"));
    }
    audit(
        &AuditTrail::new(&store, cx, &req),
        cx,
        caller,
        Outcome::Success,
        Some(&agent.id),
    )
    .await?;
    Ok(response::json(201, &agent_json(&agent, caller)))
}

/// `GET /api/agents/:agentId`: owner or shared-with.
pub async fn get(_req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    let agent = storage::open(cx.env, cx.config)?
        .visible_agent(&caller.scope, path_agent(cx)?)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(response::json(200, &agent_json(&agent, caller)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AgentPatch {
    name: Option<String>,
    shared_with: Option<Vec<String>>,
}

/// `PATCH /api/agents/:agentId` `{name?, sharedWith?}`: owner only.
pub async fn update(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    let input: AgentPatch = body::json(&mut req).await?;
    if input.name.is_none() && input.shared_with.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to change: give `name` or `sharedWith`",
        ));
    }
    let changes = AgentChanges {
        name: input.name.as_deref().map(check_name).transpose()?,
        shared_with: input
            .shared_with
            .map(|l| check_shared_with(l, &caller.entity_id))
            .transpose()?,
        status: None,
    };
    let agent_id = path_agent(cx)?;
    let store = storage::open(cx.env, cx.config)?;
    let updated = store
        .update_agent(&caller.scope, agent_id, &changes, now_secs() as i64)
        .await?;
    audit_change(&req, cx, &store, caller, agent_id, updated.is_some()).await?;
    let agent = updated.ok_or(ErrorCode::NotFound)?;
    Ok(response::json(200, &agent_json(&agent, caller)))
}

/// `DELETE /api/agents/:agentId`: owner only.
pub async fn delete(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    let agent_id = path_agent(cx)?;
    let store = storage::open(cx.env, cx.config)?;
    let deleted = store.delete_agent(&caller.scope, agent_id).await?;
    audit_change(&req, cx, &store, caller, agent_id, deleted).await?;
    Ok(response::json(
        200,
        &json!({ "id": agent_id, "deleted": true }),
    ))
}

/// Start, stop, logs and memory: the agent must be the caller's (or, for a
/// read, shared with them); then the request goes to the origin. A
/// successful start or stop updates the registry's status.
pub async fn runtime(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    let agent_id = path_agent(cx)?;
    let store = storage::open(cx.env, cx.config)?;
    let agent = store
        .visible_agent(&caller.scope, agent_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let changes_agent = matches!(
        cx.route.permission,
        Some(Permission::AgentWrite | Permission::MemoryWrite)
    );
    if changes_agent && agent.owner_entity_id != caller.entity_id {
        return Err(ErrorCode::NotFound.into());
    }
    origin::require_origin(cx)?;
    let trail = AuditTrail::new(&store, cx, &req);
    let answer = origin::forward(req, cx, caller).await;
    let ok = answer
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status_code()));
    if cx.route.audit.is_some() {
        let outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        audit(&trail, cx, caller, outcome, Some(agent_id)).await?;
    }
    let status = match cx.route.id {
        agentgate_shared::routes::RouteId::AgentStart => Some("running"),
        agentgate_shared::routes::RouteId::AgentStop => Some("stopped"),
        _ => None,
    };
    if let (true, Some(status)) = (ok, status) {
        let changes = AgentChanges {
            status: Some(status.into()),
            ..AgentChanges::default()
        };
        store
            .update_agent(&caller.scope, agent_id, &changes, now_secs() as i64)
            .await?;
    }
    answer
}

/// `GET /api/server/logs`, `POST /api/server/stop` (`admin:*`): forwarded.
pub async fn server_admin(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = caller(cx)?;
    origin::require_origin(cx)?;
    if cx.route.audit.is_none() {
        return origin::forward(req, cx, caller).await;
    }
    let store = storage::open(cx.env, cx.config)?;
    let trail = AuditTrail::new(&store, cx, &req);
    let answer = origin::forward(req, cx, caller).await;
    let outcome = match &answer {
        Ok(r) if (200..300).contains(&r.status_code()) => Outcome::Success,
        _ => Outcome::Failure,
    };
    audit(&trail, cx, caller, outcome, None).await?;
    answer
}
