// SPDX-License-Identifier: GPL-2.0
/*
 * Every file op acts as the thread that submitted it (Documentation/internals.rst,
 * "Execution contexts and identity"):
 *
 *  - a chrooted process cannot OPENAT or STATX outside its root, through
 *    "..", absolute paths or symlinks, not even from a chain continuation;
 *  - a process in a new mount namespace sees its own mounts;
 *  - an fd closed and reused while a READ or WRITE is in flight does not
 *    make the op touch the new file;
 *  - an unprivileged user cannot open a root-only file, while an op on a
 *    file it opened before dropping privileges still works, in a worker;
 *  - a worker writing for an unprivileged user has that user's
 *    capabilities (the kernel drops a setgid bit for it, not for root);
 *  - a deferred OPENAT waits for its own thread (with its own cwd), not for
 *    whichever thread waits on the ring.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>

#include "files.h"

/* The first bytes of the file open as @fd, or "" if it is not one. */
static const char *fd_content(int fd, char *buf, size_t len)
{
	ssize_t n = fd >= 0 ? pread(fd, buf, len - 1, 0) : -1;

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int openat_res(struct __test_metadata *_metadata, struct zk_ring *ring, int dfd,
		      const char *path, int flags)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_openat(sqe, dfd, path, flags | O_CLOEXEC, 0);
	return zt_run(_metadata, ring, sqe, 1);
}

/* OPENAT @path as the chrooted child: it must read @want, or fail with -ENOENT. */
static void expect_jailed_open(struct __test_metadata *_metadata, struct zk_ring *ring,
			       const char *path, const char *want)
{
	char buf[32];
	int fd = openat_res(_metadata, ring, AT_FDCWD, path, O_RDONLY);

	if (!want) {
		ASSERT_EQ(-ENOENT, fd) TH_LOG("%s: expected -ENOENT in the jail, got %s (%s)",
					      path, zt_err(fd), fd_content(fd, buf, sizeof(buf)));
		return;
	}
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, zt_err(fd));
	ASSERT_STREQ(want, fd_content(fd, buf, sizeof(buf))) TH_LOG("%s escaped the jail", path);
	close(fd);
}

/*
 * base/secret ("host") is outside the jail base/jail, which holds a decoy
 * at the same absolute path (base/jail/base/secret, "jail"), a file
 * "inside", and symlinks "abs" -> base/secret and "rel" -> ../secret.
 */
TEST(chroot_cannot_escape)
{
	char base[64], jail[96], decoy_dir[192], path[256], abs_secret[128];
	struct stat host_st, decoy_st;
	pid_t pid;

	ZT_REQUIRE_DEV();
	zt_mkdtemp(_metadata, base, sizeof(base), "jail");
	snprintf(abs_secret, sizeof(abs_secret), "%s/secret", base);
	zt_write_file(_metadata, abs_secret, "host", 4, 0644);
	snprintf(jail, sizeof(jail), "%s/jail", base);
	snprintf(decoy_dir, sizeof(decoy_dir), "mkdir -p %s%s", jail, base);
	ASSERT_EQ(0, system(decoy_dir));
	snprintf(path, sizeof(path), "%s%s", jail, abs_secret);
	zt_write_file(_metadata, path, "jail", 4, 0644);
	ASSERT_EQ(0, stat(path, &decoy_st));
	ASSERT_EQ(0, stat(abs_secret, &host_st));
	snprintf(path, sizeof(path), "%s/inside", jail);
	zt_write_file(_metadata, path, "inside", 6, 0644);
	snprintf(path, sizeof(path), "%s/abs", jail);
	ASSERT_EQ(0, symlink(abs_secret, path));
	snprintf(path, sizeof(path), "%s/rel", jail);
	ASSERT_EQ(0, symlink("../secret", path));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char dotdot[256];
		struct zk_ring ring;
		struct zsync_sqe *sqe;
		struct zsync_cqe c[2];
		struct statx stx;
		char buf[32];

		/* The ring is opened outside; it follows the process in. */
		zt_ring(_metadata, &ring, 8, 0);
		ASSERT_EQ(0, chroot(jail));
		ASSERT_EQ(0, chdir("/"));
		expect_jailed_open(_metadata, &ring, "/inside", "inside");
		expect_jailed_open(_metadata, &ring, abs_secret, "jail");
		snprintf(dotdot, sizeof(dotdot), "../../../../..%s", abs_secret);
		expect_jailed_open(_metadata, &ring, dotdot, "jail");
		expect_jailed_open(_metadata, &ring, "abs", "jail");
		expect_jailed_open(_metadata, &ring, "rel", NULL);

		sqe = zt_sqe(_metadata, &ring);
		zk_prep_statx(sqe, AT_FDCWD, dotdot, 0, STATX_INO, &stx);
		ASSERT_EQ(0, zt_run(_metadata, &ring, sqe, 2));
		ASSERT_EQ(decoy_st.st_ino, stx.stx_ino) TH_LOG("STATX saw the host's file");
		ASSERT_NE(host_st.st_ino, stx.stx_ino);

		/* A chain continuation runs in this thread: jailed too. */
		zt_linked(zt_timeout(_metadata, &ring, 3, 10, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_openat(sqe, AT_FDCWD, abs_secret, O_RDONLY | O_CLOEXEC, 0);
		zk_sqe_set_data64(sqe, 4);
		zt_submit(_metadata, &ring, 2);
		zt_reap(_metadata, &ring, c, 2, ZT_SOON_MS);
		ASSERT_EQ(4u, c[1].user_data);
		ASSERT_STREQ("jail", fd_content(c[1].res, buf, sizeof(buf)));
		_exit(0);
	}
	zt_child_ok(_metadata, pid, 20000);
	snprintf(path, sizeof(path), "rm -rf %s", base);
	(void)!system(path);
}

/* The child's own mount (a tmpfs over base/mnt) is what its OPENATs see. */
TEST(mount_namespace_is_the_submitters)
{
	char base[64], mnt[96], path[160], buf[32];
	struct zk_ring ring;
	pid_t pid;
	int fd;

	ZT_REQUIRE_DEV();
	zt_mkdtemp(_metadata, base, sizeof(base), "mntns");
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	ASSERT_EQ(0, mkdir(mnt, 0755));
	snprintf(path, sizeof(path), "%s/under", mnt);
	zt_write_file(_metadata, path, "under", 5, 0644);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct zk_ring cring;

		zt_ring(_metadata, &cring, 8, 0);
		ASSERT_EQ(0, unshare(CLONE_NEWNS));
		ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		ASSERT_EQ(0, mount("tmpfs", mnt, "tmpfs", 0, NULL));
		snprintf(path, sizeof(path), "%s/m", mnt);
		zt_write_file(_metadata, path, "ns", 2, 0644);
		fd = openat_res(_metadata, &cring, AT_FDCWD, path, O_RDONLY);
		ASSERT_STREQ("ns", fd_content(fd, buf, sizeof(buf)));
		snprintf(path, sizeof(path), "%s/under", mnt);
		ASSERT_EQ(-ENOENT, openat_res(_metadata, &cring, AT_FDCWD, path, O_RDONLY))
			TH_LOG("the file under the child's mount is hidden from it");
		_exit(0);
	}
	zt_child_ok(_metadata, pid, 20000);

	/* The parent's namespace never had that mount. */
	zt_ring(_metadata, &ring, 8, 0);
	snprintf(path, sizeof(path), "%s/m", mnt);
	EXPECT_EQ(-ENOENT, openat_res(_metadata, &ring, AT_FDCWD, path, O_RDONLY));
	snprintf(path, sizeof(path), "%s/under", mnt);
	fd = openat_res(_metadata, &ring, AT_FDCWD, path, O_RDONLY);
	EXPECT_STREQ("under", fd_content(fd, buf, sizeof(buf)));
	close(fd);
	zk_ring_exit(&ring);
	snprintf(path, sizeof(path), "rm -rf %s", base);
	(void)!system(path);
}

/* A new file that takes over the fd number of an op's file. */
static int reuse_fd(struct __test_metadata *_metadata, int old)
{
	char path[] = "/tmp/zs-reuse-XXXXXX";
	int fd;

	close(old);
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	unlink(path);
	ASSERT_EQ(old, fd) TH_LOG("the new file did not get fd %d", old);
	return fd;
}

TEST(fd_closed_and_reused_under_an_op_is_not_touched)
{
	static char drain[1 << 17];
	char in[16] = {}, buf[16];
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int p[2], q[2], nf;
	struct stat st;

	zt_ring(_metadata, &ring, 8, 0);

	/* READ waiting on a pipe; its fd becomes a regular file. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_read(sqe, p[0], in, sizeof(in), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &ring, 1);
	nf = reuse_fd(_metadata, p[0]);
	ASSERT_EQ(3, pwrite(nf, "new", 3, 0));
	ASSERT_EQ(4, write(p[1], "pipe", 4));
	zt_expect(_metadata, &ring, 1, 4);
	EXPECT_EQ(0, memcmp(in, "pipe", 4)) TH_LOG("READ got \"%.4s\"", in);
	EXPECT_STREQ("new", fd_content(nf, buf, sizeof(buf)));
	close(nf);
	close(p[1]);

	/* WRITE waiting on a full pipe; its fd becomes a regular file. */
	zt_full_pipe(_metadata, q);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_write(sqe, q[1], "payload", 7, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &ring, 1);
	nf = reuse_fd(_metadata, q[1]);
	ASSERT_EQ(0, fcntl(q[0], F_SETFL, O_NONBLOCK));
	ASSERT_LT(0, read(q[0], drain, sizeof(drain)));
	zt_expect(_metadata, &ring, 2, 7);
	ASSERT_EQ(0, fstat(nf, &st));
	EXPECT_EQ(0, st.st_size) TH_LOG("the WRITE went to the file that took its fd");
	EXPECT_EQ(7, read(q[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "payload", 7));
	close(nf);
	close(q[0]);
	zk_ring_exit(&ring);
}

/*
 * Root's 0600 file: nobody cannot OPENAT (or STATX inside a 0700 directory)
 * it; a file opened before dropping privileges is still read, by a worker
 * too (chain continuation), and a procfs file by the submitting thread.
 */
TEST(unprivileged_user_gets_only_what_it_may)
{
	char dir[64], secret[96], priv[96];
	pid_t pid;

	ZT_REQUIRE_DEV();
	zt_mkdtemp(_metadata, dir, sizeof(dir), "priv");
	ASSERT_EQ(0, chmod(dir, 0755));
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	zt_write_file(_metadata, secret, "secret", 6, 0600);
	snprintf(priv, sizeof(priv), "%s/private", dir);
	ASSERT_EQ(0, mkdir(priv, 0700));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int pre = open(secret, O_RDONLY | O_CLOEXEC);
		int proc = open("/proc/version", O_RDONLY | O_CLOEXEC);
		char in[64] = {}, want[64] = {};
		struct zk_ring ring;
		struct zsync_sqe *sqe;
		struct zsync_cqe c[2];
		struct statx stx;

		ASSERT_LE(0, pre);
		ASSERT_LE(0, proc);
		ASSERT_LT(0, pread(proc, want, sizeof(want) - 1, 0));
		zt_ring(_metadata, &ring, 8, 0);
		zt_become_nobody(_metadata);

		ASSERT_EQ(-EACCES, openat_res(_metadata, &ring, AT_FDCWD, secret, O_RDONLY));
		ASSERT_EQ(-EACCES, openat_res(_metadata, &ring, AT_FDCWD, secret, O_WRONLY));
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_statx(sqe, AT_FDCWD, priv, 0, STATX_INO, &stx);
		ASSERT_EQ(0, zt_run(_metadata, &ring, sqe, 2)) TH_LOG("the directory itself is visible");
		{
			char inner[128];

			snprintf(inner, sizeof(inner), "%s/x", priv);
			sqe = zt_sqe(_metadata, &ring);
			zk_prep_statx(sqe, AT_FDCWD, inner, 0, STATX_INO, &stx);
			ASSERT_EQ(-EACCES, zt_run(_metadata, &ring, sqe, 3));
		}

		/* Opened while root: reading it needs no permission check. */
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_read(sqe, pre, in, sizeof(in), 0);
		ASSERT_EQ(6, zt_run(_metadata, &ring, sqe, 4));
		ASSERT_STREQ("secret", in);
		memset(in, 0, sizeof(in));
		zt_linked(zt_timeout(_metadata, &ring, 5, 10, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_read(sqe, pre, in, sizeof(in), 0);
		zk_sqe_set_data64(sqe, 6);
		zt_submit(_metadata, &ring, 2);
		zt_reap(_metadata, &ring, c, 2, ZT_SOON_MS);
		zt_check_cqe(_metadata, &c[1], 1, 6, 6);
		ASSERT_STREQ("secret", in);
		memset(in, 0, sizeof(in));
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_read(sqe, proc, in, sizeof(in) - 1, 0);
		ASSERT_EQ((int)strlen(want), zt_run(_metadata, &ring, sqe, 7));
		ASSERT_STREQ(want, in);
		_exit(0);
	}
	zt_child_ok(_metadata, pid, 20000);
	snprintf(secret, sizeof(secret), "rm -rf %s", dir);
	(void)!system(secret);
}

/*
 * A file owned by nobody, group root, mode 02775.  A write by a user that
 * is neither in group root nor has CAP_FSETID drops the setgid bit; a write
 * by root keeps it.  So a worker that wrote with its own (root) credentials
 * would leave it set.  @chained issues the WRITE from a chain continuation
 * (a kworker) instead of ENTER; tmpfs writes never complete inline anyway.
 */
static mode_t mode_after_write(struct __test_metadata *_metadata, bool as_nobody, bool chained)
{
	char path[] = "/tmp/zs-sgid-XXXXXX";
	int fd = mkstemp(path), status;
	struct stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, chown(path, 65534, 0));
	ASSERT_EQ(0, chmod(path, 02775));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct zk_ring ring;
		struct zsync_sqe *sqe;
		struct zsync_cqe c[2];
		int wfd;

		zt_ring(_metadata, &ring, 8, 0);
		if (as_nobody)
			zt_become_nobody(_metadata);
		wfd = open(path, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, wfd);
		if (chained)
			zt_linked(zt_timeout(_metadata, &ring, 1, 10, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
		sqe = zt_sqe(_metadata, &ring);
		zk_prep_write(sqe, wfd, "data", 4, 0);
		zk_sqe_set_data64(sqe, 2);
		zt_submit(_metadata, &ring, chained ? 2 : 1);
		zt_reap(_metadata, &ring, c, chained ? 2 : 1, ZT_SOON_MS);
		ASSERT_EQ(4, c[chained ? 1 : 0].res);
		_exit(0);
	}
	status = zt_wait_child(pid, 20000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, stat(path, &st));
	unlink(path);
	EXPECT_EQ(4, st.st_size);
	return st.st_mode & 07777;
}

TEST(worker_writes_with_the_submitters_capabilities)
{
	ZT_REQUIRE_DEV();
	EXPECT_EQ(02775u, mode_after_write(_metadata, false, false))
		TH_LOG("root (CAP_FSETID) keeps the setgid bit: the control case");
	EXPECT_EQ(0775u, mode_after_write(_metadata, true, false))
		TH_LOG("nobody's WRITE (a worker's, on tmpfs) must drop the setgid bit");
	EXPECT_EQ(02775u, mode_after_write(_metadata, false, true));
	EXPECT_EQ(0775u, mode_after_write(_metadata, true, true))
		TH_LOG("nobody's chained WRITE (issued by a kworker) must drop the setgid bit");
}

/*
 * Thread A (its own cwd, by unshare(CLONE_FS)) submits TIMEOUT -> OPENAT
 * "f".  The main thread waits on the ring: it sees the TIMEOUT's CQE but
 * must not run A's OPENAT; A's next ENTER does, in A's cwd.
 */
struct submitter {
	struct zk_ring *ring;
	const char *dir;
	pthread_barrier_t submitted, go;
	int ret;
};

static void *submitter_thread(void *arg)
{
	static struct zsync_timespec ts = { .tv_nsec = 10 * 1000000 };
	struct submitter *s = arg;
	struct zsync_sqe *sqe;

	s->ret = -1;
	if (unshare(CLONE_FS) || chdir(s->dir))
		goto out;
	sqe = zk_get_sqe(s->ring);
	zk_prep_timeout(sqe, &ts, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_sqe_set_data64(sqe, 1);
	sqe = zk_get_sqe(s->ring);
	zk_prep_openat(sqe, AT_FDCWD, "f", O_RDONLY | O_CLOEXEC, 0);
	zk_sqe_set_data64(sqe, 2);
	s->ret = zk_submit(s->ring);
out:
	pthread_barrier_wait(&s->submitted);
	pthread_barrier_wait(&s->go);
	/* Enter without submitting: runs this thread's deferred work. */
	zk_enter(s->ring, 0, 0, 0, NULL, NULL, NULL);
	return NULL;
}

TEST(deferred_openat_waits_for_its_own_thread)
{
	char a[64], b[64], path[160], buf[16];
	struct submitter s = {};
	struct zk_ring ring;
	struct zsync_cqe c;
	pthread_t t;
	char old[256];

	zt_ring(_metadata, &ring, 8, 0);
	zt_mkdtemp(_metadata, a, sizeof(a), "thr-a");
	zt_mkdtemp(_metadata, b, sizeof(b), "thr-b");
	snprintf(path, sizeof(path), "%s/f", a);
	zt_write_file(_metadata, path, "A", 1, 0644);
	snprintf(path, sizeof(path), "%s/f", b);
	zt_write_file(_metadata, path, "B", 1, 0644);
	ASSERT_NE(NULL, getcwd(old, sizeof(old)));
	ASSERT_EQ(0, chdir(b));

	s.ring = &ring;
	s.dir = a;
	pthread_barrier_init(&s.submitted, NULL, 2);
	pthread_barrier_init(&s.go, NULL, 2);
	ASSERT_EQ(0, pthread_create(&t, NULL, submitter_thread, &s));
	pthread_barrier_wait(&s.submitted);
	EXPECT_EQ(2, s.ret);
	zt_reap(_metadata, &ring, &c, 1, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c, 0, 1, -ETIME);
	zt_expect_no_cqe(_metadata, &ring, 200);	/* waiting here runs nothing of A's */
	pthread_barrier_wait(&s.go);
	zt_reap(_metadata, &ring, &c, 1, ZT_SOON_MS);
	EXPECT_EQ(2u, c.user_data);
	EXPECT_STREQ("A", fd_content(c.res, buf, sizeof(buf)))
		TH_LOG("the OPENAT ran with another thread's cwd");
	if (c.res >= 0)
		close(c.res);
	pthread_join(t, NULL);
	ASSERT_EQ(0, chdir(old));
	zk_ring_exit(&ring);
	snprintf(path, sizeof(path), "rm -rf %s %s", a, b);
	(void)!system(path);
}

TEST_HARNESS_MAIN
