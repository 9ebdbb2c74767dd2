#!/usr/bin/python3
"""PyTorch 1.13 baseline for BM_Attention* in linalg_bench.cc: matmul + softmax + matmul.

Run with Debian's interpreter: /usr/bin/python3 tools/bench/attention_torch.py [threads]
"""
import sys
import time

import torch


def attention(q, k, v, causal):
    s = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5
    if causal:
        l = s.shape[-1]
        s = s.masked_fill(torch.ones(l, l, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def timed(fn, repeats=10):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    for b, h, l, d, causal in [(4, 8, 512, 64, 0), (4, 8, 512, 64, 1), (1, 8, 2048, 64, 0)]:
        q, k, v = (torch.full((b, h, l, d), x) for x in (0.01, 0.02, 0.03))
        with torch.no_grad():
            fwd = timed(lambda: attention(q, k, v, causal))
        for t in (q, k, v):
            t.requires_grad_(True)
        g = torch.ones(b, h, l, d)
        both = timed(lambda: attention(q, k, v, causal).backward(g))
        print(f"attention b={b} h={h} l={l} d={d} causal={causal}: "
              f"forward {fwd:.2f} ms, forward+backward {both:.2f} ms")
    n = 1024
    a, c = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
    print(f"sgemm {n}: {timed(lambda: a @ c):.2f} ms")


if __name__ == "__main__":
    main()
