// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded interrupt-off time and lock-hold time on the completion paths,
 * with the counts at their worst: a source with max_source_waiters
 * waiters on a ring that also has 8192 count-TIMEOUTs armed.
 *
 *  - Arming count-TIMEOUTs costs the same per TIMEOUT with 8000 armed as
 *    with none (it used to walk every armed one: quadratic).
 *  - A SOURCE_SIGNAL to every waiter neither takes time proportional to
 *    waiters x count-TIMEOUTs (each post walked every count-TIMEOUT), nor
 *    holds interrupts off across the fan-out: a SCHED_FIFO sleeper on the
 *    signalling CPU wakes on time while the signal runs.
 *  - The same signal from a driver's hard-irq hrtimer (zsync_edu) does not
 *    post to every waiter with interrupts off either, and every waiter
 *    still gets the value, flagged MORE.
 *  - Count-TIMEOUTs still complete when their count is reached, in target
 *    order, ties in arming order.
 *  - An ENTER does not keep interrupts off while it steps over the socket
 *    retries that another thread of the ring has waiting (one per request
 *    in flight): its walk lets interrupts in every few entries.
 *
 * Times are taken as the best of a few rounds, so that a stall of the
 * (shared, emulated) machine in one round does not decide; the bounds are
 * 5x larger on the debug kernel ("debug" in its release).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/zsync_edu.h>

#include "helpers.h"

#define EDU_DEV			"/dev/zsync-edu0"

#define NR_COUNT_TIMEOUTS	8192
#define ARM_BATCH		1024
#define ROUNDS			5
/* Far beyond anything these tests post: the count-TIMEOUTs never fire. */
#define HUGE_COUNT		(1u << 30)
#define HOUR_MS			(3600 * 1000)

static int slow_factor(void)
{
	struct utsname u;

	return uname(&u) == 0 && strstr(u.release, "debug") ? 5 : 1;
}

/* Arms @n count-TIMEOUTs (user_data from @ud) that never complete. */
static void arm_count_timeouts(struct __test_metadata *_metadata,
			       struct zk_ring *ring, unsigned int n, __u64 ud)
{
	unsigned int i, batch;

	while (n) {
		batch = n < ring->sq.entries ? n : ring->sq.entries;
		for (i = 0; i < batch; i++)
			zt_timeout(_metadata, ring, ud++, HOUR_MS, HUGE_COUNT, 0);
		zt_submit(_metadata, ring, (int)batch);
		n -= batch;
	}
}

static int64_t time_arm(struct __test_metadata *_metadata, struct zk_ring *ring,
			unsigned int n, __u64 ud)
{
	int64_t start = zt_mono_ns();

	arm_count_timeouts(_metadata, ring, n, ud);
	return zt_mono_ns() - start;
}

static void big_ring(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	struct zsync_params p;

	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 8192;
	zt_ring_params(_metadata, ring, 4096, &p);
	if (ring->sq.entries < ARM_BATCH) {
		zk_ring_exit(ring);
		SKIP(return, "max_entries %u: too small", ring->sq.entries);
	}
}

TEST(arming_count_timeouts_is_not_quadratic)
{
	int64_t first = INT64_MAX, last = INT64_MAX, t;
	unsigned int i, armed = 0;
	struct zk_ring ring;

	big_ring(_metadata, &ring);
	/* Best of the first batches, with few armed... */
	for (i = 0; i < ROUNDS; i++, armed += ARM_BATCH / 4) {
		t = time_arm(_metadata, &ring, ARM_BATCH / 4, armed);
		first = t < first ? t : first;
	}
	arm_count_timeouts(_metadata, &ring, NR_COUNT_TIMEOUTS - armed, armed);
	armed = NR_COUNT_TIMEOUTS;
	/* ... against the same batches with 8000 armed. */
	for (i = 0; i < ROUNDS; i++, armed += ARM_BATCH / 4) {
		t = time_arm(_metadata, &ring, ARM_BATCH / 4, armed);
		last = t < last ? t : last;
	}
	TH_LOG("arming %u count-TIMEOUTs: %" PRId64 " us with few armed, %" PRId64
	       " us with %u armed", ARM_BATCH / 4, first / 1000, last / 1000,
	       NR_COUNT_TIMEOUTS);
	/* An O(log n) insert grows by a few percent, a walk by ~30x. */
	EXPECT_LT(last, 3 * first + 2 * ZT_NSEC_PER_MSEC)
		TH_LOG("arming a count-TIMEOUT costs more with more armed");
	zk_ring_exit(&ring);
}

/* A SCHED_FIFO thread that sleeps in short hrtimer periods, timing its lateness. */
struct sleeper {
	pthread_t thread;
	atomic_int stop;
	atomic_int measuring;	/* 1: record; the sleeper counts periods in it */
	atomic_llong max_late;	/* ns, while measuring */
	atomic_uint periods;
};

#define SLEEP_PERIOD_NS	(200 * 1000)

static void *sleeper_fn(void *arg)
{
	struct sleeper *s = arg;
	struct timespec next;
	int64_t due, late;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&s->stop)) {
		due = (int64_t)next.tv_sec * ZT_NSEC_PER_SEC + next.tv_nsec + SLEEP_PERIOD_NS;
		next.tv_sec = due / ZT_NSEC_PER_SEC;
		next.tv_nsec = due % ZT_NSEC_PER_SEC;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		late = zt_mono_ns() - due;
		if (atomic_load(&s->measuring) && late > atomic_load(&s->max_late))
			atomic_store(&s->max_late, late);
		atomic_fetch_add(&s->periods, 1);
		/* Never fall behind: the next period starts now. */
		clock_gettime(CLOCK_MONOTONIC, &next);
	}
	return NULL;
}

static int pin_cpu0(pthread_t t)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return pthread_setaffinity_np(t, sizeof(set), &set);
}

/* 0, or why the sleeper cannot run (no privilege for SCHED_FIFO...). */
static const char *sleeper_start(struct sleeper *s)
{
	struct sched_param sp = { .sched_priority = 50 };
	pthread_attr_t attr;
	int ret;

	memset(s, 0, sizeof(*s));
	if (pin_cpu0(pthread_self()))
		return "cannot pin to CPU 0";
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	ret = pthread_create(&s->thread, &attr, sleeper_fn, s);
	pthread_attr_destroy(&attr);
	if (ret)
		return "no SCHED_FIFO thread (privilege?)";
	if (pin_cpu0(s->thread)) {
		atomic_store(&s->stop, 1);
		pthread_join(s->thread, NULL);
		return "cannot pin the sleeper to CPU 0";
	}
	return NULL;
}

static void sleeper_stop(struct sleeper *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
}

/* Waits until the sleeper completed @n more periods (it is running). */
static void sleeper_sync(struct __test_metadata *_metadata, struct sleeper *s,
			 unsigned int n)
{
	unsigned int want = atomic_load(&s->periods) + n;
	int64_t start = zt_mono_ns();

	while (atomic_load(&s->periods) < want) {
		ASSERT_LT(zt_ms_since(start), ZT_PROMPT_MS) TH_LOG("the sleeper does not run");
		sched_yield();
	}
}

/* Arms @n SOURCE_WAITs on @src, user_data 0..n-1. */
static void arm_waiters(struct __test_metadata *_metadata, struct zk_ring *ring,
			int src, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

		zk_prep_source_wait(sqe, src);
		zk_sqe_set_data64(sqe, i);
		if ((i + 1) % ARM_BATCH == 0 || i == n - 1)
			zt_submit(_metadata, ring, i % ARM_BATCH + 1);
	}
}

/* Every waiter (user_data 0..n-1) got one CQE flagged MORE with @value. */
static void check_values(struct __test_metadata *_metadata, const struct zsync_cqe *c,
			 unsigned int n, __u32 value)
{
	unsigned int i;
	char *seen = calloc(n, 1);

	ASSERT_NE(NULL, seen);
	for (i = 0; i < n; i++) {
		ASSERT_NE(0u, c[i].flags & ZSYNC_CQE_F_MORE)
			TH_LOG("CQE %u (user_data %llu) ended: %s", i,
			       (unsigned long long)c[i].user_data, zt_err(c[i].res));
		ASSERT_EQ(value, zk_cqe_source_value(&c[i]));
		ASSERT_LT(c[i].user_data, n);
		ASSERT_EQ(0, seen[c[i].user_data]) TH_LOG("two CQEs for %llu",
							(unsigned long long)c[i].user_data);
		seen[c[i].user_data] = 1;
	}
	free(seen);
}

TEST(signal_to_max_waiters_with_count_timeouts_is_bounded)
{
	unsigned int max = zt_module_param("max_source_waiters", 1024), r;
	int64_t dur, best_dur = INT64_MAX, best_late = INT64_MAX, late;
	int slow = slow_factor(), src, ret;
	const char *why;
	struct sleeper s;
	struct zk_ring ring;
	struct zsync_cqe *c;

	if (max > 4096)
		SKIP(return, "max_source_waiters %u: too many for one ring", max);
	big_ring(_metadata, &ring);
	src = zk_source_create(&ring, ZSYNC_SOURCE_CLOEXEC);
	ASSERT_LE(0, src) TH_LOG("SOURCE_CREATE: %s", zt_err(src));
	arm_count_timeouts(_metadata, &ring, NR_COUNT_TIMEOUTS, 1u << 20);
	arm_waiters(_metadata, &ring, src, max);
	c = calloc(max, sizeof(*c));
	ASSERT_NE(NULL, c);
	why = sleeper_start(&s);

	for (r = 0; r < ROUNDS; r++) {
		if (!why) {
			sleeper_sync(_metadata, &s, 2);
			atomic_store(&s.max_late, 0);
			atomic_store(&s.measuring, 1);
		}
		dur = zt_mono_ns();
		ret = zk_source_signal(src, 100 + r);
		dur = zt_mono_ns() - dur;
		if (!why) {
			/* A timer that was due during the signal has woken it by now. */
			sleeper_sync(_metadata, &s, 1);
			atomic_store(&s.measuring, 0);
			late = atomic_load(&s.max_late);
			best_late = late < best_late ? late : best_late;
		}
		ASSERT_EQ((int)max, ret) TH_LOG("signal reached %s", zt_err(ret));
		best_dur = dur < best_dur ? dur : best_dur;
		/* Every waiter got this signal's value, flagged MORE. */
		zt_reap(_metadata, &ring, c, max, 10 * ZT_PROMPT_MS);
		check_values(_metadata, c, max, 100 + r);
		TH_LOG("round %u: signal to %u waiters with %u count-TIMEOUTs: %" PRId64
		       " us; sleeper late by at most %" PRId64 " us", r, max,
		       NR_COUNT_TIMEOUTS, dur / 1000,
		       why ? -1 : (int64_t)atomic_load(&s.max_late) / 1000);
	}
	if (!why)
		sleeper_stop(&s);
	/* 1-3 ms for 1024 posts under TCG; a walk of the TIMEOUTs per post: > 200. */
	EXPECT_LT(best_dur, slow * 50 * ZT_NSEC_PER_MSEC)
		TH_LOG("best signal took %" PRId64 " us", best_dur / 1000);
	if (why) {
		free(c);
		zk_ring_exit(&ring);
		close(src);
		SKIP(return, "interrupt latency not measured: %s", why);
	}
	/* Interrupts were let in every few posts, not after all of them. */
	EXPECT_LT(best_late, slow * 25 * ZT_NSEC_PER_MSEC)
		TH_LOG("best round: the sleeper woke %" PRId64 " us late", best_late / 1000);
	free(c);
	zk_ring_exit(&ring);
	close(src);
}

TEST(driver_hrtimer_signal_to_max_waiters_is_bounded)
{
	unsigned int max = zt_module_param("max_source_waiters", 1024), r;
	int64_t best_late = INT64_MAX, late, deadline;
	int slow = slow_factor(), edu, src;
	__u64 ns, last = 0;
	const char *why;
	struct sleeper s;
	struct zk_ring ring;
	struct zsync_cqe *c;

	ZT_REQUIRE_DEV();
	if (max > 4096)
		SKIP(return, "max_source_waiters %u: too many for one ring", max);
	if (access(EDU_DEV, F_OK))
		SKIP(return, "%s missing: no edu device, or zsync_edu not loaded", EDU_DEV);
	edu = open(EDU_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, edu) TH_LOG("open %s: %s", EDU_DEV, strerror(errno));
	src = ioctl(edu, ZSYNC_EDU_IOC_SOURCE, ZSYNC_SOURCE_CLOEXEC);
	ASSERT_LE(0, src) TH_LOG("ZSYNC_EDU_IOC_SOURCE: %s", strerror(errno));
	big_ring(_metadata, &ring);
	arm_count_timeouts(_metadata, &ring, NR_COUNT_TIMEOUTS, 1u << 20);
	arm_waiters(_metadata, &ring, src, max);
	c = calloc(max, sizeof(*c));
	ASSERT_NE(NULL, c);
	/* The hrtimer fires on the CPU that started it: CPU 0, the sleeper's. */
	why = sleeper_start(&s);
	if (why) {
		free(c);
		zk_ring_exit(&ring);
		close(src);
		close(edu);
		SKIP(return, "%s", why);
	}
	for (r = 0; r < ROUNDS; r++) {
		sleeper_sync(_metadata, &s, 2);
		atomic_store(&s.max_late, 0);
		atomic_store(&s.measuring, 1);
		deadline = zt_mono_ns() + 2 * ZT_NSEC_PER_MSEC;
		ns = (__u64)deadline;
		ASSERT_EQ(0, ioctl(edu, ZSYNC_EDU_IOC_TIMER, &ns)) TH_LOG("TIMER: %s",
									 strerror(errno));
		zt_reap(_metadata, &ring, c, max, 10 * ZT_PROMPT_MS);
		sleeper_sync(_metadata, &s, 1);
		atomic_store(&s.measuring, 0);
		late = atomic_load(&s.max_late);
		best_late = late < best_late ? late : best_late;
		ASSERT_EQ(0, ioctl(edu, ZSYNC_EDU_IOC_LAST_EVENT, &last));
		check_values(_metadata, c, max, (__u32)last);
		TH_LOG("round %u: hrtimer signal to %u waiters with %u count-TIMEOUTs: "
		       "all CQEs %" PRId64 " us after the deadline; sleeper late by at most %"
		       PRId64 " us", r, max, NR_COUNT_TIMEOUTS,
		       (zt_mono_ns() - deadline) / 1000, late / 1000);
	}
	sleeper_stop(&s);
	EXPECT_LT(best_late, slow * 25 * ZT_NSEC_PER_MSEC)
		TH_LOG("best round: the sleeper woke %" PRId64 " us late", best_late / 1000);
	free(c);
	zk_ring_exit(&ring);
	close(src);
	close(edu);
}

TEST(count_timeouts_complete_in_target_order)
{
	/* count, in arming order; ties complete in arming order. */
	static const unsigned int counts[] = { 5, 3, 5, 1, 3, 7, 1, 5 };
	const unsigned int n = sizeof(counts) / sizeof(counts[0]);
	unsigned int posted, i, k, got;
	struct zsync_cqe c[16];
	struct zk_ring ring;

	zt_ring(_metadata, &ring, 64, 0);
	for (i = 0; i < n; i++)
		zt_timeout(_metadata, &ring, 100 + i, HOUR_MS, counts[i], 0);
	zt_submit(_metadata, &ring, (int)n);
	for (posted = 1; posted <= 7; posted++) {
		zt_nop(_metadata, &ring, posted);
		zt_submit(_metadata, &ring, 1);
		got = 0;
		for (i = 0; i < n; i++)
			got += counts[i] == posted;
		/* The NOP's CQE, then the TIMEOUTs it completed, in arming order. */
		zt_reap(_metadata, &ring, c, 1 + got, ZT_PROMPT_MS);
		zt_check_cqe(_metadata, &c[0], 0, posted, 0);
		for (i = 0, k = 1; i < n; i++) {
			if (counts[i] != posted)
				continue;
			zt_check_cqe(_metadata, &c[k], k, 100 + i, 0);
			k++;
		}
		zt_expect_no_cqe(_metadata, &ring, 20);
	}
	zk_ring_exit(&ring);
}

/* More TIMEOUTs due at once than one flush pops per hold of the lock. */
TEST(many_count_timeouts_due_at_once_complete_in_arming_order)
{
	const unsigned int n = 200;
	struct zsync_cqe c[201];
	struct zk_ring ring;
	unsigned int i;

	zt_ring(_metadata, &ring, 256, 0);
	for (i = 0; i < n; i++)
		zt_timeout(_metadata, &ring, 100 + i, HOUR_MS, 1, 0);
	zt_submit(_metadata, &ring, (int)n);
	zt_nop(_metadata, &ring, 1);
	zt_submit(_metadata, &ring, 1);
	zt_reap(_metadata, &ring, c, n + 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, 0);
	for (i = 0; i < n; i++)
		zt_check_cqe(_metadata, &c[i + 1], i + 1, 100 + i, 0);
	zt_expect_no_cqe(_metadata, &ring, 20);
	zk_ring_exit(&ring);
}

/*
 * Another thread's retries: @n RECVs armed by a thread that then stays out
 * of the ring, each made ready by a byte, wait on the ring's task list for
 * that thread.  It reaps them all once told to.
 */
#define NR_RETRIES	16384
#define RETRY_ROUNDS	8

struct retries {
	struct zk_ring ring;
	int (*sp)[2];
	unsigned int n;
	int armed[2], go[2];
	char buf[NR_RETRIES];
	int got, bad;			/* what the arming thread reaped */
};

static void *retries_armer(void *arg)
{
	struct retries *t = arg;
	struct zsync_cqe *cqe;
	unsigned int i, batch = t->ring.sq.entries;
	char c = 1;

	for (i = 0; i < t->n; i++) {
		struct zsync_sqe *sqe = zk_get_sqe(&t->ring);

		zk_prep_recv(sqe, t->sp[i][0], &t->buf[i], 1, 0);
		zk_sqe_set_data64(sqe, i);
		if ((i + 1) % batch == 0 || i == t->n - 1) {
			if (zk_submit(&t->ring) != (int)(i % batch + 1))
				t->bad++;
		}
	}
	if (write(t->armed[1], &c, 1) != 1 || read(t->go[0], &c, 1) != 1)
		t->bad++;
	while (t->got < (int)t->n) {
		if (zk_wait_cqe(&t->ring, &cqe))
			break;
		if (cqe->res != 1)
			t->bad++;
		t->got++;
		zk_cqe_seen(&t->ring, cqe);
	}
	return NULL;
}

TEST(another_threads_retries_do_not_keep_irqs_off_in_an_enter)
{
	struct rlimit rl = { 2 * NR_RETRIES + 256, 2 * NR_RETRIES + 256 };
	int slow = slow_factor(), ret;
	int64_t late, best_late = INT64_MAX, start;
	unsigned int i, r, waiting = 0;
	struct zsync_params p;
	struct retries *t;
	const char *why;
	struct sleeper s;
	pthread_t armer;
	char c = 1;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		SKIP(return, "RLIMIT_NOFILE %u: %s", 2 * NR_RETRIES + 256, strerror(errno));
	t = calloc(1, sizeof(*t));
	ASSERT_NE(NULL, t);
	/* The debug kernel sets 16384 sockets up too slowly for the harness. */
	t->n = NR_RETRIES / slow;
	t->sp = calloc(t->n, sizeof(*t->sp));
	ASSERT_NE(NULL, t->sp);
	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 8192;	/* the rest wait in the overflow list */
	zt_ring_params(_metadata, &t->ring, 4096, &p);
	for (i = 0; i < t->n; i++)
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, t->sp[i]))
			TH_LOG("socketpair %u: %s", i, strerror(errno));
	ASSERT_EQ(0, pipe2(t->armed, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(t->go, O_CLOEXEC));
	why = sleeper_start(&s);
	ASSERT_EQ(0, pthread_create(&armer, NULL, retries_armer, t));
	ASSERT_EQ(1, read(t->armed[0], &c, 1));
	ASSERT_EQ(0, t->bad) TH_LOG("arming the RECVs failed");
	for (i = 0; i < t->n; i++)
		ASSERT_EQ(1, write(t->sp[i][1], &c, 1));
	/* Every retry waits for the arming thread, which is out of the ring. */
	start = zt_mono_ns();
	while (waiting < t->n) {
		ASSERT_EQ(0, zt_fdinfo(t->ring.fd, "task_work", &waiting));
		ASSERT_LT(zt_ms_since(start), 20 * ZT_PROMPT_MS)
			TH_LOG("%u of %u retries queued for their thread", waiting, t->n);
		sched_yield();
	}
	for (r = 0; r < RETRY_ROUNDS && !why; r++) {
		sleeper_sync(_metadata, &s, 2);
		atomic_store(&s.max_late, 0);
		atomic_store(&s.measuring, 1);
		/* Each steps over all of them: none is this thread's. */
		for (i = 0; i < 20; i++) {
			ret = zk_enter(&t->ring, 0, 0, 0, NULL, NULL, NULL);
			ASSERT_EQ(0, ret) TH_LOG("ENTER: %s", zt_err(ret));
		}
		sleeper_sync(_metadata, &s, 1);
		atomic_store(&s.measuring, 0);
		late = atomic_load(&s.max_late);
		best_late = late < best_late ? late : best_late;
		TH_LOG("round %u: 20 ENTERs past %u retries of another thread; sleeper late by at most %" PRId64 " us",
		       r, t->n, late / 1000);
	}
	if (!why)
		sleeper_stop(&s);
	/* Nothing was taken from the other thread, and it gets all of it. */
	ASSERT_EQ(0, zt_fdinfo(t->ring.fd, "task_work", &waiting));
	EXPECT_EQ(t->n, waiting);
	ASSERT_EQ(1, write(t->go[1], &c, 1));
	ASSERT_EQ(0, pthread_join(armer, NULL));
	EXPECT_EQ((int)t->n, t->got);
	EXPECT_EQ(0, t->bad) TH_LOG("%d RECVs failed or got no byte", t->bad);
	if (!why) {
		/*
		 * A guard against a walk of the whole list with interrupts
		 * off, not a measurement of the bound: on the shared TCG
		 * host, rounds of the chunked walk ranged from 0.12 to 20 ms
		 * (the machine's own stalls), while one unchunked walk of
		 * 16384 costs 0.6 ms, so only a walk of many times that,
		 * e.g. max_inflight entries on the debug kernel, fails here.
		 */
		EXPECT_LT(best_late, slow * 25 * ZT_NSEC_PER_MSEC)
			TH_LOG("best round: the sleeper woke %" PRId64 " us late", best_late / 1000);
	}
	for (i = 0; i < t->n; i++) {
		close(t->sp[i][0]);
		close(t->sp[i][1]);
	}
	zk_ring_exit(&t->ring);
	free(t->sp);
	free(t);
	if (why)
		SKIP(return, "interrupt latency not measured: %s", why);
}

TEST_HARNESS_MAIN
