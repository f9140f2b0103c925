// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide counters for ZSYNC_IOC_STATS (zsyncctl status).  Per-CPU, so
 * counting costs the hot paths one unshared add; the ioctl sums them.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
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
