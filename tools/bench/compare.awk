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
		if ($4 == "go" || $4 == "pthread")
			refs[++nr] = $4
		else
			engines[++nz] = $4
	}
}

# The median of metric M on engine E over the rounds; "" when it never ran.
function med_of(m, e,    r, n, a, v) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((m SUBSEP e SUBSEP r) in val)
			a[++n] = val[m, e, r] + 0
	if (!n)
		return ""
	v = median(a, n)	# sorts a
	lo[m, e] = a[1]
	hi[m, e] = a[n]
	return v
}

# One row per metric: each engine's median, and its ratio to Go.
function compact(    i, j, e, m, v, line) {
	line = "| metric |"
	for (j = 1; j <= ne; j++)
		line = line " " engines_all[j] " |"
	print line
	line = "|---|"
	for (j = 1; j <= ne; j++)
		line = line "---|"
	print line
	for (i = 1; i <= nm; i++) {
		m = metrics[i]
		line = "| " m " |"
		for (j = 1; j <= ne; j++) {
			e = engines_all[j]
			v = med_of(m, e)
			if (v == "")
				line = line " - |"
			else if (e == "go")
				line = line " " fmt(v) " |"
			else
				line = line " " fmt(v) " (" ratio(m, e, "go") "x) |"
		}
		print line
	}
}

END {
	ne = 0
	for (j = 1; j <= nr; j++)
		engines_all[++ne] = refs[j]
	for (j = 1; j <= nz; j++)
		engines_all[++ne] = engines[j]
	printf "| metric | engine | median (min-max) | ratio to Go | ratio to pthread |\n"
	printf "|---|---|---|---|---|\n"
	for (i = 1; i <= nm; i++) {
		m = metrics[i]
		for (j = 1; j <= ne; j++) {
			e = engines_all[j]
			v = med_of(m, e)
			if (v == "")
				continue
			rg = e == "go" ? "" : ratio(m, e, "go")
			rp = e ~ /threads/ ? ratio(m, e, "pthread") : ""
			printf "| %s | %s | %s (%s-%s) | %s | %s |\n", m, e, fmt(v), fmt(lo[m, e]),
			       fmt(hi[m, e]), rg, rp
		}
	}
	printf "\nThe medians again, one row a metric, with the median ratio to Go:\n\n"
	compact()
	printf "\n%d rounds; units in the metric's name (ms: the whole run).\n", rounds
}
