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
