//! The end-to-end harness: starts the real worker under `wrangler dev`
//! (workerd, with its embedded D1 and Durable Objects) on a free loopback port
//! with fresh state, and drives it as a client would.
//!
//! Every [`Gateway`] is its own `wrangler dev` process group with its own
//! persisted state directory and its own variables. The group is killed when
//! the handle drops (also while a failing test unwinds), and a watchdog in the
//! group kills it if the test process itself dies.
#![forbid(unsafe_code)]

pub mod backend;
pub mod bench;
pub mod eliza;
pub mod http;
pub mod idp;
pub mod jwt;
pub mod keys;
pub mod origin;
pub mod pg;
pub mod process;
pub mod session;
pub mod socketio;
pub mod verify_route;
pub mod ws;

pub use process::{Build, Gateway, GatewayBuilder};

/// The tenant id the harness configures unless a test sets another.
pub const TEST_SERVER_ID: &str = "0190b6a0-0000-7000-8000-00000000a11e";
/// The browser origin the harness allows unless a test sets another.
pub const ALLOWED_ORIGIN: &str = "http://app.agentgate.test";
