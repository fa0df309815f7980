//! The worker's side of SPEC §8: before a handler runs, every bucket the route
//! table names for the route is checked with its `RateLimiter` instance. IP
//! buckets (`sensitive`, `auth`) are checked before authentication, so a flood
//! costs no credential work; entity buckets after it. The decisions themselves
//! (subjects, tiers, policies, which figures a response reports) come from
//! `agentgate_shared::ratelimit`; this module only does the calls.
//!
//! Fail closed: a limiter that can't be reached answers 503
//! `RATE_LIMITER_UNAVAILABLE` — always for routes with a `sensitive` bucket,
//! and for every other route unless `RATE_LIMIT_FAIL_OPEN=true`.

use crate::auth::Caller;
use crate::client;
use crate::error::ApiError;
use agentgate_durable_objects::limiter_client;
use agentgate_durable_objects::limiter_protocol::{
    CheckRequest, FailedLoginRequest, SocketMessageLimit,
};
use agentgate_shared::config::Config;
use agentgate_shared::ratelimit::{
    bucket_key, counted_by, failed_login_key, may_proceed_unlimited, tightest, Counted,
    RateLimitHeaders, Subject, Tier,
};
use agentgate_shared::routes::{RateBucket, RouteId, RouteSpec};
use agentgate_shared::ErrorCode;
use futures::future::join_all;
use worker::{Env, Request, Response};

/// The figures of the buckets consulted so far; they go on the response.
#[derive(Debug, Default)]
pub struct Limited {
    decisions: Vec<RateLimitHeaders>,
}

impl Limited {
    /// Adds the `X-RateLimit-*` headers of the tightest bucket to the outcome,
    /// success or error alike.
    pub fn apply(&self, outcome: Result<Response, ApiError>) -> Result<Response, ApiError> {
        let Some(figures) = tightest(&self.decisions) else {
            return outcome;
        };
        match outcome {
            Ok(mut response) => {
                let headers = response.headers_mut();
                for (name, value) in figures.pairs() {
                    let _ = headers.set(name, &value);
                }
                Ok(response)
            }
            Err(error) => Err(with_headers(error, &figures)),
        }
    }

    /// [`apply`](Self::apply) for an error alone.
    pub fn on_error(&self, error: ApiError) -> ApiError {
        match tightest(&self.decisions) {
            Some(figures) => with_headers(error, &figures),
            None => error,
        }
    }
}

fn with_headers(mut error: ApiError, figures: &RateLimitHeaders) -> ApiError {
    for (name, value) in figures.pairs() {
        error = error.with_header(name, value);
    }
    error
}

/// Checks the route's IP buckets (before authentication).
pub async fn enforce_ip(
    req: &Request,
    env: &Env,
    config: &Config,
    spec: &RouteSpec,
) -> Result<Limited, ApiError> {
    let buckets: Vec<RateBucket> = spec
        .buckets
        .iter()
        .copied()
        .filter(|b| counted_by(*b) == Counted::Ip)
        .collect();
    if buckets.is_empty() || !config.rate_limit.enabled {
        return Ok(Limited::default());
    }
    let ip = client::request_ip(req, config)?;
    let mut limited = Limited::default();
    enforce(
        env,
        config,
        spec,
        &buckets,
        &Subject::Ip(&ip),
        Tier::Standard,
        &mut limited,
    )
    .await?;
    Ok(limited)
}

/// Checks the route's entity buckets (after authentication); `ws-connect`
/// counts the client IP when there is no caller.
pub async fn enforce_entity(
    req: &Request,
    env: &Env,
    config: &Config,
    spec: &RouteSpec,
    caller: Option<&Caller>,
    mut limited: Limited,
) -> Result<Limited, ApiError> {
    if !config.rate_limit.enabled {
        return Ok(limited);
    }
    let by_entity: Vec<RateBucket> = spec
        .buckets
        .iter()
        .copied()
        .filter(|b| counted_by(*b) != Counted::Ip && counts_request(req, spec, *b))
        .collect();
    if by_entity.is_empty() {
        return Ok(limited);
    }
    let result = match caller {
        Some(caller) => {
            enforce(
                env,
                config,
                spec,
                &by_entity,
                &Subject::Entity(&caller.entity_id),
                caller.tier,
                &mut limited,
            )
            .await
        }
        None => {
            let by_ip: Vec<RateBucket> = by_entity
                .into_iter()
                .filter(|b| counted_by(*b) == Counted::EntityOrIp)
                .collect();
            let ip = client::request_ip(req, config).map_err(|e| limited.on_error(e))?;
            enforce(
                env,
                config,
                spec,
                &by_ip,
                &Subject::Ip(&ip),
                Tier::Standard,
                &mut limited,
            )
            .await
        }
    };
    result.map(|()| limited)
}

/// `/socket.io/` counts `ws-connect` for the request that opens an Engine.IO
/// session; the polls and upgrade of an open session (`?sid=`) are that same
/// connection.
fn counts_request(req: &Request, spec: &RouteSpec, bucket: RateBucket) -> bool {
    let socket_io = matches!(spec.id, RouteId::SocketIo | RouteId::SocketIoPost);
    !(socket_io
        && bucket == RateBucket::WsConnect
        && crate::http::query_param(req, "sid").is_some())
}

/// Checks `buckets` for `subject` concurrently, records their figures in
/// `limited`, and refuses with 429 (the tightest figures, `Retry-After`,
/// `retryAfter`) when any bucket refuses.
async fn enforce(
    env: &Env,
    config: &Config,
    spec: &RouteSpec,
    buckets: &[RateBucket],
    subject: &Subject<'_>,
    tier: Tier,
    limited: &mut Limited,
) -> Result<(), ApiError> {
    let by_ip = matches!(subject, Subject::Ip(_));
    let settings = &config.rate_limit;
    let checks = buckets.iter().map(|bucket| {
        let key = bucket_key(*bucket, subject);
        let request = CheckRequest {
            limit: settings.limits.limit_for(*bucket, tier),
            cost: 1,
            adaptive: settings.adaptive_for(by_ip).into(),
        };
        async move {
            (
                key.clone(),
                limiter_client::check(env, &key, &request).await,
            )
        }
    });
    let proceed_unlimited = may_proceed_unlimited(spec.buckets, config.rate_limit_fail_open);
    for (key, answer) in join_all(checks).await {
        match answer {
            Ok(answer) => limited.decisions.push(answer.headers()),
            Err(e) if proceed_unlimited => {
                worker::console_warn!(
                    "{}",
                    serde_json::json!({"level": "warn", "event": "ratelimit.fail_open", "key": key, "detail": e.to_string()})
                );
            }
            Err(e) => {
                return Err(limited.on_error(
                    ApiError::new(ErrorCode::RateLimiterUnavailable)
                        .with_detail(format!("rate limiter {key}: {e}")),
                ))
            }
        }
    }
    match tightest(&limited.decisions) {
        Some(RateLimitHeaders {
            retry_after_secs: Some(retry),
            ..
        }) => Err(limited.on_error(
            ApiError::new(ErrorCode::RateLimitExceeded).with_field("retryAfter", retry.into()),
        )),
        _ => Ok(()),
    }
}

/// Records a failed login for the account (case-folded email, when known) and
/// the client IP. `Ok(true)`: five failures within 15 minutes for either, and
/// no alert for it in the last window — write one `security.alert.auth_failures`
/// audit row now. A limiter that can't be reached is an error (fail closed).
pub async fn record_failed_login(
    env: &Env,
    config: &Config,
    account_key: Option<&str>,
    ip: &str,
) -> Result<bool, ApiError> {
    let request = FailedLoginRequest::from(config.rate_limit.alert);
    let mut keys = vec![failed_login_key(&Subject::Ip(ip))];
    if let Some(account) = account_key {
        keys.push(failed_login_key(&Subject::Account(account)));
    }
    let answers = join_all(
        keys.iter()
            .map(|key| limiter_client::record_failed_login(env, key, &request)),
    )
    .await;
    let mut alert = false;
    for answer in answers {
        alert |= answer.map_err(|e| {
            ApiError::new(ErrorCode::RateLimiterUnavailable)
                .with_detail(format!("failed-login tracker: {e}"))
        })?;
    }
    Ok(alert)
}

/// The `ws-message` limit the worker states in a socket's join statement (the
/// room applies it to every frame); `None` only when limiting is off.
pub fn socket_message_limit(config: &Config, caller: &Caller) -> Option<SocketMessageLimit> {
    let settings = &config.rate_limit;
    settings.enabled.then(|| SocketMessageLimit {
        check: CheckRequest {
            limit: settings
                .limits
                .limit_for(RateBucket::WsMessage, caller.tier),
            cost: 1,
            adaptive: settings.adaptive_for(false).into(),
        },
        fail_open: config.rate_limit_fail_open,
    })
}
