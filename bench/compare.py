#!/usr/bin/env python3
"""Alternating pairs of pix2scene's benchmark and the PyTorch yardstick, with medians and the
ratio. Standard library only; the yardstick runs in the Python given by --python (default: the
repository's .venv, see bench/README.md).

    python3 bench/compare.py render --threads 1 --pairs 6
    python3 bench/compare.py train --config configs/cpu-64.toml --threads 2 --pairs 6

Each pair runs both programs once, one after the other, alternating which goes first, so that a
slow spell of the machine hits both sides alike. The figures compared are the medians over the
pairs: per 128² image, milliseconds forward and forward + backward (`render`), iterations per
second (`train`); the ratio says how many times faster pix2scene is. Each process's peak
resident memory is read from the kernel (`wait4`). The load average is printed before and after:
on a busy machine both sides read slower and PyTorch's OpenMP threads, which spin while they
wait, far slower; measure on a quiet machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    """Runs `cmd`, returns (the JSON object on its last stdout line, its peak RSS in MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        except OSError as e:
            sys.exit(f"error: {cmd[0]}: {e.strerror}")
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines, message = out.read().strip().splitlines(), err.read().strip()
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {proc.returncode}: {message}")
    try:
        return json.loads(lines[-1]), usage.ru_maxrss / 1024  # Linux: KiB
    except (IndexError, json.JSONDecodeError):
        sys.exit(f"error: {' '.join(cmd)}: no JSON object on the last line of its output")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["render", "train"])
    ap.add_argument("--pairs", type=int, default=6, help="alternating pairs (default 6)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--config", default="configs/cpu-64.toml", help="train: preset file")
    ap.add_argument("--iters", type=int, default=10, help="train: timed iterations per run")
    ap.add_argument("--size", type=int, default=128, help="render: image side")
    ap.add_argument("--batch", type=int, default=6, help="render: depth maps per batch")
    ap.add_argument("--reps", type=int, default=40, help="render: timed repetitions per run")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/pix2scene-target"))
    ap.add_argument("--bin", default=os.path.join(target, "release", "pix2scene"),
                    help="the pix2scene binary (default: $CARGO_TARGET_DIR/release/pix2scene)")
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    ap.add_argument("--python", default=venv if os.path.exists(venv) else sys.executable,
                    help="the Python with torch (default: .venv/bin/python)")
    ap.add_argument("--json", action="store_true", help="one JSON object on the last line")
    a = ap.parse_args()
    if a.pairs < 1:
        sys.exit(f"error: --pairs {a.pairs}: must be at least 1")

    ref = [a.python, os.path.join(HERE, "torch_reference.py"), a.what, "--threads",
           str(a.threads), "--json"]
    ours = [a.bin, "--threads", str(a.threads), "bench", a.what, "--json"]
    if a.what == "render":
        sizes = ["--size", str(a.size), "--batch", str(a.batch), "--reps", str(a.reps)]
        keys = ["fwd_ms_per_image", "fwd_bwd_ms_per_image"]
    else:
        sizes = ["--config", a.config, "--iters", str(a.iters)]
        keys = ["iters_per_s"]
    ref, ours = ref + sizes, ours + sizes

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rows = {"pix2scene": [], "pytorch": []}
    for i in range(a.pairs):
        order = [("pix2scene", ours), ("pytorch", ref)]
        for name, cmd in order if i % 2 == 0 else order[::-1]:
            figures, rss = run(cmd)
            rows[name].append({**{k: figures[k] for k in keys}, "peak_rss_mib": rss})
        print(f"pair {i + 1}: " + "; ".join(
            f"{name} " + ", ".join(f"{k} {rows[name][-1][k]:.4g}" for k in keys)
            for name in rows))
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    summary = {"what": a.what, "threads": a.threads, "pairs": a.pairs,
               "config": a.config if a.what == "train" else None, "figures": rows}
    for name in rows:
        for k in keys + ["peak_rss_mib"]:
            summary[f"{name}_{k}"] = statistics.median(r[k] for r in rows[name])
    for k in keys:
        ours_k, ref_k = summary[f"pix2scene_{k}"], summary[f"pytorch_{k}"]
        # Times: the reference's over ours; rates: ours over the reference's.
        faster = (lambda o, r: r / o) if k.endswith("_ms_per_image") else (lambda o, r: o / r)
        summary[f"ratio_{k}"] = faster(ours_k, ref_k)
        pair = sorted(faster(o[k], r[k]) for o, r in zip(rows["pix2scene"], rows["pytorch"]))
        summary[f"pair_ratios_{k}"] = pair
        print(f"median {k}: pix2scene {ours_k:.4g}, pytorch {ref_k:.4g}: pix2scene "
              f"{summary[f'ratio_{k}']:.2f}x faster (median pair {statistics.median(pair):.2f}x, "
              f"pairs {pair[0]:.2f}-{pair[-1]:.2f}x)")
    print(f"median peak RSS: pix2scene {summary['pix2scene_peak_rss_mib']:.0f} MiB, "
          f"pytorch {summary['pytorch_peak_rss_mib']:.0f} MiB")
    if a.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
