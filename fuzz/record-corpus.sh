#!/bin/sh
# Record the fuzz seed corpus (fuzz/corpus/TARGET/) from live processes:
# every interpreter found on this machine runs the test targets below until
# they are parked in their known state; fuzz/capture then records the memory
# each fuzz target's decoders read there (see fuzz/capture.c).
#
# usage: fuzz/record-corpus.sh [BUILDDIR]
#
# BUILDDIR (default: the source tree) holds a built fuzz/capture.  With
# clang present, each target's seeds are then reduced to those that add
# coverage (libFuzzer -merge=1, the binaries built by fuzz/run.sh), keeping
# the recorded names; without it every seed is kept.  Replaces the
# fuzz/corpus/ directories of the image targets and linetable.
set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-$srcdir}" && pwd)
capture=$builddir/fuzz/capture
targets_dir=$srcdir/tests/targets
FUZZ_TARGETS="linetable objects code threads tasks locks"

[ -x "$capture" ] || { echo "record: build $capture first (make)" >&2; exit 1; }

interps="
/root/.pyenv/versions/2.7.18/bin/python
/root/.pyenv/versions/3.6.15/bin/python
/root/.pyenv/versions/3.7.16/bin/python
/root/.pyenv/versions/3.8.18/bin/python
/root/.pyenv/versions/3.9.18/bin/python
/root/.pyenv/versions/3.10.13/bin/python
/root/.pyenv/versions/3.11.7/bin/python
/root/.pyenv/versions/3.12.1/bin/python
/root/.pyenv/versions/3.13.0/bin/python
/usr/bin/python3.11
/opt/py/3.14/bin/python3.14
/opt/py/3.14-shared/bin/python3.14
/opt/py/3.15/bin/python3.15
/opt/py/3.15-shared/bin/python3.15
"
# script and arguments (after the record path), and the seed name part
programs="
threads.py:threads
deep.py:deep
locals.py:locals
async_tree.py:async_tree
deadlocks.py two_locks:two_locks
deadlocks.py async_locks:async_locks
"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/raw"

# A short label for an interpreter: its version, and which build.
label_of() {
	v=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	case "$1" in
	/usr/bin/*) echo "$v-debian" ;;
	*-shared/*) echo "$v-shared" ;;
	/opt/py/*) echo "$v-static" ;;
	*) echo "$v" ;;
	esac
}

record_one() { # interpreter label script-and-args name
	rec=$work/record.json
	rm -f "$rec" "$rec.tmp"
	# shellcheck disable=SC2086
	LC_ALL=C.UTF-8 "$1" -E -s -B "$targets_dir/${3%% *}" "$rec" \
		$(echo "$3" | cut -s -d' ' -f2-) >"$work/target.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -f "$rec" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -f "$rec" ]; then
		"$capture" "$pid" "$work/raw" "$2-$4" ||
			echo "record: $2 $3: capture failed" >&2
	else
		echo "record: $2 $3: the target did not get ready (skipped)" >&2
	fi
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

for py in $interps; do
	if [ ! -x "$py" ]; then
		echo "record: $py: not installed (skipped)" >&2
		continue
	fi
	label=$(label_of "$py")
	echo "$programs" | while IFS=: read -r prog name; do
		if [ -n "$prog" ]; then
			record_one "$py" "$label" "$prog" "$name"
		fi
	done
done

# Which recorded seeds each target keeps (by name: LABEL-PROGRAM[-KIND]),
# so that the corpus stays small: about 3 MB for all of them.
wanted() { # target seed-name
	case "$1:$2" in
	threads:*-two_locks | threads:*-two_locks-locals | \
	threads:*-threads-sampler) return 0 ;;
	locks:*-two_locks | locks:*-async_locks) return 0 ;;
	tasks:*-async_tree) return 0 ;;
	objects:*-locals-locals* | objects:*-globals) return 0 ;;
	code:*-threads-* | code:*-locals-*) return 0 ;;
	linetable:*) return 0 ;;
	esac
	return 1
}

# Keep the seeds that add coverage, under their recorded names.
if command -v clang >/dev/null 2>&1 && [ -f "$builddir/config.h" ]; then
	FUZZ_SECONDS=0 "$srcdir/fuzz/run.sh" --build-only "$srcdir" "$builddir"
	merge=true
else
	echo "record: no clang: keeping every seed" >&2
	merge=false
fi
for t in $FUZZ_TARGETS; do
	[ -d "$work/raw/$t" ] || continue
	for f in "$work/raw/$t"/*; do
		wanted "$t" "${f##*/}" || rm -f "$f"
	done
	dest=$srcdir/fuzz/corpus/$t
	rm -rf "$dest"
	mkdir -p "$dest"
	if $merge; then
		mkdir -p "$work/merged-$t"
		"$builddir/fuzz-build/fuzz_$t" -merge=1 -rss_limit_mb=1024 \
			"$work/merged-$t" "$work/raw/$t" >"$work/merge.log" 2>&1 || {
			tail -20 "$work/merge.log" >&2
			exit 1
		}
		for f in "$work/raw/$t"/*; do
			sum=$(sha1sum <"$f" | cut -d' ' -f1)
			[ -f "$work/merged-$t/$sum" ] && cp "$f" "$dest/"
		done
	else
		cp "$work/raw/$t"/* "$dest/"
	fi
	echo "record: $t: $(ls "$dest" | wc -l) seeds, $(du -sk "$dest" | cut -f1) KiB"
done
