// SPDX-License-Identifier: GPL-2.0
/*
 * Requests: allocation and caches, references, the cancel index, linked
 * chains and completion.  SQE consumption is in submit.c, the cancel
 * lookup in cancel_match.c.
 *
 * Ownership rule: a request is completed exactly once, by whoever moves it
 * out of ZSYNC_REQ_ARMED under ring->lock (zsync_req_claim_locked(): the
 * op's own completion path, a timer, a wakeup's owner or a canceller), or
 * synchronously by the submitter when issue() says DONE.  The state, not
 * membership of any list, says who owns it: once claimed, a request is out
 * of the cancel index and every later claim fails.  References
 * (req->refs) only keep the memory alive; they never decide who completes.
 *
 * Cancel index: armed requests are on ring->inflight in arming order (for
 * CANCEL_ANY and ring close) and in two rbtrees keyed by (user_data,
 * arm_seq) and (fd, arm_seq), so CANCEL and POLL_REMOVE by user_data or by
 * fd find their first match in O(log n) with interrupts off, however many
 * requests are in flight and whatever keys userspace chose.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include "zsync.h"
#include "zsync_trace.h"

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

/*
 * A ring keeps at most this many freed requests for reuse in its private
 * cache, and at most this many more on the list other contexts free to.
 */
#define ZSYNC_REQ_CACHE_MAX	256

/*
 * Reuse would hide a stale pointer to a finished request from KASAN: the
 * memory stays valid, only its owner changes (a CQE posted for the next
 * op, a double completion).  Under KASAN every request goes back to the
 * slab, whose quarantine keeps it poisoned for a while.
 */
#define ZSYNC_REQ_REUSE		(!IS_ENABLED(CONFIG_KASAN))

/*
 * Takes the requests other contexts freed into the private cache.  Caller
 * holds ring->submit_lock.  Return: false if there were none.
 */
static bool zsync_req_cache_refill(struct zsync_ring *ring)
{
	struct llist_node *node = llist_del_all(&ring->req_free);
	struct llist_node *last;
	unsigned int n = 1;

	if (!node)
		return false;
	for (last = node; last->next; last = last->next)
		n++;
	last->next = ring->req_cache;
	ring->req_cache = node;
	atomic_sub(n, &ring->nr_free);
	ring->nr_req_cache += n;
	return true;
}

/*
 * Caller holds ring->submit_lock: the private cache needs no atomics.
 * The last @keep requests stay: they are reserved (zsync_req_reserve()).
 */
static struct zsync_req *zsync_req_cache_pop(struct zsync_ring *ring, unsigned int keep)
{
	struct llist_node *node;

	if (unlikely(ring->nr_req_cache <= keep) &&
	    (!zsync_req_cache_refill(ring) || ring->nr_req_cache <= keep))
		return NULL;
	node = ring->req_cache;
	ring->req_cache = node->next;
	ring->nr_req_cache--;
	return container_of(node, struct zsync_req, chain_node);
}

static void zsync_req_cache_add(struct zsync_ring *ring, struct zsync_req *req)
{
	req->chain_node.next = ring->req_cache;
	ring->req_cache = &req->chain_node;
	ring->nr_req_cache++;
}

/* Caller holds ring->submit_lock; @req holds nothing any more. */
void zsync_req_cache_push(struct zsync_ring *ring, struct zsync_req *req)
{
	if (!ZSYNC_REQ_REUSE || ring->nr_req_cache >= ZSYNC_REQ_CACHE_MAX) {
		kmem_cache_free(zsync_req_cachep, req);
		return;
	}
	zsync_req_cache_add(ring, req);
}

/* Any context but the submitter's batch: back to the ring's shared free list. */
static void zsync_req_free(struct zsync_ring *ring, struct zsync_req *req)
{
	if (zsync_req_has_resources(req))
		zsync_req_release_resources(req);
	kfree(req->ovf_pool);
	if (ZSYNC_REQ_REUSE) {
		if (atomic_inc_return(&ring->nr_free) <= ZSYNC_REQ_CACHE_MAX) {
			llist_add(&req->chain_node, &ring->req_free);
			return;
		}
		atomic_dec(&ring->nr_free);
	}
	kmem_cache_free(zsync_req_cachep, req);
}

/**
 * zsync_req_cache_drain() - free the requests a dead ring kept for reuse
 * @ring: a ring whose requests are all gone
 */
void zsync_req_cache_drain(struct zsync_ring *ring)
{
	struct zsync_req *req;

	while ((req = zsync_req_cache_pop(ring, 0)))
		kmem_cache_free(zsync_req_cachep, req);
}

/*
 * Sets every field a request's life reads before something else writes
 * it.  Not a memset of the whole request: arming fields (arm_seq, the
 * index nodes) are written when it arms, the wait state (poll.entry[],
 * work) by whoever makes it wait, and the op's command area by
 * zsync_req_prep(), for the op's own size only.
 */
static void zsync_req_init(struct zsync_ring *ring, struct zsync_req *req)
{
	req->ring = ring;
	req->def = NULL;
	req->failed = false;
	req->lt_attached = false;
	req->has_lt = false;
	req->res = 0;
	req->fd = -1;
	refcount_set(&req->refs, 1);
	req->own = ZSYNC_REQ_IDLE;
	INIT_LIST_HEAD(&req->inflight);
	req->link = NULL;
	INIT_LIST_HEAD(&req->ovf.node);
	req->ovf.req = req;
	req->ovf.kind = ZSYNC_OVF_TERMINAL;
	req->ovf.queued = false;
	req->ovf.orphan = false;
	req->ovf_pool = NULL;
	INIT_LIST_HEAD(&req->ovf_free);
	req->owner = NULL;
	req->identity_lazy = false;
	req->file = NULL;
	req->creds = NULL;
	req->mm = NULL;
	req->task = NULL;
	req->async = ZSYNC_ASYNC_NONE;
	req->async_fn = NULL;
	INIT_LIST_HEAD(&req->task_node);
	req->task_queued = false;
	req->work_pending = false;
	req->wuser = NULL;
	req->poll.nr_entries = 0;
	req->poll.too_many = false;
}

/*
 * Caller holds ring->submit_lock and a credit of @s: the request's ring
 * reference and its count in nr_live were taken in bulk for the batch.
 */
struct zsync_req *zsync_req_alloc(struct zsync_ring *ring, struct zsync_submit *s)
{
	struct zsync_req *req = zsync_req_cache_pop(ring, s->nr_noreq);

	/* Charged to the submitter's memory cgroup. */
	if (!req)
		req = kmem_cache_alloc(zsync_req_cachep, GFP_KERNEL_ACCOUNT);
	if (!req)
		return NULL;
	zsync_req_init(ring, req);
	s->credits--;
	return req;
}

/*
 * A request-less CQE that finds the CQ ring full must wait in the
 * overflow list, which links requests.  So each one a batch holds has a
 * request reserved in the private cache first, taken here in process
 * context, where allocating may sleep: zsync_post_cqe_batch() runs under
 * cq_lock, and nothing may be lost there.  Also with KASAN, where freed
 * requests are not reused: a reserved one is fresh.
 * Return: false if out of memory.
 */
bool zsync_req_reserve_slow(struct zsync_ring *ring, struct zsync_submit *s)
{
	struct zsync_req *req;

	if (zsync_req_cache_refill(ring) && ring->nr_req_cache > s->nr_noreq)
		return true;
	req = kmem_cache_alloc(zsync_req_cachep, GFP_KERNEL_ACCOUNT);
	if (!req)
		return false;
	zsync_req_cache_add(ring, req);
	return true;
}

/**
 * zsync_req_for_overflow() - the request a request-less CQE waits in
 * @ring: the ring; its submitting thread, under submit_lock and cq_lock
 * @d: the CQE, from the submission's batch (zsync_post_cqe_batch())
 *
 * Never fails: zsync_req_reserve() set one aside for @d.  The request
 * takes over @d's ring reference; its last put, once the overflow list
 * is flushed, drops it.
 *
 * Return: the request, as a lone request that completed with @d's CQE.
 */
struct zsync_req *zsync_req_for_overflow(struct zsync_ring *ring, const struct zsync_done *d)
{
	struct zsync_req *req = zsync_req_cache_pop(ring, 0);

	zsync_req_init(ring, req);
	req->user_data = d->user_data;
	req->opcode = d->opcode;
	req->sqe_flags = 0;
	req->res = d->res;
	return req;
}

void zsync_req_get(struct zsync_req *req)
{
	refcount_inc(&req->refs);
}

/* Frees @req and drops the ring reference it held. */
static void zsync_req_destroy(struct zsync_ring *ring, struct zsync_req *req)
{
	zsync_req_free(ring, req);
	zsync_ring_put(ring);
}

/**
 * zsync_req_free_orphan() - free a dead request its overflow entry kept
 * @req: a request whose last put found its terminal CQE still in the
 *	overflow list (zsync_ovf_adopt()); that CQE has just left it
 */
void zsync_req_free_orphan(struct zsync_req *req)
{
	zsync_req_destroy(req->ring, req);
}

/*
 * After the last put, in a context that may sleep.  If the terminal CQE
 * still waits in the overflow list, what the request held goes now (an
 * unread CQE must not keep a file, and through it maybe the ring itself,
 * alive) and the list frees the rest when the CQE leaves it.
 */
static void zsync_req_last_put(struct zsync_ring *ring, struct zsync_req *req)
{
	/* Pairs with zsync_ovf_unlink(): false means the list is done with it. */
	if (unlikely(smp_load_acquire(&req->ovf.queued))) {
		zsync_req_strip(req);
		if (zsync_ovf_adopt(req))
			return;
	}
	zsync_req_destroy(ring, req);
}

/*
 * Hands @node, a request's, to @work through @list, from any context.
 * The work may take the node the moment llist_add() returns, before
 * queue_work() ran (it was queued by an earlier add and has not yet
 * emptied the list), and finish the request: if that drops the ring's
 * last reference, a closing ring's release frees the ring, @work
 * included.  A reference of our own keeps the ring until queue_work()
 * is done; the request holds one until then, so ours is not the first.
 */
static void zsync_ring_defer_llist(struct zsync_ring *ring, struct llist_node *node,
				   struct llist_head *list, struct work_struct *work)
{
	refcount_inc(&ring->refs);
	if (llist_add(node, list))
		queue_work(zsync_chain_wq, work);
	zsync_ring_put(ring);
}

/* Frees requests whose last reference went in interrupt context. */
void zsync_req_free_work(struct work_struct *work)
{
	struct zsync_ring *ring = container_of(work, struct zsync_ring, free_work);
	struct llist_node *list = llist_del_all(&ring->free_list);
	struct zsync_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, list, chain_node)
		zsync_req_last_put(ring, req);
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
	if (unlikely((!in_task() || !preemptible()) && zsync_req_has_resources(req)))
		zsync_ring_defer_llist(ring, &req->chain_node, &ring->free_list,
				       &ring->free_work);
	else
		zsync_req_last_put(ring, req);
}

/* Caller holds ring->lock. */
static void zsync_index_insert(struct rb_root *root, struct zsync_req *req, bool by_fd)
{
	u64 key = by_fd ? (u64)req->fd : req->user_data;
	struct rb_node **p = &root->rb_node, *parent = NULL;
	struct rb_node *node = by_fd ? &req->fd_node : &req->ud_node;

	while (*p) {
		struct zsync_req *r = by_fd ? rb_entry(*p, struct zsync_req, fd_node) :
					      rb_entry(*p, struct zsync_req, ud_node);
		u64 k = by_fd ? (u64)r->fd : r->user_data;

		parent = *p;
		/* Equal keys in arming order: arm_seq only grows. */
		if (key < k || (key == k && req->arm_seq < r->arm_seq))
			p = &(*p)->rb_left;
		else
			p = &(*p)->rb_right;
	}
	rb_link_node(node, parent, p);
	rb_insert_color(node, root);
}

/**
 * zsync_req_arm_locked() - put @req in the cancel index, up for claim
 * @req: a request its issue() is about to make wait; ring->lock held
 */
void zsync_req_arm_locked(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;

	lockdep_assert_held(&ring->lock);
	/* Indexed twice, it would corrupt the trees: refuse, loudly. */
	if (WARN_ON_ONCE(req->own == ZSYNC_REQ_ARMED))
		return;
	req->own = ZSYNC_REQ_ARMED;
	req->arm_seq = ++ring->arm_seq;
	req->arm_time = (u32)jiffies;
	ring->nr_armed[req->opcode]++;
	list_add_tail(&req->inflight, &ring->inflight);
	zsync_index_insert(&ring->cancel_ud, req, false);
	if (req->fd >= 0)
		zsync_index_insert(&ring->cancel_fd, req, true);
}

/**
 * zsync_req_arm() - put @req in the cancel index, where cancellers find it
 * @req: a request its issue() is about to make wait
 */
void zsync_req_arm(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	zsync_req_arm_locked(req);
	spin_unlock_irqrestore(&ring->lock, flags);
}

/* Caller holds ring->lock; @req is ARMED. */
static void zsync_req_unindex(struct zsync_req *req, u8 own)
{
	struct zsync_ring *ring = req->ring;

	list_del_init(&req->inflight);
	ring->nr_armed[req->opcode]--;
	rb_erase(&req->ud_node, &ring->cancel_ud);
	if (req->fd >= 0)
		rb_erase(&req->fd_node, &ring->cancel_fd);
	req->own = own;
}

/**
 * zsync_req_claim_locked() - take the completion of an armed request
 * @req: the request; ring->lock held
 *
 * The one place a request leaves ZSYNC_REQ_ARMED for good: whoever gets
 * true completes @req, exactly once; every other claim gets false.
 *
 * Return: true if the caller now owns @req's completion.
 */
bool zsync_req_claim_locked(struct zsync_req *req)
{
	lockdep_assert_held(&req->ring->lock);
	if (req->own != ZSYNC_REQ_ARMED)
		return false;
	zsync_req_unindex(req, ZSYNC_REQ_CLAIMED);
	return true;
}

/**
 * zsync_req_disarm() - take @req out of the cancel index to run it again
 * @req: an armed request whose owner (decided by its op's own arbitration)
 *	goes on with it
 */
void zsync_req_disarm(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	if (!WARN_ON_ONCE(req->own != ZSYNC_REQ_ARMED))
		zsync_req_unindex(req, ZSYNC_REQ_IDLE);
	spin_unlock_irqrestore(&ring->lock, flags);
}

/**
 * zsync_req_complete_armed() - claim @req and complete it
 * @req: an armed request its op's arbitration (poll.refs, cancel_work(),
 *	the source state, task_queued) made the caller's
 * @res: the CQE result
 */
void zsync_req_complete_armed(struct zsync_req *req, s32 res)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;
	bool owned;

	spin_lock_irqsave(&ring->lock, flags);
	owned = zsync_req_claim_locked(req);
	spin_unlock_irqrestore(&ring->lock, flags);
	/* Someone else claimed it: two owners would be a double completion. */
	if (WARN_ON_ONCE(!owned))
		return;
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
void zsync_req_post_and_put(struct zsync_req *req, s32 res)
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
		trace_zsync_link_fail(req, req->failed ? req->res : res);
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
	zsync_task_defer_armed(req, zsync_run_chain_deferred);
}

/* Issues @req and, while they complete inline, the requests chained after it. */
void zsync_run_chain(struct zsync_req *req)
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
	zsync_ring_defer_llist(ring, &next->chain_node, &ring->chain_list,
			       &ring->chain_work);
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

void zsync_chain_end(struct zsync_chain *chain)
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
