// SPDX-License-Identifier: GPL-2.0
/*
 * A WRITE to cgroup.procs resolves the pid in the writer's pid namespace,
 * as write(2) does: an unprivileged process in its own user and pid
 * namespace, owning a delegated subtree, cannot move a process outside
 * its namespace by writing that process's (outer) pid through a ring.
 */
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include "helpers.h"
#include "cgroup-helpers.h"

#define SKIP_CODE	77

static int chown_cg(const char *dir)
{
	static const char *const files[] = { "", "/cgroup.procs", "/cgroup.threads",
					     "/cgroup.subtree_control" };
	char path[512];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		zt_path(path, sizeof(path), "%s%s", dir, files[i]);
		if (chown(path, ZT_NOBODY, ZT_NOBODY))
			return -errno;
	}
	return 0;
}

/* In the new pid namespace (pid 1 there): write @victim both ways. */
static int attacker(struct zk_ring *ring, const char *procs, pid_t victim)
{
	struct zsync_cqe *cqe;
	struct zsync_timespec ts = zt_ts_ms(5000);
	struct zsync_sqe *sqe;
	char val[32];
	int fd, len, ret;

	len = snprintf(val, sizeof(val), "%d", victim);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "# open %s: %s\n", procs, strerror(errno));
		return 80;
	}
	/* What write(2) gets: the pid is not in this namespace. */
	if (write(fd, val, len) != -1 || errno != ESRCH) {
		fprintf(stderr, "# write(2) of an outer pid: %s\n", strerror(errno));
		return 81;
	}
	sqe = zk_get_sqe(ring);
	zk_prep_write(sqe, fd, val, len, 0);
	zk_sqe_set_data64(sqe, 1);
	if (zk_submit(ring) != 1)
		return 82;
	ret = zk_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret) {
		fprintf(stderr, "# no CQE: %s\n", zt_err(ret));
		return 83;
	}
	if (cqe->res != -ESRCH) {
		fprintf(stderr, "# ring WRITE of an outer pid: %s\n", zt_err(cqe->res));
		return 84;
	}
	zk_cqe_seen(ring, cqe);
	return 0;
}

TEST(cgroup_procs_write_resolves_pids_in_the_writers_namespace)
{
	char base[256], a[300], b[300], procs[320], where[512], want[300];
	struct zk_ring ring;
	int gate[2], status;
	pid_t victim, pid;
	char c;

	ZT_REQUIRE_DEV();
	ZT_REQUIRE_CGROUP2();
	if (geteuid())
		SKIP(return, "needs root to delegate a subtree");
	zt_path(base, sizeof(base), ZT_CG_ROOT "/zt-secp-%d", getpid());
	close(zt_cg_make(_metadata, base));
	zt_path(a, sizeof(a), "%s/a", base);
	zt_path(b, sizeof(b), "%s/b", base);
	ASSERT_EQ(0, mkdir(a, 0755));
	ASSERT_EQ(0, mkdir(b, 0755));
	ASSERT_EQ(0, chown_cg(base));
	ASSERT_EQ(0, chown_cg(a));
	ASSERT_EQ(0, chown_cg(b));
	zt_path(procs, sizeof(procs), "%s/cgroup.procs", b);

	/* The victim: outside the attacker's namespace, in a/. */
	ASSERT_EQ(0, pipe(gate));
	victim = fork();
	ASSERT_LE(0, victim);
	if (victim == 0) {
		close(gate[1]);
		if (zt_cg_write(a, "cgroup.procs", "0"))
			_exit(1);
		if (read(gate[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(gate[0]);
	zt_path(want, sizeof(want), "/zt-secp-%d/a", getpid());
	for (int i = 0; i < 1000; i++) {
		zt_proc_cgroup(victim, where, sizeof(where));
		if (!strcmp(where, want))
			break;
		zt_sleep_ms(5);
	}
	ASSERT_STREQ(want, where);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t inner;

		/* The ring is set up by root; everything after is nobody's. */
		if (zk_ring_init(8, &ring, 0))
			_exit(70);
		if (setgroups(0, NULL) || setresgid(ZT_NOBODY, ZT_NOBODY, ZT_NOBODY) ||
		    setresuid(ZT_NOBODY, ZT_NOBODY, ZT_NOBODY))
			_exit(71);
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID))
			_exit(SKIP_CODE);
		inner = fork();
		if (inner < 0)
			_exit(72);
		if (inner == 0)
			_exit(attacker(&ring, procs, victim));
		if (waitpid(inner, &status, 0) != inner)
			_exit(73);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 74);
	}
	status = zt_wait_child(pid, 20000);
	zt_proc_cgroup(victim, where, sizeof(where));
	close(gate[1]);
	waitpid(victim, NULL, 0);
	zt_cg_destroy(base);
	ASSERT_NE(-1, status) TH_LOG("the attacker did not finish");
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_CODE)
		SKIP(return, "no unprivileged user namespaces");
	EXPECT_STREQ(want, where) TH_LOG("the victim outside the namespace was moved");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("attacker status %#x", status);
}

TEST_HARNESS_MAIN
