//! A throwaway PostgreSQL cluster per test (`scripts/pg.sh`): its own temp
//! dir, a free loopback port, the `agentgate` database with
//! `migrations/postgres/*.sql` applied, and the two roles the gateway uses.
//!
//! [`PgCluster`] stops the server when dropped (also while a failing test
//! unwinds). The server is a daemon outside the test's process group, so a
//! watchdog process also stops it if the test process dies without unwinding:
//! it waits on a pipe from this process and runs `pg.sh stop` when it closes.
//!
//! [`NeverRefuseProxy`] is for tests that stop PostgreSQL under a running
//! `wrangler dev`: wrangler 4.86's local Hyperdrive proxy (miniflare) has no
//! error handler on its socket to the database, so one refused or reset
//! connection (ECONNREFUSED/ECONNRESET) takes the whole `wrangler dev` down.
//! Point `CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE` at the
//! proxy instead: while the server is down it accepts and closes gracefully,
//! so the worker sees a failed connection (503) and wrangler survives.

use crate::process::repo_root;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tokio_postgres::{Client, NoTls};

/// A running throwaway cluster.
pub struct PgCluster {
    /// `postgres://agentgate_app:…@127.0.0.1:PORT/agentgate`: the worker's role.
    pub app_url: String,
    /// `postgres://agentgate_owner:…@127.0.0.1:PORT/agentgate`: the owner.
    pub owner_url: String,
    pub port: u16,
    socket_dir: PathBuf,
    watchdog: Option<Child>,
    // Dropped last, after the server has stopped.
    dir: tempfile::TempDir,
}

impl PgCluster {
    /// Starts a fresh cluster (installing PostgreSQL first if it is missing).
    pub fn start() -> PgCluster {
        let dir = tempfile::Builder::new()
            .prefix("agentgate-pg-")
            .tempdir()
            .expect("temp dir for the cluster");
        // Armed before the server exists: whatever happens next, it goes.
        let watchdog = Command::new("bash")
            .arg("-c")
            .arg(r#"cat >/dev/null; exec bash "$0" stop "$1" >/dev/null 2>&1"#)
            .arg(repo_root().join("scripts/pg.sh"))
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn the cluster watchdog");
        let vars = pg_sh("start", dir.path());
        let get = |k: &str| {
            vars.get(k)
                .unwrap_or_else(|| panic!("pg.sh start printed no {k}"))
                .clone()
        };
        PgCluster {
            app_url: get("PG_URL"),
            owner_url: get("PG_OWNER_URL"),
            port: get("PG_PORT").parse().expect("PG_PORT"),
            socket_dir: PathBuf::from(get("PG_SOCKET_DIR")),
            watchdog: Some(watchdog),
            dir,
        }
    }

    /// Stops the server (fast shutdown); [`PgCluster::restart`] brings it
    /// back on the same port with the same data and URLs.
    pub fn stop(&self) {
        pg_sh("stop", self.dir.path());
    }

    pub fn restart(&self) {
        pg_sh("start", self.dir.path());
    }

    /// Connects as the worker's role (`agentgate_app`).
    pub async fn app(&self) -> Client {
        connect(&self.app_url).await
    }

    /// Connects as the owner of the schema (subject to RLS too: FORCE).
    pub async fn owner(&self) -> Client {
        connect(&self.owner_url).await
    }

    /// Connects as the bootstrap superuser over the cluster's unix socket
    /// (bypasses RLS: for seeding and for checking what really changed).
    pub async fn superuser(&self) -> Client {
        self.superuser_on("agentgate").await
    }

    /// [`PgCluster::superuser`] on another database of the cluster.
    pub async fn superuser_on(&self, database: &str) -> Client {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.socket_dir)
            .port(self.port)
            .user("postgres")
            .dbname(database);
        let (client, connection) = config.connect(NoTls).await.expect("connect as superuser");
        tokio::spawn(connection);
        client
    }

    /// A fresh database `name`, a copy of the migrated `agentgate` one
    /// (schema, policies, grants): one gateway's own state in a shared
    /// cluster. Returns the worker role's URL for it.
    pub async fn create_database(&self, name: &str) -> String {
        // Copies from one template must not overlap (the template may have
        // no other session while it is copied).
        static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one_at_a_time = CREATING.lock().await;
        let su = self.superuser_on("postgres").await;
        su.batch_execute(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE agentgate OWNER agentgate_owner"
        ))
        .await
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        self.app_url.replace(
            &format!(":{}/agentgate", self.port),
            &format!(":{}/{name}", self.port),
        )
    }

    /// The cluster's directory (data, socket, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo_root().join("scripts/pg.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut watchdog) = self.watchdog.take() {
            // Closing its stdin lets it run its (now idempotent) stop and exit.
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
    }
}

/// Connects with a URL; the connection task runs on the test's runtime.
pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", redact(url)));
    tokio::spawn(connection);
    client
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(a), Some(b)) if a < b => {
            let user_end = url[a + 3..b].find(':').map_or(b, |c| a + 3 + c);
            format!("{}:***{}", &url[..user_end], &url[b..])
        }
        _ => url.to_owned(),
    }
}

/// Runs `scripts/pg.sh <cmd> <dir>`; returns the `KEY=value` lines it printed.
fn pg_sh(cmd: &str, dir: &Path) -> BTreeMap<String, String> {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/pg.sh"))
        .arg(cmd)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/pg.sh");
    assert!(
        out.status.success(),
        "scripts/pg.sh {cmd} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A loopback TCP proxy to the cluster that never refuses a connection and
/// never resets one: when PostgreSQL is down it accepts, reads the client's
/// first packet and closes with FIN. Declare it before the `Gateway` that
/// uses it, so the gateway is dropped (killed) first.
pub struct NeverRefuseProxy {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl NeverRefuseProxy {
    pub async fn start(target_port: u16) -> NeverRefuseProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(proxy_one(client, target_port));
            }
        });
        NeverRefuseProxy { port, task }
    }

    /// `url` (one of the cluster's) with its port replaced by the proxy's.
    pub fn url(&self, url: &str, cluster_port: u16) -> String {
        url.replace(
            &format!("@127.0.0.1:{cluster_port}/"),
            &format!("@127.0.0.1:{}/", self.port),
        )
    }
}

impl Drop for NeverRefuseProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy_one(client: tokio::net::TcpStream, target_port: u16) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::{timeout, Duration};
    let (mut client_r, mut client_w) = client.into_split();
    let Ok(upstream) = tokio::net::TcpStream::connect(("127.0.0.1", target_port)).await else {
        // Down: take what the client sent (closing with unread data would
        // reset), then FIN.
        let mut buf = [0u8; 1024];
        let _ = timeout(Duration::from_secs(1), client_r.read(&mut buf)).await;
        let _ = client_w.shutdown().await;
        let _ = timeout(Duration::from_secs(5), drain(&mut client_r)).await;
        return;
    };
    let (mut up_r, mut up_w) = upstream.into_split();
    let down = async {
        let _ = tokio::io::copy(&mut up_r, &mut client_w).await;
        let _ = client_w.shutdown().await;
    };
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut upstream_open = true;
        loop {
            match client_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) if upstream_open => {
                    upstream_open = up_w.write_all(&buf[..n]).await.is_ok();
                }
                // Upstream gone: keep reading (and dropping) until the
                // client closes, so nothing is reset.
                Ok(_) => {}
            }
        }
        let _ = up_w.shutdown().await;
    };
    tokio::join!(down, up);
}

async fn drain(r: &mut tokio::net::tcp::OwnedReadHalf) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    while matches!(r.read(&mut buf).await, Ok(n) if n > 0) {}
}
