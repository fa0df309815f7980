//! A test identity provider on loopback: serves a JWKS (and the cloud
//! issuer's JWKS and revocation list) that a test can change at run time, and
//! counts how often each document is fetched.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Default)]
struct State {
    documents: HashMap<String, Value>,
    fetches: HashMap<String, usize>,
    down: bool,
}

/// The running provider. Dropping it stops the server task.
pub struct TestIdp {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestIdp {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind idp");
        let addr = listener.local_addr().expect("idp addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    break;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut read = 0;
                    // Read the request head.
                    loop {
                        let Ok(n) = stream.read(&mut buf[read..]).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        read += n;
                        if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") || read == buf.len() {
                            break;
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..read]).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let (status, body) = {
                        let mut s = state.lock().expect("idp state");
                        *s.fetches.entry(path.clone()).or_default() += 1;
                        if s.down {
                            (503, "{\"error\":\"down\"}".to_owned())
                        } else {
                            match s.documents.get(&path) {
                                Some(doc) => (200, doc.to_string()),
                                None => (404, "{\"error\":\"not found\"}".to_owned()),
                            }
                        }
                    };
                    let resp = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(resp.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            base_url: format!("http://127.0.0.1:{}", addr.port()),
            state,
            task,
        }
    }

    /// Serves `doc` at `path`.
    pub fn serve(&self, path: &str, doc: Value) {
        self.state
            .lock()
            .expect("idp state")
            .documents
            .insert(path.into(), doc);
    }

    /// Publishes these keys' public JWKs at `path`.
    pub fn publish_keys(&self, path: &str, keys: &[&crate::keys::TestKey]) {
        let keys: Vec<Value> = keys.iter().map(|k| k.public_jwk()).collect();
        self.serve(path, json!({ "keys": keys }));
    }

    /// While down, every document answers 503.
    pub fn set_down(&self, down: bool) {
        self.state.lock().expect("idp state").down = down;
    }

    /// How many times `path` was requested.
    pub fn fetches(&self, path: &str) -> usize {
        self.state
            .lock()
            .expect("idp state")
            .fetches
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}
