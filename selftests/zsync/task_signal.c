// SPDX-License-Identifier: GPL-2.0
/*
 * ZSYNC_SETUP_TASK_SIGNAL: a retry pinned to its submitting thread (here a
 * RECV on a socket, woken by data arriving) completes while that thread is
 * blocked in another syscall or busy in user space, without it entering
 * the ring; without the flag the retry waits for the thread's next ENTER.
 * The blocked syscall itself is restarted, not failed.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "helpers.h"

#define UD_RECV	0x7a5c

FIXTURE(tsig) {
	struct zk_ring ring;
	int sv[2];	/* the RECV's socket pair */
	int gate[2];	/* a pipe the submitter blocks on */
	char buf[16];
};

FIXTURE_VARIANT(tsig) {
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(tsig, signal) { .flags = ZSYNC_SETUP_TASK_SIGNAL };
FIXTURE_VARIANT_ADD(tsig, deferred) { .flags = 0 };

FIXTURE_SETUP(tsig)
{
	zt_ring(_metadata, &self->ring, 8, variant->flags);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, self->sv));
	ASSERT_EQ(0, pipe2(self->gate, O_CLOEXEC));
}

FIXTURE_TEARDOWN(tsig)
{
	zk_ring_exit(&self->ring);
	close(self->sv[0]);
	close(self->sv[1]);
	close(self->gate[0]);
	close(self->gate[1]);
}

/* Submits a RECV that finds nothing to read and waits for data. */
static void submit_waiting_recv(struct __test_metadata *_metadata,
				FIXTURE_DATA(tsig) *self)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);

	zk_prep_recv(sqe, self->sv[0], self->buf, sizeof(self->buf), 0);
	sqe->user_data = UD_RECV;
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(0U, zk_cq_ready(&self->ring)) TH_LOG("the RECV completed with no data sent");
}

/* The RECV's CQE, read from the CQ without entering; false if not there. */
static bool recv_posted(FIXTURE_DATA(tsig) *self, struct zsync_cqe *out)
{
	struct zk_ring *r = &self->ring;

	if (!zk_cq_ready(r))
		return false;
	*out = r->cq.cqes[*r->cq.khead & r->cq.mask];
	return true;
}

/* Polls the CQ (no syscall into the ring) for up to @ms. */
static bool wait_recv_posted(FIXTURE_DATA(tsig) *self, struct zsync_cqe *out, int64_t ms)
{
	int64_t start = zt_mono_ns();

	while (!recv_posted(self, out)) {
		if (zt_ms_since(start) > ms)
			return false;
		zt_sleep_ms(1);
	}
	return true;
}

struct blocked_reader {
	int fd;
	pid_t tid;
	ssize_t n;
	int err;
	int enter;
	char c;
	FIXTURE_DATA(tsig) *self;
	struct __test_metadata *meta;
};

/*
 * The submitter: submits the RECV, blocks in read(2) on the gate, then
 * enters the ring once, which runs whatever retry still waits for it.
 */
static void *submit_then_block(void *arg)
{
	struct blocked_reader *b = arg;

	submit_waiting_recv(b->meta, b->self);
	__atomic_store_n(&b->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	b->n = read(b->fd, &b->c, 1);
	b->err = b->n < 0 ? errno : 0;
	b->enter = zk_enter(&b->self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, NULL, NULL);
	return NULL;
}

TEST_F(tsig, completes_while_submitter_blocks_elsewhere)
{
	struct blocked_reader b = { .fd = self->gate[0], .self = self, .meta = _metadata };
	struct zsync_cqe cqe;
	unsigned int task_work = 0;
	pthread_t th;
	bool posted;

	ASSERT_TRUE(!!(self->ring.features & ZSYNC_FEAT_TASK_SIGNAL))
		TH_LOG("features %#x lack ZSYNC_FEAT_TASK_SIGNAL", self->ring.features);
	ASSERT_EQ(0, pthread_create(&th, NULL, submit_then_block, &b));
	/* The submitter has armed its RECV and sleeps in read(2). */
	while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE))
		zt_sleep_ms(1);
	ASSERT_TRUE(zt_wait_state(b.tid, 'S', ZT_PROMPT_MS))
		TH_LOG("the submitter never blocked in read(2)");
	ASSERT_EQ(5, write(self->sv[1], "hello", 5));

	if (variant->flags & ZSYNC_SETUP_TASK_SIGNAL) {
		posted = wait_recv_posted(self, &cqe, ZT_PROMPT_MS);
		ASSERT_TRUE(posted) TH_LOG("no CQE while the submitter sat in read(2)");
	} else {
		/* The retry is queued for the submitter, and stays queued. */
		int64_t start = zt_mono_ns();

		while (zt_fdinfo(self->ring.fd, "task_work", &task_work) == 0 &&
		       !task_work && zt_ms_since(start) < ZT_PROMPT_MS)
			zt_sleep_ms(1);
		ASSERT_EQ(1U, task_work) TH_LOG("the woken RECV never reached the task list");
		ASSERT_FALSE(recv_posted(self, &cqe))
			TH_LOG("the RECV completed without its thread entering the ring");
	}
	/* The blocked read(2) is restarted (back asleep), not failed with EINTR. */
	ASSERT_TRUE(zt_wait_state(b.tid, 'S', ZT_PROMPT_MS))
		TH_LOG("the submitter left read(2): %s", strerror(b.err));
	ASSERT_EQ(1, write(self->gate[1], "x", 1));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, b.n) TH_LOG("read(2) under the notification: %s", strerror(b.err));
	EXPECT_EQ('x', b.c);
	EXPECT_LE(0, b.enter) TH_LOG("the submitter's ENTER: %s", zt_err(b.enter));
	ASSERT_TRUE(recv_posted(self, &cqe)) TH_LOG("the submitter's ENTER posted nothing");
	EXPECT_EQ((__u64)UD_RECV, cqe.user_data);
	EXPECT_EQ(5, cqe.res) TH_LOG("RECV res %s", zt_err(cqe.res));
	EXPECT_EQ(0, memcmp(self->buf, "hello", 5));
}

struct waiter {
	FIXTURE_DATA(tsig) *self;
	struct __test_metadata *meta;
	pid_t tid;
	int ret;
};

/* The submitter: submits the RECV, then waits in ENTER for two CQEs. */
static void *submit_then_wait_two(void *arg)
{
	struct waiter *w = arg;

	submit_waiting_recv(w->meta, w->self);
	__atomic_store_n(&w->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	w->ret = zk_enter(&w->self->ring, 0, 2, ZSYNC_ENTER_GETEVENTS, NULL, NULL, NULL);
	return NULL;
}

/*
 * The notification meant for the thread's own waiting ENTER must not end
 * that wait early: the RECV's CQE is the first of two it waits for.
 */
TEST_F(tsig, notification_does_not_end_a_wait_early)
{
	struct waiter w = { .self = self, .meta = _metadata };
	struct zsync_cqe cqe;
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, submit_then_wait_two, &w));
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE))
		zt_sleep_ms(1);
	ASSERT_TRUE(zt_wait_state(w.tid, 'S', ZT_PROMPT_MS)) TH_LOG("the ENTER never slept");
	ASSERT_EQ(5, write(self->sv[1], "hello", 5));
	ASSERT_TRUE(wait_recv_posted(self, &cqe, ZT_PROMPT_MS))
		TH_LOG("the waiting submitter did not run its RECV's retry");
	EXPECT_EQ(5, cqe.res);
	/* Still waiting for the second CQE, not back with EINTR. */
	ASSERT_TRUE(zt_wait_state(w.tid, 'S', ZT_PROMPT_MS))
		TH_LOG("the ENTER left its wait after one CQE (state %c, ret %s)",
		       zt_proc_state(w.tid) ?: '-', zt_err(w.ret));
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, w.ret) TH_LOG("the waiting ENTER returned %s", zt_err(w.ret));
	EXPECT_EQ(2U, zk_cq_ready(&self->ring));
}

static short poll_ring(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/*
 * A retry waiting for its thread makes the ring fd readable, for any
 * poller (as io_uring reports deferred task work): an event loop learns
 * that the thread must enter.  Its CQE comes from that thread's ENTER.
 */
TEST_F(tsig, ring_fd_is_readable_while_a_retry_waits)
{
	struct blocked_reader b = { .fd = self->gate[0], .self = self, .meta = _metadata };
	unsigned int task_work = 0;
	int64_t start;
	pthread_t th;

	if (variant->flags & ZSYNC_SETUP_TASK_SIGNAL)
		SKIP(return, "with the flag the work runs before anyone polls");
	ASSERT_EQ(0, pthread_create(&th, NULL, submit_then_block, &b));
	while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE))
		zt_sleep_ms(1);
	ASSERT_TRUE(zt_wait_state(b.tid, 'S', ZT_PROMPT_MS));
	EXPECT_EQ(0, poll_ring(self->ring.fd) & POLLIN) TH_LOG("readable with nothing to do");
	ASSERT_EQ(5, write(self->sv[1], "hello", 5));
	start = zt_mono_ns();
	while (zt_fdinfo(self->ring.fd, "task_work", &task_work) == 0 &&
	       !task_work && zt_ms_since(start) < ZT_PROMPT_MS)
		zt_sleep_ms(1);
	ASSERT_EQ(1U, task_work);
	EXPECT_EQ(POLLIN, poll_ring(self->ring.fd) & POLLIN)
		TH_LOG("a retry waits for its thread, but the ring does not poll readable");
	/* The submitter's ENTER (after read(2)) runs it and posts the CQE. */
	ASSERT_EQ(1, write(self->gate[1], "x", 1));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_LE(0, b.enter);
	EXPECT_EQ(1U, zk_cq_ready(&self->ring)) TH_LOG("the submitter's ENTER posted nothing");
}

static atomic_bool spin_saw_cqe;

struct spinner {
	FIXTURE_DATA(tsig) *self;
	struct __test_metadata *meta;
	atomic_int armed;
	atomic_bool stop;
};

/* The submitter: submits the RECV, then spins in user space on the CQ. */
static void *submit_then_spin(void *arg)
{
	struct spinner *s = arg;
	struct zsync_cqe cqe;

	submit_waiting_recv(s->meta, s->self);
	atomic_store(&s->armed, 1);
	while (!atomic_load(&s->stop))
		if (recv_posted(s->self, &cqe)) {
			atomic_store(&spin_saw_cqe, true);
			break;
		}
	return NULL;
}

TEST_F(tsig, completes_while_submitter_spins_in_user_space)
{
	struct spinner s = { .self = self, .meta = _metadata };
	int64_t start;
	pthread_t th;

	if (!(variant->flags & ZSYNC_SETUP_TASK_SIGNAL))
		SKIP(return, "the deferred variant is covered by the blocked-submitter case");
	atomic_store(&spin_saw_cqe, false);
	ASSERT_EQ(0, pthread_create(&th, NULL, submit_then_spin, &s));
	while (!atomic_load(&s.armed))
		zt_sleep_ms(1);
	ASSERT_EQ(5, write(self->sv[1], "hello", 5));
	start = zt_mono_ns();
	while (!atomic_load(&spin_saw_cqe) && zt_ms_since(start) < ZT_PROMPT_MS)
		zt_sleep_ms(1);
	atomic_store(&s.stop, true);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(atomic_load(&spin_saw_cqe))
		TH_LOG("the spinning submitter never saw its CQE");
}

/*
 * A submitter that is killed while its notification is queued or running:
 * the exit path drops what the notification held (the ring's file), the
 * ring closes and nothing waits forever.  Repeated to hit both orders.
 */
TEST_F(tsig, submitter_killed_with_notification_pending)
{
	int i;

	for (i = 0; i < 40; i++) {
		struct zk_ring ring;
		int sv[2], status;
		char buf[8];
		pid_t pid;

		zt_ring(_metadata, &ring, 4, variant->flags);
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct zsync_sqe *sqe = zk_get_sqe(&ring);

			zk_prep_recv(sqe, sv[0], buf, sizeof(buf), 0);
			if (zk_submit(&ring) != 1)
				_exit(1);
			pause();
			_exit(2);
		}
		ASSERT_TRUE(zt_wait_state(pid, 'S', ZT_PROMPT_MS));
		ASSERT_EQ(1, write(sv[1], "y", 1));
		if (i & 1)
			sched_yield();
		ASSERT_EQ(0, kill(pid, SIGKILL));
		status = zt_wait_child(pid, ZT_PROMPT_MS);
		ASSERT_TRUE(status >= 0 && WIFSIGNALED(status))
			TH_LOG("round %d: child status %#x", i, status);
		zk_ring_exit(&ring);
		close(sv[0]);
		close(sv[1]);
	}
}

TEST_HARNESS_MAIN
