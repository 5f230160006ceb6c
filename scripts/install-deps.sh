#!/bin/sh
# Install the Debian packages snakescope needs to build and test (run as
# root on Debian 12 or later).  Does nothing when they are all present, so
# it is cheap to run before every build.
set -e
# zlib1g-dev, liblzma-dev and libzstd-dev: the static libraries that libelf
# and libunwind pull into a static link (configure --enable-static-binary,
# and the snakescope-static that `make check` tests); which of them a
# release needs is what `pkg-config --static` says.  They, and liblz4-dev,
# are also what attach/core.c decompresses core files with (zstd, xz,
# gzip, lz4); gdb's gcore writes the real core tests/check_core.c reads.
# chromium: the live check that opens record's flame graph in a headless
# browser, zooms and searches (tests/live/flame_check.py).
# golang-go: `go tool pprof`, Go's own pprof reader, which the live tests
# read record --format pprof with (tests/live/fleet_check.py).
# g++: libstdc++'s __cxa_demangle, which names C++ frames of --native
# (static too: libstdc++.a), and the C++ library native_check.py builds.
# python3-gunicorn: a gunicorn master and its sync workers, dumped with
# dump --subprocesses (tests/live/procs_check.py).
PKGS="gcc g++ make autoconf automake libtool pkg-config libelf-dev libunwind-dev
libncurses-dev check python3 python3-dev python3-jsonschema util-linux
tmux valgrind strace clang libclang-rt-14-dev
libc6-dev zlib1g-dev liblzma-dev libzstd-dev liblz4-dev gdb libcap2-bin patchelf groff-base man-db
chromium golang-go python3-gunicorn"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null 2>&1 ||
	{ apt-get update -qq && apt-get install -y -qq $missing >/dev/null; }
