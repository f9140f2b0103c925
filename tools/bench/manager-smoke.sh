#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of zsync-bench-manager (the VM's `make check` runs it as the
# selftest manager-smoke): a few containers through both paths, with OOM
# kills on purpose, and the tool's --check outcome checks - every
# container reached each state, every crash and OOM kill was seen and
# restarted, every cgroup was removed, no fd leaked.  KTAP on stdout;
# POSIX sh for the VM's busybox.
#
# usage: manager-smoke.sh [BINARY]   (default /bin/zsync-bench-manager)

BIN=${1:-/bin/zsync-bench-manager}
PASS=0 FAIL=0 SKIP=0 N=0

result() { # ok|fail|skip NAME [why]
	N=$((N + 1))
	case $1 in
	ok) PASS=$((PASS + 1)); echo "ok $N $2" ;;
	skip) SKIP=$((SKIP + 1)); echo "ok $N $2 # SKIP $3" ;;
	*) FAIL=$((FAIL + 1)); echo "not ok $N $2" ;;
	esac
}

echo "TAP version 13"
echo "1..2"
for path in ring plain; do
	if [ ! -x "$BIN" ]; then
		result skip "manager $path" "no $BIN"
		continue
	fi
	out=$("$BIN" -n 12 -r 1 -k 12 --oom-every 3 --path "$path" --check 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	# The table has this path's row; a run that failed prints no table.
	if [ $rc -eq 0 ] && echo "$out" | grep -q "round 1 $path.*restarts, [1-9][0-9]* OOM kills seen$"; then
		result ok "manager $path"
	else
		result fail "manager $path"
	fi
done
echo "# Totals: pass:$PASS fail:$FAIL xfail:0 xpass:0 skip:$SKIP error:0"
[ $FAIL -eq 0 ]
