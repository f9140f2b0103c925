// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 11, finding 7 (cancel part): CANCEL and POLL_REMOVE by user_data or
 * by fd must find their match through an index, not by walking every
 * in-flight request with interrupts off.
 *
 * The ring is filled up to the module's max_inflight with POLL_ADDs on one
 * pipe and TIMEOUTs of an hour; then CANCELs by a user_data and by an fd
 * that match nothing, and a POLL_REMOVE that matches nothing, are timed
 * against a NOP.  Their median extra cost must stay far below what a walk
 * of the whole in-flight list costs.  Matching cancels must still find the
 * request armed first.
 */
#include <sys/epoll.h>
#include "helpers.h"

/* Most requests armed (the module's default max_inflight). */
#define ARM_MAX		65536
/* Fewer in flight than this and a linear walk is too cheap to tell apart. */
#define ARM_MIN		8192
#define SAMPLES		21
/* Median cost of a non-matching lookup above a NOP's, in ns. */
#define BOUND_NS	(200 * 1000)

#define UD_BASE		0x100000ULL	/* + i for the armed requests */
#define UD_NONE		0xdead0000beefULL
#define UD_PROBE	0x7000000ULL

enum probe { P_NOP, P_CANCEL_UD, P_CANCEL_FD, P_POLL_REMOVE, P_NR };

static const char *const probe_name[P_NR] = {
	"NOP", "CANCEL by user_data", "CANCEL by fd", "POLL_REMOVE",
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* One SQE submitted and its CQE waited for in one ENTER; returns ns. */
static int64_t one_shot(struct __test_metadata *_metadata, struct zk_ring *ring,
			enum probe p, int other_fd, int want)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);
	struct zsync_cqe *cqe;
	int64_t t0, t;
	int ret;

	switch (p) {
	case P_NOP:
		zk_prep_nop(sqe);
		break;
	case P_CANCEL_UD:
		zk_prep_cancel(sqe, UD_NONE, 0);
		break;
	case P_CANCEL_FD:
		zk_prep_cancel_fd(sqe, other_fd, 0);
		break;
	default:
		zk_prep_poll_remove(sqe, UD_NONE);
		break;
	}
	zk_sqe_set_data64(sqe, UD_PROBE + p);
	t0 = zt_mono_ns();
	ret = zk_submit_and_wait(ring, 1);
	t = zt_mono_ns() - t0;
	EXPECT_EQ(1, ret) TH_LOG("%s: submit_and_wait %s", probe_name[p], zt_err(ret));
	ret = zk_peek_cqe(ring, &cqe);
	EXPECT_EQ(0, ret);
	if (!ret) {
		EXPECT_EQ(UD_PROBE + p, cqe->user_data);
		EXPECT_EQ(want, cqe->res) TH_LOG("%s: res %s, expected %s", probe_name[p],
						 zt_err(cqe->res), zt_err(want));
		zk_cqe_seen(ring, cqe);
	}
	return t;
}

/* Submit one CANCEL-like SQE that matches, and check what it cancelled. */
static void expect_cancels(struct __test_metadata *_metadata, struct zk_ring *ring,
			   struct zsync_sqe *sqe, int res, __u64 victim)
{
	struct zsync_cqe c[2];

	zk_sqe_set_data64(sqe, UD_PROBE);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, victim, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, UD_PROBE, res);
}

FIXTURE(full) {
	int unused;
};

FIXTURE_SETUP(full)
{
	ZT_REQUIRE_DEV();
}

FIXTURE_TEARDOWN(full)
{
}

/* Arming and closing 65536 requests takes a while on the debug kernel. */
TEST_F_TIMEOUT(full, cancel_lookup_is_indexed, 300)
{
	unsigned int max = zt_module_param("max_inflight", ARM_MAX);
	int64_t ns[P_NR][SAMPLES], med[P_NR];
	unsigned int n, i, armed = 0, live = 0;
	struct zsync_params par;
	struct zsync_sqe *sqe;
	struct zk_ring ring;
	int p[2], q[2], k;

	if (max < ARM_MIN + 16)
		SKIP(return, "max_inflight %u: too few requests to tell a walk apart", max);
	n = (max > ARM_MAX ? ARM_MAX : max) - 16;

	memset(&par, 0, sizeof(par));
	par.flags = ZSYNC_SETUP_CLAMP;
	zt_ring_params(_metadata, &ring, 4096, &par);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC | O_NONBLOCK));
	ASSERT_EQ(0, pipe2(q, O_CLOEXEC | O_NONBLOCK));

	/* Half POLL_ADDs on p[0] (indexed by fd too), half hour-long TIMEOUTs. */
	while (armed < n) {
		unsigned int chunk = n - armed;

		if (chunk > ring.sq.entries)
			chunk = ring.sq.entries;
		for (i = 0; i < chunk; i++, armed++) {
			if (armed & 1) {
				zt_timeout(_metadata, &ring, UD_BASE + armed, 3600 * 1000, 0, 0);
			} else {
				struct zsync_sqe *sqe = zt_sqe_ud(_metadata, &ring, UD_BASE + armed);

				zk_prep_poll_add(sqe, p[0], EPOLLIN, 0);
			}
		}
		zt_submit(_metadata, &ring, (int)chunk);
	}
	ASSERT_EQ(0, zt_fdinfo(ring.fd, "inflight", &live));
	ASSERT_EQ(n, live) TH_LOG("armed %u, fdinfo inflight %u", n, live);

	/* Interleaved, so that the guest's noise hits every probe alike. */
	for (i = 0; i < SAMPLES; i++)
		for (k = 0; k < P_NR; k++)
			ns[k][i] = one_shot(_metadata, &ring, (enum probe)k, q[0],
					    k == P_NOP ? 0 : -ENOENT);
	for (k = 0; k < P_NR; k++) {
		qsort(ns[k], SAMPLES, sizeof(ns[k][0]), cmp_i64);
		med[k] = ns[k][SAMPLES / 2];
	}
	TH_LOG("%u in flight; median ENTER: NOP %" PRId64 " us, CANCEL by user_data %" PRId64
	       " us, CANCEL by fd %" PRId64 " us, POLL_REMOVE %" PRId64 " us",
	       n, med[P_NOP] / 1000, med[P_CANCEL_UD] / 1000, med[P_CANCEL_FD] / 1000,
	       med[P_POLL_REMOVE] / 1000);
	for (k = P_CANCEL_UD; k < P_NR; k++) {
		const char *name = probe_name[k];
		int64_t extra = med[k] - med[P_NOP];

		EXPECT_GT(BOUND_NS, extra)
			TH_LOG("%s that matches nothing among %u: median %" PRId64
			       " us above a NOP's, bound %d us", name, n, extra / 1000,
			       BOUND_NS / 1000);
	}

	/* Matches are still found, the one armed first for the fd. */
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_cancel(sqe, UD_BASE + n / 2 + 1, 0);
	expect_cancels(_metadata, &ring, sqe, 1, UD_BASE + n / 2 + 1);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_cancel_fd(sqe, p[0], 0);
	expect_cancels(_metadata, &ring, sqe, 1, UD_BASE);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_poll_remove(sqe, UD_BASE + 2);
	expect_cancels(_metadata, &ring, sqe, 0, UD_BASE + 2);
	/* POLL_REMOVE steps over the TIMEOUT with this user_data. */
	sqe = zt_sqe_ud(_metadata, &ring, UD_PROBE);
	zk_prep_poll_remove(sqe, UD_BASE + 3);
	zk_sqe_set_data64(sqe, UD_PROBE);
	zt_submit(_metadata, &ring, 1);
	zt_expect_cqe(_metadata, &ring, UD_PROBE, -ENOENT, 0);

	ASSERT_EQ(0, zt_fdinfo(ring.fd, "inflight", &live));
	EXPECT_EQ(n - 3, live);
	/* Close cancels the rest in bounded batches. */
	zk_ring_exit(&ring);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

TEST_HARNESS_MAIN
