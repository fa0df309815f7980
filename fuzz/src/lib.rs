//! The fuzz targets' checks live in `checks.rs` so that
//! `cargo test -p agentgate-shared` replays the committed corpus through the
//! very same code (it includes the file by path).
pub mod checks;
