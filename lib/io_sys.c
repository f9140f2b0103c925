// SPDX-License-Identifier: MIT
/*
 * An op as plain syscalls: what the blocking backend runs, and what the
 * zsync backend runs for ops the loaded module does not implement yet.
 * Socket calls use MSG_DONTWAIT so a not-ready socket answers -EAGAIN and
 * the caller waits for readiness instead of blocking its thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io_internal.h"

int64_t zk_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int sys_ret(ssize_t r)
{
	return r < 0 ? -errno : (int)r;
}

/* connect() on a non-blocking socket ends with the error in SO_ERROR. */
static int connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static int sys_rw(struct zk_op *op)
{
	bool cur = op->off == ZK_OFF_CURRENT;

	if (op->code == ZK_OPC_READ)
		return sys_ret(cur ? read(op->fd, op->buf, op->len) :
			       pread(op->fd, op->buf, op->len, (off_t)op->off));
	return sys_ret(cur ? write(op->fd, op->cbuf, op->len) :
		       pwrite(op->fd, op->cbuf, op->len, (off_t)op->off));
}

/* POLL: the ready subset of op->flags, or -EAGAIN while there is none. */
static int sys_poll_once(const struct zk_op *op)
{
	struct pollfd p = { .fd = op->fd, .events = (short)op->flags };
	int n = poll(&p, 1, 0);

	if (n < 0)
		return -errno;
	return n ? p.revents : -EAGAIN;
}

/* Perform @op once; -EAGAIN means "not ready, wait for zk_sys_events()". */
int zk_sys_perform(struct zk_op *op)
{
	int r;

	switch (op->code) {
	case ZK_OPC_READ:
	case ZK_OPC_WRITE:
		return sys_rw(op);
	case ZK_OPC_RECV:
		return sys_ret(recv(op->fd, op->buf, op->len, op->flags | MSG_DONTWAIT));
	case ZK_OPC_SEND:
		return sys_ret(send(op->fd, op->cbuf, op->len,
				    op->flags | MSG_DONTWAIT | MSG_NOSIGNAL));
	case ZK_OPC_ACCEPT:
		return sys_ret(accept4(op->fd, op->buf, op->addrlen, op->flags));
	case ZK_OPC_CONNECT:
		if (op->events)		/* second round: the answer is ready */
			return connect_result(op->fd);
		r = sys_ret(connect(op->fd, op->cbuf, (socklen_t)op->len));
		return r == -EINPROGRESS ? -EAGAIN : r;
	case ZK_OPC_OPEN:
		return sys_ret(openat(AT_FDCWD, op->cbuf, op->flags, op->mode));
	case ZK_OPC_CLOSE:
		return sys_ret(close(op->fd));
	case ZK_OPC_FSYNC:
		return sys_ret(fsync(op->fd));
	case ZK_OPC_POLL:
		return sys_poll_once(op);
	default:
		if (zk_opc_ring_only(op->code))
			return -EOPNOTSUPP;
		return -EINVAL;
	}
}

short zk_sys_events(const struct zk_op *op)
{
	switch (op->code) {
	case ZK_OPC_READ:
	case ZK_OPC_RECV:
	case ZK_OPC_ACCEPT:
		return POLLIN;
	case ZK_OPC_POLL:
		return (short)op->flags;
	default:
		return POLLOUT;
	}
}

/*
 * Whether performing @op now could block the thread: true for fd ops on
 * something that is not ready (a pipe, socket or terminal without data).
 * Regular files always poll ready, so they cost one poll and no wait.
 */
bool zk_sys_may_block(const struct zk_op *op)
{
	struct pollfd p = { .fd = op->fd, .events = zk_sys_events(op) };

	switch (op->code) {
	case ZK_OPC_READ:
	case ZK_OPC_WRITE:
	case ZK_OPC_ACCEPT:
		return poll(&p, 1, 0) == 0;
	default:
		return false;
	}
}
