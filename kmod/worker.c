// SPDX-License-Identifier: GPL-2.0
/*
 * Where request code runs when it cannot finish where it started, and with
 * whose identity.
 *
 * Every op acts as its submitter: its credentials, mm, fd table, fs root
 * and namespaces.  Three contexts run request code:
 *
 *  - the submitter, inside ENTER: everything runs with its own identity;
 *  - a zsync kworker: blocking data transfer and fsync on regular files of
 *    ordinary data filesystems and on block devices (zsync_file_worker_ok()),
 *    POLL_ADD's re-polls.  The worker borrows the submitter's mm and
 *    credentials, captured at prep, for the duration (kthread_use_mm(),
 *    override_creds()); it only ever operates on files the submitter
 *    resolved at prep.  Each user has at most max_workers such ops in
 *    workers at once; more wait in a queue of their own (struct
 *    zsync_wuser), so one user cannot hold every worker;
 *  - the submitting thread again, for ops that act on its fd table or path
 *    namespace (ZSYNC_OPF_TASK: OPENAT, CLOSE, ACCEPT, ...), which a
 *    kworker cannot borrow, and for every op on a file that a worker may
 *    not touch: a file whose behaviour depends on who calls it (a tty's job
 *    control, a socket's SCM_CREDENTIALS, cgroup.procs resolving pids in
 *    the caller's pid namespace, /proc/sys in its uts namespace), or that
 *    would block a worker without FMODE_NOWAIT (ttys, 6.1 pipes).  Such
 *    requests are pinned there at prep (zsync_req_pin_task()); their work
 *    waits on ring->task_list until that thread enters the ring (ENTER runs
 *    it, and a waiting ENTER wakes up for it).  This is io_uring's
 *    DEFER_TASKRUN model; unlike task_work it never runs module code from a
 *    task's exit path, so closing a ring cannot wait on work queued to the
 *    closing task itself.  What blocks there blocks only that thread's
 *    ENTER, interruptibly, as read(2) would.
 */
#include <linux/kernel.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <uapi/linux/magic.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/workqueue.h>
#include "zsync.h"
#include "zsync_trace.h"

/*
 * Blocking ops on regular files and block devices.  Each user may have
 * max_workers of them in the queue at once (struct zsync_wuser); the
 * queue's own limit is the workqueue's maximum, so that users share it.
 */
static struct workqueue_struct *zsync_io_wq;
/*
 * Chain continuations, deferred frees, POLL_ADD's re-polls: short, never
 * block for long.
 */
struct workqueue_struct *zsync_chain_wq;

int zsync_worker_init(void)
{
	zsync_io_wq = alloc_workqueue("zsync_io", WQ_UNBOUND, WQ_UNBOUND_MAX_ACTIVE);
	if (!zsync_io_wq)
		return -ENOMEM;
	zsync_chain_wq = alloc_workqueue("zsync_chain", WQ_UNBOUND, 0);
	if (!zsync_chain_wq) {
		destroy_workqueue(zsync_io_wq);
		return -ENOMEM;
	}
	return 0;
}

void zsync_worker_exit(void)
{
	destroy_workqueue(zsync_chain_wq);
	destroy_workqueue(zsync_io_wq);
}

/* ---- identity ------------------------------------------------------------ */

static void zsync_req_take_identity(struct zsync_req *req)
{
	req->creds = get_current_cred();
	if (current->mm) {
		mmgrab(current->mm);
		req->mm = current->mm;
	}
}

/**
 * zsync_req_capture_late() - take the identity a lone request left for later
 * @req: a request about to outlive its issue() (punted, or waiting on a
 *	file); its submitting thread, still in the ENTER that submitted it
 *
 * Return: false if @req is not in its submitting thread, which cannot
 * happen to a lone request: it must then not run at all (fail closed).
 */
bool zsync_req_capture_late(struct zsync_req *req)
{
	if (likely(!req->identity_lazy))
		return true;
	req->identity_lazy = false;
	if (WARN_ON_ONCE(current->flags & PF_KTHREAD))
		return false;
	zsync_req_take_identity(req);
	return true;
}

/**
 * zsync_req_capture() - take what @req needs of its submitter, at prep
 * @req: the request; req->def is set
 * @sqe: the kernel copy of its SQE
 * @lone: not part of a chain: issued at once, by this thread
 *
 * Runs in the submitter's context.  Whatever is taken here is dropped by
 * zsync_req_release_resources() when the request is freed.
 *
 * A request never holds a ring's file: a ring file held by a request of
 * that ring, or of another ring one of whose requests holds this ring
 * back, would keep both from ever reaching ->release, which is what
 * cancels them.  So an op given a ring fd fails with -EBADF here (MSG_RING
 * takes its target without the file, ops/msg.c).
 *
 * Return: 0, or -EBADF if the op needs a file and sqe->fd is not one, or
 * is a ring.
 */
int zsync_req_capture(struct zsync_req *req, const struct zsync_sqe *sqe, bool lone)
{
	u32 flags = req->def->flags;

	/* For zsync_ring_flush(): which fd table's requests these are. */
	req->owner = current->files;
	if (flags & ZSYNC_OPF_FILE) {
		if (sqe->fd < 0)
			return -EBADF;
		req->file = fget(sqe->fd);
		if (!req->file)
			return -EBADF;
		if (zsync_file_is_ring(req->file)) {
			fput(req->file);
			req->file = NULL;
			return -EBADF;
		}
		req->fd = sqe->fd;
	}
	/*
	 * A lone request is issued right away, by this thread, in this
	 * syscall: it needs the identity only if it leaves (zsync_punt(),
	 * zsync_poll_arm()), which captures it then, as it is now.  Most
	 * complete at once and never pay for it.
	 */
	if ((flags & ZSYNC_OPF_IDENTITY) && !(flags & ZSYNC_OPF_TASK) && lone)
		req->identity_lazy = true;
	else if (flags & (ZSYNC_OPF_IDENTITY | ZSYNC_OPF_TASK))
		zsync_req_take_identity(req);
	/* A worker acts on no file whose behaviour depends on the caller. */
	if ((flags & ZSYNC_OPF_TASK) ||
	    ((flags & ZSYNC_OPF_IDENTITY) && req->file && !zsync_file_worker_ok(req->file)))
		zsync_req_pin_task(req);
	return 0;
}

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC	0x65735546
#endif

/**
 * zsync_file_worker_ok() - whether a zsync kworker may act on @file
 * @file: a file an op resolved at prep
 *
 * A kworker acting for the submitter borrows its mm and credentials, but
 * not its pid, namespaces, session, signal handling or limits.  Only files
 * whose behaviour depends on none of those qualify: block devices and
 * regular files of ordinary data filesystems (disk-backed, tmpfs, ramfs,
 * overlayfs, NFS).  Fail-closed: any other file (procfs, sysfs, kernfs and
 * cgroupfs, debugfs, tracefs, securityfs, binfmt_misc, FUSE, sockets,
 * pipes, ttys, character devices, anonymous inodes, directories) is never
 * touched by a worker: ops on it run in the submitting thread.
 *
 * Return: true if ops on @file may run in a worker.
 */
bool zsync_file_worker_ok(const struct file *file)
{
	const struct inode *inode = file_inode(file);
	const struct super_block *sb = inode->i_sb;

	if (S_ISBLK(inode->i_mode))
		return true;
	if (!S_ISREG(inode->i_mode))
		return false;
	switch (sb->s_magic) {
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
	case OVERLAYFS_SUPER_MAGIC:
	case NFS_SUPER_MAGIC:
		return true;
	case FUSE_SUPER_MAGIC:		/* fuseblk requires a device too */
		return false;
	}
	return sb->s_type->fs_flags & FS_REQUIRES_DEV;
}

/**
 * zsync_req_pin_task() - make @req run only in the thread submitting it
 * @req: the request, at prep; its op captures the identity
 *	 (ZSYNC_OPF_IDENTITY or ZSYNC_OPF_TASK)
 *
 * For ops that need the submitting thread only in some cases (a socket
 * family that records the sender's pid, a control message carrying fds):
 * from now on @req is issued, and retried after a wakeup, only in that
 * thread, as a ZSYNC_OPF_TASK op always is.
 */
void zsync_req_pin_task(struct zsync_req *req)
{
	if (req->task)
		return;
	get_task_struct(current);
	req->task = current;
}

/* Drops what zsync_req_capture() and the op's prep took; process context. */
void zsync_req_release_resources(struct zsync_req *req)
{
	if (req->def && req->def->cleanup)
		req->def->cleanup(req);
	if (req->file)
		fput(req->file);
	if (req->creds)
		put_cred(req->creds);
	if (req->mm)
		mmdrop(req->mm);
	if (req->task)
		put_task_struct(req->task);
}

/**
 * zsync_req_strip() - drop what a request holds, and forget it
 * @req: a dead request whose memory outlives it (its terminal CQE still
 *	waits in the overflow list)
 *
 * Like zsync_req_release_resources(), and then clears what it dropped, so
 * that freeing @req later drops nothing twice.  Process context.
 */
void zsync_req_strip(struct zsync_req *req)
{
	if (!zsync_req_has_resources(req))
		return;
	zsync_req_release_resources(req);
	req->def = NULL;
	req->file = NULL;
	req->creds = NULL;
	req->mm = NULL;
	req->task = NULL;
}

struct zsync_identity {
	const struct cred *old_creds;
	struct mm_struct *mm;
};

/*
 * In a kworker, take on the submitter's mm and credentials.  Fails if the
 * submitter's address space is gone (it exited): nobody waits for the
 * result any more.
 */
static bool zsync_identity_enter(struct zsync_req *req, struct zsync_identity *id)
{
	id->old_creds = NULL;
	id->mm = NULL;
	if (req->mm) {
		if (!mmget_not_zero(req->mm))
			return false;
		kthread_use_mm(req->mm);
		id->mm = req->mm;
	}
	if (req->creds)
		id->old_creds = override_creds(req->creds);
	return true;
}

/* Undoes zsync_identity_enter(); @id only, the request may be gone. */
static void zsync_identity_exit(struct zsync_identity *id)
{
	if (id->old_creds)
		revert_creds(id->old_creds);
	if (id->mm) {
		kthread_unuse_mm(id->mm);
		mmput(id->mm);
	}
}

/*
 * In the submitting thread, later than at submission (a chain continuation
 * or a retry run by ENTER): the thread may have switched credentials since
 * (seteuid() around a submission, a setuid helper), or exec'd a new image.
 * Request code runs as it was submitted: with the credentials captured at
 * prep, and never in an image other than the one that prepared it (that
 * fails: -ECANCELED).  The checks are a compare each when nothing changed.
 * Sets *@old to what zsync_task_identity_exit() restores.
 */
static bool zsync_task_identity_enter(struct zsync_req *req, const struct cred **old)
{
	*old = NULL;
	if (req->mm && req->mm != current->mm)
		return false;
	/* override_creds() holds a reference: @req may be freed meanwhile. */
	if (req->creds && req->creds != current_cred())
		*old = override_creds(req->creds);
	return true;
}

static void zsync_task_identity_exit(const struct cred *old)
{
	if (old)
		revert_creds(old);
}

/**
 * zsync_issue_identity() - run @req's issue() with its submitter's identity
 * @req: the request
 *
 * In the submitting thread this is issue() itself, with the credentials
 * captured at prep if the thread has switched since; in a kworker (chain
 * continuations) it borrows the submitter's mm and creds.  A request whose
 * submitter exec'd or exited completes with -ECANCELED.
 *
 * Context: process context: the submitting thread, or a kworker.
 * Return: what the op's issue() returned: ZSYNC_ISSUE_DONE (req->res
 * holds the result) or ZSYNC_ISSUE_ARMED; ZSYNC_ISSUE_DONE with req->res
 * -ECANCELED when the submitter's identity is gone.
 */
enum zsync_issue_ret zsync_issue_identity(struct zsync_req *req)
{
	struct zsync_identity id;
	enum zsync_issue_ret ret;

	if (!(current->flags & PF_KTHREAD)) {
		const struct cred *old;

		if (!zsync_task_identity_enter(req, &old)) {
			req->res = -ECANCELED;
			return ZSYNC_ISSUE_DONE;
		}
		ret = zsync_issue_op(req);
		zsync_task_identity_exit(old);
		return ret;
	}
	if (!zsync_identity_enter(req, &id)) {
		req->res = -ECANCELED;
		return ZSYNC_ISSUE_DONE;
	}
	ret = zsync_issue_op(req);
	/* Once armed, req may be gone: only @id from here. */
	zsync_identity_exit(&id);
	return ret;
}

/* ---- the io worker ------------------------------------------------------- */

/*
 * A user's share of the io workers: how many of its ops are queued for or
 * run in a worker, and the ops waiting for one of those to end.  Looked up
 * by real uid, freed when nothing counts in it.
 */
struct zsync_wuser {
	struct hlist_node	node;
	kuid_t			uid;
	unsigned int		active;		/* queued or running in zsync_io */
	struct list_head	pending;	/* zsync_req.task_node, in order */
};

static DEFINE_HASHTABLE(zsync_wusers, 6);
/* Guards zsync_wusers, every zsync_wuser and zsync_req.work_pending. */
static DEFINE_SPINLOCK(zsync_wusers_lock);
/* Shared by everyone whose own could not be allocated: still bounded. */
static struct zsync_wuser zsync_wuser_fallback = {
	.pending = LIST_HEAD_INIT(zsync_wuser_fallback.pending),
};

/* zsync_wusers_lock held. */
static struct zsync_wuser *zsync_wuser_get(kuid_t uid)
{
	struct zsync_wuser *u;

	hash_for_each_possible(zsync_wusers, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	u = kzalloc(sizeof(*u), GFP_ATOMIC | __GFP_NOWARN);
	if (!u)
		return &zsync_wuser_fallback;
	u->uid = uid;
	INIT_LIST_HEAD(&u->pending);
	hash_add(zsync_wusers, &u->node, __kuid_val(uid));
	return u;
}

/*
 * One of @u's ops left the workqueue (it ran, or was cancelled while
 * queued): start the next waiting one in its place, or count it out.
 * zsync_wusers_lock held.
 */
static void zsync_wuser_done_locked(struct zsync_wuser *u)
{
	struct zsync_req *next;

	next = list_first_entry_or_null(&u->pending, struct zsync_req, task_node);
	if (next) {
		list_del_init(&next->task_node);
		next->work_pending = false;
		queue_work(zsync_io_wq, &next->work);
		return;
	}
	if (--u->active || u == &zsync_wuser_fallback)
		return;
	hash_del(&u->node);
	kfree(u);
}

static void zsync_wuser_done(struct zsync_wuser *u)
{
	unsigned long flags;

	spin_lock_irqsave(&zsync_wusers_lock, flags);
	zsync_wuser_done_locked(u);
	spin_unlock_irqrestore(&zsync_wusers_lock, flags);
}

static void zsync_io_work(struct work_struct *work)
{
	struct zsync_req *req = container_of(work, struct zsync_req, work);
	/* @req may be gone once async_fn() has run. */
	struct zsync_wuser *u = req->wuser;
	struct zsync_identity id;

	if (!zsync_identity_enter(req, &id)) {
		req->async_fn(req, true);
	} else {
		req->async_fn(req, false);
		zsync_identity_exit(&id);
	}
	if (u)
		zsync_wuser_done(u);
}

/**
 * zsync_worker_queue() - run @fn on @req in a zsync kworker
 * @req: the request; @fn owns it from now on
 * @fn: called with the submitter's mm and creds, @cancel false; or with
 *	@cancel true (and no identity) if the submitter's mm is gone
 *
 * Any context.  For work that never blocks for long (POLL_ADD's re-polls):
 * it is not counted against the user's workers.
 */
void zsync_worker_queue(struct zsync_req *req, zsync_async_fn fn)
{
	req->async_fn = fn;
	req->wuser = NULL;
	INIT_WORK(&req->work, zsync_io_work);
	queue_work(zsync_chain_wq, &req->work);
}

/**
 * zsync_punt() - finish a blocking op in a worker
 * @req: the request, from its issue(); its file is one a worker may act
 *	 on (zsync_file_worker_ok())
 * @fn: runs the blocking part and completes @req with
 *	zsync_req_complete_armed(); @cancel tells it to complete with
 *	-ECANCELED instead
 *
 * The request is armed: CANCEL can stop it while it is still queued, not
 * once @fn runs.  If its user has max_workers ops in workers already, it
 * waits for one of them to end.
 *
 * Return: ZSYNC_ISSUE_ARMED, for issue() to return; or ZSYNC_ISSUE_DONE
 * with req->res -ECANCELED, without punting, when the submitter's
 * identity could not be taken (zsync_req_capture_late()).
 */
enum zsync_issue_ret zsync_punt(struct zsync_req *req, zsync_async_fn fn)
{
	struct zsync_wuser *u;
	unsigned long flags;
	kuid_t uid;

	if (!zsync_req_capture_late(req)) {
		req->res = -ECANCELED;
		return ZSYNC_ISSUE_DONE;
	}
	/* Before it is armed: from then on a worker may end it. */
	trace_zsync_issue_path(req->ring, req, req->user_data, req->opcode, ZSYNC_PATH_WORKER);
	uid = req->creds ? req->creds->uid : GLOBAL_ROOT_UID;
	req->async_fn = fn;
	req->work_pending = false;
	INIT_WORK(&req->work, zsync_io_work);
	req->async = ZSYNC_ASYNC_WORK;
	zsync_req_arm(req);
	spin_lock_irqsave(&zsync_wusers_lock, flags);
	u = zsync_wuser_get(uid);
	req->wuser = u;
	if (u->active < zsync_max_workers) {
		u->active++;
		queue_work(zsync_io_wq, &req->work);
	} else {
		list_add_tail(&req->task_node, &u->pending);
		req->work_pending = true;
	}
	spin_unlock_irqrestore(&zsync_wusers_lock, flags);
	return ZSYNC_ISSUE_ARMED;
}

/*
 * cancel() of a punted request: it can be taken back while it waits for
 * its user's quota or for a worker, not once a worker runs it.  ring->lock
 * is held; zsync_wusers_lock nests inside it.
 */
static int zsync_work_cancel(struct zsync_req *req)
{
	unsigned long flags;
	int ret = -EALREADY;

	spin_lock_irqsave(&zsync_wusers_lock, flags);
	if (req->work_pending) {
		list_del_init(&req->task_node);
		req->work_pending = false;
		ret = 0;
	} else if (cancel_work(&req->work)) {
		/* It was queued, so punt() counted it. */
		zsync_wuser_done_locked(req->wuser);
		ret = 0;
	}
	spin_unlock_irqrestore(&zsync_wusers_lock, flags);
	return ret;
}

/**
 * zsync_async_cancel() - the cancel() of ops that wait by zsync_punt() or
 * zsync_poll_arm(), or for their submitting thread (ZSYNC_OPF_TASK ops)
 * @req: an armed request; ring->lock is held
 *
 * Return: 0 if the caller must now complete @req, -EALREADY if its owner
 * will (it is running, or a wakeup is handling it and will see the cancel).
 */
int zsync_async_cancel(struct zsync_req *req)
{
	switch (req->async) {
	case ZSYNC_ASYNC_POLL:
		return zsync_poll_cancel(req);
	case ZSYNC_ASYNC_WORK:
		return zsync_work_cancel(req);
	case ZSYNC_ASYNC_TASK:
		/* Only while no thread has taken it to run. */
		return zsync_task_unqueue(req) ? 0 : -EALREADY;
	default:
		return -EALREADY;
	}
}

/* ---- the submitting thread ----------------------------------------------- */

static void zsync_task_cancel_work(struct work_struct *work)
{
	struct zsync_req *req = container_of(work, struct zsync_req, work);

	req->async_fn(req, true);
}

/*
 * Whether @req's deferred work never waits: a retry after a wakeup whose
 * op moves only what is there (sockets, IOCB_NOWAIT transfers).  Not a
 * chain continuation (it may issue anything, an OPENAT of a FIFO) nor a
 * blocking retry on a tty or 6.1 pipe: those run only in the thread's
 * ENTER, where waiting is what their syscall would do, never from a
 * task_work notification at the thread's next return to user space.
 */
static bool zsync_task_work_nonblocking(const struct zsync_req *req)
{
	if (req->async != ZSYNC_ASYNC_POLL)
		return false;
	switch (req->opcode) {
	case ZSYNC_OP_READ:
	case ZSYNC_OP_WRITE:
	case ZSYNC_OP_READV:
	case ZSYNC_OP_WRITEV:
		return !zsync_rw_retry_may_block(req);
	default:
		return true;
	}
}

/**
 * zsync_task_defer() - run @fn on @req in the thread that submitted it
 * @req: a request pinned to its submitting thread (req->task, see
 *	 zsync_req_pin_task()); @fn owns it from now on
 * @fn: called from that thread's next ENTER with @cancel false, or with
 *	@cancel true if the thread exits or the ring closes first
 *
 * Any context.  Wakes the ring's waiters, pollers and eventfd and, on a
 * ring set up with ZSYNC_SETUP_TASK_SIGNAL, notifies that thread itself
 * (zsync_task_signal()).
 */
void zsync_task_defer(struct zsync_req *req, zsync_async_fn fn)
{
	struct zsync_ring *ring = req->ring;
	unsigned long flags;
	bool closed;

	trace_zsync_issue_path(req->ring, req, req->user_data, req->opcode, ZSYNC_PATH_TASK);
	req->async_fn = fn;
	/*
	 * Once @req is on the list and task_lock is dropped, the thread's
	 * ENTER (or a canceller, through zsync_task_unqueue()) may run it,
	 * complete it and free it, and with it drop the ring reference that
	 * kept a closing ring's release waiting: the notification below
	 * pins the ring itself (@req holds one reference until then, so
	 * this one cannot be the first), and nothing reads @req after the
	 * unlock.
	 */
	refcount_inc(&ring->refs);
	spin_lock_irqsave(&ring->task_lock, flags);
	closed = ring->task_closed;
	if (!closed) {
		list_add_tail(&req->task_node, &ring->task_list);
		req->task_queued = true;
		WRITE_ONCE(ring->nr_task_work, ring->nr_task_work + 1);
		WRITE_ONCE(ring->task_seq, ring->task_seq + 1);
		/*
		 * Only for what the notification may run: nothing to
		 * interrupt for.  Under task_lock, where @req (and the task
		 * reference it holds) cannot be freed yet.
		 */
		if (ring->task_signal && zsync_task_work_nonblocking(req))
			zsync_task_signal(ring, req->task);
	}
	spin_unlock_irqrestore(&ring->task_lock, flags);
	if (closed) {
		/* The ring is going away: cancel, from a context that may. */
		INIT_WORK(&req->work, zsync_task_cancel_work);
		queue_work(zsync_chain_wq, &req->work);
	} else {
		zsync_cq_notify(ring, 1);
	}
	zsync_ring_put(ring);
}

/**
 * zsync_task_defer_armed() - arm @req, then run @fn in its submitting thread
 * @req: a request pinned to its submitting thread, in its issue() or
 *	 chain; @fn owns it once it runs, a canceller while it still waits
 *	 on the task list (zsync_async_cancel())
 * @fn: as for zsync_task_defer(); it ends @req with
 *	zsync_req_complete_armed() (a chain continuation disarms instead)
 *
 * Return: ZSYNC_ISSUE_ARMED, for an issue() to return as it is.
 */
enum zsync_issue_ret zsync_task_defer_armed(struct zsync_req *req, zsync_async_fn fn)
{
	req->async = ZSYNC_ASYNC_TASK;
	zsync_req_arm(req);
	zsync_task_defer(req, fn);
	return ZSYNC_ISSUE_ARMED;
}

/* Whether @req's deferred work may (or must, to cancel) be run by current. */
static bool zsync_task_work_is_ours(const struct zsync_req *req)
{
	return req->task == current || (READ_ONCE(req->task->flags) & PF_EXITING);
}

/**
 * zsync_task_work_seq() - how much work has been deferred on @ring so far
 * @ring: the ring
 *
 * A waiter reads it before it takes its work (zsync_run_task_work()) and
 * sleeps only if it has not moved since: what was deferred after the walk
 * may be its own.  Deferred work of other threads costs it one more walk,
 * never a lost wakeup.
 *
 * Return: a counter that changes whenever work is deferred.
 */
u32 zsync_task_work_seq(const struct zsync_ring *ring)
{
	/* The walk that follows reads the list under task_lock. */
	return smp_load_acquire(&ring->task_seq);
}

/* Entries looked at per hold of task_lock: bounds the time with irqs off. */
#define ZSYNC_TASK_WALK_BATCH	64

/*
 * Takes the deferred work that @all, or else the calling thread, may run;
 * with @nonblocking only what cannot wait (zsync_task_work_nonblocking()).
 *
 * The list holds the work of every thread of the ring, as many entries
 * as it has requests in flight, so the walk drops task_lock (interrupts
 * off) every ZSYNC_TASK_WALK_BATCH entries.  It resumes from a cursor
 * parked in the list meanwhile, since the next entry may leave it (a
 * cancel); task_walk makes the cursor the only one, and this walk the
 * only code that steps over entries.
 */
static void zsync_task_work_take(struct zsync_ring *ring, struct list_head *out, bool all,
				 bool nonblocking)
{
	unsigned int budget = ZSYNC_TASK_WALK_BATCH;
	struct list_head *pos, *next;

	mutex_lock(&ring->task_walk);
	spin_lock_irq(&ring->task_lock);
	if (all)
		ring->task_closed = true;
	for (pos = ring->task_list.next; pos != &ring->task_list; pos = next) {
		struct zsync_req *req = list_entry(pos, struct zsync_req, task_node);

		next = pos->next;
		if ((!nonblocking || zsync_task_work_nonblocking(req)) &&
		    (all || zsync_task_work_is_ours(req))) {
			list_move_tail(pos, out);
			req->task_queued = false;
			WRITE_ONCE(ring->nr_task_work, ring->nr_task_work - 1);
		}
		if (--budget || next == &ring->task_list)
			continue;
		list_add_tail(&ring->task_cursor, next);
		spin_unlock_irq(&ring->task_lock);
		cond_resched();
		spin_lock_irq(&ring->task_lock);
		next = ring->task_cursor.next;
		list_del_init(&ring->task_cursor);
		budget = ZSYNC_TASK_WALK_BATCH;
	}
	spin_unlock_irq(&ring->task_lock);
	mutex_unlock(&ring->task_walk);
}

static void zsync_task_work_run_list(struct list_head *list, bool cancel)
{
	struct zsync_req *req, *tmp;

	list_for_each_entry_safe(req, tmp, list, task_node) {
		const struct cred *old = NULL;
		bool stop = cancel || req->task != current;

		list_del_init(&req->task_node);
		/* As submitted, or not at all (see zsync_task_identity_enter()). */
		if (!stop && !zsync_task_identity_enter(req, &old))
			stop = true;
		req->async_fn(req, stop);
		zsync_task_identity_exit(old);
	}
}

/* Runs the calling thread's deferred work (with @nonblocking: what cannot wait). */
static void zsync_run_own_task_work(struct zsync_ring *ring, bool nonblocking)
{
	LIST_HEAD(list);

	if (!READ_ONCE(ring->nr_task_work))
		return;
	zsync_task_work_take(ring, &list, false, nonblocking);
	zsync_task_work_run_list(&list, false);
}

/**
 * zsync_run_task_work() - run the calling thread's deferred work
 * @ring: the ring; called from ENTER, never with locks held
 *
 * Also cancels work left by threads that are exiting.
 */
void zsync_run_task_work(struct zsync_ring *ring)
{
	zsync_run_own_task_work(ring, false);
}

/**
 * zsync_run_task_work_nonblocking() - run the calling thread's deferred
 * work that cannot wait
 * @ring: the ring; from a task_work notification (ZSYNC_SETUP_TASK_SIGNAL)
 *
 * The rest waits for the thread's ENTER (zsync_task_work_nonblocking()).
 */
void zsync_run_task_work_nonblocking(struct zsync_ring *ring)
{
	zsync_run_own_task_work(ring, true);
}

/**
 * zsync_task_unqueue() - take @req's deferred work off its ring's task list
 * @req: a request; ring->lock is held (task_lock nests inside it)
 *
 * Return: true if @req was waiting there: its work will not run, and the
 * caller now owns @req; false if it was not there (not deferred, or a
 * thread took it to run).
 */
bool zsync_task_unqueue(struct zsync_req *req)
{
	struct zsync_ring *ring = req->ring;
	bool ret = false;

	spin_lock(&ring->task_lock);
	if (req->task_queued) {
		list_del_init(&req->task_node);
		req->task_queued = false;
		WRITE_ONCE(ring->nr_task_work, ring->nr_task_work - 1);
		ret = true;
	}
	spin_unlock(&ring->task_lock);
	return ret;
}

/**
 * zsync_cancel_task_work() - cancel all deferred work of a closing ring
 * @ring: the ring, dying; work deferred from now on is cancelled at once
 */
void zsync_cancel_task_work(struct zsync_ring *ring)
{
	LIST_HEAD(list);

	zsync_task_work_take(ring, &list, true, false);
	zsync_task_work_run_list(&list, true);
}
