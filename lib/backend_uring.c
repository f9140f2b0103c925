// SPDX-License-Identifier: MIT
/*
 * The io_uring backend (liburing), for machines without /dev/zsync.  Ops
 * are queued as SQEs and submitted in a batch by the next wait; a read of
 * the loop's eventfd stays in flight so that a wake from another thread
 * ends a blocking wait.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io_internal.h"

/* user_data of the internal requests; ops use their address. */
#define TAG_WAKE	1ULL
#define TAG_CANCEL	2ULL

struct uring_loop {
	struct io_uring ring;
	int efd;
	uint64_t efd_val;
	bool efd_armed;
};

/*
 * liburing maps and unmaps the rings with raw system calls, which
 * ThreadSanitizer does not intercept: a ring mapped where another
 * thread's ring was unmapped would carry that thread's accesses and look
 * like a race with it.  The unmap happens before the new map (the kernel
 * orders them); tell TSan so, through one synchronisation object.
 */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
static char tsan_ring_mappings;
#define tsan_ring_unmapped()	__tsan_release(&tsan_ring_mappings)
#define tsan_ring_mapped()	__tsan_acquire(&tsan_ring_mappings)
#else
#define tsan_ring_unmapped()	do { } while (0)
#define tsan_ring_mapped()	do { } while (0)
#endif

static int uring_init(struct zk_loop *l, unsigned int entries)
{
	struct uring_loop *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(entries, &u->ring, 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	tsan_ring_mapped();
	u->efd = eventfd(0, EFD_CLOEXEC);
	if (u->efd < 0) {
		ret = -errno;
		io_uring_queue_exit(&u->ring);
		tsan_ring_unmapped();
		free(u);
		return ret;
	}
	l->priv = u;
	return 0;
}

static void uring_exit(struct zk_loop *l)
{
	struct uring_loop *u = l->priv;

	io_uring_queue_exit(&u->ring);
	tsan_ring_unmapped();
	close(u->efd);
	free(u);
}

static void reap(struct zk_loop *l);

/* An SQE, submitting (and reaping) to make room when the SQ is full. */
static struct io_uring_sqe *get_sqe(struct zk_loop *l)
{
	struct uring_loop *u = l->priv;
	struct io_uring_sqe *sqe;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		sqe = io_uring_get_sqe(&u->ring);
		if (sqe)
			return sqe;
		if (io_uring_submit(&u->ring) < 0)
			reap(l);
	}
	return NULL;
}

static void prep(struct io_uring_sqe *sqe, struct zk_op *op)
{
	switch (op->code) {
	case ZK_OPC_READ:
		io_uring_prep_read(sqe, op->fd, op->buf, (unsigned int)op->len, op->off);
		break;
	case ZK_OPC_WRITE:
		io_uring_prep_write(sqe, op->fd, op->cbuf, (unsigned int)op->len, op->off);
		break;
	case ZK_OPC_RECV:
		io_uring_prep_recv(sqe, op->fd, op->buf, op->len, op->flags);
		break;
	case ZK_OPC_SEND:
		io_uring_prep_send(sqe, op->fd, op->cbuf, op->len, op->flags | MSG_NOSIGNAL);
		break;
	case ZK_OPC_ACCEPT:
		io_uring_prep_accept(sqe, op->fd, op->buf, op->addrlen, op->flags);
		break;
	case ZK_OPC_CONNECT:
		io_uring_prep_connect(sqe, op->fd, op->cbuf, (socklen_t)op->len);
		break;
	case ZK_OPC_OPEN:
		io_uring_prep_openat(sqe, AT_FDCWD, op->cbuf, op->flags, op->mode);
		break;
	case ZK_OPC_CLOSE:
		io_uring_prep_close(sqe, op->fd);
		break;
	case ZK_OPC_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, 0);
		break;
	case ZK_OPC_SLEEP:
		op->ts.tv_sec = op->ns > 0 ? op->ns / 1000000000 : 0;
		op->ts.tv_nsec = op->ns > 0 ? op->ns % 1000000000 : 0;
		io_uring_prep_timeout(sqe, (struct __kernel_timespec *)&op->ts, 0, 0);
		break;
	case ZK_OPC_POLL:
		io_uring_prep_poll_add(sqe, op->fd, (unsigned int)op->flags);
		break;
	}
}

static void uring_submit(struct zk_loop *l, struct zk_op *op)
{
	struct io_uring_sqe *sqe;

	if (zk_opc_ring_only(op->code)) {
		zk_op_done(l, op, -EOPNOTSUPP);
		return;
	}
	sqe = get_sqe(l);
	if (!sqe) {
		zk_op_done(l, op, -EBUSY);
		return;
	}
	prep(sqe, op);
	io_uring_sqe_set_data(sqe, op);
}

static void uring_cancel(struct zk_loop *l, struct zk_op *op)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	/* No SQE: the op completes on its own; cancel_sent stays set. */
	if (!sqe)
		return;
	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data64(sqe, TAG_CANCEL);
}

static void complete_cqe(struct zk_loop *l, struct io_uring_cqe *cqe)
{
	struct uring_loop *u = l->priv;
	uint64_t data = io_uring_cqe_get_data64(cqe);
	struct zk_op *op;
	int res = cqe->res;

	if (data == TAG_WAKE) {
		u->efd_armed = false;
		return;
	}
	if (data == TAG_CANCEL)
		return;
	op = io_uring_cqe_get_data(cqe);
	if (op->code == ZK_OPC_SLEEP && res == -ETIME)
		res = 0;
	zk_op_done(l, op, res);
}

static void reap(struct zk_loop *l)
{
	struct uring_loop *u = l->priv;
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		complete_cqe(l, cqe);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
}

static void arm_wake(struct zk_loop *l)
{
	struct uring_loop *u = l->priv;
	struct io_uring_sqe *sqe;

	if (u->efd_armed)
		return;
	sqe = get_sqe(l);
	if (!sqe)
		return;
	io_uring_prep_read(sqe, u->efd, &u->efd_val, sizeof(u->efd_val), 0);
	io_uring_sqe_set_data64(sqe, TAG_WAKE);
	u->efd_armed = true;
}

static void uring_wait(struct zk_loop *l, bool block)
{
	struct uring_loop *u = l->priv;

	if (block)
		arm_wake(l);
	/* -EINTR and friends: the caller's loop simply comes back. */
	io_uring_submit_and_wait(&u->ring, block && !io_uring_cq_ready(&u->ring));
	reap(l);
}

static void uring_wake(struct zk_loop *target, struct zk_loop *waker)
{
	struct uring_loop *u = target->priv;
	uint64_t one = 1;

	(void)waker;
	if (write(u->efd, &one, sizeof(one)) < 0)
		return;
}

static bool uring_native(const struct zk_loop *l, enum zk_opcode code)
{
	(void)l;
	return !zk_opc_ring_only(code);
}

const struct zk_backend_ops zk_backend_uring = {
	.kind = ZK_BACKEND_IO_URING,
	.init = uring_init,
	.exit = uring_exit,
	.submit = uring_submit,
	.cancel = uring_cancel,
	.wait = uring_wait,
	.wake = uring_wake,
	.native = uring_native,
};
