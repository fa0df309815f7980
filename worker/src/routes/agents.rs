//! `/api/agents*` and `/api/memory/*` (SPEC §7, §13). Ownership always comes
//! from the gateway's agents registry. Not-yours is 404: reads need the agent
//! to be the caller's own or shared with them, changes need it to be their
//! own; a refused request never reaches the origin.
//!
//! - Listing and reading an agent (`GET /api/agents`, `GET
//!   /api/agents/:agentId`) are answered from the registry, with or without an
//!   origin: the list is filtered to the caller's agents, which only the
//!   registry knows.
//! - Creating, changing and deleting: without an origin, the registry alone.
//!   With `AGENT_ORIGIN_URL`, the request is forwarded (body unchanged: fields
//!   the gateway does not know, such as ElizaOS's `characterJson`, pass
//!   through; the gateway's own are validated first) and the registry follows
//!   only a 2xx answer; the client gets the origin's answer. A change or a
//!   delete is checked against the registry before it is forwarded.
//! - A create with an origin learns the agent's id from the origin's answer
//!   (`id`, `data.id`, `agent.id`, `data.agent.id`), else keeps the gateway's
//!   (the body's `id`, or a new UUID v7). Its name is the body's `name`, else
//!   the name of the character the body carries (`characterJson`, `character`,
//!   `agent`); with neither it is refused (400) before it is forwarded, so the
//!   origin never creates an agent the registry could not name. A body `id` is
//!   reserved in the registry while the origin answers, so an id that is
//!   already registered is 409 without reaching the origin.
//! - The runtime routes (start, stop, logs, memory) are checked against the
//!   registry and forwarded; a successful start or stop updates its status.

use crate::auth::Caller;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{body, response};
use crate::storage::records::{AgentChanges, AgentRecord};
use crate::storage::{AgentRepo, Store};
use crate::{origin, random};
use agentgate_shared::audit::Outcome;
use agentgate_shared::http_policy::MAX_BODY_BYTES;
use agentgate_shared::origin::{created_agent_id, registered_agent_id};
use agentgate_shared::routes::Permission;
use agentgate_shared::rules;
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Request, Response};

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

/// The metadata of an agent route's audit row.
fn agent_meta(caller: &Caller, agent_id: Option<&str>) -> Vec<(&'static str, Value)> {
    let mut meta = vec![("entityId", json!(caller.entity_id))];
    if let Some(id) = agent_id {
        meta.push(("agentId", json!(id)));
    }
    meta
}

/// This route's audit row about `agent_id`.
async fn audit(
    cx: &RequestContext<'_>,
    outcome: Outcome,
    agent_id: Option<&str>,
) -> Result<(), ApiError> {
    cx.audit_route(outcome, &agent_meta(cx.caller()?, agent_id))
        .await
}

/// `GET /api/agents`: the caller's own agents and those shared with them.
pub async fn list(_req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let agents = cx.store()?.visible_agents(&caller.scope, 200).await?;
    let items: Vec<Value> = agents.iter().map(|a| agent_json(a, caller)).collect();
    Ok(response::json(200, &json!({ "agents": items })))
}

/// Without an origin a body may carry only the gateway's `fields`; with one,
/// the others are the origin's (ElizaOS's) and pass through untouched.
fn only_gateway_fields(
    cx: &RequestContext<'_>,
    bytes: &[u8],
    fields: &[&str],
) -> Result<(), ApiError> {
    if cx.config.agent_origin.is_some() {
        return Ok(());
    }
    // A body that is not an object is refused by the typed parse that follows.
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(());
    };
    match map.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::bad_request(format!(
            "Unknown field `{unknown}`: expected {}",
            fields.join(", ")
        ))),
        None => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAgent {
    name: Option<String>,
    /// An id the origin already knows the agent by; generated when absent.
    id: Option<String>,
    #[serde(default)]
    shared_with: Vec<String>,
    /// ElizaOS's ways of sending the character (with an origin only): its
    /// name is the agent's when `name` is absent.
    character_json: Option<Value>,
    character: Option<Value>,
    agent: Option<Value>,
}

impl NewAgent {
    fn name(&self) -> Result<String, ApiError> {
        let from_character = [&self.character_json, &self.character, &self.agent]
            .into_iter()
            .flatten()
            .find_map(|c| c.get("name")?.as_str());
        match self.name.as_deref().or(from_character) {
            Some(name) => Ok(rules::display_name("name", name)?),
            None => Err(ApiError::bad_request(
                "Missing field `name` (or a character with a name)",
            )),
        }
    }
}

/// `POST /api/agents` (`agent:create`): registers an agent owned by the
/// caller; with an origin, once the origin has created it.
pub async fn create(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let bytes = body::bytes(&mut req).await?;
    only_gateway_fields(cx, &bytes, &["name", "id", "sharedWith"])?;
    let input: NewAgent = body::parse_json(&bytes)?;
    let requested = input
        .id
        .as_deref()
        .map(|id| rules::parse_id("id", id))
        .transpose()?;
    let now = cx.now.unix();
    let agent = AgentRecord {
        id: match &requested {
            Some(id) => id.clone(),
            None => random::new_id(cx.now)?,
        },
        name: input.name()?,
        owner_entity_id: caller.entity_id.clone(),
        shared_with: rules::entity_list("sharedWith", &input.shared_with, &caller.entity_id)?,
        status: "stopped".into(),
        created_at: now,
        updated_at: now,
    };
    let store = cx.store()?;
    if crate::auth::is_local_identity(store, cx.config, &agent.id).await? {
        return Err(id_taken());
    }
    if cx.config.agent_origin.is_some() {
        let reserve = requested.is_some();
        return create_at_origin(&req, cx, caller, store, agent, reserve, bytes).await;
    }
    let registered = store.insert_agent(&caller.scope, &agent).await?;
    audit(cx, Outcome::from_success(registered), Some(&agent.id)).await?;
    if !registered {
        return Err(id_taken());
    }
    Ok(response::json(201, &agent_json(&agent, caller)))
}

fn id_taken() -> ApiError {
    ApiError::new(ErrorCode::Conflict).with_message("An agent with this id is already registered")
}

/// A create with an origin: the origin creates the agent, then the registry
/// records it under the id the origin gave. With `reserve`, the agent's
/// requested id is held in the registry while the origin answers, so an id
/// already taken never reaches the origin.
async fn create_at_origin(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    store: &Store,
    agent: AgentRecord,
    reserve: bool,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    if reserve && !store.insert_agent(&caller.scope, &agent).await? {
        audit(cx, Outcome::Failure, Some(&agent.id)).await?;
        return Err(id_taken());
    }
    let answer = origin::forward_and_read(req, cx, caller, Some(body), MAX_BODY_BYTES).await;
    // The origin's id; else the one the request asked for (the origin saw
    // it). A generated id the origin never saw is not an answer.
    let accepted = answer.as_ref().is_ok_and(|a| a.is_success());
    let created_id = match &answer {
        Ok(a) if a.is_success() => registered_agent_id(
            created_agent_id(&a.body),
            reserve.then_some(agent.id.as_str()),
        ),
        _ => None,
    };
    let registered = match &created_id {
        Some(id) if reserve && *id == agent.id => true,
        Some(id) if crate::auth::is_local_identity(store, cx.config, id).await? => false,
        Some(id) => {
            let created = AgentRecord {
                id: id.clone(),
                ..agent.clone()
            };
            store.insert_agent(&caller.scope, &created).await?
        }
        None => false,
    };
    if reserve && created_id.as_ref() != Some(&agent.id) {
        // The held id did not become the agent's.
        store.delete_agent(&caller.scope, &agent.id).await?;
    }
    let audited_id = created_id.as_ref().unwrap_or(&agent.id);
    audit(cx, Outcome::from_success(registered), Some(audited_id)).await?;
    let answer = answer?;
    if accepted && created_id.is_none() {
        return Err(ApiError::new(ErrorCode::OriginUnavailable).with_message(
            "The origin accepted the agent but named no id; nothing was registered",
        ));
    }
    if created_id.is_some() && !registered {
        return Err(id_taken());
    }
    Ok(answer.into_response())
}

/// `GET /api/agents/:agentId`: owner or shared-with.
pub async fn get(_req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let agent = cx
        .store()?
        .visible_agent(&caller.scope, &cx.id_param("agentId")?)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(response::json(200, &agent_json(&agent, caller)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentPatch {
    name: Option<String>,
    shared_with: Option<Vec<String>>,
}

/// `PATCH /api/agents/:agentId` `{name?, sharedWith?}`: owner only. With an
/// origin, other fields are the origin's and the patch may carry only those.
pub async fn update(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let bytes = body::bytes(&mut req).await?;
    only_gateway_fields(cx, &bytes, &["name", "sharedWith"])?;
    let input: AgentPatch = body::parse_json(&bytes)?;
    if cx.config.agent_origin.is_none() && input.name.is_none() && input.shared_with.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to change: give `name` or `sharedWith`",
        ));
    }
    let changes = AgentChanges {
        name: input
            .name
            .as_deref()
            .map(|n| rules::display_name("name", n))
            .transpose()?,
        shared_with: input
            .shared_with
            .map(|l| rules::entity_list("sharedWith", &l, &caller.entity_id))
            .transpose()?,
        status: None,
    };
    change(req, cx, caller, Some(bytes), Change::Update(changes)).await
}

/// `DELETE /api/agents/:agentId`: owner only.
pub async fn delete(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let body = match cx.config.agent_origin {
        Some(_) => origin::request_body(&mut req).await?,
        None => None,
    };
    change(req, cx, caller, body, Change::Delete).await
}

/// An owner's change to the registry.
enum Change {
    Update(AgentChanges),
    Delete,
}

impl Change {
    /// Applies the change to one of the caller's agents: the gateway's answer,
    /// or `None` if it isn't theirs.
    async fn apply(
        &self,
        store: &Store,
        caller: &Caller,
        agent_id: &str,
        now: i64,
    ) -> Result<Option<Value>, ApiError> {
        Ok(match self {
            Change::Update(changes) => store
                .update_agent(&caller.scope, agent_id, changes, now)
                .await?
                .map(|a| agent_json(&a, caller)),
            Change::Delete => store
                .delete_agent(&caller.scope, agent_id)
                .await?
                .then(|| json!({ "id": agent_id, "deleted": true })),
        })
    }
}

/// Without an origin the change is the registry's alone. With one, it must
/// be the caller's agent (else 404, the origin not reached); then the request
/// is forwarded with `body` and the registry changes only on a 2xx answer,
/// which goes back to the client as the origin gave it.
async fn change(
    req: Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    body: Option<Vec<u8>>,
    change: Change,
) -> Result<Response, ApiError> {
    let agent_id = &cx.id_param("agentId")?;
    let store = cx.store()?;
    if cx.config.agent_origin.is_none() {
        let answer = change.apply(store, caller, agent_id, cx.now.unix()).await?;
        cx.audit_change(answer.is_some(), &agent_meta(caller, Some(agent_id)))
            .await?;
        return Ok(response::json(200, &answer.ok_or(ErrorCode::NotFound)?));
    }
    let owned = store
        .visible_agent(&caller.scope, agent_id)
        .await?
        .is_some_and(|a| a.owner_entity_id == caller.entity_id);
    if !owned {
        cx.audit_change(false, &agent_meta(caller, Some(agent_id)))
            .await?;
    }
    let answer = origin::forward_with_body(&req, cx, caller, body).await;
    // A delete the origin answers "no such agent" (404/410) is done there
    // too: the registry follows, so no ghost entry keeps routing to it.
    let accepted = answer.as_ref().is_ok_and(|r| {
        let status = r.status_code();
        (200..300).contains(&status)
            || (matches!(change, Change::Delete) && matches!(status, 404 | 410))
    });
    let written = accepted
        && change
            .apply(store, caller, agent_id, cx.now.unix())
            .await?
            .is_some();
    audit(cx, Outcome::from_success(written), Some(agent_id)).await?;
    answer
}

/// Start, stop, logs and memory: the agent must be the caller's (or, for a
/// read, shared with them); then the request goes to the origin. A
/// successful start or stop updates the registry's status.
pub async fn runtime(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let agent_id = &cx.id_param("agentId")?;
    let store = cx.store()?;
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
    let answer = origin::forward(req, cx, caller).await;
    let ok = answer
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status_code()));
    if cx.route.audit.is_some() {
        audit(cx, Outcome::from_success(ok), Some(agent_id)).await?;
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
            .update_agent(&caller.scope, agent_id, &changes, cx.now.unix())
            .await?;
    }
    answer
}

/// `GET /api/server/logs`, `POST /api/server/stop` (`admin:*`): forwarded.
pub async fn server_admin(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    origin::require_origin(cx)?;
    if cx.route.audit.is_none() {
        return origin::forward(req, cx, caller).await;
    }
    let answer = origin::forward(req, cx, caller).await;
    let outcome = match &answer {
        Ok(r) if (200..300).contains(&r.status_code()) => Outcome::Success,
        _ => Outcome::Failure,
    };
    audit(cx, outcome, None).await?;
    answer
}
