# SPDX-License-Identifier: MIT
#
# What the example servers' functional tests share (echo-test.sh,
# httpd-test.sh): options, a work directory, KTAP results, polling for a
# server's output or exit, and the loop over backends and executors.
# POSIX sh, sourced by a test on the host; selftests.mk puts it inside the
# copy of the test the VM runs, which then has no file to source.
#
# A test sets PROG, SERVER (its binary), CLIENTS and THREADS, defines
# usage(), app_option NAME VALUE (0 if it took the option),
# app_tests (its checks, with $what and $PORT set) and TESTS_PER_PAIR,
# then calls app_test_main "$@".
APP_TEST_LIB=1
BACKENDS=zsync EXECUTORS="green stackless threads" EXIT_TIMEOUT=180 SERVER_ARGS=''
SRV_PID='' BG_PIDS=''

# The options every test takes, for its --help.
common_usage() {
	cat <<EOF2
  --backends LIST    backends to test (default: zsync)
  --executors LIST   executors to test (default: green stackless threads)
  --clients N        concurrent clients (default $CLIENTS; 100 on a debug kernel)
  --threads N        the threads executor's pool (default $THREADS; 150 on a
                     debug kernel); it must exceed the clients served at once
  --exit-timeout S   how long SIGTERM may take before the test fails
                     (default 180: a debug kernel under TCG stops a pool
                     of 1024 threads, each with its ring, in ~60 s)
Prints KTAP; exits 1 if a test failed.
EOF2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		-h|--help) usage; exit 0 ;;
		--backends) BACKENDS=$2 ;;
		--executors) EXECUTORS=$2 ;;
		--clients) CLIENTS=$2 ;;
		--threads) THREADS=$2 ;;
		--exit-timeout) EXIT_TIMEOUT=$2 ;;
		*) app_option "$1" "${2:-}" ||
			{ echo "$PROG: unknown argument '$1' (see --help)" >&2; exit 2; } ;;
		esac
		shift 2
	done
}

cleanup() {
	for p in $BG_PIDS $SRV_PID; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$WORK"
}

make_work() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX") || exit 1
	trap cleanup EXIT
}

N=0 PASS=0 FAIL=0
result() {	# result OK|FAIL DESCRIPTION [LOG]
	N=$((N + 1))
	if [ "$1" = OK ]; then
		PASS=$((PASS + 1))
		echo "ok $N $2"
	else
		FAIL=$((FAIL + 1))
		[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -40
		echo "not ok $N $2"
	fi
}

check() {	# check DESCRIPTION FUNCTION: run it, its output in $WORK/log
	: >"$WORK/log"
	if $2 >>"$WORK/log" 2>&1; then result OK "$what: $1"; else result FAIL "$what: $1" "$WORK/log"; fi
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

running() {	# running PID: alive and not yet a zombie
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_exit PID SECONDS: reap PID, killing it after SECONDS; sets RC.
# (Polled from this shell: a watchdog process killed as soon as the
# server exits could leave its sleep behind.)
wait_exit() {
	i=0
	while running "$1" && [ $i -lt $(($2 * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	RC=$?
}

# stop_server: SIGTERM; it must exit 0 in time and say it shut down.
stop_server() {
	kill -TERM "$SRV_PID"
	wait_exit "$SRV_PID" "$EXIT_TIMEOUT"
	SRV_PID=''
	[ $RC -eq 0 ] || { echo "exit status $RC"; cat "$WORK/srv.out"; return 1; }
	grep -q 'shut down' "$WORK/srv.out"
}

start_server() {	# start_server EXECUTOR BACKEND: sets SRV_PID and PORT
	# shellcheck disable=SC2086
	"$SERVER" --executor "$1" --backend "$2" --port 0 --threads "$THREADS" $SERVER_ARGS \
		>"$WORK/srv.out" 2>&1 &
	SRV_PID=$!
	wait_for "$WORK/srv.out" 'listening on' 10 || return 1
	PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$WORK/srv.out")
	[ -n "$PORT" ]
}

run_pair() {	# run_pair EXECUTOR BACKEND
	what="$1/$2"
	if ! start_server "$1" "$2"; then
		k=0
		while [ $k -lt "$TESTS_PER_PAIR" ]; do
			result FAIL "$what: server starts" "$WORK/srv.out"
			k=$((k + 1))
		done
	else
		app_tests
	fi
	[ -z "$SRV_PID" ] || kill -KILL "$SRV_PID" 2>/dev/null
	SRV_PID=''
}

app_test_main() {
	# A debug kernel (KASAN, lockdep, kmemleak) under TCG takes a minute
	# to start and stop a pool of 1024 threads with a ring each: the same
	# tests with fewer clients and threads keep make check's debug pass
	# short (two apps, three executors each); 6.1 and 6.12 run the full size.
	case "$(uname -r)" in
	*debug*) CLIENTS=100 THREADS=150 ;;
	esac
	parse_args "$@"
	make_work
	app_setup
	# shellcheck disable=SC2086 # lists of words
	set -- $EXECUTORS
	n_exec=$#
	# shellcheck disable=SC2086
	set -- $BACKENDS
	echo "TAP version 13"
	echo "1..$((n_exec * $# * TESTS_PER_PAIR))"
	for backend in $BACKENDS; do
		for executor in $EXECUTORS; do
			run_pair "$executor" "$backend"
		done
	done
	echo "# Totals: pass:$PASS fail:$FAIL xfail:0 xpass:0 skip:0 error:0"
	[ $FAIL -eq 0 ]
}
