#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Self-test of the VM loop (make vm-selftest): boots the VM with throwaway
# guest tests that pass, fail, crash, hang, print nothing, make the kernel
# print a stack trace, or panic it, and checks that vm.sh reports each case
# with a non-zero exit status and a clear message. About a minute.
# Uses the real module and QEMU (built as for make vm-test).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Build once (module, tests, QEMU), then reuse for every boot.
if [ -z "${NPU_VM_SKIP_BUILD:-}" ]; then
	make -C "$top" --no-print-directory -s all || { echo "selftest: make all failed"; exit 1; }
fi
export NPU_VM_SKIP_BUILD=1
if [ -z "${NPU_QEMU:-}" ]; then
	cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
	mkdir -p "$cache"
	NPU_QEMU=$(flock "$cache/.build-qemu.lock" "$top/tests/qemu/build-qemu.sh" | tail -n 1) ||
		{ echo "selftest: building QEMU failed"; exit 1; }
fi
export NPU_QEMU

pass=0 fail=0
# check NAME EXPECTED_STATUS PATTERN -- vm.sh arguments (env set by caller)
check() {
	local name=$1 want=$2 pattern=$3 out rc
	shift 4
	out=$("$here/vm.sh" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		echo "not ok - $name: exit status $rc (want $want), looked for /$pattern/; output:"
		tail -n 25 <<<"$out" | sed 's/^/    | /'
		fail=$((fail + 1))
	fi
}

# Throwaway guest tests: busybox shell scripts printing TAP.
mk() { printf '#!/bin/sh\n%s\n' "$2" >"$work/$1" && chmod +x "$work/$1"; }
mkdir -p "$work/mixed" "$work/klog" "$work/panic" "$work/hang" "$work/none"
mk mixed/a_pass_test 'echo 1..3; echo ok 1 a; echo ok 2 b; echo "ok 3 c # SKIP not here"'
mk mixed/b_fail_test 'echo 1..2; echo ok 1 a; echo not ok 2 b; exit 1'
mk mixed/c_crash_test 'echo 1..1; kill -SEGV $$'
mk mixed/d_hang_test 'echo 1..1; sleep 1000'
mk mixed/e_silent_test 'echo nothing here'
mk klog/a_trace_test 'echo 1..1; echo l >/proc/sysrq-trigger; sleep 1; echo ok 1 a'
mk panic/a_panic_test 'echo 1..1; echo c >/proc/sysrq-trigger'
mk hang/a_hang_test 'echo 1..1; sleep 1000'

export NPU_TEST_TIMEOUT=5
NPU_VM_TESTS_DIR=$work/mixed check "counts failed, crashed, hung and silent tests" 1 \
	'^3 passed, 4 failed$' -- test
NPU_VM_TESTS_DIR=$work/mixed check "names the timeout" 1 \
	'FAIL d_hang_test: .*killed after 5s' -- test
NPU_VM_TESTS_DIR=$work/klog check "a stack trace in the kernel log fails the test" 1 \
	'FAIL a_trace_test: .*kernel log' -- test
NPU_VM_TESTS_DIR=$work/panic check "a guest panic fails" 1 \
	'the guest kernel panicked' -- test
NPU_VM_TESTS_DIR=$work/hang NPU_TEST_TIMEOUT=600 NPU_VM_TIMEOUT=20 \
	check "the VM time limit stops a hung run" 1 'exceeded its time limit of 20s' -- test
NPU_VM_TESTS_DIR=$work/none check "no tests is a failure" 1 'FAIL no tests found' -- test
NPU_VM_TESTS_DIR=$work/mixed NPU_VM_MODULE=$work/none/npu.ko \
	check "a module that does not load is a failure" 1 'FAIL module npu failed to load' -- test
check "run returns the command's exit status" 7 'hello from the guest' -- run 'echo hello from the guest; exit 7'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
