// SPDX-License-Identifier: GPL-2.0
/*
 * CONNECT, ACCEPT and SHUTDOWN fail closed.  connect(2), accept(2) and
 * shutdown(2) call security_socket_connect/accept/shutdown(), which a
 * module cannot call, so through a ring they would skip every LSM's socket
 * rules.  By default the module refuses them (-EOPNOTSUPP, disabled in
 * PROBE), only lsm_bypass_net=Y lets them run, and libzsync-k's Io layer
 * runs them as the syscalls instead, so programs keep working under the
 * LSM's policy.  Before the fix they always ran (issue 11, finding 9).
 */
#include <poll.h>
#include "helpers.h"
#include "nethelpers.h"
#include "devaccess.h"
#include "zsync-k-io.h"

FIXTURE(lsm) {
	struct zk_ring ring;
	char saved[8];
};

FIXTURE_SETUP(lsm)
{
	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, zt_param_read("lsm_bypass_net", self->saved, sizeof(self->saved)))
		TH_LOG("no lsm_bypass_net parameter: CONNECT, ACCEPT and SHUTDOWN cannot be refused");
	ASSERT_EQ(0, zt_param_write("lsm_bypass_net", "N"));
	zt_ring(_metadata, &self->ring, 16, 0);
}

FIXTURE_TEARDOWN(lsm)
{
	zk_ring_exit(&self->ring);
	if (self->saved[0])
		zt_param_write("lsm_bypass_net", self->saved);
}

static void check_probe(struct __test_metadata *_metadata, struct zk_ring *ring,
			bool disabled)
{
	static const unsigned int gated[] = { ZSYNC_OP_CONNECT, ZSYNC_OP_ACCEPT,
					      ZSYNC_OP_SHUTDOWN };
	struct zsync_probe p;
	unsigned int i;

	ASSERT_EQ(0, zk_probe(ring, &p));
	for (i = 0; i < 3; i++) {
		EXPECT_TRUE(zk_probe_has_op(&p, gated[i]));
		EXPECT_EQ(disabled, zk_probe_op_disabled(&p, gated[i])) TH_LOG("op %u", gated[i]);
	}
	/* The others call what their syscalls call: never gated. */
	EXPECT_FALSE(zk_probe_op_disabled(&p, ZSYNC_OP_SEND));
	EXPECT_FALSE(zk_probe_op_disabled(&p, ZSYNC_OP_SENDMSG));
	EXPECT_FALSE(zk_probe_op_disabled(&p, ZSYNC_OP_RECV));
	EXPECT_FALSE(zk_probe_op_disabled(&p, ZSYNC_OP_NS_SOCKET));
}

TEST_F(lsm, connect_accept_shutdown_are_refused_by_default)
{
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pollfd p;
	int sv[2];

	ASSERT_LE(0, cfd);
	check_probe(_metadata, &self->ring, true);

	zk_prep_connect(zt_sqe(_metadata, &self->ring), cfd, (struct sockaddr *)&addr,
			sizeof(addr));
	EXPECT_EQ(-EOPNOTSUPP, zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS));
	EXPECT_FALSE(zt_connection_pending(lfd)) TH_LOG("the refused CONNECT connected");

	zt_tcp_pair(_metadata, sv);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&addr, sizeof(addr)));
	zk_prep_accept(zt_sqe(_metadata, &self->ring), lfd, NULL, NULL, 0, 0);
	EXPECT_EQ(-EOPNOTSUPP, zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS));
	EXPECT_TRUE(zt_connection_pending(lfd)) TH_LOG("the refused ACCEPT took the connection");

	zk_prep_shutdown(zt_sqe(_metadata, &self->ring), sv[0], SHUT_WR);
	EXPECT_EQ(-EOPNOTSUPP, zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS));
	p = (struct pollfd){ .fd = sv[1], .events = POLLIN | POLLRDHUP };
	EXPECT_EQ(0, poll(&p, 1, 0)) TH_LOG("the refused SHUTDOWN reached the peer");
	close(sv[0]);
	close(sv[1]);
	close(cfd);
	close(lfd);
}

TEST_F(lsm, lsm_bypass_net_lets_them_run_and_can_be_withdrawn)
{
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int afd;

	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, zt_param_write("lsm_bypass_net", "Y"));
	check_probe(_metadata, &self->ring, false);
	zk_prep_connect(zt_sqe(_metadata, &self->ring), cfd, (struct sockaddr *)&addr,
			sizeof(addr));
	EXPECT_EQ(0, zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS));
	zk_prep_accept(zt_sqe(_metadata, &self->ring), lfd, NULL, NULL, SOCK_CLOEXEC, 0);
	afd = zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS);
	ASSERT_LE(0, afd) TH_LOG("ACCEPT: %s", zt_err(afd));
	zk_prep_shutdown(zt_sqe(_metadata, &self->ring), cfd, SHUT_WR);
	EXPECT_EQ(0, zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS));

	/* Withdrawn at run time: refused again from the next submission on. */
	ASSERT_EQ(0, zt_param_write("lsm_bypass_net", "N"));
	check_probe(_metadata, &self->ring, true);
	zk_prep_shutdown(zt_sqe(_metadata, &self->ring), afd, SHUT_WR);
	EXPECT_EQ(-EOPNOTSUPP, zt_one_within(_metadata, &self->ring, ZT_PROMPT_MS));
	close(afd);
	close(cfd);
	close(lfd);
}

/* The Io layer on the zsync backend, or SKIP. */
static struct zk_io *zsync_io(struct __test_metadata *_metadata)
{
	struct zk_io_opts o = { .backend = ZK_BACKEND_ZSYNC };
	struct zk_io *io;
	int ret = zk_io_init(&io, &o);

	ASSERT_EQ(0, ret) TH_LOG("zk_io_init(zsync): %s", zt_err(ret));
	return io;
}

/* A connection through the Io layer, checked by the bytes it carries. */
static void io_connect_and_accept(struct __test_metadata *_metadata, struct zk_io *io)
{
	struct sockaddr_in addr, peer;
	socklen_t plen = sizeof(peer);
	int lfd = zt_tcp_listener(_metadata, &addr, 4);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[4] = "";
	int afd, ret;

	ASSERT_LE(0, cfd);
	ret = zk_connect(io, cfd, (struct sockaddr *)&addr, sizeof(addr));
	ASSERT_EQ(0, ret) TH_LOG("zk_connect: %s", zt_err(ret));
	afd = zk_accept(io, lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	ASSERT_LE(0, afd) TH_LOG("zk_accept: %s", zt_err(afd));
	EXPECT_EQ(sizeof(peer), plen);
	ASSERT_EQ(3, zk_send(io, cfd, "abc", 3, 0));
	ASSERT_EQ(3, zk_recv(io, afd, buf, 3, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_F(lsm, io_layer_runs_refused_ops_as_syscalls)
{
	struct zk_io *io = zsync_io(_metadata);
	struct zsync_stats st0, st1;

	ASSERT_TRUE(zk_io_backend(io) == ZK_BACKEND_ZSYNC);
	ASSERT_EQ(0, zk_stats(&self->ring, &st0));
	io_connect_and_accept(_metadata, io);
	/* The probe said disabled: the ring was not even asked. */
	ASSERT_EQ(0, zk_stats(&self->ring, &st1));
	EXPECT_EQ(st0.ops_disabled, st1.ops_disabled);
	zk_io_exit(io);
}

TEST_F(lsm, io_layer_falls_back_when_refused_after_its_probe)
{
	struct zsync_stats st0, st1;
	struct zk_io *io;

	ASSERT_EQ(0, zt_param_write("lsm_bypass_net", "Y"));
	io = zsync_io(_metadata);
	ASSERT_EQ(0, zt_param_write("lsm_bypass_net", "N"));
	ASSERT_EQ(0, zk_stats(&self->ring, &st0));
	io_connect_and_accept(_metadata, io);
	/* The ring refused CONNECT (and the op ran as connect(2) instead). */
	ASSERT_EQ(0, zk_stats(&self->ring, &st1));
	EXPECT_LE(st0.ops_disabled + 1, st1.ops_disabled);
	/* Then it knows: the next ones go straight to the syscalls. */
	io_connect_and_accept(_metadata, io);
	ASSERT_EQ(0, zk_stats(&self->ring, &st0));
	EXPECT_EQ(st1.ops_disabled, st0.ops_disabled);
	zk_io_exit(io);
}

TEST_HARNESS_MAIN
