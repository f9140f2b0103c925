// SPDX-License-Identifier: GPL-2.0
/*
 * Requests: allocation, submission of SQEs, linked chains, completion and
 * cancellation lookup.
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
static void zsync_req_cache_push(struct zsync_ring *ring, struct zsync_req *req)
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
static struct zsync_req *zsync_req_alloc(struct zsync_ring *ring, struct zsync_submit *s)
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
static bool zsync_req_reserve(struct zsync_ring *ring, struct zsync_submit *s)
{
	struct zsync_req *req;

	if (likely(ring->nr_req_cache > s->nr_noreq))
		return true;
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
	zsync_task_defer_armed(req, zsync_run_chain_deferred);
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

/* Fields the op does not read must be zero, so they can gain meaning later. */
static bool zsync_unused_fields_zero(const struct zsync_sqe *sqe, u32 fields)
{
	if (!(fields & ZSYNC_FIELD_FD) && sqe->fd)
		return false;
	if (!(fields & ZSYNC_FIELD_OFF) && sqe->off)
		return false;
	if (!(fields & ZSYNC_FIELD_ADDR) && sqe->addr)
		return false;
	if (!(fields & ZSYNC_FIELD_LEN) && sqe->len)
		return false;
	if (!(fields & ZSYNC_FIELD_OPFLAGS) && sqe->op_flags)
		return false;
	if (!(fields & ZSYNC_FIELD_ADDR2) && sqe->addr2)
		return false;
	return true;
}

static inline int zsync_check_restriction(const struct zsync_ring *ring,
					  const struct zsync_sqe *sqe)
{
	if (!ring->restricted)
		return 0;
	if (!test_bit(sqe->opcode, ring->allowed_ops))
		return -EACCES;
	if (sqe->flags & ~ring->allowed_sqe_flags)
		return -EACCES;
	return 0;
}

/*
 * The checks every SQE passes before its op's own: reserved fields and
 * flags, the ring's restrictions, disabled families, and that the fields
 * the op does not read are zero.  Return: 0 or the CQE's error.
 */
static __always_inline int zsync_sqe_check(const struct zsync_ring *ring,
					    const struct zsync_sqe *sqe,
					    const struct zsync_opdef *def)
{
	int ret;

	if (sqe->resv0 || sqe->resv[0] || sqe->resv[1])
		return -EINVAL;
	if (sqe->flags & ~ZSYNC_SQE_FLAGS_ALL)
		return -EINVAL;
	ret = zsync_check_restriction(ring, sqe);
	if (ret)
		return ret;
	/* Only a disabled family or an op that skips an LSM hook can be off. */
	if (unlikely(READ_ONCE(zsync_disabled_families) ||
		     (def->flags & ZSYNC_OPF_SKIPS_LSM)) &&
	    zsync_op_disabled(sqe->opcode)) {
		zsync_stat_inc(ops_disabled);
		return -EOPNOTSUPP;
	}
	if (!zsync_unused_fields_zero(sqe, def->fields))
		return -EINVAL;
	return 0;
}

/**
 * zsync_req_prep() - validate a kernel copy of an SQE and prepare @req
 * @req: the request, with ring, user_data and opcode already set
 * @sqe: the SQE, already copied out of the shared ring
 * @lone: not part of a chain (see zsync_req_capture())
 *
 * Runs in the submitter's context, inlined in the submission loop.
 * Return: 0 or a negative errno that becomes the request's CQE result.
 */
static int zsync_req_prep(struct zsync_req *req, const struct zsync_sqe *sqe, bool lone)
{
	const struct zsync_opdef *def;
	int ret;

	def = zsync_opdef_get(sqe->opcode);
	if (!def)
		return -EINVAL;
	/* Before req->def is set: cleanup() may look at the area. */
	if (def->cmd_size)
		zsync_req_cmd_clear(req, def->cmd_size);
	req->def = def;
	ret = zsync_sqe_check(req->ring, sqe, def);
	if (ret)
		return ret;
	/* The submitter's files and identity, while we run as it. */
	if (def->flags & ZSYNC_OPF_CAPTURE) {
		ret = zsync_req_capture(req, sqe, lone);
		if (ret)
			return ret;
	} else {
		/* For zsync_ring_flush(): which fd table's requests these are. */
		req->owner = current->files;
	}
	return INDIRECT_CALL_2(def->prep, zsync_nop_prep, zsync_rw_prep, req, sqe);
}

static int zsync_prep_in_chain(struct zsync_req *req, const struct zsync_sqe *sqe,
			       struct zsync_chain *chain)
{
	bool lone = !chain->head && !(sqe->flags & ZSYNC_SQE_LINK);
	int ret = zsync_req_prep(req, sqe, lone);

	if (ret || req->opcode != ZSYNC_OP_LINK_TIMEOUT)
		return ret;
	/* A LINK_TIMEOUT guards the SQE right before it, which must link to it. */
	return zsync_link_timeout_attach(chain->last, req);
}

/*
 * The batch of completions an ENTER collects: a lone SQE that completes
 * during submission (the common case: NOP, cached reads, prep errors)
 * waits here and is posted with the others under one hold of cq_lock,
 * with one tail publish, one wakeup and one count-TIMEOUT check
 * (zsync_post_cqe_batch()); its request, if it had one, is then recycled
 * into the private cache without an atomic.  No other context ever saw
 * these requests, so nothing else can post them or hold them: only a lone
 * one (a chain posts its CQEs in chain order, as its members finish) and
 * only one that never armed.
 */
static void zsync_submit_post(struct zsync_ring *ring, struct zsync_submit *s)
{
	unsigned int n = s->nr_done - s->nr_posted;

	if (!n)
		return;
	/* First: a CQE posted by what this post wakes must find none pending. */
	s->nr_posted = s->nr_done;
	s->live_done += n;
	s->cq_room = zsync_post_cqe_batch(ring, s->done + s->nr_done - n, n);
	/* Posted: their reserved requests are free again. */
	s->nr_noreq = 0;
}

/**
 * zsync_submit_post_pending() - post the CQEs the current submission holds
 * @ring: a ring whose CQE is about to be posted some other way
 *
 * CQEs appear in the order their requests completed: a CQE posted
 * directly while the submitting thread still holds completed ones in its
 * batch (a chain's, one a CANCEL or a wakeup in this thread posts, ...)
 * goes after them.  Only the submitting thread in task context holds a
 * batch; other contexts have no order with it and return at once.
 */
void zsync_submit_post_pending(struct zsync_ring *ring)
{
	if (zsync_in_submission(ring))
		zsync_submit_post(ring, &ring->submit);
}

/* Posts the batch and recycles its requests; process context, submit_lock. */
static void zsync_submit_flush(struct zsync_ring *ring, struct zsync_submit *s)
{
	unsigned int i, n = s->nr_done;

	if (!n)
		return;
	zsync_submit_post(ring, s);
	s->nr_done = 0;
	s->nr_posted = 0;
	for (i = 0; i < n; i++) {
		struct zsync_req *req = s->done[i].req;

		/* Its ring reference goes back to the reserve. */
		if (!req) {
			s->refs_done++;
			continue;
		}
		/* Its CQE waits in the overflow list: not recyclable yet. */
		if (zsync_req_overflowed(req)) {
			zsync_req_put(zsync_req_untag(req));
			continue;
		}
		if (unlikely(zsync_req_has_resources(req)))
			zsync_req_release_resources(req);
		if (unlikely(req->ovf_pool))
			kfree(req->ovf_pool);
		zsync_req_cache_push(ring, req);
		s->refs_done++;
	}
}

static void zsync_submit_add_done(struct zsync_ring *ring, struct zsync_submit *s,
				  struct zsync_req *req, u64 user_data, u8 opcode, s32 res)
{
	struct zsync_done *d = &s->done[s->nr_done++];

	d->user_data = user_data;
	d->res = res;
	d->opcode = opcode;
	d->req = req;
	if (s->nr_done == ZSYNC_SUBMIT_BATCH)
		zsync_submit_flush(ring, s);
}

static void zsync_submit_done(struct zsync_ring *ring, struct zsync_submit *s,
			      struct zsync_req *req)
{
	zsync_submit_add_done(ring, s, req, req->user_data, req->opcode, req->res);
}

/*
 * A request that is not part of a chain.  It runs in the submitting
 * thread; if it completes there without arming, its CQE joins the batch.
 */
static void zsync_submit_lone(struct zsync_ring *ring, struct zsync_submit *s,
			      struct zsync_req *req)
{
	if (req->failed) {
		zsync_submit_done(ring, s, req);
		return;
	}
	/* The general path for what cannot run here and now. */
	if (unlikely(READ_ONCE(ring->dying) || !req->def->issue ||
		     (req->task && req->task != current))) {
		zsync_run_chain(req);
		return;
	}
	if (zsync_issue(req) == ZSYNC_ISSUE_ARMED)
		return;
	trace_zsync_issue_path(ring, req, req->user_data, req->opcode, ZSYNC_PATH_INLINE);
	/* Off its wait queues before its CQE is out (see zsync_req_finish()). */
	if (unlikely(req->poll.nr_entries))
		zsync_poll_disarm(req);
	zsync_submit_done(ring, s, req);
}

/*
 * Request-less completion: a lone SQE that is refused by the common
 * checks, or whose op completes from the SQE alone (complete_noreq, e.g.
 * NOP), only puts its CQE into the batch; no request is set up, prepared
 * and recycled for it.  The CQE and its place in the CQ ring are those
 * the request would have had; only its overflow needs a request, reserved
 * first.  Caller holds a credit of @s for it.
 * Return: false if @sqe needs a request after all.
 */
static bool zsync_submit_noreq(struct zsync_ring *ring, struct zsync_submit *s,
			       const struct zsync_sqe *sqe)
{
	const struct zsync_opdef *def = zsync_opdef_get(sqe->opcode);
	/* The slot its CQE takes: its id in the trace events. */
	const void *id = &s->done[s->nr_done];
	s32 res = 0;
	int ret;

	if (s->chain.head || ring->chain_broken || (sqe->flags & ZSYNC_SQE_LINK))
		return false;
	if (def && !def->complete_noreq)
		return false;
	if (!zsync_req_reserve(ring, s))
		return false;
	ret = def ? zsync_sqe_check(ring, sqe, def) : -EINVAL;
	if (!ret)
		ret = INDIRECT_CALL_1(def->complete_noreq, zsync_nop_complete_noreq, sqe, &res);
	trace_zsync_submit(ring, id, sqe, ret, -1);
	if (ret)
		res = ret;
	else
		trace_zsync_issue_path(ring, id, sqe->user_data, sqe->opcode,
				       ZSYNC_PATH_INLINE);
	s->nr_noreq++;
	s->credits--;
	zsync_submit_add_done(ring, s, NULL, sqe->user_data, sqe->opcode, res);
	return true;
}

static void zsync_submit_one(struct zsync_ring *ring, struct zsync_submit *s,
			     struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_chain *chain = &s->chain;
	int ret;

	req->user_data = sqe->user_data;
	req->opcode = sqe->opcode;
	req->sqe_flags = sqe->flags;
	ret = zsync_prep_in_chain(req, sqe, chain);
	if (ret) {
		req->failed = true;
		req->res = ret;
	}
	trace_zsync_submit(ring, req, sqe, ret, req->fd);

	if (chain->head) {
		chain->last->link = req;
		chain->last = req;
		chain->failed |= req->failed;
	} else if (sqe->flags & ZSYNC_SQE_LINK) {
		chain->head = req;
		chain->last = req;
		chain->failed = req->failed;
	} else {
		zsync_submit_lone(ring, s, req);
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

static int zsync_submit_refused(struct zsync_ring *ring, struct zsync_submit *s)
{
	unsigned int pending = s->nr_done - s->nr_posted;

	/*
	 * CQEs that will not fit count against the overflow limit now, as
	 * they would have if posted one by one.
	 */
	if (pending > s->cq_room) {
		s->cq_room = zsync_cq_space(ring);
		if (pending > s->cq_room)
			zsync_submit_post(ring, s);
	}
	/* Bounded: past these limits the submitter must reap first. */
	if (READ_ONCE(ring->nr_overflow) >= ring->overflow_limit)
		return -EBUSY;
	/* nr_live counts credits and what completed in the batch too. */
	if (atomic_read(&ring->nr_live) - ring->credits - s->credits - s->live_done -
	    (s->nr_done - s->nr_posted) >= zsync_max_inflight)
		return -EBUSY;
	return 0;
}

/*
 * Every request holds a ring reference and counts in nr_live until its
 * terminal CQE.  Submission takes them from credits the ring keeps in
 * reserve (ring->credits, both already counted), and gives back to that
 * reserve what its batch recycled: a NOP costs no atomic on the ring, and
 * an ENTER only when the reserve runs out or overfills.
 */
#define ZSYNC_CREDITS_MAX	(2 * ZSYNC_SUBMIT_BATCH)

static void zsync_submit_begin(struct zsync_ring *ring, struct zsync_submit *s, u32 nr)
{
	u32 have = ring->credits;

	if (have < nr) {
		u32 take = nr - have + ZSYNC_SUBMIT_BATCH;

		refcount_add(take, &ring->refs);
		atomic_add(take, &ring->nr_live);
		have += take;
	}
	WRITE_ONCE(ring->credits, have - nr);
	s->credits = nr;
}

static void zsync_submit_end(struct zsync_ring *ring, struct zsync_submit *s)
{
	/* Posted from the batch but waiting in the overflow list: held there. */
	unsigned int held = s->live_done - s->refs_done;
	u32 back = ring->credits + s->credits + s->refs_done;

	if (held)
		atomic_sub(held, &ring->nr_live);
	if (back > ZSYNC_CREDITS_MAX) {
		zsync_ring_put_credits(ring, back - ZSYNC_CREDITS_MAX);
		back = ZSYNC_CREDITS_MAX;
	}
	WRITE_ONCE(ring->credits, back);
}

/**
 * zsync_ring_put_credits() - give back reserved ring references
 * @ring: the ring; the caller holds a reference of its own (the file)
 * @nr: how many credits (a ring reference and a count in nr_live each)
 */
void zsync_ring_put_credits(struct zsync_ring *ring, u32 nr)
{
	atomic_sub(nr, &ring->nr_live);
	if (WARN_ON_ONCE(refcount_sub_and_test(nr, &ring->refs)))
		complete(&ring->done);
}

/**
 * zsync_submit_sqes() - consume up to @nr SQEs from the shared SQ ring
 * @ring: the ring; caller holds ring->submit_lock and a reference to the
 *	ring's file
 * @nr: how many the caller asked for
 *
 * Every consumed SQE yields exactly one terminal CQE.  A chain still open
 * at the end of the batch ends there.  The CQEs of lone requests that
 * complete during submission are posted together before this returns.
 *
 * Return: the number consumed, or a negative errno if none was.
 */
int zsync_submit_sqes(struct zsync_ring *ring, u32 nr)
{
	/* In the ring, not on the stack, which the kernel may zero per call. */
	struct zsync_submit *s = &ring->submit;
	struct zsync_sqe *sqe = &s->sqe;
	u32 tail, avail, consumed = 0;
	int ret = 0;

	lockdep_assert_held(&ring->submit_lock);
	/* The shared tail is hostile: use it only for a clamped count. */
	tail = smp_load_acquire(&ring->sq->tail);
	avail = min(tail - ring->sq_head, ring->sq_entries);
	nr = min(nr, avail);
	if (!nr)
		return 0;
	s->chain.head = NULL;
	s->chain.last = NULL;
	s->chain.failed = false;
	s->nr_done = 0;
	s->nr_posted = 0;
	s->nr_noreq = 0;
	s->live_done = 0;
	s->refs_done = 0;
	s->cq_room = zsync_cq_space(ring);
	zsync_submit_begin(ring, s, nr);
	WRITE_ONCE(ring->batch_task, current);

	while (consumed < nr) {
		struct zsync_req *req;

		/* Limits apply between chains, never inside one. */
		if (!s->chain.head) {
			ret = zsync_submit_refused(ring, s);
			if (ret)
				break;
		}
		/*
		 * One read of the shared slot; everything after uses the copy.
		 * It is consumed only once it has its CQE or its request.
		 */
		memcpy(sqe, &ring->sqes[ring->sq_head & ring->sq_mask], sizeof(*sqe));
		if (zsync_submit_noreq(ring, s, sqe)) {
			ring->sq_head++;
			consumed++;
			goto next;
		}
		req = zsync_req_alloc(ring, s);
		if (!req) {
			ret = -ENOMEM;
			zsync_chain_break(ring, &s->chain);
			break;
		}
		ring->sq_head++;
		consumed++;
		if (ring->chain_broken)
			zsync_cancel_broken_member(req, sqe);
		else
			zsync_submit_one(ring, s, req, sqe);
next:
		if (!(consumed % ZSYNC_SUBMIT_BATCH)) {
			zsync_submit_flush(ring, s);
			cond_resched();
		}
	}
	zsync_chain_end(&s->chain);
	zsync_submit_flush(ring, s);
	WRITE_ONCE(ring->batch_task, NULL);
	zsync_submit_end(ring, s);
	zsync_stat_add(sqes, consumed);
	/* Userspace may reuse the slots once it sees the new head. */
	smp_store_release(&ring->sq->head, ring->sq_head);
	return consumed ? consumed : ret;
}

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
