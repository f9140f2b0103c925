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
# httpd-app).  The client is zsync-http-client (tools/bench);
# app-test-lib.sh has the options, results and loop it shares with
# echo-test.sh.
set -u

usage() {
	cat <<'EOF2'
Usage: httpd-test.sh [--httpd PATH] [--client PATH] [--backends "LIST"]
                     [--executors "LIST"] [--clients N] [--threads N]
  --httpd PATH       the zk-httpd binary (default: zk-httpd on $PATH)
  --client PATH      zsync-http-client (default: on $PATH)
EOF2
	common_usage
}

[ -n "${APP_TEST_LIB:-}" ] || . "$(dirname "$0")/app-test-lib.sh"
PROG=httpd-test SERVER=zk-httpd CLIENT=zsync-http-client CLIENTS=1000 THREADS=1100

app_option() {
	case "$1" in
	--httpd) SERVER=$2 ;;
	--client) CLIENT=$2 ;;
	*) return 1 ;;
	esac
}

# The document root: two files of known bytes, and ways out of it.
app_setup() {
	ROOT=$WORK/root
	mkdir -p "$ROOT/dir" "$WORK/outside"
	i=0
	while [ $i -lt 200 ]; do echo "line $i of a.txt"; i=$((i + 1)); done >"$ROOT/a.txt"
	printf 'second file\n' >"$ROOT/dir/b.txt"
	printf 'secret\n' >"$WORK/outside/secret"
	ln -s ../outside/secret "$ROOT/link"
	A_LEN=$(wc -c <"$ROOT/a.txt")
	SERVER_ARGS="--root $ROOT"
}
INDEX='Hello from zk-httpd'
H='Host: t\r\n'

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
	stop_server || return 1
	for p in $pids; do
		wait "$p" || { echo "a client did not see its connection closed"; return 1; }
	done
	BG_PIDS=''
}

TESTS_PER_PAIR=8
app_tests() {
	check "GET and HEAD: status line, headers, a file's bytes, 404" t_responses
	check "keep-alive: 50 requests on one connection, Connection: close honoured" t_keepalive
	check "6 pipelined requests answered in order" t_pipeline
	check "400 and close on malformed or oversized requests, 405 on POST" t_bad
	check "no way out of the root (.., %2e%2e, a symlink)" t_escape
	check "20 slowloris clients do not block 100 others" t_slowloris
	check "$CLIENTS concurrent clients all served" t_concurrent
	check "SIGTERM with keep-alive clients: each closed, exit 0" t_sigterm
}

app_test_main "$@"
