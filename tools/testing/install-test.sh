#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install-test`: make install into a scratch DESTDIR, then use only
# what was installed, as a user of the library would: build the installed
# examples with pkg-config (shared and static), run their host-only parts,
# check the libraries' SONAMEs, NEEDED entries and exports; then make
# uninstall and check the scratch tree is empty.  Host-side, no module.
set -uo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/install-test.sh [--keep]

Installs into $BUILD/install-test/root (default layout, PREFIX=/usr/local),
builds the installed zk-probe.c (ring layer) and zk-copy.c (executor layer)
with `pkg-config --define-prefix [--static] --cflags --libs` and nothing
else, and checks:
  - every file is installed, the .so symlinks point the right way;
  - SONAME, NEEDED (libzsync-k: libc only) and the exported symbols:
    exactly the functions of the installed header, each versioned
    (lib/abi-check.sh);
  - no header comes from the source tree (gcc -H), every zsync-k library
    linked comes from the scratch tree (-Wl,--trace);
  - the programs run: zk-probe --list and its no-device error, zk-copy
    copying files on the blocking and io_uring backends;
  - the modprobe.d example names every module parameter in kmod/;
  - man pages: every function of lib/libzsync-k*.map has a section-3 page
    (its own, or a .so link to its family's), every page's NAME names
    functions the installed headers declare, every page renders without
    groff warnings, zsyncctl(8), zsync-run(8) and zsync-trace(8) name every
    option (and command or mode) their --help lists;
  - zsync-trace: installed 0755 and in the manifest, --help prints its
    usage, NEEDED has libbpf.so.1 and every library resolves (libzsync-k
    linked in statically);
  - a second install changes nothing, uninstall empties the scratch tree,
    keeps a changed modprobe.d file and files it did not install.
Prints one line per check, then "install-test: N passed, M failed"; exit
status 1 if any failed.  --keep leaves $BUILD/install-test for a look.
Logs: $BUILD/install-test/log.
EOF
}

KEEP=0
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--keep) KEEP=1 ;;
"") ;;
*) echo "install-test: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
WORK=$BUILD/install-test
ROOT=$WORK/root
OUT=$WORK/out
LOG=$WORK/log
# The default layout is what is tested: forget any the caller set.
unset MAKEFLAGS MAKEOVERRIDES MFLAGS PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR \
      SBINDIR DOCDIR UDEVRULESDIR MODPROBEDIR MANIFEST DESTDIR
P=/usr/local
LIBDIR=$ROOT$P/lib
INC=$ROOT$P/include
EXAMPLES=$ROOT$P/share/doc/zsync-k/examples
MAN=$ROOT$P/share/man
MODPROBE_CONF=$ROOT/etc/modprobe.d/zsync.conf
CC=${CC:-gcc}
CFLAGS=(-O2 -Wall -Wextra -Werror)
# pkg-config as a user would call it, on the scratch copy: --define-prefix
# reads the prefix from where the .pc file sits.
PKGCONF=(env PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --define-prefix)

. "$REPO/tools/testing/checks.sh"

run_make() { make -C "$REPO" --no-print-directory "$@" DESTDIR="$ROOT"; }

# --------------------------------------------------------------- the files

expected_files() {
	local lib
	for lib in libzsync-k libzsync-k-io; do
		echo "$P/lib/$lib.so.0.1.0" "$P/lib/$lib.so.0" "$P/lib/$lib.so" "$P/lib/$lib.a"
		echo "$P/lib/pkgconfig/${lib#lib}.pc"
	done
	echo "$P/include/zsync-k.h" "$P/include/zsync-k-io.h"
	echo "$P/include/zsync-k/linux/zsync.h" "$P/include/zsync-k/linux/zsync_edu.h"
	echo "$P/sbin/zsyncctl" "$P/sbin/zsync-run" "$P/sbin/zsync-trace"
	echo "$P/share/doc/zsync-k/examples/zk-copy.c" "$P/share/doc/zsync-k/examples/zk-probe.c"
	echo "$P/share/man/man3/zk_ring_init.3" "$P/share/man/man3/zk_io_init.3"
	echo "$P/share/man/man4/zsync.4" "$P/share/man/man8/zsyncctl.8" "$P/share/man/man8/zsync-run.8"
	echo "$P/share/man/man8/zsync-trace.8"
	echo /lib/udev/rules.d/60-zsync.rules /etc/modprobe.d/zsync.conf
	echo "$P/share/zsync-k/install-manifest"
}

all_installed() {
	local f missing=0
	for f in $(expected_files); do
		[[ -e $ROOT$f ]] || { echo "missing: $f"; missing=1; }
	done
	return $missing
}

symlinks_right() {
	local lib
	for lib in libzsync-k libzsync-k-io; do
		[[ $(readlink "$LIBDIR/$lib.so") == "$lib.so.0" &&
		   $(readlink "$LIBDIR/$lib.so.0") == "$lib.so.0.1.0" ]] ||
			{ echo "$lib: wrong symlinks"; return 1; }
	done
}

# --------------------------------------------------------------- ELF

dyn_field() { # LIBRARY FIELD: the values of one kind of dynamic entry, sorted
	readelf -d "$1" | sed -n "s/.*($2).*\[\(.*\)\]/\1/p" | sort | paste -sd' '
}

has_dyn() { # FILE FIELD WANTED
	local got
	got=$(dyn_field "$1" "$2")
	echo "$2 of $1: '$got', want '$3'"
	[[ $got == "$3" ]]
}

abi_check() { # LIB HEADER MAP: and print the count into the log line
	CC=$CC "$REPO/lib/abi-check.sh" "$INC/$2" "$LIBDIR/$1.so.0.1.0" "$REPO/lib/$3" -I"$INC"
}

exported_count() {
	nm -D --defined-only "$LIBDIR/$1.so.0.1.0" | awk '$2 != "A"' | wc -l
}

# --------------------------------------------------------------- building

# build NAME SOURCE PKG [--static] [CFLAGS...]: compile an installed example
# with pkg-config's flags only; the header trace (-H) and the link trace
# (--trace) are kept for headers_from_root and libs_from_root.
build() {
	local name=$1 src=$EXAMPLES/$2 pkg=$3 static=() pcstatic=() pcflags
	shift 3
	if [[ ${1:-} == --static ]]; then
		static=(-static)
		pcstatic=(--static)
		shift
	fi
	pcflags=$("${PKGCONF[@]}" "${pcstatic[@]}" --cflags --libs "$pkg") || return 1
	echo "flags: $pcflags"
	# shellcheck disable=SC2086 # pkg-config's output is a list of words
	"$CC" "${CFLAGS[@]}" "$@" "${static[@]}" -H -Wl,--trace "$src" -o "$OUT/$name" \
		$pcflags >"$OUT/$name.trace" 2>&1
	local rc=$?
	cat "$OUT/$name.trace"
	return $rc
}

# -H lines start with dots; none may name a file of the source tree other
# than the scratch copy.
headers_from_root() {
	local bad
	bad=$(grep -E '^\.+ ' "$OUT/$1.trace" | awk '{ print $2 }' |
	      grep -F "$REPO/" | grep -vF "$ROOT/" || true)
	[[ -z $bad ]] || { echo "from the source tree: $bad"; return 1; }
	grep -qE "^\.+ $INC/zsync-k" "$OUT/$1.trace"
}

# --trace names each input file on a line of its own.
libs_from_root() { # NAME LIBRARY...: each linked from the scratch tree, no other
	local name=$1 lib linked
	shift
	linked=$(grep -E '^/.*/libzsync-k[^/]*$' "$OUT/$name.trace")
	echo "linked: $linked"
	for lib in "$@"; do
		grep -qxF -e "$LIBDIR/$lib.so" -e "$LIBDIR/$lib.a" <<<"$linked" ||
			{ echo "$lib not linked from $LIBDIR"; return 1; }
	done
	! grep -vF "$LIBDIR/" <<<"$linked"
}

no_dynamic_section() { readelf -d "$1" | grep -q 'There is no dynamic section'; }

# --------------------------------------------------------------- running

with_libs() { LD_LIBRARY_PATH=$LIBDIR "$@"; }

# (Not tee /dev/stderr: that reopens the log with O_TRUNC and empties it.)
probe_lists_ops() {
	local out
	out=$("$@" --list) || return 1
	echo "$out"
	grep -qx '0 NOP' <<<"$out"
}

# Without a device the ring layer must report ENOENT and exit 1.
probe_without_device() {
	local out rc=0
	out=$(ZSYNC_DEV=$WORK/no-such-device "$@" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[[ $rc -eq 1 && $out == *"No such file or directory"* ]]
}

loads_from_root() { # PROGRAM: ldd resolves libzsync-k* into the scratch tree
	local lines
	lines=$(with_libs ldd "$1" | grep libzsync-k)
	echo "$lines"
	[[ -n $lines ]] && ! grep -vF "$LIBDIR/" <<<"$lines"
}

copy_files() { # BACKEND PROGRAM...
	local backend=$1 f
	shift
	rm -rf "$WORK/dst" && mkdir -p "$WORK/dst"
	ZK_BACKEND=$backend "$@" "$WORK"/src/* "$WORK/dst" || return 1
	for f in "$WORK"/src/*; do
		cmp "$f" "$WORK/dst/$(basename "$f")" || return 1
	done
}

make_sources() {
	mkdir -p "$WORK/src"
	head -c 300017 /dev/urandom >"$WORK/src/a"
	head -c 65536 /dev/urandom >"$WORK/src/b"
	: >"$WORK/src/empty"
}

# --------------------------------------------------------------- install

# Every module_param in kmod/ appears as "#options MODULE NAME=" in the
# modprobe.d example; the module is zsync_edu under its driver directory.
conf_names_every_param() {
	local file param module missing=0
	while IFS=: read -r file param; do
		module=zsync
		[[ $file == */zsync_edu/* ]] && module=zsync_edu
		grep -q "^#options $module $param=" "$MODPROBE_CONF" ||
			{ echo "missing: $module $param"; missing=1; }
	done < <(grep -rhoE --include='*.c' -H 'module_param[a-z_]*\([a-z_]+' "$REPO/kmod" |
		 sed -E 's/module_param[a-z_]*\(//')
	return $missing
}

reinstall_same() {
	local before
	before=$(sort "$ROOT$P/share/zsync-k/install-manifest")
	run_make install >/dev/null || return 1
	diff <(echo "$before") <(sort "$ROOT$P/share/zsync-k/install-manifest")
}

scratch_empty() {
	local left
	left=$(find "$ROOT" -mindepth 1)
	[[ -z $left ]] || { echo "left over: $left"; return 1; }
}

# Uninstall keeps a file it did not install and a changed modprobe.d file
# (and the directories they are in), and removes everything else.
uninstall_keeps_foreign() {
	local left want
	run_make install >/dev/null || return 1
	echo "# local change" >>"$MODPROBE_CONF"
	: >"$LIBDIR/not-ours.so"
	run_make uninstall || return 1
	left=$(cd "$ROOT" && find . -type f -o -type l | sort | paste -sd' ')
	want="./etc/modprobe.d/zsync.conf .$P/lib/not-ours.so"
	echo "left: $left"
	[[ $left == "$want" ]]
}

uninstall_twice_fails() { ! run_make uninstall; }

# --------------------------------------------------------------- zsync-trace

mode_is() { # FILE MODE
	local got
	got=$(stat -c %a "$1") || return 1
	echo "mode of $1: $got, want $2"
	[[ $got == "$2" ]]
}

in_manifest() { # PATH...: each listed as a file in the manifest
	local f bad=0
	for f in "$@"; do
		grep -qxF "$(printf 'file\t%s' "$f")" "$ROOT$P/share/zsync-k/install-manifest" ||
			{ echo "not in the manifest: $f"; bad=1; }
	done
	return $bad
}

# --help: exit status 0 and the usage on standard output.
help_prints_usage() { # PROGRAM
	local out rc=0
	out=$("$1" --help) || rc=$?
	echo "$out"
	echo "(exit $rc)"
	[[ $rc -eq 0 && $out == "usage: "*" [hist|slow|top] "* && $out == *"--json"* ]]
}

# NEEDED names libbpf.so.1; ldd resolves every library (none "not found"),
# any libzsync-k into the scratch tree (by default it is linked in, and
# NEEDED has none).
trace_libs() { # PROGRAM
	local needed lines
	needed=$(dyn_field "$1" NEEDED)
	echo "NEEDED: $needed"
	[[ " $needed " == *" libbpf.so.1 "* ]] || { echo "no libbpf.so.1"; return 1; }
	lines=$(with_libs ldd "$1") || return 1
	echo "$lines"
	! grep -q 'not found' <<<"$lines" || return 1
	! grep libzsync-k <<<"$lines" | grep -vF "$LIBDIR/"
}

gone() { # PATH...: none of them left in the scratch tree
	local f bad=0
	for f in "$@"; do
		[[ ! -e $ROOT$f ]] || { echo "still there: $f"; bad=1; }
	done
	return $bad
}

# --------------------------------------------------------------- man pages

# The functions of both version scripts (what the libraries export).
map_functions() {
	sed -n '/global:/,/local:/p' "$REPO"/lib/libzsync-k.map "$REPO"/lib/libzsync-k-io.map |
		grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' | tr -d ' \t;' | sort -u
}

# The functions the installed headers declare, extern and static inline,
# as the compiler sees them.
declared_functions() {
	local h
	for h in zsync-k.h zsync-k-io.h; do
		printf '#include <%s>\n' "$h" >"$OUT/decl.c"
		"$CC" -D_GNU_SOURCE -I"$INC" -fsyntax-only -aux-info "$OUT/decl.aux" "$OUT/decl.c" ||
			return 1
		grep -F "/* $INC/$h:" "$OUT/decl.aux" |
			sed -E 's/^.*\*\/ (extern|static) //; s/ \(.*$//; s/.*[ *]//'
	done | sort -u
}

so_target() { sed -n 's|^\.so man3/\(.*\)\.3$|\1|p' "$1"; }

# The names a page's NAME line lists, one per line ("a, b \- what").
page_names() {
	sed -n '/^\.SH NAME/{n;p;q}' "$1" | sed 's/ \\- .*//' | tr ',' '\n' | tr -d ' '
}

man_covers_map() {
	local fn page target bad=0
	for fn in $(map_functions); do
		page=$MAN/man3/$fn.3
		if [[ ! -f $page ]]; then
			echo "no page: $fn"; bad=1; continue
		fi
		target=$(so_target "$page")
		[[ -n $target ]] || continue
		if [[ ! -f $MAN/man3/$target.3 || -n $(so_target "$MAN/man3/$target.3") ]]; then
			echo "$fn.3: .so to a missing page $target.3"; bad=1
		elif ! page_names "$MAN/man3/$target.3" | grep -qx "$fn"; then
			echo "$target.3: NAME does not list $fn"; bad=1
		fi
	done
	echo "$(map_functions | wc -l) functions in the .map files"
	return $bad
}

man_names_declared() {
	local page name bad=0 n=0
	declared_functions >"$OUT/declared" || return 1
	for page in "$MAN"/man3/*.3; do
		n=$((n + 1))
		if [[ -n $(so_target "$page") ]]; then
			name=$(basename "$page" .3)
			grep -qx "$name" "$OUT/declared" || { echo "$page: $name is not declared"; bad=1; }
			continue
		fi
		[[ $(page_names "$page" | head -n1) == "$(basename "$page" .3)" ]] ||
			{ echo "$page: NAME does not start with its file name"; bad=1; }
		for name in $(page_names "$page"); do
			grep -qx "$name" "$OUT/declared" || { echo "$page: $name is not declared"; bad=1; }
		done
	done
	echo "$n pages"
	[[ $n -gt 0 ]] && return $bad
}

# Every page formats without a groff warning; .so links resolve (man -l
# resolves them against the current directory, the top of the man tree).
man_renders() {
	local page err bad=0
	for page in "$MAN"/man[348]/*.[348]; do
		err=$(cd "$MAN" && MANWIDTH=80 man --warnings -l "${page#"$MAN"/}" 2>&1 >"$OUT/page.txt")
		if [[ -n $err || ! -s $OUT/page.txt ]]; then
			echo "$page: ${err:-empty}"; bad=1
		fi
	done
	return $bad
}

# Every option of TOOL --help, long and short, and every command
# (zsyncctl's "cgroup create", ...) or mode (zsync-trace's hist, ...),
# appears in TOOL.8.
man8_matches_help() {
	local tool=$1 help text opt cmd bad=0
	help=$("$ROOT$P/sbin/$tool" --help 2>&1)
	text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MAN/man8/$tool.8")
	for opt in $(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
		grep -qF -- "$opt" <<<"$text" || { echo "$tool.8: no $opt"; bad=1; }
	done
	for opt in $(grep -oE -- '(^|[][ ,|])-[a-zA-Z]\b' <<<"$help" | grep -oE -- '-[a-zA-Z]' | sort -u); do
		grep -qE -- "(^|[^a-zA-Z-])$opt([^a-zA-Z]|\$)" <<<"$text" || { echo "$tool.8: no $opt"; bad=1; }
	done
	while read -r cmd; do
		grep -qF -- "$cmd" <<<"$text" || { echo "$tool.8: no command '$cmd'"; bad=1; }
	done < <(sed -nE 's/^  ([a-z][a-z-]*( [a-z][a-z|-]*)?)( .*)?$/\1/p' <<<"$help")
	return $bad
}

main() {
	rm -rf "$WORK"
	mkdir -p "$ROOT" "$OUT"
	: >"$LOG"
	make_sources

	check "make install DESTDIR=$ROOT" run_make install
	check "every file installed" all_installed
	check "libzsync-k.so -> .so.0 -> .so.0.1.0 (and -io)" symlinks_right
	check "a second make install changes nothing" reinstall_same
	check "modprobe.d example names every module_param in kmod/" conf_names_every_param
	check "man3: every function of the two .map files has a page or a .so link" man_covers_map
	check "man3: every page's NAME names functions the installed headers declare" \
		man_names_declared
	check "man pages (3, 4, 8) render without groff warnings" man_renders
	check "zsyncctl.8 names every option and command of zsyncctl --help" \
		man8_matches_help zsyncctl
	check "zsync-run.8 names every option of zsync-run --help" man8_matches_help zsync-run
	check "zsync-trace.8 names every mode and option of zsync-trace --help" \
		man8_matches_help zsync-trace

	check "zsync-trace: installed with mode 0755" mode_is "$ROOT$P/sbin/zsync-trace" 755
	check "zsync-trace and zsync-trace.8 are in the manifest (uninstall removes them)" \
		in_manifest "$P/sbin/zsync-trace" "$P/share/man/man8/zsync-trace.8"
	check "zsync-trace --help: exit 0, prints the usage" help_prints_usage "$ROOT$P/sbin/zsync-trace"
	check "zsync-trace: NEEDED libbpf.so.1, every library resolves, libzsync-k linked in" \
		trace_libs "$ROOT$P/sbin/zsync-trace"

	check "libzsync-k: SONAME libzsync-k.so.0" \
		has_dyn "$LIBDIR/libzsync-k.so.0.1.0" SONAME libzsync-k.so.0
	check "libzsync-k: NEEDED libc.so.6 only" \
		has_dyn "$LIBDIR/libzsync-k.so.0.1.0" NEEDED libc.so.6
	check "libzsync-k-io: SONAME libzsync-k-io.so.0" \
		has_dyn "$LIBDIR/libzsync-k-io.so.0.1.0" SONAME libzsync-k-io.so.0
	check "libzsync-k-io: NEEDED libc, liburing.so.2, libzsync-k.so.0" \
		has_dyn "$LIBDIR/libzsync-k-io.so.0.1.0" NEEDED \
		"libc.so.6 liburing.so.2 libzsync-k.so.0"
	check "libzsync-k: exports = zsync-k.h's $(exported_count libzsync-k) functions, ZSYNC_K_0.1" \
		abi_check libzsync-k zsync-k.h libzsync-k.map
	check "libzsync-k-io: exports = zsync-k-io.h's $(exported_count libzsync-k-io) functions, ZSYNC_K_IO_0.1" \
		abi_check libzsync-k-io zsync-k-io.h libzsync-k-io.map

	# The ring layer alone: zsync-k.pc, libc.
	check "zk-probe builds with pkg-config zsync-k" build zk-probe zk-probe.c zsync-k
	check "zk-probe: headers from the install only (gcc -H)" headers_from_root zk-probe
	check "zk-probe: libzsync-k linked from the install" libs_from_root zk-probe libzsync-k
	check "zk-probe: NEEDED libc.so.6 libzsync-k.so.0" \
		has_dyn "$OUT/zk-probe" NEEDED "libc.so.6 libzsync-k.so.0"
	check "zk-probe: ldd finds libzsync-k in the install" loads_from_root "$OUT/zk-probe"
	check "zk-probe --list" probe_lists_ops with_libs "$OUT/zk-probe"
	check "zk-probe without a device: ENOENT, exit 1" probe_without_device with_libs "$OUT/zk-probe"
	check "zk-probe builds with pkg-config --static zsync-k" \
		build zk-probe-static zk-probe.c zsync-k --static
	check "zk-probe-static: libzsync-k.a from the install" libs_from_root zk-probe-static libzsync-k
	check "zk-probe-static: no dynamic section" no_dynamic_section "$OUT/zk-probe-static"
	check "zk-probe-static --list" probe_lists_ops "$OUT/zk-probe-static"

	# The executor layer: zsync-k-io.pc (zsync-k and liburing when static).
	# The linker looks for libzsync-k-io's own NEEDED libzsync-k.so.0 where
	# the loader would; in /usr/local/lib ld.so.conf has it, here
	# LD_LIBRARY_PATH must (as for running).
	check "zk-copy builds with pkg-config zsync-k-io" \
		with_libs build zk-copy zk-copy.c zsync-k-io -DZK_EXAMPLE_EXECUTOR=ZK_EXEC_GREEN
	check "zk-copy: headers from the install only (gcc -H)" headers_from_root zk-copy
	check "zk-copy: libzsync-k-io linked from the install" libs_from_root zk-copy libzsync-k-io
	check "zk-copy: NEEDED libc.so.6 libzsync-k-io.so.0" \
		has_dyn "$OUT/zk-copy" NEEDED "libc.so.6 libzsync-k-io.so.0"
	check "zk-copy: ldd finds both libraries in the install" loads_from_root "$OUT/zk-copy"
	check "zk-copy copies files (blocking backend)" copy_files blocking with_libs "$OUT/zk-copy"
	check "zk-copy copies files (io_uring backend)" copy_files io_uring with_libs "$OUT/zk-copy"
	check "zk-copy builds with pkg-config --static zsync-k-io" \
		build zk-copy-static zk-copy.c zsync-k-io --static -DZK_EXAMPLE_EXECUTOR=ZK_EXEC_THREADS
	check "zk-copy-static: both archives from the install" \
		libs_from_root zk-copy-static libzsync-k-io libzsync-k
	check "zk-copy-static: no dynamic section" no_dynamic_section "$OUT/zk-copy-static"
	check "zk-copy-static copies files (io_uring backend)" copy_files io_uring "$OUT/zk-copy-static"

	check "make uninstall" run_make uninstall
	check "make uninstall removed zsync-trace and zsync-trace.8" \
		gone "$P/sbin/zsync-trace" "$P/share/man/man8/zsync-trace.8"
	check "the scratch tree is empty" scratch_empty
	check "make uninstall again fails: nothing installed" uninstall_twice_fails
	check "uninstall keeps a changed modprobe.d file and files not its own" uninstall_keeps_foreign

	[[ $KEEP -eq 1 ]] || rm -rf "$WORK/root" "$WORK/out" "$WORK/src" "$WORK/dst"
	echo "install-test: $PASSED passed, $FAILED failed"
	[[ $FAILED -eq 0 ]]
}

main
