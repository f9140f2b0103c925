// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-soak: a ring whose every op is accounted for.
 *
 * Each op gets a slot; its user_data names the slot, the ring generation
 * and a sequence number, so a CQE can be matched to exactly one op:
 *
 *   bits 40-63  generation (per worker, never 0)
 *   bits 12-39  sequence number within the generation
 *   bits  0-11  slot
 *
 * The rules checked on every CQE: its user_data is a live op's (not
 * unknown, not one whose terminal CQE came already), ZSYNC_CQE_F_MORE only
 * on multishot ops, no flag bits the op cannot post.  The rule checked
 * when a ring is emptied: every op got its terminal CQE.
 */
#include <errno.h>
#include <string.h>

#include "soak.h"

#define UD_SLOT_BITS	12
#define UD_SEQ_BITS	28
#define UD_GEN_SHIFT	(UD_SLOT_BITS + UD_SEQ_BITS)
#define UD_SEQ_MASK	((1ULL << UD_SEQ_BITS) - 1)
#define UD_GEN_MASK	((1ULL << (64 - UD_GEN_SHIFT)) - 1)

/* The last retired ops, to name the op of a CQE that came too late. */
#define RETIRED		4096
static struct { uint64_t ud; uint8_t opcode; } retired[RETIRED];

static uint64_t make_ud(const struct sring *r, unsigned int slot)
{
	return ((r->gen & UD_GEN_MASK) << UD_GEN_SHIFT) |
	       ((r->seq & UD_SEQ_MASK) << UD_SLOT_BITS) | slot;
}

int sring_open(struct worker *w)
{
	struct sring *r = &w->ring;
	struct zsync_params p;
	unsigned int i;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = SR_CQ_ENTRIES;
	ret = zk_ring_init_params(SR_SQ_ENTRIES, &r->zr, &p);
	if (ret) {
		soak_fail(w, C_F_OTHER, "ring setup (%u SQEs, %u CQEs): %s",
			  SR_SQ_ENTRIES, SR_CQ_ENTRIES, errname(ret));
		return ret;
	}
	r->open = true;
	r->gen++;
	r->seq = 0;
	r->live = 0;
	memset(r->ops, 0, sizeof(r->ops));
	for (i = 0; i < SR_SLOTS; i++)
		r->free[i] = (uint16_t)(SR_SLOTS - 1 - i);
	r->nfree = SR_SLOTS;
	ctr_add(w->slot, C_RINGS, 1);
	return 0;
}

bool sring_room(struct worker *w, unsigned int n)
{
	struct sring *r = &w->ring;

	return r->open && !w->draining && r->nfree >= n &&
	       zk_sq_space_left(&r->zr) >= n;
}

static struct zsync_sqe *prep(struct worker *w, sop_fn fn, void *ctx,
			      uint64_t arg, struct sop **opp, bool force)
{
	struct sring *r = &w->ring;
	struct zsync_sqe *sqe;
	struct sop *op;
	unsigned int slot;

	if (!r->open || (w->draining && !force) || !r->nfree)
		return NULL;
	sqe = zk_get_sqe(&r->zr);
	if (!sqe)
		return NULL;
	slot = r->free[--r->nfree];
	op = &r->ops[slot];
	memset(op, 0, sizeof(*op));
	op->ud = make_ud(r, slot);
	op->fn = fn;
	op->ctx = ctx;
	op->arg = arg;
	op->t_prep = now_ns();
	r->seq++;
	r->live++;
	sqe->user_data = op->ud;
	if (opp)
		*opp = op;
	return sqe;
}

struct zsync_sqe *sring_prep(struct worker *w, sop_fn fn, void *ctx,
			     uint64_t arg, struct sop **opp)
{
	return prep(w, fn, ctx, arg, opp, false);
}

struct zsync_sqe *sring_prep_force(struct worker *w, sop_fn fn, void *ctx,
				   uint64_t arg, struct sop **opp)
{
	return prep(w, fn, ctx, arg, opp, true);
}

static struct sop *lookup(struct sring *r, uint64_t ud)
{
	unsigned int slot = ud & ((1U << UD_SLOT_BITS) - 1);

	if (slot >= SR_SLOTS || !r->ops[slot].ud || r->ops[slot].ud != ud)
		return NULL;
	return &r->ops[slot];
}

/* Whether the kernel may post F_MORE CQEs for this SQE. */
static bool is_multishot(const struct zsync_sqe *sqe)
{
	switch (sqe->opcode) {
	case ZSYNC_OP_SOURCE_WAIT:
	case ZSYNC_OP_CGROUP_WAIT:
		return true;
	case ZSYNC_OP_POLL_ADD:
		return sqe->op_flags & ZSYNC_POLL_MULTISHOT;
	case ZSYNC_OP_ACCEPT:
		return sqe->op_flags & ZSYNC_ACCEPT_MULTISHOT;
	}
	return false;
}

/*
 * Publish the SQEs prepared since the last call.  The op slots learn
 * their opcode here, from the finished SQE, so that callers may fill
 * SQEs with the zk_prep_*() helpers after sring_prep().
 */
static unsigned int publish(struct sring *r)
{
	struct zk_sq *sq = &r->zr.sq;
	unsigned int i;

	for (i = sq->sqe_head; i != sq->sqe_tail; i++) {
		const struct zsync_sqe *sqe = &sq->sqes[i & sq->mask];
		struct sop *op = lookup(r, sqe->user_data);

		if (op) {
			op->opcode = sqe->opcode;
			op->multishot = is_multishot(sqe);
		}
	}
	zk_store_release(sq->ktail, sq->sqe_tail);
	sq->sqe_head = sq->sqe_tail;
	return sq->sqe_tail - zk_load_acquire(sq->khead);
}

/*
 * Submit what is prepared and wait up to @wait_ns for one CQE.  Every
 * ENTER also runs the work the ring keeps for this thread (socket retries,
 * cgroup waits), so the loop calls this even with nothing to submit.
 */
int sring_enter(struct worker *w, int64_t wait_ns)
{
	struct sring *r = &w->ring;
	struct zsync_timespec ts = ns_to_zts(wait_ns);
	unsigned int to_submit = publish(r);
	int wait_res = 0, ret;

	ret = zk_enter(&r->zr, to_submit, wait_ns > 0 ? 1 : 0, ZSYNC_ENTER_GETEVENTS,
		       NULL, wait_ns > 0 ? &ts : NULL, &wait_res);
	if (ret > 0) {
		ctr_add(w->slot, C_SQES, (uint64_t)ret);
		return ret;
	}
	/* Timeout and signals end a wait; -EBUSY: reap, then submit again. */
	if (ret == -ETIME || ret == -EINTR || ret == -EBUSY || ret == 0)
		return 0;
	soak_fail(w, C_F_OTHER, "ENTER (%u to submit, wait %lld ns): %s",
		  to_submit, (long long)wait_ns, errname(ret));
	return ret;
}

static void retire(struct sop *op)
{
	unsigned int i = (op->ud >> UD_SLOT_BITS) % RETIRED;

	retired[i].ud = op->ud;
	retired[i].opcode = op->opcode;
}

static void stray_cqe(struct worker *w, const struct zsync_cqe *c)
{
	const struct sring *r = &w->ring;
	uint64_t gen = c->user_data >> UD_GEN_SHIFT;
	uint64_t seq = (c->user_data >> UD_SLOT_BITS) & UD_SEQ_MASK;
	unsigned int i = seq % RETIRED;
	const char *name = retired[i].ud == c->user_data ?
			   opname(retired[i].opcode) : "op";

	if (gen == (r->gen & UD_GEN_MASK) && seq < r->seq)
		soak_fail(w, C_F_ACCT,
			  "CQE after the terminal CQE of %s user_data %#llx: res %d (%s) flags %#x",
			  name, (unsigned long long)c->user_data, c->res, errname(c->res), c->flags);
	else
		soak_fail(w, C_F_ACCT, "CQE for unknown user_data %#llx: res %d (%s) flags %#x",
			  (unsigned long long)c->user_data, c->res, errname(c->res), c->flags);
}

static void handle_cqe(struct worker *w, const struct zsync_cqe *c)
{
	struct sring *r = &w->ring;
	struct sop *op = lookup(r, c->user_data);
	uint32_t allowed = ZSYNC_CQE_F_MORE;
	unsigned int slot;

	ctr_add(w->slot, C_CQES, 1);
	if (!op) {
		stray_cqe(w, c);
		return;
	}
	if (op->opcode == ZSYNC_OP_SOURCE_WAIT)
		allowed |= ZSYNC_CQE_F_VALUE_BIT31;
	if (c->flags & ~allowed)
		soak_fail(w, C_F_ACCT, "%s user_data %#llx: CQE flags %#x, res %d (%s)",
			  opname(op->opcode), (unsigned long long)op->ud, c->flags,
			  c->res, errname(c->res));
	if (c->flags & ZSYNC_CQE_F_MORE) {
		ctr_add(w->slot, C_MORE, 1);
		if (!op->multishot)
			soak_fail(w, C_F_ACCT,
				  "%s user_data %#llx is single-shot but got ZSYNC_CQE_F_MORE (res %d)",
				  opname(op->opcode), (unsigned long long)op->ud, c->res);
		op->nmore++;
		op->fn(w, op, c, false);
		return;
	}
	ctr_add(w->slot, C_TERMINAL, 1);
	op->fn(w, op, c, true);
	retire(op);
	slot = (unsigned int)(op - r->ops);
	op->ud = 0;
	r->free[r->nfree++] = (uint16_t)slot;
	r->live--;
}

/*
 * Take every CQE the CQ ring holds.  Each is copied and handed back to
 * the kernel before its callback runs: callbacks prepare new SQEs, and
 * the slot of a terminal op is reused at once.
 */
void sring_reap(struct worker *w)
{
	struct zk_ring *zr = &w->ring.zr;
	struct zsync_cqe c;
	unsigned int head;

	if (!w->ring.open)
		return;
	while (zk_cq_ready(zr)) {
		head = __atomic_load_n(zr->cq.khead, __ATOMIC_RELAXED);
		c = zr->cq.cqes[head & zr->cq.mask];
		zk_cq_advance(zr, 1);
		handle_cqe(w, &c);
	}
}

static void cancel_done(struct worker *w, struct sop *op,
			const struct zsync_cqe *cqe, bool terminal)
{
	(void)terminal;
	/* n cancelled, none left (-ENOENT), or all completing by themselves. */
	if (cqe->res >= 0 || cqe->res == -ENOENT || cqe->res == -EALREADY)
		return;
	soak_bad_res(w, C_F_ACCT, op, cqe, "CANCEL failed");
}

void sring_cancel_ud(struct worker *w, uint64_t ud)
{
	struct zsync_sqe *sqe = sring_prep_force(w, cancel_done, NULL, 0, NULL);

	if (sqe)
		zk_prep_cancel(sqe, ud, 0);
}

/*
 * Cancel everything and reap until every op has its terminal CQE, up to
 * @deadline.  CANCEL ANY|ALL is repeated every second: an op that a
 * wakeup had already taken answers -EALREADY and finishes by itself, but
 * a multishot one may re-arm in between.  Ops still live at the deadline
 * lost their CQE: each is reported.
 */
bool sring_drain(struct worker *w, int64_t deadline)
{
	struct sring *r = &w->ring;
	int64_t start = now_ns(), next_cancel = start, now;
	struct zsync_sqe *sqe;
	unsigned int i;

	while (r->live > 0 && (now = now_ns()) < deadline) {
		if (now >= next_cancel) {
			sqe = sring_prep_force(w, cancel_done, NULL, 0, NULL);
			if (sqe)
				zk_prep_cancel(sqe, 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL);
			next_cancel = now + NSEC_PER_SEC;
		}
		sring_enter(w, 20 * NSEC_PER_MSEC);
		sring_reap(w);
	}
	if (!r->live)
		return true;
	for (i = 0; i < SR_SLOTS; i++) {
		const struct sop *op = &r->ops[i];

		if (!op->ud)
			continue;
		soak_fail(w, C_F_ACCT,
			  "%s user_data %#llx: no terminal CQE %lld ms after CANCEL ANY|ALL (%u F_MORE CQEs, prepared %lld ms ago)",
			  opname(op->opcode), (unsigned long long)op->ud,
			  (long long)((now_ns() - start) / NSEC_PER_MSEC), op->nmore,
			  (long long)((now_ns() - op->t_prep) / NSEC_PER_MSEC));
	}
	return false;
}

/*
 * Close the ring.  Ops still live are abandoned: the kernel cancels them
 * and posts nothing more, so they are counted apart, not as lost.
 */
void sring_close(struct worker *w, bool abrupt)
{
	struct sring *r = &w->ring;

	if (!r->open)
		return;
	if (r->live) {
		ctr_add(w->slot, C_ABANDONED, r->live);
		if (abrupt)
			ctr_add(w->slot, C_RINGS_ABRUPT, 1);
	}
	zk_ring_exit(&r->zr);
	r->open = false;
	r->live = 0;
	r->nfree = 0;
}
