// SPDX-License-Identifier: GPL-2.0
/*
 * Requests: allocation, submission of SQEs, linked chains, completion and
 * cancellation lookup.
 *
 * Ownership rule: a request is completed exactly once, by whoever takes it
 * off ring->inflight under ring->lock (the op's own completion path or a
 * canceller), or synchronously by the submitter when issue() says DONE.
 * References (req->refs) only keep the memory alive; they never decide who
 * completes.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include "zsync.h"

static struct kmem_cache *zsync_req_cachep;

int zsync_req_cache_init(void)
{
	zsync_req_cachep = KMEM_CACHE(zsync_req, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT);
	return zsync_req_cachep ? 0 : -ENOMEM;
}

void zsync_req_cache_exit(void)
{
	kmem_cache_destroy(zsync_req_cachep);
}

/* A ring keeps at most this many freed requests for reuse. */
#define ZSYNC_REQ_CACHE_MAX	256

/* Caller holds ring->submit_lock. */
static struct zsync_req *zsync_req_cache_pop(struct zsync_ring *ring)
{
	struct llist_node *node = ring->req_cache;

	if (!node)
		node = llist_del_all(&ring->req_free);
	if (!node)
		return NULL;
	ring->req_cache = node->next;
	atomic_dec(&ring->nr_cached);
	return container_of(node, struct zsync_req, chain_node);
}

static void zsync_req_free(struct zsync_ring *ring, struct zsync_req *req)
{
	zsync_req_release_resources(req);
	kfree(req->ovf_pool);
	if (atomic_inc_return(&ring->nr_cached) <= ZSYNC_REQ_CACHE_MAX) {
		llist_add(&req->chain_node, &ring->req_free);
		return;
	}
	atomic_dec(&ring->nr_cached);
	kmem_cache_free(zsync_req_cachep, req);
}

/**
 * zsync_req_cache_drain() - free the requests a dead ring kept for reuse
 * @ring: a ring whose requests are all gone
 */
void zsync_req_cache_drain(struct zsync_ring *ring)
{
	struct zsync_req *req;

	while ((req = zsync_req_cache_pop(ring)))
		kmem_cache_free(zsync_req_cachep, req);
}

static struct zsync_req *zsync_req_alloc(struct zsync_ring *ring)
{
	struct zsync_req *req = zsync_req_cache_pop(ring);

	if (req)
		memset(req, 0, sizeof(*req));
	else	/* Charged to the submitter's memory cgroup. */
		req = kmem_cache_zalloc(zsync_req_cachep, GFP_KERNEL_ACCOUNT);
	if (!req)
		return NULL;
	req->ring = ring;
	req->fd = -1;
	refcount_set(&req->refs, 1);
	INIT_LIST_HEAD(&req->inflight);
	INIT_LIST_HEAD(&req->ovf.node);
	req->ovf.req = req;
	INIT_LIST_HEAD(&req->ovf_free);
	INIT_LIST_HEAD(&req->task_node);
	refcount_inc(&ring->refs);
	atomic_inc(&ring->nr_live);
	return req;
}

void zsync_req_get(struct zsync_req *req)
{
	refcount_inc(&req->refs);
}

/* Frees requests whose last reference went in interrupt context. */
void zsync_req_free_work(struct work_struct *work)
{
	struct zsync_ring *ring = container_of(work, struct zsync_ring, free_work);
	struct llist_node *list = llist_del_all(&ring->free_list);
	struct zsync_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, list, chain_node) {
		zsync_req_free(ring, req);
		zsync_ring_put(ring);
	}
}

/* Any context.  After the last put the ring may be gone: touch nothing. */
void zsync_req_put(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;

	if (!refcount_dec_and_test(&req->refs))
		return;
	/*
	 * fput(), mmdrop() and an op's cleanup want a context that may
	 * sleep: not an interrupt, nor a wakeup callback holding its queue's
	 * lock.
	 */
	if (unlikely((!in_task() || !preemptible()) && zsync_req_has_resources(req))) {
		if (llist_add(&req->chain_node, &ring->free_list))
			queue_work(zsync_chain_wq, &ring->free_work);
		return;
	}
	zsync_req_free(ring, req);
	zsync_ring_put(ring);
}

/**
 * zsync_req_arm() - put @req on the in-flight list, where cancellers find it
 * @req: a request its issue() is about to make wait
 */
void zsync_req_arm(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	list_add_tail(&req->inflight, &ring->inflight);
	spin_unlock_irqrestore(&ring->lock, flags);
}

/**
 * zsync_req_disarm() - take @req off the in-flight list
 * @req: an armed request whose owner goes on with it
 */
void zsync_req_disarm(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	list_del_init(&req->inflight);
	spin_unlock_irqrestore(&ring->lock, flags);
}

/**
 * zsync_req_complete_armed() - take @req off the in-flight list and complete it
 * @req: an armed request its owner is completing
 * @res: the CQE result
 */
void zsync_req_complete_armed(struct zsync_req *req, s32 res)
{
	zsync_req_disarm(req);
	zsync_req_complete(req, res);
}

/* A chain goes on after @req only if it succeeded. */
static bool zsync_res_breaks_link(const struct zsync_req *req, s32 res)
{
	if (res >= 0)
		return false;
	if (req->opcode == ZSYNC_OP_TIMEOUT && res == -ETIME &&
	    (req->timeout.flags & ZSYNC_TIMEOUT_ETIME_SUCCESS))
		return false;
	return true;
}

/* Posts the terminal CQE of @req and drops the completion's reference. */
static void zsync_req_post_and_put(struct zsync_req *req, s32 res)
{
	struct zsync_ring *ring = req->ring;

	atomic_dec(&ring->nr_live);
	zsync_post_cqe(req, res, 0);
	if (!zsync_req_is_timeout(req))
		zsync_cq_counted(ring);
	zsync_req_put(req);
}

/*
 * Completes every request of a chain that will never run, in chain order:
 * each with its own prep error if it had one, else with @res.
 */
static void zsync_fail_links(struct zsync_req *req, s32 res)
{
	while (req) {
		struct zsync_req *next = req->link;

		req->link = NULL;
		zsync_req_post_and_put(req, req->failed ? req->res : res);
		req = next;
	}
}

/*
 * Posts @req's CQE and returns the next request of its chain that should
 * run now, or NULL.  Never recurses into the next request.
 */
static struct zsync_req *zsync_req_finish(struct zsync_req *req, s32 res)
{
	bool breaks = zsync_res_breaks_link(req, res);
	struct zsync_req *lt = NULL, *next;

	/* No wakeup may act on it once its CQE is out. */
	if (req->poll.nr_entries)
		zsync_poll_disarm(req);
	next = zsync_link_timeout_detach(req, &lt);
	zsync_req_post_and_put(req, res);
	/* The guard's CQE follows the CQE of the request it guarded. */
	if (lt)
		zsync_req_post_and_put(lt, -ECANCELED);
	if (next && breaks) {
		zsync_fail_links(next, -ECANCELED);
		return NULL;
	}
	return next;
}

static void zsync_run_chain(struct zsync_req *req);

/*
 * A chain continues in its submitting thread (see zsync_task_defer()).  The
 * request was armed while it waited; whoever took it off the thread's list
 * owns it, since a canceller succeeds only while it is still there.
 */
static void zsync_run_chain_deferred(struct zsync_req *req, bool cancel)
{
	zsync_req_disarm(req);
	if (cancel)
		zsync_fail_links(req, -ECANCELED);
	else
		zsync_run_chain(req);
}

/* Waits for the submitting thread, armed so that CANCEL can find it. */
static void zsync_defer_chain(struct zsync_req *req)
{
	req->async = ZSYNC_ASYNC_TASK;
	zsync_req_arm(req);
	zsync_task_defer(req, zsync_run_chain_deferred);
}

/* Issues @req and, while they complete inline, the requests chained after it. */
static void zsync_run_chain(struct zsync_req *req)
{
	while (req) {
		struct zsync_ring *ring = req->ring;
		struct zsync_req *next = NULL;
		bool guarded;

		if (READ_ONCE(ring->dying)) {
			zsync_fail_links(req, -ECANCELED);
			return;
		}
		/* Ops on the fd table or fs run in the submitting thread only. */
		if (req->task && req->task != current) {
			zsync_defer_chain(req);
			return;
		}
		/*
		 * An armed request may complete under us before its guard is
		 * armed: keep it alive until then.  Without a guard nothing
		 * touches it after issue() says ARMED.
		 */
		guarded = req->lt_attached;
		if (guarded)
			zsync_req_get(req);
		if (req->def->issue && zsync_issue(req) == ZSYNC_ISSUE_ARMED) {
			if (guarded) {
				zsync_link_timeout_arm(req);
				zsync_req_put(req);
			}
		} else {
			if (guarded)
				zsync_req_put(req);
			next = zsync_req_finish(req, req->def->issue ? req->res : -EINVAL);
		}
		req = next;
	}
}

void zsync_chain_work(struct work_struct *work)
{
	struct zsync_ring *ring = container_of(work, struct zsync_ring, chain_work);
	struct llist_node *list = llist_reverse_order(llist_del_all(&ring->chain_list));
	struct zsync_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, list, chain_node)
		zsync_run_chain(req);
}

/* Continues a chain from a context that must not issue (hard irq, wakeups). */
static void zsync_queue_chain(struct zsync_req *next)
{
	struct zsync_ring *ring = next->ring;

	if (READ_ONCE(ring->dying)) {
		zsync_fail_links(next, -ECANCELED);
		return;
	}
	if (llist_add(&next->chain_node, &ring->chain_list))
		queue_work(zsync_chain_wq, &ring->chain_work);
}

static void zsync_complete_deferred(struct work_struct *work)
{
	struct zsync_req *req = container_of(work, struct zsync_req, work);

	zsync_req_complete(req, req->res);
}

/**
 * zsync_req_complete() - complete an armed request from any context
 * @req: a request its op armed and has now taken off ring->inflight
 * @res: the CQE result
 *
 * Posts the CQE (or queues it on the overflow list) and hands the rest of
 * the chain to the ring's worker.  Safe in hard irq context.
 */
void zsync_req_complete(struct zsync_req *req, s32 res)
{
	struct zsync_req *next;

	/*
	 * Leaving wait queues takes their locks, which not every file's
	 * owner expects in hard irq (a LINK_TIMEOUT cancelling a socket op).
	 */
	if (unlikely(req->poll.nr_entries && in_hardirq())) {
		req->res = res;
		INIT_WORK(&req->work, zsync_complete_deferred);
		queue_work(zsync_chain_wq, &req->work);
		return;
	}
	next = zsync_req_finish(req, res);

	if (next)
		zsync_queue_chain(next);
}

/* Chain being built from consecutive SQEs of one ENTER. */
struct zsync_chain {
	struct zsync_req *head;
	struct zsync_req *last;
	bool failed;
};

static void zsync_chain_end(struct zsync_chain *chain)
{
	if (!chain->head)
		return;
	if (chain->failed)
		zsync_fail_links(chain->head, -ECANCELED);
	else
		zsync_run_chain(chain->head);
	chain->head = NULL;
	chain->last = NULL;
	chain->failed = false;
}

static int zsync_prep_in_chain(struct zsync_req *req, const struct zsync_sqe *sqe,
			       struct zsync_chain *chain)
{
	int ret = zsync_req_prep(req, sqe);

	if (ret || req->opcode != ZSYNC_OP_LINK_TIMEOUT)
		return ret;
	/* A LINK_TIMEOUT guards the SQE right before it, which must link to it. */
	return zsync_link_timeout_attach(chain->last, req);
}

static void zsync_submit_one(struct zsync_ring *ring, struct zsync_req *req,
			     const struct zsync_sqe *sqe, struct zsync_chain *chain)
{
	int ret;

	req->user_data = sqe->user_data;
	req->opcode = sqe->opcode;
	req->sqe_flags = sqe->flags;
	ret = zsync_prep_in_chain(req, sqe, chain);
	if (ret) {
		req->failed = true;
		req->res = ret;
	}

	if (chain->head) {
		chain->last->link = req;
		chain->last = req;
		chain->failed |= req->failed;
	} else if (sqe->flags & ZSYNC_SQE_LINK) {
		chain->head = req;
		chain->last = req;
		chain->failed = req->failed;
	} else {
		/* A lone request: complete its prep error or run it now. */
		if (req->failed)
			zsync_req_post_and_put(req, req->res);
		else
			zsync_run_chain(req);
		return;
	}
	if (!(sqe->flags & ZSYNC_SQE_LINK))
		zsync_chain_end(chain);
}

/*
 * Out of memory inside a chain: what was consumed of it fails, and the SQEs
 * still to come up to the end of the chain are cancelled as they are
 * consumed, so nothing after the break ever runs.
 */
static void zsync_chain_break(struct zsync_ring *ring, struct zsync_chain *chain)
{
	if (!chain->head)
		return;
	chain->failed = true;
	ring->chain_broken = true;
}

static void zsync_cancel_broken_member(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	req->user_data = sqe->user_data;
	req->opcode = sqe->opcode;
	if (!(sqe->flags & ZSYNC_SQE_LINK))
		req->ring->chain_broken = false;
	zsync_req_post_and_put(req, -ECANCELED);
}

static int zsync_submit_refused(struct zsync_ring *ring)
{
	/* Bounded: past these limits the submitter must reap first. */
	if (READ_ONCE(ring->nr_overflow) >= ring->overflow_limit)
		return -EBUSY;
	if (atomic_read(&ring->nr_live) >= zsync_max_inflight)
		return -EBUSY;
	return 0;
}

/**
 * zsync_submit_sqes() - consume up to @nr SQEs from the shared SQ ring
 * @ring: the ring; caller holds ring->submit_lock
 * @nr: how many the caller asked for
 *
 * Every consumed SQE yields exactly one terminal CQE.  A chain still open
 * at the end of the batch ends there.
 *
 * Return: the number consumed, or a negative errno if none was.
 */
int zsync_submit_sqes(struct zsync_ring *ring, u32 nr)
{
	struct zsync_chain chain = {};
	u32 tail, avail, consumed = 0;
	int ret = 0;

	/* The shared tail is hostile: use it only for a clamped count. */
	tail = smp_load_acquire(&ring->sq->tail);
	avail = min(tail - ring->sq_head, ring->sq_entries);
	nr = min(nr, avail);

	while (consumed < nr) {
		struct zsync_sqe sqe;
		struct zsync_req *req;

		/* Limits apply between chains, never inside one. */
		if (!chain.head) {
			ret = zsync_submit_refused(ring);
			if (ret)
				break;
		}
		req = zsync_req_alloc(ring);
		if (!req) {
			ret = -ENOMEM;
			zsync_chain_break(ring, &chain);
			break;
		}
		/* One read of the shared slot; everything after uses the copy. */
		memcpy(&sqe, &ring->sqes[ring->sq_head & ring->sq_mask], sizeof(sqe));
		ring->sq_head++;
		consumed++;
		if (ring->chain_broken)
			zsync_cancel_broken_member(req, &sqe);
		else
			zsync_submit_one(ring, req, &sqe, &chain);
		cond_resched();
	}
	zsync_chain_end(&chain);
	zsync_stat_add(sqes, consumed);
	/* Userspace may reuse the slots once it sees the new head. */
	smp_store_release(&ring->sq->head, ring->sq_head);
	return consumed ? consumed : ret;
}

static bool zsync_cancel_matches(const struct zsync_req *req,
				 const struct zsync_cancel *c)
{
	if (c->owner && req->owner != c->owner)
		return false;
	if (c->only_opcode && req->opcode != c->opcode)
		return false;
	if (c->flags & ZSYNC_CANCEL_ANY)
		return true;
	if (c->flags & ZSYNC_CANCEL_FD)
		return req->fd >= 0 && req->fd == c->fd;
	return req->user_data == c->user_data;
}

/**
 * zsync_cancel_locked() - stop an armed request
 * @req: a request on ring->inflight; caller holds ring->lock
 *
 * Return: 0 if @req was taken off ring->inflight and the caller must now
 * complete it, -EALREADY if it is completing by itself.
 */
int zsync_cancel_locked(struct zsync_req *req)
{
	int ret;

	lockdep_assert_held(&req->ring->lock);
	if (list_empty(&req->inflight))
		return -EALREADY;
	ret = req->def->cancel ? req->def->cancel(req) : -EALREADY;
	if (!ret)
		list_del_init(&req->inflight);
	return ret;
}

#define ZSYNC_CANCEL_BATCH	64

/* Cancels up to ZSYNC_CANCEL_BATCH matches; returns how many. */
static int zsync_cancel_batch(struct zsync_ring *ring, const struct zsync_cancel *c,
			      struct zsync_req *self, int *busy)
{
	struct zsync_req *req, *tmp;
	unsigned long flags;
	LIST_HEAD(cancelled);
	int nr = 0;

	spin_lock_irqsave(&ring->lock, flags);
	list_for_each_entry_safe(req, tmp, &ring->inflight, inflight) {
		if (req == self || !zsync_cancel_matches(req, c))
			continue;
		if (zsync_cancel_locked(req)) {
			(*busy)++;
		} else {
			list_add_tail(&req->inflight, &cancelled);
			nr++;
		}
		if (!(c->flags & ZSYNC_CANCEL_ALL) || nr == ZSYNC_CANCEL_BATCH)
			break;
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	list_for_each_entry_safe(req, tmp, &cancelled, inflight) {
		list_del_init(&req->inflight);
		zsync_req_complete(req, -ECANCELED);
	}
	return nr;
}

/**
 * zsync_cancel_match() - cancel armed requests matching @c
 * @ring: the ring; process context, no spinlock held (it may reschedule)
 * @c: what to match and how many
 * @self: the cancelling request, never matched itself
 *
 * Process context: it may reschedule between batches.
 *
 * Return: the number cancelled, -EALREADY if every match was already
 * completing, -ENOENT if nothing matched.
 */
int zsync_cancel_match(struct zsync_ring *ring, const struct zsync_cancel *c,
		       struct zsync_req *self)
{
	int nr = 0, busy = 0, batch;

	/*
	 * In batches, so cancelling a ring full of timeouts never keeps
	 * interrupts off for the whole in-flight list, nor the CPU for the
	 * whole of it (tens of thousands of frees on a debug kernel stall
	 * RCU when preemption is voluntary).  Callers (CANCEL, POLL_REMOVE,
	 * ring release) run in process context with no spinlock held.
	 */
	do {
		batch = zsync_cancel_batch(ring, c, self, &busy);
		nr += batch;
		cond_resched();
	} while ((c->flags & ZSYNC_CANCEL_ALL) && batch == ZSYNC_CANCEL_BATCH);
	if (nr)
		return nr;
	return busy ? -EALREADY : -ENOENT;
}
