#!/usr/bin/env bash
#
# gen-layouts - regenerate pystructs/layouts_gen.c, snakescope's built-in
# CPython struct layout tables (struct py_layout, see pystructs/layout.h).
#
# What it does:
#   For each CPython version in VERSIONS (2.7 and 3.6 .. 3.15), it finds that
#   version's headers, internal ones included:
#     - under PYENV_ROOT/versions/X.Y.N (the newest patch release; "t" and
#       "-dev" installs are ignored): include/pythonX.Y or include/pythonX.Ym;
#     - else under SID_INCLUDE (default /opt/py/sid/usr/include, what
#       tests/provision-pythons.sh installs): Debian's pythonX.Y, whose
#       pyconfig.h lives in the multiarch directory x86_64-linux-gnu/.
#   It compiles tools/gen-layouts.c against them
#       $CC -DPy_BUILD_CORE -isystem $include -isystem $include/internal
#   runs the result, which prints one designated initializer
#   "static const struct py_layout layout_X_Y = { ... };" built from
#   offsetof()/sizeof() (and for 3.13+ the shape of _Py_DebugOffsets), and
#   writes a complete C file to stdout: the tables, layout_builtin(),
#   layout_builtin_all(), layout_debug_desc() and
#   layout_debug_desc_newest().  All the per-version knowledge (field
#   renames, hardcoded values for structs that no installed header defines)
#   is in tools/gen-layouts.c.
#
#   Every field of struct py_layout is checked to be present in every table,
#   so adding a field to layout.h without teaching gen-layouts.c about it
#   fails here instead of silently defaulting to 0.
#
# How to run (from the top of the source tree):
#   tools/gen-layouts.sh [PYENV_ROOT] > pystructs/layouts_gen.c
#   PYENV_ROOT defaults to $PYENV_ROOT, then ~/.pyenv.  Every version must
#   be found; set VERSIONS="3.8 3.9" to generate a subset (for testing only).
#   CC (default cc) selects the compiler; it must target the same ABI as the
#   processes snakescope inspects (x86-64 Linux).
#
# What it writes:
#   Only stdout (the generated C file) and diagnostics on stderr.  The output
#   is deterministic (no timestamps or paths), so regenerating with the same
#   Python versions gives a byte-identical file; commit it.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
src=$here/gen-layouts.c
layout_h=$top/pystructs/layout.h

root=${1:-${PYENV_ROOT:-$HOME/.pyenv}}
versions_wanted=${VERSIONS:-2.7 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13 3.14 3.15}
sid_include=${SID_INCLUDE:-/opt/py/sid/usr/include}
cc=${CC:-cc}

die() {
	echo "gen-layouts: $*" >&2
	exit 1
}

[ -d "$root/versions" ] || die "no $root/versions (usage: $0 [PYENV_ROOT])"
[ -f "$src" ] || die "missing $src"
[ -f "$layout_h" ] || die "missing $layout_h"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The sorted list of fields of struct py_layout ("major", "runtime.next"...).
fields_of_header() {
	awk '
	/^struct py_layout \{/ { inside = 1; next }
	!inside { next }
	/^};/ { exit }
	{ sub(/\/\*.*/, ""); }          # drop comments (one-line starts)
	/^[ \t]*struct[ \t]*\{/ { sub_on = 1; n = 0; next }
	/^[ \t]*\}[ \t]*[a-z_]+[ \t]*;/ {
		name = $0
		gsub(/[ \t};]/, "", name)
		for (i = 0; i < n; i++)
			print name "." buf[i]
		sub_on = 0
		next
	}
	/^[ \t]*(int|unsigned)[ \t]/ {
		line = $0
		sub(/^[ \t]*(int|unsigned)[ \t]+/, "", line)
		sub(/;.*/, "", line)
		gsub(/[ \t]/, "", line)
		k = split(line, names, ",")
		for (j = 1; j <= k; j++) {
			if (sub_on)
				buf[n++] = names[j]
			else
				print names[j]
		}
	}
	' "$layout_h" | sort
}

# The sorted list of fields a generated initializer sets.
fields_of_table() {
	awk '
	/^[ \t]*\.[a-z_]+ = \{/ {
		name = $1; sub(/^\./, "", name); prefix = name "."; next
	}
	/^[ \t]*\},/ { prefix = ""; next }
	/^[ \t]*\.[a-z_]+ = / {
		name = $1; sub(/^\./, "", name); print prefix name
	}
	' "$1" | sort
}

fields_of_header > "$tmp/expected"
[ -s "$tmp/expected" ] || die "could not parse struct py_layout in $layout_h"

# Sets headers (the include directory of version $1) and extra (more
# -isystem flags it needs).
find_headers() {
	local v=$1 d sub
	headers=
	extra=
	for d in $(ls -1 "$root/versions" | grep -E "^${v//./\\.}\.[0-9]+$" |
		sort -V); do
		for sub in "python$v" "python${v}m"; do
			[ -f "$root/versions/$d/include/$sub/Python.h" ] &&
				headers=$root/versions/$d/include/$sub
		done
	done
	if [ -z "$headers" ] && [ -f "$sid_include/python$v/Python.h" ]; then
		headers=$sid_include/python$v
		# Debian's pyconfig.h includes <x86_64-linux-gnu/python$v/...>;
		# expose just that directory, not the sysroot's libc headers.
		mkdir -p "$tmp/multiarch-$v/x86_64-linux-gnu"
		ln -sfn "$sid_include/x86_64-linux-gnu/python$v" \
			"$tmp/multiarch-$v/x86_64-linux-gnu/python$v"
		extra="-isystem $tmp/multiarch-$v"
	fi
}

versions=()
found=()
for v in $versions_wanted; do
	id=${v/./_}
	find_headers "$v"
	[ -n "$headers" ] || die "no headers of CPython $v (pyenv or $sid_include)"
	flags="-isystem $headers $extra"
	[ -d "$headers/internal" ] && flags="$flags -isystem $headers/internal"

	# shellcheck disable=SC2086
	"$cc" -O0 -Wall -DPy_BUILD_CORE $flags -o "$tmp/gen-$v" "$src" ||
		die "compiling gen-layouts.c against $headers failed"
	"$tmp/gen-$v" > "$tmp/table-$v" || die "running gen-$v failed"

	# only the py_layout initializer, not the debug-offsets shape
	sed '/^};$/q' "$tmp/table-$v" > "$tmp/layout-$v"
	fields_of_table "$tmp/layout-$v" > "$tmp/got-$v"
	if ! diff -u "$tmp/expected" "$tmp/got-$v" > "$tmp/diff" ; then
		cat "$tmp/diff" >&2
		die "$v table does not set exactly the fields of struct py_layout"
	fi

	full=$(sed -n '1s|^/\* CPython \([^ ]*\) \*/$|\1|p' "$tmp/table-$v")
	[ -n "$full" ] || die "$v: no version line in output"
	versions+=("$full")
	found+=("$v")
done

{
	list=$(printf '%s, ' "${versions[@]}")
	list=${list%, }
	cat <<EOF
/*
 * layouts_gen.c - built-in CPython struct layouts.
 *
 * Generated by tools/gen-layouts.sh from the headers of CPython
 * $list; do not edit.
 * Regenerate with: tools/gen-layouts.sh [PYENV_ROOT] > pystructs/layouts_gen.c
 */
#include <config.h>

#include <stddef.h>

#include "pystructs/layout.h"
EOF
	dbg=()
	for v in "${found[@]}"; do
		echo
		cat "$tmp/table-$v"
		grep -q "^static const struct layout_dbg_desc" "$tmp/table-$v" &&
			dbg+=("${v/./_}")
	done
	echo
	echo "static const struct py_layout *const layouts[] = {"
	for v in "${found[@]}"; do
		printf '\t&layout_%s,\n' "${v/./_}"
	done
	echo "};"
	echo
	echo "static const struct layout_dbg_desc *const dbg_descs[] = {"
	for id in "${dbg[@]}"; do
		printf '\t&dbg_desc_%s,\n' "$id"
	done
	cat <<EOF
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct py_layout *layout_builtin(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < COUNT(layouts); i++)
		if (layouts[i]->major == major && layouts[i]->minor == minor)
			return layouts[i];
	return NULL;
}

const struct py_layout *const *layout_builtin_all(size_t *n)
{
	*n = COUNT(layouts);
	return layouts;
}

const struct layout_dbg_desc *layout_debug_desc(unsigned major,
						unsigned minor)
{
	for (size_t i = 0; i < COUNT(dbg_descs); i++)
		if (dbg_descs[i]->major == major && dbg_descs[i]->minor == minor)
			return dbg_descs[i];
	return NULL;
}

const struct layout_dbg_desc *layout_debug_desc_newest(void)
{
	return dbg_descs[COUNT(dbg_descs) - 1];
}
EOF
} > "$tmp/out"

cat "$tmp/out"
