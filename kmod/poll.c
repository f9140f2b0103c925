// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting on a file's wait queues: POLL_ADD, and every op that retries
 * after -EAGAIN on a pollable file (sockets, pipes, eventfd, ttys, ...).
 * No thread sleeps per op: the request hangs on the file's wait queues and
 * the wakeup moves it on.
 *
 * A request registers up to two wait-queue entries through the file's
 * ->poll() (a pipe uses two queues).  Wakeups and cancellation race for
 * the right to act on the request and settle it with poll.refs: whoever
 * raises its count from zero owns the request until it brings the count
 * back to zero; a wakeup or a canceller that finds it non-zero only leaves
 * its increment (and the CANCEL bit) for the owner to see, so no wakeup
 * is lost and only the owner ever completes the request.  The owner is the
 * submitter while arming, the wakeup callback, or the context the callback
 * hands the retry to: the submitting thread for requests pinned there
 * (ZSYNC_OPF_TASK ops, and every op with an identity on a file a worker may
 * not act on: sockets, pipes, ttys, ...), or a worker for the rest
 * (POLL_ADD).  A canceller that finds the retry still waiting on the
 * thread's list takes it off and becomes the owner.
 *
 * Lock order: a wait-queue head's lock, then ring->lock or cq_lock.
 * Nothing here takes a wait-queue lock while holding a ring lock, and a
 * wakeup callback never takes another wait-queue lock, which would order
 * the two heads of one file both ways: the owner removes the entries
 * outside any head lock, except that a callback may unhook its own entry,
 * whose lock it holds.
 *
 * A head may be freed under us only after a POLLFREE wakeup
 * (wake_up_pollfree(), signalfd) and then only after an RCU grace period:
 * the callback unhooks the entry and clears ->head; removal reads ->head
 * under rcu_read_lock().
 */
#include <linux/kernel.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/rcupdate.h>
#include <linux/percpu.h>
#include "zsync.h"
#include "zsync_trace.h"

#define ZSYNC_POLL_CANCEL	BIT(31)
#define ZSYNC_POLL_REF_MASK	GENMASK(30, 0)

/*
 * Non-zero while this CPU runs a zsync wakeup callback: CQE notification
 * must not wake a wait queue from there (it may be the one being woken,
 * via epoll), see zsync_cq_notify().
 */
DEFINE_PER_CPU(unsigned int, zsync_wake_nesting);

/* Unhooks @e from its queue; the caller holds no wait-queue lock. */
static void zsync_poll_entry_remove(struct zsync_poll_entry *e)
{
	wait_queue_head_t *head;
	unsigned long flags;

	rcu_read_lock();
	/* Pairs with the release in zsync_poll_entry_unhook_locked(). */
	head = smp_load_acquire(&e->head);
	if (head) {
		spin_lock_irqsave(&head->lock, flags);
		list_del_init(&e->wait.entry);
		e->head = NULL;
		spin_unlock_irqrestore(&head->lock, flags);
	}
	rcu_read_unlock();
}

/* Unhooks @e from within its own wakeup callback (head lock held). */
static void zsync_poll_entry_unhook_locked(struct zsync_poll_entry *e)
{
	list_del_init(&e->wait.entry);
	/* Pairs with the acquire in zsync_poll_entry_remove(). */
	smp_store_release(&e->head, NULL);
}

/**
 * zsync_poll_disarm() - remove @req from every wait queue it is on
 * @req: a request whose owner is completing it; no wait-queue lock held
 */
void zsync_poll_disarm(struct zsync_req *req)
{
	unsigned int i;

	for (i = 0; i < req->poll.nr_entries; i++)
		zsync_poll_entry_remove(&req->poll.entry[i]);
}

/* Owner: takes @req off the in-flight list and completes it. */
static void zsync_poll_finish(struct zsync_req *req, s32 res)
{
	zsync_req_complete_armed(req, res);
}

/*
 * Owner: runs the op again until it completes, or until no wakeup came in
 * meanwhile (it then stays armed and the owner lets go).
 */
static void zsync_poll_retry(struct zsync_req *req, bool cancel)
{
	struct zsync_poll *p = &req->poll;
	int v, res;

	if (cancel)
		atomic_or(ZSYNC_POLL_CANCEL, &p->refs);
	do {
		v = atomic_read(&p->refs);
		if (v & ZSYNC_POLL_CANCEL) {
			zsync_poll_finish(req, -ECANCELED);
			return;
		}
		res = req->def->retry(req);
		if (res != -EAGAIN) {
			zsync_poll_finish(req, res);
			return;
		}
	} while (atomic_sub_return(v & ZSYNC_POLL_REF_MASK, &p->refs) & ZSYNC_POLL_REF_MASK);
}

/**
 * zsync_poll_schedule() - hand an owned request to its retry context
 * @req: a request whose poll.refs the caller raised from zero
 *
 * Any context.  Requests pinned to their submitting thread (ZSYNC_OPF_TASK
 * ops, and every op on a file a worker may not act on, see
 * zsync_file_worker_ok()) retry there; the others (POLL_ADD, which only
 * asks ->poll() again) in a worker.
 */
void zsync_poll_schedule(struct zsync_req *req)
{
	if (req->task)
		zsync_task_defer(req, zsync_poll_retry);
	else
		zsync_worker_queue(req, zsync_poll_retry);
}

/**
 * zsync_poll_release() - the owner in a wakeup callback lets go
 * @req: the request, still armed
 *
 * Return: true if it was released; false if a canceller came meanwhile,
 * in which case the caller still owns @req and must end it.
 */
bool zsync_poll_release(struct zsync_req *req)
{
	return !(atomic_dec_return(&req->poll.refs) & ZSYNC_POLL_REF_MASK);
}

/**
 * zsync_poll_finish_in_wakeup() - complete @req from its own wakeup callback
 * @req: the owned request, with a single wait-queue entry
 * @e: that entry, whose head lock the caller holds
 * @res: the result
 */
void zsync_poll_finish_in_wakeup(struct zsync_req *req, struct zsync_poll_entry *e, s32 res)
{
	zsync_poll_entry_unhook_locked(e);
	zsync_poll_finish(req, res);
}

/*
 * The queue of @e is being freed (POLLFREE, e.g. a signalfd's sighand):
 * end the request, and leave the queue.  Leaving is the last access:
 * while e->head is set, an owner completing @req on another CPU (a
 * canceller, a retry) takes the head lock we hold in zsync_poll_disarm()
 * and so waits for this callback; once it reads NULL it takes nothing and
 * may free @req at once, so the CANCEL bit and our count (with the
 * hand-off to a retry if that makes us the owner) come first.
 */
static int zsync_poll_wake_free(struct zsync_req *req, struct zsync_poll_entry *e)
{
	struct zsync_poll *p = &req->poll;

	trace_zsync_poll_wake(req, (__force u32)POLLFREE);
	atomic_or(ZSYNC_POLL_CANCEL, &p->refs);
	if (!(atomic_fetch_inc(&p->refs) & ZSYNC_POLL_REF_MASK)) {
		/* Owner: the retry sees the CANCEL bit and ends @req. */
		this_cpu_inc(zsync_wake_nesting);
		zsync_poll_schedule(req);
		this_cpu_dec(zsync_wake_nesting);
	}
	zsync_poll_entry_unhook_locked(e);
	return 1;
}

static int zsync_poll_wake(struct wait_queue_entry *wait, unsigned int mode,
			   int sync, void *key)
{
	struct zsync_poll_entry *e = container_of(wait, struct zsync_poll_entry, wait);
	struct zsync_req *req = wait->private;
	struct zsync_poll *p = &req->poll;
	__poll_t mask = key_to_poll(key);

	if (unlikely(mask & POLLFREE))
		return zsync_poll_wake_free(req, e);
	if (mask && !(mask & p->events))
		return 0;
	trace_zsync_poll_wake(req, (__force u32)mask);
	if (atomic_fetch_inc(&p->refs) & ZSYNC_POLL_REF_MASK)
		return 1;	/* the owner sees our count and runs again */

	this_cpu_inc(zsync_wake_nesting);
	if (req->def->poll_wake)
		req->def->poll_wake(req, e, mask);
	else
		zsync_poll_schedule(req);
	this_cpu_dec(zsync_wake_nesting);
	return 1;
}

struct zsync_poll_table {
	struct poll_table_struct pt;
	struct zsync_req *req;
};

static void zsync_poll_queue_proc(struct file *file, wait_queue_head_t *head,
				  struct poll_table_struct *pt)
{
	struct zsync_poll_table *t = container_of(pt, struct zsync_poll_table, pt);
	struct zsync_poll *p = &t->req->poll;
	struct zsync_poll_entry *e;

	if (p->nr_entries == ZSYNC_POLL_ENTRIES) {
		p->too_many = true;
		return;
	}
	e = &p->entry[p->nr_entries++];
	init_waitqueue_func_entry(&e->wait, zsync_poll_wake);
	e->wait.private = t->req;
	e->head = head;
	add_wait_queue(head, &e->wait);
}

/*
 * The arming thread owns @req, which is ready already (or was woken while
 * arming): retry it.  A request pinned to its submitting thread retries
 * from that thread's task work, which the same ENTER runs once submission
 * has let go of submit_lock: its retry may block (a tty or 6.1 pipe read
 * that a racing reader emptied waits, as read(2) would), and a call that
 * blocks under submit_lock would stall every other submitter of the ring
 * in an uninterruptible mutex_lock() (zsync-fuzz: a ring shared across
 * fork(), the parent in n_tty_read(), the child in D state).
 */
static void zsync_poll_ready_at_arm(struct zsync_req *req)
{
	if (req->task)
		zsync_poll_schedule(req);
	else
		zsync_poll_retry(req, false);
}

/**
 * zsync_poll_arm() - wait until req->file reports one of @events, then
 * run def->retry() (or def->poll_wake()) again
 * @req: the request, from its issue(); req->file is set
 * @events: EPOLLIN, EPOLLOUT, ... (EPOLLERR and EPOLLHUP always count)
 *
 * If the file is ready already, or becomes ready while arming, the retry
 * runs right here, or, for a request pinned to its submitting thread, in
 * that thread's task work (the same ENTER, after submission).  A file that cannot be waited on (no wait queue, such
 * as a regular file) gets one more run if it reports @events, else the
 * request ends with -EINVAL; so does a file with more than two queues.
 *
 * Return: ZSYNC_ISSUE_ARMED: the request completes, or has completed,
 * through its retry or its poll_wake; issue() returns this as it is.
 */
enum zsync_issue_ret zsync_poll_arm(struct zsync_req *req, __poll_t events)
{
	struct zsync_poll *p = &req->poll;
	struct zsync_poll_table t = { .req = req };
	__poll_t mask;

	/* Retries run later, as the submitter was now. */
	if (!zsync_req_capture_late(req)) {
		req->res = -ECANCELED;
		return ZSYNC_ISSUE_DONE;
	}
	trace_zsync_issue_path(req->ring, req, req->user_data, req->opcode, ZSYNC_PATH_POLL);
	p->events = events | EPOLLERR | EPOLLHUP;
	p->nr_entries = 0;
	p->too_many = false;
	/* We own the request while arming; early wakeups leave their count. */
	atomic_set(&p->refs, 1);
	req->async = ZSYNC_ASYNC_POLL;
	zsync_req_arm(req);

	init_poll_funcptr(&t.pt, zsync_poll_queue_proc);
	t.pt._key = p->events;
	mask = vfs_poll(req->file, &t.pt);
	if (unlikely(p->too_many)) {
		zsync_poll_finish(req, -EINVAL);
		return ZSYNC_ISSUE_ARMED;
	}
	if (unlikely(!p->nr_entries)) {
		/*
		 * No wait queue (a regular file): its readiness never changes.
		 * Run the op once more if it is ready; it cannot wait.
		 */
		zsync_poll_finish(req, (mask & p->events) ? req->def->retry(req) : -EINVAL);
		return ZSYNC_ISSUE_ARMED;
	}
	if (mask & p->events) {
		zsync_poll_ready_at_arm(req);
		return ZSYNC_ISSUE_ARMED;
	}
	/* Let go, unless wakeups or a cancel came while arming: their counts keep us owner. */
	if (atomic_dec_return(&p->refs) & ZSYNC_POLL_REF_MASK)
		zsync_poll_ready_at_arm(req);
	return ZSYNC_ISSUE_ARMED;
}

/**
 * zsync_poll_cancel() - cancel() of an armed poll request
 * @req: the request; ring->lock held
 *
 * Return: 0 if the caller now owns @req and must complete it, -EALREADY
 * if an owner exists; it will see the CANCEL bit and end the request
 * with -ECANCELED unless it is completing with a result already.
 */
int zsync_poll_cancel(struct zsync_req *req)
{
	struct zsync_poll *p = &req->poll;

	atomic_or(ZSYNC_POLL_CANCEL, &p->refs);
	if (!(atomic_fetch_inc(&p->refs) & ZSYNC_POLL_REF_MASK))
		return 0;
	/*
	 * A retry waiting for its submitting thread has not started: taking
	 * it off that thread's list makes us the owner, so the cancel is
	 * definite even if the thread does not enter the ring again.
	 */
	if (req->task && zsync_task_unqueue(req))
		return 0;
	return -EALREADY;
}
