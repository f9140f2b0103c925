// SPDX-License-Identifier: GPL-2.0
/*
 * Submission: consuming SQEs from the shared SQ ring (zsync_submit_sqes()),
 * the checks every SQE passes, request-less completion, and the batch of
 * CQEs an ENTER posts together.  Runs in the submitting thread, under
 * ring->submit_lock.  See Documentation/internals.rst, "The submission hot
 * path".
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include "zsync.h"
#include "zsync_trace.h"

/* Fields the op does not read must be zero, so they can gain meaning later. */
static bool zsync_unused_fields_zero(const struct zsync_sqe *sqe, u32 fields)
{
	if (!(fields & ZSYNC_FIELD_FD) && sqe->fd)
		return false;
	if (!(fields & ZSYNC_FIELD_OFF) && sqe->off)
		return false;
	if (!(fields & ZSYNC_FIELD_ADDR) && sqe->addr)
		return false;
	if (!(fields & ZSYNC_FIELD_LEN) && sqe->len)
		return false;
	if (!(fields & ZSYNC_FIELD_OPFLAGS) && sqe->op_flags)
		return false;
	if (!(fields & ZSYNC_FIELD_ADDR2) && sqe->addr2)
		return false;
	return true;
}

static inline int zsync_check_restriction(const struct zsync_ring *ring,
					  const struct zsync_sqe *sqe)
{
	if (!ring->restricted)
		return 0;
	if (!test_bit(sqe->opcode, ring->allowed_ops))
		return -EACCES;
	if (sqe->flags & ~ring->allowed_sqe_flags)
		return -EACCES;
	return 0;
}

/*
 * The checks every SQE passes before its op's own: reserved fields and
 * flags, the ring's restrictions, disabled families, and that the fields
 * the op does not read are zero.  Return: 0 or the CQE's error.
 */
static __always_inline int zsync_sqe_check(const struct zsync_ring *ring,
					    const struct zsync_sqe *sqe,
					    const struct zsync_opdef *def)
{
	int ret;

	if (sqe->resv0 || sqe->resv[0] || sqe->resv[1])
		return -EINVAL;
	if (sqe->flags & ~ZSYNC_SQE_FLAGS_ALL)
		return -EINVAL;
	ret = zsync_check_restriction(ring, sqe);
	if (ret)
		return ret;
	/* Only a disabled family or an op that skips an LSM hook can be off. */
	if (unlikely(READ_ONCE(zsync_disabled_families) ||
		     (def->flags & ZSYNC_OPF_SKIPS_LSM)) &&
	    zsync_op_disabled(sqe->opcode)) {
		zsync_stat_inc(ops_disabled);
		return -EOPNOTSUPP;
	}
	if (!zsync_unused_fields_zero(sqe, def->fields))
		return -EINVAL;
	return 0;
}

/**
 * zsync_req_prep() - validate a kernel copy of an SQE and prepare @req
 * @req: the request, with ring, user_data and opcode already set
 * @sqe: the SQE, already copied out of the shared ring
 * @lone: not part of a chain (see zsync_req_capture())
 *
 * Runs in the submitter's context, inlined in the submission loop.
 * Return: 0 or a negative errno that becomes the request's CQE result.
 */
static int zsync_req_prep(struct zsync_req *req, const struct zsync_sqe *sqe, bool lone)
{
	const struct zsync_opdef *def;
	int ret;

	def = zsync_opdef_get(sqe->opcode);
	if (!def)
		return -EINVAL;
	/* Before req->def is set: cleanup() may look at the area. */
	if (def->cmd_size)
		zsync_req_cmd_clear(req, def->cmd_size);
	req->def = def;
	ret = zsync_sqe_check(req->ring, sqe, def);
	if (ret)
		return ret;
	/* The submitter's files and identity, while we run as it. */
	if (def->flags & ZSYNC_OPF_CAPTURE) {
		ret = zsync_req_capture(req, sqe, lone);
		if (ret)
			return ret;
	} else {
		/* For zsync_ring_flush(): which fd table's requests these are. */
		req->owner = current->files;
	}
	return INDIRECT_CALL_2(def->prep, zsync_nop_prep, zsync_rw_prep, req, sqe);
}

static int zsync_prep_in_chain(struct zsync_req *req, const struct zsync_sqe *sqe,
			       struct zsync_chain *chain)
{
	bool lone = !chain->head && !(sqe->flags & ZSYNC_SQE_LINK);
	int ret = zsync_req_prep(req, sqe, lone);

	if (ret || req->opcode != ZSYNC_OP_LINK_TIMEOUT)
		return ret;
	/* A LINK_TIMEOUT guards the SQE right before it, which must link to it. */
	return zsync_link_timeout_attach(chain->last, req);
}

/*
 * The batch of completions an ENTER collects: a lone SQE that completes
 * during submission (the common case: NOP, cached reads, prep errors)
 * waits here and is posted with the others under one hold of cq_lock,
 * with one tail publish, one wakeup and one count-TIMEOUT check
 * (zsync_post_cqe_batch()); its request, if it had one, is then recycled
 * into the private cache without an atomic.  No other context ever saw
 * these requests, so nothing else can post them or hold them: only a lone
 * one (a chain posts its CQEs in chain order, as its members finish) and
 * only one that never armed.
 */
static void zsync_submit_post(struct zsync_ring *ring, struct zsync_submit *s)
{
	unsigned int n = s->nr_done - s->nr_posted;

	if (!n)
		return;
	/* First: a CQE posted by what this post wakes must find none pending. */
	s->nr_posted = s->nr_done;
	s->live_done += n;
	s->cq_room = zsync_post_cqe_batch(ring, s->done + s->nr_done - n, n);
	/* Posted: their reserved requests are free again. */
	s->nr_noreq = 0;
}

/**
 * zsync_submit_post_pending() - post the CQEs the current submission holds
 * @ring: a ring whose CQE is about to be posted some other way
 *
 * CQEs appear in the order their requests completed: a CQE posted
 * directly while the submitting thread still holds completed ones in its
 * batch (a chain's, one a CANCEL or a wakeup in this thread posts, ...)
 * goes after them.  Only the submitting thread in task context holds a
 * batch; other contexts have no order with it and return at once.
 */
void zsync_submit_post_pending(struct zsync_ring *ring)
{
	if (zsync_in_submission(ring))
		zsync_submit_post(ring, &ring->submit);
}

/* Posts the batch and recycles its requests; process context, submit_lock. */
static void zsync_submit_flush(struct zsync_ring *ring, struct zsync_submit *s)
{
	unsigned int i, n = s->nr_done;

	if (!n)
		return;
	zsync_submit_post(ring, s);
	s->nr_done = 0;
	s->nr_posted = 0;
	for (i = 0; i < n; i++) {
		struct zsync_req *req = s->done[i].req;

		/* Its ring reference goes back to the reserve. */
		if (!req) {
			s->refs_done++;
			continue;
		}
		/* Its CQE waits in the overflow list: not recyclable yet. */
		if (zsync_req_overflowed(req)) {
			zsync_req_put(zsync_req_untag(req));
			continue;
		}
		if (unlikely(zsync_req_has_resources(req)))
			zsync_req_release_resources(req);
		if (unlikely(req->ovf_pool))
			kfree(req->ovf_pool);
		zsync_req_cache_push(ring, req);
		s->refs_done++;
	}
}

static void zsync_submit_add_done(struct zsync_ring *ring, struct zsync_submit *s,
				  struct zsync_req *req, u64 user_data, u8 opcode, s32 res)
{
	struct zsync_done *d = &s->done[s->nr_done++];

	d->user_data = user_data;
	d->res = res;
	d->opcode = opcode;
	d->req = req;
	if (s->nr_done == ZSYNC_SUBMIT_BATCH)
		zsync_submit_flush(ring, s);
}

static void zsync_submit_done(struct zsync_ring *ring, struct zsync_submit *s,
			      struct zsync_req *req)
{
	zsync_submit_add_done(ring, s, req, req->user_data, req->opcode, req->res);
}

/*
 * A request that is not part of a chain.  It runs in the submitting
 * thread; if it completes there without arming, its CQE joins the batch.
 */
static void zsync_submit_lone(struct zsync_ring *ring, struct zsync_submit *s,
			      struct zsync_req *req)
{
	if (req->failed) {
		zsync_submit_done(ring, s, req);
		return;
	}
	/* The general path for what cannot run here and now. */
	if (unlikely(READ_ONCE(ring->dying) || !req->def->issue ||
		     (req->task && req->task != current))) {
		zsync_run_chain(req);
		return;
	}
	if (zsync_issue(req) == ZSYNC_ISSUE_ARMED)
		return;
	trace_zsync_issue_path(ring, req, req->user_data, req->opcode, ZSYNC_PATH_INLINE);
	/* Off its wait queues before its CQE is out (see zsync_req_finish()). */
	if (unlikely(req->poll.nr_entries))
		zsync_poll_disarm(req);
	zsync_submit_done(ring, s, req);
}

/*
 * Request-less completion: a lone SQE that is refused by the common
 * checks, or whose op completes from the SQE alone (complete_noreq, e.g.
 * NOP), only puts its CQE into the batch; no request is set up, prepared
 * and recycled for it.  The CQE and its place in the CQ ring are those
 * the request would have had; only its overflow needs a request, reserved
 * first.  Caller holds a credit of @s for it.
 * Return: false if @sqe needs a request after all.
 */
static bool zsync_submit_noreq(struct zsync_ring *ring, struct zsync_submit *s,
			       const struct zsync_sqe *sqe)
{
	const struct zsync_opdef *def = zsync_opdef_get(sqe->opcode);
	/* The slot its CQE takes: its id in the trace events. */
	const void *id = &s->done[s->nr_done];
	s32 res = 0;
	int ret;

	if (s->chain.head || ring->chain_broken || (sqe->flags & ZSYNC_SQE_LINK))
		return false;
	if (def && !def->complete_noreq)
		return false;
	if (!zsync_req_reserve(ring, s))
		return false;
	ret = def ? zsync_sqe_check(ring, sqe, def) : -EINVAL;
	if (!ret)
		ret = INDIRECT_CALL_1(def->complete_noreq, zsync_nop_complete_noreq, sqe, &res);
	trace_zsync_submit(ring, id, sqe, ret, -1);
	if (ret)
		res = ret;
	else
		trace_zsync_issue_path(ring, id, sqe->user_data, sqe->opcode,
				       ZSYNC_PATH_INLINE);
	s->nr_noreq++;
	s->credits--;
	zsync_submit_add_done(ring, s, NULL, sqe->user_data, sqe->opcode, res);
	return true;
}

static void zsync_submit_one(struct zsync_ring *ring, struct zsync_submit *s,
			     struct zsync_req *req, const struct zsync_sqe *sqe)
{
	struct zsync_chain *chain = &s->chain;
	int ret;

	req->user_data = sqe->user_data;
	req->opcode = sqe->opcode;
	req->sqe_flags = sqe->flags;
	ret = zsync_prep_in_chain(req, sqe, chain);
	if (ret) {
		req->failed = true;
		req->res = ret;
	}
	trace_zsync_submit(ring, req, sqe, ret, req->fd);

	if (chain->head) {
		chain->last->link = req;
		chain->last = req;
		chain->failed |= req->failed;
	} else if (sqe->flags & ZSYNC_SQE_LINK) {
		chain->head = req;
		chain->last = req;
		chain->failed = req->failed;
	} else {
		zsync_submit_lone(ring, s, req);
		return;
	}
	if (!(sqe->flags & ZSYNC_SQE_LINK))
		zsync_chain_end(chain);
}

/*
 * Out of memory inside a chain: what was consumed of it fails, and the SQEs
 * still to come up to the end of the chain are cancelled as they are
 * consumed, so nothing after the break ever runs.
 */
static void zsync_chain_break(struct zsync_ring *ring, struct zsync_chain *chain)
{
	if (!chain->head)
		return;
	chain->failed = true;
	ring->chain_broken = true;
}

static void zsync_cancel_broken_member(struct zsync_req *req, const struct zsync_sqe *sqe)
{
	req->user_data = sqe->user_data;
	req->opcode = sqe->opcode;
	if (!(sqe->flags & ZSYNC_SQE_LINK))
		req->ring->chain_broken = false;
	zsync_req_post_and_put(req, -ECANCELED);
}

static int zsync_submit_refused(struct zsync_ring *ring, struct zsync_submit *s)
{
	unsigned int pending = s->nr_done - s->nr_posted;

	/*
	 * CQEs that will not fit count against the overflow limit now, as
	 * they would have if posted one by one.
	 */
	if (pending > s->cq_room) {
		s->cq_room = zsync_cq_space(ring);
		if (pending > s->cq_room)
			zsync_submit_post(ring, s);
	}
	/* Bounded: past these limits the submitter must reap first. */
	if (READ_ONCE(ring->nr_overflow) >= ring->overflow_limit)
		return -EBUSY;
	/* nr_live counts credits and what completed in the batch too. */
	if (atomic_read(&ring->nr_live) - ring->credits - s->credits - s->live_done -
	    (s->nr_done - s->nr_posted) >= zsync_max_inflight)
		return -EBUSY;
	return 0;
}

/*
 * Every request holds a ring reference and counts in nr_live until its
 * terminal CQE.  Submission takes them from credits the ring keeps in
 * reserve (ring->credits, both already counted), and gives back to that
 * reserve what its batch recycled: a NOP costs no atomic on the ring, and
 * an ENTER only when the reserve runs out or overfills.
 */
#define ZSYNC_CREDITS_MAX	(2 * ZSYNC_SUBMIT_BATCH)

static void zsync_submit_begin(struct zsync_ring *ring, struct zsync_submit *s, u32 nr)
{
	u32 have = ring->credits;

	if (have < nr) {
		u32 take = nr - have + ZSYNC_SUBMIT_BATCH;

		refcount_add(take, &ring->refs);
		atomic_add(take, &ring->nr_live);
		have += take;
	}
	WRITE_ONCE(ring->credits, have - nr);
	s->credits = nr;
}

static void zsync_submit_end(struct zsync_ring *ring, struct zsync_submit *s)
{
	/* Posted from the batch but waiting in the overflow list: held there. */
	unsigned int held = s->live_done - s->refs_done;
	u32 back = ring->credits + s->credits + s->refs_done;

	if (held)
		atomic_sub(held, &ring->nr_live);
	if (back > ZSYNC_CREDITS_MAX) {
		zsync_ring_put_credits(ring, back - ZSYNC_CREDITS_MAX);
		back = ZSYNC_CREDITS_MAX;
	}
	WRITE_ONCE(ring->credits, back);
}

/**
 * zsync_ring_put_credits() - give back reserved ring references
 * @ring: the ring; the caller holds a reference of its own (the file)
 * @nr: how many credits (a ring reference and a count in nr_live each)
 */
void zsync_ring_put_credits(struct zsync_ring *ring, u32 nr)
{
	atomic_sub(nr, &ring->nr_live);
	if (WARN_ON_ONCE(refcount_sub_and_test(nr, &ring->refs)))
		complete(&ring->done);
}

/**
 * zsync_submit_sqes() - consume up to @nr SQEs from the shared SQ ring
 * @ring: the ring; caller holds ring->submit_lock and a reference to the
 *	ring's file
 * @nr: how many the caller asked for
 *
 * Every consumed SQE yields exactly one terminal CQE.  A chain still open
 * at the end of the batch ends there.  The CQEs of lone requests that
 * complete during submission are posted together before this returns.
 *
 * Return: the number consumed, or a negative errno if none was.
 */
int zsync_submit_sqes(struct zsync_ring *ring, u32 nr)
{
	/* In the ring, not on the stack, which the kernel may zero per call. */
	struct zsync_submit *s = &ring->submit;
	struct zsync_sqe *sqe = &s->sqe;
	u32 tail, avail, consumed = 0;
	int ret = 0;

	lockdep_assert_held(&ring->submit_lock);
	/* The shared tail is hostile: use it only for a clamped count. */
	tail = smp_load_acquire(&ring->sq->tail);
	avail = min(tail - ring->sq_head, ring->sq_entries);
	nr = min(nr, avail);
	if (!nr)
		return 0;
	s->chain.head = NULL;
	s->chain.last = NULL;
	s->chain.failed = false;
	s->nr_done = 0;
	s->nr_posted = 0;
	s->nr_noreq = 0;
	s->live_done = 0;
	s->refs_done = 0;
	s->cq_room = zsync_cq_space(ring);
	zsync_submit_begin(ring, s, nr);
	WRITE_ONCE(ring->batch_task, current);

	while (consumed < nr) {
		struct zsync_req *req;

		/* Limits apply between chains, never inside one. */
		if (!s->chain.head) {
			ret = zsync_submit_refused(ring, s);
			if (ret)
				break;
		}
		/*
		 * One read of the shared slot; everything after uses the copy.
		 * It is consumed only once it has its CQE or its request.
		 */
		memcpy(sqe, &ring->sqes[ring->sq_head & ring->sq_mask], sizeof(*sqe));
		if (zsync_submit_noreq(ring, s, sqe)) {
			ring->sq_head++;
			consumed++;
			goto next;
		}
		req = zsync_req_alloc(ring, s);
		if (!req) {
			ret = -ENOMEM;
			zsync_chain_break(ring, &s->chain);
			break;
		}
		ring->sq_head++;
		consumed++;
		if (ring->chain_broken)
			zsync_cancel_broken_member(req, sqe);
		else
			zsync_submit_one(ring, s, req, sqe);
next:
		if (!(consumed % ZSYNC_SUBMIT_BATCH)) {
			zsync_submit_flush(ring, s);
			cond_resched();
		}
	}
	zsync_chain_end(&s->chain);
	zsync_submit_flush(ring, s);
	WRITE_ONCE(ring->batch_task, NULL);
	zsync_submit_end(ring, s);
	zsync_stat_add(sqes, consumed);
	/* Userspace may reuse the slots once it sees the new head. */
	smp_store_release(&ring->sq->head, ring->sq_head);
	return consumed ? consumed : ret;
}
