// SPDX-License-Identifier: GPL-2.0
/*
 * READ, WRITE, READV, WRITEV and FSYNC.
 *
 * A transfer is first tried without blocking (IOCB_NOWAIT) where it is
 * issued, normally the submitter's ENTER: a page-cache hit, a socket or a
 * pipe with data completes there, with no other context involved.  When it
 * would block, where it goes on depends on the file (zsync_file_worker_ok()):
 *
 *  - a regular file of a data filesystem or a block device goes to a worker
 *    (zsync_punt()) that makes the blocking call, with the submitter's mm,
 *    credentials and RLIMIT_FSIZE.  A non-blocking attempt that moved only
 *    part of the data (the rest is not cached) has the rest moved there, so
 *    that a short count means end of file, as for read(2);
 *  - any other file (socket, pipe, FIFO, tty, character device, eventfd,
 *    procfs, sysfs, kernfs, ...) behaves according to its caller, so it is
 *    only ever touched by the submitting thread, as itself (the request is
 *    pinned there at prep).  A pollable one waits on its wait queues
 *    (zsync_poll_arm()) and each wakeup tries again in that thread's next
 *    ENTER.  A file that may not honour IOCB_NOWAIT (a tty, a 6.1 pipe) is
 *    tried only once poll reports it ready, with a blocking call that then
 *    does not wait (a WRITE moves at most PIPE_BUF bytes per attempt); if a
 *    race makes it wait after all, it waits in that thread's ENTER,
 *    interruptibly (-EINTR), as read(2) would.  A file with no wait queue
 *    gets the blocking call in the submitting thread: at once, or, from
 *    submission, from its task list right after (not under submit_lock).
 *
 * ZSYNC_OFF_CURRENT uses the file position as read(2) and write(2) do:
 * each transfer attempt reads it and advances it by what it moved, holding
 * f_pos_lock exactly when read(2) would (files with FMODE_ATOMIC_POS).  So
 * an attempt is atomic against read(2), lseek(2) and other ops on the same
 * open file, but two ops in flight at once on one file may both start at
 * the same position: order them with ZSYNC_SQE_LINK.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/ioprio.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/magic.h>
#include "zsync.h"
#include "compat.h"

/* RWF_HIPRI asks for polled completion, which zsync does not do. */
#define ZSYNC_RWF_UNSUPPORTED	RWF_HIPRI

static bool zsync_rw_wants_all(const struct file *file)
{
	umode_t mode = file_inode(file)->i_mode;

	return S_ISREG(mode) || S_ISBLK(mode);
}

/* Filesystems whose data is always in memory: reading never waits for I/O. */
static bool zsync_file_in_memory(const struct file *file)
{
	unsigned long magic = file_inode(file)->i_sb->s_magic;

	return magic == TMPFS_MAGIC || magic == RAMFS_MAGIC;
}

/*
 * Whether a transfer on @file may be tried at submission with IOCB_NOWAIT:
 * whether the file is known to return -EAGAIN rather than block.
 */
static bool zsync_rw_nowait_ok(const struct zsync_req *req)
{
	const struct file *file = req->file;
	umode_t mode = file_inode(file)->i_mode;

	if (zsync_rw_wants_all(file)) {
		/* Other filesystems (network, FUSE) may block regardless. */
		if (!(file->f_mode & FMODE_NOWAIT) &&
		    !(S_ISREG(mode) && zsync_file_in_memory(file)))
			return false;
		/* Buffered writes refuse IOCB_NOWAIT unless the fs opts in. */
		if (req->rw.dir == WRITE && !(file->f_flags & O_DIRECT) &&
		    !zsync_file_buffered_write_nowait(file))
			return false;
		return true;
	}
	if (S_ISSOCK(mode))
		return true;
	/* Any ->read_iter()/->write_iter() must understand O_NONBLOCK. */
	return (file->f_mode & FMODE_NOWAIT) || (file->f_flags & O_NONBLOCK);
}

/* The file must be open for the transfer and able to do it. */
static int zsync_rw_check_file(const struct file *file, int dir)
{
	if (dir == READ) {
		if (!(file->f_mode & FMODE_READ))
			return -EBADF;
		if (S_ISDIR(file_inode(file)->i_mode))
			return -EISDIR;
		if (!file->f_op->read_iter || !(file->f_mode & FMODE_CAN_READ))
			return -EINVAL;
	} else {
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (!file->f_op->write_iter || !(file->f_mode & FMODE_CAN_WRITE))
			return -EINVAL;
	}
	return 0;
}

static int zsync_rw_init_kiocb(const struct zsync_req *req, struct kiocb *kiocb, bool nowait)
{
	int ret;

	init_sync_kiocb(kiocb, req->file);
	kiocb->ki_ioprio = req->rw.ioprio;
	ret = zsync_kiocb_set_rw_flags(kiocb, req->rw.rwf, req->rw.dir);
	if (nowait)
		kiocb->ki_flags |= IOCB_NOWAIT;
	return ret;
}

/* RWF_* as preadv2(2) takes them, checked against this file. */
static int zsync_rw_prep_flags(struct zsync_req *req, u32 op_flags)
{
	rwf_t rwf = (__force rwf_t)op_flags;
	struct kiocb kiocb;

	if (rwf & ~RWF_SUPPORTED || rwf & ZSYNC_RWF_UNSUPPORTED)
		return -EINVAL;
	req->rw.rwf = rwf;
	/* Valid flags this file cannot do fail as they would for preadv2(). */
	return zsync_rw_init_kiocb(req, &kiocb, false);
}

/* @off is an offset, or ZSYNC_OFF_CURRENT, as read(2) / pread(2) take them. */
static int zsync_rw_prep_pos(struct zsync_req *req, u64 off)
{
	struct zsync_rw *rw = &req->rw;
	fmode_t need = rw->dir == READ ? FMODE_PREAD : FMODE_PWRITE;

	if (off == ZSYNC_OFF_CURRENT) {
		/* A stream (pipe, socket) has no position: nothing to use. */
		rw->use_fpos = !(req->file->f_mode & FMODE_STREAM);
		return 0;
	}
	/* pread(2) on a file without positions. */
	if (!(req->file->f_mode & need))
		return -ESPIPE;
	/* rw_verify_area() judges the value, as for pread(2). */
	rw->pos = (loff_t)off;
	return 0;
}

/*
 * The user buffers, as an iov_iter.  A READV/WRITEV array is copied now,
 * into memory charged to the submitter (not into the request: hardened
 * usercopy refuses user copies into its slab); the buffers it points to
 * are accessed during the transfer.
 */
static int zsync_rw_prep_buffers(struct zsync_req *req, u64 addr, u32 len, bool vectored)
{
	struct zsync_rw *rw = &req->rw;
	void __user *buf = u64_to_user_ptr(addr);
	struct iovec *iov = NULL;
	ssize_t ret;

	if (!vectored)
		return zsync_import_buf(rw->dir, buf, len, &rw->fast_iov, &rw->iter);
	if (len > UIO_MAXIOV)
		return -EINVAL;
	if (len) {
		rw->iov = kmalloc_array(len, sizeof(*iov), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!rw->iov)
			return -ENOMEM;
		iov = rw->iov;
	}
	/* With @len fast segments given, import_iovec() allocates nothing. */
	ret = import_iovec(rw->dir, buf, len, len, &iov, &rw->iter);
	return ret < 0 ? ret : 0;
}

/* READ, WRITE, READV, WRITEV; req->file was taken from sqe->fd. */
int zsync_rw_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_rw *rw = &req->rw;
	bool vectored = req->opcode == ZSYNC_OP_READV || req->opcode == ZSYNC_OP_WRITEV;
	int ret;

	rw->dir = (req->opcode == ZSYNC_OP_READ || req->opcode == ZSYNC_OP_READV) ? READ : WRITE;
	ret = zsync_rw_check_file(req->file, rw->dir);
	if (ret)
		return ret;
	ret = zsync_rw_prep_flags(req, sqe->op_flags);
	if (ret)
		return ret;
	ret = zsync_rw_prep_pos(req, sqe->off);
	if (ret)
		return ret;
	rw->ioprio = get_current_ioprio();
	/* A kworker's own limit is infinite: workers apply the submitter's. */
	rw->fsize_limit = rlimit(RLIMIT_FSIZE);
	return zsync_rw_prep_buffers(req, sqe->addr, sqe->len, vectored);
}

void zsync_rw_cleanup(struct zsync_req *req)
{
	kfree(req->rw.iov);
}

/*
 * In a kworker, RLIMIT_FSIZE is the kworker's (infinite): apply the
 * submitter's, as generic_write_checks() would, but without SIGXFSZ.
 */
static int zsync_rw_limit_fsize(const struct zsync_req *req, const struct kiocb *kiocb,
				struct iov_iter *iter)
{
	struct inode *inode = file_inode(req->file);
	u64 limit = req->rw.fsize_limit;
	loff_t pos;

	if (!(current->flags & PF_KTHREAD) || limit == RLIM_INFINITY || !S_ISREG(inode->i_mode))
		return 0;
	pos = (kiocb->ki_flags & IOCB_APPEND) ? i_size_read(inode) : kiocb->ki_pos;
	if (pos >= limit)
		return -EFBIG;
	iov_iter_truncate(iter, limit - pos);
	return 0;
}

/*
 * vfs_iocb_iter_write() does not take the superblock's write reference on
 * every kernel, and cannot be asked not to block for it: the same steps,
 * here.
 */
static ssize_t zsync_rw_write_iter(const struct zsync_req *req, struct kiocb *kiocb,
				   struct iov_iter *iter)
{
	struct file *file = req->file;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	ret = rw_verify_area(WRITE, file, &kiocb->ki_pos, iov_iter_count(iter));
	if (ret)
		return ret;
	ret = zsync_rw_limit_fsize(req, kiocb, iter);
	if (ret)
		return ret;
	if (kiocb->ki_flags & IOCB_NOWAIT) {
		if (!file_start_write_trylock(file))
			return -EAGAIN;
	} else {
		file_start_write(file);
	}
	ret = file->f_op->write_iter(kiocb, iter);
	file_end_write(file);
	if (ret > 0)
		fsnotify_modify(file);
	return ret;
}

/*
 * One attempt: moves what it can of what is left, at the op's offset or
 * the file position, and advances either by what it moved.
 */
static ssize_t zsync_rw_transfer(struct zsync_req *req, bool nowait, size_t max)
{
	struct zsync_rw *rw = &req->rw;
	struct file *file = req->file;
	bool lock_pos = rw->use_fpos && (file->f_mode & FMODE_ATOMIC_POS);
	struct iov_iter iter = rw->iter;
	struct kiocb kiocb;
	ssize_t ret;

	ret = zsync_rw_init_kiocb(req, &kiocb, nowait);
	if (ret)
		return ret;
	if (max)
		iov_iter_truncate(&iter, max);
	if (lock_pos) {
		if (!nowait)
			mutex_lock(&file->f_pos_lock);
		else if (!mutex_trylock(&file->f_pos_lock))
			return -EAGAIN;
	}
	kiocb.ki_pos = rw->use_fpos ? file->f_pos : rw->pos;
	if (rw->dir == READ)
		ret = vfs_iocb_iter_read(file, &kiocb, &iter);
	else
		ret = zsync_rw_write_iter(req, &kiocb, &iter);
	if (ret > 0) {
		if (rw->use_fpos)
			file->f_pos = kiocb.ki_pos;
		else
			rw->pos = kiocb.ki_pos;
		/* From the saved state: a failed attempt may have moved @iter. */
		iov_iter_advance(&rw->iter, ret);
	}
	if (lock_pos)
		mutex_unlock(&file->f_pos_lock);
	/* Some filesystems and block devices say so instead of -EAGAIN. */
	if (nowait && ret == -EOPNOTSUPP && !(rw->rwf & RWF_NOWAIT))
		ret = -EAGAIN;
	return ret;
}

/* The CQE result: what the op moved in all, or the error if nothing. */
static s32 zsync_rw_res(const struct zsync_req *req, ssize_t ret)
{
	if (req->rw.done)
		return req->rw.done + max_t(ssize_t, ret, 0);
	return zsync_res_from_syscall(ret);
}

static bool zsync_rw_at_eof(const struct zsync_req *req)
{
	const struct file *file = req->file;
	loff_t pos = req->rw.use_fpos ? READ_ONCE(file->f_pos) : req->rw.pos;

	/* f_mapping->host: the block device's inode, not its /dev node's. */
	return req->rw.dir == READ && pos >= i_size_read(file->f_mapping->host);
}

/*
 * After an attempt at submission moved @ret: whether the op is finished,
 * or must go on elsewhere (-EAGAIN; or part done on a regular file or
 * block device, whose callers expect all of it unless at end of file).
 */
static bool zsync_rw_finished(const struct zsync_req *req, ssize_t ret)
{
	if (req->rw.rwf & RWF_NOWAIT)
		return true;
	if (ret == -EAGAIN)
		return false;
	if (ret <= 0 || !iov_iter_count(&req->rw.iter))
		return true;
	return !zsync_rw_wants_all(req->file) || zsync_rw_at_eof(req);
}

/* A worker makes the blocking call. */
static void zsync_rw_work(struct zsync_req *req, bool cancel)
{
	ssize_t ret = cancel ? -ECANCELED : zsync_rw_transfer(req, false, 0);

	zsync_req_complete_armed(req, cancel ? -ECANCELED : zsync_rw_res(req, ret));
}

static __poll_t zsync_rw_events(const struct zsync_req *req)
{
	return req->rw.dir == READ ? EPOLLIN | EPOLLRDNORM : EPOLLOUT | EPOLLWRNORM;
}

/*
 * A file that may not honour IOCB_NOWAIT (a tty; a pipe on 6.1), in the
 * submitting thread: transfer only while ->poll() says that a blocking call
 * will not wait.  A READ takes what is there, as read(2) does once data has
 * arrived.  A WRITE moves at most PIPE_BUF bytes per attempt, which a pipe
 * reporting EPOLLOUT (a free slot) takes without waiting, and goes on until
 * all is written, as a blocking write(2) does.  If it waits regardless (a
 * racing reader or writer, a background tty write under TOSTOP), it is in
 * this thread's ENTER, and a signal interrupts it: the op then completes
 * with what it moved, or -EINTR, as a read(2) that is not restarted.
 */
static int zsync_rw_retry_ready(struct zsync_req *req)
{
	struct zsync_rw *rw = &req->rw;
	struct file *file = req->file;
	ssize_t ret;

	for (;;) {
		if (file_can_poll(file) &&
		    !(vfs_poll(file, NULL) & (zsync_rw_events(req) | EPOLLERR | EPOLLHUP)))
			return -EAGAIN;
		ret = zsync_rw_transfer(req, false, rw->dir == WRITE ? PIPE_BUF : 0);
		if (ret <= 0 || rw->dir == READ)
			return zsync_rw_res(req, ret);
		rw->done += ret;
		if (!iov_iter_count(&rw->iter))
			return rw->done;
	}
}

/**
 * zsync_rw_retry_may_block() - whether zsync_rw_retry() may wait in @req's file
 * @req: a READ, WRITE, READV or WRITEV armed on its file's wait queues
 *
 * A file that may not honour IOCB_NOWAIT (a tty, a 6.1 pipe) gets a
 * blocking call once poll says ready, and a racing reader or writer can
 * make that call wait.
 *
 * Return: true if a retry of @req may wait.
 */
bool zsync_rw_retry_may_block(const struct zsync_req *req)
{
	return !zsync_rw_nowait_ok(req);
}

/**
 * zsync_rw_retry() - try a transfer again after the file woke us
 * @req: a READ, WRITE, READV or WRITEV waiting with zsync_poll_arm(), in
 *	 its submitting thread (files that are polled are never a worker's)
 *
 * Return: -EAGAIN to keep waiting, or the CQE result.
 */
int zsync_rw_retry(struct zsync_req *req)
{
	ssize_t ret;

	if (!zsync_rw_nowait_ok(req))
		return zsync_rw_retry_ready(req);
	ret = zsync_rw_transfer(req, true, 0);
	return ret == -EAGAIN ? -EAGAIN : zsync_rw_res(req, ret);
}

enum zsync_issue_ret zsync_rw_issue(struct zsync_req *req)
{
	struct zsync_rw *rw = &req->rw;
	struct file *file = req->file;
	ssize_t ret;

	/* With RWF_NOWAIT the caller wants this attempt and nothing else. */
	if ((rw->rwf & RWF_NOWAIT) || zsync_rw_nowait_ok(req)) {
		ret = zsync_rw_transfer(req, true, 0);
		if (zsync_rw_finished(req, ret)) {
			req->res = zsync_rw_res(req, ret);
			return ZSYNC_ISSUE_DONE;
		}
		if (ret > 0)
			rw->done = ret;
	}
	if (zsync_file_worker_ok(file))
		return zsync_punt(req, zsync_rw_work);
	/*
	 * Any other file was pinned to the submitting thread at prep, and
	 * this is that thread (zsync_run_chain() defers pinned requests).
	 */
	if (!zsync_rw_wants_all(file) && file_can_poll(file))
		return zsync_poll_arm(req, zsync_rw_events(req));
	/*
	 * Nothing to wait on: the blocking call, as read(2) makes it, but
	 * not under submit_lock, where a call that waits would hold up every
	 * other submitter of the ring: from submission it runs in this
	 * thread's task work, right after, in the same ENTER.
	 */
	if (req->task && zsync_in_submission(req->ring)) {
		if (!zsync_req_capture_late(req)) {
			req->res = -ECANCELED;
			return ZSYNC_ISSUE_DONE;
		}
		return zsync_task_defer_armed(req, zsync_rw_work);
	}
	ret = zsync_rw_transfer(req, false, 0);
	req->res = zsync_rw_res(req, ret);
	return ZSYNC_ISSUE_DONE;
}

/* ---- FSYNC ------------------------------------------------------------- */

int zsync_fsync_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_fsync *fs = &req->fsync;
	u64 last;

	if (sqe->op_flags & ~ZSYNC_FSYNC_FLAGS_ALL)
		return -EINVAL;
	if (sqe->off > LLONG_MAX)
		return -EINVAL;
	fs->start = sqe->off;
	/* off <= LLONG_MAX and len < 2^32: the sum cannot wrap a u64. */
	last = sqe->off + sqe->len - 1;
	fs->end = (!sqe->len || last > LLONG_MAX) ? LLONG_MAX : last;
	fs->datasync = sqe->op_flags & ZSYNC_FSYNC_DATASYNC;
	return 0;
}

/* The fsync itself, in whichever context may make it. */
static s32 zsync_fsync_now(struct zsync_req *req)
{
	struct zsync_fsync *fs = &req->fsync;

	return zsync_res_from_syscall(vfs_fsync_range(req->file, fs->start, fs->end,
						      fs->datasync));
}

static void zsync_fsync_work(struct zsync_req *req, bool cancel)
{
	zsync_req_complete_armed(req, cancel ? -ECANCELED : zsync_fsync_now(req));
}

/*
 * A regular file or block device: straight to a worker, since it blocks.
 * Any other file's fsync acts for its caller: here, in the submitting
 * thread the request was pinned to at prep.
 */
enum zsync_issue_ret zsync_fsync_issue(struct zsync_req *req)
{
	if (zsync_file_worker_ok(req->file))
		return zsync_punt(req, zsync_fsync_work);
	req->res = zsync_fsync_now(req);
	return ZSYNC_ISSUE_DONE;
}
