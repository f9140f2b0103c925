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
Usage: tools/bench/bench-native.sh [-r ROUNDS] [-s PERCENT] [-o FILE] [TOOLS_DIR]

  -r ROUNDS   rounds to run (default 5, at least 1)
  -s PERCENT  scale every program's iteration counts (default 100)
  -o FILE     also keep the raw "ROUND result METRIC ENGINE VALUE" lines
  TOOLS_DIR   where zsync-bench-{exec,go,pthread} are (default build/tools)
EOT
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=5
SCALE=100
RAW=
while getopts "r:s:o:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	s) SCALE=$OPTARG ;;
	o) RAW=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TOOLS=${1:-$HERE/../../build/tools}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench-native: bad round count '$ROUNDS': Invalid argument" >&2; exit 2; }
[[ $SCALE =~ ^[1-9][0-9]*$ ]] || { echo "bench-native: bad scale '$SCALE': Invalid argument" >&2; exit 2; }
for t in zsync-bench-exec zsync-bench-go zsync-bench-pthread; do
	[[ -x $TOOLS/$t ]] || { echo "bench-native: $TOOLS/$t: No such file or directory" >&2; exit 2; }
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
	echo "bench-native: round $r of $ROUNDS" >&2
	{
		"$TOOLS/zsync-bench-exec" -k -s "$SCALE" -b io_uring
		"$TOOLS/zsync-bench-exec" -k -s "$SCALE" -b blocking
		"$TOOLS/zsync-bench-go" -k -s "$SCALE"
		"$TOOLS/zsync-bench-pthread" -k -s "$SCALE"
	} | awk -v r="$r" '$1 == "result" { print r, $0 }' >>"$out"
done
[[ -z $RAW ]] || cp "$out" "$RAW"
echo "bench-native: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk -f "$HERE/compare.awk" "$out"
