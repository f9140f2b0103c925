// SPDX-License-Identifier: MIT
/*
 * Tasks: spawning (one allocation: task, future and token together),
 * running a body to completion, the step-function driver that lets a
 * state machine run on any executor, and the ready-queue scheduler that
 * green threads and stackless tasks share.
 */
#include <errno.h>
#include <stdlib.h>

#include "io_internal.h"

static struct zk_task *task_new(struct zk_io *io, struct zk_token *parent)
{
	struct zk_task *t = calloc(1, sizeof(*t));

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	zk_future_init(&t->fut, ZK_F_TASK);
	if (zk_token_init(&t->token, parent ? parent : zk_current_token(io))) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->w = io;
	zk_list_init(&t->link);
	t->state = ZK_TASK_NEW;
	t->wait.fd = -1;
	t->parent_id = io->cur ? io->cur->id : 0;
	/* Spawning allocates anyway: the lock costs nothing that matters. */
	pthread_mutex_lock(&io->rt->tasks_lock);
	t->id = ++io->rt->next_id;
	zk_list_add_tail(&io->rt->tasks, &t->all);
	pthread_mutex_unlock(&io->rt->tasks_lock);
	return t;
}

void zk_task_forget(struct zk_runtime *rt, struct zk_task *t)
{
	pthread_mutex_lock(&rt->tasks_lock);
	zk_list_del(&t->all);
	pthread_mutex_unlock(&rt->tasks_lock);
}

static struct zk_future *spawn(struct zk_io *io, struct zk_task *t)
{
	int ret = io->rt->eops->spawn(io, t);

	if (ret) {
		zk_task_forget(io->rt, t);
		zk_token_destroy(&t->token);
		free(t);
		errno = -ret;
		return NULL;
	}
	return &t->fut;
}

/* One body or the other: a direct-style @fn, or a state machine @step. */
static struct zk_future *spawn_body(struct zk_io *io, struct zk_token *parent,
				    zk_task_fn fn, zk_step_fn step, void *arg)
{
	struct zk_task *t = task_new(io, parent);

	if (!t)
		return NULL;
	t->fn = fn;
	t->step = step;
	t->arg = arg;
	return spawn(io, t);
}

struct zk_future *zk_async_in(struct zk_io *io, struct zk_token *parent,
			      zk_task_fn fn, void *arg)
{
	return spawn_body(io, parent, fn, NULL, arg);
}

struct zk_future *zk_async(struct zk_io *io, zk_task_fn fn, void *arg)
{
	return spawn_body(io, NULL, fn, NULL, arg);
}

struct zk_future *zk_async_step(struct zk_io *io, zk_step_fn step, void *arg)
{
	return spawn_body(io, NULL, NULL, step, arg);
}

/* A state machine run as an ordinary task: await between the steps. */
static int64_t drive_steps(struct zk_io *io, struct zk_task *t)
{
	for (;;) {
		struct zk_future *f;
		int64_t r = t->step(io, t->arg);

		if (r != ZK_PENDING)
			return r;
		f = t->wait_f;
		if (!f)
			return -EINVAL;
		t->wait_f = NULL;
		zk_await(io, f);
	}
}

void zk_task_run(struct zk_io *io, struct zk_task *t)
{
	struct zk_task *prev = io->cur;
	int64_t res;

	io->cur = t;
	/* Atomic: a dump on another thread of the pool reads it. */
	__atomic_store_n(&t->state, ZK_TASK_RUNNING, __ATOMIC_RELAXED);
	if (zk_token_cancelled(&t->token))
		res = -ECANCELED;	/* cancelled before it started */
	else if (t->fn)
		res = t->fn(io, t->arg);
	else
		res = drive_steps(io, t);
	io->cur = prev;
	__atomic_store_n(&t->state, ZK_TASK_DEAD, __ATOMIC_RELAXED);
	/* Last touch: the awaiter may free @t from here on. */
	zk_future_complete(io, &t->fut, res);
}

int64_t zk_pending(struct zk_io *io, struct zk_future *f)
{
	struct zk_task *t = io->cur;

	if (!t || !t->step || !f || f->kind == ZK_F_IDLE)
		return -EINVAL;
	if (io->rt->eops->suspends_steps)
		zk_stackless_suspend(io, t, f);
	else
		t->wait_f = f;
	return ZK_PENDING;
}

void zk_step_state(struct zk_io *io, int state)
{
	if (io->cur)	/* a dump on another pool thread may read it */
		__atomic_store_n(&io->cur->step_state, state, __ATOMIC_RELAXED);
}

/* ---- the single-thread scheduler ------------------------------------ */

void zk_sched_make_ready(struct zk_io *io, struct zk_task *t)
{
	if (t->state == ZK_TASK_PARKED) {
		t->state = ZK_TASK_READY;
		zk_list_add_tail(&io->ready, &t->link);
	} else if (t->state == ZK_TASK_RUNNING) {
		t->rerun = true;	/* woken before it finished suspending */
	}
}

/*
 * One scheduling round for a thread-level wait: run what is ready (then
 * poll the loop without sleeping so I/O keeps moving), or sleep in the
 * loop when nothing is.
 */
void zk_sched_park(struct zk_io *io, void (*resume)(struct zk_io *, struct zk_task *))
{
	struct zk_list batch;
	struct zk_list *n;

	if (zk_list_empty(&io->ready)) {
		zk_loop_wait(io, true);
		return;
	}
	zk_list_init(&batch);
	zk_list_splice_tail(&batch, &io->ready);
	while ((n = zk_list_pop(&batch)))
		resume(io, zk_container_of(n, struct zk_task, link));
	if (io->inflight || __atomic_load_n(&io->inbox, __ATOMIC_RELAXED))
		zk_loop_wait(io, false);
}
