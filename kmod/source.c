// SPDX-License-Identifier: GPL-2.0
/*
 * Event sources: objects that a driver (from its interrupt handler) or a
 * process (a user event) signals; every ring armed on a source with
 * SOURCE_WAIT gets a CQE from the signalling context, hard irq included
 * (or from src->work, see Fan-out below).  This file has the object, the
 * API exported to drivers, the files that name a source in userspace and
 * the user-event ioctls; the SOURCE_WAIT and SOURCE_SIGNAL ops are in
 * ops/source.c.
 *
 * Locking.  src->lock (a spinlock, always irqsave) protects the waiter
 * list, dead, the counters and the fan-out state below.  The signal path
 * posts CQEs while holding it, so it nests outside the ring locks:
 * src->lock -> cq_lock (posting) and src->lock -> ring->lock (arming, and
 * the TIMEOUT-count flush a post may run).  Nothing takes src->lock under
 * a ring lock: a canceller, which runs under ring->lock, decides through
 * the waiter's atomic state instead (ops/source.c), and a cancelled
 * waiter leaves the list only when its request is freed
 * (zsync_source_unlink(), with no lock held).  Requests a source ends
 * itself are completed after src->lock is dropped, because their last
 * reference may go at once and unlink them.
 *
 * Fan-out.  src->lock is held for at most ZSYNC_SOURCE_BATCH posts at a
 * time, so interrupts are never held off for a walk of every waiter.  A
 * signal with at most that many waiters posts them all at once, in any
 * context (the low-latency path of a driver's interrupt handler).  A
 * larger one runs in process context under src->fanout, which serialises
 * fan-outs: it drops src->lock every ZSYNC_SOURCE_BATCH waiters (busy
 * tells signals that come meanwhile, cursor is where it resumes, and
 * whoever takes the cursor's waiter off the list moves it on).  A signal
 * in atomic context that cannot post at once (too many waiters, or a
 * fan-out in progress) queues its value in pend[] for src->work, which
 * posts it in process context, in order.  Signals are numbered
 * (nr_signals), and a waiter records the number it was armed after
 * (arm_gen), so each signal reaches exactly the waiters armed before it,
 * however late it is posted.  If pend[] is full the signal is lost, and
 * every waiter it should have reached gets, after the values queued
 * before it, its terminal CQE with -EOVERFLOW, as when a CQ ring is full.
 * Order: src->fanout -> src->lock.
 *
 * Lifetime.  src->refs counts the creator (a driver, or the user event's
 * file) and every file zsync_source_fd() handed out; requests hold the
 * file they name (ZSYNC_OPF_FILE), so closing a descriptor never ends a
 * wait.  The memory is freed after an RCU grace period: a hard-irq handler
 * racing with zsync_source_destroy() on another CPU still finds a valid
 * (dead) source.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/anon_inodes.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include "zsync.h"
#include "zsync_trace.h"
#include "zsync_source.h"

#define ZSYNC_SOURCE_NAME_LEN	32

/* Waiters posted per hold of src->lock, i.e. with interrupts off. */
#define ZSYNC_SOURCE_BATCH	16

/* Signals from atomic context a source queues for its work at most. */
#define ZSYNC_SOURCE_PENDING	64

struct zsync_source_pend {
	u64			seq;		/* the signal's number */
	u32			value;
};

struct zsync_source {
	spinlock_t		lock;
	struct list_head	waiters;	/* zsync_req.source.node, in arming order */
	unsigned int		nr_waiters;
	bool			dead;		/* no more waiters, no more signals */
	bool			user;		/* a user event: signalled from userspace */
	bool			busy;		/* a fan-out dropped src->lock midway */
	u64			nr_signals;	/* also the number of the latest signal */
	struct zsync_req	*cursor;	/* the next waiter of that fan-out */
	struct zsync_source_pend pend[ZSYNC_SOURCE_PENDING];	/* FIFO for work */
	unsigned int		pend_head, pend_nr;
	u64			lost_seq;	/* latest signal pend[] had no room for; 0: none */
	struct mutex		fanout;		/* one batched fan-out at a time */
	struct work_struct	work;		/* posts pend[] in process context */
	refcount_t		refs;
	struct rcu_head		rcu;
	char			name[ZSYNC_SOURCE_NAME_LEN];
};

static const struct file_operations zsync_source_fops;
static void zsync_source_work(struct work_struct *work);

static struct zsync_source *zsync_source_alloc(const char *name, bool user)
{
	struct zsync_source *src = kzalloc(sizeof(*src), GFP_KERNEL_ACCOUNT);

	if (!src)
		return NULL;
	spin_lock_init(&src->lock);
	INIT_LIST_HEAD(&src->waiters);
	mutex_init(&src->fanout);
	INIT_WORK(&src->work, zsync_source_work);
	refcount_set(&src->refs, 1);
	src->user = user;
	strscpy(src->name, name ? name : "", sizeof(src->name));
	return src;
}

/**
 * zsync_source_create() - create an event source
 * @name: a name for diagnostics (fdinfo of its files); truncated to 31 bytes
 *
 * Process context.  The caller owns one reference and gives it up with
 * zsync_source_destroy().
 *
 * Return: the source, or ERR_PTR(-ENOMEM).
 */
struct zsync_source *zsync_source_create(const char *name)
{
	struct zsync_source *src = zsync_source_alloc(name, false);

	return src ? src : ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(zsync_source_create);

/**
 * zsync_source_get() - take a reference to a source
 * @src: the source
 *
 * Any context.  A reference keeps the memory valid (zsync_source_signal()
 * may be called on a destroyed source: it returns -ENODEV); it does not
 * keep the source alive as an event source.
 *
 * Return: @src.
 */
struct zsync_source *zsync_source_get(struct zsync_source *src)
{
	refcount_inc(&src->refs);
	return src;
}
EXPORT_SYMBOL_GPL(zsync_source_get);

/**
 * zsync_source_put() - drop a reference taken with zsync_source_get()
 * @src: the source, or NULL
 *
 * Any context, hard irq included.
 */
void zsync_source_put(struct zsync_source *src)
{
	if (!src || !refcount_dec_and_test(&src->refs))
		return;
	/* Every waiter's request holds a file, so a reference: none is left. */
	WARN_ON_ONCE(!list_empty(&src->waiters));
	kfree_rcu(src, rcu);
}
EXPORT_SYMBOL_GPL(zsync_source_put);

/* Completes the waiters a source took off its list (src->lock not held). */
static void zsync_source_end_all(struct list_head *ended)
{
	struct zsync_req *req, *tmp;

	list_for_each_entry_safe(req, tmp, ended, source.node)
		zsync_source_wait_end(req);
}

/* Caller holds src->lock: @req leaves the waiter list, @ended is where to. */
static void zsync_source_take(struct zsync_source *src, struct zsync_req *req,
			      struct list_head *ended)
{
	if (src->cursor == req)
		src->cursor = list_is_last(&req->source.node, &src->waiters) ? NULL :
			      list_next_entry(req, source.node);
	if (ended)
		list_move_tail(&req->source.node, ended);
	else
		list_del_init(&req->source.node);
	src->nr_waiters--;
}

/*
 * Posts signal number @seq, @value, to every waiter armed before it or,
 * if @lost, ends each of them with -EOVERFLOW instead.  Caller holds
 * src->lock (*flags) and, if @may_drop, src->fanout: the lock is then
 * dropped every ZSYNC_SOURCE_BATCH waiters, and the waiters ended so far
 * are completed meanwhile; the rest are left on @ended for the caller.
 *
 * Return: how many waiters got a CQE.
 */
static int zsync_source_fanout(struct zsync_source *src, u64 seq, u32 value,
			       bool lost, bool may_drop, unsigned long *flags,
			       struct list_head *ended)
{
	struct zsync_req *req;
	unsigned int n = 0;
	int reached = 0;
	bool owned;

	src->cursor = list_first_entry_or_null(&src->waiters, struct zsync_req,
					       source.node);
	/* The list is in arming order: the first one armed later ends it. */
	while ((req = src->cursor) && req->source.arm_gen < seq) {
		src->cursor = list_is_last(&req->source.node, &src->waiters) ? NULL :
			      list_next_entry(req, source.node);
		if (lost)
			owned = zsync_source_wait_claim(req, -EOVERFLOW);
		else
			reached += zsync_source_wait_post(req, value, &owned);
		if (owned)
			zsync_source_take(src, req, ended);
		if (!may_drop || ++n % ZSYNC_SOURCE_BATCH || !src->cursor)
			continue;
		/* Let interrupts in; the cursor is kept right meanwhile. */
		src->busy = true;
		spin_unlock_irqrestore(&src->lock, *flags);
		zsync_source_end_all(ended);
		cond_resched();
		spin_lock_irqsave(&src->lock, *flags);
		if (src->dead)
			break;
	}
	src->cursor = NULL;
	src->busy = false;
	return reached;
}

/*
 * Posts the queued signals in order.  Caller holds src->fanout and
 * src->lock (*flags), which may be dropped meanwhile (see above).
 */
static void zsync_source_drain(struct zsync_source *src, unsigned long *flags,
			       struct list_head *ended)
{
	struct zsync_source_pend p;
	u64 lost;

	while (!src->dead) {
		if (src->pend_nr) {
			p = src->pend[src->pend_head];
			src->pend_head = (src->pend_head + 1) % ZSYNC_SOURCE_PENDING;
			src->pend_nr--;
			zsync_source_fanout(src, p.seq, p.value, false, true, flags, ended);
		} else if (src->lost_seq) {
			/* Only signals before the lost ones were queued. */
			lost = src->lost_seq;
			src->lost_seq = 0;
			zsync_source_fanout(src, lost, 0, true, true, flags, ended);
		} else {
			return;
		}
	}
	/* Dead: every waiter got its -ENODEV. */
	src->pend_nr = 0;
	src->lost_seq = 0;
}

/* Posts, in process context, the signals atomic contexts queued. */
static void zsync_source_work(struct work_struct *work)
{
	struct zsync_source *src = container_of(work, struct zsync_source, work);
	unsigned long flags;
	LIST_HEAD(ended);

	mutex_lock(&src->fanout);
	spin_lock_irqsave(&src->lock, flags);
	zsync_source_drain(src, &flags, &ended);
	spin_unlock_irqrestore(&src->lock, flags);
	mutex_unlock(&src->fanout);
	zsync_source_end_all(&ended);
	/* Taken when the work was queued. */
	zsync_source_put(src);
}

/* Caller holds src->lock: queues signal @seq for zsync_source_work(). */
static void zsync_source_defer(struct zsync_source *src, u64 seq, u32 value)
{
	unsigned int tail;

	if (src->lost_seq || src->pend_nr == ZSYNC_SOURCE_PENDING) {
		/* Never queue behind a gap: the waiters end at the gap. */
		src->lost_seq = seq;
	} else {
		tail = (src->pend_head + src->pend_nr) % ZSYNC_SOURCE_PENDING;
		src->pend[tail].seq = seq;
		src->pend[tail].value = value;
		src->pend_nr++;
	}
	zsync_source_get(src);
	if (!queue_work(zsync_chain_wq, &src->work))
		zsync_source_put(src);	/* Not the last: the caller holds one. */
}

/* No fan-out in progress nor queued, and few enough waiters to post now. */
static bool zsync_source_direct(const struct zsync_source *src)
{
	return !src->busy && !src->pend_nr && !src->lost_seq &&
	       src->nr_waiters <= ZSYNC_SOURCE_BATCH;
}

static int zsync_source_signal_ctx(struct zsync_source *src, u32 value, bool can_sleep)
{
	unsigned long flags;
	LIST_HEAD(ended);
	int reached;

	spin_lock_irqsave(&src->lock, flags);
	if (src->dead) {
		spin_unlock_irqrestore(&src->lock, flags);
		return -ENODEV;
	}
	if (zsync_source_direct(src)) {
		reached = zsync_source_fanout(src, ++src->nr_signals, value, false,
					      false, &flags, &ended);
	} else if (!can_sleep) {
		/* Every waiter armed now gets it, a little later. */
		reached = src->nr_waiters;
		zsync_source_defer(src, ++src->nr_signals, value);
	} else {
		spin_unlock_irqrestore(&src->lock, flags);
		mutex_lock(&src->fanout);
		spin_lock_irqsave(&src->lock, flags);
		/* Signals queued before this one are posted first. */
		zsync_source_drain(src, &flags, &ended);
		if (src->dead)
			reached = -ENODEV;
		else
			reached = zsync_source_fanout(src, ++src->nr_signals, value,
						      false, true, &flags, &ended);
		spin_unlock_irqrestore(&src->lock, flags);
		mutex_unlock(&src->fanout);
		zsync_source_end_all(&ended);
		trace_zsync_source_signal(src, value, reached);
		return reached;
	}
	spin_unlock_irqrestore(&src->lock, flags);
	zsync_source_end_all(&ended);
	trace_zsync_source_signal(src, value, reached);
	return reached;
}

/**
 * zsync_source_signal() - signal an event source
 * @src: the source
 * @value: the value every waiter gets: bits 0-30 in the CQE's res, bit 31
 *	as ZSYNC_CQE_F_VALUE_BIT31 in its flags
 *
 * Any context, hard irq included: nothing is allocated and nothing sleeps.
 * Every ring armed on @src with SOURCE_WAIT gets a CQE flagged
 * ZSYNC_CQE_F_MORE.  With up to 16 waiters, and no earlier signal still
 * being posted, the CQEs are posted before this returns; otherwise they
 * are posted moments later by a kernel worker, in signal order, so that
 * an interrupt handler never posts to every waiter with interrupts off.
 * A waiter whose CQ ring is full and whose overflow backlog is used up
 * gets no CQE for this signal; its wait ends with -EOVERFLOW instead, so
 * nothing is lost silently.  The same happens to every waiter if 64
 * signals already wait for the worker.
 *
 * The caller must hold a reference to @src, or call this from an RCU
 * read-side critical section (a hard-irq handler is one) if another CPU
 * may be destroying it.
 *
 * Return: the number of waiters that got a CQE (or, when the worker posts
 * them, that were armed), or -ENODEV if @src was destroyed.
 */
int zsync_source_signal(struct zsync_source *src, u32 value)
{
	return zsync_source_signal_ctx(src, value, false);
}
EXPORT_SYMBOL_GPL(zsync_source_signal);

/**
 * zsync_source_signal_task() - signal an event source from process context
 * @src: the source
 * @value: as for zsync_source_signal()
 *
 * May sleep.  Unlike zsync_source_signal(), every waiter's CQE is posted
 * before this returns, whatever their number; src->lock is still dropped
 * every ZSYNC_SOURCE_BATCH waiters.  The user-event ioctl and the
 * SOURCE_SIGNAL op use it.
 *
 * Return: the number of waiters that got a CQE, or -ENODEV.
 */
int zsync_source_signal_task(struct zsync_source *src, u32 value)
{
	might_sleep();
	return zsync_source_signal_ctx(src, value, true);
}

/* Marks @src dead and ends every armed waiter with -ENODEV, once. */
static void zsync_source_kill(struct zsync_source *src)
{
	struct zsync_req *req, *tmp;
	unsigned long flags;
	LIST_HEAD(ended);

	spin_lock_irqsave(&src->lock, flags);
	src->dead = true;
	list_for_each_entry_safe(req, tmp, &src->waiters, source.node) {
		/* Waiters a canceller owns leave when they are freed. */
		if (!zsync_source_wait_claim(req, -ENODEV))
			continue;
		zsync_source_take(src, req, &ended);
	}
	/* A fan-out in progress stops when it sees dead. */
	src->cursor = NULL;
	spin_unlock_irqrestore(&src->lock, flags);
	zsync_source_end_all(&ended);
}

/**
 * zsync_source_destroy() - end an event source and drop the creator's reference
 * @src: a source from zsync_source_create()
 *
 * Every ring armed on @src gets the terminal CQE of its SOURCE_WAIT, with
 * res -ENODEV, exactly once; later SOURCE_WAITs on it complete with
 * -ENODEV and zsync_source_signal() returns -ENODEV.  Files handed out
 * with zsync_source_fd() stay valid.  Any context, but a driver normally
 * calls it from remove(), after its interrupt handler can no longer run
 * (free_irq()), so no signal is lost to a race it could have avoided.
 */
void zsync_source_destroy(struct zsync_source *src)
{
	zsync_source_kill(src);
	zsync_source_put(src);
}
EXPORT_SYMBOL_GPL(zsync_source_destroy);

/**
 * zsync_source_arm() - put a SOURCE_WAIT on @src's waiter list and on its
 * ring's in-flight list, in one step
 * @src: the source
 * @req: the request, not armed yet
 *
 * Return: 0 (armed: @req may complete at any moment), -ENODEV if @src is
 * dead, -ENOSPC if it has max_source_waiters waiters.
 */
int zsync_source_arm(struct zsync_source *src, struct zsync_req *req)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&src->lock, flags);
	if (src->dead) {
		ret = -ENODEV;
	} else if (src->nr_waiters >= zsync_max_source_waiters) {
		ret = -ENOSPC;
	} else {
		atomic_set(&req->source.state, ZSYNC_SRCW_ARMED);
		/* Signals numbered up to this one were before it. */
		req->source.arm_gen = src->nr_signals;
		list_add_tail(&req->source.node, &src->waiters);
		src->nr_waiters++;
		/* Signal, cancel and destroy only ever see it on both lists. */
		zsync_req_arm(req);
	}
	spin_unlock_irqrestore(&src->lock, flags);
	return ret;
}

/**
 * zsync_source_unlink() - take a freed SOURCE_WAIT off its source's list
 * @src: the source
 * @req: a request that was armed; no lock held
 */
void zsync_source_unlink(struct zsync_source *src, struct zsync_req *req)
{
	unsigned long flags;

	spin_lock_irqsave(&src->lock, flags);
	if (!list_empty(&req->source.node))
		zsync_source_take(src, req, NULL);
	spin_unlock_irqrestore(&src->lock, flags);
}

/**
 * zsync_source_from_file() - the source a file names
 * @file: a file the caller holds (a request's req->file)
 * @signal: the caller wants to signal it from userspace
 *
 * Return: the source, valid as long as @file is held, or ERR_PTR(-EINVAL)
 * (not a source) or ERR_PTR(-EPERM) (@signal and a driver's source).
 */
struct zsync_source *zsync_source_from_file(struct file *file, bool signal)
{
	struct zsync_source *src = file->private_data;

	if (file->f_op != &zsync_source_fops)
		return ERR_PTR(-EINVAL);
	if (signal && !src->user)
		return ERR_PTR(-EPERM);
	return src;
}

/* ---- files ------------------------------------------------------------- */

static int zsync_source_release(struct inode *inode, struct file *file)
{
	/* A user event's only file: armed waits hold it, so none is left. */
	zsync_source_put(file->private_data);
	return 0;
}

static long zsync_source_ioctl_signal(struct zsync_source *src, void __user *arg)
{
	struct zsync_source_signal sig;

	if (copy_from_user(&sig, arg, sizeof(sig)))
		return -EFAULT;
	if (memchr_inv(sig.resv, 0, sizeof(sig.resv)))
		return -EINVAL;
	if (!src->user)
		return -EPERM;
	return zsync_source_signal_task(src, sig.value);
}

static long zsync_source_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case ZSYNC_IOC_SOURCE_SIGNAL:
		return zsync_source_ioctl_signal(file->private_data, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static void zsync_source_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct zsync_source *src = file->private_data;
	unsigned int waiters;
	u64 signals;
	bool dead;

	spin_lock_irq(&src->lock);
	waiters = src->nr_waiters;
	signals = src->nr_signals;
	dead = src->dead;
	spin_unlock_irq(&src->lock);
	seq_printf(m, "source:\t%s\n", src->name);
	seq_printf(m, "kind:\t%s\n", src->user ? "user" : "driver");
	seq_printf(m, "waiters:\t%u\n", waiters);
	seq_printf(m, "signals:\t%llu\n", signals);
	seq_printf(m, "dead:\t%d\n", dead);
}

static const struct file_operations zsync_source_fops = {
	.owner		= THIS_MODULE,
	.release	= zsync_source_release,
	.unlocked_ioctl	= zsync_source_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= zsync_source_show_fdinfo,
	.llseek		= noop_llseek,
};

/* Installs a new fd for @src that owns one of its references. */
static int zsync_source_new_fd(struct zsync_source *src, unsigned int o_flags)
{
	return anon_inode_getfd("[zsync-source]", &zsync_source_fops, src,
				O_RDWR | o_flags);
}

/**
 * zsync_source_fd() - give the calling process a file descriptor for a source
 * @src: the source
 * @flags: 0 or O_CLOEXEC
 *
 * Process context (typically a driver's ioctl).  The descriptor is what
 * SOURCE_WAIT takes; it can be passed to other processes like any fd.  Its
 * file holds a reference to @src, so it stays valid after
 * zsync_source_destroy() (waits on it then complete with -ENODEV), and it
 * holds zsync.ko, not the calling driver's module.  Userspace cannot
 * signal a driver's source.
 *
 * Return: the descriptor, or a negative errno.
 */
int zsync_source_fd(struct zsync_source *src, unsigned int flags)
{
	int fd;

	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	zsync_source_get(src);
	fd = zsync_source_new_fd(src, flags);
	if (fd < 0)
		zsync_source_put(src);
	return fd;
}
EXPORT_SYMBOL_GPL(zsync_source_fd);

/**
 * zsync_source_ioctl_create() - ZSYNC_IOC_SOURCE_CREATE: a new user event
 * @arg: user pointer to a struct zsync_source_create
 *
 * Return: the new descriptor, or -EFAULT, -EINVAL, -ENOMEM, -EMFILE...
 */
long zsync_source_ioctl_create(void __user *arg)
{
	struct zsync_source_create c;
	struct zsync_source *src;
	int fd;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if ((c.flags & ~ZSYNC_SOURCE_FLAGS_ALL) || memchr_inv(c.resv, 0, sizeof(c.resv)))
		return -EINVAL;
	src = zsync_source_alloc("user event", true);
	if (!src)
		return -ENOMEM;
	/* The file takes over the creator's reference. */
	fd = zsync_source_new_fd(src, (c.flags & ZSYNC_SOURCE_CLOEXEC) ? O_CLOEXEC : 0);
	if (fd < 0)
		zsync_source_put(src);
	return fd;
}
