#!/usr/bin/env bash
# Runs every check and test: installs what is missing, checks formatting and
# lints (native crates, and the wasm crates for wasm32), builds the worker's
# two modules and checks the production one's size, then runs the unit tests
# of all crates and the end-to-end suite against real `wrangler dev` instances.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
cd "$ROOT"

bash scripts/lint.sh

# Both modules: production (worker/build, what `wrangler deploy` ships, and
# tests/tests/production_build.rs checks) and dev (worker/build-dev, with the
# test hooks every other end-to-end suite uses).
AGENTGATE_BUILD=production bash scripts/build.sh
AGENTGATE_BUILD=dev bash scripts/build.sh
for build in build build-dev; do
  wasm="$ROOT/worker/$build/index_bg.wasm"
  log "worker/$build/index_bg.wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzip -9"
done
# The production module must stay within 1 MiB gzipped (issue #13).
wasm="$ROOT/worker/build/index_bg.wasm"
gz=$(gzip -9 -c "$wasm" | wc -c)
if [ "$gz" -gt 1048576 ]; then
  log "the production module is $gz bytes gzip -9, over the 1 MiB (1048576 bytes) budget"
  exit 1
fi

log "unit and end-to-end tests"
AGENTGATE_SKIP_BUILD=1 cargo test -p agentgate-shared -p agentgate-durable-objects -p agentgate-e2e --locked "$@"

log "end-to-end auth, rooms, agent-message, agents, api-client conformance and socketio suites again, on PostgreSQL (STORAGE=postgres)"
AGENTGATE_E2E_STORAGE=postgres AGENTGATE_SKIP_BUILD=1 cargo test -p agentgate-e2e --locked --test auth --test rooms --test agent_messages --test agents --test api_client_conformance --test socketio "$@"
