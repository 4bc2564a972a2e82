#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Usage: mkinitramfs.sh CACHEDIR PAYLOAD
#
# Packs the test VM's initramfs as two uncompressed cpio archives, which the
# kernel unpacks one after the other when they are concatenated:
#
#   CACHEDIR/base.cpio  busybox and the stock Debian modules the tests need.
#                       Cached: rebuilt only when its inputs change (kernel
#                       version, busybox, module list, this script).
#   PAYLOAD             everything built from this checkout: /init, npu.ko,
#                       the module index (depmod), the guest tests, tools.
#                       Packed on every call (well under a second), so it is
#                       never stale, in a private scratch directory, so
#                       concurrent boots from one checkout do not mix.
#
# Prints the paths of the two archives, one per line. vm.sh appends a third,
# tiny archive with the per-run settings (mode, command).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/config.sh
. "$here/config.sh"

die() { echo "mkinitramfs: $*" >&2; exit 1; }
log() { echo "mkinitramfs: $*" >&2; }

trap 'echo "mkinitramfs: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

[ $# -eq 2 ] || die "usage: $0 CACHEDIR PAYLOAD"
out=$1
payload=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)

kver=${KVER:-$("$top/scripts/kver.sh")}
# moddir is the path in the guest; the host's copy is under NPU_VM_MODROOT
# (INSTALL_MOD_PATH of another kernel's build, e.g. the debug kernel), or /.
moddir=/lib/modules/$kver
modroot=${NPU_VM_MODROOT:-}
hostmoddir=$modroot$moddir
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found; run 'make setup' (package busybox-static)"
# ldd fails on a static binary; the guest has no C library for a dynamic one.
! ldd "$busybox" >/dev/null 2>&1 ||
	die "$busybox is not static; install busybox-static ('make setup')"
[ -d "$hostmoddir/kernel" ] || die "no stock modules in $hostmoddir; run 'make setup'"
command -v depmod >/dev/null || die "depmod not found; install kmod ('make setup')"

# Several engineers may start VMs from one checkout at the same time: the
# base is built under a lock and replaced atomically; the payload is private.
exec 9>"$out/.mkinitramfs.lock"
scratch=$(mktemp -d "$out/scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Writes a newc archive of directory $1 to $2, atomically, with root-owned
# files and stable ordering (so identical inputs give identical archives).
pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 >"$2.tmp") || die "cpio failed for $1"
	mv -f "$2.tmp" "$2"
}

# Copies an executable and, if it is dynamically linked, the shared libraries
# it needs (as ldd resolves them on the host) into root $1 at path $3.
install_exe() {
	local root=$1 src=$2 dst=$3 lib
	install -D -m 0755 "$src" "$root$dst"
	if ldd "$src" >/dev/null 2>&1; then
		ldd "$src" | grep -q 'not found' &&
			die "$src needs a library ldd cannot find: $(ldd "$src" | grep 'not found' | head -n 1)"
		for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
			[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
		done
	fi
}

# ---- base archive -----------------------------------------------------------

# The stock modules and everything they depend on, as paths relative to $moddir.
stock_modules() {
	local m
	for m in $NPU_VM_STOCK_MODULES; do
		modprobe ${modroot:+-d "$modroot"} -S "$kver" --show-depends "$m" 2>/dev/null | grep '^insmod ' ||
			die "stock module '$m' not found for kernel $kver (NPU_VM_STOCK_MODULES)"
	done | awk '{print $2}' | sed "s|^$hostmoddir/||" | LC_ALL=C sort -u
}

mods=$(stock_modules)
base_key=$(
	{
		echo "kver=$kver stock=$NPU_VM_STOCK_MODULES"
		sha256sum "$busybox" "$0"
		for m in $mods; do stat -c '%n %s %Y' "$hostmoddir/$m"; done
	} | sha256sum | cut -d' ' -f1
)
# Another kernel (NPU_VM_MODROOT) gets its own base, so that boots of the
# stock and the debug kernel at the same time do not replace each other's.
base=$out/base${modroot:+-$kver}
base_root=$base-root
flock 9
# The unpacked tree is used again below (depmod): check it, not just the key,
# since anything that cleans *.ko under the checkout empties it.
base_ok=1
for m in $mods; do
	[ -f "$base_root$moddir/$m" ] || base_ok=0
done
if [ $base_ok = 0 ] || [ ! -f "$base.cpio" ] || [ "$(cat "$base.key" 2>/dev/null)" != "$base_key" ]; then
	log "packing the base archive (busybox, stock modules: $NPU_VM_STOCK_MODULES)"
	rm -rf "$base_root"
	mkdir -p "$base_root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,tests,vm}
	install -m 0755 "$busybox" "$base_root/bin/busybox"
	# One symlink per applet (sh, modprobe, devmem, timeout, ...).
	for applet in $("$busybox" --list-full); do
		[ -e "$base_root/$applet" ] || ln -s /bin/busybox "$base_root/$applet"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$base_root/etc/passwd"
	echo "root:x:0:" >"$base_root/etc/group"
	mkdir -p "$base_root$moddir"
	for m in $mods; do
		install -D -m 0644 "$hostmoddir/$m" "$base_root$moddir/$m"
	done
	for f in modules.builtin modules.builtin.modinfo; do
		[ -e "$hostmoddir/$f" ] && cp "$hostmoddir/$f" "$base_root$moddir/$f"
	done
	pack "$base_root" "$base.cpio"
	echo "$base_key" >"$base.key"
fi

# ---- payload archive --------------------------------------------------------

payload_root=$scratch/payload-root
mkdir -p "$payload_root/tests" "$payload_root/etc/npu-vm" "$payload_root$moddir/extra"
install -m 0755 "$here/guest-init" "$payload_root/init"
install -m 0755 "$here/scan-kernel-log.sh" "$payload_root/etc/npu-vm/scan-kernel-log.sh"

ko=${NPU_VM_MODULE:-$top/driver/npu.ko}
if [ -f "$ko" ]; then
	install -m 0644 "$ko" "$payload_root$moddir/extra/npu.ko"
else
	# Not fatal here: the guest then reports "module npu failed to load".
	log "warning: $ko does not exist (run 'make module'); the VM will have no npu module"
fi

# depmod needs every module under one tree: hard-link the stock ones next to
# npu.ko in a scratch tree and keep only the index files it writes.
depmod_root=$scratch/depmod-root
mkdir -p "$depmod_root/lib/modules"
cp -al "$base_root$moddir" "$depmod_root$moddir"
flock -u 9
if [ -f "$ko" ]; then
	mkdir -p "$depmod_root$moddir/extra"
	cp "$ko" "$depmod_root$moddir/extra/npu.ko"
fi
(cd "$depmod_root$moddir" && find . -name '*.ko' | sed 's|^\./||' | LC_ALL=C sort >modules.order)
depmod -b "$depmod_root" "$kver" || die "depmod failed"
for f in "$depmod_root$moddir"/modules.*; do
	cp "$f" "$payload_root$moddir/"
done

# Guest tests: only binaries whose source still exists, so a deleted test
# does not keep running from an old build. NPU_VM_TESTS_DIR (e.g. throwaway
# tests) replaces build/guest, without that check; NPU_VM_TESTS="a_test b_test"
# selects some tests.
tests_dir=${NPU_VM_TESTS_DIR:-$top/build/guest}
ntests=0 packed=
for bin in "$tests_dir"/*_test; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	[ -n "${NPU_VM_TESTS_DIR:-}" ] || [ -f "$top/tests/guest/$name.c" ] || continue
	if [ -n "${NPU_VM_TESTS:-}" ]; then
		case " $NPU_VM_TESTS " in *" $name "*) ;; *) continue ;; esac
	fi
	install_exe "$payload_root" "$bin" "/tests/$name"
	ntests=$((ntests + 1))
	packed="$packed $name"
done
# What was asked for must all be there: every test named in NPU_VM_TESTS,
# and, from build/guest, a binary for every tests/guest/*_test.c (the
# selected ones). A missing one would otherwise just not run.
wanted=${NPU_VM_TESTS:-}
if [ -z "$wanted" ] && [ -z "${NPU_VM_TESTS_DIR:-}" ]; then
	for src in "$top"/tests/guest/*_test.c; do
		[ -f "$src" ] && wanted="$wanted $(basename "$src" .c)"
	done
fi
for name in $wanted; do
	case "$packed " in *" $name "*) ;; *) die "no test program $tests_dir/$name (make all?)" ;; esac
done
# Programs to run in the guest (HAL tools, demos): every executable in the
# directories of NPU_VM_TOOL_DIRS goes to /usr/bin.
for dir in $NPU_VM_TOOL_DIRS; do
	case $dir in /*) ;; *) dir=$top/$dir ;; esac
	for bin in "$dir"/*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		install_exe "$payload_root" "$bin" "/usr/bin/$(basename "$bin")"
	done
done
# Compiled example programs (make examples) for the tools and tests.
if [ -d "$top/build/programs" ]; then
	mkdir -p "$payload_root/usr/share/npu/programs"
	cp "$top"/build/programs/*.npuprog "$payload_root/usr/share/npu/programs/" 2>/dev/null || true
fi
for pair in $NPU_VM_FILES; do
	src=${pair%%=*} dst=${pair#*=}
	case $src in /*) ;; *) src=$top/$src ;; esac
	[ -d "$src" ] || continue
	mkdir -p "$payload_root$dst"
	find "$src" -maxdepth 1 -type f -exec cp {} "$payload_root$dst/" \;
done
echo "$ntests" >"$payload_root/etc/npu-vm/test-count"

pack "$payload_root" "$payload"
echo "$base.cpio"
echo "$payload"
