#!/usr/bin/env bash
# Main job, end to end on a small default: build, generate a dataset, train, evaluate, report.
# Everything lands in out/quickstart/ (override with OUT=...). Minutes on a 2-core CPU once built.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pix2scene-target}"
OUT="${OUT:-out/quickstart}"

cargo build --release -p pix2scene
BIN="$CARGO_TARGET_DIR/release/pix2scene"

echo "== generating boxes scenes (ray-traced, exact depth/normals) into $OUT/data"
"$BIN" generate --preset boxes --count 512 --size 32 --seed 0 --out "$OUT/data" --force
"$BIN" generate --preset iqtt --count 16 --size 64 --seed 0 --out "$OUT/iqtt" --force
"$BIN" bench generate --preset boxes --size 128 --count 1000 | tee "$OUT/bench-generate.txt"
echo "== done: see $OUT/data/previews/grid.png and $OUT/iqtt/previews/grid.png"
