// SPDX-License-Identifier: MIT
/*
 * zk-sum: checksum every regular file of a tree concurrently, one task per
 * file, at most --jobs of them in flight.
 *
 *   zk-sum-<model> [--jobs N] [--sync] PATH...
 *
 * Walks each PATH (a directory, recursively, without following symbolic
 * links, or a file), sorts the regular files by path (strcmp) and prints
 * "<FNV-1a 64, 16 hex digits>  <path>" for each, in that order, then a
 * summary on stderr.  FNV-1a 64 (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3, one byte at a time) because it is five lines, has no
 * table and Go's hash/fnv computes the same, so the Go version
 * (tools/bench/peers/sum.go) prints the same lines.
 *
 * Like zk-copy, the program is built once per execution model
 * (ZK_EXAMPLE_EXECUTOR); ZK_BACKEND picks the backend.  sum_file() is
 * sequential code for blocking, the thread pool and green threads;
 * sum_step() the same loop as a state machine for stackless tasks.
 * --sync does the same job in a plain open/read(2)/close loop, without
 * the library: the yardstick of make bench-files and of the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zsync-k-io.h"

#ifndef ZK_EXAMPLE_EXECUTOR
#error "build with -DZK_EXAMPLE_EXECUTOR=ZK_EXEC_..."
#endif

#define CHUNK		(64 * 1024)
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* One file in flight; a window of --jobs of them is reused. */
struct sum {
	const char *path;
	uint64_t hash, off;
	/* the state machine's state (unused by sum_file) */
	int state, fd;
	int64_t err;
	struct zk_future *f;
	unsigned char buf[CHUNK];
};

/* Direct style: blocking, thread pool and green threads. */
static int64_t sum_file(struct zk_io *io, void *arg)
{
	struct sum *s = arg;
	ssize_t n;
	int fd;

	fd = zk_open(io, s->path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	while ((n = zk_read(io, fd, s->buf, CHUNK, s->off)) > 0) {
		s->hash = fnv1a(s->hash, s->buf, (size_t)n);
		s->off += (uint64_t)n;
	}
	zk_close(io, fd);
	return n < 0 ? n : (int64_t)s->off;
}

/* The same loop as a state machine: stackless tasks. */
enum { OPEN, READ, CLOSE };

static int64_t sum_step(struct zk_io *io, void *arg)
{
	struct sum *s = arg;
	int64_t r = s->state == OPEN ? 0 : zk_future_result(s->f);

	zk_step_state(io, s->state);
	switch (s->state) {
	case OPEN:
		s->state = READ;
		zk_open_async(io, s->f, s->path, O_RDONLY | O_CLOEXEC, 0);
		return zk_pending(io, s->f);
	case READ:
		if (s->fd < 0) {	/* r is the open's result */
			if (r < 0)
				return r;
			s->fd = (int)r;
		} else if (r > 0) {
			s->hash = fnv1a(s->hash, s->buf, (size_t)r);
			s->off += (uint64_t)r;
		} else {		/* end of file or an error: close first */
			s->err = r;
			s->state = CLOSE;
			zk_close_async(io, s->f, s->fd);
			return zk_pending(io, s->f);
		}
		zk_read_async(io, s->f, s->fd, s->buf, CHUNK, s->off);
		return zk_pending(io, s->f);
	default:
		return s->err < 0 ? s->err : (int64_t)s->off;
	}
}

static struct zk_future *start_sum(struct zk_io *io, struct sum *s, const char *path)
{
	s->path = path;
	s->hash = FNV_OFFSET;
	s->off = 0;
	if (ZK_EXAMPLE_EXECUTOR != ZK_EXEC_STACKLESS)
		return zk_async(io, sum_file, s);
	s->state = OPEN;
	s->fd = -1;
	s->err = 0;
	s->f = zk_future_new();
	return s->f ? zk_async_step(io, sum_step, s) : NULL;
}

/* The yardstick: the same job, one file after the other, read(2). */
static int64_t sum_sync(struct sum *s, const char *path)
{
	ssize_t n;
	int fd;

	s->path = path;
	s->hash = FNV_OFFSET;
	s->off = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, s->buf, CHUNK)) > 0) {
		s->hash = fnv1a(s->hash, s->buf, (size_t)n);
		s->off += (uint64_t)n;
	}
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : (int64_t)s->off;
}

/* The walk's result: nftw() takes no argument for its callback. */
static char **paths;
static size_t npaths, cap_paths;
static int walk_failed;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_DNR || type == FTW_NS) {
		fprintf(stderr, "zk-sum: %s: %s\n", path,
			type == FTW_DNR ? "cannot read the directory" : "cannot stat");
		walk_failed++;
		return 0;
	}
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (npaths == cap_paths) {
		size_t n = cap_paths ? cap_paths * 2 : 1024;
		char **np = realloc(paths, n * sizeof(*np));

		if (!np)
			return -1;
		paths = np;
		cap_paths = n;
	}
	paths[npaths] = strdup(path);
	return paths[npaths++] ? 0 : -1;
}

static void free_paths(void)
{
	while (npaths)
		free(paths[--npaths]);
	free(paths);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Print one file's line, or its error; returns 1 for an error. */
static int report(const struct sum *s, int64_t r, uint64_t *bytes)
{
	if (r < 0) {
		fprintf(stderr, "zk-sum: %s: %s\n", s->path, strerror((int)-r));
		return 1;
	}
	*bytes += (uint64_t)r;
	printf("%016" PRIx64 "  %s\n", s->hash, s->path);
	return 0;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [--jobs N] [--sync] PATH...\n"
		"Prints the FNV-1a 64 checksum of every regular file under each PATH,\n"
		"sorted by path, one task per file, at most N in flight (64); --sync: a\n"
		"plain read(2) loop instead, no library.  ZK_BACKEND picks the backend\n"
		"(auto, zsync, io_uring, blocking).\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "sync", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct zk_io_opts opts = { .executor = ZK_EXAMPLE_EXECUTOR };
	int o, sync = 0, failed = 0, ret;
	struct zk_future **fut;
	uint64_t bytes = 0;
	unsigned long jobs = 64;
	struct sum *win;
	struct zk_io *io;
	char *end;
	size_t i;

	while ((o = getopt_long(argc, argv, "j:sh", longopts, NULL)) != -1) {
		switch (o) {
		case 'j':
			errno = 0;
			jobs = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || jobs < 1 || jobs > 4096) {
				fprintf(stderr, "zk-sum: --jobs '%s': %s (expected 1..4096)\n", optarg,
					strerror(errno ? errno : EINVAL));
				return 2;
			}
			break;
		case 's': sync = 1; break;
		case 'h': usage(stdout, argv[0]); return 0;
		default:
			fprintf(stderr, "usage: %s [--jobs N] [--sync] PATH...   (see --help)\n", argv[0]);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: %s [--jobs N] [--sync] PATH...   (see --help)\n", argv[0]);
		return 2;
	}
	for (; optind < argc; optind++) {
		if (nftw(argv[optind], walk_one, 64, FTW_PHYS) != 0) {
			fprintf(stderr, "zk-sum: %s: %s\n", argv[optind], strerror(errno));
			return 1;
		}
	}
	qsort(paths, npaths, sizeof(*paths), cmp_path);

	win = calloc(jobs, sizeof(*win));
	fut = calloc(jobs, sizeof(*fut));
	if (!win || !fut) {
		fprintf(stderr, "zk-sum: %s\n", strerror(ENOMEM));
		return 1;
	}
	if (sync) {
		for (i = 0; i < npaths; i++)
			failed += report(win, sum_sync(win, paths[i]), &bytes);
		fprintf(stderr, "zk-sum: %zu files, %" PRIu64 " bytes, %d failed (read(2) loop)\n",
			npaths, bytes, failed + walk_failed);
		goto out;
	}

	ret = zk_io_opts_from_env(&opts);
	opts.executor = ZK_EXAMPLE_EXECUTOR;	/* this binary's model */
	if (!ret)
		ret = zk_io_init(&io, &opts);
	if (ret) {
		fprintf(stderr, "zk-sum: zk_io_init: %s\n", strerror(-ret));
		failed = 1;
		goto out;
	}
	/*
	 * A sliding window: file i uses slot i % jobs once file i - jobs,
	 * the slot's last user, is awaited and printed, so the lines come
	 * out in path order with at most jobs files in flight.
	 */
	for (i = 0; i < npaths + jobs; i++) {
		size_t k = i % jobs;

		if (i >= jobs && i - jobs < npaths) {
			int64_t r = fut[k] ? zk_await(io, fut[k]) : -ENOMEM;

			failed += report(&win[k], r, &bytes);
			zk_future_free(io, fut[k]);
			zk_future_free(io, win[k].f);
			win[k].f = NULL;
		}
		if (i < npaths)
			fut[k] = start_sum(io, &win[k], paths[i]);
	}
	fprintf(stderr, "zk-sum: %zu files, %" PRIu64 " bytes, %d failed (%s executor, %s backend)\n",
		npaths, bytes, failed + walk_failed, zk_executor_name(zk_io_executor(io)),
		zk_backend_name(zk_io_backend(io)));
	zk_io_exit(io);
out:
	free(fut);
	free(win);
	free_paths();
	return failed || walk_failed;
}
