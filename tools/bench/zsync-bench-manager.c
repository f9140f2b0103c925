// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-manager: one long-lived process manages N containers (a
 * cgroup with four limits and a process in it), as a containerd shim, a
 * supervisor or CRI-O does, once through a zsync ring (mgr-ring.c) and
 * once through the best plain-syscall design (mgr-plain.c), in alternate
 * rounds of the same process.  Phases, each timed and with its syscalls
 * counted (mgr.h says how):
 *
 *   create   mkdir, the four limits, the watches (memory.events, and for
 *            plain cgroup.events)
 *   start    clone3 a pausing process, attach it, watch its pidfd
 *   freeze   freeze every cgroup until each is known frozen
 *   thaw     until each is known thawed
 *   steady   K crashes (SIGKILL of a random container's process) are seen
 *            and restarted; every --oom-every'th restart allocates past
 *            memory.max and is OOM-killed, which the memory.events watch
 *            counts
 *   kill     cgroup.kill everything until each cgroup is empty
 *   remove   rmdir, close
 *
 * The table gives per phase the median time and syscalls of the rounds,
 * each path's, and plain / ring.  Outcomes are checked every round: each
 * state reached by every container, every crash restarted, every OOM
 * kill seen, every cgroup removed, no fd leaked; a failed check is exit
 * status 1 (and the containers are killed and removed).  --check also
 * fails a run that cannot start (no cgroup2), for the smoke test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "mgr.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define MAX_CONTAINERS	4096
#define NR_PATHS	2

static const char *const phase_names[NR_PHASES] = {
	"create (4 limits)", "start (clone+attach)", "freeze+wait", "thaw+wait",
	"steady (restarts)", "kill+wait", "remove",
};

struct path_ops {
	const char *name;
	int (*setup)(struct mgr *m);
	void (*teardown)(void);
	int (*phase)(struct mgr *m, enum mgr_phase ph);
	void (*sigchld)(int);	/* ring: the kernel reaps; plain: waitid reaps */
};

static const struct path_ops paths[NR_PATHS] = {
	{ "ring", ring_setup, ring_teardown, ring_phase, SIG_IGN },
	{ "plain", plain_setup, plain_teardown, plain_phase, SIG_DFL },
};

/* Per path, per round: ms and syscalls of each phase. */
static double ms[NR_PATHS][BENCH_MAX_ROUNDS][NR_PHASES];
static double sys[NR_PATHS][BENCH_MAX_ROUNDS][NR_PHASES];
static double wait_ms[NR_PATHS][BENCH_MAX_ROUNDS][NR_PHASES];

static int nr_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the DIR's own fd */
}

/* Children left under the test parent (a leaked cgroup), or -errno. */
static int nr_child_cgroups(const struct mgr *m)
{
	DIR *d = opendir(m->parent);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_type == DT_DIR && e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * After a failed round: kill what runs in the containers, wait until each
 * is empty (POLLPRI on its cgroup.events, 1 s at most) and remove it, so
 * that a failure leaves no cgroup behind.  Uncounted, untimed.
 */
static void cleanup(struct mgr *m)
{
	char name[16], buf[256];
	unsigned int i;
	int fd;

	for (i = 0; i < m->n; i++) {
		ctr_name(name, sizeof(name), i);
		fd = openat(m->parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		sys_write_at(fd, "cgroup.kill", "1");
		close(fd);
	}
	for (i = 0; i < m->n; i++) {
		struct pollfd pfd = { .events = POLLPRI };
		ssize_t n;

		ctr_name(name, sizeof(name), i);
		snprintf(buf, sizeof(buf), "%s/cgroup.events", name);
		pfd.fd = openat(m->parent_fd, buf, O_RDONLY | O_CLOEXEC);
		while (pfd.fd >= 0 && (n = pread(pfd.fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			if (!strstr(buf, "populated 1") || poll(&pfd, 1, 1000) <= 0)
				break;
		}
		if (pfd.fd >= 0)
			close(pfd.fd);
		unlinkat(m->parent_fd, name, AT_REMOVEDIR);
	}
}

static void reset(struct mgr *m)
{
	unsigned int i;

	memset(m->c, 0, m->n * sizeof(*m->c));
	for (i = 0; i < m->n; i++)
		m->c[i].dir = m->c[i].events = m->c[i].freeze = m->c[i].mem = m->c[i].pidfd = -1;
	m->nr_frozen = m->nr_populated = m->nr_running = m->nr_mem_armed = 0;
	m->injected = m->restarted = m->oom_deaths = m->oom_running = m->nr_doomed = 0;
	m->oom_kills = 0;
	m->pending = 0;
	m->steady = m->closing = m->watch_state = false;
}

/* The outcome a phase must leave; 0 or -EPROTO with m->why. */
static int check_phase(struct mgr *m, enum mgr_phase ph)
{
	switch (ph) {
	case PH_START:
		if (m->nr_running != m->n)
			return fail(m->why, -EPROTO, "%u of %u running", m->nr_running, m->n);
		break;
	case PH_FREEZE:
		if (m->nr_frozen != m->n)
			return fail(m->why, -EPROTO, "%u of %u frozen", m->nr_frozen, m->n);
		break;
	case PH_THAW:
		if (m->nr_frozen)
			return fail(m->why, -EPROTO, "%u still frozen", m->nr_frozen);
		break;
	case PH_STEADY:
		if (m->restarted != m->injected + m->oom_deaths || m->nr_running != m->n)
			return fail(m->why, -EPROTO, "%u restarts for %u crashes + %u OOM deaths, %u running",
				    m->restarted, m->injected, m->oom_deaths, m->nr_running);
		if (m->oom_kills < m->oom_deaths)
			mgr_sweep_oom_kills(m);
		if (m->oom_kills < m->oom_deaths)
			return fail(m->why, -EPROTO, "%u OOM deaths, %lld oom_kill events seen",
				    m->oom_deaths, (long long)m->oom_kills);
		break;
	case PH_KILL:
		if (m->nr_running || m->nr_populated)
			return fail(m->why, -EPROTO, "%u running, %u populated after kill",
				    m->nr_running, m->nr_populated);
		break;
	case PH_REMOVE:
		if (nr_child_cgroups(m))
			return fail(m->why, -EPROTO, "cgroups left under %s", m->parent);
		break;
	default:
		break;
	}
	return 0;
}

static int run_round(struct mgr *m, unsigned int p, unsigned int round)
{
	int fds = nr_open_fds(), ret = 0;
	enum mgr_phase ph;

	reset(m);
	signal(SIGCHLD, paths[p].sigchld);
	for (ph = 0; ph < NR_PHASES && !ret; ph++) {
		unsigned long s0 = mgr_syscalls;
		double w0 = mgr_wait_ns, t0 = bench_now_ns();

		ret = paths[p].phase(m, ph);
		ms[p][round][ph] = (bench_now_ns() - t0) / 1e6;
		wait_ms[p][round][ph] = (mgr_wait_ns - w0) / 1e6;
		sys[p][round][ph] = (double)(mgr_syscalls - s0);
		if (!ret)
			ret = check_phase(m, ph);
	}
	if (ret)
		cleanup(m);
	if (!ret && nr_open_fds() != fds)
		ret = fail(m->why, -EPROTO, "%d fds open after the round, %d before",
			   nr_open_fds(), fds);
	fprintf(stderr, "# round %u %-5s: %.1f ms, %u restarts, %u OOM kills seen%s%s\n",
		round + 1, paths[p].name, ms[p][round][PH_CREATE] + ms[p][round][PH_START] +
		ms[p][round][PH_FREEZE] + ms[p][round][PH_THAW] + ms[p][round][PH_STEADY] +
		ms[p][round][PH_KILL] + ms[p][round][PH_REMOVE], m->restarted,
		(unsigned int)m->oom_kills, ret ? ": FAILED: " : "", ret ? m->why : "");
	return ret;
}

static double cell(double v[][NR_PHASES], unsigned int rounds, int ph)
{
	double col[BENCH_MAX_ROUNDS];
	unsigned int r;
	int k;

	for (r = 0; r < rounds; r++) {
		col[r] = 0;
		for (k = 0; k < NR_PHASES; k++)
			if (ph == NR_PHASES || ph == k)
				col[r] += v[r][k];
	}
	return bench_stat_of(col, rounds).med;
}

static void print_table(const struct mgr *m, unsigned int rounds)
{
	int ph;

	printf("# zsync-bench-manager: %u containers, %u restarts (", m->n, m->restarts);
	if (m->oom_every)
		printf("every %u-th one OOM-killed", m->oom_every);
	else
		printf("no OOM kill");
	printf("), median of %u interleaved rounds\n", rounds);
	printf("# knobs: %s %s %s %s\n", m->knob_name[0], m->knob_name[1], m->knob_name[2],
	       m->knob_name[3]);
	printf("# %-20s %10s %9s %10s %9s %8s %7s\n", "phase", "ring ms", "ring sys",
	       "plain ms", "plain sys", "time x", "sys x");
	for (ph = 0; ph <= NR_PHASES; ph++) {
		double rm = cell(ms[0], rounds, ph), rs = cell(sys[0], rounds, ph);
		double pm = cell(ms[1], rounds, ph), ps = cell(sys[1], rounds, ph);

		printf("# %-20s %10.2f %9.0f %10.2f %9.0f %8.2f %7.1f\n",
		       ph == NR_PHASES ? "total" : phase_names[ph], rm, rs, pm, ps,
		       pm / (rm > 0 ? rm : 1e-9), ps / (rs > 0 ? rs : 1));
	}
	printf("# time x, sys x: plain / ring (above 1: the ring is faster, fewer syscalls)\n");
	printf("# where the time goes, ms: in the loop's blocking call (ring: ENTER, which also\n"
	       "# runs the ops it submits; plain: epoll_wait) and the rest (plain: its syscalls)\n");
	printf("# %-20s %10s %9s %10s %9s\n", "phase", "ring ENTER", "rest", "plain wait", "rest");
	for (ph = 0; ph <= NR_PHASES; ph++) {
		double rw = cell(wait_ms[0], rounds, ph), pw = cell(wait_ms[1], rounds, ph);

		printf("# %-20s %10.2f %9.2f %10.2f %9.2f\n",
		       ph == NR_PHASES ? "total" : phase_names[ph], rw,
		       cell(ms[0], rounds, ph) - rw, pw, cell(ms[1], rounds, ph) - pw);
	}
}

/* The first available of @a, @b as knob @k ("io.weight" needs the io controller). */
static void pick_knob(struct mgr *m, int k, const char *probe_dir, const char *a,
		      const char *va, const char *b, const char *vb)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", probe_dir, a);
	m->knob_name[k] = access(path, W_OK) ? b : a;
	m->knob_value[k] = access(path, W_OK) ? vb : va;
}

static int setup_parent(struct mgr *m)
{
	static const char controllers[] = "+memory +pids +cpu +io";
	char path[512], probe[256];
	struct statfs sfs;
	int ret;

	if (statfs(CG_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return fail(m->why, -ENODEV, "no cgroup2 at " CG_ROOT);
	/* Best effort: the io controller may be missing; memory and pids are checked below. */
	bench_write_file(CG_ROOT "/cgroup.subtree_control", controllers);
	snprintf(m->parent, sizeof(m->parent), CG_ROOT "/zsync-mgr-%d", getpid());
	if (mkdir(m->parent, 0755))
		return fail(m->why, -errno, "mkdir %s: %s", m->parent, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", m->parent);
	if (bench_write_file(path, controllers) && bench_write_file(path, "+memory +pids +cpu") &&
	    bench_write_file(path, "+memory +pids"))
		return fail(m->why, -EIO, "%s: cannot enable memory and pids", path);
	m->parent_fd = open(m->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->parent_fd < 0)
		return fail(m->why, -errno, "open %s: %s", m->parent, strerror(errno));
	snprintf(probe, sizeof(probe), "%s/probe", m->parent);
	if (mkdir(probe, 0755))
		return fail(m->why, -errno, "mkdir %s: %s", probe, strerror(errno));
	m->knob_name[0] = "memory.max";
	m->knob_value[0] = "16777216";
	m->knob_name[1] = "pids.max";
	m->knob_value[1] = "16";
	pick_knob(m, 2, probe, "cpu.weight", "50", "memory.high", "14680064");
	pick_knob(m, 3, probe, "io.weight", "default 50", "memory.low", "1048576");
	ret = access(strcat(probe, "/memory.max"), W_OK) ? -errno : 0;
	probe[strlen(probe) - strlen("/memory.max")] = '\0';
	rmdir(probe);
	return ret ? fail(m->why, ret, "no memory.max in %s", m->parent) : 0;
}

/* Five fds per container on the plain path (dir, events, freeze, memory.events, pidfd). */
static int raise_nofile(struct mgr *m)
{
	struct rlimit rl;
	rlim_t want = 8 * (rlim_t)m->n + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return fail(m->why, -errno, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return fail(m->why, -errno, "RLIMIT_NOFILE %lu for %u containers: %s",
			    (unsigned long)want, m->n, strerror(errno));
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [options]\n"
	       "  -n, --containers N   containers (1..%d, default 1000)\n"
	       "  -r, --rounds R       rounds per path, interleaved; medians (default 3)\n"
	       "  -k, --restarts K     crashes injected in the steady phase (default N)\n"
	       "      --oom-every M    every M-th restart is OOM-killed (default 0: none;\n"
	       "                       the kernel's OOM report on a serial console costs more\n"
	       "                       than the rest of the phase)\n"
	       "      --inflight C     crashes outstanding at once (default 16)\n"
	       "      --path P         ring, plain or both (default both)\n"
	       "      --check          also exit 1 when it cannot run (no cgroup2): the smoke\n"
	       "                       test; a failed outcome check always exits 1\n"
	       "      --ring-kill K    op: CGROUP_KILL, each until empty (default); set:\n"
	       "                       CGROUP_SET of cgroup.kill, until every exit is seen\n"
	       "  -h, --help\n", prog, MAX_CONTAINERS);
}

static int parse_args(int argc, char **argv, struct mgr *m, unsigned int *rounds,
		      int *only, bool *check)
{
	static const struct option opts[] = {
		{ "containers", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "restarts", required_argument, NULL, 'k' },
		{ "oom-every", required_argument, NULL, 'o' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "path", required_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'c' },
		{ "ring-kill", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "n:r:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': bad |= parse_ulong(optarg, MAX_CONTAINERS, &v); m->n = v; break;
		case 'r': bad |= parse_ulong(optarg, BENCH_MAX_ROUNDS, &v); *rounds = v; break;
		case 'k': bad |= parse_ulong(optarg, 1000000, &v); m->restarts = v; break;
		case 'o': m->oom_every = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'i': bad |= parse_ulong(optarg, MAX_CONTAINERS, &v); m->inflight = v; break;
		case 'p':
			*only = !strcmp(optarg, "ring") ? 0 : !strcmp(optarg, "plain") ? 1 :
				!strcmp(optarg, "both") ? -1 : (bad = 1, -1);
			break;
		case 'c': *check = true; break;
		case 'K':
			m->kill_by_set = !strcmp(optarg, "set");
			bad = !m->kill_by_set && strcmp(optarg, "op");
			break;
		case 'h': usage(argv[0]); exit(EXIT_OK);
		default: return EXIT_USAGE;
		}
		if (bad) {
			fprintf(stderr, "%s: bad value for -%c: %s: %s\n", argv[0], c, optarg,
				strerror(EINVAL));
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s': %s\n", argv[0], argv[optind],
			strerror(EINVAL));
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mgr m = { .n = 1000, .oom_every = 0, .inflight = 16, .rng = 0x9e3779b97f4a7c15ull,
			 .parent_fd = -1 };
	unsigned int rounds = 3, r, p;
	int only = -1, ret;
	bool check = false, set_up[NR_PATHS] = { false };

	ret = parse_args(argc, argv, &m, &rounds, &only, &check);
	if (ret)
		return ret;
	if (!m.restarts)
		m.restarts = m.n;
	m.c = calloc(m.n, sizeof(*m.c));
	if (!m.c) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(ENOMEM));
		return EXIT_FAILED;
	}
	ret = raise_nofile(&m);
	if (!ret)
		ret = setup_parent(&m);
	/* The OOM kills are on purpose: scan-splats.sh expects their reports. */
	if (m.oom_every)
		bench_write_file("/dev/kmsg", "zsync-test: oom expected");
	for (p = 0; p < NR_PATHS && !ret; p++) {
		if (only >= 0 && (int)p != only)
			continue;
		ret = paths[p].setup(&m);
		set_up[p] = !ret;
	}
	/* Alternate the paths so that drift in the machine's load hits both. */
	for (r = 0; r < rounds && !ret; r++)
		for (p = 0; p < NR_PATHS && !ret; p++)
			if (only < 0 || (int)p == only)
				ret = run_round(&m, p, r);
	for (p = 0; p < NR_PATHS; p++)
		if (set_up[p])
			paths[p].teardown();
	if (ret)
		printf("# zsync-bench-manager: failed: %s\n", m.why);
	else
		print_table(&m, rounds);
	if (m.oom_every)
		bench_write_file("/dev/kmsg", "zsync-test: oom done");
	if (m.parent_fd >= 0)
		close(m.parent_fd);
	if (m.parent[0] && rmdir(m.parent) && errno != ENOENT && !ret) {
		printf("# zsync-bench-manager: rmdir %s: %s\n", m.parent, strerror(errno));
		ret = -EBUSY;
	}
	if (ret && (check || ret != -ENODEV))
		return EXIT_FAILED;
	return EXIT_OK;
}
