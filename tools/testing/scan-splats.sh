#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Find kernel splats (warnings, oopses, KASAN/UBSAN/lockdep reports, leaks,
# hung tasks) in a VM console log and attribute each to the test that was
# running, using the "zsync-test: begin NAME" markers init.sh writes to
# /dev/kmsg.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tools/testing/scan-splats.sh [--context N] CONSOLE_LOG

Prints every kernel splat in CONSOLE_LOG with the test it is attributed to
(the most recent "zsync-test: begin NAME" marker before it; for kmemleak
reports also the allocating task), followed by up to N lines (default 40)
of the report. The last line is "splats: COUNT".
Between the "zsync-fuzz: faults armed" and "faults disarmed" lines that
zsync-fuzz --faults writes to the kernel log, the stack of an allocation-
failure report (warn_alloc(): "page allocation failure", "vmalloc error")
is the kernel's expected answer to an injected failure and not a splat;
they are counted on an "expected:" line.
Likewise, between "zsync-test: oom expected" and "zsync-test: oom done"
(a selftest that makes a memory cgroup's OOM killer act on purpose), the
stack of an OOM-killer report ("invoked oom-killer") is expected.
Exit status: 0 if no splat, 1 if any, 2 on usage errors.
EOF
}

CONTEXT=40
while [[ $# -gt 0 ]]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--context) CONTEXT=${2:?--context needs a number}; shift 2 ;;
	-*) echo "scan-splats: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[[ $# -eq 1 ]] || { usage >&2; exit 2; }
LOG=$1
[[ -r $LOG ]] || { echo "scan-splats: cannot read '$LOG'" >&2; exit 2; }

# What counts as a splat (extended regexps, case-sensitive).
PATTERNS=(
	'BUG:' 'WARNING:' 'Oops' 'KASAN' 'UBSAN'
	'possible circular locking' 'possible recursive locking'
	'inconsistent lock state' 'Invalid wait context' 'suspicious RCU usage'
	'unreferenced object' 'blocked for more than' 'Call Trace'
	'general protection fault' 'kernel BUG' 'Kernel panic' 'detected stalls?'
)

# Harmless matches printed by the stock kernels themselves, matched against
# the whole line (timestamp stripped). Each entry must be narrow and say why.
# None are needed so far: booting 6.1, 6.12 and debug with an empty test
# set under TCG prints no line matching PATTERNS (checked with
# `vm-run.sh --kernel K --tests ""`).
WHITELIST=(
)

join_re() { local IFS='|'; echo "$*"; }
PAT_RE=$(join_re "${PATTERNS[@]}")
WL_RE=$(join_re "${WHITELIST[@]+"${WHITELIST[@]}"}")

# A report is one splat: matches within 150 lines of the line that started
# it (its "Call Trace", a nested "WARNING:" line) belong to it; a test
# marker, "---[ end trace" or a "=====" rule (KASAN, UBSAN) ends a report.
# Every kmemleak "unreferenced object" is its own leak. A whitelisted line
# also swallows the matches of its own report (e.g. its "Call Trace").
tr -d '\r' <"$LOG" | awk -v pat="$PAT_RE" -v wl="$WL_RE" -v ctx="$CONTEXT" -v group=150 '
function strip_ts(s) { sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s); return s }
function owner() { return cur == "" ? "boot" : cur ended }
function head(nr, text, who) {
	printf "SPLAT %d [%s] line %d: %s\n", ++count, who, nr, text
}
function within(start) { return start > 0 && NR - start <= group }
{
	line = strip_ts($0)
	if (match(line, /zsync-test: begin [^ ]+/)) {
		cur = substr(line, RSTART + 18, RLENGTH - 18)
		ended = ""
		block = 0
	} else if (match(line, /zsync-test: end [^ ]+/)) {
		ended = " (after it ended)"
		block = 0
	}
	if (leak_nr) {
		# kmemleak prints the allocating task on the line after the header.
		who = leak_who
		if (line ~ /comm "/) {
			c = line; sub(/^.*comm "/, "", c); sub(/".*$/, "", c)
			who = who ", allocated by task " c
		}
		head(leak_nr, leak_text, who)
		block = leak_nr; leak_nr = 0
	}
	# Our own marker/progress lines never count, unless a kernel line got
	# interleaved into one (then it carries a timestamp of its own).
	splat = line ~ pat && !(line ~ /^zsync-(test|init): / && line !~ /\[ *[0-9]+\.[0-9]+\]/)
	# While zsync-fuzz injects allocation failures, the kernel answers
	# some with warn_alloc(): a header and its stack, up to </TASK>.  That
	# stack is the expected answer; anything else in it still counts.
	if (line ~ /zsync-fuzz: faults armed/) faults = 1
	if (line ~ /zsync-fuzz: faults disarmed/) faults = 0
	if (faults && line ~ /(page allocation failure: order:|vmalloc error: size )/) {
		alloc_fail = 1
		injected++
	}
	# A selftest that OOM-kills a task in a small memory cgroup on
	# purpose marks that window; the report of the killer there is expected.
	if (line ~ /zsync-test: oom expected/) oom_window = 1
	if (line ~ /zsync-test: oom done/) oom_window = 0
	if (oom_window && line ~ /invoked oom-killer:/) {
		alloc_fail = 1
		oom_kills++
	}
	if (alloc_fail && splat && line ~ /Call Trace/)
		splat = 0
	if (alloc_fail && line ~ /<\/TASK>/)
		alloc_fail = 0
	if (splat && wl != "" && line ~ wl) {
		wl_block = NR
		splat = 0
	} else if (splat && within(wl_block)) {
		splat = 0
	}
	if (splat && line ~ /unreferenced object/) {
		leak_nr = NR; leak_text = line; leak_who = owner(); block = 0
		next
	}
	if (splat && !within(block)) {
		head(NR, line, owner())
		block = NR
		next
	}
	if (within(block) && NR - block <= ctx && count <= 20)
		print "    " line
	if (line ~ /---\[ end trace/ || line ~ /^=+$/)
		block = 0
}
END {
	if (leak_nr) head(leak_nr, leak_text, leak_who)
	if (injected)
		printf "expected: %d allocation-failure report(s) under zsync-fuzz fault injection\n", injected
	if (oom_kills)
		printf "expected: %d OOM-killer report(s) in selftest OOM windows\n", oom_kills
	printf "splats: %d\n", count
	exit count > 0 ? 1 : 0
}'
