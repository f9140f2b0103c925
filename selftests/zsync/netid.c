// SPDX-License-Identifier: GPL-2.0
/*
 * The network ops act as the thread that submitted them, also when they
 * finish later: its credentials and pid (SO_PASSCRED, SO_PEERCRED), its fd
 * table (ACCEPT, SCM_RIGHTS), its root and permissions (AF_UNIX path
 * lookups), whether they run at submission, after a wakeup, or as the
 * continuation of a chain.
 *
 * Each check that needs another identity runs in a forked child that
 * opens its ring first, as root, then drops to 65534 or chroots: what
 * counts is who submits, not who opened the ring.
 */
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include "helpers.h"
#include "nethelpers.h"
#include "devaccess.h"

/* These suites test CONNECT, ACCEPT and SHUTDOWN themselves. */
ZT_NET_OPS_WITH_LSM_BYPASS()

#define NOBODY		65534

/* Child exit codes: 0 is success, anything else names the failed step. */
enum { CHILD_OK, CHILD_SETUP, CHILD_EARLY, CHILD_RES, CHILD_WAIT, CHILD_IDS };

/* Keeps the device's group (zsync), as a user allowed to use rings. */
static int drop_to_nobody(void)
{
	if (zt_setgroups_dev() || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return 0;
}

/* In a child: submit what is queued and wait for @n CQEs into @c. */
static int child_run(struct zk_ring *ring, struct zsync_cqe *c, unsigned int n)
{
	unsigned int i;

	if (zk_submit(ring) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct zsync_timespec ts = zt_ts_ms(5000);
		struct zsync_cqe *cqe;

		if (zk_wait_cqe_timeout(ring, &cqe, &ts))
			return -1;
		c[i] = *cqe;
		zk_cqe_seen(ring, cqe);
	}
	return 0;
}

/* Waits for the child and asserts it exited with CHILD_OK. */
static void expect_child_ok(struct __test_metadata *_metadata, pid_t pid)
{
	int status = zt_wait_child(pid, 15000);

	if (status == -1)
		kill(pid, SIGKILL);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child status %#x", status);
	EXPECT_EQ(CHILD_OK, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
							WEXITSTATUS(status));
}

/* ---- credentials and pid ------------------------------------------------- */

/*
 * The child's SEND finds the socket full, waits, and is retried after the
 * parent drains it: the bytes it sends then carry the child's pid, uid and
 * gid (SO_PASSCRED), not a worker's.
 */
static int child_send_ident(int sock, int ready)
{
	struct zsync_cqe c;
	struct zk_ring ring;

	if (zk_ring_init(8, &ring, 0) || drop_to_nobody())
		return CHILD_SETUP;
	zk_prep_send(zk_get_sqe(&ring), sock, "IDENT", 5, 0);
	if (zk_submit(&ring) != 1)
		return CHILD_SETUP;
	if (zk_cq_ready(&ring))
		return CHILD_EARLY;
	if (write(ready, "r", 1) != 1)
		return CHILD_SETUP;
	if (child_run(&ring, &c, 1))
		return CHILD_WAIT;
	return c.res == 5 ? CHILD_OK : CHILD_RES;
}

/* Reads until bytes from @pid arrive; returns them with their credentials. */
static ssize_t recv_from_pid(int sock, pid_t pid, char *buf, size_t len, struct ucred *cred)
{
	union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(struct ucred))]; } ctl;
	int64_t start = zt_mono_ns();

	while (zt_ms_since(start) < 5000) {
		struct iovec iov = { buf, len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *cm;
		ssize_t n;

		if (!zt_poll_ready(sock, POLLIN, 100))
			continue;
		n = recvmsg(sock, &m, MSG_DONTWAIT);
		cm = CMSG_FIRSTHDR(&m);
		if (n <= 0 || !cm || cm->cmsg_type != SCM_CREDENTIALS)
			continue;
		memcpy(cred, CMSG_DATA(cm), sizeof(*cred));
		if (cred->pid == pid)
			return n;
	}
	return -1;
}

TEST(unix_send_retried_later_carries_the_submitters_pid_and_ids)
{
	int sv[2], ready[2], one = 1;
	struct ucred cred = {};
	char buf[65536], r;
	pid_t pid;

	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	/* Full with the parent's bytes: the child's SEND has to wait. */
	ASSERT_LT(0u, zt_fill_socket(sv[1]));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_send_ident(sv[1], ready[1]));
	ASSERT_EQ(1, read(ready[0], &r, 1));
	ASSERT_EQ(5, recv_from_pid(sv[0], pid, buf, sizeof(buf), &cred))
		TH_LOG("no bytes from the child's pid %d (last credentials: pid %d uid %u)",
		       pid, cred.pid, cred.uid);
	EXPECT_EQ(0, memcmp(buf, "IDENT", 5));
	EXPECT_EQ((uid_t)NOBODY, cred.uid);
	EXPECT_EQ((gid_t)NOBODY, cred.gid);
	expect_child_ok(_metadata, pid);
	close(sv[0]);
	close(sv[1]);
	close(ready[0]);
	close(ready[1]);
}

/*
 * A CONNECT that continues a chain (after a TIMEOUT) runs when a worker
 * hands it on, yet the listener sees the child as its peer (SO_PEERCRED).
 */
static int child_chained_connect(const struct sockaddr_un *sun, socklen_t len)
{
	struct zsync_timespec ts = zt_ts_ms(20);
	struct zsync_cqe c[2];
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (sock < 0 || zk_ring_init(8, &ring, 0) || drop_to_nobody())
		return CHILD_SETUP;
	sqe = zk_get_sqe(&ring);
	zk_prep_timeout(sqe, &ts, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_prep_connect(zk_get_sqe(&ring), sock, (const struct sockaddr *)sun, len);
	if (child_run(&ring, c, 2))
		return CHILD_WAIT;
	if (c[0].res != -ETIME || c[1].res != 0)
		return CHILD_RES;
	/* Stay connected until the parent has looked. */
	return read(sock, &c, 1) == 0 ? CHILD_OK : CHILD_RES;
}

TEST(chained_unix_connect_is_seen_with_the_submitters_creds)
{
	struct sockaddr_un sun;
	socklen_t len = zt_abstract_addr(&sun, "zsync-netid-peercred");
	socklen_t clen = sizeof(struct ucred);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd;
	struct ucred cred;
	pid_t pid;

	ZT_REQUIRE_DEV();
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sun, len));
	ASSERT_EQ(0, listen(lfd, 4));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_chained_connect(&sun, len));
	ASSERT_TRUE(zt_poll_ready(lfd, POLLIN, 5000));
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen));
	EXPECT_EQ(pid, cred.pid);
	EXPECT_EQ((uid_t)NOBODY, cred.uid);
	EXPECT_EQ((gid_t)NOBODY, cred.gid);
	close(cfd);
	expect_child_ok(_metadata, pid);
	close(lfd);
}

/* ---- fd tables ----------------------------------------------------------- */

struct own_table {
	int lfd, unx, ready;
	int accepted, received;		/* fds in the thread's own table */
	ino_t accepted_ino, received_ino;
	int err;
};

static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * A thread with its own fd table waits for a connection (ACCEPT) and an
 * fd (RECVMSG with SCM_RIGHTS); both finish after a wakeup.
 */
static void *own_table_thread(void *arg)
{
	union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct own_table *t = arg;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct zsync_cqe c[2];
	struct zsync_sqe *sqe;
	struct zk_ring ring;
	unsigned int i;

	t->err = CHILD_SETUP;
	if (unshare(CLONE_FILES) || zk_ring_init(8, &ring, 0))
		return NULL;
	sqe = zk_get_sqe(&ring);
	zk_prep_accept(sqe, t->lfd, NULL, NULL, 0, 0);
	zk_sqe_set_data64(sqe, 1);
	sqe = zk_get_sqe(&ring);
	zk_prep_recvmsg(sqe, t->unx, &m, 0);
	zk_sqe_set_data64(sqe, 2);
	if (zk_submit(&ring) != 2 || zk_cq_ready(&ring) || write(t->ready, "r", 1) != 1)
		return NULL;
	t->err = CHILD_WAIT;
	if (child_run(&ring, c, 2) == 0) {
		t->err = CHILD_OK;
		for (i = 0; i < 2; i++) {
			if (c[i].user_data == 1)
				t->accepted = c[i].res;
			else if (c[i].res == 1 && CMSG_FIRSTHDR(&m))
				memcpy(&t->received, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
		}
		t->accepted_ino = ino_of(t->accepted);
		t->received_ino = ino_of(t->received);
	}
	zk_ring_exit(&ring);
	return NULL;
}

TEST(accept_and_scm_rights_install_in_the_submitting_threads_table)
{
	struct own_table t = { .accepted = -1, .received = -1 };
	union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	int unx[2], ready[2], p[2], cfd;
	struct iovec iov = { "F", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	struct sockaddr_in addr;
	struct cmsghdr *cm;
	pthread_t th;
	char r;

	ZT_REQUIRE_DEV();
	t.lfd = zt_tcp_listener(_metadata, &addr, 4);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, unx));
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	t.unx = unx[1];
	t.ready = ready[1];
	ASSERT_EQ(0, pthread_create(&th, NULL, own_table_thread, &t));
	ASSERT_EQ(1, read(ready[0], &r, 1));
	cfd = zt_tcp_connect(_metadata, &addr);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
	ASSERT_EQ(1, sendmsg(unx[0], &m, 0));
	pthread_join(th, NULL);
	ASSERT_EQ(CHILD_OK, t.err);
	ASSERT_LE(0, t.accepted);
	ASSERT_LE(0, t.received);
	/* In the thread's table: the connection and the pipe. */
	EXPECT_NE(0u, t.accepted_ino);
	EXPECT_EQ(ino_of(p[1]), t.received_ino);
	/* Not in this thread's: those numbers are free or name other files. */
	EXPECT_NE(t.accepted_ino, ino_of(t.accepted));
	EXPECT_NE(t.received_ino, ino_of(t.received));
	close(cfd);
	close(t.lfd);
	close(unx[0]);
	close(unx[1]);
	close(ready[0]);
	close(ready[1]);
	close(p[0]);
	close(p[1]);
}

/* ---- roots and permissions (AF_UNIX paths) ------------------------------- */

#define JAIL		"/tmp/zsync-netid-jail"
#define OUTSIDE		"/tmp/zsync-netid-outside.sock"
#define PRIVDIR		"/tmp/zsync-netid-priv"

static int unix_listener_at(struct __test_metadata *_metadata, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	unlink(path);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sun, sizeof(sun))) TH_LOG("bind %s: %s",
									  path, strerror(errno));
	ASSERT_EQ(0, listen(fd, 8));
	return fd;
}

/*
 * CONNECT to @path, at submission and as the continuation of a chain;
 * returns 0 if both results are @want.
 */
static int child_connect_path(struct zk_ring *ring, const char *path, int want)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct zsync_timespec ts = zt_ts_ms(10);
	int s1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int s2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct zsync_cqe c[3];
	struct zsync_sqe *sqe;

	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	zk_prep_connect(zk_get_sqe(ring), s1, (struct sockaddr *)&sun, sizeof(sun));
	sqe = zk_get_sqe(ring);
	zk_prep_timeout(sqe, &ts, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_prep_connect(zk_get_sqe(ring), s2, (struct sockaddr *)&sun, sizeof(sun));
	if (child_run(ring, c, 3))
		return -1;
	if (c[0].res != want || c[1].res != -ETIME || c[2].res != want) {
		fprintf(stderr, "CONNECT %s: %d and chained %d, expected %d\n", path,
			c[0].res, c[2].res, want);
		return -1;
	}
	close(s1);
	close(s2);
	return 0;
}

static int child_in_jail(void)
{
	struct zk_ring ring;

	if (zk_ring_init(16, &ring, 0) || chroot(JAIL) || chdir("/"))
		return CHILD_SETUP;
	if (child_connect_path(&ring, "/in.sock", 0))
		return CHILD_RES;
	if (child_connect_path(&ring, OUTSIDE, -ENOENT) ||
	    child_connect_path(&ring, "../../.." OUTSIDE, -ENOENT) ||
	    child_connect_path(&ring, "/link.sock", -ENOENT))
		return CHILD_IDS;
	return CHILD_OK;
}

TEST(chrooted_unix_connect_cannot_reach_outside_its_root)
{
	int out, in, n = 0;
	pid_t pid;

	ZT_REQUIRE_DEV();
	mkdir(JAIL, 0755);
	out = unix_listener_at(_metadata, OUTSIDE);
	in = unix_listener_at(_metadata, JAIL "/in.sock");
	unlink(JAIL "/link.sock");
	ASSERT_EQ(0, symlink(OUTSIDE, JAIL "/link.sock"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_in_jail());
	expect_child_ok(_metadata, pid);
	/* Both connections inside, none outside. */
	while (zt_poll_ready(in, POLLIN, 0)) {
		close(accept4(in, NULL, NULL, SOCK_CLOEXEC));
		n++;
	}
	EXPECT_EQ(2, n);
	EXPECT_FALSE(zt_poll_ready(out, POLLIN, 0));
	close(out);
	close(in);
	unlink(OUTSIDE);
	unlink(JAIL "/in.sock");
	unlink(JAIL "/link.sock");
	rmdir(JAIL);
}

static int child_unprivileged_connect(void)
{
	struct zk_ring ring;

	if (zk_ring_init(16, &ring, 0) || drop_to_nobody())
		return CHILD_SETUP;
	return child_connect_path(&ring, PRIVDIR "/s", -EACCES) ? CHILD_IDS : CHILD_OK;
}

TEST(unix_connect_checks_the_submitters_permissions)
{
	struct zk_ring ring;
	int lfd;
	pid_t pid;

	ZT_REQUIRE_DEV();
	mkdir(PRIVDIR, 0700);
	ASSERT_EQ(0, chmod(PRIVDIR, 0700));
	lfd = unix_listener_at(_metadata, PRIVDIR "/s");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_unprivileged_connect());
	expect_child_ok(_metadata, pid);
	EXPECT_FALSE(zt_poll_ready(lfd, POLLIN, 0));
	/* Root may. */
	zt_ring(_metadata, &ring, 16, 0);
	EXPECT_EQ(0, child_connect_path(&ring, PRIVDIR "/s", 0));
	zk_ring_exit(&ring);
	close(lfd);
	unlink(PRIVDIR "/s");
	rmdir(PRIVDIR);
}

TEST_HARNESS_MAIN
