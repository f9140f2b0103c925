# SPDX-License-Identifier: GPL-2.0
# libzsync-k: static and shared library from lib/*.c.
#
#   make -f lib/lib.mk            $(BUILD)/lib/libzsync-k.a and libzsync-k.so
#   make -f lib/lib.mk unit       build and run the native unit test (no module needed)
#   make -f lib/lib.mk io-test    the executor-layer suite (io_uring, blocking backends)
#   make -f lib/lib.mk native-test  io-test under ASan+UBSan, then under TSan
#
# Run from the top of the tree.  The top Makefile exports BUILD, CC, AR and
# USER_CFLAGS; the defaults below make a standalone run behave the same.

BUILD       ?= $(CURDIR)/build
ifeq ($(origin CC),default)
CC          := gcc
endif
AR          ?= ar
USER_CFLAGS ?= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -I$(CURDIR)/uapi -I$(CURDIR)/lib/include

LIB_OUT  := $(BUILD)/lib
# The green threads' context switch is assembly, one file per CPU
# (lib/green_ctx_<arch>.S); the compiler's target picks which.
ZK_ARCH  := $(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))
LIB_SRCS := $(sort $(wildcard lib/*.c)) $(wildcard lib/green_ctx_$(ZK_ARCH).S)
LIB_OBJS := $(patsubst lib/%,$(LIB_OUT)/obj/%.o,$(basename $(LIB_SRCS)))
LIB_PICS := $(patsubst lib/%,$(LIB_OUT)/pic/%.o,$(basename $(LIB_SRCS)))
LIB_A    := $(LIB_OUT)/libzsync-k.a
LIB_SO   := $(LIB_OUT)/libzsync-k.so
# -MMD/-MP: header dependencies, so editing zsync-k.h or zsync.h rebuilds.
DEPFLAGS := -MMD -MP
# Objects also depend on the flags they were built with (see below).
FLAGS_STAMP := $(LIB_OUT)/.cflags

UNIT_SRC := lib/test/zk-unit.c
UNIT_BIN := $(LIB_OUT)/zk-unit

# The executor-layer suite, natively: io_uring and blocking backends.
IOTEST_SRCS := lib/test/zk-io-test.c lib/test/io-suite-core.c lib/test/io-suite-prims.c
IOTEST_BIN  := $(LIB_OUT)/zk-io-test
LIBURING_A  := $(shell $(CC) -print-file-name=liburing.a)

# Sanitizer builds live in their own trees, so the flags never mix.
SAN_ASAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_TSAN := -fsanitize=thread -fno-omit-frame-pointer
# TSan maps its shadow at fixed addresses; with a high mmap randomisation
# some kernels place libraries there.  Without ASLR it always fits.
TSAN_RUN := setarch $(shell uname -m) -R
# TSan runs ~10x slower: the suite at a quarter of its message counts,
# then the million-message channel test at full size on one backend.
TSAN_ARGS ?= -s 25
TSAN_FULL_ARGS ?= -b io_uring -t chan_million

# The context switch alone, natively and (cross-compiled, under
# qemu-user) for aarch64; that one is skipped when the tools are missing.
CTX_SRCS     := lib/test/ctx-test.c lib/green_ctx.c
CTX_BIN      := $(LIB_OUT)/ctx-test
CROSS_A64    ?= aarch64-linux-gnu-gcc
QEMU_A64     ?= qemu-aarch64-static
CTX_A64_BIN  := $(LIB_OUT)/ctx-test-aarch64
CTX_CFLAGS   := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -fno-omit-frame-pointer -Ilib

.PHONY: all unit io-test native-test ctx-test ctx-test-aarch64
all: $(LIB_A) $(LIB_SO)

# Rewrite the stamp only when the flags change, so a flags change rebuilds
# everything and an unchanged one rebuilds nothing.
$(shell mkdir -p $(LIB_OUT) && \
	echo '$(CC) $(USER_CFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(USER_CFLAGS)' > $(FLAGS_STAMP))

$(LIB_OUT)/obj/%.o: lib/%.c $(FLAGS_STAMP) lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB_OUT)/pic/%.o: lib/%.c $(FLAGS_STAMP) lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -fPIC $(DEPFLAGS) -c $< -o $@

$(LIB_OUT)/obj/%.o: lib/%.S $(FLAGS_STAMP) lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB_OUT)/pic/%.o: lib/%.S $(FLAGS_STAMP) lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -fPIC $(DEPFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_PICS)
	$(CC) -shared -Wl,-soname,libzsync-k.so -o $@ $^ -luring -pthread

# The unit test replaces open/ioctl/mmap/munmap/close with a fake device
# (-Wl,--wrap), so the real library code runs against a simulated kernel.
UNIT_WRAP := -Wl,--wrap=open,--wrap=ioctl,--wrap=mmap,--wrap=munmap,--wrap=close

$(UNIT_BIN): $(UNIT_SRC) $(LIB_A) $(FLAGS_STAMP) lib/lib.mk
	$(CC) $(USER_CFLAGS) $(DEPFLAGS) -MF $@.d $(UNIT_SRC) -o $@ \
		$(UNIT_WRAP) $(LIB_A)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

$(IOTEST_BIN): $(IOTEST_SRCS) lib/test/io-suite.h $(LIB_A) $(FLAGS_STAMP) lib/lib.mk
	$(CC) $(USER_CFLAGS) -Ilib/test $(IOTEST_SRCS) -o $@ $(LIB_A) $(LIBURING_A) -pthread

io-test: $(IOTEST_BIN)
	$(IOTEST_RUN) $(IOTEST_BIN) $(IOTEST_ARGS)

$(CTX_BIN): $(CTX_SRCS) lib/green_ctx_$(ZK_ARCH).S lib/green_ctx.h lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(CTX_CFLAGS) $(CTX_SRCS) lib/green_ctx_$(ZK_ARCH).S -o $@

ctx-test: $(CTX_BIN)
	$(CTX_BIN)

$(CTX_A64_BIN): $(CTX_SRCS) lib/green_ctx_aarch64.S lib/green_ctx.h lib/lib.mk
	@mkdir -p $(@D)
	$(CROSS_A64) $(CTX_CFLAGS) -static $(CTX_SRCS) lib/green_ctx_aarch64.S -o $@

ctx-test-aarch64:
	@if ! command -v $(CROSS_A64) >/dev/null || ! command -v $(QEMU_A64) >/dev/null; then \
		echo "ctx-test-aarch64: SKIP: $(CROSS_A64) or $(QEMU_A64) missing (make deps)"; \
	else \
		$(MAKE) -f lib/lib.mk $(CTX_A64_BIN) && $(QEMU_A64) $(CTX_A64_BIN); \
	fi

native-test: ctx-test ctx-test-aarch64
	$(MAKE) -f lib/lib.mk BUILD=$(BUILD)/asan USER_CFLAGS="$(USER_CFLAGS) $(SAN_ASAN)" io-test
	$(MAKE) -f lib/lib.mk BUILD=$(BUILD)/tsan USER_CFLAGS="$(USER_CFLAGS) $(SAN_TSAN)" \
		IOTEST_ARGS="$(TSAN_ARGS)" IOTEST_RUN="$(TSAN_RUN)" io-test
	$(MAKE) -f lib/lib.mk BUILD=$(BUILD)/tsan USER_CFLAGS="$(USER_CFLAGS) $(SAN_TSAN)" \
		IOTEST_ARGS="$(TSAN_FULL_ARGS)" IOTEST_RUN="$(TSAN_RUN)" io-test

-include $(LIB_OBJS:.o=.d) $(LIB_PICS:.o=.d) $(UNIT_BIN).d
