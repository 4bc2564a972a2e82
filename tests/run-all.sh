#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `make test`: builds everything (QEMU with the NPU model, the module, guest
# tests, userspace), runs the host unit tests, then the guest tests in the VM.
# The last line is always "N passed, N failed, N skipped" (test cases of
# every suite added up; a build step or a suite that could not run counts as
# one failure; what counts as a skip and not a failure: README.md, "Skips").
# Exits 1 on any failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
mkdir -p build
start=$(date +%s)
pass=0 fail=0 skip=0
failed_steps=()
timings=()

section() { printf '\n==== %s\n' "$*"; }

# Runs a build step; a failure counts once and is named in the summary.
build_step() {
	local what=$1
	shift
	section "build: $what"
	if ! "$@"; then
		echo "FAIL build: $what ($*)"
		fail=$((fail + 1))
		failed_steps+=("build $what")
		return 1
	fi
}

# Runs a suite that ends with "N passed, N failed" or "N passed, N failed,
# N skipped", adds its counts and says how long it took.
suite() {
	local what=$1 log=build/$2.log t0
	shift 2
	section "$what"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]} last p f s=0
	last=$(tail -n 1 "$log")
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
	else
		echo "FAIL $what: did not report its results (exit status $rc)"
		p=0 f=1
	fi
	# A suite that fails must never be counted as all-passing.
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	timings+=("$what: $(($(date +%s) - t0))s")
	[ "$f" -eq 0 ] || failed_steps+=("$what")
}

built=1
qemu=
cache=${NPU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/npu-stack}
mkdir -p "$cache"
# One ninja at a time in the shared build tree.
build_qemu() {
	qemu=$(flock "$cache/.build-qemu.lock" hw/qemu/build-qemu.sh | tail -n 1) && echo "$qemu"
}
build_step "QEMU with the NPU model" build_qemu || built=0
build_step "module, guest tests, userspace (make all)" make --no-print-directory -j2 all || built=0

# one_result NAME CMD...: a command whose exit status is one test result.
one_result() {
	local name=$1
	shift
	echo 1..1
	if "$@"; then echo "ok 1 $name"; else echo "not ok 1 $name"; fi
}
export -f one_result	# tests/tap-count.sh (bash) runs it

# checkpatch --strict, then W=1 and sparse on every kernel of the matrix.
suite "driver style: checkpatch, W=1 and sparse on each kernel (make module-check)" module-check \
	tests/tap-count.sh one_result "make module-check" scripts/check-kernel-style.sh
suite "host unit tests (tests/host)" host-tests tests/host/run.sh
suite "program container fuzzing (tests/fuzz)" fuzz tests/tap-count.sh tests/fuzz/run.sh
if [ $built = 1 ]; then
	suite "libnpuhal packaging (make install, pkg-config)" install \
		tests/tap-count.sh tests/install-check.sh
	suite "libnpuhal exports what hal/libnpuhal.map lists (make symbol-check)" symbols \
		tests/tap-count.sh one_result "make symbol-check" make --no-print-directory symbol-check
	suite "Debian packages build, lintian has no error (make deb)" deb \
		tests/tap-count.sh one_result "make deb" make --no-print-directory deb
	suite "device model qtests (tests/qemu, model in hw/qemu)" qtests \
		tests/tap-count.sh python3 tests/qemu/npu_qtest.py "$qemu"
fi

if [ $built = 1 ]; then
	suite "guest tests in the VM (tests/guest)" vm-tests \
		env NPU_QEMU="$qemu" NPU_VM_SKIP_BUILD=1 tests/vm/vm.sh test
	suite "hot-unplug, AER, FLR, link down over QMP (tests/reliability)" reliability \
		env NPU_QEMU="$qemu" NPU_VM_SKIP_BUILD=1 tests/reliability/qmp_reliability.py
	# The VM loop's own checks: throwaway tests that fail, crash, hang, skip,
	# break their plan, panic the guest, and a QEMU failing at exit must each
	# be reported (make vm-selftest).
	suite "the VM loop reports every kind of failure (make vm-selftest)" vm-selftest \
		env NPU_QEMU="$qemu" NPU_VM_SKIP_BUILD=1 tests/vm/selftest.sh
	# The kernel matrix (README.md, "Kernels"): the same guest suite on
	# Debian 13's kernel and on the newest trixie-backports kernel, npu.ko
	# built in each release's root. NPU_KERNELS picks them ("" for none).
	for kernel in ${NPU_KERNELS-trixie backports}; do
		suite "guest tests on the $kernel kernel (scripts/kernel-test.sh $kernel)" vm-tests-$kernel \
			env NPU_QEMU="$qemu" scripts/kernel-test.sh "$kernel"
	done
else
	section "guest tests in the VM"
	echo "FAIL not run: the build failed"
	fail=$((fail + 1))
	failed_steps+=("VM suite (not run)")
fi

section "summary ($(($(date +%s) - start))s)"
printf '%s\n' "${timings[@]}"
if [ ${#failed_steps[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${failed_steps[@]}"
	echo "logs: build/host-tests.log, build/vm-tests.log, build/vm/last/"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
