#!/bin/sh
# Benchmark snakescope's sampler (`snakescope record`): max sampling rate,
# CPU per sample, system calls per sample, target slowdown and peak RSS,
# under every interpreter found.  See bench/sample.py for the details.
#
# Usage: bench/sample.sh [--quick] [--interp SUBSTR]...
#
# SNAKESCOPE=path overrides the binary (default: the repository's
# ./snakescope); PYTHON=path the Python that runs the benchmark (default:
# /usr/bin/python3, else python3 on PATH).
set -e
here=$(cd "$(dirname "$0")" && pwd)
SNAKESCOPE=${SNAKESCOPE:-$here/../snakescope}
if [ ! -x "$SNAKESCOPE" ]; then
	echo "sample.sh: no snakescope binary at $SNAKESCOPE (run make, or set SNAKESCOPE)" >&2
	exit 1
fi
export SNAKESCOPE
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
exec "$PYTHON" "$here/sample.py" "$@"
