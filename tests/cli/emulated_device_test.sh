#!/usr/bin/env bash
# Recipe training with run.device=cuda:0 on a CPU build through `--emulate-cuda`
# (core/tensor/emulated_device.h): every tensor the stage runner, the losses and the plugins
# create must be on the model's device, every host read of device memory must copy first, and
# checkpoints must stage device tensors. The emulated device runs the CPU kernels, so each run
# must equal its CPU twin exactly: per-step losses and every final metric. Covers the three
# alignment stages, a SIGKILL mid-stage with resume (optimizer state back onto the device) and a
# task stage with a learned gate and with modality dropout (MoE core).
#   usage: emulated_device_test.sh CHORUS_BIN
set -euo pipefail
source "$(dirname "$0")/cli_test_lib.sh" "$1" emulated
tiny=$root/tests/fixtures/recipes/train/tiny.yaml
task=$root/tests/fixtures/recipes/train/tiny_task.yaml

if "$chorus" --version | grep -q "cuda=on"; then
  echo "a CUDA build: the real backend owns cuda:0 (tests/cuda covers it); skipped"
  exit 77
fi

# Without a CUDA backend and without emulation the device is refused with a way out.
if CHORUS_TEST_OUT=$tmp/refused "$chorus" train "$tiny" run.device=cuda:0 --quiet 2>"$tmp/err"; then
  fail "run.device=cuda:0 trained on a build without CUDA"
fi
grep -q "run.device cuda:0: this chorus has no CUDA backend" "$tmp/err" || { cat "$tmp/err"; fail "message"; }
grep -q -- "--emulate-cuda" "$tmp/err" || fail "the message should mention --emulate-cuda"

same_runs() {  # CPU_RUN EMULATED_RUN: the same losses and final metrics
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
a, b = sys.argv[1], sys.argv[2]
fa, fb = (json.load(open(r + "/eval.json"))["final"] for r in (a, b))
if fa != fb:
    print("final metrics differ:\n cpu:      ", json.dumps(fa, sort_keys=True),
          "\n emulated: ", json.dumps(fb, sort_keys=True))
    sys.exit(1)
la, lb = ([json.loads(l)["loss"] for l in open(r + "/metrics.jsonl")] for r in (a, b))
if la != lb or not la:
    print("losses differ:", la, lb)
    sys.exit(1)
PY
}

CHORUS_TEST_OUT=$tmp/cpu "$chorus" train "$tiny" --quiet || fail "cpu run"
CHORUS_TEST_OUT=$tmp/emu "$chorus" train "$tiny" run.device=cuda:0 --emulate-cuda --quiet ||
  fail "emulated run"
cpu=$(ls -d "$tmp"/cpu/tiny/*/)
emu=$(ls -d "$tmp"/emu/tiny/*/)
same_runs "$cpu" "$emu" || fail "emulated cuda:0 differs from the CPU"
grep -q "^.*host fallbacks" "$emu/log.txt" || fail "log.txt should list the host fallbacks"
grep -q "host fallbacks" "$cpu/log.txt" && fail "a CPU run has no host fallbacks to list"

# Killed after step 7 (last checkpoint: step 6), resumed on the emulated device.
set +e
CHORUS_TEST_OUT=$tmp/kill "$chorus" train "$tiny" run.device=cuda:0 --emulate-cuda --quiet \
  --kill-after-step 7
rc=$?
set -e
[[ $rc -eq 137 ]] || fail "expected SIGKILL (137), got $rc"
CHORUS_TEST_OUT=$tmp/kill "$chorus" train "$tiny" run.device=cuda:0 resume=latest --emulate-cuda \
  --quiet || fail "resumed emulated run"
same_runs "$cpu" "$(ls -d "$tmp"/kill/tiny/*/)" || fail "resumed emulated run differs"

for mode in learned dropout; do
  extra=()
  [[ $mode == dropout ]] && extra=(tasks.classify.modality_dropout=0.5)
  CHORUS_TEST_OUT=$tmp/task-cpu-$mode "$chorus" train "$task" tasks.classify.mode=$mode \
    "${extra[@]}" --quiet || fail "task stage ($mode) on the cpu"
  CHORUS_TEST_OUT=$tmp/task-emu-$mode "$chorus" train "$task" tasks.classify.mode=$mode \
    "${extra[@]}" run.device=cuda:0 --emulate-cuda --quiet || fail "task stage ($mode), emulated"
  same_runs "$(ls -d "$tmp"/task-cpu-$mode/tiny_task/*/)" "$(ls -d "$tmp"/task-emu-$mode/tiny_task/*/)" ||
    fail "task stage ($mode): emulated differs"
done
echo "emulated cuda:0 runs equal the CPU runs"
