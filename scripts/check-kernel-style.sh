#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Quality gates of the kernel driver: checkpatch --strict on driver/
# (with its compat probes), uapi/ and hw/, then, for each kernel of the matrix, a
# clean build with W=1 and one with sparse (C=1). Any finding makes the
# script exit non-zero.
#
#   check-kernel-style.sh [KERNEL...]
#
# KERNEL is `host` (the installed Debian kernel's headers, KVER/KDIR, built
# in the tree as `make module` does) or a root of scripts/kernel-root.sh
# (trixie, backports), made on demand, where the module is built from a copy
# of the sources in build/kmatrix/KERNEL/ so driver/npu.ko is left alone.
# Without arguments: host and every kernel root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
checkpatch=${CHECKPATCH:-$cache/kernel-tools/scripts/checkpatch.pl}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
summary=()

if [ $# -eq 0 ]; then
	set -- host $("$top/scripts/kernel-root.sh" names)
fi

if [ ! -x "$checkpatch" ] && [ ! -f "$checkpatch" ]; then
	echo "check-kernel-style: $checkpatch missing; run scripts/fetch-kernel-tools.sh" >&2
	exit 2
fi

echo "== checkpatch --strict"
# SPDX_LICENSE_TAG and FILE_PATH_CHANGES misfire outside a kernel tree.
# uapi and hw headers cannot use BIT(): it does not exist for userspace.
# npu_compat_config.h is a build output.
sources=$(ls "$top"/driver/*.[ch] "$top"/driver/compat/*.c |
	grep -v -e '\.mod\.c$' -e '/npu_compat_config\.h$')
cp_status=0
if ! perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES -f $sources >"$log" 2>&1; then
	cp_status=1
fi
if ! perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,BIT_MACRO \
	-f "$top"/uapi/*.h "$top"/hw/*.h >>"$log" 2>&1; then
	cp_status=1
fi
# checkpatch exits 0 on CHECKs; treat any reported line as a finding.
if grep -E ':[0-9]+: (ERROR|WARNING|CHECK):' "$log"; then
	cp_status=1
fi
[ "$cp_status" -eq 0 ] || status=1
summary+=("checkpatch --strict: $([ "$cp_status" -eq 0 ] && echo clean || echo findings)")

# clean_objects DIR: what a rebuild must redo. Not `make clean M=...`:
# kbuild's clean deletes every *.s in the tree, and examples/ keeps NPU
# assembly sources there. The probe header is redone too (its .cmd is gone).
clean_objects() {
	find "$1" -maxdepth 1 \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' \) -type f -delete
}

# Kbuild's own progress; any other line it prints is a finding.
progress='^(Skipping BTF generation|make\[[0-9]+\]: (Entering|Leaving) directory)'
# What kbuild prints when it turns C=1 off because the sparse it finds
# cannot parse this kernel's headers (or, in Debian's packages of some
# kernels, because scripts/checker-valid.sh is missing).
sparse_off='(C=[12] specified, but .* is not available or not up to date|scripts/checker-valid\.sh: No such file or directory)$'

# build KERNEL RELEASE SHIM CMD...: CMD (a make of the module) once with
# W=1 and once with C=1, each from clean objects. When kbuild turns sparse
# off, C=1 is done again with SHIM (scripts/sparse-shim.sh as CMD sees it)
# forced on, and the summary says so.
build() {
	local kernel=$1 rel=$2 shim=$3 flags k_status=0 moddir note=
	shift 3
	moddir=${NPU_MODDIR:?}
	for flags in W=1 C=1 shim; do
		if [ "$flags" = shim ]; then
			grep -q -E "$sparse_off" "$log" || break
			note=" (sparse through scripts/sparse-shim.sh: kbuild finds Debian's too old)"
			echo "== $kernel ($rel): make modules C=1 with scripts/sparse-shim.sh"
			set -- "$@" KBUILD_CHECKSRC=1 CHECK="$shim"
			flags=
		else
			echo "== $kernel ($rel): make modules $flags"
		fi
		clean_objects "$moddir"
		if ! "$@" $flags modules >"$log" 2>&1; then
			cat "$log"
			k_status=1
			continue
		fi
		# A C=1 round kbuild turned off is judged by its shim round.
		if grep -v -E -e "$progress" -e "$sparse_off" "$log" | grep -E '.'; then
			k_status=1
		fi
	done
	[ "$k_status" -eq 0 ] || status=1
	summary+=("$kernel ($rel): W=1, sparse: $([ "$k_status" -eq 0 ] && echo clean || echo findings)$note")
}

for kernel in "$@"; do
	if [ "$kernel" = host ]; then
		kver=${KVER:-$("$top/scripts/kver.sh")}
		kdir=${KDIR:-/usr/src/linux-headers-$kver}
		NPU_MODDIR=$top/driver build host "$kver" "$top/scripts/sparse-shim.sh" make -s -C "$kdir" M="$top"
		continue
	fi
	if ! settings=$("$top/scripts/kernel-root.sh" ensure "$kernel"); then
		echo "check-kernel-style: the $kernel root could not be made" >&2
		status=1
		summary+=("$kernel: no root")
		continue
	fi
	rel=$(sed -n 's/^NPU_KVER=//p' <<<"$settings")
	kdir=$(sed -n 's/^NPU_KROOT_KDIR=//p' <<<"$settings")
	mod=$top/build/kmatrix/$kernel
	rm -rf "$mod"
	"$top/scripts/copy-module-src.sh" "$mod"
	NPU_MODDIR=$mod/driver build "$kernel" "$rel" /src/scripts/sparse-shim.sh \
		"$top/scripts/kernel-root.sh" run "$kernel" make -s -C "$kdir" M="/src/build/kmatrix/$kernel"
done

printf '%s\n' "${summary[@]}"
if [ "$status" -eq 0 ]; then
	echo "check-kernel-style: clean"
else
	echo "check-kernel-style: findings above" >&2
fi
exit "$status"
