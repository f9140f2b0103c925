// SPDX-License-Identifier: MIT
/*
 * The thread pool: N worker threads, each with its own loop (ring), take
 * tasks from one shared queue.  A task runs to completion on the worker
 * that took it; while it waits, that worker sleeps in its own loop, so its
 * completions are reaped where they were submitted.  Cross-thread wakeups
 * (a task finishing, a channel handing over, a new task for an idle
 * worker) go through zk_worker_kick(): nothing when the target is still
 * spinning, a futex wake when it sleeps with no op in flight, its ring's
 * wake (MSG_RING, the loop's eventfd) when it sleeps in its ring (io.c).
 *
 * A waiting task keeps its worker: N tasks waiting on work that is still
 * queued would wait forever, as in any fixed-size pool.  Size the pool
 * for the tasks that wait at the same time.
 */
#include <errno.h>
#include <stdlib.h>

#include "io_internal.h"

static struct zk_task *pool_take(struct zk_runtime *rt, struct zk_io *w)
{
	struct zk_list *n;

	pthread_mutex_lock(&rt->lock);
	n = zk_list_pop(&rt->runq);
	if (w->idle) {
		zk_list_del(&w->idle_link);
		w->idle = false;
	}
	if (!n && !rt->stopping) {
		w->idle = true;
		zk_list_add_tail(&rt->idle, &w->idle_link);
	}
	pthread_mutex_unlock(&rt->lock);
	return n ? zk_container_of(n, struct zk_task, link) : NULL;
}

static bool pool_stopping(struct zk_runtime *rt)
{
	bool stop;

	pthread_mutex_lock(&rt->lock);
	stop = rt->stopping && zk_list_empty(&rt->runq);
	pthread_mutex_unlock(&rt->lock);
	return stop;
}

static void *worker_main(void *arg)
{
	struct zk_io *w = arg;
	struct zk_runtime *rt = w->rt;

	/* Others compare against it only after hearing from this thread. */
	w->thread = pthread_self();

	while (!pool_stopping(rt)) {
		struct zk_task *t = pool_take(rt, w);

		if (t)
			zk_task_run(w, t);
		else
			zk_loop_wait(w, true);
	}
	return NULL;
}

/* Stop the @started first workers, free all @n. */
static void stop_workers(struct zk_runtime *rt, unsigned int started, unsigned int n)
{
	unsigned int i;

	pthread_mutex_lock(&rt->lock);
	ZK_STORE(&rt->stopping, true);	/* M:N workers read it unlocked */
	pthread_mutex_unlock(&rt->lock);
	for (i = 0; i < started; i++)
		zk_worker_kick(&rt->root, &rt->workers[i]);
	/* All joined before any is freed: a running M:N worker may steal from any. */
	for (i = 0; i < started; i++)
		pthread_join(rt->workers[i].handle, NULL);
	for (i = 0; i < n; i++)
		zk_worker_exit(&rt->workers[i]);
	free(rt->workers);
	rt->workers = NULL;
	rt->nworkers = 0;
}

/*
 * Shared with the M:N executor, whose workers run @main instead.  Every
 * worker exists before the first thread starts: M:N workers look at each
 * other's run queues.
 */
int zk_pool_start(struct zk_runtime *rt, void *(*main)(void *))
{
	unsigned int i, n = rt->opts.threads;
	int ret = 0;

	rt->workers = calloc(n, sizeof(*rt->workers));
	if (!rt->workers)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++) {
		ret = zk_worker_init(rt, &rt->workers[i], i + 1);
		if (ret)
			n = i;	/* free the ones before it */
	}
	rt->nworkers = n;
	for (i = 0; i < n && !ret; i++) {
		ret = -pthread_create(&rt->workers[i].handle, NULL, main, &rt->workers[i]);
		if (ret)
			break;
	}
	if (ret)
		stop_workers(rt, i, n);
	return ret;
}

void zk_pool_stop(struct zk_runtime *rt)
{
	stop_workers(rt, rt->nworkers, rt->nworkers);
}

static int threads_start(struct zk_runtime *rt)
{
	return zk_pool_start(rt, worker_main);
}

static int threads_spawn(struct zk_io *io, struct zk_task *t)
{
	struct zk_runtime *rt = io->rt;
	struct zk_io *idle = NULL;
	struct zk_list *n;

	pthread_mutex_lock(&rt->lock);
	zk_list_add_tail(&rt->runq, &t->link);
	n = zk_list_pop(&rt->idle);
	if (n) {
		idle = zk_container_of(n, struct zk_io, idle_link);
		idle->idle = false;
	}
	pthread_mutex_unlock(&rt->lock);
	if (idle)
		zk_worker_kick(io, idle);
	return 0;
}

const struct zk_exec_ops zk_exec_threads = {
	.kind = ZK_EXEC_THREADS,
	.start = threads_start,
	.stop = zk_pool_stop,
	.spawn = threads_spawn,
	.park = zk_exec_thread_park,
	.parkable = zk_exec_no_task,
	.make_ready = zk_exec_no_resume,
	.yield = zk_exec_thread_yield,
	.release = zk_exec_no_release,
};
