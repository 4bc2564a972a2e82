#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The exported interface of libnpuhal, three ways, must agree: the symbols
# the built library exports (name@version), the names hal/libnpuhal.map
# lists under each version node, and the NPU_API functions of the public
# headers. Usage: scripts/check-symbols.sh [LIBRARY] (default: the one in
# build/hal/). Prints what differs and exits 1; prints nothing and exits 0
# when all agree. Run by `make symbol-check` (tests/run-all.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
lib=${1:-build/hal/libnpuhal.so}
map=hal/libnpuhal.map
[ -e "$lib" ] || { echo "check-symbols: no $lib (make hal)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "name@VERSION" for every name in the map's global: sections.
sed 's,/\*.*\*/,,' "$map" | awk '
	/^[A-Za-z0-9_.]+[ \t]*\{/ { node = $1; scope = ""; next }
	/global:/ { scope = "global"; next }
	/local:/ { scope = "local"; next }
	/^\}/ { node = ""; next }
	node != "" && scope == "global" {
		gsub(/[ \t;]/, "")
		if ($0 != "") print $0 "@" node
	}' | LC_ALL=C sort > "$tmp/map"

bad=0
if grep -q '[*?]' "$tmp/map"; then
	echo "check-symbols: $map exports by wildcard; list each symbol:" >&2
	grep '[*?]' "$tmp/map" >&2
	bad=1
fi

# Defined dynamic symbols as name@VERSION (nm prints name@@VERSION for the default).
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@@/, "@", $3); print $3 }' |
	LC_ALL=C sort > "$tmp/lib"
if ! cmp -s "$tmp/map" "$tmp/lib"; then
	echo "check-symbols: $lib exports other symbols than $map lists (< map only, > library only):" >&2
	diff "$tmp/map" "$tmp/lib" | grep '^[<>]' >&2 || true
	bad=1
fi

# Every NPU_API function of the public headers is in the map, and nothing else.
cat hal/include/*.h | tr '\n' ' ' | grep -oE 'NPU_API [^;{(]*\(' |
	grep -oE 'npu_[a-z0-9_]+[ ]*\($' | tr -d ' (' | LC_ALL=C sort > "$tmp/api"
sed 's/@.*//' "$tmp/map" | LC_ALL=C sort > "$tmp/mapnames"
if ! cmp -s "$tmp/api" "$tmp/mapnames"; then
	echo "check-symbols: the NPU_API functions of hal/include/ and $map differ (< headers only, > map only):" >&2
	diff "$tmp/api" "$tmp/mapnames" | grep '^[<>]' >&2 || true
	bad=1
fi
exit $bad
