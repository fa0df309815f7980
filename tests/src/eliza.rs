//! A real ElizaOS 1.7 server on loopback (`@elizaos/server` 1.7.2 with its
//! embedded PGLite, `tests/eliza/origin.mjs`), the origin the gateway stands
//! in front of. Its agents answer through a deterministic model plugin
//! (`tests/eliza/model.mjs`): the reply to a message is [`reply_to`] its text.
//!
//! Every [`ElizaOrigin`] is its own `node` process group with a fresh data
//! directory, started like `wrangler dev` in `process.rs` (a group leader that
//! kills the group when the test process goes away) and stopped when the
//! handle drops: SIGTERM (the server shuts down cleanly), then SIGKILL.
//!
//! Also here: [`api_client_conformance`], which runs the official
//! `@elizaos/api-client` through every call it offers against a base URL
//! (`tests/eliza/conformance.mjs`).

use crate::process::{free_port, repo_root};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The message server every ElizaOS server creates (and the api-client's
/// default `message_server_id`).
pub const DEFAULT_MESSAGE_SERVER_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The deterministic model's reply to a user message `text` (see model.mjs).
pub fn reply_to(text: &str) -> String {
    format!("echo: {text}").trim().to_owned()
}

/// How long an origin may take to answer `ELIZA_READY` (~5 s when idle).
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// Configures an origin before it starts.
#[derive(Default)]
pub struct ElizaOriginBuilder {
    auth_token: Option<String>,
    env: BTreeMap<String, String>,
}

impl ElizaOriginBuilder {
    /// Closes the origin with its own API key (`ELIZA_SERVER_AUTH_TOKEN`):
    /// every `/api` request then needs `X-API-KEY` equal to it.
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.auth_token = Some(token.into());
        self
    }

    /// Sets another environment variable of the server process (e.g.
    /// `LOG_LEVEL=debug`).
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Starts the server with a fresh data directory and waits until it
    /// listens.
    pub async fn start(self) -> ElizaOrigin {
        tokio::task::spawn_blocking(move || ElizaOrigin::start_blocking(self))
            .await
            .expect("ElizaOS origin start task")
    }
}

/// A running ElizaOS server.
pub struct ElizaOrigin {
    base_url: String,
    port: u16,
    auth_token: Option<String>,
    /// How long it took from spawning `node` to `ELIZA_READY`.
    pub startup: Duration,
    dir: tempfile::TempDir,
    child: Child,
    pgid: u32,
}

impl ElizaOrigin {
    pub fn builder() -> ElizaOriginBuilder {
        ElizaOriginBuilder::default()
    }

    /// An origin with no API key of its own.
    pub async fn start() -> ElizaOrigin {
        Self::builder().start().await
    }

    fn start_blocking(config: ElizaOriginBuilder) -> ElizaOrigin {
        let root = repo_root();
        assert!(
            root.join("node_modules/@elizaos/server/package.json")
                .exists(),
            "@elizaos/server is not installed: run `npm test` (scripts/test.sh) or `npm ci` once"
        );
        let dir = tempfile::Builder::new()
            .prefix("agentgate-eliza-")
            .tempdir()
            .expect("temp dir for the ElizaOS origin");
        let log_path = dir.path().join("origin.log");
        let log = std::fs::File::create(&log_path).expect("origin log file");
        // The origin moves on to the next port by itself if this one is taken
        // meanwhile; `ELIZA_READY` names the one it listens on.
        let port = free_port();
        // As for wrangler (process.rs): the group's leader waits on its stdin
        // (held by this process); when the test process ends for any reason,
        // stdin closes and the EXIT trap kills the whole group. A SIGTERM to
        // the group reaches node too, which shuts the server down.
        let script = r#"trap 'kill -KILL -- -$$ 2>/dev/null' EXIT
"$@" </dev/null &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit' TERM
cat >/dev/null
"#;
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .arg("agentgate-eliza")
            .arg("node")
            .arg(root.join("tests/eliza/origin.mjs"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .current_dir(&root)
            // Never the key of the environment the tests run in.
            .env_remove("ELIZA_SERVER_AUTH_TOKEN")
            .envs(&config.env)
            .envs(
                config
                    .auth_token
                    .iter()
                    .map(|t| ("ELIZA_SERVER_AUTH_TOKEN", t.as_str())),
            )
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0);
        let started = Instant::now();
        let mut child = cmd.spawn().expect("spawn node tests/eliza/origin.mjs");
        let pgid = child.id();
        match wait_ready(&mut child, &log_path) {
            Ok(port) => ElizaOrigin {
                base_url: format!("http://127.0.0.1:{port}"),
                port,
                auth_token: config.auth_token,
                startup: started.elapsed(),
                dir,
                child,
                pgid,
            },
            Err(log) => {
                signal_group(pgid, "KILL");
                let _ = child.wait();
                panic!("the ElizaOS origin did not start: {log}");
            }
        }
    }

    /// The base URL, `http://127.0.0.1:PORT` (what `AGENT_ORIGIN_URL` takes).
    pub fn url(&self) -> &str {
        &self.base_url
    }

    /// `url()` + `path`.
    pub fn url_for(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its own API key, when it has one.
    pub fn auth_token(&self) -> Option<&str> {
        self.auth_token.as_deref()
    }

    /// The server's data directory (PGLite, uploads, its `.env`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("origin.log")).unwrap_or_default()
    }

    /// A request to `path` at the origin, with its API key when it has one.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = crate::http::client().request(method, self.url_for(path));
        match &self.auth_token {
            Some(key) => request.header("X-API-KEY", key),
            None => request,
        }
    }
}

impl Drop for ElizaOrigin {
    fn drop(&mut self) {
        // SIGTERM first (the server closes PGLite and exits), SIGKILL after
        // a grace period or if it is still there.
        signal_group(self.pgid, "TERM");
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_group(self.pgid, "KILL");
        let _ = self.child.wait();
    }
}

/// Sends `signal` to a whole process group. (process.rs has the same for
/// wrangler, `kill_group`, private to it.)
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Waits for the `ELIZA_READY <port>` line; `Err` carries the log's tail.
fn wait_ready(child: &mut Child, log_path: &Path) -> Result<u16, String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        if let Some(port) = log
            .lines()
            .find_map(|l| l.strip_prefix("ELIZA_READY "))
            .and_then(|p| p.trim().parse().ok())
        {
            return Ok(port);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited early ({status}):\n{}", tail(&log)));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no ELIZA_READY within {READY_TIMEOUT:?}:\n{}",
                tail(&log)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// One run of the api-client conformance script.
#[derive(Debug, Clone)]
pub struct Conformance {
    /// How many calls succeeded.
    pub ok: usize,
    /// How many calls were counted (every method the client offers).
    pub total: usize,
    /// Per call: `{service, method, httpMethod, path, ok, status, errorCode,
    /// error, ms, requests}`.
    pub records: Vec<Value>,
    /// The script's table (stderr) and count line.
    pub output: String,
}

impl Conformance {
    /// The outcome of `service.method`.
    pub fn record(&self, call: &str) -> Option<&Value> {
        self.records.iter().find(|r| {
            format!(
                "{}.{}",
                r["service"].as_str().unwrap_or(""),
                r["method"].as_str().unwrap_or("")
            ) == call
        })
    }

    /// One line per call: `service.method  METHOD /path  ok | FAIL status code`.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for r in &self.records {
            let call = format!(
                "{}.{}",
                r["service"].as_str().unwrap_or("?"),
                r["method"].as_str().unwrap_or("?")
            );
            let route = match (r["httpMethod"].as_str(), r["path"].as_str()) {
                (Some(m), Some(p)) => format!("{m} {p}"),
                _ => "(no request)".to_owned(),
            };
            let outcome = if r["ok"].as_bool() == Some(true) {
                "ok".to_owned()
            } else {
                format!(
                    "FAIL {} {} {}",
                    r["status"],
                    r["errorCode"].as_str().unwrap_or(""),
                    r["error"].as_str().unwrap_or("")
                )
            };
            out.push_str(&format!("{call:<42} {route:<72} {outcome}\n"));
        }
        out.push_str(&format!("{} ok of {}\n", self.ok, self.total));
        out
    }
}

/// Runs `tests/eliza/conformance.mjs` against `base_url` (with `api_key` as
/// the client's `apiKey`, sent as `X-API-KEY`), skipping the calls named in
/// `skip` (`service.method`).
pub async fn api_client_conformance(
    base_url: &str,
    api_key: Option<&str>,
    skip: &[&str],
) -> Conformance {
    let root = repo_root();
    let out_dir = tempfile::tempdir().expect("temp dir");
    let out_file = out_dir.path().join("conformance.json");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(root.join("tests/eliza/conformance.mjs"))
        .arg("--base-url")
        .arg(base_url)
        .arg("--out")
        .arg(&out_file)
        .current_dir(&root)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(key) = api_key {
        cmd.arg("--api-key").arg(key);
    }
    if !skip.is_empty() {
        cmd.arg("--skip").arg(skip.join(","));
    }
    let output = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("conformance.mjs finished within 5 minutes")
        .expect("run node tests/eliza/conformance.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "conformance.mjs failed ({}):\n{stderr}",
        output.status
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(&out_file).expect("conformance.mjs wrote --out"),
    )
    .expect("conformance JSON");
    let records = summary["records"].as_array().cloned().unwrap_or_default();
    let ok = records
        .iter()
        .filter(|r| r["ok"].as_bool() == Some(true))
        .count();
    let count_line = stdout.lines().last().unwrap_or_default().to_owned();
    assert_eq!(
        count_line,
        format!("{ok} ok of {}", records.len()),
        "the script's count line"
    );
    Conformance {
        ok,
        total: records.len(),
        records,
        output: format!("{stderr}{count_line}\n"),
    }
}
