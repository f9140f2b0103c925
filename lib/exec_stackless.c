// SPDX-License-Identifier: MIT
/*
 * The stackless executor: state-machine tasks (zk_async_step()) driven by
 * the event loop of the thread that waits, with no stack of their own.  A
 * step that returns zk_pending(io, f) leaves a waiter on f; f's completion
 * (or a cancellation of the task's token) makes the task ready again, and
 * the next scheduling round calls its step once f is done.
 *
 * Direct-style code still works here: zk_async() runs its body at once as
 * the blocking executor does, and a direct wait inside a step runs the
 * loop (and the other ready tasks) until it is satisfied.
 */
#include <errno.h>

#include "io_internal.h"

void zk_stackless_suspend(struct zk_io *io, struct zk_task *t, struct zk_future *f)
{
	/* Done already (a channel op that did not wait): no wait at all. */
	if (zk_fut_done(f)) {
		t->step_now = true;
		return;
	}
	t->wait_f = f;
	zk_wait_begin_rec(io, &t->wait, f, 0);
	t->cancel_sent = false;
	t->watching = false;
	zk_waiter_init(&t->waiter, io, t);
	t->wait_attached = zk_waiter_attach(&t->waiter, f);
	if (!t->wait_attached) {
		t->rerun = true;	/* already done (or taken): run again */
		return;
	}
	t->watching = zk_token_watch(&t->token, &t->waiter);
	if (!t->watching)
		t->rerun = true;	/* cancelled: come back to cancel f */
}

/* Whether @t's wait is over; cancels its future once when told to. */
static bool wait_over(struct zk_io *io, struct zk_task *t)
{
	struct zk_future *f = t->wait_f;
	unsigned int expected;

	if (!zk_fut_done(f) && zk_token_cancelled(&t->token) && !t->cancel_sent) {
		t->cancel_sent = true;
		zk_future_request_cancel(io, f);
	}
	if (!zk_fut_done(f))
		return false;
	expected = t->wait_attached ? 1 : 0;
	if (t->watching)
		expected += zk_token_unwatch(&t->token, &t->waiter);
	zk_waiter_quiesce(io, &t->waiter, expected);
	t->wait_f = NULL;
	zk_wait_end(io, t, &t->wait, false);
	return true;
}

static void finish(struct zk_io *io, struct zk_task *t, int64_t res)
{
	ZK_STORE(&t->state, ZK_TASK_DEAD);
	zk_future_complete(io, &t->fut, res);
}

/* What becomes of a task that waits: the one-thread and M:N executors differ. */
struct step_end {
	/* It is to run again (woken before it could park, or done already). */
	void (*requeue)(struct zk_io *io, struct zk_task *t);
	/* It waits: the last touch, a waker may run it from here on. */
	void (*park)(struct zk_io *io, struct zk_task *t);
};

/*
 * Steps a task may run in a row, each after zk_pending() on a future that
 * was done already (a channel op that did not wait), before it goes to the
 * back of the ready queue, so that it cannot starve the others or the loop.
 */
#define STEP_BURST	64

static void run_step(struct zk_io *io, struct zk_task *t, const struct step_end *end)
{
	struct zk_task *prev = io->cur;
	bool fresh = ZK_XCHG(&t->state, ZK_TASK_RUNNING) == ZK_TASK_NEW;
	unsigned int burst = 0;
	int64_t r;

	if (t->wait_f && !wait_over(io, t)) {
		end->park(io, t);
		return;
	}
	if (fresh && zk_token_cancelled(&t->token)) {
		finish(io, t, -ECANCELED);
		return;
	}
again:
	io->cur = t;
	t->rerun = false;
	t->step_now = false;
	r = t->step(io, t->arg);
	io->cur = prev;
	if (r != ZK_PENDING)
		finish(io, t, r);
	else if (t->step_now && ++burst < STEP_BURST)
		goto again;
	else if (t->step_now)
		end->requeue(io, t);		/* wait_f is NULL: nothing to end */
	else if (!t->wait_f)
		finish(io, t, -EINVAL);		/* PENDING without zk_pending() */
	else if (t->rerun)
		end->requeue(io, t);
	else
		end->park(io, t);
}

static void one_requeue(struct zk_io *io, struct zk_task *t)
{
	t->state = ZK_TASK_READY;
	zk_list_add_tail(&io->ready, &t->link);
}

static void one_park(struct zk_io *io, struct zk_task *t)
{
	(void)io;
	t->state = ZK_TASK_PARKED;
}

static const struct step_end one_thread = {
	.requeue = one_requeue,
	.park = one_park,
};

static void run_one(struct zk_io *io, struct zk_task *t)
{
	run_step(io, t, &one_thread);
}

static int stackless_spawn(struct zk_io *io, struct zk_task *t)
{
	if (!t->step) {
		zk_task_run(io, t);	/* direct style: no stack to park on */
		return 0;
	}
	/* The tasks of a runtime all run on the thread that created it. */
	if (!zk_on_thread(&io->rt->root))
		return -EINVAL;
	/* It stays NEW in the ready queue, so run_step() knows it never ran. */
	zk_list_add_tail(&io->rt->root.ready, &t->link);
	return 0;
}

static void stackless_park(struct zk_io *io)
{
	zk_sched_park(io, run_one);
}

const struct zk_exec_ops zk_exec_stackless = {
	.kind = ZK_EXEC_STACKLESS,
	.start = zk_exec_no_start,
	.stop = zk_exec_no_stop,
	.spawn = stackless_spawn,
	.park = stackless_park,
	.parkable = zk_exec_no_task,
	.make_ready = zk_sched_make_ready,
	.yield = zk_exec_thread_yield,
	.release = zk_exec_no_release,
	.suspends_steps = true,
};

/* ------------------------------------------------------------------ */
/* M:N: the same tasks on N worker threads                             */
/* ------------------------------------------------------------------ */

/*
 * Each worker of the pool (exec_threads.c's, running mn_main()) has its
 * own loop and its own run queue (io->ready under io->rq_lock).  A task
 * goes to:
 *  - the queue of the worker that spawned it, or round robin from the
 *    root and other threads;
 *  - when woken by a worker of the runtime, that worker's queue, where it
 *    runs next (a CQE: the worker it suspended on, which reaped it; a
 *    channel or a task: the waker's, so a ping-pong stays on one thread);
 *    from elsewhere, the queue of the worker it suspended on (its waiter's
 *    owner), kicked;
 *  - when a worker runs out of work, the queue of any worker that has
 *    some: it steals half of it.  A task woken (cancelled) while its op is
 *    still in flight stays on the worker it suspended on, since an op is
 *    cancelled on its own loop.
 * A task's state is one atomic word: make_ready() (any thread) turns
 * PARKED into READY and queues it, or RUNNING into WOKEN; the worker that
 * runs it parks it with a compare-and-swap from RUNNING, which fails when
 * it was WOKEN meanwhile (it is queued again instead).  Waker and runner
 * meet only in read-modify-writes of that word, so neither misses the other.
 */

/*
 * The M:N worker the calling thread is (zsync's wake wants the waker's
 * loop).  initial-exec: a direct %fs access, no __tls_get_addr() call per
 * wakeup and so no dependency of the shared library on ld.so (which
 * install-test checks); eight bytes of the static TLS surplus even when
 * the library is dlopen()ed.
 */
static __thread struct zk_io *mn_self __attribute__((tls_model("initial-exec")));

/* A worker queued work for itself: wake an idle one to come and steal. */
static void mn_nudge(struct zk_runtime *rt, struct zk_io *self)
{
	struct zk_io *idle = NULL;
	struct zk_list *n;

	/*
	 * Against mn_idle(): here rq_len's increment, then nidle; there,
	 * nidle's, then rq_len (all sequentially consistent): one of the
	 * two sees the other.
	 */
	if (!ZK_LOAD_SC(&rt->nidle))
		return;
	pthread_mutex_lock(&rt->lock);
	n = zk_list_pop(&rt->idle);
	if (n) {
		idle = zk_container_of(n, struct zk_io, idle_link);
		idle->idle = false;
		__atomic_sub_fetch(&rt->nidle, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&rt->lock);
	if (idle)
		zk_worker_kick(self, idle);
}

static void mn_idle(struct zk_io *w, bool on)
{
	struct zk_runtime *rt = w->rt;

	pthread_mutex_lock(&rt->lock);
	if (w->idle != on) {
		if (on)
			zk_list_add_tail(&rt->idle, &w->idle_link);
		else
			zk_list_del(&w->idle_link);
		w->idle = on;
		if (on)
			__atomic_add_fetch(&rt->nidle, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_sub_fetch(&rt->nidle, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&rt->lock);
}

/*
 * Queue @t (READY or NEW) on @w and make sure somebody runs it: @w itself
 * (kicked, unless it is this thread, which runs it next), and an idle
 * worker when this thread queues more than the one task it will run next.
 * A ping-pong between two tasks thus stays on one worker, as a fan-out
 * spreads.
 */
static void mn_push(struct zk_io *w, struct zk_task *t)
{
	struct zk_io *self = mn_self;
	unsigned int len;

	pthread_mutex_lock(&w->rq_lock);
	zk_list_add_tail(&w->ready, &t->link);
	len = __atomic_add_fetch(&w->rq_len, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&w->rq_lock);
	/* @t may run (and be freed) from here on. */
	if (w != self)
		zk_worker_kick(self, w);
	else if (len > 1)
		mn_nudge(w->rt, self);
}

static struct zk_task *mn_pop(struct zk_io *w)
{
	struct zk_list *n = NULL;

	if (!ZK_LOAD_SC(&w->rq_len))
		return NULL;
	pthread_mutex_lock(&w->rq_lock);
	n = zk_list_pop(&w->ready);
	if (n)
		__atomic_sub_fetch(&w->rq_len, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&w->rq_lock);
	return n ? zk_container_of(n, struct zk_task, link) : NULL;
}

/* Whether another worker may run @t: not while its op still runs here. */
static bool mn_movable(const struct zk_task *t)
{
	const struct zk_future *f = t->wait_f;

	return !f || f->kind != ZK_F_OP || zk_fut_done(f);
}

/* Take half of @v's movable tasks into @w's queue. */
static bool mn_steal_from(struct zk_io *w, struct zk_io *v)
{
	struct zk_list got, *n, *next;
	unsigned int want, took = 0;

	zk_list_init(&got);
	pthread_mutex_lock(&v->rq_lock);
	want = (v->rq_len + 1) / 2;
	for (n = v->ready.next; n != &v->ready && took < want; n = next) {
		next = n->next;
		if (!mn_movable(zk_container_of(n, struct zk_task, link)))
			continue;
		zk_list_del(n);
		zk_list_add_tail(&got, n);
		took++;
	}
	__atomic_sub_fetch(&v->rq_len, took, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&v->rq_lock);
	if (!took)
		return false;
	pthread_mutex_lock(&w->rq_lock);
	zk_list_splice_tail(&w->ready, &got);
	__atomic_add_fetch(&w->rq_len, took, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&w->rq_lock);
	return true;
}

/* The next task for @w: its own queue first, then the others', in turn. */
static struct zk_task *mn_next(struct zk_io *w)
{
	struct zk_runtime *rt = w->rt;
	struct zk_task *t = mn_pop(w);
	unsigned int i, n = rt->nworkers;

	for (i = 0; !t && i < n; i++) {
		struct zk_io *v = &rt->workers[(w->steal_from + i) % n];

		if (v == w || !ZK_LOAD_SC(&v->rq_len) || !mn_steal_from(w, v))
			continue;
		w->steal_from = (w->steal_from + i) % n;
		t = mn_pop(w);
	}
	return t;
}

static void mn_requeue(struct zk_io *io, struct zk_task *t)
{
	ZK_STORE(&t->state, ZK_TASK_READY);
	mn_push(io, t);
}

static void mn_park_task(struct zk_io *io, struct zk_task *t)
{
	int s = ZK_TASK_RUNNING;

	if (!__atomic_compare_exchange_n(&t->state, &s, ZK_TASK_PARKED, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		mn_requeue(io, t);	/* WOKEN while it ran */
}

static const struct step_end mn_end = {
	.requeue = mn_requeue,
	.park = mn_park_task,
};

/* Run @t, then reap what completed (no sleep) if anything may have. */
static void mn_run(struct zk_io *w, struct zk_task *t)
{
	run_step(w, t, &mn_end);
	if (w->inflight || ZK_LOAD(&w->inbox))
		zk_loop_wait(w, false);
}

static void *mn_main(void *arg)
{
	struct zk_io *w = arg;
	struct zk_runtime *rt = w->rt;

	w->thread = pthread_self();
	mn_self = w;
	w->steal_from = w->index % rt->nworkers;
	for (;;) {
		struct zk_task *t = mn_next(w);

		if (!t && !ZK_LOAD(&rt->stopping)) {
			/* Idle first, then one more look: a nudge cannot be missed. */
			mn_idle(w, true);
			t = mn_next(w);
			if (!t)
				zk_loop_wait(w, true);
			mn_idle(w, false);
		}
		if (t)
			mn_run(w, t);
		else if (ZK_LOAD(&rt->stopping))
			break;
	}
	mn_self = NULL;
	return NULL;
}

static int mn_start(struct zk_runtime *rt)
{
	return zk_pool_start(rt, mn_main);
}

static int mn_spawn(struct zk_io *io, struct zk_task *t)
{
	struct zk_runtime *rt = io->rt;
	struct zk_io *w = mn_self;

	if (!t->step) {
		zk_task_run(io, t);	/* direct style: no stack to park on */
		return 0;
	}
	if (!w || w->rt != rt)
		w = &rt->workers[__atomic_fetch_add(&rt->next_worker, 1,
						    __ATOMIC_RELAXED) % rt->nworkers];
	mn_push(w, t);	/* NEW: run_step() knows it never ran */
	return 0;
}

/* A direct wait: a worker runs other tasks meanwhile, the root sleeps. */
static void mn_park(struct zk_io *io)
{
	struct zk_task *t = io == mn_self ? mn_next(io) : NULL;

	if (t)
		mn_run(io, t);
	else
		zk_loop_wait(io, true);
}

/*
 * Any thread: @t's waker took it (@io: the worker it suspended on).  A
 * worker of the same runtime queues it on its own queue, where it runs
 * next, unless its op is still in flight on @io (a cancellation woke it).
 */
static void mn_make_ready(struct zk_io *io, struct zk_task *t)
{
	struct zk_io *self = mn_self;
	int s = ZK_LOAD(&t->state), to;

	do {
		to = s == ZK_TASK_PARKED ? ZK_TASK_READY :
		     s == ZK_TASK_RUNNING ? ZK_TASK_WOKEN : s;
	} while (!__atomic_compare_exchange_n(&t->state, &s, to, true,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	if (s != ZK_TASK_PARKED)
		return;
	if (self && self->rt == io->rt && mn_movable(t))
		io = self;
	mn_push(io, t);
}

const struct zk_exec_ops zk_exec_stackless_mn = {
	.kind = ZK_EXEC_STACKLESS_MN,
	.start = mn_start,
	.stop = zk_pool_stop,
	.spawn = mn_spawn,
	.park = mn_park,
	.parkable = zk_exec_no_task,
	.make_ready = mn_make_ready,
	.yield = zk_exec_thread_yield,
	.release = zk_exec_no_release,
	.ready_anywhere = true,
	.suspends_steps = true,
};
