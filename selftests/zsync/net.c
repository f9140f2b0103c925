// SPDX-License-Identifier: GPL-2.0
/*
 * SEND, RECV, SENDMSG, RECVMSG and SHUTDOWN over loopback: TCP (retries in
 * a worker), UDP with addresses, AF_UNIX (retries in the submitting
 * thread) with SCM_RIGHTS; inline and waiting paths, MSG_WAITALL, errors,
 * cancellation in each state, fd reuse, and closing the ring with all of
 * it in flight.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include "helpers.h"
#include "nethelpers.h"
#include "devaccess.h"

/* These suites test CONNECT, ACCEPT and SHUTDOWN themselves. */
ZT_NET_OPS_WITH_LSM_BYPASS()

ZT_RING_FIXTURE(64)

/* Submit what is queued and expect one CQE. */
static void run_one(struct __test_metadata *_metadata, struct zk_ring *ring,
		    __u64 ud, int res)
{
	zt_submit(_metadata, ring, 1);
	zt_expect_cqe(_metadata, ring, ud, res, 0);
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 31 + seed);
}

/* ---- data ---------------------------------------------------------------- */

TEST_F(ring, tcp_send_and_recv_complete_at_submission)
{
	char buf[64] = {};
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_send(zt_sqe_ud(_metadata, &self->ring, 1), sv[0], "hello", 5, 0);
	zt_submit(_metadata, &self->ring, 1);
	/* Posted inside ENTER. */
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
	zt_expect_cqe(_metadata, &self->ring, 1, 5, 0);
	ASSERT_TRUE(zt_poll_ready(sv[1], POLLIN, ZT_PROMPT_MS));
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 2), sv[1], buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
	zt_expect_cqe(_metadata, &self->ring, 2, 5, 0);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, tcp_recv_waits_for_data)
{
	char buf[64] = {};
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	ASSERT_EQ(6, write(sv[0], "later!", 6));
	zt_expect_cqe(_metadata, &self->ring, 1, 6, 0);
	EXPECT_EQ(0, memcmp(buf, "later!", 6));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, recv_without_waitall_returns_the_first_piece)
{
	char buf[4000];
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 1);
	memset(buf, 'a', 1000);
	ASSERT_EQ(1000, write(sv[0], buf, 1000));
	zt_expect_cqe(_metadata, &self->ring, 1, 1000, 0);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, recv_waitall_gathers_every_piece)
{
	unsigned char in[4000], out[4000] = {};
	int sv[2], i;

	zt_tcp_pair(_metadata, sv);
	fill_pattern(in, sizeof(in), 7);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], out, sizeof(out),
		     MSG_WAITALL);
	zt_submit(_metadata, &self->ring, 1);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1000, write(sv[0], in + i * 1000, 1000));
		if (i < 3)
			zt_expect_no_cqe(_metadata, &self->ring, 30);
	}
	zt_expect_cqe(_metadata, &self->ring, 1, 4000, 0);
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	close(sv[0]);
	close(sv[1]);
}

/* With MSG_WAITALL, an end of stream ends the wait with what came. */
TEST_F(ring, recv_waitall_stops_at_end_of_stream)
{
	char buf[100];
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf),
		     MSG_WAITALL);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(10, write(sv[0], buf, 10));
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
	zt_expect_cqe(_metadata, &self->ring, 1, 10, 0);
	/* And the next one sees the end at once. */
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 2), sv[1], buf, sizeof(buf), 0);
	run_one(_metadata, &self->ring, 2, 0);
	close(sv[0]);
	close(sv[1]);
}

/*
 * The data and the end of the stream both arrive before the retry runs (it
 * waits for this thread: AF_UNIX): the attempt that takes the data stops
 * at the end, and no wakeup follows; the RECV must still complete.
 */
TEST_F(ring, recv_waitall_sees_an_end_that_came_with_the_data)
{
	char buf[100];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf),
		     MSG_WAITALL);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(10, write(sv[0], buf, 10));
	ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
	zt_wait_deferred(_metadata, &self->ring);
	zt_expect_cqe(_metadata, &self->ring, 1, 10, 0);
	close(sv[0]);
	close(sv[1]);
}

struct reader {
	int fd;
	size_t got;
	unsigned int seed;
	bool pattern_ok;
};

/* Reads until end of stream, checking the fill_pattern() bytes. */
static void *read_to_eof(void *arg)
{
	struct reader *r = arg;
	unsigned char buf[65536];
	ssize_t n, i;

	r->pattern_ok = true;
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != (unsigned char)((r->got + i) * 31 + r->seed))
				r->pattern_ok = false;
		r->got += n;
	}
	return NULL;
}

#define BIG_SEND	(4 << 20)

/*
 * One SEND of BIG_SEND bytes with @msg_flags on a socket with a small send
 * buffer, while a thread reads the other end; returns the SEND's result
 * and what the reader got (everything written, until end of stream).
 */
static int big_send(struct __test_metadata *_metadata, struct zk_ring *ring,
		    unsigned int msg_flags, struct reader *r)
{
	unsigned char *data = malloc(BIG_SEND);
	int sv[2], small = 16384;
	struct zsync_cqe c;
	pthread_t th;

	ASSERT_NE(NULL, data);
	fill_pattern(data, BIG_SEND, r->seed);
	zt_tcp_pair(_metadata, sv);
	/* (A tiny receive buffer on lo, whose MSS is 64 KiB, would crawl.) */
	ASSERT_EQ(0, setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
	zk_prep_send(zt_sqe_ud(_metadata, ring, 1), sv[0], data, BIG_SEND, msg_flags);
	zt_submit(_metadata, ring, 1);
	r->fd = sv[1];
	ASSERT_EQ(0, pthread_create(&th, NULL, read_to_eof, r));
	zt_reap(_metadata, ring, &c, 1, 20000);
	shutdown(sv[0], SHUT_WR);
	pthread_join(th, NULL);
	EXPECT_TRUE(r->pattern_ok);
	free(data);
	close(sv[0]);
	close(sv[1]);
	return c.res;
}

/*
 * A send larger than the socket buffer: with MSG_WAITALL it completes
 * only once all of it went out, through many wakeups.
 */
TEST_F(ring, send_waitall_larger_than_the_socket_buffer)
{
	struct reader r = { .seed = 3 };
	int res = big_send(_metadata, &self->ring, MSG_WAITALL, &r);

	EXPECT_EQ(BIG_SEND, res) TH_LOG("SEND of %d bytes: %s", BIG_SEND, zt_err(res));
	EXPECT_EQ((size_t)BIG_SEND, r.got);
}

/* Without MSG_WAITALL a send may be partial; its result says how much went. */
TEST_F(ring, send_without_waitall_reports_what_was_sent)
{
	struct reader r = { .seed = 5 };
	int res = big_send(_metadata, &self->ring, 0, &r);

	EXPECT_LT(0, res);
	EXPECT_GE(BIG_SEND, res);
	EXPECT_EQ((size_t)res, r.got);
	TH_LOG("one SEND of %d bytes sent %d", BIG_SEND, res);
}

TEST_F(ring, msg_dontwait_does_not_wait)
{
	char buf[16];
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf),
		     MSG_DONTWAIT);
	run_one(_metadata, &self->ring, 1, -EAGAIN);
	close(sv[0]);
	close(sv[1]);
	/* (A full TCP socket may still take a few bytes into its last segment.) */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zt_fill_socket(sv[0]);
	zk_prep_send(zt_sqe_ud(_metadata, &self->ring, 2), sv[0], buf, sizeof(buf),
		     MSG_DONTWAIT);
	run_one(_metadata, &self->ring, 2, -EAGAIN);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 0);
	close(sv[0]);
	close(sv[1]);
}

/* O_NONBLOCK on the socket does not matter: the ring waits. */
TEST_F(ring, a_nonblocking_socket_still_waits)
{
	char buf[16];
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	ASSERT_EQ(0, fcntl(sv[1], F_SETFL, O_NONBLOCK));
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	ASSERT_EQ(2, write(sv[0], "ok", 2));
	zt_expect_cqe(_metadata, &self->ring, 1, 2, 0);
	close(sv[0]);
	close(sv[1]);
}

/* A send to a peer that is gone fails in the CQE; no SIGPIPE is raised. */
TEST_F(ring, send_to_a_closed_peer_fails_without_sigpipe)
{
	struct zsync_cqe c;
	int sv[2], i;

	zt_tcp_pair(_metadata, sv);
	close(sv[1]);
	/* The first send may still be accepted; the peer answers it with RST. */
	for (i = 0; i < 2; i++) {
		zk_prep_send(zt_sqe_ud(_metadata, &self->ring, i), sv[0], "x", 1, 0);
		zt_submit(_metadata, &self->ring, 1);
		zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
		zt_sleep_ms(20);
	}
	EXPECT_TRUE(c.res == -EPIPE || c.res == -ECONNRESET)
		TH_LOG("second SEND to a closed peer: %s", zt_err(c.res));
	close(sv[0]);
}

TEST_F(ring, shutdown_wakes_a_waiting_recv)
{
	struct zsync_cqe c[2];
	char buf[8];
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf), 0);
	zk_prep_shutdown(zt_sqe_ud(_metadata, &self->ring, 2), sv[1], SHUT_RDWR);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 1, 0);
	zt_check_has(_metadata, c, 2, 2, 0);
	/* The peer sees the end of the stream. */
	EXPECT_EQ(0, read(sv[0], buf, sizeof(buf)));
	close(sv[0]);
	close(sv[1]);
}

/* ---- SENDMSG, RECVMSG ---------------------------------------------------- */

TEST_F(ring, udp_sendmsg_and_recvmsg_with_iovecs_and_addresses)
{
	struct sockaddr_in a_addr, b_addr, from = {};
	char part1[] = "abc", part2[] = "defg", part3[] = "hi";
	struct iovec out[3] = {
		{ part1, 3 }, { part2, 4 }, { part3, 2 },
	};
	char in1[4] = {}, in2[16] = {};
	struct iovec in[2] = { { in1, sizeof(in1) }, { in2, sizeof(in2) } };
	struct msghdr smsg = {
		.msg_name = &b_addr, .msg_namelen = sizeof(b_addr),
		.msg_iov = out, .msg_iovlen = 3,
	};
	struct msghdr rmsg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = in, .msg_iovlen = 2, .msg_flags = 0x5a5a,
	};
	int a = zt_inet_socket(_metadata, SOCK_DGRAM, &a_addr);
	int b = zt_inet_socket(_metadata, SOCK_DGRAM, &b_addr);

	/* The receive waits first, so the worker completes it. */
	zk_prep_recvmsg(zt_sqe_ud(_metadata, &self->ring, 1), b, &rmsg, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	zk_prep_sendmsg(zt_sqe_ud(_metadata, &self->ring, 2), a, &smsg, 0);
	zt_submit(_metadata, &self->ring, 1);
	{
		struct zsync_cqe c[2];

		zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
		zt_check_has(_metadata, c, 2, 1, 9);
		zt_check_has(_metadata, c, 2, 2, 9);
	}
	EXPECT_EQ(0, memcmp(in1, "abcd", 4));
	EXPECT_EQ(0, memcmp(in2, "efghi", 5));
	EXPECT_EQ(sizeof(from), rmsg.msg_namelen);
	EXPECT_EQ(a_addr.sin_port, from.sin_port);
	EXPECT_EQ(a_addr.sin_addr.s_addr, from.sin_addr.s_addr);
	EXPECT_EQ(0, rmsg.msg_flags);
	EXPECT_EQ(0u, rmsg.msg_controllen);
	close(a);
	close(b);
}

/* A datagram larger than the buffer is cut (MSG_TRUNC); a short name buffer too. */
TEST_F(ring, recvmsg_reports_truncation_like_recvmsg2)
{
	struct sockaddr_in a_addr, b_addr;
	unsigned char from[6];
	char big[100], small[10];
	struct iovec iov = { small, sizeof(small) };
	struct msghdr rmsg = {
		.msg_name = from, .msg_namelen = 4,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	int a = zt_inet_socket(_metadata, SOCK_DGRAM, &a_addr);
	int b = zt_inet_socket(_metadata, SOCK_DGRAM, &b_addr);

	memset(from, 0xee, sizeof(from));
	memset(big, 'z', sizeof(big));
	ASSERT_EQ(100, sendto(a, big, sizeof(big), 0, (struct sockaddr *)&b_addr,
			      sizeof(b_addr)));
	ASSERT_TRUE(zt_poll_ready(b, POLLIN, ZT_PROMPT_MS));
	zk_prep_recvmsg(zt_sqe_ud(_metadata, &self->ring, 1), b, &rmsg, 0);
	run_one(_metadata, &self->ring, 1, 10);
	EXPECT_EQ(MSG_TRUNC, rmsg.msg_flags);
	/* The full length of the address, but only 4 bytes of it written. */
	EXPECT_EQ(sizeof(struct sockaddr_in), rmsg.msg_namelen);
	EXPECT_EQ(0, memcmp(from, &a_addr, 4));
	EXPECT_EQ(0xee, from[4]);
	close(a);
	close(b);
}

/* Sends @fds over @sock with one data byte, through the ring. */
static void prep_send_fds(struct __test_metadata *_metadata, struct zk_ring *ring,
			  int sock, const int *fds, int nfds, __u64 ud,
			  struct msghdr *msg, struct iovec *iov, void *cbuf)
{
	struct cmsghdr *cm;

	iov->iov_base = "F";
	iov->iov_len = 1;
	memset(msg, 0, sizeof(*msg));
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = cbuf;
	msg->msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	zk_prep_sendmsg(zt_sqe_ud(_metadata, ring, ud), sock, msg, 0);
}

TEST_F(ring, unix_scm_rights_travel_through_sendmsg_and_recvmsg)
{
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } sc, rc;
	struct msghdr smsg, rmsg = {};
	struct iovec siov, riov;
	struct stat want, got;
	struct cmsghdr *cm;
	int sv[2], p[2], fd;
	char byte = 0, x;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, fstat(p[1], &want));
	/* The receive waits first: it completes in this thread's next ENTER. */
	riov.iov_base = &byte;
	riov.iov_len = 1;
	rmsg.msg_iov = &riov;
	rmsg.msg_iovlen = 1;
	rmsg.msg_control = rc.buf;
	rmsg.msg_controllen = sizeof(rc.buf);
	zk_prep_recvmsg(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], &rmsg, MSG_CMSG_CLOEXEC);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	prep_send_fds(_metadata, &self->ring, sv[0], &p[1], 1, 2, &smsg, &siov, sc.buf);
	zt_submit(_metadata, &self->ring, 1);
	{
		struct zsync_cqe c[2];

		zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
		zt_check_has(_metadata, c, 2, 1, 1);
		zt_check_has(_metadata, c, 2, 2, 1);
	}
	EXPECT_EQ('F', byte);
	EXPECT_EQ(CMSG_SPACE(sizeof(int)), rmsg.msg_controllen);
	/* recvmsg(2) too reports the MSG_CMSG_CLOEXEC it was given. */
	EXPECT_EQ(MSG_CMSG_CLOEXEC, rmsg.msg_flags);
	cm = CMSG_FIRSTHDR(&rmsg);
	ASSERT_NE(NULL, cm);
	EXPECT_EQ(SOL_SOCKET, cm->cmsg_level);
	EXPECT_EQ(SCM_RIGHTS, cm->cmsg_type);
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	/* A new fd in this process's table, for the pipe's write end, close-on-exec. */
	ASSERT_EQ(0, fstat(fd, &got));
	EXPECT_EQ(want.st_ino, got.st_ino);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(1, write(fd, "!", 1));
	ASSERT_EQ(1, read(p[0], &x, 1));
	EXPECT_EQ('!', x);
	close(fd);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Fds that do not fit are closed by the kernel and MSG_CTRUNC says so. */
TEST_F(ring, scm_rights_beyond_the_control_buffer_are_not_leaked)
{
	union { struct cmsghdr align; char buf[CMSG_SPACE(4 * sizeof(int))]; } sc;
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } rc;
	/* CMSG_SPACE() rounds up: how many fds the small buffer really holds. */
	int room = (sizeof(rc.buf) - sizeof(struct cmsghdr)) / sizeof(int);
	struct msghdr smsg, rmsg = {};
	struct iovec siov, riov;
	int sv[2], fds[4], before, got[4], i;
	char byte;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_GT(4, room);
	for (i = 0; i < 4; i++)
		fds[i] = sv[0];
	prep_send_fds(_metadata, &self->ring, sv[0], fds, 4, 1, &smsg, &siov, sc.buf);
	run_one(_metadata, &self->ring, 1, 1);
	before = zt_count_fds();
	riov.iov_base = &byte;
	riov.iov_len = 1;
	rmsg.msg_iov = &riov;
	rmsg.msg_iovlen = 1;
	rmsg.msg_control = rc.buf;
	rmsg.msg_controllen = sizeof(rc.buf);
	zk_prep_recvmsg(zt_sqe_ud(_metadata, &self->ring, 2), sv[1], &rmsg, 0);
	run_one(_metadata, &self->ring, 2, 1);
	EXPECT_EQ(MSG_CTRUNC, rmsg.msg_flags & MSG_CTRUNC);
	EXPECT_EQ(before + room, zt_count_fds());
	memcpy(got, CMSG_DATA(CMSG_FIRSTHDR(&rmsg)), room * sizeof(int));
	for (i = 0; i < room; i++)
		EXPECT_EQ(0, close(got[i]));
	close(sv[0]);
	close(sv[1]);
}

/* ---- errors -------------------------------------------------------------- */

struct bad_sqe {
	const char *what;
	struct zsync_sqe sqe;
	int res;
};

static void expect_refused(struct __test_metadata *_metadata, struct zk_ring *ring,
			   const struct bad_sqe *cases, unsigned int n)
{
	struct zsync_cqe c;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, ring);

		*sqe = cases[i].sqe;
		sqe->user_data = 100 + i;
		zt_submit(_metadata, ring, 1);
		zt_reap(_metadata, ring, &c, 1, ZT_PROMPT_MS);
		EXPECT_EQ(cases[i].res, c.res) TH_LOG("%s: expected %s, got %s", cases[i].what,
						      zt_err(cases[i].res), zt_err(c.res));
	}
}

#define SQE(op, ...)	{ .opcode = ZSYNC_OP_##op, __VA_ARGS__ }
#define PTR(p)		((__u64)(uintptr_t)(p))

TEST_F(ring, invalid_sends_and_receives_are_refused)
{
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr good = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct msghdr many = { .msg_iov = &iov, .msg_iovlen = 1025 };
	struct msghdr badiov = { .msg_iov = (void *)8, .msg_iovlen = 1 };
	struct msghdr negname = { .msg_name = buf, .msg_namelen = -1,
				  .msg_iov = &iov, .msg_iovlen = 1 };
	struct msghdr bigctl = { .msg_iov = &iov, .msg_iovlen = 1,
				 .msg_control = buf, .msg_controllen = 1 << 20 };
	struct msghdr badctl = { .msg_iov = &iov, .msg_iovlen = 1,
				 .msg_control = (void *)8, .msg_controllen = 64 };
	int sv[2], p[2], file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, file);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	zt_tcp_pair(_metadata, sv);
	{
		const struct bad_sqe cases[] = {
			{ "RECV on a closed fd", SQE(RECV, .fd = 1000, .addr = PTR(buf), .len = 1), -EBADF },
			{ "RECV on fd -1", SQE(RECV, .fd = -1, .addr = PTR(buf), .len = 1), -EBADF },
			{ "RECV on a pipe", SQE(RECV, .fd = p[0], .addr = PTR(buf), .len = 1), -ENOTSOCK },
			{ "SEND on a file", SQE(SEND, .fd = file, .addr = PTR(buf), .len = 1), -ENOTSOCK },
			/* No op holds a ring file (see ops.rst, Ring fds). */
			{ "SENDMSG on the ring", SQE(SENDMSG, .fd = self->ring.fd, .addr = PTR(&good)), -EBADF },
			{ "SEND from a kernel address", SQE(SEND, .fd = sv[0], .addr = 0xffffffff81000000ULL, .len = 16), -EFAULT },
			{ "RECV into a kernel address", SQE(RECV, .fd = sv[0], .addr = 0xffffffff81000000ULL, .len = 16), -EFAULT },
			{ "SEND with MSG_ZEROCOPY", SQE(SEND, .fd = sv[0], .addr = PTR(buf), .len = 1, .op_flags = MSG_ZEROCOPY), -EINVAL },
			{ "SEND with MSG_FASTOPEN", SQE(SEND, .fd = sv[0], .addr = PTR(buf), .len = 1, .op_flags = MSG_FASTOPEN), -EINVAL },
			{ "SEND with MSG_PEEK", SQE(SEND, .fd = sv[0], .addr = PTR(buf), .len = 1, .op_flags = MSG_PEEK), -EINVAL },
			{ "RECV with MSG_CMSG_CLOEXEC", SQE(RECV, .fd = sv[0], .addr = PTR(buf), .len = 1, .op_flags = MSG_CMSG_CLOEXEC), -EINVAL },
			{ "RECV with bit 31 (MSG_CMSG_COMPAT)", SQE(RECV, .fd = sv[0], .addr = PTR(buf), .len = 1, .op_flags = 1u << 31), -EINVAL },
			{ "RECVMSG with MSG_EOR", SQE(RECVMSG, .fd = sv[0], .addr = PTR(&good), .op_flags = MSG_EOR), -EINVAL },
			{ "SEND with off", SQE(SEND, .fd = sv[0], .addr = PTR(buf), .len = 1, .off = 1), -EINVAL },
			{ "RECV with addr2", SQE(RECV, .fd = sv[0], .addr = PTR(buf), .len = 1, .addr2 = 1), -EINVAL },
			{ "SENDMSG with len", SQE(SENDMSG, .fd = sv[0], .addr = PTR(&good), .len = 1), -EINVAL },
			{ "RECVMSG with off", SQE(RECVMSG, .fd = sv[0], .addr = PTR(&good), .off = 1), -EINVAL },
			{ "SENDMSG of an unreadable msghdr", SQE(SENDMSG, .fd = sv[0], .addr = 8), -EFAULT },
			{ "RECVMSG of a NULL msghdr", SQE(RECVMSG, .fd = sv[0]), -EFAULT },
			{ "SENDMSG with 1025 iovecs", SQE(SENDMSG, .fd = sv[0], .addr = PTR(&many)), -EMSGSIZE },
			{ "RECVMSG with an unreadable iovec array", SQE(RECVMSG, .fd = sv[0], .addr = PTR(&badiov)), -EFAULT },
			{ "SENDMSG with msg_namelen -1", SQE(SENDMSG, .fd = sv[0], .addr = PTR(&negname)), -EINVAL },
			{ "RECVMSG with msg_namelen -1", SQE(RECVMSG, .fd = sv[0], .addr = PTR(&negname)), -EINVAL },
			{ "SENDMSG with 1 MiB of control", SQE(SENDMSG, .fd = sv[0], .addr = PTR(&bigctl)), -ENOBUFS },
			{ "SENDMSG with unreadable control", SQE(SENDMSG, .fd = sv[0], .addr = PTR(&badctl)), -EFAULT },
			{ "SHUTDOWN how 3", SQE(SHUTDOWN, .fd = sv[0], .len = 3), -EINVAL },
			{ "SHUTDOWN with op_flags", SQE(SHUTDOWN, .fd = sv[0], .op_flags = 1), -EINVAL },
			{ "SHUTDOWN on a pipe", SQE(SHUTDOWN, .fd = p[1], .len = SHUT_WR), -ENOTSOCK },
		};

		expect_refused(_metadata, &self->ring, cases, ARRAY_SIZE(cases));
	}
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 0);
	close(file);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* A buffer that is valid at submission but unmapped when the data comes. */
TEST_F(ring, recv_into_memory_unmapped_meanwhile_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int sv[2];

	ASSERT_NE(MAP_FAILED, mem);
	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], mem, 64, 0);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(0, munmap(mem, page));
	ASSERT_EQ(4, write(sv[0], "data", 4));
	zt_expect_cqe(_metadata, &self->ring, 1, -EFAULT, 0);
	close(sv[0]);
	close(sv[1]);
}

/* ---- cancellation -------------------------------------------------------- */

static void cancel_ud(struct __test_metadata *_metadata, struct zk_ring *ring,
		      __u64 target, __u64 ud)
{
	zk_prep_cancel(zt_sqe_ud(_metadata, ring, ud), target, 0);
}

/*
 * What a TCP SEND that must wait sends: a full TCP socket may still take a
 * few bytes into its last segment, but not this much (MSG_WAITALL).
 */
static const char big_zeroes[1 << 20];

/* Waiting on its wait queue: each kind ends with exactly one -ECANCELED. */
TEST_F(ring, cancel_waiting_sends_and_receives)
{
	char buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m1 = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct msghdr m2 = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct zsync_cqe c[10];
	int tcp[2], unx[2], i;

	zt_tcp_pair(_metadata, tcp);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, unx));
	/* Full towards tcp[1] and unx[1]; nothing comes back. */
	zt_fill_socket(tcp[0]);
	zt_fill_socket(unx[0]);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), tcp[0], buf, sizeof(buf), 0);
	zk_prep_send(zt_sqe_ud(_metadata, &self->ring, 2), tcp[0], big_zeroes, sizeof(big_zeroes),
		     MSG_WAITALL);
	zk_prep_recvmsg(zt_sqe_ud(_metadata, &self->ring, 3), unx[0], &m1, 0);
	zk_prep_sendmsg(zt_sqe_ud(_metadata, &self->ring, 4), unx[0], &m2, 0);
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 5), unx[0], buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 5);
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 5);
	for (i = 1; i <= 4; i++)
		cancel_ud(_metadata, &self->ring, i, 10 + i);
	/* And by fd: the RECV on the AF_UNIX socket. */
	zk_prep_cancel_fd(zt_sqe_ud(_metadata, &self->ring, 15), unx[0], ZSYNC_CANCEL_ALL);
	zt_submit(_metadata, &self->ring, 5);
	zt_reap(_metadata, &self->ring, c, 10, ZT_PROMPT_MS);
	for (i = 1; i <= 5; i++)
		zt_check_has(_metadata, c, 10, i, -ECANCELED);
	for (i = 11; i <= 14; i++)
		zt_check_has(_metadata, c, 10, i, 1);
	zt_check_has(_metadata, c, 10, 15, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	close(tcp[0]);
	close(tcp[1]);
	close(unx[0]);
	close(unx[1]);
}

/*
 * A RECV pinned to this thread (AF_UNIX) whose data came while the thread
 * was away: the retry waits for this thread.  A CANCEL takes that pending
 * retry back (it has not started), so the cancel is definite: the RECV ends
 * with -ECANCELED without taking the data.
 */
TEST_F(ring, cancel_while_the_retry_waits_for_this_thread)
{
	char buf[8];
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), sv[1], buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 1);
	ASSERT_EQ(3, write(sv[0], "abc", 3));
	zt_wait_deferred(_metadata, &self->ring);
	cancel_ud(_metadata, &self->ring, 1, 2);
	zt_submit(_metadata, &self->ring, 1);
	{
		struct zsync_cqe c[2];

		zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
		zt_check_has(_metadata, c, 2, 2, 1);
		zt_check_has(_metadata, c, 2, 1, -ECANCELED);
	}
	/* The data is still there for the next reader. */
	EXPECT_EQ(3, recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(ring, link_timeout_ends_a_recv_that_gets_nothing)
{
	struct zsync_cqe c[2];
	char buf[8];
	int sv[2];

	zt_tcp_pair(_metadata, sv);
	zk_prep_recv(zt_linked(zt_sqe_ud(_metadata, &self->ring, 1)), sv[1], buf,
		     sizeof(buf), 0);
	zt_link_timeout(_metadata, &self->ring, 2, 50, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS + ZT_LATE_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 2, -ETIME);
	close(sv[0]);
	close(sv[1]);
}

struct flood {
	int fd;
	volatile bool stop;
	size_t sent;
};

static void *flood_writer(void *arg)
{
	struct flood *f = arg;
	char buf[512];

	memset(buf, 'w', sizeof(buf));
	while (!f->stop) {
		ssize_t n = send(f->fd, buf, 1 + f->sent % sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			f->sent += (size_t)n;
		else
			sched_yield();
	}
	return NULL;
}

/* Reads @fd (blocking) up to the end of the stream; returns the bytes. */
static size_t read_to_end(int fd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

/*
 * Data arriving on one CPU while CANCELs run on another catches RECVs in
 * every state: waiting, queued for their retry, retrying.  Each one gets
 * exactly one CQE, and every byte written is either in a completed RECV
 * or still in the socket.
 */
static void recv_cancel_race(struct __test_metadata *_metadata, int domain)
{
	unsigned int round, done = 0, cancelled = 0;
	size_t received = 0;
	struct flood f = {};
	struct zk_ring ring;
	char buf[2][4096];
	pthread_t th;
	int sv[2];

	if (domain == AF_INET)
		zt_tcp_pair(_metadata, sv);
	else
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	zt_ring(_metadata, &ring, 16, 0);
	f.fd = sv[0];
	ASSERT_EQ(0, pthread_create(&th, NULL, flood_writer, &f));
	for (round = 0; round < 400; round++) {
		unsigned int i, seen[3] = {};
		struct zsync_cqe c[4];

		zk_prep_recv(zt_sqe_ud(_metadata, &ring, 1), sv[1], buf[0], sizeof(buf[0]), 0);
		zk_prep_recv(zt_sqe_ud(_metadata, &ring, 2), sv[1], buf[1], sizeof(buf[1]), 0);
		cancel_ud(_metadata, &ring, 1, 3);
		cancel_ud(_metadata, &ring, 2, 4);
		zt_submit(_metadata, &ring, 4);
		zt_reap(_metadata, &ring, c, 4, ZT_PROMPT_MS);
		for (i = 0; i < 4; i++) {
			if (c[i].user_data > 2)
				continue;
			seen[c[i].user_data]++;
			if (c[i].res == -ECANCELED) {
				cancelled++;
			} else {
				EXPECT_LT(0, c[i].res) TH_LOG("RECV: %s", zt_err(c[i].res));
				received += c[i].res > 0 ? (size_t)c[i].res : 0;
				done++;
			}
		}
		ASSERT_EQ(1u, seen[1]);
		ASSERT_EQ(1u, seen[2]);
	}
	f.stop = true;
	pthread_join(th, NULL);
	/* What is still queued or in flight, up to the end of the stream. */
	ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
	received += read_to_end(sv[1]);
	EXPECT_EQ(f.sent, received);
	EXPECT_EQ(800u, done + cancelled);
	TH_LOG("%u RECVs completed, %u cancelled, %zu bytes", done, cancelled, received);
	zt_check_fdinfo(_metadata, ring.fd, "inflight", 0);
	zk_ring_exit(&ring);
	close(sv[0]);
	close(sv[1]);
}

TEST(tcp_recvs_racing_cancels_get_one_cqe_each)
{
	recv_cancel_race(_metadata, AF_INET);
}

TEST(unix_recvs_racing_cancels_get_one_cqe_each)
{
	recv_cancel_race(_metadata, AF_UNIX);
}

/* ---- files and rings ------------------------------------------------------ */

/*
 * The RECV holds the socket it was given: once its fd number names another
 * socket, data there does not complete it; data on the original does.
 */
TEST_F(ring, fd_closed_and_reused_while_a_recv_waits)
{
	char buf[8] = {};
	int a[2], b[2], fd;

	zt_tcp_pair(_metadata, a);
	zt_tcp_pair(_metadata, b);
	fd = a[1];
	zk_prep_recv(zt_sqe_ud(_metadata, &self->ring, 1), fd, buf, sizeof(buf), 0);
	zt_submit(_metadata, &self->ring, 1);
	/* fd now names b's server end. */
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(fd, dup2(b[1], fd));
	close(b[1]);
	ASSERT_EQ(3, write(b[0], "new", 3));
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	ASSERT_EQ(3, write(a[0], "old", 3));
	zt_expect_cqe(_metadata, &self->ring, 1, 3, 0);
	EXPECT_EQ(0, memcmp(buf, "old", 3));
	/* The new socket's data was never touched. */
	EXPECT_EQ(3, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "new", 3));
	close(a[0]);
	close(b[0]);
	close(fd);
}

/* Closing the ring ends everything at once and leaves the sockets usable. */
TEST(close_with_net_ops_in_flight)
{
	char buf[16][64];
	struct iovec iov = { buf[0], 64 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = buf[1], .msg_controllen = 64 };
	int tcp[2], unx[2], fds_before, i;
	struct zk_ring ring;
	int64_t start;

	zt_tcp_pair(_metadata, tcp);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, unx));
	zt_fill_socket(tcp[0]);
	zt_fill_socket(unx[0]);
	fds_before = zt_count_fds();
	zt_ring(_metadata, &ring, 64, 0);
	/* Full towards tcp[1] and unx[1]: every op below waits. */
	for (i = 0; i < 8; i++) {
		zk_prep_recv(zt_sqe_ud(_metadata, &ring, i), tcp[0], buf[2 + i], 64, 0);
		zk_prep_send(zt_sqe_ud(_metadata, &ring, 10 + i), tcp[0], big_zeroes,
			     sizeof(big_zeroes), MSG_WAITALL);
	}
	zk_prep_recvmsg(zt_sqe_ud(_metadata, &ring, 20), unx[0], &m, 0);
	zk_prep_send(zt_sqe_ud(_metadata, &ring, 21), unx[0], buf[0], 64, MSG_WAITALL);
	zt_submit(_metadata, &ring, 18);
	zt_check_fdinfo(_metadata, ring.fd, "inflight", 18);
	/* Wakeups for some: they race the close in their retries. */
	zt_drain(tcp[1]);
	ASSERT_EQ(5, write(unx[1], "hello", 5));
	start = zt_mono_ns();
	zk_ring_exit(&ring);
	EXPECT_GT(ZT_PROMPT_MS, zt_ms_since(start));
	EXPECT_EQ(fds_before, zt_count_fds());
	/* The sockets still work for their owner. */
	zt_drain(tcp[1]);
	zt_drain(unx[1]);
	EXPECT_EQ(2, send(tcp[1], "ok", 2, 0));
	close(tcp[0]);
	close(tcp[1]);
	close(unx[0]);
	close(unx[1]);
}

TEST_HARNESS_MAIN
