# SPDX-License-Identifier: MIT
#
# libnpuhal: shared library (only the NPU_API symbols exported, versioned by
# hal/libnpuhal.map), static library and pkg-config file. Included by the
# top-level Makefile; outputs go to build/hal/.

# The version is VERSION's (the one place: scripts/check-version.sh checks the
# driver, debian/changelog and the package names against it); the soname is
# its major number.
HAL_VERSION := $(strip $(file < $(CURDIR)/VERSION))
HAL_SOVERSION := $(firstword $(subst ., ,$(HAL_VERSION)))
HAL_SRCS := $(sort $(wildcard hal/src/*.c hal/*.c))
HAL_OBJS := $(patsubst hal/%.c,$(BUILD)/hal/obj/%.o,$(HAL_SRCS)) $(ISA_OBJS)
HAL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden -pthread \
	-I$(CURDIR)/hal/include -I$(CURDIR)/hal/src -I$(CURDIR)/hal -I$(CURDIR)/uapi $(ISA_INCLUDES)
HAL_A := $(BUILD)/hal/libnpuhal.a
HAL_SO := $(BUILD)/hal/libnpuhal.so.$(HAL_VERSION)
HAL_PC := $(BUILD)/hal/npuhal.pc

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

.PHONY: hal install-hal
hal: $(HAL_A) $(HAL_SO) $(HAL_PC)

# Headers: the .d file -MMD writes next to each object (the Makefile includes them).
$(BUILD)/hal/obj/%.o: hal/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HAL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(HAL_A): $(HAL_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(HAL_SO): $(HAL_OBJS) hal/libnpuhal.map
	$(CC) -shared -pthread -Wl,-soname,libnpuhal.so.$(HAL_SOVERSION) \
		-Wl,--version-script=hal/libnpuhal.map -Wl,--no-undefined -o $@ $(HAL_OBJS)
	ln -sf libnpuhal.so.$(HAL_VERSION) $(BUILD)/hal/libnpuhal.so.$(HAL_SOVERSION)
	ln -sf libnpuhal.so.$(HAL_SOVERSION) $(BUILD)/hal/libnpuhal.so

$(HAL_PC): hal/npuhal.pc.in Makefile hal/hal.mk VERSION
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(HAL_VERSION)|g' $< > $@

install-hal: hal
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/npuhal
	install -m 644 $(HAL_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(HAL_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libnpuhal.so.$(HAL_VERSION) $(DESTDIR)$(LIBDIR)/libnpuhal.so.$(HAL_SOVERSION)
	ln -sf libnpuhal.so.$(HAL_SOVERSION) $(DESTDIR)$(LIBDIR)/libnpuhal.so
	install -m 644 hal/include/npuhal.h hal/include/npu_program.h $(DESTDIR)$(INCLUDEDIR)/npuhal/
	# Generated here, not copied from build/: PREFIX may differ from the build's.
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(HAL_VERSION)|g' \
		hal/npuhal.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/npuhal.pc
