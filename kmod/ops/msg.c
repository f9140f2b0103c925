// SPDX-License-Identifier: GPL-2.0
/*
 * MSG_RING: post a CQE into another ring.  A thread that waits on its own
 * ring can be woken by any other thread (or process holding the ring fd)
 * with a CQE carrying a value of the sender's choosing.
 *
 * The request never holds the target's file, only its memory
 * (ring->obj_refs): a ring file held by a request of that same ring, or of
 * a ring whose request names it back, would never reach ->release, and
 * the rings, their requests and the module would stay forever.  Every
 * other op refuses a ring fd (zsync_req_capture()).
 */
#include <linux/kernel.h>
#include <linux/file.h>
#include <linux/fs.h>
#include "zsync.h"

int zsync_msg_ring_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_ring *target;
	struct file *file;

	if (sqe->fd < 0)
		return -EBADF;
	file = fget(sqe->fd);
	if (!file)
		return -EBADF;
	if (!zsync_file_is_ring(file)) {
		fput(file);
		return -EBADFD;
	}
	target = file->private_data;
	/* The file holds one, and we hold the file: cannot be the last. */
	refcount_inc(&target->obj_refs);
	fput(file);
	req->msg.target = target;
	req->msg.user_data = sqe->off;
	req->msg.res = (s32)sqe->len;
	return 0;
}

enum zsync_issue_ret zsync_msg_ring_issue(struct zsync_req *req)
{
	struct zsync_ring *target = req->msg.target;

	/*
	 * Its requests' references keep a closing ring's release waiting:
	 * one for the post makes the release wait for it too (eventfd,
	 * notify work).  None left: it is released.
	 */
	if (!refcount_inc_not_zero(&target->refs)) {
		req->res = -EBADFD;
		return ZSYNC_ISSUE_DONE;
	}
	/* Pairs with the store-release in SETUP that publishes the regions. */
	if (!smp_load_acquire(&target->ready))
		req->res = -EBADFD;
	else
		req->res = zsync_post_aux_cqe(target, req->msg.user_data, req->msg.res, 0);
	zsync_ring_put(target);
	return ZSYNC_ISSUE_DONE;
}

/* Drops the target taken at prep; process context. */
void zsync_msg_ring_cleanup(struct zsync_req *req)
{
	if (req->msg.target)
		zsync_ring_obj_put(req->msg.target);
}
