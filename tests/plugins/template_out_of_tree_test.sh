#!/usr/bin/env bash
# The plugin SDK end to end, as a plugin author meets it:
#   1. install the engine from the build tree into a fresh prefix;
#   2. `chorus plugins new` (the installed binary, the installed template) scaffolds a plugin;
#   3. configure and build it OUT OF TREE with find_package(Chorus) against that prefix;
#   4. `chorus plugins list --json` with CHORUS_PLUGIN_PATH finds it (and nothing is rejected);
#   5. `chorus plugins try` decodes two files and runs its encoder.
# Usage: template_out_of_tree_test.sh CMAKE BUILD_DIR WORK_DIR
set -euo pipefail
cmake=$1 build=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || fail "install: $(tail -5 "$work/install.log")"
for f in bin/chorus include/chorus/plugin.h include/core/data/sample.h include/core/version.h \
         lib/cmake/Chorus/ChorusConfig.cmake lib/cmake/Chorus/ChorusConfigVersion.cmake \
         lib/cmake/Chorus/ChorusTargets.cmake lib/cmake/Chorus/ChorusPlugin.cmake \
         share/chorus/template/plugin.cc; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
ls "$prefix"/lib/libchorus_core.so* >/dev/null || fail "libchorus_core.so not installed"
chorus=$prefix/bin/chorus

"$chorus" plugins new sdkcheck --dir "$work/src" >/dev/null
grep -q '"sdkcheck"' "$work/src/plugin.cc" || fail "template not renamed"
[ -e "$work/src/sdkcheck.h" ] || fail "sdkcheck.h not created"
! grep -rqi skeleton "$work/src" || fail "placeholder left in scaffolded files"

# ccache makes repeated runs cheap when it is there; the base dir keeps its keys stable.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$work
fi
"$cmake" -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >"$work/configure.log" 2>&1 ||
  fail "configure: $(tail -20 "$work/configure.log")"
"$cmake" --build "$work/build" >"$work/build.log" 2>&1 || fail "build: $(tail -30 "$work/build.log")"
plugin_dir=$work/build/lib/chorus/plugins
[ -e "$plugin_dir/libsdkcheck_plugin.so" ] || fail "no plugin library in $plugin_dir"

CHORUS_PLUGIN_PATH=$plugin_dir "$chorus" plugins list --json >"$work/list.json"
printf 'hello, plugin world: ten tokens of four bytes each!!' >"$work/a.bin"
printf 'short' >"$work/b.bin"
CHORUS_PLUGIN_PATH=$plugin_dir "$chorus" plugins try sdkcheck "$work/a.bin" "$work/b.bin" \
  --width 32 --option chunk=4 >"$work/try.json"

/usr/bin/python3 - "$work" "$plugin_dir" "$prefix" <<'PY'
import json, os, sys
work, plugin_dir, prefix = sys.argv[1:]
listing = json.load(open(os.path.join(work, "list.json")))
mine = [p for p in listing["plugins"] if p["name"] == "sdkcheck"]
assert len(mine) == 1, listing
assert os.path.dirname(mine[0]["path"]) == os.path.realpath(plugin_dir), mine
# Shipped plugins load from the prefix, not from the build tree.
for p in listing["plugins"]:
    if p["name"] != "sdkcheck":
        assert p["path"].startswith(os.path.realpath(prefix)), p
assert listing["rejected"] == [], listing["rejected"]
run = json.load(open(os.path.join(work, "try.json")))
# a.bin: 52 bytes -> 13 tokens of 4; b.bin: 5 bytes -> 2 tokens; padded to 13.
assert run["tokens"] == [2, 13, 32], run
assert run["mask"] == [2, 13], run
assert run["pooled"] == [2, 32], run
assert run["parameters"] == 4 * 32 + 32, run
assert all(n > 0 for n in run["pooled_norm"]) and len(run["pooled_norm"]) == 2, run
print("plugin_sdk: template built out of tree, loaded and run:", mine[0]["path"])
PY
