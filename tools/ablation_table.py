"""Markdown tables for tools/run-ablation from the runs' eval.json files.

Usage: python3 ablation_table.py stage:NAME=RUN_DIR ... weight:MODE_SEED=RUN_DIR ...
Stage rows: zero-shot top-1 (image and audio), emergent audio->image accuracy, image
clustering ACC/NMI. Weighting rows: fused accuracy, the unimodal accuracies through the same
head, and the mean weights used at evaluation, as mean ± standard deviation over seeds.
"""
import json
import os
import statistics
import sys


def final(run):
    with open(os.path.join(run, "eval.json")) as f:
        return json.load(f)["final"]


def stat(values):
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def main():
    stages, weights = [], {}
    for arg in sys.argv[1:]:
        kind, rest = arg.split(":", 1)
        name, run = rest.split("=", 1)
        if kind == "stage":
            stages.append((name, run))
        else:
            mode, seed = name.rsplit("_", 1)
            weights.setdefault(mode, []).append((int(seed), run))
    print("| stages | zero-shot image | zero-shot audio | emergent audio→image | "
          "clustering ACC (image) | NMI |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    label = {"instance": "instance only", "cluster": "+ cluster", "semantic": "+ semantic"}
    for name, run in stages:
        f = final(run)
        z = f["zero_shot"]
        c = f.get("clustering", {}).get("image", {})
        print(f"| {label.get(name, name)} | {z['image']['top1']:.4f} | {z['audio']['top1']:.4f} | "
              f"{f['emergent']['audio-image']['accuracy']:.4f} | {c.get('acc', float('nan')):.4f} | "
              f"{c.get('nmi', float('nan')):.4f} |")
    print()
    print("| weighting | seeds | fused accuracy | image alone | audio alone | "
          "eval weights (image / audio) |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for mode in ["fixed", "equal", "learned", "dropout"]:
        runs = sorted(weights.get(mode, []))
        if not runs:
            continue
        tasks = [final(run)["task"]["classify"] for _, run in runs]
        fused = [t["accuracy"] for t in tasks]
        image = [t["unimodal"]["image"] for t in tasks]
        audio = [t["unimodal"]["audio"] for t in tasks]
        wi = statistics.mean(t["weights"]["image"] for t in tasks)
        wa = statistics.mean(t["weights"]["audio"] for t in tasks)
        print(f"| {mode} | {len(runs)} | {stat(fused)} | {stat(image)} | {stat(audio)} | "
              f"{wi:.2f} / {wa:.2f} |")


if __name__ == "__main__":
    main()
