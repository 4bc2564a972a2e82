# SPDX-License-Identifier: MIT
#
# Command-line tools, linked statically against libnpuhal so the same binary
# runs on the host and inside the test VM (which copies build/bin/* to
# /usr/bin). Included by the top-level Makefile. The Debian packages link
# them against the shared library instead: make TOOLS_LINK=shared
# (debian/rules, with its own BUILD directory).

TOOLS := npuctl npu-bench npu-as npu-inspect npu-exporter
TOOLS_COMMON := tools/table.c
TOOLS_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread \
	-I$(CURDIR)/hal/include -I$(CURDIR)/tools -I$(CURDIR)/uapi $(ISA_INCLUDES)
TOOL_BINS := $(addprefix $(BUILD)/bin/,$(TOOLS))
TOOLS_LINK ?= static
ifeq ($(TOOLS_LINK),shared)
# Linked by its path, the library is still NEEDED by its soname.
TOOLS_STATIC :=
TOOLS_HAL := $(HAL_SO)
else
TOOLS_STATIC := -static
TOOLS_HAL := $(HAL_A)
endif
BINDIR ?= $(PREFIX)/bin

.PHONY: tools install-tools
tools: $(TOOL_BINS)

# A tool's own further sources: TOOL_SRCS, set per target.
$(BUILD)/bin/npuctl: TOOL_SRCS := tools/npuctl_cluster.c
$(BUILD)/bin/npuctl: tools/npuctl_cluster.c

$(BUILD)/bin/%: tools/%.c $(TOOLS_COMMON) $(TOOLS_HAL) $(ISA_A)
	@mkdir -p $(dir $@)
	$(call depfile,$(TOOLS_CFLAGS))
	$(CC) $(TOOLS_CFLAGS) $(TOOLS_STATIC) -o $@ $< $(TOOL_SRCS) $(TOOLS_COMMON) $(TOOLS_HAL) $(ISA_A)

install-tools: tools
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/

# ---- examples: programs assembled from examples/*.s, and the HAL example ----
# The HAL example's source is the C block of docs/hal.md ("A complete example"),
# so the documentation can never drift from code that builds and runs.
PROGRAMS := $(patsubst examples/%.s,$(BUILD)/programs/%.npuprog,$(wildcard examples/*.s))

.PHONY: examples
examples: $(PROGRAMS) $(BUILD)/bin/npu-hal-example

$(BUILD)/programs/%.npuprog: examples/%.s $(BUILD)/bin/npu-as
	@mkdir -p $(dir $@)
	$(BUILD)/bin/npu-as $< -o $@

$(BUILD)/examples/hal_example.c: docs/hal.md
	@mkdir -p $(dir $@)
	awk '/^## A complete example/ { found = 1 } \
	     found && /^```c$$/ { copy = 1; next } \
	     copy && /^```$$/ { exit } \
	     copy { print }' $< > $@
	@test -s $@ || { echo "no C example found in $<" >&2; rm -f $@; exit 1; }

$(BUILD)/bin/npu-hal-example: $(BUILD)/examples/hal_example.c $(TOOLS_HAL)
	@mkdir -p $(dir $@)
	$(call depfile,$(TOOLS_CFLAGS))
	$(CC) $(TOOLS_CFLAGS) $(TOOLS_STATIC) -o $@ $< $(TOOLS_HAL)

# ---- ONNX operator test cases (docs/onnx.md) ----
# npu-onnx converts Debian's libonnx-testdata node cases into build/onnx/
# (programs, test data, manifest.tsv); npu-onnx-run runs them (CPU or device).
# The converter and the runner are a static library (every tools/onnx/*.c but
# the tools' main files, npu-*.c), which the two tools and the guest test link;
# tests/host/run.sh builds the same sources under the sanitizers.
ONNX_NODE_DIR ?= /usr/share/libonnx-testdata/data/node
ONNX_LIB_SRCS := $(filter-out tools/onnx/npu-%.c,$(sort $(wildcard tools/onnx/*.c)))
ONNX_INCLUDES := -I$(CURDIR)/tools/onnx
ONNX_CFLAGS := $(TOOLS_CFLAGS) $(ONNX_INCLUDES)
ONNX_A := $(BUILD)/onnx-lib/libnpuonnx.a

.PHONY: onnx
onnx: $(BUILD)/onnx/manifest.tsv $(BUILD)/bin/npu-onnx-run
examples: onnx

# Compiled together in a fresh directory, so the archive holds exactly these objects.
$(ONNX_A): $(ONNX_LIB_SRCS) $(wildcard tools/onnx/*.h) $(ISA_HDRS) hal/include/npuhal.h
	rm -rf $(@D) && mkdir -p $(@D)
	cd $(@D) && $(CC) $(ONNX_CFLAGS) -c $(addprefix $(CURDIR)/,$(ONNX_LIB_SRCS))
	$(AR) rcs $@ $(@D)/*.o

$(BUILD)/bin/npu-onnx $(BUILD)/bin/npu-onnx-run: $(BUILD)/bin/%: tools/onnx/%.c $(ONNX_A) $(TOOLS_HAL)
	@mkdir -p $(dir $@)
	$(call depfile,$(ONNX_CFLAGS))
	$(CC) $(ONNX_CFLAGS) $(TOOLS_STATIC) -o $@ $< $(ONNX_A) $(TOOLS_HAL) -lm

# Converted into a scratch directory and renamed, so build/onnx is never half written.
$(BUILD)/onnx/manifest.tsv: $(BUILD)/bin/npu-onnx
	@test -d $(ONNX_NODE_DIR) || { echo "no ONNX test cases in $(ONNX_NODE_DIR): install libonnx-testdata (make setup)" >&2; exit 1; }
	rm -rf $(BUILD)/onnx.tmp
	$(BUILD)/bin/npu-onnx -d $(ONNX_NODE_DIR) -o $(BUILD)/onnx.tmp
	rm -rf $(BUILD)/onnx
	mv $(BUILD)/onnx.tmp $(BUILD)/onnx

# ---- Fashion-MNIST: an int8 MLP trained at build time (docs/fashion-mnist.md) ----
# npu-fmnist-train is a host tool (it links zlib to read Debian's .gz files),
# kept out of build/bin so it does not go into the VM. One deterministic run
# (~10 s) writes the program and the image sets: the 1000-image subset goes
# to build/programs (every boot copies it into the guest), the full test set
# to build/fmnist (only `make fmnist-full` copies it).
FMNIST_DATA ?= /usr/share/datasets/fashion-mnist
FMNIST_TRAIN_FLAGS ?= --epochs 5 --hidden 128 --batch 100 --seed 1 --min-accuracy 0.85
FMNIST_SUBSET ?= 1000
FMNIST_SRCS := $(wildcard tools/fmnist/*.c)
FMNIST_TRAIN := $(BUILD)/host-tools/npu-fmnist-train
FMNIST_OUTPUTS := $(BUILD)/programs/fmnist-mlp.npuprog \
	$(BUILD)/programs/fmnist-test-$(FMNIST_SUBSET).bin $(BUILD)/fmnist/fmnist-test-10000.bin

.PHONY: fmnist fmnist-full
fmnist: $(FMNIST_OUTPUTS)
examples: $(FMNIST_OUTPUTS)

# -ffp-contract=off: no fused multiply-add, so training is reproducible bit for bit.
$(FMNIST_TRAIN): $(FMNIST_SRCS) $(TOOLS_HAL)
	@mkdir -p $(dir $@)
	$(call depfile,$(TOOLS_CFLAGS) -Itools/fmnist)
	$(CC) $(TOOLS_CFLAGS) -O3 -ffp-contract=off -Itools/fmnist -o $@ $(FMNIST_SRCS) \
		$(TOOLS_HAL) -lz -lm

$(FMNIST_OUTPUTS) &: $(FMNIST_TRAIN)
	@mkdir -p $(BUILD)/programs $(BUILD)/fmnist
	@test -d $(FMNIST_DATA) || { echo "no Fashion-MNIST in $(FMNIST_DATA):" \
		"install dataset-fashion-mnist (make setup)" >&2; exit 1; }
	$(FMNIST_TRAIN) --quiet --data $(FMNIST_DATA) $(FMNIST_TRAIN_FLAGS) \
		--program $(BUILD)/programs/fmnist-mlp.npuprog \
		--set $(FMNIST_SUBSET):$(BUILD)/programs/fmnist-test-$(FMNIST_SUBSET).bin \
		--set 10000:$(BUILD)/fmnist/fmnist-test-10000.bin

# All 10,000 test images on the emulated NPU in the VM (the CI runs the subset).
fmnist-full: all
	NPU_VM_SKIP_BUILD=1 NPU_TEST_TIMEOUT=1800 NPU_VM_RUN_TIMEOUT=2400 \
	NPU_VM_FILES="build/programs=/usr/share/npu/programs build/fmnist=/usr/share/npu/fmnist" \
		tests/vm/vm.sh run "FMNIST_SET=/usr/share/npu/fmnist/fmnist-test-10000.bin /tests/fmnist_test"
