// SPDX-License-Identifier: GPL-2.0
/*
 * ACCEPT (one-shot and multishot) and CONNECT: addresses, flags, multishot
 * accept of 100 clients and its overflow, refused and black-holed
 * connections, cancellation in each state, closing the ring with all of
 * it in flight, and echo servers of 64 connections driven entirely through
 * rings, over TCP and AF_UNIX.
 */
#include <pthread.h>
#include <sys/stat.h>
#include "helpers.h"
#include "nethelpers.h"
#include "devaccess.h"

/* These suites test CONNECT, ACCEPT and SHUTDOWN themselves. */
ZT_NET_OPS_WITH_LSM_BYPASS()

ZT_RING_FIXTURE(256)

static void run_one(struct __test_metadata *_metadata, struct zk_ring *ring,
		    __u64 ud, int res)
{
	zt_submit(_metadata, ring, 1);
	zt_expect_cqe(_metadata, ring, ud, res, 0);
}

/* Whether @fd is a socket connected to the peer whose local address is @peer. */
static bool connected_to(int fd, const struct sockaddr_in *peer)
{
	struct sockaddr_in got;
	socklen_t len = sizeof(got);

	if (getpeername(fd, (struct sockaddr *)&got, &len))
		return false;
	return got.sin_port == peer->sin_port && got.sin_addr.s_addr == peer->sin_addr.s_addr;
}

static void local_addr(int fd, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);

	getsockname(fd, (struct sockaddr *)addr, &len);
}

/*
 * A listener whose accept queue is full: a SYN to it is dropped, so a
 * connection attempt stays in progress until it times out (minutes).
 */
static int blackhole(struct __test_metadata *_metadata, struct sockaddr_in *addr,
		     int *filler)
{
	int lfd = zt_tcp_listener(_metadata, addr, 0);

	*filler = zt_tcp_connect(_metadata, addr);
	ASSERT_TRUE(zt_poll_ready(lfd, POLLIN, ZT_PROMPT_MS));
	return lfd;
}

/* ---- ACCEPT -------------------------------------------------------------- */

TEST_F(ring, accept_waits_and_reports_the_peer_address)
{
	struct sockaddr_in addr, peer = {}, client;
	socklen_t plen = sizeof(peer);
	int lfd = zt_tcp_listener(_metadata, &addr, 4), cfd;
	struct zsync_cqe c;

	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 1), lfd, (struct sockaddr *)&peer,
		       &plen, SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_no_cqe(_metadata, &self->ring, 50);
	cfd = zt_tcp_connect(_metadata, &addr);
	local_addr(cfd, &client);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	ASSERT_LE(0, c.res) TH_LOG("ACCEPT: %s", zt_err(c.res));
	EXPECT_EQ(0u, c.flags);
	EXPECT_EQ(sizeof(peer), plen);
	EXPECT_EQ(client.sin_port, peer.sin_port);
	EXPECT_TRUE(connected_to(c.res, &client));
	EXPECT_EQ(FD_CLOEXEC, fcntl(c.res, F_GETFD));
	EXPECT_EQ(O_NONBLOCK, fcntl(c.res, F_GETFL) & O_NONBLOCK);
	/* It is a working connection. */
	ASSERT_EQ(2, write(cfd, "hi", 2));
	EXPECT_TRUE(zt_poll_ready(c.res, POLLIN, ZT_PROMPT_MS));
	close(c.res);
	close(cfd);
	close(lfd);
}

TEST_F(ring, accept_of_a_pending_connection_completes_at_submission)
{
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int cfd = zt_tcp_connect(_metadata, &addr);
	struct zsync_cqe c;

	ASSERT_TRUE(zt_poll_ready(lfd, POLLIN, ZT_PROMPT_MS));
	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 1), lfd, NULL, NULL, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	EXPECT_EQ(1u, zk_cq_ready(&self->ring));
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	ASSERT_LE(0, c.res);
	EXPECT_EQ(0, fcntl(c.res, F_GETFD));
	EXPECT_EQ(0, fcntl(c.res, F_GETFL) & O_NONBLOCK);
	close(c.res);
	close(cfd);
	close(lfd);
}

TEST_F(ring, accept_into_a_short_address_buffer_truncates)
{
	struct sockaddr_in addr;
	unsigned char peer[8];
	socklen_t plen = 4;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int cfd = zt_tcp_connect(_metadata, &addr);
	struct zsync_cqe c;

	memset(peer, 0xee, sizeof(peer));
	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 1), lfd, (struct sockaddr *)peer,
		       &plen, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
	ASSERT_LE(0, c.res);
	EXPECT_EQ(sizeof(struct sockaddr_in), plen);
	/* sin_family, then the first two bytes of sin_port; no more. */
	EXPECT_EQ(AF_INET, peer[0] | peer[1] << 8);
	EXPECT_EQ(0xee, peer[4]);
	close(c.res);
	close(cfd);
	close(lfd);
}

/* Reaps @n multishot CQEs of @ud; each must be a MORE CQE with an fd. */
static void reap_accepted(struct __test_metadata *_metadata, struct zk_ring *ring,
			  __u64 ud, int *fds, unsigned int n)
{
	struct zsync_cqe c;
	unsigned int i;

	for (i = 0; i < n; i++) {
		zt_reap(_metadata, ring, &c, 1, ZT_PROMPT_MS);
		ASSERT_EQ(ud, c.user_data);
		ASSERT_EQ(ZSYNC_CQE_F_MORE, c.flags) TH_LOG("CQE %u of %u: res %s", i, n,
							     zt_err(c.res));
		ASSERT_LE(0, c.res);
		fds[i] = c.res;
	}
}

/* Every fd is distinct and a socket connected to one of @clients. */
static void check_accepted(struct __test_metadata *_metadata, const int *fds,
			   unsigned int n, const int *clients, unsigned int nclients)
{
	unsigned int i, j, matched = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			ASSERT_NE(fds[i], fds[j]);
		for (j = 0; j < nclients; j++) {
			struct sockaddr_in local;

			local_addr(clients[j], &local);
			if (connected_to(fds[i], &local)) {
				matched++;
				break;
			}
		}
	}
	EXPECT_EQ(n, matched);
}

TEST_F(ring, multishot_accept_of_100_clients)
{
	int clients[100], fds[100], before = zt_count_fds(), i;
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 128);

	before++;
	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 7), lfd, NULL, NULL, SOCK_CLOEXEC,
		       ZSYNC_ACCEPT_MULTISHOT);
	zt_submit(_metadata, &self->ring, 1);
	for (i = 0; i < 100; i++)
		clients[i] = zt_tcp_connect(_metadata, &addr);
	reap_accepted(_metadata, &self->ring, 7, fds, 100);
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	check_accepted(_metadata, fds, 100, clients, 100);
	EXPECT_EQ(before + 200, zt_count_fds());
	for (i = 0; i < 100; i++) {
		EXPECT_EQ(FD_CLOEXEC, fcntl(fds[i], F_GETFD));
		close(fds[i]);
		close(clients[i]);
	}
	/* Still armed: one more client, one more fd. */
	clients[0] = zt_tcp_connect(_metadata, &addr);
	reap_accepted(_metadata, &self->ring, 7, fds, 1);
	close(fds[0]);
	close(clients[0]);
	zk_prep_cancel(zt_sqe_ud(_metadata, &self->ring, 8), 7, 0);
	zt_submit(_metadata, &self->ring, 1);
	{
		struct zsync_cqe c[2];

		zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
		zt_check_has(_metadata, c, 2, 7, -ECANCELED);
		zt_check_has(_metadata, c, 2, 8, 1);
	}
	close(lfd);
	EXPECT_EQ(before - 1, zt_count_fds());
}

/*
 * CQ full and the multishot backlog used up: the fd that could not get its
 * MORE CQE is the terminal result, so no accepted fd goes unreported.
 */
TEST(multishot_accept_overflow_ends_with_the_last_fd)
{
	unsigned int backlog = zt_module_param("multishot_backlog", 32);
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 4 };
	unsigned int nclients = 4 + backlog + 3, more = 0, i;
	int *clients = calloc(nclients, sizeof(int));
	int *fds = calloc(nclients, sizeof(int));
	int before = zt_count_fds(), last = -1;
	struct sockaddr_in addr;
	struct zk_ring ring;
	struct zsync_cqe c;
	int lfd;

	ASSERT_NE(NULL, clients);
	ASSERT_NE(NULL, fds);
	lfd = zt_tcp_listener(_metadata, &addr, (int)nclients);
	zt_ring_params(_metadata, &ring, 4, &p);
	zk_prep_accept(zt_sqe_ud(_metadata, &ring, 9), lfd, NULL, NULL, 0,
		       ZSYNC_ACCEPT_MULTISHOT);
	zt_submit(_metadata, &ring, 1);
	for (i = 0; i < nclients; i++)
		clients[i] = zt_tcp_connect(_metadata, &addr);
	while (last < 0) {
		zt_reap(_metadata, &ring, &c, 1, ZT_PROMPT_MS);
		ASSERT_EQ(9u, c.user_data);
		ASSERT_LE(0, c.res) TH_LOG("after %u fds: %s", more, zt_err(c.res));
		fds[more] = c.res;
		if (c.flags & ZSYNC_CQE_F_MORE)
			more++;
		else
			last = c.res;
	}
	EXPECT_EQ(4 + backlog, more);
	check_accepted(_metadata, fds, more + 1, clients, nclients);
	zt_expect_no_cqe(_metadata, &ring, 30);
	/* Ring, listener, clients and exactly the fds reported: nothing else. */
	EXPECT_EQ(before + 2 + (int)nclients + (int)more + 1, zt_count_fds());
	for (i = 0; i <= more; i++)
		close(fds[i]);
	for (i = 0; i < nclients; i++)
		close(clients[i]);
	zk_ring_exit(&ring);
	close(lfd);
	free(clients);
	free(fds);
}

/* ---- CONNECT ------------------------------------------------------------- */

TEST_F(ring, connect_then_a_linked_send)
{
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), sfd;
	struct zsync_cqe c[2];
	char buf[8] = {};

	ASSERT_LE(0, cfd);
	zk_prep_connect(zt_linked(zt_sqe_ud(_metadata, &self->ring, 1)), cfd,
			(struct sockaddr *)&addr, sizeof(addr));
	zk_prep_send(zt_sqe_ud(_metadata, &self->ring, 2), cfd, "ping", 4, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, 0);
	zt_check_cqe(_metadata, &c[1], 1, 2, 4);
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(4, read(sfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	/* connect(2) agrees it is connected. */
	EXPECT_EQ(-1, connect(cfd, (struct sockaddr *)&addr, sizeof(addr)));
	EXPECT_EQ(EISCONN, errno);
	close(sfd);
	close(cfd);
	close(lfd);
}

TEST_F(ring, connect_to_nothing_is_refused)
{
	struct sockaddr_in addr;
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, cfd);
	zt_refused_addr(_metadata, &addr);
	zk_prep_connect(zt_sqe_ud(_metadata, &self->ring, 1), cfd, (struct sockaddr *)&addr,
			sizeof(addr));
	run_one(_metadata, &self->ring, 1, -ECONNREFUSED);
	close(cfd);
}

TEST_F(ring, link_timeout_ends_a_connect_to_a_black_hole)
{
	struct sockaddr_in addr;
	int filler, lfd = blackhole(_metadata, &addr, &filler);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct zsync_cqe c[2];

	ASSERT_LE(0, cfd);
	zk_prep_connect(zt_linked(zt_sqe_ud(_metadata, &self->ring, 1)), cfd,
			(struct sockaddr *)&addr, sizeof(addr));
	zt_link_timeout(_metadata, &self->ring, 2, 100, 0);
	zt_submit(_metadata, &self->ring, 2);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS + ZT_LATE_MS);
	zt_check_cqe(_metadata, &c[0], 0, 1, -ECANCELED);
	zt_check_cqe(_metadata, &c[1], 1, 2, -ETIME);
	close(cfd);
	close(filler);
	close(lfd);
}

/* An AF_UNIX listener with a full backlog: no wakeup would say when, so -EAGAIN. */
TEST_F(ring, unix_connect_to_a_full_backlog_is_eagain)
{
	struct sockaddr_un sun;
	socklen_t len = zt_abstract_addr(&sun, "zsync-netconn-full");
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c1, c2;

	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sun, len));
	ASSERT_EQ(0, listen(lfd, 0));
	c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	zk_prep_connect(zt_sqe_ud(_metadata, &self->ring, 1), c1, (struct sockaddr *)&sun, len);
	run_one(_metadata, &self->ring, 1, 0);
	zk_prep_connect(zt_sqe_ud(_metadata, &self->ring, 2), c2, (struct sockaddr *)&sun, len);
	run_one(_metadata, &self->ring, 2, -EAGAIN);
	close(c1);
	close(c2);
	close(lfd);
}

/* ---- errors -------------------------------------------------------------- */

#define PTR(p)		((__u64)(uintptr_t)(p))

TEST_F(ring, invalid_accepts_and_connects_are_refused)
{
	struct sockaddr_in addr, peer;
	struct sockaddr_storage big;
	socklen_t plen = sizeof(peer), neg = (socklen_t)-1;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p[2];
	struct {
		const char *what;
		struct zsync_sqe sqe;
		int res;
	} cases[] = {
		{ "ACCEPT on a pipe", { .opcode = ZSYNC_OP_ACCEPT }, -ENOTSOCK },
		{ "ACCEPT with O_APPEND", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .len = O_APPEND }, -EINVAL },
		{ "ACCEPT with op_flags bit 1", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .op_flags = 2 }, -EINVAL },
		{ "ACCEPT multishot with an address", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .addr = PTR(&peer), .addr2 = PTR(&plen), .op_flags = ZSYNC_ACCEPT_MULTISHOT }, -EINVAL },
		{ "ACCEPT with addr and no addrlen", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .addr = PTR(&peer) }, -EINVAL },
		{ "ACCEPT with addrlen and no addr", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .addr2 = PTR(&plen) }, -EINVAL },
		{ "ACCEPT with an unreadable addrlen", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .addr = PTR(&peer), .addr2 = 8 }, -EFAULT },
		{ "ACCEPT with addrlen -1", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .addr = PTR(&peer), .addr2 = PTR(&neg) }, -EINVAL },
		{ "ACCEPT with off", { .opcode = ZSYNC_OP_ACCEPT, .fd = lfd, .off = 1 }, -EINVAL },
		{ "ACCEPT on a socket that does not listen", { .opcode = ZSYNC_OP_ACCEPT, .fd = sock }, -EINVAL },
		{ "CONNECT with 129 bytes of address", { .opcode = ZSYNC_OP_CONNECT, .fd = sock, .addr = PTR(&big), .len = 129 }, -EINVAL },
		{ "CONNECT with an unreadable address", { .opcode = ZSYNC_OP_CONNECT, .fd = sock, .addr = 8, .len = 16 }, -EFAULT },
		{ "CONNECT with op_flags", { .opcode = ZSYNC_OP_CONNECT, .fd = sock, .addr = PTR(&addr), .len = 16, .op_flags = 1 }, -EINVAL },
		{ "CONNECT with addr2", { .opcode = ZSYNC_OP_CONNECT, .fd = sock, .addr = PTR(&addr), .len = 16, .addr2 = 1 }, -EINVAL },
		{ "CONNECT with a short address", { .opcode = ZSYNC_OP_CONNECT, .fd = sock, .addr = PTR(&addr), .len = 4 }, -EINVAL },
		{ "CONNECT on a closed fd", { .opcode = ZSYNC_OP_CONNECT, .fd = 1000, .addr = PTR(&addr), .len = 16 }, -EBADF },
	};
	struct zsync_cqe c;
	unsigned int i;

	ASSERT_LE(0, sock);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	cases[0].sqe.fd = p[0];
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);

		*sqe = cases[i].sqe;
		sqe->user_data = 100 + i;
		zt_submit(_metadata, &self->ring, 1);
		zt_reap(_metadata, &self->ring, &c, 1, ZT_PROMPT_MS);
		EXPECT_EQ(cases[i].res, c.res) TH_LOG("%s: expected %s, got %s", cases[i].what,
						      zt_err(cases[i].res), zt_err(c.res));
	}
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 0);
	close(p[0]);
	close(p[1]);
	close(sock);
	close(lfd);
}

/* ---- cancellation -------------------------------------------------------- */

TEST_F(ring, cancel_waiting_accepts_and_connects)
{
	struct sockaddr_in addr, hole;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int filler, hfd = blackhole(_metadata, &hole, &filler);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct zsync_cqe c[6];

	ASSERT_LE(0, cfd);
	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 1), lfd, NULL, NULL, 0, 0);
	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 2), lfd, NULL, NULL, 0,
		       ZSYNC_ACCEPT_MULTISHOT);
	zk_prep_connect(zt_sqe_ud(_metadata, &self->ring, 3), cfd, (struct sockaddr *)&hole,
			sizeof(hole));
	zt_submit(_metadata, &self->ring, 3);
	zt_expect_no_cqe(_metadata, &self->ring, 30);
	zt_check_fdinfo(_metadata, self->ring.fd, "inflight", 3);
	zk_prep_cancel(zt_sqe_ud(_metadata, &self->ring, 11), 1, 0);
	zk_prep_cancel(zt_sqe_ud(_metadata, &self->ring, 12), 2, 0);
	zk_prep_cancel_fd(zt_sqe_ud(_metadata, &self->ring, 13), cfd, 0);
	zt_submit(_metadata, &self->ring, 3);
	zt_reap(_metadata, &self->ring, c, 6, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 6, 1, -ECANCELED);
	zt_check_has(_metadata, c, 6, 2, -ECANCELED);
	zt_check_has(_metadata, c, 6, 3, -ECANCELED);
	zt_check_has(_metadata, c, 6, 11, 1);
	zt_check_has(_metadata, c, 6, 12, 1);
	zt_check_has(_metadata, c, 6, 13, 1);
	close(cfd);
	close(filler);
	close(hfd);
	close(lfd);
}

/*
 * A connection arrived while this thread was away: the accept waits for
 * this thread to run it.  CANCEL takes that pending retry back (it has not
 * started), so the cancel is definite: the accept ends with -ECANCELED and
 * the connection stays queued, unaccepted.
 */
TEST_F(ring, cancel_an_accept_waiting_for_this_thread)
{
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 4), cfd, before;
	struct zsync_cqe c[2];

	zk_prep_accept(zt_sqe_ud(_metadata, &self->ring, 1), lfd, NULL, NULL, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	cfd = zt_tcp_connect(_metadata, &addr);
	zt_wait_deferred(_metadata, &self->ring);
	before = zt_count_fds();
	zk_prep_cancel(zt_sqe_ud(_metadata, &self->ring, 2), 1, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 2, ZT_PROMPT_MS);
	zt_check_has(_metadata, c, 2, 2, 1);
	zt_check_has(_metadata, c, 2, 1, -ECANCELED);
	EXPECT_EQ(before, zt_count_fds());
	EXPECT_TRUE(zt_poll_ready(lfd, POLLIN, 0));
	close(cfd);
	close(lfd);
}

/* Closing the ring with accepts and connects in every state leaks no fd. */
TEST(close_with_accepts_and_connects_in_flight)
{
	struct sockaddr_in addr, hole;
	int lfd, filler, hfd, cfd, late, before;
	struct zk_ring ring;
	int64_t start;

	lfd = zt_tcp_listener(_metadata, &addr, 16);
	hfd = blackhole(_metadata, &hole, &filler);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cfd);
	before = zt_count_fds();
	zt_ring(_metadata, &ring, 16, 0);
	zk_prep_accept(zt_sqe_ud(_metadata, &ring, 1), lfd, NULL, NULL, 0, 0);
	zk_prep_accept(zt_sqe_ud(_metadata, &ring, 2), lfd, NULL, NULL, 0,
		       ZSYNC_ACCEPT_MULTISHOT);
	zk_prep_connect(zt_sqe_ud(_metadata, &ring, 3), cfd, (struct sockaddr *)&hole,
			sizeof(hole));
	zt_submit(_metadata, &ring, 3);
	/* The accepts now wait for this thread, which closes the ring instead. */
	late = zt_tcp_connect(_metadata, &addr);
	zt_wait_deferred(_metadata, &ring);
	start = zt_mono_ns();
	zk_ring_exit(&ring);
	EXPECT_GT(ZT_PROMPT_MS, zt_ms_since(start));
	EXPECT_EQ(before + 1, zt_count_fds());
	/* The connection was never accepted: it is still there for accept(2). */
	close(accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
	close(late);
	close(cfd);
	close(filler);
	close(hfd);
	close(lfd);
}

/* ---- echo through rings -------------------------------------------------- */

#define ECHO_CONNS	64
#define ECHO_ROUNDS	8
#define ECHO_MAX	1024

enum { UD_ACCEPT = 1, UD_RECV, UD_SEND, UD_CONNECT, UD_SHUT };

static __u64 ud_of(unsigned int kind, unsigned int idx)
{
	return (__u64)kind << 32 | idx;
}

struct echo_server {
	struct zk_ring ring;
	int lfd;
	int fds[ECHO_CONNS];
	char bufs[ECHO_CONNS][ECHO_MAX];
	unsigned int accepted, closed, errors;
	size_t echoed;
};

static int server_submit(struct zk_ring *ring)
{
	return zk_submit(ring) < 0 ? -1 : 0;
}

/* The server's next SQE (its SQ never holds more than one per connection). */
static struct zsync_sqe *server_sqe(struct echo_server *s, unsigned int kind, unsigned int i)
{
	struct zsync_sqe *sqe = zk_get_sqe(&s->ring);

	if (sqe)
		zk_sqe_set_data64(sqe, ud_of(kind, i));
	return sqe;
}

static bool server_recv(struct echo_server *s, unsigned int i)
{
	struct zsync_sqe *sqe = server_sqe(s, UD_RECV, i);

	if (sqe)
		zk_prep_recv(sqe, s->fds[i], s->bufs[i], ECHO_MAX, 0);
	return sqe;
}

static bool server_send(struct echo_server *s, unsigned int i, int len)
{
	struct zsync_sqe *sqe = server_sqe(s, UD_SEND, i);

	if (sqe)
		zk_prep_send(sqe, s->fds[i], s->bufs[i], (size_t)len, MSG_WAITALL);
	return sqe;
}

static bool server_failed(struct echo_server *s)
{
	s->errors++;
	return false;
}

/* Handles one server CQE; returns false once the server is done or failed. */
static bool server_handle(struct echo_server *s, const struct zsync_cqe *c)
{
	unsigned int kind = c->user_data >> 32, i = (unsigned int)c->user_data;

	if (kind == UD_ACCEPT && c->res >= 0 && (c->flags & ZSYNC_CQE_F_MORE) &&
	    s->accepted < ECHO_CONNS) {
		s->fds[s->accepted] = c->res;
		return server_recv(s, s->accepted++) || server_failed(s);
	}
	if (kind == UD_RECV && c->res > 0)
		return server_send(s, i, c->res) || server_failed(s);
	if (kind == UD_RECV && c->res == 0) {
		close(s->fds[i]);
		return ++s->closed < ECHO_CONNS;
	}
	if (kind == UD_SEND && c->res > 0) {
		s->echoed += (size_t)c->res;
		return server_recv(s, i) || server_failed(s);
	}
	/* Anything else (an error, a multishot end) is a failure here. */
	return server_failed(s);
}

/* The whole server: one ring, a multishot ACCEPT, a RECV/SEND per connection. */
static void *echo_server_main(void *arg)
{
	struct echo_server *s = arg;
	struct zsync_sqe *sqe = zk_get_sqe(&s->ring);
	bool running = true;

	zk_prep_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC, ZSYNC_ACCEPT_MULTISHOT);
	zk_sqe_set_data64(sqe, ud_of(UD_ACCEPT, 0));
	while (running) {
		struct zsync_timespec ts = zt_ts_ms(10000);
		struct zsync_cqe *cqe, c;

		if (server_submit(&s->ring) || zk_wait_cqe_timeout(&s->ring, &cqe, &ts)) {
			s->errors++;
			break;
		}
		c = *cqe;
		zk_cqe_seen(&s->ring, cqe);
		running = server_handle(s, &c);
	}
	return NULL;
}

struct echo_variant_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

static int echo_listener(struct __test_metadata *_metadata, int family,
			 struct echo_variant_addr *a)
{
	int lfd;

	if (family == AF_INET) {
		lfd = zt_tcp_listener(_metadata, (struct sockaddr_in *)&a->ss, ECHO_CONNS);
		a->len = sizeof(struct sockaddr_in);
		return lfd;
	}
	a->len = zt_abstract_addr((struct sockaddr_un *)&a->ss, "zsync-netconn-echo");
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&a->ss, a->len));
	ASSERT_EQ(0, listen(lfd, ECHO_CONNS));
	return lfd;
}

/* What connection @i sends in @round: its length and a recognisable pattern. */
static size_t echo_message(char *buf, unsigned int i, unsigned int round)
{
	size_t len = 1 + (i * 37 + round * 101) % ECHO_MAX, k;

	for (k = 0; k < len; k++)
		buf[k] = (char)(i ^ (round << 4) ^ k);
	return len;
}

/* Clients: CONNECT each, then rounds of SEND + RECV (MSG_WAITALL), then SHUTDOWN. */
static void echo_clients(struct __test_metadata *_metadata, int family,
			 struct echo_variant_addr *a, size_t *sent)
{
	static char out[ECHO_CONNS][ECHO_MAX], in[ECHO_CONNS][ECHO_MAX];
	size_t len[ECHO_CONNS];
	int fds[ECHO_CONNS];
	struct zk_ring ring;
	struct zsync_cqe c;
	unsigned int i, round, n;

	zt_ring(_metadata, &ring, 256, 0);
	for (i = 0; i < ECHO_CONNS; i++) {
		fds[i] = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, fds[i]);
		zk_prep_connect(zt_sqe_ud(_metadata, &ring, ud_of(UD_CONNECT, i)), fds[i],
				(struct sockaddr *)&a->ss, a->len);
	}
	zt_submit(_metadata, &ring, ECHO_CONNS);
	for (n = 0; n < ECHO_CONNS; n++) {
		zt_reap(_metadata, &ring, &c, 1, 5000);
		ASSERT_EQ(0, c.res) TH_LOG("CONNECT %u: %s", (unsigned int)c.user_data,
					   zt_err(c.res));
	}
	for (round = 0; round < ECHO_ROUNDS; round++) {
		for (i = 0; i < ECHO_CONNS; i++) {
			len[i] = echo_message(out[i], i, round);
			zk_prep_send(zt_sqe_ud(_metadata, &ring, ud_of(UD_SEND, i)), fds[i],
				     out[i], len[i], MSG_WAITALL);
			zk_prep_recv(zt_sqe_ud(_metadata, &ring, ud_of(UD_RECV, i)), fds[i],
				     in[i], len[i], MSG_WAITALL);
		}
		zt_submit(_metadata, &ring, 2 * ECHO_CONNS);
		for (n = 0; n < 2 * ECHO_CONNS; n++) {
			zt_reap(_metadata, &ring, &c, 1, 5000);
			i = (unsigned int)c.user_data;
			ASSERT_EQ((int)len[i], c.res) TH_LOG("round %u conn %u op %u: %s", round, i,
							     (unsigned int)(c.user_data >> 32),
							     zt_err(c.res));
			if (c.user_data >> 32 == UD_RECV) {
				ASSERT_EQ(0, memcmp(out[i], in[i], len[i]));
			} else {
				*sent += len[i];
			}
		}
	}
	for (i = 0; i < ECHO_CONNS; i++)
		zk_prep_shutdown(zt_sqe_ud(_metadata, &ring, ud_of(UD_SHUT, i)), fds[i], SHUT_WR);
	zt_submit(_metadata, &ring, ECHO_CONNS);
	for (n = 0; n < ECHO_CONNS; n++) {
		zt_reap(_metadata, &ring, &c, 1, 5000);
		EXPECT_EQ(0, c.res);
	}
	zk_ring_exit(&ring);
	for (i = 0; i < ECHO_CONNS; i++)
		close(fds[i]);
}

FIXTURE(echo) {
};

FIXTURE_VARIANT(echo) {
	int family;
};

FIXTURE_VARIANT_ADD(echo, tcp) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(echo, unix) {
	.family = AF_UNIX,
};

FIXTURE_SETUP(echo)
{
}

FIXTURE_TEARDOWN(echo)
{
}

TEST_F_TIMEOUT(echo, sixty_four_connections_through_rings, 120)
{
	static struct echo_server s;
	struct echo_variant_addr a = {};
	size_t sent = 0;
	pthread_t th;

	memset(&s, 0, sizeof(s));
	s.lfd = echo_listener(_metadata, variant->family, &a);
	zt_ring(_metadata, &s.ring, 256, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, echo_server_main, &s));
	echo_clients(_metadata, variant->family, &a, &sent);
	pthread_join(th, NULL);
	EXPECT_EQ(0u, s.errors);
	EXPECT_EQ((unsigned int)ECHO_CONNS, s.accepted);
	EXPECT_EQ((unsigned int)ECHO_CONNS, s.closed);
	EXPECT_EQ(sent, s.echoed);
	TH_LOG("%u connections, %zu bytes echoed", s.accepted, s.echoed);
	zk_ring_exit(&s.ring);
	close(s.lfd);
}

TEST_HARNESS_MAIN
