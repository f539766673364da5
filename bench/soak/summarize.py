#!/usr/bin/env python3
"""Tables of a bench/soak/run folder (markdown, for docs/benchmarks.md "Soak").

Per minute of each run: the server's RSS against redis's own count of what it holds (INFO
used_memory), and for the placer run its timeline: live bytes and resident bytes of each tier.
Then the drift: RSS / used_memory over the first and the last third of each run.

Usage: bench/soak/summarize.py OUTDIR
"""
import json
import os
import sys

MiB = 1 << 20


def read_tsv(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            t, rss, used = line.split("\t")
            rows.append((float(t), int(rss), int(used)))
    return rows


def read_timeline(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def at_minutes(rows, t_of, step=60.0):
    """The row nearest each whole minute (and the last one)."""
    if not rows:
        return []
    picked, want = [], 0.0
    end = t_of(rows[-1])
    while want <= end:
        picked.append(min(rows, key=lambda r: abs(t_of(r) - want)))
        want += step
    if picked[-1] is not rows[-1]:
        picked.append(rows[-1])
    return picked


def ratio(a, b):
    return a / b if b else float("nan")


def drift(rows):
    """Mean RSS/used over the first and the last third (rows with used >= 16 MiB)."""
    loaded = [r for r in rows if r[2] >= 16 * MiB]
    if len(loaded) < 3:
        return None
    third = len(loaded) // 3
    first = sum(ratio(r[1], r[2]) for r in loaded[:third]) / third
    last = sum(ratio(r[1], r[2]) for r in loaded[-third:]) / third
    return first, last


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/soak/summarize.py OUTDIR")
    out = sys.argv[1]
    modes = [m for m in ("plain", "placer", "record") if os.path.exists(f"{out}/{m}.memory.tsv")]
    if not modes:
        sys.exit(f"bench/soak/summarize.py: no *.memory.tsv in {out}")
    print("| run | rounds | exit status | RSS / used_memory, first third | last third | peak RSS |")
    print("|---|---|---|---|---|---|")
    for m in modes:
        rows = read_tsv(f"{out}/{m}.memory.tsv")
        rounds = open(f"{out}/{m}.rounds").read().strip()
        status = open(f"{out}/{m}.status").read().strip()
        d = drift(rows)
        first, last = (f"{d[0]:.2f}", f"{d[1]:.2f}") if d else ("-", "-")
        peak = max(r[1] for r in rows) / MiB
        print(f"| {m} | {rounds} | {status} | {first} | {last} | {peak:.0f} MiB |")
    print()
    for m in modes:
        rows = read_tsv(f"{out}/{m}.memory.tsv")
        print(f"{m}: per minute (MiB)\n")
        print("| t (s) | RSS | used_memory | RSS / used |")
        print("|---|---|---|---|")
        for t, rss, used in at_minutes(rows, lambda r: r[0]):
            print(f"| {t:.0f} | {rss / MiB:.0f} | {used / MiB:.0f} | {ratio(rss, used):.2f} |")
        print()
    timeline = f"{out}/placer.timeline.jsonl"
    if os.path.exists(timeline):
        lines = read_timeline(timeline)
        names = [t["name"] for t in lines[0]["tiers"]]
        print("placer timeline (MiB): RSS, jemalloc's live bytes, and per tier live / resident\n")
        head = " | ".join(f"{n} live | {n} resident" for n in names)
        print(f"| t (s) | RSS | allocated | {head} | tiers resident / live |")
        print("|---|---|---|" + "---|---|" * len(names) + "---|")
        for line in at_minutes(lines, lambda l: l["t_s"]):
            cells = " | ".join(f"{t['live_bytes'] / MiB:.0f} | {t['resident_bytes'] / MiB:.0f}"
                               for t in line["tiers"])
            live = sum(t["live_bytes"] for t in line["tiers"])
            resident = sum(t["resident_bytes"] for t in line["tiers"])
            print(f"| {line['t_s']:.0f} | {line['rss_bytes'] / MiB:.0f} | "
                  f"{line['allocated_bytes'] / MiB:.0f} | {cells} | {ratio(resident, live):.2f} |")
        print()
    stats = f"{out}/placer.stats.json"
    if os.path.exists(stats):
        s = json.load(open(stats))
        print(f"placer summary: {s.get('summary', '')}\n")
    size = f"{out}/record.trace.size"
    if os.path.exists(size):
        analyzed = os.path.exists(f"{out}/record.tsprof")
        print(f"recorded trace: {int(open(size).read().split()[4]) / MiB:.0f} MiB; "
              f"tierscope analyze: {'read it whole' if analyzed else 'failed'}")

if __name__ == "__main__":
    main()
