// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-k: kernel-space async rings.  Module init/exit, module parameters
 * and the /dev/zsync misc device.
 *
 * Each open of /dev/zsync is one ring; the file owns it.  The misc device's
 * file_operations carry THIS_MODULE, so the module cannot be unloaded while
 * any ring file is open.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/log2.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/uidgid.h>
#include "zsync.h"

#define ZSYNC_ENTRIES_CAP	32768U

unsigned int zsync_max_entries = 4096;
module_param_named(max_entries, zsync_max_entries, uint, 0444);
MODULE_PARM_DESC(max_entries, "Largest SQ ring a process may set up (power of two, <= 32768)");

unsigned int zsync_max_overflow = 65536;
module_param_named(max_overflow, zsync_max_overflow, uint, 0444);
MODULE_PARM_DESC(max_overflow, "Largest per-ring CQ overflow backlog before submission gets -EBUSY");

unsigned int zsync_max_inflight = 65536;
module_param_named(max_inflight, zsync_max_inflight, uint, 0444);
MODULE_PARM_DESC(max_inflight, "Most requests one ring may have in flight before submission gets -EBUSY");

unsigned int zsync_multishot_backlog = 32;
module_param_named(multishot_backlog, zsync_multishot_backlog, uint, 0444);
MODULE_PARM_DESC(multishot_backlog,
		 "CQEs one multishot request may have waiting in a full CQ before it ends with -EOVERFLOW");

unsigned int zsync_max_workers = 64;
module_param_named(max_workers, zsync_max_workers, uint, 0444);
MODULE_PARM_DESC(max_workers,
		 "Most regular-file and block-device ops (I/O, fsync) of one user that run in workers at once; more wait in that user's queue");

unsigned int zsync_max_source_waiters = 1024;
module_param_named(max_source_waiters, zsync_max_source_waiters, uint, 0444);
MODULE_PARM_DESC(max_source_waiters,
		 "Most SOURCE_WAITs armed on one event source");

unsigned int zsync_user_ring_kb = 65536;
module_param_named(user_ring_kb, zsync_user_ring_kb, uint, 0644);
MODULE_PARM_DESC(user_ring_kb,
		 "Most ring memory (KiB) the rings set up by one user may hold at once, CAP_IPC_LOCK exempt; 0: no bound");

/*
 * Who may create rings, as io_uring_disabled and io_uring_group do for
 * io_uring, on top of the device node's own permissions (0660, group
 * zsync: udev/60-zsync.rules):
 *   0  everyone who can open /dev/zsync
 *   1  members of the group @zsync_group (-1: the group of the device node
 *      that was opened), and CAP_SYS_ADMIN
 *   2  nobody, root included; rings already set up keep working
 * Checked when the device is opened and again at SETUP, so a ring fd
 * opened earlier (or passed to someone else) does not get around it.
 */
#define ZSYNC_RESTRICT_NONE	0
#define ZSYNC_RESTRICT_GROUP	1
#define ZSYNC_RESTRICT_ALL	2

static unsigned int zsync_restrict_users;

static int zsync_restrict_users_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, ZSYNC_RESTRICT_NONE, ZSYNC_RESTRICT_ALL);
}

static const struct kernel_param_ops zsync_restrict_users_ops = {
	.set	= zsync_restrict_users_set,
	.get	= param_get_uint,
};
module_param_cb(restrict_users, &zsync_restrict_users_ops, &zsync_restrict_users, 0644);
MODULE_PARM_DESC(restrict_users,
		 "Who may create rings: 0 all who can open /dev/zsync, 1 members of 'group' and CAP_SYS_ADMIN, 2 nobody (existing rings keep working)");

static int zsync_group = -1;
module_param_named(group, zsync_group, int, 0644);
MODULE_PARM_DESC(group,
		 "With restrict_users=1: the gid whose members may create rings (-1: the group of the /dev/zsync node)");

/* Whether the caller may create a ring through the device node @inode. */
static int zsync_may_create_ring(const struct inode *inode)
{
	int gid;
	kgid_t kgid;

	switch (READ_ONCE(zsync_restrict_users)) {
	case ZSYNC_RESTRICT_NONE:
		return 0;
	case ZSYNC_RESTRICT_GROUP:
		gid = READ_ONCE(zsync_group);
		kgid = gid < 0 ? inode->i_gid : make_kgid(&init_user_ns, gid);
		if ((gid_valid(kgid) && in_group_p(kgid)) || capable(CAP_SYS_ADMIN))
			return 0;
		return -EPERM;
	default:
		return -EPERM;
	}
}

static int zsync_open(struct inode *inode, struct file *file)
{
	struct zsync_ring *ring;
	int ret;

	ret = zsync_may_create_ring(inode);
	if (ret)
		return ret;
	ring = zsync_ring_alloc();
	if (!ring)
		return -ENOMEM;
	file->private_data = ring;
	/* Not a reference: ring and file end together (zsync_task_signal()). */
	ring->file = file;
	zsync_rings_add(ring);
	atomic_long_inc(&zsync_rings_open);
	atomic_long_inc(&zsync_rings_total);
	return nonseekable_open(inode, file);
}

static int zsync_release(struct inode *inode, struct file *file)
{
	zsync_rings_del(file->private_data);
	zsync_ring_release(file->private_data);
	atomic_long_dec(&zsync_rings_open);
	return 0;
}

static int zsync_flush(struct file *file, fl_owner_t id)
{
	zsync_ring_flush(file->private_data, file, id);
	return 0;
}

static long zsync_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zsync_ring *ring = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ZSYNC_IOC_SETUP: {
		int ret = zsync_may_create_ring(file_inode(file));

		if (ret)
			return ret;
		return zsync_ring_setup(ring, uarg);
	}
	case ZSYNC_IOC_ENTER_VALUE:
		return zsync_ring_enter_value(ring, arg);
	case ZSYNC_IOC_ENTER:
		return zsync_ring_enter(ring, uarg);
	case ZSYNC_IOC_REGISTER_EVENTFD:
		return zsync_ring_register_eventfd(ring, uarg);
	case ZSYNC_IOC_UNREGISTER_EVENTFD:
		return zsync_ring_unregister_eventfd(ring);
	case ZSYNC_IOC_RESTRICT:
		return zsync_ring_restrict(ring, uarg);
	case ZSYNC_IOC_ENABLE:
		return zsync_ring_enable(ring);
	case ZSYNC_IOC_PROBE:
		return zsync_probe(uarg);
	case ZSYNC_IOC_STATS:
		return zsync_stats(uarg);
	case ZSYNC_IOC_RINGS:
		return zsync_rings_list(uarg);
	case ZSYNC_IOC_SOURCE_CREATE:
		return zsync_source_ioctl_create(uarg);
	default:
		return -ENOTTY;
	}
}

static int zsync_mmap(struct file *file, struct vm_area_struct *vma)
{
	return zsync_ring_mmap(file->private_data, vma);
}

static __poll_t zsync_poll(struct file *file, struct poll_table_struct *wait)
{
	struct zsync_ring *ring = file->private_data;

	poll_wait(file, &ring->poll_wq, wait);
	return zsync_ring_poll_mask(ring);
}

static void zsync_show_fdinfo(struct seq_file *m, struct file *file)
{
	zsync_ring_show_fdinfo(file->private_data, m);
}

static const struct file_operations zsync_fops = {
	.owner		= THIS_MODULE,
	.open		= zsync_open,
	.release	= zsync_release,
	.flush		= zsync_flush,
	.unlocked_ioctl	= zsync_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= zsync_mmap,
	.poll		= zsync_poll,
	.show_fdinfo	= zsync_show_fdinfo,
};

/**
 * zsync_file_is_ring() - whether @file is an open /dev/zsync ring
 * @file: any file
 *
 * Return: true if @file's file operations are zsync's, set up or not.
 */
bool zsync_file_is_ring(const struct file *file)
{
	return file->f_op == &zsync_fops;
}

static struct miscdevice zsync_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "zsync",
	.fops	= &zsync_fops,
	/* udev/60-zsync.rules gives it group zsync: its members may use it. */
	.mode	= 0660,
};

static void zsync_params_sanitize(void)
{
	zsync_max_entries = clamp(zsync_max_entries, 1U, ZSYNC_ENTRIES_CAP);
	zsync_max_entries = rounddown_pow_of_two(zsync_max_entries);
	zsync_max_overflow = max(zsync_max_overflow, 1U);
	zsync_max_inflight = max(zsync_max_inflight, 1U);
	zsync_multishot_backlog = clamp(zsync_multishot_backlog, 1U, 4096U);
	zsync_max_workers = clamp(zsync_max_workers, 1U, (unsigned int)WQ_MAX_ACTIVE);
	zsync_max_source_waiters = max(zsync_max_source_waiters, 1U);
}

static int __init zsync_init(void)
{
	int ret;

	zsync_params_sanitize();
	ret = zsync_req_cache_init();
	if (ret)
		return ret;
	ret = zsync_worker_init();
	if (ret)
		goto out_cache;
	ret = misc_register(&zsync_miscdev);
	if (ret)
		goto out_worker;
	pr_info("zsync: ABI %d, max_entries %u\n", ZSYNC_ABI_VERSION, zsync_max_entries);
	return 0;

out_worker:
	zsync_worker_exit();
out_cache:
	zsync_req_cache_exit();
	return ret;
}

static void __exit zsync_exit(void)
{
	misc_deregister(&zsync_miscdev);
	/*
	 * The last request of a ring may have been freed from an hrtimer
	 * callback that had not returned yet when the ring was released; hard
	 * irq handlers are RCU readers, so this waits for them to leave.
	 */
	synchronize_rcu();
	zsync_worker_exit();
	zsync_req_cache_exit();
}

module_init(zsync_init);
module_exit(zsync_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("zsync-k developers");
MODULE_DESCRIPTION("zsync-k: per-process submission/completion rings for async kernel ops");
MODULE_VERSION(ZSYNC_MODULE_VERSION);
