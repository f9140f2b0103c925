// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup v2 ops: CGROUP_ATTACH, CGROUP_SET, CGROUP_FREEZE, CGROUP_THAW,
 * CGROUP_KILL and CGROUP_WAIT.  Each takes a directory of a cgroup2 mount.
 *
 * The module never moves a task or sets a limit itself: it writes the
 * cgroup's own files (cgroup.procs, memory.max, cgroup.freeze, ...), opened
 * relative to that directory by the submitter, so every check the kernel
 * makes on write(2) applies: the opener's credentials (delegation), its
 * cgroup namespace (recorded by cgroupfs at open), and, for cgroup.procs,
 * the pid namespace of the writing task.
 *
 *  - CGROUP_SET and CGROUP_ATTACH are ZSYNC_OPF_TASK ops: they open and
 *    write the knob in the submitting thread, which is what write(2) by the
 *    submitter would do.  Pids written to cgroup.procs are looked up in the
 *    writer's pid namespace, and "0" means the writer itself, so no worker
 *    could do it for them.  Opening at issue rather than prep lets a chain
 *    set a controller's knob right after enabling the controller.
 *  - FREEZE, THAW, KILL and WAIT open their files at prep, in the
 *    submitter, and then only write a fixed value and read cgroup.events.
 *    cgroupfs still judges those writes by the writer's cgroup namespace
 *    (nsdelegate), so they too run only in the submitting thread: their
 *    directory is not a file a worker may act on (zsync_file_worker_ok()),
 *    which pins them there at prep, retries included.  They wait on
 *    cgroup.events with zsync_poll_arm(): cgroupfs wakes its pollers
 *    (EPOLLPRI) whenever populated or frozen changes, and the retry reads
 *    the file again to see what changed.  FREEZE, THAW and KILL end in
 *    that wakeup itself when the cgroup's state (what cgroup.events would
 *    read) is the one they wait for, as poll(2) then read(2) would learn,
 *    but without a trip through the submitting thread.
 */
#include <linux/kernel.h>
#include <linux/cgroup.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/kernfs.h>
#include <linux/limits.h>
#include <linux/magic.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "zsync.h"
#include "zsync_trace.h"
#include "compat.h"

/* A knob value is written in one write(2); cgroupfs takes at most a page. */
#define ZSYNC_CGROUP_VALUE_MAX	PAGE_SIZE

/* "populated N\nfrozen N\n" with room for lines later kernels may add. */
#define ZSYNC_CGROUP_EVENTS_MAX	128

/* A directory of a cgroup2 mount, or -EINVAL. */
static int zsync_cgroup_dir_check(struct file *dir)
{
	struct inode *inode = file_inode(dir);

	if (!S_ISDIR(inode->i_mode) || inode->i_sb->s_magic != CGROUP2_SUPER_MAGIC)
		return -EINVAL;
	return 0;
}

/* One file name inside the cgroup directory, never a path out of it. */
static int zsync_cgroup_name_check(const char *name)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

/*
 * Opens @name in @dir with the current task's credentials and namespaces;
 * the path walk checks search permission on @dir, the open the file's mode.
 */
static struct file *zsync_cgroup_open(struct file *dir, const char *name, int flags)
{
	return file_open_root(&dir->f_path, name, flags | O_NOFOLLOW, 0);
}

/* One write(2) of @len bytes at offset 0.  Returns bytes written or -errno. */
static ssize_t zsync_cgroup_write(struct file *knob, const void *buf, size_t len)
{
	loff_t pos = 0;

	return kernel_write(knob, buf, len, &pos);
}

/* Opens, writes and closes @name in @dir: echo VALUE > NAME, in the kernel. */
static ssize_t zsync_cgroup_write_knob(struct file *dir, const char *name,
				       const void *buf, size_t len)
{
	struct file *knob = zsync_cgroup_open(dir, name, O_WRONLY);
	ssize_t ret;

	if (IS_ERR(knob))
		return PTR_ERR(knob);
	ret = zsync_cgroup_write(knob, buf, len);
	fput(knob);
	return ret;
}

/* ---- CGROUP_SET ---------------------------------------------------------- */

/**
 * zsync_cgroup_set_prep() - prep of CGROUP_SET: copy the knob name and value
 * @req: the request; req->file is the cgroup directory
 * @sqe: its SQE
 *
 * Return: 0, or -EINVAL (not a cgroup2 directory, bad name or length),
 * -EFAULT, -ENOMEM.
 */
int zsync_cgroup_set_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_cgroup_set *set = &req->cg_set;
	int ret = zsync_cgroup_dir_check(req->file);

	if (ret)
		return ret;
	if (!sqe->len || sqe->len > ZSYNC_CGROUP_VALUE_MAX)
		return -EINVAL;
	set->knob = strndup_user(u64_to_user_ptr(sqe->addr), NAME_MAX + 1);
	if (IS_ERR(set->knob)) {
		ret = PTR_ERR(set->knob);
		set->knob = NULL;
		return ret;
	}
	ret = zsync_cgroup_name_check(set->knob);
	if (ret)
		return ret;
	set->value = memdup_user(u64_to_user_ptr(sqe->addr2), sqe->len);
	if (IS_ERR(set->value)) {
		ret = PTR_ERR(set->value);
		set->value = NULL;
		return ret;
	}
	set->len = sqe->len;
	return 0;
}

/**
 * zsync_cgroup_set_issue() - issue of CGROUP_SET: open the knob and write it
 * @req: the request, in its submitting thread (ZSYNC_OPF_TASK)
 *
 * Return: ZSYNC_ISSUE_DONE, res the bytes written or write(2)'s error.
 */
enum zsync_issue_ret zsync_cgroup_set_issue(struct zsync_req *req)
{
	struct zsync_cgroup_set *set = &req->cg_set;

	req->res = zsync_cgroup_write_knob(req->file, set->knob, set->value, set->len);
	trace_zsync_op_step(req, ZSYNC_STEP_WRITE, set->knob, req->res);
	return ZSYNC_ISSUE_DONE;
}

/**
 * zsync_cgroup_set_cleanup() - free what zsync_cgroup_set_prep() copied
 * @req: the request being freed
 */
void zsync_cgroup_set_cleanup(struct zsync_req *req)
{
	kfree(req->cg_set.knob);
	kfree(req->cg_set.value);
}

/* ---- CGROUP_ATTACH ------------------------------------------------------- */

/* Takes the process behind @pidfd; a thread's pidfd is refused. */
static int zsync_cgroup_attach_pidfd(struct zsync_cgroup_attach *at, int pidfd)
{
	struct task_struct *task;
	struct file *file;
	struct pid *pid;
	int ret = 0;

	file = pidfd >= 0 ? fget(pidfd) : NULL;
	if (!file)
		return -EBADF;
	pid = zsync_pidfd_pid(file);
	if (!pid) {
		ret = -EINVAL;
	} else {
		/* cgroup.procs moves processes: a thread pidfd (6.9+) would be ambiguous. */
		rcu_read_lock();
		task = pid_task(pid, PIDTYPE_PID);
		if (task && !thread_group_leader(task))
			ret = -EINVAL;
		rcu_read_unlock();
		if (!ret)
			at->pid = get_pid(pid);
	}
	fput(file);
	return ret;
}

/**
 * zsync_cgroup_attach_prep() - prep of CGROUP_ATTACH: the pid, or the pidfd's process
 * @req: the request; req->file is the cgroup directory
 * @sqe: its SQE
 *
 * Return: 0, -EINVAL (bad directory, flags, pid, or not a process pidfd)
 * or -EBADF (pidfd not open).
 */
int zsync_cgroup_attach_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_cgroup_attach *at = &req->cg_attach;
	int ret;

	if (sqe->op_flags & ~ZSYNC_CGROUP_ATTACH_FLAGS_ALL)
		return -EINVAL;
	ret = zsync_cgroup_dir_check(req->file);
	if (ret)
		return ret;
	if (sqe->op_flags & ZSYNC_CGROUP_ATTACH_PIDFD)
		return zsync_cgroup_attach_pidfd(at, (int)sqe->len);
	if (sqe->len > PID_MAX_LIMIT)
		return -EINVAL;
	at->nr = sqe->len;
	return 0;
}

/*
 * The number of @pid's process in the current task's pid namespace, or 0
 * if the process has exited or is exiting, or cannot be seen from there.
 * A number is only reused once its process is reaped, so while this is
 * not 0 it names @pid's process and no other.
 */
static pid_t zsync_pid_live_vnr(struct pid *pid)
{
	struct task_struct *task;
	pid_t nr = 0;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (task && !(READ_ONCE(task->signal->flags) & SIGNAL_GROUP_EXIT) &&
	    !((READ_ONCE(task->flags) & PF_EXITING) && thread_group_empty(task)))
		nr = pid_vnr(pid);
	rcu_read_unlock();
	return nr;
}

/**
 * zsync_cgroup_attach_issue() - issue of CGROUP_ATTACH: echo PID > cgroup.procs
 * @req: the request, in its submitting thread (ZSYNC_OPF_TASK)
 *
 * By pidfd, the number is taken just before the write while the process is
 * alive, so a process that exited earlier is never confused with a newer
 * one that got its number: -ESRCH.  cgroupfs offers no attach by pidfd, so
 * a process that exits, is reaped and sees its number reused during the
 * write itself cannot be told apart; if it is gone after the write the op
 * still reports -ESRCH.
 *
 * Return: ZSYNC_ISSUE_DONE, res 0 or -errno.
 */
enum zsync_issue_ret zsync_cgroup_attach_issue(struct zsync_req *req)
{
	struct zsync_cgroup_attach *at = &req->cg_attach;
	pid_t nr = at->nr;
	char buf[16];
	ssize_t ret;

	if (at->pid) {
		nr = zsync_pid_live_vnr(at->pid);
		trace_zsync_op_step(req, ZSYNC_STEP_PID, "pidfd", nr ?: -ESRCH);
		if (!nr) {
			req->res = -ESRCH;
			return ZSYNC_ISSUE_DONE;
		}
	}
	ret = zsync_cgroup_write_knob(req->file, "cgroup.procs", buf,
				      scnprintf(buf, sizeof(buf), "%d\n", nr));
	trace_zsync_op_step(req, ZSYNC_STEP_WRITE, "cgroup.procs", ret);
	if (ret >= 0 && at->pid && !zsync_pid_live_vnr(at->pid))
		ret = -ESRCH;
	req->res = ret < 0 ? ret : 0;
	return ZSYNC_ISSUE_DONE;
}

/**
 * zsync_cgroup_attach_cleanup() - drop the pidfd's pid taken at prep
 * @req: the request being freed
 */
void zsync_cgroup_attach_cleanup(struct zsync_req *req)
{
	put_pid(req->cg_attach.pid);
}

/* ---- waiting on cgroup.events --------------------------------------------- */

/* "populated N\nfrozen N\n" (NUL-terminated, modified) -> ZSYNC_CGROUP_* or -EIO. */
static int zsync_cgroup_parse_events(char *buf)
{
	u32 state = 0, seen = 0, bit;
	char *line, *val;
	int v;

	while ((line = strsep(&buf, "\n"))) {
		val = strchr(line, ' ');
		if (!val)
			continue;
		*val++ = '\0';
		if (!strcmp(line, "populated"))
			bit = ZSYNC_CGROUP_POPULATED;
		else if (!strcmp(line, "frozen"))
			bit = ZSYNC_CGROUP_FROZEN;
		else
			continue;
		if (kstrtoint(val, 10, &v) || v < 0 || v > 1)
			return -EIO;
		seen |= bit;
		if (v)
			state |= bit;
	}
	return seen == ZSYNC_CGROUP_STATE_ALL ? state : -EIO;
}

/*
 * Reads @events (cgroup.events) from the start.  Reading also resets the
 * file's poll state: only a change after this read makes it poll EPOLLPRI.
 * Returns the ZSYNC_CGROUP_* state, or -errno (-ENODEV: cgroup removed).
 */
static int zsync_cgroup_read_state(struct file *events)
{
	char buf[ZSYNC_CGROUP_EVENTS_MAX];
	loff_t pos = 0;
	ssize_t n;

	n = kernel_read(events, buf, sizeof(buf) - 1, &pos);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return zsync_cgroup_parse_events(buf);
}

/* zsync_cgroup_read_state() of @req's cgroup.events, traced. */
static int zsync_cgroup_req_state(struct zsync_req *req)
{
	int state = zsync_cgroup_read_state(req->file);

	trace_zsync_op_step(req, ZSYNC_STEP_STATE, "cgroup.events", state);
	return state;
}

/*
 * A control file of a cgroup2 mount named @name and open with @mode:
 * 0, -EINVAL (another file) or -EBADF (not open that way).  cgroup2
 * files are never renamed, but the name is read as a snapshot anyway.
 */
static int zsync_cgroup_file_check(struct file *file, const char *name, fmode_t mode)
{
	struct inode *inode = file_inode(file);
	struct name_snapshot n;
	bool named;

	if (inode->i_sb->s_magic != CGROUP2_SUPER_MAGIC || !S_ISREG(inode->i_mode))
		return -EINVAL;
	take_dentry_name_snapshot(&n, file->f_path.dentry);
	named = !strcmp(n.name.name, name);
	release_dentry_name_snapshot(&n);
	if (!named)
		return -EINVAL;
	return (file->f_mode & mode) == mode ? 0 : -EBADF;
}

/*
 * A reference to the cgroup whose directory is @dir, or NULL if it is
 * being removed.  A cgroupfs inode's i_private is its kernfs node and a
 * directory node's priv its cgroup, under RCU (what the kernel's own
 * css_tryget_online_from_dir() reads; that one is not exported).
 */
static struct cgroup *zsync_cgroup_get_of_dir(struct dentry *dir)
{
	struct kernfs_node *kn = d_inode(dir)->i_private;
	struct cgroup *cgrp;

	if (!kn || kernfs_type(kn) != KERNFS_DIR)
		return NULL;
	rcu_read_lock();
	cgrp = rcu_dereference(*(void __rcu __force **)&kn->priv);
	if (cgrp && !css_tryget_online(&cgrp->self))
		cgrp = NULL;
	rcu_read_unlock();
	return cgrp;
}

/*
 * The ZSYNC_CGROUP_* state of @cgrp, read as cgroup_events_show() reads it
 * for cgroup.events: lockless, and ordered before the notification that
 * woke us by the locks and work queue between the change and the wakeup.
 */
static u32 zsync_cgroup_state_now(struct cgroup *cgrp)
{
	u32 state = 0;

	if (cgroup_is_populated(cgrp))
		state |= ZSYNC_CGROUP_POPULATED;
	if (test_bit(CGRP_FROZEN, &cgrp->flags))
		state |= ZSYNC_CGROUP_FROZEN;
	return state;
}

/*
 * ZSYNC_CGROUP_FILES: req->file is the cgroup.events the submitter holds
 * open, and @knob_fd (unless @knob_name is NULL) its @knob_name, from the
 * same directory.  Nothing is opened: a manager that keeps these files
 * open pays no path walk and no kernfs open per op, as with write(2).
 */
static int zsync_cgroup_files_prep(struct zsync_req *req, u32 knob_fd, const char *knob_name)
{
	struct zsync_cgroup_wait *w = &req->cg_wait;
	int ret = zsync_cgroup_file_check(req->file, "cgroup.events", FMODE_READ);
	struct dentry *dir, *knob_dir;

	if (ret || !knob_name)
		return ret;
	/* In the submitter, at prep: its fd table.  cleanup() puts it. */
	w->knob = fget(knob_fd);
	if (!w->knob)
		return -EBADF;
	ret = zsync_cgroup_file_check(w->knob, knob_name, FMODE_WRITE);
	if (ret)
		return ret;
	/* Both files of one directory: of one cgroup. */
	dir = dget_parent(req->file->f_path.dentry);
	knob_dir = dget_parent(w->knob->f_path.dentry);
	if (dir == knob_dir)
		w->cgrp = zsync_cgroup_get_of_dir(dir);
	else
		ret = -EINVAL;
	dput(knob_dir);
	dput(dir);
	return ret;
}

/*
 * Opens cgroup.events, which the request then waits on in place of the
 * directory, and @knob_name (NULL: none) for writing.  At prep, in the
 * submitter, so cgroupfs records its credentials and cgroup namespace.
 * With ZSYNC_CGROUP_FILES the submitter's open files are used instead.
 */
static int zsync_cgroup_events_prep(struct zsync_req *req, const struct zsync_sqe *sqe,
				    const char *knob_name, u32 mask, u32 want)
{
	struct zsync_cgroup_wait *w = &req->cg_wait;
	struct file *events;
	int ret;

	w->mask = mask;
	w->want = want;
	if (sqe->op_flags & ~ZSYNC_CGROUP_FILES_FLAGS_ALL)
		return -EINVAL;
	if (sqe->op_flags & ZSYNC_CGROUP_FILES)
		return zsync_cgroup_files_prep(req, sqe->len, knob_name);
	/* Without a knob (WAIT), len is the mask; with one, it is unused. */
	if (knob_name && sqe->len)
		return -EINVAL;
	ret = zsync_cgroup_dir_check(req->file);
	if (ret)
		return ret;
	if (knob_name) {
		w->knob = zsync_cgroup_open(req->file, knob_name, O_WRONLY);
		if (IS_ERR(w->knob)) {
			ret = PTR_ERR(w->knob);
			w->knob = NULL;
			return ret;
		}
		w->cgrp = zsync_cgroup_get_of_dir(req->file->f_path.dentry);
	}
	events = zsync_cgroup_open(req->file, "cgroup.events", O_RDONLY);
	if (IS_ERR(events))
		return PTR_ERR(events);
	/* req->fd still names the directory, for ZSYNC_CANCEL_FD. */
	fput(req->file);
	req->file = events;
	return 0;
}

/**
 * zsync_cgroup_state_retry() - retry of FREEZE, THAW and KILL: read cgroup.events
 * @req: the request, owned by the caller
 *
 * Return: 0 once the watched bits read as wanted, -EAGAIN to keep
 * waiting, or -errno (-ENODEV: the cgroup was removed).
 */
int zsync_cgroup_state_retry(struct zsync_req *req)
{
	struct zsync_cgroup_wait *w = &req->cg_wait;
	int state = zsync_cgroup_req_state(req);

	if (state < 0)
		return state;
	return (state & w->mask) == w->want ? 0 : -EAGAIN;
}

/**
 * zsync_cgroup_wait_issue() - issue of CGROUP_WAIT, and the wait of the others
 * @req: the request
 *
 * Checks the state once, then waits for cgroup.events to change.  A change
 * between the read and the arming leaves the file polling EPOLLPRI, so
 * zsync_poll_arm() retries at once: nothing is missed.
 *
 * Return: ZSYNC_ISSUE_DONE with res, or ZSYNC_ISSUE_ARMED.
 */
enum zsync_issue_ret zsync_cgroup_wait_issue(struct zsync_req *req)
{
	int ret = req->def->retry(req);

	if (ret != -EAGAIN) {
		req->res = ret;
		return ZSYNC_ISSUE_DONE;
	}
	return zsync_poll_arm(req, EPOLLPRI);
}

/**
 * zsync_cgroup_wait_cleanup() - close the control file opened at prep
 * @req: the request being freed (req->file, cgroup.events, is closed for it)
 */
void zsync_cgroup_wait_cleanup(struct zsync_req *req)
{
	if (req->cg_wait.knob)
		fput(req->cg_wait.knob);
	if (req->cg_wait.cgrp)
		cgroup_put(req->cg_wait.cgrp);
}

/* ---- CGROUP_FREEZE, CGROUP_THAW, CGROUP_KILL ------------------------------ */

/**
 * zsync_cgroup_control_prep() - prep of FREEZE, THAW and KILL: open their files
 * @req: the request; req->file is the cgroup directory, or its
 *	 cgroup.events with ZSYNC_CGROUP_FILES
 * @sqe: its SQE
 *
 * Return: 0, -EINVAL (not a cgroup2 directory, not the files named, or
 * not of one cgroup; bad op_flags), -EBADF (the knob fd is not open, or
 * not for writing), or the open's error.
 */
int zsync_cgroup_control_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	switch (req->opcode) {
	case ZSYNC_OP_CGROUP_FREEZE:
		return zsync_cgroup_events_prep(req, sqe, "cgroup.freeze", ZSYNC_CGROUP_FROZEN,
						ZSYNC_CGROUP_FROZEN);
	case ZSYNC_OP_CGROUP_THAW:
		return zsync_cgroup_events_prep(req, sqe, "cgroup.freeze", ZSYNC_CGROUP_FROZEN, 0);
	default:
		return zsync_cgroup_events_prep(req, sqe, "cgroup.kill", ZSYNC_CGROUP_POPULATED, 0);
	}
}

/*
 * Whether the cgroup FREEZE, THAW or KILL held at prep is already in the
 * state it waits for (a thaw always is after its write, a freeze often
 * is): read from the cgroup, which costs no read of cgroup.events.  Not
 * reading leaves the file's poll state as it was: if the op must wait
 * after all, its first retry reads the file, as it always did.
 */
static bool zsync_cgroup_control_done(struct zsync_req *req)
{
	struct zsync_cgroup_wait *w = &req->cg_wait;
	u32 state;

	if (!w->cgrp)
		return false;
	state = zsync_cgroup_state_now(w->cgrp);
	trace_zsync_op_step(req, ZSYNC_STEP_STATE, "cgroup", state);
	return (state & w->mask) == w->want;
}

/**
 * zsync_cgroup_control_issue() - issue of FREEZE, THAW and KILL
 * @req: the request
 *
 * Writes "1" (FREEZE, KILL) or "0" (THAW), then waits for the state.
 *
 * Return: ZSYNC_ISSUE_DONE with the write's error, or as
 * zsync_cgroup_wait_issue().
 */
enum zsync_issue_ret zsync_cgroup_control_issue(struct zsync_req *req)
{
	const char *val = req->opcode == ZSYNC_OP_CGROUP_THAW ? "0" : "1";
	ssize_t ret = zsync_cgroup_write(req->cg_wait.knob, val, 1);

	trace_zsync_op_step(req, ZSYNC_STEP_WRITE,
			    req->opcode == ZSYNC_OP_CGROUP_KILL ? "cgroup.kill" : "cgroup.freeze", ret);

	if (ret < 0 || zsync_cgroup_control_done(req)) {
		req->res = ret < 0 ? ret : 0;
		return ZSYNC_ISSUE_DONE;
	}
	return zsync_cgroup_wait_issue(req);
}

/**
 * zsync_cgroup_control_wake() - poll_wake() of FREEZE, THAW and KILL
 * @req: the request, owned by this wakeup callback
 * @e: its one wait-queue entry (on cgroup.events), whose head lock is held
 * @mask: the wakeup's key (cgroupfs wakes with none)
 *
 * Any context, called under cgroupfs' locks: reads the cgroup's state
 * directly and, if it is the one the op waits for, completes the request
 * here, so the waiter learns it from this one wakeup.  Otherwise it stays
 * armed for the next change.  What this cannot decide (no cgroup held, a
 * second queue) goes to the usual retry in the submitting thread.
 */
void zsync_cgroup_control_wake(struct zsync_req *req, struct zsync_poll_entry *e,
			       __poll_t mask)
{
	if (!req->cg_wait.cgrp || req->poll.nr_entries != 1) {
		zsync_poll_schedule(req);
		return;
	}
	if (zsync_cgroup_control_done(req))
		zsync_poll_finish_in_wakeup(req, e, 0);
	else if (!zsync_poll_release(req))
		zsync_poll_finish_in_wakeup(req, e, -ECANCELED);
}

/* ---- CGROUP_WAIT ---------------------------------------------------------- */

/**
 * zsync_cgroup_wait_prep() - prep of CGROUP_WAIT: the mask, cgroup.events, the CQE pool
 * @req: the request; req->file is the cgroup directory, or its
 *	 cgroup.events with ZSYNC_CGROUP_FILES
 * @sqe: its SQE
 *
 * Return: 0, -EINVAL (bad mask, directory or file; bad op_flags),
 * -EBADF (cgroup.events not open for reading), the open's error, -ENOMEM.
 */
int zsync_cgroup_wait_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	int ret;

	if (!sqe->len || sqe->len & ~ZSYNC_CGROUP_STATE_ALL)
		return -EINVAL;
	ret = zsync_cgroup_events_prep(req, sqe, NULL, sqe->len, 0);
	if (ret)
		return ret;
	return zsync_req_alloc_ovf_pool(req, zsync_multishot_backlog);
}

/**
 * zsync_cgroup_wait_retry() - retry of CGROUP_WAIT: post the state if it changed
 * @req: the request, owned by the caller (so ->last needs no lock)
 *
 * One CQE for the first state, then one per change of a watched bit.
 *
 * Return: -EAGAIN to keep waiting, or the terminal -errno.
 */
int zsync_cgroup_wait_retry(struct zsync_req *req)
{
	struct zsync_cgroup_wait *w = &req->cg_wait;
	int state = zsync_cgroup_req_state(req);

	if (state < 0)
		return state;
	if (w->posted && !((state ^ w->last) & w->mask))
		return -EAGAIN;
	if (!zsync_req_post_more(req, state, 0))
		return -EOVERFLOW;
	w->posted = true;
	w->last = state;
	return -EAGAIN;
}
