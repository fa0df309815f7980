#!/usr/bin/env bash
# The lint steps, run by scripts/test.sh (`npm test`), `npm run lint` and CI's
# fast `lint` job: formatting, clippy (native crates with their tests, and the
# wasm crates for wasm32) and the architecture test (tests/tests/architecture.rs).
# Needs only cargo and the wasm32 target, not the pinned build tools.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$ROOT"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi

log "cargo fmt --check"
cargo fmt --all -- --check

log "clippy (native crates)"
cargo clippy -p agentgate-shared -p agentgate-durable-objects -p agentgate-e2e --all-targets --locked -- -D warnings
# `shared`'s own tests turn its `dev` feature on; its library alone is the
# production configuration.
cargo clippy -p agentgate-shared --lib --locked -- -D warnings
log "clippy (worker and durable objects, wasm32: production, then with the dev feature)"
cargo clippy -p agentgate-worker -p agentgate-durable-objects --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p agentgate-worker --features dev --target wasm32-unknown-unknown --locked -- -D warnings

log "architecture test"
cargo test -p agentgate-e2e --locked --test architecture
