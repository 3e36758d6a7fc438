#!/usr/bin/env bash
# Builds the release preset and runs the hit-path benchmarks, bounded to a few
# minutes. Writes build/release/bench.json beside the console table.
#
#   scripts/bench.sh [extra Google Benchmark flags, such as --benchmark_filter=Key]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target viewcache_bench
timeout 600 build/release/bench/viewcache_bench --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_out=build/release/bench.json \
  --benchmark_out_format=json "$@"
