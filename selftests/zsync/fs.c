// SPDX-License-Identifier: GPL-2.0
/*
 * OPENAT, CLOSE and STATX: flags and modes as openat2() checks them, the
 * new fd in the submitter's table (O_CLOEXEC, RLIMIT_NOFILE), the cwd, a
 * directory fd the path resolves beneath, statx(2)'s answers, CLOSE of
 * files in use and of rings, and every error.  Confinement (chroot, mount
 * namespaces, credentials) is in identity.c.
 */
#include <limits.h>
#include <sys/inotify.h>
#include <sys/resource.h>

#include "files.h"

FIXTURE(fs) {
	struct zk_ring ring;
	char dir[64];
	int dfd;
};

/* A fresh directory with a file "f" ("hello") and a symlink "l" -> "/f". */
FIXTURE_SETUP(fs)
{
	char path[128];

	zt_ring(_metadata, &self->ring, 16, 0);
	zt_mkdtemp(_metadata, self->dir, sizeof(self->dir), "fs");
	snprintf(path, sizeof(path), "%s/f", self->dir);
	zt_write_file(_metadata, path, "hello", 5, 0644);
	snprintf(path, sizeof(path), "%s/l", self->dir);
	ASSERT_EQ(0, symlink("/f", path));
	self->dfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dfd);
}

FIXTURE_TEARDOWN(fs)
{
	char cmd[128];

	close(self->dfd);
	zk_ring_exit(&self->ring);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	(void)!system(cmd);
}

static int openat_res(struct __test_metadata *_metadata, struct zk_ring *ring, int dfd,
		      const char *path, int flags, unsigned int mode)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_openat(sqe, dfd, path, flags, mode);
	return zt_run(_metadata, ring, sqe, 1);
}

static int close_res(struct __test_metadata *_metadata, struct zk_ring *ring, int fd)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_close(sqe, fd);
	return zt_run(_metadata, ring, sqe, 2);
}

static int statx_res(struct __test_metadata *_metadata, struct zk_ring *ring, int dfd,
		     const char *path, int flags, unsigned int mask, struct statx *stx)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_statx(sqe, dfd, path, flags, mask, stx);
	return zt_run(_metadata, ring, sqe, 3);
}

/* The first bytes of the file open as @fd. */
static void expect_content(struct __test_metadata *_metadata, int fd, const char *want)
{
	char buf[64] = {};

	ASSERT_LE(0, fd) TH_LOG("expected an fd, got %s", zt_err(fd));
	EXPECT_EQ((ssize_t)strlen(want), pread(fd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ(want, buf);
}

TEST_F(fs, openat_creates_with_mode_umask_and_cloexec)
{
	char path[128];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/new", self->dir);
	umask(022);
	fd = openat_res(_metadata, &self->ring, AT_FDCWD, path,
			O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0666);
	ASSERT_LE(0, fd) TH_LOG("OPENAT O_CREAT: %s", zt_err(fd));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0644u, st.st_mode & 07777) TH_LOG("mode %o: the submitter's umask applies",
						     st.st_mode & 07777);
	EXPECT_EQ(getuid(), st.st_uid);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(3, write(fd, "new", 3));
	EXPECT_EQ(0, close_res(_metadata, &self->ring, fd));
	EXPECT_EQ(-1, fcntl(fd, F_GETFD)) TH_LOG("CLOSE left the fd open");

	fd = openat_res(_metadata, &self->ring, AT_FDCWD, path, O_RDONLY, 0);
	expect_content(_metadata, fd, "new");
	EXPECT_EQ(0, fcntl(fd, F_GETFD)) TH_LOG("no O_CLOEXEC: no FD_CLOEXEC");
	close(fd);
	EXPECT_EQ(-EEXIST, openat_res(_metadata, &self->ring, AT_FDCWD, path,
				      O_CREAT | O_EXCL | O_RDWR, 0600));
}

TEST_F(fs, openat_relative_paths_use_the_cwd)
{
	char old[256];
	int fd;

	ASSERT_NE(NULL, getcwd(old, sizeof(old)));
	ASSERT_EQ(0, chdir(self->dir));
	fd = openat_res(_metadata, &self->ring, AT_FDCWD, "f", O_RDONLY | O_CLOEXEC, 0);
	expect_content(_metadata, fd, "hello");
	close(fd);
	ASSERT_EQ(0, chdir(old));
	EXPECT_EQ(-ENOENT, openat_res(_metadata, &self->ring, AT_FDCWD, "f", O_RDONLY, 0))
		TH_LOG("after chdir back, \"f\" is not there");
}

/* A directory fd is the root of the lookup: nothing above it is reachable. */
TEST_F(fs, openat_resolves_beneath_a_directory_fd)
{
	char outside[128], sub[128];
	int fd, pfd;

	/* A sibling of the directory, which ".." or "/" would reach if they could. */
	snprintf(outside, sizeof(outside), "%s-outside", self->dir);
	zt_write_file(_metadata, outside, "OUT", 3, 0644);
	snprintf(sub, sizeof(sub), "%s/sub", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0755));

	fd = openat_res(_metadata, &self->ring, self->dfd, "f", O_RDONLY | O_CLOEXEC, 0);
	expect_content(_metadata, fd, "hello");
	close(fd);
	fd = openat_res(_metadata, &self->ring, self->dfd, "/f", O_RDONLY | O_CLOEXEC, 0);
	expect_content(_metadata, fd, "hello");
	close(fd);
	fd = openat_res(_metadata, &self->ring, self->dfd, "sub/../../../f", O_RDONLY | O_CLOEXEC, 0);
	expect_content(_metadata, fd, "hello");
	close(fd);
	fd = openat_res(_metadata, &self->ring, self->dfd, "l", O_RDONLY | O_CLOEXEC, 0);
	expect_content(_metadata, fd, "hello");	/* "/f" beneath the directory */
	close(fd);
	EXPECT_EQ(-ENOENT, openat_res(_metadata, &self->ring, self->dfd,
				      strrchr(outside, '/'), O_RDONLY, 0));
	{
		char dotdot[160];

		snprintf(dotdot, sizeof(dotdot), "..%s", strrchr(outside, '/'));
		EXPECT_EQ(-ENOENT, openat_res(_metadata, &self->ring, self->dfd, dotdot,
					      O_RDONLY, 0)) TH_LOG("%s escaped", dotdot);
	}
	/* O_PATH directory fds work too, as for openat(2). */
	pfd = open(self->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, pfd);
	fd = openat_res(_metadata, &self->ring, pfd, "f", O_RDONLY | O_CLOEXEC, 0);
	expect_content(_metadata, fd, "hello");
	close(fd);
	close(pfd);
	unlink(outside);
}

TEST_F(fs, openat_tmpfile_and_opath)
{
	struct stat st;
	int fd;

	fd = openat_res(_metadata, &self->ring, self->dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd) TH_LOG("O_TMPFILE: %s", zt_err(fd));
	EXPECT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0u, st.st_nlink);
	close(fd);
	fd = openat_res(_metadata, &self->ring, self->dfd, "f", O_PATH | O_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_PATH, fcntl(fd, F_GETFL) & O_PATH);
	close(fd);
}

static void expect_refused(struct __test_metadata *_metadata, struct zk_ring *ring, int dfd,
			   int flags, unsigned int mode, const char *why)
{
	int res = openat_res(_metadata, ring, dfd, "f", flags, mode);

	EXPECT_EQ(-EINVAL, res) TH_LOG("%s: flags %#x mode %#o gave %s", why, flags, mode,
				       zt_err(res));
}

TEST_F(fs, openat_refuses_what_openat2_refuses)
{
	struct zk_ring *r = &self->ring;

	expect_refused(_metadata, r, self->dfd, O_RDONLY, 0644, "a mode without O_CREAT");
	expect_refused(_metadata, r, self->dfd, O_CREAT | O_RDWR, 010000, "mode beyond 07777");
	expect_refused(_metadata, r, self->dfd, O_RDONLY | (1 << 29), 0, "an unknown flag");
	expect_refused(_metadata, r, self->dfd, O_PATH | O_RDWR, 0, "O_PATH with O_RDWR");
	expect_refused(_metadata, r, self->dfd, O_CREAT | O_DIRECTORY | O_RDWR, 0600,
		       "O_CREAT with O_DIRECTORY");
	/* The kernel's __O_TMPFILE bit alone (glibc's includes O_DIRECTORY). */
	expect_refused(_metadata, r, self->dfd, 020000000 | O_RDWR, 0600,
		       "__O_TMPFILE without O_DIRECTORY");
}

TEST_F(fs, openat_errors)
{
	char *longpath = malloc(PATH_MAX + 1);
	struct zsync_sqe *sqe;
	char file[128];
	int ffd;

	ASSERT_NE(NULL, longpath);
	EXPECT_EQ(-ENOENT, openat_res(_metadata, &self->ring, self->dfd, "", O_RDONLY, 0));
	EXPECT_EQ(-ENOENT, openat_res(_metadata, &self->ring, self->dfd, "nope", O_RDONLY, 0));
	EXPECT_EQ(-EFAULT, openat_res(_metadata, &self->ring, self->dfd, (char *)8, O_RDONLY, 0));
	memset(longpath, 'a', PATH_MAX);
	longpath[PATH_MAX] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, openat_res(_metadata, &self->ring, self->dfd, longpath,
					    O_RDONLY, 0));
	EXPECT_EQ(-EBADF, openat_res(_metadata, &self->ring, -5, "f", O_RDONLY, 0));
	EXPECT_EQ(-EBADF, openat_res(_metadata, &self->ring, 9999, "f", O_RDONLY, 0));
	snprintf(file, sizeof(file), "%s/f", self->dir);
	ffd = open(file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ffd);
	EXPECT_EQ(-ENOTDIR, openat_res(_metadata, &self->ring, ffd, "f", O_RDONLY, 0))
		TH_LOG("a regular file as the directory fd");
	EXPECT_EQ(-EISDIR, openat_res(_metadata, &self->ring, AT_FDCWD, self->dir, O_RDWR, 0));
	close(ffd);

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_openat(sqe, self->dfd, "f", O_RDONLY, 0);
	sqe->off = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 4)) TH_LOG("off is not read");
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_openat(sqe, self->dfd, "f", O_RDONLY, 0);
	sqe->addr2 = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 5)) TH_LOG("addr2 is not read");
	free(longpath);
}

/* The new fd counts against the submitter's RLIMIT_NOFILE. */
TEST_F(fs, openat_honours_rlimit_nofile)
{
	struct rlimit old, rl;
	int fd, lowest_free = dup(0);

	/* Every fd below the lowest free one is in use. */
	ASSERT_LE(0, lowest_free);
	close(lowest_free);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	rl.rlim_cur = lowest_free;
	rl.rlim_max = old.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fd = openat_res(_metadata, &self->ring, self->dfd, "f", O_RDONLY, 0);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(-EMFILE, fd) TH_LOG("RLIMIT_NOFILE %d, every fd below it in use", lowest_free);
	if (fd >= 0)
		close(fd);
}

/* OPENAT reports the open to inotify once, as open(2) does. */
TEST_F(fs, openat_is_seen_by_inotify_once)
{
	struct inotify_event *ev;
	char buf[4096], path[128];
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), fd, opens = 0;
	ssize_t n, off;

	ASSERT_LE(0, in);
	snprintf(path, sizeof(path), "%s/f", self->dir);
	ASSERT_LE(0, inotify_add_watch(in, path, IN_OPEN));
	fd = openat_res(_metadata, &self->ring, self->dfd, "f", O_RDONLY | O_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	close(fd);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += sizeof(*ev) + ev->len) {
			ev = (struct inotify_event *)(buf + off);
			opens += !!(ev->mask & IN_OPEN);
		}
	EXPECT_EQ(1, opens);
	close(in);
}

TEST_F(fs, close_of_files_in_use_and_of_bad_fds)
{
	char in[8] = {};
	struct zsync_sqe *sqe;
	struct zk_ring other;
	int p[2], dup_fd;

	/* An op holds its own reference: closing its fd does not end it. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, p[0], in, sizeof(in), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 9);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(0, close_res(_metadata, &self->ring, p[0]));
	EXPECT_EQ(-1, fcntl(p[0], F_GETFD));
	ASSERT_EQ(2, write(p[1], "ok", 2));
	zt_expect(_metadata, &self->ring, 9, 2);
	EXPECT_STREQ("ok", in);
	close(p[1]);

	EXPECT_EQ(-EBADF, close_res(_metadata, &self->ring, p[0])) TH_LOG("already closed");
	EXPECT_EQ(-EBADF, close_res(_metadata, &self->ring, -1));
	EXPECT_EQ(-EBADF, close_res(_metadata, &self->ring, 99999));

	/* Rings are refused: closing one could pull it from under ENTER. */
	EXPECT_EQ(-EBADF, close_res(_metadata, &self->ring, self->ring.fd));
	EXPECT_LE(0, fcntl(self->ring.fd, F_GETFD));
	dup_fd = dup(self->ring.fd);
	ASSERT_LE(0, dup_fd);
	EXPECT_EQ(-EBADF, close_res(_metadata, &self->ring, dup_fd));
	close(dup_fd);
	zt_ring(_metadata, &other, 4, 0);
	EXPECT_EQ(-EBADF, close_res(_metadata, &self->ring, other.fd));
	zk_ring_exit(&other);

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_close(sqe, 9999);
	sqe->addr = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 4)) TH_LOG("addr is not read");

	/* O_PATH fds are closed like any other. */
	dup_fd = open(self->dir, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, dup_fd);
	EXPECT_EQ(0, close_res(_metadata, &self->ring, dup_fd));
	EXPECT_EQ(-1, fcntl(dup_fd, F_GETFD));
}

static void expect_same_statx(struct __test_metadata *_metadata, const struct statx *a,
			      const struct statx *b)
{
	EXPECT_EQ(b->stx_ino, a->stx_ino);
	EXPECT_EQ(b->stx_mode, a->stx_mode);
	EXPECT_EQ(b->stx_size, a->stx_size);
	EXPECT_EQ(b->stx_nlink, a->stx_nlink);
	EXPECT_EQ(b->stx_uid, a->stx_uid);
	EXPECT_EQ(b->stx_gid, a->stx_gid);
	EXPECT_EQ(b->stx_dev_major, a->stx_dev_major);
	EXPECT_EQ(b->stx_dev_minor, a->stx_dev_minor);
	EXPECT_EQ(b->stx_mtime.tv_sec, a->stx_mtime.tv_sec);
	EXPECT_EQ(b->stx_mtime.tv_nsec, a->stx_mtime.tv_nsec);
	EXPECT_EQ(b->stx_attributes & b->stx_attributes_mask,
		  a->stx_attributes & b->stx_attributes_mask);
	/* Everything statx(2) reports but the mount id. */
	EXPECT_EQ(b->stx_mask & ~STATX_MNT_ID, a->stx_mask);
}

TEST_F(fs, statx_answers_as_statx)
{
	struct statx a, b;
	char path[128];
	int ffd;

	snprintf(path, sizeof(path), "%s/f", self->dir);
	ASSERT_EQ(0, statx(AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME, &b));
	memset(&a, 0xff, sizeof(a));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, AT_FDCWD, path, 0,
			       STATX_BASIC_STATS | STATX_BTIME, &a));
	expect_same_statx(_metadata, &a, &b);
	EXPECT_EQ(5u, a.stx_size);

	/* Beneath the directory fd, and without following the symlink. */
	memset(&a, 0, sizeof(a));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, self->dfd, "/l", 0, STATX_BASIC_STATS, &a));
	EXPECT_EQ(b.stx_ino, a.stx_ino) TH_LOG("l -> /f resolves beneath the directory");
	ASSERT_EQ(0, statx(self->dfd, "l", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &b));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, self->dfd, "l", AT_SYMLINK_NOFOLLOW,
			       STATX_BASIC_STATS, &a));
	expect_same_statx(_metadata, &a, &b);
	EXPECT_TRUE(S_ISLNK(a.stx_mode));

	/* AT_EMPTY_PATH: the fd itself, with "" or with no path at all. */
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ffd);
	ASSERT_EQ(0, statx(ffd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &b));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, ffd, "", AT_EMPTY_PATH,
			       STATX_BASIC_STATS, &a));
	expect_same_statx(_metadata, &a, &b);
	memset(&a, 0, sizeof(a));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, ffd, NULL, AT_EMPTY_PATH,
			       STATX_BASIC_STATS, &a));
	expect_same_statx(_metadata, &a, &b);
	close(ffd);

	/* A mount point reports STATX_ATTR_MOUNT_ROOT as statx(2) does. */
	ASSERT_EQ(0, statx(AT_FDCWD, "/tmp", 0, STATX_BASIC_STATS, &b));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, AT_FDCWD, "/tmp", 0, STATX_BASIC_STATS, &a));
	expect_same_statx(_metadata, &a, &b);
	EXPECT_TRUE(!!(a.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT));
}

TEST_F(fs, statx_empty_path_with_at_fdcwd_is_the_cwd)
{
	struct statx a, b;
	char old[256];

	ASSERT_NE(NULL, getcwd(old, sizeof(old)));
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, statx(AT_FDCWD, ".", 0, STATX_INO, &b));
	EXPECT_EQ(0, statx_res(_metadata, &self->ring, AT_FDCWD, "", AT_EMPTY_PATH, STATX_INO, &a));
	EXPECT_EQ(b.stx_ino, a.stx_ino);
	ASSERT_EQ(0, chdir(old));
}

TEST_F(fs, statx_errors)
{
	struct statx a;
	struct zsync_sqe *sqe;
	char file[128];
	int ffd;

	EXPECT_EQ(-EINVAL, statx_res(_metadata, &self->ring, self->dfd, "f", 1 << 30, 0, &a))
		TH_LOG("unknown AT_ flag");
	EXPECT_EQ(-EINVAL, statx_res(_metadata, &self->ring, self->dfd, "f", AT_STATX_SYNC_TYPE,
				     0, &a)) TH_LOG("FORCE_SYNC with DONT_SYNC");
	EXPECT_EQ(-EINVAL, statx_res(_metadata, &self->ring, self->dfd, "f", 0, STATX__RESERVED, &a));
	EXPECT_EQ(-EFAULT, statx_res(_metadata, &self->ring, self->dfd, "f", 0, STATX_BASIC_STATS,
				     (struct statx *)8));
	EXPECT_EQ(-EFAULT, statx_res(_metadata, &self->ring, self->dfd, NULL, 0, STATX_BASIC_STATS,
				     &a)) TH_LOG("no path without AT_EMPTY_PATH");
	EXPECT_EQ(-ENOENT, statx_res(_metadata, &self->ring, self->dfd, "", 0, STATX_BASIC_STATS, &a));
	EXPECT_EQ(-ENOENT, statx_res(_metadata, &self->ring, self->dfd, "nope", 0,
				     STATX_BASIC_STATS, &a));
	EXPECT_EQ(-EBADF, statx_res(_metadata, &self->ring, 9999, "f", 0, STATX_BASIC_STATS, &a));
	snprintf(file, sizeof(file), "%s/f", self->dir);
	ffd = open(file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ffd);
	EXPECT_EQ(-ENOTDIR, statx_res(_metadata, &self->ring, ffd, "x", 0, STATX_BASIC_STATS, &a));
	close(ffd);
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_statx(sqe, self->dfd, "f", 0, STATX_BASIC_STATS, &a);
	sqe->off = 1;
	EXPECT_EQ(-EINVAL, zt_run(_metadata, &self->ring, sqe, 4)) TH_LOG("off is not read");
}

/* Wait (without entering the ring) until @n requests wait for this thread. */
static void wait_task_work(struct __test_metadata *_metadata, struct zk_ring *ring,
			   unsigned int n)
{
	int64_t start = zt_mono_ns();
	unsigned int pending = 0;

	while (pending != n && zt_ms_since(start) < ZT_SOON_MS) {
		zt_sleep_ms(5);
		zt_fdinfo(ring->fd, "task_work", &pending);
	}
	ASSERT_EQ(n, pending) TH_LOG("the chain member never waited for its thread");
}

/* TIMEOUT (10 ms, ETIME_SUCCESS) -> @sqe's op, with user_data 2. */
static struct zsync_sqe *after_timeout(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	struct zsync_sqe *sqe;

	zt_linked(zt_timeout(_metadata, ring, 1, 10, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
	sqe = zt_sqe(_metadata, ring);
	zk_sqe_set_data64(sqe, 2);
	return sqe;
}

/* CANCEL user_data 2 while it waits: TIMEOUT -ETIME, it -ECANCELED, CANCEL 1. */
static void cancel_waiting_member(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	struct zsync_cqe c[3];

	zt_submit(_metadata, ring, 2);
	wait_task_work(_metadata, ring, 1);
	zk_prep_cancel(zt_sqe(_metadata, ring), 2, 0);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 3, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ETIME);
	zt_check_cqe(_metadata, &c[1], 1, 2, -ECANCELED);
	zt_check_cqe(_metadata, &c[2], 2, 0, 1);
	zt_check_fdinfo(_metadata, ring->fd, "task_work", 0);
}

/*
 * A chain member that follows an asynchronous one runs in the submitting
 * thread's next ENTER; until then CANCEL finds it.
 */
TEST_F(fs, deferred_openat_runs_in_the_next_enter_or_is_cancelled)
{
	struct zsync_cqe c[2];
	int fd;

	zk_prep_openat(after_timeout(_metadata, &self->ring), self->dfd, "f",
		       O_RDONLY | O_CLOEXEC, 0);
	zt_submit(_metadata, &self->ring, 2);
	/* Do not enter the ring until the OPENAT waits for this thread. */
	wait_task_work(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_SOON_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ETIME);
	fd = c[1].res;
	EXPECT_EQ(2u, c[1].user_data);
	expect_content(_metadata, fd, "hello");
	close(fd);

	zk_prep_openat(after_timeout(_metadata, &self->ring), self->dfd, "g",
		       O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	cancel_waiting_member(_metadata, &self->ring);
	EXPECT_EQ(-1, faccessat(self->dfd, "g", F_OK, 0)) TH_LOG("the cancelled OPENAT ran");
}

TEST_F(fs, deferred_close_and_statx_are_cancelled)
{
	struct statx stx;
	int fd = dup(self->dfd);

	ASSERT_LE(0, fd);
	zk_prep_close(after_timeout(_metadata, &self->ring), fd);
	cancel_waiting_member(_metadata, &self->ring);
	EXPECT_LE(0, fcntl(fd, F_GETFD)) TH_LOG("the cancelled CLOSE ran");
	close(fd);

	memset(&stx, 0xa5, sizeof(stx));
	zk_prep_statx(after_timeout(_metadata, &self->ring), self->dfd, "f", 0,
		      STATX_BASIC_STATS, &stx);
	cancel_waiting_member(_metadata, &self->ring);
	EXPECT_EQ(0xa5a5a5a5u, stx.stx_mask) TH_LOG("the cancelled STATX ran");
}

TEST_HARNESS_MAIN
