# SPDX-License-Identifier: GPL-2.0
#
# compare.awk: the table of `make bench-native` (tools/bench/bench-native.sh).
# Input: "ROUND result METRIC ENGINE VALUE" lines, as the bench programs'
# -k output prefixed with the round it came from.  Output, per metric and
# engine: the median (min-max) over the rounds, and the median over the
# rounds of the per-round ratio to Go and, for the thread pool, to the
# plain pthread baseline (ratios of numbers measured in the same round).
# A ratio above 1 means more than Go: slower for times, faster for rates.
# Plain POSIX awk (Debian's mawk): no asort, so sort() is an insertion sort.

function sort(a, n,    i, j, v) {
	for (i = 2; i <= n; i++) {
		v = a[i]
		for (j = i - 1; j >= 1 && a[j] > v; j--)
			a[j + 1] = a[j]
		a[j + 1] = v
	}
}

function median(a, n) {
	sort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# The median of ENGINE's per-round ratio to REF on metric M, or "-".
function ratio(m, engine, ref,    r, n, a) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((m SUBSEP engine SUBSEP r) in val && (m SUBSEP ref SUBSEP r) in val &&
		    val[m, ref, r] > 0)
			a[++n] = val[m, engine, r] / val[m, ref, r]
	return n ? sprintf("%.2f", median(a, n)) : "-"
}

function fmt(v) {
	return v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v)
}

$2 == "result" && NF == 5 {
	r = $1 + 0
	if (r > rounds)
		rounds = r
	val[$3, $4, r] = $5
	if (!($3 in seen_m)) {
		seen_m[$3] = 1
		metrics[++nm] = $3
	}
	if (!($4 in seen_e)) {
		seen_e[$4] = 1
		engines[++ne] = $4
	}
}

END {
	printf "| metric | engine | median (min-max) | ratio to Go | ratio to pthread |\n"
	printf "|---|---|---|---|---|\n"
	for (i = 1; i <= nm; i++) {
		m = metrics[i]
		for (j = 1; j <= ne; j++) {
			e = engines[j]
			n = 0
			for (r = 1; r <= rounds; r++)
				if ((m SUBSEP e SUBSEP r) in val)
					a[++n] = val[m, e, r] + 0
			if (!n)
				continue
			med = median(a, n)
			rg = e == "go" ? "" : ratio(m, e, "go")
			rp = e ~ /threads/ ? ratio(m, e, "pthread") : ""
			printf "| %s | %s | %s (%s-%s) | %s | %s |\n", m, e, fmt(med), fmt(a[1]),
			       fmt(a[n]), rg, rp
		}
	}
	printf "\n%d rounds; units in the metric's name (ms: the whole run).\n", rounds
}
