#!/usr/bin/python3
"""Draws validation-loss curves from several runs' eval.jsonl files into one SVG (no plotting
library needed). Usage: plot_curves.py OUT.svg LABEL=RUN_DIR/eval.jsonl [...]"""
import json
import sys

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def main():
    out, series = sys.argv[1], []
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        rows = [json.loads(l) for l in open(path)]
        series.append((label, [(r["step"], r["val_loss"]) for r in rows]))
    w, h, m = 640, 400, 60
    xs = [s for _, pts in series for s, _ in pts]
    ys = [v for _, pts in series for _, v in pts]
    x0, x1, y0, y1 = 0, max(xs), min(ys) * 0.95, max(ys) * 1.02
    px = lambda x: m + (x - x0) / (x1 - x0) * (w - 2 * m)
    py = lambda y: h - m - (y - y0) / (y1 - y0) * (h - 2 * m)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<line x1="{m}" y1="{h - m}" x2="{w - m}" y2="{h - m}" stroke="black"/>',
           f'<line x1="{m}" y1="{m}" x2="{m}" y2="{h - m}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 20}" text-anchor="middle">training step</text>',
           f'<text x="18" y="{h / 2}" transform="rotate(-90 18 {h / 2})" '
           f'text-anchor="middle">validation loss (nats/byte)</text>']
    for i in range(5):
        yv = y0 + (y1 - y0) * i / 4
        svg.append(f'<text x="{m - 6}" y="{py(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
        xv = x0 + (x1 - x0) * i / 4
        svg.append(f'<text x="{px(xv):.1f}" y="{h - m + 16}" text-anchor="middle">{xv:.0f}</text>')
    for k, (label, pts) in enumerate(series):
        c = COLORS[k % len(COLORS)]
        path = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in pts)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        svg.append(f'<text x="{w - m - 150}" y="{m + 16 * (k + 1)}" fill="{c}">{label}: '
                   f'{pts[-1][1]:.3f} at step {pts[-1][0]}</text>')
    svg.append("</svg>")
    open(out, "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
