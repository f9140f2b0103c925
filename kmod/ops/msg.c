// SPDX-License-Identifier: GPL-2.0
/*
 * MSG_RING: post a CQE into another ring.  A thread that waits on its own
 * ring can be woken by any other thread (or process holding the ring fd)
 * with a CQE carrying a value of the sender's choosing.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include "zsync.h"

int zsync_msg_ring_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	if (!zsync_file_is_ring(req->file))
		return -EBADFD;
	req->msg.user_data = sqe->off;
	req->msg.res = (s32)sqe->len;
	return 0;
}

enum zsync_issue_ret zsync_msg_ring_issue(struct zsync_req *req)
{
	struct zsync_ring *target = req->file->private_data;

	/* Pairs with the store-release in SETUP that publishes the regions. */
	if (!smp_load_acquire(&target->ready))
		req->res = -EBADFD;
	else
		req->res = zsync_post_aux_cqe(target, req->msg.user_data, req->msg.res, 0);
	return ZSYNC_ISSUE_DONE;
}
