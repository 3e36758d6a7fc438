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
cmake --build --preset release --target viewcache_bench viewcache_key_bench -j "$(nproc)"

# Each executable writes to a scratch file first, so a filter that matches
# none of its benchmarks leaves the previous results in place.
for name in viewcache_key_bench:key-bench viewcache_bench:bench; do
  out="build/release/${name##*:}.json"
  timeout 600 "build/release/bench/${name%%:*}" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$out.partial" \
    --benchmark_out_format=json "$@"
  if grep -q '"run_name"' "$out.partial"; then
    mv "$out.partial" "$out"
  else
    rm -f "$out.partial"
    echo "bench: no benchmark of ${name%%:*} matched; $out is unchanged" >&2
  fi
done
