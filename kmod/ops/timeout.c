// SPDX-License-Identifier: GPL-2.0
/*
 * TIMEOUT and LINK_TIMEOUT.  Both run on a hard-irq hrtimer and post their
 * CQE from the timer interrupt.
 *
 * A TIMEOUT completes with -ETIME when its timer fires, or with 0 once
 * `count` other CQEs were posted after it was armed.
 *
 * A LINK_TIMEOUT guards the request right before it in a chain (the
 * target): it is armed when the target is armed; if it fires first it
 * cancels the target, if the target completes first it is cancelled.
 * Both sides decide under ring->lock, through lt->timeout.target and
 * target->has_lt, which of them hands the rest of the chain on.
 */
#include <linux/kernel.h>
#include <linux/uaccess.h>
#include <linux/time64.h>
#include <linux/ktime.h>
#include "zsync.h"
#include "zsync_trace.h"

static int zsync_timespec_copy(const struct zsync_sqe *sqe, ktime_t *out)
{
	struct zsync_timespec uts;
	struct timespec64 ts;

	if (!sqe->addr)
		return -EINVAL;
	/* Copied now: the request never looks at user memory again. */
	if (copy_from_user(&uts, u64_to_user_ptr(sqe->addr), sizeof(uts)))
		return -EFAULT;
	ts.tv_sec = uts.tv_sec;
	ts.tv_nsec = uts.tv_nsec;
	if (!timespec64_valid(&ts))
		return -EINVAL;
	*out = timespec64_to_ktime(ts);
	return 0;
}

static int zsync_timer_prep(struct zsync_req *req, const struct zsync_sqe *sqe,
			    u32 allowed, enum hrtimer_restart (*fire)(struct hrtimer *))
{
	struct zsync_timeout *t = &req->timeout;
	u32 flags = sqe->op_flags;
	clockid_t clock = CLOCK_MONOTONIC;
	int ret;

	if (flags & ~allowed)
		return -EINVAL;
	if ((flags & ZSYNC_TIMEOUT_BOOTTIME) && (flags & ZSYNC_TIMEOUT_REALTIME))
		return -EINVAL;
	if (flags & ZSYNC_TIMEOUT_BOOTTIME)
		clock = CLOCK_BOOTTIME;
	else if (flags & ZSYNC_TIMEOUT_REALTIME)
		clock = CLOCK_REALTIME;
	ret = zsync_timespec_copy(sqe, &t->expires);
	if (ret)
		return ret;
	t->flags = flags;
	t->mode = (flags & ZSYNC_TIMEOUT_ABS) ? HRTIMER_MODE_ABS_HARD : HRTIMER_MODE_REL_HARD;
	RB_CLEAR_NODE(&t->count_node);
	hrtimer_init(&t->timer, clock, t->mode);
	t->timer.function = fire;
	return 0;
}

/*
 * Count-TIMEOUTs wait in ring->count_timeouts, an rbtree ordered by target
 * sequence (ties in arming order), and ring->count_next caches the
 * earliest target: a post only compares cq_seq with it, and a flush pops
 * due timeouts from the left, so neither walks the ones not due.  cq_seq
 * is 64 bits wide and never wraps, so plain comparisons order targets.
 */
static bool zsync_count_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct zsync_timeout, count_node)->target_seq <
	       rb_entry(b, struct zsync_timeout, count_node)->target_seq;
}

/* Caller holds ring->lock. */
static void zsync_count_next_update(struct zsync_ring *ring)
{
	struct rb_node *first = rb_first_cached(&ring->count_timeouts);

	WRITE_ONCE(ring->count_next, first ?
		   rb_entry(first, struct zsync_timeout, count_node)->target_seq : U64_MAX);
}

/* Caller holds ring->lock. */
static void zsync_count_timeout_del(struct zsync_req *req)
{
	struct zsync_timeout *t = &req->timeout;

	if (RB_EMPTY_NODE(&t->count_node))
		return;
	rb_erase_cached(&t->count_node, &req->ring->count_timeouts);
	RB_CLEAR_NODE(&t->count_node);
	zsync_count_next_update(req->ring);
}

static enum hrtimer_restart zsync_timeout_fire(struct hrtimer *timer)
{
	struct zsync_req *req = container_of(timer, struct zsync_req, timeout.timer);
	struct zsync_ring *ring = req->ring;
	unsigned long flags;
	bool owned;

	trace_zsync_timeout_fire(req, false);
	spin_lock_irqsave(&ring->lock, flags);
	/* A claimer stops the timer first: if it runs, it is still armed. */
	owned = !WARN_ON_ONCE(!zsync_req_claim_locked(req));
	zsync_count_timeout_del(req);
	spin_unlock_irqrestore(&ring->lock, flags);
	if (owned)
		zsync_req_complete(req, -ETIME);
	return HRTIMER_NORESTART;
}

int zsync_timeout_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	/* Counts are compared as signed distances of a u32 sequence. */
	if (sqe->off > S32_MAX)
		return -EINVAL;
	req->timeout.count = sqe->off;
	return zsync_timer_prep(req, sqe, ZSYNC_TIMEOUT_FLAGS_ALL, zsync_timeout_fire);
}

enum zsync_issue_ret zsync_timeout_issue(struct zsync_req *req)
{
	struct zsync_timeout *t = &req->timeout;
	struct zsync_ring *ring = req->ring;
	/* Once the timer runs, req may complete and be freed at any moment. */
	bool counted = t->count;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	zsync_req_arm_locked(req);
	if (counted) {
		t->target_seq = READ_ONCE(ring->cq_seq) + t->count;
		rb_add_cached(&t->count_node, &ring->count_timeouts, zsync_count_less);
		zsync_count_next_update(ring);
	}
	hrtimer_start(&t->timer, t->expires, t->mode);
	spin_unlock_irqrestore(&ring->lock, flags);
	/* A CQE posted while we armed may already have met the count. */
	if (counted)
		zsync_cq_counted_armed(ring);
	return ZSYNC_ISSUE_ARMED;
}

int zsync_timeout_cancel(struct zsync_req *req)
{
	if (hrtimer_try_to_cancel(&req->timeout.timer) < 0)
		return -EALREADY;
	zsync_count_timeout_del(req);
	return 0;
}

/* Due count-TIMEOUTs popped per hold of ring->lock (interrupts off). */
#define ZSYNC_COUNT_FLUSH_BATCH	32

/**
 * zsync_flush_count_timeouts() - complete TIMEOUTs whose count was reached
 * @ring: the ring; any context, ring->lock not held
 *
 * Only the due timeouts are looked at: each is popped from the left of
 * ring->count_timeouts, in O(log n), at most ZSYNC_COUNT_FLUSH_BATCH per
 * hold of ring->lock, however many share a target.
 */
void zsync_flush_count_timeouts(struct zsync_ring *ring)
{
	struct zsync_timeout *t;
	struct zsync_req *req, *rtmp;
	struct rb_node *first;
	unsigned long flags;
	unsigned int n;
	LIST_HEAD(done);
	bool more;
	u64 seq;

	do {
		n = 0;
		more = false;
		spin_lock_irqsave(&ring->lock, flags);
		seq = READ_ONCE(ring->cq_seq);
		while ((first = rb_first_cached(&ring->count_timeouts))) {
			t = rb_entry(first, struct zsync_timeout, count_node);
			if (t->target_seq > seq)
				break;
			if (n++ == ZSYNC_COUNT_FLUSH_BATCH) {
				more = true;
				break;
			}
			rb_erase_cached(first, &ring->count_timeouts);
			RB_CLEAR_NODE(first);
			/* Firing right now: it completes itself with -ETIME. */
			if (hrtimer_try_to_cancel(&t->timer) < 0)
				continue;
			req = container_of(t, struct zsync_req, timeout);
			if (WARN_ON_ONCE(!zsync_req_claim_locked(req)))
				continue;
			/* Claimed: its inflight node is ours for this private list. */
			list_add_tail(&req->inflight, &done);
		}
		zsync_count_next_update(ring);
		spin_unlock_irqrestore(&ring->lock, flags);

		list_for_each_entry_safe(req, rtmp, &done, inflight) {
			list_del_init(&req->inflight);
			zsync_req_complete(req, 0);
		}
	} while (more);
}

/* ---- LINK_TIMEOUT ------------------------------------------------------- */

/* Caller holds ring->lock: gives the chain after @lt back to its target. */
static void zsync_link_timeout_unhook(struct zsync_req *lt, struct zsync_req *target)
{
	target->has_lt = false;
	target->link = lt->link;
	lt->link = NULL;
	lt->timeout.target = NULL;
}

/* Completes a cancelled target, then its guard, in process context. */
static void zsync_link_timeout_fired_work(struct work_struct *work)
{
	struct zsync_req *lt = container_of(work, struct zsync_req, work);

	zsync_req_complete(lt->timeout.victim, -ECANCELED);
	zsync_req_complete(lt, -ETIME);
}

static enum hrtimer_restart zsync_link_timeout_fire(struct hrtimer *timer)
{
	struct zsync_req *lt = container_of(timer, struct zsync_req, timeout.timer);
	struct zsync_ring *ring = lt->ring;
	struct zsync_req *target;
	bool cancelled = false;
	unsigned long flags;

	trace_zsync_timeout_fire(lt, true);
	spin_lock_irqsave(&ring->lock, flags);
	/* Its claimers stop the timer first: if it runs, it is still armed. */
	if (WARN_ON_ONCE(!zsync_req_claim_locked(lt))) {
		spin_unlock_irqrestore(&ring->lock, flags);
		return HRTIMER_NORESTART;
	}
	target = lt->timeout.target;
	if (target) {
		zsync_link_timeout_unhook(lt, target);
		cancelled = !zsync_cancel_locked(target);
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	/*
	 * A target on wait queues must leave them in process context; its
	 * guard's CQE still comes after its own.
	 */
	if (cancelled && target->poll.nr_entries) {
		lt->timeout.victim = target;
		INIT_WORK(&lt->work, zsync_link_timeout_fired_work);
		queue_work(zsync_chain_wq, &lt->work);
		return HRTIMER_NORESTART;
	}
	if (cancelled)
		zsync_req_complete(target, -ECANCELED);
	/* No target left: it completed first, so this timeout did not fire for it. */
	zsync_req_complete(lt, target ? -ETIME : -ECANCELED);
	return HRTIMER_NORESTART;
}

int zsync_link_timeout_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	return zsync_timer_prep(req, sqe, ZSYNC_TIMEOUT_ABS | ZSYNC_TIMEOUT_BOOTTIME |
				ZSYNC_TIMEOUT_REALTIME, zsync_link_timeout_fire);
}

int zsync_link_timeout_cancel(struct zsync_req *lt)
{
	if (hrtimer_try_to_cancel(&lt->timeout.timer) < 0)
		return -EALREADY;
	if (lt->timeout.target)
		zsync_link_timeout_unhook(lt, lt->timeout.target);
	return 0;
}

/**
 * zsync_link_timeout_attach() - make @lt guard @target at submission
 * @target: the previous SQE of the chain, or NULL if there is none
 * @lt: a prepared LINK_TIMEOUT request
 *
 * Return: 0, or -EINVAL if there is nothing for @lt to guard.
 */
int zsync_link_timeout_attach(struct zsync_req *target, struct zsync_req *lt)
{
	if (!target || target->opcode == ZSYNC_OP_LINK_TIMEOUT || target->lt_attached)
		return -EINVAL;
	target->lt_attached = true;
	target->has_lt = true;
	lt->timeout.target = target;
	return 0;
}

/**
 * zsync_link_timeout_arm() - start the guard of a request that just armed
 * @target: the request; the caller holds a reference to it
 */
void zsync_link_timeout_arm(struct zsync_req *target)
{
	struct zsync_ring *ring = target->ring;
	struct zsync_timeout *t;
	unsigned long flags;

	if (!target->lt_attached)
		return;
	spin_lock_irqsave(&ring->lock, flags);
	/* Still guarded, i.e. the target has not completed meanwhile. */
	if (target->has_lt) {
		t = &target->link->timeout;
		t->armed = true;
		zsync_req_arm_locked(target->link);
		hrtimer_start(&t->timer, t->expires, t->mode);
	}
	spin_unlock_irqrestore(&ring->lock, flags);
}

/**
 * zsync_link_timeout_detach() - unhook the guard of a completing request
 * @req: the completing request
 * @owned_lt: set to the guard if the caller must now complete it (with
 *	-ECANCELED), else NULL
 *
 * Return: the next request of @req's chain, the guard skipped, or NULL.
 */
struct zsync_req *zsync_link_timeout_detach(struct zsync_req *req,
					    struct zsync_req **owned_lt)
{
	struct zsync_ring *ring = req->ring;
	struct zsync_req *lt, *next;
	unsigned long flags;

	*owned_lt = NULL;
	if (!req->lt_attached) {
		next = req->link;
		req->link = NULL;
		return next;
	}
	spin_lock_irqsave(&ring->lock, flags);
	if (req->has_lt) {
		lt = req->link;
		zsync_link_timeout_unhook(lt, req);
		/*
		 * Never armed: nobody else knows it.  Armed: claim it once the
		 * timer is stopped; if it is firing right now it sees no target
		 * and ends itself.
		 */
		if (!lt->timeout.armed)
			*owned_lt = lt;
		else if (hrtimer_try_to_cancel(&lt->timeout.timer) >= 0 &&
			 zsync_req_claim_locked(lt))
			*owned_lt = lt;
	}
	next = req->link;
	req->link = NULL;
	spin_unlock_irqrestore(&ring->lock, flags);
	return next;
}
