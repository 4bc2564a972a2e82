#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Self-test of the VM loop (make vm-selftest): boots the VM with throwaway
# guest tests that pass, fail, crash, hang, print nothing, skip, break their
# TAP plan, vanish before they run, make the kernel print a stack trace, or
# panic it, and with a QEMU that fails at exit, and checks that vm.sh reports
# each case with a non-zero exit status and a clear message. About 2 minutes
# (10 boots) on two shared cores.
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
NPU_QEMU=$("$top/hw/qemu/qemu-path.sh") || { echo "selftest: building QEMU failed"; exit 1; }
export NPU_QEMU

pass=0 fail=0
out='' rc=0
# boot -- vm.sh arguments (env set by the caller): one VM run, kept in
# $out and $rc for the expect calls that follow.
boot() {
	shift
	out=$("$here/vm.sh" "$@" 2>&1)
	rc=$?
}
# expect NAME EXPECTED_STATUS PATTERN: checks the last boot.
expect() {
	local name=$1 want=$2 pattern=$3
	if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		echo "not ok - $name: exit status $rc (want $want), looked for /$pattern/; output:"
		tail -n 25 <<<"$out" | sed 's/^/    | /'
		fail=$((fail + 1))
	fi
}
# check NAME EXPECTED_STATUS PATTERN -- vm.sh arguments: one boot, one check.
check() {
	local name=$1 want=$2 pattern=$3
	shift 3
	boot "$@"
	expect "$name" "$want" "$pattern"
}

# Throwaway guest tests: busybox shell scripts printing TAP.
mk() { printf '#!/bin/sh\n%s\n' "$2" >"$work/$1" && chmod +x "$work/$1"; }
mkdir -p "$work/mixed" "$work/klog" "$work/panic" "$work/hang" "$work/none" "$work/tap" "$work/one"
mk mixed/a_pass_test 'echo 1..3; echo ok 1 a; echo ok 2 b; echo "ok 3 c # SKIP not here"'
mk mixed/b_fail_test 'echo 1..2; echo ok 1 a; echo not ok 2 b; exit 1'
mk mixed/c_crash_test 'echo 1..1; kill -SEGV $$'
mk mixed/d_hang_test 'echo 1..1; sleep 1000'
mk mixed/e_silent_test 'echo nothing here'
mk klog/a_trace_test 'echo 1..1; echo l >/proc/sysrq-trigger; sleep 1; echo ok 1 a'
mk panic/a_panic_test 'echo 1..1; echo c >/proc/sysrq-trigger'
mk hang/a_hang_test 'echo 1..1; sleep 1000'
# Skips, TAP plans, a test program that never runs (e_rm_test deletes
# f_gone_test from the guest's /tests before /init gets to it).
mk tap/a_allskip_test 'echo 1..2; echo "ok 1 a # SKIP x"; echo "ok 2 b # SKIP y"'
mk tap/b_unexpected_test 'echo 1..2; echo ok 1 a; echo "ok 2 b # SKIP feature missing"'
mk tap/c_short_test 'echo 1..3; echo ok 1 a; echo ok 2 b'
mk tap/d_noplan_test 'echo ok 1 a'
mk tap/e_rm_test 'echo 1..1; rm -f /tests/f_gone_test; echo ok 1 a'
mk tap/f_gone_test 'echo 1..1; echo ok 1 a'
cp "$work/mixed/a_pass_test" "$work/one/"
# QEMU that fails once the guest is done: it exits 1, or prints an abort.
real_qemu=$NPU_QEMU
cat >"$work/qemu-exit1" <<EOF
#!/bin/sh
"$real_qemu" "\$@"
exit 1
EOF
cat >"$work/qemu-abort" <<EOF
#!/bin/sh
"$real_qemu" "\$@" || exit
echo "qemu-system-x86_64: npu.c:1: npu_exit: Assertion '0' failed." >&2
EOF
chmod +x "$work/qemu-exit1" "$work/qemu-abort"

# The skips these throwaway tests may have; any other skip is a failure.
export NPU_VM_EXPECTED_SKIPS_STOCK='a_pass_test c selftest: an expected skip
a_allskip_test a selftest: an expected skip
a_allskip_test b selftest: an expected skip'
export NPU_VM_EXPECTED_SKIPS_DEBUG=

export NPU_TEST_TIMEOUT=5
NPU_VM_TESTS_DIR=$work/mixed boot -- test
expect "counts failed, crashed, hung and silent tests" 1 '^3 passed, 4 failed, 1 skipped$'
expect "names the timeout" 1 'FAIL d_hang_test: .*killed after 5s'
# With a QEMU that exits 1 once the guest is done, in the same boot.
NPU_VM_TESTS_DIR=$work/tap NPU_QEMU=$work/qemu-exit1 boot -- test
expect "counts skips, plans, test programs and QEMU's status" 1 '^5 passed, 5 failed, 2 skipped$'
expect "a test whose every case skipped is SKIP, not PASS" 1 '^SKIP a_allskip_test: 0 passed, 0 failed, 2 skipped'
expect "an unlisted skip fails" 1 'FAIL b_unexpected_test: .*1 unexpected skip'
expect "fewer results than the TAP plan fail" 1 'FAIL c_short_test: .*planned 3 test cases but reported 2'
expect "no TAP plan fails" 1 'FAIL d_noplan_test: .*no TAP plan line'
expect "a test program that never ran fails" 1 'FAIL VM: 5 test programs ran, but the initramfs holds 6'
expect "QEMU exiting non-zero after DONE fails" 1 'FAIL VM: QEMU exited with status 1 after the guest finished'
NPU_VM_TESTS_DIR=$work/one NPU_VM_TESTS="a_pass_test z_missing_test" \
	check "a test named in NPU_VM_TESTS that is missing fails" 1 'no test program .*z_missing_test' -- test
# NPU_VM_KERNEL_KIND=debug (make debug-test): its list is empty, so the same
# skip now fails.
NPU_VM_TESTS_DIR=$work/one NPU_QEMU=$work/qemu-abort NPU_VM_KERNEL_KIND=debug \
	boot -- test
expect "an abort line in qemu.log after DONE fails" 1 'FAIL VM: QEMU printed to .*Assertion'
expect "the debug kernel's skip list applies under NPU_VM_KERNEL_KIND=debug" 1 'unexpected skip c: not here'
expect "...and the results are still counted" 1 '^2 passed, 2 failed, 0 skipped$'
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
NPU_QEMU=$work/qemu-exit1 check "run fails if QEMU fails after the command" 1 \
	'QEMU exited with status 1 after the guest finished' -- run 'true'

echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
