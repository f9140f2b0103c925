// SPDX-License-Identifier: GPL-2.0
/*
 * MSG_RING: a CQE posted into another ring, as a cross-thread wakeup; its
 * errors; a full target (overflow, then -EOVERFLOW at the limit).
 */
#include <pthread.h>
#include "helpers.h"

FIXTURE(two) {
	struct zk_ring a, b;
};

FIXTURE_SETUP(two)
{
	zt_ring(_metadata, &self->a, 8, 0);
	zt_ring(_metadata, &self->b, 8, 0);
}

FIXTURE_TEARDOWN(two)
{
	zk_ring_exit(&self->a);
	zk_ring_exit(&self->b);
}

static void send_msg(struct __test_metadata *_metadata, struct zk_ring *from,
		     int to_fd, __u64 ud, int res, __u64 own_ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, from);

	zk_prep_msg_ring(sqe, to_fd, ud, res);
	zk_sqe_set_data64(sqe, own_ud);
	zt_submit(_metadata, from, 1);
}

TEST_F(two, posts_user_data_and_res_into_the_target)
{
	struct zsync_cqe c;

	send_msg(_metadata, &self->a, self->b.fd, 0xfeedULL, -42, 1);
	zt_reap(_metadata, &self->a, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 1, 0);
	zt_reap(_metadata, &self->b, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 0xfeedULL, -42);
	zt_expect_no_cqe(_metadata, &self->b, 20);
}

TEST_F(two, to_itself)
{
	struct zsync_cqe c[2];

	send_msg(_metadata, &self->a, self->a.fd, 7, 8, 9);
	zt_reap(_metadata, &self->a, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 7, 8);
	zt_check_has(_metadata, c, 2, 9, 0);
}

TEST_F(two, errors)
{
	int p[2], raw;
	struct zsync_cqe c;
	struct zsync_sqe *sqe;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	raw = zt_open_dev(_metadata);	/* a ring never set up */
	send_msg(_metadata, &self->a, p[0], 1, 0, 10);
	zt_reap(_metadata, &self->a, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 10, -EBADFD);
	send_msg(_metadata, &self->a, 999, 1, 0, 11);
	zt_reap(_metadata, &self->a, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 11, -EBADF);
	send_msg(_metadata, &self->a, raw, 1, 0, 12);
	zt_reap(_metadata, &self->a, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 12, -EBADFD);
	/* Fields MSG_RING does not read must be zero. */
	sqe = zt_sqe(_metadata, &self->a);
	zk_prep_msg_ring(sqe, self->b.fd, 1, 0);
	sqe->addr = 1;
	zk_sqe_set_data64(sqe, 13);
	zt_submit(_metadata, &self->a, 1);
	zt_reap(_metadata, &self->a, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 13, -EINVAL);
	zt_expect_no_cqe(_metadata, &self->b, 20);
	close(raw);
	close(p[0]);
	close(p[1]);
}

/*
 * Into a full target the CQEs wait in its overflow list, in order, until
 * its overflow limit: then the sender gets -EOVERFLOW and nothing is lost.
 */
TEST(full_target_overflows_in_order_then_refuses)
{
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 2,
				  .overflow_limit = 3 };
	struct zk_ring a, b;
	struct zsync_cqe c[8];
	unsigned int i;

	zt_ring(_metadata, &a, 8, 0);
	zt_ring_params(_metadata, &b, 2, &p);
	for (i = 0; i < 6; i++)
		send_msg(_metadata, &a, b.fd, 100 + i, (int)i, i);
	zt_reap(_metadata, &a, c, 6, ZT_PROMPT_MS);
	for (i = 0; i < 6; i++)
		zt_check_cqe(_metadata, &c[i], i, i, i < 5 ? 0 : -EOVERFLOW);
	EXPECT_TRUE(zk_cq_overflowed(&b));
	zt_reap(_metadata, &b, c, 5, ZT_PROMPT_MS);
	for (i = 0; i < 5; i++)
		zt_check_cqe(_metadata, &c[i], i, 100 + i, (int)i);
	zt_expect_no_cqe(_metadata, &b, 20);
	zk_ring_exit(&a);
	zk_ring_exit(&b);
}

struct waiter {
	struct zk_ring *ring;
	__u64 got;
	int64_t woke_ns;
};

static void *wait_one(void *arg)
{
	struct waiter *w = arg;
	struct zsync_cqe *cqe;

	if (zk_wait_cqe(w->ring, &cqe) == 0) {
		w->got = cqe->user_data;
		w->woke_ns = zt_mono_ns();
		zk_cqe_seen(w->ring, cqe);
	}
	return NULL;
}

/* A thread asleep in its ring's ENTER is woken by another thread's MSG_RING. */
TEST_F(two, wakes_a_thread_waiting_on_the_target)
{
	struct waiter w = { .ring = &self->b };
	struct zsync_cqe c;
	pthread_t th;
	int64_t sent;

	ASSERT_EQ(0, pthread_create(&th, NULL, wait_one, &w));
	zt_sleep_ms(50);
	sent = zt_mono_ns();
	send_msg(_metadata, &self->a, self->b.fd, 0xabc, 0, 1);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0xabcULL, w.got);
	EXPECT_GT(ZT_PROMPT_MS, (w.woke_ns - sent) / ZT_NSEC_PER_MSEC);
	zt_reap(_metadata, &self->a, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 1, 0);
}

/* The target's own TIMEOUT counts the CQEs MSG_RING posts there. */
TEST_F(two, counts_towards_the_targets_timeout_count)
{
	struct zsync_cqe c[3];

	zt_timeout(_metadata, &self->b, 50, 10000, 2, 0);
	zt_submit(_metadata, &self->b, 1);
	send_msg(_metadata, &self->a, self->b.fd, 51, 0, 1);
	send_msg(_metadata, &self->a, self->b.fd, 52, 0, 2);
	zt_reap(_metadata, &self->b, c, 3, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 3, 50, 0);
	zt_check_has(_metadata, c, 3, 51, 0);
	zt_check_has(_metadata, c, 3, 52, 0);
	zt_reap(_metadata, &self->a, c, 2, ZT_PROMPT_MS);
}

TEST_HARNESS_MAIN
