# SPDX-License-Identifier: GPL-2.0
#
# What the server benchmarks share (bench-echo.sh, bench-http.sh): a fresh
# server per run, its port and memory, and the interleaved rounds; die and
# go_peer serve bench-files.sh too; tokio_peer builds the Rust peers.
# POSIX sh, sourced.  The benchmark sets OUT, PROG, ROUNDS, CONNS and SERVERS and
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

# The Tokio + hyper peers (tools/bench/peers/rust) build against Debian's
# packaged crates only: no network, no crates.io, nothing vendored.
CARGO_REGISTRY=${CARGO_REGISTRY:-/usr/share/cargo/registry}

# tokio_cargo: the cargo to build them with: $CARGO, else Debian's (the
# registry's crates are packaged for its rustc, and it is what 'make deps'
# installs on a fresh machine; a rustup cargo earlier in PATH would build
# with another compiler than CI's), else any cargo in PATH.
tokio_cargo() {
	if [ -n "${CARGO:-}" ]; then
		echo "$CARGO"
	elif [ -x /usr/bin/cargo ]; then
		echo /usr/bin/cargo
	else
		command -v cargo || true
	fi
}

# tokio_available: cargo and Debian's tokio 1 and hyper 0.14 crates are
# here (the peers are skipped, not fatal, where they are not).
tokio_available() {
	[ -n "$(tokio_cargo)" ] &&
		ls -d "$CARGO_REGISTRY"/tokio-1.* "$CARGO_REGISTRY"/hyper-0.14.* >/dev/null 2>&1
}

TOKIO_MISSING="cargo or Debian's tokio/hyper crates in $CARGO_REGISTRY missing ('make deps' installs cargo, librust-tokio-dev and librust-hyper-dev)"

# tokio_resolve PREBUILT: SERVERS' "tokio?" (the default lists' "Tokio if
# it can be built") becomes "tokio" when PREBUILT names a binary or
# tokio_available, else it is dropped with a message.
tokio_resolve() {
	case " $SERVERS " in *" tokio? "*)
		if [ -n "$1" ] || tokio_available; then
			SERVERS=$(echo "$SERVERS" | sed 's/tokio?/tokio/')
		else
			SERVERS=$(echo "$SERVERS" | sed 's/ *tokio?//')
			echo "$PROG: $TOKIO_MISSING, skipping the Tokio peer" >&2
		fi ;;
	esac
}

# tokio_peer: build http-tokio and echo-tokio now (not in make check's
# path), offline, from a copy of the package under $OUT so that Cargo.lock
# and target/ never land in the source tree; CARGO_HOME (whose config.toml
# points crates.io at the Debian registry) and the target dir live there
# too.  Sets TOKIO_BIN, the directory holding both.
tokio_peer() {
	tokio_available || die "$TOKIO_MISSING"
	tp_cargo=$(tokio_cargo)
	tp_src=$OUT/tokio-src
	mkdir -p "$tp_src" "$OUT/cargo-home"
	# -p keeps the mtimes, so an unchanged peer is not rebuilt.
	rm -rf "$tp_src/src"
	if ! cp -p "$REPO/tools/bench/peers/rust/Cargo.toml" "$tp_src/" ||
	   ! cp -Rp "$REPO/tools/bench/peers/rust/src" "$tp_src/"; then
		die "copying tools/bench/peers/rust to $tp_src failed"
	fi
	cat >"$OUT/cargo-home/config.toml" <<-EOF
	[source.debian-packaged]
	directory = "$CARGO_REGISTRY"
	[source.crates-io]
	replace-with = "debian-packaged"
	EOF
	# Debian's cargo runs the rustc in PATH, which may be a rustup proxy:
	# pair it with the rustc installed next to it.
	tp_rustc=${RUSTC:-}
	if [ -z "$tp_rustc" ] && [ -x "$(dirname "$tp_cargo")/rustc" ]; then
		tp_rustc=$(dirname "$tp_cargo")/rustc
	fi
	echo "$PROG: building the Tokio peers ($tp_cargo, offline, crates from $CARGO_REGISTRY)"
	(cd "$tp_src" && CARGO_HOME=$OUT/cargo-home CARGO_TARGET_DIR=$OUT/cargo-target \
		RUSTC=${tp_rustc:-rustc} "$tp_cargo" build --offline --release --quiet) ||
		die "cargo build of tools/bench/peers/rust failed (see above)"
	TOKIO_BIN=$OUT/cargo-target/release
}

# app_cmd KIND NAME: the command line of server NAME (zk-green,
# zk-stackless, zk-threads: the zk-httpd or zk-echo example on BACKEND
# with that executor, a pool of ZK_THREADS (1100) for threads; epoll, go,
# node, tokio: the peers) for KIND http or echo.  The programs: ZK_HTTPD,
# ZK_ECHO, HTTP_EPOLL, ECHO_EPOLL, HTTP_GO, ECHO_GO, HTTP_TOKIO,
# ECHO_TOKIO, and Node's scripts in PEERS (tools/bench/peers).
app_cmd() {
	case "$1:$2" in
	http:zk-*|echo:zk-*)
		[ "$1" = http ] && ac_bin=$ZK_HTTPD || ac_bin=$ZK_ECHO
		echo "$ac_bin --executor ${2#zk-} --backend $BACKEND --port 0 --threads ${ZK_THREADS:-1100}" ;;
	http:epoll) echo "$HTTP_EPOLL --port 0" ;;
	echo:epoll) echo "$ECHO_EPOLL --port 0" ;;
	http:go) echo "$HTTP_GO -port 0" ;;
	echo:go) echo "$ECHO_GO -port 0" ;;
	http:node|echo:node) echo "node ${PEERS:-$REPO/tools/bench/peers}/$1.js --port 0" ;;
	http:tokio) echo "$HTTP_TOKIO --port 0" ;;
	echo:tokio) echo "$ECHO_TOKIO --port 0" ;;
	*) die "unknown $1 server '$2'" ;;
	esac
}

# parse_wrk FILE: wrk --latency's output to "rt_per_s=X p50_us=Y
# p99_us=Z errors=E" (latencies in us).
parse_wrk() {
	awk 'function us(s) {
		if (s ~ /us$/) return s + 0
		if (s ~ /ms$/) return s * 1000
		if (s ~ /[0-9]s$/) return s * 1000000
		return s * 60000000
	}
	/^ *50%/ { p50 = us($2) }
	/^ *99%/ { p99 = us($2) }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	END { printf "rt_per_s=%.0f p50_us=%.1f p99_us=%.1f errors=%d", rps, p50, p99, err }' "$1"
}

# vm_ktap_script FILE NAME COMMAND: writes FILE, a test for vm-run.sh
# --tests (busybox sh) that runs COMMAND and passes on its output as KTAP
# diagnostics ("# " lines) as it comes, then "ok 1 NAME", or "not ok 1
# NAME" if COMMAND failed.  The host reads it back with
# sed -n 's/^# //p' ktap.log.
vm_ktap_script() {
	cat >"$1" <<EOF
#!/bin/sh
echo "TAP version 13"
echo "1..1"
{ $3; echo \$? >/tmp/bench.rc; } 2>&1 | while IFS= read -r l; do echo "# \$l"; done
[ "\$(cat /tmp/bench.rc)" = 0 ] && r=ok || r="not ok"
echo "\$r 1 $2"
EOF
	chmod 755 "$1"
}

status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# bench_try_start NAME: start the server; sets SRV_PID, port and base_kb
# (its RSS once listening).  It prints its port once it accepts: poll for
# it, START_POLLS (200) times 0.05 s at most.  On failure returns 1 with
# the reason in start_error, the server gone.
bench_try_start() {
	: >"$OUT/server.out"
	# shellcheck disable=SC2046
	$(server_cmd "$1") >>"$OUT/server.out" 2>&1 &
	SRV_PID=$! port='' i=0 start_error=''
	while [ -z "$port" ] && [ $i -lt "${START_POLLS:-200}" ] && kill -0 "$SRV_PID" 2>/dev/null; do
		port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$OUT/server.out")
		[ -n "$port" ] || sleep 0.05
		i=$((i + 1))
	done
	if [ -n "$port" ]; then
		base_kb=$(status_kb "$SRV_PID" VmRSS)
		return 0
	fi
	if kill -0 "$SRV_PID" 2>/dev/null; then
		kill -KILL "$SRV_PID" 2>/dev/null || true
		start_error="not listening after $((i / 20)) s"
	else
		start_error="exited before listening"
	fi
	wait "$SRV_PID" 2>/dev/null || start_error="$start_error (status $?)"
	SRV_PID=''
	start_error="$1 did not start: $start_error: $(tail -n 2 "$OUT/server.out" | tr '\n' ' ')"
	return 1
}

# bench_start NAME: bench_try_start or die.
bench_start() {
	bench_try_start "$1" || { cat "$OUT/server.out" >&2; die "$start_error"; }
}

# proc_gone PID: the process has exited (a zombie not yet reaped, or gone).
proc_gone() {
	[ ! -r "/proc/$1/stat" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# bench_try_stop NAME CONNS: SIGTERM (SIGKILL after STOP_POLLS (100) times
# 0.05 s), reap; sets rss_per_conn, the peak RSS during the run (VmHWM)
# over base_kb, per connection.  Returns 1 with the reason in stop_error
# if the server had died during the run or did not exit 0 on SIGTERM.
bench_try_stop() {
	stop_error='' rss_per_conn=0
	if proc_gone "$SRV_PID"; then
		stop_error="died during the run"
	else
		hwm=$(status_kb "$SRV_PID" VmHWM)
		rss_per_conn=$(awk -v a="$base_kb" -v b="$hwm" -v c="$2" 'BEGIN { printf "%.2f", (b - a) / c }')
		kill -TERM "$SRV_PID" 2>/dev/null || true
		i=0
		# Once seen exiting, wait reaps it.
		while ! proc_gone "$SRV_PID"; do
			if [ $i -ge "${STOP_POLLS:-100}" ]; then
				kill -KILL "$SRV_PID" 2>/dev/null || true
				stop_error="ignored SIGTERM for $((i / 20)) s, killed"
				break
			fi
			sleep 0.05
			i=$((i + 1))
		done
	fi
	st=0
	wait "$SRV_PID" || st=$?
	SRV_PID=''
	[ $st -eq 0 ] || stop_error="${stop_error:-exited on SIGTERM} with status $st"
	[ -z "$stop_error" ] || {
		stop_error="$1 $stop_error: $(tail -n 2 "$OUT/server.out" | tr '\n' ' ')"
		return 1
	}
}

# bench_stop NAME CONNS: bench_try_stop, its failure a message only.
bench_stop() {
	bench_try_stop "$@" || echo "$PROG: $stop_error" >&2
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
