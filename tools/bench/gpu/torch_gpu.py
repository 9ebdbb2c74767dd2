"""PyTorch side of the GPU benchmark: the shapes of bench_gpu.cc, timed the same way (CUDA
events, L2 flushed by a 256 MiB memset before each timed run, median of 20 after 5 warm-ups).

Usage: python3 torch_gpu.py [--out torch_gpu.json]
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F

FLUSH = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
ROWS = []


def median_ms(fn, warmup=5, iters=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for i in range(iters):
        FLUSH.fill_(i & 0xFF)
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]


def report(name, ms, flops):
    tflops = flops / (ms * 1e-3) / 1e12
    ROWS.append({"name": name, "ms": ms, "tflops": tflops})
    print(f"{name:<44} {ms:10.4f} ms {tflops:9.1f} TFLOP/s", flush=True)


def bench_gemm():
    for n in (4096, 8192):
        a = torch.rand(n, n, device="cuda", dtype=torch.bfloat16) * 2 - 1
        b = torch.rand(n, n, device="cuda", dtype=torch.bfloat16) * 2 - 1
        c = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
        report(f"gemm_bf16/{n}^3/torch", median_ms(lambda: torch.matmul(a, b, out=c)), 2.0 * n**3)
    n = 8192
    a = (torch.rand(n, n, device="cuda") * 2 - 1).to(torch.float8_e4m3fn)
    b = (torch.rand(n, n, device="cuda") * 2 - 1).to(torch.float8_e4m3fn)
    sa = torch.tensor(0.5, device="cuda")
    sb = torch.tensor(2.0, device="cuda")
    try:
        report(
            "gemm_fp8_e4m3/8192^3/torch",
            median_ms(lambda: torch._scaled_mm(a, b.t(), scale_a=sa, scale_b=sb, out_dtype=torch.bfloat16)),
            2.0 * n**3,
        )
    except Exception as e:  # noqa: BLE001 - report and go on
        print("fp8 torch._scaled_mm failed:", e)


def bench_attention():
    h, d, tokens = 16, 128, 16384
    for seq in (1024, 2048, 4096, 8192, 16384):
        b = max(1, tokens // seq)
        q, k, v, do = (
            (torch.rand(b, h, seq, d, device="cuda", dtype=torch.bfloat16) * 2 - 1).requires_grad_(i < 3)
            for i in range(4)
        )
        for causal in (False, True):
            fwd_flops = 4.0 * b * h * seq * seq * d * (0.5 if causal else 1.0)
            name = f"attention_bf16_d128/seq{seq}/{'causal' if causal else 'full'}"

            def fwd():
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

            out = fwd()
            t_fwd = median_ms(lambda: fwd())
            t_bwd = median_ms(lambda: torch.autograd.grad(out, (q, k, v), do, retain_graph=True))
            t_all = median_ms(lambda: torch.autograd.grad(fwd(), (q, k, v), do))
            report(name + "/fwd/torch", t_fwd, fwd_flops)
            report(name + "/bwd/torch", t_bwd, 2.5 * fwd_flops)
            report(name + "/fwd+bwd/torch", t_all, 3.5 * fwd_flops)


def bench_conv():
    shapes = [
        ("conv2d_bf16/n32_c128_56x56_k3", (32, 128, 56, 56), (128, 128, 3, 3), (1, 1)),
        ("conv1d_bf16/n16_c512_l4096_k3", (16, 512, 1, 4096), (512, 512, 1, 3), (0, 1)),
    ]
    for name, xs, ws, pad in shapes:
        x = (torch.rand(xs, device="cuda", dtype=torch.bfloat16) * 2 - 1).requires_grad_()
        w = ((torch.rand(ws, device="cuda", dtype=torch.bfloat16) * 2 - 1) * 0.1).requires_grad_()
        y = F.conv2d(x, w, padding=pad)
        dy = torch.rand_like(y) * 2 - 1
        flops = 2.0 * y.numel() * ws[1] * ws[2] * ws[3]
        report(name + "/fwd/torch", median_ms(lambda: F.conv2d(x, w, padding=pad)), flops)
        report(name + "/bwd_data/torch",
               median_ms(lambda: torch.autograd.grad(y, x, dy, retain_graph=True)), flops)
        report(name + "/bwd_filter/torch",
               median_ms(lambda: torch.autograd.grad(y, w, dy, retain_graph=True)), flops)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="torch_gpu.json")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    print("torch", torch.__version__, torch.cuda.get_device_name(0))
    bench_gemm()
    bench_attention()
    bench_conv()
    with open(args.out, "w") as f:
        json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "results": ROWS}, f, indent=2)


if __name__ == "__main__":
    main()
