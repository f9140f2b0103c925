#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the zsync-k test VM (busybox ash; copied into the initramfs by
# vm-run.sh). Not `set -e`: if init exits the kernel panics and every result
# is lost, so each step reports its own failure and init always powers off.
#
# Kernel command line (set by vm-run.sh):
#   zsynctest.mode=check|demo|bench|none   what to run
#   zsynctest.binto=SECS                   per-binary time limit (0 = none)
# (zsynctest.*, not zsync.*: the kernel would treat zsync.* as parameters of
# the zsync module.)
#
# Channels: ttyS0 = console (kernel log + "zsync-init:" progress),
#           ttyS1 = test output (KTAP), ttyS2 = status lines for the host.
# /etc/zsync-tests lists the selftests (in /selftests) to run, in order.

usage() {
	echo "Usage: init.sh  (only as /init, PID 1, of the VM that vm-run.sh boots)"
	echo "Mounts proc/sys/dev/debugfs/cgroup2, loads zsync.ko, runs the mode given by"
	echo "zsynctest.mode= on the kernel command line, reports on ttyS1/ttyS2, powers off."
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
esac
# It mounts, loads modules and powers off: never on a real machine.
if [ $$ -ne 1 ]; then
	echo "init.sh: error: not PID 1; this is the test VM's /init, run tools/testing/vm-run.sh" >&2
	usage >&2
	exit 2
fi

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
umask 022

KTAP=/dev/ttyS1
STATUS=/dev/ttyS2

say() { echo "zsync-init: $*"; }
status() { echo "$*" >"$STATUS"; }
# Markers go to the kernel log so a splat can be attributed to the test
# that was running (printk.devkmsg=on keeps them from being ratelimited).
kmsg() { echo "$*" >/dev/kmsg; }

mount_fs() {
	mkdir -p /proc /sys /dev /tmp /run
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null || say "devtmpfs already mounted"
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t tmpfs tmpfs /run
	mount -t debugfs debugfs /sys/kernel/debug || say "no debugfs"
	# nsdelegate, as systemd mounts it: cgroup namespaces are delegation
	# boundaries (the cgroup selftests prove the ops respect them).
	mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || say "no cgroup2"
	for c in memory pids; do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
			say "cgroup2: cannot enable +$c"
	done
}

setup_system() {
	hostname zsync-vm
	ip link set lo up || say "cannot bring up lo"
	# Serial ports: no \n -> \r\n translation, no echo; the host reads raw files.
	for t in "$KTAP" "$STATUS"; do
		stty -F "$t" raw -echo 2>/dev/null || say "stty $t failed"
	done
	# Boot is quiet (loglevel=5); from here on everything, including the
	# module's pr_info, reaches the console log.
	echo 7 >/proc/sys/kernel/printk
	if [ -w /proc/sys/kernel/hung_task_timeout_secs ]; then
		echo 30 >/proc/sys/kernel/hung_task_timeout_secs
	fi
	# Every SysRq, for debugging a hung VM through QEMU's monitor.
	echo 1 >/proc/sys/kernel/sysrq
	# A CPU stuck for good (RCU stall, soft lockup) fails the run anyway:
	# panic (panic=-1 ends the VM) right after the report, with its
	# stack, instead of repeating it until the VM's time limit.
	for knob in panic_on_rcu_stall softlockup_panic; do
		[ -w /proc/sys/kernel/$knob ] && echo 1 >/proc/sys/kernel/$knob
	done
	# Boot-time kmemleak suspects are not ours: report them now (two scans:
	# a new object is only reported once its checksum is stable), then mark
	# them as seen so the final scan shows only what the tests leaked.
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan=off >/sys/kernel/debug/kmemleak
		echo scan >/sys/kernel/debug/kmemleak
		echo scan >/sys/kernel/debug/kmemleak
		echo clear >/sys/kernel/debug/kmemleak
		say "kmemleak: boot suspects cleared"
	fi
}

cmdline_value() {
	# shellcheck disable=SC2013 # the command line is one line of words
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		"$1"=*) echo "${arg#*=}"; return 0 ;;
		esac
	done
	echo "$2"
}

# What udev/60-zsync.rules does on a real system (the VM has no udev):
# /dev/zsync is root:zsync 0660, so only root and the zsync group may open
# it. Tests that drop to another user keep that group (setgroups), as a
# user who was added to it would have it, or drop it to prove the denial.
ZSYNC_GID=990
device_access() {
	grep -q '^zsync:' /etc/group || echo "zsync:x:$ZSYNC_GID:" >>/etc/group
	if chgrp zsync /dev/zsync; then
		say "/dev/zsync: $(ls -ln /dev/zsync)"
	else
		say "FAILED: cannot give /dev/zsync to group zsync"
		status "error device-access"
	fi
}

# zsync.ko first, then any other module built alongside it (drivers).
load_modules() {
	kmsg "zsync-test: begin insmod"
	insmod /lib/modules/zsync.ko
	rc=$?
	kmsg "zsync-test: end insmod rc=$rc"
	status "insmod zsync rc=$rc"
	if [ $rc -ne 0 ]; then
		say "FAILED: insmod /lib/modules/zsync.ko (rc=$rc); see the kernel log above"
		return 1
	fi
	say "zsync.ko loaded"
	device_access
	for m in /lib/modules/*.ko; do
		[ "$m" = /lib/modules/zsync.ko ] && continue
		[ -f "$m" ] || continue
		name=$(basename "$m" .ko)
		insmod "$m"
		rc=$?
		status "insmod $name rc=$rc"
		[ $rc -eq 0 ] || say "FAILED: insmod $m (rc=$rc)"
	done
	return 0
}

unload_modules() {
	kmsg "zsync-test: begin rmmod"
	for m in /lib/modules/*.ko; do
		[ -f "$m" ] || continue
		name=$(basename "$m" .ko)
		[ "$name" = zsync ] && continue
		rmmod "$name"
		status "rmmod $name rc=$?"
	done
	rmmod zsync
	rc=$?
	kmsg "zsync-test: end rmmod rc=$rc"
	status "rmmod zsync rc=$rc"
	[ $rc -eq 0 ] || say "FAILED: rmmod zsync (rc=$rc)"
}

# reap_leftovers NAME PATH: kill what a binary left running. A test child that
# outlives its binary (killed at the time limit) keeps its rings open, and
# then the next tests and rmmod see them; nothing may survive a binary.
reap_leftovers() {
	n=0
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" -eq 1 ] && continue
		# Kernel threads (and zombies) have an empty command line.
		[ "$(head -c 1 "$d/cmdline" 2>/dev/null | wc -c)" -gt 0 ] || continue
		cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
		kill -KILL "$pid" 2>/dev/null || continue
		# busybox timeout's watcher outlives the binary by up to 1 s.
		case "$cmd" in "timeout -s KILL $BINTO $2 ") continue ;; esac
		n=$((n + 1))
		say "$1 left pid $pid running: $cmd"
	done
	if [ $n -gt 0 ]; then
		say "$1 left $n process(es) running; killed them"
		status "leftover $1 n=$n"
		sleep 1
	fi
}

# run_one NAME PATH: one binary, output to the KTAP port, markers around it.
run_one() {
	name=$1
	prog=$2
	say "run $name"
	echo "# zsync-test: begin $name" >"$KTAP"
	kmsg "zsync-test: begin $name"
	start=$(date +%s)
	if [ "$BINTO" -gt 0 ]; then
		(cd /tmp && exec timeout -s KILL "$BINTO" "$prog") >"$KTAP" 2>&1 </dev/null
	else
		(cd /tmp && exec "$prog") >"$KTAP" 2>&1 </dev/null
	fi
	rc=$?
	secs=$(($(date +%s) - start))
	reap_leftovers "$name" "$prog"
	kmsg "zsync-test: end $name rc=$rc"
	echo "# zsync-test: end $name rc=$rc" >"$KTAP"
	status "result $name rc=$rc secs=$secs"
	say "$name rc=$rc (${secs}s)"
}

run_selftests() {
	[ -f /etc/zsync-tests ] || return 0
	while read -r t; do
		[ -n "$t" ] && run_one "$t" "/selftests/$t"
	done </etc/zsync-tests
}

run_bench() {
	found=0
	for b in /bin/zsync-bench*; do
		[ -x "$b" ] || continue
		# vm-run.sh --bench --tests "nop ..." lists the ones to run.
		if [ -s /etc/zsync-tests ]; then
			grep -qx "$(basename "$b")" /etc/zsync-tests || continue
		fi
		found=1
		run_one "$(basename "$b")" "$b"
	done
	[ $found -eq 1 ] || say "no /bin/zsync-bench* in the initramfs"
}

run_demo() {
	if [ -x /bin/zsync-demo ]; then
		run_one zsync-demo /bin/zsync-demo
	else
		say "no /bin/zsync-demo in the initramfs"
		status "result zsync-demo rc=127 secs=0"
	fi
}

# kmemleak_report PHASE SCANS: scan, print suspected leaks to the console,
# then mark them as seen so a later report does not repeat them.
kmemleak_report() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	say "kmemleak: scanning ($1)"
	kmsg "zsync-test: begin kmemleak-$1"
	# A scan reports only objects whose contents did not change since the
	# previous scan and that were at least 5 s old when it started: new
	# objects need two scans, the second starting >= 5 s after the tests
	# (under TCG the first scan alone takes longer than that).
	start=$(date +%s)
	echo scan >/sys/kernel/debug/kmemleak
	if [ "$2" -gt 1 ]; then
		left=$((start + 6 - $(date +%s)))
		[ $left -gt 0 ] && sleep $left
		echo scan >/sys/kernel/debug/kmemleak
	fi
	n=$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak)
	cat /sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
	kmsg "zsync-test: end kmemleak-$1 leaks=$n"
	status "kmemleak $1 leaks=$n"
	say "kmemleak: $n suspected leak(s) ($1)"
}

main() {
	mount_fs
	setup_system
	MODE=$(cmdline_value zsynctest.mode check)
	BINTO=$(cmdline_value zsynctest.binto 0)
	kmsg "zsync-init: up, mode=$MODE"
	say "up: $(uname -r), mode=$MODE, $(nproc) cpus"
	status "up $(uname -r) mode=$MODE"
	if load_modules; then
		case "$MODE" in
		check) run_selftests ;;
		demo) run_demo ;;
		bench) run_bench ;;
		none) ;;
		*) say "unknown mode '$MODE'"; status "error unknown-mode" ;;
		esac
		# Leaks are reported while the module is loaded, so their
		# backtraces name its functions; objects that only its static
		# data still pointed to show up after the unload (their contents
		# are already known to kmemleak, so one scan finds them).
		kmemleak_report tests 2
		unload_modules
		kmemleak_report unload 1
	else
		kmemleak_report insmod 2
	fi
	status "done"
	say "powering off"
	sync
	poweroff -f
	# Only reached if poweroff failed.
	echo o >/proc/sysrq-trigger
	sleep 10
}

main
