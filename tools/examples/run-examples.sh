#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run each zk-copy-<model> example on a few files of random data and
# check the copies byte for byte; on the io_uring and blocking backends.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help || $# -ne 1 ]]; then
	echo "Usage: tools/examples/run-examples.sh DIR   (DIR holds zk-copy-<model>)"
	[[ $# -eq 1 ]] && exit 0 || exit 2
fi
dir=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/zk-copy.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
for i in 1 2 3 4; do
	head -c $((i * 150000 + 17)) /dev/urandom >"$work/src/file$i"
done
: >"$work/src/empty"
for model in blocking threads green stackless; do
	for backend in io_uring blocking; do
		rm -rf "$work/dst" && mkdir "$work/dst"
		ZK_BACKEND=$backend "$dir/zk-copy-$model" "$work"/src/* "$work/dst" | tail -n 1
		for f in "$work"/src/*; do
			cmp "$f" "$work/dst/$(basename "$f")"
		done
	done
done
echo "examples: every model copied every file intact"
