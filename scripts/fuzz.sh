#!/usr/bin/env bash
# Long fuzz runs of every parser of outside input (see docs/reliability.md).
#
#   scripts/fuzz.sh [--inputs N] [--seed S] [TARGET ...]
#       the seeded mutation engine, N inputs per target (default 100,000); prints inputs/s,
#       accepted/rejected counts, distinct outcomes, peak memory and the slowest input per target.
#   scripts/fuzz.sh --coverage [--inputs N] [TARGET ...]
#       coverage-guided: libFuzzer (fuzz/libfuzzer), built on stable Rust with LLVM's
#       sanitizer-coverage passes, N runs per target from the project's own seed files. Needs a
#       C++ compiler; the first build instruments every dependency (burn included) and takes a
#       while. Crashes are written to $CARGO_TARGET_DIR/libfuzzer/artifacts/TARGET/.
#
# Targets: obj npy shade-params manifest generator-config shard dataset preset overrides
# checkpoint metrics reconstruct-png camera-json iqtt-answers (default: all).
# Exits non-zero if any input broke a property.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/pix2scene-target}"
export CARGO_TARGET_DIR="$target_dir"

if [[ "${1:-}" != "--coverage" ]]; then
    exec cargo run --quiet --release --locked -p pix2scene-fuzz -- "$@"
fi
shift
inputs=100000
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --inputs) inputs="${2//_/}"; shift 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(obj npy shade-params manifest generator-config shard dataset preset overrides checkpoint metrics)
fi
host="$(rustc -vV | sed -n 's/^host: //p')"
work="$target_dir/libfuzzer"
# The instrumentation goes through RUSTFLAGS; naming --target keeps it off build scripts.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares" \
    cargo build --quiet --release --manifest-path fuzz/libfuzzer/Cargo.toml --target "$host" \
    --target-dir "$work/build" --bins
cargo run --quiet --release --locked -p pix2scene-fuzz -- --write-seeds "$work/seeds" "${targets[@]}"
status=0
for t in "${targets[@]}"; do
    corpus="$work/corpus/$t"
    artifacts="$work/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    log="$work/$t.log"
    start=$(date +%s.%N)
    if ! "$work/build/$host/release/$t" "$corpus" "$work/seeds/$t" -runs="$inputs" \
        -max_len=1048576 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1; then
        status=1
        echo "$t: FAILED, see $log"; tail -n 20 "$log"
    fi
    end=$(date +%s.%N)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    awk -v t="$t" -v r="${runs:-0}" -v s="$start" -v e="$end" -v c="${cov:-cov: ?}" \
        'BEGIN { printf "%-17s %9d inputs %9.0f/s  %s (coverage-guided)\n", t, r, r / (e - s), c }'
done
exit $status
