# SPDX-License-Identifier: GPL-2.0
#
# The samples of the benchmarks' tables (bench-echo-table.awk,
# bench-apps-table.awk; awk -f bench-stats.awk -f TABLE): add(KEY, X)
# records a sample, stats(KEY) sorts KEY's and sets md (their median), lo
# and hi.  POSIX awk (mawk): no asort.

function add(key, x) {
	cnt[key]++
	val[key, cnt[key]] = x
}

# stats(KEY): sets md, lo, hi of KEY's samples; returns their count (0:
# none, md, lo and hi 0).
function stats(key,    n, i, j, v, t) {
	md = lo = hi = 0
	n = cnt[key]
	if (!n)
		return 0
	for (i = 1; i <= n; i++)
		v[i] = val[key, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	md = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	lo = v[1]
	hi = v[n]
	return n
}
