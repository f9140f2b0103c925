/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the cgroup and namespace selftests: scratch cgroups under
 * /sys/fs/cgroup, processes parked in them, pidfds, unprivileged children
 * and one-SQE round trips.  Include after helpers.h.
 */
#ifndef ZSYNC_SELFTEST_CGROUP_HELPERS_H
#define ZSYNC_SELFTEST_CGROUP_HELPERS_H

#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include "devaccess.h"

#define ZT_CG_ROOT	"/sys/fs/cgroup"

/* The ZSYNC_CGROUP_* state bits as int, for comparisons with CQE results. */
#define ZT_POP		((int)ZSYNC_CGROUP_POPULATED)
#define ZT_FRZ		((int)ZSYNC_CGROUP_FROZEN)
#define ZT_NOBODY	65534

/* Waits for processes to freeze, die or move: generous under TCG. */
#define ZT_CG_SETTLE_MS	20000

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif

static inline int zt_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*
 * fork() with the pid @tid in the caller's pid namespace (clone3's
 * set_tid: CAP_SYS_ADMIN over that namespace).  Forces pid reuse without
 * cycling through pid_max, and without ns_last_pid, which needs
 * CONFIG_CHECKPOINT_RESTORE.
 */
static inline pid_t zt_fork_tid(pid_t tid)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (__u64)(uintptr_t)&tid;
	args.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* Whether cgroup2 is mounted at ZT_CG_ROOT with the files the tests use. */
static inline bool zt_cg_available(void)
{
	struct statfs sfs;

	return statfs(ZT_CG_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC &&
	       access(ZT_CG_ROOT "/cgroup.subtree_control", F_OK) == 0;
}

#define ZT_REQUIRE_CGROUP2() do {					\
	if (!zt_cg_available())						\
		SKIP(return, "no cgroup2 at %s", ZT_CG_ROOT);		\
} while (0)

static inline void zt_path(char *buf, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void zt_path(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

/* Reads @dir/@file into @buf (NUL-terminated); returns bytes or -errno. */
static inline int zt_cg_read(const char *dir, const char *file, char *buf, size_t sz)
{
	char path[512];
	int fd, n;

	zt_path(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sz - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* echo -n @val > @dir/@file (any file, not only cgroupfs); 0 or -errno. */
static inline int zt_cg_write(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, ret = 0;

	zt_path(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Asserts that @dir/@file reads exactly @want. */
static inline void zt_expect_cg_file(struct __test_metadata *_metadata, const char *dir,
				     const char *file, const char *want)
{
	char buf[256];

	ASSERT_LT(0, zt_cg_read(dir, file, buf, sizeof(buf))) TH_LOG("%s/%s", dir, file);
	EXPECT_STREQ(want, buf) TH_LOG("%s/%s", dir, file);
}

/* The ZSYNC_CGROUP_* state in @dir/cgroup.events, or -errno. */
static inline int zt_cg_state(const char *dir)
{
	char buf[256];
	int populated = -1, frozen = -1, n;
	char *p;

	n = zt_cg_read(dir, "cgroup.events", buf, sizeof(buf));
	if (n < 0)
		return n;
	p = strstr(buf, "populated ");
	if (p)
		populated = atoi(p + 10);
	p = strstr(buf, "frozen ");
	if (p)
		frozen = atoi(p + 7);
	if (populated < 0 || frozen < 0)
		return -EIO;
	return (populated ? ZSYNC_CGROUP_POPULATED : 0) | (frozen ? ZSYNC_CGROUP_FROZEN : 0);
}

/* Number of lines (processes) in @dir/cgroup.procs, or -errno. */
static inline int zt_cg_nprocs(const char *dir)
{
	char buf[8192];
	int n = zt_cg_read(dir, "cgroup.procs", buf, sizeof(buf)), lines = 0;
	char *p;

	if (n < 0)
		return n;
	for (p = buf; *p; p++)
		lines += *p == '\n';
	return lines;
}

/* Polls until @dir's cgroup.events shows (state & @mask) == @want, or @ms pass. */
static inline bool zt_cg_wait_state(const char *dir, int mask, int want, int64_t ms)
{
	int64_t start = zt_mono_ns();
	int s;

	do {
		s = zt_cg_state(dir);
		if (s >= 0 && (s & mask) == want)
			return true;
		zt_sleep_ms(5);
	} while (zt_ms_since(start) < ms);
	return false;
}

/*
 * Empties and removes @dir and everything below it (depth first); quiet,
 * for teardown.  Processes are killed with cgroup.kill.
 */
static inline void zt_cg_destroy(const char *dir)
{
	struct dirent *de;
	char sub[512];
	DIR *d;

	zt_cg_write(dir, "cgroup.freeze", "0");
	if (zt_cg_write(dir, "cgroup.kill", "1") == 0)
		zt_cg_wait_state(dir, ZSYNC_CGROUP_POPULATED, 0, ZT_CG_SETTLE_MS);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			zt_path(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			zt_cg_destroy(sub);
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * Creates the scratch cgroup @path (removing a leftover first) and returns
 * a directory fd on it.
 */
static inline int zt_cg_make(struct __test_metadata *_metadata, const char *path)
{
	int fd;

	zt_cg_destroy(path);
	ASSERT_EQ(0, mkdir(path, 0755)) TH_LOG("mkdir %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	return fd;
}

/* The cgroup of @pid as /proc/PID/cgroup shows it ("/zt-x/y"), or "" */
static inline void zt_proc_cgroup(pid_t pid, char *buf, size_t sz)
{
	char path[64], line[512];
	size_t n;
	FILE *f;

	buf[0] = '\0';
	zt_path(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		n = strlen(line + 3);
		if (n >= sz)
			n = sz - 1;
		memcpy(buf, line + 3, n);
		buf[n] = '\0';
	}
	fclose(f);
}

enum zt_child_kind {
	ZT_CHILD_PAUSE,		/* sleeps in pause() */
	ZT_CHILD_BUSY,		/* spins on the CPU */
};

/*
 * Forks a child that runs @setup(@arg) (returning 0 on success), tells the
 * parent how that went, waits until the read end @gate (-1: none) reaches
 * EOF, then pauses or spins until killed.  It dies with the test process.
 * Returns its pid once @setup is done; *@ok says whether it succeeded
 * (the child parks either way: kill it).
 */
static inline pid_t zt_park(struct __test_metadata *_metadata, int (*setup)(void *),
			    void *arg, enum zt_child_kind kind, int gate, bool *ok)
{
	int p[2];
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		c = setup && setup(arg) ? 'E' : 'K';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		/* Wait for the gate (EOF when the parent closes it) before working. */
		while (gate >= 0 && read(gate, &c, 1) > 0)
			;
		if (kind == ZT_CHILD_BUSY)
			for (;;)
				__asm__ volatile("" ::: "memory");
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	*ok = c == 'K';
	return pid;
}

/* zt_park() setups: enter the cgroup @dir, or unshare the namespaces @flags. */
static inline int zt_setup_enter_cgroup(void *dir)
{
	return zt_cg_write(dir, "cgroup.procs", "0");
}

static inline int zt_setup_unshare(void *flags)
{
	return unshare((int)(uintptr_t)flags);
}

/* A child parked in the cgroup @dir (NULL: where we are), gated by @gate. */
static inline pid_t zt_spawn_gated(struct __test_metadata *_metadata, const char *dir,
				   enum zt_child_kind kind, int gate)
{
	bool ok;
	pid_t pid = zt_park(_metadata, dir ? zt_setup_enter_cgroup : NULL, (void *)dir,
			    kind, gate, &ok);

	ASSERT_TRUE(ok) TH_LOG("child %d could not enter %s", pid, dir ? dir : "-");
	return pid;
}

/* A child parked in new namespaces (CLONE_NEW* @flags). */
static inline pid_t zt_spawn_unshared(struct __test_metadata *_metadata, int flags)
{
	bool ok;
	pid_t pid = zt_park(_metadata, zt_setup_unshare, (void *)(uintptr_t)flags,
			    ZT_CHILD_PAUSE, -1, &ok);

	ASSERT_TRUE(ok) TH_LOG("child %d: unshare(%#x) failed", pid, flags);
	return pid;
}

static inline pid_t zt_spawn(struct __test_metadata *_metadata, const char *dir,
			     enum zt_child_kind kind)
{
	return zt_spawn_gated(_metadata, dir, kind, -1);
}

/* Kills and reaps @pid (quietly: it may already be gone). */
static inline void zt_kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Submits the one SQE prepared in @ring and reaps its CQE; returns res.
 * For ops that complete at submission or within ZT_CG_SETTLE_MS.
 */
static inline int zt_one(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	return zt_one_within(_metadata, ring, ZT_CG_SETTLE_MS);
}

/* Where and as whom zt_child() runs its function. */
struct zt_child_opts {
	const char	*cg;		/* enter this cgroup first (as root), or NULL */
	bool		cgroupns;	/* then unshare(CLONE_NEWCGROUP) */
	uid_t		uid;		/* then drop to this uid/gid, if not 0 */
};

/*
 * Runs @fn(@arg) in a child process set up as @o says; returns its exit
 * code (fn's return value; 200-202: the set-up failed).
 */
static inline int zt_child(struct __test_metadata *_metadata, const struct zt_child_opts *o,
			   int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (o->cg && zt_cg_write(o->cg, "cgroup.procs", "0"))
			_exit(201);
		if (o->cgroupns && unshare(CLONE_NEWCGROUP))
			_exit(202);
		if (o->uid && (zt_setgroups_dev() || setresgid(o->uid, o->uid, o->uid) ||
			       setresuid(o->uid, o->uid, o->uid)))
			_exit(200);
		_exit(fn(arg));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child: status %#x", status);
	return WEXITSTATUS(status);
}

/* A CQE result as a child's exit code: 0 for success, the errno for an error. */
static inline int zt_errcode(int res)
{
	return res < 0 ? -res : 0;
}

/*
 * In a child: a fresh ring, one SQE prepared by @prep(@sqe, @arg), its
 * result as a zt_errcode(); 250-252 if the ring itself failed.
 */
static inline int zt_child_one(void (*prep)(struct zsync_sqe *, void *), void *arg)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	int res;

	if (zk_ring_init(4, &ring, 0))
		return 250;
	prep(zk_get_sqe(&ring), arg);
	if (zk_submit_and_wait(&ring, 1) != 1)
		return 251;
	if (zk_wait_cqe(&ring, &cqe))
		return 252;
	res = cqe->res;
	zk_ring_exit(&ring);
	return zt_errcode(res);
}

#endif /* ZSYNC_SELFTEST_CGROUP_HELPERS_H */
