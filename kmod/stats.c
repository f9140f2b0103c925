// SPDX-License-Identifier: GPL-2.0
/*
 * What zsyncctl status shows.  ZSYNC_IOC_STATS: module-wide counters,
 * per-CPU, so counting costs the hot paths one unshared add; the ioctl
 * sums them.  ZSYNC_IOC_RINGS: each ring's state, read from what the ring
 * keeps anyway plus a per-op count of armed requests that arming and
 * disarming update under the lock they already hold; no request list is
 * walked.
 */
#include <linux/kernel.h>
#include <linux/capability.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "zsync.h"

DEFINE_PER_CPU(struct zsync_pcpu_stats, zsync_pcpu_stats);
atomic_long_t zsync_rings_open = ATOMIC_LONG_INIT(0);
atomic_long_t zsync_rings_total = ATOMIC_LONG_INIT(0);

/**
 * zsync_stats() - answer ZSYNC_IOC_STATS
 * @arg: user pointer to a struct zsync_stats
 *
 * Return: 0, -EFAULT, or -EINVAL if a reserved field is not zero.
 */
long zsync_stats(void __user *arg)
{
	struct zsync_stats st;
	int cpu;

	if (copy_from_user(&st, arg, sizeof(st)))
		return -EFAULT;
	if (memchr_inv(st.resv, 0, sizeof(st.resv)))
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.rings_open = atomic_long_read(&zsync_rings_open);
	st.rings_total = atomic_long_read(&zsync_rings_total);
	for_each_possible_cpu(cpu) {
		const struct zsync_pcpu_stats *s = per_cpu_ptr(&zsync_pcpu_stats, cpu);

		st.sqes += READ_ONCE(s->sqes);
		st.cqes += READ_ONCE(s->cqes);
		st.cqes_overflowed += READ_ONCE(s->cqes_overflowed);
		st.ops_disabled += READ_ONCE(s->ops_disabled);
	}
	return copy_to_user(arg, &st, sizeof(st)) ? -EFAULT : 0;
}

/*
 * Every open ring, oldest first, for ZSYNC_IOC_RINGS.  A mutex: rings join
 * and leave at open and last close only, and the walk may sleep.
 */
static LIST_HEAD(zsync_all_rings);
static DEFINE_MUTEX(zsync_all_rings_lock);
static u64 zsync_next_ring_id;

/**
 * zsync_rings_add() - list a new ring for ZSYNC_IOC_RINGS
 * @ring: a ring just allocated by an open of /dev/zsync
 */
void zsync_rings_add(struct zsync_ring *ring)
{
	mutex_lock(&zsync_all_rings_lock);
	ring->id = ++zsync_next_ring_id;
	list_add_tail(&ring->all_node, &zsync_all_rings);
	mutex_unlock(&zsync_all_rings_lock);
}

/**
 * zsync_rings_del() - take @ring off the list, on the last close of its file
 * @ring: a ring zsync_rings_add() listed
 *
 * After this no ZSYNC_IOC_RINGS looks at @ring, so its regions and owner
 * may go.
 */
void zsync_rings_del(struct zsync_ring *ring)
{
	mutex_lock(&zsync_all_rings_lock);
	list_del(&ring->all_node);
	mutex_unlock(&zsync_all_rings_lock);
	put_pid(ring->owner);
	ring->owner = NULL;
}

/**
 * zsync_ring_set_owner() - record the calling process as @ring's owner
 * @ring: a ring being set up (submit_lock held), once
 */
void zsync_ring_set_owner(struct zsync_ring *ring)
{
	struct pid *owner = get_task_pid(current, PIDTYPE_TGID);

	get_task_comm(ring->owner_comm, current);
	/* Published for the walk, which runs under the list's mutex only. */
	smp_store_release(&ring->owner, owner);
}

/* @ring's owner once SETUP published it, after the regions; or NULL. */
static struct pid *zsync_ring_owner(struct zsync_ring *ring)
{
	/* Pairs with the store-release in zsync_ring_set_owner(). */
	return smp_load_acquire(&ring->owner);
}

/* @ring's owner's pid as @ns sees it; 0 if not set up or not in @ns. */
static pid_t zsync_ring_owner_nr(struct zsync_ring *ring, struct pid_namespace *ns)
{
	struct pid *owner = zsync_ring_owner(ring);

	return owner ? pid_nr_ns(owner, ns) : 0;
}

/* The counts of @ring as they are now; false if @ns does not see it. */
static bool zsync_ring_snapshot(struct zsync_ring *ring, struct pid_namespace *ns,
				struct zsync_ring_info *info)
{
	pid_t owner_pid = zsync_ring_owner_nr(ring, ns);
	const struct zsync_req *oldest;
	unsigned long flags;
	u32 cq_head, sq_tail;

	if (!owner_pid)
		return false;
	memset(info, 0, sizeof(*info));
	info->owner_pid = owner_pid;
	info->id = ring->id;
	memcpy(info->owner_comm, ring->owner_comm, sizeof(info->owner_comm));
	info->sq_entries = ring->sq_entries;
	info->cq_entries = ring->cq_entries;
	info->oldest_op = ZSYNC_OP_LAST;

	spin_lock_irqsave(&ring->lock, flags);
	memcpy(info->waiting, ring->nr_armed, sizeof(ring->nr_armed));
	oldest = list_first_entry_or_null(&ring->inflight, struct zsync_req, inflight);
	if (oldest) {
		info->oldest_op = oldest->opcode;
		info->oldest_user_data = oldest->user_data;
		info->oldest_age_ms = jiffies_to_msecs((u32)jiffies - oldest->arm_time);
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	/* The shared indices are userspace's to scribble on: clamp. */
	sq_tail = READ_ONCE(ring->sq->tail);
	info->sq_pending = min(sq_tail - READ_ONCE(ring->sq_head), ring->sq_entries);
	cq_head = READ_ONCE(ring->cq->head);
	info->cq_ready = min(READ_ONCE(ring->cq_tail) - cq_head, ring->cq_entries);
	info->inflight = max(atomic_read(&ring->nr_live) - (int)READ_ONCE(ring->credits), 0);
	info->overflow = READ_ONCE(ring->nr_overflow);
	info->overflow_total = READ_ONCE(ring->overflow_total);
	info->task_work = READ_ONCE(ring->nr_task_work);
	return true;
}

#define ZSYNC_RINGS_CHUNK	16

struct zsync_rings_walk {
	struct zsync_rings	args;
	struct pid_namespace	*ns;
	struct zsync_ring_info	*chunk;		/* ZSYNC_RINGS_CHUNK entries */
	u32			written;
	u32			total;
};

/*
 * Snapshots, under the list's mutex, up to a chunk of the rings after
 * w->args.after_id that w->ns sees, and counts all of them; returns how
 * many it put in w->chunk.  The copy to userspace happens unlocked: a
 * faulting buffer must not hold up every open and close of /dev/zsync.
 */
static u32 zsync_rings_fill(struct zsync_rings_walk *w, u32 room)
{
	struct zsync_ring *ring;
	u32 n = 0;

	w->total = 0;
	mutex_lock(&zsync_all_rings_lock);
	list_for_each_entry(ring, &zsync_all_rings, all_node) {
		if (ring->id <= w->args.after_id || n == room) {
			/* Counted, not copied. */
			if (zsync_ring_owner_nr(ring, w->ns))
				w->total++;
			continue;
		}
		if (!zsync_ring_snapshot(ring, w->ns, &w->chunk[n]))
			continue;
		w->total++;
		w->args.after_id = ring->id;
		n++;
	}
	mutex_unlock(&zsync_all_rings_lock);
	return n;
}

/**
 * zsync_rings_list() - answer ZSYNC_IOC_RINGS
 * @arg: user pointer to a struct zsync_rings
 *
 * Return: 0, -EPERM without CAP_SYS_ADMIN, -EFAULT, or -EINVAL for a
 * reserved field that is not zero or an info_size that is not ours.
 */
long zsync_rings_list(void __user *arg)
{
	struct zsync_rings_walk w = { .ns = task_active_pid_ns(current) };
	struct zsync_ring_info __user *ubuf;
	long ret = 0;
	u32 n;

	BUILD_BUG_ON(ZSYNC_OP_LAST > ZSYNC_RING_INFO_OPS);
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&w.args, arg, sizeof(w.args)))
		return -EFAULT;
	if (memchr_inv(w.args.resv, 0, sizeof(w.args.resv)) ||
	    w.args.info_size != sizeof(struct zsync_ring_info))
		return -EINVAL;
	ubuf = u64_to_user_ptr(w.args.buf);
	w.chunk = kmalloc_array(ZSYNC_RINGS_CHUNK, sizeof(*w.chunk), GFP_KERNEL);
	if (!w.chunk)
		return -ENOMEM;
	do {
		n = zsync_rings_fill(&w, min_t(u32, w.args.nr - w.written, ZSYNC_RINGS_CHUNK));
		if (copy_to_user(ubuf + w.written, w.chunk, n * sizeof(*w.chunk))) {
			ret = -EFAULT;
			break;
		}
		w.written += n;
	} while (n && w.written < w.args.nr);
	kfree(w.chunk);
	if (ret)
		return ret;
	/* total counts the rings before after_id too: all the caller sees. */
	w.args.nr = w.written;
	w.args.total = w.total;
	return copy_to_user(arg, &w.args, sizeof(w.args)) ? -EFAULT : 0;
}
