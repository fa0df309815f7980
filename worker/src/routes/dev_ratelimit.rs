//! Development-only hooks of the rate limiter (404 in production, see the
//! route table).
//!
//! - `POST /__dev/ratelimit/burst` `{key, n, concurrency, count, periodMs}` →
//!   `{decisions, admitted, elapsedMs}`: `n` checks against one limiter
//!   instance, `concurrency` in flight, timed inside the runtime (the
//!   benchmark's decisions per second).

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::body;
use crate::http::response;
use agentgate_durable_objects::limiter_client;
use agentgate_durable_objects::limiter_protocol::CheckRequest;
use agentgate_shared::ratelimit::{AdaptivePolicy, Limit};
use futures::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Burst {
    key: String,
    n: u32,
    concurrency: u32,
    count: u32,
    period_ms: u64,
}

pub async fn burst(mut req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let burst: Burst = body::json(&mut req).await?;
    let limit = Limit::new(burst.count, burst.period_ms)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let request = CheckRequest {
        limit,
        cost: 1,
        adaptive: AdaptivePolicy::OFF.into(),
    };
    let key = format!("bench:{}", burst.key);
    let n = burst.n.clamp(1, 100_000);
    let started = worker::Date::now().as_millis();
    let answers: Vec<_> = stream::iter(0..n)
        .map(|_| limiter_client::check(cx.env, &key, &request))
        .buffer_unordered(burst.concurrency.clamp(1, 256) as usize)
        .collect()
        .await;
    let elapsed_ms = worker::Date::now().as_millis().saturating_sub(started);
    let mut admitted = 0u32;
    for answer in answers {
        let answer = answer.map_err(|e| {
            ApiError::new(agentgate_shared::ErrorCode::RateLimiterUnavailable)
                .with_detail(e.to_string())
        })?;
        admitted += u32::from(answer.allowed);
    }
    Ok(response::json(
        200,
        &json!({ "decisions": n, "admitted": admitted, "elapsedMs": elapsed_ms }),
    ))
}
