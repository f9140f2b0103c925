// SPDX-License-Identifier: GPL-2.0
/*
 * Completion notification: poll() and epoll on the ring fd, a registered
 * eventfd (one count per CQE posted), and the blocking wait inside ENTER
 * woken by timers and by other threads.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "helpers.h"

FIXTURE(ring) {
	struct zk_ring ring;
	int efd;
};

FIXTURE_SETUP(ring)
{
	self->efd = -1;
	zt_ring(_metadata, &self->ring, 32, 0);
}

FIXTURE_TEARDOWN(ring)
{
	zk_ring_exit(&self->ring);
	if (self->efd >= 0)
		close(self->efd);
}

/* poll() the ring for POLLIN with @ms timeout: 1 if readable, 0 if not. */
static int poll_in(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret = poll(&pfd, 1, ms);

	if (ret < 0)
		return -errno;
	return ret && (pfd.revents & POLLIN);
}

TEST_F(ring, poll_reports_pollin_only_with_cqes)
{
	int ret;

	ret = poll_in(self->ring.fd, 0);
	EXPECT_EQ(0, ret) TH_LOG("empty CQ: poll says POLLIN");
	zt_nop(_metadata, &self->ring, 1);
	zt_submit(_metadata, &self->ring, 1);
	ret = poll_in(self->ring.fd, 0);
	EXPECT_EQ(1, ret) TH_LOG("one CQE ready: poll gave %d, expected POLLIN", ret);
	zt_reap(_metadata, &self->ring, NULL, 1, ZT_PROMPT_MS);
	ret = poll_in(self->ring.fd, 0);
	EXPECT_EQ(0, ret) TH_LOG("CQ reaped: poll still says POLLIN");
}

TEST_F(ring, poll_blocks_until_a_timeout_fires)
{
	int64_t start = zt_mono_ns();
	int ret;

	zt_timeout(_metadata, &self->ring, 1, 50, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	ret = poll_in(self->ring.fd, 50 + ZT_LATE_MS + ZT_PROMPT_MS);
	EXPECT_EQ(1, ret) TH_LOG("poll for a 50 ms timeout's CQE: %d", ret);
	EXPECT_LE(50, zt_ms_since(start)) TH_LOG("poll woke before the timeout fired");
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
}

/* epoll_wait with @ms timeout: number of events, checked to be EPOLLIN. */
static int epoll_in(struct __test_metadata *_metadata, int ep, int ms)
{
	struct epoll_event ev = { 0 };
	int n = epoll_wait(ep, &ev, 1, ms);

	ASSERT_LE(0, n) TH_LOG("epoll_wait: %s", strerror(errno));
	if (n) {
		EXPECT_NE(0u, ev.events & EPOLLIN)
			TH_LOG("epoll event %#x without EPOLLIN", ev.events);
	}
	return n;
}

static int epoll_on(struct __test_metadata *_metadata, int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		TH_LOG("EPOLL_CTL_ADD on the ring: %s", strerror(errno));
	return ep;
}

/* Decision: every CQE posted is a new edge (the ring wakes its waiters). */
TEST_F(ring, epoll_edge_triggered)
{
	int ep = epoll_on(_metadata, self->ring.fd, EPOLLIN | EPOLLET);

	EXPECT_EQ(0, epoll_in(_metadata, ep, 0)) TH_LOG("edge reported on an empty ring");
	zt_nop(_metadata, &self->ring, 1);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1, epoll_in(_metadata, ep, 0)) TH_LOG("no edge for the first CQE");
	EXPECT_EQ(0, epoll_in(_metadata, ep, 0)) TH_LOG("the same edge reported twice");
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1, epoll_in(_metadata, ep, 0)) TH_LOG("no edge for the second CQE");
	/* A timer firing later wakes a blocked epoll_wait. */
	zt_timeout(_metadata, &self->ring, 3, 50, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1, epoll_in(_metadata, ep, 50 + ZT_LATE_MS + ZT_PROMPT_MS))
		TH_LOG("no edge for the timeout's CQE");
	zt_reap(_metadata, &self->ring, NULL, 3, ZT_PROMPT_MS);
	close(ep);
}

TEST_F(ring, epoll_level_triggered)
{
	int ep = epoll_on(_metadata, self->ring.fd, EPOLLIN);

	EXPECT_EQ(0, epoll_in(_metadata, ep, 0));
	zt_nop(_metadata, &self->ring, 1);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1, epoll_in(_metadata, ep, 0));
	EXPECT_EQ(1, epoll_in(_metadata, ep, 0)) TH_LOG("level dropped before reaping");
	zt_reap(_metadata, &self->ring, NULL, 1, ZT_PROMPT_MS);
	EXPECT_EQ(0, epoll_in(_metadata, ep, 0)) TH_LOG("level stays after reaping");
	close(ep);
}

/* Read the eventfd counter: its value, or -errno (-EAGAIN when zero). */
static int64_t efd_read(int efd)
{
	eventfd_t v;

	if (eventfd_read(efd, &v))
		return -errno;
	return (int64_t)v;
}

static int new_eventfd(struct __test_metadata *_metadata)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	ASSERT_LE(0, efd) TH_LOG("eventfd: %s", strerror(errno));
	return efd;
}

TEST_F(ring, eventfd_counts_every_cqe)
{
	struct pollfd pfd;
	unsigned int i;
	int ret;

	self->efd = new_eventfd(_metadata);
	ret = zk_register_eventfd(&self->ring, self->efd);
	ASSERT_EQ(0, ret) TH_LOG("register eventfd: %s", zt_err(ret));
	EXPECT_EQ(-EAGAIN, efd_read(self->efd)) TH_LOG("signalled before any CQE");

	for (i = 0; i < 5; i++)
		zt_nop(_metadata, &self->ring, i);
	zt_submit(_metadata, &self->ring, 5);
	EXPECT_EQ(5, efd_read(self->efd)) TH_LOG("5 CQEs posted");
	zt_reap(_metadata, &self->ring, NULL, 5, ZT_PROMPT_MS);

	/* From the timer interrupt too: block on the eventfd itself. */
	zt_timeout(_metadata, &self->ring, 9, 30, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	pfd = (struct pollfd){ .fd = self->efd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pfd, 1, 30 + ZT_LATE_MS + ZT_PROMPT_MS));
	EXPECT_EQ(1, efd_read(self->efd)) TH_LOG("the timeout's CQE");
	zt_reap(_metadata, &self->ring, NULL, 1, ZT_PROMPT_MS);

	ret = zk_unregister_eventfd(&self->ring);
	ASSERT_EQ(0, ret) TH_LOG("unregister eventfd: %s", zt_err(ret));
	zt_nop(_metadata, &self->ring, 10);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(-EAGAIN, efd_read(self->efd)) TH_LOG("signalled after unregister");
	zt_reap(_metadata, &self->ring, NULL, 1, ZT_PROMPT_MS);
}

TEST_F(ring, eventfd_registration_state)
{
	int other = new_eventfd(_metadata);
	int ret;

	self->efd = new_eventfd(_metadata);
	ret = zk_unregister_eventfd(&self->ring);
	/* Decision (the kernel's): nothing registered is -ENXIO. */
	EXPECT_EQ(-ENXIO, ret) TH_LOG("unregister with none registered: %s", zt_err(ret));
	ASSERT_EQ(0, zk_register_eventfd(&self->ring, self->efd));
	ret = zk_register_eventfd(&self->ring, other);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("second register: expected -EBUSY, got %s", zt_err(ret));
	ret = zk_register_eventfd(&self->ring, self->efd);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("same eventfd again: expected -EBUSY, got %s", zt_err(ret));
	EXPECT_EQ(0, zk_unregister_eventfd(&self->ring));
	ret = zk_unregister_eventfd(&self->ring);
	EXPECT_EQ(-ENXIO, ret) TH_LOG("second unregister: %s", zt_err(ret));
	ret = zk_register_eventfd(&self->ring, other);
	EXPECT_EQ(0, ret) TH_LOG("register after unregister: %s", zt_err(ret));
	zt_nop(_metadata, &self->ring, 1);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1, efd_read(other)) TH_LOG("the new eventfd is not signalled");
	EXPECT_EQ(-EAGAIN, efd_read(self->efd)) TH_LOG("the old eventfd is still signalled");
	close(other);
}

TEST_F(ring, eventfd_register_rejects_other_fds)
{
	int pipefd[2], ret;

	ASSERT_EQ(0, pipe(pipefd));
	ret = zk_register_eventfd(&self->ring, pipefd[0]);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("register a pipe: expected -EINVAL, got %s", zt_err(ret));
	ret = zk_register_eventfd(&self->ring, self->ring.fd);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("register the ring itself: expected -EINVAL, got %s",
				       zt_err(ret));
	ret = zk_register_eventfd(&self->ring, -1);
	EXPECT_EQ(-EBADF, ret) TH_LOG("register fd -1: expected -EBADF, got %s", zt_err(ret));
	close(pipefd[1]);
	ret = zk_register_eventfd(&self->ring, pipefd[1]);
	EXPECT_EQ(-EBADF, ret) TH_LOG("register a closed fd: expected -EBADF, got %s",
				      zt_err(ret));
	close(pipefd[0]);
	ret = zt_ioctl(self->ring.fd, ZSYNC_IOC_REGISTER_EVENTFD, (void *)8);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("REGISTER_EVENTFD with a bad pointer: %s", zt_err(ret));
}

/* The ring keeps its own reference: closing the eventfd is harmless. */
TEST_F(ring, eventfd_closed_while_registered)
{
	int efd = new_eventfd(_metadata);

	ASSERT_EQ(0, zk_register_eventfd(&self->ring, efd));
	close(efd);
	zt_nop(_metadata, &self->ring, 1);
	zt_timeout(_metadata, &self->ring, 2, 10, 0, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, NULL, 2, ZT_LATE_MS + ZT_PROMPT_MS);
	EXPECT_EQ(0, zk_unregister_eventfd(&self->ring));
}

TEST_F(ring, enter_wait_woken_by_a_timeout)
{
	int64_t start = zt_mono_ns();
	int wait_res = 1, ret;

	zt_timeout(_metadata, &self->ring, 1, 50, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, NULL, &wait_res);
	EXPECT_EQ(0, ret) TH_LOG("ENTER wait for a 50 ms timeout: %s", zt_err(ret));
	EXPECT_EQ(0, wait_res) TH_LOG("wait_res: %s", zt_err(wait_res));
	EXPECT_LE(50, zt_ms_since(start)) TH_LOG("woke before the timeout fired");
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
}

TEST_F(ring, enter_wait_for_three_sleeps_through_the_first_two)
{
	int64_t start = zt_mono_ns();
	int wait_res = 1, ret;

	zt_timeout(_metadata, &self->ring, 1, 20, 0, 0);
	zt_timeout(_metadata, &self->ring, 2, 40, 0, 0);
	zt_timeout(_metadata, &self->ring, 3, 80, 0, 0);
	zt_submit(_metadata, &self->ring, 3);
	ret = zk_enter(&self->ring, 0, 3, ZSYNC_ENTER_GETEVENTS, NULL, NULL, &wait_res);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, wait_res);
	EXPECT_LE(80, zt_ms_since(start)) TH_LOG("returned before the third timeout");
	EXPECT_EQ(3u, zk_cq_ready(&self->ring));
}

struct waiter {
	struct zk_ring *ring;
	int ret, wait_res;
	int64_t woke_ns;
};

static void *wait_one(void *arg)
{
	struct waiter *w = arg;

	int wait_res = 1;
	int ret = zk_enter(w->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, NULL, &wait_res);

	w->wait_res = wait_res;
	w->woke_ns = zt_mono_ns();
	__atomic_store_n(&w->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

/* A thread blocked in ENTER wakes when another thread's NOP completes. */
TEST_F(ring, enter_wait_woken_by_another_threads_submit)
{
	struct waiter w = { .ring = &self->ring, .ret = 1, .wait_res = 1 };
	struct timespec deadline;
	pthread_t t;
	int64_t submitted;
	int ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, wait_one, &w));
	zt_sleep_ms(100);
	ret = __atomic_load_n(&w.ret, __ATOMIC_ACQUIRE);
	EXPECT_EQ(1, ret) TH_LOG("the waiter returned with an empty CQ: %s", zt_err(ret));
	submitted = zt_mono_ns();
	zt_nop(_metadata, &self->ring, 1);
	zt_submit(_metadata, &self->ring, 1);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	ASSERT_EQ(0, pthread_timedjoin_np(t, NULL, &deadline))
		TH_LOG("the waiter did not wake within 5 s of the CQE");
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(0, w.wait_res);
	EXPECT_LE(submitted, w.woke_ns);
}

TEST_HARNESS_MAIN
