// SPDX-License-Identifier: GPL-2.0
/*
 * Cancellation lookup: CANCEL, POLL_REMOVE and ring close find armed
 * requests in the cancel index (req.c) and claim them, a bounded number
 * per hold of ring->lock.
 */
#include <linux/kernel.h>
#include "zsync.h"
#include "zsync_trace.h"

/**
 * zsync_cancel_locked() - stop an armed request
 * @req: a request from the cancel index; caller holds ring->lock
 *
 * Return: 0 if @req was claimed and the caller must now complete it,
 * -EALREADY if someone else owns its completion (it was claimed already,
 * or its op is completing it by itself right now).
 */
int zsync_cancel_locked(struct zsync_req *req)
{
	int ret;

	lockdep_assert_held(&req->ring->lock);
	/*
	 * Claimed already: its cancel() must not run again, since a stopped
	 * timer would answer "stopped" a second time.
	 */
	if (req->own != ZSYNC_REQ_ARMED)
		return -EALREADY;
	ret = req->def->cancel ? req->def->cancel(req) : -EALREADY;
	if (!ret)
		zsync_req_claim_locked(req);
	return ret;
}

/* Most requests cancelled, and most index entries looked at, per hold of ring->lock. */
#define ZSYNC_CANCEL_BATCH	64

/* Where a cancel walk is, between two holds of ring->lock. */
struct zsync_cancel_walk {
	const struct zsync_cancel *c;
	struct zsync_req	*self;
	/*
	 * CANCEL_ANY walks ring->inflight from its head: what it looked at
	 * and left (no match, or owned by someone else) waits here, still
	 * armed and in the trees, until the walk puts it back in front.
	 */
	struct list_head	skipped;
	u64			after;	/* by key: arm_seq of the last looked at */
	int			nr;	/* cancelled */
	int			busy;	/* matched, but owned by someone else */
	bool			done;
};

/*
 * By key: the first armed request whose key is @key and arm_seq is above
 * @after, in O(log n).  Caller holds ring->lock.
 */
static struct zsync_req *zsync_index_next(struct rb_root *root, bool by_fd, u64 key, u64 after)
{
	struct rb_node *n = root->rb_node;
	struct zsync_req *best = NULL;

	while (n) {
		struct zsync_req *r = by_fd ? rb_entry(n, struct zsync_req, fd_node) :
					      rb_entry(n, struct zsync_req, ud_node);
		u64 k = by_fd ? (u64)r->fd : r->user_data;

		if (k > key || (k == key && r->arm_seq > after)) {
			best = r;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	if (!best || (by_fd ? (u64)best->fd : best->user_data) != key)
		return NULL;
	return best;
}

/* The next request a walk looks at, or NULL.  Caller holds ring->lock. */
static struct zsync_req *zsync_cancel_next(struct zsync_ring *ring, struct zsync_cancel_walk *w)
{
	const struct zsync_cancel *c = w->c;

	if (c->flags & ZSYNC_CANCEL_ANY)
		return list_first_entry_or_null(&ring->inflight, struct zsync_req, inflight);
	if (c->flags & ZSYNC_CANCEL_FD)
		return zsync_index_next(&ring->cancel_fd, true, (u64)c->fd, w->after);
	return zsync_index_next(&ring->cancel_ud, false, c->user_data, w->after);
}

/* A request the walk leaves armed; caller holds ring->lock. */
static void zsync_cancel_skip(struct zsync_cancel_walk *w, struct zsync_req *req)
{
	if (w->c->flags & ZSYNC_CANCEL_ANY)
		list_move_tail(&req->inflight, &w->skipped);
}

/*
 * One hold of ring->lock: looks at up to ZSYNC_CANCEL_BATCH requests and
 * claims the matches it can; completes them once the lock is dropped.
 */
static void zsync_cancel_batch(struct zsync_ring *ring, struct zsync_cancel_walk *w)
{
	struct zsync_req *claimed[ZSYNC_CANCEL_BATCH];
	const struct zsync_cancel *c = w->c;
	int i, nr = 0, seen = 0;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	while (seen < ZSYNC_CANCEL_BATCH) {
		struct zsync_req *req = zsync_cancel_next(ring, w);

		if (!req) {
			w->done = true;
			break;
		}
		seen++;
		w->after = req->arm_seq;
		if (req == w->self || (c->only_opcode && req->opcode != c->opcode) ||
		    (c->owner && req->owner != c->owner)) {
			zsync_cancel_skip(w, req);
			continue;
		}
		if (zsync_cancel_locked(req)) {
			w->busy++;
			zsync_cancel_skip(w, req);
		} else {
			claimed[nr++] = req;
		}
		if (!(c->flags & ZSYNC_CANCEL_ALL)) {
			w->done = true;
			break;
		}
	}
	/* Back in front, in the order they were armed. */
	if (w->done)
		list_splice_init(&w->skipped, &ring->inflight);
	spin_unlock_irqrestore(&ring->lock, flags);

	/* Claimed: nobody else can complete them, nor find them any more. */
	for (i = 0; i < nr; i++)
		zsync_req_complete(claimed[i], -ECANCELED);
	w->nr += nr;
}

/**
 * zsync_cancel_match() - cancel armed requests matching @c
 * @ring: the ring; process context, no spinlock held (it may reschedule)
 * @c: what to match and how many
 * @self: the cancelling request, never matched itself
 *
 * By user_data or by fd, the first match is found in O(log n) through the
 * cancel index; CANCEL_ANY takes the oldest armed request.  However many
 * requests are in flight, one hold of ring->lock (interrupts off) looks
 * at no more than ZSYNC_CANCEL_BATCH of them: a long walk (CANCEL_ALL, a
 * ring closing with tens of thousands of armed timeouts, POLL_REMOVE
 * stepping over other ops with the same user_data) drops the lock and may
 * reschedule between batches.  Callers (CANCEL, POLL_REMOVE, ring
 * release) run in process context with no spinlock held.
 *
 * Return: the number cancelled, -EALREADY if every match was already
 * completing, -ENOENT if nothing matched.
 */
int zsync_cancel_match(struct zsync_ring *ring, const struct zsync_cancel *c,
		       struct zsync_req *self)
{
	struct zsync_cancel_walk w = { .c = c, .self = self };

	INIT_LIST_HEAD(&w.skipped);
	for (;;) {
		zsync_cancel_batch(ring, &w);
		if (w.done)
			break;
		cond_resched();
	}
	trace_zsync_cancel(ring, c, w.nr);
	if (w.nr)
		return w.nr;
	return w.busy ? -EALREADY : -ENOENT;
}
