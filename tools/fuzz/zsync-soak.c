// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-soak: a mixed workload on zsync rings from several processes for
 * a while, then a check that everything the module handed out came back.
 * See usage() for what it does and reports; soak.h for how it is split.
 *
 * The parent takes the baselines (module refcount, rings open, the
 * zsync_req slab cache, unreclaimable slab), forks the workers and prints
 * progress while they run, then checks that they all exited, that no
 * process is stuck, and polls until the module's state is back where it
 * started (ring release may finish after close() returns), up to a
 * deadline.  The result is KTAP, for the VM harness.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

#define MAX_PROCS	64
#define MAX_TESTS	20
#define PROGRESS_NS	(10 * NSEC_PER_SEC)
#define DATA_SIZE	(1024 * 1024 + 4093)	/* odd: reads meet the end mid-page */

/*
 * SUnreclaim may end above its baseline without a leak: TCP TIME_WAIT
 * sockets (1 in 8 connections closes that way and they live 60 s: a few
 * hundred of ~250 bytes), the structures of removed cgroups that are
 * freed after an RCU grace period or once their last page is uncharged,
 * and slabs that SLUB keeps per CPU when a cache cannot be shrunk.  Runs
 * of 20 to 120 s on 6.1 and 6.12 end 0.2 to 1 MiB above the baseline.  A
 * leak of even 16 bytes per op (a 60 s run makes ~10^6 ops) or 1 KiB per
 * TCP connection (~10^4) goes past 4 MiB.
 */
#define SUNRECLAIM_TOL_KB	4096

static struct soak_cfg cfg;
static struct soak_slot *slots;
static char lsm_saved[16];
static bool lsm_changed;

struct test {
	int status;		/* 1 pass, 0 fail, -1 skip */
	char desc[400];
};

static struct test tests[MAX_TESTS];
static int ntests;

static void usage(FILE *out)
{
	fprintf(out,
"Usage: zsync-soak [-t SECS] [-p PROCS] [-s SEED] [-v] [--help]\n"
"\n"
"Soak test of the zsync module: PROCS processes (default 4) run a mixed\n"
"workload on their own rings for SECS seconds (default 60), then the run is\n"
"checked and reported as KTAP.\n"
"\n"
"Each process, on one ring at a time:\n"
"  - TCP echo over 127.0.0.1: a listener (multishot or single-shot ACCEPT),\n"
"    3 client connections at a time (CONNECT), each streaming up to 256 KiB\n"
"    of its own pattern with SEND/SENDMSG (MSG_WAITALL); the server echoes\n"
"    with RECV/RECVMSG and SEND/SENDMSG; every echoed byte is checked; then\n"
"    a reset, or SHUTDOWN and the server's end of stream.  If ACCEPT,\n"
"    CONNECT and SHUTDOWN are disabled and lsm_bypass_net cannot be set,\n"
"    accept4(2), connect(2) and shutdown(2) replace them (POLL_ADD waits);\n"
"  - reads: OPENAT and STATX of a 1 MiB file in /tmp with known content,\n"
"    READ and READV at random offsets (some past its end), all checked;\n"
"  - timers: TIMEOUTs of 0.2-50 ms (some with a completion count) that must\n"
"    not expire early, and a 30 s TIMEOUT that is always CANCELled;\n"
"  - cgroups (if %s is a writable cgroup2): beneath the run's own\n"
"    cgroup (zsync-soak.PID, memory and pids enabled; it keeps one memcg\n"
"    alive so that the memcg socket static key never flips under TCP load,\n"
"    which crashes the QEMU TCG test VM), cycles of: a child cgroup, a forked\n"
"    sleeper, one chain of POLL_ADD (the sleeper is ready), CGROUP_SET\n"
"    memory.max and pids.max, CGROUP_ATTACH, CGROUP_FREEZE; CGROUP_THAW;\n"
"    CGROUP_WAIT, CGROUP_KILL, PIDFD_WAIT (waits guarded by LINK_TIMEOUTs),\n"
"    cgroup.events checked after each step, rmdir;\n"
"  - event sources: ZSYNC_IOC_SOURCE_CREATE, two multishot SOURCE_WAITs,\n"
"    SOURCE_SIGNAL by op and by ioctl; every wait must see every signal\n"
"    from its arming, in order, and the waiters each signal reports\n"
"    reached must equal the value CQEs that arrived;\n"
"  - rings: every 1.5-4 s the ring ends, either cleanly (CANCEL ANY|ALL,\n"
"    then every op must get its terminal CQE) or abruptly (closed with ops\n"
"    in flight, which are abandoned), and a new one is set up.\n"
"\n"
"Accounting, on every CQE: one terminal CQE (without ZSYNC_CQE_F_MORE) per\n"
"SQE, F_MORE only on multishot ops, no CQE for an unknown user_data or\n"
"after the terminal one.  Each violation prints the op, user_data and res.\n"
"\n"
"Afterwards, polled until true or a deadline (10 s, 60 s on a zsync-debug\n"
"kernel): /sys/module/zsync/refcnt and ZSYNC_IOC_STATS rings_open are back\n"
"at their baselines, the zsync_req slab cache (if /proc/slabinfo lists it)\n"
"holds no more objects than before, SUnreclaim in /proc/meminfo is within\n"
"%d KiB of its baseline; no worker or sleeper is left, none in D state;\n"
"no cgroup is left behind; the module counted the SQEs the workers did.\n"
"\n"
"Output: a progress line every 10 s, failure lines (# soak: wN: FAIL: ...),\n"
"then KTAP (TAP version 13, 1..N, ok/not ok lines, # Totals).\n"
"Exit status: 0 if every check passed, 1 if not, 2 on usage errors,\n"
"4 if /dev/zsync is missing.\n"
"\n"
"  -t, --time SECS     run time (default 60)\n"
"  -p, --procs PROCS   worker processes (default 4, at most %d)\n"
"  -s, --seed SEED     random seed (default: from the clock; printed)\n"
"  -v, --verbose       print ring and cgroup cycle events\n"
"  -h, --help          this text\n",
		SOAK_CG_ROOT, SUNRECLAIM_TOL_KB, MAX_PROCS);
}

static void test_add(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record one KTAP result; printed after the plan once all are known. */
static void test_add(int status, const char *fmt, ...)
{
	va_list ap;

	if (ntests == MAX_TESTS)
		return;
	tests[ntests].status = status;
	va_start(ap, fmt);
	vsnprintf(tests[ntests].desc, sizeof(tests[ntests].desc), fmt, ap);
	va_end(ap);
	ntests++;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "procs", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	cfg.secs = 60;
	cfg.procs = 4;
	cfg.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((c = getopt_long(argc, argv, "t:p:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			cfg.secs = (int)strtol(optarg, &end, 10);
			if (*end || cfg.secs < 1 || cfg.secs > 86400)
				goto bad;
			break;
		case 'p':
			cfg.procs = (int)strtol(optarg, &end, 10);
			if (*end || cfg.procs < 1 || cfg.procs > MAX_PROCS)
				goto bad;
			break;
		case 's':
			cfg.seed = strtoull(optarg, &end, 0);
			if (*end)
				goto bad;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind == argc)
		return 0;
bad:
	fprintf(stderr, "zsync-soak: bad argument (see --help)\n");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

static bool net_ops_enabled(void)
{
	static const unsigned int ops[] = {
		ZSYNC_OP_ACCEPT, ZSYNC_OP_CONNECT, ZSYNC_OP_SHUTDOWN,
	};
	struct zsync_probe p;
	unsigned int i;

	if (zsync_probe(&p))
		return false;
	for (i = 0; i < 3; i++)
		if (!zk_probe_has_op(&p, ops[i]) || zk_probe_op_disabled(&p, ops[i]))
			return false;
	return true;
}

/*
 * ACCEPT, CONNECT and SHUTDOWN skip LSM hooks, so the module refuses them
 * unless lsm_bypass_net=Y.  The soak sets it for the run (as the network
 * selftests do) and puts back what it found at the end.
 */
static void setup_net_ops(void)
{
	cfg.net_ops = net_ops_enabled();
	if (cfg.net_ops)
		return;
	if (param_read("lsm_bypass_net", lsm_saved, sizeof(lsm_saved)) == 0 &&
	    param_write("lsm_bypass_net", "Y") == 0) {
		lsm_changed = true;
		cfg.net_ops = net_ops_enabled();
	}
	if (cfg.net_ops)
		printf("# soak: lsm_bypass_net=Y for the run (was %s)\n", lsm_saved);
	else
		printf("# soak: ACCEPT, CONNECT, SHUTDOWN disabled: the TCP part uses accept4(2), connect(2), shutdown(2)\n");
}

static void restore_net_ops(void)
{
	int ret;

	if (!lsm_changed)
		return;
	ret = param_write("lsm_bypass_net", lsm_saved);
	if (ret < 0)
		printf("# soak: restoring lsm_bypass_net=%s: %s\n", lsm_saved, errname(ret));
	lsm_changed = false;
}

static int make_data_file(void)
{
	static uint8_t buf[65536];
	size_t off, n;
	int fd;

	snprintf(cfg.data_path, sizeof(cfg.data_path), "/tmp/zsync-soak.%d.dat", (int)getpid());
	cfg.data_size = DATA_SIZE;
	cfg.data_seed = mix64(cfg.seed ^ 0xda7a);
	fd = open(cfg.data_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		printf("# soak: creating %s: %s\n", cfg.data_path, errname(errno));
		return -1;
	}
	for (off = 0; off < cfg.data_size; off += n) {
		n = cfg.data_size - off < sizeof(buf) ? cfg.data_size - off : sizeof(buf);
		pat_fill(buf, cfg.data_seed, off, n);
		if (write(fd, buf, n) != (ssize_t)n) {
			printf("# soak: writing %s: %s\n", cfg.data_path, errname(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Module and system state                                             */
/* ------------------------------------------------------------------ */

struct state {
	long refcnt;		/* /sys/module/zsync/refcnt, or -errno */
	long rings;		/* rings_open minus our own open, or -errno */
	struct zsync_stats st;
	long slab;		/* zsync_req active objects, or -errno */
	long sunreclaim_kb;
	long slab_kb;
	char slab_why[160];
};

/* The refcount is read first, while this process holds no open. */
static void take_state(struct state *s, bool shrink_all)
{
	int ret;

	if (shrink_all)
		slab_shrink_all();
	s->refcnt = module_refcnt();
	ret = zsync_stats(&s->st);
	s->rings = ret < 0 ? ret : (long)s->st.rings_open - 1;
	s->slab = slab_active("zsync_req", s->slab_why, sizeof(s->slab_why));
	s->sunreclaim_kb = meminfo_kb("SUnreclaim");
	s->slab_kb = meminfo_kb("Slab");
}

static bool state_back(const struct state *base, const struct state *now)
{
	return now->refcnt == base->refcnt && now->rings == base->rings &&
	       (base->slab < 0 || now->slab <= base->slab) &&
	       (base->sunreclaim_kb < 0 ||
		now->sunreclaim_kb <= base->sunreclaim_kb + SUNRECLAIM_TOL_KB);
}

/*
 * Ring release may complete after close() (a worker still finishing, RCU
 * frees): poll the state until it is back or the deadline passes.  Every
 * cache is shrunk once a second so that SUnreclaim counts live objects.
 */
static int64_t settle_state(const struct state *base, struct state *now)
{
	int64_t start = now_ns(), deadline = start + cfg.settle_ns, next_shrink = 0;
	struct timespec step = { 0, 50 * NSEC_PER_MSEC };

	for (;;) {
		bool shrink = now_ns() >= next_shrink;

		if (shrink)
			next_shrink = now_ns() + NSEC_PER_SEC;
		take_state(now, shrink);
		if (state_back(base, now) || now_ns() >= deadline)
			return now_ns() - start;
		nanosleep(&step, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

struct proc {
	pid_t pid;
	int pidfd;
	int status;
	bool exited;
	bool killed;		/* had to be sent SIGKILL */
};

static struct proc procs[MAX_PROCS];

static uint64_t total(enum soak_ctr c)
{
	uint64_t sum = 0, v;
	int i;

	for (i = 0; i < cfg.procs; i++) {
		v = ctr_get(&slots[i], c);
		if (c == C_TIMER_LATE_MAX_NS)
			sum = v > sum ? v : sum;
		else
			sum += v;
	}
	return sum;
}

static uint64_t failures(void)
{
	uint64_t n = 0;
	int c;

	for (c = C_F_ACCT; c < C_NR; c++)
		n += total((enum soak_ctr)c);
	return n;
}

/* "# soak: 30/120 s, ..." while running; "# soak: done in 125 s, ..." at the end. */
static void progress(int64_t start, bool done)
{
	char when[48];
	long long secs = (long long)((now_ns() - start) / NSEC_PER_SEC);

	if (done)
		snprintf(when, sizeof(when), "done in %lld s", secs);
	else
		snprintf(when, sizeof(when), "%lld/%d s", secs, cfg.secs);
	printf("# soak: %s, %llu ops, %llu cqes, %llu KiB echoed, %llu reads, %llu timers, %llu cgroup cycles, %llu signals, %llu rings, %llu failures\n",
	       when, (unsigned long long)total(C_SQES), (unsigned long long)total(C_CQES),
	       (unsigned long long)(total(C_TCP_BYTES) / 1024),
	       (unsigned long long)total(C_FILE_READS), (unsigned long long)total(C_TIMERS),
	       (unsigned long long)total(C_CG_CYCLES), (unsigned long long)total(C_SRC_SIGNALS),
	       (unsigned long long)total(C_RINGS), (unsigned long long)failures());
}

static int start_workers(void)
{
	struct worker *w;
	pid_t pid;
	int i;

	for (i = 0; i < cfg.procs; i++) {
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			printf("# soak: fork of worker %d: %s\n", i, errname(errno));
			return -1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != cfg.parent)
				_exit(99);
			w = calloc(1, sizeof(*w));
			if (!w) {
				printf("# soak: w%d: FAIL: allocating its state: %s\n", i,
				       errname(errno));
				_exit(98);
			}
			w->id = i;
			w->pid = getpid();
			w->cfg = &cfg;
			w->slot = &slots[i];
			w->rng = cfg.seed ^ mix64((uint64_t)i + 1);
			_exit(worker_main(w));
		}
		procs[i].pid = pid;
		procs[i].pidfd = pidfd_open_pid(pid);
		if (procs[i].pidfd < 0) {
			printf("# soak: pidfd_open(worker %d): %s\n", i, errname(procs[i].pidfd));
			return -1;
		}
	}
	return 0;
}

/* Reap the workers whose pidfd says they exited; returns how many live. */
static int reap_workers(void)
{
	int i, alive = 0;

	for (i = 0; i < cfg.procs; i++) {
		struct proc *p = &procs[i];

		if (p->exited || !p->pid)
			continue;
		if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
			p->exited = true;
			close(p->pidfd);
			continue;
		}
		alive++;
	}
	return alive;
}

/*
 * Wait on the workers' pidfds until all exited or @deadline, with a
 * progress line every 10 s when @start is not 0.
 */
static void wait_workers(int64_t start, int64_t deadline)
{
	int64_t next_progress = start ? start + PROGRESS_NS : INT64_MAX, now, until;
	struct pollfd pfd[MAX_PROCS];
	int i, n;

	while (reap_workers() > 0 && (now = now_ns()) < deadline) {
		if (now >= next_progress) {
			progress(start, false);
			next_progress += PROGRESS_NS;
		}
		until = next_progress < deadline ? next_progress : deadline;
		for (i = n = 0; i < cfg.procs; i++)
			if (!procs[i].exited && procs[i].pid)
				pfd[n++] = (struct pollfd){ .fd = procs[i].pidfd, .events = POLLIN };
		poll(pfd, (nfds_t)n, (int)((until - now) / NSEC_PER_MSEC) + 1);
	}
}

/*
 * Workers still there after the deadline get SIGKILL.  One that does not
 * go away within the settle time is stuck in the kernel: say where.
 */
static int kill_stragglers(int *dstate)
{
	char desc[512];
	int i, stuck = 0;

	for (i = 0; i < cfg.procs; i++) {
		if (procs[i].exited || !procs[i].pid)
			continue;
		proc_describe(procs[i].pid, desc, sizeof(desc));
		printf("# soak: worker %d (pid %d) still running after the deadline (%s): SIGKILL\n",
		       i, (int)procs[i].pid, desc);
		kill(procs[i].pid, SIGKILL);
		procs[i].killed = true;
	}
	wait_workers(0, now_ns() + cfg.settle_ns);
	for (i = 0; i < cfg.procs; i++) {
		if (procs[i].exited || !procs[i].pid)
			continue;
		proc_describe(procs[i].pid, desc, sizeof(desc));
		printf("# soak: worker %d (pid %d) did not exit after SIGKILL: %s\n",
		       i, (int)procs[i].pid, desc);
		*dstate += proc_state(procs[i].pid) == 'D';
		stuck++;
	}
	return stuck;
}

/* Children of this process (workers' orphans come here: subreaper). */
static int list_children(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[300], buf[512], *p;
	int n = 0, fd, ppid;
	ssize_t len;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == (int)cfg.parent)
			out[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

/*
 * Sleepers die with their worker (PR_SET_PDEATHSIG) and come to us to be
 * reaped.  Wait for every child to be gone; report the ones that stay,
 * with their state (D: stuck in the kernel).
 */
static int reap_orphans(int *dstate)
{
	int64_t deadline = now_ns() + cfg.settle_ns;
	struct timespec step = { 0, 20 * NSEC_PER_MSEC };
	pid_t kids[64];
	char desc[512];
	int n, i;

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		n = list_children(kids, 64);
		if (!n || now_ns() >= deadline)
			break;
		nanosleep(&step, NULL);
	}
	for (i = 0; i < n; i++) {
		char st = proc_state(kids[i]);

		proc_describe(kids[i], desc, sizeof(desc));
		printf("# soak: child %d still there at the end: %s\n", (int)kids[i], desc);
		*dstate += st == 'D';
		kill(kids[i], SIGKILL);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

static int ok_if(bool cond)
{
	return cond ? 1 : 0;
}

static void report_workload(void)
{
	bool long_run = cfg.secs >= 10;

	test_add(ok_if(!total(C_F_ACCT)),
		 "soak: every cqe accounted (%llu sqes, %llu cqes of which %llu F_MORE, %llu terminal, %llu abandoned in %llu abrupt closes)",
		 (unsigned long long)total(C_SQES), (unsigned long long)total(C_CQES),
		 (unsigned long long)total(C_MORE), (unsigned long long)total(C_TERMINAL),
		 (unsigned long long)total(C_ABANDONED), (unsigned long long)total(C_RINGS_ABRUPT));
	test_add(ok_if(!total(C_F_TCP) && (total(C_TCP_CONNS) || !long_run)),
		 "soak: tcp echo verified (%llu connections, %llu KiB, ACCEPT/CONNECT/SHUTDOWN %s)",
		 (unsigned long long)total(C_TCP_CONNS),
		 (unsigned long long)(total(C_TCP_BYTES) / 1024),
		 cfg.net_ops ? "as ops" : "as syscalls");
	test_add(ok_if(!total(C_F_FILE) && (total(C_FILE_READS) || !long_run)),
		 "soak: file reads verified (%llu reads, %llu KiB)",
		 (unsigned long long)total(C_FILE_READS),
		 (unsigned long long)(total(C_FILE_BYTES) / 1024));
	test_add(ok_if(!total(C_F_TIMER) && (total(C_TIMERS) || !long_run)),
		 "soak: timers never fired early (%llu expired, worst %llu ms late, %llu long ones cancelled)",
		 (unsigned long long)total(C_TIMERS),
		 (unsigned long long)(total(C_TIMER_LATE_MAX_NS) / NSEC_PER_MSEC),
		 (unsigned long long)total(C_TIMER_CANCELS));
	if (cfg.cgroup_ok)
		test_add(ok_if(!total(C_F_CGROUP) && (total(C_CG_CYCLES) || !long_run)),
			 "soak: cgroup freeze/thaw/kill cycles (%llu)",
			 (unsigned long long)total(C_CG_CYCLES));
	else
		test_add(-1, "soak: cgroup freeze/thaw/kill cycles # SKIP %s", cfg.cgroup_why);
	test_add(ok_if(!total(C_F_SOURCE) && (total(C_SRC_SIGNALS) || !long_run)),
		 "soak: source signals delivered (%llu signals reached %llu waiters, %llu value cqes, %llu overflow ends)",
		 (unsigned long long)total(C_SRC_SIGNALS), (unsigned long long)total(C_SRC_REACHED),
		 (unsigned long long)total(C_SRC_DELIVERED), (unsigned long long)total(C_SRC_OVERFLOW));
	test_add(ok_if(!total(C_F_OTHER) && total(C_RINGS) >= (uint64_t)cfg.procs),
		 "soak: rings closed and reopened (%llu rings, %llu closed with ops in flight)",
		 (unsigned long long)total(C_RINGS), (unsigned long long)total(C_RINGS_ABRUPT));
}

static void report_workers(int stuck, int orphans, int dstate)
{
	int i, bad = 0;

	for (i = 0; i < cfg.procs; i++) {
		const struct proc *p = &procs[i];

		if (!p->exited || p->killed || !WIFEXITED(p->status) ||
		    WEXITSTATUS(p->status) > 1 || !__atomic_load_n(&slots[i].done, __ATOMIC_ACQUIRE)) {
			printf("# soak: worker %d (pid %d): %s, status %#x\n", i, (int)p->pid,
			       !p->exited ? "never exited" : p->killed ? "killed at the deadline" :
			       "did not finish its run", p->status);
			bad++;
		}
	}
	test_add(ok_if(!bad), "soak: workers finished and exited on their own (%d of %d)",
		 cfg.procs - bad, cfg.procs);
	test_add(ok_if(!stuck && !orphans && !dstate),
		 "soak: no process left behind or in D state (%d stuck workers, %d leftover children, %d in D state)",
		 stuck, orphans, dstate);
}

static void report_module(const struct state *base, const struct state *end, int64_t took)
{
	uint64_t module_sqes = end->st.sqes - base->st.sqes;
	uint64_t module_cqes = end->st.cqes - base->st.cqes;

	test_add(ok_if(base->refcnt >= 0 && end->refcnt == base->refcnt),
		 "soak: module refcount back to baseline (%ld, now %ld, after %lld ms)",
		 base->refcnt, end->refcnt, (long long)(took / NSEC_PER_MSEC));
	test_add(ok_if(base->rings >= 0 && end->rings == base->rings),
		 "soak: rings_open back to baseline (%ld, now %ld)", base->rings, end->rings);
	/* Every CQE reaped was written to a CQ ring; some written were not reaped. */
	test_add(ok_if(module_sqes == total(C_SQES) && module_cqes >= total(C_CQES)),
		 "soak: module counters agree (sqes +%llu, workers consumed %llu; cqes +%llu, workers reaped %llu)",
		 (unsigned long long)module_sqes, (unsigned long long)total(C_SQES),
		 (unsigned long long)module_cqes, (unsigned long long)total(C_CQES));
	if (base->slab >= 0)
		test_add(ok_if(end->slab >= 0 && end->slab <= base->slab),
			 "soak: zsync_req slab objects back to baseline (%ld, now %ld)",
			 base->slab, end->slab);
	else
		test_add(-1, "soak: zsync_req slab objects back to baseline # SKIP %s",
			 base->slab_why);
	if (base->sunreclaim_kb >= 0)
		test_add(ok_if(end->sunreclaim_kb >= 0 &&
			       end->sunreclaim_kb <= base->sunreclaim_kb + SUNRECLAIM_TOL_KB),
			 "soak: unreclaimable slab within %d KiB of baseline (SUnreclaim %ld KiB, now %ld; Slab %ld KiB, now %ld)",
			 SUNRECLAIM_TOL_KB, base->sunreclaim_kb, end->sunreclaim_kb,
			 base->slab_kb, end->slab_kb);
	else
		test_add(-1, "soak: unreclaimable slab within baseline # SKIP /proc/meminfo: %s",
			 errname((int)base->sunreclaim_kb));
}

static int print_ktap(void)
{
	int i, pass = 0, fail = 0, skip = 0;

	printf("TAP version 13\n1..%d\n", ntests);
	for (i = 0; i < ntests; i++) {
		printf("%s %d %s\n", tests[i].status ? "ok" : "not ok", i + 1, tests[i].desc);
		pass += tests[i].status == 1;
		fail += tests[i].status == 0;
		skip += tests[i].status < 0;
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", pass, fail, skip);
	return fail ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static int setup(struct state *base)
{
	cfg.parent = getpid();
	cfg.debug_kernel = debug_kernel();
	cfg.settle_ns = (cfg.debug_kernel ? 60 : 10) * NSEC_PER_SEC;
	printf("# soak: %d s, %d processes, seed %llu%s\n", cfg.secs, cfg.procs,
	       (unsigned long long)cfg.seed, cfg.debug_kernel ? ", debug kernel" : "");
	setup_net_ops();
	cfg.cgroup_ok = cgroup_setup(&cfg);
	if (!cfg.cgroup_ok)
		printf("# soak: cgroup part skipped: %s\n", cfg.cgroup_why);
	if (make_data_file())
		return -1;
	/* Orphaned sleepers come back to this process, to be reaped and checked. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		printf("# soak: PR_SET_CHILD_SUBREAPER: %s\n", errname(errno));
	slots = mmap(NULL, sizeof(*slots) * (size_t)cfg.procs, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		printf("# soak: mmap of the counters: %s\n", errname(errno));
		return -1;
	}
	take_state(base, true);
	printf("# soak: baseline: refcnt %ld, rings_open %ld, zsync_req %ld%s%s, SUnreclaim %ld KiB, Slab %ld KiB\n",
	       base->refcnt, base->rings, base->slab, base->slab < 0 ? " - " : "",
	       base->slab < 0 ? base->slab_why : "", base->sunreclaim_kb, base->slab_kb);
	if (base->refcnt < 0 || base->rings < 0) {
		printf("# soak: cannot read the module's state (refcnt: %s, STATS: %s)\n",
		       errname((int)base->refcnt), errname((int)base->rings));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct state base, end;
	int64_t start, took;
	int stuck, orphans, cg_left, dstate = 0, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv))
		return 2;
	if (access(getenv("ZSYNC_DEV") && *getenv("ZSYNC_DEV") ? getenv("ZSYNC_DEV") :
		   "/dev/zsync", F_OK)) {
		printf("TAP version 13\n1..0 # SKIP /dev/zsync: %s (module not loaded)\n",
		       errname(errno));
		return 4;
	}
	if (setup(&base)) {
		restore_net_ops();
		cgroup_teardown(&cfg);
		unlink(cfg.data_path);
		printf("TAP version 13\n1..1\nnot ok 1 soak: set-up failed (see above)\n");
		printf("# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n");
		return 1;
	}
	start = now_ns();
	cfg.end_ns = start + (int64_t)cfg.secs * NSEC_PER_SEC;
	ret = start_workers();
	if (ret == 0)
		wait_workers(start, cfg.end_ns + 3 * cfg.settle_ns);
	progress(start, true);
	stuck = kill_stragglers(&dstate);
	orphans = reap_orphans(&dstate);
	cg_left = cgroup_teardown(&cfg);
	unlink(cfg.data_path);
	took = settle_state(&base, &end);
	restore_net_ops();

	if (ret)
		test_add(0, "soak: all %d workers started", cfg.procs);
	report_workload();
	report_workers(stuck, orphans, dstate);
	report_module(&base, &end, took);
	if (cfg.cgroup_ok)
		test_add(ok_if(!cg_left), "soak: no cgroup left behind (%d)", cg_left);
	else
		test_add(-1, "soak: no cgroup left behind # SKIP %s", cfg.cgroup_why);
	return print_ktap();
}
