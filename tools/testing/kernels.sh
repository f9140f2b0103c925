#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# List the kernels the VM tests can boot: those whose image (extracted by
# deps.sh) and headers tree both exist.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/kernels.sh [NAME]

Prints one line per available test kernel:  NAME VMLINUZ KDIR
  6.1    Debian's stock 6.1 (the version linux-headers-amd64 points at)
  6.12   Debian's stock 6.12 (linux-headers-6.12-amd64)
  debug  6.1 with KASAN, lockdep, kmemleak (from $SHARED/kernels)
With NAME, prints only that kernel's line, or fails if it is not available.
Kernels appear after `make deps`. Environment: BUILD (default <repo>/build).
EOF
}

die() { echo "kernels: error: $*" >&2; exit 1; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
ALL=(6.1 6.12 debug)

# The ABI name a headers metapackage depends on, e.g. 6.1.0-56-amd64.
headers_abi() {
	dpkg-query -W -f='${Depends}' "$1" 2>/dev/null |
		sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p'
}

# Prints "VMLINUZ KDIR" for a kernel name (paths may not exist).
kernel_paths() {
	local abi dir=$BUILD/kernels/$1 v
	case "$1" in
	6.1)	abi=$(headers_abi linux-headers-amd64)
		echo "$dir/boot/vmlinuz-${abi:-unknown} /usr/src/linux-headers-${abi:-unknown}" ;;
	6.12)	abi=$(headers_abi linux-headers-6.12-amd64)
		echo "$dir/boot/vmlinuz-${abi:-unknown} /usr/src/linux-headers-${abi:-unknown}" ;;
	debug)	# The version is whatever the shared .debs were built as.
		v=unknown
		for k in "$dir"/boot/vmlinuz-*; do
			[[ ! -f $k ]] || v=${k##*/vmlinuz-}
		done
		echo "$dir/boot/vmlinuz-$v $dir/usr/src/linux-headers-$v" ;;
	*)	return 1 ;;
	esac
}

print_kernel() {
	local vmlinuz kdir
	read -r vmlinuz kdir <<<"$(kernel_paths "$1")" || return 1
	[[ -f $vmlinuz && -f $kdir/Makefile ]] || return 1
	echo "$1 $vmlinuz $kdir"
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
"")	for k in "${ALL[@]}"; do
		print_kernel "$k" || true
	done ;;
*)	[[ $# -eq 1 ]] || { usage >&2; exit 2; }
	case " ${ALL[*]} " in
	*" $1 "*) ;;
	*) die "unknown kernel '$1' (known: ${ALL[*]})" ;;
	esac
	print_kernel "$1" ||
		die "kernel '$1' is not available (image or headers missing; run 'make deps')" ;;
esac
