//! Socket.IO at `/socket.io/` (SPEC §9): the unmodified `socket.io-client` 4
//! and the ElizaOS web UI connect, authenticate, join channels and exchange
//! messages through the channel rooms.
//!
//! - [`gateway`]: the worker's side — Engine.IO requests (polling and
//!   WebSocket) forwarded to the session's connection object;
//! - [`connection`]: `SocketIoConnection`, one hibernating Durable Object per
//!   Engine.IO session (transport, verified identity, joined channels);
//! - [`hub`]: `EntityHub`, one per entity, indexing its live connections so
//!   revocation closes them with one call;
//! - [`identity`]: who a connection is (from the cookie at the HTTP request,
//!   or the handshake's `auth`, verified with the same code as HTTP);
//! - [`protocol`]: what the worker and these objects say to each other.
//!
//! The wire formats and rules are pure, in `agentgate_shared::socketio`.
//!
//! Architecture Invariant: a connection's entity is the verified one; the
//! client's own `entityId`/`senderId` are never believed.

pub mod connection;
pub mod gateway;
pub mod hub;
mod identity;
mod protocol;
mod rooms_link;
