// SPDX-License-Identifier: GPL-2.0
/*
 * PIDFD_WAIT, NS_SOCKET and NS_INFO: exit statuses without reaping (exit
 * code, signal, thread-group exit, a process someone else reaps, pid
 * reuse), sockets created in another network namespace (checked with
 * SIOCGSKNS) and the CAP_NET_ADMIN rule proved with unprivileged users,
 * namespace facts compared with stat(2) and lsns(8), cancellation and
 * invalid fds.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <linux/sockios.h>
#include "helpers.h"
#include "cgroup-helpers.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif

ZT_RING_FIXTURE(64)

/* A child that waits for a byte on a pipe, then runs @fn (which exits). */
struct gated {
	pid_t pid;
	int gate;		/* write end: one byte releases the child */
};

static struct gated gated_child(struct __test_metadata *_metadata, void (*fn)(void))
{
	struct gated g = { 0 };
	int p[2];
	char c;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	g.pid = fork();
	ASSERT_LE(0, g.pid);
	if (g.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		fn();
		_exit(98);
	}
	close(p[0]);
	g.gate = p[1];
	return g;
}

static void release(struct gated *g)
{
	char c = 1;

	if (write(g->gate, &c, 1) != 1)
		abort();
	close(g->gate);
}

static void exit_7(void)
{
	_exit(7);
}

static void do_pause(void)
{
	for (;;)
		pause();
}

static void *exit_group_5(void *arg)
{
	exit(5);
}

/* The leader parks; another thread ends the whole group with exit(5). */
static void thread_exits_group(void)
{
	pthread_t t;

	pthread_create(&t, NULL, exit_group_5, NULL);
	for (;;)
		pause();
}

static void submit_pidfd_wait(struct __test_metadata *_metadata, struct zk_ring *ring,
			      int pidfd, __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_pidfd_wait(sqe, pidfd);
	zk_sqe_set_data64(sqe, ud);
	zt_submit(_metadata, ring, 1);
}

static int reap_res(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	struct zsync_cqe c;

	zt_reap(_metadata, ring, &c, 1, ZT_CG_SETTLE_MS);
	return c.res;
}

TEST_F(ring, pidfd_wait_exit_code_without_reaping)
{
	struct gated g = gated_child(_metadata, exit_7);
	int pidfd = zt_pidfd_open(g.pid), res, status;

	ASSERT_LE(0, pidfd);
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 100);
	release(&g);
	res = reap_res(_metadata, &self->ring);
	EXPECT_TRUE(WIFEXITED(res) && WEXITSTATUS(res) == 7) TH_LOG("status %#x", res);
	/* Not reaped: the parent still collects the same status. */
	ASSERT_EQ(g.pid, waitpid(g.pid, &status, WNOHANG));
	EXPECT_EQ(status, res);
	close(pidfd);
}

TEST_F(ring, pidfd_wait_signal_death)
{
	struct gated g = gated_child(_metadata, do_pause);
	int pidfd = zt_pidfd_open(g.pid), res;

	ASSERT_LE(0, pidfd);
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	kill(g.pid, SIGTERM);
	res = reap_res(_metadata, &self->ring);
	EXPECT_TRUE(WIFSIGNALED(res) && WTERMSIG(res) == SIGTERM) TH_LOG("status %#x", res);
	waitpid(g.pid, NULL, 0);
	close(g.gate);
	close(pidfd);
}

TEST_F(ring, pidfd_wait_group_exit_from_another_thread)
{
	struct gated g = gated_child(_metadata, thread_exits_group);
	int pidfd = zt_pidfd_open(g.pid), res;

	ASSERT_LE(0, pidfd);
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	release(&g);
	res = reap_res(_metadata, &self->ring);
	EXPECT_TRUE(WIFEXITED(res) && WEXITSTATUS(res) == 5) TH_LOG("status %#x", res);
	waitpid(g.pid, NULL, 0);
	close(pidfd);
}

TEST_F(ring, pidfd_wait_on_a_zombie_completes_at_submission)
{
	struct gated g = gated_child(_metadata, exit_7);
	int pidfd = zt_pidfd_open(g.pid);
	siginfo_t si;

	ASSERT_LE(0, pidfd);
	release(&g);
	ASSERT_EQ(0, waitid(P_PID, g.pid, &si, WEXITED | WNOWAIT));
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
	EXPECT_EQ(7 << 8, reap_res(_metadata, &self->ring));
	waitpid(g.pid, NULL, 0);
	close(pidfd);
}

/* The status outlives the zombie: reaped before or after the CQE, it is right. */
TEST_F(ring, pidfd_wait_status_survives_the_reap)
{
	struct gated g = gated_child(_metadata, exit_7);
	int pidfd = zt_pidfd_open(g.pid);

	ASSERT_LE(0, pidfd);
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	release(&g);
	ASSERT_EQ(g.pid, waitpid(g.pid, NULL, 0));
	EXPECT_EQ(7 << 8, reap_res(_metadata, &self->ring));
	close(pidfd);
}

TEST_F(ring, pidfd_wait_reaped_before_submission_is_echild)
{
	struct gated g = gated_child(_metadata, exit_7);
	int pidfd = zt_pidfd_open(g.pid);

	ASSERT_LE(0, pidfd);
	release(&g);
	ASSERT_EQ(g.pid, waitpid(g.pid, NULL, 0));
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	EXPECT_EQ(-ECHILD, reap_res(_metadata, &self->ring));
	close(pidfd);
}

/* The waiter need not be the parent: a grandchild, reaped by its parent. */
TEST_F(ring, pidfd_wait_on_a_process_that_is_not_our_child)
{
	int up[2], down[2], pidfd, res;
	pid_t child, grandchild;
	char c = 0;

	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(down, O_CLOEXEC));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct gated g = gated_child(_metadata, exit_7);

		if (write(up[1], &g.pid, sizeof(g.pid)) != sizeof(g.pid) ||
		    read(down[0], &c, 1) != 1)
			_exit(1);
		release(&g);
		_exit(waitpid(g.pid, NULL, 0) == g.pid ? 0 : 2);
	}
	ASSERT_EQ((ssize_t)sizeof(grandchild), read(up[0], &grandchild, sizeof(grandchild)));
	pidfd = zt_pidfd_open(grandchild);
	ASSERT_LE(0, pidfd);
	submit_pidfd_wait(_metadata, &self->ring, pidfd, 1);
	ASSERT_EQ(1, write(down[1], &c, 1));
	res = reap_res(_metadata, &self->ring);
	EXPECT_EQ(7 << 8, res);
	ASSERT_EQ(child, waitpid(child, &res, 0));
	EXPECT_EQ(0, res);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	close(pidfd);
}

/* Pid reuse: the pidfd of a reaped process never reports its successor. */
static int pidfd_wait_reuse_in_pidns(void)
{
	struct zk_ring ring;
	struct zsync_cqe *cqe;
	pid_t a, b;
	int pidfd, res;

	a = fork();
	if (a == 0)
		_exit(3);
	pidfd = zt_pidfd_open(a);
	waitpid(a, NULL, 0);
	if (pidfd < 0)
		return 10;
	b = zt_fork_tid(a);
	if (b < 0)
		return 11;
	if (b == 0)
		_exit(9);
	if (b != a)
		return 12;
	if (zk_ring_init(4, &ring, 0))
		return 13;
	zk_prep_pidfd_wait(zk_get_sqe(&ring), pidfd);
	if (zk_submit_and_wait(&ring, 1) != 1 || zk_wait_cqe(&ring, &cqe))
		return 14;
	res = cqe->res;
	waitpid(b, NULL, 0);
	return res == -ECHILD ? 0 : 15;
}

TEST_F(ring, pidfd_wait_never_reports_the_process_that_reused_the_number)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, unshare(CLONE_NEWPID));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(pidfd_wait_reuse_in_pidns());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d (12: number not reused, 15: wrong res)",
						  WEXITSTATUS(status));
}

TEST_F(ring, pidfd_wait_link_timeout_and_cancel)
{
	struct gated g = gated_child(_metadata, do_pause);
	int pidfd = zt_pidfd_open(g.pid);
	struct zsync_cqe c[3];
	struct zsync_sqe *sqe;

	ASSERT_LE(0, pidfd);
	sqe = zt_linked(zt_sqe(_metadata, &self->ring));
	zk_prep_pidfd_wait(sqe, pidfd);
	zk_sqe_set_data64(sqe, 1);
	zt_link_timeout(_metadata, &self->ring, 2, 50, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 2, -ETIME);

	submit_pidfd_wait(_metadata, &self->ring, pidfd, 3);
	zk_prep_cancel_fd(zt_sqe(_metadata, &self->ring), pidfd, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 3, -ECANCELED);
	zt_check_has(_metadata, c, 2, 0, 1);
	zt_kill_reap(g.pid);
	close(g.gate);
	close(pidfd);
}

TEST_F(ring, pidfd_wait_refuses_what_is_not_a_pidfd)
{
	int efd = eventfd(0, EFD_CLOEXEC), nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int pidfd = zt_pidfd_open(getpid());
	struct zsync_sqe *sqe;

	ASSERT_LE(0, efd);
	ASSERT_LE(0, nsfd);
	ASSERT_LE(0, pidfd);
	submit_pidfd_wait(_metadata, &self->ring, efd, 1);
	EXPECT_EQ(-EINVAL, reap_res(_metadata, &self->ring));
	submit_pidfd_wait(_metadata, &self->ring, nsfd, 1);
	EXPECT_EQ(-EINVAL, reap_res(_metadata, &self->ring));
	submit_pidfd_wait(_metadata, &self->ring, -1, 1);
	EXPECT_EQ(-EBADF, reap_res(_metadata, &self->ring));
	submit_pidfd_wait(_metadata, &self->ring, 999, 1);
	EXPECT_EQ(-EBADF, reap_res(_metadata, &self->ring));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_pidfd_wait(sqe, pidfd);
	sqe->op_flags = 1;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	close(efd);
	close(nsfd);
	close(pidfd);
}

/* ---- NS_SOCKET -------------------------------------------------------------- */

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* A child parked in a new network namespace; returns an fd on that namespace. */
static int netns_child(struct __test_metadata *_metadata, pid_t *pid)
{
	char path[64];
	int fd;

	*pid = zt_spawn_unshared(_metadata, CLONE_NEWNET);
	zt_path(path, sizeof(path), "/proc/%d/ns/net", *pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	return fd;
}

static void prep_socket(struct zsync_sqe *sqe, int nsfd, int type)
{
	zk_prep_ns_socket(sqe, nsfd, AF_UNIX, type, 0);
}

TEST_F(ring, ns_socket_lands_in_the_target_namespace)
{
	pid_t pid;
	int nsfd = netns_child(_metadata, &pid), own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int sfd, skns;

	ASSERT_LE(0, own);
	ASSERT_NE(fd_ino(own), fd_ino(nsfd));
	zk_prep_ns_socket(zt_sqe(_metadata, &self->ring), nsfd, AF_INET,
			  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sfd = zt_one(_metadata, &self->ring);
	ASSERT_LE(0, sfd) TH_LOG("NS_SOCKET: %s", zt_err(sfd));
	skns = ioctl(sfd, SIOCGSKNS);
	ASSERT_LE(0, skns) TH_LOG("SIOCGSKNS: %s", strerror(errno));
	EXPECT_EQ(fd_ino(nsfd), fd_ino(skns));
	EXPECT_TRUE(fcntl(sfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(fcntl(sfd, F_GETFL) & O_NONBLOCK);
	close(skns);
	close(sfd);

	/* Without the flags, neither is set; the socket still works. */
	prep_socket(zt_sqe(_metadata, &self->ring), nsfd, SOCK_STREAM);
	sfd = zt_one(_metadata, &self->ring);
	ASSERT_LE(0, sfd);
	EXPECT_FALSE(fcntl(sfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_FALSE(fcntl(sfd, F_GETFL) & O_NONBLOCK);
	skns = ioctl(sfd, SIOCGSKNS);
	EXPECT_EQ(fd_ino(nsfd), fd_ino(skns));
	close(skns);
	close(sfd);
	zt_kill_reap(pid);
	close(nsfd);
	close(own);
}

/* A chain continuation runs in a worker: the fd is installed by the submitting thread. */
TEST_F(ring, ns_socket_after_an_async_link_installs_in_our_table)
{
	struct zsync_cqe c[2];
	int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, own);
	zt_linked(zt_timeout(_metadata, &self->ring, 1, 20, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS));
	prep_socket(zt_sqe(_metadata, &self->ring), own, SOCK_DGRAM);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	EXPECT_EQ(-ETIME, c[0].res);
	ASSERT_LE(0, c[1].res);
	EXPECT_EQ(0, fcntl(c[1].res, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, close(c[1].res));
	close(own);
}

struct sock_arg {
	int nsfd;
};

static void prep_sock_child(struct zsync_sqe *sqe, void *p)
{
	prep_socket(sqe, ((struct sock_arg *)p)->nsfd, SOCK_DGRAM);
}

static int ring_socket(void *p)
{
	return zt_child_one(prep_sock_child, p);
}

static int setns_socket(void *p)
{
	int fd;

	if (setns(((struct sock_arg *)p)->nsfd, CLONE_NEWNET))
		return errno;
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	return fd < 0 ? errno : 0;
}

TEST_F(ring, ns_socket_needs_net_admin_over_the_target)
{
	struct zt_child_opts nobody = { .uid = ZT_NOBODY };
	struct sock_arg a;
	pid_t pid;

	a.nsfd = netns_child(_metadata, &pid);
	/* setns(2) as the same user is refused too. */
	EXPECT_EQ(EPERM, zt_child(_metadata, &nobody, setns_socket, &a));
	EXPECT_EQ(EPERM, zt_child(_metadata, &nobody, ring_socket, &a));
	/* Root (CAP_NET_ADMIN in the owning, initial user namespace) may. */
	EXPECT_EQ(0, zt_child(_metadata, &(struct zt_child_opts){ 0 }, ring_socket, &a));
	close(a.nsfd);
	/* Its own namespace is plain socket(2): no privilege needed. */
	a.nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, a.nsfd);
	EXPECT_EQ(0, zt_child(_metadata, &nobody, ring_socket, &a));
	close(a.nsfd);
	zt_kill_reap(pid);
}

static int userns_netns_as_nobody(void *unused)
{
	return setresgid(ZT_NOBODY, ZT_NOBODY, ZT_NOBODY) ||
	       setresuid(ZT_NOBODY, ZT_NOBODY, ZT_NOBODY) ||
	       unshare(CLONE_NEWUSER | CLONE_NEWNET);
}

/*
 * A netns created by an unprivileged user inside its own user namespace:
 * that user (its owner, from the parent user namespace) may create sockets
 * in it, another unprivileged user may not.
 */
TEST_F(ring, ns_socket_owner_of_the_user_namespace_may)
{
	struct zt_child_opts owner = { .uid = ZT_NOBODY }, other = { .uid = ZT_NOBODY - 1 };
	struct sock_arg a;
	char path[64];
	bool ok;
	pid_t pid = zt_park(_metadata, userns_netns_as_nobody, NULL, ZT_CHILD_PAUSE, -1, &ok);

	if (!ok) {
		zt_kill_reap(pid);
		SKIP(return, "unprivileged user namespaces are not available");
	}
	zt_path(path, sizeof(path), "/proc/%d/ns/net", pid);
	a.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, a.nsfd);
	EXPECT_EQ(0, zt_child(_metadata, &owner, ring_socket, &a));
	EXPECT_EQ(EPERM, zt_child(_metadata, &other, ring_socket, &a));
	close(a.nsfd);
	zt_kill_reap(pid);
}

TEST_F(ring, ns_socket_refuses_what_is_not_a_netns)
{
	int userns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	struct zsync_sqe *sqe;

	ASSERT_LE(0, userns);
	ASSERT_LE(0, own);
	ASSERT_LE(0, file);
	prep_socket(zt_sqe(_metadata, &self->ring), userns, SOCK_DGRAM);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	prep_socket(zt_sqe(_metadata, &self->ring), file, SOCK_DGRAM);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	prep_socket(zt_sqe(_metadata, &self->ring), -1, SOCK_DGRAM);
	EXPECT_EQ(-EBADF, zt_one(_metadata, &self->ring));
	prep_socket(zt_sqe(_metadata, &self->ring), own, SOCK_DGRAM | 0x100);
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	zk_prep_ns_socket(zt_sqe(_metadata, &self->ring), own, 200, SOCK_DGRAM, 0);
	EXPECT_EQ(-EAFNOSUPPORT, zt_one(_metadata, &self->ring));
	sqe = zt_sqe(_metadata, &self->ring);
	prep_socket(sqe, own, SOCK_DGRAM);
	sqe->off = 1ULL << 32;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	sqe = zt_sqe(_metadata, &self->ring);
	prep_socket(sqe, own, SOCK_DGRAM);
	sqe->addr = 1;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	close(userns);
	close(own);
	close(file);
}

/* ---- NS_INFO ---------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned int type;
} ns_types[] = {
	{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "mnt", CLONE_NEWNS },
	{ "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "pid_for_children", CLONE_NEWPID },
	{ "time", CLONE_NEWTIME }, { "time_for_children", CLONE_NEWTIME },
	{ "user", CLONE_NEWUSER }, { "uts", CLONE_NEWUTS },
};

static int ns_info(struct __test_metadata *_metadata, struct zk_ring *ring, int fd,
		   struct zsync_ns_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	zk_prep_ns_info(zt_sqe(_metadata, ring), fd, info);
	return zt_one(_metadata, ring);
}

TEST_F(ring, ns_info_matches_stat_for_every_namespace)
{
	int userfd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	struct zsync_ns_info info;
	unsigned int i;

	ASSERT_LE(0, userfd);
	for (i = 0; i < ARRAY_SIZE(ns_types); i++) {
		char path[64];
		struct stat st;
		int fd;

		zt_path(path, sizeof(path), "/proc/self/ns/%s", ns_types[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* time: kernel without time namespaces */
		ASSERT_EQ(0, fstat(fd, &st));
		ASSERT_EQ(0, ns_info(_metadata, &self->ring, fd, &info));
		EXPECT_EQ(ns_types[i].type, info.type) TH_LOG("%s", path);
		EXPECT_EQ((__u64)st.st_ino, info.ino) TH_LOG("%s", path);
		EXPECT_EQ(major(st.st_dev), info.dev_major) TH_LOG("%s", path);
		EXPECT_EQ(minor(st.st_dev), info.dev_minor) TH_LOG("%s", path);
		/* Everything here is owned by the initial user namespace, which has no owner. */
		EXPECT_EQ(ns_types[i].type == CLONE_NEWUSER ? 0 : (__u64)fd_ino(userfd),
			  info.owner_ino) TH_LOG("%s", path);
		EXPECT_EQ(0u, info.resv0);
		EXPECT_EQ(0u, info.resv[0] | info.resv[1] | info.resv[2] | info.resv[3]);
		close(fd);
	}
	close(userfd);
}

/* An owner outside the submitter's user namespace is not shown (as NS_GET_USERNS). */
static int owner_hidden_in_userns(void *unused)
{
	struct zk_ring ring;
	struct zsync_ns_info info, mine;
	struct zsync_cqe *cqe;
	int outer = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), inner, userfd, i;

	if (outer < 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return 10;
	inner = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	userfd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	if (inner < 0 || userfd < 0 || zk_ring_init(4, &ring, 0))
		return 11;
	for (i = 0; i < 2; i++) {
		zk_prep_ns_info(zk_get_sqe(&ring), i ? inner : outer, i ? &mine : &info);
		if (zk_submit_and_wait(&ring, 1) != 1 || zk_wait_cqe(&ring, &cqe) || cqe->res)
			return 12;
		zk_cqe_seen(&ring, cqe);
	}
	if (info.owner_ino != 0)
		return 13;
	return mine.owner_ino == fd_ino(userfd) ? 0 : 14;
}

TEST_F(ring, ns_info_hides_an_owner_outside_our_user_namespace)
{
	int r = zt_child(_metadata, &(struct zt_child_opts){ 0 }, owner_hidden_in_userns, NULL);

	EXPECT_EQ(0, r) TH_LOG("step %d (13: outer owner shown, 14: own owner wrong)", r);
}

/*
 * lsns(8) reads the same facts from /proc: NS column and TYPE must agree.
 * lsns walks every process's namespaces: slow on the debug kernel.
 */
TEST_F_TIMEOUT(ring, ns_info_agrees_with_lsns, 300)
{
	struct zsync_ns_info info;
	char cmd[128], type[32], line[256];
	unsigned long long ino;
	unsigned int checked = 0, i;
	pid_t pid;
	FILE *f;
	int nsfd = netns_child(_metadata, &pid);

	close(nsfd);
	if (access("/usr/bin/lsns", X_OK))
		SKIP(goto out, "no /usr/bin/lsns");
	zt_path(cmd, sizeof(cmd), "/usr/bin/lsns -n -r -o NS,TYPE -p %d", pid);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		char path[64];
		int fd;

		if (sscanf(line, "%llu %31s", &ino, type) != 2)
			continue;
		zt_path(path, sizeof(path), "/proc/%d/ns/%s", pid, type);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%s", path);
		ASSERT_EQ(0, ns_info(_metadata, &self->ring, fd, &info));
		EXPECT_EQ(ino, info.ino) TH_LOG("lsns says %s is %llu", type, ino);
		for (i = 0; i < ARRAY_SIZE(ns_types); i++)
			if (!strcmp(ns_types[i].name, type))
				EXPECT_EQ(ns_types[i].type, info.type) TH_LOG("%s", type);
		close(fd);
		checked++;
	}
	EXPECT_EQ(0, pclose(f));
	EXPECT_LE(7u, checked) TH_LOG("lsns listed %u namespaces", checked);
out:
	zt_kill_reap(pid);
}

TEST_F(ring, ns_info_refuses_bad_fds_and_pointers)
{
	int file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	int ns = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	struct zsync_ns_info info;
	struct zsync_sqe *sqe;

	ASSERT_LE(0, file);
	ASSERT_LE(0, ns);
	EXPECT_EQ(-EINVAL, ns_info(_metadata, &self->ring, file, &info));
	EXPECT_EQ(-EBADF, ns_info(_metadata, &self->ring, -1, &info));
	zk_prep_ns_info(zt_sqe(_metadata, &self->ring), ns, NULL);
	EXPECT_EQ(-EFAULT, zt_one(_metadata, &self->ring));
	zk_prep_ns_info(zt_sqe(_metadata, &self->ring), ns, (struct zsync_ns_info *)8);
	EXPECT_EQ(-EFAULT, zt_one(_metadata, &self->ring));
	sqe = zt_sqe(_metadata, &self->ring);
	zk_prep_ns_info(sqe, ns, &info);
	sqe->len = 1;
	EXPECT_EQ(-EINVAL, zt_one(_metadata, &self->ring));
	close(file);
	close(ns);
}

TEST_HARNESS_MAIN
