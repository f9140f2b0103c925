// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-freeze: the latency of freezing one cgroup of busy processes
 * until it is known frozen, and of thawing it until known thawed, as a
 * runtime's "pause" and "resume" see it.  Three ways, interleaved in every
 * round, on the same cgroup:
 *
 *   poll     write(2) "1" to the kept-open cgroup.freeze, then pread(2)
 *            and poll(POLLPRI) on the kept-open cgroup.events until it says
 *            frozen 1 (the best plain design: no open per freeze);
 *   ring     CGROUP_FREEZE on the cgroup's directory fd, one ENTER that
 *            submits and waits (the op opens both files itself);
 *   ring-files CGROUP_FREEZE with ZSYNC_CGROUP_FILES on the same kept-open
 *            files as poll.
 *
 * Thaw is the same with "0" and frozen 0.  Each cell prints the median and
 * the 99th percentile (nearest rank) of the rounds, in microseconds.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "bench.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define MAX_BUSY	256
#define MAX_ROUNDS	1000
#define WAIT_MS		30000

enum way { W_POLL, W_RING, W_FILES, NR_WAYS };
static const char *const way_names[NR_WAYS] = { "poll", "ring", "ring-files" };

static char why[REASON_LEN];
static char cg[256];
static int dir_fd = -1, events_fd = -1, freeze_fd = -1;
static pid_t busy[MAX_BUSY];
static unsigned int nr_busy = 50;
static struct zk_ring ring;

/* frozen 1 in the cgroup.events text at offset 0 of @fd: 1, 0, or -errno. */
static int frozen(int fd)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	const char *p;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "frozen ");
	if (!p)
		return -EIO;
	return p[7] == '1';
}

/* poll: write, then read and poll(POLLPRI) until cgroup.events says @want. */
static int by_poll(bool freeze)
{
	struct pollfd pfd = { .fd = events_fd, .events = POLLPRI };
	int st;

	if (write(freeze_fd, freeze ? "1" : "0", 1) != 1)
		return fail(why, -errno, "cgroup.freeze: %s", strerror(errno));
	for (;;) {
		st = frozen(events_fd);
		if (st < 0)
			return fail(why, st, "cgroup.events: %s", strerror(-st));
		if (st == freeze)
			return 0;
		st = poll(&pfd, 1, WAIT_MS);
		if (st <= 0)
			return fail(why, -EIO, "poll: %s", st ? strerror(errno) : "timeout");
	}
}

/* ring, ring-files: one ENTER submits the op and waits for its CQE. */
static int by_ring(bool freeze, bool files)
{
	int op = freeze ? ZSYNC_OP_CGROUP_FREEZE : ZSYNC_OP_CGROUP_THAW;
	struct zsync_sqe *sqe = zk_get_sqe(&ring);
	struct zsync_cqe *cqe;
	int ret;

	if (files)
		zk_prep_cgroup_op_files(sqe, op, events_fd, freeze_fd);
	else
		zk_prep_cgroup_op(sqe, op, dir_fd);
	ret = zk_submit_and_wait(&ring, 1);
	if (ret != 1)
		return fail(why, ret < 0 ? ret : -EIO, "submit: %s", strerror(ret < 0 ? -ret : EIO));
	ret = zk_wait_cqe(&ring, &cqe);
	if (ret)
		return fail(why, ret, "wait: %s", strerror(-ret));
	ret = cqe->res;
	zk_cqe_seen(&ring, cqe);
	return ret ? fail(why, ret, "%s: %s", way_names[files ? W_FILES : W_RING],
			  strerror(-ret)) : 0;
}

static int run_way(enum way w, bool freeze)
{
	return w == W_POLL ? by_poll(freeze) : by_ring(freeze, w == W_FILES);
}

/* Until every busy child has moved itself in: a state polled, not a sleep. */
static int wait_all_in(void)
{
	double deadline = bench_now_ns() + WAIT_MS * 1e6;
	char buf[8192];
	unsigned int n;
	ssize_t len;
	int fd;

	do {
		fd = openat(dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(why, -errno, "cgroup.procs: %s", strerror(errno));
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len < 0)
			return fail(why, -errno, "cgroup.procs: %s", strerror(errno));
		buf[len] = '\0';
		for (n = 0; len > 0; len--)
			n += buf[len - 1] == '\n';
		if (n == nr_busy)
			return 0;
		sched_yield();
	} while (bench_now_ns() < deadline);
	return fail(why, -ETIMEDOUT, "only %u of %u processes in %s", n, nr_busy, cg);
}

static int setup(void)
{
	struct statfs sfs;
	unsigned int i;
	int ret;

	if (statfs(CG_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return fail(why, -ENOENT, "no cgroup2 at %s", CG_ROOT);
	snprintf(cg, sizeof(cg), CG_ROOT "/zsync-bench-freeze-%d", getpid());
	if (mkdir(cg, 0755))
		return fail(why, -errno, "mkdir %s: %s", cg, strerror(errno));
	dir_fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return fail(why, -errno, "%s: %s", cg, strerror(errno));
	events_fd = openat(dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	freeze_fd = openat(dir_fd, "cgroup.freeze", O_WRONLY | O_CLOEXEC);
	if (events_fd < 0 || freeze_fd < 0)
		return fail(why, -errno, "%s/cgroup.{events,freeze}: %s", cg, strerror(errno));
	for (i = 0; i < nr_busy; i++) {
		busy[i] = fork();
		if (busy[i] < 0)
			return fail(why, -errno, "fork: %s", strerror(errno));
		if (!busy[i]) {
			char pid[16];
			int fd = openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			snprintf(pid, sizeof(pid), "%d", getpid());
			if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
				_exit(1);
			close(fd);
			for (;;)
				__asm__ volatile("" ::: "memory");	/* spin: freezing must stop it */
		}
	}
	ret = wait_all_in();
	return ret ? ret : bench_zsync_init(&ring, 8, why);
}

static void teardown(void)
{
	unsigned int i;

	for (i = 0; i < nr_busy; i++) {
		if (busy[i] > 0) {
			kill(busy[i], SIGKILL);
			waitpid(busy[i], NULL, 0);
		}
	}
	if (freeze_fd >= 0)
		close(freeze_fd);
	if (events_fd >= 0)
		close(events_fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (cg[0])
		rmdir(cg);
}

/* The nearest-rank @pct percentile of the sorted @v[0..@n). */
static double percentile(const double *v, unsigned int n, double pct)
{
	unsigned int rank = (unsigned int)(pct / 100.0 * n + 0.999999);

	return v[rank ? rank - 1 : 0];
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--busy N] [--rounds R]\n"
		"\n"
		"Freezes one cgroup of N spinning processes (default 50, at most %d)\n"
		"until cgroup.events says frozen 1, and thaws it until frozen 0, R times\n"
		"(default 51, at most %d) each way: poll (write + poll(POLLPRI) on kept-open\n"
		"files), ring (CGROUP_FREEZE on the directory) and ring-files\n"
		"(ZSYNC_CGROUP_FILES on the kept-open files), interleaved in every round.\n"
		"The measuring process runs SCHED_FIFO (if it may), above the spinners.\n"
		"Prints the median and 99th percentile (nearest rank) in microseconds,\n"
		"and each ring way's ratio to poll.  Needs root, cgroup2 and /dev/zsync.\n"
		"Exit status: 0 measured, 1 failed, 2 bad usage, 3 cannot run here.\n",
		prog, MAX_BUSY, MAX_ROUNDS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "busy", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static double t[2][NR_WAYS][MAX_ROUNDS];
	unsigned long rounds = 51, v;
	double med[2][NR_WAYS], p99[2][NR_WAYS];
	unsigned int r, w, f;
	int c, ret = 0;
	bool fifo;

	while ((c = getopt_long(argc, argv, "b:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_ulong(optarg, MAX_BUSY, &v) || !v)
				goto bad;
			nr_busy = (unsigned int)v;
			break;
		case 'r':
			if (parse_ulong(optarg, MAX_ROUNDS, &rounds) || !rounds)
				goto bad;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (setup()) {
		printf("# zsync-bench-freeze: cannot run: %s\n", why);
		teardown();
		return 3;
	}
	/*
	 * Above the spinners (forked before, so they keep SCHED_OTHER): what
	 * is timed is the kernel's path to "frozen", not how long the CFS
	 * scheduler keeps this thread off a CPU that 50 spinners share.
	 */
	fifo = !sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 });
	for (r = 0; r < rounds && !ret; r++) {
		for (w = 0; w < NR_WAYS && !ret; w++) {
			/* Rotate who goes first: no way always follows the same one. */
			enum way way = (enum way)((w + r) % NR_WAYS);

			for (f = 0; f < 2 && !ret; f++) {
				double t0 = bench_now_ns();

				ret = run_way(way, f == 0);
				t[f][way][r] = (bench_now_ns() - t0) / 1000.0;
			}
		}
	}
	teardown();
	if (ret) {
		printf("# zsync-bench-freeze: failed: %s\n", why);
		return 1;
	}
	for (f = 0; f < 2; f++) {
		for (w = 0; w < NR_WAYS; w++) {
			qsort(t[f][w], rounds, sizeof(t[f][w][0]), bench_cmp_double);
			p99[f][w] = percentile(t[f][w], (unsigned int)rounds, 99);
			med[f][w] = percentile(t[f][w], (unsigned int)rounds, 50);
		}
	}
	printf("# zsync-bench-freeze: %u busy processes, %lu interleaved rounds, us%s\n",
	       nr_busy, rounds, fifo ? "" : " (not SCHED_FIFO: the spinners delay it too)");
	printf("# %-12s %12s %12s %12s %12s %10s %10s\n", "way", "freeze med", "freeze p99",
	       "thaw med", "thaw p99", "fr x poll", "th x poll");
	for (w = 0; w < NR_WAYS; w++)
		printf("# %-12s %12.1f %12.1f %12.1f %12.1f %10.2f %10.2f\n", way_names[w],
		       med[0][w], p99[0][w], med[1][w], p99[1][w], med[0][w] / med[0][W_POLL],
		       med[1][w] / med[1][W_POLL]);
	printf("# x poll: median time / poll's (below 1: faster than poll)\n");
	return 0;
bad:
	fprintf(stderr, "%s: bad --busy or --rounds (see --help)\n", argv[0]);
	return 2;
}
