#!/usr/bin/python3
"""Summarize a placement benchmark results folder (written by bench/placement/run).

    bench/placement/summarize.py RESULTS_DIR [--capacities 10,25,50]

Reads, for each workload folder RESULTS_DIR/NAME/:
  A.meta.json, B.meta.json          recording wall time, exit status, trace size (workloads.sh)
  A.plain.meta.json, A.plain.stdout program output without the recorder (optional)
  A.report.json                     `tierscope report A.tsprof --format json` (attribution)
  eval-P.json                       `tierscope evaluate --profile A.tsprof B.trace --tier fast=P%
                                    --tier slow=rest --format json`
  insample-P.json                   the same with B planned from itself (optional)
and RESULTS_DIR/evaluate.status (why the evaluation did not run, if it did not).
Writes RESULTS_DIR/placement.md (tables) and RESULTS_DIR/placement.svg (fast share against
fast-tier capacity, one line per policy, one panel per workload). Standard library only.
"""
import argparse
import html
import json
import math
import os
import sys

POLICY_ORDER = ["tierscope", "first-touch", "interleave", "size-threshold", "random-sites",
                "hindsight-site-window-fixed", "hindsight-site-window", "hindsight-pages"]
COLOURS = {"tierscope": "#d62728", "first-touch": "#1f77b4", "interleave": "#2ca02c",
           "size-threshold": "#9467bd", "random-sites": "#8c564b",
           "hindsight-site-window-fixed": "#bcbd22", "hindsight-site-window": "#ff7f0e",
           "hindsight-pages": "#17becf"}
EXTRA_COLOURS = ["#e377c2", "#7f7f7f", "#393b79", "#637939", "#8c6d31"]
WORKLOAD_ORDER = ["kvcache", "stress", "python3", "python3-pymalloc", "perl", "redis", "sqlite3"]


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return {"_error": f"{os.path.basename(path)}: not JSON ({e})"}


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def workloads(results):
    names = [d for d in os.listdir(results)
             if os.path.isdir(os.path.join(results, d)) and d != "inputs" and not d.startswith("_")]
    known = [w for w in WORKLOAD_ORDER if w in names]
    return known + sorted(n for n in names if n not in known)


def pct(x, digits=1):
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def share(num, den):
    return None if not den else num / den


def fmt_bytes(n):
    if n is None:
        return "–"
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"]:
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def fmt_ns(ns):
    if ns is None:
        return "–"
    if ns == 0:
        return "0 s"
    s = ns / 1e9
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def fmt_s(x):
    return "–" if x is None else f"{x:.1f}"


def capacity_of(filename, prefix="eval-"):
    # eval-25.json -> 25.0
    stem = filename[len(prefix):-len(".json")]
    try:
        return float(stem)
    except ValueError:
        return None


def by_capacity(folder, prefix, capacities):
    """PREFIX-P.json files of a workload folder, loaded, by capacity P (those asked for only)."""
    found = {}
    for f in sorted(os.listdir(folder)):
        if not (f.startswith(prefix) and f.endswith(".json")):
            continue
        cap = capacity_of(f, prefix)
        if cap is not None and (not capacities or cap in capacities):
            found[cap] = load_json(os.path.join(folder, f))
    return found


def collect(results, capacities):
    data = {}
    for w in workloads(results):
        d = os.path.join(results, w)
        entry = {"meta": {}, "evals": {}}
        for inp in ["A", "B"]:
            entry["meta"][inp] = load_json(os.path.join(d, f"{inp}.meta.json"))
        entry["plain"] = load_json(os.path.join(d, "A.plain.meta.json"))
        out_rec = read_text(os.path.join(d, "A.stdout"))
        out_plain = read_text(os.path.join(d, "A.plain.stdout"))
        if w == "redis" or out_plain is None or out_rec is None:
            entry["output_check"] = "–"
        else:
            entry["output_check"] = "same" if out_rec == out_plain else "**differs**"
        entry["report"] = load_json(os.path.join(d, "A.report.json"))
        entry["analyze"] = load_json(os.path.join(d, "A.analyze.meta.json"))
        entry["sources"] = load_json(os.path.join(d, "A.sources.json"))
        entry["evals"] = by_capacity(d, "eval-", capacities)
        entry["insample"] = by_capacity(d, "insample-", capacities)
        data[w] = entry
    return data


def policy_names(data):
    seen = []
    for entry in data.values():
        for ev in entry["evals"].values():
            for p in (ev or {}).get("policies", []) if isinstance(ev, dict) else []:
                if p.get("name") not in seen:
                    seen.append(p.get("name"))
    ordered = [p for p in POLICY_ORDER if p in seen]
    return ordered + [p for p in seen if p not in ordered]


def policy_kind(data, name):
    for entry in data.values():
        for ev in entry["evals"].values():
            for p in (ev or {}).get("policies", []) if isinstance(ev, dict) else []:
                if p.get("name") == name:
                    return p.get("kind", "policy")
    return "policy"


# ---------------------------------------------------------------- markdown

def _clean(x):
    return x if isinstance(x, dict) and "_error" not in x else {}


def recording_table(data):
    rows = ["| workload | record A (s) | record B (s) | trace A | trace B | exit A/B | "
            "output A vs plain | alloc+free events A | decoded samples A | undecoded A | "
            "dropped events A | trace end A | analyze A (s) |",
            "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|---:|"]
    for w, e in data.items():
        ma, mb = e["meta"]["A"] or {}, e["meta"]["B"] or {}
        src = _clean(e["sources"])
        c = src.get("counters") or {}
        events = c.get("alloc_events", 0) + c.get("free_events", 0) if c else None
        dec, und = c.get("samples"), c.get("samples_undecoded")
        rows.append(
            f"| {w} | {fmt_s(ma.get('wall_s'))} | {fmt_s(mb.get('wall_s'))} | "
            f"{fmt_bytes(ma.get('trace_bytes'))} | {fmt_bytes(mb.get('trace_bytes'))} | "
            f"{ma.get('status', '–')}/{mb.get('status', '–')} | {e['output_check']} | "
            f"{events if events is not None else '–'} | {dec if dec is not None else '–'} | "
            f"{und if und is not None else '–'}"
            f"{' (' + pct(share(und, (dec or 0) + und)) + ')' if und is not None else ''} | "
            f"{c.get('dropped_events', 0) if c else '–'} | {src.get('end_reason') or '–'} | "
            f"{fmt_s(_clean(e['analyze']).get('wall_s'))} |")
    return rows


def attribution_table(data):
    rows = ["| workload | samples A | heap samples A | heap / total | mapping | allocator code | stack | "
            "globals | unknown | IP in recorder | of which in mapping | heap / (total − recorder IP) | "
            "heap / (heap + mapping), program IPs | same, allocator code counted as missed |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for w, e in data.items():
        rep = _clean(e["report"])
        total = rep.get("total_samples")
        heap = rep.get("heap_samples")
        regions = rep.get("samples_by_region") or {}
        src = _clean(e["sources"])
        rec = src.get("recorder_ip_samples")
        rec_share = pct(share(rec, src.get("decoded_samples"))) if rec is not None else "–"
        rec_map = (src.get("recorder_ip_by_region") or {}).get("mapping", 0)
        rec_map_s = pct(share(rec_map, total)) if rec is not None and total else "–"
        prog = pct(share(heap or 0, total - rec)) if rec is not None and total else "–"
        # The attribution figure: of the samples that hit heap memory (a tracked block, or
        # the allocator-managed mappings around them), the share attributed to a live block.
        # Samples of the allocator's own code around the blocks (region "allocator": headers, free
        # lists, freed blocks) are not the program's data; the last column counts them as missed,
        # as the figure did before the join told them apart.
        heapish = (heap or 0) + regions.get("mapping", 0) - (rec_map if rec is not None else 0)
        attributed = pct(share(heap or 0, heapish)) if heapish > 0 else "–"
        with_alloc = heapish + regions.get("allocator", 0)
        attributed_all = pct(share(heap or 0, with_alloc)) if with_alloc > 0 else "–"

        def region(r):
            return pct(share(regions.get(r, 0), total)) if total is not None else "–"
        rows.append(
            f"| {w} | {total if total is not None else '–'} | {heap if heap is not None else '–'} | "
            f"{pct(share(heap or 0, total)) if total is not None else '–'} | "
            f"{region('mapping')} | {region('allocator')} | {region('stack')} | {region('globals')} | "
            f"{region('unknown')} | {rec_share} | {rec_map_s} | {prog} | {attributed} | "
            f"{attributed_all} |")
    return rows


def placement_table(data, policies):
    head = "| workload | fast tier | B peak heap | B heap samples | held out | " + \
        " | ".join(f"{p}{' (bound)' if policy_kind(data, p) == 'bound' else ''}" for p in policies) + " |"
    rows = [head, "|---|---:|---:|---:|---|" + "---:|" * len(policies)]
    notes = []
    for w, e in data.items():
        for cap in sorted(e["evals"]):
            ev = e["evals"][cap]
            if not isinstance(ev, dict) or "_error" in ev:
                notes.append(f"{w} at {cap:g}%: {(ev or {}).get('_error', 'missing')}")
                continue
            by_name = {p.get("name"): p for p in ev.get("policies", [])}
            cells = []
            for p in policies:
                q = by_name.get(p)
                if q is None:
                    cells.append("–")
                else:
                    cells.append(f"{pct(q.get('fast_share'))} · {fmt_ns(q.get('stall_ns'))}")
            held = ev.get("held_out")
            held_s = "yes" if held else ("**no**" if held is not None else "–")
            rows.append(f"| {w} | {cap:g}% | {fmt_bytes(ev.get('peak_heap_bytes'))} | "
                        f"{ev.get('heap_samples', '–')} | {held_s} | " + " | ".join(cells) + " |")
            for warn in ev.get("warnings", []) or []:
                notes.append(f"{w} at {cap:g}%: {warn}")
    return rows, notes


def fast_share_of(ev, name):
    if not isinstance(ev, dict) or "_error" in ev:
        return None
    for p in ev.get("policies", []):
        if p.get("name") == name:
            return p.get("fast_share")
    return None


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def loss_table(data):
    """Per workload and capacity: the held-out plan against the plan learned on B itself, and the
    two site x window bounds; the shares of the bounds it reaches, and their medians."""
    caps = sorted({c for e in data.values() for c in e["evals"]})
    rows = ["| workload | fast tier | tierscope (held out) | tierscope (planned from B) | "
            "first-touch | site×window, fixed (bound) | site×window (bound) | "
            "of the fixed bound | of the site×window bound |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    medians = []
    for cap in caps:
        of_fixed, of_bound = [], []
        for w, e in data.items():
            ev = e["evals"].get(cap)
            held = fast_share_of(ev, "tierscope")
            if held is None:
                continue
            ins = fast_share_of(e.get("insample", {}).get(cap), "tierscope")
            fixed = fast_share_of(ev, "hindsight-site-window-fixed")
            bound = fast_share_of(ev, "hindsight-site-window")
            rf, rb = share(held, fixed), share(held, bound)
            of_fixed.append(rf)
            of_bound.append(rb)
            rows.append(f"| {w} | {cap:g}% | {pct(held)} | {pct(ins)} | "
                        f"{pct(fast_share_of(ev, 'first-touch'))} | {pct(fixed)} | {pct(bound)} | "
                        f"{pct(rf, 0)} | {pct(rb, 0)} |")
        medians.append(f"at {cap:g}%: median {pct(median(of_fixed), 0)} of the fixed bound, "
                       f"{pct(median(of_bound), 0)} of the site×window bound")
    return rows, medians


def write_markdown(results, data, capacities, path):
    policies = policy_names(data)
    out = ["# Placement benchmark", ""]
    version = read_text(os.path.join(results, "tierscope.version"))
    settings = read_text(os.path.join(results, "settings.txt"))
    out.append(f"Results folder `{results}`" + (f", `{version.strip()}`" if version else "") + ".")
    if settings:
        out += ["", "```", settings.rstrip(), "```"]
    failures = read_text(os.path.join(results, "failures.txt"))
    if failures:
        out += ["", "**Failed steps** (`failures.txt`):", ""] + [f"- {l}" for l in failures.splitlines() if l]
    workloads_txt = read_text(os.path.join(results, "workloads.md"))
    if workloads_txt:
        out += ["", "## Workloads (input A, input B)", "", workloads_txt.rstrip()]
    out += ["", "## Recording", "",
            "Wall time of each recording (`tierscope record -q --sampler timer --sample-budget 0`), "
            "trace size, exit status of the program under the recorder, whether input A's stdout "
            "equals a plain run's (redis: not compared), and input A's trace counters "
            "(`sample_sources.py`, from `tierscope dump`).", ""]
    out += recording_table(data)
    out += ["", "## Attribution (input A)", "",
            "Where input A's decoded access samples landed (`tierscope report A.tsprof --format json`): "
            "heap = inside a tracked allocation live at the time; mapping / stack / globals / unknown "
            "are `samples_by_region`, as shares of all samples (mapping = between modules: untracked "
            "mmaps, non-main thread stacks, the recorder's own buffers). \"IP in recorder\": share of "
            "the samples whose instruction pointer was in the recorder's own code "
            "(libtierscope-recorder, libunwind, xxhash, …), taken while the program thread ran the "
            "recorder's hooks, and those of them that landed in \"mapping\" (share of all samples); "
            "\"heap / (total − recorder IP)\" leaves them out of the denominator; \"allocator code\" "
            "are the samples outside live blocks, in the heap areas, whose instruction pointer was in "
            "the allocator (glibc's malloc functions, an allocator library): the allocator touching "
            "its headers, free lists and freed blocks. The next column is "
            "the share of the samples that hit heap memory (a tracked block, or \"mapping\": "
            "memory around the blocks, and thread stacks) attributed to a live "
            "block, the program's own samples only; the last one counts the allocator-code samples "
            "as missed too.", ""]
    out += attribution_table(data)
    out += ["", "## Placement: share of B's heap access samples served by the fast tier", ""]
    status = read_text(os.path.join(results, "evaluate.status"))
    has_evals = any(e["evals"] for e in data.values())
    if status:
        out += [f"**Evaluation not complete:** {status.strip()}", ""]
    if has_evals:
        out += ["Plan from input A's profile, replay input B (held out); fast tier = the given share "
                "of B's peak live heap bytes, slow = the rest. Each cell: fast share · stall "
                "estimate (`stall_ns`). `(bound)` columns are hindsight upper bounds, not policies.",
                ""]
        rows, notes = placement_table(data, policies)
        out += rows
        if notes:
            out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
        out += ["", "![fast share against capacity](placement.svg)"]
        rows, medians = loss_table(data)
        out += ["", "## Where the loss is", "",
                "The held-out plan against the plan `tierscope evaluate` learns from B itself "
                "(in-sample: what learning on another run cost), and against the two site × window "
                "bounds: groups of one site's allocations in one of 10 time windows, kept on one tier "
                "for their whole life (fixed: what a placer that decides at allocation time could "
                "reach, knowing each group's future) or chosen anew in every time bin (as if moved "
                "for free). A quota (a site's first blocks fast, the rest not) is outside the fixed "
                "bound's premise, so a plan with quotas can pass it.", ""]
        out += rows + [""] + [f"- {m}" for m in medians]
    elif not status:
        out += ["No `eval-*.json` files in the results folder."]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------- svg

def write_svg(data, capacities, path):
    policies = policy_names(data)
    names = list(data)
    cols = min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    pw, ph = 320, 230            # panel size
    ml, mr, mt, mb = 52, 14, 28, 40  # panel margins (plot area inside)
    legend_h = 26 + 18 * math.ceil(max(1, len(policies)) / 4)
    width, height = cols * pw + 20, rows * ph + legend_h + 40
    caps = sorted({c for e in data.values() for c in e["evals"]} | set(capacities or []))
    xmax = max(caps) if caps else 100.0
    xmax = 10 * math.ceil(xmax * 1.1 / 10)

    colour = dict(COLOURS)
    extra = iter(EXTRA_COLOURS * 4)
    for p in policies:
        colour.setdefault(p, next(extra))

    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
         'Fast-tier share of held-out heap samples against fast-tier capacity</text>']
    # legend
    ly = 36
    for i, p in enumerate(policies):
        x = 20 + (i % 4) * (width - 40) / 4
        y = ly + 18 * (i // 4)
        dash = ' stroke-dasharray="5,3"' if policy_kind(data, p) == "bound" else ""
        s.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colour[p]}" '
                 f'stroke-width="2"{dash}/>')
        label = p + (" (bound)" if policy_kind(data, p) == "bound" else "")
        s.append(f'<text x="{x + 30}" y="{y + 4}">{html.escape(label)}</text>')
    top = legend_h + 20
    for k, w in enumerate(names):
        e = data[w]
        ox, oy = 10 + (k % cols) * pw, top + (k // cols) * ph
        x0, y0 = ox + ml, oy + mt
        iw, ih = pw - ml - mr, ph - mt - mb

        def X(c):
            return x0 + iw * c / xmax

        def Y(v):
            return y0 + ih * (1 - v)
        held = [ev.get("held_out") for ev in e["evals"].values() if isinstance(ev, dict)]
        title = w + (" (B not held out)" if any(h is False for h in held) else "")
        s.append(f'<text x="{x0 + iw / 2}" y="{oy + 18}" text-anchor="middle" font-size="12" '
                 f'font-weight="bold">{html.escape(title)}</text>')
        s.append(f'<rect x="{x0}" y="{y0}" width="{iw}" height="{ih}" fill="none" stroke="#999"/>')
        for v in [0, 0.25, 0.5, 0.75, 1.0]:
            s.append(f'<line x1="{x0}" y1="{Y(v):.1f}" x2="{x0 + iw}" y2="{Y(v):.1f}" stroke="#eee"/>')
            s.append(f'<text x="{x0 - 4}" y="{Y(v) + 4:.1f}" text-anchor="end">{int(v * 100)}%</text>')
        for c in caps:
            s.append(f'<line x1="{X(c):.1f}" y1="{y0 + ih}" x2="{X(c):.1f}" y2="{y0 + ih + 4}" stroke="#999"/>')
            s.append(f'<text x="{X(c):.1f}" y="{y0 + ih + 15}" text-anchor="middle">{c:g}%</text>')
        s.append(f'<text x="{x0 + iw / 2}" y="{y0 + ih + 30}" text-anchor="middle" fill="#555">'
                 'fast tier, % of B\'s peak heap</text>')
        series = {p: [] for p in policies}
        for cap in sorted(e["evals"]):
            ev = e["evals"][cap]
            if not isinstance(ev, dict):
                continue
            for q in ev.get("policies", []) or []:
                v = q.get("fast_share")
                if q.get("name") in series and isinstance(v, (int, float)):
                    series[q["name"]].append((cap, max(0.0, min(1.0, float(v)))))
        if not any(series.values()):
            s.append(f'<text x="{x0 + iw / 2}" y="{y0 + ih / 2}" text-anchor="middle" fill="#999">'
                     'no evaluation data</text>')
            continue
        for p, pts in series.items():
            if not pts:
                continue
            dash = ' stroke-dasharray="5,3"' if policy_kind(data, p) == "bound" else ""
            path_d = " ".join(f"{'M' if i == 0 else 'L'}{X(c):.1f},{Y(v):.1f}" for i, (c, v) in enumerate(pts))
            s.append(f'<path d="{path_d}" fill="none" stroke="{colour[p]}" stroke-width="2"{dash}>'
                     f'<title>{html.escape(w)} {html.escape(p)}</title></path>')
            for c, v in pts:
                s.append(f'<circle cx="{X(c):.1f}" cy="{Y(v):.1f}" r="2.5" fill="{colour[p]}">'
                         f'<title>{html.escape(p)} at {c:g}%: {100 * v:.1f}%</title></circle>')
    s.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(s) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--capacities", default="",
                    help="comma-separated fast-tier percentages to include (default: every eval-*.json)")
    args = ap.parse_args()
    if not os.path.isdir(args.results):
        print(f"summarize.py: {args.results}: not a folder", file=sys.stderr)
        return 2
    capacities = [float(c) for c in args.capacities.split(",") if c.strip()]
    data = collect(args.results, capacities)
    if not data:
        print(f"summarize.py: {args.results}: no workload folders", file=sys.stderr)
        return 1
    md = os.path.join(args.results, "placement.md")
    svg = os.path.join(args.results, "placement.svg")
    write_markdown(args.results, data, capacities, md)
    write_svg(data, capacities, svg)
    print(f"summarize.py: wrote {md} and {svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
