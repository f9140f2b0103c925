// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup lifecycle API (zk_cg_*, lib/cglife.c): the same assertions
 * over every path a runtime can end up on.
 *   ring       zsync backend, the cgroup family on the ring
 *   no_ring    zsync backend, ZK_CG_NO_RING: plain syscalls and poll
 *   disabled   zsync backend, families cgroup,ns switched off in the
 *              module: the probe sends every call to the syscalls
 *   blocking   blocking backend (what a host without the module gets)
 *   io_uring   io_uring backend
 * Each test checks the outcome in the cgroup's own files and the path the
 * call reports.  Built twice: here for the VM, and natively (lib/lib.mk,
 * make native-test) where the zsync variants skip.  Everything lives
 * below one scratch cgroup per test, removed in the teardown.
 */
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "helpers.h"
#include "cgroup-helpers.h"
#include "zsync-k-io.h"

#define NS_MS		ZT_NSEC_PER_MSEC
#define SETTLE_NS	((int64_t)ZT_CG_SETTLE_MS * NS_MS)
#define FAMILIES	"/sys/module/zsync/parameters/disable_families"
#define BUSY_KIDS	8	/* children a 1 us freeze must not catch */

/* The cgroup2 mount: /sys/fs/cgroup, or the hybrid layout's unified/. */
static const char *cg2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sfs;
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (statfs(roots[i], &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

/* A line in the kernel log: scan-splats.sh reads the OOM window markers. */
static void kmsg_mark(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0)
		(void)0;	/* no kernel log: nothing to mark */
	close(fd);
}

FIXTURE(cglife) {
	struct zk_io *io;
	char base[256];		/* the scratch parent */
	int bfd;
	bool limits;		/* memory and pids can be enabled below base */
	unsigned int flags;	/* for every zk_cg of the test */
	bool oom_marked;	/* the OOM window is open in the kernel log */
};

FIXTURE_VARIANT(cglife) {
	enum zk_backend backend;
	unsigned int flags;
	bool disable_family;
	enum zk_cg_path path;	/* what every call must report */
};

FIXTURE_VARIANT_ADD(cglife, ring) {
	.backend = ZK_BACKEND_ZSYNC, .path = ZK_CG_PATH_RING,
};
FIXTURE_VARIANT_ADD(cglife, no_ring) {
	.backend = ZK_BACKEND_ZSYNC, .flags = ZK_CG_NO_RING, .path = ZK_CG_PATH_FALLBACK,
};
FIXTURE_VARIANT_ADD(cglife, disabled) {
	.backend = ZK_BACKEND_ZSYNC, .disable_family = true, .path = ZK_CG_PATH_FALLBACK,
};
FIXTURE_VARIANT_ADD(cglife, blocking) {
	.backend = ZK_BACKEND_BLOCKING, .path = ZK_CG_PATH_FALLBACK,
};
FIXTURE_VARIANT_ADD(cglife, io_uring) {
	.backend = ZK_BACKEND_IO_URING, .path = ZK_CG_PATH_FALLBACK,
};

FIXTURE_SETUP(cglife)
{
	struct zk_io_opts o = { .backend = variant->backend };
	const char *root = cg2_root();
	char ctl[256];
	int ret;

	self->io = NULL;
	self->bfd = -1;
	self->oom_marked = false;
	if (!root)
		SKIP(zt_skip_exit(), "no cgroup2 mount");
	if (geteuid() != 0)
		SKIP(zt_skip_exit(), "needs root (it creates cgroups)");
	if (variant->backend == ZK_BACKEND_ZSYNC && !zt_dev_present())
		SKIP(zt_skip_exit(), "%s missing: zsync module not loaded", zt_dev_path());
	if (variant->disable_family &&
	    zt_cg_write("/sys/module/zsync/parameters", "disable_families", "cgroup,ns"))
		SKIP(zt_skip_exit(), "cannot write %s", FAMILIES);
	ret = zk_io_init(&self->io, &o);
	if (ret && variant->backend == ZK_BACKEND_IO_URING)
		SKIP(zt_skip_exit(), "no io_uring here: %d", ret);
	ASSERT_EQ(0, ret);
	self->flags = variant->flags;
	zt_path(self->base, sizeof(self->base), "%s/zt-cglife-%d", root, getpid());
	/* Best effort: the tests that need the controllers check for them. */
	zt_cg_write(root, "cgroup.subtree_control", "+memory +pids");
	self->bfd = zt_cg_make(_metadata, self->base);
	self->limits = zt_cg_read(self->base, "cgroup.controllers", ctl, sizeof(ctl)) > 0 &&
		       strstr(ctl, "memory") && strstr(ctl, "pids");
}

FIXTURE_TEARDOWN(cglife)
{
	if (self->oom_marked)
		kmsg_mark("zsync-test: oom done");
	if (self->bfd >= 0) {
		zt_cg_destroy(self->base);
		close(self->bfd);
	}
	zk_io_exit(self->io);
	if (variant->disable_family)
		zt_cg_write("/sys/module/zsync/parameters", "disable_families", "\n");
}

/* The state letter of @pid in /proc/PID/stat ('R', 'S', ...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	zt_path(path, sizeof(path), "/proc/%d", pid);
	if (zt_cg_read(path, "stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Polls until @pid's state letter is @want, or ZT_CG_SETTLE_MS pass. */
static bool wait_proc_state(pid_t pid, char want)
{
	int64_t start = zt_mono_ns();

	do {
		if (proc_state(pid) == want)
			return true;
		zt_sleep_ms(5);
	} while (zt_ms_since(start) < ZT_CG_SETTLE_MS);
	return false;
}

/* Whether @dir/cgroup.procs lists @pid. */
static bool has_proc(const char *dir, pid_t pid)
{
	char buf[8192], num[24], *p;

	if (zt_cg_read(dir, "cgroup.procs", buf, sizeof(buf)) < 0)
		return false;
	zt_path(num, sizeof(num), "%d", pid);
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (!strcmp(p, num))
			return true;
	return false;
}

/* The path of the cgroup @name below the scratch parent. */
#define CG_DIR(buf, name) zt_path(buf, sizeof(buf), "%s/%s", self->base, name)

/* Every call on @cg so far took the variant's path. */
#define EXPECT_PATH(cg) do {							\
	EXPECT_EQ(variant->path, (cg).last_path);				\
	EXPECT_EQ(0U, variant->path == ZK_CG_PATH_RING ?			\
		  (cg).fallback_calls : (cg).ring_calls);			\
} while (0)

/* A plain cgroup @name below the scratch parent, with a child in it. */
static pid_t box_with_child(struct __test_metadata *_metadata, FIXTURE_DATA(cglife) *self,
			    struct zk_cg *cg, const char *name, enum zt_child_kind kind)
{
	pid_t pid;

	ASSERT_EQ(0, zk_cg_create(self->io, cg, self->bfd, name, NULL, NULL, 0,
				  self->flags));
	pid = zt_spawn(_metadata, NULL, kind);
	EXPECT_EQ(0, zk_cg_attach(self->io, cg, pid));
	return pid;
}

TEST_F(cglife, create_with_limits)
{
	static const struct zk_cg_knob knobs[] = {
		{ "memory.max", "67108864" },
		{ "pids.max", "32" },
		{ "memory.high", "50331648" },
	};
	static const struct zk_cg_knob bad[] = { { "pids.max", "lots" } };
	struct zk_cg cg, other;
	char dir[512];

	if (!self->limits)
		SKIP(return, "memory and pids controllers not available below %s", self->base);
	ASSERT_EQ(0, zk_cg_create(self->io, &cg, self->bfd, "box", "memory pids",
				  knobs, 3, self->flags));
	EXPECT_PATH(cg);
	CG_DIR(dir, "box");
	zt_expect_cg_file(_metadata, dir, "memory.max", "67108864\n");
	zt_expect_cg_file(_metadata, dir, "pids.max", "32\n");
	zt_expect_cg_file(_metadata, dir, "memory.high", "50331648\n");
	/* A bad value: the write's own errno, on every path; nothing left behind. */
	EXPECT_EQ(-EINVAL, zk_cg_create(self->io, &other, self->bfd, "bad", "pids",
					bad, 1, self->flags));
	CG_DIR(dir, "bad");
	EXPECT_NE(0, access(dir, F_OK));
	EXPECT_EQ(-EEXIST, zk_cg_create(self->io, &other, self->bfd, "box", NULL, NULL, 0,
					self->flags));
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
}

TEST_F(cglife, attach_freeze_thaw)
{
	struct zk_cg cg;
	char dir[512];
	pid_t pid, pid2;
	int pfd;

	pid = box_with_child(_metadata, self, &cg, "box", ZT_CHILD_BUSY);
	EXPECT_PATH(cg);
	CG_DIR(dir, "box");
	EXPECT_TRUE(has_proc(dir, pid));
	/* By pidfd too. */
	pid2 = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	pfd = zt_pidfd_open(pid2);
	ASSERT_LE(0, pfd);
	EXPECT_EQ(0, zk_cg_attach_pidfd(self->io, &cg, pfd));
	EXPECT_PATH(cg);
	EXPECT_TRUE(has_proc(dir, pid2));
	EXPECT_TRUE(wait_proc_state(pid, 'R'));

	EXPECT_EQ(0, zk_cg_freeze(self->io, &cg, SETTLE_NS));
	EXPECT_PATH(cg);
	/* Done means done: no polling here, the state must already be there. */
	EXPECT_EQ(ZT_POP | ZT_FRZ, zt_cg_state(dir));
	EXPECT_EQ('S', proc_state(pid));

	EXPECT_EQ(0, zk_cg_thaw(self->io, &cg, SETTLE_NS));
	EXPECT_PATH(cg);
	EXPECT_EQ(ZT_POP, zt_cg_state(dir));
	EXPECT_TRUE(wait_proc_state(pid, 'R'));

	/* An exited process: -ESRCH by pidfd, on every path. */
	zt_kill_reap(pid2);
	EXPECT_EQ(-ESRCH, zk_cg_attach_pidfd(self->io, &cg, pfd));
	close(pfd);
	zt_kill_reap(pid);
	zk_cg_close(&cg);
}

TEST_F(cglife, kill_and_remove)
{
	struct zk_cg cg;
	char dir[512];
	pid_t pids[3];
	int i, status;

	pids[0] = box_with_child(_metadata, self, &cg, "box", ZT_CHILD_BUSY);
	for (i = 1; i < 3; i++) {
		pids[i] = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
		EXPECT_EQ(0, zk_cg_attach(self->io, &cg, pids[i]));
	}
	CG_DIR(dir, "box");
	EXPECT_EQ(3, zt_cg_nprocs(dir));
	/* Still busy: remove gives up at its timeout and leaves it. */
	EXPECT_EQ(-ETIMEDOUT, zk_cg_remove(self->io, &cg, 50 * NS_MS));
	EXPECT_EQ(0, access(dir, F_OK));

	EXPECT_EQ(0, zk_cg_kill(self->io, &cg, SETTLE_NS));
	EXPECT_PATH(cg);
	EXPECT_EQ(0, zt_cg_state(dir) & ZT_POP);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
	EXPECT_PATH(cg);
	EXPECT_EQ(-1, cg.fd);
	EXPECT_NE(0, access(dir, F_OK));
}

/*
 * A helper process kills the cgroup's last task once this process is
 * asleep (state S) in zk_cg_remove()'s wait: the remove must wait for the
 * EBUSY to clear, not fail with it.
 */
TEST_F(cglife, remove_retries_busy)
{
	struct zk_cg cg;
	char dir[512];
	pid_t pid, helper, me = getpid();
	int go[2];
	char c;

	pid = box_with_child(_metadata, self, &cg, "box", ZT_CHILD_PAUSE);
	CG_DIR(dir, "box");
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	helper = fork();
	ASSERT_LE(0, helper);
	if (helper == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(wait_proc_state(me, 'S') && kill(pid, SIGKILL) == 0 ? 0 : 2);
	}
	close(go[0]);
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
	EXPECT_PATH(cg);
	EXPECT_NE(0, access(dir, F_OK));
	zt_kill_reap(pid);
	ASSERT_EQ(helper, waitpid(helper, NULL, 0));
}

/* Pins the caller to the first CPU it may run on; false if it cannot. */
static bool pin_to_one_cpu(void)
{
	cpu_set_t set, one;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return false;
	for (c = 0; c < CPU_SETSIZE && !CPU_ISSET(c, &set); c++)
		;
	CPU_ZERO(&one);
	CPU_SET(c, &one);
	return c < CPU_SETSIZE && sched_setaffinity(0, sizeof(one), &one) == 0;
}

static int set_policy(int policy)
{
	struct sched_param sp = { .sched_priority = policy == SCHED_FIFO ? 1 : 0 };

	return sched_setscheduler(0, policy, &sp);
}

/*
 * A freeze that cannot finish in time, deterministically: the children
 * share one CPU with this process, which is SCHED_FIFO during the call.
 * A child enters the freezer's trap only when it runs, and none can run
 * until the call sleeps; with a 1 us timeout it never does.  So the call
 * times out with nothing frozen, and must revert (cgroup.freeze 0).
 */
TEST_F(cglife, freeze_timeout_reverts)
{
	struct zk_cg cg;
	char dir[512];
	pid_t pids[BUSY_KIDS];
	int i, ret;

	if (!pin_to_one_cpu())
		SKIP(return, "cannot pin to one CPU");
	pids[0] = box_with_child(_metadata, self, &cg, "box", ZT_CHILD_BUSY);
	for (i = 1; i < BUSY_KIDS; i++) {
		pids[i] = zt_spawn(_metadata, NULL, i % 2 ? ZT_CHILD_PAUSE : ZT_CHILD_BUSY);
		EXPECT_EQ(0, zk_cg_attach(self->io, &cg, pids[i]));
	}
	CG_DIR(dir, "box");
	if (set_policy(SCHED_FIFO)) {
		zt_cg_destroy(dir);
		SKIP(return, "SCHED_FIFO refused: %s", strerror(errno));
	}
	ret = zk_cg_freeze(self->io, &cg, 1000);
	set_policy(SCHED_OTHER);
	EXPECT_EQ(-ETIMEDOUT, ret);
	EXPECT_PATH(cg);
	zt_expect_cg_file(_metadata, dir, "cgroup.freeze", "0\n");
	EXPECT_TRUE(zt_cg_wait_state(dir, ZT_FRZ, 0, ZT_CG_SETTLE_MS));
	EXPECT_TRUE(wait_proc_state(pids[0], 'R'));
	EXPECT_EQ(0, zk_cg_kill(self->io, &cg, SETTLE_NS));
	for (i = 0; i < BUSY_KIDS; i++)
		waitpid(pids[i], NULL, 0);
	zk_cg_close(&cg);
}

/* A thaw below a frozen parent waits for ever: -ETIMEDOUT, frozen again. */
TEST_F(cglife, thaw_timeout_reverts)
{
	struct zk_cg outer, inner;
	char dir[512];
	pid_t pid;

	ASSERT_EQ(0, zk_cg_create(self->io, &outer, self->bfd, "outer", NULL, NULL, 0,
				  self->flags));
	ASSERT_EQ(0, zk_cg_create(self->io, &inner, outer.fd, "inner", NULL, NULL, 0,
				  self->flags));
	pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	EXPECT_EQ(0, zk_cg_attach(self->io, &inner, pid));
	EXPECT_EQ(0, zk_cg_freeze(self->io, &inner, SETTLE_NS));
	EXPECT_EQ(0, zk_cg_freeze(self->io, &outer, SETTLE_NS));
	EXPECT_EQ(-ETIMEDOUT, zk_cg_thaw(self->io, &inner, 100 * NS_MS));
	EXPECT_PATH(inner);
	CG_DIR(dir, "outer/inner");
	zt_expect_cg_file(_metadata, dir, "cgroup.freeze", "1\n");
	EXPECT_EQ(0, zk_cg_thaw(self->io, &outer, SETTLE_NS));
	EXPECT_EQ(ZT_POP | ZT_FRZ, zt_cg_state(dir));
	EXPECT_EQ(0, zk_cg_kill(self->io, &inner, SETTLE_NS));
	zt_kill_reap(pid);
	EXPECT_EQ(0, zk_cg_remove(self->io, &inner, SETTLE_NS));
	EXPECT_EQ(0, zk_cg_remove(self->io, &outer, SETTLE_NS));
}

/* The next event of @w within the settle time; fails the test on none. */
static void next_event(struct __test_metadata *_metadata, FIXTURE_DATA(cglife) *self,
		       struct zk_cg_watch *w, struct zk_cg_event *ev)
{
	int ret = zk_cg_watch_next(self->io, w, ev, SETTLE_NS);

	ASSERT_EQ(0, ret) TH_LOG("watch_next: %s", strerror(-ret));
}

/* The stream: populated 0->1, frozen 0->1->0, populated 1->0, then dry. */
TEST_F(cglife, watch_populated_frozen)
{
	static const struct { enum zk_cg_event_kind kind; int value; } want[] = {
		{ ZK_CG_EV_POPULATED, 1 }, { ZK_CG_EV_FROZEN, 1 },
		{ ZK_CG_EV_FROZEN, 0 }, { ZK_CG_EV_POPULATED, 0 },
	};
	struct zk_cg cg;
	struct zk_cg_watch w;
	struct zk_cg_event ev;
	unsigned int i;
	pid_t pid;

	ASSERT_EQ(0, zk_cg_create(self->io, &cg, self->bfd, "box", NULL, NULL, 0,
				  self->flags));
	ASSERT_EQ(0, zk_cg_watch_init(self->io, &w, &cg));
	EXPECT_EQ(0, w.last[ZK_CG_EV_POPULATED]);
	EXPECT_EQ(0, w.last[ZK_CG_EV_FROZEN]);
	pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	for (i = 0; i < 4; i++) {
		if (i == 0)
			ASSERT_EQ(0, zk_cg_attach(self->io, &cg, pid));
		if (i == 1)
			ASSERT_EQ(0, zk_cg_freeze(self->io, &cg, SETTLE_NS));
		if (i == 2)
			ASSERT_EQ(0, zk_cg_thaw(self->io, &cg, SETTLE_NS));
		if (i == 3)
			ASSERT_EQ(0, zk_cg_kill(self->io, &cg, SETTLE_NS));
		next_event(_metadata, self, &w, &ev);
		EXPECT_EQ((int)want[i].kind, (int)ev.kind) TH_LOG("event %u", i);
		EXPECT_EQ(want[i].value, ev.value) TH_LOG("event %u", i);
		EXPECT_PATH(cg);
	}
	EXPECT_EQ(-ETIMEDOUT, zk_cg_watch_next(self->io, &w, &ev, 20 * NS_MS));
	zk_cg_watch_close(&w);
	zt_kill_reap(pid);
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
}

/* In the child: touch 64 MiB, far above memory.max, until the OOM killer comes. */
static void hog(int gate)
{
	size_t len = 64 << 20, i;
	char c, *p;

	while (read(gate, &c, 1) > 0)
		;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	for (;;)
		for (i = 0; i < len; i += 4096)
			p[i] = (char)i;
}

TEST_F(cglife, watch_oom_kill)
{
	static const struct zk_cg_knob knobs[] = { { "memory.max", "8388608" } };
	struct zk_cg cg;
	struct zk_cg_watch w;
	struct zk_cg_event ev;
	int gate[2], status, seen_kill = 0, seen_empty = 0, i;
	pid_t pid;

	if (!self->limits)
		SKIP(return, "memory controller not available below %s", self->base);
	ASSERT_EQ(0, zk_cg_create(self->io, &cg, self->bfd, "box", "memory", knobs, 1,
				  self->flags));
	{
		char dir[512];

		CG_DIR(dir, "box");
		zt_cg_write(dir, "memory.swap.max", "0");	/* absent without swap */
	}
	ASSERT_EQ(0, zk_cg_watch_init(self->io, &w, &cg));
	EXPECT_EQ(0, w.last[ZK_CG_EV_POPULATED]);
	EXPECT_EQ(0, w.last[ZK_CG_EV_OOM_KILL]);

	ASSERT_EQ(0, pipe2(gate, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(gate[1]);
		hog(gate[0]);
	}
	close(gate[0]);
	ASSERT_EQ(0, zk_cg_attach(self->io, &cg, pid));
	next_event(_metadata, self, &w, &ev);
	EXPECT_EQ((int)ZK_CG_EV_POPULATED, (int)ev.kind);
	EXPECT_EQ(1, ev.value);
	EXPECT_PATH(cg);
	kmsg_mark("zsync-test: oom expected");
	self->oom_marked = true;
	close(gate[1]);		/* the hog starts */

	for (i = 0; i < 16 && !(seen_kill && seen_empty); i++) {
		next_event(_metadata, self, &w, &ev);
		if (ev.kind == ZK_CG_EV_OOM_KILL)
			seen_kill = ev.value >= 1;
		if (ev.kind == ZK_CG_EV_POPULATED && ev.value == 0)
			seen_empty = 1;
	}
	EXPECT_TRUE(seen_kill);
	EXPECT_TRUE(seen_empty);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	kmsg_mark("zsync-test: oom done");
	self->oom_marked = false;
	/* Nothing else moves: the stream runs dry at its timeout. */
	EXPECT_EQ(-ETIMEDOUT, zk_cg_watch_next(self->io, &w, &ev, 20 * NS_MS));
	EXPECT_PATH(cg);
	zk_cg_watch_close(&w);
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
}

TEST_F(cglife, pidfd_exit_status)
{
	struct zk_cg cg;
	int pfd, status, gate[2];
	pid_t pid;

	memset(&cg, 0, sizeof(cg));
	cg.fd = cg.parent_fd = -1;
	cg.flags = self->flags;
	ASSERT_EQ(0, pipe2(gate, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;

		close(gate[1]);
		while (read(gate[0], &c, 1) > 0)
			;
		_exit(42);
	}
	close(gate[0]);
	pfd = zt_pidfd_open(pid);
	ASSERT_LE(0, pfd);
	/* Still running: the wait runs out. */
	EXPECT_EQ(-ETIMEDOUT, zk_cg_pidfd_wait(self->io, &cg, pfd, 20 * NS_MS));
	close(gate[1]);
	status = zk_cg_pidfd_wait(self->io, &cg, pfd, SETTLE_NS);
	EXPECT_PATH(cg);
	ASSERT_LE(0, status);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(42, WEXITSTATUS(status));
	/* Not reaped by the wait, on any path. */
	ASSERT_EQ(pid, waitpid(pid, &status, WNOHANG));
	EXPECT_EQ(42, WEXITSTATUS(status));
	close(pfd);

	/* A killed process: its signal. */
	pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	pfd = zt_pidfd_open(pid);
	ASSERT_LE(0, pfd);
	kill(pid, SIGKILL);
	status = zk_cg_pidfd_wait(self->io, &cg, pfd, SETTLE_NS);
	ASSERT_LE(0, status);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd);
}

static int attach_self_as_nobody(void *dir)
{
	struct zk_io_opts o = { .backend = ZK_BACKEND_AUTO };
	struct zk_io *io;
	struct zk_cg cg;
	int ret;

	if (zk_io_opts_from_env(&o) || zk_io_init(&io, &o))
		return 100;
	ret = zk_cg_open(io, &cg, AT_FDCWD, dir, (unsigned int)atoi(getenv("ZT_CG_FLAGS")));
	if (!ret)
		ret = zk_cg_attach(io, &cg, 0);
	zk_cg_close(&cg);
	zk_io_exit(io);
	return zt_errcode(ret);
}

/* A root-owned cgroup refuses nobody with the write's errno, on every path. */
TEST_F(cglife, denied_as_nobody)
{
	const struct zt_child_opts o = { .uid = ZT_NOBODY };
	struct zk_cg cg;
	char dir[512], flags[16];

	ASSERT_EQ(0, zk_cg_create(self->io, &cg, self->bfd, "box", NULL, NULL, 0,
				  self->flags));
	CG_DIR(dir, "box");
	zt_path(flags, sizeof(flags), "%u", self->flags);
	setenv("ZT_CG_FLAGS", flags, 1);
	setenv(ZK_ENV_BACKEND, zk_backend_name(variant->backend), 1);
	EXPECT_EQ(EACCES, zt_child(_metadata, &o, attach_self_as_nobody, dir));
	EXPECT_EQ(0, zt_cg_nprocs(dir));
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
}

/*
 * As nobody, in a subtree delegated to nobody (box and its cgroup.procs,
 * cgroup.subtree_control and cgroup.threads chowned): a child cgroup can
 * be created and frozen, box's own cgroup.freeze is root's (-EACCES), and
 * moving itself in needs the common ancestor's cgroup.procs (-EACCES).
 * Returns 0, or the number of the step that answered otherwise.
 */
static int delegated_as_nobody(void *dir)
{
	struct zk_io_opts o = { .backend = ZK_BACKEND_AUTO };
	unsigned int flags = (unsigned int)atoi(getenv("ZT_CG_FLAGS"));
	struct zk_cg box, sub;
	struct zk_io *io;
	int step = 0;

	if (zk_io_opts_from_env(&o) || zk_io_init(&io, &o))
		return 100;
	if (zk_cg_open(io, &box, AT_FDCWD, dir, flags))
		step = 1;
	else if (zk_cg_create(io, &sub, box.fd, "sub", NULL, NULL, 0, flags))
		step = 2;
	else if (zk_cg_freeze(io, &box, SETTLE_NS) != -EACCES)
		step = 3;
	else if (zk_cg_freeze(io, &sub, SETTLE_NS) != 0)
		step = 4;
	else if (zk_cg_attach(io, &sub, 0) != -EACCES)
		step = 5;
	else if (zk_cg_remove(io, &sub, SETTLE_NS) != 0)
		step = 6;
	zk_cg_close(&box);
	zk_io_exit(io);
	return step;
}

TEST_F(cglife, delegated_subtree_as_nobody)
{
	static const char *const delegated[] = {
		"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads",
	};
	const struct zt_child_opts o = { .uid = ZT_NOBODY };
	struct zk_cg cg;
	char dir[512], path[600], flags[16];
	unsigned int i;

	ASSERT_EQ(0, zk_cg_create(self->io, &cg, self->bfd, "box", NULL, NULL, 0,
				  self->flags));
	CG_DIR(dir, "box");
	for (i = 0; i < 4; i++) {
		zt_path(path, sizeof(path), "%s%s", dir, delegated[i]);
		ASSERT_EQ(0, chown(path, ZT_NOBODY, ZT_NOBODY)) TH_LOG("%s", path);
	}
	zt_path(flags, sizeof(flags), "%u", self->flags);
	setenv("ZT_CG_FLAGS", flags, 1);
	setenv(ZK_ENV_BACKEND, zk_backend_name(variant->backend), 1);
	EXPECT_EQ(0, zt_child(_metadata, &o, delegated_as_nobody, dir));
	CG_DIR(path, "box/sub");
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(0, zt_cg_nprocs(dir));
	EXPECT_EQ(0, zk_cg_remove(self->io, &cg, SETTLE_NS));
}

/* ---- from green threads: the waits park the task, not the thread ---- */

struct green_arg {
	struct zk_cg *cg;
	int64_t events;		/* watcher: events seen */
};

/* Watches until the cgroup is empty again; the number of events. */
static int64_t green_watcher(struct zk_io *io, void *p)
{
	struct green_arg *a = p;
	struct zk_cg_watch w;
	struct zk_cg_event ev;
	int ret = zk_cg_watch_init(io, &w, a->cg);

	while (!ret) {
		ret = zk_cg_watch_next(io, &w, &ev, SETTLE_NS);
		a->events += !ret;
		if (!ret && ev.kind == ZK_CG_EV_POPULATED && ev.value == 0)
			break;
	}
	zk_cg_watch_close(&w);
	return ret;
}

/* Lets the other tasks run until the watcher has seen @n events. */
static int seen(struct zk_io *io, const struct green_arg *a, int64_t n)
{
	int64_t start = zt_mono_ns();

	while (a->events < n && zt_ms_since(start) < ZT_CG_SETTLE_MS)
		zk_sleep(io, NS_MS);
	return a->events >= n ? 0 : -ETIMEDOUT;
}

/*
 * Freezes, thaws and kills while the watcher waits on the same thread,
 * each step once the watcher saw the last (a flip and its undo between
 * two reads of cgroup.events would be one non-event).
 */
static int64_t green_killer(struct zk_io *io, void *p)
{
	struct green_arg *a = p;
	int ret = zk_cg_freeze(io, a->cg, SETTLE_NS);

	if (!ret)
		ret = seen(io, a, 1);
	if (!ret)
		ret = zk_cg_thaw(io, a->cg, SETTLE_NS);
	if (!ret)
		ret = seen(io, a, 2);
	return ret ? ret : zk_cg_kill(io, a->cg, SETTLE_NS);
}

/* A thaw that cannot finish (the parent is frozen), waiting for ever. */
static int64_t green_thaw_forever(struct zk_io *io, void *p)
{
	return zk_cg_thaw(io, ((struct green_arg *)p)->cg, -1);
}

TEST_F(cglife, green_tasks_and_cancel)
{
	struct zk_io_opts o = { .backend = variant->backend, .executor = ZK_EXEC_GREEN };
	struct zk_cg cg, outer, inner;
	struct green_arg a = { .cg = &cg }, b = { .cg = &inner };
	struct zk_future *fw, *fk, *ft;
	struct zk_io *io;
	char dir[512], buf[16];
	int64_t start;
	pid_t pid, pid2;

	ASSERT_EQ(0, zk_io_init(&io, &o));
	ASSERT_EQ(0, zk_cg_create(io, &cg, self->bfd, "box", NULL, NULL, 0, self->flags));
	pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	ASSERT_EQ(0, zk_cg_attach(io, &cg, pid));
	fw = zk_async(io, green_watcher, &a);
	fk = zk_async(io, green_killer, &a);
	ASSERT_NE(NULL, fw);
	ASSERT_NE(NULL, fk);
	EXPECT_EQ(0, zk_await(io, fk));
	EXPECT_EQ(0, zk_await(io, fw));
	/* frozen 1, frozen 0, populated 0 (populated 1 was there at init) */
	EXPECT_EQ(3, a.events);
	EXPECT_PATH(cg);
	zk_future_free(io, fw);
	zk_future_free(io, fk);
	zt_kill_reap(pid);
	EXPECT_EQ(0, zk_cg_remove(io, &cg, SETTLE_NS));

	/* Cancelling a task in an endless thaw: -ECANCELED, frozen again. */
	ASSERT_EQ(0, zk_cg_create(io, &outer, self->bfd, "outer", NULL, NULL, 0, self->flags));
	ASSERT_EQ(0, zk_cg_create(io, &inner, outer.fd, "inner", NULL, NULL, 0, self->flags));
	pid2 = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	ASSERT_EQ(0, zk_cg_attach(io, &inner, pid2));
	ASSERT_EQ(0, zk_cg_freeze(io, &inner, SETTLE_NS));
	ASSERT_EQ(0, zk_cg_freeze(io, &outer, SETTLE_NS));
	ft = zk_async(io, green_thaw_forever, &b);
	ASSERT_NE(NULL, ft);
	CG_DIR(dir, "outer/inner");
	/* Wait (letting the task run) until its thaw has been written. */
	start = zt_mono_ns();
	while (zt_cg_read(dir, "cgroup.freeze", buf, sizeof(buf)) > 0 && buf[0] == '1' &&
	       zt_ms_since(start) < ZT_CG_SETTLE_MS)
		zk_sleep(io, NS_MS);
	EXPECT_EQ('0', buf[0]);
	EXPECT_FALSE(zk_future_done(ft));
	EXPECT_EQ(-ECANCELED, zk_cancel(io, ft));
	zt_expect_cg_file(_metadata, dir, "cgroup.freeze", "1\n");
	EXPECT_PATH(inner);
	zk_future_free(io, ft);
	EXPECT_EQ(0, zk_cg_thaw(io, &outer, SETTLE_NS));
	EXPECT_EQ(0, zk_cg_kill(io, &inner, SETTLE_NS));
	zt_kill_reap(pid2);
	EXPECT_EQ(0, zk_cg_remove(io, &inner, SETTLE_NS));
	EXPECT_EQ(0, zk_cg_remove(io, &outer, SETTLE_NS));
	zk_io_exit(io);
}

TEST_HARNESS_MAIN
