// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-nop: cost of the ring machinery itself, measured with NOPs.
 *
 * For zsync (libzsync-k on /dev/zsync) and io_uring (liburing, the
 * reference design): NOP throughput at batch sizes 1, 8 and 32 (one ENTER
 * per batch, then the CQEs reaped from shared memory), and the round trip
 * of one NOP submitted and waited for in the same ENTER.  A getppid() loop
 * gives the bare syscall cost on the same machine for scale.
 */
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zsync-k.h"
#include "bench.h"

#define RING_ENTRIES		64
#define DEFAULT_ITERATIONS	500000
#define DEFAULT_REPEAT		3

enum bench_exit {
	EXIT_OK		= 0,	/* every measurement that could run ran */
	EXIT_FAILED	= 1,	/* a backend failed mid-run (wrong CQE, error) */
	EXIT_USAGE	= 2,
};

/* A test: batch > 0 is throughput at that batch, 0 the round trip. */
static const struct bench_test {
	const char *name;
	unsigned int batch;
} tests[] = {
	{ "nop batch=1", 1 },
	{ "nop batch=8", 8 },
	{ "nop batch=32", 32 },
	{ "submit+wait rtt", 0 },
};
#define NR_TESTS	(sizeof(tests) / sizeof(tests[0]))

struct result {
	bool ok;
	double ns;			/* per op, or per round trip */
	char why[REASON_LEN];		/* when !ok */
};

struct backend {
	const char *name;
	int (*init)(char *why);
	void (*exit)(void);
	/* Run @iters NOPs in batches of @batch; 0 or -errno with @why set. */
	int (*batch)(unsigned int batch, unsigned long iters, char *why);
	int (*rtt)(unsigned long iters, char *why);
	bool up;
	char why[REASON_LEN];		/* why init failed */
	struct result res[NR_TESTS];
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- zsync ----------------------------------------------------------- */

static struct zk_ring zring;

static int zs_init(char *why)
{
	const char *dev = getenv("ZSYNC_DEV");
	int ret = zk_ring_init(RING_ENTRIES, &zring, 0);

	if (ret < 0)
		return fail(why, ret, "cannot set up a ring on %s: %s",
			    dev && *dev ? dev : "/dev/zsync", strerror(-ret));
	return 0;
}

static void zs_exit(void)
{
	zk_ring_exit(&zring);
}

/* Take @want CQEs (entering the kernel only if they are not all there). */
static int zs_reap(unsigned int want, char *why)
{
	struct zsync_cqe *cqe;
	unsigned int head, got = 0;
	int ret;

	while (got < want) {
		unsigned int n = 0;

		zk_for_each_cqe(&zring, head, cqe) {
			if (cqe->res != 0)
				return fail(why, -EPROTO, "NOP completed with res %d",
					    cqe->res);
			if (++n == want - got)
				break;
		}
		zk_cq_advance(&zring, n);
		got += n;
		if (got < want) {
			ret = zk_wait_cqe_nr(&zring, &cqe, want - got);
			if (ret < 0)
				return fail(why, ret, "wait: %s", strerror(-ret));
		}
	}
	return 0;
}

static int zs_batch(unsigned int batch, unsigned long iters, char *why)
{
	unsigned long done;
	unsigned int i;
	int ret;

	for (done = 0; done < iters; done += batch) {
		for (i = 0; i < batch; i++) {
			struct zsync_sqe *sqe = zk_get_sqe(&zring);

			if (!sqe)
				return fail(why, -EBUSY, "SQ full");
			zk_prep_nop(sqe);
			zk_sqe_set_data64(sqe, done + i);
		}
		ret = zk_submit(&zring);
		if (ret != (int)batch)
			return fail(why, ret < 0 ? ret : -EPROTO,
				    "submit returned %d, expected %u", ret, batch);
		ret = zs_reap(batch, why);
		if (ret)
			return ret;
	}
	return 0;
}

static int zs_rtt(unsigned long iters, char *why)
{
	struct zsync_cqe *cqe;
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		zk_prep_nop(zk_get_sqe(&zring));
		ret = zk_submit_and_wait(&zring, 1);
		if (ret != 1)
			return fail(why, ret < 0 ? ret : -EPROTO,
				    "submit_and_wait returned %d", ret);
		ret = zk_peek_cqe(&zring, &cqe);
		if (ret)
			return fail(why, ret, "no CQE after the wait");
		if (cqe->res != 0)
			return fail(why, -EPROTO, "NOP completed with res %d",
				    cqe->res);
		zk_cqe_seen(&zring, cqe);
	}
	return 0;
}

/* ---- io_uring ------------------------------------------------------- */

static struct io_uring uring;

static int iu_init(char *why)
{
	int ret = io_uring_queue_init(RING_ENTRIES, &uring, 0);

	if (ret < 0)
		return fail(why, ret, "io_uring_queue_init: %s", strerror(-ret));
	return 0;
}

static void iu_exit(void)
{
	io_uring_queue_exit(&uring);
}

static int iu_reap(unsigned int want, char *why)
{
	struct io_uring_cqe *cqe;
	unsigned int head, got = 0;
	int ret;

	while (got < want) {
		unsigned int n = 0;

		io_uring_for_each_cqe(&uring, head, cqe) {
			if (cqe->res != 0)
				return fail(why, -EPROTO, "NOP completed with res %d",
					    cqe->res);
			if (++n == want - got)
				break;
		}
		io_uring_cq_advance(&uring, n);
		got += n;
		if (got < want) {
			ret = io_uring_wait_cqe_nr(&uring, &cqe, want - got);
			if (ret < 0)
				return fail(why, ret, "wait: %s", strerror(-ret));
		}
	}
	return 0;
}

static int iu_batch(unsigned int batch, unsigned long iters, char *why)
{
	unsigned long done;
	unsigned int i;
	int ret;

	for (done = 0; done < iters; done += batch) {
		for (i = 0; i < batch; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&uring);

			if (!sqe)
				return fail(why, -EBUSY, "SQ full");
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, done + i);
		}
		ret = io_uring_submit(&uring);
		if (ret != (int)batch)
			return fail(why, ret < 0 ? ret : -EPROTO,
				    "submit returned %d, expected %u", ret, batch);
		ret = iu_reap(batch, why);
		if (ret)
			return ret;
	}
	return 0;
}

static int iu_rtt(unsigned long iters, char *why)
{
	struct io_uring_cqe *cqe;
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		io_uring_prep_nop(io_uring_get_sqe(&uring));
		ret = io_uring_submit_and_wait(&uring, 1);
		if (ret != 1)
			return fail(why, ret < 0 ? ret : -EPROTO,
				    "submit_and_wait returned %d", ret);
		ret = io_uring_peek_cqe(&uring, &cqe);
		if (ret)
			return fail(why, ret, "no CQE after the wait");
		if (cqe->res != 0)
			return fail(why, -EPROTO, "NOP completed with res %d",
				    cqe->res);
		io_uring_cqe_seen(&uring, cqe);
	}
	return 0;
}

/* ---- driver ----------------------------------------------------------- */

static struct backend backends[] = {
	{ .name = "zsync", .init = zs_init, .exit = zs_exit,
	  .batch = zs_batch, .rtt = zs_rtt },
	{ .name = "io_uring", .init = iu_init, .exit = iu_exit,
	  .batch = iu_batch, .rtt = iu_rtt },
};
#define NR_BACKENDS	(sizeof(backends) / sizeof(backends[0]))

struct options {
	unsigned long iterations;
	unsigned int repeat;
	bool json;
};

static int run_once(struct backend *b, const struct bench_test *t,
		    unsigned long iters, double *ns, char *why)
{
	double start = now_ns();
	int ret;

	ret = t->batch ? b->batch(t->batch, iters, why) : b->rtt(iters, why);
	*ns = (now_ns() - start) / iters;
	return ret;
}

/* Warm up, then keep the best of @repeat runs: noise only adds time. */
static void measure(struct backend *b, const struct bench_test *t,
		    const struct options *o, struct result *r)
{
	unsigned int batch = t->batch ? t->batch : 1;
	unsigned long iters = o->iterations / batch * batch;
	unsigned long warm = (iters / 10) / batch * batch;
	unsigned int i;
	double ns;

	if (!iters)
		iters = batch;
	if (!warm)
		warm = batch;
	r->ok = false;
	if (run_once(b, t, warm, &ns, r->why))
		return;
	r->ns = 0;
	for (i = 0; i < o->repeat; i++) {
		if (run_once(b, t, iters, &ns, r->why))
			return;
		if (i == 0 || ns < r->ns)
			r->ns = ns;
	}
	r->ok = true;
}

static double measure_getppid(const struct options *o)
{
	double best = 0, start, ns;
	unsigned long i;
	unsigned int rep;

	for (i = 0; i < o->iterations / 10; i++)
		syscall(SYS_getppid);
	for (rep = 0; rep < o->repeat; rep++) {
		start = now_ns();
		/* syscall(): glibc must not get a chance to cache anything. */
		for (i = 0; i < o->iterations; i++)
			syscall(SYS_getppid);
		ns = (now_ns() - start) / o->iterations;
		if (rep == 0 || ns < best)
			best = ns;
	}
	return best;
}

static int run_all(const struct options *o)
{
	int failed = 0;
	size_t bi, ti;

	for (bi = 0; bi < NR_BACKENDS; bi++) {
		struct backend *b = &backends[bi];

		b->up = b->init(b->why) == 0;
		if (!b->up)
			continue;
		for (ti = 0; ti < NR_TESTS; ti++) {
			measure(b, &tests[ti], o, &b->res[ti]);
			if (!b->res[ti].ok)
				failed = 1;
		}
		b->exit();
	}
	return failed;
}

static const char *cell_reason(const struct backend *b, size_t ti)
{
	return b->up ? b->res[ti].why : b->why;
}

static bool cell_ok(const struct backend *b, size_t ti)
{
	return b->up && b->res[ti].ok;
}

static void print_table(const struct options *o, double getppid_ns)
{
	const struct backend *zs = &backends[0], *iu = &backends[1];
	size_t ti, bi;

	printf("zsync-bench-nop: %lu NOPs per measurement, best of %u\n\n",
	       o->iterations, o->repeat);
	printf("%-17s %14s %12s %14s %12s %15s\n", "test", "zsync ns/op",
	       "ops/s", "io_uring ns/op", "ops/s", "zsync/io_uring");
	for (ti = 0; ti < NR_TESTS; ti++) {
		printf("%-17s", tests[ti].name);
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			const struct backend *b = &backends[bi];

			if (cell_ok(b, ti))
				printf(" %14.1f %12.0f", b->res[ti].ns,
				       1e9 / b->res[ti].ns);
			else
				printf(" %14s %12s", "n/a", "n/a");
		}
		if (cell_ok(zs, ti) && cell_ok(iu, ti))
			printf(" %15.2f\n", zs->res[ti].ns / iu->res[ti].ns);
		else
			printf(" %15s\n", "n/a");
	}
	printf("\nreference: getppid() syscall loop: %.1f ns/call (%.0f calls/s)\n",
	       getppid_ns, 1e9 / getppid_ns);
	printf("rtt rows are ns per round trip; zsync/io_uring is a time ratio "
	       "(< 1: zsync faster)\n");

	for (bi = 0; bi < NR_BACKENDS; bi++) {
		const struct backend *b = &backends[bi];

		if (!b->up) {
			printf("%s: n/a: %s\n", b->name, b->why);
			continue;
		}
		for (ti = 0; ti < NR_TESTS; ti++)
			if (!b->res[ti].ok)
				printf("%s %s: n/a: %s\n", b->name,
				       tests[ti].name, cell_reason(b, ti));
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_cell(const struct backend *b, size_t ti)
{
	if (cell_ok(b, ti)) {
		printf("{\"ns_per_op\": %.1f, \"ops_per_s\": %.0f}",
		       b->res[ti].ns, 1e9 / b->res[ti].ns);
	} else {
		printf("{\"error\": ");
		json_string(cell_reason(b, ti));
		printf("}");
	}
}

static void print_json(const struct options *o, double getppid_ns)
{
	const struct backend *zs = &backends[0], *iu = &backends[1];
	size_t ti, bi;

	printf("{\n  \"iterations\": %lu,\n  \"repeat\": %u,\n  \"rows\": [\n",
	       o->iterations, o->repeat);
	for (ti = 0; ti < NR_TESTS; ti++) {
		printf("    {\"test\": ");
		json_string(tests[ti].name);
		printf(", \"batch\": %u", tests[ti].batch);
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			printf(", ");
			json_string(backends[bi].name);
			printf(": ");
			json_cell(&backends[bi], ti);
		}
		if (cell_ok(zs, ti) && cell_ok(iu, ti))
			printf(", \"ratio\": %.3f}", zs->res[ti].ns / iu->res[ti].ns);
		else
			printf(", \"ratio\": null}");
		printf("%s\n", ti + 1 < NR_TESTS ? "," : "");
	}
	printf("  ],\n  \"getppid_ns\": %.1f\n}\n", getppid_ns);
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--iterations N] [--repeat R] [--json] [--help]\n"
		"\n"
		"NOP throughput (batch 1, 8, 32: one ENTER per batch, CQEs reaped from\n"
		"the ring) and submit+wait round trip (one NOP submitted and waited for\n"
		"in a single ENTER) for zsync ($ZSYNC_DEV or /dev/zsync) and io_uring,\n"
		"with a getppid() loop as the bare syscall cost.  Unavailable backends\n"
		"print n/a with the reason.\n"
		"\n"
		"  --iterations N  NOPs (or round trips) per measurement (default %d)\n"
		"  --repeat R      measurements per cell, the fastest is kept (default %d)\n"
		"  --json          print JSON instead of the table\n"
		"\n"
		"exit status: 0 all available backends measured, 1 a backend failed\n"
		"mid-run (error or a NOP with res != 0), 2 bad usage.\n",
		prog, DEFAULT_ITERATIONS, DEFAULT_REPEAT);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out == 0 || *out > max)
		return -EINVAL;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	o->iterations = DEFAULT_ITERATIONS;
	o->repeat = DEFAULT_REPEAT;
	o->json = false;
	while ((c = getopt_long(argc, argv, "n:r:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, 1UL << 40, &o->iterations))
				goto bad;
			break;
		case 'r':
			if (parse_ulong(optarg, 100, &v))
				goto bad;
			o->repeat = (unsigned int)v;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(EXIT_OK);
		default:
			goto bad;
		}
	}
	if (optind == argc)
		return 0;
bad:
	usage(stderr, argv[0]);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct options o;
	double getppid_ns;
	int failed;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	failed = run_all(&o);
	getppid_ns = measure_getppid(&o);
	if (o.json)
		print_json(&o, getppid_ns);
	else
		print_table(&o, getppid_ns);
	return failed ? EXIT_FAILED : EXIT_OK;
}
