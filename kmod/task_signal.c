// SPDX-License-Identifier: GPL-2.0
/*
 * ZSYNC_SETUP_TASK_SIGNAL: deferred work of a thread runs as soon as that
 * thread returns to user space, not at its next ENTER.
 *
 * Work pinned to its submitting thread waits on ring->task_list
 * (worker.c).  By default only that thread's ENTER runs it, which suits a
 * thread that lives in the ring (io_uring's DEFER_TASKRUN).  A thread that
 * blocks elsewhere (epoll_wait, a read, a futex) or computes in user space
 * would not see its CQE until it enters again; with this flag every
 * deferral also queues a task_work on that thread, as io_uring does by
 * default, notified with TWA_SIGNAL so that an interruptible sleep ends.
 *
 * Lifetime: task_work_cancel() is not exported, so a queued callback
 * always runs, at the latest from the thread's exit (exit_task_work()).
 * It therefore holds what it needs itself, not through the request, which
 * a cancel may end first: a reference on the ring's file.  That keeps the
 * ring from being released and, through the file's f_op->owner, the
 * module from being unloaded; the callback's last act is fput(), which in
 * task context only queues the real release (____fput) as one more
 * task_work, so no module code runs after the reference is gone.  The
 * reference is taken only while f_count is not zero: a file already being
 * released is never revived, and its release cancels the work anyway.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include "zsync.h"

struct zsync_task_signal {
	struct callback_head	cb;
	struct file		*file;	/* the ring's, referenced */
};

static void zsync_task_signal_run(struct callback_head *cb)
{
	struct zsync_task_signal *ts = container_of(cb, struct zsync_task_signal, cb);
	struct file *file = ts->file;
	struct zsync_ring *ring = file->private_data;

	kfree(ts);
	/*
	 * An exiting thread runs nothing as itself: the ring's close cancels.
	 * Otherwise only what cannot wait: this runs at an arbitrary return
	 * to user space, where a tty read that a racing reader emptied must
	 * not block the thread (zsync-fuzz: a forked child stuck in n_tty_read).
	 */
	if (!(current->flags & PF_EXITING)) {
		zsync_run_task_work_nonblocking(ring);
		if (READ_ONCE(ring->nr_overflow))
			zsync_flush_overflow(ring);
	}
	fput(file);
}

/**
 * zsync_task_signal() - have @task run its deferred work of @ring soon
 * @ring: a ring set up with ZSYNC_SETUP_TASK_SIGNAL, kept alive by the
 *	  caller (it holds a request of @ring)
 * @task: the thread the work waits for
 *
 * Any context; zsync_task_defer() calls it under ring->task_lock, while
 * the request that holds @task is still on the task list.  Best effort:
 * if memory is short or @task is past the point of running task_work,
 * the work waits for @task's next ENTER, or is cancelled by its exit, as
 * without the flag.
 */
void zsync_task_signal(struct zsync_ring *ring, struct task_struct *task)
{
	struct zsync_task_signal *ts;
	/* Already on its way to user space: no need to interrupt anything. */
	enum task_work_notify_mode how = task == current && in_task() ?
					  TWA_RESUME : TWA_SIGNAL;

	ts = kmalloc(sizeof(*ts), GFP_ATOMIC | __GFP_NOWARN);
	if (!ts)
		return;
	if (!atomic_long_inc_not_zero(&ring->file->f_count)) {
		kfree(ts);
		return;
	}
	ts->file = ring->file;
	init_task_work(&ts->cb, zsync_task_signal_run);
	if (task_work_add(task, &ts->cb, how)) {
		/* @task has exited; fput() may run from any context. */
		fput(ts->file);
		kfree(ts);
	}
}
