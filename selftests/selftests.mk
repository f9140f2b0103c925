# SPDX-License-Identifier: GPL-2.0
# zsync-k kselftests: one static binary per selftests/zsync/*.c.
#
#   make -f selftests/selftests.mk      $(BUILD)/selftests/<name> for every test
#
# Run from the top of the tree after `make lib`.  The binaries run inside the
# QEMU VM (they need /dev/zsync); on a host without the module every test
# reports SKIP.  The top Makefile exports BUILD, CC and USER_CFLAGS; the
# defaults below make a standalone run behave the same.

BUILD       ?= $(CURDIR)/build
CC          ?= gcc
USER_CFLAGS ?= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -I$(CURDIR)/uapi -I$(CURDIR)/lib/include

ST_OUT   := $(BUILD)/selftests
ST_SRCS  := $(sort $(wildcard selftests/zsync/*.c))
ST_BINS  := $(patsubst selftests/zsync/%.c,$(ST_OUT)/%,$(ST_SRCS))
ST_HDRS  := $(wildcard selftests/zsync/*.h)
# Both layers: a few tests use the executor layer (zsync-k-io.h), which
# calls into the ring layer, so it comes first.
LIB_A    := $(BUILD)/lib/libzsync-k.a
LIBIO_A  := $(BUILD)/lib/libzsync-k-io.a

include selftests/ksft.mk

ST_CFLAGS := $(USER_CFLAGS) $(KSFT_CFLAGS) -Iselftests/zsync -Ilib/test
LIBURING_A := $(shell $(CC) -print-file-name=liburing.a)
ST_LDLIBS := $(LIBIO_A) $(LIB_A) $(LIBURING_A) -pthread

# Tests built from more than their own file: the executor suite is shared
# with the native runner (lib/test/zk-io-test.c).
executors_EXTRA := lib/test/io-suite-core.c lib/test/io-suite-prims.c lib/test/io-suite-mn.c \
		   lib/test/io-suite.h

# tools.c checks zsyncctl --version against the version of lib/version.mk.
include lib/version.mk
tools_CFLAGS := -DZT_ZK_VERSION='"$(ZK_VERSION)"'
tools_EXTRA  := lib/version.mk

# Script selftests: zk-echo's and zk-httpd's functional tests on the zsync
# backend, run from the VM's /bin (vm-run.sh installs zk-echo, zk-httpd,
# zsync-echo-load and zsync-http-client).
ST_SCRIPTS := $(ST_OUT)/echo-app $(ST_OUT)/httpd-app
# zsync-bench-manager's outcome checks, a few containers on each path (a few s).
ST_SCRIPTS += $(ST_OUT)/manager-smoke

.PHONY: all
all: $(ST_BINS) $(ST_SCRIPTS)

# Each is one file in the VM: app-test-lib.sh goes inside, after the #! line.
$(ST_OUT)/%-app: tools/examples/%-test.sh tools/examples/app-test-lib.sh selftests/selftests.mk
	@mkdir -p $(@D)
	{ head -n 1 $<; cat tools/examples/app-test-lib.sh; tail -n +2 $<; } > $@.tmp
	chmod 755 $@.tmp && mv $@.tmp $@

$(ST_OUT)/manager-smoke: tools/bench/manager-smoke.sh selftests/selftests.mk
	@mkdir -p $(@D)
	install -m 755 $< $@

$(LIB_A) $(LIBIO_A):
	@echo "selftests: $@ missing; run 'make lib' first" >&2; exit 1

.SECONDEXPANSION:
$(ST_OUT)/%: selftests/zsync/%.c $(ST_HDRS) $(KSFT_HDRS) $(LIB_A) $(LIBIO_A) selftests/selftests.mk selftests/ksft.mk \
		$$($$*_EXTRA)
	@mkdir -p $(@D)
	$(CC) $(ST_CFLAGS) $($*_CFLAGS) -static $< $(filter %.c,$($*_EXTRA)) -o $@ $(ST_LDLIBS)
