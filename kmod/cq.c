// SPDX-License-Identifier: GPL-2.0
/*
 * The completion side of a ring: writing CQEs into the shared CQ ring,
 * the overflow list behind it (a request's own terminal slot, multishot
 * pools, auxiliary entries), and waking whoever waits (the wait queue,
 * the eventfd, deferred to irq_work where signalling is not allowed).
 *
 * The user's CQ head is hostile: it is only turned into a clamped signed
 * distance from the tail the kernel keeps for itself.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/eventfd.h>
#include <linux/irq_work.h>
#include <linux/poll.h>
#include "zsync.h"
#include "zsync_trace.h"
#include "compat.h"

/*
 * Signed distance from the user's CQ head to our tail.  The head is hostile:
 * a head past the tail is negative, one far behind is more than the ring.
 */
static s32 zsync_cq_distance(const struct zsync_ring *ring)
{
	return (s32)(READ_ONCE(ring->cq_tail) - READ_ONCE(ring->cq->head));
}

/* CQEs userspace has not consumed yet, clamped to [0, cq_entries]. */
u32 zsync_cq_ready(const struct zsync_ring *ring)
{
	s32 d = zsync_cq_distance(ring);

	return d <= 0 ? 0 : min_t(u32, d, ring->cq_entries);
}

/* A head outside [tail - entries, tail] counts as full: never overwrite. */
static bool zsync_cq_has_space(const struct zsync_ring *ring)
{
	s32 d = zsync_cq_distance(ring);

	return d >= 0 && d < ring->cq_entries;
}

/**
 * zsync_cq_space() - how many CQEs a post would write into the CQ ring now
 * @ring: the ring; any context (a snapshot; exact under cq_lock, where
 *	nr_overflow is the length of the overflow list)
 *
 * Return: the free slots of the CQ ring; 0 while CQEs wait in the
 * overflow list (new ones queue behind them, in order) or while the
 * user's head is outside [tail - cq_entries, tail].
 */
u32 zsync_cq_space(const struct zsync_ring *ring)
{
	s32 d = zsync_cq_distance(ring);

	if (READ_ONCE(ring->nr_overflow) || d < 0 || d >= ring->cq_entries)
		return 0;
	return ring->cq_entries - d;
}

/**
 * zsync_cq_overflow_movable() - whether an overflow flush would move a CQE
 * @ring: the ring; any context
 *
 * Return: true if CQEs wait in the overflow list and the CQ ring has a
 * free slot for the oldest of them.
 */
bool zsync_cq_overflow_movable(const struct zsync_ring *ring)
{
	return READ_ONCE(ring->nr_overflow) && zsync_cq_has_space(ring);
}

/* Fills the next CQE; userspace sees it only once zsync_cq_publish() ran. */
static void zsync_cq_fill(struct zsync_ring *ring, u64 user_data, s32 res, u32 cflags)
	__must_hold(&ring->cq_lock)
{
	struct zsync_cqe *cqe = &ring->cq->cqes[ring->cq_tail & ring->cq_mask];

	cqe->user_data = user_data;
	cqe->res = res;
	cqe->flags = cflags;
	WRITE_ONCE(ring->cq_tail, ring->cq_tail + 1);
}

static void zsync_cq_publish(struct zsync_ring *ring)
	__must_hold(&ring->cq_lock)
{
	/* The CQE contents are visible before the tail that publishes them. */
	smp_store_release(&ring->cq->tail, ring->cq_tail);
}

static void zsync_cq_write(struct zsync_ring *ring, u64 user_data, s32 res, u32 cflags)
	__must_hold(&ring->cq_lock)
{
	zsync_cq_fill(ring, user_data, res, cflags);
	zsync_stat_inc(cqes);
	zsync_cq_publish(ring);
}

static void zsync_set_overflow_flag(struct zsync_ring *ring, bool on)
	__must_hold(&ring->cq_lock)
{
	WRITE_ONCE(ring->sq->flags, on ? ZSYNC_SQ_CQ_OVERFLOW : 0);
}

/*
 * Wakes every ENTER waiter whose wake function agrees (they filter on
 * their target, see zsync_cq_wait()).  Their wake function only wakes
 * their task, so this is safe from any context, a wakeup callback
 * included.  The caller ran smp_mb() after posting (see wq_has_sleeper()).
 */
static void zsync_cq_wake_waiters(struct zsync_ring *ring)
{
	/* Ordered after the post by the caller's barrier (wq_has_sleeper()). */
	if (waitqueue_active(&ring->cq_wait))
		wake_up_all(&ring->cq_wait);
}

/*
 * Wakes every poller of the ring fd (poll(), epoll, a POLL_ADD) and
 * signals the eventfd.  @nr CQEs were posted: the eventfd counts each of
 * them, unless the ring was set up with ZSYNC_SETUP_EVENTFD_BATCH (once
 * per batch).  The caller ran smp_mb() after posting.
 */
static void zsync_cq_notify_pollers(struct zsync_ring *ring, unsigned int nr)
{
	struct eventfd_ctx *ev;

	/* Ordered after the post by the caller's barrier (wq_has_sleeper()). */
	if (waitqueue_active(&ring->poll_wq))
		wake_up_all(&ring->poll_wq);
	if (!rcu_access_pointer(ring->evfd) || !nr)
		return;
	if (ring->evfd_batch)
		nr = 1;
	rcu_read_lock();
	ev = rcu_dereference(ring->evfd);
	if (ev)
		zsync_eventfd_signal(ev, nr);
	rcu_read_unlock();
}

void zsync_cq_notify_work(struct irq_work *work)
{
	struct zsync_ring *ring = container_of(work, struct zsync_ring, notify_work);

	/* atomic_xchg() is a full barrier, as zsync_cq_notify()'s smp_mb(). */
	zsync_cq_notify_pollers(ring, atomic_xchg(&ring->notify_pending, 0));
}

/**
 * zsync_cq_notify() - wake the ring's waiters, pollers and eventfd
 * @ring: the ring; any context
 * @nr: how many CQEs were just posted (0: a wakeup only, for deferred work)
 *
 * ENTER waiters are woken at once, always.  From inside a wakeup callback
 * of ours, or an eventfd signal, waking the ring fd's pollers now could
 * re-enter the very wait queue being woken (the ring fd in an epoll set
 * that a POLL_ADD on the same ring watches) or nest eventfd signals, so
 * that part is deferred to an irq_work, which runs moments later and
 * signals the eventfd for every CQE it was owed; only if there is a
 * poller or an eventfd, so that a socket wakeup of a thread waiting in
 * ENTER costs no interrupt.
 */
void zsync_cq_notify(struct zsync_ring *ring, unsigned int nr)
{
	/* One barrier for both queues: the posts before, their checks after. */
	smp_mb();
	zsync_cq_wake_waiters(ring);
	if (unlikely(this_cpu_read(zsync_wake_nesting) || !eventfd_signal_allowed())) {
		/* After the barrier above: a poller queued later sees our CQEs. */
		if (!waitqueue_active(&ring->poll_wq) &&
		    !(nr && rcu_access_pointer(ring->evfd)))
			return;
		atomic_add(nr, &ring->notify_pending);
		irq_work_queue(&ring->notify_work);
		return;
	}
	zsync_cq_notify_pollers(ring, nr);
}

/* Caller holds cq_lock: @ovf (filled in) goes to the end of the overflow list. */
static void zsync_ovf_queue(struct zsync_ring *ring, struct zsync_ovf *ovf,
			    u64 user_data, s32 res, u32 cflags)
	__must_hold(&ring->cq_lock)
{
	ovf->cqe.user_data = user_data;
	ovf->cqe.res = res;
	ovf->cqe.flags = cflags;
	ovf->queued = true;
	list_add_tail(&ovf->node, &ring->overflow);
	WRITE_ONCE(ring->nr_overflow, ring->nr_overflow + 1);
	WRITE_ONCE(ring->overflow_total, ring->overflow_total + 1);
	WRITE_ONCE(ring->cq->overflow, ring->overflow_total);
	zsync_stat_inc(cqes_overflowed);
	zsync_set_overflow_flag(ring, true);
}

/* Caller holds cq_lock: a new CQE may skip the overflow list only if it is empty. */
static bool zsync_cq_direct(const struct zsync_ring *ring)
	__must_hold(&ring->cq_lock)
{
	return list_empty(&ring->overflow) && zsync_cq_has_space(ring);
}

/**
 * zsync_cq_counted_armed() - zsync_cq_counted() for a TIMEOUT just armed
 * @ring: the ring; count_next was updated, no ring lock held
 *
 * A CQE posted while the TIMEOUT armed may already have met its count.
 */
void zsync_cq_counted_armed(struct zsync_ring *ring)
{
	unsigned long flags;

	/* Orders our count_next before reading cq_seq (see above). */
	spin_lock_irqsave(&ring->cq_lock, flags);
	spin_unlock_irqrestore(&ring->cq_lock, flags);
	zsync_cq_counted(ring);
}

/**
 * zsync_post_cqe() - post the terminal CQE of @req, from any context
 * @req: the request; it must stay referenced until this returns
 * @res: the result
 * @cflags: ZSYNC_CQE_F_* flags
 *
 * If the CQ ring is full, or older CQEs already wait, the CQE is kept in
 * @req itself on the overflow list (no allocation, so this works in hard
 * irq context): the request's memory stays until the list is flushed,
 * what it holds goes with its last reference (zsync_ovf_adopt()).
 */
void zsync_post_cqe(struct zsync_req *req, s32 res, u32 cflags)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;
	bool direct;

	zsync_submit_post_pending(ring);
	spin_lock_irqsave(&ring->cq_lock, flags);
	if (ring->dying) {
		/* Closing: nobody can read the ring any more. */
		spin_unlock_irqrestore(&ring->cq_lock, flags);
		return;
	}
	if (!zsync_req_is_timeout(req))
		WRITE_ONCE(ring->cq_seq, ring->cq_seq + 1);
	direct = zsync_cq_direct(ring);
	if (direct)
		zsync_cq_write(ring, req->user_data, res, cflags);
	else
		zsync_ovf_queue(ring, &req->ovf, req->user_data, res, cflags);
	trace_zsync_cqe(ring, req, req->opcode, req->user_data, res, cflags, !direct);
	spin_unlock_irqrestore(&ring->cq_lock, flags);
	zsync_cq_notify(ring, 1);
}

/**
 * zsync_post_cqe_batch() - post the terminal CQEs completed together in
 * their submitting thread
 * @ring: the ring; its submitting thread, ring->submit_lock held (from
 *	zsync_submit_post_pending() maybe inside a wakeup, irqs off)
 * @done: the CQEs; their requests, if any, armed nowhere and visible to
 *	no other context
 * @nr: how many
 *
 * One hold of cq_lock, one tail publish, one wakeup, one count-TIMEOUT
 * check for the whole batch.  A CQE that cannot go into the CQ ring waits
 * in the overflow list in its request (in order, as zsync_post_cqe()
 * does), a request-less one in the request reserved for it
 * (zsync_req_for_overflow()): its entry's request is tagged
 * (zsync_req_overflowed()), so that the caller puts that request instead
 * of recycling it.
 *
 * Return: the free slots of the CQ ring it left (a hint, as
 * zsync_cq_space()'s).
 */
unsigned int zsync_post_cqe_batch(struct zsync_ring *ring, struct zsync_done *done,
				  unsigned int nr)
{
	unsigned int i, room, counted = 0, written = 0;
	unsigned long flags;

	spin_lock_irqsave(&ring->cq_lock, flags);
	if (ring->dying) {
		spin_unlock_irqrestore(&ring->cq_lock, flags);
		return 0;
	}
	/* Room is looked up once: one read of the hostile head. */
	room = zsync_cq_space(ring);
	for (i = 0; i < nr; i++) {
		struct zsync_done *d = &done[i];

		if (!zsync_opcode_is_timeout(d->opcode))
			counted++;
		/* A request-less CQE's trace id is its slot (zsync_submit). */
		trace_zsync_cqe(ring, d->req ?: (void *)d, d->opcode, d->user_data, d->res, 0,
				written >= room);
		if (written < room) {
			zsync_cq_fill(ring, d->user_data, d->res, 0);
			written++;
			continue;
		}
		if (!d->req)
			d->req = zsync_req_for_overflow(ring, d);
		zsync_ovf_queue(ring, &d->req->ovf, d->user_data, d->res, 0);
		d->req = zsync_req_tag_overflowed(d->req);
	}
	WRITE_ONCE(ring->cq_seq, ring->cq_seq + counted);
	if (written)
		zsync_cq_publish(ring);
	spin_unlock_irqrestore(&ring->cq_lock, flags);
	zsync_stat_add(cqes, written);
	zsync_cq_notify(ring, nr);
	if (counted)
		zsync_cq_counted(ring);
	return room - written;
}

/**
 * zsync_req_alloc_ovf_pool() - give a multishot request room for @nr
 * overflowed CQEs
 * @req: the request, at prep (process context)
 * @nr: how many CQEs it may have waiting in the overflow list at once
 *
 * Return: 0 or -ENOMEM.
 */
int zsync_req_alloc_ovf_pool(struct zsync_req *req, unsigned int nr)
{
	struct zsync_ovf *pool;
	unsigned int i;

	pool = kcalloc(nr, sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		pool[i].kind = ZSYNC_OVF_POOL;
		pool[i].req = req;
		list_add_tail(&pool[i].node, &req->ovf_free);
	}
	req->ovf_pool = pool;
	return 0;
}

/**
 * zsync_req_post_more() - post a non-terminal CQE of a multishot request
 * @req: an armed request; ZSYNC_CQE_F_MORE is added to @cflags
 * @res: the result
 * @cflags: ZSYNC_CQE_F_* flags
 *
 * Any context, hard irq included: nothing is allocated.  When the CQ ring
 * is full the CQE takes a slot of @req's pool (zsync_req_alloc_ovf_pool());
 * pool slots need no reference, because @req's own terminal CQE, posted
 * later, queues behind them and keeps @req alive until they are flushed.
 *
 * Return: true if the CQE was posted (or the ring is closing), false if
 * the pool is exhausted: nothing was posted and the caller must end @req,
 * typically with -EOVERFLOW, so that nothing is lost silently.
 */
bool zsync_req_post_more(struct zsync_req *req, s32 res, u32 cflags)
{
	struct zsync_ring *ring = req->ring;
	struct zsync_ovf *slot;
	unsigned long flags;

	cflags |= ZSYNC_CQE_F_MORE;
	zsync_submit_post_pending(ring);
	spin_lock_irqsave(&ring->cq_lock, flags);
	if (ring->dying) {
		spin_unlock_irqrestore(&ring->cq_lock, flags);
		return true;
	}
	if (zsync_cq_direct(ring)) {
		zsync_cq_write(ring, req->user_data, res, cflags);
		trace_zsync_cqe(ring, req, req->opcode, req->user_data, res, cflags, false);
	} else {
		slot = list_first_entry_or_null(&req->ovf_free, struct zsync_ovf, node);
		if (!slot) {
			spin_unlock_irqrestore(&ring->cq_lock, flags);
			return false;
		}
		list_del(&slot->node);
		zsync_ovf_queue(ring, slot, req->user_data, res, cflags);
		trace_zsync_cqe(ring, req, req->opcode, req->user_data, res, cflags, true);
	}
	WRITE_ONCE(ring->cq_seq, ring->cq_seq + 1);
	spin_unlock_irqrestore(&ring->cq_lock, flags);
	zsync_cq_notify(ring, 1);
	zsync_cq_counted(ring);
	return true;
}

/**
 * zsync_post_aux_cqe() - post a CQE that belongs to no request of @ring
 * @ring: the ring, kept alive by the caller (a file reference)
 * @user_data: the CQE's user_data
 * @res: its res
 * @cflags: its flags
 *
 * Process context (it may allocate an overflow entry).  This is how
 * MSG_RING posts into another ring.
 *
 * Return: 0, -EOVERFLOW if the CQE would have to wait and @ring's
 * overflow backlog is at its limit, -ENOMEM, or -EBADFD if @ring is closing.
 */
int zsync_post_aux_cqe(struct zsync_ring *ring, u64 user_data, s32 res, u32 cflags)
{
	struct zsync_ovf *spare = NULL;
	unsigned long flags;
	int ret = 0;

	might_sleep();
	zsync_submit_post_pending(ring);
	for (;;) {
		spin_lock_irqsave(&ring->cq_lock, flags);
		if (ring->dying) {
			ret = -EBADFD;
		} else if (zsync_cq_direct(ring)) {
			zsync_cq_write(ring, user_data, res, cflags);
			trace_zsync_cqe(ring, NULL, ZSYNC_TRACE_NO_OPCODE, user_data, res, cflags, false);
		} else if (ring->nr_overflow >= ring->overflow_limit) {
			ret = -EOVERFLOW;
		} else if (spare) {
			zsync_ovf_queue(ring, spare, user_data, res, cflags);
			trace_zsync_cqe(ring, NULL, ZSYNC_TRACE_NO_OPCODE, user_data, res, cflags, true);
			spare = NULL;
		} else {
			/* Full: allocate an entry outside the lock and look again. */
			spin_unlock_irqrestore(&ring->cq_lock, flags);
			spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
			if (!spare)
				return -ENOMEM;
			spare->kind = ZSYNC_OVF_AUX;
			continue;
		}
		if (!ret)
			WRITE_ONCE(ring->cq_seq, ring->cq_seq + 1);
		spin_unlock_irqrestore(&ring->cq_lock, flags);
		break;
	}
	kfree(spare);
	if (ret)
		return ret;
	zsync_cq_notify(ring, 1);
	zsync_cq_counted(ring);
	return 0;
}

/**
 * zsync_ovf_adopt() - leave a dead request's memory to the overflow list
 * @req: a request after its last put, what it held already released
 *
 * Return: true if its terminal CQE still waits in the overflow list, which
 * now frees it when the CQE leaves (zsync_ovf_unlink()); false if the CQE
 * is gone: the caller frees @req.
 */
bool zsync_ovf_adopt(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;
	bool queued;

	spin_lock_irqsave(&ring->cq_lock, flags);
	queued = req->ovf.queued;
	req->ovf.orphan = queued;
	spin_unlock_irqrestore(&ring->cq_lock, flags);
	return queued;
}

/* Frees what an overflow entry kept once its CQE is gone from the list. */
static void zsync_ovf_release(struct zsync_ovf *ovf)
{
	if (ovf->kind == ZSYNC_OVF_AUX)
		kfree(ovf);
	else
		zsync_req_free_orphan(ovf->req);
}

/*
 * Caller holds cq_lock: takes @ovf off the overflow list.  Pool slots go
 * straight back to their request; a live request's terminal entry is
 * just unlinked (its last put frees it); the rest (allocated entries,
 * orphaned requests) go to @done for zsync_ovf_release() once the lock
 * is dropped.
 */
static void zsync_ovf_unlink(struct zsync_ovf *ovf, struct list_head *done)
{
	if (ovf->kind == ZSYNC_OVF_POOL) {
		list_move_tail(&ovf->node, &ovf->req->ovf_free);
		return;
	}
	if (ovf->kind == ZSYNC_OVF_TERMINAL && !ovf->orphan) {
		list_del_init(&ovf->node);
		/*
		 * Not ours: the owner's last put checks queued without
		 * cq_lock (zsync_req_last_put()) and frees the request as
		 * soon as it reads false, so this store is the last access.
		 */
		smp_store_release(&ovf->queued, false);
		return;
	}
	/* An orphan or an allocated entry: only this list still knows it. */
	ovf->queued = false;
	list_move_tail(&ovf->node, done);
}

/* Moves overflowed CQEs, oldest first, into the CQ ring while it has room. */
void zsync_flush_overflow(struct zsync_ring *ring)
{
	struct zsync_ovf *ovf, *tmp;
	unsigned long flags;
	u32 moved = 0;
	LIST_HEAD(done);

	spin_lock_irqsave(&ring->cq_lock, flags);
	while (!list_empty(&ring->overflow) && zsync_cq_has_space(ring)) {
		ovf = list_first_entry(&ring->overflow, struct zsync_ovf, node);
		zsync_cq_write(ring, ovf->cqe.user_data, ovf->cqe.res, ovf->cqe.flags);
		zsync_ovf_unlink(ovf, &done);
		WRITE_ONCE(ring->nr_overflow, ring->nr_overflow - 1);
		moved++;
	}
	if (moved)
		trace_zsync_overflow_flush(ring, moved, ring->nr_overflow);
	if (list_empty(&ring->overflow))
		zsync_set_overflow_flag(ring, false);
	spin_unlock_irqrestore(&ring->cq_lock, flags);

	if (!moved)
		return;
	zsync_cq_notify(ring, 1);
	list_for_each_entry_safe(ovf, tmp, &done, node) {
		list_del_init(&ovf->node);
		zsync_ovf_release(ovf);
	}
}

/*
 * Ring teardown: drops the CQEs nobody will read any more and stops
 * posting new ones.
 */
void zsync_cq_kill(struct zsync_ring *ring)
{
	struct zsync_ovf *ovf, *tmp;
	LIST_HEAD(done);

	spin_lock_irq(&ring->cq_lock);
	WRITE_ONCE(ring->dying, true);
	list_for_each_entry_safe(ovf, tmp, &ring->overflow, node)
		zsync_ovf_unlink(ovf, &done);
	WRITE_ONCE(ring->nr_overflow, 0);
	spin_unlock_irq(&ring->cq_lock);
	list_for_each_entry_safe(ovf, tmp, &done, node) {
		list_del_init(&ovf->node);
		zsync_ovf_release(ovf);
	}
}
