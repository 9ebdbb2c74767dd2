"""The PyTorch side of chorus_gpu_bandwidth: the same ops and shapes, same byte counts.

Prints one JSON object per line, like bandwidth.cc. Run on the GPU machine:
  python3 tools/bench/gpu_bandwidth/torch_bandwidth.py
"""
import json

import torch
import torch.nn.functional as F

dev = "cuda"


def time_ms(fn, warmup=3, iters=20):
    for _ in range(warmup):
        fn()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) / iters


copy_gbps = 0.0


def report(op, shape, dtype, nbytes, ms):
    gbps = nbytes / (ms * 1e-3) / 1e9
    print(json.dumps({"op": op, "shape": shape, "dtype": dtype, "ms": round(ms, 4),
                      "gbps": round(gbps, 1),
                      "pct_copy": round(100 * gbps / copy_gbps, 1) if copy_gbps else 0.0}),
          flush=True)


def main():
    global copy_gbps
    a = torch.empty(1 << 28, device=dev)
    b = torch.empty(1 << 28, device=dev)
    ms = time_ms(lambda: b.copy_(a))
    copy_gbps = 2 * a.numel() * 4 / (ms * 1e-3) / 1e9
    report("d2d_copy", "2^28", "f32", 2 * a.numel() * 4, ms)
    del a, b
    bf16 = torch.bfloat16
    for rows, d in [(16384, 4096), (65536, 1024), (4096, 8192)]:
        x = torch.full((rows, d), 0.5, dtype=bf16, device=dev)
        w = torch.ones(d, device=dev)
        bias = torch.zeros(d, device=dev)
        nb = x.numel() * 2
        shape = f"{rows}x{d}"
        # F.layer_norm needs weight in the input dtype.
        wb, bb = w.to(bf16), bias.to(bf16)
        report("layer_norm_fwd", shape, "bf16", 2 * nb, time_ms(lambda: F.layer_norm(x, (d,), wb, bb, 1e-5)))
        report("rms_norm_fwd", shape, "bf16", 2 * nb, time_ms(lambda: F.rms_norm(x, (d,), wb, 1e-6)))
        report("softmax_fwd", shape, "bf16", 2 * nb, time_ms(lambda: torch.softmax(x, -1)))
        xg = x.detach().requires_grad_()
        wg = wb.detach().requires_grad_()
        g = torch.full_like(x, 0.5)
        report("rms_norm_fwd_bwd", shape, "bf16", 4 * nb + 3 * nb,
               time_ms(lambda: F.rms_norm(xg, (d,), wg, 1e-6).backward(g)))
        report("softmax_fwd_bwd", shape, "bf16", 2 * nb + 3 * nb,
               time_ms(lambda: torch.softmax(xg, -1).backward(g)))
        del x, xg, g
    for n, c in [(8192, 32000), (4096, 128256), (16384, 50257)]:
        logits = torch.full((n, c), 0.5, dtype=bf16, device=dev)
        targets = torch.zeros(n, dtype=torch.long, device=dev)
        nb = logits.numel() * 2
        shape = f"{n}x{c}"
        report("cross_entropy_fwd_kernel", shape, "bf16", nb,
               time_ms(lambda: F.cross_entropy(logits, targets)))
        lg = logits.detach().requires_grad_()
        report("cross_entropy_fwd_bwd_op", shape, "bf16", 3 * nb,
               time_ms(lambda: F.cross_entropy(lg, targets).backward()))
        del logits, lg
    for n in [1 << 24, 1 << 27]:
        for gd, name in [(torch.float32, "f32"), (bf16, "bf16")]:
            p = torch.full((n,), 0.5, device=dev, requires_grad=True)
            p.grad = torch.full((n,), 0.5, device=dev)
            nbytes = 6 * n * 4 + n * (4 if gd == torch.float32 else 2)
            for impl in ["foreach", "fused"]:
                if gd != torch.float32:
                    continue  # torch's optimizers want grad dtype == param dtype
                opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.1,
                                        **({"fused": True} if impl == "fused" else {"foreach": True}))
                report(f"adamw_grad_{name}_{impl}", str(n), "f32", nbytes, time_ms(opt.step))
            del p


if __name__ == "__main__":
    main()
