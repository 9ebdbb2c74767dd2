#!/usr/bin/python3
"""PyTorch 1.13 (Debian's python3-torch) on the shapes of tools/bench/bench_cpu.cc.

Prints JSON in Google Benchmark's layout ({"benchmarks": [{"name", "real_time",
"time_unit"}]}) with the same benchmark names, so tools/bench/compare.py can join the two.
Usage: /usr/bin/python3 tools/bench/torch_cpu.py --threads 2 > torch.json
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


def timeit(fn, min_time=0.5, min_iters=3):
    fn()  # warm-up
    iters, start = 0, time.perf_counter()
    while True:
        fn()
        iters += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and iters >= min_iters:
            return elapsed / iters


def attention(q, k, v, causal):
    # PyTorch 1.13 has no fused SDPA on the CPU: the eager formulation materialises scores.
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        l = q.shape[-2]
        mask = torch.ones(l, l, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = []

    def record(name, seconds, unit):
        scale = {"ms": 1e3, "us": 1e6}[unit]
        results.append({"name": name, "real_time": seconds * scale, "time_unit": unit})

    with torch.no_grad():
        for n in (512, 1024, 2048, 4096):
            a, b = torch.rand(n, n) * 2 - 1, torch.rand(n, n) * 2 - 1
            record(f"BM_Gemm/{n}/real_time", timeit(lambda: torch.matmul(a, b)), "ms")
        for r, c in ((4096, 1024), (1024, 32000)):
            x = torch.randn(r, c)
            record(f"BM_Softmax/{r}/{c}/real_time", timeit(lambda: torch.softmax(x, -1)), "us")
        for r, d in ((8192, 1024), (2048, 4096)):
            x, w, bb = torch.randn(r, d), torch.randn(d), torch.randn(d)
            record(f"BM_LayerNorm/{r}/{d}/real_time",
                   timeit(lambda: F.layer_norm(x, (d,), w, bb, 1e-5)), "us")
        for n, c in ((2048, 32000), (512, 128000)):
            logits = torch.randn(n, c)
            t = torch.tensor([(i * 7919) % c for i in range(n)])
            record(f"BM_CrossEntropy/{n}/{c}/real_time",
                   timeit(lambda: F.cross_entropy(logits, t)), "us")
        for l, causal in ((256, 0), (1024, 0), (1024, 1), (4096, 0), (4096, 1)):
            q, k, v = (torch.randn(1, 8, l, 64) for _ in range(3))
            record(f"BM_Attention/{l}/{causal}/real_time",
                   timeit(lambda: attention(q, k, v, causal)), "ms")
        for l, causal in ((1024, 0), (1024, 1)):
            q, k, v = (torch.randn(1, 8, l, 64, requires_grad=True) for _ in range(3))
            g = torch.randn(1, 8, l, 64)

            def train_step():
                with torch.enable_grad():
                    q.grad = k.grad = v.grad = None
                    attention(q, k, v, causal).backward(g)

            record(f"BM_AttentionTrain/{l}/{causal}/real_time", timeit(train_step), "ms")
        for n in (1 << 20, 1 << 24):
            a, b = torch.randn(n), torch.randn(n)
            record(f"BM_Add/{n}/real_time", timeit(lambda: torch.add(a, b)), "us")
    print(json.dumps({"context": {"torch": torch.__version__, "threads": args.threads},
                      "benchmarks": results}, indent=1))


if __name__ == "__main__":
    main()
