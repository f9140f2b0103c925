// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for the hardening fixes (commits d817168 "count CQ space
 * and readiness with a signed distance" and 2ec956f "EBUSY recovery, chain
 * splits, count range, restrictions").  The comment above each test says
 * what the code from before its fix did; every test but
 * overflow_limit_is_checked_between_chains fails on that code.
 */
#include <limits.h>
#include <poll.h>
#include <signal.h>

#include "helpers.h"

/* Long enough that no TIMEOUT here ever expires by itself during a test. */
#define LONG_MS		(600 * 1000)

/* Sentinel written to wait_res: the kernel must leave it alone on errors. */
#define WAIT_RES_UNTOUCHED	0x5a5a

/* Ring with SQ @sq, CQ @cq (ZSYNC_SETUP_CQSIZE) and @limit overflow backlog. */
static void limit_ring(struct __test_metadata *_metadata, struct zk_ring *ring,
		       unsigned int sq, unsigned int cq, unsigned int limit)
{
	struct zsync_params p;

	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = cq;
	p.overflow_limit = limit;
	zt_ring_params(_metadata, ring, sq, &p);
	ASSERT_EQ(sq, p.sq_entries);
	ASSERT_EQ(cq, p.cq_entries);
	if (limit)
		ASSERT_EQ(limit, p.overflow_limit)
			TH_LOG("overflow_limit %u requested, %u granted", limit,
			       p.overflow_limit);
}

/* Take @n NOP SQEs with user_data @ud, @ud + 1, ... (not submitted). */
static void queue_nops(struct __test_metadata *_metadata, struct zk_ring *ring,
		       unsigned int n, __u64 ud)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		zt_nop(_metadata, ring, ud + i);
}

/* Raw ENTER that consumes up to @to_submit published SQEs and never waits. */
static int enter_submit(struct zk_ring *ring, unsigned int to_submit, int *wait_res)
{
	struct zsync_enter e = { .to_submit = to_submit, .wait_res = WAIT_RES_UNTOUCHED };
	int ret = zt_enter_raw(ring->fd, &e);

	if (wait_res)
		*wait_res = e.wait_res;
	return ret;
}

/* Raw ENTER that only waits for @min_complete CQEs, at most @ms. */
static int enter_wait(struct zk_ring *ring, unsigned int min_complete, int64_t ms,
		      int *wait_res)
{
	struct zsync_timespec ts = zt_ts_ms(ms);
	struct zsync_enter e = {
		.min_complete = min_complete,
		.flags = ZSYNC_ENTER_GETEVENTS,
		.timeout = (__u64)(uintptr_t)&ts,
		.wait_res = WAIT_RES_UNTOUCHED,
	};
	int ret = zt_enter_raw(ring->fd, &e);

	*wait_res = e.wait_res;
	return ret;
}

/*
 * Copy the @n oldest CQEs straight out of the CQ ring and hand the slots
 * back by storing the head: what a program reaping without any ENTER does.
 */
static void take_cqes_by_hand(struct __test_metadata *_metadata,
			      struct zk_ring *ring, struct zsync_cqe *out,
			      unsigned int n)
{
	unsigned int head = *ring->cq.khead, i;

	ASSERT_LE(n, zk_cq_ready(ring))
		TH_LOG("expected %u CQEs in the CQ ring, %u there", n, zk_cq_ready(ring));
	for (i = 0; i < n; i++)
		out[i] = ring->cq.cqes[(head + i) & ring->cq.mask];
	zk_cq_advance(ring, n);
}

/* Check @c[0..n) are CQEs of user_data @ud, @ud + 1, ... with @res. */
static void check_in_order(struct __test_metadata *_metadata,
			   const struct zsync_cqe *c, unsigned int n, __u64 ud, int res)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		zt_check_cqe(_metadata, &c[i], i, ud + i, res);
}

/* ------------------------------------------------------------------ */
/* 1. -EBUSY clears once the CQ ring is reaped, without another ENTER   */
/* ------------------------------------------------------------------ */

/*
 * Before 2ec956f the limit was checked before anything was flushed: with
 * the CQ ring reaped by hand the backlog still counted 4 and ENTER kept
 * answering -EBUSY; only a separate flushing ENTER got a program out.
 */
TEST(ebusy_clears_in_the_enter_after_reaping_the_cq_by_hand)
{
	struct zsync_cqe c[13];
	struct zk_ring ring;
	int ret, wait_res;

	limit_ring(_metadata, &ring, 8, 8, 4);
	queue_nops(_metadata, &ring, 8, 0);
	zt_submit(_metadata, &ring, 8);
	queue_nops(_metadata, &ring, 4, 8);
	zt_submit(_metadata, &ring, 4);
	EXPECT_EQ(8u, zk_cq_ready(&ring));
	zt_check_fdinfo(_metadata, ring.fd, "overflow", 4);

	/* Backlog 4 = limit, CQ full: refused, nothing consumed. */
	zt_nop(_metadata, &ring, 12);
	zt_publish_sq(&ring);
	ret = enter_submit(&ring, 1, &wait_res);
	ASSERT_EQ(-EBUSY, ret) TH_LOG("ENTER at the overflow limit with a full CQ: expected -EBUSY, got %s",
				      zt_err(ret));
	EXPECT_EQ(12u, zk_load_acquire(ring.sq.khead)) TH_LOG("SQ head moved on a refused ENTER");
	EXPECT_EQ(WAIT_RES_UNTOUCHED, wait_res)
		TH_LOG("wait_res written (%d) by an ENTER that failed before waiting", wait_res);

	take_cqes_by_hand(_metadata, &ring, c, 8);
	ret = enter_submit(&ring, 1, NULL);
	ASSERT_EQ(1, ret) TH_LOG("first ENTER after reaping all 8 CQEs by hand: expected 1 SQE consumed, got %s (the overflow list must be flushed before the limit is checked)",
				 zt_err(ret));
	EXPECT_EQ(13u, zk_load_acquire(ring.sq.khead));
	zt_reap(_metadata, &ring, c + 8, 5, ZT_PROMPT_MS);
	check_in_order(_metadata, c, 13, 0, 0);
	zt_check_fdinfo(_metadata, ring.fd, "overflow", 0);
	zt_expect_no_cqe(_metadata, &ring, 50);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* 2. Limits apply between chains, never inside one                    */
/* ------------------------------------------------------------------ */

/*
 * The documented outcome with the overflow limit.  SETUP refuses a CQ
 * smaller than the SQ, so the ring is SQ 16 / CQ 16 with 8 CQEs already
 * sitting in it: the batch of 15 then meets the same 8 free slots.
 *
 * Note: nothing posts a CQE while a chain is being consumed (it runs at
 * its end), so the backlog cannot reach the limit midway through one and
 * the code before 2ec956f passes this too; the in-flight test below is the
 * one that splits a chain on the old code.
 */
TEST(overflow_limit_is_checked_between_chains)
{
	struct zsync_cqe c[24];
	struct zk_ring ring;
	unsigned int i;
	int ret;

	limit_ring(_metadata, &ring, 16, 16, 4);
	queue_nops(_metadata, &ring, 8, 100);	/* half the CQ, left unreaped */
	zt_submit(_metadata, &ring, 8);

	queue_nops(_metadata, &ring, 8, 0);	/* fill the CQ ring */
	queue_nops(_metadata, &ring, 3, 8);	/* backlog 3 */
	for (i = 0; i < 4; i++) {		/* a chain of 4 from backlog 3 */
		struct zsync_sqe *sqe = zt_nop(_metadata, &ring, 11 + i);

		if (i < 3)
			zt_linked(sqe);
	}
	ret = zk_submit(&ring);
	ASSERT_EQ(15, ret) TH_LOG("8 NOPs + 3 NOPs + a chain of 4 in one ENTER at limit 4: expected 15 consumed, got %s",
				  zt_err(ret));
	zt_check_fdinfo(_metadata, ring.fd, "overflow", 7);

	/* Backlog 7 >= 4: the next submission is refused. */
	zt_nop(_metadata, &ring, 15);
	zt_publish_sq(&ring);
	ret = enter_submit(&ring, 1, NULL);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("ENTER with backlog 7 and limit 4: expected -EBUSY, got %s",
				      zt_err(ret));
	EXPECT_EQ(23u, zk_load_acquire(ring.sq.khead));

	zt_reap(_metadata, &ring, c, 23, ZT_PROMPT_MS);
	check_in_order(_metadata, c, 8, 100, 0);
	check_in_order(_metadata, c + 8, 15, 0, 0);
	zt_submit(_metadata, &ring, 1);
	zt_reap(_metadata, &ring, c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 15, 0);
	zt_expect_no_cqe(_metadata, &ring, 50);
	zk_ring_exit(&ring);
}

FIXTURE(big) {
	struct zk_ring ring;
};

FIXTURE_SETUP(big)
{
	memset(&self->ring, 0, sizeof(self->ring));
	self->ring.fd = -1;
}

FIXTURE_TEARDOWN(big)
{
	/* Cancels the armed timeouts (tens of thousands in the test below). */
	if (self->ring.fd >= 0)
		zk_ring_exit(&self->ring);
}

/* Arm @n TIMEOUTs that will not expire during the test, a full SQ at a time. */
static void arm_idle_timeouts(struct __test_metadata *_metadata,
			      struct zk_ring *ring, unsigned int n)
{
	static const struct zsync_timespec ts = { .tv_sec = LONG_MS / 1000 };
	unsigned int done = 0, i, batch;
	int ret;

	while (done < n) {
		batch = n - done < ring->sq.entries ? n - done : ring->sq.entries;
		for (i = 0; i < batch; i++) {
			struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

			zk_prep_timeout(sqe, &ts, 0, 0);
			zk_sqe_set_data64(sqe, 0x100000ull + done + i);
		}
		ret = zk_submit(ring);
		ASSERT_EQ((int)batch, ret) TH_LOG("arming timeouts %u..%u: %s", done,
						  done + batch - 1, zt_err(ret));
		done += batch;
	}
}

/*
 * The in-flight limit (module parameter max_inflight) counts requests as
 * they are consumed, chain members included.  With max_inflight - 2
 * requests in flight, the code before 2ec956f took two members of a chain
 * of 4, refused the third and ran the first two as a chain of their own
 * (ENTER returned 2); now the whole chain goes in and the limit applies
 * before the next chain.
 */
TEST_F_TIMEOUT(big, inflight_limit_never_splits_a_chain, 600)
{
	unsigned int max_inflight = zt_module_param("max_inflight", 0);
	unsigned int max_entries = zt_module_param("max_entries", 4096);
	struct zk_ring *ring = &self->ring;
	struct zsync_cqe c[4];
	int64_t start;
	unsigned int i;
	int ret;

	ZT_REQUIRE_DEV();
	if (max_inflight < 2 || max_inflight > 65536)
		SKIP(return, "max_inflight %u: need 2..65536 (this test arms that many timeouts)",
		     max_inflight);
	zt_ring(_metadata, ring, max_entries < 4096 ? max_entries : 4096, 0);

	start = zt_mono_ns();
	arm_idle_timeouts(_metadata, ring, max_inflight - 2);
	TH_LOG("armed %u timeouts in %" PRId64 " ms", max_inflight - 2, zt_ms_since(start));
	zt_check_fdinfo(_metadata, ring->fd, "inflight", max_inflight - 2);

	for (i = 0; i < 4; i++) {
		struct zsync_sqe *sqe = zt_nop(_metadata, ring, 1 + i);

		if (i < 3)
			zt_linked(sqe);
	}
	ret = zk_submit(ring);
	ASSERT_EQ(4, ret) TH_LOG("chain of 4 NOPs with max_inflight - 2 in flight: expected all 4 consumed, got %s (a chain must not be split at a limit)",
				 zt_err(ret));
	zt_reap(_metadata, ring, c, 4, ZT_PROMPT_MS);
	check_in_order(_metadata, c, 4, 1, 0);
	zt_check_fdinfo(_metadata, ring->fd, "inflight", max_inflight - 2);

	/* Between chains the limit holds: two more reach it, the next is refused. */
	arm_idle_timeouts(_metadata, ring, 2);
	zt_nop(_metadata, ring, 5);
	zt_publish_sq(ring);
	ret = enter_submit(ring, 1, NULL);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("ENTER with max_inflight requests in flight: expected -EBUSY, got %s",
				      zt_err(ret));
	start = zt_mono_ns();
	zk_ring_exit(ring);
	ring->fd = -1;
	TH_LOG("closed the ring with %u timeouts in %" PRId64 " ms", max_inflight,
	       zt_ms_since(start));
}

/*
 * CANCEL (user_data @ud) the armed request @target: expect exactly two
 * CQEs, the target's -ECANCELED and the cancel's 1.
 */
static void cancel_and_check(struct __test_metadata *_metadata,
			     struct zk_ring *ring, __u64 target, __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);
	struct zsync_cqe c[2];

	zk_prep_cancel(sqe, target, 0);
	zk_sqe_set_data64(sqe, ud);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, target, -ECANCELED);
	zt_check_has(_metadata, c, 2, ud, 1);
	zt_expect_no_cqe(_metadata, ring, 50);
}

/* ------------------------------------------------------------------ */
/* 3. TIMEOUT counts must be below 2^31                                 */
/* ------------------------------------------------------------------ */

/* Submit a TIMEOUT of LONG_MS with sqe->off = @count; returns its SQE's ud. */
static void submit_count_timeout(struct __test_metadata *_metadata,
				 struct zk_ring *ring, __u64 ud, __u64 count)
{
	struct zsync_sqe *sqe = zt_timeout(_metadata, ring, ud, LONG_MS, 0, 0);

	sqe->off = count;
	zt_submit(_metadata, ring, 1);
}

/*
 * Before 2ec956f any count up to U32_MAX was accepted and compared as a
 * signed distance: 0x80000000 stayed armed (no CQE) and 0xFFFFFFFF looked
 * already reached (res 0 at once).
 */
TEST(timeout_count_of_2_pow_31_or_more_is_einval)
{
	static const __u64 bad[] = { 0x80000000ull, 0xFFFFFFFFull, 0x100000000ull };
	struct zsync_timespec ts = zt_ts_ms(ZT_PROMPT_MS);
	struct zsync_cqe *cqe;
	struct zk_ring ring;
	unsigned int i;
	int ret;

	zt_ring(_metadata, &ring, 8, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		submit_count_timeout(_metadata, &ring, 100 + i, bad[i]);
		ret = zk_wait_cqe_timeout(&ring, &cqe, &ts);
		ASSERT_EQ(0, ret) TH_LOG("TIMEOUT count %#llx: no CQE within %d ms (%s): it was accepted and armed instead of -EINVAL",
					 (unsigned long long)bad[i], ZT_PROMPT_MS, zt_err(ret));
		EXPECT_EQ(100 + i, cqe->user_data);
		EXPECT_EQ(-EINVAL, cqe->res) TH_LOG("TIMEOUT count %#llx: expected res -EINVAL, got %s",
						    (unsigned long long)bad[i], zt_err(cqe->res));
		zk_cqe_seen(&ring, cqe);
	}

	/* The largest valid count is accepted and armed. */
	submit_count_timeout(_metadata, &ring, 200, 0x7fffffffull);
	zt_expect_no_cqe(_metadata, &ring, 100);
	cancel_and_check(_metadata, &ring, 200, 201);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* 4. A TIMEOUT SQE rejected early never counts for a TIMEOUT's count   */
/* ------------------------------------------------------------------ */

/*
 * Arm TIMEOUT @ud count 1, then submit a TIMEOUT SQE that @spoil makes
 * invalid before its opcode is looked at: its CQE is -EINVAL and must not
 * complete the count.  Before 2ec956f "is a timeout" came from the op
 * table, which such an SQE never reached, so its CQE counted and the
 * armed TIMEOUT completed at once with res 0.
 */
static void check_rejected_timeout_does_not_count(struct __test_metadata *_metadata,
						  struct zk_ring *ring, __u64 ud,
						  void (*spoil)(struct zsync_sqe *),
						  const char *what)
{
	struct zsync_timespec ts = zt_ts_ms(200);
	struct zsync_cqe *cqe, c;
	int ret;

	zt_timeout(_metadata, ring, ud, LONG_MS, 1, 0);
	zt_submit(_metadata, ring, 1);
	spoil(zt_timeout(_metadata, ring, ud + 1, LONG_MS, 0, 0));
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, ud + 1, -EINVAL);

	ret = zk_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret == 0) {
		EXPECT_EQ(-ETIME, ret)
			TH_LOG("TIMEOUT count 1 completed (user_data %#llx res %s) after only the CQE of a TIMEOUT SQE with %s: a rejected TIMEOUT must not count",
			       (unsigned long long)cqe->user_data, zt_err(cqe->res), what);
		zk_cqe_seen(ring, cqe);
		return;
	}
	ASSERT_EQ(-ETIME, ret) TH_LOG("waiting 200 ms for no CQE: %s", zt_err(ret));
}

static void set_resv0(struct zsync_sqe *sqe)
{
	sqe->resv0 = 1;
}

static void set_unknown_flag(struct zsync_sqe *sqe)
{
	sqe->flags = 1U << 7;
}

TEST(timeout_rejected_for_resv0_does_not_count)
{
	struct zk_ring ring;

	zt_ring(_metadata, &ring, 8, 0);
	check_rejected_timeout_does_not_count(_metadata, &ring, 10, set_resv0,
					      "resv0 = 1");
	/* Still armed with its count untouched: a cancel finds it. */
	cancel_and_check(_metadata, &ring, 10, 12);
	zk_ring_exit(&ring);
}

TEST(timeout_rejected_for_unknown_sqe_flags_does_not_count)
{
	struct zsync_cqe c[2];
	struct zk_ring ring;

	zt_ring(_metadata, &ring, 8, 0);
	check_rejected_timeout_does_not_count(_metadata, &ring, 20, set_unknown_flag,
					      "sqe flag bit 7");
	/* Still waiting for its one CQE: the next NOP completes it with 0. */
	zt_nop(_metadata, &ring, 22);
	zt_submit(_metadata, &ring, 1);
	zt_reap(_metadata, &ring, c, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 22, 0);
	zt_check_cqe(_metadata, &c[1], 1, 20, 0);
	zt_expect_no_cqe(_metadata, &ring, 50);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* 5. RESTRICT refuses opcodes and SQE flags that do not exist          */
/* ------------------------------------------------------------------ */

/*
 * Before 2ec956f such a RESTRICT returned 0 (and a later module adding the
 * op or flag would have allowed it); the valid RESTRICT after it then got
 * -EBUSY, as the ring was already restricted.
 */
TEST(restrict_with_unknown_ops_or_flags_is_einval)
{
	static const unsigned int bad_ops[] = { ZSYNC_OP_LAST, 63, 64, 128, 255 };
	static const __u8 bad_flags[] = { 1U << 1, 1U << 7, 0xff };
	struct zsync_restriction r;
	struct zsync_cqe c[2];
	struct zk_ring ring;
	unsigned int i;
	int ret;

	zt_ring(_metadata, &ring, 8, ZSYNC_SETUP_R_DISABLED);
	for (i = 0; i < ARRAY_SIZE(bad_ops); i++) {
		memset(&r, 0, sizeof(r));
		zk_restriction_allow_op(&r, ZSYNC_OP_NOP);
		zk_restriction_allow_op(&r, bad_ops[i]);
		ret = zk_restrict(&ring, &r);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("RESTRICT allowing NOP and opcode bit %u (ZSYNC_OP_LAST is %d): expected -EINVAL, got %s",
					       bad_ops[i], ZSYNC_OP_LAST, zt_err(ret));
	}
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		memset(&r, 0, sizeof(r));
		zk_restriction_allow_op(&r, ZSYNC_OP_NOP);
		r.allowed_sqe_flags = bad_flags[i];
		ret = zk_restrict(&ring, &r);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("RESTRICT with allowed_sqe_flags %#x (known %#x): expected -EINVAL, got %s",
					       bad_flags[i], ZSYNC_SQE_FLAGS_ALL, zt_err(ret));
	}
	zt_check_fdinfo(_metadata, ring.fd, "restricted", 0);

	/* The refused calls left the ring unrestricted: a valid one works. */
	memset(&r, 0, sizeof(r));
	zk_restriction_allow_op(&r, ZSYNC_OP_NOP);
	r.allowed_sqe_flags = ZSYNC_SQE_LINK;
	ret = zk_restrict(&ring, &r);
	ASSERT_EQ(0, ret) TH_LOG("valid RESTRICT after the refused ones: expected 0, got %s",
				 zt_err(ret));
	zt_check_fdinfo(_metadata, ring.fd, "restricted", 1);
	ASSERT_EQ(0, zk_enable(&ring));
	zt_nop(_metadata, &ring, 1);
	zt_timeout(_metadata, &ring, 2, LONG_MS, 0, 0);
	zt_submit(_metadata, &ring, 2);
	zt_reap(_metadata, &ring, c, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, 0);
	zt_check_cqe(_metadata, &c[1], 1, 2, -EACCES);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* 6. overflow_limit above max_overflow                                 */
/* ------------------------------------------------------------------ */

/* SETUP sq 8 with @limit and @flags on a fresh fd; returns ioctl result. */
static int setup_with_limit(struct __test_metadata *_metadata, unsigned int limit,
			    unsigned int flags, unsigned int *granted)
{
	struct zsync_params p;
	int fd = zt_open_dev(_metadata);
	int ret;

	memset(&p, 0, sizeof(p));
	p.sq_entries = 8;
	p.flags = flags;
	p.overflow_limit = limit;
	ret = zt_ioctl(fd, ZSYNC_IOC_SETUP, &p);
	*granted = p.overflow_limit;
	close(fd);
	return ret;
}

/* Before 2ec956f a too large limit was silently cut to max_overflow. */
TEST(overflow_limit_above_max_overflow_is_einval_unless_clamp)
{
	unsigned int max = zt_module_param("max_overflow", 0);
	unsigned int granted;
	int ret;

	ZT_REQUIRE_DEV();
	ASSERT_NE(0u, max) TH_LOG("cannot read /sys/module/zsync/parameters/max_overflow");
	if (max == UINT_MAX)
		SKIP(return, "max_overflow is UINT_MAX: no limit above it");

	ret = setup_with_limit(_metadata, max + 1, 0, &granted);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("overflow_limit %u > max_overflow %u without CLAMP: expected -EINVAL, got %s (granted %u)",
				       max + 1, max, zt_err(ret), granted);
	ret = setup_with_limit(_metadata, UINT_MAX, 0, &granted);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("overflow_limit UINT_MAX without CLAMP: expected -EINVAL, got %s",
				       zt_err(ret));

	ret = setup_with_limit(_metadata, max + 1, ZSYNC_SETUP_CLAMP, &granted);
	ASSERT_EQ(0, ret) TH_LOG("overflow_limit %u with CLAMP: expected 0, got %s",
				 max + 1, zt_err(ret));
	EXPECT_EQ(max, granted) TH_LOG("overflow_limit %u with CLAMP: expected %u granted, got %u",
				       max + 1, max, granted);
	ret = setup_with_limit(_metadata, max, 0, &granted);
	ASSERT_EQ(0, ret) TH_LOG("overflow_limit = max_overflow %u: expected 0, got %s",
				 max, zt_err(ret));
	EXPECT_EQ(max, granted);
}

/* ------------------------------------------------------------------ */
/* 7. Private mappings                                                  */
/* ------------------------------------------------------------------ */

/*
 * Before 2ec956f a MAP_PRIVATE mapping was accepted: the program then wrote
 * its tail or head into a private copy the kernel never sees.
 */
TEST(mmap_private_is_einval_for_every_region)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ };
	struct zsync_params p;
	struct { const char *name; __u64 off; size_t len; } r[3];
	unsigned int i, j;
	int fd = zt_open_dev(_metadata);
	int ret;

	memset(&p, 0, sizeof(p));
	p.sq_entries = 8;
	ret = zt_ioctl(fd, ZSYNC_IOC_SETUP, &p);
	ASSERT_EQ(0, ret) TH_LOG("SETUP: %s", zt_err(ret));
	r[0].name = "SQ ring";
	r[0].off = ZSYNC_OFF_SQ_RING;
	r[0].len = p.sq_off.flags + sizeof(__u32);
	r[1].name = "CQ ring";
	r[1].off = ZSYNC_OFF_CQ_RING;
	r[1].len = p.cq_off.cqes + (size_t)p.cq_entries * sizeof(struct zsync_cqe);
	r[2].name = "SQE array";
	r[2].off = ZSYNC_OFF_SQES;
	r[2].len = (size_t)p.sq_entries * sizeof(struct zsync_sqe);

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		for (j = 0; j < ARRAY_SIZE(prots); j++) {
			void *m = mmap(NULL, r[i].len, prots[j], MAP_PRIVATE, fd,
				       (off_t)r[i].off);
			int err = m == MAP_FAILED ? errno : 0;

			EXPECT_EQ(EINVAL, err) TH_LOG("mmap(%s, MAP_PRIVATE, %s): expected EINVAL, got %s",
						      r[i].name, j ? "PROT_READ" : "PROT_READ|PROT_WRITE",
						      err ? strerror(err) : "success");
			if (m != MAP_FAILED)
				munmap(m, r[i].len);
		}
		/* The same region shared is fine. */
		{
			void *m = mmap(NULL, r[i].len, PROT_READ | PROT_WRITE, MAP_SHARED,
				       fd, (off_t)r[i].off);

			EXPECT_NE(MAP_FAILED, m) TH_LOG("mmap(%s, MAP_SHARED): %s", r[i].name,
							strerror(errno));
			if (m != MAP_FAILED)
				munmap(m, r[i].len);
		}
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 8. fdinfo overflow_total is the kernel's own counter                 */
/* ------------------------------------------------------------------ */

/*
 * The shared cq overflow field is the program's to scribble on.  Before
 * 2ec956f fdinfo printed it, so it showed whatever the program wrote.
 */
TEST(fdinfo_overflow_total_ignores_the_shared_field)
{
	struct zsync_cqe c[10];
	struct zk_ring ring;

	limit_ring(_metadata, &ring, 8, 8, 0);
	*(volatile unsigned int *)ring.cq.koverflow = 777;
	zt_check_fdinfo(_metadata, ring.fd, "overflow_total", 0);

	queue_nops(_metadata, &ring, 8, 0);
	zt_submit(_metadata, &ring, 8);
	queue_nops(_metadata, &ring, 2, 8);
	zt_submit(_metadata, &ring, 2);
	EXPECT_EQ(2u, zk_load_acquire(ring.cq.koverflow))
		TH_LOG("the kernel did not publish its count of 2 overflows");
	*(volatile unsigned int *)ring.cq.koverflow = 777;
	zt_check_fdinfo(_metadata, ring.fd, "overflow_total", 2);
	zt_check_fdinfo(_metadata, ring.fd, "overflow", 2);

	zt_reap(_metadata, &ring, c, 10, ZT_PROMPT_MS);
	check_in_order(_metadata, c, 10, 0, 0);
	*(volatile unsigned int *)ring.cq.koverflow = 0;
	zt_check_fdinfo(_metadata, ring.fd, "overflow_total", 2);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* 9. A CQ head written past the tail                                   */
/* ------------------------------------------------------------------ */

#define SENTINEL_UD	0x5e5e5e5e5e5e5e5eull
#define SENTINEL_RES	0x7777

/* A waiter for 1 CQE with the head past the tail sleeps until its timeout. */
static void expect_wait_times_out(struct __test_metadata *_metadata,
				  struct zk_ring *ring, const char *when)
{
	int64_t start = zt_mono_ns(), ms;
	int ret, wait_res;

	ret = enter_wait(ring, 1, 100, &wait_res);
	ms = zt_ms_since(start);
	EXPECT_EQ(-ETIME, ret) TH_LOG("%s: ENTER waiting 100 ms for 1 CQE returned %s after %" PRId64 " ms (a head past the tail must count as nothing ready)",
				      when, zt_err(ret), ms);
	EXPECT_EQ(-ETIME, wait_res) TH_LOG("%s: wait_res %s", when, zt_err(wait_res));
	EXPECT_LE(90, ms) TH_LOG("%s: the wait ended after %" PRId64 " ms", when, ms);
}

/*
 * Posting into a ring whose head is past the tail must not overwrite the
 * slots (they go to the overflow list) and nothing counts as ready.  The
 * overflow part held before d817168 too; before it, such a head counted as
 * a full ring of ready CQEs, so poll() said POLLIN and a waiter returned
 * at once instead of sleeping.
 */
TEST(cq_head_past_tail_is_no_space_and_nothing_ready)
{
	struct pollfd pfd = { .events = POLLIN };
	struct zsync_cqe c[3];
	struct zk_ring ring;
	unsigned int i, tail;
	int ret;

	limit_ring(_metadata, &ring, 8, 8, 0);
	queue_nops(_metadata, &ring, 2, 0);
	zt_submit(_metadata, &ring, 2);
	zt_reap(_metadata, &ring, c, 2, ZT_PROMPT_MS);
	tail = zk_load_acquire(ring.cq.ktail);
	ASSERT_EQ(2u, tail);
	for (i = 0; i < ring.cq.entries; i++) {
		ring.cq.cqes[i].user_data = SENTINEL_UD;
		ring.cq.cqes[i].res = SENTINEL_RES;
	}
	zk_store_release(ring.cq.khead, tail + 3);

	pfd.fd = ring.fd;
	ret = poll(&pfd, 1, 0);
	EXPECT_EQ(0, ret) TH_LOG("poll with the CQ head 3 past the tail: %d, revents %#x (expected nothing ready)",
				 ret, pfd.revents);
	expect_wait_times_out(_metadata, &ring, "head past tail");

	queue_nops(_metadata, &ring, 3, 10);
	zt_publish_sq(&ring);
	ret = enter_submit(&ring, 3, NULL);
	ASSERT_EQ(3, ret) TH_LOG("submitting 3 NOPs with the head past the tail: %s", zt_err(ret));
	EXPECT_EQ(tail, zk_load_acquire(ring.cq.ktail)) TH_LOG("CQEs were written into the CQ ring");
	EXPECT_TRUE(zk_cq_overflowed(&ring)) TH_LOG("ZSYNC_SQ_CQ_OVERFLOW not set");
	zt_check_fdinfo(_metadata, ring.fd, "overflow", 3);
	for (i = 0; i < ring.cq.entries; i++)
		EXPECT_EQ(SENTINEL_UD, ring.cq.cqes[i].user_data)
			TH_LOG("CQ slot %u overwritten (user_data %#llx res %s)", i,
			       (unsigned long long)ring.cq.cqes[i].user_data,
			       zt_err(ring.cq.cqes[i].res));
	expect_wait_times_out(_metadata, &ring, "head past tail, 3 overflowed");

	/* Head back where it belongs: the backlog flushes, in order. */
	zk_store_release(ring.cq.khead, tail);
	zt_reap(_metadata, &ring, c, 3, ZT_PROMPT_MS);
	check_in_order(_metadata, c, 3, 10, 0);
	EXPECT_FALSE(zk_cq_overflowed(&ring));
	zt_check_fdinfo(_metadata, ring.fd, "overflow", 0);
	zt_expect_no_cqe(_metadata, &ring, 50);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* 10. libzsync-k: waiting for more CQEs than the ring holds            */
/* ------------------------------------------------------------------ */

static void on_stuck_wait(int sig)
{
	static const char msg[] =
		"# zk_wait_cqe_nr() for more CQEs than the ring holds still running after 5 s (spinning or sleeping instead of -EINVAL)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/* zk_wait_cqe_nr(@wait_nr) must fail with -EINVAL at once; alarm() guards. */
static void expect_wait_nr_einval(struct __test_metadata *_metadata,
				  struct zk_ring *ring, unsigned int wait_nr,
				  const char *when)
{
	static struct zsync_cqe dummy;
	struct zsync_cqe *cqe = &dummy;	/* must come back NULL */
	int64_t start = zt_mono_ns();
	int ret;

	alarm(5);
	ret = zk_wait_cqe_nr(ring, &cqe, wait_nr);
	alarm(0);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("%s: zk_wait_cqe_nr(%u) with %u CQ entries: expected -EINVAL, got %s",
				       when, wait_nr, ring->cq.entries, zt_err(ret));
	EXPECT_EQ(NULL, cqe);
	EXPECT_GT(1000, zt_ms_since(start)) TH_LOG("%s: took %" PRId64 " ms", when,
						   zt_ms_since(start));
}

/*
 * Before 2ec956f the library looped: with a full CQ the kernel's wait
 * (clamped to the ring size) returned at once and the library asked again
 * forever; with an empty CQ it slept until 8 CQEs came.
 */
TEST(wait_cqe_nr_beyond_the_cq_size_is_einval)
{
	struct sigaction sa = { .sa_handler = on_stuck_wait };
	struct zsync_cqe *cqe = NULL;
	struct zk_ring ring;
	int ret;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	limit_ring(_metadata, &ring, 8, 8, 0);
	expect_wait_nr_einval(_metadata, &ring, ring.cq.entries + 1, "empty CQ");
	expect_wait_nr_einval(_metadata, &ring, UINT_MAX, "empty CQ");

	queue_nops(_metadata, &ring, 8, 0);
	zt_submit(_metadata, &ring, 8);
	expect_wait_nr_einval(_metadata, &ring, ring.cq.entries + 1, "full CQ");

	/* Exactly the ring size is a valid wait, satisfied now. */
	alarm(5);
	ret = zk_wait_cqe_nr(&ring, &cqe, ring.cq.entries);
	alarm(0);
	ASSERT_EQ(0, ret) TH_LOG("zk_wait_cqe_nr(%u) with a full CQ: %s", ring.cq.entries,
				 zt_err(ret));
	ASSERT_NE(NULL, cqe);
	EXPECT_EQ(0u, cqe->user_data);
	EXPECT_EQ(8u, zk_cq_ready(&ring));
	zk_ring_exit(&ring);
}

TEST_HARNESS_MAIN
