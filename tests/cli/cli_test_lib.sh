# Shared preamble of the recipe-training CLI tests; source it after `set -euo pipefail`:
#   source "$(dirname "$0")/cli_test_lib.sh" "$1" NAME
# Sets chorus (the binary), root (the repository), tmp (a folder removed on exit), fail(), and
# CHORUS_TEST_DATA: the embedded Fashion-MNIST sample, made with `chorus data prepare-fmnist
# --sample` (the recipes under tests/fixtures/recipes/train read it from there).
chorus=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/chorus-$2-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export CHORUS_TEST_DATA=$tmp/data
"$chorus" data prepare-fmnist --sample --out "$CHORUS_TEST_DATA" >"$tmp/prepare.log" 2>&1 ||
  { cat "$tmp/prepare.log"; fail "data preparation"; }
