#!/usr/bin/env bash
# Builds the worker's wasm module and JS shim into worker/build/.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
if [ "${AGENTGATE_SKIP_BUILD:-0}" = "1" ] && [ -f "$ROOT/worker/build/index.js" ]; then
  exit 0
fi
ensure_tools
cd "$ROOT/worker"
log "building the worker (release, wasm32)"
"$WORKER_BUILD" --release >&2
