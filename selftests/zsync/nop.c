// SPDX-License-Identifier: GPL-2.0
/*
 * NOP: batches, user_data echo and order, injected results, and the SQE
 * validation every opcode goes through (unknown opcode/flags, reserved and
 * unused fields): each consumed SQE yields exactly one CQE, errors included.
 */
#include <limits.h>

#include "helpers.h"

/* A user_data that uses all 64 bits, distinct per @i. */
static __u64 ud_of(unsigned int round, unsigned int i)
{
	return 0xa5a5000000000000ULL | ((__u64)round << 40) |
	       ((__u64)i << 20) | (0xfffffU - i);
}

/* One case of SQE validation: a full SQE and the CQE result it must get. */
struct sqe_case {
	const char *what;
	struct zsync_sqe sqe;
	int res;
};

/*
 * Submit every case in one batch, each followed by a valid NOP, and check
 * that all are consumed and complete in order: bad SQEs with their error,
 * the NOPs after them with 0 (an error does not stop the batch).
 */
static void run_cases(struct __test_metadata *_metadata, struct zk_ring *ring,
		      const struct sqe_case *cases, unsigned int n)
{
	struct zsync_cqe cqes[64];
	unsigned int i;

	ASSERT_GE(ring->sq.entries, 2 * n);
	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

		*sqe = cases[i].sqe;
		sqe->user_data = 2 * i + 1;
		zt_nop(_metadata, ring, 2 * i + 2);
	}
	zt_submit(_metadata, ring, (int)(2 * n));
	zt_reap(_metadata, ring, cqes, 2 * n, ZT_PROMPT_MS);
	for (i = 0; i < n; i++) {
		if (cqes[2 * i].res != cases[i].res)
			TH_LOG("SQE with %s: expected res %s, got %s", cases[i].what,
			       zt_err(cases[i].res), zt_err(cqes[2 * i].res));
		zt_check_cqe(_metadata, &cqes[2 * i], 2 * i, 2 * i + 1, cases[i].res);
		zt_check_cqe(_metadata, &cqes[2 * i + 1], 2 * i + 1, 2 * i + 2, 0);
	}
	zt_expect_no_cqe(_metadata, ring, 50);
}

#define NOP_SQE(...)	{ .opcode = ZSYNC_OP_NOP, __VA_ARGS__ }

FIXTURE(batch) {
	struct zk_ring ring;
};

FIXTURE_VARIANT(batch) {
	unsigned int n;
};

FIXTURE_VARIANT_ADD(batch, of_1) { .n = 1 };
FIXTURE_VARIANT_ADD(batch, of_8) { .n = 8 };
FIXTURE_VARIANT_ADD(batch, of_32) { .n = 32 };

FIXTURE_SETUP(batch)
{
	zt_ring(_metadata, &self->ring, 32, 0);
	ASSERT_EQ(32u, self->ring.sq.entries);
}

FIXTURE_TEARDOWN(batch)
{
	zk_ring_exit(&self->ring);
}

/* Three rounds, so a batch of 32 wraps the SQ (32) and the CQ (64). */
TEST_F(batch, nops_complete_in_order_with_user_data)
{
	struct zk_ring *ring = &self->ring;
	struct zsync_cqe cqes[32];
	unsigned int round, i, n = variant->n;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < n; i++)
			zt_nop(_metadata, ring, ud_of(round, i));
		zt_submit(_metadata, ring, (int)n);
		EXPECT_EQ((round + 1) * n, zk_load_acquire(ring->sq.khead))
			TH_LOG("round %u: sq head after consuming %u", round, n);
		zt_reap(_metadata, ring, cqes, n, ZT_PROMPT_MS);
		for (i = 0; i < n; i++)
			zt_check_cqe(_metadata, &cqes[i], i, ud_of(round, i), 0);
		EXPECT_EQ(0u, zk_cq_ready(ring));
	}
	zt_expect_no_cqe(_metadata, ring, 50);
}

TEST_F(batch, submit_and_wait_returns_with_all_cqes_ready)
{
	struct zk_ring *ring = &self->ring;
	unsigned int i, n = variant->n;
	int ret;

	for (i = 0; i < n; i++)
		zt_nop(_metadata, ring, ud_of(0, i));
	ret = zk_submit_and_wait(ring, n);
	ASSERT_EQ((int)n, ret) TH_LOG("zk_submit_and_wait(%u): got %s", n, zt_err(ret));
	EXPECT_EQ(n, zk_cq_ready(ring))
		TH_LOG("after ENTER(GETEVENTS, min_complete %u): %u CQEs ready",
		       n, zk_cq_ready(ring));
	zt_reap(_metadata, ring, NULL, n, ZT_PROMPT_MS);
}

ZT_RING_FIXTURE(32);

TEST_F(ring, extreme_user_data_is_echoed)
{
	static const __u64 ud[] = { 0, 1, ~0ULL, 1ULL << 63, 0x00000000ffffffffULL };
	struct zsync_cqe cqes[ARRAY_SIZE(ud)];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ud); i++)
		zt_nop(_metadata, &self->ring, ud[i]);
	zt_submit(_metadata, &self->ring, ARRAY_SIZE(ud));
	zt_reap(_metadata, &self->ring, cqes, ARRAY_SIZE(ud), ZT_PROMPT_MS);
	for (i = 0; i < ARRAY_SIZE(ud); i++)
		zt_check_cqe(_metadata, &cqes[i], i, ud[i], 0);
}

TEST_F(ring, inject_result_sets_res)
{
	static const int res[] = { 0, 1, 4096, -EIO, -ECANCELED, -EINVAL,
				   INT_MAX, INT_MIN };
	struct zsync_cqe cqes[ARRAY_SIZE(res)];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(res); i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);

		zk_prep_nop_result(sqe, res[i]);
		zk_sqe_set_data64(sqe, 100 + i);
	}
	zt_submit(_metadata, &self->ring, ARRAY_SIZE(res));
	zt_reap(_metadata, &self->ring, cqes, ARRAY_SIZE(res), ZT_PROMPT_MS);
	for (i = 0; i < ARRAY_SIZE(res); i++)
		zt_check_cqe(_metadata, &cqes[i], i, 100 + i, res[i]);
}

TEST_F(ring, unknown_opcode_is_einval)
{
	static const struct sqe_case cases[] = {
		{ "opcode ZSYNC_OP_LAST", { .opcode = ZSYNC_OP_LAST }, -EINVAL },
		{ "opcode 100", { .opcode = 100 }, -EINVAL },
		{ "opcode 255", { .opcode = 255 }, -EINVAL },
	};

	run_cases(_metadata, &self->ring, cases, ARRAY_SIZE(cases));
}

TEST_F(ring, unknown_sqe_flags_are_einval)
{
	static const struct sqe_case cases[] = {
		{ "flags 1<<1", NOP_SQE(.flags = 1U << 1), -EINVAL },
		{ "flags 0x80", NOP_SQE(.flags = 0x80), -EINVAL },
		{ "flags 0xfe", NOP_SQE(.flags = 0xfe), -EINVAL },
	};

	run_cases(_metadata, &self->ring, cases, ARRAY_SIZE(cases));
}

TEST_F(ring, nonzero_reserved_fields_are_einval)
{
	static const struct sqe_case cases[] = {
		{ "resv0 = 1", NOP_SQE(.resv0 = 1), -EINVAL },
		{ "resv0 = 0x8000", NOP_SQE(.resv0 = 0x8000), -EINVAL },
		{ "resv[0] = 1", NOP_SQE(.resv = { 1, 0 }), -EINVAL },
		{ "resv[1] = 1", NOP_SQE(.resv = { 0, 1 }), -EINVAL },
		{ "resv[1] = 1<<63", NOP_SQE(.resv = { 0, 1ULL << 63 }), -EINVAL },
	};

	run_cases(_metadata, &self->ring, cases, ARRAY_SIZE(cases));
}

TEST_F(ring, nop_rejects_fields_it_does_not_read)
{
	static const struct sqe_case cases[] = {
		{ "fd = 3", NOP_SQE(.fd = 3), -EINVAL },
		{ "fd = -1", NOP_SQE(.fd = -1), -EINVAL },
		{ "addr = 1", NOP_SQE(.addr = 1), -EINVAL },
		{ "off = 1", NOP_SQE(.off = 1), -EINVAL },
		{ "addr2 = 1", NOP_SQE(.addr2 = 1), -EINVAL },
		/* Decision: len is read only with ZSYNC_NOP_INJECT_RESULT. */
		{ "len = 5 without INJECT_RESULT", NOP_SQE(.len = 5), -EINVAL },
	};

	run_cases(_metadata, &self->ring, cases, ARRAY_SIZE(cases));
}

TEST_F(ring, unknown_nop_op_flags_are_einval)
{
	static const struct sqe_case cases[] = {
		{ "op_flags 1<<1", NOP_SQE(.op_flags = 1U << 1), -EINVAL },
		{ "op_flags 1<<31", NOP_SQE(.op_flags = 1U << 31), -EINVAL },
		{ "op_flags INJECT|1<<1",
		  NOP_SQE(.op_flags = ZSYNC_NOP_INJECT_RESULT | 1U << 1, .len = 7),
		  -EINVAL },
		{ "op_flags INJECT, len 7",
		  NOP_SQE(.op_flags = ZSYNC_NOP_INJECT_RESULT, .len = 7), 7 },
	};

	run_cases(_metadata, &self->ring, cases, ARRAY_SIZE(cases));
}

/* SQEs queued by several zk_submit() calls still complete in order. */
TEST_F(ring, several_submits_complete_in_order)
{
	struct zsync_cqe cqes[24];
	unsigned int i;

	for (i = 0; i < 24; i++) {
		zt_nop(_metadata, &self->ring, 1000 + i);
		if (i % 3 == 2)
			zt_submit(_metadata, &self->ring, 3);
	}
	zt_reap(_metadata, &self->ring, cqes, 24, ZT_PROMPT_MS);
	for (i = 0; i < 24; i++)
		zt_check_cqe(_metadata, &cqes[i], i, 1000 + i, 0);
}

/* Submitting with an empty SQ consumes nothing and is not an error. */
TEST_F(ring, empty_submit_returns_zero)
{
	int ret = zk_enter(&self->ring, 8, 0, 0, NULL, NULL, NULL);

	EXPECT_EQ(0, ret) TH_LOG("ENTER to_submit 8 on an empty SQ: expected 0, got %s",
				 zt_err(ret));
	EXPECT_EQ(0u, zk_load_acquire(self->ring.sq.khead));
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

TEST_HARNESS_MAIN
