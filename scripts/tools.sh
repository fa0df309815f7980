# Sourced by the other scripts: makes sure every pinned tool is present and
# exports the variables that point the build at them. Idempotent and quiet
# when everything is already installed.
#
# Pinned tools live in a per-version cache outside the clone
# (${AGENTGATE_TOOLS:-~/.cache/agentgate/tools}/<tool>-<version>), so a fresh
# clone on a machine that built before reuses them, and a fresh machine
# installs them from crates.io once (~10 minutes cold).

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.129   # must equal the `wasm-bindgen` pin in Cargo.toml
CARGO_FUZZ_VERSION=0.13.1      # bench/fuzz.sh only (needs a nightly toolchain)

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${AGENTGATE_TOOLS:-$HOME/.cache/agentgate/tools}"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG_PATH="${WRANGLER_LOG_PATH:-$ROOT/.wrangler/logs}"
export NO_UPDATE_NOTIFIER=1

log() { printf '\033[1m[agentgate]\033[0m %s\n' "$*" >&2; }

install_crate() { # crate version dir-name binary
  local crate=$1 version=$2 dir="$TOOLS/$3-$2" bin=$4
  if [ ! -x "$dir/bin/$bin" ]; then
    log "installing $crate $version into $dir (one-time, several minutes)"
    cargo install "$crate" --version "$version" --locked --root "$dir.partial" >&2
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  printf '%s' "$dir/bin/$bin"
}

ensure_tools() {
  # RUSTUP_AUTO_INSTALL=0 on these machines: add the target explicitly (the
  # toolchain itself is named in rust-toolchain.toml).
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >&2
  fi
  mkdir -p "$TOOLS"
  WORKER_BUILD="$(install_crate worker-build "$WORKER_BUILD_VERSION" worker-build worker-build)"
  export WASM_BINDGEN_BIN
  WASM_BINDGEN_BIN="$(install_crate wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen wasm-bindgen)"
  export WORKER_BUILD

  # npm packages (wrangler and esbuild, pinned in package-lock.json).
  local stamp="$ROOT/node_modules/.agentgate-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/package-lock.json" "$stamp"; then
    log "installing npm packages"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$ROOT/package-lock.json" "$stamp"
  fi
  # worker-build bundles with esbuild; point it at the pinned native binary
  # instead of letting it download one.
  local esbuild="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
  [ -x "$esbuild" ] || esbuild="$ROOT/node_modules/.bin/esbuild"
  export ESBUILD_BIN="$esbuild"
  export PATH="$ROOT/node_modules/.bin:$PATH"
}

# bench/fuzz.sh only: cargo-fuzz, and the nightly toolchain libFuzzer's
# instrumentation (-Z flags) needs. Nothing else builds with nightly.
ensure_fuzz_tools() {
  if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    log "fuzzing needs a nightly toolchain: rustup toolchain install nightly --profile minimal"
    return 1
  fi
  mkdir -p "$TOOLS"
  export CARGO_FUZZ
  CARGO_FUZZ="$(install_crate cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz cargo-fuzz)"
}
