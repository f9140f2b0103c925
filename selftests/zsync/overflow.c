// SPDX-License-Identifier: GPL-2.0
/*
 * CQ overflow: CQEs that do not fit wait in the kernel's list, the ring
 * says so, they arrive in order once reaped, submission is refused with
 * -EBUSY past the per-ring limit (consuming nothing), and completions from
 * timer interrupts are never dropped, not even past the limit.
 */
#include <fcntl.h>
#include <poll.h>

#include "helpers.h"

/* The ring every test here uses: SQ 8, CQ 8, overflow limit requested. */
static void overflow_ring(struct __test_metadata *_metadata, struct zk_ring *ring,
			  unsigned int limit)
{
	struct zsync_params p;

	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 8;
	p.overflow_limit = limit;
	zt_ring_params(_metadata, ring, 8, &p);
	ASSERT_EQ(8u, p.sq_entries);
	ASSERT_EQ(8u, p.cq_entries);
	ASSERT_EQ(limit, p.overflow_limit)
		TH_LOG("overflow_limit %u requested, %u granted", limit, p.overflow_limit);
}

/* Queue @n NOPs with user_data @ud.. and submit them; expect @want. */
static void submit_nops(struct __test_metadata *_metadata, struct zk_ring *ring,
			unsigned int n, __u64 ud, int want)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		zt_nop(_metadata, ring, ud + i);
	zt_submit(_metadata, ring, want);
}

/* The overflow state as the ring, its counter and fdinfo show it. */
static void expect_overflow(struct __test_metadata *_metadata,
			    struct zk_ring *ring, unsigned int backlog,
			    unsigned int total)
{
	EXPECT_EQ(backlog != 0, zk_cq_overflowed(ring))
		TH_LOG("ZSYNC_SQ_CQ_OVERFLOW is %s with %u CQEs expected in the overflow list",
		       zk_cq_overflowed(ring) ? "set" : "clear", backlog);
	EXPECT_EQ(total, zk_load_acquire(ring->cq.koverflow))
		TH_LOG("cq overflow counter: expected %u, got %u", total,
		       zk_load_acquire(ring->cq.koverflow));
	zt_check_fdinfo(_metadata, ring->fd, "overflow", backlog);
	zt_check_fdinfo(_metadata, ring->fd, "overflow_total", total);
}

/* Reap @n CQEs that must be NOPs @ud.. in order, with res 0. */
static void reap_nops(struct __test_metadata *_metadata, struct zk_ring *ring,
		      unsigned int n, __u64 ud)
{
	struct zsync_cqe cqes[64];
	unsigned int i;

	ASSERT_GE(ARRAY_SIZE(cqes), n);
	zt_reap(_metadata, ring, cqes, n, ZT_PROMPT_MS);
	for (i = 0; i < n; i++)
		zt_check_cqe(_metadata, &cqes[i], i, ud + i, 0);
}

FIXTURE(ring) {
	struct zk_ring ring;
};

FIXTURE_SETUP(ring)
{
	overflow_ring(_metadata, &self->ring, 16);
}

FIXTURE_TEARDOWN(ring)
{
	zk_ring_exit(&self->ring);
}

TEST_F(ring, overflow_is_flushed_in_order_and_ebusy_past_the_limit)
{
	struct zk_ring *ring = &self->ring;
	int ret;

	submit_nops(_metadata, ring, 8, 0, 8);
	EXPECT_EQ(8u, zk_cq_ready(ring));
	expect_overflow(_metadata, ring, 0, 0);

	submit_nops(_metadata, ring, 8, 8, 8);
	EXPECT_EQ(8u, zk_cq_ready(ring));
	expect_overflow(_metadata, ring, 8, 8);

	submit_nops(_metadata, ring, 8, 16, 8);
	expect_overflow(_metadata, ring, 16, 16);

	/* Backlog 16 = limit: refused, nothing consumed. */
	submit_nops(_metadata, ring, 8, 24, -EBUSY);
	EXPECT_EQ(24u, zk_load_acquire(ring->sq.khead))
		TH_LOG("SQ head moved on a refused ENTER");
	zt_check_fdinfo(_metadata, ring->fd, "sq_head", 24);
	expect_overflow(_metadata, ring, 16, 16);

	/* 8 from the CQ, then 16 flushed from the list, in submission order. */
	reap_nops(_metadata, ring, 24, 0);
	expect_overflow(_metadata, ring, 0, 16);

	/* The refused SQEs are still queued and go in now. */
	ret = zk_submit(ring);
	ASSERT_EQ(8, ret) TH_LOG("resubmitting after reaping: expected 8, got %s",
				 zt_err(ret));
	reap_nops(_metadata, ring, 8, 24);
	expect_overflow(_metadata, ring, 0, 16);
	zt_expect_no_cqe(_metadata, ring, 50);
}

/* Decision (the kernel's): a batch reaching the limit midway stops there. */
TEST(ebusy_limit_stops_a_batch_midway)
{
	struct zk_ring ring;

	overflow_ring(_metadata, &ring, 12);
	submit_nops(_metadata, &ring, 8, 0, 8);
	submit_nops(_metadata, &ring, 8, 8, 8);
	/* Backlog 8: four more reach the limit of 12. */
	submit_nops(_metadata, &ring, 8, 16, 4);
	EXPECT_EQ(20u, zk_load_acquire(ring.sq.khead));
	expect_overflow(_metadata, &ring, 12, 12);
	EXPECT_EQ(-EBUSY, zk_submit(&ring));
	reap_nops(_metadata, &ring, 20, 0);
	EXPECT_EQ(4, zk_submit(&ring));
	reap_nops(_metadata, &ring, 4, 20);
	zk_ring_exit(&ring);
}

/*
 * "Any ENTER flushes": after userspace reaped the CQ by moving its head
 * (no ENTER), the next submit first moves the backlog into the CQ, is then
 * under the limit again, and consumes its SQEs instead of -EBUSY.
 */
TEST_F(ring, submit_after_reaping_flushes_before_the_limit_check)
{
	struct zk_ring *ring = &self->ring;

	submit_nops(_metadata, ring, 8, 0, 8);
	submit_nops(_metadata, ring, 8, 8, 8);
	submit_nops(_metadata, ring, 8, 16, 8);
	expect_overflow(_metadata, ring, 16, 16);
	/* Read the 8 CQEs in the CQ, hand the slots back, no ENTER. */
	reap_nops(_metadata, ring, 8, 0);
	/* Backlog 16 -> 8 once flushed: room for these 4 under the limit. */
	submit_nops(_metadata, ring, 4, 24, 4);
	reap_nops(_metadata, ring, 20, 8);
	expect_overflow(_metadata, ring, 0, 20);
}

/* A pure wait or flush (to_submit 0) is never refused. */
TEST_F(ring, waiting_is_never_ebusy)
{
	int wait_res = 1, ret;

	submit_nops(_metadata, &self->ring, 8, 0, 8);
	submit_nops(_metadata, &self->ring, 8, 8, 8);
	submit_nops(_metadata, &self->ring, 8, 16, 8);
	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, NULL, &wait_res);
	EXPECT_EQ(0, ret) TH_LOG("ENTER(wait 1) at the overflow limit: expected 0, got %s",
				 zt_err(ret));
	EXPECT_EQ(0, wait_res);
	reap_nops(_metadata, &self->ring, 24, 0);
}

/* Wait until fdinfo shows nothing in flight (all timers fired). */
static void wait_idle(struct __test_metadata *_metadata, struct zk_ring *ring,
		      int64_t ms)
{
	int64_t start = zt_mono_ns();
	unsigned int inflight = ~0U;

	while (zt_ms_since(start) < ms) {
		ASSERT_EQ(0, zt_fdinfo(ring->fd, "inflight", &inflight));
		if (!inflight)
			return;
		zt_sleep_ms(10);
	}
	ASSERT_EQ(0u, inflight) TH_LOG("%u requests still in flight after %" PRId64 " ms",
				       inflight, ms);
}

/*
 * 24 timeouts fire from the timer interrupt into a full CQ: all 24 go to
 * the overflow list although that passes the limit of 16 (CQEs are never
 * dropped), then arrive in expiry order.
 */
TEST_F(ring, timer_completions_overflow_past_the_limit_without_loss)
{
	struct zk_ring *ring = &self->ring;
	struct zsync_cqe cqes[24];
	unsigned int b, i;
	int ret;

	submit_nops(_metadata, ring, 8, 0, 8);
	for (b = 0; b < 3; b++) {
		for (i = 0; i < 8; i++) {
			unsigned int n = b * 8 + i;

			zt_timeout(_metadata, ring, 100 + n, 150 + 5 * n, 0, 0);
		}
		ret = zk_submit(ring);
		ASSERT_EQ(8, ret) TH_LOG("submitting timeouts %u..%u: %s (did they fire before all were submitted?)",
					 b * 8, b * 8 + 7, zt_err(ret));
	}
	wait_idle(_metadata, ring, 150 + 5 * 24 + ZT_LATE_MS + ZT_PROMPT_MS);
	EXPECT_EQ(8u, zk_cq_ready(ring));
	expect_overflow(_metadata, ring, 24, 24);
	submit_nops(_metadata, ring, 1, 50, -EBUSY);

	reap_nops(_metadata, ring, 8, 0);
	zt_reap(_metadata, ring, cqes, 24, ZT_PROMPT_MS);
	for (i = 0; i < 24; i++)
		zt_check_cqe(_metadata, &cqes[i], i, 100 + i, -ETIME);
	expect_overflow(_metadata, ring, 0, 24);
	EXPECT_EQ(1, zk_submit(ring));
	reap_nops(_metadata, ring, 1, 50);
	zt_expect_no_cqe(_metadata, ring, 50);
}

/* poll() reports POLLIN while CQEs wait only in the overflow list. */
TEST_F(ring, reaping_the_cq_keeps_the_overflow_visible)
{
	struct zk_ring *ring = &self->ring;
	struct pollfd pfd = { .events = POLLIN };
	int ret;

	submit_nops(_metadata, ring, 8, 0, 8);
	submit_nops(_metadata, ring, 4, 8, 4);
	/* Consume the CQ by hand, without any ENTER that would flush. */
	zk_cq_advance(ring, 8);
	EXPECT_EQ(0u, zk_cq_ready(ring));
	EXPECT_TRUE(zk_cq_overflowed(ring)) TH_LOG("flag cleared before the list was flushed");
	zt_check_fdinfo(_metadata, ring->fd, "overflow", 4);
	pfd.fd = ring->fd;
	ret = poll(&pfd, 1, 0);
	EXPECT_EQ(1, ret) TH_LOG("poll with 4 CQEs only in the overflow list: %d", ret);
	EXPECT_TRUE(pfd.revents & POLLIN);
	reap_nops(_metadata, ring, 4, 8);
	expect_overflow(_metadata, ring, 0, 4);
}

/* Takes the oldest CQE, which must be one of @base.. not seen before. */
static void take_one(struct __test_metadata *_metadata, struct zk_ring *ring,
		     __u64 base, unsigned char *seen, unsigned int n)
{
	struct zsync_cqe *cqe = NULL;
	__u64 ud;

	ASSERT_EQ(0, zk_peek_cqe(ring, &cqe));
	ud = cqe->user_data;
	ASSERT_TRUE(ud >= base && ud < base + n)
		TH_LOG("CQE %llu is not of this round (%llu..)", (unsigned long long)ud,
		       (unsigned long long)base);
	ASSERT_EQ(0, seen[ud - base]) TH_LOG("a second CQE for %llu", (unsigned long long)ud);
	seen[ud - base] = 1;
	EXPECT_EQ(0, cqe->res) TH_LOG("FSYNC %llu: %s", (unsigned long long)ud, zt_err(cqe->res));
	zk_cqe_seen(ring, cqe);
}

/*
 * Completions that io workers post into the overflow list race the
 * submitter's flushes: the request whose CQE a flush takes off the list
 * may be freed by its worker at that moment (KASAN once caught the flush
 * writing to a request its worker had just freed).  Rounds of 32 FSYNCs
 * (io workers, any CPU) into a CQ of 8 that this thread keeps full: it
 * takes a CQE only when all 8 slots are used, so every post overflows,
 * and enters in a loop, so each flush takes the newest entries while
 * their workers are still on their way out.  Every CQE arrives exactly
 * once, with fsync's result.
 */
TEST(worker_completions_race_the_flush_without_loss)
{
	enum { ROUNDS = 200, PER_ROUND = 32, CQ = 8 };
	unsigned char seen[PER_ROUND];
	char path[] = "/tmp/zsync-ovf-XXXXXX";
	struct zk_ring ring;
	unsigned int r, i, got;
	int64_t start;
	int fd, ret;

	overflow_ring(_metadata, &ring, 64);
	fd = mkstemp(path);
	ASSERT_LE(0, fd) TH_LOG("mkstemp: %s", strerror(errno));
	unlink(path);
	for (r = 0; r < ROUNDS; r++) {
		__u64 base = (__u64)r * PER_ROUND;

		for (i = 0; i < PER_ROUND; i++) {
			zk_prep_fsync(zt_sqe_ud(_metadata, &ring, base + i), fd, 0);
			if (i % 8 == 7)
				zt_submit(_metadata, &ring, 8);
		}
		memset(seen, 0, sizeof(seen));
		start = zt_mono_ns();
		for (got = 0; got < PER_ROUND;) {
			unsigned int ready = zk_cq_ready(&ring);

			if (ready == CQ || got + ready == PER_ROUND) {
				take_one(_metadata, &ring, base, seen, PER_ROUND);
				got++;
				continue;
			}
			ret = zk_enter(&ring, 0, 0, 0, NULL, NULL, NULL);
			ASSERT_LE(0, ret) TH_LOG("ENTER to flush: %s", zt_err(ret));
			ASSERT_GT(ZT_PROMPT_MS, zt_ms_since(start))
				TH_LOG("round %u: %u of %u CQEs, %u in the CQ", r, got,
				       PER_ROUND, ready);
		}
	}
	zt_expect_no_cqe(_metadata, &ring, 20);
	EXPECT_EQ(0, close(fd));
	zk_ring_exit(&ring);
}

TEST_HARNESS_MAIN
