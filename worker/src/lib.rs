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

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(pipeline::handle(req, env).await)
}
