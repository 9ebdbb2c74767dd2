"""Joins bench_gpu.json (chorus) and torch_gpu.json (PyTorch) into one table: TFLOP/s of each,
the engine's GEMM against the direct cuBLASLt call, and the engine against PyTorch.

Usage: python3 compare.py bench_gpu.json torch_gpu.json [--md table.md]
"""

import argparse
import json


def load(path):
    with open(path) as f:
        return {r["name"]: r for r in json.load(f)["results"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ours")
    parser.add_argument("torch")
    parser.add_argument("--md")
    parser.add_argument("--ops", help="bench_gpu_ops.json (the engine's ops on Tensors)")
    args = parser.parse_args()
    ours, theirs = load(args.ours), load(args.torch)
    if args.ops:
        ours.update(load(args.ops))
    keys = sorted({n.rsplit("/", 1)[0] for n in list(ours) + list(theirs)})
    lines = ["| benchmark | chorus layer TFLOP/s | chorus op | direct cuBLASLt | PyTorch "
             "| layer/direct | op/direct | layer/PyTorch |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in keys:
        c = ours.get(key + "/chorus")
        o = ours.get(key + "/chorus_op")
        d = ours.get(key + "/direct_cublaslt")
        t = theirs.get(key + "/torch")
        fmt = lambda r: f"{r['tflops']:.1f}" if r else "-"  # noqa: E731
        ratio = lambda a, b: f"{a['tflops'] / b['tflops']:.3f}" if a and b else "-"  # noqa: E731
        lines.append(f"| {key} | {fmt(c)} | {fmt(o)} | {fmt(d)} | {fmt(t)} | {ratio(c, d)} "
                     f"| {ratio(o, d)} | {ratio(c or o, t)} |")
    text = "\n".join(lines)
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
