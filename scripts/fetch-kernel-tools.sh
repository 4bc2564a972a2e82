#!/bin/sh
# SPDX-License-Identifier: MIT
# Unpacks the few files the project uses from Debian's linux-source-6.1 tarball
# (kselftest harness, checkpatch) into the cache, outside the checkout.
set -eu
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
tarball=$(ls /usr/src/linux-source-6.*.tar.xz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$tarball" ]; then
	echo "fetch-kernel-tools: no /usr/src/linux-source-6.*.tar.xz; run scripts/setup.sh" >&2
	exit 1
fi
name=$(basename "$tarball" .tar.xz)
stamp=$cache/kernel-tools/.$name
if [ ! -e "$stamp" ]; then
	rm -rf "$cache/kernel-tools"
	mkdir -p "$cache/kernel-tools"
	tar -xJf "$tarball" -C "$cache/kernel-tools" --strip-components=1 \
		--wildcards "$name/tools/testing/selftests/kselftest*.h" \
		"$name/scripts/checkpatch.pl" "$name/scripts/spelling.txt" \
		"$name/scripts/const_structs.checkpatch"
	touch "$stamp"
fi
mkdir -p "$cache/kselftest"
cp "$cache/kernel-tools/tools/testing/selftests/kselftest.h" \
	"$cache/kernel-tools/tools/testing/selftests/kselftest_harness.h" "$cache/kselftest/"
echo "$cache/kernel-tools"
