#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that a shared library exports exactly the functions its public
# header declares, each under a version node of its linker version script.
# lib/lib.mk runs it after linking each .so; tools/testing/install-test.sh
# runs it on the installed files.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: lib/abi-check.sh HEADER LIBRARY.so MAP [CFLAGS...]

  HEADER   the library's public header (e.g. lib/include/zsync-k.h)
  LIBRARY  the shared library built from it
  MAP      its linker version script (e.g. lib/libzsync-k.map)
  CFLAGS   what compiling HEADER needs (-I...)

Passes when the functions HEADER declares (not its static inline ones),
the names MAP lists and the symbols LIBRARY exports (nm -D --defined-only)
are the same set, and every exported symbol carries one of MAP's versions.
Prints one line: "abi-check: LIBRARY: N functions exported, version NODE";
on failure, what differs, and exits 1.  CC (default gcc) reads HEADER.
EOF
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
esac
[[ $# -ge 3 ]] || { usage >&2; exit 2; }
HEADER=$(realpath "$1") LIB=$2 MAP=$3
shift 3
for f in "$HEADER" "$LIB" "$MAP"; do
	[[ -e $f ]] || { echo "abi-check: $f does not exist" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/abi-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# The compiler, not a regex over the header, says what it declares:
# -aux-info lists every prototype with its file and storage class.
declared() {
	printf '#include "%s"\n' "$HEADER" >"$TMP/tu.c"
	"${CC:-gcc}" -fsyntax-only -aux-info "$TMP/aux" "$@" "$TMP/tu.c"
	grep -F "/* $HEADER:" "$TMP/aux" | grep -F '*/ extern ' |
		sed -E 's/^.*\*\/ extern //; s/ \(.*$//; s/.*[ *]//' | sort -u
}

# The names between "global:" and "local:", one per line.
map_names() {
	sed -n '/global:/,/local:/p' "$MAP" |
		grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' | tr -d ' \t;' | sort -u
}

map_nodes() {
	grep -oE '^[A-Za-z_][A-Za-z0-9_.]*[[:space:]]*\{' "$MAP" | tr -d ' \t{'
}

# "name@@NODE" (or name@NODE) of every defined dynamic symbol, without the
# absolute symbols that only name the version nodes.
exported() {
	nm -D --defined-only --with-symbol-versions "$LIB" |
		awk '$2 != "A" { print $3 }' | sort -u
}

# differ WHAT LEFT_NAME LEFT RIGHT_NAME RIGHT: report names in one list only.
differ() {
	local only_left only_right
	only_left=$(comm -23 "$3" "$5" | tr '\n' ' ')
	only_right=$(comm -13 "$3" "$5" | tr '\n' ' ')
	[[ -z $only_left && -z $only_right ]] && return 0
	[[ -n $only_left ]] && echo "abi-check: $1: in $2 only: $only_left" >&2
	[[ -n $only_right ]] && echo "abi-check: $1: in $4 only: $only_right" >&2
	return 1
}

main() {
	local rc=0 unversioned nodes
	declared "$@" >"$TMP/declared"
	map_names >"$TMP/map"
	exported >"$TMP/versioned"
	sed 's/@.*//' "$TMP/versioned" | sort -u >"$TMP/exported"
	nodes=$(map_nodes | tr '\n' ' ')

	differ "$(basename "$MAP")" "$(basename "$HEADER")" "$TMP/declared" \
		"$(basename "$MAP")" "$TMP/map" || rc=1
	differ "$(basename "$LIB")" "$(basename "$HEADER")" "$TMP/declared" \
		"the library's exports" "$TMP/exported" || rc=1
	unversioned=$(grep -vE "@@?($(map_nodes | sed 's/\./\\./g' | paste -sd'|'))\$" \
		"$TMP/versioned" | tr '\n' ' ' || true)
	if [[ -n $unversioned ]]; then
		echo "abi-check: $(basename "$LIB"): not in a version node of $(basename "$MAP"): $unversioned" >&2
		rc=1
	fi
	[[ $rc -eq 0 ]] || return 1
	echo "abi-check: $(basename "$LIB"): $(wc -l <"$TMP/exported") functions exported, version ${nodes% }"
}

main "$@"
