"""Summarises one GPU run for docs/gpu-parity.md.

Usage: python3 report.py DIR [--condensed]   (--condensed: one parity row per op)
DIR holds parity_summary.json (written by chorus_cuda_tests with CHORUS_PARITY_SUMMARY set),
parity.json (gtest's JSON output), bw_chorus.jsonl and bw_torch.jsonl (bandwidth.cc and
torch_bandwidth.py). Prints Markdown tables and writes DIR/summary.md.
"""
import json
import os
import sys


def load_jsonl(path):
    rows = []
    if not os.path.exists(path):
        return rows
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def main():
    d = sys.argv[1]
    out = []
    gtest = os.path.join(d, "parity.json")
    if os.path.exists(gtest):
        g = json.load(open(gtest))
        out.append(f"gtest: {g.get('tests', 0)} tests, {g.get('failures', 0)} failures, "
                   f"{g.get('disabled', 0)} disabled, {g.get('errors', 0)} errors")
        for suite in g.get("testsuites", []):
            for t in suite.get("testsuite", []):
                status = "FAIL" if t.get("failures") else t.get("result", "")
                out.append(f"- {suite['name']}.{t['name']}: {status} ({t.get('time', '')})")
        out.append("")
    summary = os.path.join(d, "parity_summary.json")
    if os.path.exists(summary) and "--condensed" in sys.argv:
        # One row per op, dtypes side by side: the form docs/gpu-parity.md keeps.
        s = json.load(open(summary))
        ops = {}
        for r in s["ops"]:
            ops.setdefault(r["op"], []).append(r)
        cases = sum(r["cases"] for r in s["ops"])
        passed = sum(r["passed"] for r in s["ops"])
        out.append(f"{len(ops)} ops, {cases} cases, {passed} passed.")
        out.append("")
        out.append("| op | cases passed | max NMSE by dtype |")
        out.append("| --- | ---: | --- |")
        for op, rows in ops.items():
            c = sum(r["cases"] for r in rows)
            p = sum(r["passed"] for r in rows)
            nm = ", ".join(f"{r['dtype']} {r['max_nmse']:.1e}" for r in rows)
            out.append(f"| {op} | {p}/{c} | {nm} |")
        out.append("")
    elif os.path.exists(summary):
        s = json.load(open(summary))
        out.append("| op | dtype | cases | passed | max NMSE |")
        out.append("| --- | --- | ---: | ---: | ---: |")
        for r in s["ops"]:
            out.append(f"| {r['op']} | {r['dtype']} | {r['cases']} | {r['passed']} | "
                       f"{r['max_nmse']:.2e} |")
        out.append("")
        if s.get("host_fallbacks"):
            out.append("Kernels that ran through the host fallback (no CUDA kernel yet):")
            out.append(", ".join(f"{r['kernel']} ({r['calls']})" for r in s["host_fallbacks"]))
            out.append("")
    ours = load_jsonl(os.path.join(d, "bw_chorus.jsonl"))
    torch = load_jsonl(os.path.join(d, "bw_torch.jsonl"))
    tmap = {}
    for r in torch:
        tmap.setdefault((r["op"], r["shape"]), []).append(r)
    if ours:
        out.append("| op | shape | dtype | Chorus GB/s | % of D2D copy | PyTorch GB/s | "
                   "Chorus / PyTorch |")
        out.append("| --- | --- | --- | ---: | ---: | ---: | ---: |")
        for r in ours:
            key = (r["op"], r["shape"])
            ref = tmap.get(key)
            if r["op"].startswith("adamw"):
                ref = tmap.get((r["op"] + "_fused", r["shape"])) or tmap.get(
                    (r["op"] + "_foreach", r["shape"]))
            if r["op"] == "cross_entropy_fwd_kernel":
                ref = tmap.get(key)
            tg = ref[0]["gbps"] if ref else None
            ratio = f"{r['gbps'] / tg:.2f}" if tg else "n/a"
            out.append(f"| {r['op']} | {r['shape']} | {r['dtype']} | {r['gbps']:.0f} | "
                       f"{r['pct_copy']:.0f}% | {tg if tg else 'n/a'} | {ratio} |")
        out.append("")
        extra = [r for r in torch if (r["op"], r["shape"]) not in {(o["op"], o["shape"]) for o in ours}]
        if extra:
            out.append("PyTorch-only rows: " + "; ".join(
                f"{r['op']} {r['shape']} {r['gbps']} GB/s" for r in extra))
    text = "\n".join(out)
    print(text)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
