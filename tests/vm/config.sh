# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# Settings of the test VM, in one place. Sourced by tests/vm/*.sh (POSIX sh).
# Every value can be overridden from the environment.

# The emulated NPUs. One "-device" argument per word; later a device can move
# behind a hot-pluggable root port, e.g.
#   "-device pcie-root-port,id=rp1,chassis=1 -device npu,bus=rp1".
# faults=on only enables the fault-injection switches (nothing fires until a
# test arms one; docs/hardware.md section 13), for faults_test.
: "${NPU_VM_DEVICES=-device npu,faults=on -device npu,faults=on}"

: "${NPU_VM_MEM:=2G}"
: "${NPU_VM_SMP:=2}"

# Seconds one guest test may run before it is killed (and counted as failed).
# Generous: TCG on two shared cores is slow, and the slowest test takes ~100 s.
: "${NPU_TEST_TIMEOUT:=180}"
# Seconds allowed for booting and shutting down, on top of the tests' time.
: "${NPU_VM_BOOT_TIMEOUT:=300}"
# Upper bound for one `vm.sh test` boot, whatever the number of tests.
: "${NPU_VM_MAX_TIMEOUT:=3600}"
# Upper bound for `vm.sh run` and `vm.sh demo` (the command's own time included).
: "${NPU_VM_RUN_TIMEOUT:=900}"

# Skip policy. In the test VM every feature the project ships is present:
# two cards with faults=on, vgem, npuctl and the tools, the module's
# parameters, the ONNX cases. So a test case that skips counts as a failure
# unless it is listed here, for the kernel being booted, as one line
# "TEST CASE WHY" (CASE as kselftest names it on its RUN line); listed skips
# are counted as skipped. A test binary whose every case skipped is reported
# SKIP, never PASS.
# Debian's stock kernel has no fault injection (failslab, fail_function):
# fail_nth_test runs under make debug-test instead.
: "${NPU_VM_EXPECTED_SKIPS_STOCK=fail_nth_test fail_nth.ioctls no failslab/fail_function in the stock kernel
fail_nth_test fail_nth.probe no failslab/fail_function in the stock kernel}"
# The list is chosen by NPU_VM_KERNEL_KIND: "stock" (default) for Debian's own
# kernels (6.1, 6.12, backports), "debug" for the debug kernel of make
# debug-test, which has everything the tests need: nothing may skip there.
: "${NPU_VM_EXPECTED_SKIPS_DEBUG=}"

# Stock modules of the Debian kernel put into the initramfs (with their
# dependencies), loaded on demand by the tests with modprobe.
: "${NPU_VM_STOCK_MODULES:=vgem}"

# Directories (relative to the checkout) whose executables are installed in
# the guest's /usr/bin, with the shared libraries they need: HAL tools, demos.
: "${NPU_VM_TOOL_DIRS:=build/bin}"

# Data files for the guest: SRC=DEST pairs; every file in the directory SRC
# (relative to the checkout) is copied to DEST in the guest. build/onnx holds
# the converted ONNX operator test cases (make onnx, docs/onnx.md).
: "${NPU_VM_FILES=build/programs=/usr/share/npu/programs build/onnx=/usr/share/npu/onnx}"

# Debugging aids, unset by default:
#   NPU_VM_TESTS="dma_test isa_test"  run only these guest tests
#   NPU_VM_TESTS_DIR=dir              take the *_test programs from dir instead
#                                     of build/guest
#   NPU_VM_MODULE=path/npu.ko         load this module instead of driver/npu.ko
#   NPU_VM_TIMEOUT=seconds            overall limit of one boot
#   NPU_QEMU=path                     use this QEMU instead of building one
#   NPU_VM_QMP=path                   QMP socket at path (tests/reliability/)
# Another kernel (scripts/kernel-test.sh sets these for the debug kernel and
# for the kernel matrix's release roots):
#   NPU_KVER=release                  its release (uname -r)
#   NPU_VM_KERNEL=path/bzImage        its image instead of /boot/vmlinuz-$KVER
#   NPU_VM_MODROOT=dir                its modules are in dir/lib/modules/$KVER
#                                     (INSTALL_MOD_PATH), not /lib/modules
#   NPU_VM_KERNEL_KIND=stock|debug    which expected-skip list applies (above)

# Extra kernel command line arguments (e.g. "npu.debug=1").
: "${NPU_VM_APPEND:=}"

# What `make demo` runs after listing the device nodes, PCI functions and
# sysfs: every command of NPU_DEMO_COMMANDS (one per line) whose program
# exists in the guest, then the first program of NPU_DEMO_PROGRAMS that
# exists. Put the real tools first once they exist.
: "${NPU_DEMO_COMMANDS:=npuctl info
npuctl list}"
: "${NPU_DEMO_PROGRAMS:=/usr/bin/npu-hal-example /usr/bin/npu-demo /tests/dma_test}"
