//! The unmodified `socket.io-client` 4, driven from Rust: one `node` process
//! (`tests/eliza/socketio.mjs`) holds any number of client sockets; commands
//! go in on its stdin, every event the sockets see comes back as a JSON line.

use crate::process::repo_root;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

pub struct SioClients {
    _child: Child,
    stdin: ChildStdin,
    events: mpsc::UnboundedReceiver<Value>,
    /// Events received but not yet asked for.
    seen: Vec<Value>,
}

impl SioClients {
    pub async fn start() -> Self {
        let mut child = Command::new("node")
            .arg(repo_root().join("tests/eliza/socketio.mjs"))
            .current_dir(repo_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn node tests/eliza/socketio.mjs");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let mut me = Self {
            _child: child,
            stdin,
            events,
            seen: Vec::new(),
        };
        me.expect(Value::Null, "ready", Duration::from_secs(30))
            .await;
        me
    }

    async fn command(&mut self, cmd: Value) {
        let line = format!("{cmd}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Opens client `id` to `url` with this handshake `auth`.
    pub async fn connect(
        &mut self,
        id: &str,
        url: &str,
        auth: Value,
        transports: Option<&[&str]>,
        headers: &[(&str, &str)],
    ) {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        self.command(json!({
            "op": "connect", "id": id, "url": url, "auth": auth,
            "transports": transports, "headers": headers,
        }))
        .await;
    }

    pub async fn emit(&mut self, id: &str, event: &str, data: Value) {
        self.command(json!({"op": "emit", "id": id, "event": event, "data": data}))
            .await;
    }

    pub async fn close(&mut self, id: &str) {
        self.command(json!({"op": "close", "id": id})).await;
    }

    /// The next event `event` of client `id` (earlier unmatched events are
    /// kept for later calls); panics after `wait`, listing what came.
    pub async fn expect(&mut self, id: impl Into<Value>, event: &str, wait: Duration) -> Value {
        let id = id.into();
        let matches = |v: &Value| v["id"] == id && v["event"] == event;
        if let Some(i) = self.seen.iter().position(matches) {
            return self.seen.remove(i);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(v)) if matches(&v) => return v,
                Ok(Some(v)) => self.seen.push(v),
                Ok(None) => panic!("socketio.mjs exited; events so far: {:#?}", self.seen),
                Err(_) => panic!(
                    "no {event} for {id} within {wait:?}; events so far: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Whether `id` received `event` within `wait` (no panic).
    pub async fn maybe(&mut self, id: &str, event: &str, wait: Duration) -> Option<Value> {
        let matches = |v: &Value| v["id"] == id && v["event"] == event;
        if let Some(i) = self.seen.iter().position(matches) {
            return Some(self.seen.remove(i));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(v)) if matches(&v) => return Some(v),
                Ok(Some(v)) => self.seen.push(v),
                _ => return None,
            }
        }
    }
}
