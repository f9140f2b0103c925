// SPDX-License-Identifier: GPL-2.0
/*
 * CANCEL: cancels armed requests of the same ring by user_data, by fd, or
 * all of them.  Requests that wait in a chain behind another are not armed
 * yet; cancelling the request they wait for cancels them with it.
 */
#include <linux/kernel.h>
#include "zsync.h"

int zsync_cancel_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_cancel *c = &req->cancel;
	u32 flags = sqe->op_flags;

	if (flags & ~ZSYNC_CANCEL_FLAGS_ALL)
		return -EINVAL;
	if ((flags & ZSYNC_CANCEL_FD) && (flags & ZSYNC_CANCEL_ANY))
		return -EINVAL;
	if (flags & ZSYNC_CANCEL_FD) {
		if (sqe->fd < 0 || sqe->addr)
			return -EINVAL;
	} else if (sqe->fd) {
		return -EINVAL;
	}
	if ((flags & ZSYNC_CANCEL_ANY) && sqe->addr)
		return -EINVAL;
	c->user_data = sqe->addr;
	c->fd = sqe->fd;
	c->flags = flags;
	return 0;
}

enum zsync_issue_ret zsync_cancel_issue(struct zsync_req *req)
{
	req->res = zsync_cancel_match(req->ring, &req->cancel, req);
	return ZSYNC_ISSUE_DONE;
}
