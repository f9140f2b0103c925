// SPDX-License-Identifier: GPL-2.0
/*
 * SOURCE_WAIT and SOURCE_SIGNAL: the ring side of event sources
 * (../source.c has the source side).
 *
 * A SOURCE_WAIT is multishot: each signal of its source posts a CQE
 * flagged MORE from the signalling context, until something ends the wait
 * with its terminal CQE.  Three parties can end it: a canceller (CANCEL,
 * LINK_TIMEOUT, ring close) under ring->lock, a signal that finds no room
 * for its CQE (-EOVERFLOW), and the source's destruction (-ENODEV), both
 * under src->lock.  Because nothing takes src->lock under ring->lock, the
 * two sides agree through req->source.state instead of a common lock:
 *
 *   ARMED -> POSTING -> ARMED         a signal posts a CQE flagged MORE
 *   ARMED -> DONE                     a canceller or the source ends it
 *   POSTING -> POSTING_CANCEL         a canceller asks while a CQE is posted;
 *                                     it answers -EALREADY and the signal,
 *                                     once its CQE is out, ends the wait with
 *                                     -ECANCELED
 *   POSTING -> DONE                   the signal found no room: -EOVERFLOW
 *
 * Whoever moves the state to DONE owns the completion: it takes the
 * request off ring->inflight and completes it, exactly once, and no CQE
 * flagged MORE can follow, since only POSTING posts one.
 */
#include <linux/kernel.h>
#include <linux/err.h>
#include "zsync.h"
#include "zsync_source.h"

/* Bits 0-30 of a value go to res, so a CQE flagged MORE is never negative. */
#define ZSYNC_SOURCE_RES_MASK	0x7fffffffU

int zsync_source_wait_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_source *src = zsync_source_from_file(req->file, false);

	if (IS_ERR(src))
		return PTR_ERR(src);
	INIT_LIST_HEAD(&req->source.node);
	req->source.src = src;
	return zsync_req_alloc_ovf_pool(req, zsync_multishot_backlog);
}

enum zsync_issue_ret zsync_source_wait_issue(struct zsync_req *req)
{
	int ret = zsync_source_arm(req->source.src, req);

	if (ret) {
		req->res = ret;
		return ZSYNC_ISSUE_DONE;
	}
	return ZSYNC_ISSUE_ARMED;
}

/* Under ring->lock: must not take src->lock (see ../source.c). */
int zsync_source_wait_cancel(struct zsync_req *req)
{
	atomic_t *state = &req->source.state;
	int old = atomic_read(state);

	for (;;) {
		if (old == ZSYNC_SRCW_ARMED) {
			if (atomic_try_cmpxchg(state, &old, ZSYNC_SRCW_DONE))
				return 0;
		} else if (old == ZSYNC_SRCW_POSTING) {
			/* The signal posting now ends it once its CQE is out. */
			if (atomic_try_cmpxchg(state, &old, ZSYNC_SRCW_POSTING_CANCEL))
				return -EALREADY;
		} else {
			return -EALREADY;
		}
	}
}

/**
 * zsync_source_wait_post() - post one signal's CQE for an armed SOURCE_WAIT
 * @req: a request on its source's waiter list; caller holds src->lock
 * @value: the signalled value
 * @owned: set if the caller now owns the request's completion (it took it
 *	to DONE with req->source.end_res set): it must take it off the
 *	source's list and, once src->lock is dropped, zsync_source_wait_end()
 *
 * Return: 1 if a CQE flagged MORE was posted, else 0.
 */
int zsync_source_wait_post(struct zsync_req *req, u32 value, bool *owned)
{
	atomic_t *state = &req->source.state;
	int old = ZSYNC_SRCW_ARMED;
	bool posted;

	*owned = false;
	/* Not armed: a canceller completed it; it leaves the list when freed. */
	if (!atomic_try_cmpxchg(state, &old, ZSYNC_SRCW_POSTING))
		return 0;
	posted = zsync_req_post_more(req, value & ZSYNC_SOURCE_RES_MASK,
				     value & ZSYNC_CQE_F_VALUE_BIT31);
	old = ZSYNC_SRCW_POSTING;
	if (posted && atomic_try_cmpxchg(state, &old, ZSYNC_SRCW_ARMED))
		return 1;
	/* No room for the CQE, or a canceller asked meanwhile: end it. */
	old = atomic_xchg(state, ZSYNC_SRCW_DONE);
	req->source.end_res = old == ZSYNC_SRCW_POSTING_CANCEL ? -ECANCELED : -EOVERFLOW;
	*owned = true;
	return posted;
}

/**
 * zsync_source_wait_claim() - take the completion of an armed SOURCE_WAIT
 * @req: a request on its source's waiter list; caller holds src->lock
 * @res: the result it will complete with
 *
 * Return: true if the caller owns the completion now (as for @owned of
 * zsync_source_wait_post()), false if a canceller does.
 */
bool zsync_source_wait_claim(struct zsync_req *req, s32 res)
{
	int old = ZSYNC_SRCW_ARMED;

	if (!atomic_try_cmpxchg(&req->source.state, &old, ZSYNC_SRCW_DONE))
		return false;
	req->source.end_res = res;
	return true;
}

/**
 * zsync_source_wait_end() - complete a SOURCE_WAIT its source ended
 * @req: a request the caller owns, on the caller's private list; no
 *	source or ring lock held
 */
void zsync_source_wait_end(struct zsync_req *req)
{
	list_del_init(&req->source.node);
	zsync_req_complete_armed(req, req->source.end_res);
}

/* Runs before req->file, and with it the source, is dropped. */
void zsync_source_wait_cleanup(struct zsync_req *req)
{
	/*
	 * Never armed: never on a list, so no lock is needed, and none may be
	 * taken here: an unissued member of a chain can be freed while its
	 * own source's lock is held (a signal's post completing a TIMEOUT the
	 * chain waited for, on a closing ring).
	 */
	if (atomic_read(&req->source.state) != ZSYNC_SRCW_IDLE)
		zsync_source_unlink(req->source.src, req);
}

int zsync_source_signal_prep(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_source *src = zsync_source_from_file(req->file, true);

	if (IS_ERR(src))
		return PTR_ERR(src);
	req->source.src = src;
	req->source.value = sqe->len;
	return 0;
}

enum zsync_issue_ret zsync_source_signal_issue(struct zsync_req *req)
{
	req->res = zsync_source_signal_task(req->source.src, req->source.value);
	return ZSYNC_ISSUE_DONE;
}
