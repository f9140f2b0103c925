// SPDX-License-Identifier: GPL-2.0
/*
 * OPENAT, CLOSE and STATX: ops on the submitter's fd table and path
 * namespace.  They are ZSYNC_OPF_TASK ops, which only ever run in the
 * submitting thread (inline in its ENTER, or in its next ENTER when they
 * continue a chain), so path lookup uses that thread's root, cwd and mount
 * namespace, the new fd goes into its fd table under its RLIMIT_NOFILE,
 * and a created file gets its fsuid, fsgid and umask: as the syscalls.
 *
 * The directory fd: AT_FDCWD resolves as openat(2) and statx(2) do.  A
 * directory fd, taken at submission, is the root of the lookup: the whole
 * path resolves beneath it, absolute paths, absolute symlinks and ".." at
 * its top included (file_open_root(), vfs_path_lookup()).  This is not
 * openat2()'s RESOLVE_IN_ROOT: magic links (/proc/self/fd/N,
 * /proc/self/root) are followed wherever they point, and a directory
 * renamed out of the tree during the lookup can lead ".." above it.  It
 * never reaches a file that openat(2) through the same directory fd could
 * not reach; it is not a sandbox (a chroot or a mount namespace is).
 */
#include <linux/kernel.h>
#include <linux/compat.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include "zsync.h"
#include "compat.h"

/* The open flags that create a file and so take a mode. */
#define ZSYNC_O_CREATE		(O_CREAT | __O_TMPFILE)
/* The flags openat2() allows with O_PATH. */
#define ZSYNC_O_PATH_FLAGS	(O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)
/* statx(2)'s flags. */
#define ZSYNC_STATX_FLAGS	(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | \
				 AT_STATX_SYNC_TYPE)

/* Copies a path from userspace, into memory charged to the submitter. */
static char *zsync_path_copy(u64 addr)
{
	const char __user *upath = u64_to_user_ptr(addr);
	char *path;
	long len;

	/* The length with its NUL; more than PATH_MAX if it is longer. */
	len = strnlen_user(upath, PATH_MAX);
	if (!len)
		return ERR_PTR(-EFAULT);
	if (len > PATH_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	path = kmalloc(len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!path)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(path, upath, len)) {
		kfree(path);
		return ERR_PTR(-EFAULT);
	}
	/* Another thread may have changed it since: it ends here regardless. */
	path[len - 1] = '\0';
	return path;
}

static int zsync_fs_prep_path(struct zsync_req *req, u64 addr)
{
	char *path = zsync_path_copy(addr);

	if (IS_ERR(path))
		return PTR_ERR(path);
	req->fs.path = path;
	return 0;
}

/*
 * The directory the lookup starts from: AT_FDCWD (at run time, the
 * thread's cwd), or an fd resolved now, O_PATH ones included as for
 * openat(2).
 */
static int zsync_fs_prep_dir(struct zsync_req *req, s32 dfd)
{
	if (dfd == AT_FDCWD)
		return 0;
	if (dfd < 0)
		return -EBADF;
	req->file = fget_raw(dfd);
	if (!req->file)
		return -EBADF;
	/* Held until issue: a ring here could keep itself alive (worker.c). */
	if (zsync_file_is_ring(req->file)) {
		fput(req->file);
		req->file = NULL;
		return -EBADF;
	}
	req->fd = dfd;
	return 0;
}

void zsync_fs_cleanup(struct zsync_req *req)
{
	kfree(req->fs.path);
}

/* ---- OPENAT ------------------------------------------------------------ */

/* What openat2() refuses; openat(2) silently drops unknown flags and modes. */
static int zsync_open_flags_check(int flags, u32 mode)
{
	if (flags & ~VALID_OPEN_FLAGS)
		return -EINVAL;
	if ((flags & O_PATH) && (flags & ~ZSYNC_O_PATH_FLAGS))
		return -EINVAL;
	if (flags & ZSYNC_O_CREATE)
		return (mode & ~S_IALLUGO) ? -EINVAL : 0;
	return mode ? -EINVAL : 0;
}

int zsync_openat_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_fs *fs = &req->fs;
	int flags = (int)sqe->op_flags;
	int ret;

	ret = zsync_open_flags_check(flags, sqe->len);
	if (ret)
		return ret;
	/* As the openat(2) syscall of a 64-bit caller. */
	if (force_o_largefile() && !in_compat_syscall())
		flags |= O_LARGEFILE;
	fs->flags = flags;
	fs->mode = sqe->len;
	ret = zsync_fs_prep_path(req, sqe->addr);
	if (ret)
		return ret;
	if (!fs->path[0])
		return -ENOENT;
	ret = zsync_fs_prep_dir(req, sqe->fd);
	if (ret)
		return ret;
	if (req->file && !S_ISDIR(file_inode(req->file)->i_mode))
		return -ENOTDIR;
	return 0;
}

static int zsync_openat(struct zsync_req *req)
{
	struct zsync_fs *fs = &req->fs;
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(fs->flags);
	if (fd < 0)
		return fd;
	if (req->file)
		file = file_open_root(&req->file->f_path, fs->path, fs->flags, fs->mode);
	else
		file = filp_open(fs->path, fs->flags, fs->mode);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return zsync_res_from_syscall(PTR_ERR(file));
	}
	zsync_fsnotify_open(file);
	fd_install(fd, file);
	return fd;
}

/* Runs in the submitting thread only (ZSYNC_OPF_TASK). */
enum zsync_issue_ret zsync_openat_issue(struct zsync_req *req)
{
	req->res = zsync_openat(req);
	return ZSYNC_ISSUE_DONE;
}

/* ---- CLOSE ------------------------------------------------------------- */

int zsync_close_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	if (sqe->fd < 0)
		return -EBADF;
	req->close_fd = sqe->fd;
	return 0;
}

static int zsync_close(struct zsync_req *req)
{
	struct file *file = fget_raw(req->close_fd);
	bool ring;

	if (!file)
		return -EBADF;
	ring = zsync_file_is_ring(file);
	fput(file);
	/*
	 * Closing a ring from inside ENTER could drop the last reference to
	 * the very ring being entered: ENTER's fdget() takes none when the fd
	 * table is not shared.  If it is shared, the fd may name a ring by
	 * the time close_fd() runs, but then that fdget() did take a
	 * reference, and the close cannot free the ring under ENTER.
	 */
	if (ring)
		return -EBADF;
	return zsync_res_from_syscall(close_fd(req->close_fd));
}

/* Runs in the submitting thread only (ZSYNC_OPF_TASK). */
enum zsync_issue_ret zsync_close_issue(struct zsync_req *req)
{
	req->res = zsync_close(req);
	return ZSYNC_ISSUE_DONE;
}

/* ---- STATX ------------------------------------------------------------- */

int zsync_statx_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_fs *fs = &req->fs;
	int flags = (int)sqe->op_flags;
	int ret;

	if (flags & ~ZSYNC_STATX_FLAGS)
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (sqe->len & STATX__RESERVED)
		return -EINVAL;
	fs->flags = flags;
	fs->mask = sqe->len;
	fs->statxbuf = u64_to_user_ptr(sqe->addr2);
	/* As statx(2) since 6.11: no path at all is the empty path. */
	if (sqe->addr || !(flags & AT_EMPTY_PATH)) {
		ret = zsync_fs_prep_path(req, sqe->addr);
		if (ret)
			return ret;
		if (!fs->path[0] && !(flags & AT_EMPTY_PATH))
			return -ENOENT;
	}
	return zsync_fs_prep_dir(req, sqe->fd);
}

static unsigned int zsync_statx_lookup_flags(int flags)
{
	unsigned int lookup = 0;

	if (!(flags & AT_SYMLINK_NOFOLLOW))
		lookup |= LOOKUP_FOLLOW;
	if (!(flags & AT_NO_AUTOMOUNT))
		lookup |= LOOKUP_AUTOMOUNT;
	return lookup;
}

/*
 * The lookup and getattr of statx(2), except that the mount id is not
 * known to modules: STATX_MNT_ID is never reported.  An empty path names
 * the directory fd itself (any file with AT_EMPTY_PATH) or the cwd.
 */
static int zsync_statx_getattr(struct zsync_req *req, struct kstat *stat)
{
	struct zsync_fs *fs = &req->fs;
	unsigned int lookup = zsync_statx_lookup_flags(fs->flags);
	const char *name = fs->path ? fs->path : "";
	struct path path;
	int ret;

retry:
	if (req->file)
		ret = vfs_path_lookup(req->file->f_path.dentry, req->file->f_path.mnt,
				      name, lookup, &path);
	else
		ret = kern_path(name, lookup, &path);
	if (ret)
		return ret;
	ret = vfs_getattr(&path, stat, fs->mask, fs->flags);
	if (path.mnt->mnt_root == path.dentry)
		stat->attributes |= STATX_ATTR_MOUNT_ROOT;
	stat->attributes_mask |= STATX_ATTR_MOUNT_ROOT;
	path_put(&path);
	if (retry_estale(ret, lookup)) {
		lookup |= LOOKUP_REVAL;
		goto retry;
	}
	return ret;
}

/* As the kernel's cp_statx(); ids as seen from the submitter's user namespace. */
static void zsync_statx_fill(struct statx *tmp, const struct kstat *stat)
{
	memset(tmp, 0, sizeof(*tmp));
	tmp->stx_mask = stat->result_mask;
#ifdef STATX_CHANGE_COOKIE
	tmp->stx_mask &= ~STATX_CHANGE_COOKIE;	/* kernel-internal */
#endif
	tmp->stx_blksize = stat->blksize;
	tmp->stx_attributes = stat->attributes;
	tmp->stx_nlink = stat->nlink;
	tmp->stx_uid = from_kuid_munged(current_user_ns(), stat->uid);
	tmp->stx_gid = from_kgid_munged(current_user_ns(), stat->gid);
	tmp->stx_mode = stat->mode;
	tmp->stx_ino = stat->ino;
	tmp->stx_size = stat->size;
	tmp->stx_blocks = stat->blocks;
	tmp->stx_attributes_mask = stat->attributes_mask;
	tmp->stx_atime.tv_sec = stat->atime.tv_sec;
	tmp->stx_atime.tv_nsec = stat->atime.tv_nsec;
	tmp->stx_btime.tv_sec = stat->btime.tv_sec;
	tmp->stx_btime.tv_nsec = stat->btime.tv_nsec;
	tmp->stx_ctime.tv_sec = stat->ctime.tv_sec;
	tmp->stx_ctime.tv_nsec = stat->ctime.tv_nsec;
	tmp->stx_mtime.tv_sec = stat->mtime.tv_sec;
	tmp->stx_mtime.tv_nsec = stat->mtime.tv_nsec;
	tmp->stx_rdev_major = MAJOR(stat->rdev);
	tmp->stx_rdev_minor = MINOR(stat->rdev);
	tmp->stx_dev_major = MAJOR(stat->dev);
	tmp->stx_dev_minor = MINOR(stat->dev);
	tmp->stx_dio_mem_align = stat->dio_mem_align;
	tmp->stx_dio_offset_align = stat->dio_offset_align;
	zsync_statx_fill_newer(tmp, stat);
}

static int zsync_statx(struct zsync_req *req)
{
	struct kstat stat;
	struct statx tmp;
	int ret;

	ret = zsync_statx_getattr(req, &stat);
	if (ret)
		return zsync_res_from_syscall(ret);
	zsync_statx_fill(&tmp, &stat);
	return copy_to_user(req->fs.statxbuf, &tmp, sizeof(tmp)) ? -EFAULT : 0;
}

/* Runs in the submitting thread only (ZSYNC_OPF_TASK). */
enum zsync_issue_ret zsync_statx_issue(struct zsync_req *req)
{
	req->res = zsync_statx(req);
	return ZSYNC_ISSUE_DONE;
}
