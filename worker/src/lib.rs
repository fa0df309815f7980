//! The agentgate Worker: entry point and router.
//!
//! The request path lives in [`pipeline`]; handlers live in one module per
//! route area under [`routes`]; every failure becomes a response in exactly
//! one place ([`error::ApiError::into_response`]).
//!
//! Architecture Invariant: only this crate reads `Env` (bindings, vars,
//! secrets); `shared` receives plain values.
#![forbid(unsafe_code)]

mod audit;
mod auth;
mod client;
mod clock;
mod context;
mod crypto;
mod error;
mod http;
mod origin;
mod pipeline;
mod random;
mod ratelimit;
mod remote_document;
mod revocation;
mod rooms;
mod routes;
mod socketio;
mod storage;

use worker::{event, Context, Env, Request, Response, Result};

// The Durable Object classes are defined in their own crate; re-exporting them
// links that crate into this cdylib so wasm-bindgen exports the classes and
// worker-build's shim re-exports them to workerd (see ARCHITECTURE.md).
use agentgate_durable_objects::env_config;
pub use agentgate_durable_objects::{ChannelRoom, RateLimiter};
pub use socketio::connection::SocketIoConnection;
pub use socketio::hub::EntityHub;

// Panics: worker 0.8.7 installs a panic hook in its `#[wasm_bindgen(start)]`
// function (worker/src/init.rs in that crate), which runs once per instance
// before any handler: it logs `Rust panic: {message}` with the location
// through `console.error`, and under `panic = "abort"` marks the instance for
// re-initialisation, so the next request gets a fresh one. That is what
// `console_error_panic_hook` would do; installing it as well would log each
// panic twice. tests/tests/hardening.rs panics on purpose (`/__dev/panic`)
// and checks the log line and the recovery.
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(pipeline::handle(req, env).await)
}
