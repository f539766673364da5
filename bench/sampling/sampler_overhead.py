#!/usr/bin/env python3
"""Overhead of the access samplers, side by side with plain runs, in one script.

For each example workload, runs (interleaved, --repeat times each):
  plain            the program alone
  record none      tierscope record --sampler none (allocation tracing only: the baseline)
  record timer     + task-clock sampling with Zydis decoding at the default period (1 ms, or
                   longer where a sample is measured to cost more than the 3% budget allows)
  record timer@1ms the same at the fixed 1 ms the default was before the cost was measured
  record faults    + first-touch page-fault sampling
  record timer+faults
and prints a Markdown table: median wall and CPU seconds (user+sys of the whole process tree,
which includes the recorder's writer and drain threads and the kernel's sampling interrupts),
the sampler's slowdown in CPU time against "record none", samples per second of the program's
CPU time, fraction decoded (timer: an address was recovered; faults always carry one), lost
samples, and the drain thread's CPU share of one core over the run's wall time (from
TIERSCOPE_SAMPLE_STATS). CPU time is the robust figure on a shared machine.

usage: bench/sampling/sampler_overhead.py [--build build/release] [--repeat 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

STATS = re.compile(r"sampling stats: samples=(\d+) decoded=(\d+) undecoded=(\d+) lost=(\d+) "
                   r"throttles=(\d+) threads=(\d+) drain_cpu_s=([\d.]+) period=(\d+)")


def run(argv, env):
    start = time.monotonic()
    before = os.times()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    after = os.times()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"sampler_overhead: {' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    cpu = (after.children_user - before.children_user) + (after.children_system -
                                                          before.children_system)
    m = STATS.search(proc.stderr)
    return wall, cpu, m


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build/release")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    tierscope = os.path.join(args.build, "bin", "tierscope")
    examples = os.path.join(args.build, "examples")
    for path in (tierscope, examples):
        if not os.path.exists(path):
            sys.exit(f"sampler_overhead: {path} not found (build {args.build} first)")
    workloads = [
        ("kvcache", [os.path.join(examples, "ts-example-kvcache")]),
        ("kvcache --threads 2", [os.path.join(examples, "ts-example-kvcache"), "--threads", "2"]),
        ("stress --ops 500000", [os.path.join(examples, "ts-example-stress"), "--ops", "500000"]),
    ]
    configs = {
        "plain": None,
        "none": ["--sampler", "none"],
        "timer": ["--sampler", "timer"],
        "timer@1ms": ["--sampler", "timer", "--sample-period", "1ms"],
        "faults": ["--sampler", "faults"],
        "timer+faults": ["--sampler", "timer+faults"],
    }
    env = dict(os.environ, TIERSCOPE_SAMPLE_STATS="1")
    print("| workload | config | wall s | CPU s | CPU vs record none | samples per CPU s | decoded | lost "
          "| drain CPU (share of one core) |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "bench.trace")
        # The first timer record of a boot measures what a sample costs: outside every round.
        run([tierscope, "record", "-q", "-o", trace, "--sampler", "timer", "--", "/bin/true"], env)
        for name, cmd in workloads:
            results = {c: [] for c in configs}
            for _ in range(args.repeat):
                for c, flags in configs.items():  # interleaved: load drifts hit every config alike
                    argv = cmd if flags is None else [tierscope, "record", "-q", "-o", trace
                                                      ] + flags + ["--"] + cmd
                    results[c].append(run(argv, env))
            base_cpu = statistics.median(r[1] for r in results["none"])
            for c in configs:
                wall = statistics.median(r[0] for r in results[c])
                cpu = statistics.median(r[1] for r in results[c])
                rel = "" if c in ("plain", "none") else f"{100 * (cpu / base_cpu - 1):+.1f}%"
                stats = [r[2] for r in results[c] if r[2] is not None]
                if stats:
                    samples = statistics.median(int(m.group(1)) for m in stats)
                    decoded = statistics.median(int(m.group(2)) / max(1, int(m.group(1)))
                                                for m in stats)
                    lost = statistics.median(int(m.group(4)) for m in stats)
                    drain = statistics.median(float(m.group(7)) for m in stats)
                    cols = [f"{samples / cpu:.0f}", f"{100 * decoded:.1f}%", f"{lost:.0f}",
                            f"{drain:.3f} s ({100 * drain / wall:.2f}%)"]
                else:
                    cols = ["", "", "", ""]
                print(f"| {name} | {c} | {wall:.2f} | {cpu:.2f} | {rel} | " + " | ".join(cols) +
                      " |", flush=True)


if __name__ == "__main__":
    main()
