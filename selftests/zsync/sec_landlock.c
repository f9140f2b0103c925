// SPDX-License-Identifier: GPL-2.0
/*
 * Landlock through a ring: a process that denies itself something gets
 * the same denial from the ring as from the syscall.
 *  - TCP connect (Landlock ABI >= 4, 6.7+; the 6.12 VM kernel): connect(2)
 *    gets EACCES, and CONNECT cannot connect either: the module refuses it
 *    by default (it cannot call security_socket_connect()), and the Io
 *    layer's fallback, connect(2), gets EACCES.  Before the fix CONNECT
 *    connected (issue 11, finding 9).
 *  - Reading files outside a directory (ABI >= 1): OPENAT gets EACCES,
 *    inline and as the continuation of a chain.
 * Each test restricts only its own process (the harness forks per test).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/landlock.h>
#include "helpers.h"
#include "nethelpers.h"
#include "devaccess.h"
#include "zsync-k-io.h"

/* Net rules (ABI 4) are newer than some build hosts' headers. */
struct zt_ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
};

struct zt_ll_net_port_attr {
	__u64 allowed_access;
	__u64 port;
};

#define ZT_LL_RULE_PATH_BENEATH		1
#define ZT_LL_RULE_NET_PORT		2
#define ZT_LL_ACCESS_FS_READ_FILE	(1ULL << 2)
#define ZT_LL_ACCESS_NET_BIND_TCP	(1ULL << 0)
#define ZT_LL_ACCESS_NET_CONNECT_TCP	(1ULL << 1)
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION	(1U << 0)
#endif

/* The Landlock ABI version, or SKIP when Landlock is missing or older than @min. */
static int ll_abi(struct __test_metadata *_metadata, int min)
{
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			       LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0)
		SKIP(zt_skip_exit(), "no Landlock: %s", strerror(errno));
	if (abi < min)
		SKIP(zt_skip_exit(), "Landlock ABI %d < %d (%s)", abi, min,
		     min >= 4 ? "no TCP rules before 6.7" : "too old");
	return abi;
}

/* Enforces @rs (and the rule @rule_type/@rule, if any) on this process. */
static void ll_enforce(struct __test_metadata *_metadata, const struct zt_ll_ruleset_attr *rs,
		       size_t rs_size, int rule_type, const void *rule)
{
	int fd = (int)syscall(SYS_landlock_create_ruleset, rs, rs_size, 0);

	ASSERT_LE(0, fd) TH_LOG("landlock_create_ruleset: %s", strerror(errno));
	if (rule)
		ASSERT_EQ(0, syscall(SYS_landlock_add_rule, fd, rule_type, rule, 0))
			TH_LOG("landlock_add_rule: %s", strerror(errno));
	ASSERT_EQ(0, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	ASSERT_EQ(0, syscall(SYS_landlock_restrict_self, fd, 0))
		TH_LOG("landlock_restrict_self: %s", strerror(errno));
	close(fd);
}

static int tcp_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

TEST(tcp_connect_denied_by_landlock_stays_denied_through_the_ring)
{
	struct zt_ll_ruleset_attr rs = { .handled_access_net = ZT_LL_ACCESS_NET_CONNECT_TCP };
	struct zk_io_opts o = { .backend = ZK_BACKEND_ZSYNC };
	struct sockaddr_in addr;
	struct zk_ring ring;
	struct zk_io *io;
	int lfd, fd, ret;
	char saved[8] = "";

	ll_abi(_metadata, 4);
	ZT_REQUIRE_DEV();
	/* The default; a module without the parameter just lets CONNECT run. */
	if (zt_param_read("lsm_bypass_net", saved, sizeof(saved)) == 0)
		ASSERT_EQ(0, zt_param_write("lsm_bypass_net", "N"));
	zt_ring(_metadata, &ring, 8, 0);
	lfd = zt_tcp_listener(_metadata, &addr, 8);

	ll_enforce(_metadata, &rs, sizeof(rs), 0, NULL);

	/* The syscall is denied ... */
	fd = tcp_socket();
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&addr, sizeof(addr)));
	ASSERT_EQ(EACCES, errno);
	close(fd);

	/* ... the ring's CONNECT must not get around it ... */
	fd = tcp_socket();
	ASSERT_LE(0, fd);
	zk_prep_connect(zt_sqe(_metadata, &ring), fd, (struct sockaddr *)&addr, sizeof(addr));
	ret = zt_one_within(_metadata, &ring, ZT_PROMPT_MS);
	EXPECT_NE(0, ret) TH_LOG("CONNECT connected although Landlock denies it");
	EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("CONNECT: %s", zt_err(ret));
	EXPECT_FALSE(zt_connection_pending(lfd)) TH_LOG("a connection got through");
	close(fd);

	/* ... and the Io layer's fallback is the syscall, denied as well. */
	ASSERT_EQ(0, zk_io_init(&io, &o));
	fd = tcp_socket();
	ASSERT_LE(0, fd);
	ret = zk_connect(io, fd, (struct sockaddr *)&addr, sizeof(addr));
	EXPECT_EQ(-EACCES, ret) TH_LOG("zk_connect: %s", zt_err(ret));
	EXPECT_FALSE(zt_connection_pending(lfd)) TH_LOG("a connection got through");
	close(fd);
	zk_io_exit(io);
	zk_ring_exit(&ring);
	close(lfd);
	if (saved[0])
		zt_param_write("lsm_bypass_net", saved);
}

/* A port rule allows what it names: the ring is not simply broken. */
TEST(tcp_connect_allowed_by_landlock_works_through_the_io_layer)
{
	struct zt_ll_ruleset_attr rs = { .handled_access_net = ZT_LL_ACCESS_NET_CONNECT_TCP };
	struct zk_io_opts o = { .backend = ZK_BACKEND_ZSYNC };
	struct zt_ll_net_port_attr rule = { .allowed_access = ZT_LL_ACCESS_NET_CONNECT_TCP };
	struct sockaddr_in addr;
	struct zk_io *io;
	int lfd, fd, ret;

	ll_abi(_metadata, 4);
	ZT_REQUIRE_DEV();
	lfd = zt_tcp_listener(_metadata, &addr, 8);
	rule.port = ntohs(addr.sin_port);
	ll_enforce(_metadata, &rs, sizeof(rs), ZT_LL_RULE_NET_PORT, &rule);

	ASSERT_EQ(0, zk_io_init(&io, &o));
	fd = tcp_socket();
	ASSERT_LE(0, fd);
	ret = zk_connect(io, fd, (struct sockaddr *)&addr, sizeof(addr));
	EXPECT_EQ(0, ret) TH_LOG("zk_connect: %s", zt_err(ret));
	EXPECT_TRUE(zt_connection_pending(lfd));
	close(fd);
	zk_io_exit(io);
	close(lfd);
}

/* Creates @dir/@name holding "x". */
static void make_file(struct __test_metadata *_metadata, const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "x", 1));
	close(fd);
}

TEST(openat_outside_the_landlock_allowed_directory_is_denied)
{
	struct zt_ll_ruleset_attr rs = { .handled_access_fs = ZT_LL_ACCESS_FS_READ_FILE };
	struct landlock_path_beneath_attr rule = { .allowed_access = ZT_LL_ACCESS_FS_READ_FILE };
	char inside[] = "/tmp/zt-ll-in-XXXXXX", outside[] = "/tmp/zt-ll-out-XXXXXX";
	struct zsync_timespec ts = zt_ts_ms(20);
	char in_file[64], out_file[64];
	struct zsync_cqe c[2];
	struct zk_ring ring;
	struct zsync_sqe *sqe;
	int ret;

	ll_abi(_metadata, 1);
	ZT_REQUIRE_DEV();
	ASSERT_NE(NULL, mkdtemp(inside));
	ASSERT_NE(NULL, mkdtemp(outside));
	make_file(_metadata, inside, "f");
	make_file(_metadata, outside, "f");
	snprintf(in_file, sizeof(in_file), "%s/f", inside);
	snprintf(out_file, sizeof(out_file), "%s/f", outside);
	zt_ring(_metadata, &ring, 8, 0);

	rule.parent_fd = open(inside, O_PATH | O_CLOEXEC);
	ASSERT_LE(0, rule.parent_fd);
	/* Only the first field: every Landlock ABI knows it. */
	ll_enforce(_metadata, &rs, sizeof(rs.handled_access_fs), ZT_LL_RULE_PATH_BENEATH, &rule);
	close(rule.parent_fd);

	ASSERT_EQ(-1, open(out_file, O_RDONLY | O_CLOEXEC));
	ASSERT_EQ(EACCES, errno);

	zk_prep_openat(zt_sqe(_metadata, &ring), AT_FDCWD, out_file, O_RDONLY | O_CLOEXEC, 0);
	ret = zt_one_within(_metadata, &ring, ZT_PROMPT_MS);
	EXPECT_EQ(-EACCES, ret) TH_LOG("OPENAT outside: %s", zt_err(ret));
	if (ret >= 0)
		close(ret);

	zk_prep_openat(zt_sqe(_metadata, &ring), AT_FDCWD, in_file, O_RDONLY | O_CLOEXEC, 0);
	ret = zt_one_within(_metadata, &ring, ZT_PROMPT_MS);
	EXPECT_LE(0, ret) TH_LOG("OPENAT inside: %s", zt_err(ret));
	if (ret >= 0)
		close(ret);

	/* Deferred: the continuation of a chain runs under the same domain. */
	sqe = zt_sqe(_metadata, &ring);
	zk_prep_timeout(sqe, &ts, 0, ZSYNC_TIMEOUT_ETIME_SUCCESS);
	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	zk_prep_openat(zt_sqe(_metadata, &ring), AT_FDCWD, out_file, O_RDONLY | O_CLOEXEC, 0);
	zt_submit(_metadata, &ring, 2);
	zt_reap(_metadata, &ring, c, 2, ZT_PROMPT_MS);
	EXPECT_EQ(-ETIME, c[0].res);
	EXPECT_EQ(-EACCES, c[1].res) TH_LOG("chained OPENAT outside: %s", zt_err(c[1].res));
	if (c[1].res >= 0)
		close(c[1].res);
	zk_ring_exit(&ring);
}

TEST_HARNESS_MAIN
