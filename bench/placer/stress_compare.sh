#!/usr/bin/env bash
# ts-example-stress (2 threads) plain glibc vs plain jemalloc (LD_PRELOAD libjemalloc.so.2) vs
# under the placer with a plan covering all of its sites (learned first), 5 interleaved runs each,
# medians and ratios measured side by side in one run.
# Usage: bench/placer/stress_compare.sh [BUILD_DIR] [OPS] [DEPTH]
# TIERSCOPE_BENCH_BASELINE_LIB=OTHER.so adds a fourth contender: the same run with another build
# of libtierscope-placer.so (before/after a change, measured side by side).
set -euo pipefail
build=${1:-build/release}
ops=${2:-5000000}
depth=${3:-1}
runs=5
stress="$build/examples/ts-example-stress"
tierscope="$build/bin/tierscope"
jemalloc=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--threads 2 --ops "$ops" --depth "$depth")
tiers=${TIERSCOPE_BENCH_TIERS:-"fast=node:0;slow=node:0,thp=off"}

# Learn the program's sites at the plan's depth, then plan all of them onto the fast tier.
"$tierscope" run --tiers "$tiers" --depth "$depth" --learn "$tmp/learned.tsp" -- "$stress" --threads 2 --ops 10000 --depth "$depth" >/dev/null
"$build/bench/placer/ts-placer-plan-all" "$tmp/learned.tsp" "$tmp/plan.tsp" fast

time_of() {  # seconds of wall time of "$@"
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
declare -A t
for i in $(seq $runs); do
  t[glibc]+="$(time_of "$stress" "${args[@]}") "
  t[jemalloc]+="$(time_of env LD_PRELOAD="$jemalloc" "$stress" "${args[@]}") "
  t[placer]+="$(time_of "$tierscope" run --profile "$tmp/plan.tsp" --tiers "$tiers" --stats "$tmp/stats.json" -- "$stress" "${args[@]}") "
  if [ -n "${TIERSCOPE_BENCH_BASELINE_LIB:-}" ]; then
    t[baseline]+="$(time_of env TIERSCOPE_PLACER_LIB="$TIERSCOPE_BENCH_BASELINE_LIB" "$tierscope" run --profile "$tmp/plan.tsp" --tiers "$tiers" -- "$stress" "${args[@]}") "
  fi
done
median() { tr ' ' '\n' | grep . | sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
g=$(echo "${t[glibc]}" | median); j=$(echo "${t[jemalloc]}" | median); p=$(echo "${t[placer]}" | median)
printf 'stress --threads 2 --ops %s --depth %s, medians of %s interleaved runs\n' "$ops" "$depth" "$runs"
printf '  glibc     %.3f s   (%s)\n' "$g" "${t[glibc]}"
printf '  jemalloc  %.3f s   (%s)\n' "$j" "${t[jemalloc]}"
printf '  placer    %.3f s   (%s)\n' "$p" "${t[placer]}"
printf '  placer / jemalloc = %.3f   placer / glibc = %.3f   jemalloc / glibc = %.3f\n' \
  "$(echo "$p / $j" | bc -l)" "$(echo "$p / $g" | bc -l)" "$(echo "$j / $g" | bc -l)"
if [ -n "${TIERSCOPE_BENCH_BASELINE_LIB:-}" ]; then
  b=$(echo "${t[baseline]}" | median)
  printf '  baseline  %.3f s   (%s)  %s\n' "$b" "${t[baseline]}" "$TIERSCOPE_BENCH_BASELINE_LIB"
  printf '  baseline / jemalloc = %.3f   placer / baseline = %.3f\n' \
    "$(echo "$b / $j" | bc -l)" "$(echo "$p / $b" | bc -l)"
fi
python3 -c "import json,sys; s=json.load(open('$tmp/stats.json')); print('  last placer run: plan_hits=%d unknown_sites=%d fast allocations=%d' % (s['plan_hits'], s['unknown_sites'], s['tiers'][0]['allocations']))"
