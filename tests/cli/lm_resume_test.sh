#!/usr/bin/env bash
# Bit-exact resume across processes: `chorus lm` run 6 steps straight must produce the same
# model and optimizer bytes (compared through the checkpoint manifests' CRC-32C and sizes)
# and the same logged losses as 3 steps in one process and 3 more in a fresh one that
# resumes from the checkpoint.
set -euo pipefail
chorus=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--width 32 --depth 2 --heads 2 --seq 16 --batch 4 --experts 4 --top-k 2
      --expert-hidden 16 --steps 6 --eval-every 3 --threads 1 --ffn moe)
"$chorus" lm "${args[@]}" --run-dir "$work/straight" >/dev/null
"$chorus" lm "${args[@]}" --run-dir "$work/split" --stop-after 3 >/dev/null
out=$("$chorus" lm "${args[@]}" --run-dir "$work/split" --resume)
grep -q "resumed at step 3" <<<"$out" || { echo "FAIL: the second process did not resume at step 3"; exit 1; }

for f in model.safetensors optimizer.safetensors; do
  a=$(cmp "$work/straight/checkpoints/step-00000006/$f" "$work/split/checkpoints/step-00000006/$f" && echo same || echo differ)
  [ "$a" = same ] || { echo "FAIL: $f differs between straight and resumed runs"; exit 1; }
done
losses() { python3 -c 'import json,sys; print([json.loads(l)["loss"] for l in open(sys.argv[1])])' "$1"; }
[ "$(losses "$work/straight/metrics.jsonl")" = "$(losses "$work/split/metrics.jsonl")" ] || {
  echo "FAIL: logged losses differ"; losses "$work/straight/metrics.jsonl"; losses "$work/split/metrics.jsonl"; exit 1; }
echo "resume is bit-exact: model, optimizer and losses identical"
