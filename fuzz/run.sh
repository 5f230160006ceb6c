#!/bin/sh
# Build the libFuzzer targets with clang and run each for a bounded time
# from a copy of the committed seed corpus (`make fuzz` calls this).
#
# usage: fuzz/run.sh [--build-only] SRCDIR BUILDDIR [TARGET...]
#
# SRCDIR is the source tree (fuzz/corpus/ is read, never written), BUILDDIR
# a configured build tree (its config.h is used); everything this script
# makes goes to BUILDDIR/fuzz-build.  Environment:
#   FUZZ_SECONDS  seconds per target (default 20)
#   CLANG         the compiler (default clang)
#   FUZZ_FLAGS    more libFuzzer flags, e.g. "-seed=1"
# Limits: -timeout=5 (a hang), -rss_limit_mb=1024, -malloc_limit_mb=256
# (an unbounded allocation); leaks are reported by LeakSanitizer.  Exits 1
# when any target crashes, leaks, hangs or runs out of memory, naming the
# input that does it (a reproducer: run the target binary on that file).
set -eu

ALL_TARGETS="linetable objects code threads tasks locks core fdwait merge"

build_only=false
if [ "${1:-}" = --build-only ]; then
	build_only=true
	shift
fi
[ $# -ge 2 ] || { echo "usage: $0 SRCDIR BUILDDIR [TARGET...]" >&2; exit 2; }
srcdir=$(cd "$1" && pwd)
builddir=$(cd "$2" && pwd)
shift 2
targets=${*:-$ALL_TARGETS}
seconds=${FUZZ_SECONDS:-20}
clang=${CLANG:-clang}
out=$builddir/fuzz-build

command -v "$clang" >/dev/null 2>&1 || {
	echo "fuzz: $clang not found (scripts/install-deps.sh installs clang" \
	     "and libclang-rt-14-dev)" >&2
	exit 1
}
[ -f "$builddir/config.h" ] || {
	echo "fuzz: $builddir/config.h missing: run ./configure first" >&2
	exit 1
}

CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	-Wall -Wextra -Wno-unused-parameter -I$builddir -I$srcdir"
LDFLAGS="-fsanitize=fuzzer,address,undefined"

# ---- build: the decoders' layers as one archive, then each target ----
mkdir -p "$out/obj"
# A header newer than the archive rebuilds everything; else changed files.
stamp=$out/libdecoders.a
rebuild_all=false
if [ ! -f "$stamp" ] || [ -n "$(find "$srcdir/common" "$srcdir/memreader" \
	"$srcdir/model" "$srcdir/pystructs" "$srcdir/attach" "$srcdir/fuzz" \
	"$builddir/config.h" \
	-name '*.h' \
	-newer "$stamp" 2>/dev/null)" ]; then
	rebuild_all=true
fi
objs=""
: >"$out/stale"
# From attach/, only the core-file parser (it reads a file, not a
# process) and fdwait's text parsers; the archive's other targets never
# pull them in.
for src in "$srcdir"/common/*.c "$srcdir"/memreader/*.c "$srcdir"/model/*.c \
	   "$srcdir"/pystructs/*.c "$srcdir"/attach/core.c \
	   "$srcdir"/attach/fdwait_parse.c \
	   "$srcdir"/fuzz/harness.c; do
	case "$src" in
	*/pystructs/locate.c) continue ;; # finds a live process's runtime
	esac
	name=$(echo "${src#"$srcdir"/}" | tr / _)
	obj=$out/obj/${name%.c}.o
	objs="$objs $obj"
	if $rebuild_all || [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
		echo "$src $obj" >>"$out/stale"
	fi
done
# Two compilers at a time (the machines here have two cores).
# shellcheck disable=SC2086
xargs -r -n 2 -P 2 sh -c '"$0" '"$(echo $CFLAGS)"' -c "$1" -o "$2"' \
	"$clang" <"$out/stale"
rm -f "$stamp"
# shellcheck disable=SC2086
ar rcs "$stamp" $objs

for t in $targets; do
	libs=-lm
	case $t in
	core) libs="$libs $(pkg-config --libs libzstd liblz4 liblzma zlib)" ;;
	esac
	# shellcheck disable=SC2086
	"$clang" $CFLAGS $LDFLAGS "$srcdir/fuzz/fuzz_$t.c" "$stamp" $libs \
		-o "$out/fuzz_$t"
done

$build_only && exit 0

# ---- run ---------------------------------------------------------------
failed=""
summary=""
for t in $targets; do
	work=$out/run-$t
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	# A copy: libFuzzer adds what it finds to the corpus it is given.
	if [ -d "$srcdir/fuzz/corpus/$t" ]; then
		cp "$srcdir/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null || true
	fi
	echo "fuzz: $t for ${seconds}s ($(ls "$work/corpus" | wc -l) seeds)"
	rc=0
	# shellcheck disable=SC2086
	"$out/fuzz_$t" -max_total_time="$seconds" -timeout=5 \
		-rss_limit_mb=1024 -malloc_limit_mb=256 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" ${FUZZ_FLAGS:-} \
		"$work/corpus" >"$work/log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	summary="$summary
  $t: ${runs:-?} runs, ${speed:-?} exec/s, exit $rc"
	if [ "$rc" != 0 ]; then
		failed="$failed $t"
		echo "fuzz: $t FAILED (exit $rc); the end of its log ($work/log):"
		tail -60 "$work/log"
		for a in "$work"/artifacts/*; do
			[ -e "$a" ] && echo "fuzz: reproduce with: $out/fuzz_$t $a"
		done
	fi
done
echo "fuzz: summary$summary"
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed" >&2
	exit 1
fi
