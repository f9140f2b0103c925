// SPDX-License-Identifier: GPL-2.0
/*
 * Ring lifetime: close and exit with requests in flight, fork, fdinfo, and
 * the restriction state machine (R_DISABLED -> RESTRICT -> ENABLE).
 */
#include <sys/wait.h>

#include "helpers.h"

/* The module's reference count, -1 when it cannot be read. */
static int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zsync/refcnt", "re");
	int n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* The module refcount must come back to @want within 2 s. */
static void expect_refcnt(struct __test_metadata *_metadata, int want)
{
	int64_t start = zt_mono_ns();
	int n = module_refcnt();

	if (want < 0)
		return;		/* no refcnt file: built in, nothing to check */
	while (n != want && zt_ms_since(start) < 2000) {
		zt_sleep_ms(10);
		n = module_refcnt();
	}
	EXPECT_EQ(want, n) TH_LOG("module refcnt %d, expected %d back after the rings closed",
				  n, want);
}

/* @n 10 s timeouts (user_data 1000..), submitted in batches of the SQ. */
static void arm_long_timeouts(struct __test_metadata *_metadata,
			      struct zk_ring *ring, unsigned int n)
{
	unsigned int i, queued = 0;

	for (i = 0; i < n; i++) {
		zt_timeout(_metadata, ring, 1000 + i, 10000, 0, 0);
		if (++queued == ring->sq.entries || i == n - 1) {
			zt_submit(_metadata, ring, (int)queued);
			queued = 0;
		}
	}
}

TEST(close_with_100_timeouts_in_flight_is_prompt)
{
	int refcnt = module_refcnt();
	struct zk_ring ring;
	int64_t start;

	zt_ring(_metadata, &ring, 128, 0);
	arm_long_timeouts(_metadata, &ring, 100);
	zt_check_fdinfo(_metadata, ring.fd, "inflight", 100);
	start = zt_mono_ns();
	zk_ring_exit(&ring);
	EXPECT_GT(2000, zt_ms_since(start)) TH_LOG("close with 100 timeouts took %" PRId64 " ms",
						   zt_ms_since(start));
	expect_refcnt(_metadata, refcnt);
}

/* Child: rings with every kind of request in flight, then exit or die. */
static void __attribute__((noreturn)) busy_child(struct __test_metadata *_metadata,
						 bool kill_self)
{
	struct zk_ring ring;

	zt_ring(_metadata, &ring, 128, 0);
	arm_long_timeouts(_metadata, &ring, 100);
	zt_linked(zt_timeout(_metadata, &ring, 1, 5, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
	zt_nop(_metadata, &ring, 2);
	zt_linked(zt_timeout(_metadata, &ring, 3, 10000, 0, 0));
	zt_link_timeout(_metadata, &ring, 4, 1, 0);
	zt_submit(_metadata, &ring, 4);
	if (kill_self)
		raise(SIGKILL);
	_exit(0);	/* no close: exit tears the ring down */
}

static void check_exit_with_inflight(struct __test_metadata *_metadata, bool kill_self)
{
	int refcnt = module_refcnt(), status;
	pid_t pid;

	ZT_REQUIRE_DEV();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		busy_child(_metadata, kill_self);
	status = zt_wait_child(pid, 5000);
	ASSERT_NE(-1, status) TH_LOG("child with in-flight requests did not finish exiting in 5 s");
	if (kill_self) {
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("child status %#x, expected killed by SIGKILL", status);
	} else {
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child status %#x, expected exit 0 (SIGABRT: its setup failed)",
			       status);
	}
	expect_refcnt(_metadata, refcnt);
}

TEST(exit_with_requests_in_flight)
{
	check_exit_with_inflight(_metadata, false);
}

TEST(sigkill_with_requests_in_flight)
{
	check_exit_with_inflight(_metadata, true);
}

TEST(fork_child_closing_its_copy_does_not_break_the_parent)
{
	struct zsync_cqe cqes[2];
	struct zk_ring ring;
	unsigned int r;
	pid_t pid;

	zt_ring(_metadata, &ring, 8, 0);
	zt_timeout(_metadata, &ring, 1, 10000, 0, 0);
	zt_submit(_metadata, &ring, 1);
	/* Round 0: the child closes its copy; round 1: it just exits. */
	for (r = 0; r < 2; r++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (r == 0)
				zk_ring_exit(&ring);
			_exit(0);
		}
		ASSERT_EQ(0, zt_wait_child(pid, 5000));
		zt_check_fdinfo(_metadata, ring.fd, "inflight", 1);
		zt_nop(_metadata, &ring, 10 + r);
		zt_submit(_metadata, &ring, 1);
		zt_reap(_metadata, &ring, cqes, 1, ZT_PROMPT_MS);
		zt_check_cqe(_metadata, &cqes[0], 0, 10 + r, 0);
	}
	zk_prep_cancel(zt_sqe(_metadata, &ring), 1, 0);
	zt_submit(_metadata, &ring, 1);
	zt_reap(_metadata, &ring, cqes, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &cqes[1], 1, 0, 1);
	zk_ring_exit(&ring);
}

/* Each fdinfo line against its expected value. */
struct fdinfo_want {
	unsigned int sq_head, sq_tail, cq_head, cq_tail, inflight;
};

static void check_fdinfo_state(struct __test_metadata *_metadata, int fd,
			       const struct fdinfo_want *w)
{
	zt_check_fdinfo(_metadata, fd, "sq_entries", 8);
	zt_check_fdinfo(_metadata, fd, "cq_entries", 16);
	zt_check_fdinfo(_metadata, fd, "sq_head", w->sq_head);
	zt_check_fdinfo(_metadata, fd, "sq_tail", w->sq_tail);
	zt_check_fdinfo(_metadata, fd, "cq_head", w->cq_head);
	zt_check_fdinfo(_metadata, fd, "cq_tail", w->cq_tail);
	zt_check_fdinfo(_metadata, fd, "inflight", w->inflight);
	zt_check_fdinfo(_metadata, fd, "overflow", 0);
	zt_check_fdinfo(_metadata, fd, "overflow_total", 0);
}

TEST(fdinfo_shows_sizes_indices_and_inflight)
{
	struct fdinfo_want w = { 0 };
	struct zk_ring ring;
	unsigned int i;

	zt_ring(_metadata, &ring, 8, 0);
	check_fdinfo_state(_metadata, ring.fd, &w);
	for (i = 0; i < 3; i++)
		zt_timeout(_metadata, &ring, i, 10000, 0, 0);
	zt_nop(_metadata, &ring, 3);
	zt_nop(_metadata, &ring, 4);
	zt_submit(_metadata, &ring, 5);
	w = (struct fdinfo_want){ .sq_head = 5, .sq_tail = 5, .cq_tail = 2, .inflight = 3 };
	check_fdinfo_state(_metadata, ring.fd, &w);

	zt_reap(_metadata, &ring, NULL, 2, ZT_PROMPT_MS);
	w.cq_head = 2;
	check_fdinfo_state(_metadata, ring.fd, &w);

	zk_prep_cancel(zt_sqe(_metadata, &ring), 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL);
	zt_submit(_metadata, &ring, 1);
	/* 3 cancelled timeouts + the cancel itself. */
	w = (struct fdinfo_want){ .sq_head = 6, .sq_tail = 6, .cq_head = 2, .cq_tail = 6 };
	check_fdinfo_state(_metadata, ring.fd, &w);
	zk_ring_exit(&ring);
}

/* ------------------------------------------------------------------ */
/* Restrictions                                                        */
/* ------------------------------------------------------------------ */

FIXTURE(disabled) {
	struct zk_ring ring;
	struct zsync_restriction r;
};

FIXTURE_SETUP(disabled)
{
	zt_ring(_metadata, &self->ring, 8, ZSYNC_SETUP_R_DISABLED);
	memset(&self->r, 0, sizeof(self->r));
}

FIXTURE_TEARDOWN(disabled)
{
	zk_ring_exit(&self->ring);
}

static void expect_ok(struct __test_metadata *_metadata, int ret, const char *what)
{
	EXPECT_EQ(0, ret) TH_LOG("%s: expected 0, got %s", what, zt_err(ret));
}

TEST_F(disabled, enter_is_ebadfd_until_enabled)
{
	struct zsync_cqe cqe;
	int ret;

	ret = zk_enter(&self->ring, 0, 0, 0, NULL, NULL, NULL);
	EXPECT_EQ(-EBADFD, ret) TH_LOG("ENTER on a disabled ring: expected -EBADFD, got %s",
				       zt_err(ret));
	zt_nop(_metadata, &self->ring, 1);
	ret = zk_submit(&self->ring);
	EXPECT_EQ(-EBADFD, ret) TH_LOG("submit on a disabled ring: expected -EBADFD, got %s",
				       zt_err(ret));
	EXPECT_EQ(0u, zk_load_acquire(self->ring.sq.khead));
	expect_ok(_metadata, zk_enable(&self->ring), "ENABLE");
	/* The SQE queued while disabled goes in now. */
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, &cqe, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqe, 0, 1, 0);
	ret = zk_enable(&self->ring);
	/* Decision (the kernel's): enabling an enabled ring is -EBUSY. */
	EXPECT_EQ(-EBUSY, ret) TH_LOG("second ENABLE: expected -EBUSY, got %s", zt_err(ret));
}

TEST_F(disabled, restrict_to_nop_refuses_everything_else)
{
	static const int want[] = { 0, -EACCES, -EACCES, -EACCES, -EACCES, -EINVAL, 0 };
	struct zsync_cqe cqes[ARRAY_SIZE(want)];
	struct zsync_sqe *sqe;
	unsigned int i;

	zk_restriction_allow_op(&self->r, ZSYNC_OP_NOP);
	expect_ok(_metadata, zk_restrict(&self->ring, &self->r), "RESTRICT to NOP");
	expect_ok(_metadata, zk_enable(&self->ring), "ENABLE");

	zt_nop(_metadata, &self->ring, 0);
	zt_timeout(_metadata, &self->ring, 1, 10, 0, 0);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel(sqe, 99, 0);
	zk_sqe_set_data64(sqe, 2);
	zt_linked(zt_timeout(_metadata, &self->ring, 3, 10, 0, 0));
	/* A NOP is allowed, its LINK flag is not. */
	zt_linked(zt_nop(_metadata, &self->ring, 4));
	/* Unknown opcodes are invalid before they are refused. */
	sqe = zt_sqe(_metadata, &self->ring);
	sqe->opcode = ZSYNC_OP_LAST;
	sqe->user_data = 5;
	zt_nop(_metadata, &self->ring, 6);
	zt_submit(_metadata, &self->ring, ARRAY_SIZE(want));
	zt_reap(_metadata, &self->ring, cqes, ARRAY_SIZE(want), ZT_PROMPT_MS);
	/* 0 NOP, 1 TIMEOUT, 2 CANCEL, 3 TIMEOUT|LINK, 4 NOP|LINK, 5 opcode LAST, 6 NOP */
	for (i = 0; i < ARRAY_SIZE(want); i++)
		zt_check_cqe(_metadata, &cqes[i], i, i, want[i]);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
}

TEST_F(disabled, restrict_allowing_link_runs_chains)
{
	struct zsync_cqe cqes[3];
	struct zsync_sqe *sqe;

	zk_restriction_allow_op(&self->r, ZSYNC_OP_NOP);
	zk_restriction_allow_op(&self->r, ZSYNC_OP_TIMEOUT);
	self->r.allowed_sqe_flags = ZSYNC_SQE_LINK;
	expect_ok(_metadata, zk_restrict(&self->ring, &self->r), "RESTRICT");
	expect_ok(_metadata, zk_enable(&self->ring), "ENABLE");
	zt_linked(zt_nop(_metadata, &self->ring, 0));
	zt_nop(_metadata, &self->ring, 1);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel(sqe, 0, ZSYNC_CANCEL_ANY);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, cqes, 3, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 0, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 1, 0);
	zt_check_cqe(_metadata, &cqes[2], 2, 2, -EACCES);
}

TEST_F(disabled, restrict_is_once_and_before_enable)
{
	int ret;

	self->r.resv0[3] = 1;
	ret = zk_restrict(&self->ring, &self->r);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("RESTRICT with resv0[3] set: %s", zt_err(ret));
	self->r.resv0[3] = 0;
	self->r.resv[2] = 1;
	ret = zk_restrict(&self->ring, &self->r);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("RESTRICT with resv[2] set: %s", zt_err(ret));
	self->r.resv[2] = 0;
	/* A refused RESTRICT did not use up the one allowed. */
	zk_restriction_allow_op(&self->r, ZSYNC_OP_NOP);
	expect_ok(_metadata, zk_restrict(&self->ring, &self->r), "RESTRICT after refused ones");
	ret = zk_restrict(&self->ring, &self->r);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("second RESTRICT: expected -EBUSY, got %s", zt_err(ret));
	expect_ok(_metadata, zk_enable(&self->ring), "ENABLE");
	ret = zk_restrict(&self->ring, &self->r);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("RESTRICT after ENABLE: expected -EBUSY, got %s",
				      zt_err(ret));
}

TEST_F(disabled, enable_without_restrict_allows_everything)
{
	struct zsync_cqe cqes[2];

	expect_ok(_metadata, zk_enable(&self->ring), "ENABLE");
	zt_linked(zt_nop(_metadata, &self->ring, 0));
	zt_timeout(_metadata, &self->ring, 1, 1, 0, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, cqes, 2, ZT_LATE_MS + ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &cqes[0], 0, 0, 0);
	zt_check_cqe(_metadata, &cqes[1], 1, 1, -ETIME);
}

TEST(restrict_needs_a_disabled_ring)
{
	struct zsync_restriction r = { 0 };
	struct zk_ring ring;
	int fd, ret;

	/* Decision (the kernel's): an enabled ring is past RESTRICT: -EBUSY. */
	zt_ring(_metadata, &ring, 8, 0);
	ret = zk_restrict(&ring, &r);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("RESTRICT on a ring set up enabled: %s", zt_err(ret));
	ret = zk_enable(&ring);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("ENABLE on a ring set up enabled: %s", zt_err(ret));
	zk_ring_exit(&ring);

	fd = zt_open_dev(_metadata);
	ret = zt_ioctl(fd, ZSYNC_IOC_RESTRICT, &r);
	EXPECT_EQ(-EBADFD, ret) TH_LOG("RESTRICT before SETUP: %s", zt_err(ret));
	ret = zt_ioctl(fd, ZSYNC_IOC_ENABLE, NULL);
	EXPECT_EQ(-EBADFD, ret) TH_LOG("ENABLE before SETUP: %s", zt_err(ret));
	close(fd);
}

TEST_HARNESS_MAIN
