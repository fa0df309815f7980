//! Forwarding an authorized request to the agent origin (SPEC §13): path,
//! query and body unchanged; the client's identity headers, credentials and
//! cookies stripped; the gateway's signed assertion added. The response body
//! streams back without being buffered, unless the handler asks to read it
//! (`forward_and_read`, bounded, e.g. to learn the id of a created agent).

use crate::auth::Caller;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::random;
use agentgate_durable_objects::origin_fetch::within_timeout;
use agentgate_shared::assertion::{AssertionClaims, ASSERTION_HEADER};
use agentgate_shared::http_policy::MAX_BODY_BYTES;
use agentgate_shared::origin::{
    audience, forwards_request_header, origin_headers, origin_url, returns_response_header,
};
use agentgate_shared::ErrorCode;
use futures::StreamExt;
use worker::{
    AbortController, Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody,
};

/// The configured origin, or 503 `ORIGIN_NOT_CONFIGURED`.
pub fn require_origin(cx: &RequestContext<'_>) -> Result<(), ApiError> {
    if cx.config.agent_origin.is_none() {
        return Err(ErrorCode::OriginNotConfigured.into());
    }
    Ok(())
}

/// The assertion naming `caller`, for a request to the configured origin.
fn assertion(req: &Request, cx: &RequestContext<'_>, caller: &Caller) -> Result<String, ApiError> {
    let (Some(origin), Some(key)) = (&cx.config.agent_origin, &cx.config.signing_key) else {
        return Err(ErrorCode::OriginNotConfigured.into());
    };
    let issuer = issuer(req)?;
    let claims = AssertionClaims::new(
        issuer,
        audience(origin),
        caller.entity_id.clone(),
        cx.config.server_id.to_string(),
        caller
            .permissions
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        cx.now.secs(),
        hex::encode(random::bytes::<16>()?),
    );
    key.sign(&claims)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Forwards `req` for `caller` and streams the origin's answer back.
/// Unreachable → 502 `ORIGIN_UNAVAILABLE`; no answer within the configured
/// timeout → 504 `ORIGIN_TIMEOUT`.
pub async fn forward(
    mut req: Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
) -> Result<Response, ApiError> {
    let body = request_body(&mut req).await?;
    forward_with_body(&req, cx, caller, body).await
}

/// The body `req` would forward: none for `GET`/`HEAD` or when empty.
pub async fn request_body(req: &mut Request) -> Result<Option<Vec<u8>>, ApiError> {
    if matches!(req.method(), Method::Get | Method::Head) {
        return Ok(None);
    }
    let body = crate::http::body::bytes(req).await?;
    Ok((!body.is_empty()).then_some(body))
}

/// [`forward`] for a handler that has already read the body: `body` is sent
/// in place of `req`'s own.
pub async fn forward_with_body(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    body: Option<Vec<u8>>,
) -> Result<Response, ApiError> {
    exchange(req, cx, caller, body, |answer| {
        futures::future::ready(pass_back(answer))
    })
    .await
}

/// [`forward_with_body`], but the origin's whole answer is read (within the
/// same timeout) so the handler can look into it before passing it back. An
/// answer over `limit` bytes → 502 `ORIGIN_UNAVAILABLE`.
pub async fn forward_and_read(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    body: Option<Vec<u8>>,
    limit: usize,
) -> Result<ReadAnswer, ApiError> {
    exchange(req, cx, caller, body, |answer| read_answer(answer, limit)).await
}

/// The gateway's own request to the origin for `caller` (no client
/// request behind it), e.g. to learn whether an agent exists there or to
/// read the origin's agent list; read in full up to `limit` bytes.
pub async fn ask(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    (method, path): (Method, &str),
    limit: usize,
) -> Result<ReadAnswer, ApiError> {
    let outbound = Outbound {
        method,
        path,
        query: None,
        client_headers: None,
    };
    send(req, cx, caller, outbound, None, |answer| {
        read_answer(answer, limit)
    })
    .await
}

/// What goes to the origin: a method, a path and a query, and the client's
/// headers that may pass (none for the gateway's own requests).
struct Outbound<'a> {
    method: Method,
    path: &'a str,
    query: Option<&'a str>,
    client_headers: Option<&'a Headers>,
}

/// The one path to the origin for a client's request: sends `req` with
/// `body`, then hands the answer to `take`.
async fn exchange<T, F, Fut>(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    body: Option<Vec<u8>>,
    take: F,
) -> Result<T, ApiError>
where
    F: FnOnce(Response) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let url = req.url()?;
    let client_headers = req.headers();
    let outbound = Outbound {
        method: req.method(),
        path: url.path(),
        query: url.query(),
        client_headers: Some(client_headers),
    };
    send(req, cx, caller, outbound, body, take).await
}

/// Sends `outbound` with `body`, then hands the answer to `take`; both
/// happen before the configured timeout.
async fn send<T, F, Fut>(
    req: &Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
    outbound: Outbound<'_>,
    body: Option<Vec<u8>>,
    take: F,
) -> Result<T, ApiError>
where
    F: FnOnce(Response) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let Some(origin) = &cx.config.agent_origin else {
        return Err(ErrorCode::OriginNotConfigured.into());
    };
    let target = origin_url(origin, outbound.path, outbound.query);

    let headers = Headers::new();
    if let Some(client) = outbound.client_headers {
        for (name, value) in client.entries() {
            if forwards_request_header(&name) {
                headers.append(&name, &value)?;
            }
        }
    }
    headers.set(ASSERTION_HEADER, &assertion(req, cx, caller)?)?;
    let api_key = cx.config.agent_origin_api_key.as_ref().map(|k| k.expose());
    for (name, value) in origin_headers(api_key, &caller.entity_id) {
        headers.set(name, value)?;
    }
    headers.set("X-Request-Id", cx.request_id)?;

    let mut init = RequestInit::new();
    init.with_method(outbound.method).with_headers(headers);
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        if body.len() > MAX_BODY_BYTES {
            return Err(ErrorCode::PayloadTooLarge.into());
        }
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let outbound = Request::new_with_init(target.as_str(), &init)?;

    let controller = AbortController::default();
    let signal = controller.signal();
    let exchanged = async {
        let answer = Fetch::Request(outbound)
            .send_with_signal(&signal)
            .await
            .map_err(|e| ApiError::new(ErrorCode::OriginUnavailable).with_detail(e.to_string()))?;
        take(answer).await
    };
    within_timeout(cx.config.agent_origin_timeout_ms, controller, exchanged)
        .await
        .unwrap_or_else(|| Err(ErrorCode::OriginTimeout.into()))
}

/// An origin's answer read in full: its status, passable headers and body.
pub struct ReadAnswer {
    pub status: u16,
    headers: Headers,
    pub body: Vec<u8>,
}

impl ReadAnswer {
    /// The body as JSON, or 502 `ORIGIN_UNAVAILABLE` (fail closed: a list
    /// that can't be filtered is not passed on).
    pub fn json(&self) -> Result<serde_json::Value, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::new(ErrorCode::OriginUnavailable)
                .with_detail(format!("the origin's answer is not JSON: {e}"))
        })
    }

    /// This answer with `body` in place of the origin's (same status and
    /// headers; the length is the runtime's).
    pub fn with_json(mut self, body: &serde_json::Value) -> Self {
        self.body = body.to_string().into_bytes();
        self
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer for the client, as [`pass_back`] would have streamed it.
    pub fn into_response(self) -> Response {
        let builder = Response::builder()
            .with_status(self.status)
            .with_headers(self.headers);
        if carries_body(self.status) {
            builder.fixed(self.body)
        } else {
            builder.empty()
        }
    }
}

async fn read_answer(mut answer: Response, limit: usize) -> Result<ReadAnswer, ApiError> {
    let status = answer.status_code();
    let headers = passable_headers(answer.headers())?;
    let mut body = Vec::new();
    if carries_body(status) && matches!(answer.body(), ResponseBody::Stream(_)) {
        let mut chunks = answer.stream()?;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(ErrorCode::OriginUnavailable).with_detail(e.to_string())
            })?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::new(ErrorCode::OriginUnavailable)
                    .with_detail(format!("the origin's answer is over {limit} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(ReadAnswer {
        status,
        headers,
        body,
    })
}

/// Whether a response with `status` may have a body.
fn carries_body(status: u16) -> bool {
    !matches!(status, 101 | 204 | 205 | 304)
}

/// The origin's response headers that are passed back to the client.
fn passable_headers(answer: &Headers) -> Result<Headers, ApiError> {
    let headers = Headers::new();
    for (name, value) in answer.entries() {
        if returns_response_header(&name) {
            headers.append(&name, &value)?;
        }
    }
    Ok(headers)
}

/// A fresh response (the fetched one's headers are immutable) with the
/// origin's status, its passable headers, and its body stream as is.
fn pass_back(answer: Response) -> Result<Response, ApiError> {
    let status = answer.status_code();
    let builder = Response::builder()
        .with_status(status)
        .with_headers(passable_headers(answer.headers())?);
    Ok(match answer.body() {
        ResponseBody::Stream(stream) if carries_body(status) => builder.stream(stream.clone()),
        ResponseBody::Body(bytes) if carries_body(status) => builder.fixed(bytes.clone()),
        _ => builder.empty(),
    })
}

/// The gateway's own URL origin as the client reached it: the `iss` of the
/// assertions it signs.
pub fn issuer(req: &Request) -> Result<String, ApiError> {
    Ok(req.url()?.origin().ascii_serialization())
}
