// SPDX-License-Identifier: GPL-2.0
/*
 * The submission hot path: ZSYNC_IOC_ENTER_VALUE, the batch of CQEs an ENTER
 * posts together (order, overflow, limits, eventfd counts), the credits a
 * ring keeps in reserve (fdinfo inflight stays exact) and the filtered wait
 * (several waiters with different targets, none woken too early, none lost),
 * and request-less completion (lone NOPs and refused SQEs, whose CQEs wait
 * in reserved requests when the CQ ring is full).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "helpers.h"

static int enter_value(int fd, unsigned long arg)
{
	int ret = ioctl(fd, ZSYNC_IOC_ENTER_VALUE, arg);

	return ret < 0 ? -errno : ret;
}

ZT_RING_FIXTURE(64)

TEST_F(ring, enter_value_is_advertised_and_submits)
{
	struct zsync_cqe c[8];
	unsigned int i;
	int ret;

	ASSERT_TRUE(!!(self->ring.features & ZSYNC_FEAT_ENTER_VALUE))
		TH_LOG("features %#x lack ZSYNC_FEAT_ENTER_VALUE", self->ring.features);
	for (i = 0; i < 8; i++)
		zt_nop(_metadata, &self->ring, 100 + i);
	zt_publish_sq(&self->ring);
	/* Submit 8 and wait for 8 in one ioctl, nothing copied either way. */
	ret = enter_value(self->ring.fd, ZSYNC_ENTER_VALUE(8, 8, ZSYNC_ENTER_GETEVENTS));
	ASSERT_EQ(8, ret) TH_LOG("ENTER_VALUE: %s", zt_err(ret));
	ASSERT_EQ(8u, zk_cq_ready(&self->ring));
	zt_reap(_metadata, &self->ring, c, 8, ZT_PROMPT_MS);
	/* Lone inline completions keep their submission order. */
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(100 + i, c[i].user_data);
		EXPECT_EQ(0, c[i].res);
	}
}

TEST_F(ring, enter_value_refuses_upper_bits_and_consumes_nothing)
{
	unsigned int head;
	int ret;

	zt_nop(_metadata, &self->ring, 1);
	zt_publish_sq(&self->ring);
	ret = enter_value(self->ring.fd, (1UL << 32) | 1);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("bit 32 set: %s", zt_err(ret));
	head = zk_load_acquire(self->ring.sq.khead);
	ASSERT_EQ(0u, head) TH_LOG("a refused ENTER_VALUE consumed SQEs");
	ASSERT_EQ(1, enter_value(self->ring.fd, ZSYNC_ENTER_VALUE(1, 0, 0)));
	zt_reap(_metadata, &self->ring, NULL, 1, ZT_PROMPT_MS);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F(ring, enter_value_wait_is_interruptible)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		int ret;

		/* No SA_RESTART: the wait must come back with -EINTR. */
		sigaction(SIGUSR1, &sa, NULL);
		ret = enter_value(self->ring.fd, ZSYNC_ENTER_VALUE(0, 1, ZSYNC_ENTER_GETEVENTS));
		_exit(ret == -EINTR ? 0 : 10);
	}
	ASSERT_TRUE(zt_wait_state(pid, 'S', ZT_PROMPT_MS)) TH_LOG("the child never slept in the wait");
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	status = zt_wait_child(pid, ZT_PROMPT_MS);
	ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x: the by-value wait did not end with -EINTR", status);
}

/*
 * An overflowing batch: with an 8-entry CQ, a second ENTER of 8 lone NOPs
 * finds it full; all 8 wait in the overflow list, then come out in order.
 */
TEST(batch_overflows_in_order)
{
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 8 };
	struct zsync_cqe c[16];
	struct zk_ring ring;
	unsigned int i, ovf;

	zt_ring_params(_metadata, &ring, 8, &p);
	for (i = 0; i < 8; i++)
		zt_nop(_metadata, &ring, i);
	zt_submit(_metadata, &ring, 8);
	for (i = 0; i < 8; i++)
		zt_nop(_metadata, &ring, 8 + i);
	zt_submit(_metadata, &ring, 8);
	ASSERT_EQ(8u, zk_cq_ready(&ring));
	ASSERT_EQ(0, zt_fdinfo(ring.fd, "overflow", &ovf));
	ASSERT_EQ(8u, ovf) TH_LOG("the second batch must wait in the overflow list");
	zt_reap(_metadata, &ring, c, 16, ZT_PROMPT_MS);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(i, c[i].user_data) TH_LOG("CQE %u out of order", i);
	zk_ring_exit(&ring);
}

/*
 * A CQE posted directly during the submission (a chain's) comes after the
 * lone CQEs the batch holds from earlier SQEs of the same ENTER.
 */
TEST_F(ring, batch_is_posted_before_a_chain_that_follows)
{
	struct zsync_cqe c[5];
	unsigned int i;

	zt_nop(_metadata, &self->ring, 1);
	zt_nop(_metadata, &self->ring, 2);
	zt_linked(zt_nop(_metadata, &self->ring, 3));
	zt_nop(_metadata, &self->ring, 4);
	zt_nop(_metadata, &self->ring, 5);
	zt_submit(_metadata, &self->ring, 5);
	zt_reap(_metadata, &self->ring, c, 5, ZT_PROMPT_MS);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(i + 1, c[i].user_data) TH_LOG("CQE %u out of order", i);
}

/* Credits kept in reserve never show: inflight counts armed requests only. */
TEST_F(ring, fdinfo_inflight_is_exact_around_batches)
{
	unsigned int live, i;

	for (i = 0; i < 40; i++)
		zt_nop(_metadata, &self->ring, i);
	zt_submit(_metadata, &self->ring, 40);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 0);
	zt_reap(_metadata, &self->ring, NULL, 40, ZT_PROMPT_MS);
	/* Three TIMEOUTs that wait: exactly three in flight. */
	for (i = 0; i < 3; i++)
		zt_timeout(_metadata, &self->ring, 1000 + i, 60000, 0, 0);
	zt_nop(_metadata, &self->ring, 7);
	zt_submit(_metadata, &self->ring, 4);
	ASSERT_EQ(0, zt_fdinfo(self->ring.fd, "inflight", &live));
	ASSERT_EQ(3u, live);
	zt_reap(_metadata, &self->ring, NULL, 1, ZT_PROMPT_MS);
}

/* The eventfd counts every CQE of a batch by default. */
TEST_F(ring, eventfd_counts_each_cqe_of_a_batch)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t v = 0;
	unsigned int i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, zt_ioctl(self->ring.fd, ZSYNC_IOC_REGISTER_EVENTFD, &efd));
	for (i = 0; i < 10; i++)
		zt_nop(_metadata, &self->ring, i);
	zt_submit(_metadata, &self->ring, 10);
	ASSERT_EQ(8, read(efd, &v, sizeof(v)));
	EXPECT_EQ(10u, v);
	close(efd);
}

/* With ZSYNC_SETUP_EVENTFD_BATCH: at least one signal per batch, fewer than per CQE. */
TEST(eventfd_batch_signals_once_per_batch)
{
	struct zsync_params p = { .flags = ZSYNC_SETUP_EVENTFD_BATCH };
	int efd = eventfd(0, EFD_NONBLOCK);
	struct zk_ring ring;
	uint64_t v = 0;
	unsigned int i;

	ASSERT_LE(0, efd);
	zt_ring_params(_metadata, &ring, 64, &p);
	ASSERT_TRUE(!!(ring.features & ZSYNC_FEAT_EVENTFD_BATCH));
	ASSERT_EQ(0, zt_ioctl(ring.fd, ZSYNC_IOC_REGISTER_EVENTFD, &efd));
	for (i = 0; i < 10; i++)
		zt_nop(_metadata, &ring, i);
	zt_submit(_metadata, &ring, 10);
	ASSERT_EQ(8, read(efd, &v, sizeof(v)));
	EXPECT_LE(1u, v);
	EXPECT_GT(10u, v) TH_LOG("one signal per CQE (%llu) despite EVENTFD_BATCH",
				 (unsigned long long)v);
	zt_reap(_metadata, &ring, NULL, 10, ZT_PROMPT_MS);
	zk_ring_exit(&ring);
	close(efd);
}

/*
 * Two threads wait on one ring for different counts; a source of CQEs
 * (timeouts firing one by one) satisfies the smaller target first.  The
 * filtered wake must wake each when its own target is met, never lose one.
 */
struct waiter {
	struct zk_ring *ring;
	unsigned int want;
	int ret;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	struct zsync_enter e = {
		.min_complete = w->want,
		.flags = ZSYNC_ENTER_GETEVENTS,
	};

	w->ret = zt_enter_raw(w->ring->fd, &e);
	if (!w->ret)
		w->ret = e.wait_res;
	return NULL;
}

TEST_F(ring, waiters_with_different_targets_all_wake)
{
	struct waiter a = { .ring = &self->ring, .want = 2 };
	struct waiter b = { .ring = &self->ring, .want = 5 };
	pthread_t ta, tb;
	unsigned int i;

	ASSERT_EQ(0, pthread_create(&ta, NULL, wait_thread, &a));
	ASSERT_EQ(0, pthread_create(&tb, NULL, wait_thread, &b));
	for (i = 0; i < 5; i++)
		zt_timeout(_metadata, &self->ring, i, 20 + 10 * i, 0, 0);
	zt_submit(_metadata, &self->ring, 5);
	ASSERT_EQ(0, pthread_join(ta, NULL));
	ASSERT_EQ(0, pthread_join(tb, NULL));
	EXPECT_EQ(0, a.ret) TH_LOG("waiter for 2: %s", zt_err(a.ret));
	EXPECT_EQ(0, b.ret) TH_LOG("waiter for 5: %s", zt_err(b.ret));
	EXPECT_LE(5u, zk_cq_ready(&self->ring));
}

/* An unlinked scratch file on /tmp holding @text. */
static int zt_tmpfile(struct __test_metadata *_metadata, const char *text, size_t len)
{
	char path[] = "/tmp/zs-hot-XXXXXX";
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	unlink(path);
	ASSERT_EQ((ssize_t)len, pwrite(fd, text, len, 0));
	return fd;
}

/*
 * The kinds of lone SQE a batch holds, in one ENTER: a request-less NOP,
 * a request-less refusal (reserved field set), a request-less injected
 * result, and a cached READ, which has a request.  @i picks the kind.
 */
static void mixed_sqe(struct __test_metadata *_metadata, struct zk_ring *ring,
		      unsigned int i, int file, char *buf)
{
	struct zsync_sqe *sqe = zt_sqe_ud(_metadata, ring, 1000 + i);

	switch (i % 4) {
	case 0:
		zk_prep_nop(sqe);
		break;
	case 1:
		zk_prep_nop(sqe);
		sqe->resv[1] = 1;
		break;
	case 2:
		zk_prep_nop(sqe);
		sqe->op_flags = ZSYNC_NOP_INJECT_RESULT;
		sqe->len = (__u32)-(int)i;
		break;
	default:
		zk_prep_read(sqe, file, buf, 4, 0);
		break;
	}
	zk_sqe_set_data64(sqe, 1000 + i);
}

static int mixed_res(unsigned int i)
{
	static const int res[4] = { 0, -EINVAL, 0, 4 };

	return i % 4 == 2 ? -(int)i : res[i % 4];
}

/*
 * With the CQ ring already full, every CQE of a whole batch (request-less
 * ones and ones with a request, interleaved) waits in the overflow list,
 * and all come out in submission order with their own results: none lost,
 * none doubled, none taking another's place.
 */
TEST(noreq_and_request_cqes_overflow_in_order)
{
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 64 };
	struct zsync_cqe c[64 + 64];
	unsigned int i, ovf, live;
	char buf[64][4];
	struct zk_ring ring;
	int file;

	file = zt_tmpfile(_metadata, "abcd", 4);
	zt_ring_params(_metadata, &ring, 64, &p);
	for (i = 0; i < 64; i++)
		zt_nop(_metadata, &ring, i);
	zt_submit(_metadata, &ring, 64);
	ASSERT_EQ(64u, zk_cq_ready(&ring));
	/* Two batches of 32 in one ENTER, all into the overflow list. */
	for (i = 0; i < 64; i++)
		mixed_sqe(_metadata, &ring, i, file, buf[i]);
	zt_submit(_metadata, &ring, 64);
	ASSERT_EQ(0, zt_fdinfo(ring.fd, "overflow", &ovf));
	ASSERT_EQ(64u, ovf);
	ASSERT_EQ(0, zt_fdinfo(ring.fd, "inflight", &live));
	EXPECT_EQ(0u, live) TH_LOG("overflowed CQEs counted as in flight");
	zt_reap(_metadata, &ring, c, 64 + 64, ZT_PROMPT_MS);
	for (i = 0; i < 64; i++)
		EXPECT_EQ(i, c[i].user_data);
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(1000 + i, c[64 + i].user_data) TH_LOG("CQE %u out of order", i);
		EXPECT_EQ(mixed_res(i), c[64 + i].res) TH_LOG("CQE %u", i);
		EXPECT_EQ(0u, c[64 + i].flags);
	}
	for (i = 3; i < 64; i += 4)
		EXPECT_EQ(0, memcmp(buf[i], "abcd", 4));
	zt_expect_no_cqe(_metadata, &ring, 50);
	zk_ring_exit(&ring);
	close(file);
}

/*
 * Closing a ring whose overflow list holds request-less CQEs frees the
 * requests they wait in (the debug kernel's kmemleak checks the rest),
 * and a new ring after it works.
 */
TEST(noreq_overflow_freed_at_close)
{
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 64 };
	struct zk_ring ring;
	unsigned int i, ovf;

	for (int round = 0; round < 3; round++) {
		zt_ring_params(_metadata, &ring, 64, &p);
		for (i = 0; i < 64 + 64; i++) {
			zt_nop(_metadata, &ring, i);
			if (i == 63)
				zt_submit(_metadata, &ring, 64);
		}
		zt_submit(_metadata, &ring, 64);
		ASSERT_EQ(0, zt_fdinfo(ring.fd, "overflow", &ovf));
		ASSERT_EQ(64u, ovf);
		zk_ring_exit(&ring);
	}
}

TEST_HARNESS_MAIN
