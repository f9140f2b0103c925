#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-native.sh: the executors next to Go and plain pthreads, on the host
# (`make bench-native`).  Each round runs zsync-bench-exec on the io_uring
# and blocking backends, zsync-bench-go and zsync-bench-pthread, one after
# the other, so every engine sees the same minutes of a shared machine;
# compare.awk then prints one table of medians and per-round ratios.
set -euo pipefail

usage() {
	cat <<'EOT'
Usage: tools/bench/bench-native.sh [-r ROUNDS] [-s PERCENT] [-o FILE] [-g GO_BIN] [TOOLS_DIR]

  -r ROUNDS   rounds to run (default 5, at least 1)
  -s PERCENT  scale every program's iteration counts (default 100)
  -o FILE     also keep the raw "ROUND result METRIC ENGINE VALUE" lines
  -g GO_BIN   the Go program (default TOOLS_DIR/../go/zsync-bench-go)
  TOOLS_DIR   where zsync-bench-{exec,pthread} are (default build/tools)
EOT
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=5
SCALE=100
RAW=
GO_BIN=
[[ ${1:-} != --help ]] || { usage; exit 0; }
while getopts "r:s:o:g:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	s) SCALE=$OPTARG ;;
	o) RAW=$OPTARG ;;
	g) GO_BIN=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOOLS=${1:-$HERE/../../build/tools}
GO_BIN=${GO_BIN:-$TOOLS/../go/zsync-bench-go}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench-native: bad round count '$ROUNDS': Invalid argument" >&2; exit 2; }
[[ $SCALE =~ ^[1-9][0-9]*$ ]] || { echo "bench-native: bad scale '$SCALE': Invalid argument" >&2; exit 2; }
for t in "$TOOLS/zsync-bench-exec" "$TOOLS/zsync-bench-pthread" "$GO_BIN"; do
	[[ -x $t ]] || { echo "bench-native: $t: No such file or directory" >&2; exit 2; }
done

load0=$(cut -d" " -f1-3 /proc/loadavg)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
	echo "bench-native: round $r of $ROUNDS" >&2
	{
		"$TOOLS/zsync-bench-exec" -k -s "$SCALE" -b io_uring
		"$TOOLS/zsync-bench-exec" -k -s "$SCALE" -b blocking
		"$GO_BIN" -k -s "$SCALE"
		"$TOOLS/zsync-bench-pthread" -k -s "$SCALE"
	} | awk -v r="$r" '$1 == "result" { print r, $0 }' >>"$out"
done
[[ -z $RAW ]] || cp "$out" "$RAW"
echo "bench-native: $(nproc) CPUs, $(uname -r), load average $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
awk -f "$HERE/compare.awk" "$out"
