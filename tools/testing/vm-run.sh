#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one test kernel under QEMU (TCG) with zsync.ko and run the selftests,
# the demo or the benchmarks in it; then judge the run from its logs.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/vm-run.sh --kernel NAME [options]

Builds zsync.ko for kernel NAME (6.1, 6.12, debug; see kernels.sh), packs an
initramfs (busybox, the module, test binaries, tools and their libraries),
boots it with qemu-system-x86_64 -accel tcg and reports.

  --kernel NAME        kernel to boot (required)
  --tests "A B"        selftests to run (names under $BUILD/selftests, or
                       paths); default all; "" runs none (boots and loads
                       the module only)
  --demo               run /bin/zsync-demo instead of the selftests
  --bench              run every /bin/zsync-bench* instead of the selftests
                       (with --tests "nop file": only zsync-bench-nop, ...)
  --fuzz SECS          after the selftests (before zz_rmmod), run zsync-fuzz
                       for SECS seconds (KTAP, counted like a selftest)
  --fuzz-faults        run it with --faults (kernel fault injection)
  --fuzz-seed SEED     its seed (default: from the clock; always printed)
  --fuzz-args "ARGS"   more zsync-fuzz arguments (e.g. "--replay 0x... --shrink")
  --soak SECS          then run zsync-soak for SECS seconds
  --timeout SECS       limit for the whole VM (default 600, debug 1800)
  --test-timeout SECS  limit for one binary inside the VM (default: the VM
                       limit minus 120 s; 0 = none)
  --mem MB             guest memory (default 2048)
  --modules DIR        load zsync.ko and zsync_edu.ko from DIR (e.g. a DKMS
                       build; .ko, .ko.xz or .ko.zst) instead of building them
  --overlay DIR        copy DIR's tree into the initramfs root (after the
                       tools), with the shared libraries its programs need
  --out DIR            where the initramfs and logs go ($BUILD/vm/NAME)
  -q, --quiet          do not print the test output (ktap.log) at the end

Debugging a VM that hangs (environment):
  ZSYNC_VM_MONITOR=PATH  a QEMU monitor on unix socket PATH (e.g. socat -
                         UNIX-CONNECT:PATH; "info registers -a", "sendkey
                         alt-sysrq-l": kernel.sysrq is 1 in the VM)
  ZSYNC_VM_APPEND="ARGS" more kernel arguments (e.g. nokaslr, to read RIPs
                         against the kernel's System.map)

Results in DIR: console.log (ttyS0: kernel log + init progress), ktap.log
(ttyS1: test output), status.log (ttyS2: init's results), results.txt (one
line per binary), splats.txt, summary.txt (key=value, read by check.sh).
Exit status 0 only if the VM powered off in time, every binary exited 0
without leaving processes behind,
no KTAP totals report fail/error and the console shows no kernel splat.
Environment: BUILD (<repo>/build), ZSYNC_KMOD_SRC (module sources, for
testing the harness), QEMU (qemu-system-x86_64).
EOF
}

die() { echo "vm-run: error: $*" >&2; exit 2; }
log() { echo "vm-run: $*"; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
QEMU=${QEMU:-qemu-system-x86_64}

KERNEL='' MODE=check TESTS_SET=0 TESTS='' TIMEOUT='' BINTO='' OUT='' QUIET=0 MEM=2048
FUZZ_SECS=0 FUZZ_FAULTS=0 FUZZ_SEED='' FUZZ_ARGS='' SOAK_SECS=0 MODULES='' OVERLAY=''
while [[ $# -gt 0 ]]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--kernel) KERNEL=${2:?--kernel needs a name}; shift 2 ;;
	--tests) [[ $# -ge 2 ]] || die "--tests needs a list"; TESTS=$2; TESTS_SET=1; shift 2 ;;
	--demo) MODE=demo; shift ;;
	--bench) MODE=bench; shift ;;
	--timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
	--test-timeout) BINTO=${2:?--test-timeout needs seconds}; shift 2 ;;
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	--fuzz) FUZZ_SECS=${2:?--fuzz needs seconds}; shift 2 ;;
	--fuzz-faults) FUZZ_FAULTS=1; shift ;;
	--fuzz-seed) FUZZ_SEED=${2:?--fuzz-seed needs a seed}; shift 2 ;;
	--fuzz-args) FUZZ_ARGS=${2?--fuzz-args needs arguments}; shift 2 ;;
	--soak) SOAK_SECS=${2:?--soak needs seconds}; shift 2 ;;
	--mem) MEM=${2:?--mem needs megabytes}; shift 2 ;;
	--modules) MODULES=${2:?--modules needs a directory}; shift 2 ;;
	--overlay) OVERLAY=${2:?--overlay needs a directory}; shift 2 ;;
	-q|--quiet) QUIET=1; shift ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[[ -n $KERNEL ]] || { usage >&2; exit 2; }
[[ -z $TIMEOUT || $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
[[ -z $BINTO || $BINTO =~ ^[0-9]+$ ]] || die "--test-timeout must be a number of seconds"
[[ $MEM =~ ^[0-9]+$ ]] || die "--mem must be a number of megabytes"
[[ -z $MODULES || -d $MODULES ]] || die "--modules: no directory '$MODULES'"
[[ -z $OVERLAY || -d $OVERLAY ]] || die "--overlay: no directory '$OVERLAY'"
[[ $FUZZ_SECS =~ ^[0-9]+$ && $SOAK_SECS =~ ^[0-9]+$ ]] || die "--fuzz/--soak take a number of seconds"
[[ -z $FUZZ_SEED || $FUZZ_SEED =~ ^(0x[0-9a-fA-F]+|[0-9]+)$ ]] || die "--fuzz-seed must be a number"
if [[ -z $TIMEOUT ]]; then
	if [[ $KERNEL == debug ]]; then TIMEOUT=1800; else TIMEOUT=600; fi
fi
if [[ -z $BINTO ]]; then
	BINTO=$((TIMEOUT > 240 ? TIMEOUT - 120 : TIMEOUT / 2))
fi

KLINE=$("$HERE/kernels.sh" "$KERNEL") || exit 2
read -r _ VMLINUZ KDIR <<<"$KLINE"
OUT=${OUT:-$BUILD/vm/$KERNEL}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$OUT/initramfs
INITRD=$OUT/initramfs.cpio.gz
KMOD_OUT=$BUILD/kmod/$KERNEL

build_module() {
	log "building zsync.ko for $KERNEL ($KDIR)"
	if ! "$HERE/build-kmod.sh" "$KDIR" "$KMOD_OUT" W=1 >"$OUT/kmod-build.log" 2>&1; then
		cat "$OUT/kmod-build.log" >&2
		die "module build for $KERNEL failed"
	fi
	grep -E 'warning:|error:' "$OUT/kmod-build.log" || true
	[[ -f $KMOD_OUT/zsync.ko ]] || die "no $KMOD_OUT/zsync.ko after the build"
}

# --modules DIR: the modules someone else built (DKMS), decompressed, as
# busybox's insmod takes only plain .ko files.
take_modules() {
	local m name
	log "modules from $MODULES"
	KMOD_OUT=$OUT/modules
	rm -rf "$KMOD_OUT"
	mkdir -p "$KMOD_OUT"
	for m in "$MODULES"/*.ko*; do
		[[ -e $m ]] || continue
		name=$(basename "$m")
		case "$name" in
		*.ko.xz) xz -dc "$m" >"$KMOD_OUT/${name%.xz}" ;;
		*.ko.zst) zstd -qdc "$m" >"$KMOD_OUT/${name%.zst}" ;;
		*.ko) cp "$m" "$KMOD_OUT/" ;;
		esac
	done
	[[ -f $KMOD_OUT/zsync.ko ]] || die "--modules: no zsync.ko in $MODULES"
}

# Copy the shared libraries (and the loader) a dynamic binary needs, at the
# same paths, so the loader finds them; static binaries need nothing.
# LIBS_FROM (--overlay's tree) is searched first; a library found there
# goes to its path inside that tree.
copy_libs() {
	local bin=$1 lib dst
	env ${LIBS_FROM:+LD_LIBRARY_PATH="$LIBS_FROM"} ldd "$bin" >/dev/null 2>&1 || return 0
	while read -r lib; do
		dst=$lib
		[[ -z ${LIBS_FROM_ROOT:-} || $lib != "$LIBS_FROM_ROOT"/* ]] ||
			dst=${lib#"$LIBS_FROM_ROOT"}
		[[ -e $ROOT$dst ]] && continue
		mkdir -p "$ROOT$(dirname "$dst")"
		cp -L "$lib" "$ROOT$dst"
	done < <(env ${LIBS_FROM:+LD_LIBRARY_PATH="$LIBS_FROM"} ldd "$bin" |
		 awk '/=> \// { print $3; next } /^[ \t]*\// { print $1 }')
}

# --overlay DIR: its files as they are, then the libraries of its ELF
# programs (its own lib directories first).
apply_overlay() {
	local f dirs
	log "overlay $OVERLAY"
	cp -a "$OVERLAY"/. "$ROOT"/
	LIBS_FROM_ROOT=$(cd "$OVERLAY" && pwd)
	dirs=$(find "$LIBS_FROM_ROOT" -name '*.so.*' -printf '%h\n' | sort -u | paste -sd:)
	LIBS_FROM=$dirs
	while read -r f; do
		head -c 4 "$f" | grep -q 'ELF' && copy_libs "$f"
	done < <(find "$LIBS_FROM_ROOT" -type f -perm -u+x)
	LIBS_FROM='' LIBS_FROM_ROOT=''
}

install_bin() {
	local src=$1 dst=$2
	mkdir -p "$(dirname "$ROOT$dst")"
	cp -L "$src" "$ROOT$dst"
	chmod 755 "$ROOT$dst"
	copy_libs "$src"
}

# Executables under DIR (recursively), excluding libraries and objects.
list_executables() {
	[[ -d $1 ]] || return 0
	find "$1" -type f -perm -u+x ! -name '*.so' ! -name '*.so.*' ! -name '*.o' \
		! -name '*.a' | LC_ALL=C sort
}

# Resolve --tests (or all of $BUILD/selftests) to "NAME PATH" lines.
select_tests() {
	local t p all
	all=$(list_executables "$BUILD/selftests")
	if [[ $TESTS_SET -eq 0 ]]; then
		# Name order: selftests rely on it (zz_rmmod runs last).
		for p in $all; do echo "$(basename "$p") $p"; done | LC_ALL=C sort
		return 0
	fi
	for t in $TESTS; do
		if [[ $t == */* ]]; then
			[[ -x $t ]] || die "test binary '$t' is missing or not executable"
			echo "$(basename "$t") $t"
			continue
		fi
		p=$(grep -E "/$t\$" <<<"$all" | head -n1) ||
			die "no selftest '$t' in $BUILD/selftests (run 'make selftests')"
		echo "$t $p"
	done
}

# A newc archive with /dev/console, so init has a console before it mounts
# devtmpfs (GNU cpio could only take it from a real device node, i.e. root).
dev_console_cpio() {
	entry() { # ino name mode rdev_major rdev_minor
		local name=$2 hdr pad
		hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
			"$1" "$3" 0 0 1 0 0 0 0 "$4" "$5" $((${#name} + 1)) 0)
		printf '%s%s\0' "$hdr" "$name"
		pad=$(((4 - (110 + ${#name} + 1) % 4) % 4))
		head -c "$pad" /dev/zero
	}
	entry 1 dev $((0040755)) 0 0
	entry 2 dev/console $((0020600)) 5 1
	entry 0 TRAILER!!! 0 0 0
}

# Kernel modules some selftests load themselves (not at boot): loop, for a
# block device whose page cache can be dropped.  Taken from the booted
# kernel's own package, decompressed; a kernel with them built in needs none.
EXTRA_MODULES=(drivers/block/loop.ko)
install_extra_modules() {
	local m src
	mkdir -p "$ROOT/lib/modules-extra"
	for m in "${EXTRA_MODULES[@]}"; do
		src=$(find "$BUILD/kernels/$KERNEL/lib/modules" -path "*/kernel/$m*" 2>/dev/null | head -n1)
		[[ -n $src ]] || continue
		case "$src" in
		*.xz) xz -dc "$src" >"$ROOT/lib/modules-extra/$(basename "$m")" ;;
		*) cp "$src" "$ROOT/lib/modules-extra/" ;;
		esac
	done
}

# add_run NAME COMMAND...: a wrapper in /selftests that the init runs like
# a selftest, listed before zz_rmmod (which unloads the module).
add_run() {
	local name=$1 list=$ROOT/etc/zsync-tests
	shift
	[[ -x $ROOT/bin/${1#/bin/} ]] || die "no ${1#/bin/} under $BUILD/tools (run 'make tools')"
	printf '#!/bin/sh\n# generated by vm-run.sh\nexec %s\n' "$*" >"$ROOT/selftests/$name"
	chmod 755 "$ROOT/selftests/$name"
	if grep -q '^zz_' "$list"; then
		awk -v n="$name" '/^zz_/ && !done { print n; done = 1 } { print }' "$list" >"$list.new"
		mv "$list.new" "$list"
	else
		echo "$name" >>"$list"
	fi
	n=$((n + 1))
}

# The fuzzer and the soak (--fuzz, --soak), after the selftests.
add_long_runs() {
	local args
	if [[ $FUZZ_SECS -gt 0 ]]; then
		FUZZ_SEED=${FUZZ_SEED:-$(( ($(date +%s%N) ^ $$) & 0x7fffffffffff ))}
		args="--ktap -q -t $FUZZ_SECS -s $FUZZ_SEED"
		[[ $FUZZ_FAULTS -eq 0 ]] || args+=" --faults"
		[[ -z $FUZZ_ARGS ]] || args+=" $FUZZ_ARGS"
		# Teardown is slower under KASAN and lockdep.
		[[ $KERNEL != debug ]] || args+=" --grace 60"
		log "zsync-fuzz: $args"
		add_run zsync-fuzz /bin/zsync-fuzz $args
	fi
	if [[ $SOAK_SECS -gt 0 ]]; then
		add_run zsync-soak /bin/zsync-soak -t "$SOAK_SECS"
	fi
}

build_initramfs() {
	local name path b n=0
	log "packing initramfs ($MODE)"
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,lib/modules,selftests,proc,sys,dev,tmp,run,root}
	cp /bin/busybox "$ROOT/bin/busybox"
	ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is not static (install busybox-static)"
	while read -r b; do
		[[ -e $ROOT/$b ]] || ln -s /bin/busybox "$ROOT/$b"
	done < <(/bin/busybox --list-full)
	install -m 755 "$HERE/init.sh" "$ROOT/init"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$ROOT/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"

	while read -r path; do
		cp "$path" "$ROOT/lib/modules/"
	done < <(find "$KMOD_OUT" -name '*.ko' | LC_ALL=C sort)
	install_extra_modules

	# Tools (zsync-demo, zsync-bench*, ...) go to /bin in every mode.
	for path in $(list_executables "$BUILD/tools"); do
		name=$(basename "$path")
		# zk-echo, zk-httpd: the echo-app and httpd-app selftests run them.
		if [[ $name == zsync* || $name == zk-echo || $name == zk-httpd ]]; then
			install_bin "$path" "/bin/$name"
		fi
	done
	# lsns(8), which the namespace selftests cross-check against.
	[[ -x /usr/bin/lsns ]] && install_bin /usr/bin/lsns /usr/bin/lsns
	[[ -z $OVERLAY ]] || apply_overlay
	case "$MODE" in
	demo) [[ -x $ROOT/bin/zsync-demo ]] || die "no zsync-demo under $BUILD/tools (run 'make tools')" ;;
	bench) compgen -G "$ROOT/bin/zsync-bench*" >/dev/null ||
		die "no zsync-bench* under $BUILD/tools (run 'make tools')" ;;
	esac

	: >"$ROOT/etc/zsync-tests"
	if [[ $MODE == check ]]; then
		local selected
		selected=$(select_tests)
		while read -r name path; do
			[[ -n $name ]] || continue
			[[ ! -e $ROOT/selftests/$name ]] || die "two selftests named '$name'"
			install_bin "$path" "/selftests/$name"
			echo "$name" >>"$ROOT/etc/zsync-tests"
			n=$((n + 1))
		done <<<"$selected"
		if [[ $n -eq 0 && $TESTS_SET -eq 0 ]]; then
			die "no selftest binaries in $BUILD/selftests (run 'make selftests')"
		fi
		add_long_runs
		log "$n test binaries"
	elif [[ $MODE == bench && $TESTS_SET -eq 1 ]]; then
		for t in $TESTS; do
			[[ -x $ROOT/bin/zsync-bench-$t ]] || die "no zsync-bench-$t under $BUILD/tools"
			echo "zsync-bench-$t" >>"$ROOT/etc/zsync-tests"
		done
	fi

	{
		dev_console_cpio
		(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
			cpio -o -H newc --owner=0:0 --quiet)
	} | gzip -1 >"$INITRD"
	log "initramfs: $(du -h "$INITRD" | cut -f1)"
}

run_vm() {
	local append rc
	append="console=ttyS0 loglevel=5 printk.devkmsg=on panic=-1"
	append+=" zsynctest.mode=$MODE zsynctest.binto=$BINTO${ZSYNC_VM_APPEND:+ $ZSYNC_VM_APPEND}"
	local monitor=()
	[[ -z ${ZSYNC_VM_MONITOR:-} ]] || monitor=(-monitor "unix:$ZSYNC_VM_MONITOR,server,nowait")
	rm -f "$OUT"/{console,ktap,status}.log
	log "booting $KERNEL ($(basename "$VMLINUZ")), limit ${TIMEOUT}s"
	START=$(date +%s)
	set +e
	timeout -k 10 "$TIMEOUT" "$QEMU" -accel tcg -m "$MEM" -smp 2 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$VMLINUZ" -initrd "$INITRD" -append "$append" \
		-serial "file:$OUT/console.log" -serial "file:$OUT/ktap.log" \
		-serial "file:$OUT/status.log" -device edu "${monitor[@]}" \
		</dev/null >"$OUT/qemu.log" 2>&1
	rc=$?
	set -e
	WALL=$(($(date +%s) - START))
	touch "$OUT"/{console,ktap,status}.log
	# Serial output can carry \r; the host files are plain text.
	sed -i 's/\r$//' "$OUT"/{console,ktap,status}.log
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		VM=timeout
	elif [[ $rc -ne 0 ]]; then
		VM=qemu-error
		sed 's/^/qemu: /' "$OUT/qemu.log" >&2
	elif ! grep -qx 'done' "$OUT/status.log"; then
		VM=crashed # init died or the kernel panicked before powering off
	else
		VM=ok
	fi
}

# Per binary: NAME rc=N secs=S pass=.. fail=.. xfail=.. xpass=.. skip=.. error=..
# ("-" when the binary printed no kselftest "# Totals:" line).
collect_results() {
	awk '
	FNR == NR {
		if ($1 == "result") { rc[$2] = $3; secs[$2] = $4; order[++n] = $2 }
		next
	}
	/^# zsync-test: begin / { cur = $4; next }
	/^# zsync-test: end / { cur = ""; next }
	cur != "" && /^# Totals: pass:/ { tot[cur] = $3 " " $4 " " $5 " " $6 " " $7 " " $8 }
	END {
		for (i = 1; i <= n; i++) {
			t = order[i]
			s = (t in tot) ? tot[t] : "pass:- fail:- xfail:- xpass:- skip:- error:-"
			gsub(/:/, "=", s)
			print t, rc[t], secs[t], s
		}
	}' "$OUT/status.log" "$OUT/ktap.log" >"$OUT/results.txt"
}

status_value() { # "insmod zsync rc=0" -> 0
	sed -n "s/^$1 rc=\\([0-9-]*\\).*/\\1/p" "$OUT/status.log" | tail -n1
}

judge() {
	local expected got failed_bins=0 line boot
	local -A sum=([pass]=0 [fail]=0 [xfail]=0 [xpass]=0 [skip]=0 [error]=0)
	local INSMOD RMMOD SPLATS LEFTOVER RESULT=pass
	INSMOD=$(status_value "insmod zsync")
	RMMOD=$(status_value "rmmod zsync")
	expected=$(grep -c . "$ROOT/etc/zsync-tests" || true)
	[[ $MODE == check ]] || expected=$(wc -l <"$OUT/results.txt")
	got=$(wc -l <"$OUT/results.txt")
	# Binaries that left processes running (init killed them).
	LEFTOVER=$(grep -c '^leftover ' "$OUT/status.log" || true)

	while read -r _ rc _ rest; do
		[[ ${rc#rc=} == 0 ]] || failed_bins=$((failed_bins + 1))
		for kv in $rest; do
			[[ ${kv#*=} == - ]] || sum[${kv%%=*}]=$((sum[${kv%%=*}] + ${kv#*=}))
		done
	done <"$OUT/results.txt"

	set +e
	"$HERE/scan-splats.sh" "$OUT/console.log" >"$OUT/splats.txt"
	set -e
	SPLATS=$(sed -n 's/^splats: //p' "$OUT/splats.txt")

	boot=$(sed -n 's/^\[ *\([0-9]*\)\.[0-9]*\] zsync-init: up.*/\1/p' "$OUT/console.log" | head -n1)

	[[ $VM == ok ]] || RESULT=fail
	[[ ${INSMOD:-x} == 0 ]] || RESULT=fail
	[[ -z ${RMMOD:-} || $RMMOD == 0 ]] || RESULT=fail
	[[ $failed_bins -eq 0 && $got -eq $expected ]] || RESULT=fail
	[[ $LEFTOVER -eq 0 ]] || RESULT=fail
	[[ ${sum[fail]} -eq 0 && ${sum[error]} -eq 0 && ${SPLATS:-1} -eq 0 ]] || RESULT=fail

	cat >"$OUT/summary.txt" <<-EOF
	kernel=$KERNEL
	mode=$MODE
	vm=$VM
	boot_secs=${boot:--}
	wall_secs=$WALL
	insmod=${INSMOD:--}
	rmmod=${RMMOD:--}
	binaries=$expected
	binaries_run=$got
	binaries_failed=$failed_bins
	pass=${sum[pass]}
	fail=${sum[fail]}
	xfail=${sum[xfail]}
	xpass=${sum[xpass]}
	skip=${sum[skip]}
	error=${sum[error]}
	splats=${SPLATS:-?}
	leftover=$LEFTOVER
	result=$RESULT
	EOF

	if [[ $QUIET -eq 0 ]]; then
		echo "----- $KERNEL: $MODE output (ktap.log) -----"
		cat "$OUT/ktap.log"
		echo "----- end of $MODE output -----"
	fi
	while read -r line; do log "$KERNEL: binary $line"; done <"$OUT/results.txt"
	if [[ ${SPLATS:-0} != 0 ]]; then
		log "$KERNEL: kernel splats in $OUT/console.log:"
		cat "$OUT/splats.txt"
	fi
	if [[ $VM != ok ]]; then
		line=$(awk '/zsync-test: begin / { t = $NF } /zsync-test: end / { t = "" }
			END { print t }' "$OUT/console.log")
		[[ -z $line ]] || log "$KERNEL: still running when the VM stopped: $line"
	fi
	[[ $VM == ok ]] || log "$KERNEL: VM did not finish cleanly: $VM (last console lines below)"
	[[ $VM == ok ]] || tail -n 30 "$OUT/console.log" | sed 's/^/    /'
	[[ ${INSMOD:-x} == 0 ]] || log "$KERNEL: insmod zsync.ko failed (rc=${INSMOD:-none})"
	[[ $LEFTOVER -eq 0 ]] || log "$KERNEL: binaries that left processes running:" \
		"$(sed -n 's/^leftover //p' "$OUT/status.log" | tr '\n' ' ')"
	[[ -z ${RMMOD:-} || $RMMOD == 0 ]] || log "$KERNEL: rmmod zsync failed (rc=$RMMOD)"
	[[ $got -eq $expected ]] || log "$KERNEL: $got of $expected binaries reported a result"
	log "$KERNEL: $RESULT: vm=$VM boot=${boot:-?}s wall=${WALL}s binaries=$got/$expected" \
		"failed=$failed_bins pass=${sum[pass]} fail=${sum[fail]} skip=${sum[skip]}" \
		"error=${sum[error]} splats=${SPLATS:-?} (logs: $OUT)"
	[[ $RESULT == pass ]]
}

if [[ -n $MODULES ]]; then take_modules; else build_module; fi
build_initramfs
run_vm
collect_results
judge
