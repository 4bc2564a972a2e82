# SPDX-License-Identifier: MIT
#
# Command-line tools, linked statically against libnpuhal so the same binary
# runs on the host and inside the test VM (which copies build/bin/* to
# /usr/bin). Included by the top-level Makefile.

TOOLS := npuctl npu-bench npu-as npu-inspect
TOOLS_COMMON := tools/table.c tools/isa_syntax.c
TOOLS_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread \
	-I$(CURDIR)/hal/include -I$(CURDIR)/tools -I$(CURDIR)/uapi
TOOL_BINS := $(addprefix $(BUILD)/bin/,$(TOOLS))
BINDIR ?= $(PREFIX)/bin

.PHONY: tools install-tools
tools: $(TOOL_BINS)

$(BUILD)/bin/%: tools/%.c $(TOOLS_COMMON) $(wildcard tools/*.h) $(HAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -static -o $@ $< $(TOOLS_COMMON) $(HAL_A)

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

$(BUILD)/bin/npu-hal-example: $(BUILD)/examples/hal_example.c $(HAL_A) hal/include/npuhal.h
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -static -o $@ $< $(HAL_A)

# ---- ONNX operator test cases (docs/onnx.md) ----
# npu-onnx converts Debian's libonnx-testdata node cases into build/onnx/
# (programs, test data, manifest.tsv); npu-onnx-run runs them (CPU or device).
ONNX_NODE_DIR ?= /usr/share/libonnx-testdata/data/node
ONNX_CONVERT_SRCS := tools/onnx/convert_dir.c tools/onnx/convert.c tools/onnx/onnx_pb.c
ONNX_CFLAGS := $(TOOLS_CFLAGS) -I$(CURDIR)/tools/onnx

.PHONY: onnx
onnx: $(BUILD)/onnx/manifest.tsv $(BUILD)/bin/npu-onnx-run
examples: onnx

$(BUILD)/bin/npu-onnx: tools/onnx/npu-onnx.c $(ONNX_CONVERT_SRCS) $(wildcard tools/onnx/*.h) $(HAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ONNX_CFLAGS) -static -o $@ $< $(ONNX_CONVERT_SRCS) $(HAL_A) -lm

$(BUILD)/bin/npu-onnx-run: tools/onnx/npu-onnx-run.c tools/onnx/onnx_run.c $(wildcard tools/onnx/*.h) $(HAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ONNX_CFLAGS) -static -o $@ $< tools/onnx/onnx_run.c $(HAL_A) -lm

# Converted into a scratch directory and renamed, so build/onnx is never half written.
$(BUILD)/onnx/manifest.tsv: $(BUILD)/bin/npu-onnx
	@test -d $(ONNX_NODE_DIR) || { echo "no ONNX test cases in $(ONNX_NODE_DIR): install libonnx-testdata (make setup)" >&2; exit 1; }
	rm -rf $(BUILD)/onnx.tmp
	$(BUILD)/bin/npu-onnx -d $(ONNX_NODE_DIR) -o $(BUILD)/onnx.tmp
	rm -rf $(BUILD)/onnx
	mv $(BUILD)/onnx.tmp $(BUILD)/onnx
