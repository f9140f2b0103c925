// SPDX-License-Identifier: GPL-2.0
/*
 * zsyncctl cgroup ...: create, set, attach, freeze, thaw, kill and wait,
 * each one submission of cgroup ops on the ring; and remove, with rmdir(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "ctl.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif

/* A directory fd on @path, or -1 with the failure reported. */
static int open_cgroup(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = errno;

	if (fd < 0)
		ctl_fail(EXIT_FAILED, err, "%s: %s", path, strerror(err));
	return fd;
}

/* Splits "KNOB=VALUE" (checked by check_knob_args()) in place. */
static void split_knob(char *arg, char **value)
{
	char *eq = strchr(arg, '=');

	*eq = '\0';
	*value = eq + 1;
}

/* Usage check before anything is touched: every argument is KNOB=VALUE. */
static int check_knob_args(int argc, char **argv)
{
	int i;

	if (argc > RING_ENTRIES)
		return usage_error("at most %d knobs", RING_ENTRIES);
	for (i = 0; i < argc; i++)
		if (!strchr(argv[i], '=') || argv[i][0] == '=')
			return usage_error("'%s' is not KNOB=VALUE", argv[i]);
	return EXIT_OK;
}

/* Sets every KNOB=VALUE of @argv in one submission and prints each result. */
static int set_knobs(const char *path, int dfd, int argc, char **argv)
{
	char *values[RING_ENTRIES];
	int res[RING_ENTRIES], i, ret, worst = EXIT_OK;

	for (i = 0; i < argc; i++) {
		struct zsync_sqe *sqe;

		split_knob(argv[i], &values[i]);
		sqe = sqe_get();
		zk_prep_cgroup_set_str(sqe, dfd, argv[i], values[i]);
		zk_sqe_set_data64(sqe, i);
	}
	ret = submit_all(res, argc);
	if (ret)
		return submit_failed(ret);
	if (json) {
		printf("{\"path\":");
		json_string(stdout, path);
		printf(",\"knobs\":[");
	}
	for (i = 0; i < argc; i++) {
		if (json) {
			printf("%s{\"knob\":", i ? "," : "");
			json_string(stdout, argv[i]);
			printf(",\"value\":");
			json_string(stdout, values[i]);
			putchar(',');
			print_res(res[i]);
			putchar('}');
		} else {
			printf("%s/%s = %s: ", path, argv[i], values[i]);
			print_res(res[i]);
			putchar('\n');
		}
		if (exit_for(res[i]) > worst)
			worst = exit_for(res[i]);
	}
	if (json)
		printf("]}\n");
	else if (!argc)
		printf("%s: created\n", path);
	return worst;
}

/* cgroup create PATH [KNOB=VALUE...] and cgroup set PATH KNOB=VALUE... */
static int cmd_cgroup_knobs(int argc, char **argv, bool create)
{
	int dfd, ret;

	if (argc < (create ? 1 : 2))
		return usage_error("cgroup %s needs a PATH%s", create ? "create" : "set",
				   create ? "" : " and KNOB=VALUE");
	ret = check_knob_args(argc - 1, argv + 1);
	if (ret)
		return ret;
	if (create && mkdir(argv[0], 0755)) {
		int err = errno;

		return ctl_fail(EXIT_FAILED, err, "mkdir %s: %s", argv[0], strerror(err));
	}
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	ret = set_knobs(argv[0], dfd, argc - 1, argv + 1);
	close(dfd);
	return ret;
}

/* Each PID through a pidfd, so a process that exits meanwhile is never confused. */
static int cmd_cgroup_attach(int argc, char **argv)
{
	int pidfds[RING_ENTRIES], res[RING_ENTRIES], i, n = argc - 1, dfd, ret, worst = 0;
	unsigned long pids[RING_ENTRIES];

	if (argc < 2)
		return usage_error("cgroup attach needs a PATH and PIDs");
	if (n > RING_ENTRIES)
		return usage_error("at most %d PIDs", RING_ENTRIES);
	for (i = 0; i < n; i++)
		if (!parse_uint(argv[i + 1], INT_MAX, &pids[i]))
			return usage_error("'%s' is not a PID", argv[i + 1]);
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	for (i = 0; i < n; i++) {
		struct zsync_sqe *sqe = sqe_get();

		pidfds[i] = (int)syscall(SYS_pidfd_open, (pid_t)pids[i], 0);
		if (pidfds[i] < 0)
			zk_prep_nop_result(sqe, -errno);
		else
			zk_prep_cgroup_attach_pidfd(sqe, dfd, pidfds[i]);
		zk_sqe_set_data64(sqe, i);
	}
	ret = submit_all(res, n);
	for (i = 0; i < n; i++)
		if (pidfds[i] >= 0)
			close(pidfds[i]);
	close(dfd);
	if (ret)
		return submit_failed(ret);
	if (json) {
		printf("{\"path\":");
		json_string(stdout, argv[0]);
		printf(",\"pids\":[");
	}
	for (i = 0; i < n; i++) {
		if (json)
			printf("%s{\"pid\":%lu,", i ? "," : "", pids[i]);
		else
			printf("%lu -> %s: ", pids[i], argv[0]);
		print_res(res[i]);
		printf(json ? "}" : "\n");
		if (exit_for(res[i]) > worst)
			worst = exit_for(res[i]);
	}
	if (json)
		printf("]}\n");
	return worst;
}

/* FREEZE, THAW, KILL: one op, optionally guarded by --timeout. */
static int cmd_cgroup_control(int op, const char *what, int argc, char **argv,
			      unsigned int timeout_ms)
{
	struct zsync_sqe *sqe;
	int dfd, res = 0, ret;

	if (argc != 1)
		return usage_error("cgroup %s needs exactly one PATH", what);
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	sqe = sqe_get();
	zk_prep_cgroup_op(sqe, op, dfd);
	zk_sqe_set_data64(sqe, 0);
	guard(sqe, timeout_ms);
	ret = submit_all(&res, 1);
	close(dfd);
	if (ret)
		return submit_failed(ret);
	/* The guard's CQE is not waited for: a cancelled op means it fired. */
	if (timeout_ms && res == -ECANCELED)
		return ctl_fail(EXIT_TIMEOUT, ETIME,
				"cgroup %s %s: not done after %u ms (--timeout)", what, argv[0],
				timeout_ms);
	if (res < 0)
		return ctl_fail(exit_for(res), -res, "cgroup %s %s: %s", what, argv[0],
				strerror(-res));
	if (json) {
		printf("{\"path\":");
		json_string(stdout, argv[0]);
		printf(",\"op\":\"%s\",", what);
		print_res(res);
		printf("}\n");
	} else {
		printf("%s: %s ", argv[0], what);
		print_res(res);
		putchar('\n');
	}
	return EXIT_OK;
}

/* One line per state: text, or one JSON object (JSON Lines); flushed at once. */
static void print_state(const char *path, int state)
{
	int populated = !!(state & ZSYNC_CGROUP_POPULATED);
	int frozen = !!(state & ZSYNC_CGROUP_FROZEN);

	if (json) {
		printf("{\"path\":");
		json_string(stdout, path);
		printf(",\"populated\":%d,\"frozen\":%d}\n", populated, frozen);
	} else {
		printf("populated %d frozen %d\n", populated, frozen);
	}
	fflush(stdout);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * CGROUP_WAIT: a line per state until @count of them (0: no limit), or
 * until @timeout_ms (0: none) have passed in all.  Exiting closes the
 * ring, which cancels the op.
 */
static int cmd_cgroup_wait(int argc, char **argv, unsigned long count, unsigned int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms, left;
	struct zsync_timespec ts;
	struct zsync_cqe *cqe;
	unsigned long seen = 0;
	int dfd, ret, res;
	bool more;

	if (argc != 1)
		return usage_error("cgroup wait needs exactly one PATH");
	dfd = open_cgroup(argv[0]);
	if (dfd < 0)
		return EXIT_FAILED;
	zk_prep_cgroup_wait(sqe_get(), dfd, ZSYNC_CGROUP_STATE_ALL);
	ret = zk_submit(&ring);
	if (ret < 0)
		return submit_failed(ret);
	while (!count || seen < count) {
		left = deadline - now_ms();
		ts.tv_sec = left > 0 ? left / 1000 : 0;
		ts.tv_nsec = left > 0 ? left % 1000 * 1000000 : 0;
		ret = zk_wait_cqe_timeout(&ring, &cqe, timeout_ms ? &ts : NULL);
		if (ret == -EINTR)
			continue;
		if (ret == -ETIME)
			return ctl_fail(EXIT_TIMEOUT, ETIME, "cgroup wait %s: %u ms passed (--timeout)",
					argv[0], timeout_ms);
		if (ret)
			return ctl_fail(EXIT_FAILED, -ret, "cgroup wait %s: %s", argv[0],
					strerror(-ret));
		res = cqe->res;
		more = cqe->flags & ZSYNC_CQE_F_MORE;
		zk_cqe_seen(&ring, cqe);
		if (res < 0)
			return ctl_fail(exit_for(res), -res, "cgroup wait %s: CGROUP_WAIT: %s",
					argv[0], strerror(-res));
		print_state(argv[0], res);
		seen++;
		if (!more)
			return ctl_fail(EXIT_FAILED, 0, "cgroup wait %s: CGROUP_WAIT ended",
					argv[0]);
	}
	close(dfd);
	return EXIT_OK;
}

/*
 * cgroup remove PATH.  The module has no op that removes a directory (no
 * rmdir or unlinkat among the ops of Documentation/ops.rst; cgroup-ns.rst
 * leaves mkdir and rmdir to a future file family), so this is rmdir(2),
 * the one cgroup command that needs neither the ring nor the module.
 * Only a directory on cgroup2 is removed, never some other empty one.
 */
static int cmd_cgroup_remove(int argc, char **argv)
{
	struct statfs sfs;
	int err;

	if (argc != 1)
		return usage_error("cgroup remove needs exactly one PATH");
	if (statfs(argv[0], &sfs)) {
		err = errno;
		return ctl_fail(EXIT_FAILED, err, "%s: %s", argv[0], strerror(err));
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return ctl_fail(EXIT_FAILED, EINVAL, "%s: not a cgroup2 directory", argv[0]);
	if (rmdir(argv[0])) {
		err = errno;
		/* cgroupfs refuses both with EBUSY. */
		return ctl_fail(EXIT_FAILED, err, "cgroup remove %s: %s%s", argv[0], strerror(err),
				err == EBUSY ? " (it still has processes or child cgroups)" : "");
	}
	if (json) {
		printf("{\"path\":");
		json_string(stdout, argv[0]);
		printf(",\"op\":\"remove\",\"res\":0}\n");
	} else {
		printf("%s: removed\n", argv[0]);
	}
	return EXIT_OK;
}

/* The cgroup subcommands that run on a ring (remove does not). */
static const char *const cgroup_ring_cmds[] = {
	"create", "set", "attach", "freeze", "thaw", "kill", "wait", NULL
};

int cmd_cgroup(int argc, char **argv, unsigned int timeout_ms, unsigned long count)
{
	int ret;

	if (argc < 1)
		return usage_error("cgroup needs a subcommand");
	if (!strcmp(argv[0], "remove"))
		return cmd_cgroup_remove(argc - 1, argv + 1);
	/* A typo is a usage error even where no module is loaded. */
	if (!ctl_known(argv[0], cgroup_ring_cmds))
		return usage_error("unknown cgroup subcommand '%s'", argv[0]);
	ret = ring_up();
	if (ret)
		return ret;
	if (!strcmp(argv[0], "create") || !strcmp(argv[0], "set"))
		return cmd_cgroup_knobs(argc - 1, argv + 1, !strcmp(argv[0], "create"));
	if (!strcmp(argv[0], "attach"))
		return cmd_cgroup_attach(argc - 1, argv + 1);
	if (!strcmp(argv[0], "freeze"))
		return cmd_cgroup_control(ZSYNC_OP_CGROUP_FREEZE, "freeze", argc - 1, argv + 1,
					  timeout_ms);
	if (!strcmp(argv[0], "thaw"))
		return cmd_cgroup_control(ZSYNC_OP_CGROUP_THAW, "thaw", argc - 1, argv + 1,
					  timeout_ms);
	if (!strcmp(argv[0], "kill"))
		return cmd_cgroup_control(ZSYNC_OP_CGROUP_KILL, "kill", argc - 1, argv + 1,
					  timeout_ms);
	if (!strcmp(argv[0], "wait"))
		return cmd_cgroup_wait(argc - 1, argv + 1, count, timeout_ms);
	return usage_error("unknown cgroup subcommand '%s'", argv[0]);
}

