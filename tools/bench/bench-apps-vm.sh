#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The VM side of make bench-apps (tools/bench/bench-apps.sh packs it into
# the VM with the servers, wrk and the load).  busybox sh: the VM has no
# bash.  Prints the progress, then bench-apps-table.awk's table.
set -eu

usage() {
	cat <<'EOF'
Usage: bench-apps-vm.sh [--help]

Runs every server of SERVERS in turn, a fresh process per run, ROUNDS
interleaved rounds (each round runs every server once at each load, in
the same order): the HTTP one under wrk (GET /, keep-alive) for WARMUP s
untimed, then DURATION s, at each of CONNS connections, the echo one under zsync-echo-load (SIZE
bytes, WARMUP + DURATION s) at each of ECHO_CONNS.  At the largest
ECHO_CONNS it reads the echo server's VmRSS once every connection is open
(the load says so and the server holds that many descriptors): the
difference to its VmRSS once listening, over the connections, is its
memory per connection.  A server that does not start, dies or fails its
load is recorded as failed, with the reason, and the rounds go on.

Environment: ROUNDS (3), DURATION (5), WARMUP (2), SIZE (64), CONNS ("1 64
1024"), ECHO_CONNS ("64 10000"), THREADS (wrk threads, 2), SERVERS
("zk-green zk-stackless epoll go node tokio"), BACKEND (zsync), SHARE
(where bench-apps.sh put this script and Node's, /usr/share/zsync-k-bench),
BIN (where the programs are, /bin), OUT (/tmp/bench-apps).
Exit status: 0 the table was printed (failed runs included); 1 otherwise.
EOF
}
case "${1:-}" in
-h|--help) usage; exit 0 ;;
"") ;;
*) echo "bench-apps-vm: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} WARMUP=${WARMUP:-2} SIZE=${SIZE:-64}
CONNS=${CONNS:-"1 64 1024"}
ECHO_CONNS=${ECHO_CONNS:-"64 10000"}
THREADS=${THREADS:-2}
SERVERS=${SERVERS:-"zk-green zk-stackless epoll go node tokio"}
BACKEND=${BACKEND:-zsync}
SHARE=${SHARE:-/usr/share/zsync-k-bench}
OUT=${OUT:-/tmp/bench-apps}
# Where bench-apps.sh and vm-run.sh put the programs.
BIN=${BIN:-/bin}
ZK_HTTPD=$BIN/zk-httpd ZK_ECHO=$BIN/zk-echo
HTTP_EPOLL=$BIN/zsync-http-epoll ECHO_EPOLL=$BIN/zsync-echo-epoll
HTTP_GO=$BIN/http-go ECHO_GO=$BIN/echo-go
HTTP_TOKIO=$BIN/http-tokio ECHO_TOKIO=$BIN/echo-tokio
ECHO_LOAD=$BIN/zsync-echo-load
PEERS=$SHARE
# TCG is slow to start Node: 30 s to listen.
START_POLLS=600
mkdir -p "$OUT"
RESULTS=$OUT/results.txt FAILURES=$OUT/failures.txt
: >"$RESULTS"
: >"$FAILURES"

PROG=bench-apps
. "$SHARE/bench-lib.sh"

# 10,000 connections on each side of loopback: descriptors for both, and
# a backlog that takes the load's bursts.
# (Where that is not allowed, zsync-echo-load says how many it lacks.)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -H -n)"
for f in net/core/somaxconn net/ipv4/tcp_max_syn_backlog; do
	[ "$(cat "/proc/sys/$f")" -ge 4096 ] || echo 4096 >"/proc/sys/$f" ||
		echo "$PROG: cannot raise $f to 4096" >&2
done

BIG=0
for c in $ECHO_CONNS; do BIG=$c; done

KIND=http
server_cmd() { app_cmd "$KIND" "$1"; }

# fail SERVER CONNS REASON...: the run's result line says failed; the reason
# goes to the failures the table lists.
fail() {
	f_s=$1 f_c=$2
	shift 2
	echo "server=$f_s kind=$KIND connections=$f_c failed=1" >>"$RESULTS"
	echo "round $r, $KIND@$f_c: $*" | tr -s ' ' | tee -a "$FAILURES"
}

# result SERVER CONNS FIELDS: one run's result line.
result() {
	echo "server=$1 kind=$KIND connections=$2 $3" | tee -a "$RESULTS"
}

# fd_count PID: descriptors the process holds.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# conn_rss SERVER CONNS LOADPID: once the load has all its connections up
# and the server holds them, its VmRSS over base_kb, per connection (KiB);
# "no: WHY" if that does not happen while the load runs.
conn_rss() {
	i=0
	while ! grep -q 'connections up' "$OUT/load.out" && kill -0 "$3" 2>/dev/null; do
		sleep 0.1
	done
	grep -q "$2 of $2 connections up" "$OUT/load.out" || {
		echo "no: not every connection up ($(grep 'connections up' "$OUT/load.out" ||
			echo 'the load ended first'))"
		return 0
	}
	# Accepted: the server holds a descriptor for each (up to 10 s).
	while [ "$(fd_count "$SRV_PID")" -lt "$2" ] && [ $i -lt 100 ] && kill -0 "$3" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$3" 2>/dev/null || {
		echo "no: the load ended before the server held $2 descriptors ($(fd_count "$SRV_PID"))"
		return 0
	}
	awk -v a="$base_kb" -v b="$(status_kb "$SRV_PID" VmRSS)" -v c="$2" \
		'BEGIN { printf "%.2f", (b - a) / c }'
}

run_http() {	# run_http SERVER CONNS
	KIND=http
	threads=$THREADS
	[ "$threads" -le "$2" ] || threads=$2
	bench_try_start "$1" || { fail "$1" "$2" "$start_error"; return 0; }
	# An untimed warm-up (JITs, pools), then the measured run.
	wrk -t"$threads" -c"$2" -d"${WARMUP}s" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
	wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency "http://127.0.0.1:$port/" \
		>"$OUT/wrk.out" 2>&1 || true
	bench_try_stop "$1" "$2" || { fail "$1" "$2" "$stop_error"; return 0; }
	line=$(parse_wrk "$OUT/wrk.out")
	case "$line" in rt_per_s=0\ *)
		fail "$1" "$2" "$1: wrk measured nothing: $(tail -n 2 "$OUT/wrk.out" | tr '\n' ' ')"
		return 0 ;;
	esac
	result "$1" "$2" "$line"
}

run_echo() {	# run_echo SERVER CONNS
	KIND=echo
	bench_try_start "$1" || { fail "$1" "$2" "$start_error"; return 0; }
	# Emptied here, not by the background job's redirection: conn_rss
	# could read the last run's "connections up" before that ran.
	: >"$OUT/load.out"
	"$ECHO_LOAD" --port "$port" --connections "$2" --size "$SIZE" \
		--duration "$DURATION" --warmup "$WARMUP" >>"$OUT/load.out" 2>&1 &
	lp=$!
	rss=''
	[ "$2" != "$BIG" ] || rss=$(conn_rss "$1" "$2" "$lp")
	# It exits 1 after errors (counted in its line, shown in the table).
	lst=0
	wait "$lp" || lst=$?
	bench_try_stop "$1" "$2" || { fail "$1" "$2" "$stop_error"; return 0; }
	line=$(grep '^connections=' "$OUT/load.out") || line=''
	if [ -z "$line" ]; then
		fail "$1" "$2" "$1: zsync-echo-load exited $lst: $(tail -n 2 "$OUT/load.out" | tr '\n' ' ')"
		return 0
	fi
	case "$line" in *" rt_per_s=0 "*)
		fail "$1" "$2" "$1: no round trip completed in the $DURATION s window" \
			"($(grep 'connections up' "$OUT/load.out"))"
		return 0 ;;
	esac
	case "$rss" in no:*)
		fail "$1" "$2" "$1: no memory sample: ${rss#no: }"
		return 0 ;;
	esac
	result "$1" "$2" "${line#connections=* } rss_kb_per_conn=${rss:-0}"
}

echo "bench-apps: $ROUNDS rounds of: $SERVERS; HTTP (wrk, $DURATION s) at $CONNS" \
     "connections, echo (${SIZE} B, ${WARMUP}+${DURATION} s) at $ECHO_CONNS; $BACKEND" \
     "backend; $(grep -c '^processor' /proc/cpuinfo) CPUs, shared with the load"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "bench-apps: round $r"
	for s in $SERVERS; do
		for c in $CONNS; do run_http "$s" "$c"; done
		for c in $ECHO_CONNS; do run_echo "$s" "$c"; done
	done
	r=$((r + 1))
done

awk -v servers="$SERVERS" -v conns="$CONNS" -v echo_conns="$ECHO_CONNS" \
	-f "$SHARE/bench-stats.awk" -f "$SHARE/bench-apps-table.awk" "$RESULTS"
if [ -s "$FAILURES" ]; then
	echo
	echo "failed runs:"
	cat "$FAILURES"
fi
