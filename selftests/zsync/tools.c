// SPDX-License-Identifier: GPL-2.0
/*
 * zsyncctl and zsync-run, run as the user would run them, their output and
 * exit codes checked against cgroupfs, /proc and lsns(8).
 */
#include <sched.h>
#include <sys/stat.h>
#include "helpers.h"
#include "cgroup-helpers.h"
#include "devaccess.h"

#define ZSYNCCTL	"/bin/zsyncctl"
#define ZSYNC_RUN	"/bin/zsync-run"

/*
 * Runs @argv (NULL-terminated) as @uid (0: as we are), stdout and stderr
 * into @out; returns the exit status, or -1 if it did not exit normally.
 */
static int run_argv(uid_t uid, char *out, size_t sz, char *const argv[])
{
	size_t len = 0;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (uid && (zt_setgroups_dev() || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(200);
		execv(argv[0], argv);
		_exit(201);
	}
	close(p[1]);
	while (len < sz - 1 && (n = read(p[0], out + len, sz - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

#define run(out, ...)		run_argv(0, out, sizeof(out), (char *const[]){ __VA_ARGS__, NULL })
#define run_as(uid, out, ...)	run_argv(uid, out, sizeof(out), (char *const[]){ __VA_ARGS__, NULL })

/* The number after "@key": in @json, or -1. */
static long long json_num(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

FIXTURE(ctl) {
	char path[256];
	char out[8192];
};

FIXTURE_SETUP(ctl)
{
	ZT_REQUIRE_DEV();
	if (access(ZSYNCCTL, X_OK) || access(ZSYNC_RUN, X_OK))
		SKIP(zt_skip_exit(), "%s or %s not installed", ZSYNCCTL, ZSYNC_RUN);
	if (!zt_cg_available())
		SKIP(zt_skip_exit(), "no cgroup2 at %s", ZT_CG_ROOT);
	zt_path(self->path, sizeof(self->path), ZT_CG_ROOT "/zt-ctl-%d", getpid());
	zt_cg_destroy(self->path);
}

FIXTURE_TEARDOWN(ctl)
{
	zt_cg_destroy(self->path);
}

TEST_F(ctl, zsyncctl_help_and_usage_errors)
{
	EXPECT_EQ(0, run(self->out, ZSYNCCTL, "--help"));
	EXPECT_NE(NULL, strstr(self->out, "usage:"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "bogus"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "cgroup", "bogus", "/x"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "cgroup", "set", self->path, "novalue"));
	EXPECT_EQ(2, run(self->out, ZSYNCCTL, "--timeout", "soon", "status"));
	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "cgroup", "freeze", "/nonexistent"));
}

TEST_F(ctl, zsyncctl_status_counts_our_ring)
{
	struct zk_ring ring;
	long long open0, sqes0;

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "status")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"name\":\"CGROUP_KILL\",\"disabled\":false"));
	EXPECT_NE(NULL, strstr(self->out, "\"module_version\":\""));
	EXPECT_EQ(NULL, strstr(self->out, "\"module_version\":\"\""));
	open0 = json_num(self->out, "rings_open");
	sqes0 = json_num(self->out, "sqes");
	zt_ring(_metadata, &ring, 8, 0);
	zt_nop(_metadata, &ring, 1);
	zt_submit(_metadata, &ring, 1);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "status"));
	EXPECT_EQ(open0 + 1, json_num(self->out, "rings_open")) TH_LOG("%s", self->out);
	/* Our NOP, plus nothing else of zsyncctl's own (it only asks). */
	EXPECT_LE(sqes0 + 1, json_num(self->out, "sqes"));
	zk_ring_exit(&ring);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "status"));
	EXPECT_NE(NULL, strstr(self->out, "rings open"));
}

TEST_F_TIMEOUT(ctl, zsyncctl_cgroup_commands_match_cgroupfs, 120)
{
	char pidstr[16], cg[256];
	pid_t pid;

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "cgroup", "create", self->path,
			 "memory.max=33554432", "pids.max=9")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"knob\":\"pids.max\",\"value\":\"9\",\"res\":1"));
	zt_expect_cg_file(_metadata, self->path, "memory.max", "33554432\n");
	zt_expect_cg_file(_metadata, self->path, "pids.max", "9\n");

	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "--json", "cgroup", "set", self->path,
			 "pids.max=lots"));
	EXPECT_NE(NULL, strstr(self->out, "\"error\":\"Invalid argument\""));
	zt_expect_cg_file(_metadata, self->path, "pids.max", "9\n");

	pid = zt_spawn(_metadata, NULL, ZT_CHILD_PAUSE);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "attach", self->path, pidstr))
		TH_LOG("%s", self->out);
	zt_proc_cgroup(pid, cg, sizeof(cg));
	EXPECT_STREQ(self->path + strlen(ZT_CG_ROOT), cg);

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "freeze", self->path));
	EXPECT_EQ(ZT_POP | ZT_FRZ, zt_cg_state(self->path));
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "--count", "1", "cgroup", "wait",
			 self->path));
	EXPECT_NE(NULL, strstr(self->out, "{\"populated\":1,\"frozen\":1}")) TH_LOG("%s", self->out);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "thaw", self->path));
	EXPECT_EQ(ZT_POP, zt_cg_state(self->path));
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "kill", self->path));
	EXPECT_EQ(0, zt_cg_state(self->path));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
}

TEST_F(ctl, zsyncctl_timeout_and_disabled_family_exit_codes)
{
	char child[300];

	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "create", self->path));
	zt_path(child, sizeof(child), "%s/child", self->path);
	ASSERT_EQ(0, mkdir(child, 0755));
	ASSERT_EQ(0, zt_cg_write(self->path, "cgroup.freeze", "1"));
	/* Under a frozen parent a thaw never completes. */
	EXPECT_EQ(4, run(self->out, ZSYNCCTL, "--timeout", "100", "cgroup", "thaw", child))
		TH_LOG("%s", self->out);
	EXPECT_EQ(4, run(self->out, ZSYNCCTL, "--timeout", "100", "cgroup", "wait", child));
	ASSERT_EQ(0, zt_cg_write("/sys/module/zsync/parameters", "disable_families", "cgroup"));
	EXPECT_EQ(3, run(self->out, ZSYNCCTL, "cgroup", "set", self->path, "pids.max=3"));
	ASSERT_EQ(0, zt_cg_write("/sys/module/zsync/parameters", "disable_families", "\n"));
	EXPECT_EQ(0, run(self->out, ZSYNCCTL, "cgroup", "set", self->path, "pids.max=3"));
}

/* A child in new namespaces; returns its pid. */
static pid_t ns_child(struct __test_metadata *_metadata)
{
	return zt_spawn_unshared(_metadata, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
}

/* lsns walks every process's namespaces: slow on the debug kernel. */
TEST_F_TIMEOUT(ctl, zsyncctl_ns_info_agrees_with_lsns_and_stat, 300)
{
	static const char *const types[] = { "net", "uts", "ipc", "user" };
	char paths[4][64], lsns[4096], want[64];
	pid_t pid = ns_child(_metadata);
	unsigned int i;

	for (i = 0; i < 4; i++)
		zt_path(paths[i], sizeof(paths[i]), "/proc/%d/ns/%s", pid, types[i]);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "ns", "info", paths[0], paths[1],
			 paths[2], paths[3])) TH_LOG("%s", self->out);
	if (access("/usr/bin/lsns", X_OK) == 0) {
		char pidstr[16];

		snprintf(pidstr, sizeof(pidstr), "%d", pid);
		ASSERT_EQ(0, run(lsns, "/usr/bin/lsns", "-n", "-r", "-o", "NS,TYPE", "-p", pidstr));
	} else {
		lsns[0] = '\0';
	}
	for (i = 0; i < 4; i++) {
		struct stat st;

		ASSERT_EQ(0, stat(paths[i], &st));
		snprintf(want, sizeof(want), "\"type\":\"%s\",\"ino\":%llu,", types[i],
			 (unsigned long long)st.st_ino);
		EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s not in %s", want, self->out);
		snprintf(want, sizeof(want), "%llu %s\n", (unsigned long long)st.st_ino, types[i]);
		if (lsns[0])
			EXPECT_NE(NULL, strstr(lsns, want)) TH_LOG("%s not in lsns: %s", want, lsns);
	}
	EXPECT_EQ(1, run(self->out, ZSYNCCTL, "ns", "info", "/proc/self/status"));
	zt_kill_reap(pid);
}

TEST_F(ctl, zsyncctl_ns_socket_test)
{
	pid_t pid = ns_child(_metadata);
	char path[64], fdpath[64];
	int fd;

	zt_path(path, sizeof(path), "/proc/%d/ns/net", pid);
	ASSERT_EQ(0, run(self->out, ZSYNCCTL, "--json", "ns", "socket-test", path, "unix"))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "\"socket_in_netns\":true"));
	/* nobody may not open the nsfs file of a process it does not own: pass an fd. */
	fd = open(path, O_RDONLY);	/* inherited by the child */
	ASSERT_LE(0, fd);
	zt_path(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	EXPECT_EQ(1, run_as(ZT_NOBODY, self->out, ZSYNCCTL, "ns", "socket-test", fdpath));
	EXPECT_NE(NULL, strstr(self->out, "Operation not permitted")) TH_LOG("%s", self->out);
	close(fd);
	zt_kill_reap(pid);
}

/* ---- zsync-run -------------------------------------------------------------- */

TEST_F_TIMEOUT(ctl, zsync_run_runs_a_busybox_shell_in_a_container, 120)
{
	const char *cg = self->path + strlen(ZT_CG_ROOT);
	char script[512], want[160], ownns[64] = "";

	ASSERT_LT(0, readlink("/proc/self/ns/net", ownns, sizeof(ownns) - 1));
	zt_path(script, sizeof(script),
		"echo host=$(hostname) pid=$$ netns=$(readlink /proc/self/ns/net);"
		"echo pids=$(cat /sys/fs/cgroup%s/pids.max) mem=$(cat /sys/fs/cgroup%s/memory.max);"
		"echo cg=$(cat /proc/self/cgroup); exit 3", cg, cg);
	EXPECT_EQ(3, run(self->out, ZSYNC_RUN, "-v", "--cgroup", self->path, "--pids-max", "8",
			 "--memory-max", "33554432", "--hostname", "box", "--",
			 "/bin/busybox", "sh", "-c", script)) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "host=box pid=1 netns=net:[")) TH_LOG("%s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, ownns)) TH_LOG("still in our netns %s", ownns);
	EXPECT_NE(NULL, strstr(self->out, "pids=8 mem=33554432\n"));
	zt_path(want, sizeof(want), "cg=0::%s\n", cg);
	EXPECT_NE(NULL, strstr(self->out, want));
	EXPECT_NE(NULL, strstr(self->out, "exit code 3"));
	EXPECT_NE(NULL, strstr(self->out, "cgroup empty"));
	/* Removed afterwards. */
	EXPECT_NE(0, access(self->path, F_OK));
}

TEST_F_TIMEOUT(ctl, zsync_run_kills_leftovers_times_out_and_reports_errors, 120)
{
	int64_t start = zt_mono_ns();

	/* A background process outlives the shell: killed with the cgroup. */
	EXPECT_EQ(0, run(self->out, ZSYNC_RUN, "--cgroup", self->path, "--",
			 "/bin/busybox", "sh", "-c", "sleep 1000 & exit 0")) TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(124, run(self->out, ZSYNC_RUN, "--timeout", "200", "--cgroup", self->path,
			   "--", "/bin/busybox", "sleep", "1000")) TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_GT(60000, zt_ms_since(start));	/* not the 1000 s of the sleeps */
	EXPECT_EQ(127, run(self->out, ZSYNC_RUN, "--cgroup", self->path, "--", "/no/such"));
	EXPECT_EQ(125, run(self->out, ZSYNC_RUN, "--cgroup", self->path, "--pids-max", "x",
			   "--", "/bin/busybox", "true"));
	EXPECT_NE(NULL, strstr(self->out, "pids.max=x: Invalid argument")) TH_LOG("%s", self->out);
	EXPECT_NE(0, access(self->path, F_OK));
	EXPECT_EQ(125, run(self->out, ZSYNC_RUN));
}

TEST_HARNESS_MAIN
