//! Which storage back end a test gateway runs on (`STORAGE=d1|postgres`).
//!
//! `AGENTGATE_E2E_STORAGE=postgres` runs every [`crate::Gateway`] that
//! doesn't choose for itself on PostgreSQL: one throwaway cluster per test
//! process (started on first use, stopped by its watchdog when the process
//! ends), a fresh database per gateway copied from the migrated one, and a
//! [`NeverRefuseProxy`] in front so a stopped server can't take `wrangler
//! dev` down. scripts/test.sh runs the auth and rooms suites this way.

use crate::pg::{NeverRefuseProxy, PgCluster};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// The variable wrangler 4.86 reads for the `HYPERDRIVE` binding under
/// `wrangler dev` (it overrides wrangler.toml's localConnectionString).
pub const HYPERDRIVE_LOCAL_URL_VAR: &str =
    "CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    D1,
    Postgres,
}

impl Backend {
    /// The harness default: `AGENTGATE_E2E_STORAGE` (`d1` when unset).
    pub fn from_env() -> Backend {
        match std::env::var("AGENTGATE_E2E_STORAGE").as_deref() {
            Ok("postgres") => Backend::Postgres,
            Ok("d1") | Err(_) => Backend::D1,
            Ok(other) => panic!("AGENTGATE_E2E_STORAGE={other}: expected d1 or postgres"),
        }
    }

    /// The `STORAGE` value the worker gets.
    pub fn var(self) -> &'static str {
        match self {
            Backend::D1 => "d1",
            Backend::Postgres => "postgres",
        }
    }
}

/// One gateway's PostgreSQL: its cluster, its own database, the proxy the
/// worker reaches it through.
pub struct PgBackend {
    pub cluster: Arc<PgCluster>,
    pub database: String,
    pub proxy: NeverRefuseProxy,
    /// The worker role's URL through the proxy (what Hyperdrive connects to).
    pub url: String,
    /// The same without the proxy (benchmarks: no extra hop, but a stopped
    /// server would end `wrangler dev`).
    pub direct_url: String,
}

impl PgBackend {
    /// A fresh database on `cluster` (or on this process's shared cluster).
    pub async fn prepare(cluster: Option<Arc<PgCluster>>) -> PgBackend {
        let cluster = match cluster {
            Some(cluster) => cluster,
            None => shared_cluster().await,
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "gw_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let direct = cluster.create_database(&database).await;
        let proxy = NeverRefuseProxy::start(cluster.port).await;
        let url = proxy.url(&direct, cluster.port);
        PgBackend {
            cluster,
            database,
            proxy,
            url,
            direct_url: direct,
        }
    }

    /// Runs `sql` as the superuser (past RLS) on this gateway's database;
    /// each row as a JSON object (for INSERT/UPDATE/DELETE, the rows it
    /// wrote).
    pub async fn query(&self, sql: &str) -> Vec<serde_json::Value> {
        let su = self.cluster.superuser_on(&self.database).await;
        // A data-modifying statement answers with its rows through RETURNING.
        let modifies = ["insert", "update", "delete"]
            .iter()
            .any(|verb| sql.trim_start().to_ascii_lowercase().starts_with(verb));
        let wrapped = if modifies {
            format!("WITH t AS ({sql} RETURNING *) SELECT coalesce(json_agg(t), '[]')::text FROM t")
        } else {
            format!("SELECT coalesce(json_agg(t), '[]')::text FROM ({sql}) t")
        };
        let row = su
            .query_one(&wrapped, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let text: String = row.get(0);
        serde_json::from_str::<Vec<serde_json::Value>>(&text).expect("json_agg output")
    }
}

/// This test process's cluster, started on first use.
async fn shared_cluster() -> Arc<PgCluster> {
    static CLUSTER: OnceLock<Arc<PgCluster>> = OnceLock::new();
    static STARTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = STARTING.lock().await;
    if let Some(cluster) = CLUSTER.get() {
        return cluster.clone();
    }
    let cluster = tokio::task::spawn_blocking(|| Arc::new(PgCluster::start()))
        .await
        .expect("cluster start task");
    CLUSTER.get_or_init(|| cluster).clone()
}
