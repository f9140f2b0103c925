#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The work of `make install` and `make uninstall`.  Install copies the
# libraries, headers, .pc files, zsyncctl, zsync-run and zsync-trace, the
# examples' sources, the man pages (built by `make man`), the udev rule and the modprobe.d example under $DESTDIR, and
# records every file and every directory it created in a manifest; uninstall
# removes what the manifest lists and nothing else.  A manifest, rather
# than the list recomputed, is what lets uninstall remove the directories
# install created and leave the ones that were already there.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/install.sh install|uninstall     (normally: make install / make uninstall)

install    copy everything under $DESTDIR and write $DESTDIR$MANIFEST, which
           lists each file, symlink and directory created; run again, it
           replaces the files and keeps what the old manifest recorded
uninstall  remove what $DESTDIR$MANIFEST lists, then the directories it
           lists that are empty; the manifest goes too

The top Makefile passes every path (all absolute, none under DESTDIR):
  PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR SBINDIR DOCDIR MANDIR MANIFEST, and
  UDEVRULESDIR MODPROBEDIR (empty: skip the udev rule, the modprobe.d file),
  and BUILD, ZK_VERSION, ZK_SOVERSION.  DESTDIR may be empty (then ldconfig
  runs after either step, as root).
The modprobe.d file is configuration: install keeps a copy someone changed,
uninstall removes it only while it is as installed.
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH_VARS=(PREFIX LIBDIR INCLUDEDIR PKGCONFIGDIR SBINDIR DOCDIR MANDIR MANIFEST)
# Empty skips the file: a prefix of one's own cannot write these system dirs.
OPTIONAL_DIRS=(UDEVRULESDIR MODPROBEDIR)
TAB=$'\t'

die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { printf '  %-9s %s\n' "$1" "$2"; }

check_vars() {
	local v
	for v in "${PATH_VARS[@]}" BUILD ZK_VERSION ZK_SOVERSION; do
		[[ -n ${!v:-} ]] || die "$v is not set; run 'make install' or 'make uninstall'"
	done
	for v in "${PATH_VARS[@]}" "${OPTIONAL_DIRS[@]}"; do
		[[ -z ${!v:-} || ${!v} == /* ]] || die "$v=${!v} is not an absolute path"
	done
	DESTDIR=${DESTDIR:-}
}

sum() { sha256sum <"$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- what

# One line per item, tab-separated: KIND MODE SOURCE DEST.  KIND is file,
# link (SOURCE is the link's contents) or conf (a file an admin may edit).
install_list() {
	local lib pc h tool ex page
	for lib in libzsync-k libzsync-k-io; do
		printf 'file\t0755\t%s\t%s\n' "$BUILD/lib/$lib.so.$ZK_VERSION" "$LIBDIR/$lib.so.$ZK_VERSION"
		printf 'link\t-\t%s\t%s\n' "$lib.so.$ZK_VERSION" "$LIBDIR/$lib.so.$ZK_SOVERSION"
		printf 'link\t-\t%s\t%s\n' "$lib.so.$ZK_SOVERSION" "$LIBDIR/$lib.so"
		printf 'file\t0644\t%s\t%s\n' "$BUILD/lib/$lib.a" "$LIBDIR/$lib.a"
	done
	for pc in zsync-k zsync-k-io; do
		printf 'file\t0644\t%s\t%s\n' "$TMP/$pc.pc" "$PKGCONFIGDIR/$pc.pc"
	done
	for h in zsync-k.h zsync-k-io.h; do
		printf 'file\t0644\t%s\t%s\n' "$REPO/lib/include/$h" "$INCLUDEDIR/$h"
	done
	# zsync-k.h includes <zsync-k/linux/zsync.h>: the project's copy.
	for h in zsync.h zsync_edu.h; do
		printf 'file\t0644\t%s\t%s\n' "$REPO/uapi/linux/$h" "$INCLUDEDIR/zsync-k/linux/$h"
	done
	for tool in zsyncctl zsync-run zsync-trace; do
		printf 'file\t0755\t%s\t%s\n' "$BUILD/tools/$tool" "$SBINDIR/$tool"
	done
	for ex in zk-copy.c zk-probe.c; do
		printf 'file\t0644\t%s\t%s\n' "$REPO/tools/examples/$ex" "$DOCDIR/examples/$ex"
	done
	# Section 3 (.so link pages are files too, as liburing ships them), 4, 8.
	for page in "$BUILD"/man/man[348]/*.[348]; do
		[[ -e $page ]] || continue
		printf 'file\t0644\t%s\t%s\n' "$page" "$MANDIR/$(basename "$(dirname "$page")")/$(basename "$page")"
	done
	[[ -z ${UDEVRULESDIR:-} ]] ||
		printf 'file\t0644\t%s\t%s\n' "$REPO/udev/60-zsync.rules" "$UDEVRULESDIR/60-zsync.rules"
	[[ -z ${MODPROBEDIR:-} ]] ||
		printf 'conf\t0644\t%s\t%s\n' "$REPO/etc/modprobe.d/zsync.conf" "$MODPROBEDIR/zsync.conf"
}

# A path under PREFIX as ${prefix}/..., so pkg-config --define-prefix
# can relocate the .pc files; any other path as it is.
pc_path() {
	case $1 in
	"$PREFIX"|"$PREFIX"/*) echo "\${prefix}${1#"$PREFIX"}" ;;
	*) echo "$1" ;;
	esac
}

gen_pc() {
	local pc
	for pc in zsync-k zsync-k-io; do
		sed -e "s|@PREFIX@|$PREFIX|" -e "s|@LIBDIR@|$(pc_path "$LIBDIR")|" \
		    -e "s|@INCLUDEDIR@|$(pc_path "$INCLUDEDIR")|" -e "s|@VERSION@|$ZK_VERSION|" \
		    "$REPO/lib/$pc.pc.in" >"$TMP/$pc.pc"
	done
}

# ---------------------------------------------------------------- manifest

# Manifest lines: KIND PATH [SHA256], tab-separated; KIND is dir, file,
# link or conf (with the checksum it was installed with).
declare -A OLD_KIND=() OLD_SUM=() NEW_SEEN=()
NEW_LINES=()

load_manifest() {
	local kind path sha
	[[ -f $DESTDIR$MANIFEST ]] || return 1
	while IFS=$TAB read -r kind path sha; do
		# Never act on a line that could name something outside the install.
		[[ $path == /* && $path != *..* ]] || die "$DESTDIR$MANIFEST: bad line '$kind $path'"
		OLD_KIND[$path]=$kind
		OLD_SUM[$path]=${sha:-}
		OLD_ORDER+=("$path")
	done <"$DESTDIR$MANIFEST"
}

record() {
	NEW_SEEN[$2]=1
	NEW_LINES+=("$1$TAB$2${3:+$TAB$3}")
}

# What an earlier install recorded and this one did not (a directory made
# then, a file this version no longer ships) stays listed while it exists.
carry_over() {
	local path
	for path in "${OLD_ORDER[@]}"; do
		[[ -n ${NEW_SEEN[$path]:-} ]] && continue
		[[ -e $DESTDIR$path || -L $DESTDIR$path ]] || continue
		record "${OLD_KIND[$path]}" "$path" "${OLD_SUM[$path]}"
	done
}

write_manifest() {
	printf '%s\n' "${NEW_LINES[@]}" >"$DESTDIR$MANIFEST.tmp"
	chmod 0644 "$DESTDIR$MANIFEST.tmp"
	mv "$DESTDIR$MANIFEST.tmp" "$DESTDIR$MANIFEST"
}

# ---------------------------------------------------------------- install

# Create DIR and its missing parents, recording each one created.
make_dirs() {
	local dir=$1 part path='' parts
	[[ -d $DESTDIR$dir ]] && return 0
	IFS=/ read -ra parts <<<"${dir#/}"
	for part in "${parts[@]}"; do
		path=$path/$part
		[[ -d $DESTDIR$path ]] && continue
		mkdir -m 0755 "$DESTDIR$path"
		say MKDIR "$DESTDIR$path"
		record dir "$path"
	done
}

# A configuration file is replaced only while it is what an earlier install
# put there (or absent, or already the same); an admin's edits are kept.
install_conf() {
	local mode=$1 src=$2 dest=$3 target=$DESTDIR$3
	if [[ -e $target ]] && ! cmp -s "$src" "$target" &&
	   [[ ${OLD_KIND[$dest]:-} != conf || ${OLD_SUM[$dest]} != "$(sum "$target")" ]]; then
		say KEEP "$target (changed here; the shipped one is $src)"
		return 0
	fi
	install -m "$mode" "$src" "$target"
	say INSTALL "$target"
	record conf "$dest" "$(sum "$src")"
}

install_item() {
	local kind=$1 mode=$2 src=$3 dest=$4
	make_dirs "$(dirname "$dest")"
	case $kind in
	file)
		install -m "$mode" "$src" "$DESTDIR$dest"
		say INSTALL "$DESTDIR$dest"
		record file "$dest" ;;
	link)
		ln -sfn "$src" "$DESTDIR$dest"
		say LINK "$DESTDIR$dest -> $src"
		record link "$dest" ;;
	conf)
		install_conf "$mode" "$src" "$dest" ;;
	esac
}

check_built() {
	local kind mode src dest missing=()
	while IFS=$TAB read -r kind mode src dest; do
		[[ $kind == link || -f $src ]] || missing+=("$src")
	done < <(install_list)
	compgen -G "$BUILD/man/man3/*.3" >/dev/null || missing+=("$BUILD/man/man3/*.3")
	[[ ${#missing[@]} -eq 0 ]] || die "not built: ${missing[*]}; run 'make' and 'make man' first"
}

# The loader's cache must learn the new libraries; only for a live install.
refresh_ldcache() {
	[[ -z $DESTDIR ]] || return 0
	if [[ $(id -u) -eq 0 ]] && command -v ldconfig >/dev/null; then
		ldconfig
	else
		echo "install.sh: not root: run ldconfig, or set LD_LIBRARY_PATH=$LIBDIR"
	fi
}

# What install cannot decide for the admin (see the admin guide).
hints() {
	[[ -z $DESTDIR && -n ${UDEVRULESDIR:-} ]] || return 0
	getent group zsync >/dev/null ||
		echo "install.sh: group zsync does not exist; 60-zsync.rules gives /dev/zsync to it: groupadd --system zsync"
	echo "install.sh: to apply the udev rule to a loaded module: udevadm control --reload && udevadm trigger --sysname-match=zsync"
}

do_install() {
	local kind mode src dest
	OLD_ORDER=()
	load_manifest || true
	gen_pc
	check_built
	[[ -z $DESTDIR ]] || mkdir -p "$DESTDIR"
	while IFS=$TAB read -r kind mode src dest; do
		install_item "$kind" "$mode" "$src" "$dest"
	done < <(install_list)
	make_dirs "$(dirname "$MANIFEST")"
	carry_over
	write_manifest
	say MANIFEST "$DESTDIR$MANIFEST (${#NEW_LINES[@]} entries)"
	refresh_ldcache
	hints
}

# ---------------------------------------------------------------- uninstall

remove_entry() {
	local kind=$1 path=$2 sha=$3 target=$DESTDIR$2
	if [[ ! -e $target && ! -L $target ]]; then
		say GONE "$target"
	elif [[ $kind == conf && $(sum "$target") != "$sha" ]]; then
		say KEEP "$target (changed since install)"
	elif [[ -L $target || -f $target ]]; then
		rm -f "$target"
		say REMOVE "$target"
	else
		say KEEP "$target (not a file any more)"
	fi
}

# Deepest first: a reverse sort puts /a/b/c before /a/b.
remove_dirs() {
	local dir
	[[ $# -gt 0 ]] || return 0
	while IFS= read -r dir; do
		if rmdir "$DESTDIR$dir" 2>/dev/null; then
			say RMDIR "$DESTDIR$dir"
		elif [[ -d $DESTDIR$dir ]]; then
			say KEEP "$DESTDIR$dir/ (not empty)"
		fi
	done < <(printf '%s\n' "$@" | sort -r)
}

do_uninstall() {
	local path dirs=()
	OLD_ORDER=()
	load_manifest ||
		die "nothing to uninstall: no $DESTDIR$MANIFEST (installed with another PREFIX or DESTDIR?)"
	for path in "${OLD_ORDER[@]}"; do
		case ${OLD_KIND[$path]} in
		dir) dirs+=("$path") ;;
		file|link|conf) remove_entry "${OLD_KIND[$path]}" "$path" "${OLD_SUM[$path]}" ;;
		*) die "$DESTDIR$MANIFEST: unknown kind '${OLD_KIND[$path]}'" ;;
		esac
	done
	rm -f "$DESTDIR$MANIFEST"
	say REMOVE "$DESTDIR$MANIFEST"
	remove_dirs "${dirs[@]}"
	refresh_ldcache
}

main() {
	case ${1:-} in
	-h|--help) usage; exit 0 ;;
	install|uninstall) ;;
	*) usage >&2; exit 2 ;;
	esac
	check_vars
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/zsync-install.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	umask 022
	"do_$1"
}

main "$@"
