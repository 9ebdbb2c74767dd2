#!/usr/bin/env bash
# `chorus recipe check|print|schema` end to end on the recipe fixtures: exit codes, the summary,
# every error with file:line, overrides, and the resolved printout.
set -euo pipefail
chorus=$1
fixtures=$(cd "$2" && pwd)/recipes
fail() { echo "FAIL: $*"; exit 1; }

out=$("$chorus" recipe check "$fixtures/good/full.yaml") || fail "check of good/full.yaml failed: $out"
grep -q "^OK: " <<<"$out" || fail "no OK line: $out"
grep -q "stage:      cluster: 0.5 epochs" <<<"$out" || fail "no cluster stage in summary: $out"

# Several problems at once (two bad values, one misspelt override): all reported, exit code 1.
set +e
err=$("$chorus" recipe check "$fixtures/good/full.yaml" stages.2.optimizer.lr=-1 data.batch_size=lots \
      model.core.expert=3 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "expected exit code 1, got $rc"
grep -q "stages.2.optimizer.lr: must be > 0, got -1" <<<"$err" || fail "lr error missing: $err"
grep -q "data.batch_size: expected int, got 'lots'" <<<"$err" || fail "batch_size error missing: $err"
grep -q "override 'model.core.expert=3': 'model.core.expert' is not in the recipe (did you mean 'experts'?)" <<<"$err" ||
  fail "override error missing: $err"
grep -q "^3 errors$" <<<"$err" || fail "no error count: $err"

set +e
err=$("$chorus" recipe check "$fixtures/broken/negative_lr.yaml" 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "broken recipe accepted"
grep -q "negative_lr.yaml:8:11: stages.0.optimizer.lr: must be > 0, got -0.001" <<<"$err" ||
  fail "unexpected message: $err"

# print: raw keeps ${...}; --resolve interpolates, fills defaults, makes paths absolute.
raw=$("$chorus" recipe print "$fixtures/good/full.yaml" run.seed=11)
grep -q 'pairs: ${stages.0.pairs}' <<<"$raw" || fail "raw print lost the reference: $raw"
grep -q "seed: 11" <<<"$raw" || fail "override missing from raw print"
resolved=$("$chorus" recipe print "$fixtures/good/full.yaml" --resolve)
grep -q "shared_width: 256" <<<"$resolved" || fail "resolved print: $resolved"
grep -q "path: $fixtures/good/data/train.jsonl" <<<"$resolved" || fail "paths not absolute: $resolved"
grep -q "keep_last: 2" <<<"$resolved" || fail "checkpoint missing"

schema=$("$chorus" recipe schema)
grep -q "stages\[\].optimizer.lr  (float, required)" <<<"$schema" || fail "schema text"
# Every shipped recipe validates and instantiates. They read ../data/fmnist: copies of them
# beside the embedded sample (no speech; file checks off, so the audio files are not needed).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/chorus-recipe-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
shipped=$(cd "$(dirname "$0")/../../recipes" && pwd)
mkdir -p "$tmp/recipes"
cp "$shipped"/*.yaml "$tmp/recipes/"
"$chorus" data prepare-fmnist --sample --no-speech --out "$tmp/data/fmnist" >"$tmp/prepare.log" 2>&1 ||
  { cat "$tmp/prepare.log"; fail "sample data"; }
for r in "$tmp"/recipes/*.yaml; do
  out=$("$chorus" recipe check "$r" --no-file-checks 2>&1) || fail "shipped recipe $(basename "$r"): $out"
done
out=$("$chorus" recipe check "$tmp/recipes/align_fmnist.yaml" --no-file-checks)
grep -q "device cuda:0" <<<"$out" || fail "align_fmnist.yaml should train on cuda:0: $out"

echo "recipe CLI: check, errors, print and schema as expected"
