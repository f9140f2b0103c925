#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench-http: zk-httpd, the plain epoll floor, Go's net/http, Node's
# http and hyper on Tokio in turn under wrk, and one table of medians.
# POSIX sh.
set -eu

usage() {
	cat <<'EOF2'
Usage: tools/bench/bench-http.sh [--help]

Runs each HTTP server in turn (zk-httpd on the io_uring backend with the
green and the stackless executor, the single-threaded epoll floor
zsync-http-epoll, Go's net/http, Node.js's http module, Rust's hyper 0.14
on Tokio's multi-thread runtime) under wrk (GET /,
the same 20-byte body, keep-alive) at 1, 64 and 1024 connections, ROUNDS
interleaved rounds (each round runs every server once per connection
count, in the same order), a fresh server process per run, and prints the
medians:

  requests/s and p99 latency (wrk --latency) at each connection count;
  resident memory per connection at the largest count: the server's peak
  RSS during the run (VmHWM) minus its RSS once listening, divided by the
  connections;
  each zk-httpd configuration's ratios to the best peer of each column.

Environment: BUILD (<repo>/build), ROUNDS (3), DURATION (seconds per run,
5), CONNS ("1 64 1024"), THREADS (wrk threads, at most the connections;
2), SERVERS (default: zk-green zk-stackless epoll go node tokio, node only
when node is installed, tokio only when cargo and Debian's tokio and hyper
crates are; zk-threads also exists), BACKEND (zk-httpd's backend,
io_uring), OUT (results directory, $BUILD/bench-http).  Go is built here
(GOCACHE under $OUT) unless HTTP_GO names a binary; Node runs
tools/bench/peers/http.js; tools/bench/peers/rust is built here with cargo
--offline against /usr/share/cargo/registry (CARGO_HOME and the target
dir under $OUT; CARGO picks the cargo, default Debian's) unless HTTP_TOKIO
names a binary.
EOF2
}
if [ $# -gt 0 ]; then
	case "$1" in -h|--help) usage; exit 0 ;; esac
	echo "bench-http: unknown argument '$1' (see --help)" >&2
	exit 2
fi

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} THREADS=${THREADS:-2}
CONNS=${CONNS:-"1 64 1024"}
if [ -z "${SERVERS:-}" ]; then
	SERVERS="zk-green zk-stackless epoll go"
	# Node is a peer where it is installed, not a reason to give up.
	if command -v node >/dev/null; then
		SERVERS="$SERVERS node"
	else
		echo "bench-http: node not found, skipping the Node.js peer ('make deps' installs nodejs)" >&2
	fi
	# Likewise Tokio, given cargo and the crates (checked once sourced).
	SERVERS="$SERVERS tokio?"
fi
BACKEND=${BACKEND:-io_uring}
OUT=${OUT:-$BUILD/bench-http}
ZK_HTTPD=${ZK_HTTPD:-$BUILD/tools/examples/zk-httpd}
HTTP_EPOLL=${HTTP_EPOLL:-$BUILD/tools/zsync-http-epoll}
TABLE_AWK=$REPO/tools/bench/bench-echo-table.awk
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"

PROG=bench-http
. "$(dirname "$0")/bench-lib.sh"

tokio_resolve "${HTTP_TOKIO:-}"

for b in "$ZK_HTTPD" "$HTTP_EPOLL"; do
	[ -x "$b" ] || die "$b missing: run 'make tools'"
done
command -v wrk >/dev/null || die "wrk missing: run 'make deps' (wrk)"
case " $SERVERS " in *" node "*)
	command -v node >/dev/null || die "node missing: run 'make deps' (nodejs)" ;;
esac
case " $SERVERS " in *" go "*)
	if [ -z "${HTTP_GO:-}" ]; then
		HTTP_GO=$OUT/http-go
		go_peer "$HTTP_GO" "$REPO/tools/bench/peers/http.go" \
			"$REPO/tools/bench/peers/listen.go"
	fi ;;
esac
case " $SERVERS " in *" tokio "*)
	if [ -z "${HTTP_TOKIO:-}" ]; then
		tokio_peer
		HTTP_TOKIO=$TOKIO_BIN/http-tokio
	fi ;;
esac
# 1024 connections on each side of loopback: raise the descriptor limit.
ulimit -n "$(ulimit -H -n)" 2>/dev/null || true

server_cmd() { app_cmd http "$1"; }

run_one() {	# run_one SERVER CONNS: appends a result line
	threads=$THREADS
	[ "$threads" -le "$2" ] || threads=$2
	bench_start "$1"
	wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency "http://127.0.0.1:$port/" \
		>"$OUT/wrk.out" 2>&1 || true
	bench_stop "$1" "$2"
	echo "server=$1 connections=$2 $(parse_wrk "$OUT/wrk.out") rss_kb_per_conn=$rss_per_conn" |
		tee -a "$RESULTS"
}

echo "bench-http: $ROUNDS rounds of: $SERVERS at $CONNS connections, wrk" \
     "GET / for $DURATION s each, $BACKEND backend" \
     "($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs, shared with wrk)"
bench_rounds

awk -v servers="$SERVERS" -v conns="$CONNS" -v unit="req/s" \
	-f "$REPO/tools/bench/bench-stats.awk" -f "$TABLE_AWK" "$RESULTS"
