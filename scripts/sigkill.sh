#!/usr/bin/env bash
# The long SIGKILL run of docs/reliability.md: kills `pix2scene train` (configs/tiny-32.toml)
# with SIGKILL at seeded random moments, resuming after each kill, and checks that the finished
# run's metrics.jsonl loss columns, final checkpoint and sample grids equal an uninterrupted
# run's bit for bit. Prints where each kill landed. `cargo test` runs the same test with 3 kills.
#
#   scripts/sigkill.sh [KILLS] [SEED] [STEPS]      (defaults: 24 kills, seed 1, 40 steps)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pix2scene-target}"
export PIX2SCENE_KILLS="${1:-24}" PIX2SCENE_KILL_SEED="${2:-1}" PIX2SCENE_KILL_STEPS="${3:-40}"
exec cargo test --quiet --locked -p pix2scene --test cli \
    sigkill:: -- --nocapture
