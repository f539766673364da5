#!/usr/bin/python3
"""Where a trace's access samples were taken: the module of each sample's instruction pointer.

    bench/placement/sample_sources.py TRACE [-o OUT.json] [--tierscope PATH]

Reads `tierscope dump --max-events -1 TRACE` (module maps and ACCESS_* lines) and counts the
decoded timer samples by the module holding their IP, and by the region of their data address
(the analyzer's rule: "globals" inside a module, "stack" above every module, "unknown" below,
"mapping" in between; tracked heap blocks are not known here). Samples whose IP is in the
recorder's own code (libtierscope-recorder.so and the libraries it brings: libunwind, xxhash,
zstd, protobuf, Zydis, libpfm) were taken while the program thread was inside the recorder's
hooks: they measure the recorder, not the program. Also the trace's last Counters message
(events, samples decoded and not, dropped events) and the footer's end reason. Prints one JSON
object. Standard library only.
"""
import argparse
import bisect
import json
import os
import re
import subprocess
import sys

RECORDER_MODULES = ("libtierscope-recorder", "libunwind", "libxxhash", "libzstd", "libprotobuf",
                    "libZydis", "libpfm")
ACCESS = re.compile(rb"\s*\d+ ACCESS_\w+ ip=0x([0-9a-f]+) addr=0x([0-9a-f]+)")


def read_counters(tierscope, trace):
    """The trace's last Counters message (they are cumulative) and the footer's end reason."""
    text = subprocess.run([tierscope, "dump", "--max-events", "0", trace], stdout=subprocess.PIPE,
                          check=False).stdout.decode(errors="replace")
    counters, block, end_reason = {}, None, None
    for line in text.splitlines():
        if line.startswith("counters {"):
            block = {}
        elif block is not None and line.startswith("}"):
            counters, block = block, None
        elif block is not None:
            m = re.match(r"  (\w+): (\d+)$", line)
            if m:
                block[m.group(1)] = int(m.group(2))
        m = re.match(r'\s*end_reason: "(.*)"', line)
        if m:
            end_reason = m.group(1)
    return counters, end_reason


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("-o", "--output")
    ap.add_argument("--tierscope", default=os.environ.get(
        "TIERSCOPE", os.path.join(here, "..", "..", "build", "release", "bin", "tierscope")))
    args = ap.parse_args()

    dump = subprocess.Popen([args.tierscope, "dump", "--max-events", "-1", args.trace],
                            stdout=subprocess.PIPE)
    grep = subprocess.Popen(["grep", "-E", "ACCESS_|path:|start:|end:"], stdin=dump.stdout,
                            stdout=subprocess.PIPE)
    dump.stdout.close()
    segments = set()  # (start, end, module basename)
    samples = []
    module = start = None
    for line in grep.stdout:
        m = ACCESS.match(line)
        if m:
            samples.append((int(m.group(1), 16), int(m.group(2), 16)))
            continue
        s = line.strip()
        if s.startswith(b"path:"):
            module = os.path.basename(s[5:].strip().strip(b'"').decode(errors="replace"))
        elif s.startswith(b"start:") and module:
            start = int(s[6:])
        elif s.startswith(b"end:") and module and start is not None:
            segments.add((start, int(s[4:]), module))
            start = None
    grep.wait()
    if dump.wait() != 0:
        print(f"sample_sources.py: tierscope dump {args.trace} failed", file=sys.stderr)
        return 1

    counters, end_reason = read_counters(args.tierscope, args.trace)
    ranges = sorted(segments)
    starts = [r[0] for r in ranges]
    lowest = min(starts) if ranges else 0
    highest = max((r[1] for r in ranges), default=0)

    def module_of(x):
        i = bisect.bisect_right(starts, x) - 1
        # segments of different loads may overlap after a dlclose: look back a little
        for j in range(i, max(-1, i - 8), -1):
            if ranges[j][0] <= x < ranges[j][1]:
                return ranges[j][2]
        return None

    def region(x):
        if module_of(x):
            return "globals"
        if not ranges or x < lowest:
            return "unknown"
        return "stack" if x >= highest else "mapping"

    by_module, recorder_regions = {}, {}
    recorder = 0
    for ip, addr in samples:
        mod = module_of(ip) or "(no module)"
        by_module[mod] = by_module.get(mod, 0) + 1
        if mod.startswith(RECORDER_MODULES):
            recorder += 1
            r = region(addr)
            recorder_regions[r] = recorder_regions.get(r, 0) + 1
    out = {
        "trace": args.trace,
        "decoded_samples": len(samples),
        "recorder_ip_samples": recorder,
        "recorder_ip_share": recorder / len(samples) if samples else None,
        "recorder_ip_by_region": recorder_regions,
        "counters": counters,
        "end_reason": end_reason,
        "by_ip_module": dict(sorted(by_module.items(), key=lambda kv: -kv[1])),
    }
    text = json.dumps(out, indent=1)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
