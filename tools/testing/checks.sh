# SPDX-License-Identifier: GPL-2.0
# Sourced by install-test.sh and deb-test.sh: one line per check, the
# command's output in $LOG, and the counts for the closing line.

PASSED=0 FAILED=0

# check NAME CMD...: run CMD; "ok" or "FAIL" and NAME on the terminal.
check() {
	local name=$1
	shift
	echo "=== $name: $*" >>"$LOG"
	if "$@" >>"$LOG" 2>&1; then
		echo "ok   $name"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL $name (see $LOG)"
		FAILED=$((FAILED + 1))
	fi
}

# The kernel release a headers metapackage (linux-headers-amd64, ...)
# points at, as the top Makefile finds KDIR.
headers_release() {
	dpkg-query -W -f='${Depends}' "$1" 2>/dev/null |
		sed -n 's/.*linux-headers-\([^ ,]*\).*/\1/p'
}
