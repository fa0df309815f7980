//! Starting and stopping `wrangler dev`.

use crate::backend::{Backend, PgBackend, HYPERDRIVE_LOCAL_URL_VAR};
use crate::pg::PgCluster;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The repository root (the workspace holding this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Which of `scripts/build.sh`'s two modules a gateway runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `worker/build-dev/` (cargo feature `dev`: the `/__dev/*` routes and
    /// other test hooks). The harness default.
    Dev,
    /// `worker/build/`: the production module, what `wrangler deploy` ships.
    Production,
}

impl Build {
    /// `AGENTGATE_BUILD` for `scripts/build.sh`.
    fn name(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Production => "production",
        }
    }

    /// The module's directory, relative to the repository root.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Dev => "worker/build-dev",
            Self::Production => "worker/build",
        }
    }
}

/// Builds the worker once per test binary and build, unless the caller
/// already did (`AGENTGATE_SKIP_BUILD=1`, as scripts/test.sh sets after
/// building).
fn ensure_built(build: Build) {
    static DEV: OnceLock<()> = OnceLock::new();
    static PRODUCTION: OnceLock<()> = OnceLock::new();
    let once = match build {
        Build::Dev => &DEV,
        Build::Production => &PRODUCTION,
    };
    once.get_or_init(|| {
        let root = repo_root();
        let skip = std::env::var("AGENTGATE_SKIP_BUILD").as_deref() == Ok("1")
            && root.join(build.dir()).join("index.js").exists();
        if !skip {
            let status = Command::new("bash")
                .arg("scripts/build.sh")
                .env("AGENTGATE_BUILD", build.name())
                .current_dir(&root)
                .status()
                .expect("run scripts/build.sh");
            assert!(status.success(), "scripts/build.sh failed");
        }
    });
}

/// A free TCP port on 127.0.0.1 (bound, then released for the child).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Configures a gateway before it starts.
pub struct GatewayBuilder {
    vars: BTreeMap<String, String>,
    /// A wrangler config other than the repository's (e.g. a benchmark's
    /// baseline worker); such a worker gets no build and no migrations.
    config: Option<PathBuf>,
    /// The storage back end (default: `AGENTGATE_E2E_STORAGE`, see
    /// `backend.rs`), and for PostgreSQL the cluster if not the shared one.
    backend: Backend,
    cluster: Option<Arc<PgCluster>>,
    pg_without_proxy: bool,
    build: Build,
    /// A module directory to run instead of `build`'s (the cold-start
    /// benchmark's baseline, e.g. an older build).
    module_dir: Option<PathBuf>,
}

impl Default for GatewayBuilder {
    fn default() -> Self {
        let mut vars = BTreeMap::new();
        vars.insert("ENVIRONMENT".into(), "development".into());
        vars.insert("SERVER_ID".into(), crate::TEST_SERVER_ID.into());
        vars.insert("ALLOWED_ORIGINS".into(), crate::ALLOWED_ORIGIN.into());
        Self {
            vars,
            config: None,
            backend: Backend::from_env(),
            cluster: None,
            pg_without_proxy: false,
            build: Build::Dev,
            module_dir: None,
        }
    }
}

impl GatewayBuilder {
    /// Sets a variable (a `[vars]` value or a secret: both reach the worker
    /// the same way).
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Removes a variable the harness would set by default.
    pub fn unset(mut self, name: &str) -> Self {
        self.vars.remove(name);
        self
    }

    /// Runs the worker described by another wrangler config instead.
    pub fn config(mut self, path: PathBuf) -> Self {
        self.config = Some(path);
        self
    }

    /// Runs the production module (`worker/build/`, no development hooks)
    /// instead of the development build the harness uses by default.
    pub fn production_build(mut self) -> Self {
        self.build = Build::Production;
        self
    }

    /// Runs the module in `dir` (holding `index.js` and its wasm) with the
    /// repository's config; nothing is built for it.
    pub fn module_dir(mut self, dir: PathBuf) -> Self {
        self.module_dir = Some(dir);
        self
    }

    /// Runs on this storage back end instead of the harness default.
    pub fn storage(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Runs on PostgreSQL in `cluster` (a fresh database in it), e.g. one the
    /// test stops and restarts.
    pub fn postgres_on(mut self, cluster: Arc<PgCluster>) -> Self {
        self.backend = Backend::Postgres;
        self.cluster = Some(cluster);
        self
    }

    /// On PostgreSQL, connects straight to the cluster instead of through
    /// the NeverRefuseProxy (benchmarks only: the server must stay up).
    pub fn pg_without_proxy(mut self) -> Self {
        self.pg_without_proxy = true;
        self
    }

    /// Starts `wrangler dev` with fresh state and waits until it answers.
    pub async fn start(mut self) -> Gateway {
        let pg = match self.backend {
            Backend::Postgres if self.config.is_none() => {
                Some(PgBackend::prepare(self.cluster.take()).await)
            }
            _ => None,
        };
        self.vars
            .entry("STORAGE".into())
            .or_insert_with(|| self.backend.var().into());
        let without_proxy = self.pg_without_proxy;
        let build = self.build;
        let module_dir = self.module_dir.take();
        let hyperdrive_url = pg.as_ref().map(|pg| {
            if without_proxy {
                pg.direct_url.clone()
            } else {
                pg.url.clone()
            }
        });
        let mut gateway = tokio::task::spawn_blocking(move || {
            Gateway::start_blocking(self.vars, self.config, build, module_dir, hyperdrive_url)
        })
        .await
        .expect("gateway start task");
        gateway.pg = pg;
        gateway
    }
}

/// A running worker under `wrangler dev`.
pub struct Gateway {
    pub base_url: String,
    pub port: u16,
    state: tempfile::TempDir,
    child: Child,
    pgid: u32,
    /// The gateway's PostgreSQL, when it runs on it (dropped after the
    /// process is killed).
    pg: Option<PgBackend>,
    /// From spawning `wrangler dev` to its first answered request (the
    /// cold-start benchmark's figure).
    pub started_in: Duration,
}

impl Gateway {
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    /// A gateway with the harness defaults.
    pub async fn start() -> Gateway {
        Self::builder().start().await
    }

    fn start_blocking(
        vars: BTreeMap<String, String>,
        config: Option<PathBuf>,
        build: Build,
        module_dir: Option<PathBuf>,
        hyperdrive_url: Option<String>,
    ) -> Gateway {
        if config.is_none() && module_dir.is_none() {
            ensure_built(build);
        }
        // The repository's config runs the chosen module (wrangler.toml's
        // `main` is the production one); another config names its own.
        let module = match (&config, module_dir) {
            (Some(_), _) => None,
            (None, Some(dir)) => Some(dir.join("index.js")),
            (None, None) => Some(PathBuf::from(build.dir()).join("index.js")),
        };
        let root = repo_root();
        let state = tempfile::Builder::new()
            .prefix("agentgate-e2e-")
            .tempdir()
            .expect("temp state dir");
        let env_file = state.path().join("test.env");
        let mut f = std::fs::File::create(&env_file).expect("env file");
        for (k, v) in &vars {
            assert!(!v.contains('\n'), "{k} must be one line");
            writeln!(f, "{k}={}", shell_quote_env(v)).expect("write env file");
        }
        drop(f);
        let persist = state.path().join("state");
        let wrangler = root.join("node_modules/.bin/wrangler");
        assert!(
            wrangler.exists(),
            "wrangler is not installed: run `npm test` (scripts/test.sh) once"
        );

        // Fresh D1 with the migrations applied.
        if config.is_none() {
            apply_migrations(&wrangler, &root, &persist);
        }

        // A port found free can be taken by another test's workerd before
        // this wrangler binds it; wrangler then exits with "Address already
        // in use", and the start is retried on other ports.
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let inspector = free_port();
            let log_path = state.path().join("wrangler.log");
            let log = std::fs::File::create(&log_path).expect("log file");
            // The group's leader waits on its stdin (held by this process): when
            // the test process ends for any reason, stdin closes and the EXIT trap
            // kills the whole group, so no workerd outlives its test.
            let script = r#"trap 'kill -KILL -- -$$ 2>/dev/null' EXIT
"$@" </dev/null &
cat >/dev/null
"#;
            let mut cmd = Command::new("bash");
            cmd.arg("-c")
                .arg(script)
                .arg("agentgate-e2e")
                .arg(&wrangler)
                .arg("dev")
                .args(module.iter())
                .args(["--ip", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .arg("--inspector-port")
                .arg(inspector.to_string())
                .arg("--persist-to")
                .arg(&persist)
                .arg("--env-file")
                .arg(&env_file)
                .args(
                    config
                        .iter()
                        .flat_map(|c| [std::ffi::OsStr::new("--config"), c.as_os_str()]),
                )
                .args([
                    "--show-interactive-dev-session=false",
                    // `log`, not `info`: console.log lines (audit rows) are
                    // below `info` in wrangler's ordering.
                    "--log-level",
                    "log",
                ])
                .current_dir(&root)
                .envs(quiet_env())
                .env("AGENTGATE_SKIP_BUILD", "1")
                .env("AGENTGATE_BUILD", build.name())
                .envs(
                    hyperdrive_url
                        .clone()
                        .map(|url| (HYPERDRIVE_LOCAL_URL_VAR, url)),
                )
                .stdin(Stdio::piped())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .process_group(0);
            let spawned = Instant::now();
            let mut child = cmd.spawn().expect("spawn wrangler dev");
            let pgid = child.id();
            match wait_ready(&mut child, port, &log_path) {
                Ok(()) => {
                    return Gateway {
                        started_in: spawned.elapsed(),
                        base_url: format!("http://127.0.0.1:{port}"),
                        port,
                        state,
                        child,
                        pgid,
                        pg: None,
                    }
                }
                Err(log) => {
                    kill_group(pgid);
                    let _ = child.wait();
                    if !log.contains("Address already in use") {
                        panic!("wrangler dev did not start: {log}");
                    }
                }
            }
        }
        panic!("wrangler dev found no free port in {PORT_ATTEMPTS} attempts");
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// `ws://…` URL for `path`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    /// The worker's log so far (wrangler's output, including `console` lines).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("wrangler.log")).unwrap_or_default()
    }

    /// Waits (up to 10 s) until the log contains `needle`: wrangler writes
    /// `console` lines a moment after the response that caused them.
    pub async fn log_eventually_contains(&self, needle: &str) -> bool {
        for _ in 0..50 {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }

    /// The storage back end this gateway runs on.
    pub fn backend(&self) -> Backend {
        if self.pg.is_some() {
            Backend::Postgres
        } else {
            Backend::D1
        }
    }

    /// Runs SQL (written to work on both SQLite and PostgreSQL) against this
    /// gateway's store, past any row-level security, as an operator would:
    /// D1 through wrangler, PostgreSQL as the cluster's superuser. Each row
    /// as a JSON object.
    pub async fn query(&self, sql: &str) -> Vec<serde_json::Value> {
        match &self.pg {
            Some(pg) => pg.query(sql).await,
            None => self.d1_query(sql),
        }
    }

    /// Runs SQL against this gateway's local D1 (as an operator would, through
    /// wrangler) and returns the result rows.
    pub fn d1_query(&self, sql: &str) -> Vec<serde_json::Value> {
        let root = repo_root();
        let out = Command::new(root.join("node_modules/.bin/wrangler"))
            .args(["d1", "execute", "DB", "--local", "--json", "--persist-to"])
            .arg(self.state.path().join("state"))
            .arg("--command")
            .arg(sql)
            .current_dir(&root)
            .envs(quiet_env())
            .stdin(Stdio::null())
            .output()
            .expect("run wrangler d1 execute");
        assert!(
            out.status.success(),
            "d1 execute failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("d1 execute --json output");
        parsed[0]["results"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        kill_group(self.pgid);
        let _ = self.child.wait();
    }
}

/// Kills a wrangler's whole process group (wrangler, workerd, the builder).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// How many ports a gateway start tries (see `start_blocking`).
const PORT_ATTEMPTS: usize = 3;

/// Waits until this wrangler says it is ready on `port` and answers there
/// (an answer alone could come from another process holding the port).
/// `Err` carries the tail of its log.
fn wait_ready(child: &mut Child, port: u16, log_path: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let url = format!("http://127.0.0.1:{port}/api/server/ping");
    let ready_line = format!("Ready on http://127.0.0.1:{port}");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited early ({status}):\n{}", tail(log_path)));
        }
        let ready = std::fs::read_to_string(log_path).is_ok_and(|l| l.contains(&ready_line));
        // Any HTTP answer means workerd is serving our script (a
        // deliberately misconfigured gateway answers 503).
        if ready && ureq_get(&url).is_ok_and(|status| status > 0) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no answer within 90 s:\n{}", tail(log_path)));
        }
        // Short: the cold-start benchmark reads this wait's length.
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn apply_migrations(wrangler: &Path, root: &Path, persist: &Path) {
    let out = Command::new(wrangler)
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(persist)
        .current_dir(root)
        .envs(quiet_env())
        .stdin(Stdio::null())
        .output()
        .expect("run wrangler d1 migrations apply");
    assert!(
        out.status.success(),
        "migrations failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn quiet_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("WRANGLER_SEND_METRICS", "false"),
        ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
        ("NO_UPDATE_NOTIFIER", "1"),
        ("CI", "true"),
    ]
}

/// dotenv values: quote so `#`, spaces and `=` survive.
fn shell_quote_env(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:/,@".contains(c))
    {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\'', ""))
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A minimal blocking GET used only for the readiness probe; returns the
/// status code.
fn ureq_get(url: &str) -> std::io::Result<u16> {
    use std::io::{Read, Write as _};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = [0u8; 32];
    let n = stream.read(&mut buf)?;
    let head = String::from_utf8_lossy(&buf[..n]);
    Ok(head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}
