// SPDX-License-Identifier: GPL-2.0
/*
 * TIMEOUT: relative/absolute, the three clocks, timespec validation, count
 * completion, and the wait inside ENTER (timeout, signals, sigmask).
 */
#include <signal.h>
#include <sys/time.h>

#include "helpers.h"

ZT_RING_FIXTURE(32);

/*
 * Reap one CQE that must be @user_data's -ETIME, arriving when clock @clk
 * reads at least @target_ns and not more than ZT_LATE_MS after it.
 */
static void expect_fires_at(struct __test_metadata *_metadata,
			    struct zk_ring *ring, __u64 user_data,
			    clockid_t clk, int64_t target_ns)
{
	int64_t wait_ms = (target_ns - zt_now_ns(clk)) / ZT_NSEC_PER_MSEC;
	struct zsync_cqe cqe;
	int64_t now, early, late;

	zt_reap(_metadata, ring, &cqe, 1, wait_ms + ZT_LATE_MS + ZT_PROMPT_MS);
	now = zt_now_ns(clk);
	zt_check_cqe(_metadata, &cqe, 0, user_data, -ETIME);
	early = target_ns - now;
	late = now - target_ns;
	EXPECT_GE(0, early) TH_LOG("timeout fired %" PRId64 " us before its expiry",
				   early / 1000);
	EXPECT_GE(ZT_LATE_MS * ZT_NSEC_PER_MSEC, late)
		TH_LOG("timeout fired %" PRId64 " ms after its expiry (limit %d ms)",
		       late / ZT_NSEC_PER_MSEC, ZT_LATE_MS);
}

/* Submit one TIMEOUT at @ts with @flags; ud 1. */
static void submit_timeout(struct __test_metadata *_metadata, struct zk_ring *ring,
			   const struct zsync_timespec *ts, unsigned int flags)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_timeout(sqe, ts, 0, flags);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, ring, 1);
}

TEST_F(ring, relative_timeout_fires_with_etime)
{
	struct zsync_timespec ts = zt_ts_ms(100);
	struct zsync_cqe *cqe;
	int64_t start = zt_mono_ns();
	int ret;

	submit_timeout(_metadata, &self->ring, &ts, 0);
	ret = zk_peek_cqe(&self->ring, &cqe);
	EXPECT_EQ(-EAGAIN, ret) TH_LOG("a 100 ms timeout completed at once (res %s)",
				       ret ? "" : zt_err(cqe->res));
	expect_fires_at(_metadata, &self->ring, 1, CLOCK_MONOTONIC,
			start + 100 * ZT_NSEC_PER_MSEC);
}

/* Absolute expiry 100 ms from now on @clk, selected by @clk_flag. */
static void check_absolute(struct __test_metadata *_metadata, struct zk_ring *ring,
			   clockid_t clk, unsigned int clk_flag)
{
	int64_t target = zt_now_ns(clk) + 100 * ZT_NSEC_PER_MSEC;
	struct zsync_timespec ts = zt_ts_ns(target);

	submit_timeout(_metadata, ring, &ts, ZSYNC_TIMEOUT_ABS | clk_flag);
	expect_fires_at(_metadata, ring, 1, clk, target);
}

TEST_F(ring, absolute_monotonic)
{
	check_absolute(_metadata, &self->ring, CLOCK_MONOTONIC, 0);
}

TEST_F(ring, absolute_boottime)
{
	check_absolute(_metadata, &self->ring, CLOCK_BOOTTIME, ZSYNC_TIMEOUT_BOOTTIME);
}

TEST_F(ring, absolute_realtime)
{
	check_absolute(_metadata, &self->ring, CLOCK_REALTIME, ZSYNC_TIMEOUT_REALTIME);
}

TEST_F(ring, relative_with_clock_flags)
{
	struct zsync_timespec ts = zt_ts_ms(50);
	int64_t start = zt_mono_ns();

	submit_timeout(_metadata, &self->ring, &ts, ZSYNC_TIMEOUT_BOOTTIME);
	expect_fires_at(_metadata, &self->ring, 1, CLOCK_MONOTONIC,
			start + 50 * ZT_NSEC_PER_MSEC);
	start = zt_mono_ns();
	submit_timeout(_metadata, &self->ring, &ts, ZSYNC_TIMEOUT_REALTIME);
	expect_fires_at(_metadata, &self->ring, 1, CLOCK_MONOTONIC,
			start + 50 * ZT_NSEC_PER_MSEC);
}

TEST_F(ring, absolute_in_the_past_fires_at_once)
{
	struct zsync_timespec ts = zt_ts_ns(zt_mono_ns() - ZT_NSEC_PER_SEC);
	struct zsync_cqe cqe;

	submit_timeout(_metadata, &self->ring, &ts, ZSYNC_TIMEOUT_ABS);
	zt_reap(_metadata, &self->ring, &cqe, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqe, 0, 1, -ETIME);
}

/* One TIMEOUT SQE per case, each must complete at once with its error. */
struct ts_case {
	const char *what;
	const void *addr;
	unsigned int flags;
	int res;
};

static void run_ts_cases(struct __test_metadata *_metadata, struct zk_ring *ring,
			 const struct ts_case *c, unsigned int n)
{
	struct zsync_cqe cqes[16];
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

		zk_prep_timeout(sqe, NULL, 0, c[i].flags);
		sqe->addr = (__u64)(uintptr_t)c[i].addr;
		zk_sqe_set_data64(sqe, i);
	}
	zt_submit(_metadata, ring, (int)n);
	zt_reap(_metadata, ring, cqes, n, ZT_PROMPT_MS);
	for (i = 0; i < n; i++) {
		if (cqes[i].res != c[i].res)
			TH_LOG("TIMEOUT with %s: expected %s, got %s", c[i].what,
			       zt_err(c[i].res), zt_err(cqes[i].res));
		zt_check_cqe(_metadata, &cqes[i], i, i, c[i].res);
	}
}

TEST_F(ring, invalid_flags_are_einval)
{
	static const struct zsync_timespec ts = { 10, 0 };
	const struct ts_case c[] = {
		{ "BOOTTIME|REALTIME", &ts, ZSYNC_TIMEOUT_BOOTTIME | ZSYNC_TIMEOUT_REALTIME, -EINVAL },
		{ "ABS|BOOTTIME|REALTIME", &ts, ZSYNC_TIMEOUT_ABS | ZSYNC_TIMEOUT_BOOTTIME |
						ZSYNC_TIMEOUT_REALTIME, -EINVAL },
		{ "flags 1<<4", &ts, 1U << 4, -EINVAL },
		{ "flags 1<<31", &ts, 1U << 31, -EINVAL },
	};

	run_ts_cases(_metadata, &self->ring, c, ARRAY_SIZE(c));
}

TEST_F(ring, invalid_timespec_is_rejected)
{
	static const struct zsync_timespec neg_nsec = { 0, -1 };
	static const struct zsync_timespec big_nsec = { 0, 1000000000 };
	static const struct zsync_timespec neg_sec = { -1, 0 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct zsync_timespec *straddle;

	ASSERT_NE(MAP_FAILED, map);
	/* The timespec's second half lies in the unmapped page. */
	ASSERT_EQ(0, munmap(map + page, page));
	straddle = (struct zsync_timespec *)(map + page - sizeof(__s64));
	straddle->tv_sec = 0;
	{
		const struct ts_case c[] = {
			{ "tv_nsec -1", &neg_nsec, 0, -EINVAL },
			{ "tv_nsec 1e9", &big_nsec, 0, -EINVAL },
			/* Decision: a negative relative tv_sec is invalid too. */
			{ "tv_sec -1", &neg_sec, 0, -EINVAL },
			/* Decision (the kernel's): no timespec at all is -EINVAL. */
			{ "addr NULL", NULL, 0, -EINVAL },
			{ "addr in an unmapped page", map + page, 0, -EFAULT },
			{ "timespec straddling into an unmapped page", straddle, 0, -EFAULT },
		};

		run_ts_cases(_metadata, &self->ring, c, ARRAY_SIZE(c));
	}
	munmap(map, page);
}

TEST_F(ring, timeout_rejects_fields_it_does_not_read)
{
	static const struct zsync_timespec ts = { 10, 0 };
	struct zsync_cqe cqes[3];
	struct zsync_sqe *sqe;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		sqe = zt_sqe(_metadata, &self->ring);
		zk_prep_timeout(sqe, &ts, 0, 0);
		zk_sqe_set_data64(sqe, i);
		if (i == 0)
			sqe->fd = 1;
		else if (i == 1)
			sqe->len = 1;
		else
			sqe->addr2 = 1;
	}
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, cqes, 3, ZT_PROMPT_MS);
	/* CQE 0: fd = 1, CQE 1: len = 1, CQE 2: addr2 = 1 */
	for (i = 0; i < 3; i++)
		zt_check_cqe(_metadata, &cqes[i], i, i, -EINVAL);
}

TEST_F(ring, count_timeout_completes_after_count_cqes)
{
	struct zsync_cqe cqes[4];
	int64_t start = zt_mono_ns();

	zt_timeout(_metadata, &self->ring, 1, 10000, 3, 0);
	zt_nop(_metadata, &self->ring, 2);
	zt_nop(_metadata, &self->ring, 3);
	zt_nop(_metadata, &self->ring, 4);
	zt_submit(_metadata, &self->ring, 4);
	zt_reap(_metadata, &self->ring, cqes, 4, ZT_PROMPT_MS);
	/* The timeout completes right after the third CQE, with res 0. */
	zt_check_cqe(_metadata, &cqes[0], 0, 2, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 3, 0);
	zt_check_cqe(_metadata, &cqes[2], 2, 4, 0);
	zt_check_cqe(_metadata, &cqes[3], 3, 1, 0);
	EXPECT_GT(5000, zt_ms_since(start)) TH_LOG("count timeout waited for its 10 s");
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

TEST_F(ring, count_timeout_counts_across_submits)
{
	struct zsync_cqe cqes[2];

	zt_timeout(_metadata, &self->ring, 1, 10000, 2, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_nop(_metadata, &self->ring, 2);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, cqes, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 2, 0);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 3, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 1, 0);
}

TEST_F(ring, count_not_reached_expires_with_etime)
{
	struct zsync_cqe cqes[2];
	int64_t start = zt_mono_ns();

	zt_timeout(_metadata, &self->ring, 1, 150, 3, 0);
	zt_nop(_metadata, &self->ring, 2);
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 2, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 3, 0);
	expect_fires_at(_metadata, &self->ring, 1, CLOCK_MONOTONIC,
			start + 150 * ZT_NSEC_PER_MSEC);
}

/* Decision: timeout CQEs do not count towards another timeout's count. */
TEST_F(ring, timeout_cqes_do_not_count)
{
	struct zsync_cqe cqes[2];

	zt_timeout(_metadata, &self->ring, 1, 10000, 1, 0);
	zt_timeout(_metadata, &self->ring, 2, 20, 0, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, cqes, 1, ZT_LATE_MS + ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 2, -ETIME);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	zt_nop(_metadata, &self->ring, 3);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 3, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 1, 0);
}

TEST_F(ring, timeouts_complete_in_expiry_order)
{
	struct zsync_cqe cqes[3];

	zt_timeout(_metadata, &self->ring, 300, 300, 0, 0);
	zt_timeout(_metadata, &self->ring, 100, 100, 0, 0);
	zt_timeout(_metadata, &self->ring, 200, 200, 0, 0);
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, cqes, 3, 300 + ZT_LATE_MS + ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 100, -ETIME);
	zt_check_cqe(_metadata, &cqes[1], 1, 200, -ETIME);
	zt_check_cqe(_metadata, &cqes[2], 2, 300, -ETIME);
}

TEST_F(ring, timespec_is_copied_at_submission)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct zsync_timespec *ts = mmap(NULL, page, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int64_t start;

	ASSERT_NE(MAP_FAILED, ts);
	*ts = zt_ts_ms(150);
	start = zt_mono_ns();
	submit_timeout(_metadata, &self->ring, ts, 0);
	/* A kernel that re-read it would fire at once, or fault. */
	ts->tv_sec = 0;
	ts->tv_nsec = 1;
	ASSERT_EQ(0, munmap(ts, page));
	expect_fires_at(_metadata, &self->ring, 1, CLOCK_MONOTONIC,
			start + 150 * ZT_NSEC_PER_MSEC);
}

/* ------------------------------------------------------------------ */
/* The wait inside ENTER                                               */
/* ------------------------------------------------------------------ */

TEST_F(ring, enter_wait_times_out_with_etime)
{
	struct zsync_timespec ts = zt_ts_ms(100);
	int64_t start = zt_mono_ns();
	int wait_res = 1, ret;

	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, &ts, &wait_res);
	EXPECT_EQ(-ETIME, ret) TH_LOG("ENTER wait 100 ms, nothing in flight: got %s",
				      zt_err(ret));
	EXPECT_EQ(-ETIME, wait_res) TH_LOG("wait_res: expected -ETIME, got %s",
					   zt_err(wait_res));
	EXPECT_LE(100, zt_ms_since(start)) TH_LOG("returned before the 100 ms");
	EXPECT_GE(100 + ZT_LATE_MS, zt_ms_since(start)) TH_LOG("returned late");
}

TEST_F(ring, enter_wait_zero_timeout_returns_at_once)
{
	struct zsync_timespec ts = { 0, 0 };
	int64_t start = zt_mono_ns();
	int wait_res = 1, ret;

	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, &ts, &wait_res);
	EXPECT_EQ(-ETIME, ret) TH_LOG("ENTER with a zero timeout: got %s", zt_err(ret));
	EXPECT_EQ(-ETIME, wait_res);
	EXPECT_GE(ZT_LATE_MS, zt_ms_since(start));
}

TEST_F(ring, enter_returns_consumed_count_over_wait_error)
{
	struct zsync_timespec ts = zt_ts_ms(50);
	int wait_res = 1, ret;

	zt_nop(_metadata, &self->ring, 7);
	zt_publish_sq(&self->ring);
	/* 1 consumed, the wait for 2 times out: the count wins. */
	ret = zk_enter(&self->ring, 1, 2, ZSYNC_ENTER_GETEVENTS, NULL, &ts, &wait_res);
	EXPECT_EQ(1, ret) TH_LOG("ENTER(1 NOP, wait 2, 50 ms): expected 1, got %s",
				 zt_err(ret));
	EXPECT_EQ(-ETIME, wait_res) TH_LOG("wait_res: expected -ETIME, got %s",
					   zt_err(wait_res));
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));

	zt_nop(_metadata, &self->ring, 8);
	zt_publish_sq(&self->ring);
	ret = zk_enter(&self->ring, 1, 1, ZSYNC_ENTER_GETEVENTS, NULL, &ts, &wait_res);
	EXPECT_EQ(1, ret);
	EXPECT_EQ(0, wait_res) TH_LOG("wait satisfied: wait_res expected 0, got %s",
				      zt_err(wait_res));
	zt_reap(_metadata, &self->ring, NULL, 2, ZT_PROMPT_MS);
}

TEST_F(ring, enter_bad_timeout_pointer)
{
	struct zsync_timespec bad = { 0, -1 };
	struct zsync_enter e = {
		.min_complete = 1,
		.flags = ZSYNC_ENTER_GETEVENTS,
		.timeout = 8,	/* unmapped */
	};
	int ret = zt_enter_raw(self->ring.fd, &e);

	EXPECT_EQ(-EFAULT, ret) TH_LOG("ENTER timeout pointer 8: expected -EFAULT, got %s",
				       zt_err(ret));
	e.timeout = (__u64)(uintptr_t)&bad;
	ret = zt_enter_raw(self->ring.fd, &e);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("ENTER timeout tv_nsec -1: expected -EINVAL, got %s",
				       zt_err(ret));
}

static volatile sig_atomic_t sig_count;
static volatile int64_t sig_at_ns;

static void on_signal(int sig)
{
	(void)sig;
	sig_count++;
	sig_at_ns = zt_mono_ns();
}

/* SIGALRM handler without SA_RESTART, and a one-shot timer @ms from now. */
static void arm_sigalrm(struct __test_metadata *_metadata, int64_t ms)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 },
	};

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	sig_count = 0;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
}

TEST_F(ring, enter_wait_interrupted_by_signal)
{
	int64_t start = zt_mono_ns();
	int wait_res = 1, ret;

	arm_sigalrm(_metadata, 100);
	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, NULL, NULL, &wait_res);
	EXPECT_EQ(-EINTR, ret) TH_LOG("ENTER wait hit by SIGALRM: expected -EINTR, got %s",
				      zt_err(ret));
	EXPECT_EQ(-EINTR, wait_res) TH_LOG("wait_res: expected -EINTR, got %s",
					   zt_err(wait_res));
	EXPECT_EQ(1, sig_count);
	EXPECT_LE(100, zt_ms_since(start));
}

TEST_F(ring, enter_sigmask_blocks_signal_during_wait)
{
	struct zsync_timespec ts = zt_ts_ms(300);
	int64_t start = zt_mono_ns();
	int wait_res = 1, ret;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGALRM);
	arm_sigalrm(_metadata, 50);
	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, &mask, &ts, &wait_res);
	EXPECT_EQ(-ETIME, ret) TH_LOG("SIGALRM blocked by the ENTER sigmask: expected -ETIME, got %s",
				      zt_err(ret));
	EXPECT_EQ(-ETIME, wait_res);
	EXPECT_LE(300, zt_ms_since(start)) TH_LOG("wait ended before its 300 ms");
	/* Delivered once the old mask is back, i.e. after the wait. */
	EXPECT_EQ(1, sig_count) TH_LOG("the blocked SIGALRM was lost");
	EXPECT_LE(start + 300 * ZT_NSEC_PER_MSEC, sig_at_ns)
		TH_LOG("handler ran %" PRId64 " ms after the start, during the wait",
		       (sig_at_ns - start) / ZT_NSEC_PER_MSEC);
}

TEST_F(ring, enter_sigmask_unblocks_signal_during_wait)
{
	sigset_t block, empty, now;
	int wait_res = 1, ret;

	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigemptyset(&empty);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));
	arm_sigalrm(_metadata, 50);
	ret = zk_enter(&self->ring, 0, 1, ZSYNC_ENTER_GETEVENTS, &empty, NULL, &wait_res);
	EXPECT_EQ(-EINTR, ret) TH_LOG("SIGALRM unblocked by the ENTER sigmask: expected -EINTR, got %s",
				      zt_err(ret));
	EXPECT_EQ(-EINTR, wait_res);
	EXPECT_EQ(1, sig_count);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, NULL, &now));
	EXPECT_EQ(1, sigismember(&now, SIGALRM)) TH_LOG("old signal mask not restored");
}

TEST_HARNESS_MAIN
