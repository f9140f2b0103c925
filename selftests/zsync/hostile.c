// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile process owns the shared rings: it may rewrite any index or SQE
 * at any time.  The kernel must only ever hurt that process: no hang, no
 * crash, counts clamped to the ring size, waits bounded and killable.
 */
#include <signal.h>
#include <pthread.h>
#include <sys/wait.h>

#include "helpers.h"

FIXTURE(ring) {
	struct zk_ring ring;
	struct zsync_params p;
};

FIXTURE_SETUP(ring)
{
	memset(&self->p, 0, sizeof(self->p));
	zt_ring_params(_metadata, &self->ring, 8, &self->p);
}

FIXTURE_TEARDOWN(ring)
{
	zk_ring_exit(&self->ring);
}

/* Raw ENTER with a relative timeout of @ms (< 0: none). */
static int enter_wait(struct zk_ring *ring, unsigned int to_submit,
		      unsigned int min_complete, int64_t ms, int *wait_res)
{
	struct zsync_timespec ts = zt_ts_ms(ms);
	struct zsync_enter e = {
		.to_submit = to_submit,
		.min_complete = min_complete,
		.flags = ZSYNC_ENTER_GETEVENTS,
		.timeout = ms < 0 ? 0 : (__u64)(uintptr_t)&ts,
		.wait_res = 1,
	};
	int ret = zt_enter_raw(ring->fd, &e);

	*wait_res = e.wait_res;
	return ret;
}

/* The ring still does a NOP round trip (after userspace repaired it). */
static void expect_ring_works(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	struct zsync_cqe cqe;

	zt_nop(_metadata, ring, 0x600d);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, &cqe, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqe, 0, 0x600d, 0);
}

/* ------------------------------------------------------------------ */
/* Scribbler                                                           */
/* ------------------------------------------------------------------ */

struct scribbler {
	struct zk_ring *ring;
	const struct zsync_params *p;
	volatile bool stop;
	/* Also the indices the kernel only writes (CQ tail), masks and sizes. */
	volatile bool wide;
	unsigned long writes;
};

static unsigned int *field(void *base, __u32 off)
{
	return (unsigned int *)((char *)base + off);
}

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	struct zk_ring *ring = s->ring;
	const struct zsync_sq_offsets *so = &s->p->sq_off;
	const struct zsync_cq_offsets *co = &s->p->cq_off;
	/* The first NARROW are what a buggy program plausibly corrupts. */
	enum { NARROW = 4 };
	unsigned int *targets[] = {
		field(ring->sq.ring_ptr, so->head), field(ring->sq.ring_ptr, so->tail),
		field(ring->sq.ring_ptr, so->flags), field(ring->cq.ring_ptr, co->head),
		field(ring->sq.ring_ptr, so->ring_mask),
		field(ring->sq.ring_ptr, so->ring_entries),
		field(ring->cq.ring_ptr, co->tail),
		field(ring->cq.ring_ptr, co->ring_mask),
		field(ring->cq.ring_ptr, co->ring_entries),
		field(ring->cq.ring_ptr, co->overflow),
	};
	size_t sqe_words = ring->sq.entries * sizeof(struct zsync_sqe) / 4;
	size_t cqe_words = ring->cq.entries * sizeof(struct zsync_cqe) / 4;
	unsigned int seed = (unsigned int)zt_mono_ns();
	unsigned int v;

	while (!s->stop) {
		v = (unsigned int)rand_r(&seed);
		/* Small values and huge ones: both sides of every wrap. */
		if (v & 1)
			v = (v >> 1) % 64 - 32;
		switch (rand_r(&seed) % 3) {
		case 0:
			*(volatile unsigned int *)targets[rand_r(&seed) %
				(s->wide ? ARRAY_SIZE(targets) : NARROW)] = v;
			break;
		case 1:
			((volatile unsigned int *)ring->sq.sqes)[rand_r(&seed) % sqe_words] = v;
			break;
		default:
			((volatile unsigned int *)ring->cq.cqes)[rand_r(&seed) % cqe_words] = v;
		}
		s->writes++;
	}
	return NULL;
}

/* Fill every SQE slot with a plausible request (NOP, 1 ms TIMEOUT, CANCEL). */
static void fill_sqes(struct zk_ring *ring, unsigned int *seed,
		      const struct zsync_timespec *ts)
{
	unsigned int i;

	for (i = 0; i < ring->sq.entries; i++) {
		struct zsync_sqe *sqe = &ring->sq.sqes[i];

		memset(sqe, 0, sizeof(*sqe));
		switch (rand_r(seed) % 3) {
		case 0:
			zk_prep_nop(sqe);
			break;
		case 1:
			zk_prep_timeout(sqe, ts, rand_r(seed) % 3, 0);
			break;
		default:
			zk_prep_cancel(sqe, 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL);
		}
		sqe->flags = rand_r(seed) % 4 ? 0 : ZSYNC_SQE_LINK;
		sqe->user_data = i;
	}
}

static void on_watchdog(int sig)
{
	static const char msg[] = "# hostile: watchdog: an ioctl or close did not return in 20 s\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

TEST_F_TIMEOUT(ring, scribbler_thread_cannot_hang_or_crash_the_kernel, 60)
{
	struct scribbler s = { .ring = &self->ring, .p = &self->p };
	struct zsync_timespec ts = zt_ts_ms(1);
	unsigned int seed = (unsigned int)zt_mono_ns();
	/* ENTER results: consumed > 0, 0, -ETIME, -EBUSY, other errors. */
	unsigned long consumed = 0, zero = 0, etime = 0, ebusy = 0, other = 0;
	int64_t start, closed;
	pthread_t t;

	signal(SIGALRM, on_watchdog);
	alarm(20);
	ASSERT_EQ(0, pthread_create(&t, NULL, scribble, &s));
	start = zt_mono_ns();
	while (zt_ms_since(start) < 2000) {
		unsigned int to_submit, cq_tail;
		int wait_res, ret;

		fill_sqes(&self->ring, &seed, &ts);
		zk_store_release(self->ring.sq.ktail,
				 *self->ring.sq.ktail + rand_r(&seed) % 16);
		/*
		 * "Reap" everything, so the kernel keeps posting; the shared
		 * tail may be scribbled, the kernel's own is in fdinfo.
		 */
		if (!zt_fdinfo(self->ring.fd, "cq_tail", &cq_tail))
			zk_store_release(self->ring.cq.khead, cq_tail);
		/* First second: plausible corruption; then everything. */
		s.wide = zt_ms_since(start) >= 1000;
		/* Some pure waits, which flush the overflow list. */
		to_submit = rand_r(&seed) % 4 ? (unsigned int)rand_r(&seed) % 2000 : 0;
		ret = enter_wait(&self->ring, to_submit, rand_r(&seed) % 64,
				 rand_r(&seed) % 3, &wait_res);
		consumed += ret > 0;
		zero += ret == 0;
		etime += ret == -ETIME;
		ebusy += ret == -EBUSY;
		other += ret < 0 && ret != -ETIME && ret != -EBUSY;
	}
	s.stop = true;
	pthread_join(t, NULL);
	TH_LOG("ENTER results (any is allowed): %lu consumed some SQEs, %lu returned 0, %lu -ETIME, %lu -EBUSY, %lu other errors; %lu scribbles",
	       consumed, zero, etime, ebusy, other, s.writes);
	EXPECT_LT(10ul, consumed + zero + etime + ebusy + other)
		TH_LOG("too few ENTERs in 2 s: they block");

	closed = zt_mono_ns();
	zk_ring_exit(&self->ring);
	EXPECT_GT(5000, zt_ms_since(closed)) TH_LOG("close took %" PRId64 " ms",
						    zt_ms_since(closed));
	alarm(0);
	/* The device still works for a well-behaved ring. */
	zt_ring_params(_metadata, &self->ring, 8, &self->p);
	expect_ring_works(_metadata, &self->ring);
}

/* ------------------------------------------------------------------ */
/* Indices out of range                                                */
/* ------------------------------------------------------------------ */

/*
 * A CQ head moved past the tail must count as nothing ready (signed
 * distance), so the wait runs into its timeout instead of returning at
 * once or spinning.
 */
TEST_F(ring, cq_head_past_tail_waits_until_the_timeout)
{
	static const unsigned int ahead[] = { 1, 5, 0x7fffffff, 0x80000000 };
	unsigned int tail = zk_load_acquire(self->ring.cq.ktail), i;
	int wait_res, ret;

	for (i = 0; i < ARRAY_SIZE(ahead); i++) {
		int64_t start = zt_mono_ns();

		*self->ring.cq.khead = tail + ahead[i];
		ret = enter_wait(&self->ring, 0, 1, 100, &wait_res);
		EXPECT_EQ(-ETIME, ret)
			TH_LOG("CQ head = tail + %#x, ENTER(wait 1, 100 ms): expected -ETIME, got %s",
			       ahead[i], zt_err(ret));
		EXPECT_EQ(-ETIME, wait_res);
		EXPECT_LE(100, zt_ms_since(start)) TH_LOG("head = tail + %#x: returned early",
							  ahead[i]);
		EXPECT_GE(100 + ZT_LATE_MS, zt_ms_since(start));
	}
	*self->ring.cq.khead = tail;
	expect_ring_works(_metadata, &self->ring);
}

/* A CQ head far behind the tail counts as a full CQ: the wait is satisfied. */
TEST_F(ring, cq_head_far_behind_tail_counts_as_full)
{
	unsigned int tail = zk_load_acquire(self->ring.cq.ktail);
	int wait_res, ret;

	*self->ring.cq.khead = tail - 1000;
	ret = enter_wait(&self->ring, 0, 1, 1000, &wait_res);
	EXPECT_EQ(0, ret) TH_LOG("CQ head = tail - 1000: expected 0, got %s", zt_err(ret));
	EXPECT_EQ(0, wait_res);
	*self->ring.cq.khead = tail;
	expect_ring_works(_metadata, &self->ring);
}

TEST_F(ring, to_submit_larger_than_the_ring_is_clamped)
{
	static const unsigned int big[] = { 1000, 0xffffffffU };
	static const unsigned int queued[] = { 8, 2 };
	unsigned int r, i;
	int wait_res, ret;

	for (r = 0; r < 2; r++) {
		for (i = 0; i < queued[r]; i++)
			zt_nop(_metadata, &self->ring, i);
		zt_publish_sq(&self->ring);
		ret = enter_wait(&self->ring, big[r], 0, 0, &wait_res);
		EXPECT_EQ((int)queued[r], ret)
			TH_LOG("%u queued, to_submit %u: expected %u consumed, got %s",
			       queued[r], big[r], queued[r], zt_err(ret));
		zt_reap(_metadata, &self->ring, NULL, queued[r], ZT_PROMPT_MS);
	}
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

TEST_F(ring, sq_tail_far_ahead_consumes_at_most_the_ring)
{
	struct zsync_cqe cqes[8];
	int wait_res, ret;
	unsigned int i;

	/* Every slot a valid NOP with user_data 0. */
	memset(self->ring.sq.sqes, 0, self->ring.sq.entries * sizeof(struct zsync_sqe));
	zk_store_release(self->ring.sq.ktail, 1000);
	ret = enter_wait(&self->ring, 1000, 0, 0, &wait_res);
	EXPECT_EQ(8, ret) TH_LOG("SQ tail 1000 ahead, 8 entries: expected 8 consumed, got %s",
				 zt_err(ret));
	EXPECT_EQ(8u, zk_load_acquire(self->ring.sq.khead));
	zt_reap(_metadata, &self->ring, cqes, 8, ZT_PROMPT_MS);
	for (i = 0; i < 8; i++)
		zt_check_cqe(_metadata, &cqes[i], i, 0, 0);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

/* The kernel keeps its own SQ head: what userspace writes there is ignored. */
TEST_F(ring, sq_head_written_by_userspace_is_ignored)
{
	struct zsync_cqe cqes[3];
	int wait_res, ret;

	zt_nop(_metadata, &self->ring, 1);
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 2);
	zk_store_release(self->ring.sq.khead, 0);
	zt_nop(_metadata, &self->ring, 3);
	zt_publish_sq(&self->ring);
	ret = enter_wait(&self->ring, 3, 0, 0, &wait_res);
	EXPECT_EQ(1, ret) TH_LOG("1 new SQE after head was rewound to 0: got %s", zt_err(ret));
	EXPECT_EQ(3u, zk_load_acquire(self->ring.sq.khead))
		TH_LOG("the kernel did not republish its own head");
	zt_reap(_metadata, &self->ring, cqes, 3, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 1, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 2, 0);
	zt_check_cqe(_metadata, &cqes[2], 2, 3, 0);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

/* The kernel never uses the user mappings: unmapping them is harmless. */
TEST_F(ring, enter_works_with_the_rings_unmapped)
{
	int wait_res, ret;

	munmap(self->ring.sq.ring_ptr, self->ring.sq.ring_sz);
	munmap(self->ring.sq.sqes, self->ring.sq.sqes_sz);
	munmap(self->ring.cq.ring_ptr, self->ring.cq.ring_sz);
	self->ring.sq.ring_ptr = NULL;
	self->ring.sq.sqes = NULL;
	self->ring.cq.ring_ptr = NULL;
	ret = enter_wait(&self->ring, 8, 1, 20, &wait_res);
	EXPECT_EQ(-ETIME, ret) TH_LOG("ENTER on an unmapped ring: %s", zt_err(ret));
	EXPECT_EQ(-ETIME, wait_res);
}

/* ------------------------------------------------------------------ */
/* Killable waits                                                      */
/* ------------------------------------------------------------------ */

enum waiter_kind { WAIT_PLAIN, WAIT_HEAD_PAST_TAIL, WAIT_HUGE_MIN };

/* Child: a ring, then a wait that never ends by itself, all signals blocked. */
static void __attribute__((noreturn)) waiter_child(int ready_fd, enum waiter_kind kind)
{
	unsigned int min = kind == WAIT_HUGE_MIN ? 0xffffffffU : 1;
	struct zk_ring ring;
	sigset_t all;
	int wait_res;

	if (zk_ring_init(8, &ring, 0))
		_exit(3);
	if (kind == WAIT_HEAD_PAST_TAIL)
		*ring.cq.khead = *ring.cq.ktail + 5;
	sigfillset(&all);
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	zk_enter(&ring, 0, min, ZSYNC_ENTER_GETEVENTS, &all, NULL, &wait_res);
	_exit(5);	/* the wait returned: the parent reports it */
}

static void check_killable(struct __test_metadata *_metadata, enum waiter_kind kind)
{
	int pipefd[2], status;
	char c = 0;
	pid_t pid;

	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[0]);
		waiter_child(pipefd[1], kind);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("the waiter child failed to set up");
	close(pipefd[0]);
	/* Let it block in the wait; it must still be there. */
	zt_sleep_ms(200);
	status = 0;
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG))
		TH_LOG("the waiter exited by itself (status %#x): its wait returned", status);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	status = zt_wait_child(pid, 2000);
	ASSERT_NE(-1, status) TH_LOG("child waiting in ENTER not reaped 2 s after SIGKILL");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("waiter status %#x, expected killed by SIGKILL", status);
}

TEST(waiter_is_killable)
{
	check_killable(_metadata, WAIT_PLAIN);
}

TEST(waiter_with_cq_head_past_tail_is_killable)
{
	check_killable(_metadata, WAIT_HEAD_PAST_TAIL);
}

TEST(waiter_for_more_than_the_ring_holds_is_killable)
{
	check_killable(_metadata, WAIT_HUGE_MIN);
}

TEST_HARNESS_MAIN
