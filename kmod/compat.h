/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shims for the kernel API differences between the supported kernels
 * (Debian's 6.1 and 6.12).  Kbuild detects each API from the headers and
 * defines ZSYNC_HAVE_*.
 */
#ifndef _ZSYNC_COMPAT_H
#define _ZSYNC_COMPAT_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/string.h>

static inline void zsync_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef ZSYNC_HAVE_EVENTFD_SIGNAL_NOCOUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

static inline void zsync_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
#ifdef ZSYNC_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * The struct pid behind a pidfd, or NULL if @file is not one; no reference
 * is taken (the file holds one).  pidfd_pid() is not exported, and neither
 * is the pidfd file_operations it compares against, so recognise the file
 * by where it lives.
 */
static inline struct pid *zsync_pidfd_pid(const struct file *file)
{
	const struct inode *inode = file_inode(file);

#ifdef ZSYNC_HAVE_PIDFS
	/* 6.9 and later: every pidfd is a pidfs file; the pid is the inode's. */
	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		return inode->i_private;
#else
	/*
	 * 6.1: pidfds are anon-inode files that pidfd_create() names
	 * "[pidfd]", with the pid in private_data.  Only kernel code names
	 * anon-inode files, and no other uses that name.
	 */
	if (inode->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
#endif
	return NULL;
}

#endif /* _ZSYNC_COMPAT_H */
