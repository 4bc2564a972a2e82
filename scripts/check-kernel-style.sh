#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Quality gates of the kernel driver: checkpatch --strict on driver/ and
# uapi/, then a clean rebuild with W=1 and one with sparse (C=1). Any
# finding makes the script exit non-zero.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
kver=${KVER:-$("$top/scripts/kver.sh")}
kdir=${KDIR:-/usr/src/linux-headers-$kver}
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
checkpatch=${CHECKPATCH:-$cache/kernel-tools/scripts/checkpatch.pl}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

if [ ! -x "$checkpatch" ] && [ ! -f "$checkpatch" ]; then
	echo "check-kernel-style: $checkpatch missing; run scripts/fetch-kernel-tools.sh" >&2
	exit 2
fi

echo "== checkpatch --strict"
# SPDX_LICENSE_TAG and FILE_PATH_CHANGES misfire outside a kernel tree.
# uapi headers cannot use BIT(): it does not exist for userspace.
sources=$(ls "$top"/driver/*.[ch] | grep -v '\.mod\.c$')
if ! perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES -f $sources >"$log" 2>&1; then
	status=1
fi
if ! perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,BIT_MACRO \
	-f "$top"/uapi/*.h >>"$log" 2>&1; then
	status=1
fi
# checkpatch exits 0 on CHECKs; treat any reported line as a finding.
if grep -E ':[0-9]+: (ERROR|WARNING|CHECK):' "$log"; then
	status=1
fi

for flags in W=1 C=1; do
	echo "== make modules $flags"
	# Not `make clean M=$top`: kbuild's clean deletes every *.s in the
	# tree, and examples/ keeps NPU assembly sources there.
	find "$top/driver" -maxdepth 1 \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' \) -type f -delete
	if ! make -s -C "$kdir" M="$top" $flags modules >"$log" 2>&1; then
		cat "$log"
		status=1
		continue
	fi
	# Everything kbuild prints besides its own progress is a finding.
	if grep -v -E '^(Skipping BTF generation|make\[[0-9]+\]: (Entering|Leaving) directory)' "$log" \
		| grep -E '.'; then
		status=1
	fi
done

if [ "$status" -eq 0 ]; then
	echo "check-kernel-style: clean"
else
	echo "check-kernel-style: findings above" >&2
fi
exit "$status"
