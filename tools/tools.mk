# SPDX-License-Identifier: GPL-2.0
# Userspace tools, statically linked so they run in a busybox initramfs.
#
#   make -f tools/tools.mk     $(BUILD)/tools/zsync-demo,
#                              zsync-bench-{nop,irq,exec,file,net,cgroup,manager,pthread}, zsyncctl, zsync-run,
#                              zsync-{echo,http}-epoll, zsync-echo-load, zsync-http-client,
#                              zsync-fuzz, zsync-soak, zsync-flame, zsync-trace, zsync-timeit and the examples,
#                              $(BUILD)/tools/examples/zk-{copy,sum}-<model>, zk-probe, zk-echo, zk-httpd
#   make -f tools/tools.mk examples-test   run each example on a few files and compare,
#                              zk-probe's host-only part, and zk-echo's and zk-httpd's functional
#                              tests (tools/examples/{echo,httpd}-test.sh) on io_uring and blocking
#
# Run from the top of the tree after lib/lib.mk (the top Makefile's `tools`
# target does both).  BUILD, CC and USER_CFLAGS come from the top Makefile;
# the defaults make a standalone run behave the same.

BUILD       ?= $(CURDIR)/build
ifeq ($(origin CC),default)
CC          := gcc
endif
USER_CFLAGS ?= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -I$(CURDIR)/uapi -I$(CURDIR)/lib/include $(CPPFLAGS) $(CFLAGS)

include lib/version.mk

TOOLS_OUT := $(BUILD)/tools
LIBZK_A   := $(BUILD)/lib/libzsync-k.a
# The executor layer; it calls into the ring layer, so it comes first.
LIBZKIO_A := $(BUILD)/lib/libzsync-k-io.a
# liburing-dev ships only the static archive we want; found via the
# compiler's search path so a multiarch move does not break the build.
LIBURING_A := $(shell $(CC) -print-file-name=liburing.a)
DEPFLAGS  := -MMD -MP
FLAGS_STAMP := $(TOOLS_OUT)/.cflags

# tool name -> its sources, extra libraries and link flags
zsync-demo_SRCS      := tools/demo/zsync-demo.c
zsync-demo_LIBS      := $(LIBZK_A)
zsync-bench-nop_SRCS := tools/bench/zsync-bench-nop.c
zsync-bench-nop_LIBS := $(LIBZK_A) $(LIBURING_A)
zsync-bench-net_SRCS := tools/bench/zsync-bench-net.c
zsync-bench-net_LIBS := $(LIBZK_A) $(LIBURING_A)
zsync-bench-irq_SRCS := tools/bench/zsync-bench-irq.c
zsync-bench-irq_LIBS := $(LIBZK_A) $(LIBURING_A)
zsync-bench-exec_SRCS := tools/bench/zsync-bench-exec.c
zsync-bench-exec_LIBS := $(LIBZKIO_A) $(LIBZK_A) $(LIBURING_A)
zsync-bench-file_SRCS := tools/bench/zsync-bench-file.c
zsync-bench-file_LIBS := $(LIBZK_A) $(LIBURING_A)
# The plain-pthread baseline of `make bench-native`: no zsync-k at all.
zsync-bench-pthread_SRCS := tools/bench/zsync-bench-pthread.c
zsync-bench-pthread_LIBS :=
zsync-bench-freeze_SRCS := tools/bench/zsync-bench-freeze.c
zsync-bench-freeze_LIBS := $(LIBZK_A) $(LIBURING_A)
zsync-bench-cgroup_SRCS := tools/bench/zsync-bench-cgroup.c
zsync-bench-cgroup_LIBS := $(LIBZK_A)
# Counts every syscall both of its paths make (see the file's header).
zsync-bench-cgroup_LDFLAGS := -Wl,--wrap=open,--wrap=close,--wrap=write,--wrap=pread \
			      -Wl,--wrap=ioctl,--wrap=mkdir,--wrap=rmdir,--wrap=poll
zsync-bench-manager_SRCS := $(addprefix tools/bench/,zsync-bench-manager.c mgr-sys.c mgr-ring.c mgr-plain.c)
zsync-bench-manager_LIBS := $(LIBZK_A) $(LIBURING_A)
# Counts the ring's ENTER (an ioctl in libzsync-k); the rest at call sites (mgr.h).
zsync-bench-manager_LDFLAGS := -Wl,--wrap=ioctl
zsyncctl_SRCS        := $(addprefix tools/zsyncctl/,zsyncctl.c ctl-cgroup.c ctl-ns.c ctl-rings.c)
zsyncctl_LIBS        := $(LIBZK_A)
zsync-run_SRCS       := tools/zsync-run/zsync-run.c
zsync-run_LIBS       := $(LIBZKIO_A) $(LIBZK_A) $(LIBURING_A)
# The fuzzer drives rings through the raw uapi (see fuzz-ring.c).
zsync-fuzz_SRCS      := $(addprefix tools/fuzz/fuzz-,main.c ring.c pool.c gen.c episode.c chaos.c faults.c)
zsync-fuzz_LIBS      := $(LIBZK_A)
zsync-soak_SRCS      := tools/fuzz/zsync-soak.c tools/fuzz/soak-sys.c tools/fuzz/soak-ring.c \
			tools/fuzz/soak-worker.c tools/fuzz/soak-net.c tools/fuzz/soak-cgroup.c
zsync-soak_LIBS      := $(LIBZK_A)
# Folded stacks (ZK_PROFILE, zk_io_profile_write()) to an SVG flame graph.
zsync-flame_SRCS     := tools/zsync-flame/zsync-flame.c
zsync-flame_LIBS     :=
# Echo yardsticks: plain epoll, no library (tools/bench/echo-common.h, epoll-server.h).
zsync-echo-load_SRCS := tools/bench/zsync-echo-load.c
zsync-echo-load_LIBS :=
zsync-echo-epoll_SRCS := tools/bench/zsync-echo-epoll.c
zsync-echo-epoll_LIBS :=
# The HTTP floor of make bench-http, the same way (tools/bench/epoll-server.h).
zsync-http-epoll_SRCS := tools/bench/zsync-http-epoll.c
zsync-http-epoll_LIBS :=
# zk-httpd's functional test client: poll, no library.
zsync-http-client_SRCS := tools/bench/zsync-http-client.c
zsync-http-client_LIBS :=
# make bench-runtime's timer: fork/exec/wait on CLOCK_MONOTONIC, no library.
zsync-timeit_SRCS    := tools/bench/zsync-timeit.c
zsync-timeit_LIBS    :=

# TOOLS_LINK=shared links the tools `make install` installs against
# libzsync-k.so.0, as a distribution ships them (`make deb`); by default
# every tool is static, to run in the VM's busybox initramfs.
TOOLS_LINK      ?= static
INSTALLED_TOOLS := zsyncctl zsync-run
ifeq ($(TOOLS_LINK),shared)
$(foreach t,$(INSTALLED_TOOLS),$(eval $(t)_LIBS := $(BUILD)/lib/libzsync-k.so))
# zsync-run is on the cgroup lifecycle API of libzsync-k-io.
zsync-run_LIBS := $(BUILD)/lib/libzsync-k-io.so $(BUILD)/lib/libzsync-k.so
endif
tool_static = $(if $(and $(filter shared,$(TOOLS_LINK)),$(filter $(1),$(INSTALLED_TOOLS))),,-static)

TOOLS     := zsync-demo zsync-bench-nop zsync-bench-irq zsync-bench-exec zsync-bench-file \
	     zsync-bench-net zsync-bench-cgroup zsync-bench-freeze zsync-bench-manager zsync-bench-pthread zsyncctl zsync-run zsync-fuzz zsync-soak \
	     zsync-flame zsync-echo-load zsync-echo-epoll zsync-http-epoll zsync-http-client zsync-timeit
TOOL_BINS := $(addprefix $(TOOLS_OUT)/,$(TOOLS))
ALL_SRCS  := $(foreach t,$(TOOLS),$($(t)_SRCS))
ALL_OBJS  := $(patsubst tools/%.c,$(TOOLS_OUT)/obj/%.o,$(ALL_SRCS))

# zsync-trace: BPF (clang -target bpf), embedded as a libbpf skeleton
# (bpftool gen skeleton), linked dynamically against Debian's libbpf (so
# never -static); `make install` installs it too.  libzsync-k is the
# static archive, or libzsync-k.so.0 with TOOLS_LINK=shared like the other
# installed tools.  The BPF object gets none of CFLAGS (a distribution's
# hardening flags are for the host compiler); the tool gets CFLAGS and
# LDFLAGS like every other.
TRACE_OUT  := $(TOOLS_OUT)/zsync-trace.d
TRACE_BIN  := $(TOOLS_OUT)/zsync-trace
TRACE_LIBZK := $(if $(filter shared,$(TOOLS_LINK)),$(BUILD)/lib/libzsync-k.so,$(LIBZK_A))
BPF_CLANG  ?= clang
# Debian's bpftool is in /usr/sbin, which a user's PATH may not have.
BPFTOOL    ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -I$(CURDIR)/uapi \
	      -I/usr/include/$(shell $(CC) -dumpmachine)

# The same example program once per execution model (tools/examples/).
EXAMPLE_MODELS := blocking threads green stackless
EXAMPLE_BINS   := $(addprefix $(TOOLS_OUT)/examples/zk-copy-,$(EXAMPLE_MODELS)) \
		  $(addprefix $(TOOLS_OUT)/examples/zk-sum-,$(EXAMPLE_MODELS))
exec_macro_blocking  := ZK_EXEC_BLOCKING
exec_macro_threads   := ZK_EXEC_THREADS
exec_macro_green     := ZK_EXEC_GREEN
exec_macro_stackless := ZK_EXEC_STACKLESS

# A ring-only example: libzsync-k and libc, nothing else.
PROBE_BIN := $(TOOLS_OUT)/examples/zk-probe

# The echo server: one binary, the executor chosen by --executor.
ECHO_BIN := $(TOOLS_OUT)/examples/zk-echo
# The HTTP server, the same way.
HTTPD_BIN := $(TOOLS_OUT)/examples/zk-httpd
HTTPD_SRCS := tools/examples/zk-httpd.c tools/examples/zk-httpd-parse.c tools/examples/zk-httpd.h

.PHONY: all installed examples-test
all: $(TOOL_BINS) $(EXAMPLE_BINS) $(PROBE_BIN) $(ECHO_BIN) $(HTTPD_BIN) $(TRACE_BIN)

# What `make install` installs: zsyncctl, zsync-run and zsync-trace.
installed: $(addprefix $(TOOLS_OUT)/,$(INSTALLED_TOOLS)) $(TRACE_BIN)

# zk-copy-<model> and zk-sum-<model>: one source, one binary per model.
define example_rule
$(TOOLS_OUT)/examples/$(1)-%: tools/examples/$(1).c $(LIBZKIO_A) $(LIBZK_A) $(FLAGS_STAMP) tools/tools.mk
	@mkdir -p $$(@D)
	$$(CC) $$(USER_CFLAGS) -DZK_EXAMPLE_EXECUTOR=$$(exec_macro_$$*) $$< -o $$@ \
		$(LIBZKIO_A) $(LIBZK_A) $(LIBURING_A) -pthread
endef
$(foreach e,zk-copy zk-sum,$(eval $(call example_rule,$(e))))

# zk-server.c: what the TCP server examples share (options, listener, root).
SERVER_SRCS := tools/examples/zk-server.c tools/examples/zk-server.h

$(ECHO_BIN): tools/examples/zk-echo.c $(SERVER_SRCS) $(LIBZKIO_A) $(LIBZK_A) $(FLAGS_STAMP) tools/tools.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $< $(filter %.c,$(SERVER_SRCS)) -o $@ $(LIBZKIO_A) $(LIBZK_A) $(LIBURING_A) -pthread

$(HTTPD_BIN): $(HTTPD_SRCS) $(SERVER_SRCS) $(LIBZKIO_A) $(LIBZK_A) $(FLAGS_STAMP) tools/tools.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(filter %.c,$(HTTPD_SRCS) $(SERVER_SRCS)) -o $@ \
		$(LIBZKIO_A) $(LIBZK_A) $(LIBURING_A) -pthread

$(PROBE_BIN): tools/examples/zk-probe.c $(LIBZK_A) $(FLAGS_STAMP) tools/tools.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $< -o $@ $(LIBZK_A)

$(TRACE_OUT)/zsync-trace.bpf.o: tools/zsync-trace/zsync-trace.bpf.c tools/zsync-trace/zsync-trace.h \
				 uapi/linux/zsync.h tools/tools.mk
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

$(TRACE_OUT)/zsync-trace.skel.h: $(TRACE_OUT)/zsync-trace.bpf.o
	$(BPFTOOL) gen skeleton $< name zsync_trace_bpf > $@.tmp && mv $@.tmp $@

$(TRACE_BIN): tools/zsync-trace/zsync-trace.c tools/zsync-trace/zsync-trace.h \
	      $(TRACE_OUT)/zsync-trace.skel.h tools/common/json.h $(TRACE_LIBZK) $(FLAGS_STAMP)
	$(CC) $(USER_CFLAGS) -I$(TRACE_OUT) $< -o $@ $(LDFLAGS) $(TRACE_LIBZK) -lbpf -lelf -lz

examples-test: $(EXAMPLE_BINS) $(PROBE_BIN) $(ECHO_BIN) $(TOOLS_OUT)/zsync-echo-load \
	       $(HTTPD_BIN) $(TOOLS_OUT)/zsync-http-client
	@tools/examples/run-examples.sh $(TOOLS_OUT)/examples
	@tools/examples/echo-test.sh --echo $(ECHO_BIN) --load $(TOOLS_OUT)/zsync-echo-load \
		--backends "io_uring blocking"
	@tools/examples/httpd-test.sh --httpd $(HTTPD_BIN) --client $(TOOLS_OUT)/zsync-http-client \
		--backends "io_uring blocking"
	@$(PROBE_BIN) --list | grep -qx '0 NOP' && echo "examples: zk-probe --list names the ops"

$(shell mkdir -p $(TOOLS_OUT) && \
	echo '$(CC) $(USER_CFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(USER_CFLAGS)' > $(FLAGS_STAMP))

$(LIBZK_A) $(LIBZKIO_A):
	@echo "tools.mk: $@ is missing; build it first: make lib" >&2; exit 1

$(LIBURING_A):
	@echo "tools.mk: liburing.a not found; install liburing-dev (make deps)" >&2; exit 1

$(TOOLS_OUT)/obj/%.o: tools/%.c $(FLAGS_STAMP) tools/tools.mk
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(OBJ_CPPFLAGS) $(DEPFLAGS) -c $< -o $@

# zsyncctl --version: the version of lib/version.mk, never written in the source.
$(TOOLS_OUT)/obj/zsyncctl/zsyncctl.o: OBJ_CPPFLAGS := -DZSYNCCTL_VERSION='"$(ZK_VERSION)"'
$(TOOLS_OUT)/obj/zsyncctl/zsyncctl.o: lib/version.mk


# Relink when the objects or the libraries they use change.
define tool_rule
$(TOOLS_OUT)/$(1): $(patsubst tools/%.c,$(TOOLS_OUT)/obj/%.o,$($(1)_SRCS)) $($(1)_LIBS)
	$$(CC) $(call tool_static,$(1)) $(LDFLAGS) $($(1)_LDFLAGS) -o $$@ $$(filter %.o,$$^) \
		$($(1)_LIBS) -pthread
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

-include $(ALL_OBJS:.o=.d)
