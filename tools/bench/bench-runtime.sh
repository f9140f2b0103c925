#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-runtime: the whole life of one container, zsync-run (ring and
# plain) next to Debian's crun (and runc), in a 6.1 VM.  This side packs
# the overlay (the runtimes, a busybox rootfs, the OCI bundles and the VM
# side, bench-runtime-vm.sh), boots the VM and prints the table.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/bench/bench-runtime.sh [--help]

Boots KERNEL (6.1) with zsync.ko and times the whole life of one container
(/bin/true; memory.max, pids.max and cpu.max; new pid, mount, UTS, IPC and
network namespaces; cgroup under /sys/fs/cgroup; root, no user namespace):
COUNT (20) containers in a row with each of RUNTIMES ("ring plain crun
runc": zsync-run --backend ring, zsync-run --backend plain, crun run, runc
run), in ROUNDS (3) interleaved rounds, each row after WARMUP (1) untimed
containers.  Prints per runtime the median, the nearest-rank p99 and the
max of all samples in ms (with 100 samples or fewer the p99 is the max, or
next to it) and the median's and p99's ratios to crun.  A sample is fork to waitpid of the launcher, on
CLOCK_MONOTONIC (build/tools/zsync-timeit).

crun and runc are Debian's (crun 1.8.1, runc 1.1.5 in Debian 12; make
deps), copied into the VM with their shared libraries.  Their bundles are
written under $BUILD/bench-runtime: a busybox rootfs and a config.json with
the same limits and namespaces as zsync-run.  The VM runs under TCG (no
KVM): compare the rows with each other, not with a host's numbers.
Logs: $BUILD/vm/bench-runtime (ktap.log: every round's medians).
Environment: KERNEL, ROUNDS, COUNT, WARMUP, RUNTIMES, BUILD.
EOF
}
if [[ $# -gt 0 ]]; then
	[[ $1 == -h || $1 == --help ]] && { usage; exit 0; }
	echo "bench-runtime: unknown argument '$1' (see --help)" >&2
	exit 2
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
OUT=$BUILD/vm/bench-runtime
OVL=$BUILD/bench-runtime/vm-overlay
SHARE=/usr/share/zsync-k-bench
ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-20}
WARMUP=${WARMUP:-1}
RUNTIMES=${RUNTIMES:-ring plain crun runc}
# The limits of bench-runtime-vm.sh's zsync-run command line.
MEM=268435456
PIDS=64
CPU_QUOTA=50000
CPU_PERIOD=100000

die() { echo "bench-runtime: error: $*" >&2; exit 1; }

for n in ROUNDS COUNT; do
	[[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n='${!n}' is not a positive count"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP='$WARMUP' is not a count"
for t in zsync-run zsync-timeit; do
	[[ -x $BUILD/tools/$t ]] || die "$BUILD/tools/$t missing: run 'make tools'"
done
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
	die "/bin/busybox missing or not static: run 'make deps' (busybox-static)"
fi
for rt in $RUNTIMES; do
	case $rt in
	ring|plain) ;;
	crun) [[ -x /usr/bin/crun ]] || die "/usr/bin/crun missing: run 'make deps' (crun)" ;;
	runc) [[ -x /usr/sbin/runc ]] || die "/usr/sbin/runc missing: run 'make deps' (runc)" ;;
	*) die "unknown runtime '$rt' in RUNTIMES (ring plain crun runc)" ;;
	esac
done

rm -rf "$OVL"
mkdir -p "$OVL/usr/bin" "$OVL/usr/sbin" "$OVL$SHARE" "$OUT"
# The runtimes' own binaries; vm-run.sh's --overlay brings their libraries.
[[ " $RUNTIMES " == *" crun "* ]] && cp /usr/bin/crun "$OVL/usr/bin/crun"
[[ " $RUNTIMES " == *" runc "* ]] && cp /usr/sbin/runc "$OVL/usr/sbin/runc"
cp "$REPO/tools/bench/bench-runtime-vm.sh" "$OVL$SHARE/"

# The containers' root: a static busybox and the directories the runtimes
# mount on (the root is read-only, so they must be there already).
ROOTFS=$OVL$SHARE/rootfs
mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys/fs/cgroup" "$ROOTFS/tmp"
cp /bin/busybox "$ROOTFS/bin/busybox"
ln -s busybox "$ROOTFS/bin/true"
ln -s busybox "$ROOTFS/bin/sh"
ln -s busybox "$ROOTFS/bin/cat"

# config.json, written rather than `crun spec`-generated: the spec's
# defaults mount /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and
# /sys/fs/cgroup and mask a dozen paths, none of which zsync-run does; this
# one asks for what zsync-run does (the namespaces, /proc, the hostname,
# the three limits) and keeps the spec's process defaults (its
# capabilities, no_new_privs).  $1: the cgroup, under /sys/fs/cgroup.
# With $2 = check, the container prints its three limits instead: in a
# cgroup namespace, with cgroup2 mounted, its own cgroup is the root it
# sees (bench-runtime-vm.sh compares them with zsync-run's, once).
write_config() {
	local args='"/bin/true"' mounts='' nss=''
	if [[ ${2:-} == check ]]; then
		args='"/bin/sh", "-c", "cd /sys/fs/cgroup && cat memory.max pids.max cpu.max"'
		mounts=',
		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup" }'
		nss=',
			{ "type": "cgroup" }'
	fi
	cat <<EOF
{
	"ociVersion": "1.0.0",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": [ $args ],
		"env": [ "PATH=/bin" ],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"noNewPrivileges": true
	},
	"root": { "path": "$SHARE/rootfs", "readonly": true },
	"hostname": "zsync-run",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" }$mounts
	],
	"linux": {
		"cgroupsPath": "$1",
		"resources": {
			"memory": { "limit": $MEM },
			"pids": { "limit": $PIDS },
			"cpu": { "quota": $CPU_QUOTA, "period": $CPU_PERIOD }
		},
		"namespaces": [
			{ "type": "pid" },
			{ "type": "mount" },
			{ "type": "uts" },
			{ "type": "ipc" },
			{ "type": "network" }$nss
		]
	}
}
EOF
}
for rt in crun runc; do
	mkdir -p "$OVL$SHARE/$rt"
	write_config "/zsync-bench-$rt" >"$OVL$SHARE/$rt/config.json"
	mkdir -p "$OVL$SHARE/$rt-check"
	write_config "/zsync-bench-$rt" check >"$OVL$SHARE/$rt-check/config.json"
done

# The VM runs it as a test: KTAP around the bench's output.
cat >"$OUT/bench-runtime-vm" <<EOF
#!/bin/sh
echo "TAP version 13"
echo "1..1"
if ROUNDS=$ROUNDS COUNT=$COUNT WARMUP=$WARMUP RUNTIMES="$RUNTIMES" SHARE=$SHARE \\
   sh $SHARE/bench-runtime-vm.sh >/tmp/bench.out 2>&1; then r=ok; else r="not ok"; fi
sed 's/^/# /' /tmp/bench.out
echo "\$r 1 bench-runtime"
[ "\$r" = ok ]
EOF
chmod 755 "$OUT/bench-runtime-vm"
rc=0
# Boot and module load take a few minutes under TCG; the bench itself
# about ROUNDS x COUNT x 4 containers of well under a second each.
timeout 1500 "$REPO/tools/testing/vm-run.sh" --kernel "${KERNEL:-6.1}" --overlay "$OVL" \
	--tests "$OUT/bench-runtime-vm" --out "$OUT" --timeout 1200 -q || rc=$?
sed -n 's/^# //p' "$OUT/ktap.log" | sed -n '/^runtime  /,$p' | grep -v '^zsync-test:' || true
grep -q '^# runtime  ' "$OUT/ktap.log" ||
	echo "bench-runtime: no table; see $OUT/ktap.log and $OUT/console.log" >&2
exit $rc
