// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel workers never act on files whose behaviour depends on the caller,
 * never block for good on a file that cannot be asked not to block, and
 * are a bounded resource per user:
 *
 *  - READs on a tty (no FMODE_NOWAIT) woken by one byte hold no worker:
 *    another user's regular-file I/O completes, and killing the reader
 *    leaves nobody in D state;
 *  - a WRITE into a full blocking pipe and a second READ on a blocking
 *    pipe stay cancellable, with a definite result, and closing the ring
 *    does not hang;
 *  - a WRITE on an AF_UNIX socket that had to wait carries the submitter's
 *    pid in SCM_CREDENTIALS, not a kworker's;
 *  - a /proc/sys write acts in the submitter's uts namespace, and a
 *    background tty WRITE under TOSTOP stops the submitter with SIGTTOU;
 *  - one user holding all of its workers on a frozen filesystem does not
 *    stop another user's regular-file READ and FSYNC.
 *
 * Each scenario that could leave a process stuck runs in a child; the
 * parent watches it and, if it does not finish, releases what holds it
 * (writes to the tty or pipe, thaws) before failing, so the test ends.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <termios.h>
#include "helpers.h"
#include "files.h"

#define NOBODY		65534
/* How long a child scenario may take before it counts as stuck. */
#define STUCK_MS	10000

/*
 * Wait up to @ms for @pid to exit.  Returns its status, or -1 if it did
 * not (and then *@state holds its state letter).
 */
static int wait_exit(pid_t pid, int64_t ms, char *state)
{
	int status = zt_wait_child(pid, ms);

	if (status == -1)
		*state = zt_proc_state(pid);
	return status;
}

static void drop_to(uid_t uid)
{
	/* Keeps the device's group, as a member of group zsync would. */
	if (zt_setgroups_dev() || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(90);
}

/* Reap @n CQEs within @ms into @c (child side: no harness). 0 or -errno. */
static int reap(struct zk_ring *ring, struct zsync_cqe *c, unsigned int n, int64_t ms)
{
	int64_t start = zt_mono_ns();
	struct zsync_cqe *cqe;
	unsigned int i;

	for (i = 0; i < n; i++) {
		int64_t left = ms - zt_ms_since(start);
		struct zsync_timespec ts = zt_ts_ms(left > 0 ? left : 0);
		int ret = zk_wait_cqe_timeout(ring, &cqe, &ts);

		if (ret)
			return ret;
		c[i] = *cqe;
		zk_cqe_seen(ring, cqe);
	}
	return 0;
}

static const struct zsync_cqe *find(const struct zsync_cqe *c, unsigned int n, __u64 ud)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (c[i].user_data == ud)
			return &c[i];
	return NULL;
}

/* ---- ttys ------------------------------------------------------------- */

/* Another user's regular-file FSYNC and procfs READ, through its own ring. */
static int other_user_io(const char *path)
{
	char buf[256] = {};
	struct zsync_cqe c[2];
	const struct zsync_cqe *r, *s;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int fd, proc, ret;

	drop_to(NOBODY);
	fd = open(path, O_RDWR | O_CLOEXEC);
	proc = open("/proc/version", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || proc < 0 || zk_ring_init(8, &ring, 0))
		return 91;
	sqe = zk_get_sqe(&ring);
	zk_prep_fsync(sqe, fd, 0);
	zk_sqe_set_data64(sqe, 1);
	sqe = zk_get_sqe(&ring);
	zk_prep_read(sqe, proc, buf, sizeof(buf) - 1, 0);
	zk_sqe_set_data64(sqe, 2);
	if (zk_submit(&ring) != 2)
		return 92;
	ret = reap(&ring, c, 2, ZT_SOON_MS);
	if (ret) {
		fprintf(stderr, "# nobody's FSYNC and READ did not complete: %s\n", zt_err(ret));
		return 93;
	}
	s = find(c, 2, 1);
	r = find(c, 2, 2);
	if (!s || !r || s->res != 0 || r->res <= 0 || strncmp(buf, "Linux", 5)) {
		fprintf(stderr, "# FSYNC %d READ %d\n", s ? s->res : 1, r ? r->res : 1);
		return 94;
	}
	zk_ring_exit(&ring);
	return 0;
}

TEST(tty_reads_hold_no_worker_and_die_promptly)
{
	unsigned int workers = zt_module_param("max_workers", 64), i, n;
	char path[] = "/tmp/zs-secw-XXXXXX", *pts, state = 0;
	int master, slave, ready[2], tmp, status;
	struct termios t;
	pid_t reader, other;
	bool stuck = false;

	ZT_REQUIRE_DEV();
	if (workers > 200)
		SKIP(return, "max_workers %u: too many to arm", workers);
	n = workers + 8;
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		SKIP(return, "no pty: %s", strerror(errno));
	ASSERT_EQ(0, grantpt(master));
	ASSERT_EQ(0, unlockpt(master));
	pts = ptsname(master);
	ASSERT_NE(NULL, pts);
	slave = open(pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, slave);
	ASSERT_EQ(0, tcgetattr(slave, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 2;
	t.c_cc[VTIME] = 0;
	ASSERT_EQ(0, tcsetattr(slave, TCSANOW, &t));
	tmp = mkstemp(path);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(0, fchmod(tmp, 0666));
	ASSERT_EQ(0, pipe(ready));

	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		static char bufs[256][2];
		struct zk_ring ring;
		struct zsync_cqe *cqe;

		close(ready[0]);
		if (zk_ring_init(256, &ring, 0))
			_exit(80);
		for (i = 0; i < n; i++) {
			struct zsync_sqe *sqe = zk_get_sqe(&ring);

			if (!sqe)
				_exit(81);
			zk_prep_read(sqe, slave, bufs[i], 2, ZSYNC_OFF_CURRENT);
			zk_sqe_set_data64(sqe, i + 1);
		}
		if (zk_submit(&ring) != (int)n)
			_exit(82);
		if (write(ready[1], "r", 1) != 1)
			_exit(83);
		/* Wait in ENTER (running the retries) until killed. */
		for (;;)
			zk_wait_cqe(&ring, &cqe);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &state, 1));
	/* One byte of the two each READ waits for: every one is woken. */
	ASSERT_EQ(1, write(master, "x", 1));

	other = fork();
	ASSERT_LE(0, other);
	if (other == 0)
		_exit(other_user_io(path));
	status = wait_exit(other, STUCK_MS, &state);
	EXPECT_NE(-1, status) TH_LOG("nobody's regular-file I/O waited %d ms behind tty READs",
				     STUCK_MS);
	if (status != -1)
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("nobody's I/O: status %#x", status);

	ASSERT_EQ(0, kill(reader, SIGKILL));
	status = wait_exit(reader, STUCK_MS, &state);
	EXPECT_NE(-1, status) TH_LOG("the killed reader is still there, state %c", state);
	stuck = status == -1;
	if (stuck || zt_wait_child(other, 0) == -1) {
		/* Release the workers the old code held: two bytes per READ. */
		for (i = 0; i < 2 * n + 2; i++)
			if (write(master, "yy", 2) != 2)
				break;
		if (stuck)
			waitpid(reader, NULL, 0);
		if (status == -1)
			waitpid(other, NULL, 0);
	}
	close(slave);
	close(master);
	close(tmp);
	unlink(path);
}

/* ---- blocking pipes ----------------------------------------------------- */

/* Fill the pipe through a second, non-blocking open of its write end. */
static int fill_pipe(int wr)
{
	static char junk[4096];
	char path[64];
	int nb;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", wr);
	nb = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (nb < 0)
		return -1;
	while (write(nb, junk, sizeof(junk)) > 0)
		;
	close(nb);
	return errno == EAGAIN ? 0 : -1;
}

/*
 * A 16 KiB WRITE into a full blocking pipe; 4 KiB are read out, then the
 * WRITE is cancelled.  Both CQEs must come, and the ring must close.
 */
static int pipe_write_child(int wr)
{
	static char data[16384];
	struct zsync_cqe c[2];
	const struct zsync_cqe *w, *k;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int ret;

	memset(data, 'w', sizeof(data));
	if (zk_ring_init(8, &ring, 0))
		return 80;
	sqe = zk_get_sqe(&ring);
	zk_prep_write(sqe, wr, data, sizeof(data), ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	if (zk_submit(&ring) != 1)
		return 81;
	/* The parent reads 4 KiB out once it sees this. */
	if (write(100, "s", 1) != 1)
		return 82;
	if (read(101, &ret, 1) != 1)
		return 83;
	sqe = zk_get_sqe(&ring);
	zk_prep_cancel(sqe, 1, 0);
	zk_sqe_set_data64(sqe, 2);
	if (zk_submit(&ring) != 1)
		return 84;
	ret = reap(&ring, c, 2, ZT_SOON_MS);
	w = find(c, 2, 1);
	k = find(c, 2, 2);
	if (ret || !w || !k) {
		fprintf(stderr, "# WRITE %d, CANCEL %d: %s\n", w ? w->res : 1, k ? k->res : 1,
			zt_err(ret));
		return 85;
	}
	/* Cancelled while it waited, or finished before: never "running". */
	if (!((k->res == 1 && w->res == -ECANCELED) || (k->res == -ENOENT && w->res > 0))) {
		fprintf(stderr, "# WRITE %d, CANCEL %d\n", w->res, k->res);
		return 86;
	}
	zk_ring_exit(&ring);
	return 0;
}

TEST(write_into_full_blocking_pipe_cancels_and_closes)
{
	int p[2], go[2], ack[2], status;
	char buf[4096], state = 0;
	pid_t pid;

	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, fill_pipe(p[1]));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ack));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (dup2(go[1], 100) != 100 || dup2(ack[0], 101) != 101)
			_exit(79);
		close(p[0]);
		_exit(pipe_write_child(p[1]));
	}
	close(go[1]);
	close(ack[0]);
	ASSERT_EQ(1, read(go[0], buf, 1));
	ASSERT_EQ((ssize_t)sizeof(buf), read(p[0], buf, sizeof(buf)));
	ASSERT_EQ(1, write(ack[1], "a", 1));
	status = wait_exit(pid, STUCK_MS, &state);
	EXPECT_NE(-1, status) TH_LOG("the child closing its ring is stuck, state %c", state);
	if (status == -1) {
		/* Drain the pipe for the old code's worker, then reap. */
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		while (zt_wait_child(pid, 10) == -1 && read(p[0], buf, sizeof(buf)) != 0)
			;
	} else {
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child status %#x", status);
	}
	close(p[0]);
	close(p[1]);
	close(go[0]);
	close(ack[1]);
}

/*
 * Two 1-byte READs on an empty blocking pipe, then one byte: one READ gets
 * it, the other still waits and is cancelled; then the ring closes.
 */
static int pipe_reads_child(int rd, int wr)
{
	char a = 0, b = 0;
	struct zsync_cqe c[2];
	const struct zsync_cqe *r, *k;
	struct zsync_timespec ts = zt_ts_ms(200);
	struct zsync_cqe *cqe;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	__u64 other;
	int ret;

	if (zk_ring_init(8, &ring, 0))
		return 80;
	sqe = zk_get_sqe(&ring);
	zk_prep_read(sqe, rd, &a, 1, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	sqe = zk_get_sqe(&ring);
	zk_prep_read(sqe, rd, &b, 1, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 2);
	if (zk_submit(&ring) != 2)
		return 81;
	if (write(wr, "x", 1) != 1)
		return 82;
	ret = reap(&ring, c, 1, ZT_SOON_MS);
	if (ret || c[0].res != 1) {
		fprintf(stderr, "# first READ: %s, res %d\n", zt_err(ret), ret ? 0 : c[0].res);
		return 83;
	}
	if (zk_wait_cqe_timeout(&ring, &cqe, &ts) != -ETIME) {
		fprintf(stderr, "# the second READ completed with no data\n");
		return 84;
	}
	other = c[0].user_data == 1 ? 2 : 1;
	sqe = zk_get_sqe(&ring);
	zk_prep_cancel(sqe, other, 0);
	zk_sqe_set_data64(sqe, 3);
	if (zk_submit(&ring) != 1)
		return 85;
	ret = reap(&ring, c, 2, ZT_SOON_MS);
	r = find(c, 2, other);
	k = find(c, 2, 3);
	if (ret || !r || !k || r->res != -ECANCELED || k->res != 1) {
		fprintf(stderr, "# READ %d, CANCEL %d: %s\n", r ? r->res : 1, k ? k->res : 1,
			zt_err(ret));
		return 86;
	}
	zk_ring_exit(&ring);
	return 0;
}

TEST(second_read_on_blocking_pipe_stays_cancellable)
{
	char state = 0, buf[64];
	int p[2], status;
	pid_t pid;

	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(pipe_reads_child(p[0], p[1]));
	status = wait_exit(pid, STUCK_MS, &state);
	EXPECT_NE(-1, status) TH_LOG("the child is stuck, state %c", state);
	if (status == -1) {
		/* A byte for the old code's worker, then reap. */
		while (zt_wait_child(pid, 10) == -1 && write(p[1], "y", 1) == 1)
			;
	} else {
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child status %#x", status);
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	close(p[0]);
	close(p[1]);
}

/* ---- AF_UNIX credentials ------------------------------------------------- */

/* Reads one chunk with its SCM_CREDENTIALS; returns its length. */
static ssize_t recv_creds(int fd, char *buf, size_t len, struct ucred *cr)
{
	char cbuf[CMSG_SPACE(sizeof(*cr))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	memset(cr, 0, sizeof(*cr));
	for (cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS)
			memcpy(cr, CMSG_DATA(cm), sizeof(*cr));
	return n;
}

TEST(unix_write_that_waited_carries_the_submitters_pid)
{
	static const char marker[] = "ZZZZZZZZ";
	char buf[65536];
	struct ucred cr;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int sv[2], one = 1;
	bool seen = false;
	ssize_t n;

	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	memset(buf, 'a', sizeof(buf));
	while (send(sv[0], buf, 4096, MSG_DONTWAIT) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	zt_ring(_metadata, &ring, 8, 0);
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_write(sqe, sv[0], marker, 8, ZSYNC_OFF_CURRENT);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &ring, 1);
	zt_expect_no_cqe(_metadata, &ring, 100);
	/* Make room: the WRITE is retried. */
	while ((n = recv_creds(sv[1], buf, sizeof(buf), &cr)) > 0)
		ASSERT_EQ(NULL, memchr(buf, 'Z', n));
	zt_expect(_metadata, &ring, 1, 8);
	while ((n = recv_creds(sv[1], buf, sizeof(buf), &cr)) > 0) {
		if (!memchr(buf, 'Z', n))
			continue;
		seen = true;
		EXPECT_EQ(getpid(), cr.pid) TH_LOG("the receiver saw pid %d, not the submitter %d",
						   cr.pid, getpid());
		EXPECT_EQ(getuid(), cr.uid);
	}
	EXPECT_TRUE(seen) TH_LOG("the WRITE's data never arrived");
	zk_ring_exit(&ring);
	close(sv[0]);
	close(sv[1]);
}

/* ---- /proc/sys in the submitter's namespace ----------------------------- */

TEST(proc_sys_write_acts_in_the_submitters_uts_namespace)
{
	char before[HOST_NAME_MAX + 1] = {}, after[HOST_NAME_MAX + 1] = {};
	int status;
	pid_t pid;

	ZT_REQUIRE_DEV();
	if (geteuid())
		SKIP(return, "needs root for a new uts namespace");
	ASSERT_EQ(0, gethostname(before, sizeof(before) - 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static const char name[] = "zs-uts-inner";
		struct zsync_cqe c;
		struct utsname u;
		struct zk_ring ring;
		struct zsync_sqe *sqe;
		int fd;

		if (unshare(CLONE_NEWUTS))
			_exit(80);
		fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || zk_ring_init(8, &ring, 0))
			_exit(81);
		sqe = zk_get_sqe(&ring);
		zk_prep_write(sqe, fd, name, strlen(name), 0);
		zk_sqe_set_data64(sqe, 1);
		if (zk_submit(&ring) != 1 || reap(&ring, &c, 1, ZT_SOON_MS))
			_exit(82);
		if (c.res != (int)strlen(name)) {
			fprintf(stderr, "# WRITE: %d\n", c.res);
			_exit(83);
		}
		if (uname(&u) || strcmp(u.nodename, name)) {
			fprintf(stderr, "# own hostname: %s\n", u.nodename);
			_exit(84);
		}
		_exit(0);
	}
	status = zt_wait_child(pid, STUCK_MS);
	ASSERT_EQ(0, gethostname(after, sizeof(after) - 1));
	EXPECT_STREQ(before, after) TH_LOG("the WRITE renamed the initial uts namespace");
	if (strcmp(before, after))
		sethostname(before, strlen(before));
	ASSERT_NE(-1, status);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
}

/* ---- tty job control ---------------------------------------------------- */

/*
 * The session: a leader with the pty slave as controlling tty and TOSTOP
 * set, whose output is full, and a background process group writing to it
 * through a ring.  Room is made once the WRITE waits, so that it is retried
 * after a wakeup.  As with write(2), the writer gets SIGTTOU (and stops),
 * and nothing is written.  Returns the exit code for the test.
 */
static int tostop_session(const char *pts, int master)
{
	static char junk[4096];
	char path[64], c;
	struct termios t;
	int slave, nb, armed[2], status = 0;
	struct pollfd pfd = { .fd = master, .events = POLLIN };
	pid_t bg;

	if (setsid() < 0)
		return 80;
	slave = open(pts, O_RDWR | O_CLOEXEC);	/* our controlling tty now */
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || tcgetattr(slave, &t))
		return 81;
	cfmakeraw(&t);
	t.c_lflag |= TOSTOP;
	if (tcsetattr(slave, TCSANOW, &t) || pipe(armed))
		return 82;
	/* Fill the output, through a non-blocking open of the slave. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", slave);
	nb = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (nb < 0)
		return 83;
	memset(junk, 'x', sizeof(junk));
	while (write(nb, junk, sizeof(junk)) > 0)
		;
	close(nb);
	bg = fork();
	if (bg < 0)
		return 84;
	if (bg == 0) {
		struct zk_ring ring;
		struct zsync_sqe *sqe;
		struct zsync_cqe *cqe;

		if (setpgid(0, 0) || zk_ring_init(8, &ring, 0))
			_exit(85);
		sqe = zk_get_sqe(&ring);
		zk_prep_write(sqe, slave, "bg", 2, ZSYNC_OFF_CURRENT);
		zk_sqe_set_data64(sqe, 1);
		if (zk_submit(&ring) != 1 || write(armed[1], "a", 1) != 1)
			_exit(86);
		if (zk_wait_cqe(&ring, &cqe) == 0)
			fprintf(stderr, "# background WRITE: %s\n", zt_err(cqe->res));
		_exit(87);
	}
	/*
	 * Once the WRITE waits, make room: its wakeup.  (Where a tty takes
	 * IOCB_NOWAIT, as on 6.12, the first attempt already stops the
	 * writer, before it reports.)
	 */
	fcntl(master, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 1000 && waitpid(bg, &status, WUNTRACED | WNOHANG) == 0; i++) {
		struct pollfd apf = { .fd = armed[0], .events = POLLIN };

		if (poll(&apf, 1, 0) == 1 && read(armed[0], &c, 1) == 1)
			while (read(master, junk, sizeof(junk)) > 0)
				;
		zt_sleep_ms(5);
	}
	kill(bg, SIGKILL);
	waitpid(bg, NULL, 0);
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTTOU) {
		fprintf(stderr, "# background writer: status %#x, not stopped by SIGTTOU\n",
			status);
		return 89;
	}
	/* What is left is the filler ('x'): the WRITE's "bg" must not be there. */
	while (poll(&pfd, 1, 100) == 1 && (pfd.revents & POLLIN)) {
		ssize_t n = read(master, junk, sizeof(junk));

		if (n <= 0)
			break;
		if (memchr(junk, 'b', n) || memchr(junk, 'g', n)) {
			fprintf(stderr, "# the background WRITE reached the tty\n");
			return 90;
		}
	}
	return 0;
}

TEST(background_tty_write_obeys_tostop)
{
	int master, status;
	char *pts;
	pid_t pid;

	ZT_REQUIRE_DEV();
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		SKIP(return, "no pty: %s", strerror(errno));
	ASSERT_EQ(0, grantpt(master));
	ASSERT_EQ(0, unlockpt(master));
	pts = ptsname(master);
	ASSERT_NE(NULL, pts);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(tostop_session(pts, master));
	status = zt_wait_child(pid, STUCK_MS);
	if (status == -1) {
		/* Hang up the session: its background writer goes too. */
		kill(pid, SIGKILL);
		close(master);
		waitpid(pid, NULL, 0);
	}
	ASSERT_NE(-1, status) TH_LOG("the session did not finish");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("session status %#x", status);
	close(master);
}

/* ---- workers per user ----------------------------------------------------- */

/* Nobody's buffered tmpfs WRITE and FSYNC: both a worker's. */
static int other_user_file_io(const char *path)
{
	struct zsync_cqe c[2];
	const struct zsync_cqe *w, *s;
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int fd, ret;

	drop_to(NOBODY);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || zk_ring_init(8, &ring, 0))
		return 91;
	sqe = zk_get_sqe(&ring);
	zk_prep_write(sqe, fd, "nobody's", 8, 0);
	zk_sqe_set_data64(sqe, 1);
	sqe = zk_get_sqe(&ring);
	zk_prep_fsync(sqe, fd, 0);
	zk_sqe_set_data64(sqe, 2);
	if (zk_submit(&ring) != 2)
		return 92;
	ret = reap(&ring, c, 2, ZT_SOON_MS);
	if (ret) {
		fprintf(stderr, "# nobody's WRITE and FSYNC did not complete: %s\n", zt_err(ret));
		return 93;
	}
	w = find(c, 2, 1);
	s = find(c, 2, 2);
	if (!w || !s || w->res != 8 || s->res) {
		fprintf(stderr, "# WRITE %d FSYNC %d\n", w ? w->res : 1, s ? s->res : 1);
		return 94;
	}
	zk_ring_exit(&ring);
	return 0;
}

TEST(one_user_holding_its_workers_does_not_stop_another)
{
	unsigned int workers = zt_module_param("max_workers", 64), i, n;
	char tpath[] = "/tmp/zs-secw-XXXXXX", state = 0;
	struct zsync_cqe *c;
	struct zk_ring ring;
	struct zt_hold h;
	int tmp, ret, status;
	pid_t pid;

	ZT_REQUIRE_DEV();
	if (geteuid())
		SKIP(return, "needs root for a loop device");
	if (workers > 200)
		SKIP(return, "max_workers %u: too many to hold", workers);
	/* Root's workers, held (see struct zt_hold). */
	ret = zt_hold_init(&h);
	if (ret)
		SKIP(return, "neither userfaultfd and a loop device nor a frozen ext2: %s",
		     zt_err(ret));
	tmp = mkstemp(tpath);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(0, fchmod(tmp, 0666));

	/* This user: more WRITEs than it has workers, all held. */
	n = workers + 16;
	zt_ring(_metadata, &ring, 512, 0);
	for (i = 0; i < n; i++)
		zt_hold_prep(_metadata, &h, &ring, i + 1);
	zt_submit(_metadata, &ring, (int)n);
	ASSERT_EQ((int)workers, zt_hold_wait(&h, (int)workers, 15000))
		TH_LOG("not every worker of this user was held");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(other_user_file_io(tpath));
	status = wait_exit(pid, STUCK_MS, &state);
	EXPECT_NE(-1, status) TH_LOG("nobody's I/O waited %d ms behind root's held workers",
				     STUCK_MS);
	ASSERT_EQ(0, zt_hold_release(&h));
	if (status == -1)
		waitpid(pid, &status, 0);
	else
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("nobody's I/O: status %#x", status);

	c = calloc(n, sizeof(*c));
	ASSERT_NE(NULL, c);
	zt_reap(_metadata, &ring, c, n, 20000);
	for (i = 0; i < n; i++)
		EXPECT_EQ(zt_hold_res(&h), c[i].res)
			TH_LOG("WRITE %llu: %s", (unsigned long long)c[i].user_data,
			       zt_err(c[i].res));
	free(c);
	zk_ring_exit(&ring);
	zt_hold_exit(&h);
	close(tmp);
	unlink(tpath);
}

TEST_HARNESS_MAIN
