#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Functional test of the zk-httpd example, KTAP on stdout: for each
# executor and backend, correct responses (status line, headers, a file's
# bytes, HEAD), keep-alive, pipelined requests answered in order, 400 and
# a closed connection on malformed or oversized input, 405, no way out of
# the root (.., an escaped .., a symlink), slowloris clients that do not
# block others, 1000 concurrent clients all served, and SIGTERM with
# clients connected exiting 0.  POSIX sh: it runs on the host (make
# native-test) and in the VM's busybox (installed as the selftest
# httpd-app).  The client is zsync-http-client (tools/bench).
set -u

usage() {
	cat <<'EOF2'
Usage: httpd-test.sh [--httpd PATH] [--client PATH] [--backends "LIST"]
                     [--executors "LIST"] [--clients N] [--threads N]
  --httpd PATH       the zk-httpd binary (default: zk-httpd on $PATH)
  --client PATH      zsync-http-client (default: on $PATH)
  --backends LIST    backends to test (default: zsync)
  --executors LIST   executors to test (default: green stackless threads)
  --clients N        concurrent clients (default 1000; 300 on a debug kernel)
  --threads N        the threads executor's pool (default 1100; 400 on a
                     debug kernel); it must exceed the clients served at once
  --exit-timeout S   how long SIGTERM may take before the test fails (default 180)
Prints KTAP; exits 1 if a test failed.
EOF2
}

HTTPD=zk-httpd CLIENT=zsync-http-client BACKENDS=zsync EXECUTORS="green stackless threads"
CLIENTS=1000 EXIT_TIMEOUT=180 THREADS=1100
case "$(uname -r)" in
*debug*) CLIENTS=300 THREADS=400 ;;
esac
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--httpd) HTTPD=$2; shift 2 ;;
	--client) CLIENT=$2; shift 2 ;;
	--backends) BACKENDS=$2; shift 2 ;;
	--executors) EXECUTORS=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--exit-timeout) EXIT_TIMEOUT=$2; shift 2 ;;
	*) echo "httpd-test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/httpd-test.XXXXXX") || exit 1
SRV_PID='' BG_PIDS=''
cleanup() {
	for p in $BG_PIDS $SRV_PID; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

# The document root: two files of known bytes, and ways out of it.
ROOT=$WORK/root
mkdir -p "$ROOT/dir" "$WORK/outside"
i=0
while [ $i -lt 200 ]; do echo "line $i of a.txt"; i=$((i + 1)); done >"$ROOT/a.txt"
printf 'second file\n' >"$ROOT/dir/b.txt"
printf 'secret\n' >"$WORK/outside/secret"
ln -s ../outside/secret "$ROOT/link"
A_LEN=$(wc -c <"$ROOT/a.txt")
INDEX='Hello from zk-httpd'
H='Host: t\r\n'

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

check() {	# check DESCRIPTION FUNCTION: run it, its log in $WORK/log
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

# wait_exit PID SECONDS: reap PID, killing it after SECONDS; sets RC.
# (Polled from this shell: a watchdog process killed as soon as the
# server exits could leave its sleep behind.)
running() {	# running PID: alive and not yet a zombie
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

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

raw() {		# raw BYTES ARGS...: one connection, output in $WORK/out
	"$CLIENT" --port "$PORT" --timeout 20 --raw "$@" >"$WORK/out"
}

expect() {	# expect PATTERN: $WORK/out has it (CRs stripped)
	tr -d '\r' <"$WORK/out" | grep -q "$1" || { echo "no '$1' in:"; cat "$WORK/out"; return 1; }
}

t_responses() {
	raw "GET / HTTP/1.1\r\n$H\r\n" --responses 1 &&
	head -n 1 "$WORK/out" | grep -q '^HTTP/1.1 200 OK' &&
	expect '^Content-Length: 20$' && expect '^Content-Type: text/plain$' &&
	expect '^Date: ' && expect "^$INDEX\$" &&
	raw "GET /a.txt HTTP/1.1\r\n$H\r\n" --responses 1 && expect "^Content-Length: $A_LEN\$" &&
	raw "GET /a.txt HTTP/1.1\r\n$H\r\n" --responses 1 --bodies && cmp "$WORK/out" "$ROOT/a.txt" &&
	raw "HEAD /a.txt HTTP/1.1\r\n${H}Connection: close\r\n\r\n" --responses 0 &&
	expect "^Content-Length: $A_LEN\$" && ! grep -q 'line 0' "$WORK/out" &&
	raw "GET /missing HTTP/1.1\r\n$H\r\n" --responses 1 && expect '^HTTP/1.1 404 ' &&
	raw "GET /dir HTTP/1.1\r\n$H\r\n" --responses 1 && expect '^HTTP/1.1 404 ' &&
	raw "GET /a.txt HTTP/1.0\r\n\r\n" --responses 1 --expect-close && expect '^HTTP/1.1 200 '
}

t_keepalive() {
	"$CLIENT" --port "$PORT" --connections 1 --requests 50 --path /a.txt --length "$A_LEN" &&
	raw "GET / HTTP/1.1\r\n$H\r\n" --responses 1 && ! expect '^Connection: close' &&
	raw "GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n" --responses 1 --expect-close &&
	expect '^Connection: close'
}

t_pipeline() {
	req="GET /a.txt HTTP/1.1\r\n$H\r\nGET /dir/b.txt HTTP/1.1\r\n$H\r\nGET / HTTP/1.1\r\n$H\r\n"
	raw "$req$req" --responses 6 --bodies &&
	{ cat "$ROOT/a.txt" "$ROOT/dir/b.txt"; echo "$INDEX"
	  cat "$ROOT/a.txt" "$ROOT/dir/b.txt"; echo "$INDEX"; } >"$WORK/want" &&
	cmp "$WORK/out" "$WORK/want"
}

t_bad() {
	raw "BLAH\r\n\r\n" --responses 1 --expect-close && expect '^HTTP/1.1 400 ' &&
	raw "GET / HTTP/1.1\r\n$H\r\nGET / HTTP/9.9\r\n$H\r\nGET / HTTP/1.1\r\n$H\r\n" \
		--responses 2 --expect-close && expect '^HTTP/1.1 200 ' && expect '^HTTP/1.1 400 ' &&
	raw "GET / HTTP/1.1\r\n\r\n" --responses 1 --expect-close && expect '^HTTP/1.1 400 ' &&
	raw "GET / HTTP/1.1\r\n${H}Bad Header: x\r\n\r\n" --responses 1 --expect-close &&
	expect '^HTTP/1.1 400 ' &&
	raw "GET / HTTP/1.1\r\n${H}X: a\r\n folded\r\n\r\n" --responses 1 --expect-close &&
	expect '^HTTP/1.1 400 ' &&
	big=$(i=0; while [ $i -lt 300 ]; do printf 'X-Filler-%d: 0123456789012345678901234567890\\r\\n' $i; i=$((i + 1)); done) &&
	raw "GET / HTTP/1.1\r\n$H$big\r\n" --responses 1 --expect-close && expect '^HTTP/1.1 400 ' &&
	raw "POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc" --responses 1 --expect-close &&
	expect '^HTTP/1.1 405 ' && expect '^Allow: GET, HEAD$'
}

t_escape() {
	for p in /../outside/secret /dir/../../outside/secret /%2e%2e/outside/secret /link \
		 /dir/%2e%2e/%2e%2e/outside/secret; do
		raw "GET $p HTTP/1.1\r\n$H\r\n" --responses 1 || return 1
		if tr -d '\r' <"$WORK/out" | grep -q -e '^HTTP/1.1 200' -e secret; then
			echo "$p was served:"; cat "$WORK/out"; return 1
		fi
		expect '^HTTP/1.1 40[034] ' || return 1
	done
}

t_slowloris() {
	"$CLIENT" --port "$PORT" --connections 100 --requests 5 --stall 20 --stall-ms 20 \
		--path /a.txt --length "$A_LEN" --timeout 60
}

t_concurrent() {
	"$CLIENT" --port "$PORT" --connections "$CLIENTS" --requests 3 --path /a.txt \
		--length "$A_LEN" --timeout 120
}

# SIGTERM with idle keep-alive clients: each is closed, the server exits 0.
t_sigterm() {
	pids=''
	for k in 1 2 3 4 5; do
		"$CLIENT" --port "$PORT" --timeout 600 --raw "GET / HTTP/1.1\r\n$H\r\n" \
			--responses 0 >"$WORK/idle$k" 2>&1 &
		pids="$pids $!"
	done
	BG_PIDS=$pids
	for k in 1 2 3 4 5; do
		wait_for "$WORK/idle$k" 'HTTP/1.1 200' 30 || return 1
	done
	kill -TERM "$SRV_PID"
	wait_exit "$SRV_PID" "$EXIT_TIMEOUT"
	SRV_PID=''
	[ $RC -eq 0 ] || { echo "exit status $RC"; cat "$WORK/srv.out"; return 1; }
	for p in $pids; do
		wait "$p" || { echo "a client did not see its connection closed"; return 1; }
	done
	BG_PIDS=''
	grep -q 'shut down' "$WORK/srv.out"
}

start_server() {	# start_server EXECUTOR BACKEND: sets SRV_PID and PORT
	"$HTTPD" --executor "$1" --backend "$2" --port 0 --threads "$THREADS" \
		--root "$ROOT" >"$WORK/srv.out" 2>&1 &
	SRV_PID=$!
	wait_for "$WORK/srv.out" 'listening on' 10 || return 1
	PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$WORK/srv.out")
	[ -n "$PORT" ]
}

TESTS_PER_PAIR=8
run_pair() {	# run_pair EXECUTOR BACKEND
	what="$1/$2"
	if ! start_server "$1" "$2"; then
		k=0
		while [ $k -lt $TESTS_PER_PAIR ]; do
			result FAIL "$what: server starts" "$WORK/srv.out"
			k=$((k + 1))
		done
		kill -KILL "$SRV_PID" 2>/dev/null
		SRV_PID=''
		return
	fi
	check "GET and HEAD: status line, headers, a file's bytes, 404" t_responses
	check "keep-alive: 50 requests on one connection, Connection: close honoured" t_keepalive
	check "6 pipelined requests answered in order" t_pipeline
	check "400 and close on malformed or oversized requests, 405 on POST" t_bad
	check "no way out of the root (.., %2e%2e, a symlink)" t_escape
	check "20 slowloris clients do not block 100 others" t_slowloris
	check "$CLIENTS concurrent clients all served" t_concurrent
	check "SIGTERM with keep-alive clients: each closed, exit 0" t_sigterm
	[ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
	SRV_PID=''
}

set -- $EXECUTORS
n_exec=$#
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
