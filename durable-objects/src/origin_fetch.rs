//! Requests to the agent origin: one timed fetch (used by the worker's
//! forwarding and by a room's deliveries), and the delivery of one queued
//! message with the gateway's assertion.

use crate::agent_outbox::Pending;
use agentgate_shared::agent_delivery::{delivered, refused_for_good, submit_body, SUBMIT_PATH};
use agentgate_shared::assertion::{AssertionClaims, ASSERTION_HEADER};
use agentgate_shared::config::Config;
use agentgate_shared::origin::{audience, origin_headers, origin_url};
use futures::future::{select, Either};
use std::future::Future;
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, Response};

/// Why the origin gave no answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchFailure {
    /// Refused, reset, or not resolvable (the runtime's message).
    Unreachable(String),
    /// No answer within the configured time; the request was aborted.
    Timeout,
}

/// Runs `work` (fetches made with `controller`'s signal, and whatever reads
/// their answers) for at most `timeout_ms`. On timeout the fetches are
/// aborted and the result is `None`.
pub async fn within_timeout<F: Future>(
    timeout_ms: u64,
    controller: AbortController,
    work: F,
) -> Option<F::Output> {
    let timeout = Delay::from(Duration::from_millis(timeout_ms));
    futures::pin_mut!(work, timeout);
    match select(work, timeout).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => {
            controller.abort();
            None
        }
    }
}

/// Sends `request`, giving up (and aborting it) after `timeout_ms`.
pub async fn send_with_timeout(
    request: Request,
    timeout_ms: u64,
) -> Result<Response, FetchFailure> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = fetch.send_with_signal(&signal);
    match within_timeout(timeout_ms, controller, sent).await {
        Some(Ok(answer)) => Ok(answer),
        Some(Err(e)) => Err(FetchFailure::Unreachable(e.to_string())),
        None => Err(FetchFailure::Timeout),
    }
}

/// How one delivery attempt ended.
#[derive(Debug)]
pub enum Attempt {
    /// The origin took the message (2xx).
    Delivered,
    /// Worth trying again later; why not now (never the assertion).
    Failed(String),
    /// The origin refused the message for good (see `refused_for_good`).
    Refused(String),
}

/// One attempt to hand `pending` to the origin.
pub async fn deliver(config: &Config, pending: &Pending, now_ms: u64) -> Attempt {
    match attempt(config, pending, now_ms).await {
        Ok(status) if delivered(status) => Attempt::Delivered,
        Ok(status) if refused_for_good(status) => {
            Attempt::Refused(format!("origin answered {status}"))
        }
        Ok(status) => Attempt::Failed(format!("origin answered {status}")),
        Err(reason) => Attempt::Failed(reason),
    }
}

/// Sends `pending` once; the origin's status, or why there was none.
async fn attempt(config: &Config, pending: &Pending, now_ms: u64) -> Result<u16, String> {
    let (Some(origin), Some(key)) = (&config.agent_origin, &config.signing_key) else {
        return Err("no agent origin is configured".into());
    };
    let mut jti = [0u8; 16];
    getrandom::getrandom(&mut jti).map_err(|e| format!("randomness unavailable: {e}"))?;
    let claims = AssertionClaims::new(
        pending.issuer.clone(),
        audience(origin),
        pending.message.sender_id.clone(),
        config.server_id.to_string(),
        pending.scopes.clone(),
        now_ms / 1000,
        jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    );
    let body = submit_body(
        &pending.message,
        &pending.agent_ids,
        &config.server_id.to_string(),
    );
    let headers = Headers::new();
    let request = (|| {
        headers.set("Content-Type", "application/json")?;
        let assertion = key
            .sign(&claims)
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        headers.set(ASSERTION_HEADER, &assertion)?;
        let api_key = config.agent_origin_api_key.as_ref().map(|k| k.expose());
        for (name, value) in origin_headers(api_key, &pending.message.sender_id) {
            headers.set(name, value)?;
        }
        headers.set("Idempotency-Key", &pending.message.id)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers.clone())
            .with_body(Some(body.to_string().into()));
        Request::new_with_init(origin_url(origin, SUBMIT_PATH, None).as_str(), &init)
    })()
    .map_err(|e| format!("request not built: {e}"))?;
    match send_with_timeout(request, config.agent_origin_timeout_ms).await {
        Ok(answer) => Ok(answer.status_code()),
        Err(FetchFailure::Timeout) => Err("origin timed out".into()),
        Err(FetchFailure::Unreachable(e)) => Err(format!("origin unreachable: {e}")),
    }
}
