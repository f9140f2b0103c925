// SPDX-License-Identifier: GPL-2.0
/*
 * Who may use /dev/zsync: the node is 0660 (group zsync by the shipped
 * udev rule, by init in the VM), so a user outside the group cannot open
 * it; and restrict_users, like io_uring_disabled, narrows ring creation to
 * a group and CAP_SYS_ADMIN (1) or stops it for everyone (2) while rings
 * already set up keep working.  Before the fix the node was 0666 and
 * anyone could create rings (issue 11).
 */
#include <sys/stat.h>
#include "helpers.h"
#include "devaccess.h"

#define NOBODY		65534
#define OTHER_GID	12345	/* a group nobody belongs to */

FIXTURE(dev) {
	char restrict_users[16], group[16];
};

FIXTURE_SETUP(dev)
{
	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, zt_param_read("restrict_users", self->restrict_users,
				   sizeof(self->restrict_users)))
		TH_LOG("no restrict_users parameter");
	ASSERT_EQ(0, zt_param_read("group", self->group, sizeof(self->group)))
		TH_LOG("no group parameter");
	ASSERT_EQ(0, zt_param_write("restrict_users", "0"));
	ASSERT_EQ(0, zt_param_write("group", "-1"));
}

FIXTURE_TEARDOWN(dev)
{
	if (self->restrict_users[0])
		zt_param_write("restrict_users", self->restrict_users);
	if (self->group[0])
		zt_param_write("group", self->group);
}

/*
 * In a child running as nobody with supplementary groups @groups: open the
 * device and set up a ring.  Returns 0, or the errno that stopped it (and
 * 250 if the child could not become nobody).
 */
static int ring_as_nobody(const gid_t *groups, size_t n)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 251;
	if (pid == 0) {
		struct zsync_params p = { .sq_entries = 8 };
		struct zk_ring ring;
		int fd;

		if (setgroups(n, groups) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(250);
		fd = open(zt_dev_path(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(errno);
		_exit(-zk_ring_init_fd(fd, &ring, &p));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 252;
	return WEXITSTATUS(status);
}

/* Open and set up a ring here: 0 or -errno. */
static int ring_here(struct zk_ring *ring)
{
	struct zsync_params p = { .sq_entries = 8 };
	int fd = open(zt_dev_path(), O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = zk_ring_init_fd(fd, ring, &p);
	if (ret)
		close(fd);
	return ret;
}

/* Outside the fixture: it must not depend on the parameters existing. */
TEST(node_is_0660_and_refuses_users_outside_its_group)
{
	gid_t devgid = zt_dev_gid();
	struct stat st;

	ZT_REQUIRE_DEV();
	ASSERT_EQ(0, stat(zt_dev_path(), &st));
	EXPECT_EQ(0660U, st.st_mode & 07777) TH_LOG("%s has mode %#o", zt_dev_path(),
						   st.st_mode & 07777);
	EXPECT_NE(0U, devgid) TH_LOG("%s has no group of its own (init/udev did not give it one)",
				     zt_dev_path());
	EXPECT_EQ(EACCES, ring_as_nobody(NULL, 0));
	EXPECT_EQ(0, ring_as_nobody(&devgid, 1));
}

TEST_F(dev, restrict_users_2_stops_new_rings_even_for_root)
{
	struct zk_ring old, late;
	struct zsync_params p = { .sq_entries = 8 };
	struct zsync_cqe c;
	int fd, ret;

	ASSERT_EQ(0, ring_here(&old));
	fd = open(zt_dev_path(), O_RDWR | O_CLOEXEC);	/* opened, not set up */
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, zt_param_write("restrict_users", "3"));
	ASSERT_EQ(0, zt_param_write("restrict_users", "2"));

	EXPECT_EQ(-EPERM, ring_here(&late));
	EXPECT_EQ(-EPERM, zk_ring_init_fd(fd, &late, &p));
	close(fd);
	/* The ring set up before keeps working. */
	zt_nop(_metadata, &old, 7);
	zt_submit(_metadata, &old, 1);
	zt_reap(_metadata, &old, &c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(7ULL, c.user_data);
	EXPECT_EQ(0, c.res);
	zk_ring_exit(&old);

	ASSERT_EQ(0, zt_param_write("restrict_users", "0"));
	ret = ring_here(&late);
	ASSERT_EQ(0, ret) TH_LOG("after restrict_users=0: %s", zt_err(ret));
	zk_ring_exit(&late);
}

TEST_F(dev, restrict_users_1_allows_the_group_and_cap_sys_admin_only)
{
	gid_t devgid = zt_dev_gid(), both[2] = { zt_dev_gid(), OTHER_GID };
	struct zk_ring ring;

	ASSERT_NE(0U, devgid);
	ASSERT_EQ(0, zt_param_write("restrict_users", "1"));
	/* group -1: the device's own group. */
	EXPECT_EQ(0, ring_as_nobody(&devgid, 1));
	ASSERT_EQ(0, ring_here(&ring));
	zk_ring_exit(&ring);

	/* Another group: the device's members may open it, not create rings. */
	ASSERT_EQ(0, zt_param_write("group", "12345"));
	EXPECT_EQ(EPERM, ring_as_nobody(&devgid, 1));
	EXPECT_EQ(0, ring_as_nobody(both, 2));
	ASSERT_EQ(0, ring_here(&ring)) TH_LOG("CAP_SYS_ADMIN is always allowed");
	zk_ring_exit(&ring);
}

TEST_HARNESS_MAIN
