#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Packaging of libnpuhal as a runtime would consume it: `make install` into a
# scratch DESTDIR, then build the docs/hal.md example against the installed
# headers through pkg-config, shared and static, and check the shared
# library's exports. Prints TAP.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
n=0 failed=0
check() {
	n=$((n + 1))
	if "$@" >"$dest/out" 2>&1; then
		echo "ok $n $what"
	else
		echo "not ok $n $what"
		sed 's/^/# /' "$dest/out" | head -n 20
		failed=$((failed + 1))
	fi
}
pc() {
	PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig pkg-config "$@"
}

echo "TAP version 13"
echo "1..7"
what="make install PREFIX=/usr DESTDIR=<scratch>"
check make -C "$top" --no-print-directory install PREFIX=/usr DESTDIR="$dest"
what="the shared library's soname is libnpuhal.so.1"
check sh -c "objdump -p '$dest/usr/lib/libnpuhal.so.1' | grep -q 'SONAME *libnpuhal.so.1\$'"
# nm's status and output are checked on their own: in a pipeline a failing
# or silent nm would leave nothing to object to.
exports_only_npu() {
	nm -D --defined-only "$dest/usr/lib/libnpuhal.so.1" >"$dest/syms" || return 1
	awk '{ print $3 }' "$dest/syms" >"$dest/names"
	grep -q '^npu_.*@@NPUHAL_1\.0$' "$dest/names" || { echo "no npu_* symbol at NPUHAL_1.0"; return 1; }
	if grep -v -E -e '^NPUHAL_1\.[0-9]+$' -e '^npu_.*@@NPUHAL_1\.[0-9]+$' "$dest/names"; then
		echo "(exported, but not an npu_* function at a version NPUHAL_1.x)"
		return 1
	fi
}
what="it exports only npu_* functions, all at versions NPUHAL_1.x"
check exports_only_npu
what="...each at the version hal/libnpuhal.map lists it under (scripts/check-symbols.sh)"
check "$top/scripts/check-symbols.sh" "$dest/usr/lib/libnpuhal.so.1"
what="the docs/hal.md example builds against the installed package (shared)"
check sh -c "cc -std=c11 -Wall -Wextra -Werror '$top/build/examples/hal_example.c' \
	\$(PKG_CONFIG_SYSROOT_DIR='$dest' PKG_CONFIG_LIBDIR='$dest/usr/lib/pkgconfig' \
	pkg-config --cflags --libs npuhal) -o '$dest/example' &&
	LD_LIBRARY_PATH='$dest/usr/lib' ldd '$dest/example' | grep -q '$dest/usr/lib/libnpuhal.so.1'"
what="...and statically (pkg-config --static)"
check sh -c "cc -std=c11 -Wall -Wextra -Werror -static '$top/build/examples/hal_example.c' \
	\$(PKG_CONFIG_SYSROOT_DIR='$dest' PKG_CONFIG_LIBDIR='$dest/usr/lib/pkgconfig' \
	pkg-config --static --cflags --libs npuhal) -o '$dest/example-static'"
what="the versions agree with VERSION (driver, library, debian/ packaging)"
check "$top/scripts/check-version.sh"
[ "$failed" -eq 0 ]
