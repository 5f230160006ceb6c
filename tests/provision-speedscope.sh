#!/bin/bash
#
# provision-speedscope - fetch speedscope's file format JSON schema, which the
# live tests (tests/live/record_check.py) validate `snakescope record
# --format speedscope` output against.
#
# Where it comes from: the npm package speedscope (pinned, see VERSION
# below), downloaded with `npm pack` into a temporary directory; the tarball
# ships the schema as package/dist/release/file-format-schema.json (found by
# name anywhere in the tarball, should that move).
#
# Result: DEST/file-format-schema.json (DEST defaults to /opt/speedscope),
# plus DEST/VERSION naming the package it came from.  The tests read it from
# $SPEEDSCOPE_SCHEMA, default /opt/speedscope/file-format-schema.json.
#
# Usage: tests/provision-speedscope.sh [DEST]
#   Idempotent: exits 0 at once when DEST already holds the schema of this
#   version.  Exits non-zero with a message when npm is missing or the
#   download fails.
# Needs: network access to the npm registry, and npm or python3.  About
# 300 kB.
#
set -euo pipefail

dest=${1:-/opt/speedscope}
version=1.25.0
schema=$dest/file-format-schema.json

say() { echo "provision-speedscope: $*" >&2; }

if [ -s "$schema" ] && [ "$(cat "$dest/VERSION" 2> /dev/null)" = "speedscope@$version" ]; then
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm when present; else the same tarball straight from the registry.
if command -v npm > /dev/null; then
	if ! (cd "$tmp" && npm pack --loglevel=error "speedscope@$version" > pack.out 2> pack.err); then
		say "npm pack speedscope@$version failed:"
		cat "$tmp/pack.err" >&2 || true
		exit 1
	fi
else
	url=https://registry.npmjs.org/speedscope/-/speedscope-$version.tgz
	if ! python3 -c 'import sys, urllib.request
urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$url" "$tmp/speedscope-$version.tgz"; then
		say "no npm, and cannot download $url"
		exit 1
	fi
fi
tarball=$(find "$tmp" -maxdepth 1 -name 'speedscope-*.tgz' | head -n 1)
if [ -z "$tarball" ]; then
	say "no speedscope-$version tarball was downloaded"
	exit 1
fi

member=$(tar -tzf "$tarball" | grep '/file-format-schema\.json$' | head -n 1 || true)
if [ -z "$member" ]; then
	say "no file-format-schema.json in $(basename "$tarball")"
	exit 1
fi
mkdir -p "$tmp/x"
tar -xzf "$tarball" -C "$tmp/x" "$member"

# A schema that is not JSON is a failed download, not a schema.
if command -v python3 > /dev/null &&
	! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/x/$member" 2> /dev/null; then
	say "$member in $(basename "$tarball") is not valid JSON"
	exit 1
fi

mkdir -p "$dest"
cp "$tmp/x/$member" "$schema.tmp"
mv "$schema.tmp" "$schema"
echo "speedscope@$version" > "$dest/VERSION"
say "installed $schema (speedscope@$version, $member)"
