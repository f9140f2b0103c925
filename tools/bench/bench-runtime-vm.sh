#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The VM side of make bench-runtime (tools/bench/bench-runtime.sh packs it
# into the VM with crun, runc, the bundles and this file).  busybox sh:
# the VM has no bash.  Prints the samples' table on stdout.
set -eu

usage() {
	cat <<'EOF'
Usage: bench-runtime-vm.sh [--help]

Times the whole life of one container (/bin/true with memory.max, pids.max
and cpu.max; new pid, mount, UTS, IPC and network namespaces) COUNT times
in a row with each RUNTIME, in ROUNDS interleaved rounds (the order
rotates each round), and prints per runtime the median, the nearest-rank
p99 and the max of all samples, in ms, and the median's and p99's ratios
to crun.  Before the rounds each runtime's container prints its three
limits once, which must be the same; fails if they differ or a cgroup
outlives its container.

Environment:
  ROUNDS    rounds (3)
  COUNT     containers in a row, per runtime and round (20)
  WARMUP    untimed containers before each row (1)
  RUNTIMES  "ring plain crun runc" (any subset; crun is the yardstick)
  SHARE     where bench-runtime.sh put the bundles (/usr/share/zsync-k-bench)
  WORK      scratch directory for the samples (/tmp/bench-runtime)
Exit status: 0 all ran; 1 a runtime failed (its error is printed); 2 usage.
EOF
}
case "${1:-}" in
-h|--help) usage; exit 0 ;;
"") ;;
*) echo "bench-runtime-vm: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-20}
WARMUP=${WARMUP:-1}
RUNTIMES=${RUNTIMES:-ring plain crun runc}
SHARE=${SHARE:-/usr/share/zsync-k-bench}
WORK=${WORK:-/tmp/bench-runtime}
CG=/sys/fs/cgroup
# The same three limits everywhere; the bundles' config.json carry them
# too (bench-runtime.sh writes both from the same numbers).
MEM=268435456
PIDS=64
CPU_QUOTA=50000
CPU_PERIOD=100000

die() { echo "bench-runtime-vm: error: $*" >&2; exit 1; }

# What crun and runc expect of a host that the VM's busybox init does not
# set up for everyone; done here, for this bench only.
setup() {
	# The VM's init enables memory and pids for everyone; cpu (cpu.max)
	# only this bench needs.
	for c in memory pids cpu; do
		grep -qw "$c" "$CG/cgroup.subtree_control" && continue
		echo "+$c" >"$CG/cgroup.subtree_control" ||
			die "cannot enable controller $c in $CG/cgroup.subtree_control" \
			    "(available: $(cat "$CG/cgroup.controllers"))"
	done
	# Their state directories (--root): /run is a tmpfs in the VM.
	mkdir -p /run/crun /run/runc || die "cannot create /run/crun, /run/runc"
	# The bundles' rootfs, which bench-runtime.sh puts in the overlay.
	[ -x "$SHARE/rootfs/bin/true" ] || die "$SHARE/rootfs/bin/true missing"
	rm -rf "$WORK"
	mkdir -p "$WORK"
}

# launcher RUNTIME: the first word of its command line, checked before the
# rounds so a missing program is reported once and early.
launcher() {
	case $1 in
	ring|plain) echo zsync-run ;;
	crun|runc) echo "$1" ;;
	*) die "unknown runtime '$1' (ring plain crun runc)" ;;
	esac
}

# timeit RUNTIME ZSYNC-TIMEIT-OPTIONS...: COUNT containers in a row on
# RUNTIME.  The VM's root is the initramfs (rootfs), which pivot_root(2)
# cannot leave: crun and runc need --no-pivot (a move mount and chroot
# instead).  Both use the cgroupfs manager (no systemd here; crun's
# default, said anyway).
timeit() {
	rt=$1
	shift
	case $rt in
	ring|plain)
		zsync-timeit "$@" -l "$rt" -- zsync-run --backend "$rt" --memory-max $MEM \
			--pids-max $PIDS --set "cpu.max=$CPU_QUOTA $CPU_PERIOD" -- /bin/true ;;
	crun)
		zsync-timeit "$@" -l crun -- crun --cgroup-manager=cgroupfs run --no-pivot \
			--bundle "$SHARE/crun" zsync-bench ;;
	runc)
		zsync-timeit "$@" -l runc -- runc run --no-pivot --bundle "$SHARE/runc" zsync-bench ;;
	esac
}

setup
for rt in $RUNTIMES; do
	launcher "$rt" >/dev/null	# dies here, not in a $(...), on a bad name
	command -v "$(launcher "$rt")" >/dev/null || die "$rt: $(launcher "$rt") not in PATH"
done
echo "versions: $(crun --version 2>/dev/null | head -1); $(runc --version 2>/dev/null | head -1); kernel $(uname -r)"
# That the ring row is on the ring: zsync-run -v counts its cgroup calls.
check=$(zsync-run -v --backend ring --memory-max $MEM --pids-max $PIDS \
	--set "cpu.max=$CPU_QUOTA $CPU_PERIOD" -- /bin/true 2>&1) ||
	die "zsync-run --backend ring failed: $check"
calls=$(echo "$check" | grep 'cgroup calls') || die "zsync-run -v printed no cgroup calls: $check"
echo "ring check: $calls"
# A ring row off the ring (module without the cgroup family) compares nothing.
case $calls in
*" 0 on the ring"*) die "zsync-run --backend ring made no cgroup call on the ring" ;;
esac
# What starting the launcher alone costs (exec, dynamic loading, --help or
# --version), to read the rows against: under TCG crun's and runc's
# start-up is a good part of their row.
for rt in $RUNTIMES; do
	case $rt in
	ring) set -- zsync-run --help ;;
	plain) continue ;;
	*) set -- "$rt" --version ;;
	esac
	zsync-timeit -q -n 5 -w 1 -l "$(launcher "$rt")" -o "$WORK/startup" -- "$@" ||
		die "$* failed"
done
sort -k1,1 -k2,2n "$WORK/startup" | awk '{ n[$1]++; v[$1, n[$1]] = $2 }
	END { for (k in n) printf "start-up alone: %s %.2f ms (median of %d)\n", k,
	      v[k, int((n[k] + 1) / 2)], n[k] }'

# That every runtime sets the same three limits: each prints its
# container's memory.max, pids.max and cpu.max once (zsync-run reads them
# through /proc/self/cgroup; crun and runc get a cgroup namespace and
# cgroup2 for this, bench-runtime.sh's "check" bundles).
want="$MEM $PIDS $CPU_QUOTA $CPU_PERIOD"
for rt in $RUNTIMES; do
	case $rt in
	ring|plain)
		# The $(...) is the container's shell's.
		# shellcheck disable=SC2016
		got=$(zsync-run --backend "$rt" --memory-max $MEM --pids-max $PIDS \
			--set "cpu.max=$CPU_QUOTA $CPU_PERIOD" -- /bin/sh -c \
			'cd /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup) && cat memory.max pids.max cpu.max' 2>&1) ;;
	crun)
		got=$(crun --cgroup-manager=cgroupfs run --no-pivot --bundle "$SHARE/crun-check" \
			zsync-bench-check 2>&1) ;;
	runc)
		got=$(runc run --no-pivot --bundle "$SHARE/runc-check" zsync-bench-check 2>&1) ;;
	esac || die "$rt: the limits check failed: $got"
	got=$(echo "$got" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] || die "$rt: limits '$got', want '$want'"
	echo "limits check: $rt: $got"
done

r=1
order=$RUNTIMES
while [ "$r" -le "$ROUNDS" ]; do
	echo "round $r: $order"
	for rt in $order; do
		timeit "$rt" -n "$COUNT" -w "$WARMUP" -o "$WORK/samples" ||
			die "$rt failed in round $r (its error above)"
		sed -n "s/^$rt //p" "$WORK/samples" | tail -n "$COUNT" |
			sort -n | awk -v rt="$rt" -v r="$r" '{ v[NR] = $1 }
				END { printf "  %s round %d median %.2f ms\n", rt, r,
				      NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
	done
	# Rotate: each runtime takes each place in the order once in a while.
	order="$(echo "$order" | cut -d' ' -f2-) $(echo "$order" | cut -d' ' -f1)"
	r=$((r + 1))
done

# Nothing may outlive a container: each launcher removes its cgroup.
left=$(ls -d "$CG"/zsync-run-* "$CG"/zsync-bench-* 2>/dev/null || true)
[ -z "$left" ] || die "cgroups left behind: $left"

# The table: per runtime all ROUNDS x COUNT samples; the median, the
# nearest-rank p99 (with 100 samples or fewer it is the max, so the max is
# printed next to it) and the max, and the median and p99 over crun's.
echo
sort -k1,1 -k2,2n "$WORK/samples" | awk -v order="$RUNTIMES" '
	{ n[$1]++; v[$1, n[$1]] = $2 }
	function median(rt,   k) {
		k = n[rt]
		return k % 2 ? v[rt, (k + 1) / 2] : (v[rt, k / 2] + v[rt, k / 2 + 1]) / 2
	}
	function p99(rt,   k) {
		k = int(n[rt] * 99 / 100)
		if (k < n[rt] * 99 / 100)
			k++
		return v[rt, k]
	}
	END {
		printf "%-8s %7s %9s %9s %9s %11s %8s\n", "runtime", "samples", "median ms",
		       "p99 ms", "max ms", "median/crun", "p99/crun"
		k = split(order, rts, " ")
		for (i = 1; i <= k; i++) {
			rt = rts[i]
			if (!(rt in n))
				continue
			printf "%-8s %7d %9.2f %9.2f %9.2f", rt, n[rt], median(rt), p99(rt),
			       v[rt, n[rt]]
			if ("crun" in n)
				printf " %11.2f %8.2f\n", median(rt) / median("crun"),
				       p99(rt) / p99("crun")
			else
				printf " %11s %8s\n", "-", "-"
		}
	}'
