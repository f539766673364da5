# tests/lab/placer_guest.sh CHECK: runs in the lab guest (busybox sh), from placer_lab.sh.
# Node 0 = CPU + memory (tier "fast"), node 1 = CPU-less, lower memory tier ("slow").
# Every check is page by page with move_pages (ts-lab-sites on its own pointers) or numa_maps
# (ts-lab-pages on an unmodified program), and each has a control that must come out the other
# way, so a placer that does nothing cannot pass.
set -eu
check=$1
tiers="fast=node:0;slow=node:1"

# PROFILE TIERS PROGRAM [ARG...]: PROGRAM under the placer. `tierscope run` preloads the placer
# and passes the profile and tiers in the environment, which a static checker (ts-lab-pages)
# hands on unchanged to the program it runs.
placed() {
  profile=$1 spec=$2
  shift 2
  "$TIERSCOPE" run --profile "$profile" --tiers "$spec" -- "$@"
}
# STATUS COMMAND...: COMMAND must exit with STATUS (1 = the checker saw a mismatch).
expect_status() {
  want=$1
  shift
  set +e
  "$@"
  got=$?
  set -e
  [ "$got" -eq "$want" ] || { echo "placer_guest: '$*' exited $got, expected $want"; exit 1; }
}

case "$check" in
  sites)
    echo "== plan hot=fast cold=slow: each site's objects on its tier's node"
    placed "$PROFILES/sites.prof" "$tiers" "$SITES" --expect hot=0 --expect cold=1 --expect unplanned=0
    # The placement most allocations get is served by jemalloc's own fast paths (each thread's
    # arena switched to the tier's): the same pages wherever that primary placement is.
    for primary in fast slow default; do
      echo "== primary placement $primary: the same pages"
      TIERSCOPE_PLACER_PRIMARY=$primary placed "$PROFILES/sites.prof" "$tiers" "$SITES" \
        --expect hot=0 --expect cold=1 --expect unplanned=0
    done
    echo "== the same program with the plan swapped: the pages follow the plan"
    placed "$PROFILES/swapped.prof" "$tiers" "$SITES" --expect hot=1 --expect cold=0 --expect unplanned=0
    echo "== control: without the placer nothing reaches node 1"
    expect_status 1 "$SITES" --expect cold=1
    ;;
  budget)
    # The fast tier may hand out its capacity plus the placer's fixed 4 MiB allowance for its
    # arena's metadata (placer/src/tier_arenas.h): 1 MiB + 4 MiB. 24 MiB of hot objects: at most
    # 5 MiB of them on node 0, every other byte on node 1.
    echo "== fast tier capped at 1 MiB: the hot site fills it, then spills to node 1"
    placed "$PROFILES/sites.prof" "fast=node:0,capacity=1M;slow=node:1" "$SITES" --sites hot \
      --large 48 --spill hot=5242880
    echo "== control: with room in the fast tier nothing spills"
    expect_status 1 placed "$PROFILES/sites.prof" "$tiers" "$SITES" --sites hot --large 48 \
      --spill hot=5242880
    ;;
  hints)
    echo "== ts_malloc_hot / ts_malloc_cold"
    placed "$PROFILES/sites.prof" "$tiers" "$SITES" --sites hint-hot,hint-cold \
      --expect hint-hot=0 --expect hint-cold=1
    echo "== hints obey the budget guard"
    placed "$PROFILES/sites.prof" "fast=node:0,capacity=1M;slow=node:1" "$SITES" --sites hint-hot \
      --large 48 --spill hint-hot=5242880
    ;;
  kvcache)
    args="--ops 20000 --keys 65536 --print-sites"
    "$KVCACHE" $args >/tmp/plain.out
    cat /tmp/plain.out
    # Ground truth from the plain run: bytes each site allocated ("site NAME ... bytes=N ...").
    site_bytes() { sed -n "s/^site $1 .* bytes=\([0-9]*\) .*/\1/p" /tmp/plain.out; }
    fast_bytes=$(($(site_bytes index) + $(site_bytes values)))
    slow_bytes=$(($(site_bytes log) + $(site_bytes archive)))
    # Pages: the archive (4 x 8 MiB, every page touched) is 8192 pages; index (2 MiB) + values
    # (~76 MiB) are well over 9000; the log is 16 MiB allocated but only a few pages touched.
    # So the slow arenas (bind:1) hold the archive and a little more, never the index (512
    # pages); the fast arenas (bind:0) hold the index and values.
    echo "== kvcache: index+values planned fast, log+archive slow"
    "$TIERSCOPE" run --profile "$PROFILES/kv.prof" --tiers "$tiers" --stats /tmp/stats.json -- \
      "$PAGES" run --policy-on bind:1=1 --policy-on bind:0=0 --min-policy-pages bind:1=8192 \
      --min-policy-pages bind:0=9000 --max-pages 1=8400 -- "$KVCACHE" $args >/tmp/placed.out
    cat /tmp/placed.out
    grep '^site \|^kvcache:' /tmp/placed.out | cmp -s - /tmp/plain.out ||
      { echo "placer_guest: kvcache's output differs from the plain run"; exit 1; }
    # The placer's own account, per tier: exactly the bytes of the sites planned there.
    # stats.json lists each tier's keys in order, "bytes_allocated" before "name".
    allocated=$(awk '/"bytes_allocated"/ { gsub(/[^0-9]/, ""); b = $0 }
      /"name"/ { sub(/.*"name": *"/, ""); sub(/".*/, ""); print $0 "=" b }' /tmp/stats.json)
    echo "bytes allocated per tier: $(echo $allocated); planned: fast=$fast_bytes slow=$slow_bytes"
    [ "$(echo $allocated)" = "fast=$fast_bytes slow=$slow_bytes" ] ||
      { echo "placer_guest: per-tier bytes differ from the plan"; exit 1; }
    ;;
  large)
    # Large blocks of planned-slow sites: a 32 MiB malloc grown by realloc to 64 MiB (past
    # jemalloc's huge-size threshold) and the program's own 16 MiB mmap grown by mremap to 32 MiB.
    # Every page of each grown block, the part added by the growth too, must be on node 1.
    echo "== big malloc + realloc and mmap + mremap from slow sites: all on node 1"
    placed "$PROFILES/sites.prof" "$tiers" "$SITES" --sites big-cold,map \
      --expect big-cold=1 --expect map=1
    echo "== control: the plan swapped (cold=fast, map unplanned): all on node 0"
    placed "$PROFILES/swapped.prof" "$tiers" "$SITES" --sites big-cold,map \
      --expect big-cold=0 --expect map=0
    echo "== control: without the placer nothing reaches node 1"
    expect_status 1 "$SITES" --sites big-cold,map --expect map=1
    ;;
  *)
    echo "placer_guest: unknown check '$check'"
    exit 2
    ;;
esac
echo "placer_guest: $check passed"
