// SPDX-License-Identifier: MIT
/*
 * The Io calls.  Each direct call builds its op in a future on its own
 * stack and awaits it, so the hot path never allocates; the *_async forms
 * start the same op on a caller-owned future and return at once.
 */
#include <errno.h>
#include <stdbool.h>

#include "io_internal.h"

void zk_op_done(struct zk_loop *l, struct zk_op *op, int res)
{
	struct zk_future *f = zk_container_of(op, struct zk_future, op);

	op->state = ZK_OP_DONE;
	l->w->inflight--;
	zk_future_complete(l->w, f, res);
}

int zk_op_start(struct zk_io *io, struct zk_future *f)
{
	f->owner = io;
	f->op.state = ZK_OP_INFLIGHT;
	f->op.cancel_sent = false;
	if (zk_cancelled(io)) {
		f->op.state = ZK_OP_DONE;
		zk_future_complete(io, f, -ECANCELED);
		return -ECANCELED;
	}
	io->inflight++;
	io->rt->bops->submit(&io->loop, &f->op);
	return 0;
}

/* Reset @f (keeping its heap flag) for a new op @code. */
static struct zk_op *op_prep(struct zk_future *f, enum zk_opcode code, int fd)
{
	zk_future_reset(f, ZK_F_OP);
	f->op.code = (uint8_t)code;
	f->op.fd = fd;
	return &f->op;
}

/*
 * Take @f for a new op @code on @fd: idle, or done with its last op.
 * Return: the op to fill in, or NULL (-EINVAL/-EBUSY in *@err).
 */
struct zk_op *zk_op_begin(struct zk_future *f, enum zk_opcode code, int fd,
			  int *err)
{
	if (f->kind != ZK_F_IDLE && f->kind != ZK_F_OP) {
		*err = -EINVAL;
		return NULL;
	}
	if (f->kind == ZK_F_OP && !zk_fut_done(f)) {
		*err = -EBUSY;
		return NULL;
	}
	return op_prep(f, code, fd);
}

static void fill_buf(struct zk_op *op, void *buf, const void *cbuf, size_t len,
		     uint64_t off, int flags)
{
	op->buf = buf;
	op->cbuf = cbuf;
	op->len = len;
	op->off = off;
	op->flags = flags;
}

int zk_read_async(struct zk_io *io, struct zk_future *f, int fd, void *buf,
		  size_t len, uint64_t off)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_READ, fd, &err);

	if (!op)
		return err;
	fill_buf(op, buf, NULL, len, off, 0);
	return zk_op_start(io, f);
}

int zk_write_async(struct zk_io *io, struct zk_future *f, int fd,
		   const void *buf, size_t len, uint64_t off)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_WRITE, fd, &err);

	if (!op)
		return err;
	fill_buf(op, NULL, buf, len, off, 0);
	return zk_op_start(io, f);
}

int zk_recv_async(struct zk_io *io, struct zk_future *f, int fd, void *buf,
		  size_t len, int flags)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_RECV, fd, &err);

	if (!op)
		return err;
	fill_buf(op, buf, NULL, len, 0, flags);
	return zk_op_start(io, f);
}

int zk_send_async(struct zk_io *io, struct zk_future *f, int fd,
		  const void *buf, size_t len, int flags)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_SEND, fd, &err);

	if (!op)
		return err;
	fill_buf(op, NULL, buf, len, 0, flags);
	return zk_op_start(io, f);
}

int zk_accept_async(struct zk_io *io, struct zk_future *f, int fd,
		    struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_ACCEPT, fd, &err);

	if (!op)
		return err;
	fill_buf(op, addr, NULL, 0, 0, flags);
	op->addrlen = addrlen;
	return zk_op_start(io, f);
}

static int zk_connect_async(struct zk_io *io, struct zk_future *f, int fd,
			    const struct sockaddr *addr, socklen_t addrlen)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_CONNECT, fd, &err);

	if (!op)
		return err;
	fill_buf(op, NULL, addr, addrlen, 0, 0);
	return zk_op_start(io, f);
}

int zk_open_async(struct zk_io *io, struct zk_future *f, const char *path,
		  int flags, unsigned int mode)
{
	int err;
	struct zk_op *op = zk_op_begin(f, ZK_OPC_OPEN, -1, &err);

	if (!op)
		return err;
	fill_buf(op, NULL, path, 0, 0, flags);
	op->mode = mode;
	return zk_op_start(io, f);
}

/* Ops that need nothing but their fd (close, fsync) or a duration. */
static int start_simple(struct zk_io *io, struct zk_future *f,
			enum zk_opcode code, int fd, int64_t ns)
{
	int err;
	struct zk_op *op = zk_op_begin(f, code, fd, &err);

	if (!op)
		return err;
	op->ns = ns;
	return zk_op_start(io, f);
}

int zk_close_async(struct zk_io *io, struct zk_future *f, int fd)
{
	return start_simple(io, f, ZK_OPC_CLOSE, fd, 0);
}

int zk_sleep_async(struct zk_io *io, struct zk_future *f, int64_t ns)
{
	return start_simple(io, f, ZK_OPC_SLEEP, -1, ns);
}

/* The direct forms: a future on the stack, started and awaited. */
#define ZK_SYNC(ret_t, call)						\
	struct zk_future f;						\
	int start;							\
									\
	zk_future_init(&f, ZK_F_IDLE);					\
	start = (call);							\
	if (start)							\
		return (ret_t)start;					\
	return (ret_t)zk_await(io, &f)

ssize_t zk_read(struct zk_io *io, int fd, void *buf, size_t len, uint64_t off)
{
	ZK_SYNC(ssize_t, zk_read_async(io, &f, fd, buf, len, off));
}

ssize_t zk_write(struct zk_io *io, int fd, const void *buf, size_t len, uint64_t off)
{
	ZK_SYNC(ssize_t, zk_write_async(io, &f, fd, buf, len, off));
}

ssize_t zk_recv(struct zk_io *io, int fd, void *buf, size_t len, int flags)
{
	ZK_SYNC(ssize_t, zk_recv_async(io, &f, fd, buf, len, flags));
}

ssize_t zk_send(struct zk_io *io, int fd, const void *buf, size_t len, int flags)
{
	ZK_SYNC(ssize_t, zk_send_async(io, &f, fd, buf, len, flags));
}

int zk_accept(struct zk_io *io, int fd, struct sockaddr *addr,
	      socklen_t *addrlen, int flags)
{
	ZK_SYNC(int, zk_accept_async(io, &f, fd, addr, addrlen, flags));
}

int zk_connect(struct zk_io *io, int fd, const struct sockaddr *addr,
	       socklen_t addrlen)
{
	ZK_SYNC(int, zk_connect_async(io, &f, fd, addr, addrlen));
}

int zk_open(struct zk_io *io, const char *path, int flags, unsigned int mode)
{
	ZK_SYNC(int, zk_open_async(io, &f, path, flags, mode));
}

int zk_close(struct zk_io *io, int fd)
{
	ZK_SYNC(int, zk_close_async(io, &f, fd));
}

int zk_fsync(struct zk_io *io, int fd)
{
	ZK_SYNC(int, start_simple(io, &f, ZK_OPC_FSYNC, fd, 0));
}

int zk_sleep(struct zk_io *io, int64_t ns)
{
	ZK_SYNC(int, zk_sleep_async(io, &f, ns));
}
