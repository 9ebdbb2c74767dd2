#!/usr/bin/python3
"""PyTorch 1.13 (Debian's python3-torch) reference for `chorus lm --ffn dense`: the same
byte-level causal transformer (embedding, pre-norm RMSNorm blocks, rotary attention,
SwiGLU feed-forward, bias-free projections, untied head), the same AdamW, clipping,
batch and sequence length, trained on random byte windows. Prints training tokens/s as
JSON, measured after a warm-up, for tools/bench/run-lm to compare with Chorus.

Usage: torch_lm.py --threads 2 --steps 30 [--width 128 --depth 4 --heads 4 --seq 128
       --batch 16 --ffn-hidden 512]
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, base=10000.0):
    # "rotate half" pairing, as core/nn/rope.h documents.
    l, d = x.shape[-2], x.shape[-1]
    inv = base ** (-torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
    ang = torch.arange(l, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = ang.cos().float(), ang.sin().float()
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.ffn_norm = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.w1, self.w3 = nn.Linear(d, hidden, bias=False), nn.Linear(d, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        b, l, d = x.shape
        h = self.attn_norm(x)
        split = lambda t: t.view(b, l, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = rope(split(self.q(h))), rope(split(self.k(h))), split(self.v(h))
        s = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        s = s.masked_fill(torch.ones(l, l, dtype=torch.bool).triu(1), float("-inf"))
        a = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(b, l, d)
        x = x + self.o(a)
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class LM(nn.Module):
    def __init__(self, width, depth, heads, hidden):
        super().__init__()
        self.embed = nn.Embedding(256, width)
        self.blocks = nn.ModuleList(Block(width, heads, hidden) for _ in range(depth))
        self.norm = RMSNorm(width)
        self.head = nn.Linear(width, 256, bias=False)

    def forward(self, x):
        h = self.embed(x)
        for blk in self.blocks:
            h = blk(h)
        return self.head(self.norm(h))


def main():
    p = argparse.ArgumentParser()
    for name, default in (("threads", 2), ("steps", 30), ("width", 128), ("depth", 4),
                          ("heads", 4), ("seq", 128), ("batch", 16), ("ffn-hidden", 512)):
        p.add_argument(f"--{name}", type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = LM(a.width, a.depth, a.heads, a.ffn_hidden)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
    data = torch.randint(0, 256, (a.steps + 5, a.batch, a.seq + 1))
    times = []
    for step in range(a.steps + 5):
        start = time.perf_counter()
        x, y = data[step, :, :-1], data[step, :, 1:]
        loss = F.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - start)
    steady = sorted(times[5:])
    median = steady[len(steady) // 2]
    print(json.dumps({"framework": f"torch {torch.__version__}", "threads": a.threads,
                      "parameters": sum(t.numel() for t in model.parameters()),
                      "tokens_per_s": a.batch * a.seq / median,
                      "median_step_s": median}))


if __name__ == "__main__":
    main()
