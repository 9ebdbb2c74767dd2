#!/usr/bin/env bash
# End to end: a task stage (tests/fixtures/recipes/train/tiny_task.yaml) after an alignment
# stage. Checks what a weighting ablation reads: the stage-start log line, the weights logged
# per step (the fixed ones; for the learned gate, per-sample softmax means summing to 1), that
# only tasks.* parameters train, and task.classify.* in eval.json and `chorus eval --json`.
#   usage: task_stage_test.sh CHORUS_BIN
set -euo pipefail
source "$(dirname "$0")/cli_test_lib.sh" "$1" task
recipe=$root/tests/fixtures/recipes/train/tiny_task.yaml

CHORUS_TEST_OUT=$tmp/fixed "$chorus" train "$recipe" --quiet || fail "fixed-weight run"
run=$(ls -d "$tmp"/fixed/tiny_task/*/)
grep -q "task 'classify': mode fixed, base weights {image 0.7, audio 0.3}, fusion tokens, 10 classes" \
  "$run/log.txt" || { cat "$run/log.txt"; fail "log.txt lacks the task line"; }
"$chorus" eval "$run" --json >"$tmp/eval_fixed.json" || fail "chorus eval"

CHORUS_TEST_OUT=$tmp/gate "$chorus" train "$recipe" tasks.classify.mode=learned --quiet ||
  fail "learned-gate run"
gate=$(ls -d "$tmp"/gate/tiny_task/*/)

/usr/bin/python3 - "$run" "$gate" "$tmp/eval_fixed.json" <<'PY' || fail "task metrics"
import json, sys
fixed, gate, again = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
def rows(run):
    return [json.loads(l) for l in open(run + "/metrics.jsonl")]
task_rows = [r for r in rows(fixed) if r["stage"] == "classify"]
assert len(task_rows) == 6, len(task_rows)
for r in task_rows:
    # The weights are used as f32 tensors, so they are logged as f32 values.
    assert abs(r["weights.classify.image"] - 0.7) < 1e-6 and abs(r["weights.classify.audio"] - 0.3) < 1e-6, r
    for k in ("loss.task.classify", "loss.task.classify.modalities", "accuracy.task.classify"):
        assert k in r, (k, r)
    assert 0 <= r["accuracy.task.classify"] <= 1
for r in rows(fixed):
    if r["stage"] != "classify":
        assert "weights.classify.image" not in r, r
for r in (r for r in rows(gate) if r["stage"] == "classify"):
    wi, wa = r["weights.classify.image"], r["weights.classify.audio"]
    assert abs(wi + wa - 1) < 1e-6 and 0 < wi < 1 and wi != 0.7, r
ev = json.load(open(fixed + "/eval.json"))
t = ev["final"]["task"]["classify"]
assert t["count"] == 48, t
assert 0 <= t["accuracy"] <= 1, t
assert abs(t["weights"]["image"] - 0.7) < 1e-6 and abs(t["weights"]["audio"] - 0.3) < 1e-6, t
assert set(t["unimodal"]) == {"image", "audio"}, t
assert "task" not in ev["stages"]["instance"], "the head is evaluated only once a stage trained it"
assert again["task"] == ev["final"]["task"], (again["task"], ev["final"]["task"])
g = json.load(open(gate + "/eval.json"))["final"]["task"]["classify"]["weights"]
assert abs(g["image"] + g["audio"] - 1) < 1e-6, g
PY

# The task stage trains only tasks.*: the encoders of the stage's checkpoint equal those of the
# instance stage's.
/usr/bin/python3 - "$run" <<'PY' || fail "frozen encoders changed"
import json, struct, sys, glob
def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in head.items() if k != "__metadata__"}
ck = sorted(glob.glob(sys.argv[1] + "/checkpoints/step-*"))
first = [c for c in ck if c.endswith("step-00000002")]
last = ck[-1]
assert first, ck
a, b = tensors(first[0] + "/model.safetensors"), tensors(last + "/model.safetensors")
enc = [k for k in a if k.startswith("encoders.")]
assert enc and all(a[k] == b[k] for k in enc), "encoder weights moved"
heads = [k for k in b if k.startswith("tasks.classify.")]
assert any(k.startswith("tasks.classify.core.") for k in heads) and any(k.startswith("tasks.classify.head.") for k in heads), heads
assert any(a[k] != b[k] for k in heads), "the task head did not train"
PY
echo "PASS"
