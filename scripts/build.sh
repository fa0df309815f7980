#!/usr/bin/env bash
# Builds the worker's wasm module and JS shim.
#
#   AGENTGATE_BUILD=production (default) → worker/build/: no development
#     hooks (cargo feature `dev` off); what `npm run build`, `wrangler dev`
#     and `wrangler deploy` use (wrangler.toml `main`).
#   AGENTGATE_BUILD=dev → worker/build-dev/: with `--features dev` (the
#     `/__dev/*` routes, the storage conformance suite, the pure-Rust
#     verifiers); what the end-to-end tests run.
#
# Both are release builds, then shrunk with wasm-opt from the npm `binaryen`
# package (pinned in package.json; worker-build's own wasm-opt, which would
# download a binary, stays off in worker/Cargo.toml).
set -euo pipefail
source "$(dirname "$0")/tools.sh"
build="${AGENTGATE_BUILD:-production}"
case "$build" in
  production) out=build; features=() ;;
  dev) out=build-dev; features=(--features dev) ;;
  *) log "AGENTGATE_BUILD must be production or dev, not '$build'"; exit 2 ;;
esac
if [ "${AGENTGATE_SKIP_BUILD:-0}" = "1" ] && [ -f "$ROOT/worker/$out/index.js" ]; then
  exit 0
fi
ensure_tools
cd "$ROOT/worker"
log "building the worker ($build: release, wasm32) into worker/$out"
"$WORKER_BUILD" --release --out-dir "$out" "${features[@]}" >&2

# -O1 rather than -Oz: measured smaller once gzipped (see README "Module size").
# --reorder-functions-by-name first: functions sorted by their (mangled) names,
# so that the instances of one generic sit next to each other, where gzip's
# 32 KB window finds their likeness (~25 KB less gzipped; the order of
# functions changes nothing else).
wasm="$ROOT/worker/$out/index_bg.wasm"
log "wasm-opt --reorder-functions-by-name ${WASM_OPT_LEVEL:--O1} worker/$out/index_bg.wasm"
"$ROOT/node_modules/.bin/wasm-opt" --reorder-functions-by-name "${WASM_OPT_LEVEL:--O1}" --enable-bulk-memory \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  --enable-reference-types --enable-multivalue --enable-exception-handling \
  "$wasm" -o "$wasm.opt" >&2
mv "$wasm.opt" "$wasm"
