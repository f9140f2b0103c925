#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The work of `make deb`: build zsync-k's Debian packages with the standard
# tools (dpkg-buildpackage, debhelper, dh-dkms; debian/) from a copy of the
# tree, then run lintian on them.
set -euo pipefail

usage() {
	cat <<'EOF2'
Usage: tools/deb.sh [--no-lintian]     (normally: make deb)

Copies the tracked and untracked-but-not-ignored files of the tree into
$BUILD/deb/zsync-k-VERSION/, runs `dpkg-buildpackage -b -us -uc` there and
leaves the packages in $BUILD/deb/:
  zsync-k-dkms     zsync.ko and zsync_edu.ko sources for DKMS, udev rule,
                   modprobe.d file, the group zsync
  libzsync-k0      libzsync-k.so.0 (ring layer)
  libzsync-k-io0   libzsync-k-io.so.0 (executor layer)
  libzsync-k-dev   headers, static libraries, .pc files, man3, examples
  zsync-k-tools    zsyncctl, zsync-run, zsync-trace, zsync(4), man8
Then lintian runs on the .changes file; its findings go to
$BUILD/deb/lintian.txt and the summary to the terminal.  Exit status 1 if
the build fails or lintian reports an error (E:).
Environment: BUILD (default <repo>/build).  Build dependencies: make deps.
EOF2
}

LINTIAN=1
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--no-lintian) LINTIAN=0 ;;
"") ;;
*) echo "deb: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
VERSION=$(sed -n 's/^ZK_VERSION[[:space:]]*:=[[:space:]]*//p' "$REPO/lib/version.mk")
OUT=$BUILD/deb
SRC=$OUT/zsync-k-$VERSION

die() { echo "deb: error: $*" >&2; exit 1; }

command -v dpkg-buildpackage >/dev/null || die "dpkg-buildpackage missing; run 'make deps'"
CHANGELOG_VERSION=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
[[ $CHANGELOG_VERSION == "$VERSION" ]] ||
	die "debian/changelog is at $CHANGELOG_VERSION, lib/version.mk at $VERSION; add a changelog entry (dch -v $VERSION)"

rm -rf "$OUT"
mkdir -p "$SRC"
echo "deb: copying the tree into $SRC"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -P -t "$SRC" 2>/dev/null) ||
	die "copying the tree failed (is $REPO a git checkout?)"

echo "deb: dpkg-buildpackage -b -us -uc (log: $OUT/build.log)"
if ! (cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1; then
	tail -30 "$OUT/build.log" >&2
	die "dpkg-buildpackage failed; see $OUT/build.log"
fi
CHANGES=$(ls "$OUT"/zsync-k_"$VERSION"_*.changes)
for deb in "$OUT"/*.deb; do
	printf 'deb: %-52s %s\n' "$(basename "$deb")" "$(du -h "$deb" | cut -f1)"
done

[[ $LINTIAN -eq 1 ]] || exit 0
command -v lintian >/dev/null || die "lintian missing; run 'make deps'"
echo "deb: lintian $(basename "$CHANGES") (findings: $OUT/lintian.txt)"
# lintian exits 1 on errors; count every severity ourselves.
lintian --info --display-info --pedantic "$CHANGES" >"$OUT/lintian.txt" 2>&1 || true
for sev in E W I P; do
	printf 'deb: lintian %s: %d\n' "$sev" "$(grep -c "^$sev: " "$OUT/lintian.txt" || true)"
done
grep -E '^[EW]: ' "$OUT/lintian.txt" || true
! grep -q '^E: ' "$OUT/lintian.txt" || die "lintian reports errors"
echo "deb: ok"
