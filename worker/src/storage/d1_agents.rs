//! The agents registry on D1. `shared_with` is a JSON array of entity ids,
//! searched with `json_each`.

use super::d1::{all, first, is_unique_violation, run};
use super::records::{AgentChanges, AgentRecord};
use super::{AgentRepo, D1Store};
use crate::auth::scope::EntityScope;
use crate::error::ApiError;
use serde::Deserialize;

const AGENT_COLUMNS: &str =
    "a.id, a.name, a.owner_entity_id, a.shared_with, a.status, a.created_at, a.updated_at";

/// Owner, or listed in `shared_with` (?2 is the scope's entity).
const VISIBLE_TO: &str = "(a.owner_entity_id = ?2 OR EXISTS (SELECT 1 FROM json_each(a.shared_with) s WHERE s.value = ?2))";

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
    type Error = ApiError;
    fn try_from(r: AgentRow) -> Result<Self, ApiError> {
        let shared_with = serde_json::from_str(&r.shared_with)
            .map_err(|e| ApiError::storage(format!("agents.shared_with: {e}")))?;
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

fn json_list(list: &[String]) -> Result<String, ApiError> {
    serde_json::to_string(list).map_err(|e| ApiError::internal(e.to_string()))
}

impl AgentRepo for D1Store {
    async fn insert_agent(&self, scope: &EntityScope, a: &AgentRecord) -> Result<bool, ApiError> {
        let shared = json_list(&a.shared_with)?;
        let inserted = run(
            self.db(),
            "INSERT INTO agents (id, server_id, name, owner_entity_id, shared_with, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &[
                (&a.id).into(),
                scope.server_id().into(),
                (&a.name).into(),
                scope.entity_id().into(),
                (&shared).into(),
                (&a.status).into(),
                a.created_at.into(),
                a.updated_at.into(),
            ],
        )
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn visible_agent(
        &self,
        scope: &EntityScope,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, ApiError> {
        let row: Option<AgentRow> = first(
            self.db(),
            &format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.server_id = ?1 AND a.id = ?3 AND {VISIBLE_TO}"),
            &[scope.server_id().into(), scope.entity_id().into(), agent_id.into()],
        )
        .await?;
        row.map(AgentRecord::try_from).transpose()
    }

    async fn visible_agents(
        &self,
        scope: &EntityScope,
        limit: u32,
    ) -> Result<Vec<AgentRecord>, ApiError> {
        let rows: Vec<AgentRow> = all(
            self.db(),
            &format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.server_id = ?1 AND {VISIBLE_TO} ORDER BY a.created_at DESC, a.id DESC LIMIT ?3"),
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                i64::from(limit.clamp(1, 200)).into(),
            ],
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
    ) -> Result<Option<AgentRecord>, ApiError> {
        let shared = changes.shared_with.as_deref().map(json_list).transpose()?;
        let row: Option<AgentRow> = first(
            self.db(),
            &format!(
                "UPDATE agents SET name = COALESCE(?3, name), shared_with = COALESCE(?4, shared_with), status = COALESCE(?5, status), updated_at = ?6 \
                 WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?7 RETURNING {}",
                AGENT_COLUMNS.replace("a.", "")
            ),
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
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

    async fn delete_agent(&self, scope: &EntityScope, agent_id: &str) -> Result<bool, ApiError> {
        let changed = run(
            self.db(),
            "DELETE FROM agents WHERE server_id = ?1 AND owner_entity_id = ?2 AND id = ?3",
            &[
                scope.server_id().into(),
                scope.entity_id().into(),
                agent_id.into(),
            ],
        )
        .await?;
        Ok(changed > 0)
    }
}
