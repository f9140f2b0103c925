// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup v2 ops on the VM's real cgroup2 (memory and pids enabled):
 * CGROUP_SET, CGROUP_ATTACH (by pid, by pidfd, pid reuse), CGROUP_FREEZE /
 * THAW with 50 busy processes, CGROUP_KILL of 100 processes, CGROUP_WAIT
 * transitions, cancellation and LINK_TIMEOUT, invalid fds and fields, and
 * the disable_families module parameter.  Permission and namespace
 * confinement are in cgroup_confine.c.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/eventfd.h>
#include "helpers.h"
#include "cgroup-helpers.h"

FIXTURE(cg) {
	struct zk_ring ring;
	char path[256];
	int dfd;
};

FIXTURE_SETUP(cg)
{
	self->dfd = -1;
	if (!zt_cg_available())
		SKIP(zt_skip_exit(), "no cgroup2 at %s", ZT_CG_ROOT);
	zt_ring(_metadata, &self->ring, 256, 0);
	zt_path(self->path, sizeof(self->path), ZT_CG_ROOT "/zt-cg-%d", getpid());
	self->dfd = zt_cg_make(_metadata, self->path);
}

FIXTURE_TEARDOWN(cg)
{
	if (self->dfd >= 0) {
		close(self->dfd);
		zt_cg_destroy(self->path);
	}
	zk_ring_exit(&self->ring);
}

/* The result of CGROUP_SET @knob = @val on @dfd. */
static int cg_set(struct __test_metadata *_metadata, struct zk_ring *ring, int dfd,
		  const char *knob, const char *val)
{
	zk_prep_cgroup_set_str(zt_sqe(_metadata, ring), dfd, knob, val);
	return zt_one(_metadata, ring);
}

TEST_F(cg, set_four_knobs_in_one_submission)
{
	static const char *const knob[] = { "memory.max", "memory.high", "memory.low",
					     "pids.max" };
	static const char *const val[] = { "67108864", "50331648", "4194304", "17" };
	struct zsync_cqe c[4];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);

		zk_prep_cgroup_set_str(sqe, self->dfd, knob[i], val[i]);
		zk_sqe_set_data64(sqe, i);
	}
	zt_submit(_metadata, &self->ring, 4);
	zt_reap(_metadata, &self->ring, c, 4, ZT_PROMPT_MS);
	for (i = 0; i < 4; i++) {
		char want[64];

		zt_check_cqe(_metadata, &c[i], i, i, (int)strlen(val[i]));
		snprintf(want, sizeof(want), "%s\n", val[i]);
		zt_expect_cg_file(_metadata, self->path, knob[i], want);
	}
}

TEST_F(cg, set_reports_the_kernels_own_errors)
{
	/* What write(2) says, the CQE says. */
	EXPECT_EQ(-EINVAL, zt_cg_write(self->path, "pids.max", "lots"));
	EXPECT_EQ(-EINVAL, cg_set(_metadata, &self->ring, self->dfd, "pids.max", "lots"));
	EXPECT_EQ(-ENOENT, cg_set(_metadata, &self->ring, self->dfd, "no.such.knob", "1"));
	/* cgroup.events cannot be written (root may open it; cgroupfs refuses). */
	EXPECT_EQ(-EINVAL, zt_cg_write(self->path, "cgroup.events", "1"));
	EXPECT_EQ(-EINVAL, cg_set(_metadata, &self->ring, self->dfd, "cgroup.events", "1"));
	zt_expect_cg_file(_metadata, self->path, "pids.max", "max\n");
}

TEST_F(cg, set_refuses_names_that_are_not_one_file)
{
	static const char *const bad[] = { "", ".", "..", "../cgroup.procs", "a/b", "/etc/passwd" };
	char longname[300];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, cg_set(_metadata, &self->ring, self->dfd, bad[i], "1"))
			TH_LOG("bad knob name #%u", i);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(-EINVAL, cg_set(_metadata, &self->ring, self->dfd, longname, "1"));
}

TEST_F(cg, set_validates_length_and_pointers)
{
	static char big[4097];
	struct zsync_sqe *sqe;

	zk_prep_cgroup_set(zt_sqe(_metadata, &self->ring), self->dfd, "pids.max", "1", 0);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	memset(big, '1', sizeof(big));
	zk_prep_cgroup_set(zt_sqe(_metadata, &self->ring), self->dfd, "pids.max", big,
			   sizeof(big));
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_set(zt_sqe(_metadata, &self->ring), self->dfd,
			   (const char *)8, "1", 1);
	EXPECT_EQ(-EFAULT, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_set(zt_sqe(_metadata, &self->ring), self->dfd, "pids.max",
			   (const char *)8, 1);
	EXPECT_EQ(-EFAULT, zt_one(_metadata, &self->ring));
	/* A field the op does not read. */
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_set_str(sqe, self->dfd, "pids.max", "1");
	sqe->op_flags = 1;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	zt_expect_cg_file(_metadata, self->path, "pids.max", "max\n");
}

/*
 * Knobs are opened when the op runs: a chain can enable a controller for
 * the children and then set one of their knobs, which did not exist when
 * the chain was submitted.
 */
TEST_F(cg, chain_enables_a_controller_then_sets_its_knob)
{
	char child[300];
	struct zsync_cqe c[2];
	struct zsync_sqe *sqe;
	int cfd;

	zt_path(child, sizeof(child), "%s/child", self->path);
	ASSERT_EQ(0, mkdir(child, 0755));
	cfd = open(child, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, cfd);
	ASSERT_NE(0, faccessat(cfd, "pids.max", F_OK, 0)) TH_LOG("pids already enabled");
	sqe = zt_linked(zt_sqe(_metadata, &self->ring));
	zk_prep_cgroup_set_str(sqe, self->dfd, "cgroup.subtree_control", "+pids");
	zk_prep_cgroup_set_str(zt_sqe(_metadata, &self->ring), cfd, "pids.max", "5");
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	EXPECT_EQ(5, c[0].res);
	EXPECT_EQ(1, c[1].res);
	zt_expect_cg_file(_metadata, child, "pids.max", "5\n");
	close(cfd);
}

/* ---- CGROUP_ATTACH -------------------------------------------------------- */

static void expect_in(struct __test_metadata *_metadata, pid_t pid, const char *dir)
{
	char cg[512];

	zt_proc_cgroup(pid, cg, sizeof(cg));
	EXPECT_STREQ(dir + strlen(ZT_CG_ROOT), cg) TH_LOG("cgroup of %d", pid);
}

TEST_F(cg, attach_by_pid)
{
	pid_t pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);

	zk_prep_cgroup_attach(zt_sqe(_metadata, &self->ring), self->dfd, pid);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	expect_in(_metadata, pid, self->path);
	EXPECT_EQ(1, zt_cg_nprocs(self->path));
	zt_kill_reap(pid);
}

TEST_F(cg, attach_pid_zero_is_the_submitter)
{
	zk_prep_cgroup_attach(zt_sqe(_metadata, &self->ring), self->dfd, 0);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	expect_in(_metadata, getpid(), self->path);
	/* Leave, so teardown can remove the cgroup without killing us. */
	ASSERT_EQ(0, zt_cg_write(ZT_CG_ROOT, "cgroup.procs", "0"));
}

TEST_F(cg, attach_by_pidfd)
{
	pid_t pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	int pidfd = zt_pidfd_open(pid);

	ASSERT_LE(0, pidfd);
	zk_prep_cgroup_attach_pidfd(zt_sqe(_metadata, &self->ring), self->dfd, pidfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	expect_in(_metadata, pid, self->path);
	close(pidfd);
	zt_kill_reap(pid);
}

TEST_F(cg, attach_errors)
{
	pid_t pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	int efd = eventfd(0, EFD_CLOEXEC), pidfd = zt_pidfd_open(pid);
	struct zsync_sqe *sqe;

	ASSERT_LE(0, efd);
	ASSERT_LE(0, pidfd);
	/* No such process: what echo says. */
	EXPECT_EQ(-ESRCH, zt_cg_write(self->path, "cgroup.procs", "999999"));
	zk_prep_cgroup_attach(zt_sqe(_metadata, &self->ring), self->dfd, 999999);
	EXPECT_EQ(-ESRCH, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_attach(zt_sqe(_metadata, &self->ring), self->dfd, 1 << 30);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	/* Not a pidfd, not an fd. */
	zk_prep_cgroup_attach_pidfd(zt_sqe(_metadata, &self->ring), self->dfd, efd);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_attach_pidfd(zt_sqe(_metadata, &self->ring), self->dfd, 1000);
	EXPECT_EQ(-EBADF, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_attach_pidfd(zt_sqe(_metadata, &self->ring), self->dfd, -1);
	EXPECT_EQ(-EBADF, zt_one(_metadata, &self->ring));
	/* Unknown flag, and a field ATTACH does not read. */
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_attach_pidfd(sqe, self->dfd, pidfd);
	sqe->op_flags |= 2;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_attach(sqe, self->dfd, pid);
	sqe->addr = 1;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	EXPECT_EQ(0, zt_cg_nprocs(self->path));
	close(efd);
	close(pidfd);
	zt_kill_reap(pid);
}

TEST_F(cg, attach_pidfd_of_an_exited_process_is_esrch)
{
	pid_t pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	int pidfd = zt_pidfd_open(pid);
	siginfo_t si = { 0 };

	ASSERT_LE(0, pidfd);
	kill(pid, SIGKILL);
	/* A zombie has exited: not moved. */
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	zk_prep_cgroup_attach_pidfd(zt_sqe(_metadata, &self->ring), self->dfd, pidfd);
	EXPECT_EQ(-ESRCH, zt_one(_metadata, &self->ring));
	/* Reaped. */
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	zk_prep_cgroup_attach_pidfd(zt_sqe(_metadata, &self->ring), self->dfd, pidfd);
	EXPECT_EQ(-ESRCH, zt_one(_metadata, &self->ring));
	EXPECT_EQ(0, zt_cg_nprocs(self->path));
	close(pidfd);
}

/*
 * Pid reuse: in a fresh pid namespace, process A gets number 2, its pidfd
 * is kept, A exits and is reaped, and B is forked with number 2 again
 * (clone3 set_tid).  ATTACH by A's pidfd must not move B; ATTACH by number 2
 * does (it is B's number now).
 */
static int reuse_in_pidns(const char *dir, int dfd)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	char cg[512];
	pid_t a, b;
	int pidfd, res;

	/* A procfs of this pid namespace, so /proc/N/cgroup names our N. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("proc", "/proc", "proc", 0, NULL))
		return 9;
	a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	pidfd = zt_pidfd_open(a);
	if (pidfd < 0)
		return 10;
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	b = zt_fork_tid(a);
	if (b < 0)
		return 11;
	if (b == 0) {
		pause();
		_exit(0);
	}
	if (b != a) {
		kill(b, SIGKILL);
		return 12;
	}
	if (zk_ring_init(4, &ring, 0))
		return 13;
	zk_prep_cgroup_attach_pidfd(zk_get_sqe(&ring), dfd, pidfd);
	if (zk_submit_and_wait(&ring, 1) != 1 || zk_wait_cqe(&ring, &cqe))
		return 14;
	res = cqe->res;
	zk_cqe_seen(&ring, cqe);
	zt_proc_cgroup(b, cg, sizeof(cg));
	if (res != -ESRCH || !cg[0] || !strcmp(cg, dir + strlen(ZT_CG_ROOT))) {
		kill(b, SIGKILL);
		return 15;
	}
	/* The number itself is B's now. */
	zk_prep_cgroup_attach(zk_get_sqe(&ring), dfd, b);
	if (zk_submit_and_wait(&ring, 1) != 1 || zk_wait_cqe(&ring, &cqe))
		return 16;
	res = cqe->res;
	zt_proc_cgroup(b, cg, sizeof(cg));
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	zk_ring_exit(&ring);
	return res == 0 && !strcmp(cg, dir + strlen(ZT_CG_ROOT)) ? 0 : 17;
}

TEST_F(cg, attach_pidfd_never_moves_the_process_that_reused_the_number)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, unshare(CLONE_NEWPID)) TH_LOG("unshare(CLONE_NEWPID): %s", strerror(errno));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(reuse_in_pidns(self->path, self->dfd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d failed (9: procfs, 11: clone3 set_tid, 12: number not reused, 15: B moved by A's pidfd, 17: B not moved by its number)",
		       WEXITSTATUS(status));
}

/* ---- FREEZE, THAW, KILL --------------------------------------------------- */

#define NR_BUSY		50
#define NR_KILL		100

/* Generous: 50 spinning processes on 2 emulated CPUs, KASAN on the debug kernel. */
TEST_F_TIMEOUT(cg, freeze_50_busy_processes_completes_when_frozen, 300)
{
	pid_t pids[NR_BUSY];
	int i, state, gate[2];

	/* All in place first, then all spinning: spawning stays fast. */
	ASSERT_EQ(0, pipe2(gate, O_CLOEXEC));
	for (i = 0; i < NR_BUSY; i++)
		pids[i] = zt_spawn_gated(_metadata, self->path, ZT_CHILD_BUSY, gate[0]);
	close(gate[0]);
	close(gate[1]);
	ASSERT_EQ(NR_BUSY, zt_cg_nprocs(self->path));
	ASSERT_EQ(ZT_POP, zt_cg_state(self->path));

	zk_prep_cgroup_freeze(zt_sqe(_metadata, &self->ring), self->dfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	state = zt_cg_state(self->path);
	EXPECT_EQ(ZT_POP | ZT_FRZ, state)
		TH_LOG("cgroup.events when the FREEZE CQE arrived: %#x", state);

	zk_prep_cgroup_thaw(zt_sqe(_metadata, &self->ring), self->dfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	state = zt_cg_state(self->path);
	EXPECT_EQ(ZT_POP, state)
		TH_LOG("cgroup.events when the THAW CQE arrived: %#x", state);
	for (i = 0; i < NR_BUSY; i++)
		zt_kill_reap(pids[i]);
}

TEST_F_TIMEOUT(cg, kill_100_processes_completes_when_empty, 300)
{
	pid_t pids[NR_KILL];
	int i, state, status;

	for (i = 0; i < NR_KILL; i++)
		pids[i] = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
	ASSERT_EQ(NR_KILL, zt_cg_nprocs(self->path));

	zk_prep_cgroup_kill(zt_sqe(_metadata, &self->ring), self->dfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	state = zt_cg_state(self->path);
	EXPECT_EQ(0, state) TH_LOG("cgroup.events when the KILL CQE arrived: %#x", state);
	for (i = 0; i < NR_KILL; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
}

/* A thread that submits CGROUP_KILL, says so, then blocks in read(2). */
struct blocked_submitter {
	struct zk_ring *ring;
	int dfd;
	int submitted;		/* eventfd: the submission returned */
	int gate[2];		/* a pipe the thread blocks on until released */
	int ret;		/* zk_submit()'s result */
};

static void *submit_kill_then_block(void *arg)
{
	struct blocked_submitter *b = arg;
	struct zsync_sqe *sqe = zk_get_sqe(b->ring);
	char c;

	b->ret = -EBUSY;
	if (sqe) {
		zk_prep_cgroup_kill(sqe, b->dfd);
		b->ret = zk_submit(b->ring);
	}
	if (eventfd_write(b->submitted, 1) == 0)
		(void)!read(b->gate[0], &c, 1);
	return NULL;
}

/*
 * The cgroup ops run in their submitting thread, but their end must not
 * wait for it: the submitter here blocks outside the ring (as a runtime's
 * thread blocks in its own event loop) while another thread waits for the
 * CQE.  The KILL's processes die after its write, so it waits on
 * cgroup.events, and the wakeup that reports the cgroup empty ends it.
 */
TEST_F_TIMEOUT(cg, kill_ends_while_its_submitter_blocks_outside_the_ring, 120)
{
	struct blocked_submitter b = { .ring = &self->ring, .dfd = self->dfd };
	pid_t pids[NR_BUSY];
	struct zsync_cqe c;
	int i, status;
	eventfd_t v;
	pthread_t t;

	for (i = 0; i < NR_BUSY; i++)
		pids[i] = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
	ASSERT_EQ(NR_BUSY, zt_cg_nprocs(self->path));
	b.submitted = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, b.submitted);
	ASSERT_EQ(0, pipe2(b.gate, O_CLOEXEC));
	ASSERT_EQ(0, pthread_create(&t, NULL, submit_kill_then_block, &b));
	ASSERT_EQ(0, eventfd_read(b.submitted, &v));
	ASSERT_EQ(1, b.ret) TH_LOG("zk_submit: %s", zt_err(b.ret));

	/* This thread's ENTERs run its own deferred work, not the submitter's. */
	zt_reap(_metadata, &self->ring, &c, 1, 30000);
	EXPECT_EQ(0, c.res) TH_LOG("KILL: %s", zt_err(c.res));
	EXPECT_EQ(0, zt_cg_state(self->path));

	ASSERT_EQ(1, write(b.gate[1], "x", 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	close(b.gate[0]);
	close(b.gate[1]);
	close(b.submitted);
	for (i = 0; i < NR_BUSY; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
}

TEST_F(cg, ops_on_states_already_reached_complete_at_once)
{
	/* Empty and thawed: THAW and KILL have nothing to wait for. */
	zk_prep_cgroup_thaw(zt_sqe(_metadata, &self->ring), self->dfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_kill(zt_sqe(_metadata, &self->ring), self->dfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	/* An empty cgroup freezes at once. */
	zk_prep_cgroup_freeze(zt_sqe(_metadata, &self->ring), self->dfd);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	EXPECT_EQ(ZT_FRZ, zt_cg_state(self->path));
}

/*
 * A child of a frozen cgroup stays frozen whatever its own cgroup.freeze
 * says, so its THAW waits until cancelled or timed out.
 */
static int make_frozen_child(struct __test_metadata *_metadata, const char *path,
			     char *child, size_t sz)
{
	int cfd;

	zt_path(child, sz, "%s/child", path);
	ASSERT_EQ(0, mkdir(child, 0755));
	cfd = open(child, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, zt_cg_write(path, "cgroup.freeze", "1"));
	ASSERT_TRUE(zt_cg_wait_state(child, ZSYNC_CGROUP_FROZEN, ZSYNC_CGROUP_FROZEN,
				     ZT_CG_SETTLE_MS));
	return cfd;
}

TEST_F(cg, thaw_under_a_frozen_parent_ends_with_its_link_timeout)
{
	char child[300];
	struct zsync_cqe c[2];
	int cfd = make_frozen_child(_metadata, self->path, child, sizeof(child));

	struct zsync_sqe *sqe = zt_linked(zt_sqe(_metadata, &self->ring));

	zk_prep_cgroup_thaw(sqe, cfd);
	zk_sqe_set_data64(sqe, 1);
	zt_link_timeout(_metadata, &self->ring, 2, 100, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_CG_SETTLE_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 2, -ETIME);
	/* The write itself took effect; only the wait was cut short. */
	zt_expect_cg_file(_metadata, child, "cgroup.freeze", "0\n");
	close(cfd);
}

TEST_F(cg, waiting_ops_are_cancelled_by_user_data_and_by_fd)
{
	char child[300];
	struct zsync_cqe c[4];
	struct zsync_sqe *sqe;
	int cfd = make_frozen_child(_metadata, self->path, child, sizeof(child));

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_thaw(sqe, cfd);
	zk_sqe_set_data64(sqe, 1);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_wait(sqe, cfd, ZSYNC_CGROUP_POPULATED);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(2u, c[0].user_data);
	EXPECT_EQ(ZT_FRZ, c[0].res);
	EXPECT_EQ((__u32)ZSYNC_CQE_F_MORE, c[0].flags);
	zt_expect_no_cqe(_metadata, &self->ring, 100);

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel(sqe, 1, 0);
	zk_sqe_set_data64(sqe, 3);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel_fd(sqe, cfd, ZSYNC_CANCEL_ALL);
	zk_sqe_set_data64(sqe, 4);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 4, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 4, 1, -ECANCELED);
	zt_check_has(_metadata, c, 4, 3, 1);
	zt_check_has(_metadata, c, 4, 2, -ECANCELED);
	zt_check_has(_metadata, c, 4, 4, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	close(cfd);
}

TEST_F(cg, closing_the_ring_ends_waiting_ops)
{
	char child[300];
	struct zk_ring r;
	int cfd = make_frozen_child(_metadata, self->path, child, sizeof(child));

	zt_ring(_metadata, &r, 8, 0);
	zk_prep_cgroup_thaw(zt_sqe(_metadata, &r), cfd);
	zk_prep_cgroup_wait(zt_sqe(_metadata, &r), cfd, ZSYNC_CGROUP_STATE_ALL);
	zk_prep_cgroup_freeze(zt_sqe(_metadata, &r), self->dfd);
	zt_submit(_metadata, &r, 3);
	zk_ring_exit(&r);
	close(cfd);
}

/* ---- CGROUP_WAIT ---------------------------------------------------------- */

static void expect_state_cqe(struct __test_metadata *_metadata, struct zk_ring *ring,
			     int state)
{
	struct zsync_cqe c;

	zt_reap(_metadata, ring, &c, 1, ZT_CG_SETTLE_MS);
	EXPECT_EQ(7u, c.user_data);
	EXPECT_EQ(state, c.res) TH_LOG("CGROUP_WAIT: expected state %#x, got %#x", state, c.res);
	EXPECT_EQ((__u32)ZSYNC_CQE_F_MORE, c.flags);
}

TEST_F(cg, wait_reports_every_transition)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);
	struct zsync_cqe c;
	pid_t pid;

	zk_prep_cgroup_wait(sqe, self->dfd, ZSYNC_CGROUP_STATE_ALL);
	zk_sqe_set_data64(sqe, 7);
	zt_submit(_metadata, &self->ring, 1);
	expect_state_cqe(_metadata, &self->ring, 0);

	pid = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
	expect_state_cqe(_metadata, &self->ring, ZT_POP);
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "1"));
	expect_state_cqe(_metadata, &self->ring, ZT_POP | ZT_FRZ);
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "0"));
	expect_state_cqe(_metadata, &self->ring, ZT_POP);
	zt_kill_reap(pid);
	expect_state_cqe(_metadata, &self->ring, 0);
	zt_expect_no_cqe(_metadata, &self->ring, 50);

	zk_prep_cancel(zt_sqe(_metadata, &self->ring), 7, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, 7, -ECANCELED);
}

TEST_F(cg, wait_ignores_bits_it_does_not_watch)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);
	pid_t pid;

	zk_prep_cgroup_wait(sqe, self->dfd, ZSYNC_CGROUP_FROZEN);
	zk_sqe_set_data64(sqe, 7);
	zt_submit(_metadata, &self->ring, 1);
	expect_state_cqe(_metadata, &self->ring, 0);
	pid = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
	zt_expect_no_cqe(_metadata, &self->ring, 200);
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "1"));
	expect_state_cqe(_metadata, &self->ring, ZT_POP | ZT_FRZ);
	zt_kill_reap(pid);
}

TEST_F(cg, wait_rejects_bad_masks)
{
	zk_prep_cgroup_wait(zt_sqe(_metadata, &self->ring), self->dfd, 0);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	zk_prep_cgroup_wait(zt_sqe(_metadata, &self->ring), self->dfd, 4);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
}

/* ---- ZSYNC_CGROUP_FILES: the caller's open files -------------------------- */

/* @name in the cgroup @dfd, opened with @flags; the test fails if it cannot be. */
static int cg_open(struct __test_metadata *_metadata, int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, flags | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open %s: %s", name, strerror(errno));
	return fd;
}

/* The result of @op (FREEZE, THAW, KILL) on @events and @knob. */
static int cg_op_files(struct __test_metadata *_metadata, struct zk_ring *ring, int op,
		       int events, int knob)
{
	zk_prep_cgroup_op_files(zt_sqe(_metadata, ring), op, events, knob);
	return zt_one(_metadata, ring);
}

TEST_F(cg, files_freeze_thaw_and_kill_through_the_callers_files)
{
	int events = cg_open(_metadata, self->dfd, "cgroup.events", O_RDONLY);
	int freeze = cg_open(_metadata, self->dfd, "cgroup.freeze", O_WRONLY);
	int kill_fd = cg_open(_metadata, self->dfd, "cgroup.kill", O_WRONLY);
	pid_t pids[4];
	int i, status;

	for (i = 0; i < 4; i++)
		pids[i] = zt_spawn(_metadata, self->path, ZT_CHILD_PAUSE);
	EXPECT_EQ(0, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, events, freeze));
	EXPECT_EQ(ZT_POP | ZT_FRZ, zt_cg_state(self->path));
	EXPECT_EQ(0, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_THAW, events, freeze));
	EXPECT_EQ(ZT_POP, zt_cg_state(self->path));
	EXPECT_EQ(0, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_KILL, events, kill_fd));
	EXPECT_EQ(0, zt_cg_state(self->path));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	close(kill_fd);
	close(freeze);
	close(events);
}

TEST_F(cg, files_refuse_other_files_other_cgroups_and_wrong_modes)
{
	int events = cg_open(_metadata, self->dfd, "cgroup.events", O_RDONLY);
	int freeze = cg_open(_metadata, self->dfd, "cgroup.freeze", O_WRONLY);
	int freeze_ro = cg_open(_metadata, self->dfd, "cgroup.freeze", O_RDONLY);
	int kill_fd = cg_open(_metadata, self->dfd, "cgroup.kill", O_WRONLY);
	int procs = cg_open(_metadata, self->dfd, "cgroup.procs", O_RDONLY);
	int closed = dup(events);
	char child[300];
	int cfd, child_freeze;
	struct zsync_sqe *sqe;

	zt_path(child, sizeof(child), "%s/child", self->path);
	ASSERT_EQ(0, mkdir(child, 0755));
	cfd = open(child, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, cfd);
	child_freeze = cg_open(_metadata, cfd, "cgroup.freeze", O_WRONLY);
	close(closed);

	/* The other knob, the knob of another cgroup, not cgroup.events. */
	EXPECT_EQ(-EINVAL, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, events, kill_fd));
	EXPECT_EQ(-EINVAL, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_KILL, events, freeze));
	EXPECT_EQ(-EINVAL, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, events, child_freeze));
	EXPECT_EQ(-EINVAL, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, procs, freeze));
	EXPECT_EQ(-EINVAL, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, self->dfd, freeze));
	/* A knob not open for writing, or not open at all. */
	EXPECT_EQ(-EBADF, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, events, freeze_ro));
	EXPECT_EQ(-EBADF, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, events, closed));
	EXPECT_EQ(-EBADF, cg_op_files(_metadata, &self->ring, ZSYNC_OP_CGROUP_FREEZE, events, -1));
	/* An op_flags bit no op defines. */
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_op_files(sqe, ZSYNC_OP_CGROUP_FREEZE, events, freeze);
	sqe->op_flags |= 1U << 1;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cgroup_wait_files(sqe, procs, ZSYNC_CGROUP_FROZEN);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	/* None of them wrote anything. */
	EXPECT_EQ(0, zt_cg_state(self->path));
	EXPECT_EQ(0, zt_cg_state(child));

	close(child_freeze);
	close(cfd);
	ASSERT_EQ(0, rmdir(child));
	close(procs);
	close(kill_fd);
	close(freeze_ro);
	close(freeze);
	close(events);
}

TEST_F(cg, files_wait_reports_transitions_of_the_callers_cgroup_events)
{
	int events = cg_open(_metadata, self->dfd, "cgroup.events", O_RDONLY);
	struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);
	struct zsync_cqe c[2];

	zk_prep_cgroup_wait_files(sqe, events, ZSYNC_CGROUP_FROZEN);
	zk_sqe_set_data64(sqe, 7);
	zt_submit(_metadata, &self->ring, 1);
	expect_state_cqe(_metadata, &self->ring, 0);
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "1"));
	expect_state_cqe(_metadata, &self->ring, ZT_FRZ);
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "0"));
	expect_state_cqe(_metadata, &self->ring, 0);
	/* CANCEL_FD names the events fd, which the request holds. */
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_cancel_fd(sqe, events, 0);
	zk_sqe_set_data64(sqe, 8);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 7, -ECANCELED);
	zt_check_has(_metadata, c, 2, 8, 1);
	close(events);
}

/* ---- invalid fds, for every op -------------------------------------------- */

static void prep_any(struct zsync_sqe *sqe, int op, int fd)
{
	switch (op) {
	case ZSYNC_OP_CGROUP_ATTACH:
		zk_prep_cgroup_attach(sqe, fd, 0);
		break;
	case ZSYNC_OP_CGROUP_SET:
		zk_prep_cgroup_set_str(sqe, fd, "pids.max", "1");
		break;
	case ZSYNC_OP_CGROUP_WAIT:
		zk_prep_cgroup_wait(sqe, fd, ZSYNC_CGROUP_POPULATED);
		break;
	default:
		zk_prep_cgroup_op(sqe, op, fd);
	}
}

TEST_F(cg, every_op_refuses_what_is_not_a_cgroup_directory)
{
	int knob = openat(self->dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int closed = dup(tmp);
	unsigned int op;

	ASSERT_LE(0, knob);
	ASSERT_LE(0, tmp);
	close(closed);
	for (op = ZSYNC_OP_CGROUP_ATTACH; op <= ZSYNC_OP_CGROUP_WAIT; op++) {
		prep_any(zt_sqe(_metadata, &self->ring), op, tmp);
		EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring)) TH_LOG("op %u on /tmp", op);
		prep_any(zt_sqe(_metadata, &self->ring), op, knob);
		EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring)) TH_LOG("op %u on a knob", op);
		prep_any(zt_sqe(_metadata, &self->ring), op, closed);
		EXPECT_EQ(-EBADF, zt_one(_metadata, &self->ring)) TH_LOG("op %u on a closed fd", op);
		prep_any(zt_sqe(_metadata, &self->ring), op, -1);
		EXPECT_EQ(-EBADF, zt_one(_metadata, &self->ring)) TH_LOG("op %u on fd -1", op);
	}
	close(knob);
	close(tmp);
}

TEST_F(cg, ops_without_arguments_refuse_stray_fields)
{
	unsigned int op;

	for (op = ZSYNC_OP_CGROUP_FREEZE; op <= ZSYNC_OP_CGROUP_KILL; op++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);

		zk_prep_cgroup_op(sqe, op, self->dfd);
		sqe->len = 1;
		EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring)) TH_LOG("op %u", op);
	}
	EXPECT_EQ(0, zt_cg_state(self->path));
}

/* ---- disable_families ----------------------------------------------------- */

#define DISABLE_PARAM	"/sys/module/zsync/parameters/disable_families"

static int write_param(const char *val)
{
	return zt_cg_write("/sys/module/zsync/parameters", "disable_families", val);
}

TEST_F(cg, disabled_family_completes_with_eopnotsupp)
{
	struct zsync_probe pr;
	struct zsync_stats st0, st1;
	char buf[64] = "";
	int fd;

	if (access(DISABLE_PARAM, W_OK))
		SKIP(return, "%s not writable", DISABLE_PARAM);
	ASSERT_EQ(0, zk_stats(&self->ring, &st0));
	ASSERT_EQ(0, write_param("cgroup,ns"));
	fd = open(DISABLE_PARAM, O_RDONLY | O_CLOEXEC);
	ASSERT_LT(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	EXPECT_STREQ("cgroup,ns\n", buf);

	EXPECT_EQ(-EOPNOTSUPP, cg_set(_metadata, &self->ring, self->dfd, "pids.max", "3"));
	zk_prep_ns_info(zt_sqe(_metadata, &self->ring), self->dfd, NULL);
	EXPECT_EQ(-EOPNOTSUPP, zt_one(_metadata, &self->ring));
	zt_nop(_metadata, &self->ring, 1);
	EXPECT_EQ(0, zt_one(_metadata, &self->ring));
	ASSERT_EQ(0, zk_probe(&self->ring, &pr));
	EXPECT_TRUE(zk_probe_has_op(&pr, ZSYNC_OP_CGROUP_SET));
	EXPECT_TRUE(zk_probe_op_disabled(&pr, ZSYNC_OP_CGROUP_SET));
	EXPECT_TRUE(zk_probe_op_disabled(&pr, ZSYNC_OP_NS_INFO));
	EXPECT_FALSE(zk_probe_op_disabled(&pr, ZSYNC_OP_NOP));
	ASSERT_EQ(0, zk_stats(&self->ring, &st1));
	EXPECT_LE(st0.ops_disabled + 2, st1.ops_disabled);

	/* core cannot be disabled, unknown names are refused: nothing changes. */
	EXPECT_EQ(-EINVAL, write_param("core"));
	EXPECT_EQ(-EINVAL, write_param("cgroup,bogus"));
	/* A write of "" never reaches the module; echo's newline clears. */
	ASSERT_EQ(0, write_param("\n"));
	EXPECT_EQ(1, cg_set(_metadata, &self->ring, self->dfd, "pids.max", "3"));
	ASSERT_EQ(0, zk_probe(&self->ring, &pr));
	EXPECT_FALSE(zk_probe_op_disabled(&pr, ZSYNC_OP_CGROUP_SET));
}

TEST_HARNESS_MAIN
