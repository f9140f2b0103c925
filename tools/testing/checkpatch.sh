#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make checkpatch`: the kernel's checkpatch.pl over the module sources and
# the uapi header, then tools/testing/kernel-doc.sh (`make kernel-doc`) over
# them and the library headers. checkpatch.pl and kernel-doc are not in
# Debian's headers packages, so they are taken (once) from
# /usr/src/linux-source-6.1.tar.xz.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/checkpatch.sh [FILE...]

Runs checkpatch.pl --no-tree -f over kmod/**/*.c, kmod/**/*.h and
uapi/linux/*.h (or the FILEs given). Fails on any ERROR or WARNING;
nothing is ignored. Then tools/testing/kernel-doc.sh: kernel-doc -v over
the same files and lib/include/*.h (or the .c and .h FILEs given), which
fails on any warning. checkpatch.pl, spelling.txt, const_structs.checkpatch
and kernel-doc are extracted from /usr/src/linux-source-6.1.tar.xz into
$BUILD/checkpatch/ on first use (deps.sh does this too).
EOF
}

die() { echo "checkpatch: error: $*" >&2; exit 2; }

case "${1:-}" in
-h|--help) usage; exit 0 ;;
-*) die "unknown option '$1' (see --help)" ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
CPDIR=$BUILD/checkpatch
TARBALL=/usr/src/linux-source-6.1.tar.xz
FILES=(checkpatch.pl spelling.txt const_structs.checkpatch kernel-doc)

extract_checkpatch() {
	local f missing=() tmp
	for f in "${FILES[@]}"; do
		[[ -s $CPDIR/$f ]] || missing+=("linux-source-6.1/scripts/$f")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	[[ -f $TARBALL ]] || die "$TARBALL missing; run 'make deps' (package linux-source-6.1)"
	echo "checkpatch: extracting ${missing[*]##*/} from $TARBALL"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/zsync-checkpatch.XXXXXX")
	tar -xJf "$TARBALL" -C "$tmp" --occurrence "${missing[@]}" ||
		{ rm -rf "$tmp"; die "cannot extract checkpatch from $TARBALL"; }
	mkdir -p "$CPDIR"
	cp "$tmp"/linux-source-6.1/scripts/* "$CPDIR/"
	rm -rf "$tmp"
	chmod +x "$CPDIR/checkpatch.pl" "$CPDIR/kernel-doc"
}

extract_checkpatch
cd "$REPO"
if [[ $# -gt 0 ]]; then
	TARGETS=("$@")
else
	TARGETS=()
	if [[ -d kmod ]]; then
		mapfile -t TARGETS < <(find kmod -type f \( -name '*.c' -o -name '*.h' \) \
			! -name '*.mod.c' | LC_ALL=C sort)
	fi
	TARGETS+=(uapi/linux/*.h)
fi

echo "checkpatch: ${#TARGETS[@]} file(s)"
rc=0
# --no-tree: there is no kernel tree around the module; -f: whole files,
# not patches. The summary lines make failures easy to spot in CI logs.
perl "$CPDIR/checkpatch.pl" --no-tree --quiet --show-types --color=never \
	-f "${TARGETS[@]}" || rc=$?
if [[ $rc -ne 0 ]]; then
	echo "checkpatch: FAILED (errors or warnings above)"
else
	echo "checkpatch: clean"
fi

# kernel-doc, even when checkpatch failed, so that one run shows both.
kd_rc=0
if [[ $# -gt 0 ]]; then
	KD_TARGETS=()
	for f in "${TARGETS[@]}"; do
		[[ $f == *.[ch] ]] && KD_TARGETS+=("$f")
	done
	if [[ ${#KD_TARGETS[@]} -gt 0 ]]; then
		"$REPO/tools/testing/kernel-doc.sh" "${KD_TARGETS[@]}" || kd_rc=$?
	fi
else
	"$REPO/tools/testing/kernel-doc.sh" || kd_rc=$?
fi
[[ $rc -eq 0 && $kd_rc -eq 0 ]] || exit 1
