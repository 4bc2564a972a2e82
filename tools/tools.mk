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
