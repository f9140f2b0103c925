#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-echo-vm: tools/bench/bench-echo.sh inside a 6.1 VM, with
# zk-echo on the zsync backend, against the epoll floor and Go.
set -euo pipefail

usage() {
	cat <<'EOF2'
Usage: tools/bench/bench-echo-vm.sh [--help]

Boots KERNEL (6.1) with zsync.ko and runs bench-echo.sh there: zk-echo on
BACKEND (zsync) with the green and stackless executors, the epoll floor
and Go (built static here; Node is not in the VM's initramfs), at CONNS
("64 1000") connections, ROUNDS (3) interleaved rounds of DURATION (3) s,
and prints its table.  The VM runs under TCG (no KVM): compare the rows
with each other, not with the host's table.  Logs: $BUILD/vm/bench-echo.
EOF2
}
if [[ $# -gt 0 ]]; then
	[[ $1 == -h || $1 == --help ]] && { usage; exit 0; }
	echo "bench-echo-vm: unknown argument '$1' (see --help)" >&2
	exit 2
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
OUT=$BUILD/vm/bench-echo
OVL=$BUILD/bench-echo/vm-overlay
SHARE=/usr/share/zsync-k-bench
PROG=bench-echo-vm
# shellcheck source=tools/bench/bench-lib.sh
. "$REPO/tools/bench/bench-lib.sh"
rm -rf "$OVL"
mkdir -p "$OVL/bin" "$OVL$SHARE" "$OUT"
OUT=$BUILD/bench-echo go_peer "$OVL/bin/echo-go" "$REPO/tools/bench/peers/echo.go" \
	"$REPO/tools/bench/peers/listen.go"
cp "$REPO/tools/bench/bench-echo.sh" "$REPO/tools/bench/bench-lib.sh" \
	"$REPO/tools/bench/bench-echo-table.awk" "$REPO/tools/bench/bench-stats.awk" \
	"$OVL$SHARE/"

# The VM runs it as a test: KTAP around the bench's output.
vm_ktap_script "$OUT/bench-echo-vm" bench-echo \
	"BUILD=/tmp OUT=/tmp/bench-echo ZK_ECHO=/bin/zk-echo ECHO_EPOLL=/bin/zsync-echo-epoll \
ECHO_LOAD=/bin/zsync-echo-load ECHO_GO=/bin/echo-go TABLE_AWK=$SHARE/bench-echo-table.awk \
BACKEND=${BACKEND:-zsync} SERVERS='zk-green zk-stackless epoll go' CONNS='${CONNS:-64 1000}' \
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-3} WARMUP=${WARMUP:-1} SIZE=${SIZE:-64} \
sh $SHARE/bench-echo.sh"
rc=0
"$REPO/tools/testing/vm-run.sh" --kernel "${KERNEL:-6.1}" --overlay "$OVL" \
	--tests "$OUT/bench-echo-vm" --out "$OUT" --timeout 1200 -q || rc=$?
sed -n 's/^# //p' "$OUT/ktap.log" | sed -n '/^server  /,$p'
exit $rc
