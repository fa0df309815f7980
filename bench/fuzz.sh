#!/usr/bin/env bash
# Fuzzes the parsers of agentgate-shared with libFuzzer (issue #17), one
# target after another, and prints executions, coverage and crashes.
#   bash bench/fuzz.sh [seconds-per-target] [target…]
# Default: 600 s (10 minutes) for each of: jws cookie route socket_event fields socketio.
# Crashes land in fuzz/artifacts/<target>/; once fixed, copy the input to
# fuzz/regressions/<target>/ so `cargo test -p agentgate-shared` replays it.
set -euo pipefail
source "$(dirname "$0")/../scripts/tools.sh"
ensure_fuzz_tools
cd "$ROOT"

SECS=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(jws cookie route socket_event fields socketio)
OUT="$ROOT/bench/out/fuzz"
mkdir -p "$OUT"

# No sanitizer: the fuzzed crate forbids unsafe code, so AddressSanitizer
# would mostly halve the executions; panics, aborts, overflow checks (debug
# assertions are on), timeouts and out-of-memory are still crashes.

# cargo-fuzz runs `cargo`, which would otherwise take rust-toolchain.toml's
# stable pin.
export RUSTUP_TOOLCHAIN=nightly
log "building the fuzz targets (nightly, release with debug assertions)"
"$CARGO_FUZZ" fuzz build --sanitizer none >&2

status=0
printf '%-14s %8s %14s %10s %8s %8s %8s\n' target seconds executions exec/s cov ft crashes
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/regressions/$t"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  rc=0
  "$CARGO_FUZZ" fuzz run --sanitizer none "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$SECS" -print_final_stats=1 -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    >"$OUT/$t.log" 2>&1 || rc=$?
  crashes=$(( $(find "fuzz/artifacts/$t" -type f | wc -l) - before ))
  [ "$rc" = 0 ] || [ "$crashes" -gt 0 ] || crashes="rc=$rc"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | tail -1 | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$OUT/$t.log" | tail -1 | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$OUT/$t.log" | tail -1 | grep -o '[0-9]*' || echo '?')
  ft=$(grep -o 'ft: [0-9]*' "$OUT/$t.log" | tail -1 | grep -o '[0-9]*' || echo '?')
  printf '%-14s %8s %14s %10s %8s %8s %8s\n' "$t" "$SECS" "$execs" "$rate" "$cov" "$ft" "$crashes"
  [ "$rc" = 0 ] || status=1
done
log "logs in $OUT; new crash inputs in fuzz/artifacts/<target>/"
exit $status
