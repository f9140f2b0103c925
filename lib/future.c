// SPDX-License-Identifier: MIT
/*
 * Futures and waiters: completing a future, waking whoever waits on it
 * (on this thread or through its worker's inbox), awaiting with
 * cancellation, and the rule that keeps a waiter on the stack safe: it
 * returns only after every taker has finished touching it.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

void zk_future_init(struct zk_future *f, enum zk_future_kind kind)
{
	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t)kind;
}

/*
 * Reset @f for a new use as @kind, keeping who owns its memory.  A wait in
 * a primitive's queue, which every channel operation that waits sets up,
 * clears only its own small member of the union, not the op's large one.
 */
void zk_future_reset(struct zk_future *f, enum zk_future_kind kind)
{
	bool heap = f->heap;

	if (kind == ZK_F_PRIM) {
		memset(f, 0, offsetof(struct zk_future, pw) + sizeof(f->pw));
		f->kind = (uint8_t)kind;
	} else {
		zk_future_init(f, kind);
	}
	f->heap = heap;
}

/*
 * Nobody can wait on @f yet (its op is only now being started), so no
 * waiter to wake and nothing to clear but the header: cheaper than a reset
 * and a completion, for the channel operations that do not wait.
 */
void zk_future_prim_done(struct zk_future *f, int64_t res)
{
	f->kind = ZK_F_PRIM;
	f->owner = NULL;
	f->result = res;
	__atomic_store_n(&f->wslot, ZK_WSLOT_DONE, __ATOMIC_RELEASE);
}

void zk_waiter_init(struct zk_waiter *w, struct zk_io *io, struct zk_task *task)
{
	memset(w, 0, sizeof(*w));
	w->owner = io;
	w->task = task;
}

bool zk_waiter_attach(struct zk_waiter *w, struct zk_future *f)
{
	uintptr_t expect = 0;

	return __atomic_compare_exchange_n(&f->wslot, &expect, (uintptr_t)w,
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

unsigned int zk_waiter_detach(struct zk_waiter *w, struct zk_future *f)
{
	uintptr_t expect = (uintptr_t)w;

	if (__atomic_compare_exchange_n(&f->wslot, &expect, 0, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	/* Only the completer replaces our pointer: it took us. */
	return expect == ZK_WSLOT_DONE ? 1 : 0;
}

/*
 * The taker has already claimed @w (exchanged it out of a future, or
 * removed it from a token).  Its last access is the done_takers increment.
 */
void zk_waiter_wake(struct zk_io *waker, struct zk_waiter *w)
{
	struct zk_io *owner = w->owner;

	/* M:N: make_ready() queues the task from any thread, no inbox. */
	if (zk_on_thread(owner) || (w->task && owner->rt->eops->ready_anywhere)) {
		if (w->task)
			owner->rt->eops->make_ready(owner, w->task);
	} else if (!ZK_XCHG(&w->queued, 1)) {
		struct zk_waiter *head = __atomic_load_n(&owner->inbox, __ATOMIC_RELAXED);

		do {
			w->inbox_next = head;
		} while (!__atomic_compare_exchange_n(&owner->inbox, &head, w, true,
						      __ATOMIC_SEQ_CST,
						      __ATOMIC_RELAXED));
		zk_worker_kick(waker, owner);
	}
	__atomic_fetch_add(&w->done_takers, 1, __ATOMIC_RELEASE);
}

void zk_inbox_process(struct zk_io *w)
{
	struct zk_waiter *n;

	if (!__atomic_load_n(&w->inbox, __ATOMIC_RELAXED))
		return;
	n = ZK_XCHG(&w->inbox, NULL);
	while (n) {
		struct zk_waiter *next = n->inbox_next;
		struct zk_task *task = n->task;

		/* Clear first: a take that finds 0 queues it again. */
		ZK_STORE_SC(&n->queued, 0);
		if (task)
			w->rt->eops->make_ready(w, task);
		n = next;
	}
}

void zk_waiter_quiesce(struct zk_io *io, struct zk_waiter *w, unsigned int expected)
{
	while (ZK_LOAD(&w->done_takers) < expected)
		sched_yield();	/* a remote taker is between its take and its count */
	while (ZK_LOAD_SC(&w->queued))
		zk_inbox_process(io);
}

void zk_future_complete(struct zk_io *waker, struct zk_future *f, int64_t res)
{
	uintptr_t old;

	f->result = res;
	old = __atomic_exchange_n(&f->wslot, ZK_WSLOT_DONE, __ATOMIC_ACQ_REL);
	if (old > ZK_WSLOT_DONE)
		zk_waiter_wake(waker, (struct zk_waiter *)old);
}

void zk_future_request_cancel(struct zk_io *io, struct zk_future *f)
{
	if (zk_fut_done(f))
		return;
	switch (f->kind) {
	case ZK_F_OP:
		/* Ops are cancelled on the loop that owns them. */
		if (f->owner == io && f->op.state == ZK_OP_INFLIGHT &&
		    !f->op.cancel_sent) {
			f->op.cancel_sent = true;
			io->rt->bops->cancel(&io->loop, &f->op);
		}
		break;
	case ZK_F_TASK:
		zk_token_cancel(io, &zk_container_of(f, struct zk_task, fut)->token);
		break;
	case ZK_F_PRIM:
		zk_prim_cancel(io, f);
		break;
	}
}

int64_t zk_await_internal(struct zk_io *io, struct zk_future *f, bool cancellable)
{
	const struct zk_exec_ops *ex = io->rt->eops;
	struct zk_token *tok = cancellable ? zk_current_token(io) : NULL;
	bool watching = false, cancel_sent = false;
	struct zk_wait_rec *rec;
	struct zk_waiter w;
	unsigned int expected;

	if (zk_fut_done(f))
		return f->result;
	if (f->kind == ZK_F_IDLE)
		return -EINVAL;
	zk_waiter_init(&w, io, ex->parkable(io));
	if (!zk_waiter_attach(&w, f))
		return zk_fut_done(f) ? f->result : -EBUSY;
	if (tok)
		watching = zk_token_watch(tok, &w);

	rec = zk_wait_begin(io, f, 0);
	while (!zk_fut_done(f)) {
		if (tok && !cancel_sent && zk_token_cancelled(tok)) {
			cancel_sent = true;
			zk_future_request_cancel(io, f);
			continue;
		}
		ex->park(io);
	}
	zk_wait_end(io, io->cur, rec, true);
	expected = 1;	/* the completer took us */
	if (watching)
		expected += zk_token_unwatch(tok, &w);
	zk_waiter_quiesce(io, &w, expected);
	return f->result;
}

int64_t zk_await(struct zk_io *io, struct zk_future *f)
{
	return zk_await_internal(io, f, true);
}

int64_t zk_cancel(struct zk_io *io, struct zk_future *f)
{
	zk_future_request_cancel(io, f);
	return zk_await_internal(io, f, false);
}

bool zk_future_done(const struct zk_future *f)
{
	return zk_fut_done(f);
}

int64_t zk_future_result(const struct zk_future *f)
{
	return zk_fut_done(f) ? f->result : -EINPROGRESS;
}

struct zk_future *zk_future_new(void)
{
	struct zk_future *f = malloc(sizeof(*f));

	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	zk_future_init(f, ZK_F_IDLE);
	f->heap = true;
	return f;
}

void zk_future_free(struct zk_io *io, struct zk_future *f)
{
	if (!f)
		return;
	if (f->kind != ZK_F_IDLE && !zk_fut_done(f))
		zk_cancel(io, f);
	if (f->kind == ZK_F_TASK) {
		struct zk_task *t = zk_container_of(f, struct zk_task, fut);

		io->rt->eops->release(io, t);
		zk_task_forget(io->rt, t);
		zk_token_destroy(&t->token);
		free(t);
	} else if (f->heap) {
		free(f);
	}
}
