//! Storage back ends. D1 is the default.

use worker::Env;

/// The D1 binding name (wrangler.toml).
pub const D1_BINDING: &str = "DB";

/// Whether D1 answers a trivial query.
pub async fn d1_reachable(env: &Env) -> bool {
    let Ok(db) = env.d1(D1_BINDING) else {
        return false;
    };
    db.prepare("SELECT 1 AS ok")
        .first::<serde_json::Value>(None)
        .await
        .is_ok()
}
