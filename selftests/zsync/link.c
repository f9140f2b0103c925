// SPDX-License-Identifier: GPL-2.0
/*
 * ZSYNC_SQE_LINK chains and LINK_TIMEOUT: order, failure propagation
 * (-ECANCELED for the rest), dangling links, ETIME_SUCCESS, and which of a
 * target and its link timeout wins.  Exactly one CQE per SQE, always.
 */
#include "helpers.h"

ZT_RING_FIXTURE(32);

static struct zsync_sqe *nop_result(struct __test_metadata *_metadata,
				    struct zk_ring *ring, __u64 ud, int res)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_nop_result(sqe, res);
	zk_sqe_set_data64(sqe, ud);
	return sqe;
}

/* Expected (user_data, res) of each CQE, in CQ order. */
struct want {
	__u64 ud;
	int res;
};

/* Reap exactly @n CQEs within @ms, check them in order, then no more. */
static void expect_cqes(struct __test_metadata *_metadata, struct zk_ring *ring,
			const struct want *w, unsigned int n, int64_t ms)
{
	struct zsync_cqe cqes[40];
	unsigned int i;

	ASSERT_GE(ARRAY_SIZE(cqes), n);
	zt_reap(_metadata, ring, cqes, n, ms);
	for (i = 0; i < n; i++)
		zt_check_cqe(_metadata, &cqes[i], i, w[i].ud, w[i].res);
	zt_expect_no_cqe(_metadata, ring, 50);
}

TEST_F(ring, chain_of_nops_completes_in_order)
{
	static const struct want w[] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	zt_linked(zt_nop(_metadata, &self->ring, 2));
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 3);
	expect_cqes(_metadata, &self->ring, w, 3, ZT_PROMPT_MS);
}

TEST_F(ring, chain_filling_the_sq_completes_in_order)
{
	struct want w[32];
	unsigned int i;

	for (i = 0; i < 32; i++) {
		struct zsync_sqe *sqe = zt_nop(_metadata, &self->ring, 100 + i);

		if (i < 31)
			zt_linked(sqe);
		w[i] = (struct want){ 100 + i, 0 };
	}
	zt_submit(_metadata, &self->ring, 32);
	expect_cqes(_metadata, &self->ring, w, 32, ZT_PROMPT_MS);
}

TEST_F(ring, failed_member_cancels_the_rest)
{
	static const struct want w[] = {
		{ 1, 0 }, { 2, -EIO }, { 3, -ECANCELED }, { 4, -ECANCELED },
		{ 5, 0 },	/* not linked: a new chain */
	};

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	zt_linked(nop_result(_metadata, &self->ring, 2, -EIO));
	zt_linked(zt_nop(_metadata, &self->ring, 3));
	zt_nop(_metadata, &self->ring, 4);
	zt_nop(_metadata, &self->ring, 5);
	zt_submit(_metadata, &self->ring, 5);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

TEST_F(ring, failure_of_the_last_member_ends_with_it)
{
	static const struct want w[] = { { 1, 0 }, { 2, -EIO }, { 3, 0 } };

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	nop_result(_metadata, &self->ring, 2, -EIO);
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 3);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

/* A positive result is success: it does not break the chain. */
TEST_F(ring, positive_result_continues_the_chain)
{
	static const struct want w[] = { { 1, 42 }, { 2, 0 } };

	zt_linked(nop_result(_metadata, &self->ring, 1, 42));
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 2);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

/*
 * Decision (io_uring's, and the kernel's): a chain with a member that
 * fails validation is not run at all; that member gets its error, every
 * other member -ECANCELED, in chain order.
 */
TEST_F(ring, invalid_member_fails_the_whole_chain)
{
	static const struct want w[] = {
		{ 1, -ECANCELED }, { 2, -EINVAL }, { 3, -ECANCELED }, { 4, 0 },
	};
	struct zsync_sqe *bad;

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	bad = zt_sqe(_metadata, &self->ring);
	bad->opcode = ZSYNC_OP_LAST;
	bad->user_data = 2;
	zt_linked(bad);
	zt_nop(_metadata, &self->ring, 3);
	zt_nop(_metadata, &self->ring, 4);
	zt_submit(_metadata, &self->ring, 4);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

/* Decision: a chain still open when the batch ends, ends there. */
TEST_F(ring, dangling_link_ends_at_the_end_of_the_submission)
{
	static const struct want w1[] = { { 1, -EIO } };
	static const struct want w2[] = { { 2, 0 } };

	zt_linked(nop_result(_metadata, &self->ring, 1, -EIO));
	zt_submit(_metadata, &self->ring, 1);
	expect_cqes(_metadata, &self->ring, w1, 1, ZT_PROMPT_MS);
	/* The next submission is not part of that chain. */
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 1);
	expect_cqes(_metadata, &self->ring, w2, 1, ZT_PROMPT_MS);
}

/* "The batch" is what one ENTER consumes, not what is in the SQ. */
TEST_F(ring, dangling_link_ends_at_the_end_of_one_enter)
{
	static const struct want w1[] = { { 1, -EIO } };
	static const struct want w2[] = { { 2, 0 } };
	int ret;

	zt_linked(nop_result(_metadata, &self->ring, 1, -EIO));
	zt_nop(_metadata, &self->ring, 2);
	zt_publish_sq(&self->ring);
	ret = zk_enter(&self->ring, 1, 0, 0, NULL, NULL, NULL);
	ASSERT_EQ(1, ret) TH_LOG("ENTER to_submit 1 of 2 queued: got %s", zt_err(ret));
	expect_cqes(_metadata, &self->ring, w1, 1, ZT_PROMPT_MS);
	ret = zk_enter(&self->ring, 1, 0, 0, NULL, NULL, NULL);
	ASSERT_EQ(1, ret) TH_LOG("ENTER for the second SQE: got %s", zt_err(ret));
	expect_cqes(_metadata, &self->ring, w2, 1, ZT_PROMPT_MS);
}

TEST_F(ring, timeout_expiry_breaks_the_chain)
{
	static const struct want w[] = {
		{ 1, -ETIME }, { 2, -ECANCELED }, { 3, -ECANCELED },
	};

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 20, 0, 0));
	zt_linked(zt_nop(_metadata, &self->ring, 2));
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 3);
	EXPECT_EQ(0u, zk_cq_ready(&self->ring)) TH_LOG("chain members ran before the timeout");
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_LATE_MS + ZT_PROMPT_MS);
}

/*
 * Decision: with ETIME_SUCCESS the timeout's own CQE still says -ETIME;
 * only the chain treats it as success.
 */
TEST_F(ring, etime_success_timeout_runs_the_next_member_after_expiry)
{
	static const struct want w[] = { { 1, -ETIME }, { 2, 0 } };
	int64_t start = zt_mono_ns();

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 50, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 2);
	EXPECT_EQ(0u, zk_cq_ready(&self->ring)) TH_LOG("the NOP ran before the timeout");
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_LATE_MS + ZT_PROMPT_MS);
	EXPECT_LE(50, zt_ms_since(start)) TH_LOG("the chain finished before the 50 ms timeout");
}

TEST_F(ring, link_timeout_cancels_a_slow_target)
{
	/* Decision: the target's CQE comes before its link timeout's. */
	static const struct want w[] = { { 1, -ECANCELED }, { 2, -ETIME } };
	int64_t start = zt_mono_ns();

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 10000, 0, 0));
	zt_link_timeout(_metadata, &self->ring, 2, 20, 0);
	zt_submit(_metadata, &self->ring, 2);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_LATE_MS + ZT_PROMPT_MS);
	EXPECT_LE(20, zt_ms_since(start)) TH_LOG("link timeout fired before its 20 ms");
	EXPECT_GT(5000, zt_ms_since(start)) TH_LOG("target ran its full 10 s");
}

TEST_F(ring, target_failing_first_cancels_its_link_timeout)
{
	static const struct want w[] = { { 1, -ETIME }, { 2, -ECANCELED } };
	int64_t start = zt_mono_ns();

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 10, 0, 0));
	zt_link_timeout(_metadata, &self->ring, 2, 5000, 0);
	zt_submit(_metadata, &self->ring, 2);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_LATE_MS + ZT_PROMPT_MS);
	EXPECT_GT(3000, zt_ms_since(start)) TH_LOG("link timeout ran its full 5 s");
}

TEST_F(ring, inline_target_cancels_its_link_timeout)
{
	static const struct want w[] = { { 1, 0 }, { 2, -ECANCELED } };

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	zt_link_timeout(_metadata, &self->ring, 2, 1000, 0);
	zt_submit(_metadata, &self->ring, 2);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

/* The chain goes on after a guarded target that succeeded. */
TEST_F(ring, chain_continues_past_a_link_timeout)
{
	static const struct want w[] = { { 1, -ETIME }, { 2, -ECANCELED }, { 3, 0 } };

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 10, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
	zt_linked(zt_link_timeout(_metadata, &self->ring, 2, 5000, 0));
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 3);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_LATE_MS + ZT_PROMPT_MS);
}

/* A fired link timeout cancels its target and the rest of the chain. */
TEST_F(ring, fired_link_timeout_cancels_the_rest_of_the_chain)
{
	struct zsync_cqe cqes[3];

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 10000, 0, 0));
	zt_linked(zt_link_timeout(_metadata, &self->ring, 2, 20, 0));
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, cqes, 3, ZT_LATE_MS + ZT_PROMPT_MS);
	/* Order between the link timeout and the rest is not part of the ABI. */
	zt_check_has(_metadata, cqes, 3, 1, -ECANCELED);
	zt_check_has(_metadata, cqes, 3, 2, -ETIME);
	zt_check_has(_metadata, cqes, 3, 3, -ECANCELED);
	EXPECT_EQ(0, zt_find_cqe(cqes, 3, 1)) TH_LOG("the target's CQE is not the first");
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

TEST_F(ring, link_timeout_without_a_linked_predecessor_is_einval)
{
	static const struct want w[] = {
		{ 1, -EINVAL },		/* first SQE of the batch */
		{ 2, 0 }, { 3, -EINVAL },	/* after an unlinked NOP */
	};

	zt_link_timeout(_metadata, &self->ring, 1, 1000, 0);
	zt_nop(_metadata, &self->ring, 2);
	zt_link_timeout(_metadata, &self->ring, 3, 1000, 0);
	zt_submit(_metadata, &self->ring, 3);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

TEST_F(ring, link_timeout_after_a_dangling_link_is_einval)
{
	static const struct want w1[] = { { 1, 0 } };
	static const struct want w2[] = { { 2, -EINVAL } };

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	zt_submit(_metadata, &self->ring, 1);
	expect_cqes(_metadata, &self->ring, w1, 1, ZT_PROMPT_MS);
	zt_link_timeout(_metadata, &self->ring, 2, 1000, 0);
	zt_submit(_metadata, &self->ring, 1);
	expect_cqes(_metadata, &self->ring, w2, 1, ZT_PROMPT_MS);
}

/* Decision: a LINK_TIMEOUT cannot guard another LINK_TIMEOUT. */
TEST_F(ring, link_timeout_guarding_a_link_timeout_is_einval)
{
	static const struct want w[] = {
		{ 1, -ECANCELED }, { 2, -ECANCELED }, { 3, -EINVAL },
	};

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	zt_linked(zt_link_timeout(_metadata, &self->ring, 2, 1000, 0));
	zt_link_timeout(_metadata, &self->ring, 3, 1000, 0);
	zt_submit(_metadata, &self->ring, 3);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

/* Decision: ETIME_SUCCESS means nothing for a LINK_TIMEOUT: -EINVAL. */
TEST_F(ring, link_timeout_rejects_etime_success)
{
	static const struct want w[] = { { 1, -ECANCELED }, { 2, -EINVAL } };

	zt_linked(zt_nop(_metadata, &self->ring, 1));
	zt_link_timeout(_metadata, &self->ring, 2, 1000, ZSYNC_TIMEOUT_ETIME_SUCCESS);
	zt_submit(_metadata, &self->ring, 2);
	expect_cqes(_metadata, &self->ring, w, ARRAY_SIZE(w), ZT_PROMPT_MS);
}

TEST_HARNESS_MAIN
