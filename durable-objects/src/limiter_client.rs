//! Calls to a `RateLimiter` instance, shared by the worker and `ChannelRoom`.
//! Every failure (no binding, runtime error, unexpected answer, no answer
//! within [`TIMEOUT`]) is an `Err`: callers decide how to fail closed.

use crate::limiter_protocol::*;
use futures::future::{select, Either};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use worker::{Delay, Env, Headers, Method, Request, RequestInit};

/// How long a caller waits for a limiter before treating it as unreachable:
/// a stuck limiter must not hold requests forever.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Asks the limiter named `key` whether a request is admitted.
pub async fn check(env: &Env, key: &str, request: &CheckRequest) -> worker::Result<CheckResponse> {
    call(env, key, PATH_CHECK, request).await
}

/// Records a failed login with the tracker named `key`; `Ok(true)` when the
/// alert is due now.
pub async fn record_failed_login(
    env: &Env,
    key: &str,
    request: &FailedLoginRequest,
) -> worker::Result<bool> {
    let answer: FailedLoginResponse = call(env, key, PATH_FAILED_LOGIN, request).await?;
    Ok(answer.alert)
}

async fn call<Req: Serialize, Resp: DeserializeOwned>(
    env: &Env,
    key: &str,
    path: &str,
    body: &Req,
) -> worker::Result<Resp> {
    let stub = env
        .durable_object(RATE_LIMITER_BINDING)?
        .id_from_name(key)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(body)?.into()));
    let req = Request::new_with_init(&format!("https://rate-limiter{path}"), &init)?;
    let fetch = std::pin::pin!(stub.fetch_with_request(req));
    let mut resp = match select(fetch, Delay::from(TIMEOUT)).await {
        Either::Left((resp, _)) => resp?,
        Either::Right(_) => {
            return Err(worker::Error::RustError(format!(
                "rate limiter did not answer {path} within {TIMEOUT:?}"
            )))
        }
    };
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "rate limiter answered {} to {path}",
            resp.status_code()
        )));
    }
    resp.json().await
}
