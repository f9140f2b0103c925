// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime races between the context that hands a request on and the
 * context that finishes it (kmod audit after the overflow-flush
 * use-after-free).  Each case makes the hand-off on one CPU while the other
 * CPU finishes the request and closes the ring at once, so that a waker
 * that still touched the request or the ring after letting go of it would
 * touch freed memory: on the debug kernel that is a KASAN report, which
 * fails the run; everywhere the CQEs are counted exactly.
 *
 *  - task_defer: a RECV pinned to its submitting thread (AF_UNIX) is woken
 *    by a write on the other CPU; the wakeup puts its retry on the ring's
 *    task list (zsync_task_defer()) while the submitter spins in ENTER,
 *    which takes the retry the moment it is there, completes and frees the
 *    request, and closes the ring.  The waker's notification after the
 *    hand-off (the ring's wait queue, the TASK_SIGNAL task_work) must not
 *    read the request, and must keep the ring alive by itself.
 *  - wakeup_frees: POLL_ADDs (and chains POLL_ADD -> NOP) on one socket all
 *    complete inside one wakeup on the other CPU; a request holding a file
 *    cannot be freed there and goes to the ring's free work, a chain's next
 *    request to its chain work (llist_add() then queue_work()), while the
 *    submitter closes the ring as soon as every CQE is there.
 *  - pollfree: a POLL_ADD on a signalfd waits on the sighand of the child
 *    that armed it (a clone sharing our fd table, so its exit cancels
 *    nothing); reaping the child frees that sighand, whose POLLFREE wakeup
 *    ends the POLL_ADD with -ECANCELED, while on the other CPU the ring is
 *    closed, whose cancel completes and frees the same request.  The
 *    wakeup must not touch the request once it has left the queue.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

/* Each case runs this long at most, but at least MIN_ROUNDS rounds. */
#define BUDGET_MS	15000
#define MIN_ROUNDS	50
#define MAX_ROUNDS	3000
/*
 * A POLLFREE round forks, exits and reaps a child (about 6 ms on a TCG
 * 6.1 guest): fewer rounds, so the case costs seconds, not the budget.
 */
#define POLLFREE_ROUNDS	400

/*
 * The waker, on the other CPU: for each round the submitter publishes a
 * socket in @fd and the round in @go; it writes one byte there and
 * reports the round in @done.  Round 0 stops it.
 */
struct waker {
	atomic_int fd;
	struct zk_ring *_Atomic close_ring;	/* instead of writing, close it */
	atomic_uint go;
	atomic_uint done;
	atomic_int err;
	pthread_t th;
};

static void *waker_main(void *arg)
{
	struct waker *w = arg;
	unsigned int seen = 0, go;

	zt_run_on(1);
	for (;;) {
		while ((go = atomic_load(&w->go)) == seen)
			sched_yield();
		if (go == UINT32_MAX)
			return NULL;
		if (atomic_load(&w->close_ring))
			zk_ring_exit(atomic_exchange(&w->close_ring, NULL));
		else if (write(atomic_load(&w->fd), "w", 1) != 1)
			atomic_store(&w->err, errno);
		seen = go;
		atomic_store(&w->done, go);
	}
}

static void waker_start(struct __test_metadata *_metadata, struct waker *w)
{
	memset(w, 0, sizeof(*w));
	zt_pick_cpus();
	zt_run_on(0);
	ASSERT_EQ(0, pthread_create(&w->th, NULL, waker_main, w));
}

static void waker_stop(struct waker *w)
{
	atomic_store(&w->go, UINT32_MAX);
	pthread_join(w->th, NULL);
}

/* Has the waker write to @fd for @round (from 1) and returns at once. */
static void waker_kick(struct waker *w, int fd, unsigned int round)
{
	atomic_store(&w->fd, fd);
	atomic_store(&w->go, round);
}

/* Has the waker close @ring for @round (from 1) and returns at once. */
static void waker_kick_close(struct waker *w, struct zk_ring *ring, unsigned int round)
{
	atomic_store(&w->close_ring, ring);
	atomic_store(&w->go, round);
}

/* Waits until the waker's action for @round has returned. */
static void waker_wait(struct __test_metadata *_metadata, struct waker *w,
		       unsigned int round)
{
	int64_t start = zt_mono_ns();

	while (atomic_load(&w->done) != round) {
		ASSERT_GT(ZT_PROMPT_MS, zt_ms_since(start))
			TH_LOG("round %u: the waker's action did not return", round);
		sched_yield();
	}
	ASSERT_EQ(0, atomic_load(&w->err)) TH_LOG("waker write: %s", strerror(w->err));
}

static bool rounds_left(unsigned int round, unsigned int max_rounds, int64_t start)
{
	if (round >= max_rounds)
		return false;
	return round < MIN_ROUNDS || zt_ms_since(start) < BUDGET_MS;
}

/* One round of a case, numbered from 1, on a ring set up with @flags. */
typedef void (*round_fn)(struct __test_metadata *_metadata, struct waker *w,
			 unsigned int flags, unsigned int round);

/*
 * Runs up to @max_rounds rounds of @fn for BUDGET_MS (at least MIN_ROUNDS),
 * until one fails.
 */
static void run_rounds(struct __test_metadata *_metadata, struct waker *w,
		       unsigned int flags, round_fn fn, unsigned int max_rounds)
{
	int64_t start = zt_mono_ns();
	unsigned int round;

	for (round = 1; rounds_left(round - 1, max_rounds, start); round++) {
		fn(_metadata, w, flags, round);
		if (!_metadata->passed)
			return;
	}
	TH_LOG("%u rounds on CPUs %d and %d", round - 1, zt_cpus()[0], zt_cpus()[1]);
}

FIXTURE(lifetime) {
	struct waker w;
};

FIXTURE_VARIANT(lifetime) {
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(lifetime, task_signal) { .flags = ZSYNC_SETUP_TASK_SIGNAL };
FIXTURE_VARIANT_ADD(lifetime, deferred) { .flags = 0 };

FIXTURE_SETUP(lifetime)
{
	ZT_REQUIRE_DEV();
	waker_start(_metadata, &self->w);
}

FIXTURE_TEARDOWN(lifetime)
{
	waker_stop(&self->w);
}

/*
 * Spins in ENTER without waiting, which runs the thread's deferred work,
 * until @n CQEs are ready.
 */
static void spin_enter_until(struct __test_metadata *_metadata, struct zk_ring *ring,
			     unsigned int n, unsigned int round)
{
	int64_t start = zt_mono_ns();
	int ret;

	while (zk_cq_ready(ring) < n) {
		ret = zk_enter(ring, 0, 0, 0, NULL, NULL, NULL);
		ASSERT_LE(0, ret) TH_LOG("round %u: ENTER: %s", round, zt_err(ret));
		ASSERT_GT(ZT_PROMPT_MS, zt_ms_since(start))
			TH_LOG("round %u: %u of %u CQEs", round, zk_cq_ready(ring), n);
	}
}

/* One RECV woken on the other CPU, run by our ENTER, then the ring closed. */
static void task_defer_round(struct __test_metadata *_metadata, struct waker *w,
			     unsigned int flags, unsigned int round)
{
	struct zsync_cqe *cqe;
	struct zk_ring ring;
	char buf[4];
	int sv[2];

	zt_ring(_metadata, &ring, 4, flags);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zk_prep_recv(zt_sqe_ud(_metadata, &ring, round), sv[0], buf, sizeof(buf), 0);
	zt_submit(_metadata, &ring, 1);
	ASSERT_EQ(0U, zk_cq_ready(&ring)) TH_LOG("round %u: the RECV found data", round);
	waker_kick(w, sv[1], round);
	spin_enter_until(_metadata, &ring, 1, round);
	ASSERT_EQ(0, zk_peek_cqe(&ring, &cqe));
	EXPECT_EQ(round, cqe->user_data);
	EXPECT_EQ(1, cqe->res) TH_LOG("round %u: RECV %s", round, zt_err(cqe->res));
	zk_cqe_seen(&ring, cqe);
	/* While the waker may still be in its wakeup. */
	zk_ring_exit(&ring);
	waker_wait(_metadata, w, round);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(lifetime, task_defer_notification_outlives_nothing)
{
	run_rounds(_metadata, &self->w, variant->flags, task_defer_round, MAX_ROUNDS);
}

#define POLLS	8U	/* lone POLL_ADDs per round */
#define CHAINS	8U	/* and chains POLL_ADD -> NOP */
#define UD_NOP	0x10000ULL

/* Checks the round's CQEs: each POLL_ADD saw EPOLLIN, each NOP res 0. */
static void check_wakeup_cqes(struct __test_metadata *_metadata, struct zk_ring *ring,
			      unsigned int round)
{
	unsigned int polls = 0, nops = 0, i;
	struct zsync_cqe *cqe;

	for (i = 0; i < POLLS + 2 * CHAINS; i++) {
		ASSERT_EQ(0, zk_peek_cqe(ring, &cqe));
		if (cqe->user_data & UD_NOP) {
			EXPECT_EQ(0, cqe->res) TH_LOG("round %u: NOP %s", round, zt_err(cqe->res));
			nops++;
		} else {
			EXPECT_TRUE(cqe->res > 0 && (cqe->res & POLLIN))
				TH_LOG("round %u: POLL_ADD res %#x", round, cqe->res);
			polls++;
		}
		zk_cqe_seen(ring, cqe);
	}
	EXPECT_EQ(POLLS + CHAINS, polls);
	EXPECT_EQ(CHAINS, nops);
}

/* Every request completes in one wakeup on the other CPU; then the close. */
static void wakeup_frees_round(struct __test_metadata *_metadata, struct waker *w,
			       unsigned int flags, unsigned int round)
{
	struct zk_ring ring;
	int64_t start;
	unsigned int i;
	int sv[2];

	zt_ring(_metadata, &ring, 64, flags);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	for (i = 0; i < POLLS; i++)
		zk_prep_poll_add(zt_sqe_ud(_metadata, &ring, i), sv[0], POLLIN, 0);
	for (i = 0; i < CHAINS; i++) {
		zk_prep_poll_add(zt_linked(zt_sqe_ud(_metadata, &ring, POLLS + i)),
				 sv[0], POLLIN, 0);
		zk_prep_nop(zt_sqe_ud(_metadata, &ring, UD_NOP | i));
	}
	zt_submit(_metadata, &ring, POLLS + 2 * CHAINS);
	ASSERT_EQ(0U, zk_cq_ready(&ring)) TH_LOG("round %u: a POLL_ADD found data", round);
	waker_kick(w, sv[1], round);
	/* No ENTER: the wakeup and the chain work post everything. */
	start = zt_mono_ns();
	while (zk_cq_ready(&ring) < POLLS + 2 * CHAINS) {
		ASSERT_GT(ZT_PROMPT_MS, zt_ms_since(start))
			TH_LOG("round %u: %u CQEs", round, zk_cq_ready(&ring));
		sched_yield();
	}
	check_wakeup_cqes(_metadata, &ring, round);
	/* While the free work and the chain work may still run. */
	zk_ring_exit(&ring);
	waker_wait(_metadata, w, round);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(lifetime, wakeup_frees_outlive_nothing)
{
	run_rounds(_metadata, &self->w, variant->flags, wakeup_frees_round, MAX_ROUNDS);
}

/*
 * A child sharing our fd table (and so the ring's fd) but not our sighand:
 * it arms a POLL_ADD on a signalfd, on its own sighand's queue, and exits
 * without it being cancelled.  Returns its pid, a zombie.
 */
static pid_t pollfree_child(struct __test_metadata *_metadata, struct zk_ring *ring,
			    unsigned int round)
{
	sigset_t mask;
	pid_t pid;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
	ASSERT_LE(0, pid) TH_LOG("clone(CLONE_FILES): %s", strerror(errno));
	if (!pid) {
		struct zsync_sqe *sqe = zk_get_sqe(ring);

		sfd = signalfd(-1, &mask, SFD_CLOEXEC);
		if (sfd < 0 || !sqe)
			_exit(1);
		zk_prep_poll_add(sqe, sfd, POLLIN, 0);
		zk_sqe_set_data64(sqe, round);
		/* The request holds the file: the shared table need not. */
		_exit(zk_submit(ring) == 1 && !close(sfd) ? 0 : 2);
	}
	ASSERT_TRUE(zt_wait_state(pid, 'Z', ZT_PROMPT_MS))
		TH_LOG("round %u: the child did not exit", round);
	return pid;
}

/* Reaps @pid, which frees its sighand: the POLLFREE wakeup runs here. */
static void reap(struct __test_metadata *_metadata, pid_t pid, unsigned int round)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("round %u: child status %#x", round, status);
}

/* POLLFREE alone: the POLL_ADD ends with -ECANCELED. */
static void pollfree_alone(struct __test_metadata *_metadata, unsigned int round)
{
	struct zk_ring ring;
	pid_t pid;

	zt_ring(_metadata, &ring, 4, 0);
	pid = pollfree_child(_metadata, &ring, round);
	ASSERT_EQ(0U, zk_cq_ready(&ring)) TH_LOG("round %u: the POLL_ADD completed", round);
	reap(_metadata, pid, round);
	zt_expect_cqe(_metadata, &ring, round, -ECANCELED, 0);
	zk_ring_exit(&ring);
}

/* POLLFREE here while the ring's close cancels the POLL_ADD on the other CPU. */
static void pollfree_vs_close(struct __test_metadata *_metadata, struct waker *w,
			      unsigned int round)
{
	struct zk_ring ring;
	pid_t pid;

	zt_ring(_metadata, &ring, 4, 0);
	pid = pollfree_child(_metadata, &ring, round);
	waker_kick_close(w, &ring, round);
	reap(_metadata, pid, round);
	waker_wait(_metadata, w, round);
}

/* Odd rounds check the POLLFREE path's CQE, even ones race it. */
static void pollfree_round(struct __test_metadata *_metadata, struct waker *w,
			   unsigned int flags, unsigned int round)
{
	if (round & 1)
		pollfree_alone(_metadata, round);
	else
		pollfree_vs_close(_metadata, w, round);
}

TEST_F(lifetime, pollfree_wakeup_leaves_last)
{
	if (variant->flags)
		SKIP(return, "POLL_ADD does not defer to its thread: one variant is enough");
	run_rounds(_metadata, &self->w, 0, pollfree_round, POLLFREE_ROUNDS);
}

TEST_HARNESS_MAIN
