//! D1 plumbing: binding parameters and mapping failures to
//! `STORAGE_UNAVAILABLE` (the request fails closed; detail stays internal).

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// A bound SQL parameter.
pub enum Param<'a> {
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

/// Prepares `sql` with `params` bound in order.
pub fn statement(
    db: &D1Database,
    sql: &str,
    params: &[Param<'_>],
) -> Result<D1PreparedStatement, ApiError> {
    let values: Vec<JsValue> = params.iter().map(js).collect();
    db.prepare(sql).bind(&values).map_err(storage_error)
}

pub fn storage_error(e: worker::Error) -> ApiError {
    ApiError::storage(e.to_string())
}

/// All rows of a query.
pub async fn all<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<T>, ApiError> {
    let result = statement(db, sql, params)?
        .all()
        .await
        .map_err(storage_error)?;
    result.results::<T>().map_err(storage_error)
}

/// The first row, if any.
pub async fn first<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Option<T>, ApiError> {
    statement(db, sql, params)?
        .first::<T>(None)
        .await
        .map_err(storage_error)
}

/// Runs a write; returns the number of rows changed.
pub async fn run(db: &D1Database, sql: &str, params: &[Param<'_>]) -> Result<usize, ApiError> {
    let result = statement(db, sql, params)?
        .run()
        .await
        .map_err(storage_error)?;
    if let Some(error) = result.error() {
        return Err(ApiError::storage(error));
    }
    Ok(result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0))
}

/// Whether a D1 failure is a uniqueness violation (an expected outcome for
/// "insert is the check" writes such as the bootstrap replay set).
pub fn is_unique_violation(e: &ApiError) -> bool {
    e.detail()
        .is_some_and(|d| d.contains("UNIQUE constraint failed"))
}
