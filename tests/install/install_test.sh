#!/usr/bin/env bash
# The package as a production host gets it: build the .deb (CPack), unpack it into a scratch
# root, then from that root alone: record, analyze, plan and run a program under the placer, and
# build a program against the hint API through pkg-config. Run by scripts/test after the
# Release tests; exits non-zero with a one-line reason on the first failure.
#   tests/install/install_test.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "${1:-build/release}" && pwd)
fail() { echo "install_test: $*" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
(cd "$build" && rm -f tierscope_*.deb && cpack -G DEB >/dev/null) || fail "cpack -G DEB failed"
deb=$(ls "$build"/tierscope_*.deb)
dpkg -x "$deb" "$root/fs" || fail "dpkg -x $deb failed"
usr=$root/fs/usr
for f in bin/tierscope lib/libtierscope-placer.so lib/libtierscope-recorder.so lib/libtierscope_proto.so \
  include/tierscope/placer.h lib/pkgconfig/tierscope-placer.pc \
  lib/cmake/tierscope-placer/tierscope-placer-config.cmake share/man/man1/tierscope-run.1 \
  share/doc/tierscope/examples/tierscope-placer.conf; do
  [ -e "$usr/$f" ] || fail "the package lacks /usr/$f"
done
dpkg-deb -f "$deb" Depends | grep -q libjemalloc || fail "the package does not depend on libjemalloc"
# libpfm4 is dlopened for PEBS, out of dpkg-shlibdeps' sight: the package names it itself.
dpkg-deb -f "$deb" Recommends | grep -q libpfm4 || fail "the package does not recommend libpfm4"

# The chain, with the installed binary only (it finds its libraries at ../lib).
ts=$usr/bin/tierscope
prog=("$build/examples/ts-example-ingest" --records 20000 --ops 400000)
"${prog[@]}" >"$root/plain.txt"
"$ts" record -q --sampler timer -o "$root/t.trace" -- "${prog[@]}" >"$root/recorded.txt" ||
  fail "record from the package failed"
"$ts" analyze "$root/t.trace" -o "$root/p.tsprof" >/dev/null 2>&1 || fail "analyze failed"
"$ts" plan "$root/p.tsprof" --tier fast=4M --tier slow=rest >/dev/null || fail "plan failed"
"$ts" run --profile "$root/p.tsprof" --stats "$root/s.json" -- "${prog[@]}" >"$root/placed.txt" \
  2>"$root/run.err" || fail "run from the package failed: $(tail -1 "$root/run.err")"
cmp -s "$root/plain.txt" "$root/placed.txt" || fail "output under the installed placer differs"
cmp -s "$root/plain.txt" "$root/recorded.txt" || fail "output under the installed recorder differs"
/usr/bin/python3 - "$root/s.json" <<'PY' || fail "the placed run matched too little of the plan"
import json, sys
s = json.load(open(sys.argv[1]))
hits, unknown = s.get("plan_hits", 0), s.get("unknown_sites", 0)
sys.exit(0 if hits > 0 and hits / (hits + unknown) >= 0.9 else 1)
PY

# The hint API, through pkg-config and the installed header and library.
cat >"$root/hint.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <tierscope/placer.h>
int main(void) {
  char* hot = ts_malloc_hot(4096);
  char* cold = ts_malloc_cold(4096);
  if (!hot || !cold) return 1;
  memset(hot, 1, 4096);
  memset(cold, 2, 4096);
  printf("hot=%d cold=%d\n", ts_tier_of(hot), ts_tier_of(cold));
  ts_free(hot);
  ts_free(cold);
  return 0;
}
C
flags=$(PKG_CONFIG_PATH=$usr/lib/pkgconfig pkg-config --define-variable=prefix="$usr" \
  --cflags --libs tierscope-placer) || fail "pkg-config does not know tierscope-placer"
cc "$root/hint.c" -o "$root/hint" $flags || fail "the hint API does not build from the package"
out=$(LD_LIBRARY_PATH=$usr/lib TIERSCOPE_TIERS="fast=node:0;slow=node:0" "$root/hint" 2>/dev/null) ||
  fail "the hint program failed"
[ "$out" = "hot=0 cold=1" ] || fail "hints placed on the wrong tiers: $out"
echo "install_test: the package installs and runs a placed program (and the hint API) from $deb"
