#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make kernel-doc` (and the second half of `make checkpatch`): the kernel's
# scripts/kernel-doc -v -none over the module sources, the library headers
# and the uapi headers; any warning fails.  The headers' comments are the
# section-3 man pages (tools/man.sh), so a warning there is a page with an
# argument or a return value left undescribed.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/kernel-doc.sh [FILE...]
       tools/testing/kernel-doc.sh --path

Runs scripts/kernel-doc -v -none over kmod/**/*.c, kmod/**/*.h,
lib/include/*.h and uapi/linux/*.h (or the FILEs given) and fails on any
warning or error it reports: a function parameter, struct member or enum
value without its @name: line, a missing Return: section, "contents
before sections", ...  scripts/kernel-doc is extracted from
/usr/src/linux-source-6.1.tar.xz into $BUILD/checkpatch/ on first use
(deps.sh does this too); KERNEL_DOC names another one to use.
--path prints the kernel-doc to use (extracting it first if need be) and
does nothing else: tools/man.sh runs the same script this way.
EOF
}

die() { echo "kernel-doc: error: $*" >&2; exit 2; }

PATH_ONLY=0
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--path) PATH_ONLY=1; shift ;;
-*) die "unknown option '$1' (see --help)" ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
CPDIR=$BUILD/checkpatch
TARBALL=/usr/src/linux-source-6.1.tar.xz

# The kernel's scripts/kernel-doc, one file out of the source tarball.
kernel_doc() {
	local kd=$CPDIR/kernel-doc tmp
	if [[ -n ${KERNEL_DOC:-} ]]; then
		echo "$KERNEL_DOC"
		return
	fi
	if [[ ! -s $kd ]]; then
		[[ -f $TARBALL ]] || die "$TARBALL missing; run 'make deps' (package linux-source-6.1)"
		echo "kernel-doc: extracting scripts/kernel-doc from $TARBALL" >&2
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/zsync-kernel-doc.XXXXXX")
		tar -xJf "$TARBALL" -C "$tmp" --occurrence linux-source-6.1/scripts/kernel-doc ||
			{ rm -rf "$tmp"; die "cannot extract scripts/kernel-doc from $TARBALL"; }
		mkdir -p "$CPDIR"
		# A rename, so that a concurrent run never sees half a file.
		install -m 0755 "$tmp/linux-source-6.1/scripts/kernel-doc" "$kd.tmp.$$"
		mv -f "$kd.tmp.$$" "$kd"
		rm -rf "$tmp"
	fi
	echo "$kd"
}

KD=$(kernel_doc)
if [[ $PATH_ONLY -eq 1 ]]; then
	echo "$KD"
	exit 0
fi
cd "$REPO"
if [[ $# -gt 0 ]]; then
	TARGETS=("$@")
else
	TARGETS=()
	if [[ -d kmod ]]; then
		mapfile -t TARGETS < <(find kmod -type f \( -name '*.c' -o -name '*.h' \) \
			! -name '*.mod.c' | LC_ALL=C sort)
	fi
	TARGETS+=(lib/include/*.h uapi/linux/*.h)
fi

echo "kernel-doc: ${#TARGETS[@]} file(s)"
# -none: check only.  kernel-doc's exit status does not count its
# warnings (nor, with -none, its errors), so its report is read instead;
# -v adds the checks of Return: sections and of the comment layout.
rc=0
report=$("$KD" -v -none "${TARGETS[@]}" 2>&1) || rc=$?
if [[ $rc -ne 0 ]]; then
	grep -v ': info: ' <<<"$report" >&2 || true
	die "$KD failed (exit status $rc)"
fi
# Everything but its progress lines is a problem: warnings, errors,
# "Error: Cannot open file".
problems=$(grep -vE ': info: |^[0-9]+ (warnings|errors)$|^$' <<<"$report" || true)
if [[ -n $problems ]]; then
	echo "$problems"
	echo "kernel-doc: FAILED ($(wc -l <<<"$problems") problem(s) above: every" \
		"parameter, member and enum value needs its @name: line, every" \
		"function that returns a value a Return: section)"
	exit 1
fi
echo "kernel-doc: clean"
