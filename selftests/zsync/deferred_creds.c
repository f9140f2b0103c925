// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred work runs as it was submitted.  A chain member that waits for
 * the submitting thread (OPENAT, STATX: they act on its fd table and path
 * namespace) runs when that thread next enters the ring, which may be
 * after it switched credentials: a privileged program that drops its euid
 * to submit on behalf of a user and takes it back must not have the
 * user's request run as root.  And a request prepared before execve()
 * must not run in the new image (it completes with -ECANCELED).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "helpers.h"

#define NOBODY	65534

/* After execve() of this binary by exec_cancels: run the deferred work, then leave. */
__attribute__((constructor)) static void exec_child(void)
{
	const char *s = getenv("ZT_EXEC_RING");
	struct zsync_timespec ts = { .tv_sec = 5 };
	struct zsync_enter e;

	if (!s)
		return;
	memset(&e, 0, sizeof(e));
	e.min_complete = 2;
	e.flags = ZSYNC_ENTER_GETEVENTS;
	e.timeout = (__u64)(uintptr_t)&ts;
	_exit(ioctl(atoi(s), ZSYNC_IOC_ENTER, &e) < 0 || e.wait_res ? 3 : 0);
}

FIXTURE(dcreds) {
	struct zk_ring ring;
	char dir[64];
	char path[96];
	int p[2];
};

FIXTURE_SETUP(dcreds)
{
	int fd;

	self->p[0] = self->p[1] = -1;
	self->dir[0] = '\0';
	if (geteuid() != 0)
		SKIP(return, "needs root, to switch euid to %d and back", NOBODY);
	zt_ring(_metadata, &self->ring, 8, 0);
	ASSERT_EQ(0, pipe(self->p));
	strcpy(self->dir, "/tmp/zt-dcreds-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, chmod(self->dir, 0700));
	snprintf(self->path, sizeof(self->path), "%s/secret", self->dir);
	fd = open(self->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, write(fd, "root", 4));
	close(fd);
}

FIXTURE_TEARDOWN(dcreds)
{
	if (self->dir[0]) {
		unlink(self->path);
		rmdir(self->dir);
	}
	if (self->p[0] >= 0) {
		close(self->p[0]);
		close(self->p[1]);
	}
}

static void prep_openat(struct zsync_sqe *sqe, const char *path);

static void set_euid(struct __test_metadata *_metadata, uid_t uid)
{
	ASSERT_EQ(0, setresuid(-1, uid, -1)) TH_LOG("setresuid(-1, %u, -1): %s", uid, strerror(errno));
}

/*
 * @prep the op, as euid nobody: inline (its result as nobody), then chained
 * behind a pipe READ that completes only after the euid is back to 0.
 * Return: the chained op's result.
 */
static int chained_as_nobody(struct __test_metadata *_metadata, FIXTURE_DATA(dcreds) *self,
			     void (*prep)(struct zsync_sqe *, const char *), int *inline_res)
{
	struct zsync_sqe *sqe;
	struct zsync_cqe c[2];
	char buf[1];
	int at;

	set_euid(_metadata, NOBODY);
	sqe = zt_sqe(_metadata, &self->ring);
	prep(sqe, self->path);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 1, ZT_PROMPT_MS);
	*inline_res = c[0].res;

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, self->p[0], buf, 1, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 2);
	zt_linked(sqe);
	sqe = zt_sqe(_metadata, &self->ring);
	prep(sqe, self->path);
	zk_sqe_set_data64(sqe, 3);
	zt_submit(_metadata, &self->ring, 2);
	set_euid(_metadata, 0);

	/* The READ completes now; the rest of the chain waits for this thread. */
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 2, 1);
	at = zt_find_cqe(c, 2, 3);
	if (at < 0)
		return INT32_MIN;
	if (c[at].res > 0 && prep == prep_openat)
		close(c[at].res);
	return c[at].res;
}

static void prep_openat(struct zsync_sqe *sqe, const char *path)
{
	zk_prep_openat(sqe, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
}

static struct statx stx;

static void prep_statx(struct zsync_sqe *sqe, const char *path)
{
	zk_prep_statx(sqe, AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx);
}

TEST_F(dcreds, openat_after_euid_switch)
{
	int inline_res, res = chained_as_nobody(_metadata, self, prep_openat, &inline_res);

	ASSERT_EQ(-EACCES, inline_res) TH_LOG("inline OPENAT as uid %d: %s", NOBODY, zt_err(inline_res));
	EXPECT_EQ(-EACCES, res) TH_LOG("chained OPENAT, submitted as uid %d, ran as root: %s",
				       NOBODY, zt_err(res));
}

TEST_F(dcreds, statx_after_euid_switch)
{
	int inline_res, res = chained_as_nobody(_metadata, self, prep_statx, &inline_res);

	ASSERT_EQ(-EACCES, inline_res) TH_LOG("inline STATX as uid %d: %s", NOBODY, zt_err(inline_res));
	EXPECT_EQ(-EACCES, res) TH_LOG("chained STATX, submitted as uid %d, ran as root: %s",
				       NOBODY, zt_err(res));
}

/* The submitter's own later ENTER with unchanged creds still runs the chain. */
TEST_F(dcreds, chain_unchanged_creds_runs)
{
	struct zsync_sqe *sqe;
	struct zsync_cqe c[2];
	char buf[1];
	int at;

	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_read(sqe, self->p[0], buf, 1, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 2);
	zt_linked(sqe);
	sqe = zt_sqe(_metadata, &self->ring);
	prep_openat(sqe, self->path);
	zk_sqe_set_data64(sqe, 3);
	zt_submit(_metadata, &self->ring, 2);
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	at = zt_find_cqe(c, 2, 3);
	ASSERT_LE(0, at);
	ASSERT_LE(0, c[at].res) TH_LOG("%s", zt_err(c[at].res));
	close(c[at].res);
}

/*
 * A chain submitted before execve(): its OPENAT, deferred to the thread,
 * would run in the new image and install an fd in its table.
 */
TEST_F(dcreds, exec_cancels)
{
	struct zsync_cqe c[2];
	int status, at;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char fdbuf[16], *argv[] = { "deferred_creds-exec", NULL };
		char env[32], *envp[] = { env, NULL };
		struct zsync_timespec *ts = zt_ts_slot();
		struct zsync_sqe *sqe;

		/*
		 * A timer, not a pipe READ: a READ retried in a worker after
		 * the exec would be cancelled there (its mm is gone).
		 */
		*ts = zt_ts_ms(200);
		sqe = zk_get_sqe(&self->ring);
		zk_prep_timeout(sqe, ts, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS);
		zk_sqe_set_data64(sqe, 2);
		sqe->flags |= ZSYNC_SQE_LINK;
		sqe = zk_get_sqe(&self->ring);
		zk_prep_openat(sqe, AT_FDCWD, "/dev/null", O_RDONLY, 0);
		zk_sqe_set_data64(sqe, 3);
		if (zk_submit(&self->ring) != 2)
			_exit(10);
		if (fcntl(self->ring.fd, F_SETFD, 0))
			_exit(12);
		snprintf(fdbuf, sizeof(fdbuf), "%d", self->ring.fd);
		snprintf(env, sizeof(env), "ZT_EXEC_RING=%s", fdbuf);
		execve("/proc/self/exe", argv, envp);
		_exit(13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 2, -ETIME);
	at = zt_find_cqe(c, 2, 3);
	ASSERT_LE(0, at);
	EXPECT_EQ(-ECANCELED, c[at].res) TH_LOG("OPENAT prepared before execve ran in the new image: %s",
						zt_err(c[at].res));
}

TEST_HARNESS_MAIN
