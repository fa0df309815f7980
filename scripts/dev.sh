#!/usr/bin/env bash
# Runs agentgate locally: installs what is missing, builds, applies the local
# D1 migrations and starts `wrangler dev` on 127.0.0.1:8787 (PORT to change).
set -euo pipefail
source "$(dirname "$0")/tools.sh"
ensure_tools
cd "$ROOT"

# Local settings live in .dev.vars (git-ignored). Create a development one on
# first run with a fresh tenant id; edit it to add JWT_JWKS_URI, JWT_SECRET, …
if [ ! -f .dev.vars ]; then
  log "writing .dev.vars (development settings, git-ignored)"
  cat > .dev.vars <<VARS
ENVIRONMENT=development
SERVER_ID=$(python3 -c 'import uuid; print(uuid.uuid4())')
ALLOWED_ORIGINS=http://localhost:8787,http://127.0.0.1:8787,http://localhost:3000
VARS
fi

log "applying local D1 migrations"
wrangler d1 migrations apply DB --local >&2
# wrangler runs scripts/build.sh itself (wrangler.toml [build]) on start and
# again whenever a watched source changes. AGENTGATE_BUILD=dev runs the
# development build (worker/build-dev, with the /__dev/* hooks) instead of the
# production module.
export AGENTGATE_BUILD="${AGENTGATE_BUILD:-production}"
script=()
if [ "$AGENTGATE_BUILD" = dev ]; then script=(worker/build-dev/index.js); fi
log "starting wrangler dev ($AGENTGATE_BUILD build) on http://127.0.0.1:${PORT:-8787}"
exec wrangler dev "${script[@]}" --ip 127.0.0.1 --port "${PORT:-8787}" --show-interactive-dev-session=false "$@"
