//! The agents registry on D1. Every call is entity level: `?2` is the
//! scope's entity. `shared_with` is a JSON array of entity ids, searched
//! with `json_each`.

use super::D1Store;
use crate::storage::records::{AgentChanges, AgentRecord};
use crate::storage::scope::EntityScope;
use crate::storage::{AgentRepo, StorageError};
use serde::Deserialize;

const AGENT_COLUMNS: &str =
    "a.id, a.name, a.owner_entity_id, a.shared_with, a.status, a.created_at, a.updated_at";

/// Owner, or listed in `shared_with` (?2 is the scope's entity).
const VISIBLE_TO: &str = "(a.owner_entity_id = ?2 \
                          OR EXISTS (SELECT 1 FROM json_each(a.shared_with) s WHERE s.value = ?2))";

#[derive(Deserialize)]
struct AgentRow {
    id: String,
    name: String,
    owner_entity_id: String,
    shared_with: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AgentRow> for AgentRecord {
    type Error = StorageError;
    fn try_from(r: AgentRow) -> Result<Self, StorageError> {
        let shared_with = serde_json::from_str(&r.shared_with)
            .map_err(|e| StorageError::Corrupt(format!("agents.shared_with: {e}")))?;
        Ok(Self {
            id: r.id,
            name: r.name,
            owner_entity_id: r.owner_entity_id,
            shared_with,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn json_list(list: &[String]) -> Result<String, StorageError> {
    serde_json::to_string(list).map_err(|e| StorageError::Internal(e.to_string()))
}

impl AgentRepo for D1Store {
    async fn insert_agent(
        &self,
        scope: &EntityScope,
        a: &AgentRecord,
    ) -> Result<bool, StorageError> {
        let shared = json_list(&a.shared_with)?;
        self.insert_unique(
            scope,
            "INSERT INTO agents (server_id, owner_entity_id, id, name, shared_with, status, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &[
                (&a.id).into(),
                (&a.name).into(),
                (&shared).into(),
                (&a.status).into(),
                a.created_at.into(),
                a.updated_at.into(),
            ],
        )
        .await
    }

    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, StorageError> {
        let row: Option<AgentRow> = self
            .first(
                scope,
                &format!(
                    "SELECT {AGENT_COLUMNS} FROM agents a \
                     WHERE a.server_id = ?1 AND a.id = ?3 AND {VISIBLE_TO}"
                ),
                &[agent_id.into()],
            )
            .await?;
        row.map(AgentRecord::try_from).transpose()
    }

    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, StorageError> {
        let rows: Vec<AgentRow> = self
            .all(
                scope,
                &format!(
                    "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.server_id = ?1 AND {VISIBLE_TO} \
                     ORDER BY a.created_at DESC, a.id DESC LIMIT ?3"
                ),
                &[i64::from(limit.clamp(1, 200)).into()],
            )
            .await?;
        rows.into_iter().map(AgentRecord::try_from).collect()
    }

    async fn update_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
        changes: &AgentChanges,
        now: i64,
    ) -> Result<Option<AgentRecord>, StorageError> {
        let shared = changes.shared_with.as_deref().map(json_list).transpose()?;
        let row: Option<AgentRow> = self
            .first(
                scope,
                &format!(
                    "UPDATE agents SET name = COALESCE(?3, name), \
                     shared_with = COALESCE(?4, shared_with), status = COALESCE(?5, status), \
                     updated_at = ?6 \
                     WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?7 RETURNING {}",
                    AGENT_COLUMNS.replace("a.", "")
                ),
                &[
                    changes.name.as_deref().into(),
                    shared.as_deref().into(),
                    changes.status.as_deref().into(),
                    now.into(),
                    agent_id.into(),
                ],
            )
            .await?;
        row.map(AgentRecord::try_from).transpose()
    }

    async fn delete_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<bool, StorageError> {
        self.changed(
            scope,
            "DELETE FROM agents WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?3",
            &[agent_id.into()],
        )
        .await
    }
}
