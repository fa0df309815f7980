//! A test agent origin on loopback (the ElizaOS server behind the gateway):
//! it records every request it receives, answers with a small JSON echo or a
//! large streamed body, can be made slow, and verifies the gateway's identity
//! assertion against the gateway's `/.well-known/jwks.json` as a real origin
//! would.

use agentgate_shared::jwt::{verify_token, Algorithm, JwkSet, RustCryptoVerifier, Validation};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request as the origin received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, as on the request line.
    pub target: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request had been read.
    pub at: std::time::Instant,
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether any header starts with `prefix` (lowercase).
    pub fn has_header_prefixed(&self, prefix: &str) -> bool {
        self.headers.iter().any(|(n, _)| n.starts_with(prefix))
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    delay: Option<Duration>,
    /// When set, every answer is a chunked body of this many bytes.
    body_size: Option<usize>,
    /// Scripted answers, taken in order by the first request whose
    /// `METHOD target` starts with the key (before the echo applies).
    scripted: Vec<(String, Scripted)>,
    /// When set, the origin answers each message handed to it by posting a
    /// reply to the message's channel through the gateway, as the agent.
    replies: Option<ReplyAs>,
}

/// How the origin's agent replies: the gateway's base URL and the agent's
/// machine token there.
#[derive(Clone)]
struct ReplyAs {
    gateway: String,
    token: String,
}

/// The text of the agent's reply to `text`.
pub fn reply_text(text: &str) -> String {
    format!("agent reply to: {text}")
}

/// One scripted answer: a status and a JSON body.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: Value,
}

/// The running origin. Dropping it stops the server.
pub struct TestOrigin {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestOrigin {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind origin");
        let addr = listener.local_addr().expect("origin addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, shared.clone()));
            }
        });
        Self {
            base_url: format!("http://127.0.0.1:{}", addr.port()),
            state,
            task,
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("origin state").received.clone()
    }

    /// Requests received whose target starts with `prefix`.
    pub fn received_under(&self, prefix: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.target.starts_with(prefix))
            .collect()
    }

    /// Answers only after `delay` (None: at once).
    pub fn set_delay(&self, delay: Option<Duration>) {
        self.state.lock().expect("origin state").delay = delay;
    }

    /// Queues `answer` for the next request whose `METHOD target` starts with
    /// `prefix` (e.g. `"POST /api/agents"`); queued answers are used once each,
    /// in order.
    pub fn script(&self, prefix: &str, status: u16, body: Value) {
        self.state
            .lock()
            .expect("origin state")
            .scripted
            .push((prefix.to_owned(), Scripted { status, body }));
    }

    /// From now on, answers every message delivered to
    /// `POST /api/messaging/submit` (that it accepts with 2xx) by posting
    /// [`reply_text`] to the message's channel at `gateway` with the agent's
    /// machine `token`.
    pub fn reply_through(&self, gateway: &str, token: &str) {
        self.state.lock().expect("origin state").replies = Some(ReplyAs {
            gateway: gateway.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        });
    }

    /// Answers with a streamed body of `bytes` (None: the JSON echo).
    pub fn set_body_size(&self, bytes: Option<usize>) {
        self.state.lock().expect("origin state").body_size = bytes;
    }
}

impl Drop for TestOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves requests on one connection until the peer closes it (keep-alive).
async fn serve_connection(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(request) = read_request(&mut reader).await else {
            return;
        };
        let (delay, body_size, scripted, replies) = {
            let mut s = state.lock().expect("origin state");
            s.received.push(request.clone());
            let line = format!("{} {}", request.method, request.target);
            let scripted = s
                .scripted
                .iter()
                .position(|(prefix, _)| line.starts_with(prefix.as_str()))
                .map(|i| s.scripted.remove(i).1);
            (s.delay, s.body_size, scripted, s.replies.clone())
        };
        let accepted = scripted
            .as_ref()
            .is_none_or(|a| (200..300).contains(&a.status));
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let stream = reader.get_mut();
        let written = match (scripted, body_size) {
            (Some(answer), _) => write_json(stream, answer.status, &answer.body).await,
            (None, Some(size)) => write_streamed(stream, size).await,
            (None, None) => write_echo(stream, &request).await,
        };
        if written.is_err() {
            return;
        }
        if let Some(reply) = replies.filter(|_| {
            accepted && request.method == "POST" && request.target == "/api/messaging/submit"
        }) {
            tokio::spawn(post_reply(reply, request.body.clone()));
        }
    }
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).await.ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).await.ok()?;
    }
    Some(Received {
        method,
        target,
        headers,
        body,
        at: std::time::Instant::now(),
    })
}

async fn write_echo(stream: &mut TcpStream, request: &Received) -> std::io::Result<()> {
    let body = json!({
        "origin": "test",
        "method": request.method,
        "target": request.target,
        "bodyBytes": request.body.len(),
    });
    write_json(stream, 200, &body).await
}

async fn write_json(stream: &mut TcpStream, status: u16, body: &Value) -> std::io::Result<()> {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Origin: test-origin\r\nSet-Cookie: origin_session=leak; Path=/\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await
}

/// The agent's reply to one delivered message, posted through the gateway.
async fn post_reply(reply: ReplyAs, submitted: Vec<u8>) {
    let Ok(message) = serde_json::from_slice::<Value>(&submitted) else {
        return;
    };
    let (Some(channel), Some(text)) = (message["channelId"].as_str(), message["text"].as_str())
    else {
        return;
    };
    let _ = reqwest::Client::new()
        .post(format!(
            "{}/api/messaging/channels/{channel}/messages",
            reply.gateway
        ))
        .bearer_auth(&reply.token)
        .json(&json!({ "text": reply_text(text) }))
        .send()
        .await;
}

/// A chunked body of `size` bytes (`a`…`z` repeating), written 64 KiB at a time.
async fn write_streamed(stream: &mut TcpStream, size: usize) -> std::io::Result<()> {
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await?;
    let mut sent = 0;
    while sent < size {
        let n = (size - sent).min(64 * 1024);
        let chunk: Vec<u8> = (sent..sent + n).map(|i| b'a' + (i % 26) as u8).collect();
        stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
        stream.write_all(&chunk).await?;
        stream.write_all(b"\r\n").await?;
        sent += n;
    }
    stream.write_all(b"0\r\n\r\n").await
}

/// The bytes [`TestOrigin::set_body_size`] makes the origin send.
pub fn streamed_body(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Verifies an assertion as the origin does: EdDSA only, a key from the
/// gateway's published set, `aud` = this origin, no clock leeway, at `now`.
/// Returns the claims.
pub fn verify_assertion(
    token: &str,
    jwks: &Value,
    audience: &str,
    now: u64,
) -> Result<Value, String> {
    let set = JwkSet::parse(jwks.to_string().as_bytes()).map_err(|e| format!("jwks: {e:?}"))?;
    let policy = Validation::new(&[Algorithm::EdDsa])
        .with_leeway(0)
        .with_audience(Some(audience.to_owned()));
    verify_token(token, set.keys(), &policy, &RustCryptoVerifier, now)
        .map_err(|e| format!("assertion refused: {e:?}"))?;
    let payload = token.split('.').nth(1).ok_or("no payload")?;
    let bytes = agentgate_shared::jwt::b64url_decode(payload).ok_or("payload not base64url")?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
