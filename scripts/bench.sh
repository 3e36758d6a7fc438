#!/usr/bin/env bash
# Builds the release preset and runs the hit-path and key-building benchmarks,
# each bounded to ten minutes. Writes build/release/bench.json and
# build/release/key-bench.json beside the console tables.
#
#   scripts/bench.sh [extra Google Benchmark flags, such as --benchmark_filter=Typical]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target viewcache_bench viewcache_key_bench

for name in viewcache_key_bench:key-bench viewcache_bench:bench; do
  timeout 600 "build/release/bench/${name%%:*}" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="build/release/${name##*:}.json" \
    --benchmark_out_format=json "$@"
done
