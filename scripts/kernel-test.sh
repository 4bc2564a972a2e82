#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The guest suite on a kernel other than the host's stock one:
#
#   kernel-test.sh debug      the debug kernel (`make debug-test`): KASAN,
#                             lockdep, kmemleak, fault injection, built once
#                             by scripts/debug-kernel.sh; fail_nth_test runs
#                             only here
#   kernel-test.sh trixie     Debian 13's kernel (6.12)     } from the cached roots
#   kernel-test.sh backports  the newest trixie-backports   } of scripts/kernel-root.sh
#   kernel-test.sh NAME --if-cached   run only if that kernel is already built or
#                             its root made; otherwise say so and exit 0
#
# It builds npu.ko for that kernel in build/kmodule/NAME/ from a copy of the
# module's sources (so driver/npu.ko, built for the stock kernel, is left
# alone): against the debug kernel's build tree with the host's compiler, or
# inside the release's root with that release's compiler and headers. Then it
# boots the whole guest suite with that kernel, its stock modules and that
# npu.ko (tests/vm/vm.sh test; NPU_VM_TESTS etc. select tests as there). The
# last line is the suite's "N passed, N failed, N skipped".
#
# The VM loop fails on any KASAN, UBSAN, lockdep, debug-objects or warning
# line, and on kmemleak suspects after the last test. Guest tests run several
# times slower under KASAN and lockdep, so the per-test limit is raised there
# (NPU_TEST_TIMEOUT, default 1800 s).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

die() { echo "kernel-test: error: $*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
log() { echo "kernel-test: $*" >&2; }

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 debug|trixie|backports [--if-cached]" >&2; exit 2; }
name=$1 if_cached=
case ${2:-} in
--if-cached) if_cached=1 ;;
"") ;;
*) echo "usage: $0 debug|trixie|backports [--if-cached]" >&2; exit 2 ;;
esac

start=$(date +%s)
case $name in
debug)
	kind=debug
	if [ -n "$if_cached" ]; then
		settings=$("$here/debug-kernel.sh" --check 2>/dev/null) || {
			echo "kernel-test: SKIPPED: the debug kernel is not cached (run 'make debug-test' once)"
			exit 0
		}
	else
		settings=$("$here/debug-kernel.sh") || die "building the debug kernel failed"
	fi
	;;
trixie | backports)
	kind=stock
	root=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}/kernel-roots/$name
	if [ -n "$if_cached" ] && [ ! -d "$root" ]; then
		echo "kernel-test: SKIPPED: no $name root yet (run 'scripts/kernel-root.sh ensure $name')"
		exit 0
	fi
	settings=$("$here/kernel-root.sh" ensure "$name") || die "making the $name root failed"
	;;
*) die "unknown kernel '$name' (debug, trixie or backports)" ;;
esac
NPU_KVER= NPU_VM_KERNEL= NPU_VM_MODROOT= NPU_DEBUG_KDIR= NPU_KROOT_KDIR=
while IFS='=' read -r var value; do
	case $var in
	NPU_KVER | NPU_VM_KERNEL | NPU_VM_MODROOT | NPU_DEBUG_KDIR | NPU_KROOT_KDIR) declare "$var=$value" ;;
	esac
done <<<"$settings"
[ -n "$NPU_KVER" ] && [ -n "$NPU_VM_KERNEL" ] || die "no settings for the $name kernel"
kernel_ready=$(date +%s)

# npu.ko for that kernel, from a private copy of the module's sources.
mod=$top/build/kmodule/$name
rm -rf "$mod"
"$here/copy-module-src.sh" "$mod"
log "building npu.ko for $NPU_KVER in $mod"
if [ "$name" = debug ]; then
	nice -n 19 make -s -C "$NPU_DEBUG_KDIR" M="$mod" -j"${NPU_JOBS:-2}" modules >&2 ||
		die "building npu.ko against the debug kernel failed"
else
	# Inside the root the checkout is /src.
	nice -n 19 "$here/kernel-root.sh" run "$name" make -s -C "$NPU_KROOT_KDIR" \
		M="/src/${mod#"$top"/}" -j"${NPU_JOBS:-2}" modules >&2 ||
		die "building npu.ko against $NPU_KVER (in the $name root) failed"
fi

# The userspace side (and driver/npu.ko for the stock kernel, as usual).
env -u NPU_KVER -u KVER make -C "$top" --no-print-directory -s all >&2 || die "'make all' failed"

log "booting the guest suite on $NPU_KVER"
timeouts=()
[ "$kind" != debug ] ||
	timeouts=(NPU_TEST_TIMEOUT="${NPU_TEST_TIMEOUT:-1800}" NPU_VM_MAX_TIMEOUT="${NPU_VM_MAX_TIMEOUT:-14400}")
status=0
suite_log=$top/build/kernel-test-$name.log
env KVER="$NPU_KVER" NPU_KVER="$NPU_KVER" NPU_VM_KERNEL="$NPU_VM_KERNEL" \
	NPU_VM_MODROOT="$NPU_VM_MODROOT" NPU_VM_KERNEL_KIND="$kind" \
	NPU_VM_MODULE="$mod/driver/npu.ko" NPU_VM_SKIP_BUILD=1 "${timeouts[@]}" \
	"$top/tests/vm/vm.sh" test | tee "$suite_log" || status=${PIPESTATUS[0]}
end=$(date +%s)
echo "kernel-test: $name kernel $((kernel_ready - start))s, module and suite $((end - kernel_ready))s," \
	"total $((end - start))s; suite status $status"
# The suite's count again, last, for .ci/run; one failure if it has none.
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$suite_log" | tail -n 1) || true
if [ -z "$line" ]; then
	line="0 passed, 1 failed, 0 skipped"
	[ "$status" -ne 0 ] || status=1
fi
echo "$line"
exit "$status"
