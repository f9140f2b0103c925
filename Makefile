# SPDX-License-Identifier: GPL-2.0
# zsync-k top-level build.
#
#   make deps            install every Debian package the project needs (idempotent)
#   make                 module (for KDIR), library, tools, selftests
#   make demo            boot a VM with the module loaded and run the demo
#   make check           native library unit test and executor suite (ASan, TSan),
#                        then all tests on every available kernel in QEMU
#                        (KERNEL=6.1|6.12|debug picks one)
#   make native-test     the executor suite natively, under ASan+UBSan and TSan,
#                        the context-switch tests, the examples and the cgroup
#                        lifecycle selftest on the host's cgroup2 (root)
#   make fuzz            zsync-fuzz in a VM: SECONDS=N (300), KERNEL=6.1|6.12|debug,
#                        FAULTS=1 (fault injection; debug kernel), SEED=, ARGS="..."
#                        (e.g. ARGS="--replay 0x... --shrink")
#   make soak            zsync-soak in a VM: SECONDS=N (300), KERNEL=...
#   make bench           benchmarks in a VM
#   make bench-native    executor benchmarks on the host (io_uring, blocking) next to
#                        Go and plain pthreads: ROUNDS=N (5) rounds, one table
#   make bench-echo      echo servers on the host: zk-echo (io_uring; green, stackless),
#                        epoll floor, Go, Node, Tokio at 64 and 10,000 connections, medians
#                        of interleaved rounds (ROUNDS, DURATION, ...: bench-echo.sh --help)
#   make bench-echo-vm   the same in a 6.1 VM, zk-echo on the zsync backend, vs epoll and Go
#   make bench-http      HTTP servers on the host under wrk: zk-httpd (io_uring; green,
#                        stackless) vs an epoll floor, Go net/http, Node http and hyper on
#                        Tokio at 1, 64 and 1024 connections, medians of interleaved rounds
#                        (ROUNDS, DURATION, ...: bench-http.sh --help)
#   make bench-apps      one 6.1 VM boot, every server in turn: zk-httpd and zk-echo (zsync;
#                        green, stackless) vs the epoll floors, Go, Node and hyper/Tokio;
#                        wrk at 1, 64, 1024 connections, echo at 64 and 10,000, memory per
#                        connection at 10,000; medians (min-max) of ROUNDS (3) interleaved
#                        rounds and the ratios to the best peer (bench-apps.sh --help)
#   make bench-files     checksum 2000 files x 64 KiB (page cache warm): a read(2) loop, the
#                        zk-sum example on each executor/backend, Go; medians of interleaved
#                        rounds and the speed-up over the loop (bench-files.sh --help)
#   make bench-runtime   the whole life of one container (/bin/true, 3 limits) in a 6.1 VM:
#                        zsync-run --backend ring and plain vs Debian's crun and runc,
#                        20 in a row, ROUNDS (3) interleaved rounds; median, p99, max ms and
#                        the ratios to crun (bench-runtime.sh --help)
#   make C=1             also run sparse over the module
#   make checkpatch      run checkpatch.pl over the kernel sources, then make kernel-doc
#   make kernel-doc      kernel-doc -v over kmod/, lib/include/ and uapi/: any warning
#                        (an undescribed argument, member or return value) fails
#   make man             manual pages into build/man/: section 3 from the headers'
#                        kernel-doc comments (any kernel-doc -v warning fails),
#                        zsync(4), zsyncctl(8), zsync-run(8), zsync-trace(8)
#   make install         libraries, headers, .pc files, zsyncctl, zsync-run, zsync-trace,
#                        examples, man pages, udev rule, modprobe.d example; PREFIX (/usr/local),
#                        DESTDIR, LIBDIR, ... below; see Documentation/admin-guide.rst
#   make modules_install zsync.ko and zsync_edu.ko for KDIR into
#                        INSTALL_MOD_PATH/lib/modules/KVER/INSTALL_MOD_DIR (updates)
#   make dkms-source     the DKMS source tree build/dkms/zsync-k-VERSION (dkms add it)
#   make uninstall       remove exactly what make install installed (its manifest)
#   make install-test    install into a scratch DESTDIR, build programs against it
#                        with pkg-config, check the ABI, uninstall
#   make deb             Debian packages into build/deb/ (dpkg-buildpackage, debhelper,
#                        dh-dkms), then lintian on them; see Documentation/admin-guide.rst
#   make deb-test        make deb, unpack into a throwaway dpkg root, dkms build for 6.1
#                        and 6.12, build examples with pkg-config, run them in a 6.1 VM
#                        with the DKMS-built module

BUILD   ?= $(CURDIR)/build
SHARED  ?= $(CURDIR)/../shared
# The target kernel is Debian's 6.1 (the headers linux-headers-amd64 points
# at), never the kernel this machine happens to run.
KVER_61 := $(shell dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
	     sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p')
KDIR    ?= /usr/src/linux-headers-$(KVER_61)
KERNEL  ?=
C       ?= 0

CC      := gcc
AR      := ar
# CPPFLAGS, CFLAGS and LDFLAGS, when given (a distribution's build flags,
# e.g. dpkg-buildflags' hardening in `make deb`), come after our own.
USER_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -I$(CURDIR)/uapi -I$(CURDIR)/lib/include $(CPPFLAGS) $(CFLAGS)
export BUILD SHARED KVER_61 CC AR USER_CFLAGS

# make install / uninstall (tools/install.sh).  Every path is absolute and
# DESTDIR, when set, is prepended to each.  udev and modprobe look in
# neither /usr/local nor any other prefix, so their directories are system
# paths; all can be overridden (e.g. LIBDIR=/usr/lib/x86_64-linux-gnu).
include lib/version.mk
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SBINDIR      ?= $(PREFIX)/sbin
DOCDIR       ?= $(PREFIX)/share/doc/zsync-k
MANDIR       ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /lib/udev/rules.d
MODPROBEDIR  ?= /etc/modprobe.d
MANIFEST     ?= $(PREFIX)/share/zsync-k/install-manifest
INSTALL_ENV  := $(foreach v,DESTDIR PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR SBINDIR DOCDIR MANDIR \
		  UDEVRULESDIR MODPROBEDIR MANIFEST BUILD ZK_VERSION ZK_SOVERSION,$(v)='$($(v))')

.PHONY: all deps module lib tools selftests demo check bench checkpatch kernel-doc sparse clean \
	native-test bench-native bench-echo bench-echo-vm bench-http bench-apps bench-files bench-runtime fuzz soak install uninstall install-test man \
	modules_install dkms-source deb deb-test

all: module lib tools selftests

deps:
	@tools/testing/deps.sh

module:
	@test -d "$(KDIR)" || { echo "make: KDIR=$(KDIR) does not exist; run 'make deps' or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=$(C) W=1 modules

lib:
	$(MAKE) -f lib/lib.mk

tools: lib
	$(MAKE) -f tools/tools.mk

selftests: lib
	$(MAKE) -f selftests/selftests.mk

demo: all
	tools/testing/vm-run.sh --kernel $(or $(KERNEL),6.1) --demo

check: lib tools selftests
	tools/testing/check.sh --native $(KERNEL)

native-test: lib tools
	$(MAKE) -f lib/lib.mk native-test
	$(MAKE) -f tools/tools.mk examples-test

# zsync-bench-manager alone runs about 5 minutes (1000 containers, 3 rounds a path).
bench: lib tools
	tools/testing/vm-run.sh --kernel $(or $(KERNEL),6.1) --bench --timeout $(or $(BENCH_TIMEOUT),1800)

# Long runs by hand: the VM gets the run plus ten minutes for boot and teardown.
FUZZ_SECONDS = $(or $(SECONDS),300)
fuzz: lib tools
	tools/testing/vm-run.sh --kernel $(or $(KERNEL),6.1) --tests "" \
		--fuzz $(FUZZ_SECONDS) $(if $(FAULTS),--fuzz-faults) $(if $(SEED),--fuzz-seed $(SEED)) \
		--fuzz-args "$(ARGS)" --timeout $$(($(FUZZ_SECONDS) * 2 + 600)) \
		--out $(BUILD)/vm/fuzz-$(or $(KERNEL),6.1)

soak: lib tools
	tools/testing/vm-run.sh --kernel $(or $(KERNEL),6.12) --tests "" \
		--soak $(FUZZ_SECONDS) --timeout $$(($(FUZZ_SECONDS) * 2 + 600)) \
		--out $(BUILD)/vm/soak-$(or $(KERNEL),6.12)

# Go from Debian's golang-go, offline (the standard library only), with
# its caches under $(BUILD)/go, and the binary there too: `make bench`
# runs every $(BUILD)/tools/zsync-bench* in the VM.  ROUNDS interleaved
# rounds, one table.
GO_ENV := GOCACHE=$(BUILD)/go/cache GOPATH=$(BUILD)/go/path GOPROXY=off GOFLAGS= GO111MODULE=off
ROUNDS ?= 5

bench-native: lib tools
	cd tools/bench/go && $(GO_ENV) go build -o $(BUILD)/go/zsync-bench-go .
	tools/bench/bench-native.sh -r $(ROUNDS) -g $(BUILD)/go/zsync-bench-go $(BUILD)/tools

bench-echo: lib tools
	tools/bench/bench-echo.sh

bench-echo-vm: lib tools
	tools/bench/bench-echo-vm.sh

bench-http: lib tools
	tools/bench/bench-http.sh

# ROUNDS, DURATION, CONNS, ECHO_CONNS, MEM, SERVERS: bench-apps.sh --help.
bench-apps: lib tools
	tools/bench/bench-apps.sh

bench-files: lib tools
	tools/bench/bench-files.sh

# Not in make check nor .ci/run: it boots a VM and needs crun and runc (make deps).
bench-runtime: lib tools
	tools/bench/bench-runtime.sh

checkpatch:
	@tools/testing/checkpatch.sh

kernel-doc:
	@tools/testing/kernel-doc.sh

man:
	@env BUILD='$(BUILD)' ZK_VERSION='$(ZK_VERSION)' tools/man.sh

install: lib man
	$(MAKE) -f tools/tools.mk installed
	@env $(INSTALL_ENV) tools/install.sh install

uninstall:
	@env $(INSTALL_ENV) tools/install.sh uninstall

install-test: lib tools man
	@tools/testing/install-test.sh

# Kbuild's modules_install of what `make module` built (or MODDIR, e.g. a
# build/kmod/KERNEL tree of tools/testing/build-kmod.sh, built for the
# same KDIR): INSTALL_MOD_PATH (a staging root) and INSTALL_MOD_DIR
# (updates, so they win over any in-tree module of the same name) are
# honoured; kbuild runs depmod (DEPMOD=true skips it).
INSTALL_MOD_DIR ?= updates
MODDIR ?= $(CURDIR)
modules_install:
	@test -d "$(KDIR)" || { echo "make: KDIR=$(KDIR) does not exist; run 'make deps' or set KDIR" >&2; exit 1; }
	@test -f "$(MODDIR)/zsync.ko" || { echo "make: no $(MODDIR)/zsync.ko; run 'make module' first" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(MODDIR) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		$(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(INSTALL_MOD_PATH)) modules_install

# What DKMS builds from: dkms.conf and the module's sources only (dkms add
# copies the whole directory it is given, build/ and all).
DKMS_SRC := $(BUILD)/dkms/zsync-k-$(ZK_VERSION)
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/lib
	cp -R dkms.conf Kbuild kmod uapi $(DKMS_SRC)/
	cp lib/version.mk $(DKMS_SRC)/lib/
	find $(DKMS_SRC) \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \) -delete
	@echo "dkms-source: $(DKMS_SRC); as root: dkms add $(DKMS_SRC) && dkms install zsync-k/$(ZK_VERSION)"

deb:
	@tools/deb.sh

deb-test:
	@tools/testing/deb-test.sh

sparse:
	$(MAKE) module C=2

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
