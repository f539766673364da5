#!/usr/bin/env bash
# tests/lab/placer_lab.sh CHECK BUILD_DIR: one placer check in the tier lab. On the host: site
# keys and hand-made plans (ts-lab-profile), so the test knows exactly which site must land on
# which node; then one guest boot running tests/lab/placer_guest.sh CHECK.
# CHECK: sites | budget | hints | kvcache | large (see placer_guest.sh).
set -euo pipefail
check=${1:?usage: placer_lab.sh CHECK BUILD_DIR}
build=$(cd "${2:?usage: placer_lab.sh CHECK BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=$build/lib/libtierscope-placer.so
[ -f "$lib" ] || { echo "placer_lab.sh: $lib is not built" >&2; exit 1; }
work=$(mktemp -d "$build/lab-placer.XXXXXX")
trap 'rm -rf "$work"' EXIT

sites=$build/lab/ts-lab-sites kvcache=$build/examples/ts-example-kvcache
profile() { "$build/lab/ts-lab-profile" "$@"; }
"$sites" --keys >"$work/sites.keys"
"$src/lab/site-keys" "$sites" map=lab_site_map >>"$work/sites.keys"
profile "$work/sites.prof" --keys "$work/sites.keys" --plan hot=fast --plan cold=slow \
  --plan map=slow
profile "$work/swapped.prof" --keys "$work/sites.keys" --plan hot=slow --plan cold=fast
"$src/lab/site-keys" "$kvcache" index=kv_alloc_index values=kv_alloc_value log=kv_alloc_log \
  archive=kv_alloc_archive_chunk >"$work/kv.keys"
profile "$work/kv.prof" --keys "$work/kv.keys" --plan index=fast --plan values=fast \
  --plan log=slow --plan archive=slow

# Not exec: the trap must still remove the work folder.
"$src/lab/run-in-guest" --timeout 180 \
  --add "$build/bin/tierscope" --add "$lib" --add "$sites" --add "$kvcache" \
  --add "$build/lab/ts-lab-pages" --add "$src/tests/lab/placer_guest.sh" \
  --add "$work/sites.prof" --add "$work/swapped.prof" --add "$work/kv.prof" \
  --env "TIERSCOPE=$build/bin/tierscope" --env "PLACER=$lib" --env "SITES=$sites" \
  --env "KVCACHE=$kvcache" --env "PAGES=$build/lab/ts-lab-pages" --env "PROFILES=$work" \
  -- sh "$src/tests/lab/placer_guest.sh" "$check"
