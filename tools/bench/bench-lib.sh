# SPDX-License-Identifier: GPL-2.0
#
# What the server benchmarks share (bench-echo.sh, bench-http.sh): a fresh
# server per run, its port and memory, and the interleaved rounds; die and
# go_peer serve bench-files.sh too.  POSIX sh, sourced.  The benchmark sets OUT, PROG, ROUNDS, CONNS and SERVERS and
# defines server_cmd NAME (the command line) and run_one SERVER CONNS,
# which calls bench_start, runs its load and calls bench_stop.

SRV_PID=''
trap '[ -z "$SRV_PID" ] || kill -KILL "$SRV_PID" 2>/dev/null; true' EXIT

die() { echo "$PROG: error: $*" >&2; exit 1; }

# go_peer BINARY SOURCE...: build a Go peer now (not in make check's path),
# offline, with its cache under $OUT.
go_peer() {
	command -v go >/dev/null || die "go missing: run 'make deps' (golang-go)"
	gp_bin=$1
	shift
	GOCACHE=$OUT/go-cache GOPATH=$OUT/gopath GOTOOLCHAIN=local GOPROXY=off \
		GO111MODULE=off CGO_ENABLED=0 go build -o "$gp_bin" "$@" ||
		die "go build failed"
}

status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# bench_start NAME: start the server; sets SRV_PID, port and base_kb (its
# RSS once listening).  It prints its port once it accepts: poll for it.
bench_start() {
	: >"$OUT/server.out"
	# shellcheck disable=SC2046
	$(server_cmd "$1") >>"$OUT/server.out" 2>&1 &
	SRV_PID=$! port='' i=0
	while [ -z "$port" ] && [ $i -lt 200 ] && kill -0 "$SRV_PID" 2>/dev/null; do
		port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$OUT/server.out")
		[ -n "$port" ] || sleep 0.05
		i=$((i + 1))
	done
	[ -n "$port" ] || { cat "$OUT/server.out" >&2; die "$1 did not start"; }
	base_kb=$(status_kb "$SRV_PID" VmRSS)
}

# bench_stop NAME CONNS: SIGTERM, reap; sets rss_per_conn, the peak RSS
# during the run (VmHWM) over base_kb, per connection.
bench_stop() {
	hwm=$(status_kb "$SRV_PID" VmHWM)
	kill -TERM "$SRV_PID"
	wait "$SRV_PID" || echo "$PROG: $1 exited with $? on SIGTERM" >&2
	SRV_PID=''
	rss_per_conn=$(awk -v a="$base_kb" -v b="$hwm" -v c="$2" 'BEGIN { printf "%.2f", (b - a) / c }')
}

# ROUNDS rounds, each running every server once per connection count.
bench_rounds() {
	r=1
	while [ $r -le "$ROUNDS" ]; do
		for conns in $CONNS; do
			for s in $SERVERS; do
				run_one "$s" "$conns"
			done
		done
		r=$((r + 1))
	done
}
