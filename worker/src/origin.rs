//! Forwarding an authorized request to the agent origin (SPEC §13): path,
//! query and body unchanged; the client's identity headers, credentials and
//! cookies stripped; the gateway's signed assertion added. The response body
//! streams back without being buffered.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pipeline::RequestContext;
use crate::random;
use agentgate_shared::assertion::{AssertionClaims, ASSERTION_HEADER};
use agentgate_shared::http_policy::MAX_BODY_BYTES;
use agentgate_shared::origin::{
    audience, forwards_request_header, origin_url, returns_response_header,
};
use agentgate_shared::ErrorCode;
use futures::future::{select, Either};
use std::time::Duration;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody,
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
    let issuer = req.url()?.origin().ascii_serialization();
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
        crate::auth::now_secs(),
        hex::encode(random::bytes::<16>()?),
    );
    Ok(key.sign(&claims))
}

/// Forwards `req` for `caller` and streams the origin's answer back.
/// Unreachable → 502 `ORIGIN_UNAVAILABLE`; no answer within the configured
/// timeout → 504 `ORIGIN_TIMEOUT`.
pub async fn forward(
    mut req: Request,
    cx: &RequestContext<'_>,
    caller: &Caller,
) -> Result<Response, ApiError> {
    let Some(origin) = &cx.config.agent_origin else {
        return Err(ErrorCode::OriginNotConfigured.into());
    };
    let url = req.url()?;
    let target = origin_url(origin, url.path(), url.query());

    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if forwards_request_header(&name) {
            headers.append(&name, &value)?;
        }
    }
    headers.set(ASSERTION_HEADER, &assertion(&req, cx, caller)?)?;
    headers.set("X-Request-Id", cx.request_id)?;

    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers);
    if !matches!(method, Method::Get | Method::Head) {
        let body = req.bytes().await.map_err(|e| {
            ApiError::bad_request("The request body could not be read").with_detail(e.to_string())
        })?;
        if body.len() > MAX_BODY_BYTES {
            return Err(ErrorCode::PayloadTooLarge.into());
        }
        if !body.is_empty() {
            init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
        }
    }
    let outbound = Request::new_with_init(target.as_str(), &init)?;

    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(outbound);
    let sent = fetch.send_with_signal(&signal);
    let timeout = Delay::from(Duration::from_millis(cx.config.agent_origin_timeout_ms));
    futures::pin_mut!(sent, timeout);
    let answer = match select(sent, timeout).await {
        Either::Left((Ok(answer), _)) => answer,
        Either::Left((Err(e), _)) => {
            return Err(ApiError::new(ErrorCode::OriginUnavailable).with_detail(e.to_string()))
        }
        Either::Right(_) => {
            controller.abort();
            return Err(ErrorCode::OriginTimeout.into());
        }
    };
    pass_back(answer)
}

/// A fresh response (the fetched one's headers are immutable) with the
/// origin's status, its passable headers, and its body stream as is.
fn pass_back(answer: Response) -> Result<Response, ApiError> {
    let status = answer.status_code();
    let headers = Headers::new();
    for (name, value) in answer.headers().entries() {
        if returns_response_header(&name) {
            headers.append(&name, &value)?;
        }
    }
    let builder = Response::builder()
        .with_status(status)
        .with_headers(headers);
    Ok(match answer.body() {
        ResponseBody::Stream(stream) if !matches!(status, 101 | 204 | 205 | 304) => {
            builder.stream(stream.clone())
        }
        ResponseBody::Body(bytes) if !matches!(status, 101 | 204 | 205 | 304) => {
            builder.fixed(bytes.clone())
        }
        _ => builder.empty(),
    })
}

/// The gateway's own URL origin as the client reached it: the `iss` of the
/// assertions it signs.
pub fn issuer(req: &Request) -> Result<String, ApiError> {
    Ok(req.url()?.origin().ascii_serialization())
}
