#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb-test`: the packages end to end, as a user on a real host would
# take them, with nothing left behind on this machine.
set -uo pipefail

usage() {
	cat <<'EOF2'
Usage: tools/testing/deb-test.sh [--keep] [--no-vm]

  1. make deb: the five packages from dpkg-buildpackage; lintian reports
     no error;
  2. unpacks them with dpkg --root into a throwaway root under
     $BUILD/deb-test (its own dpkg database) and checks dpkg lists every
     file and the conffile; zsync-k-tools has zsync-trace (0755, NEEDED
     libbpf.so.1 and libzsync-k.so.0, both resolving, Depends on libbpf1,
     --help works) and its man page;
  3. dkms add, then dkms build for the 6.1 and the 6.12 headers from the
     root's /usr/src/zsync-k-VERSION, in throwaway DKMS trees (a throwaway
     signing key); modinfo of the 6.1 zsync.ko shows the package version,
     a description and every module parameter;
  4. builds tools/examples' zk-probe.c (shared and static) and zk-copy.c
     (shared) from the root's copies, with the flags of the root's .pc
     files only (pkg-config with PKG_CONFIG_SYSROOT_DIR);
  5. boots Debian's 6.1 in QEMU with the DKMS-built modules (vm-run.sh
     --modules) and the root's zsyncctl, zsync-run, zsync-trace and
     libraries plus the programs of step 4 (--overlay), and runs
     tools/testing/deb/in-vm.sh there: the loaded module is the DKMS build
     and every program works, zsync-trace attached to its tracepoints;
  6. checks dkms and dpkg state outside $BUILD is what it was before.
Prints one line per check (the VM's too), then "deb-test: N passed, M
failed"; exit status 1 if any failed.  --keep leaves $BUILD/deb-test,
--no-vm skips step 5.  Logs: $BUILD/deb-test/log, VM: $BUILD/vm/deb-6.1.
EOF2
}

KEEP=0 VM=1
for arg in "$@"; do
	case "$arg" in
	-h|--help) usage; exit 0 ;;
	--keep) KEEP=1 ;;
	--no-vm) VM=0 ;;
	*) echo "deb-test: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
	esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
WORK=$BUILD/deb-test
ROOT=$WORK/root
OUT=$WORK/out
LOG=$WORK/log
DEBS=$BUILD/deb
unset MAKEFLAGS MAKEOVERRIDES MFLAGS
VERSION=$(sed -n 's/^ZK_VERSION[[:space:]]*:=[[:space:]]*//p' "$REPO/lib/version.mk")
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
CC=${CC:-gcc}
PACKAGES=(zsync-k-dkms libzsync-k0 libzsync-k-io0 libzsync-k-dev zsync-k-tools)
. "$REPO/tools/testing/checks.sh"

# ---------------------------------------------------------------- packages

make_deb() { make -C "$REPO" --no-print-directory deb BUILD="$BUILD"; }

deb_of() { compgen -G "$DEBS/${1}_${VERSION}_*.deb" | head -n1; }

dpkg_root() { dpkg --root="$ROOT" "$@"; }

# An empty dpkg database of its own; --unpack runs no maintainer script
# but preinst (none of ours has one), so nothing runs outside the root.
unpack_all() {
	local p debs=()
	mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
	: >"$ROOT/var/lib/dpkg/status"
	: >"$ROOT/var/lib/dpkg/available"
	for p in "${PACKAGES[@]}"; do
		debs+=("$(deb_of "$p")") || return 1
		[[ -n ${debs[-1]} ]] || { echo "no $p .deb in $DEBS"; return 1; }
	done
	dpkg_root --force-depends --force-not-root --no-triggers --unpack "${debs[@]}" || return 1
	dpkg_root -l
	for p in "${PACKAGES[@]}"; do
		[[ $(dpkg_root -s "$p" | sed -n 's/^Status: //p') == "install ok unpacked" ]] ||
			{ echo "$p is not unpacked"; return 1; }
	done
}

# Every file dpkg says a package has is in the root, and the other way
# round for the files under the directories the packages own.
files_listed() {
	local p f missing=0 listed=$WORK/listed
	for p in "${PACKAGES[@]}"; do dpkg_root -L "$p"; done | sort -u >"$listed"
	while read -r f; do
		[[ -e $ROOT$f || -L $ROOT$f || -e $ROOT$f.dpkg-new ]] ||
			{ echo "listed, missing: $f"; missing=1; }
	done <"$listed"
	# Unpacked, not configured: a conffile is still NAME.dpkg-new.
	(cd "$ROOT" && find usr/include usr/lib usr/sbin usr/src etc/modprobe.d lib/udev \
		! -type d | sed -e 's|^|/|' -e 's|\.dpkg-new$||') | sort >"$WORK/present"
	comm -13 "$listed" "$WORK/present" | sed 's/^/not listed: /' | grep . && missing=1
	grep -c . "$listed"
	return $missing
}

conffile() {
	# Unpacked, not configured: dpkg records it as a new conffile.
	grep -qxE "/etc/modprobe.d/zsync.conf ([0-9a-f]{32}|newconffile)" < <(dpkg_root -s zsync-k-dkms |
		sed -n '/^Conffiles:/,/^[A-Z]/s/^ //p')
}

# ---------------------------------------------------------------- zsync-trace

TRACE=/usr/sbin/zsync-trace
TRACE_MAN=/usr/share/man/man8/zsync-trace.8.gz

tools_lists_trace() {
	local f bad=0
	for f in "$TRACE" "$TRACE_MAN"; do
		dpkg_root -L zsync-k-tools | grep -qxF "$f" || { echo "zsync-k-tools lacks $f"; bad=1; }
	done
	return $bad
}

trace_mode() {
	local got
	got=$(stat -c %a "$ROOT$TRACE") || return 1
	echo "mode: $got"
	[[ $got == 755 ]]
}

# libbpf1 comes from dh_shlibdeps (${shlibs:Depends}), not by hand.
tools_depends_libbpf() {
	local dep
	dep=$(dpkg_root -s zsync-k-tools | sed -n 's/^Depends: //p')
	echo "Depends: $dep"
	[[ ", $dep," == *", libbpf1 ("* ]]
}

# The root's libzsync-k.so.0, the system's libbpf.so.1 (libbpf1 is a
# dependency of the build): ldd resolves everything.
with_root_libs() { LD_LIBRARY_PATH=$ROOT/usr/lib/$MA "$@"; }

trace_resolves() {
	local lines
	lines=$(with_root_libs ldd "$ROOT$TRACE") || return 1
	echo "$lines"
	! grep -q 'not found' <<<"$lines" &&
		grep -q "libzsync-k.so.0 => $ROOT/usr/lib/$MA/" <<<"$lines" &&
		grep -q 'libbpf.so.1 => /' <<<"$lines"
}

trace_help() {
	local out rc=0
	out=$(with_root_libs "$ROOT$TRACE" --help) || rc=$?
	echo "$out"
	echo "(exit $rc)"
	[[ $rc -eq 0 && $out == "usage: "*" [hist|slow|top] "* && $out == *"--json"* ]]
}

man_renders() { # PAGE (.gz): man formats it without a groff warning
	local err
	err=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >"$WORK/page.txt")
	echo "${err:-no warnings}; $(wc -l <"$WORK/page.txt") lines"
	[[ -z $err && -s $WORK/page.txt ]]
}

# ---------------------------------------------------------------- DKMS

DKMS=$WORK/dkms
DKMS_ARGS=(--dkmstree "$DKMS/tree" --sourcetree "$ROOT/usr/src" --installtree "$DKMS/inst")

# What dkms writes by default, outside $BUILD: none of it may appear.
system_state() {
	ls -d /var/lib/dkms/zsync-k /var/lib/dkms/mok.key /var/lib/dkms/mok.pub \
	      /usr/src/zsync-k-* /lib/modules/*/updates/dkms/zsync*.ko* 2>/dev/null
	dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null
	getent group zsync
	true
}

dkms_run() {
	# A throwaway signing key: dkms would create /var/lib/dkms/mok.key.
	env mok_signing_key="$DKMS/mok.key" mok_certificate="$DKMS/mok.pub" dkms "$@" "${DKMS_ARGS[@]}"
}

dkms_add() {
	command -v dkms >/dev/null || { echo "dkms is not installed: make deps"; return 1; }
	mkdir -p "$DKMS/tree" "$DKMS/inst"
	dkms_run add "zsync-k/$VERSION"
}

module_dir() { echo "$DKMS/tree/zsync-k/$VERSION/$1/$(uname -m)/module"; }

# dkms_build KVER: both modules built against /usr/src/linux-headers-KVER.
dkms_build() {
	local kver=$1 start=$SECONDS mod
	[[ -n $kver && -d /usr/src/linux-headers-$kver ]] ||
		{ echo "no headers for '$kver': make deps"; return 1; }
	dkms_run build "zsync-k/$VERSION" -k "$kver" \
		--kernelsourcedir "/usr/src/linux-headers-$kver" || return 1
	echo "dkms build $kver: $((SECONDS - start)) s"
	for mod in zsync zsync_edu; do
		compgen -G "$(module_dir "$kver")/$mod.ko*" >/dev/null ||
			{ echo "no $mod.ko in $(module_dir "$kver")"; return 1; }
	done
	ls -l "$(module_dir "$kver")"
}

modinfo_complete() {
	local ko param missing=0
	ko=$(compgen -G "$1*" | head -n1)
	[[ -n $ko ]] || return 1
	modinfo "$ko"
	[[ $(modinfo -F version "$ko") == "$VERSION" ]] || { echo "version is not $VERSION"; missing=1; }
	[[ -n $(modinfo -F description "$ko") ]] || { echo "no description"; missing=1; }
	for param in $(grep -hoE 'module_param[a-z_]*\([a-z_]+' "$REPO"/kmod/*.c |
		       sed -E 's/module_param[a-z_]*\(//'); do
		modinfo -F parm "$ko" | grep -q "^$param:" || { echo "no parm $param"; missing=1; }
	done
	return $missing
}

# ---------------------------------------------------------------- programs

# pkg-config as on a host with the packages installed, the root standing
# in for /: the .pc files' paths get the root prepended.  The system's
# directories come after the root's, for liburing.pc (libzsync-k-dev
# depends on liburing-dev; zsync-k-io.pc requires liburing).
pc() {
	env PKG_CONFIG_SYSROOT_DIR="$ROOT" \
		PKG_CONFIG_LIBDIR="$ROOT/usr/lib/$MA/pkgconfig:/usr/lib/$MA/pkgconfig:/usr/share/pkgconfig" \
		pkg-config "$@"
}

# build NAME SOURCE PKG [--static] [CFLAGS...]: the packaged example, with
# pkg-config's flags only (and -rpath-link: the linker looks for
# libzsync-k-io's NEEDED libzsync-k.so.0 where the loader would, in /usr/lib).
build() {
	local name=$1 src=$ROOT/usr/share/doc/libzsync-k-dev/examples/$2 pkg=$3 static=() flags
	shift 3
	if [[ ${1:-} == --static ]]; then
		static=(-static)
		shift
	fi
	flags=$(pc ${static:+--static} --cflags --libs "$pkg") || return 1
	echo "flags: $flags"
	[[ $flags == *"$ROOT/usr/include"* && $flags == *"$ROOT/usr/lib/$MA"* ]] ||
		{ echo "the flags do not point into the root"; return 1; }
	mkdir -p "$OUT/usr/local/bin"
	# shellcheck disable=SC2086 # pkg-config's output is a list of words
	"$CC" -O2 -Wall -Wextra -Werror "$@" "${static[@]}" "$src" -o "$OUT/usr/local/bin/$name" \
		-Wl,-rpath-link,"$ROOT/usr/lib/$MA" $flags
}

dyn_needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | paste -sd' '; }

needs() { # FILE WANTED
	local got
	got=$(dyn_needed "$1")
	echo "NEEDED of $1: '$got', want '$2'"
	[[ $got == "$2" ]]
}

# ---------------------------------------------------------------- the VM

# The overlay: the programs of step 4 (already in $OUT/usr/local/bin), the
# root's tools and libraries, and what in-vm.sh compares against.
make_overlay() {
	local ko
	mkdir -p "$OUT/usr/sbin" "$OUT/usr/lib/$MA" "$OUT/etc/zsync-deb"
	cp -a "$ROOT/usr/sbin/zsyncctl" "$ROOT/usr/sbin/zsync-run" "$ROOT$TRACE" "$OUT/usr/sbin/"
	cp -a "$ROOT/usr/lib/$MA"/libzsync-k*.so.* "$OUT/usr/lib/$MA/"
	ko=$(compgen -G "$(module_dir "$K61")/zsync.ko*" | head -n1)
	modinfo -F srcversion "$ko" >"$OUT/etc/zsync-deb/srcversion"
	echo "$VERSION" >"$OUT/etc/zsync-deb/version"
	[[ -s $OUT/etc/zsync-deb/srcversion ]]
}

# Each of in-vm.sh's KTAP lines becomes a check line here, on the terminal
# (fd 3: check sends this function's output to the log).
vm_run() {
	local vmout=$BUILD/vm/deb-6.1 rc line
	"$REPO/tools/testing/vm-run.sh" --kernel 6.1 --modules "$(module_dir "$K61")" \
		--overlay "$OUT" --tests "$REPO/tools/testing/deb/in-vm.sh" --out "$vmout" -q \
		>>"$LOG" 2>&1
	rc=$?
	while read -r line; do
		case "$line" in
		"ok "*) echo "ok   VM: ${line#ok * }" >&3; PASSED=$((PASSED + 1)) ;;
		"not ok "*) echo "FAIL VM: ${line#not ok * } (see $vmout/ktap.log)" >&3
			    FAILED=$((FAILED + 1)) ;;
		esac
	done < <(grep -E '^(not )?ok [0-9]+ ' "$vmout/ktap.log" 2>/dev/null)
	tail -n 3 "$LOG" | grep '^vm-run' || true
	return $rc
}

main() {
	local start=$SECONDS
	exec 3>&1
	rm -rf "$WORK"
	mkdir -p "$ROOT" "$OUT" "$DKMS"
	: >"$LOG"
	system_state >"$WORK/state.before"
	K61=$(headers_release linux-headers-amd64)
	K612=$(headers_release linux-headers-6.12-amd64)

	check "make deb: five packages, lintian reports no error" make_deb
	check "dpkg --root unpacks the five packages into a throwaway root" unpack_all
	check "dpkg -L lists every file in the root, and only those" files_listed
	check "zsync-k-dkms: /etc/modprobe.d/zsync.conf is a conffile" conffile
	check "libzsync-k0: NEEDED libc.so.6 only" \
		needs "$ROOT/usr/lib/$MA/libzsync-k.so.$VERSION" libc.so.6
	check "zsync-k-tools: zsyncctl NEEDED libc.so.6 libzsync-k.so.0" \
		needs "$ROOT/usr/sbin/zsyncctl" "libc.so.6 libzsync-k.so.0"
	check "zsync-k-tools: lists $TRACE and $TRACE_MAN" tools_lists_trace
	check "zsync-k-tools: $TRACE mode 0755" trace_mode
	check "zsync-k-tools: zsync-trace NEEDED libbpf.so.1 libc.so.6 libzsync-k.so.0" \
		needs "$ROOT$TRACE" "libbpf.so.1 libc.so.6 libzsync-k.so.0"
	check "zsync-k-tools: zsync-trace's libraries resolve (libzsync-k.so.0 from the root)" \
		trace_resolves
	check "zsync-k-tools: Depends has libbpf1 (shlibs)" tools_depends_libbpf
	check "zsync-k-tools: zsync-trace --help exits 0 and prints the usage" trace_help
	check "zsync-k-tools: zsync-trace(8) renders without groff warnings" man_renders "$ROOT$TRACE_MAN"

	check "dkms add from the root's /usr/src/zsync-k-$VERSION" dkms_add
	check "dkms build -k $K61: zsync.ko, zsync_edu.ko" dkms_build "$K61"
	check "dkms build -k $K612: zsync.ko, zsync_edu.ko" dkms_build "$K612"
	check "modinfo zsync.ko ($K61): version $VERSION, description, every parameter" \
		modinfo_complete "$(module_dir "$K61")/zsync.ko"

	check "zk-probe builds with pkg-config zsync-k" build zk-probe zk-probe.c zsync-k
	check "zk-probe: NEEDED libc.so.6 libzsync-k.so.0" \
		needs "$OUT/usr/local/bin/zk-probe" "libc.so.6 libzsync-k.so.0"
	check "zk-probe builds with pkg-config --static zsync-k" \
		build zk-probe-static zk-probe.c zsync-k --static
	check "zk-copy builds with pkg-config zsync-k-io" \
		build zk-copy zk-copy.c zsync-k-io -DZK_EXAMPLE_EXECUTOR=ZK_EXEC_GREEN
	check "zk-copy: NEEDED libc.so.6 libzsync-k-io.so.0" \
		needs "$OUT/usr/local/bin/zk-copy" "libc.so.6 libzsync-k-io.so.0"

	if [[ $VM -eq 1 ]]; then
		check "overlay: packaged tools and libraries, the programs above" make_overlay
		check "VM: 6.1 boots with the DKMS-built modules and runs in-vm.sh" vm_run
	fi

	system_state >"$WORK/state.after"
	check "nothing changed outside $BUILD (dkms, dpkg, group zsync)" \
		diff "$WORK/state.before" "$WORK/state.after"

	[[ $KEEP -eq 1 ]] || rm -rf "$ROOT" "$OUT" "$DKMS"
	echo "deb-test: $PASSED passed, $FAILED failed ($((SECONDS - start)) s)"
	[[ $FAILED -eq 0 ]]
}

main
