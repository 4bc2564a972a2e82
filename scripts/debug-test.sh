#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The debug-kernel run (`make debug-test`): builds the debug kernel if it is
# not cached (scripts/debug-kernel.sh), builds npu.ko against it in
# build/debug-module/ (a copy of driver/ and uapi/, so driver/npu.ko, built
# for the stock kernel, is left alone), and boots the whole guest suite with
# them. The suite includes fail_nth_test, which only runs under this kernel;
# the VM loop fails on any KASAN, UBSAN, lockdep, debug-objects or warning
# line, and on kmemleak suspects after the last test.
#
#   debug-test.sh             build what is missing, run the suite
#   debug-test.sh --if-cached run only if the debug kernel is already built
#                             and current; otherwise say so and exit 0
#
# Environment: NPU_VM_TESTS etc. as for tests/vm/vm.sh. Guest tests run
# several times slower under KASAN and lockdep, so the per-test limit is
# raised (NPU_TEST_TIMEOUT, default 1800 s here).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

die() { echo "debug-test: error: $*" >&2; exit 1; }
log() { echo "debug-test: $*" >&2; }

start=$(date +%s)
case ${1:-} in
--if-cached)
	if ! settings=$("$here/debug-kernel.sh" --check 2>/dev/null); then
		echo "debug-test: SKIPPED: the debug kernel is not cached (run 'make debug-test' once)"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
	;;
"")
	settings=$("$here/debug-kernel.sh") || die "building the debug kernel failed"
	;;
*)
	echo "usage: $0 [--if-cached]" >&2
	exit 2
	;;
esac
while IFS='=' read -r name value; do
	case $name in
	NPU_KVER | NPU_VM_KERNEL | NPU_VM_MODROOT | NPU_DEBUG_KDIR) declare "$name=$value" ;;
	esac
done <<<"$settings"
[ -n "${NPU_DEBUG_KDIR:-}" ] || die "scripts/debug-kernel.sh printed no settings"
kernel_ready=$(date +%s)

# npu.ko for the debug kernel, from a private copy of the sources.
mod=$top/build/debug-module
mkdir -p "$mod/driver" "$mod/uapi"
cp -p "$top/Kbuild" "$mod/"
cp -p "$top"/driver/Kbuild "$top"/driver/*.[ch] "$mod/driver/"
cp -p "$top"/uapi/*.h "$mod/uapi/"
log "building npu.ko for $NPU_KVER in $mod"
nice -n 19 make -s -C "$NPU_DEBUG_KDIR" M="$mod" -j"${NPU_JOBS:-2}" modules >&2 ||
	die "building npu.ko against the debug kernel failed"

# The userspace side (and driver/npu.ko for the stock kernel, as usual).
env -u NPU_KVER -u KVER make -C "$top" --no-print-directory -s all >&2 || die "'make all' failed"

log "booting the guest suite on $NPU_KVER"
# NPU_VM_KERNEL set: vm.sh applies NPU_VM_EXPECTED_SKIPS_DEBUG (empty), so
# any skip on this kernel is a failure.
status=0
suite_log=$top/build/debug-test.log
KVER=$NPU_KVER NPU_KVER=$NPU_KVER NPU_VM_KERNEL=$NPU_VM_KERNEL NPU_VM_MODROOT=$NPU_VM_MODROOT \
	NPU_VM_MODULE=$mod/driver/npu.ko NPU_VM_SKIP_BUILD=1 \
	NPU_TEST_TIMEOUT=${NPU_TEST_TIMEOUT:-1800} NPU_VM_MAX_TIMEOUT=${NPU_VM_MAX_TIMEOUT:-14400} \
	"$top/tests/vm/vm.sh" test | tee "$suite_log" || status=${PIPESTATUS[0]}
end=$(date +%s)
echo "debug-test: kernel $((kernel_ready - start))s, module and suite $((end - kernel_ready))s," \
	"total $((end - start))s; suite status $status"
# The suite's count again, last, for .ci/run; one failure if it has none.
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$suite_log" | tail -n 1) || true
if [ -z "$line" ]; then
	line="0 passed, 1 failed, 0 skipped"
	[ "$status" -ne 0 ] || status=1
fi
echo "$line"
exit "$status"
