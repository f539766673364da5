# Runs in the lab guest (busybox sh): the unmodified kvcache example, seen from outside by
# ts-lab-pages at its first output line, once with default placement and once bound to node 1
# by numactl. This is the placer test's baseline: only binding puts pages on CPU-less node 1,
# and the lab sees it in a program it did not write. $1 = ts-lab-pages, $2 = kvcache.
set -e
pages=$1 kvcache=$2
# 4 x 8 MiB archive chunks with every page touched: 8192 pages that must be resident.
"$pages" run --policy-on default=0 --min-pages 0=8192 --max-pages 1=0 -- \
  "$kvcache" --ops 20000 --keys 4096
"$pages" run --min-pages 1=8192 -- numactl --membind=1 "$kvcache" --ops 20000 --keys 4096
