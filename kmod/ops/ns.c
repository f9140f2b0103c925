// SPDX-License-Identifier: GPL-2.0
/*
 * Process and namespace ops: PIDFD_WAIT, NS_SOCKET and NS_INFO.
 *
 * PIDFD_WAIT waits on the pidfd's wait queue, which the kernel wakes when
 * the process exits, and reads the exit status the way waitpid(2) would,
 * without reaping: the caller need not be the parent.
 *
 * NS_SOCKET creates a socket inside the network namespace behind an nsfs
 * fd and installs it in the submitter's fd table, without the
 * setns()/socket()/setns() dance (and without the thread ever leaving its
 * own namespace).  Crossing into another namespace takes CAP_NET_ADMIN in
 * the user namespace that owns it, which its owner has.
 *
 * NS_INFO reports what lsns(8) shows of a namespace fd: type, inode
 * number and the owning user namespace.
 */
#include <linux/kernel.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/magic.h>
#include <linux/net.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/proc_ns.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>
#include "zsync.h"
#include "zsync_trace.h"
#include "compat.h"

/* The namespace behind an nsfs file (/proc/PID/ns/...), or NULL. */
static struct ns_common *zsync_nsfs_ns(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (inode->i_sb->s_magic != NSFS_MAGIC)
		return NULL;
	return get_proc_ns(inode);
}

/* ---- PIDFD_WAIT ------------------------------------------------------------ */

/**
 * zsync_pidfd_wait_prep() - prep of PIDFD_WAIT: the pid, and its task for the status
 * @req: the request; req->file is the pidfd
 * @sqe: its SQE
 *
 * Return: 0, -EINVAL (not a pidfd), -ESRCH (not in the submitter's pid
 * namespace) or -ECHILD (already reaped: the status is gone).
 */
int zsync_pidfd_wait_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_pidfd_wait *pw = &req->pidfd_wait;
	struct pid *pid = zsync_pidfd_pid(req->file);

	if (!pid)
		return -EINVAL;
	/* Like PIDFD_GET_INFO: only processes the submitter's pid namespace sees. */
	if (!pid_nr_ns(pid, task_active_pid_ns(current)))
		return -ESRCH;
	/*
	 * Holding the task keeps its exit status (and its signal_struct,
	 * shared by the whole thread group) readable after it is reaped.
	 */
	pw->task = get_pid_task(pid, PIDTYPE_PID);
	if (!pw->task)
		return -ECHILD;
	pw->pid = pid;
	return 0;
}

/**
 * zsync_pidfd_wait_issue() - issue of PIDFD_WAIT: wait on the pidfd
 * @req: the request
 *
 * Return: ZSYNC_ISSUE_ARMED (zsync_poll_arm() completes at once if the
 * process has exited).
 */
enum zsync_issue_ret zsync_pidfd_wait_issue(struct zsync_req *req)
{
	return zsync_poll_arm(req, EPOLLIN);
}

/*
 * The waitpid(2) status of an exited process: the group's code for a
 * group exit (exit_group(), a fatal signal), else the task's own.  Read
 * from the zombie while it exists, else from the task held since prep.
 */
static int zsync_exit_status(struct zsync_pidfd_wait *pw)
{
	struct task_struct *task;
	int status;

	rcu_read_lock();
	task = pid_task(pw->pid, PIDTYPE_PID);
	if (!task)
		task = pw->task;
	if (READ_ONCE(task->signal->flags) & SIGNAL_GROUP_EXIT)
		status = READ_ONCE(task->signal->group_exit_code);
	else
		status = READ_ONCE(task->exit_code);
	rcu_read_unlock();
	return status;
}

/**
 * zsync_pidfd_wait_retry() - retry of PIDFD_WAIT
 * @req: the request, owned by the caller
 *
 * The pidfd polls EPOLLIN once the process (or the thread) has exited.
 *
 * Return: the waitpid(2) status, or -EAGAIN to keep waiting.
 */
int zsync_pidfd_wait_retry(struct zsync_req *req)
{
	int status = -EAGAIN;

	if (vfs_poll(req->file, NULL) & EPOLLIN)
		status = zsync_exit_status(&req->pidfd_wait);
	trace_zsync_op_step(req, ZSYNC_STEP_EXIT, "pidfd", status);
	return status;
}

/**
 * zsync_pidfd_wait_cleanup() - drop the task taken at prep
 * @req: the request being freed
 */
void zsync_pidfd_wait_cleanup(struct zsync_req *req)
{
	if (req->pidfd_wait.task)
		put_task_struct(req->pidfd_wait.task);
}

/* ---- NS_SOCKET ------------------------------------------------------------- */

#define ZSYNC_SOCK_FLAGS	(SOCK_NONBLOCK | SOCK_CLOEXEC)

/*
 * As setns(2) would require, minus CAP_SYS_ADMIN: a socket in a namespace
 * other than the caller's own takes CAP_NET_ADMIN in the user namespace
 * that owns it (its creator holds every capability there).  Creating one
 * in the caller's own namespace is socket(2), which needs nothing.
 */
static bool zsync_may_enter_net(struct net *net)
{
	return net == current->nsproxy->net_ns || ns_capable(net->user_ns, CAP_NET_ADMIN);
}

/**
 * zsync_ns_socket_prep() - prep of NS_SOCKET: the netns, the permission, the arguments
 * @req: the request; req->file is the namespace fd
 * @sqe: its SQE
 *
 * Return: 0, -EINVAL (not a netns fd, unknown type flags, out of range)
 * or -EPERM (no CAP_NET_ADMIN over the namespace's owner).
 */
int zsync_ns_socket_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_ns_socket *ns = &req->ns_socket;
	struct ns_common *nsc = zsync_nsfs_ns(req->file);

	if (!nsc || nsc->ops->type != CLONE_NEWNET)
		return -EINVAL;
	if (sqe->op_flags & ~(SOCK_TYPE_MASK | ZSYNC_SOCK_FLAGS))
		return -EINVAL;
	if (sqe->len > INT_MAX || sqe->off > INT_MAX)
		return -EINVAL;
	ns->net = container_of(nsc, struct net, ns);
	if (!zsync_may_enter_net(ns->net))
		return -EPERM;
	ns->domain = sqe->len;
	ns->type = sqe->op_flags & SOCK_TYPE_MASK;
	ns->flags = sqe->op_flags & ZSYNC_SOCK_FLAGS;
	ns->protocol = sqe->off;
	return 0;
}

/**
 * zsync_ns_socket_issue() - issue of NS_SOCKET: create and install the socket
 * @req: the request, in its submitting thread (ZSYNC_OPF_TASK)
 *
 * socket(2) with another namespace.  A user socket (kern 0): LSMs see it as the submitter's,
 * and it holds its own reference on the namespace.  The nsfs file the
 * request holds keeps the namespace alive until then.
 *
 * Return: ZSYNC_ISSUE_DONE, res the new fd or -errno.
 */
enum zsync_issue_ret zsync_ns_socket_issue(struct zsync_req *req)
{
	struct zsync_ns_socket *ns = &req->ns_socket;
	struct socket *sock;
	struct file *file;
	int fd, ret;

	ret = __sock_create(ns->net, ns->domain, ns->type, ns->protocol, &sock, 0);
	if (ret)
		goto out;
	fd = get_unused_fd_flags(ns->flags & SOCK_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		sock_release(sock);
		ret = fd;
		goto out;
	}
	/* sock_alloc_file() releases the socket when it fails. */
	file = sock_alloc_file(sock, ns->flags & SOCK_NONBLOCK ? O_NONBLOCK : 0, NULL);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto out;
	}
	fd_install(fd, file);
	ret = fd;
out:
	trace_zsync_op_step(req, ZSYNC_STEP_SOCKET, "netns", ret);
	req->res = ret;
	return ZSYNC_ISSUE_DONE;
}

/* ---- NS_INFO --------------------------------------------------------------- */

/*
 * The owner of @ns if the submitter may see it, as NS_GET_USERNS decides:
 * only its own user namespace and those below it.
 */
static struct user_namespace *zsync_ns_owner_visible(struct ns_common *ns)
{
	struct user_namespace *owner = ns->ops->owner(ns), *p;

	for (p = owner; p; p = p->parent)
		if (p == current_user_ns())
			return owner;
	return NULL;
}

/**
 * zsync_ns_info_prep() - prep of NS_INFO: read everything, as the submitter
 * @req: the request; req->file is the namespace fd
 * @sqe: its SQE
 *
 * Issue only copies the answer out.
 *
 * Return: 0, -EINVAL (not a namespace fd) or -EFAULT (no buffer).
 */
int zsync_ns_info_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_ns_info_req *ni = &req->ns_info;
	struct ns_common *ns = zsync_nsfs_ns(req->file);
	struct inode *inode = file_inode(req->file);
	struct user_namespace *owner;

	if (!ns)
		return -EINVAL;
	if (!sqe->addr)
		return -EFAULT;
	memset(&ni->info, 0, sizeof(ni->info));
	ni->info.type = ns->ops->type;
	ni->info.ino = ns->inum;
	owner = zsync_ns_owner_visible(ns);
	if (owner)
		ni->info.owner_ino = owner->ns.inum;
	ni->info.dev_major = MAJOR(inode->i_sb->s_dev);
	ni->info.dev_minor = MINOR(inode->i_sb->s_dev);
	ni->uinfo = u64_to_user_ptr(sqe->addr);
	return 0;
}

/**
 * zsync_ns_info_issue() - issue of NS_INFO: copy the answer to userspace
 * @req: the request (in a worker, with the submitter's mm)
 *
 * Return: ZSYNC_ISSUE_DONE, res 0 or -EFAULT.
 */
enum zsync_issue_ret zsync_ns_info_issue(struct zsync_req *req)
{
	struct zsync_ns_info_req *ni = &req->ns_info;

	req->res = copy_to_user(ni->uinfo, &ni->info, sizeof(ni->info)) ? -EFAULT : 0;
	return ZSYNC_ISSUE_DONE;
}
