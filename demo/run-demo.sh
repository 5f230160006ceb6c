#!/bin/sh
# Start demo/demo.py, print `snakescope dump` of it, stop it.
# Usage: demo/run-demo.sh [PYTHON] [snakescope dump options...]
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
py=${1:-python3}
[ $# -gt 0 ] && shift
fifo=$(mktemp -u)
mkfifo "$fifo"
"$py" "$top/demo/demo.py" >"$fifo" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$fifo"' EXIT INT TERM
read -r ready <"$fifo"
[ "$ready" = READY ] || { echo "demo did not start" >&2; exit 1; }
echo "\$ snakescope dump${*:+ $*} $pid"
"$top/snakescope" dump "$@" "$pid"
