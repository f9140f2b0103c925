#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Functional test of the zk-echo example, KTAP on stdout: for each executor
# and backend, 1000 concurrent clients get every byte back, clients keep
# getting their echoes while slowloris clients (one byte, then nothing)
# hold connections, and SIGTERM with connections open exits 0.
# POSIX sh: it runs on the host (make native-test) and in the VM's busybox
# (installed as the selftest echo-app).  app-test-lib.sh has the options,
# results and loop it shares with httpd-test.sh.
set -u

usage() {
	cat <<'EOF2'
Usage: echo-test.sh [--echo PATH] [--load PATH] [--backends "LIST"]
                    [--executors "LIST"] [--clients N]
  --echo PATH        the zk-echo binary (default: zk-echo on $PATH)
  --load PATH        zsync-echo-load (default: zsync-echo-load on $PATH)
EOF2
	common_usage
}

[ -n "${APP_TEST_LIB:-}" ] || . "$(dirname "$0")/app-test-lib.sh"
PROG=echo-test SERVER=zk-echo LOAD=zsync-echo-load CLIENTS=1000 THREADS=1024

app_option() {
	case "$1" in
	--echo) SERVER=$2 ;;
	--load) LOAD=$2 ;;
	*) return 1 ;;
	esac
}

app_setup() { :; }

load() {	# load ARGS...: one zsync-echo-load --check run
	"$LOAD" --port "$PORT" --check --connect-timeout 60 "$@"
}

t_clients() {
	load --connections "$CLIENTS" --size 1000 --duration 1 --warmup 0
}

t_slowloris() {
	load --connections 100 --stall 20 --size 64 --duration 1 --warmup 0
}

# SIGTERM while clients are connected: the server exits 0 and says so.
t_sigterm() {
	"$LOAD" --port "$PORT" --connections 20 --duration 600 --warmup 0 \
		>"$WORK/idle.out" 2>&1 &
	BG_PIDS=$!
	wait_for "$WORK/idle.out" 'connections up' 60 || return 1
	stop_server
}

TESTS_PER_PAIR=3
app_tests() {
	check "$CLIENTS concurrent clients get their bytes back" t_clients
	check "20 slowloris clients do not block 100 others" t_slowloris
	check "SIGTERM with clients connected exits 0" t_sigterm
	for p in $BG_PIDS; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	BG_PIDS=''
}

app_test_main "$@"
