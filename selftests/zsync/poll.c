// SPDX-License-Identifier: GPL-2.0
/*
 * POLL_ADD and POLL_REMOVE: one-shot and multishot, single-queue files
 * (eventfd, sockets: completed from the wakeup) and two-queue files (pipes:
 * completed by a worker), cancellation in every state, overflow of a
 * multishot poll, linked timeouts, and wakeups that nest (epoll on the
 * ring itself, eventfd inside eventfd).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "helpers.h"

ZT_RING_FIXTURE(64)

static void prep_poll(struct __test_metadata *_metadata, struct zk_ring *ring,
		      int fd, unsigned int events, unsigned int flags, __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_poll_add(sqe, fd, events, flags);
	zk_sqe_set_data64(sqe, ud);
}

static void poll_one(struct __test_metadata *_metadata, struct zk_ring *ring,
		     int fd, unsigned int events, unsigned int flags, __u64 ud)
{
	prep_poll(_metadata, ring, fd, events, flags, ud);
	zt_submit(_metadata, ring, 1);
}

static void efd_write(struct __test_metadata *_metadata, int efd, uint64_t v)
{
	ASSERT_EQ(8, write(efd, &v, 8)) TH_LOG("eventfd write: %s", strerror(errno));
}

static uint64_t efd_read(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, 8) != 8)
		return 0;
	return v;
}

TEST_F(ring, eventfd_not_ready_completes_on_write)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	poll_one(_metadata, &self->ring, efd, EPOLLIN, 0, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	efd_write(_metadata, efd, 1);
	zt_expect_cqe(_metadata, &self->ring, 1, EPOLLIN, 0);
	close(efd);
}

TEST_F(ring, ready_file_completes_at_submission)
{
	int efd = eventfd(3, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	poll_one(_metadata, &self->ring, efd, EPOLLIN | EPOLLOUT, 0, 2);
	/* Posted inside ENTER: visible without waiting. */
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
	zt_expect_cqe(_metadata, &self->ring, 2, EPOLLIN | EPOLLOUT, 0);
	close(efd);
}

TEST_F(ring, pipe_two_queues_completes_through_the_worker)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	poll_one(_metadata, &self->ring, p[0], EPOLLIN, 0, 3);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	ASSERT_EQ(1, write(p[1], "x", 1));
	zt_expect_cqe(_metadata, &self->ring, 3, EPOLLIN, 0);
	close(p[0]);
	close(p[1]);
}

TEST_F(ring, pipe_hangup_is_reported)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	poll_one(_metadata, &self->ring, p[0], EPOLLIN, 0, 4);
	close(p[1]);
	zt_expect_cqe(_metadata, &self->ring, 4, EPOLLHUP, 0);
	close(p[0]);
}

TEST_F(ring, socketpair_readable_after_send)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	poll_one(_metadata, &self->ring, sv[0], EPOLLIN, 0, 5);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	ASSERT_EQ(3, send(sv[1], "abc", 3, 0));
	zt_expect_cqe(_metadata, &self->ring, 5, EPOLLIN, 0);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, regular_file_is_ready_at_once)
{
	char path[] = "/tmp/zsync-poll-XXXXXX";
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	unlink(path);
	poll_one(_metadata, &self->ring, fd, EPOLLIN, ZSYNC_POLL_MULTISHOT, 6);
	/* No wait queue: one terminal CQE, even for a multishot poll. */
	zt_expect_cqe(_metadata, &self->ring, 6, EPOLLIN, 0);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	close(fd);
}

TEST_F(ring, multishot_posts_every_wakeup_until_removed)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct zsync_sqe *sqe;
	int i;

	ASSERT_LE(0, efd);
	poll_one(_metadata, &self->ring, efd, EPOLLIN, ZSYNC_POLL_MULTISHOT, 7);
	for (i = 0; i < 5; i++) {
		efd_write(_metadata, efd, 1);
		zt_expect_cqe(_metadata, &self->ring, 7, EPOLLIN, ZSYNC_CQE_F_MORE);
		EXPECT_EQ(1u, efd_read(efd));
	}
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_poll_remove(sqe, 7);
	zk_sqe_set_data64(sqe, 8);
	zt_submit(_metadata, &self->ring, 1);
	{
		struct zsync_cqe c[2];

		zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
		zt_check_has(_metadata, c, 2, 7, -ECANCELED);
		zt_check_has(_metadata, c, 2, 8, 0);
	}
	efd_write(_metadata, efd, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	close(efd);
}

TEST_F(ring, multishot_on_a_pipe_through_the_worker)
{
	int p[2], i;
	char buf[8];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC | O_NONBLOCK));
	poll_one(_metadata, &self->ring, p[0], EPOLLIN, ZSYNC_POLL_MULTISHOT, 9);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, write(p[1], "y", 1));
		zt_expect_cqe(_metadata, &self->ring, 9, EPOLLIN, ZSYNC_CQE_F_MORE);
		ASSERT_EQ(1, read(p[0], buf, sizeof(buf)));
	}
	close(p[1]);
	/* Hang-up still reports: a MORE CQE, then POLL_REMOVE ends it. */
	zt_expect_cqe(_metadata, &self->ring, 9, EPOLLHUP, ZSYNC_CQE_F_MORE);
	zk_prep_poll_remove(zt_sqe(_metadata, &self->ring), 9);
	zt_submit(_metadata, &self->ring, 1);
	{
		struct zsync_cqe c[8];
		unsigned int n = 0, ended = 0, removed = 0;

		/* Possibly more HUP CQEs raced in before the remove; then the end. */
		while (n < 8 && !(ended && removed)) {
			zt_reap(_metadata, &self->ring, &c[n], 1, ZT_PROMPT_MS);
			if (c[n].user_data == 9 && !(c[n].flags & ZSYNC_CQE_F_MORE)) {
				EXPECT_EQ(-ECANCELED, c[n].res);
				ended = 1;
			} else if (c[n].user_data == 0) {
				/* -EALREADY: a worker was handling a wakeup; it still ends the poll. */
				EXPECT_TRUE(c[n].res == 0 || c[n].res == -EALREADY)
					TH_LOG("POLL_REMOVE: %s", zt_err(c[n].res));
				removed = 1;
			}
			n++;
		}
		EXPECT_TRUE(ended && removed);
	}
	close(p[0]);
}

/*
 * A full CQ holds multishot CQEs in the request's overflow pool; once that
 * runs out the poll ends with -EOVERFLOW.  Every CQE posted is delivered,
 * in order, and nothing more arrives after the terminal one.
 */
TEST(multishot_overflow_ends_with_eoverflow_and_loses_nothing)
{
	unsigned int backlog = zt_module_param("multishot_backlog", 32);
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 4 };
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	unsigned int more = 0, i, total = 4 + backlog;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bool ended = false;

	ASSERT_LE(0, efd);
	zt_ring_params(_metadata, &ring, 4, &p);
	poll_one(_metadata, &ring, efd, EPOLLIN, ZSYNC_POLL_MULTISHOT, 10);
	/* Each write is one wakeup; nothing is reaped meanwhile. */
	for (i = 0; i < total + 5; i++)
		efd_write(_metadata, efd, 1);
	while (!ended) {
		struct zsync_timespec ts = zt_ts_ms(ZT_PROMPT_MS);
		int ret = zk_wait_cqe_timeout(&ring, &cqe, &ts);

		ASSERT_EQ(0, ret) TH_LOG("after %u MORE CQEs: %s", more, zt_err(ret));
		ASSERT_EQ(10u, cqe->user_data);
		if (cqe->flags & ZSYNC_CQE_F_MORE) {
			EXPECT_EQ(EPOLLIN, cqe->res);
			more++;
		} else {
			EXPECT_EQ(-EOVERFLOW, cqe->res);
			ended = true;
		}
		zk_cqe_seen(&ring, cqe);
	}
	EXPECT_EQ(total, more) TH_LOG("CQ of 4 + backlog %u: expected %u MORE CQEs, got %u",
				      backlog, total, more);
	efd_write(_metadata, efd, 1);
	zt_expect_no_cqe(_metadata, &ring, 50);
	zk_ring_exit(&ring);
	close(efd);
}

TEST_F(ring, cancel_by_user_data_and_by_fd)
{
	int efd = eventfd(0, EFD_CLOEXEC), p[2];
	struct zsync_sqe *sqe;
	struct zsync_cqe c[4];

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	poll_one(_metadata, &self->ring, efd, EPOLLIN, 0, 11);
	poll_one(_metadata, &self->ring, p[0], EPOLLIN, ZSYNC_POLL_MULTISHOT, 12);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel(sqe, 11, 0);
	zk_sqe_set_data64(sqe, 13);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel_fd(sqe, p[0], 0);
	zk_sqe_set_data64(sqe, 14);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 4, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 4, 11, -ECANCELED);
	zt_check_has(_metadata, c, 4, 12, -ECANCELED);
	zt_check_has(_metadata, c, 4, 13, 1);
	zt_check_has(_metadata, c, 4, 14, 1);
	close(efd);
	close(p[0]);
	close(p[1]);
}

TEST_F(ring, poll_remove_matches_only_polls)
{
	struct zsync_sqe *sqe;
	struct zsync_cqe c[2];

	zt_timeout(_metadata, &self->ring, 20, 10000, 0, 0);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_poll_remove(sqe, 20);
	zk_sqe_set_data64(sqe, 21);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 21, -ENOENT);
	zk_prep_cancel(zt_sqe(_metadata, &self->ring), 20, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 20, -ECANCELED);
}

TEST_F(ring, invalid_polls_are_refused)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct {
		const char *what;
		int fd;
		unsigned int events, flags;
		int res;
	} cases[] = {
		{ "closed fd", 1000, EPOLLIN, 0, -EBADF },
		{ "negative fd", -1, EPOLLIN, 0, -EBADF },
		{ "EPOLLET", efd, EPOLLIN | EPOLLET, 0, -EINVAL },
		{ "EPOLLONESHOT", efd, EPOLLIN | EPOLLONESHOT, 0, -EINVAL },
		{ "EPOLLEXCLUSIVE", efd, EPOLLIN | EPOLLEXCLUSIVE, 0, -EINVAL },
		{ "unknown op_flags", efd, EPOLLIN, 1u << 5, -EINVAL },
		{ "the ring itself", self->ring.fd, EPOLLIN, 0, -EBADF },
	};
	struct zsync_cqe c;
	unsigned int i;

	ASSERT_LE(0, efd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		poll_one(_metadata, &self->ring, cases[i].fd, cases[i].events,
			 cases[i].flags, 100 + i);
		zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
		EXPECT_EQ(cases[i].res, c.res) TH_LOG("POLL_ADD on %s: expected %s, got %s",
						     cases[i].what, zt_err(cases[i].res),
						     zt_err(c.res));
	}
	close(efd);
}

/* The poll holds its own reference: close(fd) does not end it. */
TEST_F(ring, closing_the_fd_does_not_cancel_the_poll)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	poll_one(_metadata, &self->ring, p[0], EPOLLIN, 0, 30);
	close(p[0]);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	ASSERT_EQ(1, write(p[1], "z", 1));
	zt_expect_cqe(_metadata, &self->ring, 30, EPOLLIN, 0);
	close(p[1]);
}

TEST_F(ring, link_timeout_cancels_a_waiting_poll)
{
	int sv[2];
	struct zsync_cqe c[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	prep_poll(_metadata, &self->ring, sv[0], EPOLLIN, 0, 40);
	zt_linked(&self->ring.sq.sqes[(self->ring.sq.sqe_tail - 1) & self->ring.sq.mask]);
	zt_link_timeout(_metadata, &self->ring, 41, 30, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS + ZT_LATE_MS);
	zt_check_cqe(_metadata, &c[0], 0, 40, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 41, -ETIME);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, a_link_after_a_poll_runs_when_it_completes)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct zsync_cqe c[2];

	ASSERT_LE(0, efd);
	prep_poll(_metadata, &self->ring, efd, EPOLLIN, 0, 50);
	zt_linked(&self->ring.sq.sqes[(self->ring.sq.sqe_tail - 1) & self->ring.sq.mask]);
	zt_nop(_metadata, &self->ring, 51);
	zt_submit(_metadata, &self->ring, 2);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	efd_write(_metadata, efd, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 50, EPOLLIN);
	zt_check_cqe(_metadata, &c[1], 1, 51, 0);
	close(efd);
}

/*
 * The ring's fd in an epoll set, and that epoll fd polled by the same ring:
 * a CQE makes the ring readable, which wakes epoll, which wakes the poll,
 * which posts a CQE into the ring whose wait queue is being woken.  The
 * notification must not re-enter that queue (deadlock, lockdep splat).
 */
TEST_F(ring, polling_an_epoll_that_watches_the_ring)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct zsync_cqe c[2];

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->ring.fd, &ev));
	poll_one(_metadata, &self->ring, ep, EPOLLIN, 0, 60);
	zt_nop(_metadata, &self->ring, 61);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 61, 0);
	zt_check_has(_metadata, c, 2, 60, EPOLLIN);
	close(ep);
}

/*
 * POLL_ADD on an eventfd while the ring signals another eventfd: the CQE is
 * posted inside the first eventfd's signal, where eventfd_signal() must
 * not be called again.  The ring's eventfd still counts it.
 */
TEST_F(ring, eventfd_notification_from_inside_an_eventfd_wakeup)
{
	int watched = eventfd(0, EFD_CLOEXEC), notify = eventfd(0, EFD_CLOEXEC);
	struct pollfd pfd;

	ASSERT_LE(0, watched);
	ASSERT_LE(0, notify);
	ASSERT_EQ(0, zk_register_eventfd(&self->ring, notify));
	poll_one(_metadata, &self->ring, watched, EPOLLIN, 0, 70);
	efd_write(_metadata, watched, 1);
	pfd.fd = notify;
	pfd.events = POLLIN;
	EXPECT_EQ(1, poll(&pfd, 1, ZT_PROMPT_MS));
	EXPECT_LE(1u, efd_read(notify));
	zt_expect_cqe(_metadata, &self->ring, 70, EPOLLIN, 0);
	close(watched);
	close(notify);
}

struct ring_sleeper {
	struct zk_ring *ring;
	bool in_enter;		/* wait in ENTER, else in poll(2) on the ring fd */
	_Atomic pid_t tid;
	int ret;
	short revents;
	struct zsync_cqe *cqe;
};

static void *ring_sleeper(void *arg)
{
	struct ring_sleeper *s = arg;
	struct pollfd pfd = { .fd = s->ring->fd, .events = POLLIN };

	s->tid = gettid();
	if (s->in_enter) {
		struct zsync_timespec ts = zt_ts_ms(10 * ZT_PROMPT_MS);

		/* Peeks only: the poller must still find the CQE there. */
		s->ret = zk_wait_cqe_timeout(s->ring, &s->cqe, &ts);
		return NULL;
	}
	s->ret = poll(&pfd, 1, 10 * ZT_PROMPT_MS);
	s->revents = pfd.revents;
	return NULL;
}

/*
 * A CQE posted inside a wakeup (an eventfd's, for a POLL_ADD) wakes both a
 * thread blocked in poll(2) on the ring fd, whose wakeup waits for the
 * irq_work, and a thread waiting in ENTER, which is woken at once.
 */
TEST_F(ring, ring_fd_poller_and_enter_waiter_wake_for_a_cqe_posted_in_a_wakeup)
{
	struct ring_sleeper s[2] = {
		{ .ring = &self->ring, .in_enter = false },
		{ .ring = &self->ring, .in_enter = true },
	};
	int efd = eventfd(0, EFD_CLOEXEC);
	pthread_t th[2];

	ASSERT_LE(0, efd);
	poll_one(_metadata, &self->ring, efd, EPOLLIN, 0, 80);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&th[i], NULL, ring_sleeper, &s[i]));
		while (!s[i].tid)
			zt_sleep_ms(1);
		ASSERT_TRUE(zt_wait_state(s[i].tid, 'S', ZT_PROMPT_MS));
	}
	efd_write(_metadata, efd, 1);
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	EXPECT_EQ(1, s[0].ret) TH_LOG("poll(ring fd) returned %d", s[0].ret);
	EXPECT_TRUE(s[0].revents & POLLIN);
	ASSERT_EQ(0, s[1].ret) TH_LOG("ENTER wait: %s", zt_err(s[1].ret));
	EXPECT_EQ(80u, s[1].cqe->user_data);
	EXPECT_EQ(EPOLLIN, s[1].cqe->res);
	zk_cqe_seen(&self->ring, s[1].cqe);
	close(efd);
}

struct writer_args {
	int efd;
	int n;
};

static void *writer(void *arg)
{
	struct writer_args *w = arg;
	uint64_t one = 1;
	int i;

	for (i = 0; i < w->n; i++)
		if (write(w->efd, &one, 8) != 8)
			break;
	return NULL;
}

/*
 * Wakeups on one CPU race cancels on another: every POLL_ADD still gets
 * exactly one terminal CQE: EPOLLIN or -ECANCELED, or -EOVERFLOW for the
 * multishot one when the writer outpaced the reaping.
 */
TEST(wakeups_racing_cancels_yield_exactly_one_cqe_each)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct writer_args w = { .efd = efd, .n = 20000 };
	unsigned int ok = 0, cancelled = 0, round;
	struct zk_ring ring;
	pthread_t th;

	ASSERT_LE(0, efd);
	zt_ring(_metadata, &ring, 64, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, writer, &w));
	for (round = 0; round < 500; round++) {
		struct zsync_cqe c[4];
		unsigned int i, ops;

		efd_read(efd);
		prep_poll(_metadata, &ring, efd, EPOLLIN, 0, 1);
		prep_poll(_metadata, &ring, efd, EPOLLIN, ZSYNC_POLL_MULTISHOT, 2);
		zk_prep_cancel(zt_sqe(_metadata, &ring), 1, 0);
		zk_prep_poll_remove(zt_sqe(_metadata, &ring), 2);
		zt_submit(_metadata, &ring, 4);
		/* Both polls end, both cancel ops answer; MORE CQEs come between. */
		for (i = 0, ops = 0; i < 2 || ops < 2;) {
			zt_reap(_metadata, &ring, c, 1, ZT_PROMPT_MS);
			if (c[0].flags & ZSYNC_CQE_F_MORE)
				continue;
			if (c[0].user_data == 0) {
				ops++;
				continue;
			}
			i++;
			if (c[0].res == -ECANCELED)
				cancelled++;
			else if (c[0].res == EPOLLIN ||
				 (c[0].user_data == 2 && c[0].res == -EOVERFLOW))
				ok++;
			else
				EXPECT_EQ(EPOLLIN, c[0].res);
		}
		ASSERT_EQ(2u, i);
		ASSERT_EQ(2u, ops);
	}
	pthread_join(th, NULL);
	TH_LOG("%u polls completed by themselves, %u cancelled", ok, cancelled);
	EXPECT_EQ(1000u, ok + cancelled);
	zk_ring_exit(&ring);
	close(efd);
}

/* Closing the ring with polls armed everywhere ends them all at once. */
TEST(close_with_polls_armed)
{
	int p[2], efd = eventfd(0, EFD_CLOEXEC), sv[2], i;
	struct zk_ring ring;
	int64_t start;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zt_ring(_metadata, &ring, 256, 0);
	for (i = 0; i < 60; i++) {
		prep_poll(_metadata, &ring, p[0], EPOLLIN, i & 1 ? ZSYNC_POLL_MULTISHOT : 0, i);
		prep_poll(_metadata, &ring, efd, EPOLLIN, i & 1 ? ZSYNC_POLL_MULTISHOT : 0, i);
		prep_poll(_metadata, &ring, sv[0], EPOLLIN, 0, i);
	}
	zt_submit(_metadata, &ring, 180);
	zt_check_fdinfo(_metadata, ring.fd, "inflight", 180);
	start = zt_mono_ns();
	zk_ring_exit(&ring);
	EXPECT_GT(ZT_PROMPT_MS, zt_ms_since(start));
	/* The files are still fine for their owner. */
	ASSERT_EQ(1, write(p[1], "q", 1));
	close(p[0]);
	close(p[1]);
	close(efd);
	close(sv[0]);
	close(sv[1]);
}

TEST_HARNESS_MAIN
