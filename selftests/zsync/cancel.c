// SPDX-License-Identifier: GPL-2.0
/*
 * CANCEL: by user_data, ALL, ANY, FD, validation, chains; the timeout vs
 * cancel race (exactly two CQEs per pair, consistent results); rings
 * closed while their timers fire (a use-after-free here shows as a splat
 * under the debug kernel).
 */
#include "helpers.h"

ZT_RING_FIXTURE(32);

static struct zsync_sqe *cancel(struct __test_metadata *_metadata,
				struct zk_ring *ring, __u64 ud, __u64 target,
				unsigned int flags)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_cancel(sqe, target, flags);
	zk_sqe_set_data64(sqe, ud);
	return sqe;
}

/* @n 10 s timeouts with user_data @ud + i * @step, submitted. */
static void arm_timeouts(struct __test_metadata *_metadata, struct zk_ring *ring,
			 unsigned int n, __u64 ud, __u64 step)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		zt_timeout(_metadata, ring, ud + i * step, 10000, 0, 0);
	zt_submit(_metadata, ring, (int)n);
}

/* Submit one CANCEL; returns its CQE result after the @n_targets CQEs. */
static void expect_cancel(struct __test_metadata *_metadata, struct zk_ring *ring,
			  __u64 target, unsigned int flags, int res,
			  const __u64 *cancelled, unsigned int n_cancelled)
{
	struct zsync_cqe cqes[16];
	unsigned int i;

	ASSERT_GT(ARRAY_SIZE(cqes), n_cancelled);
	cancel(_metadata, ring, 0xcafe, target, flags);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, cqes, n_cancelled + 1, ZT_PROMPT_MS);
	/* Decision: the cancelled requests' CQEs come before the CANCEL's. */
	for (i = 0; i < n_cancelled; i++)
		zt_check_cqe(_metadata, &cqes[i], i, cancelled[i], -ECANCELED);
	if (cqes[n_cancelled].res != res)
		TH_LOG("CANCEL target %#llx flags %#x: expected res %s, got %s",
		       (unsigned long long)target, flags, zt_err(res),
		       zt_err(cqes[n_cancelled].res));
	zt_check_cqe(_metadata, &cqes[n_cancelled], n_cancelled, 0xcafe, res);
	zt_expect_no_cqe(_metadata, ring, 50);
}

TEST_F(ring, cancel_by_user_data)
{
	static const __u64 gone[] = { 0x42 };

	arm_timeouts(_metadata, &self->ring, 1, 0x42, 0);
	expect_cancel(_metadata, &self->ring, 0x42, 0, 1, gone, 1);
}

TEST_F(ring, cancel_without_match_is_enoent)
{
	struct zsync_cqe cqe;

	expect_cancel(_metadata, &self->ring, 0x1234, 0, -ENOENT, NULL, 0);
	/* A request that already completed is not in flight. */
	zt_nop(_metadata, &self->ring, 5);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, &cqe, 1, ZT_PROMPT_MS);
	expect_cancel(_metadata, &self->ring, 5, 0, -ENOENT, NULL, 0);
	/* Another in-flight request with a different user_data is untouched. */
	arm_timeouts(_metadata, &self->ring, 1, 6, 0);
	expect_cancel(_metadata, &self->ring, 7, 0, -ENOENT, NULL, 0);
}

TEST_F(ring, cancel_in_the_same_batch)
{
	struct zsync_cqe cqes[2];

	zt_timeout(_metadata, &self->ring, 1, 10000, 0, 0);
	cancel(_metadata, &self->ring, 2, 1, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &cqes[1], 1, 2, 1);
}

TEST_F(ring, cancel_takes_only_the_first_match)
{
	static const __u64 one[] = { 7 };
	static const __u64 two[] = { 7, 7 };

	arm_timeouts(_metadata, &self->ring, 3, 7, 0);
	expect_cancel(_metadata, &self->ring, 7, 0, 1, one, 1);
	expect_cancel(_metadata, &self->ring, 7, ZSYNC_CANCEL_ALL, 2, two, 2);
}

TEST_F(ring, cancel_all_of_ten)
{
	static const __u64 ten[10] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };

	arm_timeouts(_metadata, &self->ring, 10, 7, 0);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 10);
	expect_cancel(_metadata, &self->ring, 7, ZSYNC_CANCEL_ALL, 10, ten, 10);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 0);
}

/*
 * Decision: ANY is a match criterion like the others, so alone it cancels
 * the oldest in-flight request; ANY|ALL cancels everything (oldest first).
 */
TEST_F(ring, cancel_any)
{
	static const __u64 first[] = { 1 };
	static const __u64 rest[] = { 2, 3, 4, 5 };

	arm_timeouts(_metadata, &self->ring, 5, 1, 1);
	expect_cancel(_metadata, &self->ring, 0, ZSYNC_CANCEL_ANY, 1, first, 1);
	expect_cancel(_metadata, &self->ring, 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL,
		      4, rest, 4);
	/* It never matches itself. */
	expect_cancel(_metadata, &self->ring, 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL,
		      -ENOENT, NULL, 0);
}

/* No op takes an fd yet, so CANCEL_FD finds nothing, and harms nothing. */
TEST_F(ring, cancel_fd_without_fd_ops_is_enoent)
{
	static const __u64 both[] = { 1, 2 };
	static const int fds[] = { 0, 1, 5 };
	struct zsync_cqe cqe;
	unsigned int i;

	arm_timeouts(_metadata, &self->ring, 2, 1, 1);
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		zk_prep_cancel_fd(zt_sqe(_metadata, &self->ring), fds[i], 0);
		zt_submit(_metadata, &self->ring, 1);
		zt_reap(_metadata, &self->ring, &cqe, 1, ZT_PROMPT_MS);
		EXPECT_EQ(-ENOENT, cqe.res) TH_LOG("CANCEL_FD fd %d: expected -ENOENT, got %s",
						   fds[i], zt_err(cqe.res));
	}
	expect_cancel(_metadata, &self->ring, 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL,
		      2, both, 2);
}

TEST_F(ring, invalid_cancel_is_einval)
{
	static const struct {
		const char *what;
		unsigned int flags;
		int fd;
		__u64 addr, off;
		__u32 len;
	} c[] = {
		{ "flags 1<<3", 1U << 3, 0, 1, 0, 0 },
		{ "flags 1<<31", 1U << 31, 0, 1, 0, 0 },
		{ "FD|ANY", ZSYNC_CANCEL_FD | ZSYNC_CANCEL_ANY, 3, 0, 0, 0 },
		{ "FD with fd -1", ZSYNC_CANCEL_FD, -1, 0, 0, 0 },
		{ "FD with addr set", ZSYNC_CANCEL_FD, 3, 1, 0, 0 },
		{ "ANY with addr set", ZSYNC_CANCEL_ANY, 0, 1, 0, 0 },
		{ "fd set without FD", 0, 3, 1, 0, 0 },
		{ "off set", 0, 0, 1, 1, 0 },
		{ "len set", 0, 0, 1, 0, 1 },
	};
	struct zsync_cqe cqes[ARRAY_SIZE(c)];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct zsync_sqe *sqe = cancel(_metadata, &self->ring, i, c[i].addr,
					       c[i].flags);

		sqe->fd = c[i].fd;
		sqe->off = c[i].off;
		sqe->len = c[i].len;
	}
	zt_submit(_metadata, &self->ring, ARRAY_SIZE(c));
	zt_reap(_metadata, &self->ring, cqes, ARRAY_SIZE(c), ZT_PROMPT_MS);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		if (cqes[i].res != -EINVAL)
			TH_LOG("CANCEL with %s: expected -EINVAL, got %s", c[i].what,
			       zt_err(cqes[i].res));
		zt_check_cqe(_metadata, &cqes[i], i, i, -EINVAL);
	}
}

TEST_F(ring, cancelling_a_chain_head_cancels_the_chain)
{
	struct zsync_cqe cqes[3];

	zt_linked(zt_timeout(_metadata, &self->ring, 1, 10000, 0, 0));
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 2);
	/* Decision: a member waiting behind its chain is not armed: -ENOENT. */
	expect_cancel(_metadata, &self->ring, 2, 0, -ENOENT, NULL, 0);

	cancel(_metadata, &self->ring, 3, 1, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, cqes, 3, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &cqes[1], 1, 2, -ECANCELED);
	zt_check_cqe(_metadata, &cqes[2], 2, 3, 1);
}

/* ------------------------------------------------------------------ */
/* Races                                                               */
/* ------------------------------------------------------------------ */

struct race_stats {
	unsigned int fired, cancelled;
};

/* Busy-wait @us microseconds (a sleep would be far coarser). */
static void spin_us(unsigned int us)
{
	int64_t end = zt_mono_ns() + (int64_t)us * 1000;

	while (zt_mono_ns() < end)
		;
}

/*
 * One timeout of @us microseconds and a CANCEL for it, in one batch or in
 * two with @gap_us between them, then exactly their two CQEs with
 * consistent results.
 */
static void race_once(struct __test_metadata *_metadata, struct zk_ring *ring,
		      unsigned int iter, unsigned int us, bool one_batch,
		      unsigned int gap_us, struct race_stats *st)
{
	__u64 t_ud = 2ULL * iter + 1000, c_ud = t_ud + 1;
	struct zsync_timespec *ts = zt_ts_slot();
	const struct zsync_cqe *t, *c;
	struct zsync_cqe cqes[2];
	struct zsync_sqe *sqe;
	int ti, ci;

	*ts = zt_ts_ns((int64_t)us * 1000);
	sqe = zt_sqe(_metadata, ring);
	zk_prep_timeout(sqe, ts, 0, 0);
	zk_sqe_set_data64(sqe, t_ud);
	if (!one_batch) {
		zt_submit(_metadata, ring, 1);
		spin_us(gap_us);
	}
	cancel(_metadata, ring, c_ud, t_ud, 0);
	zt_submit(_metadata, ring, one_batch ? 2 : 1);
	zt_reap(_metadata, ring, cqes, 2, ZT_LATE_MS + ZT_PROMPT_MS);

	ti = zt_find_cqe(cqes, 2, t_ud);
	ci = zt_find_cqe(cqes, 2, c_ud);
	ASSERT_TRUE(ti >= 0 && ci >= 0 && ti != ci)
		TH_LOG("iteration %u: CQEs %#llx/%s and %#llx/%s, expected %#llx and %#llx",
		       iter, (unsigned long long)cqes[0].user_data, zt_err(cqes[0].res),
		       (unsigned long long)cqes[1].user_data, zt_err(cqes[1].res),
		       (unsigned long long)t_ud, (unsigned long long)c_ud);
	t = &cqes[ti];
	c = &cqes[ci];
	if (t->res == -ETIME) {
		EXPECT_TRUE(c->res == -EALREADY || c->res == -ENOENT)
			TH_LOG("iteration %u (%u us): timeout fired, cancel res %s (expected -EALREADY or -ENOENT)",
			       iter, us, zt_err(c->res));
		st->fired++;
	} else {
		EXPECT_EQ(-ECANCELED, t->res)
			TH_LOG("iteration %u (%u us): timeout res %s (expected -ETIME or -ECANCELED)",
			       iter, us, zt_err(t->res));
		EXPECT_EQ(1, c->res)
			TH_LOG("iteration %u (%u us): timeout cancelled, cancel res %s (expected 1)",
			       iter, us, zt_err(c->res));
		st->cancelled++;
	}
	/* Never a third CQE for the pair. */
	EXPECT_EQ(0u, zk_cq_ready(ring))
		TH_LOG("iteration %u: %u extra CQE(s) after the pair", iter, zk_cq_ready(ring));
}

TEST_F_TIMEOUT(ring, timeout_vs_cancel_race, 300)
{
	unsigned int seed = (unsigned int)zt_mono_ns(), i;
	struct race_stats st = { 0 };

	TH_LOG("seed %u", seed);
	for (i = 0; i < 1000; i++) {
		unsigned int us = 1 + (unsigned int)rand_r(&seed) % 50;
		/* Around the expiry, so both sides win often. */
		unsigned int gap = (unsigned int)rand_r(&seed) % (2 * us + 20);

		race_once(_metadata, &self->ring, i, us, i & 1, gap, &st);
		if (!_metadata->passed)
			break;
	}
	TH_LOG("%u fired first, %u cancelled first", st.fired, st.cancelled);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
}

/*
 * Rings closed while their timeouts fire, their chains continue from the
 * worker and their CQ overflows: close must not hang and nothing may leak.
 */
static void arm_mixed(struct __test_metadata *_metadata, struct zk_ring *ring,
		      unsigned int *seed)
{
	struct zsync_timespec *ts;
	struct zsync_sqe *sqe;
	unsigned int i;

	/* Four timeouts of 1..200 us. */
	for (i = 0; i < 4; i++)
		zt_timeout_ns(_metadata, ring, i,
			      1000 + (int64_t)(rand_r(seed) % 200) * 1000, 0, 0);
	/* A chain the worker continues after the timer fires. */
	zt_linked(zt_timeout_ns(_metadata, ring, 10, 20000, 0,
				ZSYNC_TIMEOUT_ETIME_SUCCESS));
	zt_nop(_metadata, ring, 11);
	/* A long timeout guarded by a 50 us link timeout. */
	zt_linked(zt_timeout(_metadata, ring, 12, 10000, 0, 0));
	ts = zt_ts_slot();
	*ts = zt_ts_ns(50000);
	sqe = zt_sqe(_metadata, ring);
	zk_prep_link_timeout(sqe, ts, 0);
	zk_sqe_set_data64(sqe, 13);
	zt_submit(_metadata, ring, 8);
}

TEST(close_while_timers_fire)
{
	unsigned int seed = (unsigned int)zt_mono_ns(), round, i;
	/*
	 * KASAN and lockdep make every close several times slower: fewer
	 * rounds there keep the same 20 s bound meaningful and well inside
	 * the harness's 30 s limit on a loaded host.
	 */
	unsigned int rounds = zt_debug_kernel() ? 40 : 100;
	int fds_before = zt_count_fds();
	int64_t start = zt_mono_ns();
	struct zsync_params p;
	struct zk_ring rings[4];

	ZT_REQUIRE_DEV();
	TH_LOG("seed %u, %u rounds", seed, rounds);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < 4; i++) {
			memset(&p, 0, sizeof(p));
			/* A CQ of 8 overflows when all complete unreaped. */
			p.flags = ZSYNC_SETUP_CQSIZE;
			p.cq_entries = 8;
			zt_ring_params(_metadata, &rings[i], 8, &p);
			arm_mixed(_metadata, &rings[i], &seed);
		}
		usleep((useconds_t)(rand_r(&seed) % 300));
		for (i = 0; i < 4; i++)
			zk_ring_exit(&rings[i]);
	}
	EXPECT_EQ(fds_before, zt_count_fds()) TH_LOG("descriptors leaked");
	EXPECT_GT(20000, zt_ms_since(start)) TH_LOG("%u ring closes took %" PRId64 " ms",
						    4 * rounds, zt_ms_since(start));
}

TEST_HARNESS_MAIN
