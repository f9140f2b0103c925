#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench-echo: every echo server in turn under zsync-echo-load, and one
# table of medians.  POSIX sh: it runs on the host and, for make
# bench-echo-vm, in the VM's busybox.
set -eu

usage() {
	cat <<'EOF'
Usage: tools/bench/bench-echo.sh [--help]

Runs each echo server in turn (zk-echo on the io_uring backend with the
green and the stackless executor, the plain epoll floor zsync-echo-epoll,
Go's goroutine-per-connection echo, Node.js's net echo, a Tokio
task-per-connection echo) under zsync-echo-load at 64 and at 10,000
connections, ROUNDS interleaved rounds (each round runs every server once,
in the same order), a fresh server process per run, and prints the
medians:

  round trips/s and p99 latency at each connection count;
  resident memory per connection at the largest count: the server's peak
  RSS during the run (VmHWM) minus its RSS once listening (VmRSS), divided
  by the connections;
  each zk-echo configuration's ratios to the best peer of each column.

Environment: BUILD (<repo>/build), ROUNDS (3), DURATION (seconds
measured per run, 5), WARMUP (1), SIZE (message bytes, 64),
CONNS ("64 10000"), SERVERS (default all: zk-green zk-stackless epoll go
node tokio, tokio only when cargo and Debian's tokio and hyper crates are),
BACKEND (zk-echo's backend, io_uring), OUT (results directory,
$BUILD/bench-echo).
Go is built here (GOCACHE under $OUT) unless ECHO_GO names a binary;
Node runs tools/bench/peers/echo.js; tools/bench/peers/rust is built here
with cargo --offline against /usr/share/cargo/registry (CARGO_HOME and the
target dir under $OUT; CARGO picks the cargo, default Debian's) unless
ECHO_TOKIO names a binary.  Where the programs live (the VM):
ZK_ECHO, ECHO_EPOLL, ECHO_LOAD, ECHO_GO, ECHO_TOKIO, TABLE_AWK (with
bench-stats.awk next to it).
EOF
}
if [ $# -gt 0 ]; then
	case "$1" in -h|--help) usage; exit 0 ;; esac
	echo "bench-echo: unknown argument '$1' (see --help)" >&2
	exit 2
fi

# Everything it needs is under the tree it lives in, BUILD aside.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} WARMUP=${WARMUP:-1} SIZE=${SIZE:-64}
CONNS=${CONNS:-"64 10000"}
# tokio?: Tokio where cargo and the crates are (checked once sourced).
SERVERS=${SERVERS:-"zk-green zk-stackless epoll go node tokio?"}
BACKEND=${BACKEND:-io_uring}
OUT=${OUT:-$BUILD/bench-echo}
ZK_ECHO=${ZK_ECHO:-$BUILD/tools/examples/zk-echo}
ECHO_EPOLL=${ECHO_EPOLL:-$BUILD/tools/zsync-echo-epoll}
ECHO_LOAD=${ECHO_LOAD:-$BUILD/tools/zsync-echo-load}
TABLE_AWK=${TABLE_AWK:-$REPO/tools/bench/bench-echo-table.awk}
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"

PROG=bench-echo
. "$(dirname "$0")/bench-lib.sh"

tokio_resolve "${ECHO_TOKIO:-}"

for b in "$ECHO_LOAD" "$ECHO_EPOLL" "$ZK_ECHO"; do
	[ -x "$b" ] || die "$b missing: run 'make tools'"
done
case " $SERVERS " in *" node "*)
	command -v node >/dev/null || die "node missing: run 'make deps' (nodejs)" ;;
esac
case " $SERVERS " in *" go "*)
	if [ -z "${ECHO_GO:-}" ]; then
		ECHO_GO=$OUT/echo-go
		go_peer "$ECHO_GO" "$REPO/tools/bench/peers/echo.go" \
			"$REPO/tools/bench/peers/listen.go"
	fi ;;
esac
case " $SERVERS " in *" tokio "*)
	if [ -z "${ECHO_TOKIO:-}" ]; then
		tokio_peer
		ECHO_TOKIO=$TOKIO_BIN/echo-tokio
	fi ;;
esac

server_cmd() { app_cmd echo "$1"; }

# run_one SERVER CONNS: one fresh server, one load run; appends a result line.
run_one() {
	bench_start "$1"
	line=$("$ECHO_LOAD" --port "$port" --connections "$2" --size "$SIZE" \
		--duration "$DURATION" --warmup "$WARMUP" 2>&1 | grep '^connections=') || true
	bench_stop "$1" "$2"
	[ -n "$line" ] || line="connections=$2 rt_per_s=0 p99_us=0 errors=failed"
	echo "server=$1 $line rss_kb_per_conn=$rss_per_conn" | tee -a "$RESULTS"
}

echo "bench-echo: $ROUNDS rounds of: $SERVERS at $CONNS connections," \
     "${SIZE}-byte messages, ${WARMUP}+${DURATION} s each, $BACKEND backend" \
     "($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs, shared)"
bench_rounds

# The table: medians per server and connection count, then ratios.
awk -v servers="$SERVERS" -v conns="$CONNS" -f "$(dirname "$TABLE_AWK")/bench-stats.awk" \
	-f "$TABLE_AWK" "$RESULTS"
