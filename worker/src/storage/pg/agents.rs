//! The agents registry on PostgreSQL. Every call is entity level: the
//! `agents_own` policy lets the owner do everything, `agents_shared_read` lets
//! the entities in `shared_with` (a jsonb array of entity-id strings) read.
//! The statements filter on owner / `shared_with ?` themselves as well.
//!
//! Agent ids are `uuid` here: a client-chosen id that is not a UUID is 400 on
//! create and "no such agent" on lookup.

use super::{get, input_uuid, lookup_uuid, PgStore, Settings, P};
use crate::auth::scope::EntityScope;
use crate::error::ApiError;
use crate::storage::records::{AgentChanges, AgentRecord};
use crate::storage::AgentRepo;
use tokio_postgres::Row;

const AGENT_COLUMNS: &str = "a.id::text, a.name, a.owner_entity_id::text, a.shared_with::text, \
     a.status, a.created_at, a.updated_at";

/// Owner, or listed in `shared_with` ($2 is the scope's entity).
const VISIBLE_TO: &str = "(a.owner_entity_id = $2 OR a.shared_with ? ($2::text))";

fn agent_row(r: &Row) -> Result<AgentRecord, ApiError> {
    let shared: String = get(r, 3)?;
    Ok(AgentRecord {
        id: get(r, 0)?,
        name: get(r, 1)?,
        owner_entity_id: get(r, 2)?,
        shared_with: serde_json::from_str(&shared)
            .map_err(|e| ApiError::storage(format!("agents.shared_with: {e}")))?,
        status: get(r, 4)?,
        created_at: get(r, 5)?,
        updated_at: get(r, 6)?,
    })
}

/// `shared_with` as jsonb text; every entry must be a UUID (400 otherwise).
fn shared_json(list: &[String]) -> Result<String, ApiError> {
    for entity in list {
        input_uuid(entity, "sharedWith")?;
    }
    serde_json::to_string(list).map_err(|e| ApiError::internal(e.to_string()))
}

impl AgentRepo for PgStore {
    async fn insert_agent(&self, scope: &EntityScope, a: &AgentRecord) -> Result<bool, ApiError> {
        let settings = Settings::entity(scope)?;
        let id = input_uuid(&a.id, "id")?;
        let shared = shared_json(&a.shared_with)?;
        self.transact(settings, async |tx| {
            tx
                .exec(
                    "INSERT INTO agents (id, server_id, name, owner_entity_id, shared_with, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8) ON CONFLICT DO NOTHING",
                    &[
                        P::Uuid(id),
                        P::Uuid(settings.server_id),
                        P::Text(&a.name),
                        P::Uuid(super::entity(&settings)),
                        P::Text(&shared),
                        P::Text(&a.status),
                        P::Int(a.created_at),
                        P::Int(a.updated_at),
                    ],
                )
                .await
                .map(|n| n == 1)
        })
        .await
    }

    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, ApiError> {
        let settings = Settings::entity(scope)?;
        let Some(id) = lookup_uuid(agent_id) else {
            return Ok(None);
        };
        self.transact(settings, async |tx| {
            tx.first(
                &format!(
                    "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.server_id = $1 AND {VISIBLE_TO} AND a.id = $3"
                ),
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(super::entity(&settings)),
                    P::Uuid(id),
                ],
            )
            .await?
            .as_ref()
            .map(agent_row)
            .transpose()
        })
        .await
    }

    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, ApiError> {
        let settings = Settings::entity(scope)?;
        self.transact(settings, async |tx| {
            tx.rows(
                &format!(
                    "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.server_id = $1 AND {VISIBLE_TO} \
                     ORDER BY a.created_at DESC, a.id DESC LIMIT $3"
                ),
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(super::entity(&settings)),
                    P::Int(i64::from(limit.clamp(1, 200))),
                ],
            )
            .await?
            .iter()
            .map(agent_row)
            .collect()
        })
        .await
    }

    async fn update_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> Result<Option<AgentRecord>, ApiError> {
        let settings = Settings::entity(scope)?;
        let Some(id) = lookup_uuid(agent_id) else {
            return Ok(None);
        };
        let shared = changes
            .shared_with
            .as_deref()
            .map(shared_json)
            .transpose()?;
        self.transact(settings, async |tx| {
            tx.first(
                &format!(
                    "UPDATE agents a SET name = COALESCE($3, a.name), \
                     shared_with = COALESCE($4::text::jsonb, a.shared_with), \
                     status = COALESCE($5, a.status), updated_at = $6 \
                     WHERE a.server_id = $1 AND a.owner_entity_id = $2 AND a.id = $7 \
                     RETURNING {AGENT_COLUMNS}"
                ),
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(super::entity(&settings)),
                    P::OptText(changes.name.as_deref()),
                    P::OptText(shared.as_deref()),
                    P::OptText(changes.status.as_deref()),
                    P::Int(now),
                    P::Uuid(id),
                ],
            )
            .await?
            .as_ref()
            .map(agent_row)
            .transpose()
        })
        .await
    }

    async fn delete_agent(&self, scope: &EntityScope, agent_id: &str) -> Result<bool, ApiError> {
        let settings = Settings::entity(scope)?;
        let Some(id) = lookup_uuid(agent_id) else {
            return Ok(false);
        };
        self.transact(settings, async |tx| {
            tx.exec(
                "DELETE FROM agents WHERE server_id = $1 AND owner_entity_id = $2 AND id = $3",
                &[
                    P::Uuid(settings.server_id),
                    P::Uuid(super::entity(&settings)),
                    P::Uuid(id),
                ],
            )
            .await
            .map(|n| n > 0)
        })
        .await
    }
}
