//! `RateLimiter`: one Durable Object per bucket key (SPEC §8).

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct RateLimiter {
    #[allow(dead_code)]
    state: State,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("rate limiter protocol not wired yet", 503)
    }
}
