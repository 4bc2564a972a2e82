# SPDX-License-Identifier: MIT
#
# The instruction set (isa/): compiled once into build/isa/, archived as
# libnpuisa.a for the tools and linked into libnpuhal (its CPU runner). The
# QEMU device model compiles the same sources (hw/qemu/build-qemu.sh).
# Included by the top-level Makefile before hal/hal.mk.

ISA_SRCS := $(sort $(wildcard isa/*.c))
ISA_OBJS := $(patsubst isa/%.c,$(BUILD)/isa/obj/%.o,$(ISA_SRCS))
ISA_HDRS := $(wildcard isa/*.h) hw/npu_hw.h
ISA_INCLUDES := -I$(CURDIR)/isa -I$(CURDIR)/hw
# Hidden: inside libnpuhal.so these are private, never part of its ABI.
ISA_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden $(ISA_INCLUDES)
ISA_A := $(BUILD)/isa/libnpuisa.a

.PHONY: isa
isa: $(ISA_A)

# Headers: the .d file -MMD writes next to each object (the Makefile includes them).
$(ISA_OBJS): $(BUILD)/isa/obj/%.o: isa/%.c
	mkdir -p $(@D) && $(CC) $(ISA_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Made anew, so a removed source leaves no stale member behind.
$(ISA_A): $(ISA_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
