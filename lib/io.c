// SPDX-License-Identifier: MIT
/*
 * The runtime: options, backend selection, workers and their loops.
 * Every blocking wait anywhere in the executor layer ends up in
 * zk_loop_wait() on the waiting thread's own loop, and every cross-thread
 * wakeup in zk_worker_kick(): one mechanism for all executors.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "io_internal.h"

#define ZK_DEFAULT_ENTRIES	256
#define ZK_DEFAULT_STACK	(256 * 1024)

static const char *const backend_names[] = {
	[ZK_BACKEND_AUTO] = "auto",
	[ZK_BACKEND_ZSYNC] = "zsync",
	[ZK_BACKEND_IO_URING] = "io_uring",
	[ZK_BACKEND_BLOCKING] = "blocking",
};

static const char *const executor_names[] = {
	[ZK_EXEC_BLOCKING] = "blocking",
	[ZK_EXEC_THREADS] = "threads",
	[ZK_EXEC_GREEN] = "green",
	[ZK_EXEC_STACKLESS] = "stackless",
	[ZK_EXEC_STACKLESS_MN] = "stackless-mn",
};

#define ZK_EXEC_COUNT	(sizeof(executor_names) / sizeof(executor_names[0]))

const char *zk_backend_name(enum zk_backend b)
{
	return (unsigned int)b <= ZK_BACKEND_BLOCKING ? backend_names[b] : "?";
}

const char *zk_executor_name(enum zk_executor e)
{
	return (unsigned int)e < ZK_EXEC_COUNT ? executor_names[e] : "?";
}

static int lookup(const char *val, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return i;
	return -EINVAL;
}

int zk_io_opts_from_env(struct zk_io_opts *o)
{
	const char *b = getenv(ZK_ENV_BACKEND), *e = getenv(ZK_ENV_EXECUTOR);
	int v;

	if (b && *b) {
		v = lookup(b, backend_names, 4);
		if (v < 0)
			return v;
		o->backend = (enum zk_backend)v;
	}
	if (e && *e) {
		v = lookup(e, executor_names, (int)ZK_EXEC_COUNT);
		if (v < 0)
			return v;
		o->executor = (enum zk_executor)v;
	}
	return 0;
}

static const struct zk_backend_ops *backend_ops(enum zk_backend b)
{
	switch (b) {
	case ZK_BACKEND_ZSYNC:		return &zk_backend_zsync;
	case ZK_BACKEND_IO_URING:	return &zk_backend_uring;
	case ZK_BACKEND_BLOCKING:	return &zk_backend_blocking;
	default:			return NULL;
	}
}

static const struct zk_exec_ops *exec_ops(enum zk_executor e)
{
	switch (e) {
	case ZK_EXEC_BLOCKING:	return &zk_exec_blocking;
	case ZK_EXEC_THREADS:	return &zk_exec_threads;
	case ZK_EXEC_GREEN:	return &zk_exec_green;
	case ZK_EXEC_STACKLESS:	return &zk_exec_stackless;
	case ZK_EXEC_STACKLESS_MN: return &zk_exec_stackless_mn;
	}
	return NULL;
}

/* M:N: one worker per CPU the process may run on (taskset, cpusets). */
static unsigned int usable_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned int)n : 0;
}

static void fill_defaults(struct zk_io_opts *o)
{
	long cpus;

	if (!o->entries)
		o->entries = ZK_DEFAULT_ENTRIES;
	if (!o->stack_size)
		o->stack_size = ZK_DEFAULT_STACK;
	if (!o->threads && o->executor == ZK_EXEC_STACKLESS_MN)
		o->threads = usable_cpus();
	if (!o->threads) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		o->threads = cpus > 0 ? (unsigned int)cpus : 1;
	}
}

bool zk_on_thread(const struct zk_io *w)
{
	return pthread_equal(w->thread, pthread_self());
}

int zk_worker_init(struct zk_runtime *rt, struct zk_io *w, unsigned int index)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->rt = rt;
	w->index = index;
	w->thread = pthread_self();
	zk_list_init(&w->ready);
	zk_list_init(&w->stack_cache);
	zk_list_init(&w->idle_link);
	w->wait.fd = -1;
	w->loop.ops = rt->bops;
	w->loop.w = w;
	pthread_mutex_init(&w->rq_lock, NULL);
	ret = rt->bops->init(&w->loop, rt->opts.entries);
	if (ret)
		pthread_mutex_destroy(&w->rq_lock);
	return ret;
}

void zk_worker_exit(struct zk_io *w)
{
	w->rt->bops->exit(&w->loop);
	pthread_mutex_destroy(&w->rq_lock);
}

/*
 * How a thread waits (Documentation/executors.rst, "Waiting and waking"):
 *  1. With no op in flight only a kick can end the wait, so the thread
 *     first spins briefly on its kick flag and inbox: a waker that finds
 *     it awake (sleeping == 0) makes no syscall at all, and neither does
 *     the thread.  The spin budget (time) adapts: it grows while spins
 *     succeed and shrinks while they end in a sleep.
 *  2. Still nothing: it sleeps on a futex (sleeping == ZK_SLEEP_FUTEX),
 *     which costs what a pthread condvar handoff costs.
 *  3. With ops in flight it sleeps in its ring (ZK_SLEEP_RING) so that a
 *     completion or a kick (MSG_RING, the loop's eventfd) both end it.
 * Sleeping is announced before the last look at the inbox and the kick
 * flag, and kickers set the flag before exchanging sleeping (both
 * sequentially consistent): one of the two always sees the other.
 */
enum { ZK_SLEEP_RING = 1, ZK_SLEEP_FUTEX = 2 };

/*
 * The spin is bounded by time, not by iterations: a pause costs from a
 * few ns to over 100 (AMD, virtual machines).  Spinning longer than a
 * futex sleep and wakeup cost would only take the CPU from the thread
 * that is to wake us, so the budget stays between 0.5 and 16 us.
 */
#define ZK_SPIN_MIN_NS		500
#define ZK_SPIN_MAX_NS		16000
#define ZK_SPIN_START_NS	4000

static bool wait_over(struct zk_io *w)
{
	return ZK_LOAD(&w->kicked) || __atomic_load_n(&w->inbox, __ATOMIC_ACQUIRE);
}

/* Step 1: true if a kick arrived while spinning. */
static bool spin_for_kick(struct zk_io *w)
{
	int64_t budget = w->spin_ns ? w->spin_ns : ZK_SPIN_START_NS, end;
	unsigned int i;

	if (wait_over(w))
		return true;
	end = zk_mono_ns() + budget;
	for (i = 1;; i++) {
		zk_cpu_relax();
		if (wait_over(w)) {
			w->spin_ns = budget < ZK_SPIN_MAX_NS ? budget * 2 : ZK_SPIN_MAX_NS;
			return true;
		}
		if (i % 8 == 0 && zk_mono_ns() >= end)
			break;
	}
	w->spin_ns = budget > ZK_SPIN_MIN_NS ? budget / 2 : ZK_SPIN_MIN_NS;
	return false;
}

/* Step 2: until a kicker clears sleeping (EINTR, EAGAIN: look again). */
static void futex_sleep(struct zk_io *w)
{
	while (ZK_LOAD_SC(&w->sleeping) == ZK_SLEEP_FUTEX)
		syscall(SYS_futex, &w->sleeping, FUTEX_WAIT_PRIVATE, ZK_SLEEP_FUTEX,
			NULL, NULL, 0);
}

void zk_loop_wait(struct zk_io *w, bool block)
{
	bool idle = block && !w->inflight;

	if (idle && spin_for_kick(w))
		block = idle = false;
	if (block) {
		ZK_STORE_SC(&w->sleeping, idle ? ZK_SLEEP_FUTEX : ZK_SLEEP_RING);
		if (ZK_LOAD_SC(&w->kicked) || ZK_LOAD_SC(&w->inbox))
			block = idle = false;
	}
	if (idle)
		futex_sleep(w);
	else if (block || w->inflight)	/* nothing to reap: no syscall */
		w->rt->bops->wait(&w->loop, block);
	ZK_STORE_SC(&w->sleeping, 0);
	ZK_STORE_SC(&w->kicked, 0);
	zk_inbox_process(w);
	/* zk_io_dump_on_signal(): the handler only set the flag and kicked us. */
	if (__builtin_expect(__atomic_load_n(&w->rt->dump_req, __ATOMIC_RELAXED), 0))
		zk_dump_requested(w);
}

/* Async-signal-safe (zk_io_dump_on_signal() kicks from a handler). */
void zk_worker_kick(struct zk_io *waker, struct zk_io *w)
{
	int was;

	ZK_STORE_SC(&w->kicked, 1);
	was = ZK_XCHG(&w->sleeping, 0);
	if (was == ZK_SLEEP_FUTEX)
		syscall(SYS_futex, &w->sleeping, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	else if (was == ZK_SLEEP_RING)
		w->rt->bops->wake(&w->loop, waker ? &waker->loop : NULL);
}

/* AUTO: the module if it is there, else io_uring, else syscalls. */
static int init_root(struct zk_runtime *rt)
{
	static const enum zk_backend order[] = {
		ZK_BACKEND_ZSYNC, ZK_BACKEND_IO_URING, ZK_BACKEND_BLOCKING,
	};
	unsigned int i;
	int ret = -ENODEV;

	if (rt->opts.backend != ZK_BACKEND_AUTO) {
		rt->bops = backend_ops(rt->opts.backend);
		if (!rt->bops)
			return -EINVAL;
		return zk_worker_init(rt, &rt->root, 0);
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		rt->bops = backend_ops(order[i]);
		ret = zk_worker_init(rt, &rt->root, 0);
		if (!ret) {
			rt->opts.backend = order[i];
			return 0;
		}
	}
	return ret;
}

int zk_io_init(struct zk_io **io, const struct zk_io_opts *opts)
{
	struct zk_runtime *rt;
	int ret;

	*io = NULL;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	if (opts)
		rt->opts = *opts;
	fill_defaults(&rt->opts);
	rt->eops = exec_ops(rt->opts.executor);
	if (!rt->eops) {
		free(rt);
		return -EINVAL;
	}
	pthread_mutex_init(&rt->lock, NULL);
	pthread_mutex_init(&rt->tasks_lock, NULL);
	zk_list_init(&rt->runq);
	zk_list_init(&rt->idle);
	zk_list_init(&rt->tasks);
	rt->dump_fd = -1;
	ret = init_root(rt);
	if (ret)
		goto fail;
	ret = rt->eops->start(rt);
	if (ret) {
		zk_worker_exit(&rt->root);
		goto fail;
	}
	ret = zk_prof_env_start(rt);
	if (ret) {
		zk_io_exit(&rt->root);
		return ret;
	}
	*io = &rt->root;
	return 0;

fail:
	pthread_mutex_destroy(&rt->tasks_lock);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
	return ret;
}

void zk_io_exit(struct zk_io *io)
{
	struct zk_runtime *rt;

	if (!io)
		return;
	rt = io->rt;
	zk_dump_signal_off(rt);
	zk_prof_env_write(rt);
	rt->eops->stop(rt);
	zk_worker_exit(&rt->root);
	zk_prof_free(rt);
	pthread_mutex_destroy(&rt->tasks_lock);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

enum zk_backend zk_io_backend(const struct zk_io *io)
{
	return io->rt->bops->kind;
}

enum zk_executor zk_io_executor(const struct zk_io *io)
{
	return io->rt->eops->kind;
}

unsigned int zk_io_native_ops(const struct zk_io *io, unsigned int *total)
{
	unsigned int n = 0, c;

	for (c = 0; c < ZK_OPC_COUNT; c++)
		n += io->loop.ops->native(&io->loop, (enum zk_opcode)c);
	if (total)
		*total = ZK_OPC_COUNT;
	return n;
}

bool zk_on_ring(const struct zk_io *io, enum zk_opcode code)
{
	return io->rt->bops->kind == ZK_BACKEND_ZSYNC &&
	       io->loop.ops->native(&io->loop, code);
}

int zk_yield(struct zk_io *io)
{
	return io->rt->eops->yield(io);
}
