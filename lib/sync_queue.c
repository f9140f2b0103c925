// SPDX-License-Identifier: MIT
/*
 * Wait queues of the primitives.  A waiter is a ZK_F_PRIM future queued
 * under the primitive's lock.  Whoever dequeues it owns the right to
 * complete it, and does so after dropping the lock (completing may wake a
 * thread, a syscall); a cancelled waiter that is still queued is dequeued
 * and completed by its canceller.  A select's waiters share a claim word:
 * only the first party to claim it may act on one of them, the others
 * complete the losers with -ECANCELED.
 */
#include <errno.h>

#include "io_internal.h"

void zk_prim_enqueue(pthread_mutex_t *lock, struct zk_list *q,
		     struct zk_future *f, void *elem, uint32_t *claim,
		     enum zk_wait_kind kind)
{
	zk_future_reset(f, ZK_F_PRIM);
	f->pw.wkind = (uint8_t)kind;
	f->pw.lock = lock;
	f->pw.elem = elem;
	f->pw.claim = claim;
	f->pw.queued = true;
	zk_list_add_tail(q, &f->pw.link);
}

static bool claim(struct zk_future *f)
{
	uint32_t zero = 0;

	return !f->pw.claim ||
	       __atomic_compare_exchange_n(f->pw.claim, &zero, 1, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void zk_prim_finish(struct zk_list *done, struct zk_future *f, int64_t res)
{
	f->pw.res = res;
	zk_list_add_tail(done, &f->pw.link);
}

struct zk_future *zk_prim_take(struct zk_list *q, struct zk_list *done)
{
	struct zk_list *n;

	while ((n = zk_list_pop(q))) {
		struct zk_future *f = zk_container_of(n, struct zk_future, pw.link);

		f->pw.queued = false;
		if (claim(f))
			return f;
		zk_prim_finish(done, f, -ECANCELED);	/* its select chose another */
	}
	return NULL;
}

void zk_prim_complete_all(struct zk_io *io, struct zk_list *done)
{
	struct zk_list *n;

	while ((n = zk_list_pop(done))) {
		struct zk_future *f = zk_container_of(n, struct zk_future, pw.link);

		zk_future_complete(io, f, f->pw.res);
	}
}

void zk_prim_cancel(struct zk_io *io, struct zk_future *f)
{
	bool mine;

	pthread_mutex_lock(f->pw.lock);
	mine = f->pw.queued;
	if (mine) {
		zk_list_del(&f->pw.link);
		f->pw.queued = false;
	}
	pthread_mutex_unlock(f->pw.lock);
	if (mine)
		zk_future_complete(io, f, -ECANCELED);
}
