#!/usr/bin/env bash
# Builds and starts the example site viewcache-lms on a free loopback port,
# then walks its sign-in flow with viewcache-lms-walk, which prints one row
# per request: the audience requested, the audience served and Cache-Status.
#
#   scripts/demo.sh          keep serving after the walk, until Ctrl-C
#   scripts/demo.sh --once   stop after the walk; exit with the walker's status
#
# The server's request log goes to build/viewcache-lms.log.
set -euo pipefail

usage() {
  echo "Usage: scripts/demo.sh [--once]"
  echo "  --once  stop the server after the walk and exit with the walker's status"
}

once=false
for argument in "$@"; do
  case "$argument" in
    --once) once=true ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown argument \"$argument\"" >&2; usage >&2; exit 2 ;;
  esac
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

"$repo_root/scripts/deps.sh"
# The option is set explicitly because a build/ configured earlier may have
# it cached as OFF.
cmake --preset dev -DVIEWCACHE_BUILD_EXAMPLES=ON >/dev/null
cmake --build build --target viewcache-lms viewcache-lms-walk

server="$repo_root/build/examples/lms/viewcache-lms"
walker="$repo_root/build/examples/lms/viewcache-lms-walk"
log="$repo_root/build/viewcache-lms.log"
url_file="$(mktemp)"

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  rm -f "$url_file"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$server" --port 0 >"$url_file" 2>"$log" &
server_pid=$!
echo "demo: started viewcache-lms (pid $server_pid); its log is $log"

# The server prints its URL as the first line on stdout once it listens.
url=""
for _ in $(seq 100); do
  if [ "$(wc -l <"$url_file")" -ge 1 ]; then
    url="$(head -n 1 "$url_file")"
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo: viewcache-lms exited before printing its URL; see $log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "demo: viewcache-lms printed no URL within 10 s; see $log" >&2
  exit 1
fi

walk_status=0
"$walker" --url "$url" || walk_status=$?

if [ "$once" = true ]; then
  exit "$walk_status"
fi

echo
echo "serving at $url, press Ctrl-C to stop"
wait "$server_pid"
