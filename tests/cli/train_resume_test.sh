#!/usr/bin/env bash
# End to end: `chorus train` on a tiny three-stage recipe writes a complete run directory, and a
# run SIGKILLed mid-stage (after step 7; the last checkpoint is step 6) and restarted with
# `resume=latest` finishes with exactly the same final metrics as an uninterrupted run.
# `chorus eval --json` on the finished run reproduces eval.json's final metrics.
#   usage: train_resume_test.sh CHORUS_BIN
set -euo pipefail
source "$(dirname "$0")/cli_test_lib.sh" "$1" train
recipe=$root/tests/fixtures/recipes/train/tiny.yaml

# Uninterrupted.
CHORUS_TEST_OUT=$tmp/a "$chorus" train "$recipe" --quiet || fail "uninterrupted run"
run_a=$(ls -d "$tmp"/a/tiny/*/)
for f in recipe.resolved.yaml command.txt log.txt metrics.jsonl eval.json report.html embeddings.jsonl; do
  [[ -s $run_a/$f ]] || fail "run directory lacks $f"
done
[[ $(wc -l <"$run_a/metrics.jsonl") -eq 12 ]] || fail "metrics.jsonl should have 12 rows"
grep -q '^chorus train ' "$run_a/command.txt" || fail "command.txt lacks the command line"

# Killed after step 7, then resumed.
set +e
CHORUS_TEST_OUT=$tmp/b "$chorus" train "$recipe" --quiet --kill-after-step 7
rc=$?
set -e
[[ $rc -eq 137 ]] || fail "expected the run to die of SIGKILL (137), got $rc"
run_b=$(ls -d "$tmp"/b/tiny/*/)
[[ ! -e $run_b/eval.json ]] || [[ -z $(grep -o '"final"' "$run_b/eval.json") ]] ||
  fail "a killed run must not have final metrics"
CHORUS_TEST_OUT=$tmp/b "$chorus" train "$recipe" resume=latest --quiet || fail "resumed run"
[[ $(ls -d "$tmp"/b/tiny/*/ | wc -l) -eq 1 ]] || fail "resume must reuse the run directory"
grep -q 'resuming .* (step 6' "$run_b/log.txt" || fail "the resume should start from step 6"
[[ $(wc -l <"$run_b/metrics.jsonl") -eq 12 ]] || fail "resumed metrics.jsonl should have 12 rows"

/usr/bin/python3 - "$run_a" "$run_b" <<'PY' || fail "final metrics differ"
import json, sys
a = json.load(open(sys.argv[1] + "/eval.json"))["final"]
b = json.load(open(sys.argv[2] + "/eval.json"))["final"]
if a != b:
    print("uninterrupted:", json.dumps(a, sort_keys=True))
    print("resumed:      ", json.dumps(b, sort_keys=True))
    sys.exit(1)
# The losses of every step agree too.
la = [json.loads(l)["loss"] for l in open(sys.argv[1] + "/metrics.jsonl")]
lb = [json.loads(l)["loss"] for l in open(sys.argv[2] + "/metrics.jsonl")]
if la != lb:
    print("losses differ:", la, lb)
    sys.exit(1)
for key in ("zero_shot", "retrieval", "emergent", "clustering"):
    if key not in a:
        print("eval.json final lacks", key)
        sys.exit(1)
# eval.stage_max_samples (32) applies between stages, eval.max_samples (64) at the end.
stages = json.load(open(sys.argv[1] + "/eval.json"))["stages"]
counts = [stages[s]["samples"] for s in ("instance", "cluster", "semantic")]
if counts != [32, 32, 64] or a["samples"] != 64:
    print("evaluated samples per stage", counts, "final", a["samples"])
    sys.exit(1)
PY

"$chorus" eval "$run_a" --json >"$tmp/eval.json" || fail "chorus eval"
/usr/bin/python3 - "$run_a" "$tmp/eval.json" <<'PY' || fail "chorus eval disagrees with eval.json"
import json, sys
final = json.load(open(sys.argv[1] + "/eval.json"))["final"]
again = json.load(open(sys.argv[2]))
for k in final:
    if again.get(k) != final[k]:
        print(k, final[k], again.get(k))
        sys.exit(1)
PY
# --saved prints the run's own final metrics without recomputing; a run without eval.json fails.
"$chorus" eval "$run_a" --saved --json >"$tmp/saved.json" || fail "chorus eval --saved"
/usr/bin/python3 - "$run_a" "$tmp/saved.json" <<'PY' || fail "chorus eval --saved differs from eval.json"
import json, sys
final = json.load(open(sys.argv[1] + "/eval.json"))["final"]
sys.exit(0 if json.load(open(sys.argv[2])) == final else 1)
PY
mkdir -p "$tmp/empty_run/checkpoints"
if "$chorus" eval "$tmp/empty_run" --saved >"$tmp/saved.out" 2>&1; then fail "--saved on a run without eval.json succeeded"; fi
echo "PASS"
