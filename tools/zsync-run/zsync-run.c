// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-run: a minimal container launcher on libzsync-k's cgroup
 * lifecycle API (zk_cg_*, Documentation/cgroup-ns.rst), so it runs the
 * same with the module (the ring's cgroup ops) and without it, or with
 * --backend plain (syscalls and poll(POLLPRI) on cgroup.events):
 *
 *   1. zk_cg_create() (mkdir), then zk_cg_set() per limit;
 *   2. clone3(CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEW{PID,NS,UTS,IPC,NET}):
 *      the child starts inside the cgroup and the namespaces, mounts its
 *      own /proc, sets the hostname and execs the command;
 *   3. zk_cg_pidfd_wait() for its exit status (PIDFD_WAIT, --timeout);
 *   4. zk_cg_kill(), which returns once the cgroup is empty, then reap and
 *      zk_cg_remove() (rmdir, retried while busy).
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

#include "zsync-k-io.h"

#define EXIT_TIMEOUT	124
#define EXIT_LAUNCHER	125
#define EXIT_EXEC	127

#define MAX_KNOBS	16
/* rmdir after the kill: the last exit may still be leaving the cgroup. */
#define REMOVE_TIMEOUT_NS	(10LL * 1000 * 1000 * 1000)

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
	bool plain;		/* --backend plain: no ring, syscalls only */
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

/* How the last lifecycle call on @cg ran, for -v. */
static const char *path_name(const struct zk_cg *cg)
{
	return cg->last_path == ZK_CG_PATH_RING ? "ring" : "syscalls";
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
		"cgroup.  The cgroup work goes through a zsync ring when the module offers\n"
		"it, else (and with --backend plain) through syscalls.\n"
		"\n"
		"  --cgroup PATH       cgroup to create (default /sys/fs/cgroup/zsync-run-PID)\n"
		"  --memory-max BYTES  memory.max\n"
		"  --pids-max N        pids.max\n"
		"  --set KNOB=VALUE    any other knob (repeatable)\n"
		"  --hostname NAME     hostname inside (default zsync-run)\n"
		"  --timeout MS        kill the container after MS milliseconds\n"
		"  --backend B         ring (default: the zsync ring if present) or plain\n"
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
		{ "backend", required_argument, NULL, 'b' },
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
		case 'b':
			if (strcmp(optarg, "ring") && strcmp(optarg, "plain")) {
				fprintf(stderr, "%s: --backend '%s': ring or plain\n", prog, optarg);
				return -1;
			}
			cfg->plain = !strcmp(optarg, "plain");
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

/*
 * Each limit is its own zk_cg_set(), so an error names its knob; on the
 * ring each is one CGROUP_SET, as syscalls an open/write/close.
 */
static int set_limits(struct zk_io *io, struct zk_cg *cg, const struct config *cfg)
{
	unsigned int i;
	int ret, err = 0;

	for (i = 0; i < cfg->nr_knobs; i++) {
		const struct knob *k = &cfg->knobs[i];
		struct zk_cg_knob knob = { .name = k->name, .value = k->value };

		ret = zk_cg_set(io, cg, &knob, 1);
		if (ret) {
			fprintf(stderr, "%s: %s=%s: %s\n", prog, k->name, k->value, strerror(-ret));
			err = err ? err : ret;
		} else {
			say(cfg, "%s=%s (%s)", k->name, k->value, path_name(cg));
		}
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

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_LAUNCHER;
}

static int run(struct zk_io *io, struct zk_cg *cg, const struct config *cfg)
{
	int64_t timeout_ns = cfg->timeout_ms ? (int64_t)cfg->timeout_ms * 1000000 : -1;
	int pidfd = -1, status, ret, code;
	pid_t pid;

	if (set_limits(io, cg, cfg))
		return EXIT_LAUNCHER;
	pid = spawn(cfg, cg->fd, &pidfd);
	if (pid < 0)
		return fail("clone3", errno);
	say(cfg, "started %s as pid %d in %s", cfg->argv[0], pid, cfg->cgroup);
	status = zk_cg_pidfd_wait(io, cg, pidfd, timeout_ns);
	if (status == -ETIMEDOUT) {
		say(cfg, "timeout after %lu ms", cfg->timeout_ms);
		code = EXIT_TIMEOUT;
	} else if (status < 0) {
		code = fail("waiting for the command", -status);
	} else {
		code = exit_code(status);
		say(cfg, "exited with status %#x (exit code %d, %s)", status, code, path_name(cg));
	}
	ret = zk_cg_kill(io, cg, -1);
	if (ret)
		code = fail("killing the cgroup", -ret);
	else
		say(cfg, "cgroup empty (%s)", path_name(cg));
	/* Neither path reaps: we are the parent. */
	waitpid(pid, NULL, 0);
	close(pidfd);
	return code;
}

/* The runtime: AUTO picks the zsync ring if the module is there. */
static int io_start(struct zk_io **io, const struct config *cfg)
{
	struct zk_io_opts o = {
		.backend = cfg->plain ? ZK_BACKEND_BLOCKING : ZK_BACKEND_AUTO,
		.executor = ZK_EXEC_BLOCKING,
		.entries = 32,
	};

	return zk_io_init(io, &o);
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct zk_cg cg;
	struct zk_io *io;
	int ret, code;

	prog = argv[0];
	if (parse_args(&cfg, argc, argv))
		return EXIT_LAUNCHER;
	ret = io_start(&io, &cfg);
	if (ret)
		return fail("runtime", -ret);
	/* mkdir(2) and rmdir(2) are syscalls on either path (path-based LSM hooks). */
	ret = zk_cg_create(io, &cg, AT_FDCWD, cfg.cgroup, NULL, NULL, 0,
			   cfg.plain ? ZK_CG_NO_RING : 0);
	if (ret) {
		zk_io_exit(io);
		return fail(cfg.cgroup, -ret);
	}
	code = run(io, &cg, &cfg);
	ret = zk_cg_remove(io, &cg, REMOVE_TIMEOUT_NS);
	if (ret)
		code = fail("rmdir", -ret);
	else
		say(&cfg, "removed %s", cfg.cgroup);
	say(&cfg, "cgroup calls: %u on the ring, %u as syscalls", cg.ring_calls,
	    cg.fallback_calls);
	zk_cg_close(&cg);
	zk_io_exit(io);
	return code;
}
