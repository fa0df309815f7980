#!/usr/bin/env bash
# Benchmarks: prints figures, side by side in one run.
#   bash bench/run.sh [scenario…]   (default: all)
# Scenarios: verify, auth, ratelimit, rooms, storage, origin, eliza, coldstart
#   (coldstart: AGENTGATE_COLDSTART_BASELINE=<module dir> adds an older build)
set -euo pipefail
source "$(dirname "$0")/../scripts/tools.sh"
ensure_tools
cd "$ROOT"
AGENTGATE_BUILD=production bash scripts/build.sh
AGENTGATE_BUILD=dev bash scripts/build.sh
AGENTGATE_SKIP_BUILD=1 cargo run --quiet --release -p agentgate-e2e --bin bench -- "$@"
