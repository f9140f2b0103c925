// SPDX-License-Identifier: MIT
/*
 * The blocking backend: ops run as plain syscalls on the calling thread.
 * An fd op that would block (a socket or pipe without data) waits in a
 * ppoll() set instead, and sleeps wait in a deadline-ordered timer list,
 * so green threads and state machines on this backend still overlap their
 * waits.  The zsync backend reuses this poller for the ops its module
 * lacks, adding the ring fd to the same ppoll().
 *
 * Allocation: the pollfd array grows (doubling) to the largest number of
 * fd ops that ever waited at once, then stays; nothing else allocates.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "io_internal.h"

struct zk_sys_poller {
	int efd;			/* wake eventfd */
	struct zk_list fdwait;		/* ops waiting for readiness */
	unsigned int nfdwait;
	struct zk_list timers;		/* sleeps, earliest deadline first */
	struct pollfd *pfds;
	struct zk_op **pops;
	unsigned int cap;
};

#define FIXED_FDS	2		/* eventfd, extra fd */

int zk_poller_init(struct zk_sys_poller **pp)
{
	struct zk_sys_poller *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		free(p);
		return -errno;
	}
	zk_list_init(&p->fdwait);
	zk_list_init(&p->timers);
	*pp = p;
	return 0;
}

void zk_poller_exit(struct zk_sys_poller *p)
{
	close(p->efd);
	free(p->pfds);
	free(p->pops);
	free(p);
}

int zk_poller_eventfd(const struct zk_sys_poller *p)
{
	return p->efd;
}

bool zk_poller_busy(const struct zk_sys_poller *p)
{
	return p->nfdwait || !zk_list_empty(&p->timers);
}

void zk_poller_wake(struct zk_sys_poller *p)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, so a wakeup is pending anyway. */
	if (write(p->efd, &one, sizeof(one)) < 0)
		return;
}

/* Scanning from the back: equal sleeps arrive in deadline order. */
static void timer_insert(struct zk_sys_poller *p, struct zk_op *op)
{
	struct zk_list *pos = p->timers.prev;

	while (pos != &p->timers &&
	       zk_container_of(pos, struct zk_op, link)->deadline > op->deadline)
		pos = pos->prev;
	zk_list_insert(&op->link, pos, pos->next);
}

void zk_poller_submit(struct zk_loop *l, struct zk_sys_poller *p, struct zk_op *op)
{
	int res;

	op->events = 0;
	if (op->code == ZK_OPC_SLEEP) {
		op->deadline = zk_mono_ns() + (op->ns > 0 ? op->ns : 0);
		timer_insert(p, op);
		return;
	}
	if (zk_sys_may_block(op)) {
		res = -EAGAIN;
	} else {
		res = zk_sys_perform(op);
		if (res != -EAGAIN) {
			zk_op_done(l, op, res);
			return;
		}
	}
	op->events = zk_sys_events(op);
	zk_list_add_tail(&p->fdwait, &op->link);
	p->nfdwait++;
}

void zk_poller_cancel(struct zk_loop *l, struct zk_sys_poller *p, struct zk_op *op)
{
	if (op->state != ZK_OP_INFLIGHT)
		return;
	zk_list_del(&op->link);
	if (op->code != ZK_OPC_SLEEP)
		p->nfdwait--;
	zk_op_done(l, op, -ECANCELED);
}

static int grow(struct zk_sys_poller *p, unsigned int need)
{
	unsigned int cap = p->cap ? p->cap : 16;
	struct pollfd *pfds;
	struct zk_op **pops;

	while (cap < need)
		cap *= 2;
	pfds = realloc(p->pfds, cap * sizeof(*pfds));
	if (!pfds)
		return -ENOMEM;
	p->pfds = pfds;
	pops = realloc(p->pops, cap * sizeof(*pops));
	if (!pops)
		return -ENOMEM;
	p->pops = pops;
	p->cap = cap;
	return 0;
}

static int poll_timeout_ms(struct zk_sys_poller *p, bool block)
{
	int64_t left;

	if (!block)
		return 0;
	if (zk_list_empty(&p->timers))
		return -1;
	left = zk_container_of(p->timers.next, struct zk_op, link)->deadline -
	       zk_mono_ns();
	if (left <= 0)
		return 0;
	/* Round up: waking early would only poll again. */
	return left / 1000000 >= 1000000 ? 1000000 : (int)((left + 999999) / 1000000);
}

static void fire_timers(struct zk_loop *l, struct zk_sys_poller *p)
{
	int64_t now = zk_mono_ns();
	struct zk_op *op;

	while (!zk_list_empty(&p->timers)) {
		op = zk_container_of(p->timers.next, struct zk_op, link);
		if (op->deadline > now)
			break;
		zk_list_del(&op->link);
		zk_op_done(l, op, 0);
	}
}

static void retry_ready(struct zk_loop *l, struct zk_sys_poller *p, unsigned int n)
{
	unsigned int i;
	int res;

	for (i = FIXED_FDS; i < n; i++) {
		struct zk_op *op = p->pops[i];

		if (!p->pfds[i].revents)
			continue;
		res = zk_sys_perform(op);
		if (res == -EAGAIN)
			continue;
		zk_list_del(&op->link);
		p->nfdwait--;
		zk_op_done(l, op, res);
	}
}

/* Returns whether @extra_fd was readable. */
bool zk_poller_wait(struct zk_loop *l, struct zk_sys_poller *p, bool block,
		    int extra_fd)
{
	unsigned int n = FIXED_FDS;
	struct zk_list *pos;
	uint64_t cnt;

	if (grow(p, p->nfdwait + FIXED_FDS) < 0 && p->cap < p->nfdwait + FIXED_FDS)
		block = false;	/* cannot watch them all: do not sleep */
	p->pfds[0] = (struct pollfd){ .fd = p->efd, .events = POLLIN };
	p->pfds[1] = (struct pollfd){ .fd = extra_fd, .events = POLLIN };
	for (pos = p->fdwait.next; pos != &p->fdwait && n < p->cap; pos = pos->next) {
		struct zk_op *op = zk_container_of(pos, struct zk_op, link);

		p->pops[n] = op;
		p->pfds[n++] = (struct pollfd){ .fd = op->fd, .events = op->events };
	}
	if (poll(p->pfds, n, poll_timeout_ms(p, block)) < 0)
		return false;	/* EINTR: the caller loops */
	if (p->pfds[0].revents && read(p->efd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	retry_ready(l, p, n);
	fire_timers(l, p);
	return extra_fd >= 0 && p->pfds[1].revents;
}

/* ---- the backend proper -------------------------------------------- */

static int blocking_init(struct zk_loop *l, unsigned int entries)
{
	struct zk_sys_poller *p;
	int ret;

	(void)entries;
	ret = zk_poller_init(&p);
	if (!ret)
		l->priv = p;
	return ret;
}

static void blocking_exit(struct zk_loop *l)
{
	zk_poller_exit(l->priv);
}

static void blocking_submit(struct zk_loop *l, struct zk_op *op)
{
	zk_poller_submit(l, l->priv, op);
}

static void blocking_cancel(struct zk_loop *l, struct zk_op *op)
{
	zk_poller_cancel(l, l->priv, op);
}

static void blocking_wait(struct zk_loop *l, bool block)
{
	zk_poller_wait(l, l->priv, block, -1);
}

static void blocking_wake(struct zk_loop *target, struct zk_loop *waker)
{
	(void)waker;
	zk_poller_wake(target->priv);
}

static bool blocking_native(const struct zk_loop *l, enum zk_opcode code)
{
	(void)l;
	return !zk_opc_ring_only(code);
}

const struct zk_backend_ops zk_backend_blocking = {
	.kind = ZK_BACKEND_BLOCKING,
	.init = blocking_init,
	.exit = blocking_exit,
	.submit = blocking_submit,
	.cancel = blocking_cancel,
	.wait = blocking_wait,
	.wake = blocking_wake,
	.native = blocking_native,
};
