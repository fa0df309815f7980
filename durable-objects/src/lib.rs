//! agentgate's Durable Object classes.
//!
//! They live in their own crate and are linked into the worker's wasm module:
//! the worker crate re-exports them (`pub use agentgate_durable_objects::…`),
//! which makes wasm-bindgen export the classes and worker-build's shim hand
//! them to workerd under the names wrangler.toml binds.
//!
//! Architecture Invariant: a Durable Object is reachable only through the
//! worker (DO namespaces are not publicly addressable), so the worker's
//! internal headers ([`room_protocol::JOIN_HEADER`]) are trusted here and
//! nowhere else; the worker strips any client-sent `X-Agentgate-*` header.
#![forbid(unsafe_code)]

mod agent_outbox;
mod channel_room;
pub mod env_config;
pub mod limiter_client;
pub mod limiter_protocol;
mod message_log;
pub mod origin_fetch;
mod rate_limiter;
pub mod room_protocol;
mod socket_limit;
mod subscribers;

pub use channel_room::ChannelRoom;
pub use rate_limiter::RateLimiter;
/// Arrival-order turns (also used by the worker's Socket.IO connections).
pub use socket_limit::Turns;
