#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints the QEMU with the NPU model that the VM lanes boot: $NPU_QEMU when
# set, else the one hw/qemu/build-qemu.sh builds (or finds current) in the
# cache. One build at a time across callers sharing the cache, the fetch
# included (build-qemu.sh's own lock covers only the build tree).
set -eu
if [ -n "${NPU_QEMU:-}" ]; then
	echo "$NPU_QEMU"
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
mkdir -p "$cache"
path=$(flock "$cache/.build-qemu.lock" "$here/build-qemu.sh" | tail -n 1)
[ -n "$path" ] || exit 1
echo "$path"
