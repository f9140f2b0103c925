#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Functional test of the zk-echo example, KTAP on stdout: for each executor
# and backend, 1000 concurrent clients get every byte back, clients keep
# getting their echoes while slowloris clients (one byte, then nothing)
# hold connections, and SIGTERM with connections open exits 0.
# POSIX sh: it runs on the host (make native-test) and in the VM's busybox
# (installed as the selftest echo-app).
set -u

usage() {
	cat <<'EOF'
Usage: echo-test.sh [--echo PATH] [--load PATH] [--backends "LIST"]
                    [--executors "LIST"] [--clients N]
  --echo PATH        the zk-echo binary (default: zk-echo on $PATH)
  --load PATH        zsync-echo-load (default: zsync-echo-load on $PATH)
  --backends LIST    backends to test (default: zsync)
  --executors LIST   executors to test (default: green stackless threads)
  --clients N        concurrent clients of the first test (default 1000;
                     300 on a debug kernel)
  --threads N        the threads executor's pool (default 1024; 400 on a
                     debug kernel); it must exceed the clients served at once
  --exit-timeout S   how long SIGTERM may take before the test fails
                     (default 180: a debug kernel under TCG stops a pool
                     of 1024 threads, each with its ring, in ~60 s)
Prints KTAP; exits 1 if a test failed.
EOF
}

ECHO=zk-echo LOAD=zsync-echo-load BACKENDS=zsync EXECUTORS="green stackless threads"
CLIENTS=1000 EXIT_TIMEOUT=180 THREADS=1024
# A debug kernel (KASAN, lockdep, kmemleak) under TCG takes a minute to
# start and stop a pool of 1024 threads with a ring each: the same tests
# with fewer clients and threads keep make check's debug pass short.
case "$(uname -r)" in
*debug*) CLIENTS=300 THREADS=400 ;;
esac
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--echo) ECHO=$2; shift 2 ;;
	--load) LOAD=$2; shift 2 ;;
	--backends) BACKENDS=$2; shift 2 ;;
	--executors) EXECUTORS=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--exit-timeout) EXIT_TIMEOUT=$2; shift 2 ;;
	*) echo "echo-test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/echo-test.XXXXXX") || exit 1
SRV_PID='' LOAD_PID=''
cleanup() {
	[ -n "$LOAD_PID" ] && kill -KILL "$LOAD_PID" 2>/dev/null
	[ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

N=0 PASS=0 FAIL=0
result() {	# result OK|FAIL DESCRIPTION [LOG]
	N=$((N + 1))
	if [ "$1" = OK ]; then
		PASS=$((PASS + 1))
		echo "ok $N $2"
	else
		FAIL=$((FAIL + 1))
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3"
		echo "not ok $N $2"
	fi
}

# wait_for FILE PATTERN SECONDS: poll FILE until a line matches.
wait_for() {
	i=0
	while [ $i -lt $(($3 * 20)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# wait_exit PID SECONDS: reap PID, killing it after SECONDS; sets RC.
wait_exit() {
	# The watchdog takes its sleep with it when told to stand down, so
	# the test leaves no process behind.
	(trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	 sleep "$2" & nap=$!
	 wait "$nap" && kill -KILL "$1" 2>/dev/null) &
	dog=$!
	wait "$1"
	RC=$?
	kill "$dog" 2>/dev/null
	wait "$dog" 2>/dev/null
}

start_server() {	# start_server EXECUTOR BACKEND: sets SRV_PID and PORT
	"$ECHO" --executor "$1" --backend "$2" --port 0 --threads "$THREADS" \
		>"$WORK/srv.out" 2>&1 &
	SRV_PID=$!
	wait_for "$WORK/srv.out" 'listening on' 10 || return 1
	PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$WORK/srv.out")
	[ -n "$PORT" ]
}

load() {	# load ARGS...: one zsync-echo-load --check run, output in load.out
	"$LOAD" --port "$PORT" --check --connect-timeout 60 "$@" >"$WORK/load.out" 2>&1
}

# SIGTERM while clients are connected: the server exits 0 and says so.
sigterm_test() {
	"$LOAD" --port "$PORT" --connections 20 --duration 600 --warmup 0 \
		>"$WORK/idle.out" 2>&1 &
	LOAD_PID=$!
	wait_for "$WORK/idle.out" 'connections up' 60 || return 1
	kill -TERM "$SRV_PID"
	wait_exit "$SRV_PID" "$EXIT_TIMEOUT"
	SRV_PID=''
	kill -KILL "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=''
	[ $RC -eq 0 ] && grep -q 'shut down' "$WORK/srv.out"
}

run_pair() {	# run_pair EXECUTOR BACKEND
	what="$1/$2"
	if ! start_server "$1" "$2"; then
		result FAIL "$what: server starts" "$WORK/srv.out"
		kill -KILL "$SRV_PID" 2>/dev/null
		SRV_PID=''
		return
	fi
	if load --connections "$CLIENTS" --size 1000 --duration 1 --warmup 0; then
		result OK "$what: $CLIENTS concurrent clients get their bytes back"
	else
		result FAIL "$what: $CLIENTS concurrent clients get their bytes back" "$WORK/load.out"
	fi
	if load --connections 100 --stall 20 --size 64 --duration 1 --warmup 0; then
		result OK "$what: 20 slowloris clients do not block 100 others"
	else
		result FAIL "$what: 20 slowloris clients do not block 100 others" "$WORK/load.out"
	fi
	if sigterm_test; then
		result OK "$what: SIGTERM with clients connected exits 0"
	else
		result FAIL "$what: SIGTERM with clients connected exits 0" "$WORK/srv.out"
	fi
}

set -- $EXECUTORS
n_exec=$#
set -- $BACKENDS
echo "TAP version 13"
echo "1..$((n_exec * $# * 3))"
for backend in $BACKENDS; do
	for executor in $EXECUTORS; do
		run_pair "$executor" "$backend"
	done
done
echo "# Totals: pass:$PASS fail:$FAIL xfail:0 xpass:0 skip:0 error:0"
[ $FAIL -eq 0 ]
