#!/bin/bash
#
# provision-pythons - install the CPython builds Debian 12 does not have, for
# the live tests: 3.14 and 3.15 (release builds, each as a static executable
# and as a launcher linked to libpython) and the 3.14 debug build (Py_DEBUG).
#
# Where they come from:
#   Debian unstable's binary packages (python3.1X, libpython3.1X,
#   libpython3.1X-dev for the headers, python3.14-dbg, libpython3.14-dbg),
#   downloaded with a private apt configuration and unpacked with dpkg-deb
#   into a private sysroot PREFIX/sid.  The system's apt sources, dpkg
#   database and /usr are not touched.  The packages need a newer glibc than
#   Debian 12's, so the sysroot carries unstable's glibc too, and the
#   executables are pointed at its dynamic loader with patchelf.
#
# Result (PREFIX defaults to /opt/py):
#   PREFIX/3.14/bin/python3.14         non-PIE executable, libpython inside
#   PREFIX/3.14-shared/bin/python3.14  PIE launcher linked to libpython3.14.so
#   PREFIX/3.15/bin/python3.15, PREFIX/3.15-shared/bin/python3.15   the same
#   PREFIX/3.14-dbg/bin/python3.14d    debug build (static libpython)
#   PREFIX/sid/usr/include/python3.1X  headers, internal ones included
# tests/live/live_test.py finds every PREFIX/*/bin/python3* on its own.
#
# Usage: tests/provision-pythons.sh [PREFIX]
#   VERSIONS="3.14 3.15" and DEBUG_VERSIONS="3.14" choose what to install.
#   Running it again refreshes the packages (idempotent).
# Needs: root (apt-get download, and apt-get install of patchelf and gcc
# when missing), network access to deb.debian.org.  About 230 MB.
#
set -euo pipefail

prefix=${1:-/opt/py}
versions=${VERSIONS:-3.14 3.15}
debug_versions=${DEBUG_VERSIONS-3.14}
# Versions whose -dbg package is fetched for its debug symbols
# (usr/lib/debug/.build-id/*.debug of the release builds), which `dump
# --native` finds by build-id under the sysroot's usr/lib/debug.
symbol_versions=${SYMBOL_VERSIONS-3.14 3.15}

sysroot=$prefix/sid
aptdir=$prefix/.apt
debdir=$prefix/.debs
libdir=$sysroot/usr/lib/x86_64-linux-gnu
loader=$libdir/ld-linux-x86-64.so.2

say() { echo "provision-pythons: $*" >&2; }

for tool in patchelf gcc; do
	command -v "$tool" > /dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" > /dev/null
done

# ---- a private apt: its own sources, lists, cache and (empty) status
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" \
	"$aptdir/etc/sources.list.d" "$aptdir/etc/preferences.d" "$debdir" \
	"$sysroot"
: > "$aptdir/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] http://deb.debian.org/debian unstable main" \
	> "$aptdir/etc/sources.list"
cat > "$aptdir/apt.conf" <<EOF
Dir::Etc::SourceList "$aptdir/etc/sources.list";
Dir::Etc::SourceParts "$aptdir/etc/sources.list.d";
Dir::Etc::Preferences "$aptdir/etc/preferences";
Dir::Etc::PreferencesParts "$aptdir/etc/preferences.d";
Dir::State::Lists "$aptdir/lists";
Dir::State::status "$aptdir/status";
Dir::Cache "$aptdir/cache";
Debug::NoLocking "true";
EOF
export APT_CONFIG=$aptdir/apt.conf
say "updating the package lists of Debian unstable"
apt-get update -qq

# ---- resolve every dependency against the empty status, download, unpack
wanted=
for v in $versions; do
	wanted="$wanted python$v libpython$v libpython$v-dev"
done
for v in $debug_versions $symbol_versions; do
	wanted="$wanted python$v-dbg libpython$v-dbg"
done
# "Inst pkg (version ...)" lines of a simulated install give pkg=version.
pkgs=$(apt-get -s -o APT::Install-Recommends=false install $wanted |
	awk '/^Inst /{ v = $3; gsub(/[()]/, "", v); print $2 "=" v }')
[ -n "$pkgs" ] || { say "nothing to download?"; exit 1; }
rm -f "$debdir"/*.deb
say "downloading $(echo "$pkgs" | wc -l) packages"
# apt drops privileges to _apt for downloads; let it write there.
chmod 0777 "$debdir"
(cd "$debdir" && apt-get download -qq $pkgs 2>&1 | grep -v unsandboxed >&2 || true)
for deb in "$debdir"/*.deb; do
	dpkg-deb -x "$deb" "$sysroot"
done

# ---- point the executables at the sysroot's loader and libraries
# Keeps a pristine copy (.orig) so that a rerun patches from scratch.
retarget() {
	local exe=$1
	[ -e "$exe.orig" ] || cp -p "$exe" "$exe.orig"
	cp -p "$exe.orig" "$exe"
	patchelf --set-interpreter "$loader" --force-rpath --set-rpath "$libdir" "$exe"
}

launcher_c=$aptdir/launcher.c
cat > "$launcher_c" <<'EOF'
/* python, as a small PIE that links libpython dynamically */
extern int Py_BytesMain(int argc, char **argv);
int main(int argc, char **argv) { return Py_BytesMain(argc, argv); }
EOF

link() { # link NAME TARGET: PREFIX/NAME/bin/basename(TARGET) -> TARGET
	mkdir -p "$prefix/$1/bin"
	ln -sfn "$2" "$prefix/$1/bin/$(basename "$2")"
}

for v in $versions; do
	exe=$sysroot/usr/bin/python$v
	retarget "$exe"
	gcc -O2 -o "$exe-shared" "$launcher_c" -L"$libdir" -l:libpython$v.so.1.0 \
		-Wl,--allow-shlib-undefined -Wl,--dynamic-linker="$loader" \
		-Wl,--disable-new-dtags -Wl,-rpath,"$libdir"
	link "$v" "$exe"
	mkdir -p "$prefix/$v-shared/bin"
	ln -sfn "$exe-shared" "$prefix/$v-shared/bin/python$v"
done
for v in $debug_versions; do
	exe=$sysroot/usr/bin/python${v}d
	retarget "$exe"
	link "$v-dbg" "$exe"
done

# ---- show what works
for p in "$prefix"/*/bin/python3*; do
	"$p" -c 'import sys; print(sys.version.split()[0], sys.executable)' ||
		{ say "$p does not run"; exit 1; }
done
