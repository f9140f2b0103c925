// SPDX-License-Identifier: MIT
/*
 * zk-copy: copy files concurrently, one task per file.
 *
 *   zk-copy-<model> SRC... DSTDIR
 *
 * The same program is built once per execution model; the only
 * difference between the binaries is ZK_EXAMPLE_EXECUTOR, the executor
 * handed to zk_io_init().  copy_file() is ordinary sequential code that
 * runs unchanged as a blocking call, on a pool thread or on a green
 * thread.  A stackless task has no stack to keep copy_file()'s locals
 * across a wait, so the stackless build runs the same loop written as a
 * state machine (copy_step()), which would run on the other executors too.
 * ZK_BACKEND (auto, zsync, io_uring, blocking) picks the backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zsync-k-io.h"

#ifndef ZK_EXAMPLE_EXECUTOR
#error "build with -DZK_EXAMPLE_EXECUTOR=ZK_EXEC_..."
#endif

#define CHUNK	(64 * 1024)

struct copy {
	const char *src;
	char dst[4096];
	/* the state machine's state (unused by copy_file) */
	int state, in, out;
	uint64_t off;
	ssize_t got;
	struct zk_future *f;
	char buf[CHUNK];
};

/* Direct style: blocking, thread pool and green threads. */
static int64_t copy_file(struct zk_io *io, void *arg)
{
	struct copy *c = arg;
	uint64_t off = 0;
	ssize_t n = 0;
	int in, out;

	in = zk_open(io, c->src, O_RDONLY | O_CLOEXEC, 0);
	if (in < 0)
		return in;
	out = zk_open(io, c->dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		zk_close(io, in);
		return out;
	}
	while ((n = zk_read(io, in, c->buf, CHUNK, off)) > 0) {
		ssize_t w = zk_write(io, out, c->buf, (size_t)n, off);

		if (w != n) {
			n = w < 0 ? w : -EIO;
			break;
		}
		off += (uint64_t)n;
	}
	zk_close(io, in);
	zk_close(io, out);
	return n < 0 ? n : (int64_t)off;
}

/* The same copy as a state machine: stackless tasks. */
enum { OPEN_IN, OPEN_OUT, READ, WRITE, CLOSE_IN, CLOSE_OUT };

static int64_t copy_step(struct zk_io *io, void *arg)
{
	struct copy *c = arg;
	int64_t r = c->state == OPEN_IN ? 0 : zk_future_result(c->f);

	/* Dumps and ZK_PROFILE show the state the step's wait began in. */
	zk_step_state(io, c->state);
	switch (c->state) {
	case OPEN_IN:
		c->state = OPEN_OUT;
		zk_open_async(io, c->f, c->src, O_RDONLY | O_CLOEXEC, 0);
		return zk_pending(io, c->f);
	case OPEN_OUT:
		if (r < 0)
			return r;
		c->in = (int)r;
		c->state = READ;
		zk_open_async(io, c->f, c->dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		return zk_pending(io, c->f);
	case READ:
		if (r < 0)
			goto close_in;
		if (c->out < 0)
			c->out = (int)r;
		c->state = WRITE;
		zk_read_async(io, c->f, c->in, c->buf, CHUNK, c->off);
		return zk_pending(io, c->f);
	case WRITE:
		if (r <= 0)
			goto close_in;
		c->got = r;
		c->state = READ;
		zk_write_async(io, c->f, c->out, c->buf, (size_t)r, c->off);
		c->off += (uint64_t)r;
		return zk_pending(io, c->f);
	case CLOSE_IN:
		c->state = CLOSE_OUT;
		if (c->out >= 0) {
			zk_close_async(io, c->f, c->out);
			return zk_pending(io, c->f);
		}
		/* fall through */
	default:
		return c->got < 0 ? c->got : (int64_t)c->off;
	}
close_in:
	c->got = r < 0 ? r : 0;
	c->state = CLOSE_IN;
	zk_close_async(io, c->f, c->in);
	return zk_pending(io, c->f);
}

static struct zk_future *start_copy(struct zk_io *io, struct copy *c)
{
	if (ZK_EXAMPLE_EXECUTOR != ZK_EXEC_STACKLESS)
		return zk_async(io, copy_file, c);
	c->state = OPEN_IN;
	c->out = -1;
	c->f = zk_future_new();
	return c->f ? zk_async_step(io, copy_step, c) : NULL;
}

int main(int argc, char **argv)
{
	struct zk_io_opts opts = { .executor = ZK_EXAMPLE_EXECUTOR };
	int nfiles = argc - 2, i, failed = 0, ret;
	struct zk_future **fut;
	struct copy *copies;
	struct zk_io *io;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s SRC... DSTDIR\n"
		       "Copies each SRC into DSTDIR, one task per file; ZK_BACKEND picks\n"
		       "the backend (auto, zsync, io_uring, blocking).\n", argv[0]);
		return 0;
	}
	if (nfiles < 1) {
		fprintf(stderr, "usage: %s SRC... DSTDIR   (see --help)\n", argv[0]);
		return 2;
	}
	ret = zk_io_opts_from_env(&opts);
	opts.executor = ZK_EXAMPLE_EXECUTOR;	/* this binary's model */
	if (!ret)
		ret = zk_io_init(&io, &opts);
	if (ret) {
		fprintf(stderr, "zk_io_init: %s\n", strerror(-ret));
		return 1;
	}
	copies = calloc((size_t)nfiles, sizeof(*copies));
	fut = calloc((size_t)nfiles, sizeof(*fut));
	if (!copies || !fut)
		return 1;
	for (i = 0; i < nfiles; i++) {
		char tmp[4096];

		copies[i].src = argv[i + 1];
		snprintf(tmp, sizeof(tmp), "%s", argv[i + 1]);
		snprintf(copies[i].dst, sizeof(copies[i].dst), "%s/%s", argv[argc - 1],
			 basename(tmp));
		fut[i] = start_copy(io, &copies[i]);
	}
	for (i = 0; i < nfiles; i++) {
		int64_t r = fut[i] ? zk_await(io, fut[i]) : -ENOMEM;

		if (r < 0) {
			fprintf(stderr, "%s: %s\n", copies[i].src, strerror((int)-r));
			failed++;
		} else {
			printf("%s -> %s: %lld bytes\n", copies[i].src, copies[i].dst,
			       (long long)r);
		}
		zk_future_free(io, fut[i]);
		zk_future_free(io, copies[i].f);
	}
	printf("zk-copy: %s executor, %s backend, %d of %d files copied\n",
	       zk_executor_name(zk_io_executor(io)), zk_backend_name(zk_io_backend(io)),
	       nfiles - failed, nfiles);
	free(fut);
	free(copies);
	zk_io_exit(io);
	return failed ? 1 : 0;
}
