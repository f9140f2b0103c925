// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-run: a minimal container launcher on libzsync-k.
 *
 *   1. mkdir a cgroup and set its limits: one submission of CGROUP_SETs;
 *   2. clone3(CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEW{PID,NS,UTS,IPC,NET}):
 *      the child starts inside the cgroup and the namespaces, mounts its
 *      own /proc, sets the hostname and execs the command;
 *   3. PIDFD_WAIT for its exit status (with LINK_TIMEOUT for --timeout);
 *   4. CGROUP_KILL, which completes once the cgroup is empty, then reap and
 *      rmdir.
 *
 * Exit status: the command's, 128+N if signal N killed it, 124 on
 * --timeout, 125 if zsync-run itself failed, 127 if the command could not
 * be executed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "zsync-k.h"

#define EXIT_TIMEOUT	124
#define EXIT_LAUNCHER	125
#define EXIT_EXEC	127

#define MAX_KNOBS	16
#define UD_CHILD	1
#define UD_GUARD	2

struct knob {
	const char *name;
	const char *value;
};

struct config {
	char cgroup[PATH_MAX];
	const char *hostname;
	struct knob knobs[MAX_KNOBS];
	unsigned int nr_knobs;
	unsigned long timeout_ms;
	bool verbose;
	char **argv;
};

static const char *prog = "zsync-run";

static void say(const struct config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (!cfg->verbose)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	return EXIT_LAUNCHER;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [OPTIONS] -- COMMAND [ARGS...]\n"
		"\n"
		"Runs COMMAND in a new cgroup and new pid, mount, UTS, IPC and network\n"
		"namespaces, waits for it, kills whatever it left behind and removes the\n"
		"cgroup.  The cgroup work goes through a zsync ring.\n"
		"\n"
		"  --cgroup PATH       cgroup to create (default /sys/fs/cgroup/zsync-run-PID)\n"
		"  --memory-max BYTES  memory.max\n"
		"  --pids-max N        pids.max\n"
		"  --set KNOB=VALUE    any other knob (repeatable)\n"
		"  --hostname NAME     hostname inside (default zsync-run)\n"
		"  --timeout MS        kill the container after MS milliseconds\n"
		"  -v, --verbose       report each step on stderr\n"
		"  -h, --help\n"
		"Exit status: COMMAND's; 128+N if signal N killed it; 124 timeout;\n"
		"125 zsync-run failed; 127 COMMAND could not be executed.\n",
		prog);
}

static int add_knob(struct config *cfg, const char *name, const char *value)
{
	if (cfg->nr_knobs == MAX_KNOBS) {
		fprintf(stderr, "%s: at most %d knobs\n", prog, MAX_KNOBS);
		return -1;
	}
	cfg->knobs[cfg->nr_knobs].name = name;
	cfg->knobs[cfg->nr_knobs].value = value;
	cfg->nr_knobs++;
	return 0;
}

static int parse_args(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "memory-max", required_argument, NULL, 'm' },
		{ "pids-max", required_argument, NULL, 'p' },
		{ "set", required_argument, NULL, 's' },
		{ "hostname", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *eq, *end;
	int c;

	snprintf(cfg->cgroup, sizeof(cfg->cgroup), "/sys/fs/cgroup/zsync-run-%d", getpid());
	cfg->hostname = "zsync-run";
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(cfg->cgroup, sizeof(cfg->cgroup), "%s", optarg);
			break;
		case 'm':
			if (add_knob(cfg, "memory.max", optarg))
				return -1;
			break;
		case 'p':
			if (add_knob(cfg, "pids.max", optarg))
				return -1;
			break;
		case 's':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				fprintf(stderr, "%s: --set '%s' is not KNOB=VALUE\n", prog, optarg);
				return -1;
			}
			*eq = '\0';
			if (add_knob(cfg, optarg, eq + 1))
				return -1;
			break;
		case 'n':
			cfg->hostname = optarg;
			break;
		case 't':
			errno = 0;
			cfg->timeout_ms = strtoul(optarg, &end, 10);
			if (errno || !*optarg || *end) {
				fprintf(stderr, "%s: bad --timeout '%s'\n", prog, optarg);
				return -1;
			}
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no COMMAND (see --help)\n", prog);
		return -1;
	}
	cfg->argv = argv + optind;
	return 0;
}

/* All limits in one submission; every CQE must say the whole value was written. */
static int set_limits(struct zk_ring *ring, const struct config *cfg, int dfd)
{
	struct zsync_cqe *cqe;
	unsigned int i;
	int ret, err = 0;

	for (i = 0; i < cfg->nr_knobs; i++) {
		struct zsync_sqe *sqe = zk_get_sqe(ring);

		zk_prep_cgroup_set_str(sqe, dfd, cfg->knobs[i].name, cfg->knobs[i].value);
		zk_sqe_set_data64(sqe, i);
	}
	ret = zk_submit_and_wait(ring, cfg->nr_knobs);
	for (i = 0; ret >= 0 && i < cfg->nr_knobs; i++) {
		const struct knob *k;

		ret = zk_wait_cqe(ring, &cqe);
		if (ret)
			break;
		k = &cfg->knobs[cqe->user_data];
		if (cqe->res < 0) {
			fprintf(stderr, "%s: %s=%s: %s\n", prog, k->name, k->value,
				strerror(-cqe->res));
			err = cqe->res;
		} else {
			say(cfg, "%s=%s", k->name, k->value);
		}
		zk_cqe_seen(ring, cqe);
	}
	if (ret < 0) {
		fail("setting limits", -ret);
		return ret;
	}
	return err;
}

/* In the child: its own /proc and hostname, then the command. */
static void container_init(const struct config *cfg)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ||
	    sethostname(cfg->hostname, strlen(cfg->hostname))) {
		fprintf(stderr, "%s: container setup: %s\n", prog, strerror(errno));
		_exit(EXIT_LAUNCHER);
	}
	execvp(cfg->argv[0], cfg->argv);
	fprintf(stderr, "%s: %s: %s\n", prog, cfg->argv[0], strerror(errno));
	_exit(EXIT_EXEC);
}

static pid_t spawn(const struct config *cfg, int dfd, int *pidfd)
{
	struct clone_args args;
	pid_t pid;

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS |
		     CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
	args.pidfd = (__u64)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	args.cgroup = (__u64)dfd;
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		container_init(cfg);
	return pid;
}

/* PIDFD_WAIT, guarded by --timeout; returns the status, -ETIME, or -errno. */
static int wait_exit(struct zk_ring *ring, const struct config *cfg, int pidfd)
{
	struct zsync_timespec ts = {
		.tv_sec = cfg->timeout_ms / 1000,
		.tv_nsec = (cfg->timeout_ms % 1000) * 1000000LL,
	};
	struct zsync_sqe *sqe = zk_get_sqe(ring);
	struct zsync_cqe *cqe;
	int ret, status = -EPROTO;

	zk_prep_pidfd_wait(sqe, pidfd);
	zk_sqe_set_data64(sqe, UD_CHILD);
	if (cfg->timeout_ms) {
		zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
		sqe = zk_get_sqe(ring);
		zk_prep_link_timeout(sqe, &ts, 0);
		zk_sqe_set_data64(sqe, UD_GUARD);
	}
	ret = zk_submit(ring);
	if (ret < 0)
		return ret;
	for (;;) {
		ret = zk_wait_cqe(ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret)
			return ret;
		if (cqe->user_data == UD_CHILD)
			status = cqe->res;
		zk_cqe_seen(ring, cqe);
		if (cqe->user_data == UD_CHILD)
			break;
	}
	/* The guard, if any, completes right behind its target. */
	if (cfg->timeout_ms && !zk_wait_cqe(ring, &cqe))
		zk_cqe_seen(ring, cqe);
	return status == -ECANCELED ? -ETIME : status;
}

/* CGROUP_KILL: completes once nothing is left in the cgroup. */
static int kill_and_wait(struct zk_ring *ring, int dfd)
{
	struct zsync_cqe *cqe;
	int ret;

	zk_prep_cgroup_kill(zk_get_sqe(ring), dfd);
	ret = zk_submit_and_wait(ring, 1);
	if (ret < 0)
		return ret;
	ret = zk_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	zk_cqe_seen(ring, cqe);
	return ret;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_LAUNCHER;
}

static int run(struct zk_ring *ring, const struct config *cfg, int dfd)
{
	int pidfd = -1, status, ret, code;
	pid_t pid;

	if (set_limits(ring, cfg, dfd))
		return EXIT_LAUNCHER;
	pid = spawn(cfg, dfd, &pidfd);
	if (pid < 0)
		return fail("clone3", errno);
	say(cfg, "started %s as pid %d in %s", cfg->argv[0], pid, cfg->cgroup);
	status = wait_exit(ring, cfg, pidfd);
	if (status == -ETIME) {
		say(cfg, "timeout after %lu ms", cfg->timeout_ms);
		code = EXIT_TIMEOUT;
	} else if (status < 0) {
		code = fail("PIDFD_WAIT", -status);
	} else {
		code = exit_code(status);
		say(cfg, "exited with status %#x (exit code %d)", status, code);
	}
	ret = kill_and_wait(ring, dfd);
	if (ret)
		code = fail("CGROUP_KILL", -ret);
	else
		say(cfg, "cgroup empty");
	/* PIDFD_WAIT does not reap: we are the parent. */
	waitpid(pid, NULL, 0);
	close(pidfd);
	return code;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct zk_ring ring;
	int dfd, ret, code;

	prog = argv[0];
	if (parse_args(&cfg, argc, argv))
		return EXIT_LAUNCHER;
	ret = zk_ring_init(32, &ring, 0);
	if (ret)
		return fail("zsync ring", -ret);
	if (mkdir(cfg.cgroup, 0755)) {
		zk_ring_exit(&ring);
		return fail(cfg.cgroup, errno);
	}
	dfd = open(cfg.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		code = fail(cfg.cgroup, errno);
	} else {
		code = run(&ring, &cfg, dfd);
		close(dfd);
	}
	if (rmdir(cfg.cgroup))
		code = fail("rmdir", errno);
	else
		say(&cfg, "removed %s", cfg.cgroup);
	zk_ring_exit(&ring);
	return code;
}
