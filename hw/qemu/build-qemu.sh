#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Builds QEMU from Debian's source package with the emulated NPU compiled in.
#
# The source and build tree live in the cache ($NPU_CACHE, default ~/.cache/npu-stack), outside
# the checkout. The first run fetches and configures (a few minutes); later runs copy the model
# sources in only when they differ, so ninja rebuilds just what changed.
# Prints the path of the built qemu-system-x86_64 on its last line.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
src_root=$cache/src

log() { echo "build-qemu: $*" >&2; }

src=$(ls -d "$src_root"/qemu-*/ 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
	log "fetching Debian's QEMU source into $src_root"
	mkdir -p "$src_root"
	(cd "$src_root" && apt-get source -q qemu >/dev/null) || {
		log "apt-get source qemu failed: run scripts/setup.sh first (it adds the deb-src entry)"
		exit 1
	}
	src=$(ls -d "$src_root"/qemu-*/ | head -n 1)
fi
src=${src%/}

# Debian's source has no EDK2 firmware blobs; stop meson from trying to unpack them.
# Edit only once: rewriting meson.build on every run would make meson reconfigure.
if grep -q '^ *unpack_edk2_blobs = bzip2.found()' "$src/meson.build"; then
	sed -i 's/^\( *\)unpack_edk2_blobs = bzip2.found()/\1unpack_edk2_blobs = false/' "$src/meson.build"
fi

# One build at a time in the shared tree (callers such as tests/vm/vm.sh may hold
# their own lock on .build-qemu.lock around this script; this one is separate).
exec 9>"$cache/.build-qemu-tree.lock"
flock 9

# Copy a file only when its content changed, so ninja's timestamps stay meaningful.
install_if_changed() {
	if ! cmp -s "$1" "$2"; then
		cp "$1" "$2"
		log "updated $(basename "$2")"
	fi
}

# Hook the model into QEMU's tree: sources, a Kconfig symbol and the x86_64 device config.
model_dir=$src/hw/misc/npu
mkdir -p "$model_dir"
for f in "$here"/npu*.c "$here"/npu*.h; do
	[ -e "$f" ] && install_if_changed "$f" "$model_dir/$(basename "$f")"
done
# The device's interface and the instruction set: the same sources the HAL builds.
install_if_changed "$top/hw/npu_hw.h" "$model_dir/npu_hw.h"
for f in "$top"/isa/*.c "$top"/isa/*.h; do
	install_if_changed "$f" "$model_dir/$(basename "$f")"
done
install_if_changed "$here/meson.build" "$model_dir/meson.build"

grep -q "subdir('npu')" "$src/hw/misc/meson.build" ||
	echo "subdir('npu')" >> "$src/hw/misc/meson.build"
grep -q '^config NPU_EMU' "$src/hw/misc/Kconfig" ||
	printf '\nconfig NPU_EMU\n    bool\n    depends on PCI && MSI_NONBROKEN\n' >> "$src/hw/misc/Kconfig"
devcfg=$src/configs/devices/x86_64-softmmu/default.mak
for sym in CONFIG_NPU_EMU=y CONFIG_PCIE_PORT=y; do
	grep -q "^$sym" "$devcfg" || echo "$sym" >> "$devcfg"
done

build=$src/build
if [ ! -f "$build/build.ninja" ]; then
	log "configuring QEMU (x86_64-softmmu only)"
	mkdir -p "$build"
	(cd "$build" && ../configure --target-list=x86_64-softmmu \
		--without-default-features --without-default-devices \
		--disable-docs --enable-fdt=system --disable-install-blobs \
		>"$build/configure.log" 2>&1) || {
		log "configure failed; see $build/configure.log"
		tail -n 20 "$build/configure.log" >&2
		exit 1
	}
fi

log "building (incremental)"
# A cold build is some 2,500 steps and minutes long: show ninja's step counter
# every 5 % on stderr (stdout carries only the binary's path), keep the log whole.
progress() {
	awk '
	match($0, /^\[[0-9]+\/[0-9]+\]/) {
		split(substr($0, 2, RLENGTH - 2), n, "/")
		pct = int(n[1] * 100 / n[2])
		if (pct >= next_pct) {
			printf "build-qemu: %3d%% (%d/%d steps)\n", pct, n[1], n[2] > "/dev/stderr"
			next_pct = pct - pct % 5 + 5
		}
	}'
}
# sh has no pipefail: ninja's status travels through a file.
(ninja -C "$build" qemu-system-x86_64 2>&1; echo $? >"$build/ninja.status") |
	tee "$build/ninja.log" | progress
[ "$(cat "$build/ninja.status")" = 0 ] || {
	log "build failed; see $build/ninja.log"
	grep -E 'error|Error' "$build/ninja.log" | head -n 30 >&2
	exit 1
}
echo "$build/qemu-system-x86_64"
