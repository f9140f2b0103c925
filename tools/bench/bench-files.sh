#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench-files: checksum a tree of many files with a plain read(2)
# loop, with zk-sum on each executor and backend, and with Go; one table
# of medians.  POSIX sh.
set -eu

usage() {
	cat <<'EOF2'
Usage: tools/bench/bench-files.sh [--help]

Creates a tree of FILES files of SIZE bytes of random data (100 to a
directory) under $OUT/tree (kept for the next run while FILES and SIZE stay
the same), reads it once to warm the page cache, then runs the same job,
the FNV-1a 64 checksum of every file printed in path order, with:

  sync               zk-sum-blocking --sync: open/read(2)/close, one file
                     after the other, no library (the yardstick);
  EXECUTOR/BACKEND   zk-sum-EXECUTOR with ZK_BACKEND=BACKEND, one task per
                     file, JOBS in flight;
  go                 tools/bench/peers/sum.go: a goroutine per file, JOBS
                     reading at once, GOMAXPROCS every CPU.

ROUNDS interleaved rounds (each round runs every configuration once, in
the same order); every run's output is compared with the first sync run's.
Prints the median wall time per configuration, MiB/s and files/s, and the
speed-up over sync (sync's median time / the configuration's: higher is
better).

Environment: BUILD (<repo>/build), ROUNDS (3), FILES (2000), SIZE (65536),
JOBS (64), CONFIGS (default: sync blocking/io_uring threads/io_uring
green/io_uring stackless/io_uring green/blocking go; zsync is a backend
too, with the module loaded), OUT (results directory, $BUILD/bench-files).
Go is built here (GOCACHE under $OUT) unless SUM_GO names a binary.
EOF2
}
if [ $# -gt 0 ]; then
	case "$1" in -h|--help) usage; exit 0 ;; esac
	echo "bench-files: unknown argument '$1' (see --help)" >&2
	exit 2
fi

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
ROUNDS=${ROUNDS:-3} FILES=${FILES:-2000} SIZE=${SIZE:-65536} JOBS=${JOBS:-64}
CONFIGS=${CONFIGS:-"sync blocking/io_uring threads/io_uring green/io_uring stackless/io_uring green/blocking go"}
OUT=${OUT:-$BUILD/bench-files}
EXAMPLES=${EXAMPLES:-$BUILD/tools/examples}
TREE=$OUT/tree
RESULTS=$OUT/results.txt

PROG=bench-files
. "$(dirname "$0")/bench-lib.sh"

for n in "$ROUNDS" "$FILES" "$SIZE" "$JOBS"; do
	case "$n" in ''|*[!0-9]*) die "ROUNDS, FILES, SIZE and JOBS take whole numbers, not '$n'" ;; esac
done
if [ "$ROUNDS" -lt 1 ] || [ "$FILES" -lt 1 ] || [ "$JOBS" -lt 1 ]; then
	die "ROUNDS, FILES and JOBS must be at least 1"
fi
for c in $CONFIGS; do
	case "$c" in
	sync) b=$EXAMPLES/zk-sum-blocking ;;
	go) continue ;;
	*/*) b=$EXAMPLES/zk-sum-${c%/*} ;;
	*) die "unknown configuration '$c' (sync, go or EXECUTOR/BACKEND)" ;;
	esac
	[ -x "$b" ] || die "$b missing: run 'make tools'"
done
mkdir -p "$OUT"
: >"$RESULTS"
case " $CONFIGS " in *" go "*)
	if [ -z "${SUM_GO:-}" ]; then
		SUM_GO=$OUT/sum-go
		go_peer "$SUM_GO" "$REPO/tools/bench/peers/sum.go"
	fi ;;
esac

# The tree: 100 files a directory, each directory one head | split (not
# a process per file), rebuilt only when its shape changes.
if [ "$(cat "$OUT/tree.shape" 2>/dev/null)" != "$FILES $SIZE" ]; then
	echo "bench-files: creating $FILES files of $SIZE bytes under $TREE"
	rm -rf "$TREE" "$OUT/tree.shape"
	left=$FILES d=0
	while [ "$left" -gt 0 ]; do
		n=$((left < 100 ? left : 100))
		mkdir -p "$TREE/d$d"
		if [ "$SIZE" -eq 0 ]; then
			i=0
			while [ $i -lt $n ]; do : >"$TREE/d$d/f$i"; i=$((i + 1)); done
		else
			head -c $((n * SIZE)) /dev/urandom |
				split -b "$SIZE" -d -a 3 - "$TREE/d$d/f"
		fi
		left=$((left - n)) d=$((d + 1))
	done
	echo "$FILES $SIZE" >"$OUT/tree.shape"
fi

# Warm the page cache and keep the answer every run must give.
"$EXAMPLES/zk-sum-blocking" --sync "$TREE" >"$OUT/expected.txt" 2>/dev/null ||
	die "zk-sum-blocking --sync $TREE failed"
[ "$(wc -l <"$OUT/expected.txt")" -eq "$FILES" ] || die "the tree does not hold $FILES files"

now_ns() { date +%s%N; }

run_one() {	# run_one CONFIG: appends "config=C ms=T"
	case "$1" in
	sync) set -- "$1" "$EXAMPLES/zk-sum-blocking" --sync "$TREE" ;;
	go) set -- "$1" "$SUM_GO" -jobs "$JOBS" "$TREE" ;;
	*) set -- "$1" env ZK_BACKEND="${1#*/}" "$EXAMPLES/zk-sum-${1%/*}" --jobs "$JOBS" "$TREE" ;;
	esac
	c=$1
	shift
	t0=$(now_ns)
	"$@" >"$OUT/out.txt" 2>"$OUT/err.txt" || { cat "$OUT/err.txt" >&2; die "$c failed"; }
	t1=$(now_ns)
	cmp -s "$OUT/expected.txt" "$OUT/out.txt" || die "$c: its output differs from the read(2) loop's"
	echo "config=$c ms=$(( (t1 - t0) / 1000000 ))" | tee -a "$RESULTS"
}

echo "bench-files: $ROUNDS rounds of: $CONFIGS over $FILES files of $SIZE bytes," \
     "$JOBS in flight, page cache warm" \
     "($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs)"
r=1
while [ $r -le "$ROUNDS" ]; do
	for c in $CONFIGS; do
		run_one "$c"
	done
	r=$((r + 1))
done

# Medians per configuration (POSIX awk: an insertion sort), then the table.
awk -v configs="$CONFIGS" -v files="$FILES" -v size="$SIZE" '
function median(c,    n, i, j, v, t) {
	n = cnt[c]
	for (i = 1; i <= n; i++)
		v[i] = ms[c, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
	split($1, a, "="); split($2, b, "=")
	ms[a[2], ++cnt[a[2]]] = b[2]
}
END {
	nc = split(configs, cv, " ")
	base = ("sync" in cnt) ? median("sync") : 0
	printf "\n%-20s %10s %10s %10s %12s\n", "config", "ms", "MiB/s", "files/s", "vs sync"
	for (i = 1; i <= nc; i++) {
		c = cv[i]
		m = median(c)
		if (m < 1)
			m = 1	# a run under a millisecond: no division by zero
		printf "%-20s %10.0f %10.1f %10.0f", c, m, files * size / 1048576 / (m / 1000), files / (m / 1000)
		if (base)
			printf " %11.2fx\n", base / m
		else
			printf " %12s\n", "-"
	}
}' "$RESULTS"
