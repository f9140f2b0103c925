// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-cgroup: the life of 100 cgroups, as a container runtime
 * drives it, through zsync batches and through plain syscalls.
 *
 *   create   mkdir (and, for zsync, a directory fd)
 *   limit    memory.max, memory.high, memory.low, pids.max
 *   populate one process into each cgroup
 *   freeze   cgroup.freeze = 1, wait until cgroup.events says frozen 1
 *   thaw     cgroup.freeze = 0, wait until frozen 0
 *   kill     cgroup.kill = 1, wait until populated 0
 *   remove   rmdir (and close the fds)
 *
 * plain: open/write/close per knob, poll(POLLPRI) on every cgroup.events
 * and a pread of each after a wakeup.  zsync: each phase is one batch of
 * SQEs (CGROUP_SET, CGROUP_ATTACH, CGROUP_FREEZE/THAW/KILL) submitted and
 * waited for in one ENTER.  Every syscall either path makes is counted:
 * the binary is linked with --wrap for each of them (tools.mk).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "zsync-k.h"
#include "bench.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define MAX_CGROUPS	256
#define NR_KNOBS	4
#define RING_ENTRIES	1024

enum phase { CREATE, LIMIT, POPULATE, FREEZE, THAW, KILL, REMOVE, NR_PHASES };

static const char *const phase_names[NR_PHASES] = {
	"create", "limit (4 knobs)", "populate", "freeze+wait", "thaw+wait",
	"kill+wait", "remove",
};

static const char *const knob_names[NR_KNOBS] = {
	"memory.max", "memory.high", "memory.low", "pids.max",
};
static const char *const knob_values[NR_KNOBS] = {
	"268435456", "201326592", "16777216", "64",
};

struct phase_result {
	double ms;
	unsigned long syscalls;
};

struct run_result {
	struct phase_result phase[NR_PHASES];
};

/* ---- counted syscalls (-Wl,--wrap) ------------------------------------------ */

static unsigned long nr_syscalls;

int __real_open(const char *path, int flags, ...);
int __real_close(int fd);
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
int __real_mkdir(const char *path, mode_t mode);
int __real_rmdir(const char *path);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_arg(ap, mode_t);
	va_end(ap);
	nr_syscalls++;
	return __real_open(path, flags, mode);
}

int __wrap_close(int fd)
{
	nr_syscalls++;
	return __real_close(fd);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	nr_syscalls++;
	return __real_write(fd, buf, n);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	nr_syscalls++;
	return __real_pread(fd, buf, n, off);
}

BENCH_WRAP_IOCTL(nr_syscalls)

int __wrap_mkdir(const char *path, mode_t mode)
{
	nr_syscalls++;
	return __real_mkdir(path, mode);
}

int __wrap_rmdir(const char *path)
{
	nr_syscalls++;
	return __real_rmdir(path);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nr_syscalls++;
	return __real_poll(fds, n, timeout);
}

/* ---- helpers ---------------------------------------------------------------- */

static char base[256];
static unsigned int nr_cgroups = 100;
static pid_t pids[MAX_CGROUPS];
static char why[REASON_LEN];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void cg_path(char *buf, size_t sz, unsigned int i, const char *file)
{
	if (file)
		snprintf(buf, sz, "%s/cg%03u/%s", base, i, file);
	else
		snprintf(buf, sz, "%s/cg%03u", base, i);
}

/* echo -n @val > @path: open, write, close. */
static int echo(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* echo -n @val > file @file of cgroup @i; 0 or -1 with the reason set. */
static int cg_echo(unsigned int i, const char *file, const char *val)
{
	char path[512];
	int ret;

	cg_path(path, sizeof(path), i, file);
	ret = echo(path, val);
	return ret ? fail(why, -EIO, "%s: %s", path, strerror(-ret)) : 0;
}

/* mkdir cgroup @i; with @fd, also open it (for zsync's directory fds). */
static int cg_mkdir(unsigned int i, int *fd)
{
	char path[512];

	cg_path(path, sizeof(path), i, NULL);
	if (mkdir(path, 0755))
		return fail(why, -EIO, "mkdir %s: %s", path, strerror(errno));
	if (fd) {
		*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*fd < 0)
			return fail(why, -EIO, "open %s: %s", path, strerror(errno));
	}
	return 0;
}

/* close(@fd), then rmdir cgroup @i. */
static int cg_rmdir(unsigned int i, int fd)
{
	char path[512];

	close(fd);
	cg_path(path, sizeof(path), i, NULL);
	if (rmdir(path))
		return fail(why, -EIO, "rmdir %s: %s", path, strerror(errno));
	return 0;
}

/* One paused child per cgroup, not yet in any (untimed, same for both). */
static int spawn_children(void)
{
	unsigned int i;

	for (i = 0; i < nr_cgroups; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return fail(why, -EIO, "fork: %s", strerror(errno));
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	return 0;
}

static void reap_children(void)
{
	unsigned int i;

	for (i = 0; i < nr_cgroups; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

/* The ZSYNC_CGROUP_* bits of a cgroup.events fd, read from offset 0. */
static int events_state(int fd)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *p;
	int state = 0;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "populated ");
	if (p && p[10] == '1')
		state |= ZSYNC_CGROUP_POPULATED;
	p = strstr(buf, "frozen ");
	if (p && p[7] == '1')
		state |= ZSYNC_CGROUP_FROZEN;
	return state;
}

/* ---- plain syscalls ----------------------------------------------------------- */

static int events_fd[MAX_CGROUPS];

/*
 * Writes @val to @file of every cgroup, then waits with poll(POLLPRI) on
 * all cgroup.events until each shows (state & @mask) == @want.
 */
static int plain_write_and_wait(const char *file, const char *val, int mask, int want)
{
	struct pollfd pfd[MAX_CGROUPS];
	unsigned int i, left = 0;
	int ret;

	for (i = 0; i < nr_cgroups; i++)
		if (cg_echo(i, file, val))
			return -1;
	for (i = 0; i < nr_cgroups; i++) {
		ret = events_state(events_fd[i]);
		if (ret < 0)
			return fail(why, -EIO, "cgroup.events: %s", strerror(-ret));
		pfd[i].fd = (ret & mask) == want ? -1 : events_fd[i];
		pfd[i].events = POLLPRI;
		left += pfd[i].fd >= 0;
	}
	while (left) {
		if (poll(pfd, nr_cgroups, 30000) <= 0)
			return fail(why, -EIO, "poll on cgroup.events: %s", errno ? strerror(errno) : "timeout");
		for (i = 0; i < nr_cgroups; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLPRI | POLLERR)))
				continue;
			ret = events_state(pfd[i].fd);
			if (ret >= 0 && (ret & mask) == want) {
				pfd[i].fd = -1;
				left--;
			}
		}
	}
	return 0;
}

static int plain_phase(enum phase ph)
{
	char path[512], val[16];
	unsigned int i, k;
	int ret;

	for (i = 0; i < nr_cgroups; i++) {
		switch (ph) {
		case CREATE:
			ret = cg_mkdir(i, NULL);
			break;
		case LIMIT:
			for (k = 0, ret = 0; k < NR_KNOBS && !ret; k++)
				ret = cg_echo(i, knob_names[k], knob_values[k]);
			break;
		case POPULATE:
			snprintf(val, sizeof(val), "%d", pids[i]);
			if (cg_echo(i, "cgroup.procs", val))
				return -1;
			/* The waits watch cgroup.events, like a runtime keeps it open. */
			cg_path(path, sizeof(path), i, "cgroup.events");
			events_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
			if (events_fd[i] < 0)
				return fail(why, -EIO, "%s: %s", path, strerror(errno));
			break;
		case REMOVE:
			ret = cg_rmdir(i, events_fd[i]);
			break;
		default:
			ret = 0;
			break;
		}
		if (ret)
			return ret;
	}
	switch (ph) {
	case FREEZE:
		return plain_write_and_wait("cgroup.freeze", "1", ZSYNC_CGROUP_FROZEN,
					    ZSYNC_CGROUP_FROZEN);
	case THAW:
		return plain_write_and_wait("cgroup.freeze", "0", ZSYNC_CGROUP_FROZEN, 0);
	case KILL:
		return plain_write_and_wait("cgroup.kill", "1", ZSYNC_CGROUP_POPULATED, 0);
	default:
		return 0;
	}
}

/* ---- zsync -------------------------------------------------------------------- */

static struct zk_ring ring;
static int dir_fd[MAX_CGROUPS];

/* Submits what is prepared and waits for @n CQEs in one ENTER; all must succeed. */
static int zsync_batch(unsigned int n, const char *what)
{
	struct zsync_cqe *cqe;
	unsigned int head, seen = 0;
	int ret = zk_submit_and_wait(&ring, n);

	if (ret != (int)n)
		return fail(why, -EIO, "%s: submit: %s", what, ret < 0 ? strerror(-ret) : "short");
	while (seen < n) {
		unsigned int got = 0;

		zk_for_each_cqe(&ring, head, cqe) {
			if (cqe->res < 0)
				return fail(why, -EIO, "%s: CQE %llu: %s", what,
					    (unsigned long long)cqe->user_data, strerror(-cqe->res));
			got++;
		}
		zk_cq_advance(&ring, got);
		seen += got;
		if (seen < n && zk_wait_cqe_nr(&ring, &cqe, n - seen))
			return fail(why, -EIO, "%s: wait", what);
	}
	return 0;
}

static int zsync_phase(enum phase ph)
{
	unsigned int i, k, n = 0;

	for (i = 0; i < nr_cgroups; i++) {
		struct zsync_sqe *sqe;

		switch (ph) {
		case CREATE:
			if (cg_mkdir(i, &dir_fd[i]))
				return -1;
			continue;
		case REMOVE:
			if (cg_rmdir(i, dir_fd[i]))
				return -1;
			continue;
		case LIMIT:
			for (k = 0; k < NR_KNOBS; k++, n++) {
				sqe = zk_get_sqe(&ring);
				zk_prep_cgroup_set_str(sqe, dir_fd[i], knob_names[k], knob_values[k]);
				zk_sqe_set_data64(sqe, n);
			}
			continue;
		case POPULATE:
			sqe = zk_get_sqe(&ring);
			zk_prep_cgroup_attach(sqe, dir_fd[i], pids[i]);
			break;
		case FREEZE:
			sqe = zk_get_sqe(&ring);
			zk_prep_cgroup_freeze(sqe, dir_fd[i]);
			break;
		case THAW:
			sqe = zk_get_sqe(&ring);
			zk_prep_cgroup_thaw(sqe, dir_fd[i]);
			break;
		case KILL:
			sqe = zk_get_sqe(&ring);
			zk_prep_cgroup_kill(sqe, dir_fd[i]);
			break;
		default:
			continue;
		}
		zk_sqe_set_data64(sqe, n++);
	}
	return n ? zsync_batch(n, phase_names[ph]) : 0;
}

/* ---- driver ------------------------------------------------------------------- */

static int run_path(int (*phase)(enum phase), struct run_result *r)
{
	enum phase ph;
	int ret = spawn_children();

	for (ph = 0; !ret && ph < NR_PHASES; ph++) {
		unsigned long s0 = nr_syscalls;
		double t0 = now_ms();

		ret = phase(ph);
		r->phase[ph].ms = now_ms() - t0;
		r->phase[ph].syscalls = nr_syscalls - s0;
		/* The dead children are reaped outside the timed phases. */
		if (!ret && ph == KILL)
			reap_children();
	}
	if (ret)
		reap_children();
	return ret;
}

static double total_ms(const struct run_result *r)
{
	double t = 0;
	int ph;

	for (ph = 0; ph < NR_PHASES; ph++)
		t += r->phase[ph].ms;
	return t;
}

static unsigned long total_sys(const struct run_result *r)
{
	unsigned long s = 0;
	int ph;

	for (ph = 0; ph < NR_PHASES; ph++)
		s += r->phase[ph].syscalls;
	return s;
}

static void print_table(const struct run_result *p, const struct run_result *z)
{
	int ph;

	printf("# zsync-bench-cgroup: %u cgroups, best of the rounds by total time\n",
	       nr_cgroups);
	printf("# %-16s %12s %10s %12s %10s %9s %9s\n", "phase", "plain sys", "plain ms",
	       "zsync sys", "zsync ms", "sys x", "time x");
	for (ph = 0; ph < NR_PHASES; ph++)
		printf("# %-16s %12lu %10.2f %12lu %10.2f %9.1f %9.2f\n", phase_names[ph],
		       p->phase[ph].syscalls, p->phase[ph].ms, z->phase[ph].syscalls,
		       z->phase[ph].ms,
		       (double)p->phase[ph].syscalls / (z->phase[ph].syscalls ?: 1),
		       p->phase[ph].ms / (z->phase[ph].ms > 0 ? z->phase[ph].ms : 1e-9));
	printf("# %-16s %12lu %10.2f %12lu %10.2f %9.1f %9.2f\n", "total", total_sys(p),
	       total_ms(p), total_sys(z), total_ms(z),
	       (double)total_sys(p) / (total_sys(z) ?: 1), total_ms(p) / total_ms(z));
	printf("# ratio plain/zsync: %.1fx the syscalls, %.2fx the time\n",
	       (double)total_sys(p) / (total_sys(z) ?: 1), total_ms(p) / total_ms(z));
}

static int setup(void)
{
	struct statfs sfs;
	char path[300];
	int ret;

	if (statfs(CG_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return fail(why, -EIO, "no cgroup2 at %s", CG_ROOT);
	snprintf(base, sizeof(base), CG_ROOT "/zsync-bench-%d", getpid());
	if (mkdir(base, 0755))
		return fail(why, -EIO, "mkdir %s: %s", base, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
	ret = echo(path, "+memory +pids");
	if (ret)
		return fail(why, -EIO, "%s: %s", path, strerror(-ret));
	ret = zk_ring_init(RING_ENTRIES, &ring, 0);
	if (ret)
		return fail(why, -EIO, "zsync ring: %s", strerror(-ret));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroups", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_result best_p = { 0 }, best_z = { 0 }, r;
	unsigned int rounds = 5, i;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "n:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			nr_cgroups = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			printf("usage: %s [--cgroups N (1..%d, default 100)] [--rounds R (default 5)]\n",
			       argv[0], MAX_CGROUPS);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!nr_cgroups || nr_cgroups > MAX_CGROUPS || !rounds ||
	    nr_cgroups * NR_KNOBS > RING_ENTRIES) {
		fprintf(stderr, "%s: bad --cgroups or --rounds\n", argv[0]);
		return EXIT_USAGE;
	}
	if (setup()) {
		printf("# zsync-bench-cgroup: cannot run: %s\n", why);
		rmdir(base);
		return EXIT_FAILED;
	}
	/* Alternate the paths so that drift in the machine's load hits both. */
	for (i = 0; i < rounds * 2 && !ret; i++) {
		bool zs = i & 1;

		memset(&r, 0, sizeof(r));
		ret = run_path(zs ? zsync_phase : plain_phase, &r);
		if (ret)
			break;
		if (zs && (!best_z.phase[0].syscalls || total_ms(&r) < total_ms(&best_z)))
			best_z = r;
		if (!zs && (!best_p.phase[0].syscalls || total_ms(&r) < total_ms(&best_p)))
			best_p = r;
	}
	zk_ring_exit(&ring);
	if (ret) {
		printf("# zsync-bench-cgroup: failed: %s\n", why);
		for (i = 0; i < nr_cgroups; i++) {
			char path[512];

			cg_path(path, sizeof(path), i, NULL);
			rmdir(path);
		}
	} else {
		print_table(&best_p, &best_z);
	}
	rmdir(base);
	return ret ? EXIT_FAILED : EXIT_OK;
}
