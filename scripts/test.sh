#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs every test with CTest.
#
#   scripts/test.sh                  # the dev preset: Debug, warnings as errors, in build/
#   scripts/test.sh --preset asan    # AddressSanitizer + UBSan, in build/asan/
#   scripts/test.sh --preset tsan    # ThreadSanitizer, in build/tsan/
#
# Extra arguments after -- go to ctest, such as -- -R KeyPolicy.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
preset=dev
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=${2:?--preset needs a name: dev, asan or tsan}; shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'; use --preset dev|asan|tsan or -- CTEST_ARGS" >&2; exit 2 ;;
  esac
done

"$root/scripts/deps.sh"
cd "$root"
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j 2 "${ctest_args[@]}"
