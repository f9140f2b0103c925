// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-trace: which zsync ops are slow, which never finish, and how
 * requests run, from the module's tracepoints through BPF (libbpf).
 *
 *   hist   per-op latency histograms, submission to terminal CQE (default)
 *   slow   every request in flight longer than -t MS, once, as it passes
 *   top    per interval: ops/s, in flight, overflows, paths, per op
 *
 * The BPF side (zsync-trace.bpf.c, embedded as a libbpf skeleton) keeps
 * the requests in flight and the per-op counters; this side reads its maps.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "zsync-k.h"
#include "../common/json.h"
#include "zsync-trace.h"
#include "zsync-trace.skel.h"

enum mode { MODE_HIST, MODE_SLOW, MODE_TOP };

static const char *const path_names[4] = { "inline", "poll", "worker", "task" };

struct options {
	enum mode mode;
	unsigned long pid, duration_s, interval_s, slow_ms;
	bool json;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [hist|slow|top] [-p PID] [-d SECS] [-i SECS] [-t MS] [--json]\n"
		"Traces zsync.ko's requests through its tracepoints (root; BPF).\n"
		"  hist   per-op latency histograms, submission to terminal CQE, log2\n"
		"         microseconds, with counts and paths; printed at the end (and\n"
		"         every -i SECS, cumulative)\n"
		"  slow   each request in flight longer than -t MS (default 1000), once:\n"
		"         op, user_data, fd, pid, ring, age\n"
		"  top    every -i SECS (default 1): per op, ops/s completed, in flight,\n"
		"         overflowed CQEs, and how requests ran (inline, poll, worker, task)\n"
		"  -p PID       only requests submitted by process PID\n"
		"  -d SECS      stop after SECS seconds (default: at SIGINT/SIGTERM)\n"
		"  -i SECS      interval (hist, top)\n"
		"  -t MS        slow threshold\n"
		"  --json       JSON Lines: one object per op (hist, top) or request (slow)\n"
		"  --help\n"
		"Once attached it says so on stderr.  Exit status: 0, 1 on errors\n"
		"(no zsync tracepoints: is zsync.ko loaded?), 2 usage.\n", prog);
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && *s && !*end ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->slow_ms = 1000;
	while ((c = getopt_long(argc, argv, "p:d:i:t:h", longopts, NULL)) != -1) {
		unsigned long *dst = c == 'p' ? &o->pid : c == 'd' ? &o->duration_s :
				     c == 'i' ? &o->interval_s : c == 't' ? &o->slow_ms : NULL;

		if (c == 'j') {
			o->json = true;
		} else if (c == 'h') {
			usage(stdout, argv[0]);
			exit(0);
		} else if (!dst || parse_ulong(optarg, dst) || (dst == &o->pid && *dst > INT_MAX)) {
			fprintf(stderr, "%s: bad option or value (see --help)\n", argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		if (!strcmp(argv[optind], "hist"))
			o->mode = MODE_HIST;
		else if (!strcmp(argv[optind], "slow"))
			o->mode = MODE_SLOW;
		else if (!strcmp(argv[optind], "top"))
			o->mode = MODE_TOP;
		else {
			fprintf(stderr, "%s: unknown mode '%s' (see --help)\n", argv[0], argv[optind]);
			return -1;
		}
		if (optind + 1 < argc) {
			fprintf(stderr, "%s: one mode only (see --help)\n", argv[0]);
			return -1;
		}
	}
	if (o->mode == MODE_TOP && !o->interval_s)
		o->interval_s = 1;
	return 0;
}

static const char *op_name(unsigned int op)
{
	const char *n = zk_op_name(op);

	return n ? n : "?";
}

static int read_stats(struct zsync_trace_bpf *skel, struct zt_opstat *st)
{
	int fd = bpf_map__fd(skel->maps.opstats);

	for (__u32 op = 0; op < ZT_MAX_OPS; op++)
		if (bpf_map_lookup_elem(fd, &op, &st[op]))
			return -errno;
	return 0;
}

static void print_paths_json(const __u64 *path)
{
	printf("\"paths\":{");
	for (int i = 0; i < 4; i++)
		printf("%s\"%s\":%llu", i ? "," : "", path_names[i], (unsigned long long)path[i]);
	printf("}");
}

static void print_hist_text(const struct zt_opstat *s)
{
	int first = -1, last = -1;
	__u64 max = 0;

	for (int i = 0; i < ZT_SLOTS; i++) {
		if (s->slots[i] > max)
			max = s->slots[i];
		if (s->slots[i] && first < 0)
			first = i;
		if (s->slots[i])
			last = i;
	}
	if (first < 0)
		return;
	printf("     usecs               : count     distribution\n");
	for (int i = first; i <= last; i++) {
		unsigned long long lo = i ? 1ULL << i : 0, hi = (1ULL << (i + 1)) - 1;
		int stars = max ? (int)(s->slots[i] * 40 / max) : 0;

		printf(" %10llu -> %-10llu : %-9llu |%-40.*s|\n", lo, hi,
		       (unsigned long long)s->slots[i], stars,
		       "****************************************");
	}
}

static void print_hist(const struct zt_opstat *st, bool json)
{
	for (unsigned int op = 0; op < ZT_MAX_OPS; op++) {
		const struct zt_opstat *s = &st[op];
		double avg = s->completed ? (double)s->lat_sum_ns / s->completed / 1000 : 0;

		if (!s->submitted && !s->completed)
			continue;
		if (json) {
			printf("{\"op\":");
			json_string(stdout, op_name(op));
			printf(",\"opcode\":%u,\"submitted\":%llu,\"completed\":%llu,\"more\":%llu,"
			       "\"errors\":%llu,\"overflowed\":%llu,\"avg_us\":%.1f,", op,
			       (unsigned long long)s->submitted, (unsigned long long)s->completed,
			       (unsigned long long)s->more, (unsigned long long)s->errors,
			       (unsigned long long)s->overflowed, avg);
			print_paths_json(s->path);
			printf(",\"hist_us\":[");
			for (int i = 0, first = 1; i < ZT_SLOTS; i++) {
				if (!s->slots[i])
					continue;
				printf("%s{\"lo\":%llu,\"hi\":%llu,\"count\":%llu}", first ? "" : ",",
				       i ? 1ULL << i : 0ULL, (1ULL << (i + 1)) - 1,
				       (unsigned long long)s->slots[i]);
				first = 0;
			}
			printf("]}\n");
			continue;
		}
		printf("\n%s (opcode %u): %llu submitted, %llu completed, %llu errors, "
		       "%llu overflowed, avg %.1f us\n", op_name(op), op,
		       (unsigned long long)s->submitted, (unsigned long long)s->completed,
		       (unsigned long long)s->errors, (unsigned long long)s->overflowed, avg);
		printf("  paths: inline %llu, poll %llu, worker %llu, task %llu\n",
		       (unsigned long long)s->path[0], (unsigned long long)s->path[1],
		       (unsigned long long)s->path[2], (unsigned long long)s->path[3]);
		print_hist_text(s);
	}
	fflush(stdout);
}

static void print_top(const struct zt_opstat *st, const struct zt_opstat *prev,
		      double secs, double t, bool json)
{
	if (!json)
		printf("\n%-18s %10s %10s %10s %8s %8s %8s %8s\n", "op", "ops/s", "in flight",
		       "overflow", "inline", "poll", "worker", "task");
	for (unsigned int op = 0; op < ZT_MAX_OPS; op++) {
		const struct zt_opstat *s = &st[op], *p = &prev[op];
		double rate = secs > 0 ? (double)(s->completed - p->completed) / secs : 0;
		long long inflight = (long long)(s->submitted - s->completed);

		if (!s->submitted && !s->completed)
			continue;
		if (json) {
			printf("{\"t\":%.3f,\"op\":", t);
			json_string(stdout, op_name(op));
			printf(",\"opcode\":%u,\"ops_per_s\":%.1f,\"in_flight\":%lld,"
			       "\"overflowed\":%llu,", op, rate, inflight,
			       (unsigned long long)s->overflowed);
			print_paths_json(s->path);
			printf("}\n");
		} else {
			printf("%-18s %10.1f %10lld %10llu %8llu %8llu %8llu %8llu\n", op_name(op),
			       rate, inflight, (unsigned long long)s->overflowed,
			       (unsigned long long)s->path[0], (unsigned long long)s->path[1],
			       (unsigned long long)s->path[2], (unsigned long long)s->path[3]);
		}
	}
	fflush(stdout);
}

/*
 * Whether slow mode already reported this request, and if not, mark it:
 * the "reported" map holds its submission time (a req pointer reused by a
 * later request has another), and loses the entry with the request's
 * terminal CQE.  Should the request have completed meanwhile, the mark
 * goes again rather than stay behind.
 */
static bool slow_reported(struct zsync_trace_bpf *skel, __u64 req, __u64 ts)
{
	int rfd = bpf_map__fd(skel->maps.reported), ifd = bpf_map__fd(skel->maps.inflight);
	struct zt_start again;
	__u64 when;

	if (!bpf_map_lookup_elem(rfd, &req, &when) && when == ts)
		return true;
	bpf_map_update_elem(rfd, &req, &ts, BPF_ANY);
	if (bpf_map_lookup_elem(ifd, &req, &again) || again.ts != ts)
		bpf_map_delete_elem(rfd, &req);
	return false;
}

static void scan_slow(struct zsync_trace_bpf *skel, const struct options *o)
{
	int fd = bpf_map__fd(skel->maps.inflight);
	struct timespec now;
	__u64 key, next, now_ns;
	struct zt_start st;
	void *prev = NULL;

	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st) || now_ns < st.ts ||
		    now_ns - st.ts < o->slow_ms * 1000000ULL || slow_reported(skel, key, st.ts))
			continue;
		if (o->json) {
			printf("{\"op\":");
			json_string(stdout, op_name(st.opcode));
			printf(",\"opcode\":%u,\"user_data\":%llu,\"fd\":%d,\"pid\":%u,"
			       "\"ring\":\"0x%llx\",\"age_ms\":%llu}\n", st.opcode,
			       (unsigned long long)st.user_data, st.fd, st.pid,
			       (unsigned long long)st.ring,
			       (unsigned long long)((now_ns - st.ts) / 1000000));
		} else {
			printf("slow: %s (opcode %u) user_data 0x%llx fd %d pid %u ring 0x%llx: "
			       "in flight %llu ms\n", op_name(st.opcode), st.opcode,
			       (unsigned long long)st.user_data, st.fd, st.pid,
			       (unsigned long long)st.ring,
			       (unsigned long long)((now_ns - st.ts) / 1000000));
		}
		fflush(stdout);
	}
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(struct zsync_trace_bpf *skel, const struct options *o)
{
	static struct zt_opstat st[ZT_MAX_OPS], prev[ZT_MAX_OPS];
	double start = mono_s(), last = start;
	const struct timespec tick = { 0, 50 * 1000000L };

	while (!stop && (!o->duration_s || mono_s() - start < (double)o->duration_s)) {
		nanosleep(&tick, NULL);
		if (o->mode == MODE_SLOW)
			scan_slow(skel, o);
		if (o->interval_s && mono_s() - last >= (double)o->interval_s) {
			double now = mono_s();

			if (read_stats(skel, st))
				break;
			if (o->mode == MODE_TOP)
				print_top(st, prev, now - last, now - start, o->json);
			else if (o->mode == MODE_HIST)
				print_hist(st, o->json);
			memcpy(prev, st, sizeof(st));
			last = now;
		}
	}
	if (o->mode == MODE_HIST) {
		int ret = read_stats(skel, st);

		if (ret)
			return ret;
		print_hist(st, o->json);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct zsync_trace_bpf *skel;
	struct options o;
	int ret;

	if (parse_args(argc, argv, &o))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	skel = zsync_trace_bpf__open();
	if (!skel) {
		fprintf(stderr, "zsync-trace: opening the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_pid = (__u32)o.pid;
	ret = zsync_trace_bpf__load(skel);
	if (!ret)
		ret = zsync_trace_bpf__attach(skel);
	if (ret) {
		fprintf(stderr, "zsync-trace: loading or attaching: %s (root? zsync.ko loaded?)\n",
			strerror(-ret));
		zsync_trace_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "zsync-trace: attached%s; %s ends\n",
		o.pid ? " (one process)" : "", o.duration_s ? "-d or a signal" : "SIGINT");
	ret = run(skel, &o);
	zsync_trace_bpf__destroy(skel);
	if (ret) {
		fprintf(stderr, "zsync-trace: reading the maps: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
