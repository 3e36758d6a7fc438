#!/usr/bin/env bash
# Replays the cache traces through all five policies of viewcache-sim
# (viewcache, lru, arc, opt, caffeine) at capacities where they differ,
# writes one JSON line per trace, policy and capacity to
# build/release/hit-ratio.jsonl, and prints a table of hit ratios.
#
#   scripts/hit-ratio.sh [TRACES_DIR]    # default: ../shared/traces beside the repository
#
# It installs what is missing and builds the release preset's viewcache-sim.
# The replays then take about 30 seconds on 2 cores. Each replay is stopped
# after 10 minutes, so the whole run is bounded. A trace that is missing or
# fails is reported and the others still run, and the exit status is then 1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
traces=${1:-$root/../shared/traces}
policies=viewcache,lru,arc,opt,caffeine
per_replay_timeout=600

# jq turns the JSON lines into the table.
VIEWCACHE_EXTRA_PACKAGES="jq ${VIEWCACHE_EXTRA_PACKAGES:-}" "$root/scripts/deps.sh"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target viewcache-sim
sim=build/release/tools/sim/viewcache-sim
out=build/release/hit-ratio.jsonl
: >"$out"

failures=0
# replay FILE FORMAT CAPACITY...: FILE is relative to the traces directory,
# except for the zipf format, where it is the workload's parameters.
replay() {
  local trace=$1 format=$2
  shift 2
  if [ "$format" != zipf ]; then
    if [ ! -f "$traces/$trace" ]; then
      echo "hit-ratio: $traces/$trace is missing; skipped" >&2
      failures=$((failures + 1))
      return
    fi
    trace=$traces/$trace
  fi
  local capacities=()
  for capacity in "$@"; do
    capacities+=(--capacity "$capacity")
  done
  echo "hit-ratio: $trace at $*" >&2
  local start=$SECONDS
  if ! timeout "$per_replay_timeout" "$sim" --trace "$trace" --format "$format" \
      "${capacities[@]}" --policy "$policies" --json >>"$out"; then
    echo "hit-ratio: replaying $trace failed or timed out after ${per_replay_timeout}s" >&2
    failures=$((failures + 1))
  fi
  echo "hit-ratio:   $((SECONDS - start)) s" >&2
}

started=$SECONDS
replay cache2k/web07.trace.xz cache2k 1000 4000
replay cache2k/web12.trace.xz cache2k 1000 4000
replay arc/OLTP.lis.zst arc 1000
replay arc/P3.lis.zst arc 32768
replay arc/P6.lis.zst arc 32768
replay arc/P12.lis.zst arc 32768
replay scarab/scarab-recs.trace.xz int64 25000
replay lirs/loop.trace.gz lirs 512
replay lirs/gli.trace.gz lirs 1000
replay adapt_size/request.trace.xz adaptsize 1000 16MiB
# 30% of the requests are for keys that never repeat, like a flood of
# random query strings. The cache has room for a tenth of the popular keys.
replay 'alpha=0.99,keys=100000,requests=2000000,flood=0.3,seed=1' zipf 10000
echo "hit-ratio: all replays took $((SECONDS - started)) s; JSON lines in $out" >&2

# One row per trace and capacity, one column per policy, in percent. A byte
# capacity row shows the hit ratio; its byte hit ratio is in the JSON lines.
jq -r '[(if .format == "zipf" then "zipf " + .trace else (.trace | sub(".*/"; "")) end),
        (if .capacity_unit == "bytes" then "\(.capacity)B" else "\(.capacity)" end),
        .policy, (.hit_ratio * 100)] | @tsv' "$out" |
  awk -F '\t' -v policies="$policies" '
    {
      row = $1 "\t" $2
      if (!(row in seen)) { seen[row] = 1; order[++rows] = row }
      ratio[row, $3] = $4
      if (length($1) > width) width = length($1)
    }
    END {
      count = split(policies, names, ",")
      printf "%-" width "s %11s", "trace", "capacity"
      for (i = 1; i <= count; i++) printf " %9s", names[i]
      printf "\n"
      for (r = 1; r <= rows; r++) {
        split(order[r], parts, "\t")
        printf "%-" width "s %11s", parts[1], parts[2]
        for (i = 1; i <= count; i++) {
          if ((order[r], names[i]) in ratio) printf " %8.2f%%", ratio[order[r], names[i]]
          else printf " %9s", "n/a"
        }
        printf "\n"
      }
    }'

if [ "$failures" -gt 0 ]; then
  echo "hit-ratio: $failures replays failed or were skipped" >&2
  exit 1
fi
