// SPDX-License-Identifier: GPL-2.0
/*
 * Event sources through user events: SOURCE_WAIT is multishot with one
 * CQE flagged MORE per signal and every 32-bit value intact; every armed
 * ring gets every signal; the wait ends exactly once (cancel, ring close,
 * overflow), never because a descriptor was closed; SQE and ioctl checks;
 * waiters in
 * other processes (fork, SCM_RIGHTS) and threads wake; signal, cancel and
 * close racing each other keep the MORE-then-terminal rule.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "helpers.h"

/* A new user event; skips without the device. */
static int src_create(struct __test_metadata *_metadata, struct zk_ring *ring)
{
	int fd = zk_source_create(ring, ZSYNC_SOURCE_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("ZSYNC_IOC_SOURCE_CREATE: %s", zt_err(fd));
	return fd;
}

/* A SOURCE_WAIT SQE on @src with user_data @ud, not submitted. */
static struct zsync_sqe *wait_sqe(struct __test_metadata *_metadata,
				  struct zk_ring *ring, int src, __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

	zk_prep_source_wait(sqe, src);
	zk_sqe_set_data64(sqe, ud);
	return sqe;
}

static void arm(struct __test_metadata *_metadata, struct zk_ring *ring,
		int src, __u64 ud)
{
	wait_sqe(_metadata, ring, src, ud);
	zt_submit(_metadata, ring, 1);
}

/* ioctl signal that must reach @want waiters. */
static void signal_want(struct __test_metadata *_metadata, int src, __u32 value,
			int want)
{
	int ret = zk_source_signal(src, value);

	ASSERT_EQ(want, ret) TH_LOG("signal %#x: expected %d waiters reached, got %s",
				    value, want, zt_err(ret));
}

/* Reap one CQE that must be a value CQE (MORE) of @ud carrying @value. */
static void expect_value(struct __test_metadata *_metadata, struct zk_ring *ring,
			 __u64 ud, __u32 value)
{
	struct zsync_cqe c;

	zt_reap(_metadata, ring, &c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(ud, c.user_data) TH_LOG("expected user_data %#llx, got %#llx (res %s)",
					  (unsigned long long)ud,
					  (unsigned long long)c.user_data, zt_err(c.res));
	EXPECT_NE(0u, c.flags & ZSYNC_CQE_F_MORE)
		TH_LOG("value CQE of %#llx without MORE: res %s flags %#x",
		       (unsigned long long)ud, zt_err(c.res), c.flags);
	EXPECT_LE(0, c.res) TH_LOG("value CQE with negative res %d", c.res);
	EXPECT_EQ(value, zk_cqe_source_value(&c))
		TH_LOG("expected value %#x, got %#x (res %#x flags %#x)", value,
		       zk_cqe_source_value(&c), (unsigned int)c.res, c.flags);
}

/* CANCEL the wait @ud: the CANCEL's CQE (1) and the wait's (-ECANCELED). */
static void cancel_wait(struct __test_metadata *_metadata, struct zk_ring *ring, __u64 ud)
{
	struct zsync_sqe *sqe = zt_sqe(_metadata, ring);
	struct zsync_cqe c[2];

	zk_prep_cancel(sqe, ud, 0);
	zk_sqe_set_data64(sqe, ~0ULL);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, ud, -ECANCELED);
	zt_check_has(_metadata, c, 2, ~0ULL, 1);
}

static unsigned int fdinfo_waiters(struct __test_metadata *_metadata, int src)
{
	unsigned int v = ~0u;
	int ret = zt_fdinfo(src, "waiters", &v);

	EXPECT_EQ(0, ret) TH_LOG("fdinfo waiters of the source: %s", zt_err(ret));
	return v;
}

ZT_RING_FIXTURE(64)

TEST_F(ring, probe_lists_the_source_ops)
{
	struct zsync_probe p;

	ASSERT_EQ(0, zk_probe(&self->ring, &p));
	EXPECT_TRUE(zk_probe_has_op(&p, ZSYNC_OP_SOURCE_WAIT));
	EXPECT_TRUE(zk_probe_has_op(&p, ZSYNC_OP_SOURCE_SIGNAL));
}

TEST_F(ring, wait_gets_one_more_cqe_per_signal_until_cancelled)
{
	struct zk_ring *ring = &self->ring;
	int src = src_create(_metadata, ring);
	struct zsync_sqe *sqe;
	struct zsync_cqe c[2];
	int at;

	arm(_metadata, ring, src, 1);
	zt_expect_no_cqe(_metadata, ring, 20);
	EXPECT_EQ(1u, fdinfo_waiters(_metadata, src));
	signal_want(_metadata, src, 7, 1);
	expect_value(_metadata, ring, 1, 7);
	signal_want(_metadata, src, 8, 1);
	expect_value(_metadata, ring, 1, 8);

	/* SOURCE_SIGNAL through the ring: its res is the waiters reached. */
	sqe = zt_sqe(_metadata, ring);
	zk_prep_source_signal(sqe, src, 9);
	zk_sqe_set_data64(sqe, 2);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 2, ZT_PROMPT_MS);
	/* The wait's CQE is posted while the signal runs, before the signal's own. */
	EXPECT_EQ(1u, c[0].user_data);
	EXPECT_EQ(9u, zk_cqe_source_value(&c[0]));
	EXPECT_EQ(ZSYNC_CQE_F_MORE, c[0].flags);
	zt_check_cqe(_metadata, &c[1], 1, 2, 1);

	zk_prep_cancel(zt_sqe(_metadata, ring), 1, 0);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 2, ZT_PROMPT_MS);
	at = zt_find_cqe(c, 2, 1);
	ASSERT_LE(0, at);
	zt_check_cqe(_metadata, &c[at], at, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[!at], !at, 0, 1);
	signal_want(_metadata, src, 10, 0);
	zt_expect_no_cqe(_metadata, ring, 50);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, src));
	close(src);
}

TEST_F(ring, values_keep_all_32_bits)
{
	static const __u32 values[] = { 0, 1, 0x7fffffff, 0x80000000, 0x80000001,
					0xdeadbeef, 0xffffffff };
	struct zk_ring *ring = &self->ring;
	int src = src_create(_metadata, ring);
	unsigned int i;

	arm(_metadata, ring, src, 5);
	for (i = 0; i < ARRAY_SIZE(values); i++) {
		signal_want(_metadata, src, values[i], 1);
		expect_value(_metadata, ring, 5, values[i]);
	}
	cancel_wait(_metadata, ring, 5);
	close(src);
}

TEST(every_armed_waiter_gets_every_signal_in_order)
{
	struct zk_ring rings[3];
	unsigned int i, n, r;
	int src;

	for (r = 0; r < 3; r++)
		zt_ring(_metadata, &rings[r], 256, 0);
	src = src_create(_metadata, &rings[0]);
	for (r = 0; r < 3; r++)
		arm(_metadata, &rings[r], src, 100 + r);
	/* Two waiters in one ring: both get every signal. */
	arm(_metadata, &rings[2], src, 200);
	EXPECT_EQ(4u, fdinfo_waiters(_metadata, src));
	for (n = 0; n < 100; n++)
		signal_want(_metadata, src, 1000 + n, 4);
	for (r = 0; r < 3; r++) {
		struct zsync_cqe c[200];
		unsigned int got = r == 2 ? 200 : 100, seen[2] = { 0, 0 };

		zt_reap(_metadata, &rings[r], c, got, ZT_PROMPT_MS);
		for (i = 0; i < got; i++) {
			unsigned int w = c[i].user_data == 200;

			ASSERT_TRUE(c[i].user_data == 100 + r || c[i].user_data == 200);
			EXPECT_EQ(ZSYNC_CQE_F_MORE, c[i].flags);
			EXPECT_EQ(1000 + seen[w], zk_cqe_source_value(&c[i]))
				TH_LOG("ring %u waiter %llu: CQE %u out of order", r,
				       (unsigned long long)c[i].user_data, seen[w]);
			seen[w]++;
		}
		zt_expect_no_cqe(_metadata, &rings[r], 10);
	}
	/* Closing the rings ends their waits. */
	for (r = 0; r < 3; r++)
		zk_ring_exit(&rings[r]);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, src));
	close(src);
}

/* As for every op, a wait holds its file: close(fd) ends nothing, CANCEL_FD does. */
TEST_F(ring, closing_the_event_does_not_end_its_waits)
{
	struct zk_ring *ring = &self->ring;
	int src = src_create(_metadata, ring);
	int dup_fd = dup(src), src_no = src;
	struct zsync_sqe *sqe;
	struct zsync_cqe c[3];

	ASSERT_LE(0, dup_fd);
	arm(_metadata, ring, src, 1);
	arm(_metadata, ring, dup_fd, 2);
	close(src);
	zt_expect_no_cqe(_metadata, ring, 50);
	signal_want(_metadata, dup_fd, 3, 2);
	expect_value(_metadata, ring, 1, 3);
	expect_value(_metadata, ring, 2, 3);
	close(dup_fd);
	zt_expect_no_cqe(_metadata, ring, 50);
	/* The descriptor number the wait named still matches. */
	sqe = zt_sqe(_metadata, ring);
	zk_prep_cancel_fd(sqe, src_no, 0);
	zk_sqe_set_data64(sqe, 9);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 1, -ECANCELED);
	zt_check_has(_metadata, c, 2, 9, 1);
	cancel_wait(_metadata, ring, 2);
	zt_expect_no_cqe(_metadata, ring, 50);
}

TEST_F(ring, ring_close_with_waiters_armed_unlinks_them)
{
	struct zk_ring other;
	int src = src_create(_metadata, &self->ring);

	zt_ring(_metadata, &other, 8, 0);
	arm(_metadata, &other, src, 1);
	arm(_metadata, &other, src, 2);
	arm(_metadata, &self->ring, src, 3);
	EXPECT_EQ(3u, fdinfo_waiters(_metadata, src));
	zk_ring_exit(&other);
	EXPECT_EQ(1u, fdinfo_waiters(_metadata, src));
	signal_want(_metadata, src, 4, 1);
	expect_value(_metadata, &self->ring, 3, 4);
	cancel_wait(_metadata, &self->ring, 3);
	close(src);
}

TEST_F(ring, cancel_by_fd_and_all)
{
	struct zk_ring *ring = &self->ring;
	int src = src_create(_metadata, ring);
	struct zsync_cqe c[4];
	unsigned int i;

	arm(_metadata, ring, src, 1);
	arm(_metadata, ring, src, 2);
	arm(_metadata, ring, src, 3);
	zk_prep_cancel_fd(zt_sqe(_metadata, ring), src, ZSYNC_CANCEL_ALL);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 4, ZT_PROMPT_MS);
	for (i = 1; i <= 3; i++)
		zt_check_has(_metadata, c, 4, i, -ECANCELED);
	zt_check_has(_metadata, c, 4, 0, 3);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, src));
	close(src);
	zt_expect_no_cqe(_metadata, ring, 50);
}

/* A CQ of 8: 8 CQEs fit, the backlog holds multishot_backlog, then -EOVERFLOW. */
TEST(full_cq_and_backlog_end_the_wait_with_eoverflow)
{
	unsigned int backlog = zt_module_param("multishot_backlog", 32), i, n;
	struct zsync_params p;
	struct zk_ring ring;
	struct zsync_cqe c;
	int src;

	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 8;
	zt_ring_params(_metadata, &ring, 8, &p);
	src = src_create(_metadata, &ring);
	arm(_metadata, &ring, src, 9);
	n = 8 + backlog;
	for (i = 0; i < n; i++)
		signal_want(_metadata, src, i, 1);
	EXPECT_TRUE(zk_cq_overflowed(&ring));
	/* No room and no slot: this signal is not delivered; the wait ends. */
	signal_want(_metadata, src, n, 0);
	signal_want(_metadata, src, n + 1, 0);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, src));
	for (i = 0; i < n; i++)
		expect_value(_metadata, &ring, 9, i);
	zt_reap(_metadata, &ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, n, 9, -EOVERFLOW);
	zt_expect_no_cqe(_metadata, &ring, 50);
	close(src);
	zk_ring_exit(&ring);
}

TEST(more_waiters_than_max_source_waiters_is_enospc)
{
	unsigned int max = zt_module_param("max_source_waiters", 1024), i;
	struct zsync_params p;
	struct zk_ring ring;
	struct zsync_cqe c;
	int src;

	if (max > 4096)
		SKIP(return, "max_source_waiters %u: too many to arm here", max);
	memset(&p, 0, sizeof(p));
	p.flags = ZSYNC_SETUP_CQSIZE;
	p.cq_entries = 8192;
	zt_ring_params(_metadata, &ring, 4096, &p);
	src = src_create(_metadata, &ring);
	for (i = 0; i <= max; i++)
		wait_sqe(_metadata, &ring, src, i);
	zt_submit(_metadata, &ring, (int)max + 1);
	zt_reap(_metadata, &ring, &c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c, 0, max, -ENOSPC);
	EXPECT_EQ(max, fdinfo_waiters(_metadata, src));
	zk_ring_exit(&ring);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, src));
	close(src);
}

TEST_F(ring, bad_sqes_and_ioctls_are_refused)
{
	struct zk_ring *ring = &self->ring;
	int src = src_create(_metadata, ring);
	struct zsync_source_create cr;
	struct zsync_source_signal sg;
	struct zsync_sqe *sqe;
	struct zsync_cqe c[8];
	unsigned int i;
	int ret;

	zk_prep_source_wait(zt_sqe(_metadata, ring), -1);		/* ud 0: -EBADF */
	zk_prep_source_wait(sqe = zt_sqe(_metadata, ring), 1000);	/* closed: -EBADF */
	sqe->user_data = 1;
	zk_prep_source_wait(sqe = zt_sqe(_metadata, ring), ring->fd);	/* a ring */
	sqe->user_data = 2;
	zk_prep_source_wait(sqe = zt_sqe(_metadata, ring), src);
	sqe->op_flags = 1;
	sqe->user_data = 3;
	zk_prep_source_wait(sqe = zt_sqe(_metadata, ring), src);
	sqe->len = 1;
	sqe->user_data = 4;
	zk_prep_source_signal(sqe = zt_sqe(_metadata, ring), src, 1);
	sqe->op_flags = 1;
	sqe->user_data = 5;
	zk_prep_source_signal(sqe = zt_sqe(_metadata, ring), src, 1);
	sqe->addr = 1;
	sqe->user_data = 6;
	zk_prep_source_signal(sqe = zt_sqe(_metadata, ring), ring->fd, 1);
	sqe->user_data = 7;
	zt_submit(_metadata, ring, 8);
	zt_reap(_metadata, ring, c, 8, ZT_PROMPT_MS);
	for (i = 0; i < 8; i++)
		/* A ring (ud 2, 7) is refused as no op holds one (ops.rst, Ring fds). */
		zt_check_cqe(_metadata, &c[i], i, i, i < 2 || i == 2 || i == 7 ? -EBADF : -EINVAL);

	memset(&cr, 0, sizeof(cr));
	cr.flags = 1u << 7;
	EXPECT_EQ(-EINVAL, zt_ioctl(ring->fd, ZSYNC_IOC_SOURCE_CREATE, &cr));
	cr.flags = 0;
	cr.resv[6] = 1;
	EXPECT_EQ(-EINVAL, zt_ioctl(ring->fd, ZSYNC_IOC_SOURCE_CREATE, &cr));
	memset(&sg, 0, sizeof(sg));
	sg.resv[2] = 1;
	EXPECT_EQ(-EINVAL, zt_ioctl(src, ZSYNC_IOC_SOURCE_SIGNAL, &sg));
	EXPECT_EQ(-EFAULT, zt_ioctl(src, ZSYNC_IOC_SOURCE_SIGNAL, NULL));
	EXPECT_EQ(-ENOTTY, zt_ioctl(src, ZSYNC_IOC_ENTER, &sg));
	/* SIGNAL on a ring fd is not a ring ioctl. */
	EXPECT_EQ(-ENOTTY, zt_ioctl(ring->fd, ZSYNC_IOC_SOURCE_SIGNAL, &sg));
	ret = zk_source_signal(src, 0);
	EXPECT_EQ(0, ret) TH_LOG("signal without waiters: %s", zt_err(ret));
	close(src);
}

TEST_F(ring, source_wait_runs_inside_chains)
{
	struct zk_ring *ring = &self->ring;
	int src = src_create(_metadata, ring);
	struct zsync_cqe c[3];

	/* After a NOP of the chain; then a NOP after it is cancelled with it. */
	zt_linked(zt_nop(_metadata, ring, 1));
	zt_linked(wait_sqe(_metadata, ring, src, 2));
	zt_nop(_metadata, ring, 3);
	zt_submit(_metadata, ring, 3);
	zt_reap(_metadata, ring, c, 1, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, c, 0, 1, 0);
	signal_want(_metadata, src, 42, 1);
	expect_value(_metadata, ring, 2, 42);
	zk_prep_cancel(zt_sqe(_metadata, ring), 2, 0);
	zt_submit(_metadata, ring, 1);
	zt_reap(_metadata, ring, c, 3, ZT_PROMPT_MS);
	/* The wait's terminal CQE, then the rest of its chain, in order. */
	zt_check_has(_metadata, c, 3, 0, 1);
	EXPECT_LT(zt_find_cqe(c, 3, 2), zt_find_cqe(c, 3, 3));
	zt_check_has(_metadata, c, 3, 2, -ECANCELED);
	zt_check_has(_metadata, c, 3, 3, -ECANCELED);
	close(src);
}

/* ---- other threads and processes ---------------------------------------- */

struct delayed_signal {
	int src;
	__u32 value;
	int ms;
	int ret;
};

static void *signal_later(void *arg)
{
	struct delayed_signal *d = arg;

	zt_sleep_ms(d->ms);
	d->ret = zk_source_signal(d->src, d->value);
	return NULL;
}

TEST_F(ring, signal_from_a_thread_wakes_a_blocked_wait)
{
	struct zk_ring *ring = &self->ring;
	struct delayed_signal d = { .value = 77, .ms = 100 };
	int64_t start;
	pthread_t t;

	d.src = src_create(_metadata, ring);
	arm(_metadata, ring, d.src, 1);
	ASSERT_EQ(0, pthread_create(&t, NULL, signal_later, &d));
	start = zt_mono_ns();
	expect_value(_metadata, ring, 1, 77);
	pthread_join(t, NULL);
	EXPECT_EQ(1, d.ret);
	EXPECT_LE(90, zt_ms_since(start)) TH_LOG("woke before the signal");
	close(d.src);
}

/* Child: arm on @src in its own ring, say so on @sync, expect @n values. */
static int child_waits(int src, int sync, unsigned int n)
{
	struct zsync_cqe *cqe;
	struct zsync_timespec ts = zt_ts_ms(5000);
	struct zk_ring ring;
	unsigned int i;
	char ok = 'a';

	/* A CQ that holds every value: the parent does not wait for reaping. */
	if (zk_ring_init(64, &ring, 0))
		return 10;
	zk_prep_source_wait(zk_get_sqe(&ring), src);
	if (zk_submit(&ring) != 1)
		return 11;
	if (write(sync, &ok, 1) != 1)
		return 12;
	for (i = 0; i < n; i++) {
		if (zk_wait_cqe_timeout(&ring, &cqe, &ts))
			return 13;
		if (!(cqe->flags & ZSYNC_CQE_F_MORE) || zk_cqe_source_value(cqe) != 500 + i)
			return 14;
		zk_cqe_seen(&ring, cqe);
	}
	zk_ring_exit(&ring);
	return 0;
}

TEST_F(ring, waiters_in_a_forked_child_wake)
{
	int src = src_create(_metadata, &self->ring);
	int sync[2], status;
	unsigned int i;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_waits(src, sync[1], 50));
	ASSERT_EQ(1, read(sync[0], &c, 1));
	for (i = 0; i < 50; i++)
		signal_want(_metadata, src, 500 + i, 1);
	status = zt_wait_child(pid, 10000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	close(sync[0]);
	close(sync[1]);
	close(src);
}

static int send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))], byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(buf, 0, sizeof(buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Child that got the event over a socket: it signals it through its own
 * ring's SOURCE_SIGNAL (the parent waits), then waits on it itself.
 */
static int child_over_scm(int sock)
{
	struct zsync_timespec ts = zt_ts_ms(5000);
	struct zsync_cqe *cqe;
	struct zk_ring ring;
	int src = recv_fd(sock);
	char ok = 'a';

	if (src < 0 || zk_ring_init(8, &ring, 0))
		return 20;
	zk_prep_source_signal(zk_get_sqe(&ring), src, 0x80000123u);
	if (zk_submit(&ring) != 1 || zk_wait_cqe_timeout(&ring, &cqe, &ts) || cqe->res != 1)
		return 21;
	zk_cqe_seen(&ring, cqe);
	zk_prep_source_wait(zk_get_sqe(&ring), src);
	if (zk_submit(&ring) != 1 || write(sock, &ok, 1) != 1)
		return 22;
	if (zk_wait_cqe_timeout(&ring, &cqe, &ts) || zk_cqe_source_value(cqe) != 31)
		return 23;
	zk_cqe_seen(&ring, cqe);
	/* Our descriptor gone, the wait still holds the event. */
	close(src);
	if (write(sock, &ok, 1) != 1)
		return 24;
	if (zk_wait_cqe_timeout(&ring, &cqe, &ts) || zk_cqe_source_value(cqe) != 32)
		return 25;
	zk_ring_exit(&ring);
	return 0;
}

TEST_F(ring, event_passed_with_scm_rights_works_both_ways)
{
	int sv[2], src, status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		_exit(child_over_scm(sv[1]));
	}
	close(sv[1]);
	/* Created after the fork: the child only has it through the socket. */
	src = src_create(_metadata, &self->ring);
	arm(_metadata, &self->ring, src, 1);
	ASSERT_EQ(0, send_fd(sv[0], src));
	expect_value(_metadata, &self->ring, 1, 0x80000123u);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	signal_want(_metadata, src, 31, 2);
	expect_value(_metadata, &self->ring, 1, 31);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	signal_want(_metadata, src, 32, 2);
	expect_value(_metadata, &self->ring, 1, 32);
	cancel_wait(_metadata, &self->ring, 1);
	close(src);
	status = zt_wait_child(pid, 10000);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	close(sv[0]);
}

/* ---- races -------------------------------------------------------------- */

struct storm {
	int src;
	volatile int stop;
	unsigned long signals;
};

static void *signal_storm(void *arg)
{
	struct storm *s = arg;

	while (!s->stop) {
		zk_source_signal(s->src, (__u32)s->signals);
		s->signals++;
	}
	return NULL;
}

/*
 * Per wait: CQEs flagged MORE with increasing values, then exactly one
 * terminal CQE, then nothing.  @ended[ud] records the terminal.
 */
static void check_stream(struct __test_metadata *_metadata, const struct zsync_cqe *c,
			 __u8 *ended, __u32 *last, unsigned int nr_ud)
{
	unsigned int ud = (unsigned int)c->user_data;

	ASSERT_GT(nr_ud, ud) TH_LOG("CQE for unknown user_data %u", ud);
	EXPECT_FALSE(ended[ud]) TH_LOG("CQE for wait %u after its terminal CQE (res %s flags %#x)",
				       ud, zt_err(c->res), c->flags);
	if (c->flags & ZSYNC_CQE_F_MORE) {
		__u32 v = zk_cqe_source_value(c);

		EXPECT_TRUE(last[ud] == ~0u || v > last[ud])
			TH_LOG("wait %u: value %u after %u", ud, v, last[ud]);
		last[ud] = v;
		return;
	}
	EXPECT_TRUE(c->res == -ECANCELED || c->res == -EOVERFLOW)
		TH_LOG("wait %u ended with %s", ud, zt_err(c->res));
	ended[ud] = 1;
}

#define RACE_WAITS	600
#define CANCEL_UD	100000

TEST_F_TIMEOUT(ring, signal_storm_vs_cancel_keeps_more_then_one_terminal, 300)
{
	static __u8 ended[RACE_WAITS];
	static __u32 last[RACE_WAITS];
	struct storm s = { 0 };
	struct zk_ring *ring = &self->ring;
	unsigned int seed = (unsigned int)zt_mono_ns(), ud, ends = 0;
	struct zsync_sqe *sqe;
	struct zsync_cqe *cqe;
	unsigned int head, n;
	pthread_t t;

	memset(last, 0xff, sizeof(last));
	s.src = src_create(_metadata, ring);
	ASSERT_EQ(0, pthread_create(&t, NULL, signal_storm, &s));
	for (ud = 0; ud < RACE_WAITS; ud++) {
		arm(_metadata, ring, s.src, ud);
		usleep((useconds_t)(rand_r(&seed) % 200));
		sqe = zt_sqe(_metadata, ring);
		zk_prep_cancel(sqe, ud, 0);
		zk_sqe_set_data64(sqe, CANCEL_UD);
		zt_submit(_metadata, ring, 1);
		/* Reap what is there. */
		n = 0;
		zk_for_each_cqe(ring, head, cqe) {
			n++;
			if (cqe->user_data == CANCEL_UD) {
				EXPECT_TRUE(cqe->res == 1 || cqe->res == -EALREADY ||
					    cqe->res == -ENOENT)
					TH_LOG("cancel of %u: %s", ud, zt_err(cqe->res));
				continue;
			}
			check_stream(_metadata, cqe, ended, last, RACE_WAITS);
		}
		zk_cq_advance(ring, n);
		if (!_metadata->passed)
			break;
	}
	s.stop = 1;
	pthread_join(t, NULL);
	/* Every wait ended exactly once. */
	for (;;) {
		struct zsync_timespec ts = zt_ts_ms(200);

		if (zk_wait_cqe_timeout(ring, &cqe, &ts))
			break;
		if (cqe->user_data != CANCEL_UD)
			check_stream(_metadata, cqe, ended, last, RACE_WAITS);
		zk_cqe_seen(ring, cqe);
	}
	for (ud = 0; ud < RACE_WAITS; ud++)
		ends += ended[ud];
	EXPECT_EQ((unsigned int)RACE_WAITS, ends) TH_LOG("%u waits ended", ends);
	TH_LOG("%lu signals", s.signals);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, s.src));
	close(s.src);
}

TEST_F_TIMEOUT(ring, rings_and_events_closed_under_a_signal_storm, 300)
{
	unsigned int seed = (unsigned int)zt_mono_ns(), round, i;
	int fds_before = zt_count_fds();
	struct storm s = { 0 };
	struct zk_ring rings[3];
	pthread_t t;

	s.src = src_create(_metadata, &self->ring);
	ASSERT_EQ(0, pthread_create(&t, NULL, signal_storm, &s));
	for (round = 0; round < 200; round++) {
		struct zsync_params p;

		for (i = 0; i < 3; i++) {
			memset(&p, 0, sizeof(p));
			p.flags = ZSYNC_SETUP_CQSIZE;
			p.cq_entries = 8;	/* overflows, and ends with -EOVERFLOW */
			p.overflow_limit = 1024;	/* the second arm is never -EBUSY */
			zt_ring_params(_metadata, &rings[i], 8, &p);
			arm(_metadata, &rings[i], s.src, 1);
			arm(_metadata, &rings[i], s.src, 2);
		}
		usleep((useconds_t)(rand_r(&seed) % 500));
		for (i = 0; i < 3; i++)
			zk_ring_exit(&rings[i]);
	}
	s.stop = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0u, fdinfo_waiters(_metadata, s.src));
	close(s.src);
	EXPECT_EQ(fds_before, zt_count_fds()) TH_LOG("descriptors leaked");
	TH_LOG("%lu signals", s.signals);
}

TEST_HARNESS_MAIN
