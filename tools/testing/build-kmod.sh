#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build zsync.ko against one kernel's headers, out of the source tree, so that
# builds for several kernels (6.1, 6.12, debug) never share object files.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/build-kmod.sh [--src DIR] KDIR OUTDIR [MAKE_ARGS...]

Mirrors Kbuild, kmod/ and uapi/ (sources only) from the repository into
OUTDIR, then runs `make -C KDIR M=OUTDIR modules MAKE_ARGS...`.
The result is OUTDIR/zsync.ko.

  KDIR       kernel build/headers tree (see tools/testing/kernels.sh)
  OUTDIR     build directory, created if needed, refreshed on every run
  --src DIR  take the module sources from DIR instead of the repository
             (also: ZSYNC_KMOD_SRC; meant for testing the harness itself)
EOF
}

die() { echo "build-kmod: error: $*" >&2; exit 1; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=${ZSYNC_KMOD_SRC:-$REPO}

while [[ $# -gt 0 ]]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--src) [[ $# -ge 2 ]] || die "--src needs a directory"; SRC=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) break ;;
	esac
done
[[ $# -ge 2 ]] || { usage >&2; exit 2; }
KDIR=$1 OUTDIR=$2
shift 2

[[ -f $KDIR/Makefile ]] || die "KDIR '$KDIR' is not a kernel build tree (no Makefile); run 'make deps'"
[[ -f $SRC/Kbuild ]] || die "no Kbuild in '$SRC'"
SRC=$(cd "$SRC" && pwd)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
[[ $OUTDIR != "$SRC" ]] || die "OUTDIR must differ from the source tree"

# Source files only: objects and .cmd files from an in-tree build would
# carry the source tree's absolute paths.
list_sources() {
	local d dirs=()
	for d in kmod uapi; do
		[[ -d $1/$d ]] && dirs+=("$d")
	done
	[[ ${#dirs[@]} -gt 0 ]] || return 0
	(cd "$1" && find "${dirs[@]}" -type f \( \( -name '*.[chS]' ! -name '*.mod.c' \) \
		-o -name Kbuild -o -name Makefile \) | LC_ALL=C sort)
}

# Mirror sources: copy (keeping mtimes, so make only rebuilds what changed)
# and drop files that no longer exist in the source tree, so a removed
# header cannot linger and hide a missing include.
sync_sources() {
	local stale stamp=$OUTDIR/.zsync-kmod-src
	# Mtimes only order files of one tree: objects built from another
	# tree (ZSYNC_KMOD_SRC pointing at an older checkout) would look newer
	# than its sources and be reused.  Start clean when the tree changes.
	if [[ ! -f $stamp || $(cat "$stamp") != "$SRC" ]]; then
		find "$OUTDIR" -mindepth 1 -delete
		echo "$SRC" >"$stamp"
	fi
	cp -p "$SRC/Kbuild" "$OUTDIR/Kbuild"
	# Kbuild reads the version (MODULE_VERSION) from lib/version.mk.
	mkdir -p "$OUTDIR/lib"
	cp -p "$SRC/lib/version.mk" "$OUTDIR/lib/version.mk"
	stale=$(LC_ALL=C comm -13 <(list_sources "$SRC") <(list_sources "$OUTDIR"))
	if [[ -n $stale ]]; then
		(cd "$OUTDIR" && xargs -d '\n' rm -f <<<"$stale")
	fi
	list_sources "$SRC" | (cd "$SRC" && cpio -pdmu --quiet "$OUTDIR")
}

sync_sources
exec make -C "$KDIR" M="$OUTDIR" modules "$@"
