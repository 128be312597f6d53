#!/usr/bin/env python3
"""Held-out depth error of training runs against wall-clock minutes, as an SVG (log scale).

    python3 scripts/curve_svg.py runs/a:"label a" runs/b:"label b" --out curve.svg \
        [--line 0.032:"paper Table 1"] [--points FILE.json:"label"]

Each RUN is a `pix2scene train` run directory; its `metrics.jsonl` lines that carry
`held_out_mse_depth` are plotted at `elapsed_s`. `--line` draws a horizontal reference line.
`--points` plots a JSON list of [minutes, mse] pairs (figures from an older run). Only the
Python standard library is used.
"""
import argparse, json, math, os, sys

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
W, H, L, R, T, B = 820, 400, 70, 270, 20, 50


def labelled(arg):
    path, _, label = arg.partition(":")
    return path, label or os.path.basename(path.rstrip("/"))


def run_points(path):
    metrics = os.path.join(path, "metrics.jsonl")
    try:
        lines = open(metrics).read().splitlines()
    except OSError as err:
        sys.exit(f"error: {metrics}: {err.strerror}")
    points = []
    for n, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            sys.exit(f"error: {metrics}:{n}: not JSON ({err.msg})")
        if "held_out_mse_depth" in row:
            points.append((row["elapsed_s"] / 60.0, row["held_out_mse_depth"]))
    if not points:
        sys.exit(f"error: {metrics}: no line with held_out_mse_depth")
    return points


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*", help="RUN[:label]")
    ap.add_argument("--points", action="append", default=[], help="FILE.json[:label]")
    ap.add_argument("--line", action="append", default=[], help="VALUE[:label]")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    series = [(label, run_points(path)) for path, label in map(labelled, args.runs)]
    for path, label in map(labelled, args.points):
        series.append((label, [tuple(p) for p in json.load(open(path))]))
    lines = [(float(v), label) for v, label in map(labelled, args.line)]
    if not series:
        sys.exit("error: nothing to plot: give at least one run or --points file")
    values = [v for _, pts in series for _, v in pts] + [v for v, _ in lines]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    x_max = max(m for _, pts in series for m, _ in pts)
    x_max = max(10, math.ceil(x_max / 10) * 10)

    def px(m):
        return L + (W - L - R) * m / x_max

    def py(v):
        return T + (H - T - B) * (math.log10(hi) - math.log10(v)) / (math.log10(hi) - math.log10(lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    decade = lo
    while decade <= hi * 1.0001:
        for k in range(1, 10):
            v = decade * k
            if v > hi * 1.0001:
                break
            y = py(v)
            out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="#{"ccc" if k == 1 else "eee"}"/>')
            if k == 1:
                out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        decade *= 10
    for m in range(0, x_max + 1, 10):
        out.append(f'<line x1="{px(m):.1f}" x2="{px(m):.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
        out.append(f'<text x="{px(m):.1f}" y="{H - B + 16}" text-anchor="middle">{m}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">minutes</text>')
    out.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(T + H - B) / 2})">held-out MSE-depth</text>')
    # The legend sits right of the plot, below the reference lines' labels.
    legend_y = H - B - 18 * len(series) + 6
    for v, label in lines:
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
                   f'stroke="#555" stroke-dasharray="5,4"/>')
        out.append(f'<text x="{W - R + 6}" y="{py(v) + 4:.1f}">{label}</text>')
    for i, (label, pts) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{px(m):.1f},{py(v):.1f}" for m, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for m, v in pts:
            out.append(f'<circle cx="{px(m):.1f}" cy="{py(v):.1f}" r="2.5" fill="{color}"/>')
        out.append(f'<rect x="{W - R + 6}" y="{legend_y + 18 * i - 9}" width="14" height="4" fill="{color}"/>')
        out.append(f'<text x="{W - R + 26}" y="{legend_y + 18 * i - 3}">{label}</text>')
    out.append("</svg>")
    open(args.out, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
