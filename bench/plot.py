#!/usr/bin/python3
"""Plot viewcache's benchmark results as PNG files.

Usage:
    bench/plot.py [--hit-ratio FILE] [--latency FILE] [--out-dir DIR]

Reads two files, by default from build/release/:
  hit-ratio.jsonl  one JSON object per line with at least trace, policy,
                   capacity and hit_ratio, as written by viewcache-sim --json
                   (scripts/hit-ratio.sh runs it over the traces). Optional
                   fields: capacity_unit, byte_hit_ratio, requests,
                   distinct_keys, and target_capacity, which
                   scripts/hit-ratio.sh sets on its target sizes;
  latency.json     Google Benchmark JSON from viewcache_latency_bench
                   (scripts/bench-latency.sh writes it).

and writes into DIR (default docs/img/):
  hit-ratio-<trace>.png  hit ratio in percent against cache size on a log
                         axis, one line per policy, OPT dashed as the upper
                         bound and target sizes marked by vertical lines.
                         One file per trace and capacity unit (entries or
                         bytes); byte capacities with a byte_hit_ratio get a
                         second panel for it. A trace replayed at one size
                         gets one bar per policy instead;
  hit-latency-p50.png    the median latency of a cache hit per contender, on
                         one thread, on a log scale, with p99 marked.

A missing input is reported with the command that produces it. The plots of
the other input are still written, and the exit status is then 1.

Needs Debian's python3 with its python3-matplotlib package, so the first
line names /usr/bin/python3 rather than whichever python3 comes first in PATH.
"""

import argparse
import dataclasses
import json
import math
import os
import re
import statistics
import sys
import textwrap

try:
    import matplotlib
except ImportError:
    sys.exit(f"plot.py: matplotlib is not installed for {sys.executable}; install the Debian "
             "package python3-matplotlib and run bench/plot.py (which uses /usr/bin/python3)")

matplotlib.use("Agg")  # files only; no display is needed
import matplotlib.pyplot as plt  # noqa: E402  (must follow matplotlib.use)

HIT_RATIO_COMMAND = (
    "scripts/hit-ratio.sh writes it, or run build/release/tools/sim/viewcache-sim "
    "--trace FILE --format FORMAT --capacity N,M --policy viewcache,lru --json "
    "> build/release/hit-ratio.jsonl")
LATENCY_COMMAND = "scripts/bench-latency.sh writes it"

# Benchmarks of viewcache itself, drawn in a colour of their own.
OURS_PREFIX = "BM_Hit_Ours_"

# The hit latency viewcache aims for, drawn as a reference line.
TARGET_P50_NS = 150

NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# The line style of each policy in the hit-ratio plots, the same in every
# file. OPT is dashed because it is the upper bound, not a contender.
POLICY_STYLES = {
    "viewcache": {"color": "tab:green", "marker": "o", "linewidth": 2.2, "zorder": 3},
    "caffeine": {"color": "tab:blue", "marker": "D"},
    # Hollow and larger, so that ARC stays visible where it equals LRU.
    "arc": {"color": "tab:orange", "marker": "^", "markerfacecolor": "none", "markersize": 8},
    "lru": {"color": "tab:red", "marker": "s"},
    "opt": {"color": "black", "marker": "v", "linestyle": "--"},
}
LINE_DEFAULTS = {"linewidth": 1.3, "linestyle": "-", "markersize": 5}
# Markers for policies that POLICY_STYLES does not name.
SPARE_MARKERS = "PX*h<>"


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hit-ratio", default="build/release/hit-ratio.jsonl",
                        help="viewcache-sim --json output, one JSON object per line "
                             "(default: %(default)s)")
    parser.add_argument("--latency", default="build/release/latency.json",
                        help="Google Benchmark JSON from viewcache_latency_bench "
                             "(default: %(default)s)")
    parser.add_argument("--out-dir", default="docs/img",
                        help="directory for the PNG files, created if missing "
                             "(default: %(default)s)")
    return parser.parse_args()


def slug(title):
    """Return a file-name-safe form of a trace title, such as "cache2k-web07"
    for "cache2k/web07.trace.xz"."""
    title = re.sub(r"\.(trace|lis|gz|xz|zst|txt)\b", "", title)
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "trace"


@dataclasses.dataclass
class Replay:
    """The results of one trace at one capacity unit. The two ratio fields
    map {policy: {capacity: ratio}}."""
    trace_format: str = ""
    hit_ratios: dict = dataclasses.field(default_factory=dict)
    byte_hit_ratios: dict = dataclasses.field(default_factory=dict)
    target_capacities: set = dataclasses.field(default_factory=set)
    requests: int | None = None
    distinct_keys: int | None = None


def read_hit_ratios(path):
    """Return {(trace, unit): Replay}. Capacities in entries and in bytes are
    kept apart, because they share no axis. A later line for the same trace,
    policy and capacity replaces an earlier one."""
    results = {}
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                trace, policy = str(record["trace"]), str(record["policy"])
                capacity, hit_ratio = float(record["capacity"]), float(record["hit_ratio"])
                byte_hit_ratio = record.get("byte_hit_ratio")
                if byte_hit_ratio is not None:
                    byte_hit_ratio = float(byte_hit_ratio)
            except (ValueError, KeyError, TypeError) as error:
                raise SystemExit(f"plot.py: {path}:{number}: invalid line ({error}); each line "
                                 "must be a JSON object with trace, policy, capacity and hit_ratio")
            unit = str(record.get("capacity_unit", "entries"))
            replay = results.setdefault((trace, unit), Replay())
            replay.trace_format = str(record.get("format", ""))
            replay.hit_ratios.setdefault(policy, {})[capacity] = hit_ratio
            if byte_hit_ratio is not None:
                replay.byte_hit_ratios.setdefault(policy, {})[capacity] = byte_hit_ratio
            if record.get("target_capacity") is True:
                replay.target_capacities.add(capacity)
            replay.requests = record.get("requests", replay.requests)
            replay.distinct_keys = record.get("distinct_keys", replay.distinct_keys)
    return results


def policy_styles(policies):
    """Return {policy: matplotlib line keywords}, the fixed style for the
    known policies and a spare colour and marker for any other."""
    styles = {}
    # tab10 colours 5 to 9 (brown, pink, grey, olive, cyan) are the ones
    # POLICY_STYLES leaves free.
    spare_colours = plt.get_cmap("tab10").colors[5:]
    for index, policy in enumerate(sorted(set(policies) - set(POLICY_STYLES))):
        styles[policy] = {"color": spare_colours[index % len(spare_colours)],
                          "marker": SPARE_MARKERS[index % len(SPARE_MARKERS)]}
    for policy in set(policies) & set(POLICY_STYLES):
        styles[policy] = POLICY_STYLES[policy]
    return styles


def policy_order(policies):
    """Return the policies in legend order: the known ones in POLICY_STYLES
    order, then the others alphabetically."""
    known = [policy for policy in POLICY_STYLES if policy in policies]
    return known + sorted(set(policies) - set(known))


def plot_hit_ratios(path, out_dir):
    """Write one hit-ratio-<trace>.png per trace and capacity unit; return
    the paths written."""
    results = read_hit_ratios(path)
    written = []
    used_names = set()
    # Each policy has the same style in every file.
    styles = policy_styles({policy for replay in results.values() for policy in replay.hit_ratios})
    units_per_trace = {}
    for trace, unit in results:
        units_per_trace[trace] = units_per_trace.get(trace, 0) + 1

    for (trace, unit), replay in sorted(results.items()):
        title = trace_title(trace, replay.trace_format)
        figure = draw_replay(replay, unit, title, styles)

        name = slug(title)
        if units_per_trace[trace] > 1:
            name += f"-{unit}"
        while name in used_names:
            name += "-1"
        used_names.add(name)
        target = os.path.join(out_dir, f"hit-ratio-{name}.png")
        figure.savefig(target, dpi=110)
        plt.close(figure)
        written.append(target)
    return written


def draw_replay(replay, unit, title, styles):
    """Return a figure with the hit ratio of one trace and capacity unit, and
    beside it the byte hit ratio when the capacity is in bytes and the JSON
    lines contain it."""
    panels = [("hit ratio", "hit ratio (% of requests)", replay.hit_ratios)]
    if unit == "bytes" and replay.byte_hit_ratios:
        panels.append(("byte hit ratio", "byte hit ratio (% of requested bytes)",
                       replay.byte_hit_ratios))
    figure, axes_list = plt.subplots(1, len(panels), figsize=(7.5 * len(panels), 5),
                                     squeeze=False)
    capacities = sorted({c for by_capacity in replay.hit_ratios.values() for c in by_capacity})

    for axes, (panel_title, label, ratios) in zip(axes_list[0], panels):
        if len(capacities) == 1:
            draw_policy_bars(axes, ratios, format_capacity(capacities[0], unit), styles)
        else:
            draw_policy_lines(axes, ratios, capacities, replay.target_capacities, unit, styles)
        if len(panels) > 1:
            axes.set_title(panel_title, fontsize=10)
        axes.set_ylabel(label)
        axes.grid(True, alpha=0.3)

    heading = f"Hit ratio against cache size: {title}"
    if len(capacities) == 1:
        heading = f"Hit ratio at one cache size: {title}"
    heading = textwrap.fill(heading, 60 * len(panels) + 20)
    details = []
    if replay.requests is not None:
        details.append(f"{replay.requests:,} requests")
    if replay.distinct_keys is not None:
        details.append(f"{replay.distinct_keys:,} distinct keys")
    if details:
        heading += "\n" + ", ".join(details)
    figure.suptitle(heading, fontsize=11)
    figure.tight_layout()
    return figure


def draw_policy_lines(axes, ratios, capacities, target_capacities, unit, styles):
    """Draw one line per policy over the capacities on a log axis, with the
    target capacities as light vertical bands."""
    for index, capacity in enumerate(sorted(target_capacities)):
        axes.axvline(capacity, color="0.75", linewidth=6, alpha=0.5, zorder=0,
                     label="target size" if index == 0 else None)
    for policy in policy_order(ratios):
        points = sorted(ratios[policy].items())
        label = f"{policy} (upper bound)" if policy == "opt" else policy
        axes.plot([c for c, _ in points], [100 * r for _, r in points],
                  label=label, **LINE_DEFAULTS | styles[policy])

    axes.set_xscale("log")
    axes.set_xticks(capacities)
    axes.set_xticklabels([format_capacity(c, unit) for c in capacities],
                         rotation=30 if len(capacities) > 7 else 0, fontsize=8)
    axes.minorticks_off()
    # The y axis spans the data rather than 0 to 100%, so that policies a
    # few points apart stay apart.
    bottom, top = axes.get_ylim()
    axes.set_ylim(max(bottom, 0), min(top, 102))
    axes.set_xlabel(f"cache size ({unit}, log scale)")
    axes.legend(fontsize=8, loc="best")


def draw_policy_bars(axes, ratios, capacity_text, styles):
    """Draw one bar per policy, for a trace replayed at a single cache size,
    where lines would be single points."""
    names = policy_order(ratios)
    values = [100 * next(iter(ratios[name].values())) for name in names]
    positions = range(len(names))
    axes.bar(positions, values, color=[styles[name]["color"] for name in names])
    for position, value in zip(positions, values):
        axes.annotate(f"{value:.1f}%", (position, value), xytext=(0, 3),
                      textcoords="offset points", ha="center", fontsize=8)
    axes.set_xticks(list(positions))
    axes.set_xticklabels(names)
    axes.set_xlabel(f"policy, at a cache size of {capacity_text}")


def trace_title(trace, trace_format):
    """Return the trace's file with its parent directory, which names the
    trace collection, or the format and parameters of a synthetic trace."""
    if "/" not in trace:
        # A space after each comma of the parameters lets a long title wrap.
        return f"{trace_format} {trace.replace(',', ', ')}".strip()
    parent = os.path.basename(os.path.dirname(trace))
    return f"{parent}/{os.path.basename(trace)}" if parent else os.path.basename(trace)


def format_capacity(capacity, unit):
    if unit == "bytes":
        for factor, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if capacity >= factor:
                return f"{capacity / factor:g} {suffix}"
        return f"{capacity:g} B"
    return f"{capacity:,.0f}"


def single_thread_hits(path):
    """Return [(family, label, p50_ns, p99_ns)] for the one-thread hit runs,
    using the median aggregate when the run was repeated."""
    with open(path, encoding="utf-8") as file:
        report = json.load(file)

    medians = {}
    iterations = {}
    for entry in report.get("benchmarks", []):
        family = entry.get("run_name", entry["name"]).split("/")[0]
        if not family.startswith("BM_Hit_") or int(entry.get("threads", 1)) != 1:
            continue
        if entry.get("error_occurred") or "p50_ns" not in entry:
            continue
        if entry.get("run_type") == "aggregate":
            if entry.get("aggregate_name") == "median":
                medians[family] = entry
        else:
            iterations.setdefault(family, []).append(entry)

    rows = []
    for family in sorted(set(medians) | set(iterations)):
        if family in medians:
            entry = medians[family]
            p50, p99 = entry["p50_ns"], entry["p99_ns"]
        else:
            entries = iterations[family]
            entry = entries[0]
            p50 = statistics.median(e["p50_ns"] for e in entries)
            p99 = statistics.median(e["p99_ns"] for e in entries)
        rows.append((family, entry.get("label") or family.removeprefix("BM_Hit_"), p50, p99))
    return sorted(rows, key=lambda row: row[2])


def format_ns(value):
    if value >= 1e3:
        return f"{value / 1e3:.1f} µs"
    return f"{value:.0f} ns"


def plot_latency(path, out_dir):
    """Write hit-latency-p50.png; return the paths written."""
    rows = single_thread_hits(path)
    if not rows:
        raise SystemExit(f"plot.py: {path} contains no one-thread BM_Hit_ run with a p50_ns "
                         f"counter; {LATENCY_COMMAND}")

    labels = [label for _, label, _, _ in rows]
    p50 = [value for _, _, value, _ in rows]
    p99 = [value for _, _, _, value in rows]
    colours = ["tab:green" if family.startswith(OURS_PREFIX) else "tab:gray"
               for family, _, _, _ in rows]

    figure, axes = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.6))
    positions = range(len(rows))
    axes.barh(positions, p50, color=colours, label="p50")
    axes.scatter(p99, positions, marker="|", s=200, color="black", zorder=3, label="p99")
    # Each label goes right of the p99 mark, so the two never overlap.
    for position, median, tail in zip(positions, p50, p99):
        axes.annotate(format_ns(median), (max(median, tail), position), xytext=(6, 0),
                      textcoords="offset points", va="center", fontsize=8)
    axes.axvline(TARGET_P50_NS, color="tab:green", linestyle="--", linewidth=1,
                 label=f"viewcache target p50 {TARGET_P50_NS:.0f} ns")
    axes.set_yticks(list(positions))
    axes.set_yticklabels(labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlim(10 ** math.floor(math.log10(min(p50))), 10 ** math.ceil(math.log10(max(p99)) + 0.3))
    axes.set_xlabel("hit latency, ns (log scale); 16 KiB page, 1 thread")
    axes.set_title("Cache hit latency per store, p50 with p99 marked")
    axes.grid(True, axis="x", which="both", alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()

    target = os.path.join(out_dir, "hit-latency-p50.png")
    figure.savefig(target, dpi=110)
    plt.close(figure)
    return [target]


def main():
    arguments = parse_arguments()
    os.makedirs(arguments.out_dir, exist_ok=True)

    missing = []
    written = []
    for path, plot, command in ((arguments.hit_ratio, plot_hit_ratios, HIT_RATIO_COMMAND),
                                (arguments.latency, plot_latency, LATENCY_COMMAND)):
        if not os.path.exists(path):
            missing.append(f"plot.py: {path} not found; {command}")
            continue
        written += plot(path, arguments.out_dir)

    for path in written:
        print(f"wrote {path}")
    for message in missing:
        print(message, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
