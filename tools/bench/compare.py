#!/usr/bin/python3
"""Joins Chorus's Google Benchmark JSON with PyTorch's (tools/bench/torch_cpu.py) and prints
a Markdown table of times and speed ratios (peer time / Chorus time: > 1 means Chorus is
faster). GEMM rows also compare against the direct OpenBLAS call measured in the same run.

Usage: compare.py chorus.json torch.json
"""
import json
import re
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    # Names carry options such as "/min_time:3.000" that the PyTorch script does not print.
    return {re.sub(r"/min_time:[0-9.]+", "", b["name"]): b for b in data["benchmarks"]
            if b.get("run_type", "iteration") != "aggregate"}


def main():
    chorus, torch = load(sys.argv[1]), load(sys.argv[2])
    print("| benchmark | Chorus | OpenBLAS direct | PyTorch 1.13 | vs OpenBLAS | vs PyTorch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, b in chorus.items():
        if name.startswith("BM_GemmOpenBLAS"):
            continue
        unit = b["time_unit"]
        t = b["real_time"]
        blas = chorus.get(name.replace("BM_Gemm/", "BM_GemmOpenBLAS/")) if name.startswith("BM_Gemm/") else None
        peer = torch.get(name)
        cell = lambda x: f"{x:.3f} {unit}" if x is not None else "—"
        blas_t = blas["real_time"] if blas else None
        peer_t = peer["real_time"] if peer else None
        if peer and peer["time_unit"] != unit:
            raise SystemExit(f"unit mismatch for {name}")
        r_blas = f"{blas_t / t:.2f}×" if blas_t else "—"
        r_peer = f"{peer_t / t:.2f}×" if peer_t else "—"
        short = name.replace("/real_time", "").replace("BM_", "")
        print(f"| {short} | {cell(t)} | {cell(blas_t)} | {cell(peer_t)} | {r_blas} | {r_peer} |")


if __name__ == "__main__":
    main()
