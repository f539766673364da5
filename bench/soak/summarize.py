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


def windows(rows, t_of, width):
    """Rows grouped by whole windows of `width` seconds (a last window cut short by the end of the
    run, with its shutdown, is left out)."""
    groups = {}
    for r in rows:
        groups.setdefault(int(t_of(r) // width), []).append(r)
    keys = sorted(groups)
    if len(keys) > 1 and len(groups[keys[-1]]) < len(groups[keys[0]]) / 2:
        keys.pop()
    return [groups[k] for k in keys]


def ratio(a, b):
    return a / b if b else float("nan")


def halves(values):
    """Means of the first and the second half."""
    if len(values) < 2:
        return None
    h = len(values) // 2
    return sum(values[:h]) / h, sum(values[h:]) / (len(values) - h)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/soak/summarize.py OUTDIR")
    out = sys.argv[1]
    modes = [m for m in ("plain", "placer", "record") if os.path.exists(f"{out}/{m}.rounds")]
    if not modes:
        sys.exit(f"bench/soak/summarize.py: no finished run in {out}")
    width = 100.0
    # The load flushes the database every 4th round, so memory swings between ~0 and its peak:
    # drift shows in the floor (RSS left when almost nothing is live) and in RSS / used_memory when
    # the server is loaded (rows with at least half the run's largest used_memory).
    print("| run | rounds | exit | peak RSS | peak used_memory | loaded RSS / used, 1st half → 2nd "
          "| floor RSS per 100 s, 1st half → 2nd |")
    print("|---|---|---|---|---|---|---|")
    for m in modes:
        rows = read_tsv(f"{out}/{m}.memory.tsv")
        rounds = open(f"{out}/{m}.rounds").read().strip()
        status = open(f"{out}/{m}.status").read().strip()
        top = max(r[2] for r in rows)
        loaded = halves([ratio(r[1], r[2]) for r in rows if r[2] >= top / 2])
        floors = halves([min(r[1] for r in w) / MiB for w in windows(rows, lambda r: r[0], width)])
        lo = f"{loaded[0]:.2f} → {loaded[1]:.2f}" if loaded else "-"
        fl = f"{floors[0]:.0f} → {floors[1]:.0f} MiB" if floors else "-"
        print(f"| {m} | {rounds} | {status} | {max(r[1] for r in rows) / MiB:.0f} MiB | "
              f"{top / MiB:.0f} MiB | {lo} | {fl} |")
    print()
    print(f"Per {width:.0f} s window (MiB): largest RSS and used_memory, smallest RSS\n")
    print("| window (s) | " + " | ".join(f"{m} RSS max / used max / RSS min" for m in modes) + " |")
    print("|---|" + "---|" * len(modes))
    per_mode = {m: windows(read_tsv(f"{out}/{m}.memory.tsv"), lambda r: r[0], width) for m in modes}
    for i in range(max(len(w) for w in per_mode.values())):
        cells = []
        for m in modes:
            w = per_mode[m][i] if i < len(per_mode[m]) else None
            cells.append(f"{max(r[1] for r in w) / MiB:.0f} / {max(r[2] for r in w) / MiB:.0f} / "
                         f"{min(r[1] for r in w) / MiB:.0f}" if w else "-")
        print(f"| {i * width:.0f}–{(i + 1) * width:.0f} | " + " | ".join(cells) + " |")
    print()
    timeline = f"{out}/placer.timeline.jsonl"
    if os.path.exists(timeline):
        lines = read_timeline(timeline)
        names = [t["name"] for t in lines[0]["tiers"]]
        print(f"placer timeline per {width:.0f} s window (MiB), at the line with the most live "
              "bytes: RSS, jemalloc's allocated bytes, per tier live / resident\n")
        head = " | ".join(f"{n} live / resident" for n in names)
        print(f"| window (s) | RSS | allocated | {head} | tiers resident / live |")
        print("|---|---|---|" + "---|" * len(names) + "---|")
        for i, w in enumerate(windows(lines, lambda l: l["t_s"], width)):
            line = max(w, key=lambda l: l["tiers_live_bytes"])
            cells = " | ".join(f"{t['live_bytes'] / MiB:.0f} / {t['resident_bytes'] / MiB:.0f}"
                               for t in line["tiers"])
            live = sum(t["live_bytes"] for t in line["tiers"])
            resident = sum(t["resident_bytes"] for t in line["tiers"])
            print(f"| {i * width:.0f}–{(i + 1) * width:.0f} | {line['rss_bytes'] / MiB:.0f} | "
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
