#!/usr/bin/env bash
# Runs every check and test: installs what is missing, checks formatting and
# lints (native crates, and the wasm crates for wasm32), builds the worker
# once, then runs the unit tests of all crates and the end-to-end suite
# against real `wrangler dev` instances.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
cd "$ROOT"

bash scripts/lint.sh

bash scripts/build.sh
wasm="$ROOT/worker/build/index_bg.wasm"
log "wasm module: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzipped"

log "unit and end-to-end tests"
AGENTGATE_SKIP_BUILD=1 cargo test -p agentgate-shared -p agentgate-durable-objects -p agentgate-e2e --locked "$@"

log "end-to-end auth, rooms, agent-message, agents, api-client conformance and socketio suites again, on PostgreSQL (STORAGE=postgres)"
AGENTGATE_E2E_STORAGE=postgres AGENTGATE_SKIP_BUILD=1 cargo test -p agentgate-e2e --locked --test auth --test rooms --test agent_messages --test agents --test api_client_conformance --test socketio "$@"
