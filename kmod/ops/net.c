// SPDX-License-Identifier: GPL-2.0
/*
 * Network ops: ACCEPT, CONNECT, SEND, RECV, SENDMSG, RECVMSG, SHUTDOWN.
 *
 * Each op first runs at submission, without blocking, as the submitter.
 * A socket that is not ready (-EAGAIN) gets the request armed on its wait
 * queue (zsync_poll_arm()); the wakeup runs the op again (retry), until it
 * completes.  Unless the user asked for MSG_DONTWAIT, the socket's own
 * O_NONBLOCK does not matter: the ring is how the caller waits.
 *
 * Where a retry runs: AF_INET and AF_INET6 sockets use nothing of the
 * calling thread but its credentials and memory, so their retries run in
 * a worker that borrows both.  Other families record or use the calling
 * thread itself (AF_UNIX: the sender's pid for SO_PASSCRED and
 * SCM_CREDENTIALS, path lookup in its root; SCM_RIGHTS: its fd table), and
 * so do control messages: such requests are pinned to the submitting
 * thread (zsync_req_pin_task()), where their retries run.  ACCEPT installs
 * an fd in that thread's table: it always runs there (ZSYNC_OPF_TASK).
 *
 * Everything the ops read from userspace besides the data buffers is
 * copied at submission: the msghdr, its iovec array, the destination
 * address and the control data of SENDMSG.  RECVMSG writes its results
 * (msg_namelen, msg_controllen, msg_flags, the address, the control
 * messages) back into the caller's msghdr and buffers when it completes,
 * as recvmsg(2) does.
 */
#include <linux/kernel.h>
#include <linux/compat.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>
#include "compat.h"
#include "zsync.h"

/* MSG_* flags each op accepts; everything else is -EINVAL. */
#define ZSYNC_SEND_FLAGS	(MSG_OOB | MSG_DONTROUTE | MSG_DONTWAIT | MSG_EOR | \
				 MSG_MORE | MSG_NOSIGNAL | MSG_CONFIRM | MSG_WAITALL)
#define ZSYNC_RECV_FLAGS	(MSG_OOB | MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL)
#define ZSYNC_RECVMSG_FLAGS	(ZSYNC_RECV_FLAGS | MSG_ERRQUEUE | MSG_CMSG_CLOEXEC)

/* The largest SENDMSG control buffer copied at submission. */
#define ZSYNC_MSG_CONTROL_MAX	(64 * 1024)

/* Whether ops on @sock depend on the calling thread beyond creds and mm. */
static bool zsync_sock_needs_thread(const struct socket *sock)
{
	int family = sock->sk->sk_family;

	return family != AF_INET && family != AF_INET6;
}

/*
 * Common prep: req->file must be a socket; pins @req to the submitting
 * thread if the socket's family needs it.
 */
static int zsync_net_prep_sock(struct zsync_req *req)
{
	struct socket *sock = sock_from_file(req->file);

	if (!sock)
		return -ENOTSOCK;
	if (zsync_sock_needs_thread(sock))
		zsync_req_pin_task(req);
	return 0;
}

/*
 * Writes an address out as move_addr_to_user() does: what fits in @room
 * bytes at @uaddr, and the untruncated length @klen at @ulen.
 */
static int zsync_put_sockaddr(const struct sockaddr_storage *kaddr, int klen,
			      void __user *uaddr, int room, int __user *ulen)
{
	if (copy_to_user(uaddr, kaddr, min(room, klen)))
		return -EFAULT;
	return put_user(klen, ulen);
}

/*
 * Whether an op that moved some bytes goes on until it has moved them all:
 * MSG_WAITALL on a stream socket, as a blocking call would (never while
 * peeking, which would copy the same bytes again).
 */
static bool zsync_net_waits_all(const struct zsync_req *req, u32 msg_flags)
{
	if ((msg_flags & (MSG_WAITALL | MSG_DONTWAIT | MSG_PEEK)) != MSG_WAITALL)
		return false;
	return sock_from_file(req->file)->type == SOCK_STREAM;
}

/*
 * Accounts one attempt that moved @ret bytes of @len (or failed with @ret),
 * with *@done moved by the attempts before.  Returns -EAGAIN while the op
 * must go on, else its result: everything moved, or the error if nothing
 * was (as send(2) and recv(2) report a partial transfer).
 */
static int zsync_net_account(const struct zsync_req *req, u32 msg_flags,
			     u32 *done, u32 len, int ret)
{
	if (ret == -EAGAIN)
		return -EAGAIN;
	if (ret < 0)
		return *done ? *done : ret;
	*done += ret;
	if (ret && *done < len && zsync_net_waits_all(req, msg_flags))
		return -EAGAIN;
	return *done;
}

/*
 * Runs one attempt of a transfer after another until the op is done or
 * the socket has nothing for it right now (-EAGAIN: only then may it wait
 * for a wakeup).  A partial transfer that must go on (MSG_WAITALL) tries
 * again at once: what ended that attempt early, such as the end of the
 * stream, may already have been signalled, and no wakeup would follow.
 */
static int zsync_net_transfer(struct zsync_req *req, u32 msg_flags, u32 *done, u32 len,
			      int (*once)(struct zsync_req *req))
{
	int ret, res;

	do {
		ret = once(req);
		res = zsync_net_account(req, msg_flags, done, len, ret);
	} while (res == -EAGAIN && ret > 0);
	return res;
}

/*
 * Issue of every net op that waits for readiness: runs it once now and,
 * unless that finished it or the user asked for MSG_DONTWAIT, waits for
 * @events on its socket and runs it again after each wakeup.
 */
static enum zsync_issue_ret zsync_net_issue(struct zsync_req *req, u32 msg_flags,
					    __poll_t events)
{
	int res = req->def->retry(req);

	if (res == -EAGAIN && !(msg_flags & MSG_DONTWAIT))
		return zsync_poll_arm(req, events);
	req->res = res;
	return ZSYNC_ISSUE_DONE;
}

/* What a receive waits for: urgent data, queued errors, or data. */
static __poll_t zsync_recv_events(u32 msg_flags)
{
	if (msg_flags & MSG_OOB)
		return EPOLLPRI;
	if (msg_flags & MSG_ERRQUEUE)
		return EPOLLERR;
	return EPOLLIN;
}

/*
 * The flags of one send attempt: never blocking, never raising SIGPIPE
 * (in a worker it would hit the worker; -EPIPE is in the CQE), and
 * MSG_WAITALL is ours, not the protocol's.
 */
static u32 zsync_send_flags(u32 msg_flags)
{
	return (msg_flags & ~MSG_WAITALL) | MSG_DONTWAIT | MSG_NOSIGNAL;
}

/* ---- SEND, RECV ---------------------------------------------------------- */

static int zsync_sr_prep(struct zsync_req *req, const struct zsync_sqe *sqe, u32 allowed)
{
	struct zsync_sr *sr = &req->sr;
	int ret;

	if (sqe->op_flags & ~allowed)
		return -EINVAL;
	ret = zsync_net_prep_sock(req);
	if (ret)
		return ret;
	sr->buf = u64_to_user_ptr(sqe->addr);
	sr->len = min_t(u32, sqe->len, MAX_RW_COUNT);
	sr->msg_flags = sqe->op_flags;
	if (!access_ok(sr->buf, sr->len))
		return -EFAULT;
	return 0;
}

int zsync_send_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	return zsync_sr_prep(req, sqe, ZSYNC_SEND_FLAGS);
}

int zsync_recv_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	return zsync_sr_prep(req, sqe, ZSYNC_RECV_FLAGS);
}

/* One attempt on the part of the buffer not yet done. */
static int zsync_sr_once(struct zsync_req *req, unsigned int dir)
{
	struct socket *sock = sock_from_file(req->file);
	struct zsync_sr *sr = &req->sr;
	struct msghdr msg = {};

	iov_iter_ubuf(&msg.msg_iter, dir, sr->buf + sr->done, sr->len - sr->done);
	if (dir == ITER_DEST)
		return sock_recvmsg(sock, &msg, sr->msg_flags | MSG_DONTWAIT);
	msg.msg_flags = zsync_send_flags(sr->msg_flags);
	return sock_sendmsg(sock, &msg);
}

static int zsync_send_once(struct zsync_req *req)
{
	return zsync_sr_once(req, ITER_SOURCE);
}

static int zsync_recv_once(struct zsync_req *req)
{
	return zsync_sr_once(req, ITER_DEST);
}

int zsync_send_retry(struct zsync_req *req)
{
	struct zsync_sr *sr = &req->sr;

	return zsync_net_transfer(req, sr->msg_flags, &sr->done, sr->len, zsync_send_once);
}

int zsync_recv_retry(struct zsync_req *req)
{
	struct zsync_sr *sr = &req->sr;

	return zsync_net_transfer(req, sr->msg_flags, &sr->done, sr->len, zsync_recv_once);
}

enum zsync_issue_ret zsync_send_issue(struct zsync_req *req)
{
	return zsync_net_issue(req, req->sr.msg_flags, EPOLLOUT);
}

enum zsync_issue_ret zsync_recv_issue(struct zsync_req *req)
{
	return zsync_net_issue(req, req->sr.msg_flags, zsync_recv_events(req->sr.msg_flags));
}

/* ---- SENDMSG, RECVMSG ---------------------------------------------------- */

/*
 * The kernel side of a SENDMSG or RECVMSG, allocated at prep and kept
 * across attempts: the iterator and the control pointer advance with what
 * is done.
 */
struct zsync_msg_io {
	struct msghdr		msg;
	struct sockaddr_storage	addr;		/* SENDMSG: destination; RECVMSG: source */
	struct iovec		fast_iov[UIO_FASTIOV];
	struct iovec		*iov;		/* import_iovec()'s allocation, or NULL */
	void			*control;	/* SENDMSG: kernel copy of the control data */
	struct user_msghdr __user *umsg;	/* RECVMSG: gets the results */
	void __user		*uname;		/* RECVMSG: gets the source address */
	void __user		*ucontrol;	/* RECVMSG: start of the control buffer */
	int			name_room;	/* RECVMSG: msg_namelen at submission */
	u32			len;		/* bytes the iovecs hold */
	u32			done;
	u32			msg_flags;	/* sqe->op_flags */
	u32			out_flags;	/* RECVMSG: MSG_* reported so far */
};

void zsync_msg_cleanup(struct zsync_req *req)
{
	struct zsync_msg_io *io = req->msgio;

	if (!io)
		return;
	kfree(io->iov);
	kfree(io->control);
	kfree(io);
}

/* Copies the iovec array and sets up the iterator over the buffers. */
static int zsync_msg_import_iov(struct zsync_msg_io *io, const struct user_msghdr *m,
				unsigned int dir)
{
	struct iovec *iov = io->fast_iov;
	ssize_t ret;

	if (m->msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	ret = import_iovec(dir, m->msg_iov, m->msg_iovlen, ARRAY_SIZE(io->fast_iov),
			   &iov, &io->msg.msg_iter);
	if (ret < 0)
		return ret;
	io->iov = iov;		/* NULL when fast_iov was enough */
	io->len = ret;
	return 0;
}

/* SENDMSG: copy the destination address, as __copy_msghdr() does. */
static int zsync_sendmsg_copy_name(struct zsync_msg_io *io, const struct user_msghdr *m)
{
	int len = m->msg_name ? m->msg_namelen : 0;

	if (len < 0)
		return -EINVAL;
	if (!len)
		return 0;
	len = min_t(int, len, sizeof(io->addr));
	if (copy_from_user(&io->addr, m->msg_name, len))
		return -EFAULT;
	io->msg.msg_name = &io->addr;
	io->msg.msg_namelen = len;
	return 0;
}

/*
 * SENDMSG: copy the control data.  Its messages are interpreted when the
 * data is sent; SCM_RIGHTS and SCM_CREDENTIALS then look at the calling
 * thread, so the request is pinned to the submitter.
 */
static int zsync_sendmsg_copy_control(struct zsync_req *req, struct zsync_msg_io *io,
				      const struct user_msghdr *m)
{
	if (!m->msg_controllen)
		return 0;
	if (m->msg_controllen > ZSYNC_MSG_CONTROL_MAX)
		return -ENOBUFS;
	io->control = kmalloc(m->msg_controllen, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!io->control)
		return -ENOMEM;
	if (copy_from_user(io->control, m->msg_control, m->msg_controllen))
		return -EFAULT;
	io->msg.msg_control = io->control;
	io->msg.msg_controllen = m->msg_controllen;
	zsync_req_pin_task(req);
	return 0;
}

/*
 * RECVMSG: remember where the address and control messages go.  Received
 * fds (SCM_RIGHTS) are installed in the receiving thread's table, so a
 * request with a control buffer is pinned to the submitter.
 */
static int zsync_recvmsg_set_outputs(struct zsync_req *req, struct zsync_msg_io *io,
				     const struct user_msghdr *m)
{
	if (m->msg_name) {
		if (m->msg_namelen < 0)
			return -EINVAL;
		io->uname = m->msg_name;
		io->name_room = m->msg_namelen;
	}
	if (m->msg_controllen) {
		io->ucontrol = m->msg_control;
		io->msg.msg_control_user = m->msg_control;
		io->msg.msg_control_is_user = true;
		io->msg.msg_controllen = m->msg_controllen;
		zsync_req_pin_task(req);
	}
	return 0;
}

static int zsync_msg_prep(struct zsync_req *req, const struct zsync_sqe *sqe,
			  unsigned int dir)
{
	struct user_msghdr __user *umsg = u64_to_user_ptr(sqe->addr);
	u32 allowed = dir == ITER_SOURCE ? ZSYNC_SEND_FLAGS : ZSYNC_RECVMSG_FLAGS;
	struct zsync_msg_io *io;
	struct user_msghdr m;
	int ret;

	if (sqe->op_flags & ~allowed)
		return -EINVAL;
	/* A 32-bit caller's msghdr and cmsg layouts are not supported. */
	if (in_compat_syscall())
		return -EOPNOTSUPP;
	ret = zsync_net_prep_sock(req);
	if (ret)
		return ret;
	if (copy_from_user(&m, umsg, sizeof(m)))
		return -EFAULT;
	io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	if (!io)
		return -ENOMEM;
	req->msgio = io;	/* zsync_msg_cleanup() frees it from here on */
	io->msg_flags = sqe->op_flags;
	ret = zsync_msg_import_iov(io, &m, dir);
	if (ret)
		return ret;
	if (dir == ITER_DEST) {
		io->umsg = umsg;
		return zsync_recvmsg_set_outputs(req, io, &m);
	}
	ret = zsync_sendmsg_copy_name(io, &m);
	if (ret)
		return ret;
	return zsync_sendmsg_copy_control(req, io, &m);
}

int zsync_sendmsg_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	return zsync_msg_prep(req, sqe, ITER_SOURCE);
}

int zsync_recvmsg_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	return zsync_msg_prep(req, sqe, ITER_DEST);
}

static int zsync_sendmsg_once(struct zsync_req *req)
{
	struct zsync_msg_io *io = req->msgio;
	struct iov_iter saved = io->msg.msg_iter;
	int ret;

	io->msg.msg_flags = zsync_send_flags(io->msg_flags);
	ret = sock_sendmsg(sock_from_file(req->file), &io->msg);
	if (ret == -EAGAIN) {
		/* Nothing was sent: the next attempt starts from the same place. */
		io->msg.msg_iter = saved;
	} else if (ret > 0) {
		/* The control data went with these bytes, not with the rest. */
		io->msg.msg_control = NULL;
		io->msg.msg_controllen = 0;
	}
	return ret;
}

int zsync_sendmsg_retry(struct zsync_req *req)
{
	struct zsync_msg_io *io = req->msgio;

	return zsync_net_transfer(req, io->msg_flags, &io->done, io->len, zsync_sendmsg_once);
}

static int zsync_recvmsg_once(struct zsync_req *req)
{
	struct zsync_msg_io *io = req->msgio;
	struct iov_iter saved = io->msg.msg_iter;
	int ret;

	/* As ____sys_recvmsg() sets them up. */
	io->msg.msg_name = &io->addr;
	io->msg.msg_namelen = 0;
	io->msg.msg_flags = io->msg_flags & MSG_CMSG_CLOEXEC;
	ret = sock_recvmsg(sock_from_file(req->file), &io->msg,
			   io->msg_flags | MSG_DONTWAIT);
	if (ret == -EAGAIN)
		io->msg.msg_iter = saved;
	else if (ret >= 0)
		io->out_flags |= io->msg.msg_flags;
	return ret;
}

/* Writes what recvmsg(2) writes into the caller's msghdr and address. */
static int zsync_recvmsg_put_results(struct zsync_msg_io *io)
{
	struct user_msghdr __user *umsg = io->umsg;
	unsigned long used = 0;

	if (io->uname && zsync_put_sockaddr(&io->addr, io->msg.msg_namelen, io->uname,
					    io->name_room, &umsg->msg_namelen))
		return -EFAULT;
	if (io->ucontrol)
		used = io->msg.msg_control_user - io->ucontrol;
	if (put_user(io->out_flags, &umsg->msg_flags) ||
	    put_user(used, &umsg->msg_controllen))
		return -EFAULT;
	return 0;
}

int zsync_recvmsg_retry(struct zsync_req *req)
{
	struct zsync_msg_io *io = req->msgio;
	int ret;

	ret = zsync_net_transfer(req, io->msg_flags, &io->done, io->len, zsync_recvmsg_once);
	if (ret >= 0 && zsync_recvmsg_put_results(io))
		return -EFAULT;
	return ret;
}

enum zsync_issue_ret zsync_sendmsg_issue(struct zsync_req *req)
{
	return zsync_net_issue(req, req->msgio->msg_flags, EPOLLOUT);
}

enum zsync_issue_ret zsync_recvmsg_issue(struct zsync_req *req)
{
	u32 msg_flags = req->msgio->msg_flags;

	return zsync_net_issue(req, msg_flags, zsync_recv_events(msg_flags));
}

/* ---- ACCEPT -------------------------------------------------------------- */

int zsync_accept_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_accept *a = &req->accept;

	if (sqe->op_flags & ~ZSYNC_ACCEPT_FLAGS_ALL)
		return -EINVAL;
	if (sqe->len & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	/* The address and its length come together, and never with multishot. */
	if (!sqe->addr != !sqe->addr2)
		return -EINVAL;
	a->multishot = sqe->op_flags & ZSYNC_ACCEPT_MULTISHOT;
	if (a->multishot && sqe->addr)
		return -EINVAL;
	if (!sock_from_file(req->file))
		return -ENOTSOCK;
	a->file_flags = sqe->len & SOCK_CLOEXEC ? O_CLOEXEC : 0;
	if (sqe->len & SOCK_NONBLOCK)
		a->file_flags |= O_NONBLOCK;
	if (sqe->addr) {
		a->addr = u64_to_user_ptr(sqe->addr);
		a->addrlen = u64_to_user_ptr(sqe->addr2);
		if (get_user(a->addr_room, a->addrlen))
			return -EFAULT;
		if (a->addr_room < 0)
			return -EINVAL;
	}
	if (a->multishot)
		return zsync_req_alloc_ovf_pool(req, zsync_multishot_backlog);
	return 0;
}

/*
 * Takes one connection off the listening socket into a new file, as
 * do_accept() does (which modules cannot call), or returns an ERR_PTR:
 * -EAGAIN when none is pending.  Without security_socket_accept(), which
 * is not exported: only reached with lsm_bypass_net (opdef.c).
 */
static struct file *zsync_accept_file(struct zsync_req *req)
{
	struct socket *sock = sock_from_file(req->file), *newsock;
	struct zsync_accept *a = &req->accept;
	struct sockaddr_storage addr;
	struct file *newfile;
	int ret;

	newsock = sock_alloc();
	if (!newsock)
		return ERR_PTR(-ENFILE);
	newsock->type = sock->type;
	newsock->ops = sock->ops;
	/* Dropped by sock_release(); the listener holds the module meanwhile. */
	__module_get(newsock->ops->owner);
	newfile = sock_alloc_file(newsock, a->file_flags, sock->sk->sk_prot_creator->name);
	if (IS_ERR(newfile))
		return newfile;
	ret = zsync_sock_accept(sock, newsock, req->file->f_flags | O_NONBLOCK);
	if (ret < 0)
		goto fail;
	if (a->addr) {
		ret = newsock->ops->getname(newsock, (struct sockaddr *)&addr, 2);
		if (ret < 0) {
			ret = -ECONNABORTED;
			goto fail;
		}
		ret = zsync_put_sockaddr(&addr, ret, a->addr, a->addr_room, a->addrlen);
		if (ret)
			goto fail;
	}
	return newfile;
fail:
	fput(newfile);
	return ERR_PTR(ret);
}

/* Accepts one connection into the submitter's fd table: the fd, or -errno. */
static int zsync_accept_one(struct zsync_req *req)
{
	struct file *newfile;
	int fd;

	/* An fd first, so a full table does not cost a connection. */
	fd = get_unused_fd_flags(req->accept.file_flags);
	if (fd < 0)
		return fd;
	newfile = zsync_accept_file(req);
	if (IS_ERR(newfile)) {
		put_unused_fd(fd);
		return PTR_ERR(newfile);
	}
	fd_install(fd, newfile);
	return fd;
}

/*
 * In the submitting thread (ZSYNC_OPF_TASK).  Multishot: every pending
 * connection, each fd in a CQE flagged ZSYNC_CQE_F_MORE.  An fd is in the
 * table before its CQE is posted, so it must never go unreported: when the
 * CQE cannot be posted (CQ full, backlog used up), that fd becomes the
 * terminal result and the request ends.
 */
int zsync_accept_retry(struct zsync_req *req)
{
	int fd;

	if (!req->accept.multishot)
		return zsync_accept_one(req);
	for (;;) {
		fd = zsync_accept_one(req);
		if (fd < 0)
			return fd;
		if (!zsync_req_post_more(req, fd, 0))
			return fd;
		cond_resched();
	}
}

enum zsync_issue_ret zsync_accept_issue(struct zsync_req *req)
{
	return zsync_net_issue(req, 0, EPOLLIN);
}

/* ---- CONNECT ------------------------------------------------------------- */

int zsync_connect_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_connect *c = &req->connect;
	int ret;

	ret = zsync_net_prep_sock(req);
	if (ret)
		return ret;
	if (sqe->len > sizeof(*c->addr))
		return -EINVAL;
	c->addr = kzalloc(sizeof(*c->addr), GFP_KERNEL_ACCOUNT);
	if (!c->addr)
		return -ENOMEM;
	c->addrlen = sqe->len;
	if (copy_from_user(c->addr, u64_to_user_ptr(sqe->addr), c->addrlen))
		return -EFAULT;
	return 0;
}

void zsync_connect_cleanup(struct zsync_req *req)
{
	kfree(req->connect.addr);
}

static int zsync_connect_once(struct zsync_req *req)
{
	struct zsync_connect *c = &req->connect;

	/*
	 * No security_socket_connect() (not exported): only reached when the
	 * administrator allowed that with lsm_bypass_net (opdef.c).
	 */
	return kernel_connect(sock_from_file(req->file), (struct sockaddr *)c->addr,
			      c->addrlen, O_NONBLOCK);
}

/*
 * After a wakeup: connecting again reports how the connection attempt in
 * progress ended, and marks the socket connected as connect(2) does.
 * -EALREADY means it is still in progress.
 */
int zsync_connect_retry(struct zsync_req *req)
{
	int ret = zsync_connect_once(req);

	switch (ret) {
	case -EALREADY:
	case -EINPROGRESS:
		return -EAGAIN;
	case -EISCONN:
		/* Someone else saw it through: its outcome is the socket's error. */
		return sock_error(sock_from_file(req->file)->sk);
	default:
		return ret;
	}
}

enum zsync_issue_ret zsync_connect_issue(struct zsync_req *req)
{
	int ret = zsync_connect_once(req);

	/*
	 * Only a connection in progress is waited for.  -EAGAIN from AF_UNIX
	 * (the listener's backlog is full) is the result: no wakeup on this
	 * socket would tell when there is room.
	 */
	if (ret == -EINPROGRESS || ret == -EALREADY)
		return zsync_poll_arm(req, EPOLLOUT);
	req->res = ret;
	return ZSYNC_ISSUE_DONE;
}

/* ---- SHUTDOWN ------------------------------------------------------------ */

int zsync_shutdown_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	if (!sock_from_file(req->file))
		return -ENOTSOCK;
	if (sqe->len > SHUT_RDWR)
		return -EINVAL;
	req->shutdown_how = sqe->len;
	return 0;
}

enum zsync_issue_ret zsync_shutdown_issue(struct zsync_req *req)
{
	/* No security_socket_shutdown() either: see zsync_connect_once(). */
	req->res = kernel_sock_shutdown(sock_from_file(req->file), req->shutdown_how);
	return ZSYNC_ISSUE_DONE;
}
