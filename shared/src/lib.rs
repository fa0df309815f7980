//! The sans-IO core of agentgate.
//!
//! Everything here takes its inputs (request facts, stored state, `now`, random
//! bytes, key material) as arguments and returns a decision. Nothing in this
//! crate performs I/O, reads a clock or draws randomness, so all of it is tested
//! natively with `cargo test`.
//!
//! Architecture Invariant: this crate depends on neither `worker`, `js-sys` nor
//! `wasm-bindgen`; it builds for the host and for `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]

pub mod agent_delivery;
pub mod agents;
pub mod assertion;
pub mod audit;
pub mod bootstrap;
pub mod config;
pub mod consent;
pub mod entity_id;
pub mod error;
pub mod http_policy;
pub mod identity;
pub mod ids;
pub mod jwt;
pub mod origin;
pub mod password;
pub mod ratelimit;
pub mod realtime;
pub mod routes;
pub mod rules;
pub mod secret;
pub mod session;
pub mod socketio;

pub use error::ErrorCode;
