// SPDX-License-Identifier: MIT
/*
 * zsync-bench-exec: the executors compared on one backend.  For each
 * executor: green-thread (or state-machine) switch time, spawn+await cost,
 * channel ping-pong round trip and throughput, contended mutex
 * lock/unlock, ping-pong with a party on another OS thread, and a
 * fan-out/fan-in of 100000 tasks that each send one message, and a
 * fan-out of CPU-bound tasks (what more worker threads buy); printed as a
 * table.  The M:N stackless executor runs twice, on 1 and on 2 threads.  A benchmark, not a test: it checks only that the work was done.
 *
 *   zsync-bench-exec [-b auto|zsync|io_uring|blocking] [-s PERCENT] [-k]
 *
 * -k prints one "result METRIC ENGINE VALUE" line per number instead of
 * the table (tools/bench/bench-native.sh aggregates them with the Go and
 * pthread programs' lines, see tools/bench/compare.awk).
 *
 * PERCENT scales the iteration counts (default 100, or 2 on the zsync
 * backend, which `make bench` runs in a TCG VM).
 *
 * Concurrent parties are tasks on the pool and green executors, state
 * machines (zk_async_step) on the stackless ones, and OS threads with
 * their own runtimes on the blocking executor, whose tasks run inline.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zsync-k-io.h"
#include "bench.h"

/* 0: 100%, or 2% on the zsync backend, which runs in a TCG VM. */
static unsigned int scale;

static unsigned long scaled(unsigned long n)
{
	return n * scale / 100 ? n * scale / 100 : 1;
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

/* A party on an OS thread of its own, with its own (blocking) runtime. */
static int party_start_thread(struct zk_io *io, struct party *p, zk_task_fn fn,
			      void *arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	p->opts.backend = zk_io_backend(io);
	return pthread_create(&p->th, NULL, party_thread, p) ? -1 : 0;
}

/* The stackless executors (one thread, M:N) run state machines. */
static bool stackless(struct zk_io *io)
{
	enum zk_executor e = zk_io_executor(io);

	return e == ZK_EXEC_STACKLESS || e == ZK_EXEC_STACKLESS_MN;
}

/* @step is used on the stackless executors, @fn elsewhere. */
static int party_start(struct zk_io *io, struct party *p, zk_task_fn fn,
		       zk_step_fn step, void *arg)
{
	enum zk_executor e = zk_io_executor(io);

	memset(p, 0, sizeof(*p));
	if (stackless(io))
		p->f = zk_async_step(io, step, arg);
	else if (e != ZK_EXEC_BLOCKING)
		p->f = zk_async(io, fn, arg);
	else
		return party_start_thread(io, p, fn, arg);
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

/*
 * Run @k parties (fn/step pairs alternate over @fns) and time them; those
 * from index @own_thread on run on OS threads of their own.
 */
static double run_parties_split(struct zk_io *io, struct loop *l, unsigned int k,
				zk_task_fn *fns, zk_step_fn *steps,
				unsigned int own_thread)
{
	struct party p[8];
	double t0 = bench_now_ns();
	unsigned int i;

	for (i = 0; i < k; i++)
		if (i >= own_thread ? party_start_thread(io, &p[i], fns[i], &l[i]) :
				      party_start(io, &p[i], fns[i], steps[i], &l[i]))
			return -1;
	for (i = 0; i < k; i++)
		party_join(io, &p[i]);
	return bench_now_ns() - t0;
}

static double run_parties(struct zk_io *io, struct loop *l, unsigned int k,
			  zk_task_fn *fns, zk_step_fn *steps)
{
	return run_parties_split(io, l, k, fns, steps, k);
}

static double bench_switch(struct zk_io *io)
{
	enum zk_executor e = zk_io_executor(io);
	unsigned long n = scaled(200000);
	struct loop *l;
	zk_task_fn fns[2] = { yielder, yielder };
	zk_step_fn steps[2] = { yield_step, yield_step };
	double t;

	if (e != ZK_EXEC_GREEN && !stackless(io))
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
	bool step = stackless(io);
	struct zk_future *f[BATCH];
	double t0 = bench_now_ns();

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
	return (bench_now_ns() - t0) / (double)n;
}

/* The ponger on its own OS thread if @cross, else in the executor. */
static double pingpong(struct zk_io *io, bool cross)
{
	unsigned long n = scaled(50000);
	struct zk_chan *a = zk_chan_new(sizeof(uint64_t), 1), *b = zk_chan_new(sizeof(uint64_t), 1);
	struct loop *l = loops_new(2, n);
	zk_task_fn fns[2] = { pinger, ponger };
	zk_step_fn steps[2] = { ping_step, pong_step };
	double t;

	l[0].out = l[1].in = a;
	l[1].out = l[0].in = b;
	t = run_parties_split(io, l, 2, fns, steps, cross ? 1 : 2);
	loops_free(io, l, 2);
	zk_chan_free(a);
	zk_chan_free(b);
	return t / (double)n;
}

static double bench_pingpong(struct zk_io *io)
{
	return pingpong(io, false);
}

static double bench_xthread(struct zk_io *io)
{
	return pingpong(io, true);
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

/* ---- fan-out/fan-in: many tasks, one message each ------------------ */

struct fan {
	struct zk_chan *ch;
	uint64_t v;
};

static int64_t fan_send(struct zk_io *io, void *arg)
{
	struct fan *f = arg;

	return zk_chan_send(io, f->ch, &f->v);
}

/* The channel is unbounded: a send never waits, one step is enough. */
static int64_t fan_send_step(struct zk_io *io, void *arg)
{
	struct fan *f = arg;

	return zk_chan_try_send(io, f->ch, &f->v);
}

/* Spawn tasks @from..@to-1, receive one message per task, await them all. */
static int fan_wave(struct zk_io *io, struct fan *fans, struct zk_future **fs,
		    unsigned long from, unsigned long to, uint64_t *sum)
{
	bool step = stackless(io);
	unsigned long i;
	uint64_t v;

	for (i = from; i < to; i++) {
		fs[i] = step ? zk_async_step(io, fan_send_step, &fans[i]) :
			       zk_async(io, fan_send, &fans[i]);
		if (!fs[i])
			return -1;
	}
	for (i = from; i < to; i++) {
		if (zk_chan_recv(io, fans[0].ch, &v))
			return -1;
		*sum += v;
	}
	for (i = from; i < to; i++) {
		if (zk_await(io, fs[i]))
			return -1;
		zk_future_free(io, fs[i]);
	}
	return 0;
}

/*
 * A green thread holds an mmap()ed stack and its guard (two mappings) from
 * its first run to its exit, when the next one reuses the stack.  These
 * never park, so one stack serves them all.  The waves of FAN_GREEN_WAVE
 * date from when every spawn mapped one (vm.max_map_count is 65530 by
 * default); they also hold the live tasks, and the fresh heap pages they
 * fault in, to 10000, where the other executors have all 100000 at once.
 */
enum { FAN_TASKS = 100000, FAN_GREEN_WAVE = 10000 };

/* The whole fan-out/fan-in, in ns (the table shows it in ms). */
static double bench_fanout(struct zk_io *io)
{
	unsigned long n = scaled(FAN_TASKS), i, wave = n;
	struct fan *fans = calloc(n, sizeof(*fans));
	struct zk_future **fs = calloc(n, sizeof(*fs));
	struct zk_chan *ch = zk_chan_new_unbounded(sizeof(uint64_t));
	uint64_t sum = 0;
	double t = -1, t0;
	int ret = 0;

	if (zk_io_executor(io) == ZK_EXEC_GREEN)
		wave = FAN_GREEN_WAVE;
	for (i = 0; fans && i < n; i++) {
		fans[i].ch = ch;
		fans[i].v = i;
	}
	t0 = bench_now_ns();
	for (i = 0; fans && fs && ch && !ret && i < n; i += wave)
		ret = fan_wave(io, fans, fs, i, i + wave < n ? i + wave : n, &sum);
	if (fans && fs && ch && !ret && sum == (uint64_t)n * (n - 1) / 2)
		t = bench_now_ns() - t0;
	zk_chan_free(ch);
	free(fs);
	free(fans);
	return t;
}

/* ---- CPU-bound fan-out: what more threads buy ------------------------ */

enum { CPU_TASKS = 2000, CPU_WORK = 20000 };

struct crunch {
	uint64_t seed;
	struct zk_wg *wg;
};

/* About 20-40 us of arithmetic that the compiler cannot drop. */
static int64_t crunch(struct zk_io *io, void *arg)
{
	struct crunch *c = arg;
	uint64_t x = c->seed | 1;
	unsigned int i;

	for (i = 0; i < CPU_WORK; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	zk_wg_done(io, c->wg);
	return (int64_t)(x & 0xffff);
}

/*
 * Spawn every task, wait for them all on one wait group (as Go's side
 * does: the root wakes once, instead of spinning for each task), then
 * collect the results; in ns.
 */
static double bench_cpu_fanout(struct zk_io *io)
{
	unsigned long n = scaled(CPU_TASKS), i;
	struct zk_future **fs = calloc(n, sizeof(*fs));
	struct crunch *cs = calloc(n, sizeof(*cs));
	struct zk_wg *wg = zk_wg_new();
	bool step = stackless(io);
	double t = -1, t0 = bench_now_ns();
	int64_t sum = 0, r;

	if (!fs || !cs || !wg || zk_wg_add(io, wg, (int)n))
		goto out;
	for (i = 0; i < n; i++) {
		cs[i] = (struct crunch){ .seed = i + 1, .wg = wg };
		fs[i] = step ? zk_async_step(io, crunch, &cs[i]) : zk_async(io, crunch, &cs[i]);
		if (!fs[i])
			return -1;	/* the spawned ones still use cs and wg */
	}
	if (zk_wg_wait(io, wg))
		return -1;
	for (i = 0; i < n; i++) {
		r = zk_await(io, fs[i]);
		zk_future_free(io, fs[i]);
		if (r < 0)
			goto out;
		sum += r;
	}
	if (sum > 0)
		t = bench_now_ns() - t0;
out:
	zk_wg_free(wg);
	free(cs);
	free(fs);
	return t;
}

/* How a metric's ns figure is shown. */
enum show { SHOW_NS, SHOW_RATE, SHOW_MS };

struct metric {
	const char *key, *name, *unit;	/* key: in -k output */
	double (*run)(struct zk_io *io);
	enum show show;
};

static const struct metric metrics[] = {
	{ "switch_ns", "green/stackless switch", "ns", bench_switch, SHOW_NS },
	{ "spawn_ns", "spawn + await", "ns", bench_spawn, SHOW_NS },
	{ "pingpong_ns", "channel ping-pong round trip", "ns", bench_pingpong, SHOW_NS },
	{ "throughput_mmsg_s", "channel throughput (cap 256)", "M msg/s", bench_throughput,
	  SHOW_RATE },
	{ "mutex4_ns", "mutex lock+unlock, 4 contending", "ns", bench_mutex, SHOW_NS },
	{ "xthread_pingpong_ns", "ping-pong, ponger on an OS thread", "ns", bench_xthread,
	  SHOW_NS },
	{ "fanout_ms", "fan-out/fan-in, 100000 tasks", "ms", bench_fanout, SHOW_MS },
	{ "cpu_fanout_ms", "CPU-bound fan-out, 2000 x ~30 us", "ms", bench_cpu_fanout,
	  SHOW_MS },
};

#define NMETRICS	(sizeof(metrics) / sizeof(metrics[0]))

/* The engines: an executor and its thread count (M:N on 1 and 2 threads). */
static const struct engine {
	const char *key, *label;
	enum zk_executor exec;
	unsigned int threads;
} engines[] = {
	{ "blocking", "blocking", ZK_EXEC_BLOCKING, 4 },
	{ "threads4", "threads(4)", ZK_EXEC_THREADS, 4 },
	{ "green", "green", ZK_EXEC_GREEN, 4 },
	{ "stackless", "stackless", ZK_EXEC_STACKLESS, 4 },
	{ "mn1", "mn(1)", ZK_EXEC_STACKLESS_MN, 1 },
	{ "mn2", "mn(2)", ZK_EXEC_STACKLESS_MN, 2 },
};

#define NENGINES	(sizeof(engines) / sizeof(engines[0]))

/* @v in ns per op (< 0: not applicable) as the metric shows it. */
static double shown(const struct metric *m, double v)
{
	switch (m->show) {
	case SHOW_RATE:	return 1e3 / v;
	case SHOW_MS:	return v / 1e6;
	default:	return v;
	}
}

static void print_kv(const char *backend, double res[][NENGINES])
{
	unsigned int m, e;

	for (m = 0; m < NMETRICS; m++)
		for (e = 0; e < NENGINES; e++)
			if (res[m][e] >= 0)
				printf("result %s %s:%s %.3f\n", metrics[m].key, backend,
				       engines[e].key, shown(&metrics[m], res[m][e]));
}

static void print_table(double res[][NENGINES])
{
	unsigned int m, e;

	printf("%-40s", "");
	for (e = 0; e < NENGINES; e++)
		printf(" %12s", engines[e].label);
	printf("\n");
	for (m = 0; m < NMETRICS; m++) {
		char label[64];

		snprintf(label, sizeof(label), "%s [%s]", metrics[m].name, metrics[m].unit);
		printf("%-40s", label);
		for (e = 0; e < NENGINES; e++) {
			if (res[m][e] < 0)
				printf(" %12s", "-");
			else if (metrics[m].show == SHOW_NS)
				printf(" %12.0f", res[m][e]);
			else
				printf(" %12.2f", shown(&metrics[m], res[m][e]));
		}
		printf("\n");
	}
	printf("blocking: tasks run inline; its parties are OS threads. '-': not applicable.\n"
	       "mn(N): M:N stackless on N worker threads.\n"
	       "green fan-out: in waves of %d live tasks (one stack mapping each).\n",
	       FAN_GREEN_WAVE);
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-b auto|zsync|io_uring|blocking] [-s PERCENT] [-k]\n"
		"  -b, --backend BACKEND  the backend (default: ZK_BACKEND, else auto)\n"
		"  -s, --scale PERCENT    scale the iteration counts (default 100,\n"
		"                         2 on the zsync backend)\n"
		"  -k, --kv               'result METRIC BACKEND:EXECUTOR VALUE' lines\n"
		"  -h, --help             this text\n", prog);
}

/* Parse the command line into @opts; -1: exit with status *@status. */
static int parse_args(int argc, char **argv, struct zk_io_opts *opts, bool *kv,
		      int *status)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "scale", required_argument, NULL, 's' },
		{ "kv", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long pct;
	int opt;

	*status = 2;
	while ((opt = getopt_long(argc, argv, "b:s:kh", longopts, NULL)) != -1) {
		if (opt == 's') {
			if (parse_ulong(optarg, 10000, &pct)) {
				fprintf(stderr, "%s: bad scale '%s': %s\n", argv[0], optarg,
					strerror(EINVAL));
				return -1;
			}
			scale = (unsigned int)pct;
		} else if (opt == 'b') {
			setenv(ZK_ENV_BACKEND, optarg, 1);
			if (zk_io_opts_from_env(opts)) {
				fprintf(stderr, "%s: bad backend '%s': %s\n", argv[0], optarg,
					strerror(EINVAL));
				return -1;
			}
		} else if (opt == 'k') {
			*kv = true;
		} else {
			*status = opt == 'h' ? 0 : 2;
			usage(opt == 'h' ? stdout : stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s': %s\n", argv[0], argv[optind],
			strerror(EINVAL));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct zk_io_opts opts = { .threads = 4 };
	double res[NMETRICS][NENGINES];
	bool kv = false;
	unsigned int m, e;
	int status;

	if (zk_io_opts_from_env(&opts)) {
		fprintf(stderr, "%s: bad %s or %s: %s\n", argv[0], ZK_ENV_BACKEND,
			ZK_ENV_EXECUTOR, strerror(EINVAL));
		return 2;
	}
	if (parse_args(argc, argv, &opts, &kv, &status))
		return status;
	for (e = 0; e < NENGINES; e++) {
		struct zk_io *io;
		int ret;

		opts.executor = engines[e].exec;
		opts.threads = engines[e].threads;
		ret = zk_io_init(&io, &opts);
		if (ret) {
			fprintf(stderr, "%s: zk_io_init(%s): %s\n", argv[0],
				zk_executor_name(opts.executor), strerror(-ret));
			return 1;
		}
		if (!scale)
			scale = zk_io_backend(io) == ZK_BACKEND_ZSYNC ? 2 : 100;
		if (e == 0)
			printf("%szsync-bench-exec: %s backend, %ld CPUs, scale %u%%\n",
			       kv ? "# " : "", zk_backend_name(zk_io_backend(io)),
			       sysconf(_SC_NPROCESSORS_ONLN), scale);
		for (m = 0; m < NMETRICS; m++)
			res[m][e] = metrics[m].run(io);
		opts.backend = zk_io_backend(io);
		zk_io_exit(io);
	}
	if (kv)
		print_kv(zk_backend_name(opts.backend), res);
	else
		print_table(res);
	return 0;
}
