# SPDX-License-Identifier: GPL-2.0
#
# bench-echo's table: reads its result lines (server=NAME connections=N
# rt_per_s=X p99_us=Y errors=E rss_kb_per_conn=Z ...), prints the median of
# each metric per server and connection count, then each zk-* server's
# ratio to the best peer (the non-zk servers) of each column.
# Variables: servers (names in order), conns (connection counts in order),
# unit (the throughput's name in the table: rt/s, or req/s for bench-http).
# add() and stats(): bench-stats.awk.  POSIX awk (mawk).

function median(key) { return stats(key) ? md : 0 }

{
	delete f
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	k = f["server"] SUBSEP f["connections"]
	add(k SUBSEP "rt", f["rt_per_s"] + 0)
	add(k SUBSEP "p99", f["p99_us"] + 0)
	add(k SUBSEP "rss", f["rss_kb_per_conn"] + 0)
	if (f["errors"] != "0")
		errs[f["server"]] += (f["errors"] == "failed" ? 1 : f["errors"])
}

function is_peer(s) { return s !~ /^zk-/ }

# The best peer of a column: the highest (hi=1) or lowest median; a peer
# without a measurement (0) is no yardstick, nor is the epoll floor's
# memory: it keeps next to nothing per connection in user space by design
# (an echo nothing, an HTTP connection a table slot, 0.01 KiB), so a ratio
# to it says nothing about a runtime.
function best(c, m, hi,    i, s, x, bx) {
	bestname = ""
	for (i = 1; i <= ns; i++) {
		s = sv[i]
		if (!is_peer(s) || med[s, c, m] <= 0 || (m == "rss" && s == "epoll"))
			continue
		x = med[s, c, m]
		if (bestname == "" || (hi ? x > bx : x < bx)) {
			bx = x
			bestname = s
		}
	}
	return bx
}

END {
	if (unit == "")
		unit = "rt/s"
	ns = split(servers, sv, " ")
	nc = split(conns, cv, " ")
	big = cv[nc]
	for (i = 1; i <= ns; i++)
		for (j = 1; j <= nc; j++)
			for (m = 1; m <= 3; m++) {
				metric = m == 1 ? "rt" : m == 2 ? "p99" : "rss"
				med[sv[i], cv[j], metric] = median(sv[i] SUBSEP cv[j] SUBSEP metric)
			}
	printf "\n%-14s", "server"
	for (j = 1; j <= nc; j++)
		printf " %12s %12s", unit "@" cv[j], "p99us@" cv[j]
	printf " %14s %7s\n", "KiB/conn@" big, "errors"
	for (i = 1; i <= ns; i++) {
		s = sv[i]
		printf "%-14s", s
		for (j = 1; j <= nc; j++)
			printf " %12.0f %12.1f", med[s, cv[j], "rt"], med[s, cv[j], "p99"]
		printf " %14.2f %7d\n", med[s, big, "rss"], errs[s]
	}
	printf "\nratios to the best peer of each column (%s: higher is better; p99, memory: lower)\n", unit
	for (i = 1; i <= ns; i++) {
		s = sv[i]
		if (is_peer(s))
			continue
		printf "%-14s", s
		for (j = 1; j <= nc; j++) {
			b = best(cv[j], "rt", 1)
			printf " %s@%s %.2fx (%s)", unit, cv[j], b ? med[s, cv[j], "rt"] / b : 0, bestname
			b = best(cv[j], "p99", 0)
			printf "  p99@%s %.2fx (%s)", cv[j], b ? med[s, cv[j], "p99"] / b : 0, bestname
		}
		b = best(big, "rss", 0)
		printf "  mem %.2fx (%s)\n", b ? med[s, big, "rss"] / b : 0, bestname
	}
}
