#!/usr/bin/env bash
# Ships a run's model into models/NAME: its resolved config.toml, the encoder and decoder
# weights of its best checkpoint (lowest validation depth error), and check.json, the model's
# figures on the first 16 records of the test set TEST, as the network and post-processed by
# POST (its `post` entry), which crates/eval/tests/shipped_models.rs regenerates and checks the
# model reproduces. The model card (models/NAME/README.md) is written by hand.
#
#   bash scripts/ship_model.sh RUN NAME TEST      (PIX2SCENE=binary, default the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# == 3 ]] || { echo "usage: $0 RUN NAME TEST" >&2; exit 2; }
RUN=$1 NAME=$2 TEST=$3
BIN="${PIX2SCENE:-${CARGO_TARGET_DIR:-$HOME/.cache/pix2scene-target}/release/pix2scene}"
POST=mirror,snap,guided,refine:200:5,snap,guided
OUT=models/$NAME
mkdir -p "$OUT"
best=$("$BIN" eval --run "$RUN" --data "$TEST" --views 0 --limit 1 --json --quiet |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["checkpoint"])')
step=$(sed -n 's/^best (step-\([0-9]*\))$/\1/p' <<<"$best")
[[ -n "$step" ]] || { echo "error: $RUN: no best checkpoint ($best)" >&2; exit 1; }
cp "$RUN/config.toml" "$OUT/config.toml"
for f in encoder.bpk decoder.bpk; do
    cp "$RUN/checkpoints/step-$(printf %08d "$step")/$f" "$OUT/$f"
done
{
    "$BIN" eval --run "$OUT" --data "$TEST" --limit 16 --json --quiet
    "$BIN" eval --run "$OUT" --data "$TEST" --limit 16 --json --quiet --post "$POST"
} | python3 -c '
import json, sys
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
network, post = [json.loads(line) for line in sys.stdin.read().splitlines() if line.startswith("{")]
check = {"generator": manifest["config"], "count": network["images"], "result": network,
         "post": {"steps": sys.argv[3], "result": post}}
json.dump(check, open(sys.argv[2], "w"), indent=1)
' "$TEST" "$OUT/check.json" "$POST"
echo "$OUT: weights of $RUN step $step; check.json on 16 records of $TEST"
