#!/usr/bin/env bash
# Fuzzes the key policy with libFuzzer for a bounded time (default 60 s).
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags]
#
# The oracle (tests/fuzz/key_oracle.cpp) checks that every key decodes back to
# its request. The corpus grows in build/fuzz/corpus; a failing input is saved
# in build/fuzz/artifacts. Copy it to tests/fuzz/regressions/ so the default
# test run replays it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
shift || true
case "$seconds" in
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac

VIEWCACHE_EXTRA_PACKAGES="clang-14 libclang-rt-14-dev" "$root/scripts/deps.sh"
cd "$root"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target key_fuzz

mkdir -p build/fuzz/corpus build/fuzz/artifacts
build/fuzz/tests/fuzz/key_fuzz build/fuzz/corpus tests/fuzz/seeds \
  -max_total_time="$seconds" -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 "$@"
