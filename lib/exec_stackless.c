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
	t->state = ZK_TASK_DEAD;
	zk_future_complete(io, &t->fut, res);
}

/*
 * Steps a task may run in a row, each after zk_pending() on a future that
 * was done already (a channel op that did not wait), before it goes to the
 * back of the ready queue, so that it cannot starve the others or the loop.
 */
#define STEP_BURST	64

static void run_step(struct zk_io *io, struct zk_task *t)
{
	struct zk_task *prev = io->cur;
	unsigned int burst = 0;
	int64_t r;

	if (t->wait_f && !wait_over(io, t)) {
		t->state = ZK_TASK_PARKED;
		return;
	}
	if (t->state == ZK_TASK_NEW && zk_token_cancelled(&t->token)) {
		finish(io, t, -ECANCELED);
		return;
	}
again:
	io->cur = t;
	t->state = ZK_TASK_RUNNING;
	t->rerun = false;
	t->step_now = false;
	r = t->step(io, t->arg);
	io->cur = prev;
	if (r != ZK_PENDING) {
		finish(io, t, r);
	} else if (t->step_now && ++burst < STEP_BURST) {
		goto again;
	} else if (t->step_now) {
		t->state = ZK_TASK_READY;	/* wait_f is NULL: nothing to end */
		zk_list_add_tail(&io->ready, &t->link);
	} else if (!t->wait_f) {
		finish(io, t, -EINVAL);		/* PENDING without zk_pending() */
	} else if (t->rerun) {
		t->state = ZK_TASK_READY;
		zk_list_add_tail(&io->ready, &t->link);
	} else {
		t->state = ZK_TASK_PARKED;
	}
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
	zk_sched_park(io, run_step);
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
};
