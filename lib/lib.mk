# SPDX-License-Identifier: GPL-2.0
# libzsync-k and libzsync-k-io: static and shared libraries from lib/*.c.
#
#   make -f lib/lib.mk            $(BUILD)/lib/libzsync-k.{a,so}      the ring layer
#                                 $(BUILD)/lib/libzsync-k-io.{a,so}   the executor layer
#                                 (.so -> .so.0 -> .so.0.1.0; lib/version.mk), each
#                                 checked by lib/abi-check.sh against its header
#   make -f lib/lib.mk unit       build and run the native unit test (no module needed;
#                                 the kselftest harness, from build/ksft)
#   make -f lib/lib.mk io-test    the executor-layer suite (io_uring, blocking backends)
#   make -f lib/lib.mk native-test  io-test under ASan+UBSan, then under TSan
#   make -f lib/lib.mk cglife-test  the cgroup lifecycle selftest on the host (root,
#                                 cgroup2; native-test runs it under ASan+UBSan)
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

include lib/version.mk
# The unit test's kselftest harness: KSFT_HDRS, KSFT_CFLAGS.
include selftests/ksft.mk

LIB_OUT  := $(BUILD)/lib
# Two libraries, so a program that only drives rings needs nothing but libc:
#  - libzsync-k, the ring layer (zsync-k.h): ring.c and source.c;
#  - libzsync-k-io, the executor layer (zsync-k-io.h): everything else.  It
#    calls the ring layer only through zsync-k.h and needs liburing.
# The green threads' context switch is assembly, one file per CPU
# (lib/green_ctx_<arch>.S); the compiler's target picks which.
ZK_ARCH  := $(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))
RING_SRCS := lib/ring.c lib/source.c
IO_SRCS   := $(filter-out $(RING_SRCS),$(sort $(wildcard lib/*.c))) \
	     $(wildcard lib/green_ctx_$(ZK_ARCH).S)
objs_of   = $(patsubst lib/%,$(LIB_OUT)/$(1)/%.o,$(basename $(2)))
RING_OBJS := $(call objs_of,obj,$(RING_SRCS))
RING_PICS := $(call objs_of,pic,$(RING_SRCS))
IO_OBJS   := $(call objs_of,obj,$(IO_SRCS))
IO_PICS   := $(call objs_of,pic,$(IO_SRCS))
RING_A   := $(LIB_OUT)/libzsync-k.a
IO_A     := $(LIB_OUT)/libzsync-k-io.a
# The development symlinks; each points at .so.$(ZK_SOVERSION), which
# points at the real file, .so.$(ZK_VERSION).
RING_SO  := $(LIB_OUT)/libzsync-k.so
IO_SO    := $(LIB_OUT)/libzsync-k-io.so
ABI_OK   := $(LIB_OUT)/.abi-libzsync-k $(LIB_OUT)/.abi-libzsync-k-io
# -MMD/-MP: header dependencies, so editing zsync-k.h or zsync.h rebuilds.
DEPFLAGS := -MMD -MP
# Objects also depend on the flags they were built with (see below).
FLAGS_STAMP := $(LIB_OUT)/.cflags

UNIT_SRC := lib/test/zk-unit.c
UNIT_BIN := $(LIB_OUT)/zk-unit

# The executor-layer suite, natively: io_uring and blocking backends.
# -rdynamic: the dump tests check that dladdr() names the tasks' frames.
IOTEST_SRCS := lib/test/zk-io-test.c lib/test/io-suite-core.c lib/test/io-suite-prims.c \
	       lib/test/io-suite-dump.c lib/test/io-suite-mn.c
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

.PHONY: all unit io-test native-test ctx-test ctx-test-aarch64 cglife-test
all: $(RING_A) $(RING_SO) $(IO_A) $(IO_SO) $(ABI_OK)

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

$(RING_A): $(RING_OBJS)
$(IO_A): $(IO_OBJS)
$(RING_A) $(IO_A):
	@rm -f $@
	$(AR) rcs $@ $^

# -z defs: every symbol must resolve at link time, so a missing library
# (or a ring internal the executor layer should not use) fails here and
# not in some user's program.  The version script lib/NAME.map exports the
# public functions and makes everything else local.
SO_LDFLAGS := -shared -Wl,-z,defs $(LDFLAGS)

# shared_lib NAME, OBJECTS, LIBRARIES: NAME.so.$(ZK_VERSION) and its symlinks.
define shared_lib
$(LIB_OUT)/$(1).so.$(ZK_VERSION): $(2) lib/$(1).map $(filter $(LIB_OUT)/%,$(3)) lib/lib.mk
	$(CC) $(SO_LDFLAGS) -Wl,-soname,$(1).so.$(ZK_SOVERSION) \
		-Wl,--version-script=lib/$(1).map -o $$@ $(2) $(3)

$(LIB_OUT)/$(1).so: $(LIB_OUT)/$(1).so.$(ZK_VERSION)
	ln -sf $(1).so.$(ZK_VERSION) $(LIB_OUT)/$(1).so.$(ZK_SOVERSION)
	ln -sf $(1).so.$(ZK_SOVERSION) $$@
endef
$(eval $(call shared_lib,libzsync-k,$(RING_PICS)))
$(eval $(call shared_lib,libzsync-k-io,$(IO_PICS),$(RING_SO) -luring -pthread))

# The exports must be exactly the header's functions (lib/abi-check.sh).
ABI_CFLAGS := -I$(CURDIR)/uapi -I$(CURDIR)/lib/include
$(LIB_OUT)/.abi-libzsync-k: lib/include/zsync-k.h
$(LIB_OUT)/.abi-libzsync-k-io: lib/include/zsync-k-io.h
$(LIB_OUT)/.abi-%: $(LIB_OUT)/%.so lib/%.map lib/abi-check.sh
	CC=$(CC) lib/abi-check.sh $(filter %.h,$^) $< lib/$*.map $(ABI_CFLAGS)
	@touch $@

# The unit test replaces open/ioctl/mmap/munmap/close with a fake device
# (-Wl,--wrap), so the real library code runs against a simulated kernel.
# It reports through the kselftest harness (KTAP, "# Totals:").
UNIT_WRAP := -Wl,--wrap=open,--wrap=ioctl,--wrap=mmap,--wrap=munmap,--wrap=close

$(UNIT_BIN): $(UNIT_SRC) $(KSFT_HDRS) $(RING_A) $(FLAGS_STAMP) lib/lib.mk selftests/ksft.mk
	$(CC) $(USER_CFLAGS) $(KSFT_CFLAGS) $(DEPFLAGS) -MF $@.d $(UNIT_SRC) -o $@ \
		$(UNIT_WRAP) $(RING_A)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

$(IOTEST_BIN): $(IOTEST_SRCS) lib/test/io-suite.h $(IO_A) $(RING_A) $(FLAGS_STAMP) lib/lib.mk
	$(CC) $(USER_CFLAGS) -Ilib/test $(IOTEST_SRCS) -o $@ $(IO_A) $(RING_A) $(LIBURING_A) \
		-pthread -rdynamic

io-test: $(IOTEST_BIN)
	$(IOTEST_RUN) $(IOTEST_BIN) $(IOTEST_ARGS)

# The cgroup lifecycle selftest, natively: the blocking and io_uring
# variants against the host's cgroup2 (its zsync variants skip).  It needs
# root and creates and removes only its own zt-cglife-PID scratch cgroup.
CGLIFE_SRC := selftests/zsync/cglife.c
CGLIFE_BIN := $(LIB_OUT)/cglife-native

$(CGLIFE_BIN): $(CGLIFE_SRC) selftests/zsync/helpers.h selftests/zsync/cgroup-helpers.h \
		$(KSFT_HDRS) $(IO_A) $(RING_A) $(FLAGS_STAMP) lib/lib.mk
	$(CC) $(USER_CFLAGS) $(KSFT_CFLAGS) -Iselftests/zsync $(CGLIFE_SRC) -o $@ \
		$(IO_A) $(RING_A) $(LIBURING_A) -pthread

cglife-test: $(CGLIFE_BIN)
	$(CGLIFE_BIN)

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
	$(MAKE) -f lib/lib.mk BUILD=$(BUILD)/asan KSFT_DIR=$(BUILD)/ksft \
		USER_CFLAGS="$(USER_CFLAGS) $(SAN_ASAN)" cglife-test
	$(MAKE) -f lib/lib.mk BUILD=$(BUILD)/tsan USER_CFLAGS="$(USER_CFLAGS) $(SAN_TSAN)" \
		IOTEST_ARGS="$(TSAN_ARGS)" IOTEST_RUN="$(TSAN_RUN)" io-test
	$(MAKE) -f lib/lib.mk BUILD=$(BUILD)/tsan USER_CFLAGS="$(USER_CFLAGS) $(SAN_TSAN)" \
		IOTEST_ARGS="$(TSAN_FULL_ARGS)" IOTEST_RUN="$(TSAN_RUN)" io-test

-include $(RING_OBJS:.o=.d) $(RING_PICS:.o=.d) $(IO_OBJS:.o=.d) $(IO_PICS:.o=.d) $(UNIT_BIN).d
