#!/usr/bin/env bash
# Measures a viewcache cache hit beside the stores an application would
# otherwise use: a hand-written LRU map, sharded boost::unordered_flat_map,
# tbb::concurrent_hash_map, libcuckoo, Redis (TCP and unix socket) and
# memcached. The benchmark starts and stops its own redis-server and
# memcached on free loopback ports.
#
#   scripts/bench-latency.sh [extra Google Benchmark flags, such as --benchmark_filter=Ours]
#
# Installs the contenders' packages, builds viewcache_latency_bench in the
# release preset, runs it (3 repetitions, stopped after 10 minutes), writes
# build/release/latency.json and prints a summary with viewcache's figures
# against its targets. Takes about a minute and a half on 2 cores once the packages
# are installed. bench/plot.py turns the JSON into docs/img/hit-latency-p50.png.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

VIEWCACHE_EXTRA_PACKAGES="libtbb-dev libcuckoo-dev libmemcached-dev memcached redis-server \
libhiredis-dev python3-matplotlib ${VIEWCACHE_EXTRA_PACKAGES:-}" "$root/scripts/deps.sh"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target viewcache_latency_bench -j "$(nproc)"

# The servers keep their sockets and logs under this directory, which goes
# even when the benchmark is killed before it can clean up.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/viewcache-bench-latency-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

out=build/release/latency.json
# timeout signals the benchmark's whole process group, servers included.
status=0
TMPDIR=$scratch timeout 600 build/release/bench/viewcache_latency_bench \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@" || status=$?
if [ "$status" -eq 124 ]; then
  echo "bench-latency: viewcache_latency_bench timed out after 600 s; $out is incomplete" >&2
  exit 1
elif [ "$status" -ne 0 ]; then
  echo "bench-latency: viewcache_latency_bench failed with exit status $status" >&2
  exit "$status"
fi

echo
echo "=== summary of $out"
python3 bench/contenders/latency_summary.py "$out"
