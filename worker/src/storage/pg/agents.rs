//! The agents registry on PostgreSQL. Every call is entity level (`$2` is
//! the scope's entity): the `agents_own` policy lets the owner do
//! everything, `agents_shared_read` lets the entities in `shared_with` (a
//! jsonb array of entity-id strings) read. The statements filter on owner /
//! `shared_with ?` themselves as well.
//!
//! Agent ids are `uuid` here: a client-chosen id that is not a UUID is 400 on
//! create and "no such agent" on lookup.

use super::{get, input_uuid, lookup_uuid, FromRow, PgStore, P};
use crate::storage::records::{AgentChanges, AgentRecord};
use crate::storage::scope::EntityScope;
use crate::storage::{AgentRepo, StorageError};
use tokio_postgres::Row;

const AGENT_COLUMNS: &str = "a.id::text, a.name, a.owner_entity_id::text, a.shared_with::text, \
                             a.status, a.created_at, a.updated_at";

/// Owner, or listed in `shared_with` ($2 is the scope's entity).
const VISIBLE_TO: &str = "(a.owner_entity_id = $2 OR a.shared_with ? ($2::text))";

impl FromRow for AgentRecord {
    fn from_row(r: &Row) -> Result<Self, StorageError> {
        let shared: String = get(r, 3)?;
        Ok(Self {
            id: get(r, 0)?,
            name: get(r, 1)?,
            owner_entity_id: get(r, 2)?,
            shared_with: serde_json::from_str(&shared)
                .map_err(|e| StorageError::Corrupt(format!("agents.shared_with: {e}")))?,
            status: get(r, 4)?,
            created_at: get(r, 5)?,
            updated_at: get(r, 6)?,
        })
    }
}

/// `shared_with` as jsonb text; every entry must be a UUID (400 otherwise).
fn shared_json(list: &[String]) -> Result<String, StorageError> {
    for entity in list {
        input_uuid(entity, "sharedWith")?;
    }
    serde_json::to_string(list).map_err(|e| StorageError::Internal(e.to_string()))
}

impl AgentRepo for PgStore {
    async fn insert_agent(
        &self,
        scope: &EntityScope,
        a: &AgentRecord,
    ) -> Result<bool, StorageError> {
        let id = input_uuid(&a.id, "id")?;
        let shared = shared_json(&a.shared_with)?;
        self.changed(
            scope,
            "INSERT INTO agents (server_id, owner_entity_id, id, name, shared_with, \
             status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                P::Uuid(id),
                P::Text(&a.name),
                P::Text(&shared),
                P::Text(&a.status),
                P::Int(a.created_at),
                P::Int(a.updated_at),
            ],
        )
        .await
    }

    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, StorageError> {
        let Some(id) = lookup_uuid(agent_id) else {
            return Ok(None);
        };
        self.first(
            scope,
            &format!(
                "SELECT {AGENT_COLUMNS} FROM agents a \
                 WHERE a.server_id = $1 AND {VISIBLE_TO} AND a.id = $3"
            ),
            &[P::Uuid(id)],
        )
        .await
    }

    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, StorageError> {
        self.all(
            scope,
            &format!(
                "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.server_id = $1 AND {VISIBLE_TO} \
                 ORDER BY a.created_at DESC, a.id DESC LIMIT $3"
            ),
            &[P::Int(i64::from(limit.clamp(1, 200)))],
        )
        .await
    }

    async fn update_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> Result<Option<AgentRecord>, StorageError> {
        let Some(id) = lookup_uuid(agent_id) else {
            return Ok(None);
        };
        let shared = changes
            .shared_with
            .as_deref()
            .map(shared_json)
            .transpose()?;
        self.first(
            scope,
            &format!(
                "UPDATE agents a SET name = COALESCE($3, a.name), \
                 shared_with = COALESCE($4::text::jsonb, a.shared_with), \
                 status = COALESCE($5, a.status), updated_at = $6 \
                 WHERE a.server_id = $1 AND a.owner_entity_id = $2 AND a.id = $7 \
                 RETURNING {AGENT_COLUMNS}"
            ),
            &[
                P::OptText(changes.name.as_deref()),
                P::OptText(shared.as_deref()),
                P::OptText(changes.status.as_deref()),
                P::Int(now),
                P::Uuid(id),
            ],
        )
        .await
    }

    async fn delete_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<bool, StorageError> {
        let Some(id) = lookup_uuid(agent_id) else {
            return Ok(false);
        };
        self.changed(
            scope,
            "DELETE FROM agents WHERE server_id = $1 AND owner_entity_id = $2 AND id = $3",
            &[P::Uuid(id)],
        )
        .await
    }
}
