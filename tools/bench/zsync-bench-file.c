// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-file: 4 KiB random reads from a page-cached file.
 *
 * A file (64 MiB by default, on /tmp: tmpfs in the test VM, so every page
 * is in memory) is read 4 KiB at a time at random 4 KiB-aligned offsets,
 * the same sequence for every backend:
 *
 *  - zsync (libzsync-k READ), io_uring (liburing READ), each at queue
 *    depth 1 (one read submitted and waited for per ENTER) and 32 (32 in
 *    flight; each ENTER submits as many as completed and waits for one);
 *  - pread(2), one call per read, as the synchronous reference.
 *
 * Every completed read is checked: each 4 KiB block of the file starts
 * with its own index.  Every cell is the median [min..max] of interleaved
 * rounds (bench.h); each ring and depth also gets a count of the slab
 * allocations its submitting thread makes per read.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BLOCK			4096
#define MAX_DEPTH		32
#define RING_ENTRIES		64
#define DEFAULT_ITERATIONS	20000
#define DEFAULT_ALLOC_OPS	100000
#define DEFAULT_SIZE_MB		64
#define DEFAULT_PATH		"/tmp/zsync-bench-file.dat"
#define NR_OFFSETS		(1U << 16)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static const unsigned int depths[] = { 1, MAX_DEPTH };
#define NR_DEPTHS	(sizeof(depths) / sizeof(depths[0]))

struct result {
	bool ok;
	char why[REASON_LEN];
};

struct backend {
	const char *name;
	int (*init)(char *why);
	void (*exit)(void);
	/* @iters reads with @depth in flight; 0 or -errno with @why set. */
	int (*run)(unsigned int depth, unsigned long iters, char *why);
	bool sync_only;			/* only queue depth 1 means anything */
	bool up;
	char why[REASON_LEN];
	struct result res[NR_DEPTHS];
};

static int file_fd = -1;
static uint64_t offsets[NR_OFFSETS];	/* block indices */
static unsigned char bufs[MAX_DEPTH][BLOCK] __attribute__((aligned(BLOCK)));

/* The read into @slot of block @blk completed with @res: all of it, the right block? */
static int check_read(unsigned int slot, uint64_t blk, int res, char *why)
{
	uint64_t got;

	if (res != BLOCK)
		return fail(why, res < 0 ? res : -EIO, "read of block %llu returned %d",
			    (unsigned long long)blk, res);
	memcpy(&got, bufs[slot], sizeof(got));
	if (got != blk)
		return fail(why, -EIO, "read of block %llu returned block %llu",
			    (unsigned long long)blk, (unsigned long long)got);
	return 0;
}

/* ---- the file ---------------------------------------------------------- */

/* A file of @blocks blocks, each starting with its index, read once so it is cached. */
static int make_file(const char *path, uint64_t blocks)
{
	static unsigned char block[BLOCK];
	uint64_t i, x = 0x9e3779b97f4a7c15ULL;

	file_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (file_fd < 0)
		return -errno;
	unlink(path);
	for (i = 0; i < blocks; i++) {
		memcpy(block, &i, sizeof(i));
		if (pwrite(file_fd, block, BLOCK, (off_t)(i * BLOCK)) != BLOCK)
			return -errno;
	}
	for (i = 0; i < blocks; i++)
		if (pread(file_fd, block, BLOCK, (off_t)(i * BLOCK)) != BLOCK)
			return -errno;
	/* xorshift64: the same offsets for every backend and every run. */
	for (i = 0; i < NR_OFFSETS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		offsets[i] = x % blocks;
	}
	return 0;
}

static uint64_t block_of(unsigned long n)
{
	return offsets[n % NR_OFFSETS];
}

/* ---- pread -------------------------------------------------------------- */

static int pr_init(char *why)
{
	(void)why;
	return 0;
}

static void pr_exit(void)
{
}

static int pr_run(unsigned int depth, unsigned long iters, char *why)
{
	unsigned long n;
	int ret;

	(void)depth;
	for (n = 0; n < iters; n++) {
		uint64_t blk = block_of(n);
		ssize_t r = pread(file_fd, bufs[0], BLOCK, (off_t)(blk * BLOCK));

		ret = check_read(0, blk, r < 0 ? -errno : (int)r, why);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- the two rings ------------------------------------------------------ */

/* What the queue-depth loop needs of a ring. */
struct ring_ops {
	/* Queue read number @n into buffer @slot (user_data carries both). */
	int (*queue)(unsigned int slot, unsigned long n, char *why);
	int (*submit_and_wait)(char *why);
	/* Takes the next completion: true with its user_data and res, false if none. */
	bool (*next)(uint64_t *ud, int *res);
};

static uint64_t read_data(unsigned int slot, unsigned long n)
{
	return (uint64_t)n << 8 | slot;
}

/*
 * Keep @depth reads in flight until @iters have completed: each ENTER
 * submits the reads that replace the completed ones and waits for one.
 */
static int ring_run(const struct ring_ops *r, unsigned int depth, unsigned long iters,
		    char *why)
{
	unsigned long queued = 0, done = 0;
	unsigned int i;
	uint64_t ud;
	int ret, res;

	for (i = 0; i < depth && queued < iters; i++) {
		ret = r->queue(i, queued++, why);
		if (ret)
			return ret;
	}
	while (done < iters) {
		ret = r->submit_and_wait(why);
		if (ret)
			return ret;
		while (r->next(&ud, &res)) {
			unsigned int slot = ud & 0xff;

			ret = check_read(slot, block_of(ud >> 8), res, why);
			if (ret)
				return ret;
			done++;
			if (queued < iters) {
				ret = r->queue(slot, queued++, why);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static struct zk_ring zring;

static int zs_queue(unsigned int slot, unsigned long n, char *why)
{
	struct zsync_sqe *sqe = zk_get_sqe(&zring);

	if (!sqe)
		return fail(why, -EBUSY, "SQ full");
	zk_prep_read(sqe, file_fd, bufs[slot], BLOCK, block_of(n) * BLOCK);
	zk_sqe_set_data64(sqe, read_data(slot, n));
	return 0;
}

static int zs_submit_and_wait(char *why)
{
	int ret = zk_submit_and_wait(&zring, 1);

	return ret < 0 ? fail(why, ret, "submit_and_wait: %s", strerror(-ret)) : 0;
}

static bool zs_next(uint64_t *ud, int *res)
{
	struct zsync_cqe *cqe;

	if (zk_peek_cqe(&zring, &cqe))
		return false;
	*ud = cqe->user_data;
	*res = cqe->res;
	zk_cqe_seen(&zring, cqe);
	return true;
}

static const struct ring_ops zs_ops = { zs_queue, zs_submit_and_wait, zs_next };

static int zs_init(char *why)
{
	return bench_zsync_init(&zring, RING_ENTRIES, why);
}

static void zs_exit(void)
{
	zk_ring_exit(&zring);
}

static int zs_run(unsigned int depth, unsigned long iters, char *why)
{
	return ring_run(&zs_ops, depth, iters, why);
}

static struct io_uring uring;

static int iu_queue(unsigned int slot, unsigned long n, char *why)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&uring);

	if (!sqe)
		return fail(why, -EBUSY, "SQ full");
	io_uring_prep_read(sqe, file_fd, bufs[slot], BLOCK, block_of(n) * BLOCK);
	io_uring_sqe_set_data64(sqe, read_data(slot, n));
	return 0;
}

static int iu_submit_and_wait(char *why)
{
	int ret = io_uring_submit_and_wait(&uring, 1);

	return ret < 0 ? fail(why, ret, "submit_and_wait: %s", strerror(-ret)) : 0;
}

static bool iu_next(uint64_t *ud, int *res)
{
	struct io_uring_cqe *cqe;

	if (io_uring_peek_cqe(&uring, &cqe))
		return false;
	*ud = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(&uring, cqe);
	return true;
}

static const struct ring_ops iu_ops = { iu_queue, iu_submit_and_wait, iu_next };

static int iu_init(char *why)
{
	return bench_uring_init(&uring, RING_ENTRIES, why);
}

static void iu_exit(void)
{
	io_uring_queue_exit(&uring);
}

static int iu_run(unsigned int depth, unsigned long iters, char *why)
{
	return ring_run(&iu_ops, depth, iters, why);
}

/* ---- driver ----------------------------------------------------------- */

static struct backend backends[] = {
	{ .name = "zsync", .init = zs_init, .exit = zs_exit, .run = zs_run },
	{ .name = "io_uring", .init = iu_init, .exit = iu_exit, .run = iu_run },
	{ .name = "pread", .init = pr_init, .exit = pr_exit, .run = pr_run,
	  .sync_only = true },
};
#define NR_BACKENDS	(sizeof(backends) / sizeof(backends[0]))
#define ZS		(&backends[0])
#define IU		(&backends[1])
#define PR		(&backends[2])

struct options {
	unsigned long iterations;
	unsigned long alloc_ops;
	unsigned int rounds;
	unsigned long size_mb;
	const char *path;
	bool json;
};

/* Per cell: one ns/read per round. */
static double samples[NR_BACKENDS][NR_DEPTHS][BENCH_MAX_ROUNDS];
static struct bench_stat stats[NR_BACKENDS][NR_DEPTHS];
/* Allocations of the two rings at every depth (pread is left out). */
#define NR_ALLOC_BACKENDS	2
static struct bench_allocs allocs[NR_ALLOC_BACKENDS][NR_DEPTHS], alloc_control;

/* One measurement of @b at @depth into @ns; on failure the cell is n/a. */
static void measure_once(struct backend *b, size_t di, const struct options *o, double *ns)
{
	struct result *r = &b->res[di];
	double start;

	if (!r->ok)
		return;
	start = now_ns();
	if (b->run(depths[di], o->iterations, r->why)) {
		r->ok = false;
		return;
	}
	*ns = (now_ns() - start) / o->iterations;
}

static bool measures(const struct backend *b, size_t di)
{
	return b->up && !(b->sync_only && depths[di] != 1);
}

struct alloc_arg {
	struct backend *b;
	unsigned int depth;
};

static int alloc_ops(void *arg, unsigned long ops, char *why)
{
	struct alloc_arg *a = arg;

	return a->b->run(a->depth, ops, why);
}

/*
 * Warm every cell up, then round after round, each backend in turn at
 * each depth (the first backend of a round rotates): a busy host slows
 * whichever runs at that moment, so the backends are interleaved and each
 * cell reports the median of its rounds, with min and max.
 */
static int run_all(const struct options *o)
{
	unsigned int round, k;
	int failed = 0;
	size_t bi, di;

	for (bi = 0; bi < NR_BACKENDS; bi++) {
		struct backend *b = &backends[bi];

		b->up = b->init(b->why) == 0;
		for (di = 0; di < NR_DEPTHS && b->up; di++) {
			b->res[di].ok = measures(b, di);
			/* Warm-up. */
			if (b->res[di].ok && b->run(depths[di], o->iterations / 10 + 1,
						    b->res[di].why))
				b->res[di].ok = false;
		}
	}
	for (round = 0; round < o->rounds; round++)
		for (di = 0; di < NR_DEPTHS; di++)
			for (k = 0; k < NR_BACKENDS; k++) {
				bi = (k + round) % NR_BACKENDS;
				if (measures(&backends[bi], di))
					measure_once(&backends[bi], di, o, &samples[bi][di][round]);
			}
	for (bi = 0; bi < NR_BACKENDS; bi++)
		for (di = 0; di < NR_DEPTHS; di++)
			if (measures(&backends[bi], di) && backends[bi].res[di].ok)
				stats[bi][di] = bench_stat_of(samples[bi][di], o->rounds);

	/* Allocations: a separate run of each ring cell, in a thread of its own. */
	bench_allocs_control(&alloc_control);
	for (di = 0; di < NR_DEPTHS && alloc_control.ok; di++)
		for (bi = 0; bi < NR_ALLOC_BACKENDS; bi++) {
			struct backend *b = &backends[bi];
			struct alloc_arg a = { b, depths[di] };

			if (!measures(b, di) || !b->res[di].ok) {
				snprintf(allocs[bi][di].why, REASON_LEN, "the backend did not run");
				continue;
			}
			if (bench_count_allocs(alloc_ops, &a, o->alloc_ops / 10, o->alloc_ops,
					       &allocs[bi][di]))
				failed = 1;
		}

	for (bi = 0; bi < NR_BACKENDS; bi++) {
		struct backend *b = &backends[bi];

		if (!b->up)
			continue;
		for (di = 0; di < NR_DEPTHS; di++)
			failed |= measures(b, di) && !b->res[di].ok;
		b->exit();
	}
	return failed;
}

static bool cell_ok(const struct backend *b, size_t di)
{
	return b->up && b->res[di].ok;
}

static const struct bench_stat none;

static const struct bench_stat *cell_stat(const struct backend *b, size_t di)
{
	return cell_ok(b, di) ? &stats[b - backends][di] : &none;
}

/* pread has no queue: its one measurement is the reference for every depth. */
static const struct bench_stat *pread_stat(void)
{
	return cell_stat(PR, 0);
}

static void print_cell(const struct bench_stat *st)
{
	bench_print_stat(26, 1, st);
	if (st->n)
		printf(" %8.0f", 1e9 / st->med);
	else
		printf(" %8s", "n/a");
}

static void print_ratio(const struct bench_stat *a, const struct bench_stat *b)
{
	if (a->n && b->n)
		printf(" %8.2f", a->med / b->med);
	else
		printf(" %8s", "n/a");
}

static void print_table(const struct options *o)
{
	size_t di, bi;

	printf("zsync-bench-file: 4 KiB random reads of a cached %lu MiB file (%s), "
	       "%lu reads per measurement; median [min..max] of %u interleaved rounds\n\n",
	       o->size_mb, o->path, o->iterations, o->rounds);
	printf("%-5s %26s %8s %26s %8s %26s %8s %8s %8s\n", "depth", "zsync ns", "reads/s",
	       "io_uring ns", "reads/s", "pread ns", "reads/s", "zs/iou", "zs/pread");
	for (di = 0; di < NR_DEPTHS; di++) {
		printf("qd%-3u", depths[di]);
		print_cell(cell_stat(ZS, di));
		print_cell(cell_stat(IU, di));
		print_cell(pread_stat());
		print_ratio(cell_stat(ZS, di), cell_stat(IU, di));
		print_ratio(cell_stat(ZS, di), pread_stat());
		putchar('\n');
	}
	printf("\nns per read (wall time / reads); reads/s and the ratios (time ratios, < 1:\n"
	       "zsync faster) are from the medians.  pread is one synchronous call per read,\n"
	       "shown on every row for reference.\n");
	for (bi = 0; bi < NR_BACKENDS; bi++) {
		const struct backend *b = &backends[bi];

		if (!b->up) {
			printf("%s: n/a: %s\n", b->name, b->why);
			continue;
		}
		for (di = 0; di < NR_DEPTHS; di++)
			if (!b->res[di].ok && !(b->sync_only && depths[di] != 1))
				printf("%s qd%u: n/a: %s\n", b->name, depths[di], b->res[di].why);
	}
	printf("\nslab allocations (kmem_cache_alloc + kmalloc) by the submitting thread, "
	       "%lu reads after a warm-up:\n", o->alloc_ops);
	bench_print_allocs("control: open+close", &alloc_control);
	for (di = 0; di < NR_DEPTHS && alloc_control.ok; di++)
		for (bi = 0; bi < NR_ALLOC_BACKENDS; bi++) {
			char label[64];

			snprintf(label, sizeof(label), "%s qd%u", backends[bi].name, depths[di]);
			bench_print_allocs(label, &allocs[bi][di]);
		}
}

static void json_cell(const struct backend *b, size_t di)
{
	if (cell_ok(b, di)) {
		printf("{\"ns_per_read\": ");
		bench_json_stat(1, cell_stat(b, di));
		printf(", \"reads_per_s\": %.0f}", 1e9 / cell_stat(b, di)->med);
		return;
	}
	printf("{\"error\": ");
	json_string(stdout, b->up ? b->res[di].why : b->why);
	printf("}");
}

static void print_json(const struct options *o)
{
	size_t di;

	printf("{\n  \"size_mb\": %lu,\n  \"iterations\": %lu,\n  \"rounds\": %u,\n"
	       "  \"rows\": [\n", o->size_mb, o->iterations, o->rounds);
	for (di = 0; di < NR_DEPTHS; di++) {
		printf("    {\"depth\": %u, \"zsync\": ", depths[di]);
		json_cell(ZS, di);
		printf(", \"io_uring\": ");
		json_cell(IU, di);
		printf(", \"pread\": ");
		json_cell(PR, 0);
		if (cell_ok(ZS, di) && cell_ok(IU, di))
			printf(", \"ratio\": %.3f", cell_stat(ZS, di)->med / cell_stat(IU, di)->med);
		else
			printf(", \"ratio\": null");
		printf(", \"allocs\": {\"zsync\": ");
		bench_json_allocs(alloc_control.ok ? &allocs[0][di] : &alloc_control);
		printf(", \"io_uring\": ");
		bench_json_allocs(alloc_control.ok ? &allocs[1][di] : &alloc_control);
		printf("}}%s\n", di + 1 < NR_DEPTHS ? "," : "");
	}
	printf("  ],\n  \"alloc_control\": ");
	bench_json_allocs(&alloc_control);
	printf("\n}\n");
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--iterations N] [--rounds R] [--alloc-ops N] [--size MIB]\n"
		"       [--file PATH] [--json]\n"
		"\n"
		"4 KiB reads at random offsets of a cached file: zsync ($ZSYNC_DEV or\n"
		"/dev/zsync) and io_uring at queue depth 1 and %u, and pread(2).  The\n"
		"file is created (and unlinked) at PATH, filled and read once.  After a\n"
		"warm-up, each round measures every cell, the backends in turn; a cell\n"
		"prints the median [min..max] of the rounds.  Then a separate run per\n"
		"ring and depth counts the slab allocations of the submitting thread\n"
		"(tracefs hist triggers on kmem/kmem_cache_alloc and kmem/kmalloc).\n"
		"\n"
		"  --iterations N  reads per measurement (default %d)\n"
		"  --rounds R      interleaved rounds, 1..%d (default %d; --repeat: the same)\n"
		"  --alloc-ops N   reads of each allocation count (default %d)\n"
		"  --size MIB      file size (default %d)\n"
		"  --file PATH     where to create it (default %s)\n"
		"  --json          print JSON instead of the table\n"
		"\n"
		"exit status: 0 all available backends measured, 1 a backend failed\n"
		"mid-run (an error, a short or wrong read), 2 bad usage or no file.\n",
		prog, MAX_DEPTH, DEFAULT_ITERATIONS, BENCH_MAX_ROUNDS, BENCH_DEFAULT_ROUNDS,
		DEFAULT_ALLOC_OPS, DEFAULT_SIZE_MB,
		DEFAULT_PATH);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "alloc-ops", required_argument, NULL, 'a' },
		{ "size", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	*o = (struct options){ DEFAULT_ITERATIONS, DEFAULT_ALLOC_OPS, BENCH_DEFAULT_ROUNDS,
			       DEFAULT_SIZE_MB, DEFAULT_PATH, false };
	while ((c = getopt_long(argc, argv, "n:r:a:s:f:jh", opts, NULL)) != -1) {
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
		case 's':
			if (parse_ulong(optarg, 1UL << 20, &o->size_mb))
				goto bad;
			break;
		case 'f':
			o->path = optarg;
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
	int failed, ret;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	ret = make_file(o.path, o.size_mb * (1024 * 1024 / BLOCK));
	if (ret) {
		fprintf(stderr, "zsync-bench-file: cannot create %s: %s\n", o.path, strerror(-ret));
		return EXIT_USAGE;
	}
	failed = run_all(&o);
	if (o.json)
		print_json(&o);
	else
		print_table(&o);
	close(file_fd);
	return failed ? EXIT_FAILED : EXIT_OK;
}
