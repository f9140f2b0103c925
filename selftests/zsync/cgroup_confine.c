// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup ops act as their submitter: an unprivileged user cannot move
 * a process or set a knob where echo > FILE could not, delegation rules
 * (write access to the common ancestor) apply, and a process inside a
 * cgroup namespace cannot reach cgroups outside it (nsdelegate), even
 * through a directory fd opened outside.  Every case is checked against
 * what the same write(2) gets.
 */
#include <sys/mount.h>
#include "helpers.h"
#include "cgroup-helpers.h"

FIXTURE(conf) {
	char base[256];		/* root-owned scratch cgroup */
	char src[300], dst[300];	/* base/src, base/dst */
	int dst_fd;
};

FIXTURE_SETUP(conf)
{
	int fd;

	self->dst_fd = -1;
	ZT_REQUIRE_DEV();
	if (!zt_cg_available())
		SKIP(zt_skip_exit(), "no cgroup2 at %s", ZT_CG_ROOT);
	zt_path(self->base, sizeof(self->base), ZT_CG_ROOT "/zt-conf-%d", getpid());
	fd = zt_cg_make(_metadata, self->base);
	close(fd);
	ASSERT_EQ(0, zt_cg_write(self->base, "cgroup.subtree_control", "+pids"));
	zt_path(self->src, sizeof(self->src), "%s/src", self->base);
	zt_path(self->dst, sizeof(self->dst), "%s/dst", self->base);
	ASSERT_EQ(0, mkdir(self->src, 0755));
	ASSERT_EQ(0, mkdir(self->dst, 0755));
	self->dst_fd = open(self->dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dst_fd);
}

FIXTURE_TEARDOWN(conf)
{
	if (self->dst_fd >= 0) {
		close(self->dst_fd);
		zt_cg_destroy(self->base);
	}
}

/* What the children do: the op through a ring, or the same write(2). */
struct conf_arg {
	int dfd;		/* cgroup directory */
	const char *dir;	/* its path, for write(2) */
	const char *knob;	/* SET: knob, value */
	const char *value;
	pid_t pid;		/* ATTACH: process */
};

static void prep_attach(struct zsync_sqe *sqe, void *p)
{
	struct conf_arg *a = p;

	zk_prep_cgroup_attach(sqe, a->dfd, a->pid);
}

static void prep_set(struct zsync_sqe *sqe, void *p)
{
	struct conf_arg *a = p;

	zk_prep_cgroup_set_str(sqe, a->dfd, a->knob, a->value);
}

static int ring_attach(void *p)
{
	return zt_child_one(prep_attach, p);
}

static int ring_set(void *p)
{
	return zt_child_one(prep_set, p);
}

static int echo_attach(void *p)
{
	struct conf_arg *a = p;
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", a->pid);
	return zt_errcode(zt_cg_write(a->dir, "cgroup.procs", buf));
}

static int echo_set(void *p)
{
	struct conf_arg *a = p;

	return zt_errcode(zt_cg_write(a->dir, a->knob, a->value));
}

/* Runs the ring op and the echo under @o; both must give @want (an errno or 0). */
static void expect_both(struct __test_metadata *_metadata, const struct zt_child_opts *o,
			int (*ring)(void *), int (*echo)(void *), struct conf_arg *a,
			int want, const char *what)
{
	int r = zt_child(_metadata, o, echo, a);

	EXPECT_EQ(want, r) TH_LOG("%s with write(2): errno %d, expected %d", what, r, want);
	r = zt_child(_metadata, o, ring, a);
	EXPECT_EQ(want, r) TH_LOG("%s through the ring: errno %d, expected %d", what, r, want);
}

TEST_F(conf, unprivileged_user_cannot_attach_or_set_in_a_root_cgroup)
{
	struct zt_child_opts o = { .uid = ZT_NOBODY };
	/* The directory fd was opened by root and is inherited: it grants nothing. */
	struct conf_arg a = { .dfd = self->dst_fd, .dir = self->dst, .pid = 0,
			      .knob = "pids.max", .value = "5" };
	char buf[64];

	expect_both(_metadata, &o, ring_attach, echo_attach, &a, EACCES, "attach self");
	expect_both(_metadata, &o, ring_set, echo_set, &a, EACCES, "set pids.max");
	EXPECT_EQ(0, zt_cg_nprocs(self->dst));
	ASSERT_LT(0, zt_cg_read(self->dst, "pids.max", buf, sizeof(buf)));
	EXPECT_STREQ("max\n", buf);
}

static void chown_cgroup(struct __test_metadata *_metadata, const char *dir, uid_t uid)
{
	char path[512];

	ASSERT_EQ(0, chown(dir, uid, uid));
	zt_path(path, sizeof(path), "%s/cgroup.procs", dir);
	ASSERT_EQ(0, chown(path, uid, uid));
}

/*
 * Delegation: owning the destination is not enough, the mover must also
 * be able to write cgroup.procs of the common ancestor of source and
 * destination (cgroup_procs_write_permission(), with the opener's creds).
 */
TEST_F(conf, delegation_needs_the_common_ancestor)
{
	struct zt_child_opts o = { .cg = self->src, .uid = ZT_NOBODY };
	struct conf_arg a = { .dfd = self->dst_fd, .dir = self->dst, .pid = 0 };

	chown_cgroup(_metadata, self->dst, ZT_NOBODY);
	expect_both(_metadata, &o, ring_attach, echo_attach, &a, EACCES,
		    "attach from a sibling, ancestor not delegated");
	EXPECT_EQ(0, zt_cg_nprocs(self->dst));

	chown_cgroup(_metadata, self->base, ZT_NOBODY);
	chown_cgroup(_metadata, self->src, ZT_NOBODY);
	expect_both(_metadata, &o, ring_attach, echo_attach, &a, 0,
		    "attach with the subtree delegated");
}

static bool nsdelegate_mounted(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " " ZT_CG_ROOT " cgroup2 ") && strstr(line, "nsdelegate"))
			found = true;
	fclose(f);
	return found;
}

/* In the child: a directory fd on @dir opened inside the namespace. */
static int ring_set_in(void *p)
{
	struct conf_arg a = *(struct conf_arg *)p;
	int ret;

	a.dfd = open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.dfd < 0)
		return 240;
	ret = zt_child_one(prep_set, &a);
	close(a.dfd);
	return ret;
}

/*
 * With nsdelegate, a cgroup namespace is a delegation boundary.  The child
 * enters src, unshares its cgroup namespace (src is its root) and keeps
 * fds opened before.  It may not move itself to dst (outside), move a
 * process of dst into its namespace, or set the limits of its own
 * namespace root; from the initial namespace the same moves succeed.
 */
TEST_F(conf, cgroup_namespace_cannot_reach_outside)
{
	struct zt_child_opts inside = { .cg = self->src, .cgroupns = true };
	struct zt_child_opts outside = { .cg = self->src };
	struct conf_arg a = { .dfd = self->dst_fd, .dir = self->dst, .pid = 0 };
	struct conf_arg knob = { .dir = self->src, .knob = "pids.max", .value = "5" };
	int src_fd = open(self->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid_t victim;

	if (!nsdelegate_mounted())
		SKIP(return, "cgroup2 is not mounted with nsdelegate");
	ASSERT_LE(0, src_fd);
	expect_both(_metadata, &inside, ring_attach, echo_attach, &a, ENOENT,
		    "inside the namespace, attach self to a cgroup outside");
	EXPECT_EQ(0, zt_cg_nprocs(self->dst));

	victim = zt_spawn(_metadata, self->dst, ZT_CHILD_PAUSE);
	a = (struct conf_arg){ .dfd = src_fd, .dir = self->src, .pid = victim };
	expect_both(_metadata, &inside, ring_attach, echo_attach, &a, ENOENT,
		    "inside the namespace, pull in a process from outside");
	EXPECT_EQ(1, zt_cg_nprocs(self->dst));

	expect_both(_metadata, &inside, ring_set_in, echo_set, &knob, EPERM,
		    "inside the namespace, set a limit of its root");

	/* The control: outside the namespace the very same ops work. */
	EXPECT_EQ(0, zt_child(_metadata, &outside, ring_attach, &a));
	EXPECT_EQ(0, zt_cg_nprocs(self->dst));
	EXPECT_EQ(0, zt_child(_metadata, &outside, ring_set_in, &knob));
	zt_kill_reap(victim);
	close(src_fd);
}

TEST_HARNESS_MAIN
