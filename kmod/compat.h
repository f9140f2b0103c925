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
#include <linux/stat.h>
#include <linux/uio.h>
#include <linux/fsnotify.h>
#include <linux/net.h>
#include <net/sock.h>
#include <linux/string.h>

/* Adds @n to the eventfd counter (6.8 dropped eventfd_signal()'s count). */
static inline void zsync_eventfd_signal(struct eventfd_ctx *ctx, unsigned int n)
{
#ifdef ZSYNC_HAVE_EVENTFD_SIGNAL_NOCOUNT
	while (n--)
		eventfd_signal(ctx);
#else
	eventfd_signal(ctx, n);
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

/* kiocb_set_rw_flags() takes the direction since 6.11 (for RWF_ATOMIC). */
static inline int zsync_kiocb_set_rw_flags(struct kiocb *ki, rwf_t flags, int rw)
{
#ifdef ZSYNC_HAVE_KIOCB_SET_RW_FLAGS_TYPE
	return kiocb_set_rw_flags(ki, flags, rw);
#else
	return kiocb_set_rw_flags(ki, flags);
#endif
}

/*
 * One user buffer as an iov_iter: import_ubuf() replaced
 * import_single_range(), which needed an iovec to point at.
 */
static inline int zsync_import_buf(int rw, void __user *buf, size_t len,
				   struct iovec *iov, struct iov_iter *iter)
{
#ifdef ZSYNC_HAVE_IMPORT_UBUF
	return import_ubuf(rw, buf, len, iter);
#else
	return import_single_range(rw, buf, len, iov, iter);
#endif
}

/* Whether buffered writes to @file honour IOCB_NOWAIT. */
static inline bool zsync_file_buffered_write_nowait(const struct file *file)
{
#ifdef ZSYNC_HAVE_FOP_BUFFER_WASYNC
	return file->f_op->fop_flags & FOP_BUFFER_WASYNC;
#else
	return file->f_mode & FMODE_BUF_WASYNC;
#endif
}

/*
 * vfs_path_lookup() is exported on every supported kernel, but 6.1 declares
 * it only in fs/internal.h; later kernels in <linux/namei.h>.
 */
#ifndef ZSYNC_HAVE_VFS_PATH_LOOKUP_DECL
int vfs_path_lookup(struct dentry *dentry, struct vfsmount *mnt, const char *name,
		    unsigned int flags, struct path *path);
#endif

/*
 * fsnotify_open() moved from the open syscalls into do_dentry_open() in
 * 6.10: since then filp_open() and file_open_root() report the open
 * themselves; before, whoever opens a file for userspace must.  No header
 * changed with that move; fsnotify_open_perm() (6.8) is the nearest sign of
 * a kernel with it, exact for the supported 6.1 and 6.12 (on 6.8 and 6.9,
 * OPENAT would report no open).  The fs selftest
 * openat_is_seen_by_inotify_once counts the events on every kernel tested.
 */
static inline void zsync_fsnotify_open(struct file *file)
{
#ifndef ZSYNC_HAVE_FSNOTIFY_OPEN_PERM
	fsnotify_open(file);
#endif
}

/* The struct statx fields newer kernels report. */
static inline void zsync_statx_fill_newer(struct statx *tmp, const struct kstat *stat)
{
#ifdef ZSYNC_HAVE_KSTAT_SUBVOL
	tmp->stx_subvol = stat->subvol;
#endif
#ifdef ZSYNC_HAVE_KSTAT_ATOMIC_WRITE
	tmp->stx_atomic_write_unit_min = stat->atomic_write_unit_min;
	tmp->stx_atomic_write_unit_max = stat->atomic_write_unit_max;
	tmp->stx_atomic_write_segments_max = stat->atomic_write_segments_max;
#endif
}

/* @sock's protocol accept() into @newsock, as a user's accept(2) (not kern). */
static inline int zsync_sock_accept(struct socket *sock, struct socket *newsock, int flags)
{
#ifdef ZSYNC_HAVE_PROTO_ACCEPT_ARG
	struct proto_accept_arg arg = { .flags = flags };

	return sock->ops->accept(sock, newsock, &arg);
#else
	return sock->ops->accept(sock, newsock, flags, false);
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
