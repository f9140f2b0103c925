// SPDX-License-Identifier: MIT
/*
 * The zsync backend: ops go to the module's ring when ZSYNC_IOC_PROBE says
 * the loaded module implements them and has them enabled, and otherwise
 * run as syscalls through the blocking backend's poller (readiness, then
 * the syscall), so a program works with today's module and gets faster as
 * ops land.
 *
 * The module refuses CONNECT and ACCEPT by default (-EOPNOTSUPP, disabled
 * in the probe): it cannot call the LSM hooks connect(2) and accept(2)
 * call.  Those then run as the syscalls, where Landlock, SELinux and
 * AppArmor see them.  An administrator may disable ops while rings are
 * open; an op the ring refuses with -EOPNOTSUPP is probed again and, if
 * it is disabled now, run as its syscall instead.
 *
 * Waiting and waking, by what the module offers:
 *  - POLL_ADD: a poll on the loop's eventfd stays armed on the ring, so a
 *    blocking wait is one ENTER; with MSG_RING too, a waker that has a
 *    zsync ring posts a CQE straight into ours instead of writing the
 *    eventfd.
 *  - otherwise (and while fallback ops wait for readiness): ppoll() on the
 *    ring fd (POLLIN when CQEs wait), the eventfd and the fallback fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <poll.h>

#include "io_internal.h"

#define TAG_WAKE	1ULL	/* POLL_ADD on the eventfd, or a MSG_RING wake */
#define TAG_IGNORE	2ULL	/* CANCEL, MSG_RING's own completion */

static const uint8_t ring_opcode[ZK_OPC_COUNT] = {
	[ZK_OPC_READ] = ZSYNC_OP_READ,
	[ZK_OPC_WRITE] = ZSYNC_OP_WRITE,
	[ZK_OPC_RECV] = ZSYNC_OP_RECV,
	[ZK_OPC_SEND] = ZSYNC_OP_SEND,
	[ZK_OPC_ACCEPT] = ZSYNC_OP_ACCEPT,
	[ZK_OPC_CONNECT] = ZSYNC_OP_CONNECT,
	[ZK_OPC_OPEN] = ZSYNC_OP_OPENAT,
	[ZK_OPC_CLOSE] = ZSYNC_OP_CLOSE,
	[ZK_OPC_FSYNC] = ZSYNC_OP_FSYNC,
	[ZK_OPC_SLEEP] = ZSYNC_OP_TIMEOUT,
	[ZK_OPC_POLL] = ZSYNC_OP_POLL_ADD,
	[ZK_OPC_CG_SET] = ZSYNC_OP_CGROUP_SET,
	[ZK_OPC_CG_ATTACH] = ZSYNC_OP_CGROUP_ATTACH,
	[ZK_OPC_CG_FREEZE] = ZSYNC_OP_CGROUP_FREEZE,
	[ZK_OPC_CG_THAW] = ZSYNC_OP_CGROUP_THAW,
	[ZK_OPC_CG_KILL] = ZSYNC_OP_CGROUP_KILL,
	[ZK_OPC_PIDFD_WAIT] = ZSYNC_OP_PIDFD_WAIT,
};

struct zsync_loop {
	struct zk_ring ring;
	struct zk_sys_poller *fb;	/* fallback ops; owns the eventfd */
	bool native[ZK_OPC_COUNT];
	bool has_cancel, has_msg_ring, has_poll;
	bool wake_armed;		/* POLL_ADD on the eventfd in flight */
};

/* Whether the module behind @p runs @op: implemented and not disabled. */
static bool probe_usable(const struct zsync_probe *p, unsigned int op)
{
	return zk_probe_has_op(p, op) && !zk_probe_op_disabled(p, op);
}

static void probe_ops(struct zsync_loop *z)
{
	struct zsync_probe p;
	unsigned int c;

	if (zk_probe(&z->ring, &p) < 0) {
		/* A module older than the probe: the foundation ops only. */
		memset(&p, 0, sizeof(p));
		p.ops[0] = 1ULL << ZSYNC_OP_NOP | 1ULL << ZSYNC_OP_TIMEOUT |
			   1ULL << ZSYNC_OP_LINK_TIMEOUT | 1ULL << ZSYNC_OP_CANCEL;
	}
	for (c = 0; c < ZK_OPC_COUNT; c++)
		z->native[c] = probe_usable(&p, ring_opcode[c]);
	z->has_cancel = zk_probe_has_op(&p, ZSYNC_OP_CANCEL);
	z->has_msg_ring = zk_probe_has_op(&p, ZSYNC_OP_MSG_RING);
	z->has_poll = zk_probe_has_op(&p, ZSYNC_OP_POLL_ADD);
}

static int zsync_init(struct zk_loop *l, unsigned int entries)
{
	struct zsync_loop *z = calloc(1, sizeof(*z));
	int ret;

	if (!z)
		return -ENOMEM;
	ret = zk_ring_init(entries, &z->ring, 0);
	if (ret)
		goto fail;
	ret = zk_poller_init(&z->fb);
	if (ret) {
		zk_ring_exit(&z->ring);
		goto fail;
	}
	probe_ops(z);
	l->priv = z;
	return 0;
fail:
	free(z);
	return ret;
}

static void zsync_exit(struct zk_loop *l)
{
	struct zsync_loop *z = l->priv;

	zk_ring_exit(&z->ring);
	zk_poller_exit(z->fb);
	free(z);
}

static void reap(struct zk_loop *l);

/* An SQE, submitting and reaping to make room when the SQ is full. */
static struct zsync_sqe *get_sqe(struct zk_loop *l)
{
	struct zsync_loop *z = l->priv;
	struct zsync_sqe *sqe;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		sqe = zk_get_sqe(&z->ring);
		if (sqe)
			return sqe;
		zk_submit(&z->ring);
		reap(l);
	}
	return NULL;
}

/* The ops the poller has no syscall for: POLL and the cgroup family. */
static void prep_family(struct zsync_sqe *sqe, struct zk_op *op)
{
	switch (op->code) {
	case ZK_OPC_POLL:
		zk_prep_poll_add(sqe, op->fd, (unsigned int)op->flags, 0);
		break;
	case ZK_OPC_CG_SET:
		zk_prep_cgroup_set(sqe, op->fd, op->cbuf, op->cbuf2, (unsigned int)op->len);
		break;
	case ZK_OPC_CG_ATTACH:
		zk_prep_cgroup_attach(sqe, op->fd, (pid_t)op->off);
		sqe->op_flags = (__u32)op->flags;
		break;
	case ZK_OPC_CG_FREEZE:
	case ZK_OPC_CG_THAW:
	case ZK_OPC_CG_KILL:
		zk_prep_cgroup_op(sqe, ring_opcode[op->code], op->fd);
		break;
	case ZK_OPC_PIDFD_WAIT:
		zk_prep_pidfd_wait(sqe, op->fd);
		break;
	}
}

static void prep(struct zsync_sqe *sqe, struct zk_op *op)
{
	switch (op->code) {
	case ZK_OPC_READ:
		zk_prep_read(sqe, op->fd, op->buf, (unsigned int)op->len, op->off);
		break;
	case ZK_OPC_WRITE:
		zk_prep_write(sqe, op->fd, op->cbuf, (unsigned int)op->len, op->off);
		break;
	case ZK_OPC_RECV:
		zk_prep_recv(sqe, op->fd, op->buf, op->len, op->flags);
		break;
	case ZK_OPC_SEND:
		zk_prep_send(sqe, op->fd, op->cbuf, op->len, op->flags | MSG_NOSIGNAL);
		break;
	case ZK_OPC_ACCEPT:
		zk_prep_accept(sqe, op->fd, op->buf, op->addrlen, op->flags, 0);
		break;
	case ZK_OPC_CONNECT:
		zk_prep_connect(sqe, op->fd, op->cbuf, (socklen_t)op->len);
		break;
	case ZK_OPC_OPEN:
		zk_prep_openat(sqe, AT_FDCWD, op->cbuf, op->flags, op->mode);
		break;
	case ZK_OPC_CLOSE:
		zk_prep_close(sqe, op->fd);
		break;
	case ZK_OPC_FSYNC:
		zk_prep_fsync(sqe, op->fd, 0);
		break;
	case ZK_OPC_SLEEP:
		op->ts.tv_sec = op->ns > 0 ? op->ns / 1000000000 : 0;
		op->ts.tv_nsec = op->ns > 0 ? op->ns % 1000000000 : 0;
		zk_prep_timeout(sqe, &op->ts, 0, 0);
		break;
	default:
		prep_family(sqe, op);
		break;
	}
}

static void zsync_submit(struct zk_loop *l, struct zk_op *op)
{
	struct zsync_loop *z = l->priv;
	struct zsync_sqe *sqe;

	op->fallback = op->sys_only || !z->native[op->code];
	if (op->fallback) {
		zk_poller_submit(l, z->fb, op);
		return;
	}
	sqe = get_sqe(l);
	if (!sqe) {
		zk_op_done(l, op, -EBUSY);
		return;
	}
	prep(sqe, op);
	zk_sqe_set_data(sqe, op);
}

static void zsync_cancel(struct zk_loop *l, struct zk_op *op)
{
	struct zsync_loop *z = l->priv;
	struct zsync_sqe *sqe;

	if (op->fallback) {
		zk_poller_cancel(l, z->fb, op);
		return;
	}
	if (!z->has_cancel)
		return;
	sqe = get_sqe(l);
	if (!sqe)
		return;		/* the op still completes on its own */
	zk_prep_cancel(sqe, (__u64)(uintptr_t)op, 0);
	zk_sqe_set_data64(sqe, TAG_IGNORE);
}

static void drain_eventfd(struct zsync_loop *z)
{
	uint64_t cnt;

	/* The eventfd is non-blocking: EAGAIN just means it was clear. */
	if (read(zk_poller_eventfd(z->fb), &cnt, sizeof(cnt)) < 0)
		return;
}

/*
 * @op completed with -EOPNOTSUPP.  If its opcode is disabled now (the
 * administrator changed the module's parameters after the probe), the op
 * did not run: it runs as its syscall instead, as do its successors.
 * Returns whether @op went to the poller (it then completes from there).
 * A cancelled op is not started again: it completes with -EOPNOTSUPP.
 */
static bool refused(struct zk_loop *l, struct zk_op *op)
{
	struct zsync_loop *z = l->priv;
	struct zsync_probe p;

	if (zk_probe(&z->ring, &p) < 0 || probe_usable(&p, ring_opcode[op->code]))
		return false;	/* the op's own -EOPNOTSUPP */
	z->native[op->code] = false;
	if (op->cancel_sent)
		return false;
	op->fallback = true;
	zk_poller_submit(l, z->fb, op);
	return true;
}

static void complete_cqe(struct zk_loop *l, const struct zsync_cqe *cqe)
{
	struct zsync_loop *z = l->priv;
	struct zk_op *op;
	int res = cqe->res;

	if (cqe->user_data == TAG_WAKE) {
		/* res 0: a MSG_RING wake; otherwise our POLL_ADD ended. */
		if (res != 0)
			z->wake_armed = false;
		if (res > 0)
			drain_eventfd(z);
		return;
	}
	if (cqe->user_data == TAG_IGNORE)
		return;
	op = zk_cqe_get_data(cqe);
	if (op->code == ZK_OPC_SLEEP && res == -ETIME)
		res = 0;
	if (res == -EOPNOTSUPP && refused(l, op))
		return;
	zk_op_done(l, op, res);
}

static void reap(struct zk_loop *l)
{
	struct zsync_loop *z = l->priv;
	struct zsync_cqe *cqe;

	while (zk_peek_cqe(&z->ring, &cqe) == 0) {
		struct zsync_cqe copy = *cqe;

		/* Hand the slot back first: completions may submit. */
		zk_cqe_seen(&z->ring, cqe);
		complete_cqe(l, &copy);
	}
}

static void arm_wake_poll(struct zk_loop *l)
{
	struct zsync_loop *z = l->priv;
	struct zsync_sqe *sqe;

	if (z->wake_armed)
		return;
	sqe = get_sqe(l);
	if (!sqe)
		return;
	zk_prep_poll_add(sqe, zk_poller_eventfd(z->fb), POLLIN, 0);
	zk_sqe_set_data64(sqe, TAG_WAKE);
	z->wake_armed = true;
}

static void zsync_wait(struct zk_loop *l, bool block)
{
	struct zsync_loop *z = l->priv;

	zk_submit(&z->ring);
	if (zk_cq_ready(&z->ring))
		block = false;
	if (z->has_poll && !zk_poller_busy(z->fb)) {
		if (block) {
			arm_wake_poll(l);
			zk_submit_and_wait(&z->ring, 1);
		}
	} else if (zk_poller_wait(l, z->fb, block, z->ring.fd) && !zk_cq_ready(&z->ring)) {
		/*
		 * POLLIN on the ring fd without a CQE: work the module
		 * deferred to this thread (the retry of a request pinned to
		 * it, such as a RECV on a socket that became readable) waits
		 * for an ENTER of this thread, and nothing else would make
		 * one: ppoll() would return at once forever.  ENTER with
		 * nothing to submit and min_complete 0 runs it and returns.
		 * (EINTR from ppoll() just loops.)
		 */
		zk_enter(&z->ring, 0, 0, ZSYNC_ENTER_GETEVENTS, NULL, NULL, NULL);
	}
	reap(l);
}

static void zsync_wake(struct zk_loop *target, struct zk_loop *waker)
{
	struct zsync_loop *t = target->priv;
	struct zsync_sqe *sqe;

	if (t->has_msg_ring && t->has_poll && waker &&
	    waker->ops == &zk_backend_zsync) {
		struct zsync_loop *wz = waker->priv;

		/*
		 * Each MSG_RING also completes in the waker's own ring: a
		 * thread that wakes others without ever waiting itself would
		 * fill its CQ.  (@waker is the calling thread's loop.)
		 */
		if (zk_cq_ready(&wz->ring) >= wz->ring.cq.entries / 2)
			reap(waker);
		sqe = zk_get_sqe(&wz->ring);
		if (sqe) {
			zk_prep_msg_ring(sqe, t->ring.fd, TAG_WAKE, 0);
			zk_sqe_set_data64(sqe, TAG_IGNORE);
			if (zk_submit(&wz->ring) > 0)
				return;
		}
	}
	zk_poller_wake(t->fb);
}

static bool zsync_native(const struct zk_loop *l, enum zk_opcode code)
{
	const struct zsync_loop *z = l->priv;

	return z->native[code];
}

const struct zk_backend_ops zk_backend_zsync = {
	.kind = ZK_BACKEND_ZSYNC,
	.init = zsync_init,
	.exit = zsync_exit,
	.submit = zsync_submit,
	.cancel = zsync_cancel,
	.wait = zsync_wait,
	.wake = zsync_wake,
	.native = zsync_native,
};
