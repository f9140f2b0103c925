#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: run every selftest on every available kernel (or one) in a
# QEMU VM and sum the kselftest results.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/check.sh [--native] [--tests "A B"] [KERNEL]

Runs vm-run.sh in check mode on KERNEL (6.1, 6.12, debug) or on every
kernel tools/testing/kernels.sh lists, sums the kselftest "# Totals:" of
all binaries on all kernels and ends with exactly two lines:
  # Totals: pass:P fail:F xfail:X xpass:Y skip:S error:E
  P passed, N failed
where fail also counts binaries that crashed or exited non-zero without
reporting a failure, binaries that left processes running, VMs that did
not finish, failed module loads/unloads and kernel splats, and
N = fail + error. Exit status non-zero if N > 0.
  --native        first run the host-side tests (no module needed): the
                  library unit test (each of its kselftest cases counts),
                  `make native-test` (executor suite under ASan+UBSan and
                  TSan, context switches, examples)
                  `make install-test` (install into a scratch root,
                  build against it with pkg-config only, uninstall)
                  and `make deb-test` (the Debian packages: dpkg root,
                  DKMS for 6.1 and 6.12, a 6.1 VM with the DKMS module);
                  their results count in the totals (log: $BUILD/native.log)
  --tests "A B"   only these selftests (passed to vm-run.sh); no fuzz or soak
  --no-fuzz       skip the fuzzer and the soak
After the selftests each kernel also runs one long job (vm-run.sh --fuzz,
--soak), its KTAP counted like a selftest's:
  6.1     zsync-fuzz for $FUZZ_SECS_61 s (default 120)
  debug   zsync-fuzz --faults for $FUZZ_SECS_DEBUG s (default 180)
  6.12    zsync-soak for $SOAK_SECS_612 s (default 120)
$FUZZ_SEED fixes the fuzzer's seed (default: from the clock, printed).
Per-kernel logs: $BUILD/vm/KERNEL/ (console.log, ktap.log, splats.txt).
EOF
}

die() { echo "check: error: $*" >&2; exit 2; }

# From line $2 of console log $1: the task (CPU/PID/Comm line), the first
# RIP and the reliable frames of the first "Call Trace:" of that splat and,
# for a KASAN use-after-free, who freed the memory (without KASAN's own
# frames): the two stacks a reader needs to see the race.
splat_context() {
	awk -v start="$2" '
	NR < start { next }
	NR > start + 300 { exit }
	{ l = $0; sub(/^\[ *[0-9.]+\] */, "", l) }
	l ~ /^CPU: [0-9]+ PID: / && !task { task = 1; print "task: " l; next }
	l ~ /^Workqueue: / && !wq { wq = 1; print l; next }
	l ~ /^RIP: / && !rip { rip = 1; print l; next }
	l ~ /Call Trace:/ && !traced { trace = 1; next }
	trace && l ~ /^<\/TASK>/ { trace = 0; traced = 1; next }
	trace && l !~ /^(\?|<)/ && l ~ /\+0x/ {
		sub(/\+0x.*/, "", l)
		frames = frames (n++ ? " < " : "") l
	}
	traced && l ~ /^Freed by task / { freed = l " "; infree = 1; next }
	infree && (l ~ /^$/ || l !~ /\+0x/) { infree = 0 }
	infree && l !~ /^_*(kasan|kmem_cache_free|kfree|slab_free|__slab_free)/ && f < 8 {
		sub(/\+0x.*/, "", l)
		freed = freed (f++ ? " < " : "") l
	}
	l ~ /^The buggy address/ { exit }
	END {
		if (frames != "") print "frames: " frames
		if (f) print freed
	}' "$1"
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
VM_ARGS=()
KERNELS=()
NATIVE=0
LONG=1

while [[ $# -gt 0 ]]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--tests) [[ $# -ge 2 ]] || die "--tests needs a list"; VM_ARGS+=(--tests "$2"); LONG=0; shift 2 ;;
	--no-fuzz) LONG=0; shift ;;
	--native) NATIVE=1; shift ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) KERNELS+=("$1"); shift ;;
	esac
done

if [[ ${#KERNELS[@]} -eq 0 ]]; then
	mapfile -t KERNELS < <("$HERE/kernels.sh" | awk '{ print $1 }')
	[[ ${#KERNELS[@]} -gt 0 ]] || die "no test kernels available; run 'make deps'"
else
	for k in "${KERNELS[@]}"; do
		"$HERE/kernels.sh" "$k" >/dev/null || exit 2
	done
fi

declare -A TOTAL=([pass]=0 [fail]=0 [xfail]=0 [xpass]=0 [skip]=0 [error]=0)
SUMMARIES=()

# summary_value FILE KEY
summary_value() { sed -n "s/^$2=//p" "$1" | tail -n1; }

# Extra failures of one kernel beyond the kselftest counts: a binary that
# exited non-zero without reporting fail/error, binaries that never ran,
# the VM, module load/unload, and each splat.
extra_failures() {
	local out=$1 sum=$2 n=0 rc fail error
	while read -r _ rc _ _ fail _ _ _ error; do
		rc=${rc#rc=} fail=${fail#fail=} error=${error#error=}
		if [[ $rc != 0 && ( $fail == - || $fail == 0 ) && ( $error == - || $error == 0 ) ]]; then
			n=$((n + 1))
		fi
	done <"$out/results.txt"
	n=$((n + $(summary_value "$sum" binaries) - $(summary_value "$sum" binaries_run)))
	[[ $(summary_value "$sum" vm) == ok ]] || n=$((n + 1))
	[[ $(summary_value "$sum" insmod) == 0 ]] || n=$((n + 1))
	case "$(summary_value "$sum" rmmod)" in 0|-) ;; *) n=$((n + 1)) ;; esac
	n=$((n + $(summary_value "$sum" splats)))
	n=$((n + $(summary_value "$sum" leftover)))
	echo "$n"
}

# The long job of kernel $1 (see --help), as vm-run.sh arguments.
long_args() {
	[[ $LONG -eq 1 ]] || return 0
	case "$1" in
	6.1) echo "--fuzz ${FUZZ_SECS_61:-120}" ;;
	debug) echo "--fuzz ${FUZZ_SECS_DEBUG:-180} --fuzz-faults" ;;
	6.12) echo "--soak ${SOAK_SECS_612:-120}" ;;
	esac
	[[ -z ${FUZZ_SEED:-} ]] || echo "--fuzz-seed $FUZZ_SEED"
}

run_kernel() {
	local k=$1 out=$BUILD/vm/$1 sum rc=0 key extra line
	local -a long
	sum=$out/summary.txt
	echo "check: booting $k ..."
	rm -f "$sum"
	read -r -a long <<<"$(long_args "$k" | tr '\n' ' ')"
	"$HERE/vm-run.sh" --kernel "$k" --out "$out" "${VM_ARGS[@]+"${VM_ARGS[@]}"}" \
		"${long[@]+"${long[@]}"}" || rc=$?
	if [[ ! -f $sum ]]; then
		# vm-run.sh failed before the VM ran (module build, packing).
		echo "check: $k: vm-run.sh failed before booting (exit $rc)"
		TOTAL[fail]=$((TOTAL[fail] + 1))
		SUMMARIES+=("check: $k: FAILED before booting (see above)")
		return 0
	fi
	for key in pass fail xfail xpass skip error; do
		TOTAL[$key]=$((TOTAL[$key] + $(summary_value "$sum" "$key")))
	done
	extra=$(extra_failures "$out" "$sum")
	TOTAL[fail]=$((TOTAL[fail] + extra))
	line="check: $k: $(summary_value "$sum" result)"
	line+=" pass:$(summary_value "$sum" pass) fail:$(summary_value "$sum" fail)"
	line+=" skip:$(summary_value "$sum" skip) error:$(summary_value "$sum" error)"
	line+=" binaries:$(summary_value "$sum" binaries_run)/$(summary_value "$sum" binaries)"
	line+=" (failed $(summary_value "$sum" binaries_failed)) splats:$(summary_value "$sum" splats)"
	line+=" vm:$(summary_value "$sum" vm) boot:$(summary_value "$sum" boot_secs)s"
	line+=" wall:$(summary_value "$sum" wall_secs)s other-failures:$extra"
	SUMMARIES+=("$line")
	echo "$line"
	# Each splat's first line (test, line, message) goes into the summary
	# too: CI keeps only the end of the log.
	while read -r line; do
		SUMMARIES+=("check: $k: $line")
	done < <(grep -E '^SPLAT [0-9]+ ' "$out/splats.txt" 2>/dev/null | head -n 5 | cut -c1-200)
	# The first one's task, where it was and its stack, one line each.
	first=$(grep -m1 -E '^SPLAT [0-9]+ ' "$out/splats.txt" 2>/dev/null |
		sed -n 's/^SPLAT [0-9]* \[[^]]*\] line \([0-9]*\):.*/\1/p' || true)
	if [[ -n $first ]]; then
		while read -r line; do
			SUMMARIES+=("check: $k: SPLAT 1 $line")
		done < <(splat_context "$out/console.log" "$first" | cut -c1-400)
	fi
	# A fuzzer failure: its seed and how to replay it from the host.
	if grep -qE '^# reproduce: ' "$out/ktap.log" 2>/dev/null; then
		grep -E '^# (fuzz: FAILED|reproduce:)' "$out/ktap.log" | sed "s/^/check: $k: /"
		sed -n 's/^# reproduce: zsync-fuzz \(.*\)/check: '"$k"': replay on the host: make fuzz KERNEL='"$k"' ARGS="\1"/p' \
			"$out/ktap.log"
		SUMMARIES+=("$(grep -E '^# fuzz: FAILED' "$out/ktap.log" | head -n1 | sed "s/^/check: $k: /")")
	fi
}

# ktap_value LINE KEY: KEY's number in a kselftest "# Totals:" LINE.
ktap_value() { sed -E "s/.* $2:([0-9]+).*/\1/" <<<"$1"; }

# Host-side tests: each suite's "# Totals:" counts its cases (the unit
# test's is the kselftest harness's, all six keys); each context-switch
# test and the examples count as one test each.
run_native() {
	local log=$BUILD/native.log rc=0 urc=0 p=0 f=0 s=0 x=0 y=0 e=0 n line
	echo "check: native tests (log: $log) ..."
	mkdir -p "$BUILD"
	# The unit test first, on its own, so that its "# Totals:" line and
	# exit status are its own; a failure there does not stop the rest.
	make -C "$REPO" -f lib/lib.mk unit >"$log" 2>&1 </dev/null || urc=$?
	line=$(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+ xfail:[0-9]+ xpass:[0-9]+ skip:[0-9]+ error:[0-9]+$' \
		"$log" | tail -n1 || true)
	if [[ -n $line ]]; then
		p=$((p + $(ktap_value "$line" pass)))
		f=$((f + $(ktap_value "$line" fail)))
		x=$((x + $(ktap_value "$line" xfail)))
		y=$((y + $(ktap_value "$line" xpass)))
		s=$((s + $(ktap_value "$line" skip)))
		e=$((e + $(ktap_value "$line" error)))
	fi
	# No totals (a build error, a crash), or a non-zero exit that they
	# do not account for: one more failure.
	if [[ -z $line || ( $urc -ne 0 && $f -eq 0 && $e -eq 0 ) ]]; then
		echo "check: native: zk-unit failed without counting it (exit $urc)" | tee -a "$log"
		f=$((f + 1))
	fi
	# Each on its own: one failing does not hide the others' results.
	make -C "$REPO" native-test >>"$log" 2>&1 </dev/null || rc=$?
	make -C "$REPO" install-test >>"$log" 2>&1 </dev/null || rc=$?
	make -C "$REPO" deb-test >>"$log" 2>&1 </dev/null || rc=$?
	[[ $rc -ne 0 ]] || rc=$urc
	n=$(grep -cE '^ctx-test: .* ok' "$log" || true)
	p=$((p + n))
	n=$(grep -cE '^ctx-test-aarch64: SKIP' "$log" || true)
	s=$((s + n))
	while read -r line; do
		p=$((p + $(ktap_value "$line" pass)))
		f=$((f + $(ktap_value "$line" fail)))
		s=$((s + $(ktap_value "$line" skip)))
	done < <(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+' "$log")
	if grep -qx 'examples: every model copied every file intact' "$log"; then p=$((p + 1)); else f=$((f + 1)); fi
	# make install-test and make deb-test: each of their checks counts.
	for n in install-test deb-test; do
		line=$(grep -E "^$n: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n1 || true)
		if [[ -n $line ]]; then
			p=$((p + $(sed -E "s/^$n: ([0-9]+) passed.*/\\1/" <<<"$line")))
			f=$((f + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
		else
			f=$((f + 1))
		fi
	done
	grep -E '^FAIL ' "$log" | head -n 20 | sed 's/^/    /' || true
	# A failure that none of the above counted (a build error, a crash).
	if [[ $rc -ne 0 && $f -eq 0 && $e -eq 0 ]]; then
		f=1
		tail -n 20 "$log" | sed 's/^/    /'
	fi
	grep -E '^not ok ' "$log" | head -n 20 | sed 's/^/    /' || true
	TOTAL[pass]=$((TOTAL[pass] + p))
	TOTAL[fail]=$((TOTAL[fail] + f))
	TOTAL[xfail]=$((TOTAL[xfail] + x))
	TOTAL[xpass]=$((TOTAL[xpass] + y))
	TOTAL[skip]=$((TOTAL[skip] + s))
	TOTAL[error]=$((TOTAL[error] + e))
	line="check: native: $([[ $f -eq 0 && $e -eq 0 ]] && echo pass || echo fail)"
	line+=" pass:$p fail:$f skip:$s error:$e (make exit $rc)"
	SUMMARIES+=("$line")
	echo "$line"
}

[[ $NATIVE -eq 0 ]] || run_native
for k in "${KERNELS[@]}"; do
	run_kernel "$k"
done

echo
echo "check: summary"
printf '%s\n' "${SUMMARIES[@]}"
FAILED=$((TOTAL[fail] + TOTAL[error]))
echo "# Totals: pass:${TOTAL[pass]} fail:${TOTAL[fail]} xfail:${TOTAL[xfail]}" \
	"xpass:${TOTAL[xpass]} skip:${TOTAL[skip]} error:${TOTAL[error]}"
echo "${TOTAL[pass]} passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
