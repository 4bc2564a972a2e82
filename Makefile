# SPDX-License-Identifier: GPL-2.0
#
# Top-level build. `make help` lists the targets. Build outputs go to build/
# (userspace) and next to the sources (the kernel module, as kbuild does).

# Expanded where it is used, not when make reads this file: `make demo` runs
# setup, which installs the kernel, after this line was read. An empty KVER
# in the environment (an outer make that ran before setup) is recomputed too.
ifeq ($(strip $(KVER)),)
KVER = $(shell scripts/kver.sh 2>/dev/null)
endif
KDIR ?= /usr/src/linux-headers-$(KVER)
NPU_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/npu-stack
export NPU_CACHE KVER

BUILD := $(CURDIR)/build
# kselftest_harness.h comes from Debian's linux-source package, unpacked into the cache.
KSELFTEST_DIR := $(NPU_CACHE)/kselftest

.PHONY: all help setup module module-check qemu guest-tests host-test test vm-test \
	vm-shell vm-run vm-selftest demo clean debug-kernel debug-test fresh-check \
	deb version-check symbol-check system-test system-run

all: module hal tools examples guest-tests

# Header dependencies: make rebuilds whatever includes an edited header.
# Objects compile with -MMD -MP (a .d file next to each .o); a program built
# from several .c files in one command gets its .d from $(call depfile,CFLAGS)
# ($(CC) -MM over the .c prerequisites: -MMD there would keep only the last
# source's list). -MP adds an empty rule per header, so a deleted or moved
# header does not stop the build.
DEPFLAGS := -MMD -MP
depfile = $(CC) $(1) -MM -MP -MT $@ $(filter %.c,$^) > $@.d.tmp && mv $@.d.tmp $@.d

include isa/isa.mk
include hal/hal.mk
include tools/tools.mk

.PHONY: install install-model-tools install-programs package-build
install: install-hal install-tools

# What the Debian packages ship besides `make install` (debian/rules): the
# ONNX and Fashion-MNIST tools, and the example programs (examples/*.s and
# the trained Fashion-MNIST MLP with its 1000-image subset).
DATADIR ?= $(PREFIX)/share
package-build: hal tools $(BUILD)/bin/npu-onnx $(BUILD)/bin/npu-onnx-run $(FMNIST_TRAIN) \
	$(PROGRAMS) $(FMNIST_OUTPUTS) $(BUILD)/examples/hal_example.c

install-model-tools: $(BUILD)/bin/npu-onnx $(BUILD)/bin/npu-onnx-run $(FMNIST_TRAIN)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $^ $(DESTDIR)$(BINDIR)/

install-programs: $(PROGRAMS) $(FMNIST_OUTPUTS)
	install -d $(DESTDIR)$(DATADIR)/npu/programs
	install -m 644 $(PROGRAMS) $(BUILD)/programs/fmnist-mlp.npuprog \
		$(BUILD)/programs/fmnist-test-$(FMNIST_SUBSET).bin $(DESTDIR)$(DATADIR)/npu/programs/

help:
	@echo "make setup        install packages (Debian 12), fetch sources"
	@echo "make demo         boot the emulated NPU, load the module, list devices, run a program"
	@echo "make test         run all tests (host unit tests and the VM suite)"
	@echo "make vm-shell     boot the test VM interactively"
	@echo "make vm-run CMD=  boot the test VM, run CMD as root, return its exit status"
	@echo "make module       build driver/npu.ko against the installed Debian kernel headers"
	@echo "make module-check checkpatch --strict, sparse and W=1 on the driver, for 6.1, 6.12 and backports"
	@echo "make qemu         build QEMU with the NPU model (cached in $(NPU_CACHE))"
	@echo "make debug-test   the guest suite and a fail-nth sweep on a KASAN/lockdep/kmemleak kernel"
	@echo "make fresh-check  make demo, then make test, in a fresh Debian 12 root (mmdebstrap)"
	@echo "make deb          the Debian packages (npu-dkms, libnpuhal1, libnpuhal-dev, npu-tools) in build/deb/"
	@echo "make system-test  install the packages in a real Debian 13 VM (systemd, udev, DKMS) and check it"
	@echo "make system-run CMD=  boot that installed system, run CMD as root, return its exit status"

setup:
	scripts/setup.sh
	scripts/fetch-kernel-tools.sh

# ---- kernel module -------------------------------------------------------
module:
	@test -n "$(KVER)" || { scripts/kver.sh; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# NPU_CHECK_KERNELS: some of host, trixie, backports (default: all three).
module-check:
	scripts/check-kernel-style.sh $(NPU_CHECK_KERNELS)

# ---- QEMU with the device model -------------------------------------------
qemu:
	hw/qemu/build-qemu.sh

# ---- guest test programs (static, they run from the initramfs) ------------
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -pthread \
	-I$(CURDIR)/uapi $(ISA_INCLUDES) $(ONNX_INCLUDES) -I$(CURDIR)/tests/guest \
	-I$(CURDIR)/hal/include -isystem $(KSELFTEST_DIR) \
	$(shell pkg-config --cflags libdrm)
# Every test links the same way; static linking only pulls in what a test uses.
GUEST_LDLIBS := -ldrm
GUEST_SRCS := $(wildcard tests/guest/*_test.c)
GUEST_BINS := $(patsubst tests/guest/%.c,$(BUILD)/guest/%,$(GUEST_SRCS))
GUEST_LIB := $(filter-out $(GUEST_SRCS),$(wildcard tests/guest/*.c))

# The in-guest half of the benchmarks (bench/README.md): a static program in
# build/bin/, which the VM puts in /usr/bin; not a test, so /init never runs it.
GUEST_BENCH := $(BUILD)/bin/npu-guest-bench

guest-tests: $(GUEST_BINS) $(GUEST_BENCH)

$(GUEST_BENCH): bench/guest/npu-guest-bench.c $(GUEST_LIB) $(HAL_A) | $(KSELFTEST_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(call depfile,$(GUEST_CFLAGS))
	$(CC) $(GUEST_CFLAGS) -o $@ $< $(GUEST_LIB) $(HAL_A) $(GUEST_LDLIBS)

$(BUILD)/guest/%: tests/guest/%.c $(GUEST_LIB) $(ONNX_A) $(HAL_A) | $(KSELFTEST_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(call depfile,$(GUEST_CFLAGS))
	$(CC) $(GUEST_CFLAGS) -o $@ $< $(GUEST_LIB) $(ONNX_A) $(HAL_A) $(GUEST_LDLIBS)

$(KSELFTEST_DIR)/kselftest_harness.h:
	scripts/fetch-kernel-tools.sh

# ---- benchmarks (bench/README.md) ------------------------------------------
# Every executable bench/*.sh, the guest ones sharing one VM boot; goals are
# judged on the full run. bench-short (or BENCH_SHORT=1) is the quick
# version CI runs: it checks that every benchmark works, not its goals.
.PHONY: bench bench-short
bench: all
	BENCH_SHORT=$(if $(filter 1,$(BENCH_SHORT)),1,0) bench/lib/run.py

bench-short: all
	BENCH_SHORT=1 bench/lib/run.py

# ---- host unit tests (ASan/UBSan) -----------------------------------------
host-test:
	tests/host/run.sh

# ---- the VM (tests/vm/vm.sh; logs in build/vm/last/) --------------------------
# `make all` runs first; NPU_VM_SKIP_BUILD tells vm.sh not to build again.
test:
	tests/run-all.sh

# NPU_KERNEL=trixie, backports or debug runs the suite on that kernel
# (scripts/kernel-test.sh) instead of the host's stock one.
vm-test: all
ifeq ($(NPU_KERNEL),)
	NPU_VM_SKIP_BUILD=1 tests/vm/vm.sh test
else
	scripts/kernel-test.sh $(NPU_KERNEL)
endif

vm-shell: all
	NPU_VM_SKIP_BUILD=1 tests/vm/vm.sh shell

# CMD reaches the recipe through the environment, so any quoting survives;
# $(value ...) keeps make from expanding its "$" (CMD='echo $HOME' works).
# make turns a failing command's status into 2; tests/vm/vm.sh run CMD
# returns the exact status.
override CMD := $(value CMD)
export CMD
vm-run: all
	@test -n "$$CMD" || { echo "usage: make vm-run CMD='shell command'" >&2; exit 2; }
	NPU_VM_SKIP_BUILD=1 tests/vm/vm.sh run "$$CMD"

# The system test (tests/system/): the packages of make deb installed with apt
# in a real Debian system (systemd, udev, DKMS), two boots; the image is
# cached in $(NPU_CACHE)/system-image/. NPU_SYSTEM_RELEASE=bookworm: Debian 12.
# NPU_SYSTEM_SKIP_DEB=1 takes build/deb/ as it is. system-run makes the
# packages only when build/deb/ has none.
system-test: $(if $(NPU_SYSTEM_SKIP_DEB),,deb)
	tests/system/boot.sh test

system-run:
	@test -n "$$CMD" || { echo "usage: make system-run CMD='shell command'" >&2; exit 2; }
	@ls $(DEB_DIR)/npu-dkms_*.deb >/dev/null 2>&1 || $(MAKE) --no-print-directory deb >&2
	@tests/system/boot.sh run "$$CMD"

# Checks the VM loop itself: failing, hanging and panicking throwaway tests
# must each be reported as failures.
vm-selftest: all
	NPU_VM_SKIP_BUILD=1 tests/vm/selftest.sh

# The debug kernel (KASAN, lockdep, kmemleak, debug objects, fault injection),
# built once into $(NPU_CACHE)/debug-kernel, and the whole guest suite on it
# (README.md, "Debug kernel").
debug-kernel:
	scripts/debug-kernel.sh

debug-test:
	scripts/kernel-test.sh debug

# The newcomer's first command: install, build, boot, show the NPUs.
# setup is a prerequisite, not a recipe line, so the environment of the lines
# below (KVER among it) is computed after setup has installed the kernel.
demo: setup
	$(MAKE) --no-print-directory all
	NPU_VM_SKIP_BUILD=1 tests/vm/vm.sh demo

# The README's two commands, in order, in a fresh minimal Debian 12 root made
# with mmdebstrap (tests/fresh-root/run.sh): proves a newcomer's start works.
fresh-check:
	tests/fresh-root/run.sh

# ---- Debian packages (docs/install.md) --------------------------------------
# dpkg-buildpackage writes its results to the parent directory; they are
# moved to build/deb/ (and nothing is left behind there). debian/rules builds
# in debian/build/, so build/ (the VM's static tools) is not touched.
DEB_DIR := $(BUILD)/deb

version-check:
	scripts/check-version.sh

# The library exports exactly what hal/libnpuhal.map lists, per version node.
symbol-check: $(HAL_SO)
	scripts/check-symbols.sh $(BUILD)/hal/libnpuhal.so

deb: version-check
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	@v=$$(dpkg-parsechangelog -S Version) && up=$$(dirname $(CURDIR)) && status=0 && \
	{ dpkg-buildpackage -us -uc -b --post-clean || status=$$?; } && \
	for p in $$(dpkg-parsechangelog -S Source) $$(sed -n 's/^Package: *//p' debian/control); do \
		for f in "$$up/$${p}_$${v}_"* "$$up/$${p}-dbgsym_$${v}_"*; do \
			[ ! -e "$$f" ] || mv "$$f" $(DEB_DIR)/; \
		done; \
	done && \
	if [ $$status -ne 0 ]; then echo "make deb: dpkg-buildpackage failed ($$status)" >&2; exit $$status; fi
	lintian --info --display-info --fail-on error $(DEB_DIR)/*.changes
	@ls -l $(DEB_DIR)

-include $(wildcard $(BUILD)/isa/obj/*.d $(BUILD)/hal/obj/*/*.d $(BUILD)/hal/obj/*.d $(BUILD)/bin/*.d \
	$(BUILD)/guest/*.d $(BUILD)/host-tools/*.d)

# Kbuild's clean deletes every *.[aios] file below M= (examples/*.s too), so
# it is pointed at driver/, where the module's outputs are.
clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/driver clean
	rm -f Module.symvers modules.order
	rm -rf $(BUILD)
