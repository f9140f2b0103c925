// SPDX-License-Identifier: GPL-2.0
/*
 * Ring core: setup and mmap of the shared regions, waiting, ENTER,
 * eventfd registration, restrictions and teardown.  Posting CQEs, with
 * the overflow list and notification, is in cq.c.
 *
 * The shared memory is hostile: userspace may rewrite any index at any
 * time.  The kernel keeps its own copies of the indices it produces
 * (sq_head, cq_tail) and uses the ones userspace produces only to compute
 * clamped counts.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/eventfd.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/hashtable.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/uidgid.h>
#include <linux/fdtable.h>
#include "zsync.h"
#include "compat.h"

static bool zsync_ring_ready(const struct zsync_ring *ring)
{
	/* Pairs with the store-release in SETUP that publishes the regions. */
	return smp_load_acquire(&ring->ready);
}

struct zsync_ring *zsync_ring_alloc(void)
{
	struct zsync_ring *ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);

	if (!ring)
		return NULL;
	mutex_init(&ring->submit_lock);
	spin_lock_init(&ring->cq_lock);
	spin_lock_init(&ring->lock);
	INIT_LIST_HEAD(&ring->overflow);
	INIT_LIST_HEAD(&ring->inflight);
	ring->cancel_ud = RB_ROOT;
	ring->cancel_fd = RB_ROOT;
	ring->count_timeouts = RB_ROOT_CACHED;
	ring->count_next = U64_MAX;
	init_waitqueue_head(&ring->cq_wait);
	init_waitqueue_head(&ring->poll_wq);
	refcount_set(&ring->refs, 1);
	refcount_set(&ring->obj_refs, 1);
	init_completion(&ring->done);
	init_llist_head(&ring->chain_list);
	INIT_WORK(&ring->chain_work, zsync_chain_work);
	spin_lock_init(&ring->task_lock);
	INIT_LIST_HEAD(&ring->task_list);
	mutex_init(&ring->task_walk);
	INIT_LIST_HEAD(&ring->task_cursor);
	init_llist_head(&ring->free_list);
	INIT_WORK(&ring->free_work, zsync_req_free_work);
	init_irq_work(&ring->notify_work, zsync_cq_notify_work);
	return ring;
}

void zsync_ring_put(struct zsync_ring *ring)
{
	if (refcount_dec_and_test(&ring->refs))
		complete(&ring->done);
}

/**
 * zsync_ring_obj_put() - drop a reference to the memory of @ring
 * @ring: a ring whose file may be long released
 *
 * The file holds one such reference, and each MSG_RING naming @ring one
 * more: those keep the structure readable (ring->dying, ring->refs) without
 * keeping the file, so a ring its own requests name is still torn down by
 * its last close.  Any context.
 */
void zsync_ring_obj_put(struct zsync_ring *ring)
{
	if (refcount_dec_and_test(&ring->obj_refs))
		kfree(ring);
}

/* ---- setup and mmap ---------------------------------------------------- */

struct zsync_sizes {
	u32 sq_entries, cq_entries, overflow_limit;
};

static int zsync_clamp_entries(u32 *entries, u32 max, bool clamp)
{
	if (!*entries)
		return -EINVAL;
	if (*entries > max) {
		if (!clamp)
			return -EINVAL;
		*entries = max;
	}
	*entries = roundup_pow_of_two(*entries);
	return 0;
}

static int zsync_params_check(const struct zsync_params *p, struct zsync_sizes *s)
{
	bool clamp = p->flags & ZSYNC_SETUP_CLAMP;
	int ret;

	if (p->flags & ~ZSYNC_SETUP_FLAGS_ALL)
		return -EINVAL;
	if (p->resv[0] || p->resv[1] || p->resv[2])
		return -EINVAL;
	s->sq_entries = p->sq_entries;
	ret = zsync_clamp_entries(&s->sq_entries, zsync_max_entries, clamp);
	if (ret)
		return ret;
	if (p->flags & ZSYNC_SETUP_CQSIZE) {
		s->cq_entries = p->cq_entries;
		ret = zsync_clamp_entries(&s->cq_entries, 2 * zsync_max_entries, clamp);
		if (ret)
			return ret;
		if (s->cq_entries < s->sq_entries)
			return -EINVAL;
	} else {
		s->cq_entries = 2 * s->sq_entries;
	}
	s->overflow_limit = p->overflow_limit ? p->overflow_limit : s->cq_entries;
	if (s->overflow_limit > zsync_max_overflow) {
		if (!clamp && p->overflow_limit)
			return -EINVAL;
		s->overflow_limit = zsync_max_overflow;
	}
	return 0;
}

/*
 * Ring memory per user.  Every user may size rings (the device is open to
 * all), and each ring pins its regions until it is closed: without a bound
 * one user could take the memory the machine needs.  The regions are
 * charged to the memory cgroup too, but that is often the root one.  The
 * bound is per real uid, as io_uring's RLIMIT_MEMLOCK accounting was, so
 * that more processes or rings do not buy more; CAP_IPC_LOCK, which may
 * lock memory anyway, is exempt.
 */
struct zsync_user {
	struct hlist_node	node;
	kuid_t			uid;
	unsigned long		pages;		/* charged, zsync_users_lock */
};

static DEFINE_HASHTABLE(zsync_users, 6);
static DEFINE_SPINLOCK(zsync_users_lock);

static struct zsync_user *zsync_user_find(kuid_t uid)
{
	struct zsync_user *u;

	hash_for_each_possible(zsync_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* Charges @pages to the caller's user.  Return: 0, or -ENOMEM past the bound. */
static int zsync_user_charge(struct zsync_ring *ring, unsigned long pages)
{
	unsigned long limit = READ_ONCE(zsync_user_ring_kb) >> (PAGE_SHIFT - 10);
	struct zsync_user *u, *fresh;
	kuid_t uid = current_uid();
	int ret = 0;

	if (!READ_ONCE(zsync_user_ring_kb) || ns_capable_noaudit(&init_user_ns, CAP_IPC_LOCK))
		return 0;
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&zsync_users_lock);
	u = zsync_user_find(uid);
	if (!u) {
		u = fresh;
		fresh = NULL;
		u->uid = uid;
		hash_add(zsync_users, &u->node, __kuid_val(uid));
	}
	if (pages > limit || u->pages > limit - pages) {
		ret = -ENOMEM;
		if (!u->pages) {
			hash_del(&u->node);
			fresh = u;
		}
	} else {
		u->pages += pages;
		ring->user = u;
		ring->user_pages = pages;
	}
	spin_unlock(&zsync_users_lock);
	kfree(fresh);
	return ret;
}

static void zsync_user_uncharge(struct zsync_ring *ring)
{
	struct zsync_user *u = ring->user;
	bool last;

	if (!u)
		return;
	spin_lock(&zsync_users_lock);
	u->pages -= ring->user_pages;
	last = !u->pages;
	if (last)
		hash_del(&u->node);
	spin_unlock(&zsync_users_lock);
	if (last)
		kfree(u);
	ring->user = NULL;
	ring->user_pages = 0;
}

/* Leaves the ring as before SETUP, so a failed SETUP can be retried. */
static void zsync_regions_free(struct zsync_ring *ring)
{
	vfree(ring->sq);
	vfree(ring->cq);
	vfree(ring->sqes);
	ring->sq = NULL;
	ring->cq = NULL;
	ring->sqes = NULL;
	zsync_user_uncharge(ring);
}

/*
 * Zeroed, page-backed and charged to the opener's memory cgroup.  Any user
 * chooses the size and can make it fail: that is an -ENOMEM for SETUP, not
 * a warning with a stack trace in the kernel log.
 */
static void *zsync_region_alloc(size_t size)
{
	return __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
}

static int zsync_regions_alloc(struct zsync_ring *ring, const struct zsync_sizes *s)
{
	int ret;

	ring->sq_size = PAGE_ALIGN(sizeof(*ring->sq));
	ring->cq_size = PAGE_ALIGN(struct_size(ring->cq, cqes, s->cq_entries));
	ring->sqes_size = PAGE_ALIGN(array_size(s->sq_entries, sizeof(struct zsync_sqe)));
	ret = zsync_user_charge(ring, (ring->sq_size + ring->cq_size + ring->sqes_size) >> PAGE_SHIFT);
	if (ret)
		return ret;
	ring->sq = zsync_region_alloc(ring->sq_size);
	ring->cq = zsync_region_alloc(ring->cq_size);
	ring->sqes = zsync_region_alloc(ring->sqes_size);
	if (!ring->sq || !ring->cq || !ring->sqes) {
		zsync_regions_free(ring);
		return -ENOMEM;
	}
	ring->sq_entries = s->sq_entries;
	ring->sq_mask = s->sq_entries - 1;
	ring->cq_entries = s->cq_entries;
	ring->cq_mask = s->cq_entries - 1;
	ring->overflow_limit = s->overflow_limit;
	ring->sq->ring_mask = ring->sq_mask;
	ring->sq->ring_entries = ring->sq_entries;
	ring->cq->ring_mask = ring->cq_mask;
	ring->cq->ring_entries = ring->cq_entries;
	return 0;
}

static void zsync_params_fill(const struct zsync_ring *ring, struct zsync_params *p)
{
	p->sq_entries = ring->sq_entries;
	p->cq_entries = ring->cq_entries;
	p->overflow_limit = ring->overflow_limit;
	p->features = ZSYNC_FEATURES;
	memset(&p->sq_off, 0, sizeof(p->sq_off));
	p->sq_off.head = offsetof(struct zsync_sq_shared, head);
	p->sq_off.tail = offsetof(struct zsync_sq_shared, tail);
	p->sq_off.ring_mask = offsetof(struct zsync_sq_shared, ring_mask);
	p->sq_off.ring_entries = offsetof(struct zsync_sq_shared, ring_entries);
	p->sq_off.flags = offsetof(struct zsync_sq_shared, flags);
	memset(&p->cq_off, 0, sizeof(p->cq_off));
	p->cq_off.head = offsetof(struct zsync_cq_shared, head);
	p->cq_off.tail = offsetof(struct zsync_cq_shared, tail);
	p->cq_off.ring_mask = offsetof(struct zsync_cq_shared, ring_mask);
	p->cq_off.ring_entries = offsetof(struct zsync_cq_shared, ring_entries);
	p->cq_off.overflow = offsetof(struct zsync_cq_shared, overflow);
	p->cq_off.cqes = offsetof(struct zsync_cq_shared, cqes);
}

long zsync_ring_setup(struct zsync_ring *ring, void __user *arg)
{
	struct zsync_params p;
	struct zsync_sizes s;
	long ret;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	ret = zsync_params_check(&p, &s);
	if (ret)
		return ret;

	mutex_lock(&ring->submit_lock);
	if (ring->ready) {
		ret = -EBUSY;
		goto out;
	}
	ret = zsync_regions_alloc(ring, &s);
	if (ret)
		goto out;
	zsync_params_fill(ring, &p);
	if (copy_to_user(arg, &p, sizeof(p))) {
		zsync_regions_free(ring);
		ret = -EFAULT;
		goto out;
	}
	ring->r_disabled = p.flags & ZSYNC_SETUP_R_DISABLED;
	ring->evfd_batch = p.flags & ZSYNC_SETUP_EVENTFD_BATCH;
	ring->task_signal = p.flags & ZSYNC_SETUP_TASK_SIGNAL;
	ring->enabled = !ring->r_disabled;
	/* mmap and ENTER look at ready without the mutex. */
	smp_store_release(&ring->ready, true);
	/* After the regions: ZSYNC_IOC_RINGS reads them once it sees an owner. */
	zsync_ring_set_owner(ring);
out:
	mutex_unlock(&ring->submit_lock);
	return ret;
}

int zsync_ring_mmap(struct zsync_ring *ring, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long i;
	size_t size;
	void *ptr;
	int ret;

	if (!zsync_ring_ready(ring))
		return -EBADFD;
	if (vma->vm_pgoff == ZSYNC_OFF_SQ_RING >> PAGE_SHIFT) {
		ptr = ring->sq;
		size = ring->sq_size;
	} else if (vma->vm_pgoff == ZSYNC_OFF_CQ_RING >> PAGE_SHIFT) {
		ptr = ring->cq;
		size = ring->cq_size;
	} else if (vma->vm_pgoff == ZSYNC_OFF_SQES >> PAGE_SHIFT) {
		ptr = ring->sqes;
		size = ring->sqes_size;
	} else {
		return -EINVAL;
	}
	if (len > size)
		return -EINVAL;
	/* A private copy would silently detach the caller from the ring. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	zsync_vm_flags_set(vma, VM_DONTEXPAND);
	for (i = 0; i < len; i += PAGE_SIZE) {
		ret = vm_insert_page(vma, vma->vm_start + i, vmalloc_to_page(ptr + i));
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- ENTER ------------------------------------------------------------- */

/* An ENTER waiting for min_complete CQEs (zsync_cq_wait()). */
struct zsync_cq_waiter {
	struct wait_queue_entry	wq;
	struct zsync_ring	*ring;
	u32			min_complete;
	u32			task_seq;	/* zsync_task_work_seq() before its walk */
};

/*
 * Wake filter: whether a waiter for @min_complete CQEs may have something
 * to do.  Cheap and may say yes for nothing (deferred work of another
 * thread, overflow it cannot flush yet): the waiter then checks
 * precisely (zsync_cq_wait_done()) and sleeps again.
 */
static bool zsync_cq_wake_worth(struct zsync_ring *ring, u32 min_complete)
{
	return zsync_cq_ready(ring) >= min_complete || READ_ONCE(ring->nr_overflow) ||
	       READ_ONCE(ring->nr_task_work);
}

/* Whether an ENTER waiting as @w must not sleep now. */
static bool zsync_cq_wait_done(const struct zsync_cq_waiter *w)
{
	struct zsync_ring *ring = w->ring;

	if (zsync_cq_ready(ring) >= w->min_complete)
		return true;
	/* Overflowed CQEs it can move in, or work deferred since its walk. */
	if (zsync_cq_overflow_movable(ring))
		return true;
	return zsync_task_work_seq(ring) != w->task_seq;
}

/*
 * Every post wakes the whole queue; a waiter is woken only once its
 * target is reached, or when overflowed CQEs or deferred work may need its
 * ENTER, so a batch of completions costs one wakeup, not one per CQE.
 */
static int zsync_cq_wake(struct wait_queue_entry *wq, unsigned int mode, int sync, void *key)
{
	struct zsync_cq_waiter *w = container_of(wq, struct zsync_cq_waiter, wq);

	if (!zsync_cq_wake_worth(w->ring, w->min_complete))
		return 0;
	return autoremove_wake_function(wq, mode, sync, key);
}

/* Sleeps once, unless there is something to do; -ETIME if @expires passed. */
static int zsync_cq_sleep(struct zsync_cq_waiter *w, ktime_t *expires)
{
	struct zsync_ring *ring = w->ring;
	int ret = 0;

	prepare_to_wait_exclusive(&ring->cq_wait, &w->wq, TASK_INTERRUPTIBLE);
	/* Checked again once queued: a post in between must not be missed. */
	if (!zsync_cq_wait_done(w) && !signal_pending(current)) {
		if (!expires)
			schedule();
		else if (!schedule_hrtimeout(expires, HRTIMER_MODE_ABS))
			ret = -ETIME;
	}
	finish_wait(&ring->cq_wait, &w->wq);
	return ret;
}

/*
 * Readiness, deferred work and overflow are checked before the wait queue
 * is touched: a round trip whose CQE is already there never sleeps.
 */
static int zsync_cq_wait(struct zsync_ring *ring, u32 min_complete, ktime_t *expires)
{
	struct zsync_cq_waiter w = {
		.ring		= ring,
		/* More than the ring holds could never be satisfied. */
		.min_complete	= min(min_complete, ring->cq_entries),
	};
	int ret;

	init_wait(&w.wq);
	w.wq.func = zsync_cq_wake;
	for (;;) {
		w.task_seq = zsync_task_work_seq(ring);
		/* Our deferred work may post the CQEs we wait for. */
		zsync_run_task_work(ring);
		if (READ_ONCE(ring->nr_overflow))
			zsync_flush_overflow(ring);
		if (zsync_cq_ready(ring) >= w.min_complete)
			return 0;
		/*
		 * A signal ends the wait.  TIF_NOTIFY_SIGNAL alone is task_work
		 * queued with TWA_SIGNAL (ZSYNC_SETUP_TASK_SIGNAL, io_uring): it
		 * keeps schedule() from sleeping, and only the return to user
		 * space can run it (task_work_run() is not exported), so the
		 * wait goes there and is restarted (zsync_enter()).
		 */
		if (signal_pending(current))
			return task_sigpending(current) ? -EINTR : -ERESTARTSYS;
		ret = zsync_cq_sleep(&w, expires);
		if (ret)
			return ret;
	}
}

struct zsync_wait_args {
	ktime_t expires;
	bool has_timeout;
	bool has_sigmask;
	sigset_t sigmask;
};

static int zsync_wait_args_copy(const struct zsync_enter *e, struct zsync_wait_args *w)
{
	struct zsync_timespec uts;
	struct timespec64 ts;

	if (e->timeout) {
		if (copy_from_user(&uts, u64_to_user_ptr(e->timeout), sizeof(uts)))
			return -EFAULT;
		ts.tv_sec = uts.tv_sec;
		ts.tv_nsec = uts.tv_nsec;
		if (!timespec64_valid(&ts))
			return -EINVAL;
		w->expires = ktime_add_safe(ktime_get(), timespec64_to_ktime(ts));
		w->has_timeout = true;
	}
	if (e->sigmask) {
		if (e->sigmask_size != sizeof(sigset_t))
			return -EINVAL;
		if (copy_from_user(&w->sigmask, u64_to_user_ptr(e->sigmask), sizeof(sigset_t)))
			return -EFAULT;
		sigdelsetmask(&w->sigmask, sigmask(SIGKILL) | sigmask(SIGSTOP));
		w->has_sigmask = true;
	} else if (e->sigmask_size) {
		return -EINVAL;
	}
	return 0;
}

static int zsync_enter_wait(struct zsync_ring *ring, u32 min_complete,
			    struct zsync_wait_args *w)
{
	sigset_t old;
	int ret;

	if (w->has_sigmask)
		sigprocmask(SIG_SETMASK, &w->sigmask, &old);
	ret = zsync_cq_wait(ring, min_complete, w->has_timeout ? &w->expires : NULL);
	if (!w->has_sigmask)
		return ret;
	if (ret == -EINTR) {
		/* As pselect: the handler runs with the caller's mask, then it returns. */
		current->saved_sigmask = old;
		set_restore_sigmask();
	} else {
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	return ret;
}

/*
 * Submits, runs the thread's deferred work, flushes overflow and, with
 * GETEVENTS, waits.  Return: SQEs consumed, or an error of the
 * submission; *@wait_res gets the wait's outcome.
 */
static int zsync_enter(struct zsync_ring *ring, u32 to_submit, u32 min_complete,
		       u32 flags, struct zsync_wait_args *w, int *wait_res)
{
	int submitted = 0;

	*wait_res = 0;
	/* Room the user made by reaping goes to overflowed CQEs first. */
	if (READ_ONCE(ring->nr_overflow))
		zsync_flush_overflow(ring);
	if (to_submit) {
		/*
		 * Interruptible: an op may block its submitter here as the
		 * syscall would (an OPENAT of a FIFO), and the ring's other
		 * submitters must stay killable meanwhile, not in D state.
		 * Nothing is consumed yet, so the call restarts as it can.
		 */
		if (mutex_lock_interruptible(&ring->submit_lock))
			return -ERESTARTSYS;
		submitted = zsync_submit_sqes(ring, to_submit);
		mutex_unlock(&ring->submit_lock);
		if (submitted < 0)
			return submitted;
	}
	zsync_run_task_work(ring);
	if (READ_ONCE(ring->nr_overflow))
		zsync_flush_overflow(ring);
	if (!(flags & ZSYNC_ENTER_GETEVENTS))
		return submitted;
	/* The usual round trip: what it waits for is there already. */
	if (!w->has_sigmask && zsync_cq_ready(ring) >= min(min_complete, ring->cq_entries))
		return submitted;
	*wait_res = zsync_enter_wait(ring, min_complete, w);
	/*
	 * Only a pure wait is restarted after task_work: one that submitted
	 * must report it, and a restart would start a relative timeout over.
	 */
	if (*wait_res == -ERESTARTSYS && (submitted || w->has_timeout || w->has_sigmask))
		*wait_res = -EINTR;
	return submitted;
}

long zsync_ring_enter(struct zsync_ring *ring, void __user *arg)
{
	struct zsync_enter __user *uenter = arg;
	struct zsync_wait_args w = {};
	struct zsync_enter e;
	int submitted, wait_res;
	int ret;

	if (!zsync_ring_ready(ring))
		return -EBADFD;
	if (copy_from_user(&e, uenter, sizeof(e)))
		return -EFAULT;
	if ((e.flags & ~ZSYNC_ENTER_FLAGS_ALL) || e.resv[0] || e.resv[1] || e.resv[2])
		return -EINVAL;
	if (!READ_ONCE(ring->enabled))
		return -EBADFD;
	/* Check every argument before consuming anything. */
	ret = zsync_wait_args_copy(&e, &w);
	if (ret)
		return ret;

	submitted = zsync_enter(ring, e.to_submit, e.min_complete, e.flags, &w, &wait_res);
	if (submitted < 0)
		return submitted;
	if (put_user(wait_res, &uenter->wait_res) && !submitted)
		return -EFAULT;
	return submitted ? submitted : wait_res;
}

/**
 * zsync_ring_enter_value() - ZSYNC_IOC_ENTER_VALUE: ENTER with its
 * arguments packed in the ioctl argument (ZSYNC_ENTER_VALUE())
 * @ring: the ring
 * @arg: to_submit, min_complete and GETEVENTS; no timeout, no sigmask
 *
 * Nothing is copied from or to userspace: the hot path's ENTER.
 *
 * Return: SQEs consumed if any, else the submission's error or the
 * wait's outcome.
 */
long zsync_ring_enter_value(struct zsync_ring *ring, unsigned long arg)
{
	struct zsync_wait_args w = {};
	int submitted, wait_res;

	if (!zsync_ring_ready(ring))
		return -EBADFD;
	if (upper_32_bits(arg))
		return -EINVAL;
	if (!READ_ONCE(ring->enabled))
		return -EBADFD;
	submitted = zsync_enter(ring, arg & ZSYNC_ENTER_VALUE_MAX_SUBMIT,
				(arg >> 16) & ZSYNC_ENTER_VALUE_MAX_COMPLETE,
				(arg & BIT(31)) ? ZSYNC_ENTER_GETEVENTS : 0, &w, &wait_res);
	return submitted ? submitted : wait_res;
}

/* ---- eventfd, restrictions --------------------------------------------- */

long zsync_ring_register_eventfd(struct zsync_ring *ring, void __user *arg)
{
	struct eventfd_ctx *ctx;
	s32 fd;

	if (get_user(fd, (s32 __user *)arg))
		return -EFAULT;
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&ring->submit_lock);
	if (rcu_access_pointer(ring->evfd)) {
		mutex_unlock(&ring->submit_lock);
		eventfd_ctx_put(ctx);
		return -EBUSY;
	}
	rcu_assign_pointer(ring->evfd, ctx);
	mutex_unlock(&ring->submit_lock);
	return 0;
}

long zsync_ring_unregister_eventfd(struct zsync_ring *ring)
{
	struct eventfd_ctx *ctx;

	mutex_lock(&ring->submit_lock);
	ctx = rcu_dereference_protected(ring->evfd, lockdep_is_held(&ring->submit_lock));
	RCU_INIT_POINTER(ring->evfd, NULL);
	mutex_unlock(&ring->submit_lock);
	if (!ctx)
		return -ENXIO;
	/* Posters in irq context may still hold it under rcu_read_lock(). */
	synchronize_rcu();
	eventfd_ctx_put(ctx);
	return 0;
}

long zsync_ring_restrict(struct zsync_ring *ring, void __user *arg)
{
	struct zsync_restriction r;
	unsigned int i;
	long ret = 0;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (memchr_inv(r.resv0, 0, sizeof(r.resv0)) || memchr_inv(r.resv, 0, sizeof(r.resv)))
		return -EINVAL;
	/* Allowing what does not exist yet would allow what a later module adds. */
	if (r.allowed_sqe_flags & ~ZSYNC_SQE_FLAGS_ALL)
		return -EINVAL;
	for (i = 0; i < 256; i++)
		if ((r.allowed_ops[i / 64] & (1ULL << (i % 64))) && !zsync_opdef_get(i))
			return -EINVAL;
	mutex_lock(&ring->submit_lock);
	if (!ring->ready || !ring->r_disabled) {
		ret = ring->ready ? -EBUSY : -EBADFD;
	} else if (ring->enabled || ring->restricted) {
		ret = -EBUSY;
	} else {
		for (i = 0; i < ZSYNC_OP_LAST; i++)
			if (r.allowed_ops[i / 64] & (1ULL << (i % 64)))
				__set_bit(i, ring->allowed_ops);
		ring->allowed_sqe_flags = r.allowed_sqe_flags;
		ring->restricted = true;
	}
	mutex_unlock(&ring->submit_lock);
	return ret;
}

long zsync_ring_enable(struct zsync_ring *ring)
{
	long ret = 0;

	mutex_lock(&ring->submit_lock);
	if (!ring->ready)
		ret = -EBADFD;
	else if (ring->enabled)
		ret = -EBUSY;
	else
		WRITE_ONCE(ring->enabled, true);
	mutex_unlock(&ring->submit_lock);
	return ret;
}

/* ---- poll, fdinfo, release ---------------------------------------------- */

__poll_t zsync_ring_poll_mask(struct zsync_ring *ring)
{
	__poll_t mask = 0;

	if (!zsync_ring_ready(ring))
		return 0;
	/*
	 * Deferred work counts, whichever thread it waits for (as io_uring
	 * reports its deferred task work): an event loop learns to have that
	 * thread enter.  Another thread's ENTER finds nothing to run, so rings
	 * shared by threads with loops of their own want
	 * ZSYNC_SETUP_TASK_SIGNAL, which runs the work without an ENTER.
	 */
	if (zsync_cq_ready(ring) || READ_ONCE(ring->nr_overflow) ||
	    READ_ONCE(ring->nr_task_work))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(ring->sq->tail) - READ_ONCE(ring->sq_head) < ring->sq_entries)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

void zsync_ring_show_fdinfo(struct zsync_ring *ring, struct seq_file *m)
{
	if (!zsync_ring_ready(ring)) {
		seq_puts(m, "setup:\t0\n");
		return;
	}
	seq_puts(m, "setup:\t1\n");
	/* The ring's id in ZSYNC_IOC_RINGS (zsyncctl status). */
	seq_printf(m, "id:\t%llu\n", ring->id);
	seq_printf(m, "sq_entries:\t%u\n", ring->sq_entries);
	seq_printf(m, "cq_entries:\t%u\n", ring->cq_entries);
	seq_printf(m, "sq_head:\t%u\n", READ_ONCE(ring->sq_head));
	seq_printf(m, "sq_tail:\t%u\n", READ_ONCE(ring->sq->tail));
	seq_printf(m, "cq_head:\t%u\n", READ_ONCE(ring->cq->head));
	seq_printf(m, "cq_tail:\t%u\n", READ_ONCE(ring->cq_tail));
	seq_printf(m, "inflight:\t%d\n", atomic_read(&ring->nr_live) - (int)READ_ONCE(ring->credits));
	seq_printf(m, "overflow:\t%u\n", READ_ONCE(ring->nr_overflow));
	seq_printf(m, "overflow_total:\t%u\n", READ_ONCE(ring->overflow_total));
	seq_printf(m, "overflow_limit:\t%u\n", ring->overflow_limit);
	seq_printf(m, "task_work:\t%u\n", READ_ONCE(ring->nr_task_work));
	seq_printf(m, "enabled:\t%d\n", READ_ONCE(ring->enabled));
	seq_printf(m, "restricted:\t%d\n", ring->restricted);
	seq_printf(m, "eventfd:\t%d\n", rcu_access_pointer(ring->evfd) ? 1 : 0);
}

static int zsync_fd_is(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/**
 * zsync_ring_flush() - a process closed an fd of @ring
 * @ring: the ring
 * @file: its file
 * @id: the fd table it was closed in (filp_close()'s owner), or NULL
 *
 * When that table holds no other fd of @ring, the requests submitted
 * through it are cancelled: nothing there can enter the ring any more.
 * This is what ends them at exit even when the ring file outlives the
 * process because one of them holds it indirectly: a ring fd sent with
 * SCM_RIGHTS into a socket that one of its requests holds is owned by the
 * socket's queue, and the socket by the request, so the ring's ->release,
 * which cancels everything, would never come.  Requests never hold ring
 * files themselves (zsync_req_capture()); this breaks the cycles that go
 * through another file.
 */
void zsync_ring_flush(struct zsync_ring *ring, struct file *file, fl_owner_t id)
{
	struct zsync_cancel c = {
		.flags	= ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL,
		.owner	= id,
	};

	if (!id || !zsync_ring_ready(ring))
		return;
	if (iterate_fd(id, 0, zsync_fd_is, file))
		return;
	/* A chain continuation running now may arm one more request. */
	flush_work(&ring->chain_work);
	zsync_cancel_match(ring, &c, NULL);
}

/**
 * zsync_ring_release() - tear a ring down on the last close of its file
 * @ring: the ring
 *
 * Cancels everything in flight and waits until every request is gone, so
 * no timer or work item can run module code after the file is released.
 */
void zsync_ring_release(struct zsync_ring *ring)
{
	struct zsync_cancel all = { .flags = ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL };
	struct eventfd_ctx *ctx;

	zsync_cq_kill(ring);
	/* A chain continuation running now may arm one more request. */
	flush_work(&ring->chain_work);
	zsync_cancel_match(ring, &all, NULL);
	/* After the cancels: an owner they left may still defer its end here. */
	zsync_cancel_task_work(ring);
	/* No ENTER runs any more: the reserved credits go back. */
	zsync_ring_put_credits(ring, ring->credits);
	ring->credits = 0;
	zsync_ring_put(ring);
	wait_for_completion(&ring->done);
	flush_work(&ring->chain_work);
	flush_work(&ring->free_work);
	irq_work_sync(&ring->notify_work);
	zsync_req_cache_drain(ring);

	ctx = rcu_dereference_protected(ring->evfd, true);
	if (ctx)
		eventfd_ctx_put(ctx);
	zsync_regions_free(ring);
	mutex_destroy(&ring->submit_lock);
	zsync_ring_obj_put(ring);
}
