// SPDX-License-Identifier: MIT
/*
 * zsync-bench-exec: the executors compared on one backend.  For each
 * executor: green-thread (or state-machine) switch time, spawn+await cost,
 * channel ping-pong round trip and throughput, and contended mutex
 * lock/unlock; printed as a table.  A benchmark, not a test: it checks
 * only that the work was done.
 *
 *   zsync-bench-exec [-b auto|zsync|io_uring|blocking] [-s PERCENT]
 *
 * PERCENT scales the iteration counts (default 100, or 2 on the zsync
 * backend, which `make bench` runs in a TCG VM).
 *
 * Concurrent parties are tasks on the pool and green executors, state
 * machines (zk_async_step) on the stackless one, and OS threads with
 * their own runtimes on the blocking executor, whose tasks run inline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zsync-k-io.h"

/* 0: 100%, or 2% on the zsync backend, which runs in a TCG VM. */
static unsigned int scale;

static unsigned long scaled(unsigned long n)
{
	return n * scale / 100 ? n * scale / 100 : 1;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- parties: a task, a state machine or a thread ------------------- */

struct party {
	struct zk_future *f;
	pthread_t th;
	zk_task_fn fn;
	void *arg;
	struct zk_io_opts opts;
};

static void *party_thread(void *arg)
{
	struct party *p = arg;
	struct zk_io *io;

	if (zk_io_init(&io, &p->opts) == 0) {
		p->fn(io, p->arg);
		zk_io_exit(io);
	}
	return NULL;
}

/* @step is used on the stackless executor, @fn elsewhere. */
static int party_start(struct zk_io *io, struct party *p, zk_task_fn fn,
		       zk_step_fn step, void *arg)
{
	enum zk_executor e = zk_io_executor(io);

	memset(p, 0, sizeof(*p));
	if (e == ZK_EXEC_STACKLESS) {
		p->f = zk_async_step(io, step, arg);
	} else if (e != ZK_EXEC_BLOCKING) {
		p->f = zk_async(io, fn, arg);
	} else {
		p->fn = fn;
		p->arg = arg;
		p->opts.backend = zk_io_backend(io);
		return pthread_create(&p->th, NULL, party_thread, p) ? -1 : 0;
	}
	return p->f ? 0 : -1;
}

static void party_join(struct zk_io *io, struct party *p)
{
	if (p->f) {
		zk_await(io, p->f);
		zk_future_free(io, p->f);
	} else {
		pthread_join(p->th, NULL);
	}
}

/* ---- the loops, direct style and as state machines ------------------ */

struct loop {
	struct zk_chan *in, *out;	/* ping-pong, throughput */
	struct zk_mutex *m;
	struct zk_wg *wg;		/* always zero: a wait that is over at once */
	unsigned long n, i;
	long *counter;
	int state;
	uint64_t v;
	struct zk_future *f;
};

static int64_t pinger(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	for (l->i = 0; l->i < l->n; l->i++)
		if (zk_chan_send(io, l->out, &l->v) || zk_chan_recv(io, l->in, &l->v))
			return -1;
	return 0;
}

static int64_t ponger(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	for (l->i = 0; l->i < l->n; l->i++)
		if (zk_chan_recv(io, l->in, &l->v) || zk_chan_send(io, l->out, &l->v))
			return -1;
	return 0;
}

static int64_t producer(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	for (l->v = 0; l->v < l->n; l->v++)
		if (zk_chan_send(io, l->out, &l->v))
			return -1;
	return 0;
}

static int64_t consumer(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	for (l->i = 0; l->i < l->n; l->i++)
		if (zk_chan_recv(io, l->in, &l->v))
			return -1;
	return 0;
}

static int64_t locker(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	for (l->i = 0; l->i < l->n; l->i++) {
		if (zk_mutex_lock(io, l->m))
			return -1;
		(*l->counter)++;
		zk_mutex_unlock(io, l->m);
	}
	return 0;
}

/* State machines: state 0 starts the first op, state 1 the second. */
static int64_t ping_step(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	if (l->state == 0) {
		if (l->i++ == l->n)
			return 0;
		l->state = 1;
		zk_chan_send_async(io, l->f, l->out, &l->v);
	} else {
		l->state = 0;
		zk_chan_recv_async(io, l->f, l->in, &l->v);
	}
	return zk_pending(io, l->f);
}

static int64_t pong_step(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	if (l->state == 0) {
		if (l->i++ == l->n)
			return 0;
		l->state = 1;
		zk_chan_recv_async(io, l->f, l->in, &l->v);
	} else {
		l->state = 0;
		zk_chan_send_async(io, l->f, l->out, &l->v);
	}
	return zk_pending(io, l->f);
}

static int64_t produce_step(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	if (l->i++ == l->n)
		return 0;
	l->v = l->i;
	zk_chan_send_async(io, l->f, l->out, &l->v);
	return zk_pending(io, l->f);
}

static int64_t consume_step(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	if (l->i++ == l->n)
		return 0;
	zk_chan_recv_async(io, l->f, l->in, &l->v);
	return zk_pending(io, l->f);
}

static int64_t lock_step(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	if (l->state == 1) {		/* the lock is ours */
		(*l->counter)++;
		zk_mutex_unlock(io, l->m);
	}
	if (l->i++ == l->n)
		return 0;
	l->state = 1;
	zk_mutex_lock_async(io, l->f, l->m);
	return zk_pending(io, l->f);
}

/* A switch: yield (green), or a step that waits on a done future. */
static int64_t yielder(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	for (l->i = 0; l->i < l->n; l->i++)
		zk_yield(io);
	return 0;
}

static int64_t yield_step(struct zk_io *io, void *arg)
{
	struct loop *l = arg;

	if (l->i++ == l->n)
		return 0;
	zk_wg_wait_async(io, l->f, l->wg);	/* done at once: back of the queue */
	return zk_pending(io, l->f);
}

static int64_t nothing(struct zk_io *io, void *arg)
{
	(void)io;
	return (int64_t)(intptr_t)arg;
}

static int64_t nothing_step(struct zk_io *io, void *arg)
{
	(void)io;
	return (int64_t)(intptr_t)arg;
}

/* ---- measurements (ns per operation; < 0: not applicable) ---------- */

static struct loop *loops_new(unsigned int k, unsigned long n)
{
	struct loop *l = calloc(k, sizeof(*l));
	unsigned int i;

	for (i = 0; l && i < k; i++) {
		l[i].n = n;
		l[i].f = zk_future_new();
	}
	return l;
}

static void loops_free(struct zk_io *io, struct loop *l, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < k; i++)
		zk_future_free(io, l[i].f);
	free(l);
}

/* Run @k parties (fn/step pairs alternate over @fns) and time them. */
static double run_parties(struct zk_io *io, struct loop *l, unsigned int k,
			  zk_task_fn *fns, zk_step_fn *steps)
{
	struct party p[8];
	double t0 = now_ns();
	unsigned int i;

	for (i = 0; i < k; i++)
		if (party_start(io, &p[i], fns[i], steps[i], &l[i]))
			return -1;
	for (i = 0; i < k; i++)
		party_join(io, &p[i]);
	return now_ns() - t0;
}

static double bench_switch(struct zk_io *io)
{
	enum zk_executor e = zk_io_executor(io);
	unsigned long n = scaled(200000);
	struct loop *l;
	zk_task_fn fns[2] = { yielder, yielder };
	zk_step_fn steps[2] = { yield_step, yield_step };
	double t;

	if (e != ZK_EXEC_GREEN && e != ZK_EXEC_STACKLESS)
		return -1;	/* no user-space switch: a wait is a thread's */
	l = loops_new(2, n);
	l[0].wg = l[1].wg = zk_wg_new();
	t = run_parties(io, l, 2, fns, steps);
	zk_wg_free(l[0].wg);
	loops_free(io, l, 2);
	return t / (2.0 * (double)n);
}

/* Spawn and await in batches of 50: a green stack is reused once freed. */
static double bench_spawn(struct zk_io *io)
{
	enum { BATCH = 50 };
	unsigned long n = scaled(20000) / BATCH * BATCH + BATCH, i, j;
	bool step = zk_io_executor(io) == ZK_EXEC_STACKLESS;
	struct zk_future *f[BATCH];
	double t0 = now_ns();

	for (i = 0; i < n; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			f[j] = step ? zk_async_step(io, nothing_step, (void *)(intptr_t)1) :
				      zk_async(io, nothing, (void *)(intptr_t)1);
		for (j = 0; j < BATCH; j++) {
			if (!f[j] || zk_await(io, f[j]) != 1)
				return -1;
			zk_future_free(io, f[j]);
		}
	}
	return (now_ns() - t0) / (double)n;
}

static double bench_pingpong(struct zk_io *io)
{
	unsigned long n = scaled(50000);
	struct zk_chan *a = zk_chan_new(sizeof(uint64_t), 1), *b = zk_chan_new(sizeof(uint64_t), 1);
	struct loop *l = loops_new(2, n);
	zk_task_fn fns[2] = { pinger, ponger };
	zk_step_fn steps[2] = { ping_step, pong_step };
	double t;

	l[0].out = l[1].in = a;
	l[1].out = l[0].in = b;
	t = run_parties(io, l, 2, fns, steps);
	loops_free(io, l, 2);
	zk_chan_free(a);
	zk_chan_free(b);
	return t / (double)n;
}

static double bench_throughput(struct zk_io *io)
{
	unsigned long n = scaled(1000000);
	struct zk_chan *ch = zk_chan_new(sizeof(uint64_t), 256);
	struct loop *l = loops_new(2, n);
	zk_task_fn fns[2] = { producer, consumer };
	zk_step_fn steps[2] = { produce_step, consume_step };
	double t;

	l[0].out = l[1].in = ch;
	t = run_parties(io, l, 2, fns, steps);
	loops_free(io, l, 2);
	zk_chan_free(ch);
	return t / (double)n;
}

static double bench_mutex(struct zk_io *io)
{
	enum { K = 4 };
	unsigned long n = scaled(100000);
	struct zk_mutex *m = zk_mutex_new();
	struct loop *l = loops_new(K, n);
	zk_task_fn fns[K] = { locker, locker, locker, locker };
	zk_step_fn steps[K] = { lock_step, lock_step, lock_step, lock_step };
	long counter = 0;
	double t;
	int i;

	for (i = 0; i < K; i++) {
		l[i].m = m;
		l[i].counter = &counter;
	}
	t = run_parties(io, l, K, fns, steps);
	loops_free(io, l, K);
	zk_mutex_free(m);
	return counter == (long)(K * n) ? t / (double)(K * n) : -1;
}

struct metric {
	const char *name, *unit;
	double (*run)(struct zk_io *io);
	bool rate;	/* print Mops/s instead of ns */
};

static const struct metric metrics[] = {
	{ "green/stackless switch", "ns", bench_switch, false },
	{ "spawn + await", "ns", bench_spawn, false },
	{ "channel ping-pong round trip", "ns", bench_pingpong, false },
	{ "channel throughput (cap 256)", "M msg/s", bench_throughput, true },
	{ "mutex lock+unlock, 4 contending", "ns", bench_mutex, false },
};

int main(int argc, char **argv)
{
	struct zk_io_opts opts = { .threads = 4 };
	double res[5][4];
	int opt, e, m;

	if (zk_io_opts_from_env(&opts))
		return 2;
	while ((opt = getopt(argc, argv, "b:s:")) != -1) {
		if (opt == 's') {
			scale = (unsigned int)atoi(optarg);
		} else if (opt == 'b') {
			setenv(ZK_ENV_BACKEND, optarg, 1);
			if (zk_io_opts_from_env(&opts))
				return 2;
		} else {
			fprintf(stderr, "usage: %s [-b BACKEND] [-s PERCENT]\n", argv[0]);
			return 2;
		}
	}
	for (e = ZK_EXEC_BLOCKING; e <= ZK_EXEC_STACKLESS; e++) {
		struct zk_io *io;

		opts.executor = (enum zk_executor)e;
		if (zk_io_init(&io, &opts)) {
			fprintf(stderr, "zk_io_init(%s) failed\n", zk_executor_name(opts.executor));
			return 1;
		}
		if (!scale)
			scale = zk_io_backend(io) == ZK_BACKEND_ZSYNC ? 2 : 100;
		if (e == ZK_EXEC_BLOCKING)
			printf("zsync-bench-exec: %s backend, %ld CPUs, scale %u%%\n",
			       zk_backend_name(zk_io_backend(io)),
			       sysconf(_SC_NPROCESSORS_ONLN), scale);
		for (m = 0; m < 5; m++)
			res[m][e] = metrics[m].run(io);
		zk_io_exit(io);
	}
	printf("%-34s %12s %12s %12s %12s\n", "", "blocking", "threads(4)", "green",
	       "stackless");
	for (m = 0; m < 5; m++) {
		char label[64];

		snprintf(label, sizeof(label), "%s [%s]", metrics[m].name, metrics[m].unit);
		printf("%-34s", label);
		for (e = 0; e < 4; e++) {
			double v = res[m][e];

			if (v < 0)
				printf(" %12s", "-");
			else if (metrics[m].rate)
				printf(" %12.2f", 1e3 / v);
			else
				printf(" %12.0f", v);
		}
		printf("\n");
	}
	printf("blocking: tasks run inline; its parties are OS threads. '-': not applicable.\n");
	return 0;
}
