#!/usr/bin/env python3
"""Where Hausdorff-F comes from: per-pixel forward distances of depth maps, as a PNG and numbers.

    python3 scripts/hausdorff_maps.py DATASET --pred "network=DIR" [--pred "kept target=FILE"] \
        [--count N] [--rows 0,1,2] --out maps.png

DATASET is a `pix2scene generate` directory (its first shard is read). Each `--pred` is
LABEL=SOURCE: SOURCE is either a directory holding `I/depth.npy` for record I (what
`pix2scene reconstruct --input DATASET --index I --out SOURCE/I` writes), a path pattern with
`{i}` for the record (e.g. `rec/{i}/snapped-depth.npy`, what `reconstruct --snap-edges` adds),
or a run's `refined-targets.bin` (the kept training targets; scene identifiers are generator
records).
For every source it prints, over the first N records, the mean Hausdorff-F (max over predicted
surfels of the distance to the nearest true surfel, as `pix2scene eval`), the same after each
map's median depth ratio to the truth is divided out, and the mean forward distance. The figure
shows, for the records in --rows: the input, the true depth, and for every source its depth and
its forward distance per pixel (0 to 0.1 scene units).

Needs numpy, scipy, matplotlib and safetensors (`pip install numpy scipy matplotlib safetensors`).
"""
import argparse, json, os, struct, sys

import numpy as np
from safetensors.numpy import load_file
from scipy.spatial import cKDTree


def ray_directions(size, fovy_deg):
    """Unit ray directions through pixel centres, camera frame (+x right, +y up, looking -z)."""
    f = np.tan(np.radians(fovy_deg) / 2)
    u = ((np.arange(size) + 0.5) / size * 2 - 1) * f
    x, y = np.meshgrid(u, -u)
    d = np.stack([x, y, -np.ones_like(x)], -1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def read_targets(path, size):
    data = open(path, "rb").read()
    if data[:8] != b"P2SREFT1":
        sys.exit(f"error: {path}: not a refined-targets file")
    pixels, count = struct.unpack("<QQ", data[8:24])
    if pixels != size * size:
        sys.exit(f"error: {path}: maps of {pixels} pixels, the dataset's images have {size * size}")
    maps, off = {}, 24
    for _ in range(count):
        (i,) = struct.unpack("<Q", data[off : off + 8])
        maps[i] = np.frombuffer(data[off + 8 : off + 8 + 4 * pixels], "<f4").reshape(size, size)
        off += 8 + 4 * pixels
    return maps.get


def source(spec, size):
    label, _, path = spec.partition("=")
    if not path:
        sys.exit(f"error: --pred {spec!r}: expected LABEL=DIR or LABEL=refined-targets.bin")
    if os.path.isfile(path):
        return label, read_targets(path, size)
    pattern = path if "{i}" in path else os.path.join(path, "{i}", "depth.npy")

    def load(i):
        p = pattern.replace("{i}", str(i))
        return np.load(p).reshape(size, size) if os.path.exists(p) else None

    return label, load


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--pred", action="append", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--rows", default="0,1,2,3")
    ap.add_argument("--out")
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(args.dataset, "manifest.json")))
    shard = load_file(os.path.join(args.dataset, manifest["shards"][0]["file"]))
    size = manifest["size"]
    dirs = ray_directions(size, manifest["fovy_deg"])
    sources = [source(s, size) for s in args.pred]
    count = min(args.count, len(shard["depth"]))

    def forward(i, pred):
        truth, mask = shard["depth"][i], shard["mask"][i] == 1
        tree = cKDTree((dirs * truth[..., None])[mask])
        dist = np.zeros((size, size))
        dist[mask] = tree.query((dirs * pred[..., None])[mask])[0]
        ratio = np.exp(np.median(np.log(truth[mask]) - np.log(pred[mask])))
        rescaled = tree.query((dirs * (ratio * pred)[..., None])[mask])[0].max()
        return dist, rescaled

    for label, load in sources:
        hf, hf_scaled, mean = [], [], []
        for i in range(count):
            pred = load(i)
            if pred is None:
                sys.exit(f"error: {label}: no depth map for record {i}")
            dist, rescaled = forward(i, pred)
            mask = shard["mask"][i] == 1
            hf.append(dist.max()), hf_scaled.append(rescaled), mean.append(dist[mask].mean())
        print(
            f"{label}: {count} records, Hausdorff-F {np.mean(hf):.4f} (median {np.median(hf):.4f}),"
            f" after the median depth ratio {np.mean(hf_scaled):.4f},"
            f" mean forward distance {np.mean(mean):.4f}"
        )
    if not args.out:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [int(r) for r in args.rows.split(",")]
    cols = 2 + 2 * len(sources)
    fig, ax = plt.subplots(len(rows), cols, figsize=(1.6 * cols, 1.7 * len(rows)), squeeze=False)
    for r, i in enumerate(rows):
        truth, mask = shard["depth"][i], shard["mask"][i] == 1
        lo, hi = truth[mask].min(), truth[mask].max()
        ax[r, 0].imshow(np.clip(shard["image"][i], 0, 1) ** (1 / 2.2))
        ax[r, 1].imshow(truth, vmin=lo, vmax=hi)
        titles = ["input", "depth, truth"]
        for k, (label, load) in enumerate(sources):
            pred = load(i)
            dist, _ = forward(i, pred)
            ax[r, 2 + 2 * k].imshow(pred, vmin=lo, vmax=hi)
            ax[r, 3 + 2 * k].imshow(dist, vmin=0, vmax=0.1, cmap="magma")
            ax[r, 3 + 2 * k].text(1, 6, f"max {dist.max():.3f}", color="w", fontsize=7)
            titles += [f"depth, {label}", f"distance, {label}"]
        for c in range(cols):
            ax[r, c].set_xticks([]), ax[r, c].set_yticks([])
            if r == 0:
                ax[r, c].set_title(titles[c], fontsize=7)
    plt.tight_layout()
    plt.savefig(args.out, dpi=90)


if __name__ == "__main__":
    main()
