#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# deb-test's checks inside the VM (tools/testing/deb-test.sh puts this in
# the initramfs with --overlay): the zsync.ko init loaded is the one DKMS
# built from the zsync-k-dkms package, and the packaged programs, and
# programs built with pkg-config against the packages, drive it.
# KTAP: one line per check, then the kselftest totals line.
# /etc/zsync-deb/ holds what the host knows: the DKMS module's srcversion
# and the package version.
set -u
n=0 pass=0 fail=0
want_src=$(cat /etc/zsync-deb/srcversion)
want_ver=$(cat /etc/zsync-deb/version)

t() {
	name=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/deb-check.out 2>&1; then
		pass=$((pass + 1))
		echo "ok $n $name"
	else
		fail=$((fail + 1))
		echo "not ok $n $name"
		sed 's/^/# /' /tmp/deb-check.out
	fi
}

is_dkms_module() { [ "$(cat /sys/module/zsync/srcversion)" = "$want_src" ]; }
module_version() { [ "$(cat /sys/module/zsync/version)" = "$want_ver" ]; }
ctl_status() {
	/usr/sbin/zsyncctl --json status >/tmp/deb-status.json || return 1
	cat /tmp/deb-status.json
	grep -q "\"module_version\":\"$want_ver\"" /tmp/deb-status.json
}
# The packaged zsync-trace (libbpf.so.1) attaches to the DKMS module's
# tracepoints: once it says so on stderr (polled, no fixed sleep), zk-probe
# submits a NOP; SIGTERM ends it and its hist must count that NOP.
trace_counts_nop() {
	rm -f /tmp/trace.out /tmp/trace.err
	/usr/sbin/zsync-trace hist --json -d 120 >/tmp/trace.out 2>/tmp/trace.err &
	tpid=$!
	i=0
	until grep -q 'attached' /tmp/trace.err; do
		if ! kill -0 "$tpid" 2>/dev/null || [ $i -ge 600 ]; then
			kill "$tpid" 2>/dev/null
			echo "zsync-trace did not attach:"
			cat /tmp/trace.err
			return 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
	/usr/local/bin/zk-probe
	prc=$?
	kill -TERM "$tpid"
	wait "$tpid"
	trc=$?
	cat /tmp/trace.err /tmp/trace.out
	echo "zk-probe exit $prc, zsync-trace exit $trc"
	[ "$prc" -eq 0 ] && [ "$trc" -eq 0 ] &&
		grep -q '^{"op":"NOP","opcode":0,"submitted":[1-9][0-9]*,"completed":[1-9]' /tmp/trace.out
}

copy_via_zsync() {
	rm -rf /tmp/deb-copy && mkdir -p /tmp/deb-copy &&
		ZK_BACKEND=zsync "$1" /etc/zsync-deb/srcversion /etc/passwd /tmp/deb-copy &&
		cmp /etc/passwd /tmp/deb-copy/passwd &&
		cmp /etc/zsync-deb/srcversion /tmp/deb-copy/srcversion
}

echo "TAP version 13"
echo "1..8"
t "the loaded zsync.ko is the DKMS build (srcversion $want_src)" is_dkms_module
t "/sys/module/zsync/version is $want_ver" module_version
t "packaged zsyncctl (libzsync-k.so.0) status reports module $want_ver" ctl_status
t "packaged zsync-run --help" /usr/sbin/zsync-run --help
t "zk-probe (pkg-config zsync-k, shared) probes and submits a NOP" /usr/local/bin/zk-probe
t "zk-probe (pkg-config --static zsync-k) probes and submits a NOP" /usr/local/bin/zk-probe-static
t "zk-copy (pkg-config zsync-k-io, shared) copies files on the zsync backend" \
	copy_via_zsync /usr/local/bin/zk-copy
t "packaged zsync-trace (libbpf.so.1) attaches and its hist --json counts zk-probe's NOP" \
	trace_counts_nop
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
