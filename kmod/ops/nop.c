// SPDX-License-Identifier: GPL-2.0
/*
 * NOP: completes at once.  With ZSYNC_NOP_INJECT_RESULT it completes with a
 * result chosen by the submitter, which is how tests and benchmarks drive
 * link failure without a real failing op.
 */
#include <linux/kernel.h>
#include "zsync.h"

/* A lone NOP needs no request: its CQE comes from the SQE alone. */
int zsync_nop_complete_noreq(const struct zsync_sqe *sqe, s32 *res)
{
	if (sqe->op_flags & ~ZSYNC_NOP_INJECT_RESULT)
		return -EINVAL;
	if (!(sqe->op_flags & ZSYNC_NOP_INJECT_RESULT) && sqe->len)
		return -EINVAL;
	*res = (sqe->op_flags & ZSYNC_NOP_INJECT_RESULT) ? (s32)sqe->len : 0;
	return 0;
}

int zsync_nop_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	return zsync_nop_complete_noreq(sqe, &req->res);
}

enum zsync_issue_ret zsync_nop_issue(struct zsync_req *req)
{
	return ZSYNC_ISSUE_DONE;
}
