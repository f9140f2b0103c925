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
Go's goroutine-per-connection echo, Node.js's net echo) under
zsync-echo-load at 64 and at 10,000 connections, ROUNDS interleaved rounds
(each round runs every server once, in the same order), a fresh server
process per run, and prints the medians:

  round trips/s and p99 latency at each connection count;
  resident memory per connection at the largest count: the server's peak
  RSS during the run (VmHWM) minus its RSS once listening (VmRSS), divided
  by the connections;
  each zk-echo configuration's ratios to the best peer of each column.

Environment: BUILD (<repo>/build), ROUNDS (3), DURATION (seconds
measured per run, 5), WARMUP (1), SIZE (message bytes, 64),
CONNS ("64 10000"), SERVERS (default all: zk-green zk-stackless epoll go
node), BACKEND (zk-echo's backend, io_uring), OUT (results directory,
$BUILD/bench-echo).
Go is built here (GOCACHE under $OUT) unless ECHO_GO names a binary;
Node runs tools/bench/peers/echo.js.  Where the programs live (the VM):
ZK_ECHO, ECHO_EPOLL, ECHO_LOAD, ECHO_GO, TABLE_AWK.
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
SERVERS=${SERVERS:-"zk-green zk-stackless epoll go node"}
BACKEND=${BACKEND:-io_uring}
OUT=${OUT:-$BUILD/bench-echo}
ZK_ECHO=${ZK_ECHO:-$BUILD/tools/examples/zk-echo}
ECHO_EPOLL=${ECHO_EPOLL:-$BUILD/tools/zsync-echo-epoll}
ECHO_LOAD=${ECHO_LOAD:-$BUILD/tools/zsync-echo-load}
TABLE_AWK=${TABLE_AWK:-$REPO/tools/bench/bench-echo-table.awk}
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"

die() { echo "bench-echo: error: $*" >&2; exit 1; }

for b in "$ECHO_LOAD" "$ECHO_EPOLL" "$ZK_ECHO"; do
	[ -x "$b" ] || die "$b missing: run 'make tools'"
done
case " $SERVERS " in *" node "*)
	command -v node >/dev/null || die "node missing: run 'make deps' (nodejs)" ;;
esac
case " $SERVERS " in *" go "*)
	if [ -z "${ECHO_GO:-}" ]; then
		# The Go peer, built now (not in make check's path), offline.
		command -v go >/dev/null || die "go missing: run 'make deps' (golang-go)"
		ECHO_GO=$OUT/echo-go
		GOCACHE=$OUT/go-cache GOPATH=$OUT/gopath GOTOOLCHAIN=local GOPROXY=off \
			GO111MODULE=off CGO_ENABLED=0 \
			go build -o "$ECHO_GO" "$REPO/tools/bench/peers/echo.go" ||
			die "go build failed"
	fi ;;
esac

server_cmd() {
	case "$1" in
	zk-green) echo "$ZK_ECHO --executor green --backend $BACKEND --port 0" ;;
	zk-stackless) echo "$ZK_ECHO --executor stackless --backend $BACKEND --port 0" ;;
	epoll) echo "$ECHO_EPOLL --port 0" ;;
	go) echo "$ECHO_GO -port 0" ;;
	node) echo "node $REPO/tools/bench/peers/echo.js --port 0" ;;
	*) die "unknown server '$1'" ;;
	esac
}

status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

SRV_PID=''
trap '[ -z "$SRV_PID" ] || kill -KILL "$SRV_PID" 2>/dev/null; true' EXIT

# wait_port: poll the server's output for its port (it prints it once it
# accepts); empty if it exited first or took more than 10 s.
wait_port() {
	i=0
	while [ $i -lt 200 ]; do
		port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$OUT/server.out")
		[ -n "$port" ] && return 0
		kill -0 "$SRV_PID" 2>/dev/null || return 0
		sleep 0.05
		i=$((i + 1))
	done
}

# run_one SERVER CONNS: one fresh server, one load run; appends a result line.
run_one() {
	name=$1 conns=$2 port=''
	: >"$OUT/server.out"
	# shellcheck disable=SC2046
	$(server_cmd "$name") >>"$OUT/server.out" 2>&1 &
	SRV_PID=$!
	wait_port
	[ -n "$port" ] || { cat "$OUT/server.out" >&2; die "$name did not start"; }
	base=$(status_kb "$SRV_PID" VmRSS)
	line=$("$ECHO_LOAD" --port "$port" --connections "$conns" --size "$SIZE" \
		--duration "$DURATION" --warmup "$WARMUP" 2>&1 | grep '^connections=') || true
	hwm=$(status_kb "$SRV_PID" VmHWM)
	kill -TERM "$SRV_PID"
	wait "$SRV_PID" || echo "bench-echo: $name exited with $? on SIGTERM" >&2
	SRV_PID=''
	[ -n "$line" ] || line="connections=$conns rt_per_s=0 p99_us=0 errors=failed"
	echo "server=$name $line rss_kb_per_conn=$(awk -v a="$base" -v b="$hwm" -v c="$conns" \
		'BEGIN { printf "%.2f", (b - a) / c }')" | tee -a "$RESULTS"
}

echo "bench-echo: $ROUNDS rounds of: $SERVERS at $CONNS connections," \
     "${SIZE}-byte messages, ${WARMUP}+${DURATION} s each, $BACKEND backend" \
     "($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs, shared)"
r=1
while [ $r -le "$ROUNDS" ]; do
	for conns in $CONNS; do
		for s in $SERVERS; do
			run_one "$s" "$conns"
		done
	done
	r=$((r + 1))
done

# The table: medians per server and connection count, then ratios.
awk -v servers="$SERVERS" -v conns="$CONNS" -f "$TABLE_AWK" "$RESULTS"
