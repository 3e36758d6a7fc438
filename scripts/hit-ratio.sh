#!/usr/bin/env bash
# Replays the cache traces through all five policies of viewcache-sim
# (viewcache, lru, arc, opt, caffeine) at a sweep of cache sizes per trace,
# so that bench/plot.py can draw hit ratio against cache size. Each trace is
# read once, with all of its sizes in one viewcache-sim run. The sweep is
# roughly geometric, from well below to well above the trace's target sizes,
# and always contains them. The target sizes are the ones where the policies
# differ, which docs/benchmarks.md tabulates.
#
#   scripts/hit-ratio.sh [--quick] [TRACES_DIR]
#
#   --quick      replay only the target sizes
#   TRACES_DIR   default: ../shared/traces beside the repository
#
# It writes one JSON line per trace, policy and size to
# build/release/hit-ratio.jsonl, or with --quick to
# build/release/hit-ratio-quick.jsonl, so that a quick run never replaces the
# sweep that bench/plot.py draws its curves from. Each line is viewcache-sim's --json object
# with one field added: "target_capacity", true at a target size. Then it
# prints two tables of hit ratios: the target sizes, and then the whole sweep
# with the target rows marked (with --quick, only the first).
#
# It installs what is missing and builds the release preset's viewcache-sim.
# On 2 cores shared with other builds, the replays then took 3 minutes, or 45
# seconds with --quick. Each replay is stopped after 10 minutes, so the whole
# run is bounded. A trace that is missing or fails is reported and the others
# still run, and the exit status is then 1. Invalid arguments exit with 2.
set -euo pipefail

usage="usage: scripts/hit-ratio.sh [--quick] [TRACES_DIR]"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=false
traces=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=true ;;
    -h | --help)
      echo "$usage"
      exit 0
      ;;
    -*)
      echo "hit-ratio: unknown option $1; $usage" >&2
      exit 2
      ;;
    *)
      if [ -n "$traces" ]; then
        echo "hit-ratio: more than one traces directory given ($traces and $1); $usage" >&2
        exit 2
      fi
      traces=$1
      ;;
  esac
  shift
done
traces=${traces:-$root/../shared/traces}
policies=viewcache,lru,arc,opt,caffeine
per_replay_timeout=600

# jq marks the target sizes and turns the JSON lines into the tables.
VIEWCACHE_EXTRA_PACKAGES="jq ${VIEWCACHE_EXTRA_PACKAGES:-}" "$root/scripts/deps.sh"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release --target viewcache-sim
sim=build/release/tools/sim/viewcache-sim
out=build/release/hit-ratio.jsonl
if $quick; then
  out=build/release/hit-ratio-quick.jsonl
fi
: >"$out"

# capacity_key CAPACITY: prints the capacity as viewcache-sim's JSON reports
# it, unit and number, such as "entries:1000" or "bytes:16777216" for 16MiB.
capacity_key() {
  local capacity=$1
  case $capacity in
    *GiB) echo "bytes:$((${capacity%GiB} << 30))" ;;
    *MiB) echo "bytes:$((${capacity%MiB} << 20))" ;;
    *KiB) echo "bytes:$((${capacity%KiB} << 10))" ;;
    *B) echo "bytes:${capacity%B}" ;;
    *) echo "entries:$capacity" ;;
  esac
}

failures=0
# replay FILE FORMAT TARGETS SWEEP: replays FILE at each size of the comma
# list SWEEP, or with --quick only at those of TARGETS, which must be in
# SWEEP. FILE is relative to the traces directory, except for the zipf
# format, where it is the workload's parameters.
replay() {
  local trace=$1 format=$2 targets=$3 sweep=$4
  if [ "$format" != zipf ]; then
    if [ ! -f "$traces/$trace" ]; then
      echo "hit-ratio: $traces/$trace is missing; skipped" >&2
      failures=$((failures + 1))
      return
    fi
    trace=$traces/$trace
  fi

  local target target_keys=()
  for target in ${targets//,/ }; do
    if [[ ",$sweep," != *",$target,"* ]]; then
      echo "hit-ratio: target size $target of $trace is not in its sweep $sweep;" \
           "add it to the sweep in $0" >&2
      exit 2
    fi
    target_keys+=("$(capacity_key "$target")")
  done
  local capacities=$sweep
  if $quick; then
    capacities=$targets
  fi
  local targets_json
  targets_json=$(printf '%s\n' "${target_keys[@]}" | jq -R . | jq -cs .)

  echo "hit-ratio: $trace at ${capacities//,/ }" >&2
  local start=$SECONDS
  if ! timeout "$per_replay_timeout" "$sim" --trace "$trace" --format "$format" \
      --capacity "$capacities" --policy "$policies" --json |
      jq -c --argjson targets "$targets_json" \
        '. + {target_capacity: ("\(.capacity_unit // "entries"):\(.capacity)" as $key
                                | any($targets[]; . == $key))}' >>"$out"; then
    echo "hit-ratio: replaying $trace failed or timed out after ${per_replay_timeout}s" >&2
    failures=$((failures + 1))
  fi
  echo "hit-ratio:   $((SECONDS - start)) s" >&2
}

started=$SECONDS
replay cache2k/web07.trace.xz cache2k 1000,4000 250,500,1000,2000,4000,8000,16000
replay cache2k/web12.trace.xz cache2k 1000,4000 250,500,1000,2000,4000,8000,16000
replay arc/OLTP.lis.zst arc 1000 250,500,1000,2000,4000,8000,16000,32000
for trace in P3 P6 P12; do
  replay "arc/$trace.lis.zst" arc 32768 4096,8192,16384,32768,65536,131072,262144,524288
done
replay scarab/scarab-recs.trace.xz int64 25000 3125,6250,12500,25000,50000,100000,200000
# The loop trace cycles over 1,011 keys, so LRU and ARC hit nothing below
# that size and almost everything above it.
replay lirs/loop.trace.gz lirs 512 64,128,256,512,768,1024,2048
replay lirs/gli.trace.gz lirs 1000 125,250,500,1000,1500,2000,3000
replay adapt_size/request.trace.xz adaptsize 1000,16MiB \
  125,250,500,1000,2000,4000,8000,16000,2MiB,4MiB,8MiB,16MiB,32MiB,64MiB,128MiB,256MiB
# 30% of the requests are for keys that never repeat, like a flood of
# random query strings. At the target size, the cache has room for a tenth
# of the popular keys.
replay 'alpha=0.99,keys=100000,requests=2000000,flood=0.3,seed=1' zipf 10000 \
  1250,2500,5000,10000,20000,40000,80000
echo "hit-ratio: all replays took $((SECONDS - started)) s; JSON lines in $out" >&2

# print_table TITLE ONLY_TARGETS: prints one row per trace and size, one
# column per policy, in percent. With ONLY_TARGETS=1 it keeps the target
# sizes. Otherwise it prints every size and marks the targets with "*". A
# byte capacity row shows the hit ratio, and its byte hit ratio is in the
# JSON lines.
print_table() {
  echo "$1"
  jq -r '[(if .format == "zipf" then "zipf " + .trace else (.trace | sub(".*/"; "")) end),
          (if .capacity_unit == "bytes" then "\(.capacity)B" else "\(.capacity)" end),
          .policy, (.hit_ratio * 100), (if .target_capacity then "*" else "" end)] | @tsv' "$out" |
    awk -F '\t' -v policies="$policies" -v only_targets="$2" '
      only_targets && $5 != "*" { next }
      {
        row = $1 "\t" $2
        if (!(row in seen)) { seen[row] = 1; order[++rows] = row; mark[row] = $5 }
        ratio[row, $3] = $4
        if (length($1) > width) width = length($1)
      }
      END {
        count = split(policies, names, ",")
        printf "%-" width "s %12s", "trace", "capacity"
        for (i = 1; i <= count; i++) printf " %9s", names[i]
        printf "\n"
        for (r = 1; r <= rows; r++) {
          split(order[r], parts, "\t")
          printf "%-" width "s %11s%1s", parts[1], parts[2], only_targets ? " " : mark[order[r]]
          for (i = 1; i <= count; i++) {
            if ((order[r], names[i]) in ratio) printf " %8.2f%%", ratio[order[r], names[i]]
            else printf " %9s", "n/a"
          }
          printf "\n"
        }
      }'
}

print_table "Hit ratio at the target sizes:" 1
if ! $quick; then
  echo
  print_table "Hit ratio at every size (* marks a target size):" 0
fi

if [ "$failures" -gt 0 ]; then
  echo "hit-ratio: $failures replays failed or were skipped" >&2
  exit 1
fi
