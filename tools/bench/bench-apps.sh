#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-apps: one 6.1 VM boot, every HTTP and echo server in turn
# (zk-httpd and zk-echo on the zsync backend, the epoll floor, Go, Node,
# hyper/Tokio), one table (tools/bench/bench-apps-vm.sh runs in the VM).
set -euo pipefail

usage() {
	cat <<'EOF2'
Usage: tools/bench/bench-apps.sh [--help]

Boots KERNEL (6.1) with zsync.ko and MEM MiB, and runs there every server
of SERVERS in turn with the same parameters, a fresh process per run, in
ROUNDS interleaved rounds (round 1 runs every server at every load, then
round 2, ...):

  HTTP (zk-httpd; zsync-http-epoll; Go net/http; Node http; hyper on
  Tokio) under wrk, GET / keep-alive, WARMUP s untimed then DURATION s
  at each of CONNS connections: requests/s, p50 and p99 latency;
  echo (zk-echo; zsync-echo-epoll; Go; Node; Tokio) under
  zsync-echo-load, 64-byte messages, WARMUP + DURATION s at each of
  ECHO_CONNS connections: round trips/s and p99;
  memory per connection at the largest ECHO_CONNS: the echo server's
  VmRSS once every connection is open, minus its VmRSS once listening,
  over the connections.

Prints one table: per metric the median of the rounds and their
min-max, then each zk configuration's ratio to the best peer (the best
non-zk server of each row; the epoll floor is no yardstick for memory).
A server that does not start, dies or fails its load shows as failed,
with the reason; the others go on.

The zk servers run with the green and stackless executors on BACKEND
(zsync; zk-threads can be added to SERVERS).  Go is built here, static
(GOCACHE under $BUILD/bench-apps); the Tokio peers are built here offline
against Debian's crates (as make bench-http does) and dropped, with a
message, where cargo or the crates are missing; Node is Debian's node
and dropped where it is not installed.  wrk is Debian's.  Programs are
copied into the VM with their shared libraries.  The VM runs under TCG
(no KVM, 2 vCPUs shared by servers and load): compare the columns with
each other, not with a host's numbers.

Environment: ROUNDS (3), DURATION (5), WARMUP (2), CONNS ("1 64 1024"),
ECHO_CONNS ("64 10000"), THREADS (wrk threads, 2), SERVERS ("zk-green
zk-stackless epoll go node tokio"), BACKEND (zsync), MEM (guest MiB,
4096), KERNEL (6.1), TIMEOUT (VM limit in s; default from the rounds),
BUILD (<repo>/build).  Logs: $BUILD/vm/bench-apps (ktap.log: every run).
EOF2
}
if [[ $# -gt 0 ]]; then
	[[ $1 == -h || $1 == --help ]] && { usage; exit 0; }
	echo "bench-apps: unknown argument '$1' (see --help)" >&2
	exit 2
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} WARMUP=${WARMUP:-2} THREADS=${THREADS:-2}
CONNS=${CONNS:-"1 64 1024"}
ECHO_CONNS=${ECHO_CONNS:-"64 10000"}
SERVERS=${SERVERS:-"zk-green zk-stackless epoll go node tokio?"}
BACKEND=${BACKEND:-zsync}
MEM=${MEM:-4096}
VMOUT=$BUILD/vm/bench-apps
OUT=$BUILD/bench-apps
OVL=$OUT/vm-overlay
SHARE=/usr/share/zsync-k-bench

PROG=bench-apps
# shellcheck source=tools/bench/bench-lib.sh
. "$REPO/tools/bench/bench-lib.sh"

for n in ROUNDS DURATION WARMUP THREADS MEM; do
	[[ ${!n} =~ ^[0-9]+$ && ${!n} -gt 0 ]] || die "$n='${!n}' is not a positive number"
done
for b in tools/examples/zk-httpd tools/examples/zk-echo tools/zsync-http-epoll \
	 tools/zsync-echo-epoll tools/zsync-echo-load; do
	[[ -x $BUILD/$b ]] || die "$BUILD/$b missing: run 'make tools'"
done
command -v wrk >/dev/null || die "wrk missing: run 'make deps' (wrk)"
tokio_resolve ''
if [[ " $SERVERS " == *" node "* ]] && ! command -v node >/dev/null; then
	SERVERS=$(echo "$SERVERS" | sed 's/ *node//')
	echo "$PROG: node not found, skipping the Node.js peer ('make deps' installs nodejs)" >&2
fi

rm -rf "$OVL"
mkdir -p "$OVL/bin" "$OVL/usr/bin" "$OVL$SHARE" "$VMOUT"
cp "$(command -v wrk)" "$OVL/usr/bin/wrk"
if [[ " $SERVERS " == *" go "* ]]; then
	for k in http echo; do
		go_peer "$OVL/bin/$k-go" "$REPO/tools/bench/peers/$k.go" \
			"$REPO/tools/bench/peers/listen.go"
	done
fi
if [[ " $SERVERS " == *" tokio "* ]]; then
	tokio_peer
	cp "$TOKIO_BIN/http-tokio" "$TOKIO_BIN/echo-tokio" "$OVL/bin/"
fi
if [[ " $SERVERS " == *" node "* ]]; then
	cp "$(command -v node)" "$OVL/usr/bin/node"
	cp "$REPO"/tools/bench/peers/*.js "$OVL$SHARE/"
fi
cp "$REPO/tools/bench/bench-lib.sh" "$REPO/tools/bench/bench-apps-vm.sh" \
	"$REPO/tools/bench/bench-apps-table.awk" "$REPO/tools/bench/bench-stats.awk" \
	"$OVL$SHARE/"

# The VM's limit: every run at its longest (start, connect, load, stop),
# plus the boot.
nservers=$(echo "$SERVERS" | wc -w)
nloads=$(echo "$CONNS $ECHO_CONNS" | wc -w)
TIMEOUT=${TIMEOUT:-$((ROUNDS * nservers * nloads * (DURATION + WARMUP + 30) + 600))}

vm_ktap_script "$VMOUT/bench-apps-vm" bench-apps \
	"ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS \
CONNS='$CONNS' ECHO_CONNS='$ECHO_CONNS' SERVERS='$SERVERS' BACKEND=$BACKEND \
SHARE=$SHARE sh $SHARE/bench-apps-vm.sh"
echo "$PROG: $SERVERS in a ${KERNEL:-6.1} VM ($MEM MiB, TCG), $ROUNDS rounds;" \
     "progress in $VMOUT/ktap.log"
rc=0
"$REPO/tools/testing/vm-run.sh" --kernel "${KERNEL:-6.1}" --overlay "$OVL" \
	--tests "$VMOUT/bench-apps-vm" --out "$VMOUT" --mem "$MEM" --timeout "$TIMEOUT" -q || rc=$?
sed -n 's/^# //p' "$VMOUT/ktap.log" | sed -n '/^bench-apps: [0-9]* rounds/p; /^median of the rounds/,$p'
exit $rc
