// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-nop: cost of the ring machinery itself, measured with NOPs.
 *
 * For zsync (libzsync-k on /dev/zsync) and io_uring (liburing, the
 * reference design): NOP throughput at batch sizes 1, 8 and 32 (one ENTER
 * per batch, then the CQEs reaped from shared memory), and the round trip
 * of one NOP submitted and waited for in the same ENTER.  A getppid() loop
 * gives the bare syscall cost on the same machine for scale.
 *
 * Every cell is the median [min..max] of interleaved rounds (bench.h),
 * and batch 32 and the round trip also get a count of the slab
 * allocations their submitting thread makes per op.
 */
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zsync-k.h"
#include "bench.h"

#define RING_ENTRIES		64
/* 5 rounds of 8 cells stay well under a minute in the TCG test VM. */
#define DEFAULT_ITERATIONS	200000
#define DEFAULT_ALLOC_OPS	100000

/*
 * A test: batch > 0 is throughput at that batch, 0 the round trip; empty
 * is an ENTER with nothing to submit or wait for, the fixed cost of one
 * entry into each engine.
 */
static const struct bench_test {
	const char *name;
	unsigned int batch;
	bool empty;
} tests[] = {
	{ "nop batch=1", 1, false },
	{ "nop batch=8", 8, false },
	{ "nop batch=32", 32, false },
	{ "submit+wait rtt", 0, false },
	{ "empty enter", 0, true },
};
#define NR_TESTS	(sizeof(tests) / sizeof(tests[0]))

struct result {
	bool ok;
	char why[REASON_LEN];		/* when !ok */
};

struct backend {
	const char *name;
	int (*init)(char *why);
	void (*exit)(void);
	/* Run @iters NOPs in batches of @batch; 0 or -errno with @why set. */
	int (*batch)(unsigned int batch, unsigned long iters, char *why);
	int (*rtt)(unsigned long iters, char *why);
	int (*empty)(unsigned long iters, char *why);
	bool up;
	char why[REASON_LEN];		/* why init failed */
	struct result res[NR_TESTS];
};

/* ---- zsync ----------------------------------------------------------- */

static struct zk_ring zring;

static int zs_init(char *why)
{
	return bench_zsync_init(&zring, RING_ENTRIES, why);
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

static int zs_empty(unsigned long iters, char *why)
{
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		ret = zk_enter(&zring, 0, 0, 0, NULL, NULL, NULL);
		if (ret)
			return fail(why, ret < 0 ? ret : -EPROTO, "empty ENTER returned %d", ret);
	}
	return 0;
}

/* ---- io_uring ------------------------------------------------------- */

static struct io_uring uring;

static int iu_init(char *why)
{
	return bench_uring_init(&uring, RING_ENTRIES, why);
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

static int iu_empty(unsigned long iters, char *why)
{
	unsigned long i;
	int ret;

	for (i = 0; i < iters; i++) {
		ret = io_uring_enter(uring.ring_fd, 0, 0, 0, NULL);
		if (ret)
			return fail(why, ret < 0 ? ret : -EPROTO, "empty io_uring_enter returned %d",
				    ret);
	}
	return 0;
}

/* ---- driver ----------------------------------------------------------- */

static struct backend backends[] = {
	{ .name = "zsync", .init = zs_init, .exit = zs_exit,
	  .batch = zs_batch, .rtt = zs_rtt, .empty = zs_empty },
	{ .name = "io_uring", .init = iu_init, .exit = iu_exit,
	  .batch = iu_batch, .rtt = iu_rtt, .empty = iu_empty },
};
#define NR_BACKENDS	(sizeof(backends) / sizeof(backends[0]))

/* The rows whose allocations are counted: batch 32 and the round trip. */
static const size_t alloc_tests[] = { 2, 3 };
#define NR_ALLOC_TESTS	(sizeof(alloc_tests) / sizeof(alloc_tests[0]))

static struct bench_allocs allocs[NR_BACKENDS][NR_ALLOC_TESTS], alloc_control;

struct options {
	unsigned long iterations;
	unsigned long alloc_ops;
	unsigned int rounds;
	bool json;
};

/* A test's operation count rounded to whole batches (at least one). */
static unsigned long batched(const struct bench_test *t, unsigned long n)
{
	unsigned int batch = t->batch ? t->batch : 1;

	n = n / batch * batch;
	return n ? n : batch;
}

static int run_ops(struct backend *b, const struct bench_test *t, unsigned long iters,
		   char *why)
{
	if (t->empty)
		return b->empty(iters, why);
	return t->batch ? b->batch(t->batch, iters, why) : b->rtt(iters, why);
}

/* One measurement of @iters ops: 0 and the ns per op in @ns, or -errno with @why. */
static int run_once(struct backend *b, const struct bench_test *t,
		    unsigned long iters, double *ns, char *why)
{
	double start = bench_now_ns();
	int ret;

	ret = run_ops(b, t, iters, why);
	*ns = (bench_now_ns() - start) / iters;
	return ret;
}

struct alloc_arg {
	struct backend *b;
	const struct bench_test *t;
};

static int alloc_ops(void *arg, unsigned long ops, char *why)
{
	struct alloc_arg *a = arg;

	return run_ops(a->b, a->t, batched(a->t, ops), why);
}

/* Per cell: one ns/op per round. */
static double samples[NR_BACKENDS][NR_TESTS][BENCH_MAX_ROUNDS];
static double getppid_samples[BENCH_MAX_ROUNDS], ioctl_samples[BENCH_MAX_ROUNDS];
static struct bench_stat stats[NR_BACKENDS][NR_TESTS], getppid_stat, ioctl_stat;

static double measure_getppid(unsigned long iters)
{
	double start = bench_now_ns();
	unsigned long i;

	/* syscall(): glibc must not get a chance to cache anything. */
	for (i = 0; i < iters; i++)
		syscall(SYS_getppid);
	return (bench_now_ns() - start) / iters;
}

/*
 * An ioctl the ring fd does not know (-ENOTTY): the entry every zsync
 * ENTER pays before the module runs (fd lookup, the LSMs' file_ioctl
 * hooks, do_vfs_ioctl), which io_uring_enter(2) does not.  0 if the ring
 * is not up.
 */
static double measure_ioctl_floor(unsigned long iters)
{
	double start = bench_now_ns();
	unsigned long i;

	if (!backends[0].up)
		return 0;
	for (i = 0; i < iters; i++)
		ioctl(zring.fd, _IO(ZSYNC_IOC_MAGIC, 0xff));
	return (bench_now_ns() - start) / iters;
}

/*
 * Warm every cell up, then @o->rounds rounds; each round measures every
 * test on every backend, the backends alternating (which one goes first
 * swaps every round), so a drift of the host slows both alike.  Each cell
 * reports the median of its rounds, with min and max.
 */
static int run_all(const struct options *o)
{
	unsigned int round, k;
	int failed = 0;
	size_t bi, ti;
	double ns;

	for (bi = 0; bi < NR_BACKENDS; bi++) {
		struct backend *b = &backends[bi];

		b->up = b->init(b->why) == 0;
		for (ti = 0; ti < NR_TESTS && b->up; ti++) {
			const struct bench_test *t = &tests[ti];

			b->res[ti].ok = !run_once(b, t, batched(t, o->iterations / 10), &ns,
						  b->res[ti].why);
			failed |= !b->res[ti].ok;
		}
	}
	measure_getppid(o->iterations / 10);
	measure_ioctl_floor(o->iterations / 10);
	for (round = 0; round < o->rounds; round++) {
		for (ti = 0; ti < NR_TESTS; ti++) {
			for (k = 0; k < NR_BACKENDS; k++) {
				struct backend *b = &backends[(k + round) % NR_BACKENDS];
				struct result *r = &b->res[ti];

				if (!b->up || !r->ok)
					continue;
				r->ok = !run_once(b, &tests[ti], batched(&tests[ti], o->iterations),
						  &samples[b - backends][ti][round], r->why);
				failed |= !r->ok;
			}
		}
		getppid_samples[round] = measure_getppid(o->iterations);
		ioctl_samples[round] = measure_ioctl_floor(o->iterations);
	}
	for (bi = 0; bi < NR_BACKENDS; bi++)
		for (ti = 0; ti < NR_TESTS; ti++)
			if (backends[bi].up && backends[bi].res[ti].ok)
				stats[bi][ti] = bench_stat_of(samples[bi][ti], o->rounds);
	getppid_stat = bench_stat_of(getppid_samples, o->rounds);
	ioctl_stat = bench_stat_of(ioctl_samples, o->rounds);

	/* Allocations: a separate run of each counted row, in a thread of its own. */
	bench_allocs_control(&alloc_control);
	for (k = 0; k < NR_ALLOC_TESTS && alloc_control.ok; k++) {
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			struct backend *b = &backends[bi];
			struct alloc_arg a = { b, &tests[alloc_tests[k]] };

			if (!b->up || !b->res[alloc_tests[k]].ok) {
				snprintf(allocs[bi][k].why, REASON_LEN, "the backend did not run");
				continue;
			}
			if (bench_count_allocs(alloc_ops, &a, o->alloc_ops / 10, o->alloc_ops,
					       &allocs[bi][k]))
				failed = 1;
		}
	}
	for (bi = 0; bi < NR_BACKENDS; bi++)
		if (backends[bi].up)
			backends[bi].exit();
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

static const struct bench_stat none;

static const struct bench_stat *cell_stat(const struct backend *b, size_t ti)
{
	return cell_ok(b, ti) ? &stats[b - backends][ti] : &none;
}

static void print_table(const struct options *o)
{
	const struct backend *zs = &backends[0], *iu = &backends[1];
	size_t ti, bi, k;

	printf("zsync-bench-nop: %lu NOPs per measurement; median [min..max] of %u "
	       "interleaved rounds\n\n", o->iterations, o->rounds);
	printf("%-16s %26s %9s %26s %9s %7s\n", "test", "zsync ns/op", "ops/s",
	       "io_uring ns/op", "ops/s", "zs/iou");
	for (ti = 0; ti < NR_TESTS; ti++) {
		printf("%-16s", tests[ti].name);
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			const struct bench_stat *st = cell_stat(&backends[bi], ti);

			bench_print_stat(26, 1, st);
			if (st->n)
				printf(" %9.0f", 1e9 / st->med);
			else
				printf(" %9s", "n/a");
		}
		if (cell_ok(zs, ti) && cell_ok(iu, ti))
			printf(" %7.2f\n", cell_stat(zs, ti)->med / cell_stat(iu, ti)->med);
		else
			printf(" %7s\n", "n/a");
	}
	printf("\nreference: getppid() syscall loop, ns/call:");
	bench_print_stat(0, 1, &getppid_stat);
	printf("\nreference: ioctl(ring fd, unknown cmd) = -ENOTTY, ns/call:");
	bench_print_stat(0, 1, &ioctl_stat);
	printf("\nrtt rows are ns per round trip; ops/s and zs/iou (zsync/io_uring, a time\n"
	       "ratio, < 1: zsync faster) are from the medians\n");

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

	printf("\nslab allocations (kmem_cache_alloc + kmalloc) by the submitting thread, "
	       "%lu ops after a warm-up:\n", o->alloc_ops);
	bench_print_allocs("control: open+close", &alloc_control);
	for (k = 0; k < NR_ALLOC_TESTS && alloc_control.ok; k++) {
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			char label[64];

			snprintf(label, sizeof(label), "%s %s", backends[bi].name,
				 tests[alloc_tests[k]].name);
			bench_print_allocs(label, &allocs[bi][k]);
		}
	}
}

static void json_cell(const struct backend *b, size_t ti)
{
	if (cell_ok(b, ti)) {
		printf("{\"ns_per_op\": ");
		bench_json_stat(1, cell_stat(b, ti));
		printf(", \"ops_per_s\": %.0f}", 1e9 / cell_stat(b, ti)->med);
	} else {
		printf("{\"error\": ");
		json_string(stdout, cell_reason(b, ti));
		printf("}");
	}
}

static void print_json(const struct options *o)
{
	const struct backend *zs = &backends[0], *iu = &backends[1];
	size_t ti, bi, k;

	printf("{\n  \"iterations\": %lu,\n  \"rounds\": %u,\n  \"rows\": [\n",
	       o->iterations, o->rounds);
	for (ti = 0; ti < NR_TESTS; ti++) {
		printf("    {\"test\": ");
		json_string(stdout, tests[ti].name);
		printf(", \"batch\": %u", tests[ti].batch);
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			printf(", ");
			json_string(stdout, backends[bi].name);
			printf(": ");
			json_cell(&backends[bi], ti);
		}
		if (cell_ok(zs, ti) && cell_ok(iu, ti))
			printf(", \"ratio\": %.3f}",
			       cell_stat(zs, ti)->med / cell_stat(iu, ti)->med);
		else
			printf(", \"ratio\": null}");
		printf("%s\n", ti + 1 < NR_TESTS ? "," : "");
	}
	printf("  ],\n  \"getppid_ns\": ");
	bench_json_stat(1, &getppid_stat);
	printf(",\n  \"ioctl_enotty_ns\": ");
	bench_json_stat(1, &ioctl_stat);
	printf(",\n  \"alloc_control\": ");
	bench_json_allocs(&alloc_control);
	printf(",\n  \"allocs\": [\n");
	for (k = 0; k < NR_ALLOC_TESTS; k++) {
		printf("    {\"test\": ");
		json_string(stdout, tests[alloc_tests[k]].name);
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			printf(", ");
			json_string(stdout, backends[bi].name);
			printf(": ");
			bench_json_allocs(alloc_control.ok ? &allocs[bi][k] : &alloc_control);
		}
		printf("}%s\n", k + 1 < NR_ALLOC_TESTS ? "," : "");
	}
	printf("  ]\n}\n");
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--iterations N] [--rounds R] [--alloc-ops N] [--json] [--help]\n"
		"\n"
		"NOP throughput (batch 1, 8, 32: one ENTER per batch, CQEs reaped from\n"
		"the ring) and submit+wait round trip (one NOP submitted and waited for\n"
		"in a single ENTER) for zsync ($ZSYNC_DEV or /dev/zsync) and io_uring,\n"
		"with a getppid() loop as the bare syscall cost.  After a warm-up, each\n"
		"round measures every cell, zsync and io_uring alternating; a cell prints\n"
		"the median [min..max] of the rounds.  Then, for batch 32 and the round\n"
		"trip, a separate run counts the slab allocations of the submitting\n"
		"thread (tracefs hist triggers on kmem/kmem_cache_alloc and kmem/kmalloc).\n"
		"Unavailable backends print n/a with the reason.\n"
		"\n"
		"  --iterations N  NOPs (or round trips) per measurement (default %d)\n"
		"  --rounds R      interleaved rounds, 1..%d (default %d; --repeat: the same)\n"
		"  --alloc-ops N   ops of each allocation count (default %d)\n"
		"  --json          print JSON instead of the table\n"
		"\n"
		"exit status: 0 all available backends measured, 1 a backend failed\n"
		"mid-run (error or a NOP with res != 0), 2 bad usage.\n",
		prog, DEFAULT_ITERATIONS, BENCH_MAX_ROUNDS, BENCH_DEFAULT_ROUNDS,
		DEFAULT_ALLOC_OPS);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "alloc-ops", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	o->iterations = DEFAULT_ITERATIONS;
	o->alloc_ops = DEFAULT_ALLOC_OPS;
	o->rounds = BENCH_DEFAULT_ROUNDS;
	o->json = false;
	while ((c = getopt_long(argc, argv, "n:r:a:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, 1UL << 40, &o->iterations))
				goto bad;
			break;
		case 'r':
			if (parse_ulong(optarg, BENCH_MAX_ROUNDS, &v))
				goto bad;
			o->rounds = (unsigned int)v;
			break;
		case 'a':
			if (parse_ulong(optarg, 1UL << 40, &o->alloc_ops))
				goto bad;
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
	int failed;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	failed = run_all(&o);
	if (o.json)
		print_json(&o);
	else
		print_table(&o);
	return failed ? EXIT_FAILED : EXIT_OK;
}
