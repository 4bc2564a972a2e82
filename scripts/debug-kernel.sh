#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Builds (once) and prints the debug kernel the reliability run boots: Debian's
# linux-source-6.1 with KASAN, lockdep, kmemleak, debug objects, UBSAN and
# fault injection (failslab, fail_page_alloc, fail_function), configured by
# x86_64_defconfig plus scripts/debug-kernel.config.
#
#   debug-kernel.sh          build if needed, then print the settings below
#   debug-kernel.sh --check  print them only if the cached kernel is current,
#                            else exit 3 (nothing is built)
#
# Everything lives in the cache, outside the checkout:
#   $NPU_CACHE/debug-kernel/src/linux-source-6.1/   unpacked source
#   $NPU_CACHE/debug-kernel/build/                   O= build tree (KDIR)
#   $NPU_CACHE/debug-kernel/modroot/lib/modules/R/   installed modules
# The kernel is rebuilt only when the source tarball, the config fragment or
# the compiler changes (the key in debug-kernel/key); a rebuild reuses the
# build tree, so make recompiles only what the change touches.
#
# Prints, last, shell assignments for the VM loop and kbuild:
#   NPU_KVER=<release> NPU_VM_KERNEL=<bzImage> NPU_VM_MODROOT=<dir> NPU_DEBUG_KDIR=<dir>
# Builds are niced and run with -j${NPU_JOBS:-2}: the machine is shared.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/debug-kernel.config
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
dk=$cache/debug-kernel
jobs=${NPU_JOBS:-2}

die() { echo "debug-kernel: error: $*" >&2; exit 1; }
log() { echo "debug-kernel: $*" >&2; }

check_only=
case ${1:-} in
--check) check_only=1 ;;
"") ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-6.*.tar.xz' | sort -V | tail -n 1)
[ -n "$tarball" ] || die "no /usr/src/linux-source-6.*.tar.xz; run 'make setup' (package linux-source-6.1)"
name=$(basename "$tarball" .tar.xz)
src=$dk/src/$name
build=$dk/build
modroot=$dk/modroot

key=$(
	{
		stat -c '%n %s %Y' "$tarball"
		cat "$fragment"
		gcc --version | head -n 1
	} | sha256sum | cut -d' ' -f1
)

# Prints the settings of the cached kernel; fails if it is incomplete.
print_settings() {
	local rel
	rel=$(cat "$build/include/config/kernel.release" 2>/dev/null) || return 1
	[ -f "$build/arch/x86/boot/bzImage" ] && [ -d "$modroot/lib/modules/$rel/kernel" ] || return 1
	echo "NPU_KVER=$rel"
	echo "NPU_VM_KERNEL=$build/arch/x86/boot/bzImage"
	echo "NPU_VM_MODROOT=$modroot"
	echo "NPU_DEBUG_KDIR=$build"
}

current() { [ "$(cat "$dk/key" 2>/dev/null)" = "$key" ] && print_settings >/dev/null; }

if [ -n "$check_only" ]; then
	current || { log "no current debug kernel in $dk (run scripts/debug-kernel.sh)"; exit 3; }
	print_settings
	exit 0
fi

mkdir -p "$dk"
# One build at a time in the shared cache.
exec 9>"$dk/.lock"
flock 9
if current; then
	print_settings
	exit 0
fi

for tool in flex bison bc gcc make; do
	command -v "$tool" >/dev/null || die "$tool not found; run 'make setup'"
done
[ -e /usr/include/libelf.h ] || die "libelf headers missing; run 'make setup' (libelf-dev)"

start=$(date +%s)
if [ ! -f "$src/Makefile" ] || [ ! -e "$dk/src/.$name.unpacked" ]; then
	log "unpacking $tarball into $dk/src"
	rm -rf "$dk/src"
	mkdir -p "$dk/src"
	tar -xJf "$tarball" -C "$dk/src"
	touch "$dk/src/.$name.unpacked"
fi

log "configuring (x86_64_defconfig + $(basename "$fragment")) in $build"
mkdir -p "$build"
kmake() { nice -n 19 make -C "$src" O="$build" -j"$jobs" "$@"; }
kmake -s x86_64_defconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$fragment" >/dev/null
kmake -s olddefconfig >&2

# Every option the fragment asks for must have survived olddefconfig's
# dependency resolution, or the run would silently test less than it says.
missing=$(grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$fragment" | while read -r want; do
	opt=${want#\# }
	opt=${opt%%[= ]*}
	case $want in
	"#"*) ! grep -qE "^$opt=" "$build/.config" ;;
	*) grep -qxF "$want" "$build/.config" ;;
	esac || echo "$want (got: $(grep -E "^(# )?$opt[= ]" "$build/.config" || echo unset))"
done)
[ -z "$missing" ] || die "options of $fragment not in the resulting .config:
$missing"

log "building bzImage and modules (nice -n 19, -j$jobs); a cold build takes long"
kmake bzImage modules >"$dk/build.log" 2>&1 || {
	tail -n 30 "$dk/build.log" >&2
	die "kernel build failed; full log: $dk/build.log"
}
rm -rf "$modroot"
kmake -s INSTALL_MOD_PATH="$modroot" modules_install >"$dk/modules_install.log" 2>&1 ||
	die "modules_install failed; see $dk/modules_install.log"
echo "$key" >"$dk/key"
elapsed=$(($(date +%s) - start))
echo "$(date -u +%FT%TZ) build took ${elapsed}s (-j$jobs, load $(cut -d' ' -f1-3 /proc/loadavg))" >>"$dk/build-times"
log "built $(cat "$build/include/config/kernel.release") in ${elapsed}s"
print_settings
