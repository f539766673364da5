#!/usr/bin/env python3
"""The timer sampler's CPU cost at its default period against the old fixed 1 ms, in one run.

Runs ts-example-kvcache under `tierscope record` with --sampler none, --sampler timer (the
default period: 1 ms, or longer where a sample is measured to cost more than the budget allows)
and --sampler timer --sample-period 1ms, interleaved, --rounds times, and prints a Markdown table
of median CPU seconds (user+sys of the process tree) and each timer configuration's excess over
--sampler none. CPU time is the robust figure on a shared machine.

usage: bench/sampling/timer_period.py [--build build/release] [--rounds 10]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile


def cpu_seconds(argv):
    before = os.times()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    after = os.times()
    if proc.returncode != 0:
        sys.exit(f"timer_period: {' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    return (after.children_user - before.children_user) + (after.children_system -
                                                           before.children_system)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build/release")
    p.add_argument("--rounds", type=int, default=10)
    args = p.parse_args()
    tierscope = os.path.join(args.build, "bin", "tierscope")
    kvcache = os.path.join(args.build, "examples", "ts-example-kvcache")
    for path in (tierscope, kvcache):
        if not os.path.exists(path):
            sys.exit(f"timer_period: {path} not found (build {args.build} first)")
    configs = {
        "`--sampler none`": ["--sampler", "none"],
        "`--sampler timer`, default period": ["--sampler", "timer"],
        "`--sampler timer --sample-period 1ms`": ["--sampler", "timer", "--sample-period", "1ms"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "kv.trace")
        # The first record of a boot measures the cost of a sample: not part of any round.
        subprocess.run([tierscope, "record", "-o", trace, "--sampler", "timer", "--", "/bin/true"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs = {name: [] for name in configs}
        for _ in range(args.rounds):
            for name, flags in configs.items():  # interleaved: load drifts hit all alike
                runs[name].append(cpu_seconds([tierscope, "record", "-q", "-o", trace] + flags +
                                              ["--", kvcache]))
        said = subprocess.run([tierscope, "record", "-o", trace, "--sampler", "timer", "--",
                               "/bin/true"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True).stderr.strip()
    base = statistics.median(runs["`--sampler none`"])
    print(f"ts-example-kvcache, {args.rounds} interleaved rounds, medians of CPU seconds\n")
    print("| configuration | CPU s | over `--sampler none` |")
    print("|---|---:|---:|")
    for name, values in runs.items():
        cpu = statistics.median(values)
        excess = "" if name == "`--sampler none`" else f"{100 * (cpu / base - 1):+.1f}%"
        print(f"| {name} | {cpu:.3f} | {excess} |")
    print(f"\nrecord's summary of a timer run: {said.splitlines()[-1] if said else '(none)'}")


if __name__ == "__main__":
    main()
