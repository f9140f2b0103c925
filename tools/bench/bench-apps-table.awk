# SPDX-License-Identifier: GPL-2.0
#
# bench-apps' table: reads its result lines (server=NAME kind=http|echo
# connections=N rt_per_s=X p50_us=Y p99_us=Z errors=E [rss_kb_per_conn=R],
# or server=NAME kind=K connections=N failed=1) and prints one row per
# metric, one column per server: the median of the rounds, and under it
# their min-max; then each zk-* server's ratio to the best peer (the
# non-zk servers) of each row.
# Variables: servers (names in order), conns (HTTP connection counts),
# echo_conns (echo connection counts; memory is read at the largest).
# add() and stats(): bench-stats.awk.  POSIX awk (mawk).

# A number in at most 6 characters: 1234567 -> 1.23M, 123456 -> 123k,
# 12345 -> 12.3k, 43 -> 43, 4.657 -> 4.66.
function num(x) {
	if (x >= 1000000)
		return sprintf("%.2fM", x / 1000000)
	if (x >= 100000)
		return sprintf("%.0fk", x / 1000)
	if (x >= 10000)
		return sprintf("%.1fk", x / 1000)
	if (x >= 100 || x == int(x))
		return sprintf("%.0f", x)
	return sprintf("%.2f", x)
}

{
	delete f
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	s = f["server"]
	c = f["connections"]
	if (f["failed"]) {
		# Counted against every metric of that load.
		failed[s, f["kind"], c]++
		next
	}
	add(s SUBSEP f["kind"] ":rt:" c, f["rt_per_s"] + 0)
	add(s SUBSEP f["kind"] ":p50:" c, f["p50_us"] + 0)
	add(s SUBSEP f["kind"] ":p99:" c, f["p99_us"] + 0)
	if (f["kind"] == "echo" && c == big_echo())
		add(s SUBSEP "echo:rss:" c, f["rss_kb_per_conn"] + 0)
	errs[s] += f["errors"]
}

function big_echo(    n, v) {
	n = split(echo_conns, v, " ")
	return v[n]
}

function is_peer(s) { return s !~ /^zk-/ }

# The metrics, in the order of the rows: mid[i] the key, mname[i] its
# label, mkind[i] and mconn[i] its load, mhi[i] 1 if higher is better.
function metric(key, label, kind, c, hi) {
	nm++
	mid[nm] = key
	mname[nm] = label
	mkind[nm] = kind
	mconn[nm] = c
	mhi[nm] = hi
}

# The best peer of row M: the highest (mhi) or lowest median; a peer
# without a measurement is no yardstick, nor is the epoll floor's
# memory (as in bench-echo's table: next to nothing per connection in
# user space by design, so a ratio to it says nothing about a runtime).
function best(m,    i, s, x, bx) {
	bestname = ""
	for (i = 1; i <= ns; i++) {
		s = sv[i]
		if (!is_peer(s) || !((s, m) in med) || med[s, m] <= 0 ||
		    (mid[m] ~ /:rss:/ && s == "epoll"))
			continue
		x = med[s, m]
		if (bestname == "" || (mhi[m] ? x > bx : x < bx)) {
			bx = x
			bestname = s
		}
	}
	return bx
}

END {
	ns = split(servers, sv, " ")
	nc = split(conns, cv, " ")
	ne = split(echo_conns, ev, " ")
	for (j = 1; j <= nc; j++) {
		metric("http:rt:" cv[j], "http req/s @" cv[j], "http", cv[j], 1)
		metric("http:p50:" cv[j], "http p50 us @" cv[j], "http", cv[j], 0)
		metric("http:p99:" cv[j], "http p99 us @" cv[j], "http", cv[j], 0)
	}
	for (j = 1; j <= ne; j++) {
		metric("echo:rt:" ev[j], "echo rt/s @" ev[j], "echo", ev[j], 1)
		metric("echo:p99:" ev[j], "echo p99 us @" ev[j], "echo", ev[j], 0)
	}
	metric("echo:rss:" ev[ne], "KiB/conn @" ev[ne], "echo", ev[ne], 0)

	printf "\nmedian of the rounds, and under it their min-max (\"failed\": no round ran; \"!\": some failed)\n"
	printf "%-17s", "metric"
	for (i = 1; i <= ns; i++)
		printf " %11s", sv[i]
	printf "\n"
	for (m = 1; m <= nm; m++) {
		line1 = sprintf("%-17s", mname[m])
		line2 = sprintf("%-17s", "  min-max")
		for (i = 1; i <= ns; i++) {
			s = sv[i]
			nf = failed[s, mkind[m], mconn[m]]
			if (stats(s SUBSEP mid[m])) {
				med[s, m] = md
				line1 = line1 sprintf(" %11s", num(md) (nf ? "!" : ""))
				line2 = line2 sprintf(" %11s", num(lo) "-" num(hi))
			} else {
				line1 = line1 sprintf(" %11s", nf ? "failed" : "-")
				line2 = line2 sprintf(" %11s", "")
			}
		}
		sub(/ +$/, "", line2)
		print line1
		print line2
	}
	printf "%-17s", "errors (all runs)"
	for (i = 1; i <= ns; i++)
		printf " %11d", errs[sv[i]]
	printf "\n"

	printf "\nratio to the best peer of each row (req/s, rt/s: higher is better; latency, memory: lower)\n"
	printf "%-17s", "metric"
	for (i = 1; i <= ns; i++)
		if (!is_peer(sv[i]))
			printf " %12s", sv[i]
	printf "  %s\n", "best peer"
	for (m = 1; m <= nm; m++) {
		b = best(m)
		printf "%-17s", mname[m]
		for (i = 1; i <= ns; i++) {
			s = sv[i]
			if (is_peer(s))
				continue
			if (b && ((s, m) in med))
				printf " %11.2fx", med[s, m] / b
			else
				printf " %12s", "-"
		}
		printf "  %s\n", bestname == "" ? "-" : bestname " " num(b)
	}
}
