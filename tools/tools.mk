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
