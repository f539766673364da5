#!/usr/bin/env bash
# Whole-run overhead of `tierscope record` on the 2-thread malloc-heavy example, side by side
# with a plain run and heaptrack, interleaved (this machine is shared and noisy: only ratios
# measured in the same run mean anything). Prints a Markdown table for docs/benchmarks.md.
#
#   bench/record_overhead.sh [BUILD_DIR]     env: RUNS (default 5), OPS (default 5000000)
#   BEFORE_LIB=path/to/old/libtierscope-recorder.so adds a run "full-before" of that library
#   (through TIERSCOPE_RECORDER_LIB), so a change is measured before/after in the same run.
set -euo pipefail
build=${1:-build/release}
runs=${RUNS:-5}
ops=${OPS:-5000000}
stress=$build/examples/ts-example-stress
tierscope=$build/bin/tierscope
for f in "$stress" "$tierscope"; do
  [ -x "$f" ] || { echo "record_overhead.sh: $f not built" >&2; exit 2; }
done
have_heaptrack=1
command -v heaptrack >/dev/null || have_heaptrack=0
work=$(mktemp -d /tmp/ts-record-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

# One timed run: appends "seconds maxrss_kb" to $work/<name>.times.
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >"$work/out" 2>"$work/err" || {
    echo "record_overhead.sh: '$*' failed:" >&2; cat "$work/err" >&2; exit 1; }
  cat "$work/t" >>"$work/$name.times"
  # heaptrack prints its own lines on stdout; ours must not change the program's output.
  if [ "$name" != heaptrack ] && [ -f "$work/expected.out" ] && ! cmp -s "$work/out" "$work/expected.out"; then
    echo "record_overhead.sh: output of '$name' differs from the plain run" >&2; exit 1
  fi
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for depth in 1 16; do
  args=(--threads 2 --ops "$ops" --depth "$depth")
  rm -f "$work"/*.times "$work/expected.out"
  "$stress" "${args[@]}" >"$work/expected.out"
  for ((i = 0; i < runs; i++)); do
    timed plain "$stress" "${args[@]}"
    timed full "$tierscope" record -q --sampler none -o "$work/full.trace" -- "$stress" "${args[@]}"
    if [ -n "${BEFORE_LIB:-}" ]; then
      timed full-before env TIERSCOPE_RECORDER_LIB="$BEFORE_LIB" "$tierscope" record -q \
        --sampler none -o "$work/full-before.trace" -- "$stress" "${args[@]}"
    fi
    timed sampled "$tierscope" record -q --sampler none --alloc-sample-bytes 524288 \
      -o "$work/sampled.trace" -- "$stress" "${args[@]}"
    if [ $have_heaptrack = 1 ]; then
      timed heaptrack heaptrack -o "$work/ht" "$stress" "${args[@]}"
    fi
  done
  base=$(cut -d' ' -f1 "$work/plain.times" | median)
  events=$(( 2 * 2 * ops ))  # mallocs + frees of the workers (tracer traces a few more)
  echo
  echo "stress --threads 2 --ops $ops --depth $depth ($runs runs each, interleaved; medians)"
  echo
  echo "| run | median s | × plain | peak RSS MiB | trace bytes/event |"
  echo "|---|---|---|---|---|"
  for name in plain full-before full sampled heaptrack; do
    [ -f "$work/$name.times" ] || continue
    s=$(cut -d' ' -f1 "$work/$name.times" | median)
    rss=$(cut -d' ' -f2 "$work/$name.times" | median)
    case $name in
      full | full-before) size=$(stat -c %s "$work/$name.trace") ;;
      sampled) size=$(stat -c %s "$work/sampled.trace") ;;
      heaptrack) size=$(stat -c %s "$work"/ht*) ;;
      *) size= ;;
    esac
    bpe=-
    [ -n "$size" ] && bpe=$(awk -v s="$size" -v e="$events" 'BEGIN {printf "%.2f", s / e}')
    if [ $name = sampled ] && [ -n "$size" ]; then bpe="$bpe (of all events; $size B)"; fi
    awk -v n="$name" -v s="$s" -v b="$base" -v r="$rss" -v p="$bpe" \
      'BEGIN {printf "| %s | %.2f | %.2f | %.0f | %s |\n", n, s, s / b, r / 1024, p}'
  done
  rm -f "$work"/ht*
done
