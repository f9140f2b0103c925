#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything zsync-k needs to build and test (called by `make deps`).
# Idempotent and fast when all is in place: packages are checked with
# dpkg-query first and apt only runs when something is missing.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/deps.sh [--help]

Installs the Debian packages zsync-k needs (apt-get, only when missing), then
prepares, under $BUILD (default <repo>/build):
  kernels/6.1/    Debian's stock 6.1 image matching linux-headers-amd64
  kernels/6.12/   Debian's stock 6.12 image matching linux-headers-6.12-amd64
  kernels/debug/  the debug kernel + headers from $SHARED/kernels (if present)
  ksft/           kselftest_harness.h and kselftest.h from linux-source-6.1
  checkpatch/     checkpatch.pl, its data files and kernel-doc from linux-source-6.1
Kernel images are fetched with `apt-get download` and unpacked with
`dpkg-deb -x`; nothing is installed into /boot.

Environment: BUILD, SHARED (default <repo>/../shared),
             ZSYNC_CACHE (downloaded .debs; default ~/.cache/zsync-k).
EOF
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
"") ;;
*) echo "deps: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
SHARED=${SHARED:-$REPO/../shared}
# Outside $BUILD so `make clean` and fresh CI clones keep the downloads.
CACHE=${ZSYNC_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/zsync-k}
LINUX_SRC_TAR=/usr/src/linux-source-6.1.tar.xz

PACKAGES=(build-essential gcc make pkg-config linux-headers-amd64
	  linux-headers-6.12-amd64 qemu-system-x86 busybox-static cpio gzip
	  xz-utils kmod liburing-dev libbpf-dev linux-source-6.1 sparse
	  util-linux perl gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	  qemu-user-static dkms openssl man-db debhelper dh-dkms lintian
	  dpkg-dev fakeroot clang bpftool libelf-dev zlib1g-dev
	  golang-go nodejs wrk)
# cargo, rustc and the librust-*-dev crates build the Tokio + hyper peers of
# make bench-http and bench-echo offline, against /usr/share/cargo/registry;
# crun and runc are make bench-runtime's peers.
# Only benches use them, and CI runs none: it skips them (about 40 s of a
# run kept under 45 minutes); the benches say so if they are missing.
BENCH_ONLY_PACKAGES=(cargo rustc librust-tokio-dev librust-hyper-dev crun runc)
[[ ${CI:-} == true ]] || PACKAGES+=("${BENCH_ONLY_PACKAGES[@]}")

log() { echo "deps: $*"; }
die() { echo "deps: error: $*" >&2; exit 1; }

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

APT_UPDATED=0
apt_update_once() {
	[[ $APT_UPDATED -eq 1 ]] && return 0
	log "apt-get update"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
		die "apt-get update failed"
	APT_UPDATED=1
}

is_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
	[[ $status == ii* ]]
}

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		is_installed "$p" || missing+=("$p")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "all ${#PACKAGES[@]} packages installed"
		return 0
	fi
	log "installing: ${missing[*]}"
	apt_update_once
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" </dev/null ||
		die "apt-get install failed for: ${missing[*]}"
}

# "linux-headers-6.1.0-56-amd64 (= 6.1.192-2)" -> "linux-headers-6.1.0-56-amd64 6.1.192-2"
headers_dependency() {
	local dep
	dep=$(dpkg-query -W -f='${Depends}' "$1" 2>/dev/null) ||
		die "$1 is not installed"
	sed -n 's/.*\(linux-headers-[^ ,]*\) (= \([^)]*\)).*/\1 \2/p' <<<"$dep"
}

# linux-image-amd64 (a metapackage of the same source and version as
# linux-headers-amd64) depends on linux-image-<abi>-amd64 exactly where
# linux-headers-amd64 depends on linux-headers-<abi>-amd64 (likewise for the
# -6.12- metapackages), so the image package is the headers dependency with
# "headers" replaced by "image".
# Prints "PACKAGE=VERSION" for apt-get download.
image_for_headers_meta() {
	local name ver
	read -r name ver <<<"$(headers_dependency "$1")"
	[[ -n ${name:-} && -n ${ver:-} ]] ||
		die "cannot parse the Depends of $1"
	echo "${name/linux-headers-/linux-image-}=$ver"
}

# Cross-check against the image metapackage's own Depends (linux-image-amd64
# for 6.1, linux-image-6.12-amd64 for 6.12) when apt knows it; apt lists may
# be missing on a fresh machine, so this only warns.
check_meta_agrees() {
	local meta=$1 spec=$2 dep
	dep=$(apt-cache show "$meta=${spec#*=}" 2>/dev/null |
	      sed -n 's/^Depends: //p' | head -n1) || true
	[[ -n $dep ]] || return 0
	[[ $dep == *"${spec%%=*}"* ]] ||
		log "warning: $meta=${spec#*=} depends on '$dep', not ${spec%%=*}"
}

# apt-get download PACKAGE=VERSION into $CACHE; prints the .deb path.
fetch_deb() {
	local spec=$1 name=${1%%=*} ver=${1#*=} deb existing
	# Debian encodes ':' in versions as %3a in file names.
	deb="${name}_${ver//:/%3a}_amd64.deb"
	mkdir -p "$CACHE"
	if [[ -s $CACHE/$deb ]]; then
		echo "$CACHE/$deb"; return 0
	fi
	existing=/var/cache/apt/archives/$deb
	if [[ -s $existing ]]; then
		cp "$existing" "$CACHE/$deb.tmp" && mv "$CACHE/$deb.tmp" "$CACHE/$deb"
		echo "$CACHE/$deb"; return 0
	fi
	log "downloading $spec" >&2
	local opts=()
	# As root apt would try (and warn about) dropping to the _apt user.
	[[ $(id -u) -eq 0 ]] && opts=(-o APT::Sandbox::User=root)
	if ! (cd "$CACHE" && apt-get download -q "${opts[@]}" "$spec" >/dev/null 2>&1); then
		apt_update_once >&2
		(cd "$CACHE" && apt-get download -q "${opts[@]}" "$spec" >&2) ||
			die "apt-get download $spec failed"
	fi
	[[ -s $CACHE/$deb ]] || die "apt-get download $spec did not produce $deb"
	echo "$CACHE/$deb"
}

# Unpack a stock kernel image package into $BUILD/kernels/NAME (no /boot).
prepare_stock_kernel() {
	local kname=$1 meta=$2 spec dir deb
	dir=$BUILD/kernels/$kname
	spec=$(image_for_headers_meta "$meta")
	if compgen -G "$dir/boot/vmlinuz-*" >/dev/null; then
		log "kernel $kname: $(basename "$dir"/boot/vmlinuz-*) already extracted"
		return 0
	fi
	check_meta_agrees "${meta/linux-headers-/linux-image-}" "$spec"
	deb=$(fetch_deb "$spec")
	log "kernel $kname: extracting $(basename "$deb")"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	dpkg-deb -x "$deb" "$dir.tmp"
	compgen -G "$dir.tmp/boot/vmlinuz-*" >/dev/null ||
		die "$deb has no boot/vmlinuz-*"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

# The debug kernel is optional: it lives in $SHARED/kernels when provided.
prepare_debug_kernel() {
	local src=$SHARED/kernels dir=$BUILD/kernels/debug deb
	if [[ ! -d $src ]]; then
		log "no $src: skipping the debug kernel"
		return 0
	fi
	if compgen -G "$dir/boot/vmlinuz-*" >/dev/null &&
	   compgen -G "$dir/usr/src/linux-headers-*/Makefile" >/dev/null; then
		log "kernel debug: already extracted"
		return 0
	fi
	log "kernel debug: verifying $src/SHA256SUMS"
	(cd "$src" && sha256sum --quiet -c SHA256SUMS) ||
		die "checksum mismatch in $src"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	for deb in "$src"/linux-image-*.deb "$src"/linux-headers-*.deb; do
		[[ -f $deb ]] || die "missing $deb"
		log "kernel debug: extracting $(basename "$deb")"
		dpkg-deb -x "$deb" "$dir.tmp"
	done
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

# One pass over the (large) linux-source tarball for both the kselftest
# harness and checkpatch; --occurrence lets tar stop once all are found.
extract_from_linux_source() {
	local ksft=$BUILD/ksft cp=$BUILD/checkpatch want=() tmp f
	local -A dest=(
		[tools/testing/selftests/kselftest_harness.h]=$ksft
		[tools/testing/selftests/kselftest.h]=$ksft
		[scripts/checkpatch.pl]=$cp
		[scripts/spelling.txt]=$cp
		[scripts/const_structs.checkpatch]=$cp
		[scripts/kernel-doc]=$cp
	)
	for f in "${!dest[@]}"; do
		[[ -s ${dest[$f]}/$(basename "$f") ]] || want+=("linux-source-6.1/$f")
	done
	if [[ ${#want[@]} -eq 0 ]]; then
		log "kselftest harness and checkpatch already extracted"
		return 0
	fi
	[[ -f $LINUX_SRC_TAR ]] || die "$LINUX_SRC_TAR missing (package linux-source-6.1)"
	log "extracting ${#want[@]} file(s) from $LINUX_SRC_TAR"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/zsync-deps.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN
	tar -xJf "$LINUX_SRC_TAR" -C "$tmp" --occurrence "${want[@]}" ||
		die "extracting from $LINUX_SRC_TAR failed"
	mkdir -p "$ksft" "$cp"
	for f in "${!dest[@]}"; do
		[[ -f $tmp/linux-source-6.1/$f ]] || continue
		cp "$tmp/linux-source-6.1/$f" "${dest[$f]}/"
	done
	chmod +x "$cp/checkpatch.pl" "$cp/kernel-doc"
}

main() {
	install_packages
	mkdir -p "$BUILD/kernels"
	prepare_stock_kernel 6.1 linux-headers-amd64
	prepare_stock_kernel 6.12 linux-headers-6.12-amd64
	prepare_debug_kernel
	extract_from_linux_source
	log "done"
}

main
