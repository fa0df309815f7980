//! Cryptography in the worker: asymmetric signatures through WebCrypto,
//! everything else (HMAC, SHA, ids) in Rust (SPEC §3a).

pub mod verifier;
mod verify_call;
pub mod webcrypto;

pub use verifier::WorkerVerifier;
