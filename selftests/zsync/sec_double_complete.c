// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 11, finding 1: a request claimed by CANCEL (or by ring close) must
 * not be completed a second time by the LINK_TIMEOUT guarding it.
 *
 * 64 chains of (TIMEOUT 10 s, LINK_TIMEOUT, a tail of NOPs), then one
 * CANCEL, with the moment the link timeouts fire scanned across the
 * CANCEL.  Every SQE must get exactly one CQE and the ring's in-flight
 * count must come back to 0.  The same chains on rings closed while the
 * link timeouts fire must tear down completely (on the debug kernel a
 * double completion shows as a refcount underflow or a KASAN report, and
 * kmemleak shows what is left behind).
 *
 * How the race is made likely, in a TCG guest:
 * - The chains are armed on one CPU and the CANCEL (or the close) runs on
 *   another: hrtimers fire on the CPU that started them, so the link
 *   timeouts fire while the canceller works, instead of waiting for the
 *   canceller's CPU to turn interrupts back on.
 * - Every LINK_TIMEOUT has the same absolute deadline, so they all fire in
 *   one burst, each cheaply, while the canceller spends a whole tail of
 *   CQEs on each TIMEOUT it completes: the burst's front overtakes the
 *   canceller's, and one link timeout fires on the TIMEOUT the canceller
 *   is about to complete.
 * - The deadline is placed at a scanned fraction of the previous round's
 *   CANCEL, as measured, so the burst lands inside the CANCEL whatever the
 *   guest's speed.
 * - CANCEL by user_data (the TIMEOUTs share one) leaves the link timeouts
 *   armed for the burst; CANCEL_ANY | CANCEL_ALL (the scenario of the
 *   report) claims them too, unless one is firing right then.
 */
#include <sched.h>
#include "helpers.h"

#define CHAINS		64
#define TAIL		24			/* NOPs after each LINK_TIMEOUT */
#define CHAIN_LEN	(2 + TAIL)
#define NR_CHAIN_SQES	(CHAINS * CHAIN_LEN)
#define NR_SQES		(NR_CHAIN_SQES + 1)	/* and the CANCEL */

#define UD_BASE		0x100000ULL	/* + SQE index */
#define UD_SHARED	0x900000ULL	/* every TIMEOUT, when cancelled by user_data */
#define UD_CANCEL	0xa00000ULL

/*
 * The burst is placed at STEPS fractions of the CANCEL, ROUNDS times each,
 * or fewer rounds on a kernel too slow for them in BUDGET_MS (the debug
 * kernel under TCG); the first round always runs.
 */
#define STEPS		24
#define ROUNDS		3
#define BUDGET_MS	45000

/* The ring every race uses: room for all chains, their CQEs never overflow. */
static void race_ring(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	struct zsync_params p;

	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 2 * 4096;
	zt_ring_params(_metadata, ring, 4096, &p);
}

/*
 * The chains, not submitted: TIMEOUT 10 s (user_data UD_SHARED with
 * @shared_ud), LINK_TIMEOUT at absolute CLOCK_MONOTONIC @deadline_ns, NOPs.
 * Every other SQE has user_data UD_BASE + its index.
 */
static void prep_chains(struct __test_metadata *_metadata, struct zk_ring *ring,
			int64_t deadline_ns, bool shared_ud)
{
	unsigned int c, m, idx = 0;

	for (c = 0; c < CHAINS; c++) {
		struct zsync_timespec *t = zt_ts_slot();
		struct zsync_sqe *sqe;

		zt_linked(zt_timeout(_metadata, ring, shared_ud ? UD_SHARED : UD_BASE + idx,
				     10000, 0, 0));
		idx++;
		sqe = zt_sqe_ud(_metadata, ring, UD_BASE + idx++);
		*t = zt_ts_ns(deadline_ns);
		zk_prep_link_timeout(sqe, t, ZSYNC_TIMEOUT_ABS);
		zt_linked(sqe);
		for (m = 0; m < TAIL; m++) {
			sqe = zt_nop(_metadata, ring, UD_BASE + idx++);
			if (m + 1 < TAIL)
				zt_linked(sqe);
		}
	}
}

/* fdinfo "inflight" as a signed value (a double completion makes it -1). */
static int inflight(int fd)
{
	unsigned int v = 0;

	if (zt_fdinfo(fd, "inflight", &v))
		return -1000;
	return (int)v;
}

/* Wait (polling fdinfo) until the ring has nothing in flight, up to @ms. */
static int wait_idle(int fd, int64_t ms)
{
	int64_t start = zt_mono_ns();
	int n;

	while ((n = inflight(fd)) != 0 && zt_ms_since(start) < ms)
		zt_sleep_ms(1);
	return n;
}

struct tally {
	unsigned int seen[NR_CHAIN_SQES];
	unsigned int shared, cancel, strangers;
	int cancel_res;
};

static void count_cqe(struct tally *t, const struct zsync_cqe *cqe)
{
	if (cqe->user_data >= UD_BASE && cqe->user_data < UD_BASE + NR_CHAIN_SQES) {
		t->seen[cqe->user_data - UD_BASE]++;
	} else if (cqe->user_data == UD_SHARED) {
		t->shared++;
	} else if (cqe->user_data == UD_CANCEL) {
		t->cancel++;
		t->cancel_res = cqe->res;
	} else {
		t->strangers++;
	}
}

/* What one round measured, to place the next round's burst. */
struct timing {
	int64_t submit_ns;	/* from prep start to the chains' ENTER returning */
	int64_t cancel_ns;	/* the CANCEL's ENTER */
};

/*
 * One round: chains armed on one CPU, their link timeouts due @step
 * STEPS-ths into the CANCEL as the previous round measured it (@est, which
 * this round updates), and the CANCEL from the other CPU.  Returns the
 * number of SQEs whose CQE count is wrong.
 */
static unsigned int race_round(struct __test_metadata *_metadata, struct timing *est,
			       unsigned int step, bool by_ud)
{
	static struct tally t;
	struct zsync_cqe *cqe;
	struct zsync_sqe *sqe;
	struct zk_ring ring;
	int64_t t0, t1, deadline;
	unsigned int i, got = 0, bad = 0;
	int n, ret;

	memset(&t, 0, sizeof(t));
	race_ring(_metadata, &ring);
	zt_run_on(0);
	t0 = zt_mono_ns();
	deadline = t0 + est->submit_ns + est->cancel_ns * step / STEPS;
	prep_chains(_metadata, &ring, deadline, by_ud);
	zt_submit(_metadata, &ring, NR_CHAIN_SQES);
	zt_run_on(1);
	t1 = zt_mono_ns();
	sqe = zt_sqe_ud(_metadata, &ring, UD_CANCEL);
	if (by_ud)
		zk_prep_cancel(sqe, UD_SHARED, ZSYNC_CANCEL_ALL);
	else
		zk_prep_cancel(sqe, 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL);
	zk_sqe_set_data64(sqe, UD_CANCEL);
	zt_submit(_metadata, &ring, 1);
	est->submit_ns = t1 - t0;
	est->cancel_ns = zt_mono_ns() - t1;

	/* Every SQE completes, whoever completes it. */
	while (got < NR_SQES) {
		struct zsync_timespec ts = zt_ts_ms(ZT_PROMPT_MS);

		ret = zk_wait_cqe_timeout(&ring, &cqe, &ts);
		EXPECT_EQ(0, ret) TH_LOG("step %u: %u of %d CQEs came", step, got, NR_SQES);
		if (ret)
			break;
		count_cqe(&t, cqe);
		got++;
		zk_cqe_seen(&ring, cqe);
	}
	/* A double completion posts one more: take what came until idle. */
	n = wait_idle(ring.fd, ZT_PROMPT_MS);
	while (zk_peek_cqe(&ring, &cqe) == 0) {
		count_cqe(&t, cqe);
		zk_cqe_seen(&ring, cqe);
	}
	for (i = 0; i < NR_CHAIN_SQES; i++) {
		unsigned int want = by_ud && i % CHAIN_LEN == 0 ? 0 : 1;

		if (t.seen[i] == want)
			continue;
		bad++;
		TH_LOG("%s, step %u: user_data %#llx got %u CQEs",
		       by_ud ? "CANCEL by user_data" : "CANCEL_ANY", step,
		       (unsigned long long)(UD_BASE + i), t.seen[i]);
	}
	if (t.shared != (by_ud ? CHAINS : 0u) || t.cancel != 1 || t.strangers) {
		bad++;
		TH_LOG("step %u: %u CQEs for the %u TIMEOUTs sharing a user_data, %u for the CANCEL, %u strangers",
		       step, t.shared, by_ud ? CHAINS : 0, t.cancel, t.strangers);
	}
	EXPECT_EQ(0, n) TH_LOG("step %u: fdinfo inflight %d once idle", step, n);
	zk_ring_exit(&ring);
	return bad + (n != 0);
}

static void race(struct __test_metadata *_metadata, bool by_ud)
{
	struct timing est = { .submit_ns = 20 * ZT_NSEC_PER_MSEC,
			      .cancel_ns = 20 * ZT_NSEC_PER_MSEC };
	int64_t start = zt_mono_ns();
	unsigned int step, round;

	zt_pick_cpus();
	/* A first round to measure (its burst comes after the CANCEL). */
	ASSERT_EQ(0u, race_round(_metadata, &est, STEPS * 4, by_ud));
	TH_LOG("CPUs %d and %d; submission %" PRId64 " us, CANCEL %" PRId64 " us",
	       zt_cpus()[0], zt_cpus()[1], est.submit_ns / 1000, est.cancel_ns / 1000);
	for (round = 0; round < ROUNDS; round++) {
		if (round && zt_ms_since(start) > BUDGET_MS)
			break;
		for (step = 0; step < STEPS; step++)
			ASSERT_EQ(0u, race_round(_metadata, &est, step, by_ud));
	}
	TH_LOG("%u rounds of %d steps", round, STEPS);
}

FIXTURE(race) {
	int unused;
};

FIXTURE_SETUP(race)
{
	ZT_REQUIRE_DEV();
}

FIXTURE_TEARDOWN(race)
{
}

TEST_F_TIMEOUT(race, link_timeout_vs_cancel_all, 600)
{
	race(_metadata, false);
}

TEST_F_TIMEOUT(race, link_timeout_vs_cancel_by_user_data, 600)
{
	race(_metadata, true);
}

static __u64 rings_open(struct __test_metadata *_metadata, int fd)
{
	struct zsync_stats st;

	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, zt_ioctl(fd, ZSYNC_IOC_STATS, &st));
	return st.rings_open;
}

TEST_F_TIMEOUT(race, link_timeout_vs_ring_close, 600)
{
	int64_t close_ns = 20 * ZT_NSEC_PER_MSEC, submit_ns = 20 * ZT_NSEC_PER_MSEC;
	int64_t start = zt_mono_ns();
	unsigned int step, round;
	__u64 base;
	int sfd;

	zt_pick_cpus();
	sfd = zt_open_dev(_metadata);
	for (round = 0; round < ROUNDS; round++) {
		if (round && zt_ms_since(start) > BUDGET_MS)
			break;
		for (step = 0; step < STEPS; step++) {
			struct zk_ring ring;
			int64_t t0, t1;

			/* A ring of an earlier test may still be going away: at most. */
			base = rings_open(_metadata, sfd);
			race_ring(_metadata, &ring);
			zt_run_on(0);
			t0 = zt_mono_ns();
			prep_chains(_metadata, &ring, t0 + submit_ns + close_ns * step / STEPS,
				    false);
			zt_submit(_metadata, &ring, NR_CHAIN_SQES);
			zt_run_on(1);
			t1 = zt_mono_ns();
			/* Close while the link timeouts fire: release cancels the rest. */
			zk_ring_exit(&ring);
			submit_ns = t1 - t0;
			close_ns = zt_mono_ns() - t1;
			/* Release is synchronous: the ring is gone once close returns. */
			ASSERT_GE(base, rings_open(_metadata, sfd))
				TH_LOG("round %u step %u: a closed ring is still open", round, step);
		}
	}
	close(sfd);
}

TEST_HARNESS_MAIN
