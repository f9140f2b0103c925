// SPDX-License-Identifier: GPL-2.0
/*
 * POLL_ADD and POLL_REMOVE.  POLL_ADD completes with the ready events when
 * the file reports one it waits for; a multishot POLL_ADD posts a CQE for
 * every such wakeup until it is removed.
 *
 * A file that wakes a single wait queue (sockets, eventfd, timerfd, ...)
 * gets its CQE posted straight from the wakeup, whatever context that is.
 * A file with two queues (a pipe) is evaluated again with ->poll() in a
 * worker, because the wakeup on one queue cannot take the other's lock.
 */
#include <linux/kernel.h>
#include <linux/poll.h>
#include "zsync.h"

/* The events userspace may wait for; epoll's modifier bits are refused. */
#define ZSYNC_POLL_EVENTS	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				 EPOLLNVAL | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | \
				 EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

int zsync_poll_add_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	__poll_t events = (__force __poll_t)sqe->len;
	struct zsync_poll_add *pa = &req->poll_add;

	if (sqe->op_flags & ~ZSYNC_POLL_FLAGS_ALL)
		return -EINVAL;
	if (events & ~ZSYNC_POLL_EVENTS)
		return -EINVAL;
	/*
	 * A ring's wakeups post CQEs that wake rings: a ring watching a ring
	 * could wake itself in a loop.  MSG_RING is the way to wake another.
	 */
	if (zsync_file_is_ring(req->file))
		return -EINVAL;
	pa->events = events;
	pa->multishot = sqe->op_flags & ZSYNC_POLL_MULTISHOT;
	if (pa->multishot)
		return zsync_req_alloc_ovf_pool(req, zsync_multishot_backlog);
	return 0;
}

enum zsync_issue_ret zsync_poll_add_issue(struct zsync_req *req)
{
	return zsync_poll_arm(req, req->poll_add.events);
}

/* The CQE result of a wakeup: the ready events, as EPOLL* values like sqe->len. */
static s32 zsync_poll_res(__poll_t mask)
{
	return (__force s32)mask;
}

/* Posts one multishot CQE; returns -EAGAIN to stay armed, or the end. */
static int zsync_poll_add_post_more(struct zsync_req *req, __poll_t mask)
{
	if (!zsync_req_post_more(req, zsync_poll_res(mask), 0))
		return -EOVERFLOW;
	return -EAGAIN;
}

/* After a wakeup, in a worker: ask the file again. */
int zsync_poll_add_retry(struct zsync_req *req)
{
	__poll_t mask = vfs_poll(req->file, NULL) & req->poll.events;

	if (!mask)
		return -EAGAIN;
	/* A file without a wait queue would be ready forever: one CQE ends it. */
	if (req->poll_add.multishot && req->poll.nr_entries)
		return zsync_poll_add_post_more(req, mask);
	return zsync_poll_res(mask);
}

/* In the wakeup that won the request, with @e's queue lock held. */
void zsync_poll_add_wake(struct zsync_req *req, struct zsync_poll_entry *e, __poll_t mask)
{
	/* No mask (a bare wake_up()) or a second queue: ask the file in a worker. */
	if (!mask || req->poll.nr_entries != 1) {
		zsync_poll_schedule(req);
		return;
	}
	mask &= req->poll.events;
	if (!req->poll_add.multishot) {
		zsync_poll_finish_in_wakeup(req, e, zsync_poll_res(mask));
		return;
	}
	if (zsync_poll_add_post_more(req, mask) != -EAGAIN)
		zsync_poll_finish_in_wakeup(req, e, -EOVERFLOW);
	else if (!zsync_poll_release(req))
		zsync_poll_finish_in_wakeup(req, e, -ECANCELED);
}

int zsync_poll_remove_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	req->cancel.user_data = sqe->addr;
	req->cancel.opcode = ZSYNC_OP_POLL_ADD;
	req->cancel.only_opcode = true;
	return 0;
}

enum zsync_issue_ret zsync_poll_remove_issue(struct zsync_req *req)
{
	int ret = zsync_cancel_match(req->ring, &req->cancel, req);

	req->res = ret > 0 ? 0 : ret;
	return ZSYNC_ISSUE_DONE;
}
