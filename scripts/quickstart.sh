#!/usr/bin/env bash
# The main job, end to end: generate box scenes with exact ground truth, train Pix2Scene on their
# images for a few minutes, score it and the shipped box-scene model (models/boxes) on a test set
# beside the image-blind baselines and the paper's Table 1, reconstruct test images in 3D, and
# write one HTML report. About 4 minutes on a 2-core CPU once built (the first build compiles
# burn: about 12 minutes more).
#
#   OUT=DIR      where everything goes (default out/quickstart)
#   STEPS=N      training iterations (default: the preset's 300)
#   PIX2SCENE=B  use the binary B instead of building the release binary
#   SMOKE=1      the same steps in miniature (seconds; what CI runs as a test)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-out/quickstart}"
SMOKE="${SMOKE:-0}"
MODEL=models/boxes
START=$SECONDS

if [[ -n "${PIX2SCENE:-}" ]]; then
    BIN="$PIX2SCENE"
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pix2scene-target}"
    cargo build --release --locked -p pix2scene
    BIN="$CARGO_TARGET_DIR/release/pix2scene"
    START=$SECONDS
fi

# Sizes: test scenes, baseline scenes, records scored, reconstructions, and training overrides.
if [[ "$SMOKE" == 1 ]]; then
    TEST=4 BASE=8 LIMIT=4 SHOW=1 FRAMES=4 QUIET=--quiet
    STEPS="${STEPS:-2}"
    TRAIN_SET=(--set data.train_scenes=8 --set data.held_out=4 --set optim.critic_steps=2
        --set optim.refine_steps=2 --set optim.regress_steps=2 --set run.eval_every=1
        --set run.sample_every=2 --set run.checkpoint_every=1 --set run.log_every=1)
else
    TEST=500 BASE=512 LIMIT=500 SHOW=3 FRAMES=24 QUIET=
    STEPS="${STEPS:-300}"
    TRAIN_SET=()
fi
mkdir -p "$OUT"
stage() { printf '\n== %s  (%d s)\n' "$1" $((SECONDS - START)); }

# The lights of the preset and of the shipped model: one pure red, one green, one blue light.
# POST: the post-processing of the shipped model's own row (docs/eval.md, `eval --post`).
POST=mirror,snap,guided,refine:200:5,snap,guided
LIGHTS=(--lights 3 --channel-light-colors)

stage "1/5 generate: ray-traced box scenes with exact depth, normals and masks"
"$BIN" generate --preset boxes --count "$TEST" --size 64 --seed 99 "${LIGHTS[@]}" \
    --out "$OUT/test" --force $QUIET
"$BIN" generate --preset boxes --count "$BASE" --size 64 --seed 7 "${LIGHTS[@]}" \
    --out "$OUT/baseline" --force --previews 0 $QUIET
echo "test set (seed 99): $OUT/test, previews in $OUT/test/previews/grid.png"
echo "image-blind baselines' scenes (seed 7): $OUT/baseline"

stage "2/5 train: Pix2Scene on the images of 300 box scenes (configs/quickstart.toml), $STEPS steps"
rm -rf "$OUT/run"
"$BIN" train --config configs/quickstart.toml --out "$OUT/run" --steps "$STEPS" \
    "${TRAIN_SET[@]}" $QUIET

stage "3/5 eval on the test set: this run, the shipped model, the image-blind baselines"
"$BIN" eval --run "$OUT/run" --data "$OUT/test" --views 0 --limit "$LIMIT" --json --quiet \
    > "$OUT/eval-run.json"
"$BIN" eval --run "$MODEL" --data "$OUT/test" --views 0 --limit "$LIMIT" --json --quiet \
    > "$OUT/eval-model.json"
"$BIN" eval --run "$MODEL" --data "$OUT/test" --views 0 --limit "$LIMIT" --json --quiet \
    --post "$POST" > "$OUT/eval-model-post.json"
for kind in per-pixel-mean global-mean; do
    "$BIN" eval --baseline "$kind" --train-data "$OUT/baseline" --data "$OUT/test" --views 0 \
        --limit "$LIMIT" --json --quiet > "$OUT/eval-$kind.json"
done
python3 - "$OUT" "$STEPS" <<'PY'
import json, os, sys
out, steps = sys.argv[1], sys.argv[2]
rows = [
    (f"this run ({steps} steps)", "eval-run.json"),
    ("shipped models/boxes", "eval-model.json"),
    ("  the same, post-processed (own row)", "eval-model-post.json"),
    ("per-pixel mean depth (image-blind)", "eval-per-pixel-mean.json"),
    ("global mean depth (image-blind)", "eval-global-mean.json"),
]
keys = ["hausdorff_f", "hausdorff_r", "mse_depth"]
res = {f: json.loads(open(os.path.join(out, f)).read().splitlines()[-1]) for _, f in rows}
images = res["eval-run.json"]["images"]
print(f"{images} test scenes at 0°, means over images (paper Table 1, box scenes: "
      "Hausdorff-F 0.087, Hausdorff-R 0.093, MSE-depth 0.032)")
print(f"{'':38}{'Hausdorff-F':>12}{'Hausdorff-R':>12}{'MSE-depth':>11}")
for name, f in rows:
    v = res[f]["views"]["0"]
    print(f"{name:38}" + "".join(f"{v[k]:>12.4f}" if k != "mse_depth" else f"{v[k]:>11.5f}"
                                  for k in keys))
base = res["eval-per-pixel-mean.json"]["views"]["0"]
print("x the per-pixel-mean baseline's (Hausdorff-F / Hausdorff-R / MSE-depth; goal: 0.5x):")
for name, f in rows[:3]:
    v = res[f]["views"]["0"]
    print(f"  {name.strip()}: " + " / ".join(f"{v[k] / base[k]:.2f}x" for k in keys))
PY

stage "4/5 reconstruct $SHOW test images with the shipped model: depth, normals, PLY, turntable"
for i in $(seq 0 $((SHOW - 1))); do
    "$BIN" reconstruct --run "$MODEL" --input "$OUT/test" --index "$i" --frames "$FRAMES" \
        --post "$POST" --out "$OUT/reconstruct/$i"
done
echo "open $OUT/reconstruct/0/depth.png, normal.png, surfels.ply (MeshLab), turntable.gif;"
echo "post-depth.png, post-surfels.ply, post-turntable.gif: the map post-processed on the image"
echo "($POST), and its turntable built from it"

stage "5/5 report"
"$BIN" report --run "$OUT/run" --data "$OUT/test" --compare "$MODEL" \
    --baseline-data "$OUT/baseline" --limit "$LIMIT" --examples "$SHOW" $QUIET \
    --out "$OUT/report.html"
printf '\n== done in %d s. Open the report: %s\n' $((SECONDS - START)) "$OUT/report.html"
