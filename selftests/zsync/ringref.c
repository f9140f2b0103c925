// SPDX-License-Identifier: GPL-2.0
/*
 * No request may keep a ring alive: a ring whose own requests name its fd
 * (MSG_RING to itself, FSYNC or READ of it, a ring as the directory of an
 * OPENAT...), or two rings whose requests name each other, must still be
 * torn down when the last process holding them exits.  Each scenario runs
 * in a child, as uid 65534 when the test runs as root, that chains the op
 * behind a TIMEOUT of an hour and exits; the module's open-ring count
 * (ZSYNC_IOC_STATS) and its module reference count must come back to
 * what they were.  Every opcode PROBE reports is tried, so an op added
 * later is covered too.
 */
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "helpers.h"
#include "devaccess.h"

#define BACK_MS		5000	/* a released ring is gone well before this */

static long rings_open(int fd)
{
	struct zsync_stats st;

	memset(&st, 0, sizeof(st));
	if (zt_ioctl(fd, ZSYNC_IOC_STATS, &st))
		return -1;
	return (long)st.rings_open;
}

static long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zsync/refcnt", "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Waits (bounded) until both counts are back at @open0 / @ref0. */
static bool back_to(int stats_fd, long open0, long ref0, long *open1, long *ref1)
{
	int64_t start = zt_mono_ns();

	for (;;) {
		*open1 = rings_open(stats_fd);
		*ref1 = module_refcnt();
		if (*open1 == open0 && *ref1 == ref0)
			return true;
		if (zt_ms_since(start) > BACK_MS)
			return false;
		zt_sleep_ms(10);
	}
}

static void drop_to_nobody(void)
{
	if (geteuid() != 0)
		return;
	/* Keeps the device's group, as a member of group zsync would. */
	if (zt_setgroups_dev() || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		_exit(90);
}

/* A TIMEOUT of an hour that @sqe's op waits behind. */
static void hour_timeout(struct zsync_sqe *sqe)
{
	struct zsync_timespec *t = zt_ts_slot();

	*t = zt_ts_ms(3600 * 1000);
	zk_prep_timeout(sqe, t, 0, 0);
	sqe->flags |= ZSYNC_SQE_LINK;
}

/* A buffer every field pointing to user memory may name. */
static char scratch[4096] = "x";

/* @op naming @fd, with @addr in case the op reads a user pointer. */
static void prep_naming(struct zsync_sqe *sqe, int op, int fd, void *addr, __u64 ud)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = (__u8)op;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)addr;
	sqe->user_data = ud;
}

/*
 * Child: @op naming its own ring's fd, chained behind the hour TIMEOUT and
 * on its own; once with addr 0 and once pointing to a buffer, since an op
 * that does not read addr refuses it set and one that needs it refuses it
 * zero.  Exits without closing anything.
 */
static void child_self(int op)
{
	struct zk_ring ring;
	int i;

	drop_to_nobody();
	if (zk_ring_init(8, &ring, 0) < 0)
		_exit(91);
	for (i = 0; i < 2; i++) {
		void *addr = i ? scratch : NULL;

		hour_timeout(zk_get_sqe(&ring));
		prep_naming(zk_get_sqe(&ring), op, ring.fd, addr, 10 + i);
		prep_naming(zk_get_sqe(&ring), op, ring.fd, addr, 20 + i);
	}
	if (zk_submit(&ring) != 6)
		_exit(92);
	_exit(0);
}

/* Child: rings A and B, each with a MSG_RING to the other behind a TIMEOUT. */
static void child_pair(void)
{
	struct zk_ring a, b;

	drop_to_nobody();
	if (zk_ring_init(8, &a, 0) < 0 || zk_ring_init(8, &b, 0) < 0)
		_exit(91);
	hour_timeout(zk_get_sqe(&a));
	zk_prep_msg_ring(zk_get_sqe(&a), b.fd, 1, 1);
	hour_timeout(zk_get_sqe(&b));
	zk_prep_msg_ring(zk_get_sqe(&b), a.fd, 2, 2);
	if (zk_submit(&a) != 2 || zk_submit(&b) != 2)
		_exit(92);
	/* Only the requests hold the rings from here. */
	close(a.fd);
	close(b.fd);
	_exit(0);
}

/* Sends @fd over @sock with SCM_RIGHTS, and one byte. */
static int send_fd(int sock, int fd)
{
	char data = 'r', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

/*
 * Child: a RECV on one end of a socket pair waits behind the hour TIMEOUT,
 * so the request holds that socket; the ring's own fd is then sent with
 * SCM_RIGHTS into that socket's queue.  The socket holds the ring, the
 * request the socket.  With @close_first the ring fd is closed before the
 * exit.
 */
static void child_scm(int close_first)
{
	static char buf[16];
	struct zk_ring r;
	struct zsync_sqe *sqe;
	int sv[2];

	drop_to_nobody();
	if (zk_ring_init(8, &r, 0) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		_exit(91);
	hour_timeout(zk_get_sqe(&r));
	sqe = zk_get_sqe(&r);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = ZSYNC_OP_RECV;
	sqe->fd = sv[0];
	sqe->addr = (__u64)(uintptr_t)buf;
	sqe->len = sizeof(buf);
	if (zk_submit(&r) != 2)
		_exit(92);
	if (send_fd(sv[1], r.fd))
		_exit(93);
	close(sv[0]);
	close(sv[1]);
	if (close_first)
		close(r.fd);
	_exit(0);
}

/*
 * Child: the CQ ring is filled with NOPs, the ring's fd is sent into one
 * end of a socket pair, then a POLL_ADD (POLLOUT: ready at once) on that
 * end completes while the CQ ring is full, so its CQE waits in the
 * overflow list.  @how: bit 0, the POLL_ADD is lone (posted with the
 * submission's batch) or behind a linked NOP (posted on its own); bit 1,
 * the ring fd is closed before the exit.  A completed request whose CQE
 * nobody reads must not keep the socket, which keeps the ring.
 */
static void child_scm_overflow(int how)
{
	struct zsync_params p;
	struct zsync_sqe *sqe;
	struct zk_ring r;
	unsigned int i;
	int sv[2];

	drop_to_nobody();
	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 2;
	if (zk_ring_init_params(2, &r, &p) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		_exit(91);
	for (i = 0; i < 2; i++)
		zk_prep_nop(zk_get_sqe(&r));
	if (zk_submit(&r) != 2 || send_fd(sv[1], r.fd))
		_exit(92);
	if (how & 1) {
		sqe = zk_get_sqe(&r);
		zk_prep_nop(sqe);
		sqe->flags |= ZSYNC_SQE_LINK;
	}
	sqe = zk_get_sqe(&r);
	prep_naming(sqe, ZSYNC_OP_POLL_ADD, sv[0], NULL, 7);
	sqe->len = POLLOUT;
	if (zk_submit(&r) != 1 + (how & 1))
		_exit(93);
	close(sv[0]);
	close(sv[1]);
	if (how & 2)
		close(r.fd);
	_exit(0);
}

static int run_child(void (*fn)(int), int arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		fn(arg);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void pair_trampoline(int unused)
{
	(void)unused;
	child_pair();
}

FIXTURE(ringref) {
	int fd;		/* for STATS; counted in the baseline */
};

FIXTURE_SETUP(ringref)
{
	self->fd = zt_open_dev(_metadata);
	if (module_refcnt() < 0)
		SKIP(return, "no /sys/module/zsync/refcnt (module built in?)");
	if (rings_open(self->fd) < 0)
		SKIP(return, "ZSYNC_IOC_STATS not supported");
}

FIXTURE_TEARDOWN(ringref)
{
	close(self->fd);
}

/* Every op given its own ring's fd: none may keep the ring. */
TEST_F(ringref, every_op_naming_its_ring)
{
	struct zsync_probe pr;
	unsigned int op;
	int tried = 0, leaked = 0;

	memset(&pr, 0, sizeof(pr));
	ASSERT_EQ(0, zt_ioctl(self->fd, ZSYNC_IOC_PROBE, &pr));
	for (op = 0; op < pr.last_op && op < 256; op++) {
		long open0, ref0, open1, ref1;
		int st;

		if (!(pr.ops[op / 64] & (1ULL << (op % 64))))
			continue;
		open0 = rings_open(self->fd);
		ref0 = module_refcnt();
		st = run_child(child_self, (int)op);
		EXPECT_EQ(0, st) TH_LOG("op %u: child failed (%d)", op, st);
		tried++;
		if (!back_to(self->fd, open0, ref0, &open1, &ref1)) {
			leaked++;
			EXPECT_TRUE(false) TH_LOG("op %u naming its own ring kept it: rings_open %ld -> %ld, module refcnt %ld -> %ld",
						 op, open0, open1, ref0, ref1);
		}
	}
	EXPECT_LT(10, tried);
	EXPECT_EQ(0, leaked);
}

/* A -> B -> A through MSG_RING: neither ring may keep the other. */
TEST_F(ringref, msg_ring_pair_cycle)
{
	long open0 = rings_open(self->fd), ref0 = module_refcnt(), open1, ref1;
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, run_child(pair_trampoline, 0));
	EXPECT_TRUE(back_to(self->fd, open0, ref0, &open1, &ref1))
		TH_LOG("rings_open %ld -> %ld, module refcnt %ld -> %ld", open0, open1, ref0, ref1);
}

/* A ring fd sent into a socket that one of its requests holds. */
TEST_F(ringref, scm_rights_into_held_socket)
{
	long open0 = rings_open(self->fd), ref0 = module_refcnt(), open1, ref1;
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, run_child(child_scm, i & 1));
	EXPECT_TRUE(back_to(self->fd, open0, ref0, &open1, &ref1))
		TH_LOG("rings_open %ld -> %ld, module refcnt %ld -> %ld", open0, open1, ref0, ref1);
}

/*
 * The same cycle through a completed request: its CQE waits in the
 * overflow list (found by zsync-fuzz, scenario scm-loop).
 */
TEST_F(ringref, scm_rights_into_socket_of_overflowed_cqe)
{
	long open0 = rings_open(self->fd), ref0 = module_refcnt(), open1, ref1;
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, run_child(child_scm_overflow, i & 3)) TH_LOG("variant %d", i & 3);
	EXPECT_TRUE(back_to(self->fd, open0, ref0, &open1, &ref1))
		TH_LOG("rings_open %ld -> %ld, module refcnt %ld -> %ld", open0, open1, ref0, ref1);
}

/* MSG_RING still reaches a live ring, itself included, without its file. */
TEST_F(ringref, msg_ring_still_posts)
{
	struct zk_ring a, b;
	struct zsync_sqe *sqe;
	struct zsync_cqe c[3];

	zt_ring(_metadata, &a, 8, 0);
	zt_ring(_metadata, &b, 8, 0);
	sqe = zt_sqe(_metadata, &a);
	zk_prep_msg_ring(sqe, b.fd, 77, 5);
	zk_sqe_set_data64(sqe, 1);
	sqe = zt_sqe(_metadata, &a);
	zk_prep_msg_ring(sqe, a.fd, 78, 6);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &a, 2);
	zt_reap(_metadata, &b, c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(77ULL, c[0].user_data);
	EXPECT_EQ(5, c[0].res);
	/* Its own two CQEs and the message to itself. */
	zt_reap(_metadata, &a, c, 3, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 3, 1, 0);
	zt_check_has(_metadata, c, 3, 2, 0);
	zt_check_has(_metadata, c, 3, 78, 6);
	zk_ring_exit(&a);
	zk_ring_exit(&b);
}

/* A ring fd where an op would hold the file: -EBADF at prep. */
TEST_F(ringref, ring_fd_refused)
{
	struct zk_ring r;
	struct zsync_sqe *sqe;
	struct zsync_cqe c;
	char buf[8];

	zt_ring(_metadata, &r, 8, 0);
	sqe = zt_sqe(_metadata, &r);
	zk_prep_read(sqe, r.fd, buf, sizeof(buf), 0);
	zk_sqe_set_data64(sqe, 1);
	zt_submit(_metadata, &r, 1);
	zt_reap(_metadata, &r, &c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(-EBADF, c.res);
	sqe = zt_sqe(_metadata, &r);
	zk_prep_openat(sqe, r.fd, "x", O_RDONLY, 0);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, &r, 1);
	zt_reap(_metadata, &r, &c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(-EBADF, c.res);
	zk_ring_exit(&r);
}

TEST_HARNESS_MAIN
