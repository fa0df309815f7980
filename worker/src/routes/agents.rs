//! `/api/agents*`, `/api/memory/*`, `/api/audio/*`, `/api/media/agents/*`
//! and the server-wide ElizaOS routes (SPEC §7, §13). Ownership always comes
//! from the gateway's agents registry. Not-yours is 404: reads need the agent
//! to be the caller's own or shared with them, changes need it to be their
//! own; a refused request never reaches the origin.
//!
//! Without an origin the registry answers list, read, create, change and
//! delete in the gateway's own shape, and runtime routes are 503. With
//! `AGENT_ORIGIN_URL`, everything is ElizaOS's:
//! - `GET /api/agents` is the origin's answer, filtered to the agents the
//!   caller may see (envelope and status as the origin gave them).
//! - `GET /api/agents/:agentId` and every other `:agentId` route are checked
//!   against the registry, then forwarded; a character's secrets are removed
//!   for callers who don't own the agent.
//! - Origin agents nobody registered belong to the deployment owner: the
//!   owner (or a token acting for them) who meets one adopts it into the
//!   registry ([`resolve`]).
//! - A create's id is known before the origin sees it (ElizaOS derives it
//!   from the name, `shared::agents`): it is held in the registry first, and
//!   a create whose id is registered to anyone or already exists at the
//!   origin is 409, the same answer either way (never a takeover: ElizaOS
//!   itself would answer 201 with the existing agent).
//! - The registry follows a change or delete only on the origin's 2xx.

use crate::auth::Caller;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::{body, response};
use crate::storage::records::{AgentChanges, AgentRecord};
use crate::storage::{AgentRepo, Store};
use crate::{origin, random};
use agentgate_shared::agents;
use agentgate_shared::audit::Outcome;
use agentgate_shared::http_policy::MAX_BODY_BYTES;
use agentgate_shared::origin::created_agent_id;
use agentgate_shared::routes::Permission;
use agentgate_shared::rules;
use agentgate_shared::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
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

/// `GET /api/agents`: the caller's own agents and those shared with them
/// (with an origin: the origin's list, filtered to those).
pub async fn list(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let store = cx.store()?;
    let agents = store.visible_agents(&caller.scope, 200).await?;
    if cx.config.agent_origin.is_none() {
        let items: Vec<Value> = agents.iter().map(|a| agent_json(a, caller)).collect();
        return Ok(response::json(200, &json!({ "agents": items })));
    }
    let answer = origin::forward_and_read(&req, cx, caller, None, MAX_BODY_BYTES).await?;
    if !answer.is_success() {
        return Ok(answer.into_response());
    }
    let listed = answer.json()?;
    let mut visible: BTreeSet<String> = agents.into_iter().map(|a| a.id).collect();
    if caller.acts_for_owner {
        for id in agents::listed_agent_ids(&listed) {
            if !visible.contains(&id) && adopt(store, cx, caller, &id, None).await? {
                visible.insert(id);
            }
        }
    }
    let filtered =
        agents::filter_agent_list(listed, |id| visible.contains(id)).ok_or_else(|| {
            ApiError::new(ErrorCode::OriginUnavailable)
                .with_detail("the origin's agent list is not `{data: {agents: [..]}}`")
        })?;
    Ok(answer.with_json(&filtered).into_response())
}

/// Registers an origin agent nobody registered to the deployment owner
/// (SPEC §7). `false` when it is registered already (to anyone: the insert
/// never overwrites) or is a local identity's id.
async fn adopt(
    store: &Store,
    cx: &RequestContext<'_>,
    caller: &Caller,
    agent_id: &str,
    name: Option<&str>,
) -> Result<bool, ApiError> {
    if !caller.acts_for_owner || crate::auth::is_local_identity(store, cx.config, agent_id).await? {
        return Ok(false);
    }
    let now = cx.now.unix();
    let record = AgentRecord {
        id: agent_id.to_owned(),
        name: name
            .and_then(|n| rules::display_name("name", n).ok())
            .unwrap_or_else(|| agent_id.to_owned()),
        owner_entity_id: caller.entity_id.clone(),
        shared_with: Vec::new(),
        status: "stopped".into(),
        created_at: now,
        updated_at: now,
    };
    Ok(store.insert_agent(&caller.scope, &record).await?)
}

/// The agent `agent_id` as `caller` may use it: visible in the registry; or,
/// for the deployment owner with an origin, an origin agent nobody
/// registered (adopted on the way). `None` reads as 404.
async fn resolve(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    agent_id: &str,
) -> Result<Option<AgentRecord>, ApiError> {
    let store = cx.store()?;
    if let Some(agent) = store.visible_agent(&caller.scope, agent_id).await? {
        return Ok(Some(agent));
    }
    if !caller.acts_for_owner || cx.config.agent_origin.is_none() {
        return Ok(None);
    }
    let path = format!("/api/agents/{agent_id}");
    let answer = origin::ask(
        req,
        cx,
        caller,
        (worker::Method::Get, &path),
        MAX_BODY_BYTES,
    )
    .await?;
    if !answer.is_success() {
        return Ok(None);
    }
    let name = answer.json().ok().and_then(|v| {
        v.pointer("/data/name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    if !adopt(store, cx, caller, agent_id, name.as_deref()).await? {
        return Ok(None);
    }
    Ok(store.visible_agent(&caller.scope, agent_id).await?)
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
    name: String,
    /// An id the agent is known by elsewhere; generated when absent.
    id: Option<String>,
    #[serde(default)]
    shared_with: Vec<String>,
}

/// `POST /api/agents` (`agent:create`): registers an agent owned by the
/// caller; with an origin, once the origin has created it.
pub async fn create(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let bytes = body::bytes(&mut req).await?;
    if cx.config.agent_origin.is_some() {
        return create_at_origin(&req, cx, caller, bytes).await;
    }
    only_gateway_fields(cx, &bytes, &["name", "id", "sharedWith"])?;
    let input: NewAgent = body::parse_json(&bytes)?;
    let now = cx.now.unix();
    let agent = AgentRecord {
        id: match &input.id {
            Some(id) => rules::parse_id("id", id)?,
            None => random::new_id(cx.now)?,
        },
        name: rules::display_name("name", &input.name)?,
        owner_entity_id: caller.entity_id.clone(),
        shared_with: rules::entity_list("sharedWith", &input.shared_with, &caller.entity_id)?,
        status: "stopped".into(),
        created_at: now,
        updated_at: now,
    };
    let store = cx.store()?;
    let registered = !crate::auth::is_local_identity(store, cx.config, &agent.id).await?
        && store.insert_agent(&caller.scope, &agent).await?;
    audit(cx, Outcome::from_success(registered), Some(&agent.id)).await?;
    if !registered {
        return Err(id_taken());
    }
    Ok(response::json(201, &agent_json(&agent, caller)))
}

/// One answer for every id collision (registered to the caller, to someone
/// else, at the origin, a person's id): nothing tells them apart.
fn id_taken() -> ApiError {
    ApiError::new(ErrorCode::Conflict).with_message("An agent with this id already exists")
}

/// The gateway's `sharedWith` next to ElizaOS's fields of a create body.
fn shared_with_of(body: &Value, caller: &Caller) -> Result<Vec<String>, ApiError> {
    let list: Vec<String> = match body.get("sharedWith") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            ApiError::bad_request("Invalid field `sharedWith`: expected a list of entity ids")
        })?,
    };
    Ok(rules::entity_list("sharedWith", &list, &caller.entity_id)?)
}

/// A create with an origin. The id the origin will give the agent is
/// derived first (`shared::agents::predicted_agent_id`) and held in the
/// registry for the caller; an id someone holds, or one the origin already
/// has, is 409 without the create reaching the origin. The origin then
/// creates the agent; on anything but 2xx the hold is released.
async fn create_at_origin(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    bytes: Vec<u8>,
) -> Result<Response, ApiError> {
    let input: Value = body::parse_json(&bytes)?;
    if !input.is_object() {
        return Err(ApiError::bad_request("The body must be a JSON object"));
    }
    let id =
        agents::predicted_agent_id(&input).map_err(|why| ApiError::bad_request(why.to_string()))?;
    let name = rules::display_name("name", agents::agent_name(&input).unwrap_or(&id))?;
    let now = cx.now.unix();
    let agent = AgentRecord {
        id,
        name,
        owner_entity_id: caller.entity_id.clone(),
        shared_with: shared_with_of(&input, caller)?,
        status: "stopped".into(),
        created_at: now,
        updated_at: now,
    };
    let store = cx.store()?;
    let held = !crate::auth::is_local_identity(store, cx.config, &agent.id).await?
        && store.insert_agent(&caller.scope, &agent).await?;
    if !held {
        audit(cx, Outcome::Failure, Some(&agent.id)).await?;
        return Err(id_taken());
    }
    // ElizaOS answers a create of an existing id with that agent (201):
    // asking first keeps an origin agent from changing hands.
    let path = format!("/api/agents/{}", agent.id);
    let refusal = match origin::ask(
        req,
        cx,
        caller,
        (worker::Method::Get, &path),
        MAX_BODY_BYTES,
    )
    .await
    {
        Ok(existing) if existing.status == 404 => None,
        Ok(existing) if existing.is_success() => Some(id_taken()),
        Ok(existing) => Some(
            ApiError::new(ErrorCode::OriginUnavailable).with_detail(format!(
                "the origin answered {} to the agent lookup",
                existing.status
            )),
        ),
        Err(e) => Some(e),
    };
    if let Some(refusal) = refusal {
        store.delete_agent(&caller.scope, &agent.id).await?;
        audit(cx, Outcome::Failure, Some(&agent.id)).await?;
        return Err(refusal);
    }
    let answer = origin::forward_and_read(req, cx, caller, Some(bytes), MAX_BODY_BYTES).await;
    let named = match &answer {
        Ok(a) if a.is_success() => Some(created_agent_id(&a.body)),
        _ => None,
    };
    // The body's own id, if it named one: the origin saw it.
    let asked = agents::character_of(&input)
        .get("id")
        .or(input.get("id"))
        .is_some();
    let named = match named {
        Some(None) if asked => Some(Some(agent.id.clone())),
        other => other,
    };
    let registered = match &named {
        // Not created, or created under an id neither the body nor the
        // origin named (fail closed: the registry never guesses): the hold
        // goes.
        None | Some(None) => false,
        Some(Some(named)) if *named == agent.id => true,
        // The origin chose another id than ElizaOS would: that one is the
        // agent's, if nobody holds it.
        Some(Some(named)) => {
            let moved = AgentRecord {
                id: named.clone(),
                ..agent.clone()
            };
            !crate::auth::is_local_identity(store, cx.config, named).await?
                && store.insert_agent(&caller.scope, &moved).await?
        }
    };
    let kept = named.as_ref().and_then(|n| n.as_deref()) == Some(agent.id.as_str());
    if !kept {
        store.delete_agent(&caller.scope, &agent.id).await?;
    }
    let audited_id = match &named {
        Some(Some(named)) => named.as_str(),
        _ => agent.id.as_str(),
    };
    audit(cx, Outcome::from_success(registered), Some(audited_id)).await?;
    let answer = answer?;
    match &named {
        Some(None) => Err(ApiError::new(ErrorCode::OriginUnavailable)
            .with_message("The origin accepted the agent but named no id; nothing was registered")),
        Some(Some(_)) if !registered => Err(id_taken()),
        _ => Ok(answer.into_response()),
    }
}

/// `GET /api/agents/:agentId`: owner or shared-with (with an origin: the
/// origin's answer, the character's secrets removed unless it is theirs).
pub async fn get(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    let agent_id = cx.id_param("agentId")?;
    let agent = resolve(&req, cx, caller, &agent_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    if cx.config.agent_origin.is_none() {
        return Ok(response::json(200, &agent_json(&agent, caller)));
    }
    let answer = origin::forward_and_read(&req, cx, caller, None, MAX_BODY_BYTES).await?;
    if !answer.is_success() || agent.owner_entity_id == caller.entity_id {
        return Ok(answer.into_response());
    }
    let mut character = answer.json()?;
    agents::strip_answer_secrets(&mut character);
    Ok(answer.with_json(&character).into_response())
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
    let owned = resolve(&req, cx, caller, agent_id)
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
    let agent = resolve(&req, cx, caller, agent_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    // Reads and talking to an agent need it visible; changes, its owner.
    let changes_agent = matches!(
        cx.route.permission,
        Some(Permission::AgentWrite | Permission::MemoryWrite | Permission::AgentCreate)
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

/// The server-wide ElizaOS routes (logs, stop, environment, worlds): the
/// route table's permission was checked; forwarded, audited when the table
/// says so.
pub async fn server_wide(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.caller()?;
    origin::require_origin(cx)?;
    let answer = origin::forward(req, cx, caller).await;
    if cx.route.audit.is_some() {
        let ok = answer
            .as_ref()
            .is_ok_and(|r| (200..300).contains(&r.status_code()));
        audit(cx, Outcome::from_success(ok), None).await?;
    }
    answer
}
