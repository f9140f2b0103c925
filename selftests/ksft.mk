# SPDX-License-Identifier: GPL-2.0
# The kselftest harness headers, for every test built with them: the
# selftests (selftests/selftests.mk) and the library's native unit test
# (lib/lib.mk).  Include after BUILD is set; a target that includes the
# harness lists $(KSFT_HDRS) as a prerequisite and compiles with
# $(KSFT_CFLAGS).

# kselftest_harness.h and kselftest.h are taken from Debian's linux-source
# package at build time, never committed.  `make deps` normally puts them in
# $(BUILD)/ksft; if it has not run, extract them here (once, then cached).
KSFT_DIR     := $(BUILD)/ksft
KSFT_HDRS    := $(KSFT_DIR)/kselftest_harness.h $(KSFT_DIR)/kselftest.h
LINUX_SRC_TAR ?= /usr/src/linux-source-6.1.tar.xz
KSFT_MEMBERS := linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h

# The 6.1 harness header trips exactly one of our warnings: its TEST()
# wrapper never uses its `variant` parameter and its SIGALRM handler never
# uses `ucontext` (both inside macros/functions we cannot annotate).  Relax
# only that warning, and only for the binaries built with the harness.
HARNESS_RELAX := -Wno-unused-parameter
KSFT_CFLAGS   := $(HARNESS_RELAX) -I$(KSFT_DIR)

# The rule below must not become the including makefile's default goal.
ksft_default_goal := $(.DEFAULT_GOAL)

# A grouped target (&:), so one tar pass yields both headers; --occurrence
# lets tar stop once both members are found instead of reading ~130 MB.
$(KSFT_HDRS) &:
	@test -f $(LINUX_SRC_TAR) || { echo "ksft: $(LINUX_SRC_TAR) missing; run 'make deps'" >&2; exit 1; }
	@echo "  EXTRACT kselftest headers from $(LINUX_SRC_TAR)"
	@mkdir -p $(KSFT_DIR)
	@tmp=$$(mktemp -d) && \
	tar -xJf $(LINUX_SRC_TAR) -C $$tmp --occurrence $(KSFT_MEMBERS) && \
	cp $$tmp/linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
	   $$tmp/linux-source-6.1/tools/testing/selftests/kselftest.h $(KSFT_DIR)/; \
	rc=$$?; rm -rf $$tmp; exit $$rc

.DEFAULT_GOAL := $(ksft_default_goal)
