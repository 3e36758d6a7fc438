#!/usr/bin/env python3
"""Print the summary of a viewcache_latency_bench run: one row per hit
contender and thread count, the memory per entry, and viewcache's figures
against its targets as ratios measured in that run.

Usage:
    bench/contenders/latency_summary.py [LATENCY_JSON]

LATENCY_JSON is the Google Benchmark JSON output, by default
build/release/latency.json, which scripts/bench-latency.sh writes. When a
benchmark ran several repetitions, the median aggregate is used. The targets
are reported, not enforced: the exit status is 0 whenever the file is read.
"""

import argparse
import json
import os
import statistics
import sys

# Benchmark families, as registered in bench/contenders/*.cpp.
CACHED = "BM_Hit_Ours_PageCacheCached"
STORE_GET = "BM_Hit_Ours_MemoryStoreGet"
BASELINE = "BM_Hit_Baseline_ReadOnlyMap"
REDIS_TCP = "BM_Hit_Redis_Tcp"
MEMORY_OURS = "BM_Memory_Ours_MemoryStore"
MEMORY_HAND_WRITTEN = "BM_Memory_HandWrittenLru"

# The targets viewcache is held to.
TARGET_P50_NS = 150.0
TARGET_SCALING = 1.8
TARGET_REDIS_RATIO = 500.0
TARGET_OVERHEAD_BYTES = 96.0

NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("latency_json", nargs="?", default="build/release/latency.json",
                        help="Google Benchmark JSON output (default: %(default)s)")
    return parser.parse_args()


def family_and_threads(entry):
    """Return the family name and thread count of a benchmark entry."""
    run_name = entry.get("run_name", entry["name"])
    return run_name.split("/")[0], int(entry.get("threads", 1))


def collect_runs(benchmarks):
    """Group entries by (family, threads) into one dict per run: the median
    aggregate when there is one, else the median of the iteration entries,
    counter by counter. Failed runs keep their error message."""
    medians = {}
    iterations = {}
    errors = {}
    for entry in benchmarks:
        key = family_and_threads(entry)
        if entry.get("error_occurred"):
            errors[key] = entry.get("error_message", "error")
        elif entry.get("run_type") == "aggregate":
            if entry.get("aggregate_name") == "median":
                medians[key] = entry
        else:
            iterations.setdefault(key, []).append(entry)

    runs = {}
    for key, entries in iterations.items():
        merged = dict(entries[0])
        for field, value in entries[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[field] = statistics.median(entry[field] for entry in entries)
        runs[key] = merged
    runs.update(medians)
    for key, message in errors.items():
        runs.setdefault(key, {"error_message": message, "label": ""})
    return runs


def real_time_ns(run):
    return run["real_time"] * NS_PER_UNIT[run.get("time_unit", "ns")]


def format_ns(value):
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if value >= 1e3:
        return f"{value / 1e3:.1f} us"
    return f"{value:.0f} ns"


def format_rate(value):
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M/s"
    return f"{value / 1e3:.1f} k/s"


def print_hit_table(runs):
    rows = sorted((key for key in runs if key[0].startswith("BM_Hit_")),
                  key=lambda key: (key[1], real_time_ns(runs[key]) if "real_time" in runs[key]
                                   else float("inf")))
    print(f"{'contender':<44} {'threads':>7} {'mean':>10} {'ops/s':>11} {'p50':>10} {'p99':>10}")
    for key in rows:
        run = runs[key]
        name = run.get("label") or key[0]
        if "real_time" not in run:
            print(f"{name or key[0]:<44} {key[1]:>7}  error: {run['error_message']}")
            continue
        print(f"{name:<44} {key[1]:>7} {format_ns(real_time_ns(run)):>10} "
              f"{format_rate(run.get('items_per_second')):>11} {format_ns(run.get('p50_ns')):>10} "
              f"{format_ns(run.get('p99_ns')):>10}")


def print_memory_table(runs):
    print(f"\n{'store':<44} {'entries':>9} {'key B':>6} {'body B':>7} {'RSS over':>9} "
          f"{'heap over':>10}  (bytes per entry beyond key and body)")
    for family in (MEMORY_OURS, MEMORY_HAND_WRITTEN):
        run = runs.get((family, 1))
        if run is None:
            continue
        if "rss_overhead_per_entry" not in run:
            print(f"{family:<44}  error: {run.get('error_message', 'no counters')}")
            continue
        print(f"{run.get('label') or family:<44} {run['entries']:>9.0f} "
              f"{run['key_bytes_per_entry']:>6.0f} {run['body_bytes_per_entry']:>7.0f} "
              f"{run['rss_overhead_per_entry']:>9.0f} {run['heap_overhead_per_entry']:>10.0f}")
    ours = runs.get((MEMORY_OURS, 1), {})
    if "store_heap_overhead_per_entry" in ours:
        print(f"  MemoryStore split: the store adds {ours['store_heap_overhead_per_entry']:.0f} B "
              f"(entry, key block, table, sketch), the page objects take "
              f"{ours['page_heap_overhead_per_entry']:.0f} B (Page, control block, body block); "
              f"the byte budget charges {ours['charged_overhead_per_entry']:.0f} B")


def verdict(met):
    return "met" if met else "MISSED"


def print_cpu_scaling(one_thread, two_threads):
    """Print how many CPUs the two threads had between them (CPU time over
    real time) and the CPU time per call on 1 and 2 threads. With close to 2
    CPUs, a higher CPU time per call on 2 threads is contention between them.
    With close to 1 CPU, the threads took turns on a busy machine, so the
    throughput ratio shows the free CPUs rather than the code."""
    cpus_used = two_threads["cpu_time"] / two_threads["real_time"]
    one_cpu = one_thread["cpu_time"] * NS_PER_UNIT[one_thread.get("time_unit", "ns")]
    two_cpu = two_threads["cpu_time"] * NS_PER_UNIT[two_threads.get("time_unit", "ns")]
    print(f"  the 2 threads used {cpus_used:.2f} CPUs; CPU time per call {format_ns(one_cpu)} "
          f"on 1 thread, {format_ns(two_cpu)} on 2")


def scaling_of(runs, family):
    """Return the 2-thread over 1-thread throughput of family, or None."""
    one_thread, two_threads = runs.get((family, 1), {}), runs.get((family, 2), {})
    if "items_per_second" in one_thread and "items_per_second" in two_threads:
        return two_threads["items_per_second"] / one_thread["items_per_second"]
    return None


def print_targets(runs):
    """Print each target with its measured figure, or why it has none."""
    print(f"\n{'target':<52} {'measured':>12} {'goal':>10}  result")

    def row(name, measured, goal, met):
        print(f"{name:<52} {measured:>12} {goal:>10}  {verdict(met)}")

    def missing(name, reason):
        print(f"{name:<52} {'-':>12} {'':>10}  not measured: {reason}")

    cached = runs.get((CACHED, 1), {})
    if "p50_ns" in cached:
        row("PageCache::cached hit p50, 1 thread", format_ns(cached["p50_ns"]),
            f"<= {TARGET_P50_NS:.0f} ns", cached["p50_ns"] <= TARGET_P50_NS)
    else:
        missing("PageCache::cached hit p50, 1 thread", cached.get("error_message", "no run"))

    ceiling = scaling_of(runs, BASELINE)
    for family, name in ((CACHED, "PageCache::cached"), (STORE_GET, "MemoryStore::get")):
        one_thread, two_threads = runs.get((family, 1), {}), runs.get((family, 2), {})
        title = f"{name} throughput, 2 threads / 1 thread"
        scaling = scaling_of(runs, family)
        if scaling is not None:
            row(title, f"{scaling:.2f}x", f">= {TARGET_SCALING}x", scaling >= TARGET_SCALING)
            print_cpu_scaling(one_thread, two_threads)
            if ceiling is not None:
                print(f"  the read-only baseline scaled {ceiling:.2f}x in this run; "
                      f"{name} reached {scaling / ceiling:.0%} of it")
        else:
            missing(title, two_threads.get("error_message") or one_thread.get("error_message")
                    or "no run")

    redis = runs.get((REDIS_TCP, 1), {})
    title = "Redis TCP GET p50 / PageCache::cached p50"
    if "p50_ns" in redis and "p50_ns" in cached:
        ratio = redis["p50_ns"] / cached["p50_ns"]
        row(title, f"{ratio:.0f}x", f">= {TARGET_REDIS_RATIO:.0f}x", ratio >= TARGET_REDIS_RATIO)
    else:
        missing(title, redis.get("error_message") or "no Redis run")

    memory = runs.get((MEMORY_OURS, 1), {})
    title = "MemoryStore overhead per entry (resident growth)"
    if "rss_overhead_per_entry" in memory:
        overhead = memory["rss_overhead_per_entry"]
        row(title, f"{overhead:.0f} B", f"<= {TARGET_OVERHEAD_BYTES:.0f} B",
            overhead <= TARGET_OVERHEAD_BYTES)
    else:
        missing(title, memory.get("error_message", "no run"))


def print_machine_note(context):
    """Warn when the machine was busy, because ratios between thread counts
    then measure the other load as much as the code."""
    cpus = context.get("num_cpus")
    load = context.get("load_avg") or []
    line = f"\nmachine: {cpus} CPUs at {context.get('mhz_per_cpu')} MHz"
    if load:
        line += f", load average {load[0]:.2f} when the run started"
    print(line)
    if cpus and load and load[0] > 0.5 * cpus:
        print("NOTE: other processes were busy during the run; the 2-thread figures and the "
              "tails are not reliable on a machine with this load")
    not_built = context.get("contenders_not_built")
    if not_built:
        print(f"not built: {not_built}")


def main():
    arguments = parse_arguments()
    if not os.path.exists(arguments.latency_json):
        sys.exit(f"latency_summary: {arguments.latency_json} not found; "
                 "scripts/bench-latency.sh writes it")
    with open(arguments.latency_json, encoding="utf-8") as file:
        report = json.load(file)

    runs = collect_runs(report.get("benchmarks", []))
    print_hit_table(runs)
    print_memory_table(runs)
    print_targets(runs)
    print_machine_note(report.get("context", {}))


if __name__ == "__main__":
    main()
