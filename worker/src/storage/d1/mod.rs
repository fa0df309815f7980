//! The repositories on D1: the store, statements bound to a scope, and the
//! one place a D1 failure is classified. A failure fails the request closed
//! (`STORAGE_UNAVAILABLE`, detail internal) unless a repository whose insert
//! is the check turns a unique violation into an outcome.
//!
//! Every statement goes through [`D1Store::statement`]: `?1` is the scope's
//! `server_id`, `?2` (entity scopes) its entity, and the parameters a
//! repository passes are numbered after them.

mod agents;
mod audit;
mod bootstrap_jti;
mod channels;
mod identities;
mod machine_tokens;
mod sessions;
mod ws_tickets;

use super::scope::Scope;
use super::StorageError;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

/// The D1 binding name (wrangler.toml).
pub const D1_BINDING: &str = "DB";

pub struct D1Store {
    db: D1Database,
}

/// Whether D1 answers a trivial query.
pub async fn reachable(env: &Env) -> bool {
    let Ok(db) = env.d1(D1_BINDING) else {
        return false;
    };
    db.prepare("SELECT 1 AS ok")
        .first::<serde_json::Value>(None)
        .await
        .is_ok()
}

/// A bound SQL parameter.
pub(super) enum Param<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(s: &'a str) -> Self {
        Param::Text(s)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(s: &'a String) -> Self {
        Param::Text(s)
    }
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Param::Null, Param::Text)
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(n: Option<i64>) -> Self {
        n.map_or(Param::Null, Param::Int)
    }
}

fn js(p: &Param<'_>) -> JsValue {
    match p {
        Param::Text(s) => JsValue::from_str(s),
        // D1 numbers are JS numbers: exact to 2^53, ample for unix times.
        Param::Int(n) => JsValue::from_f64(*n as f64),
        Param::Null => JsValue::NULL,
    }
}

impl D1Store {
    /// The store on the `DB` binding.
    pub fn from_env(env: &Env) -> Result<Self, StorageError> {
        let db = env
            .d1(D1_BINDING)
            .map_err(|e| StorageError::Unavailable(format!("D1 binding: {e}")))?;
        Ok(Self { db })
    }

    /// Prepares `sql` bound to `scope`: `?1` is its `server_id`, `?2` (an
    /// entity scope) its entity, then `params` in order (`?2…` / `?3…`).
    fn statement(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<D1PreparedStatement, StorageError> {
        let values: Vec<JsValue> = std::iter::once(JsValue::from_str(scope.server_id()))
            .chain(scope.entity().map(JsValue::from_str))
            .chain(params.iter().map(js))
            .collect();
        self.db.prepare(sql).bind(&values).map_err(failure)
    }

    /// All rows of a query.
    async fn all<T: DeserializeOwned>(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<T>, StorageError> {
        let result = self
            .statement(scope, sql, params)?
            .all()
            .await
            .map_err(failure)?;
        result
            .results::<T>()
            .map_err(|e| StorageError::Corrupt(e.to_string()))
    }

    /// The first row, if any.
    async fn first<T: DeserializeOwned>(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<T>, StorageError> {
        self.statement(scope, sql, params)?
            .first::<T>(None)
            .await
            .map_err(failure)
    }

    /// Whether a query has any row.
    async fn exists(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<bool, StorageError> {
        let row: Option<serde_json::Value> = self.first(scope, sql, params).await?;
        Ok(row.is_some())
    }

    /// Runs a write; returns the number of rows changed.
    async fn run(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<usize, StorageError> {
        let result = self
            .statement(scope, sql, params)?
            .run()
            .await
            .map_err(failure)?;
        if let Some(error) = result.error() {
            return Err(classify(error));
        }
        Ok(result
            .meta()
            .ok()
            .flatten()
            .and_then(|m| m.changes)
            .unwrap_or(0))
    }

    /// Runs a write; whether it changed any row.
    async fn changed(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<bool, StorageError> {
        Ok(self.run(scope, sql, params).await? > 0)
    }

    /// An insert whose unique constraint is the check: `false` if it refused.
    async fn insert_unique(
        &self,
        scope: &impl Scope,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<bool, StorageError> {
        match self.run(scope, sql, params).await {
            Ok(_) => Ok(true),
            Err(StorageError::UniqueViolation { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Runs statements as one batch (one implicit transaction).
    async fn batch(&self, statements: Vec<D1PreparedStatement>) -> Result<(), StorageError> {
        self.db.batch(statements).await.map(drop).map_err(failure)
    }
}

fn failure(e: worker::Error) -> StorageError {
    classify(e.to_string())
}

/// What a D1 failure is. D1 reports errors only as text (no SQLSTATE or
/// SQLite result code is exposed to workers), so this is the one place that
/// reads it: SQLite's `UNIQUE constraint failed: <table>.<column>, …` is a
/// unique violation, anything else the back end failing.
fn classify(message: String) -> StorageError {
    const UNIQUE: &str = "UNIQUE constraint failed: ";
    match message.split_once(UNIQUE) {
        Some((_, rest)) => StorageError::UniqueViolation {
            constraint: rest
                .split(": ")
                .next()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        },
        None => StorageError::Unavailable(message),
    }
}
