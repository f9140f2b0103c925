// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz: a seeded, replayable fuzzer for the /dev/zsync ring ABI.
 *
 * The run is a sequence of episodes, each in a child process of its own
 * with a seed drawn from the run's seed.  After each one the parent
 * checks what no episode can check about itself: that it ended (nothing
 * hung, nothing stuck in D state), and that the module's refcount and
 * its count of open rings came back to where they were.  The first
 * broken invariant stops the run and prints how to replay it; --shrink
 * then cuts the reproduction down.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

struct fz_opts fz_opts;
struct fz_stats *fz_stats;

enum { EP_OK, EP_VIOLATION, EP_HUNG, EP_LEAK, EP_SETUP, EP_TAINT };

struct fz_result {
	unsigned long episodes;
	int status;			/* EP_* of the first failure */
	uint64_t failed_seed;
	int failed_ep;
	char why[FZ_MSG_MAX];
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: zsync-fuzz [options]\n"
"Fuzzes the /dev/zsync ring ABI: random but mostly valid SQEs for every op,\n"
"real fds of every kind, hostile pointers, flags and lengths, ring-level ioctls,\n"
"fds closed and reused under ops, signals, scribbled and unmapped rings, forks.\n"
"Checks: every consumed SQE gets exactly one terminal CQE (F_MORE aside), no\n"
"CQE for a user_data never submitted, MSG_RING CQEs match successful sends,\n"
"byte counts within the buffer, the module refcount and open rings back to\n"
"their baseline after every episode, nothing hung or left in D state, no new\n"
"kernel taint (a WARN, BUG or KASAN report) after any episode.\n"
"\n"
"  -s, --seed SEED         run seed (default: from the clock; always printed)\n"
"  -t, --time SECS         stop starting episodes after SECS (default 60)\n"
"  -n, --iterations N      at most N episodes (default: no limit)\n"
"  -j, --threads N         up to N worker threads (rings) per episode (1-%d, default 2)\n"
"      --ops-per-thread N  SQEs each worker writes per episode (default 300)\n"
"      --ops LIST          only these opcodes (names or numbers, comma-separated;\n"
"                          'invalid' allows opcodes past the last); default all\n"
"      --chaos PCT         share of chaos episodes (default 25)\n"
"      --scenarios LIST    only these chaos scenarios (default all: scribble,unmap,\n"
"                          fork,kill-waiter,close-while-waiting,scm-loop,eventfd-loop)\n"
"      --no-unpriv         never drop an episode to nobody (group zsync)\n"
"      --no-pid-ns         run episodes in the fuzzer's PID namespace (then a fuzzed\n"
"                          pid can name any process, the VM's init included)\n"
"      --keep-lsm-gate     leave lsm_bypass_net as it is (by default the run sets it,\n"
"                          so ACCEPT, CONNECT and SHUTDOWN are reached, and restores it)\n"
"      --faults            inject allocation failures (failslab, fail_page_alloc,\n"
"                          fail_usercopy) into module allocations of the fuzzer's tasks\n"
"      --grace SECS        how long cancellation and teardown may take (default 20)\n"
"      --replay SEED       run the single episode SEED (printed on failure)\n"
"      --shrink            with --replay: reduce the episode to a short reproduction\n"
"      --trace             print every SQE generated (stderr)\n"
"      --ktap              print the result as KTAP (for the test VM)\n"
"  -q, --quiet             no progress lines\n"
"  -h, --help              this text\n"
"Exit status: 0 all invariants held, 1 one broke (the seed and a replay command\n"
"are printed), 2 bad usage or setup failure, 4 --faults without fault injection.\n",
		FZ_MAX_THREADS);
}

static int parse_ops(const char *list)
{
	char *dup = strdup(list), *tok, *save = NULL;
	int op;

	memset(fz_opts.op_mask, 0, sizeof(fz_opts.op_mask));
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "invalid")) {
			op = ZSYNC_OP_LAST;
		} else {
			for (op = 0; op < ZSYNC_OP_LAST; op++)
				if (!strcasecmp(tok, fz_op_name(op)))
					break;
			if (op == ZSYNC_OP_LAST) {
				char *end;
				long v = strtol(tok, &end, 0);

				if (*end || v < 0 || v >= ZSYNC_OP_LAST) {
					fprintf(stderr, "zsync-fuzz: unknown op '%s' in --ops\n", tok);
					free(dup);
					return -1;
				}
				op = (int)v;
			}
		}
		fz_opts.op_mask[op / 64] |= 1ULL << (op % 64);
	}
	free(dup);
	return 0;
}

static void ops_string(char *buf, size_t len)
{
	size_t n = 0;
	int op;

	buf[0] = '\0';
	for (op = 0; op <= ZSYNC_OP_LAST && n < len; op++)
		if (fz_opts.op_mask[op / 64] >> (op % 64) & 1)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      op == ZSYNC_OP_LAST ? "invalid" : fz_op_name(op));
}

static bool all_ops(void)
{
	int op;

	for (op = 0; op <= ZSYNC_OP_LAST; op++)
		if (!(fz_opts.op_mask[op / 64] >> (op % 64) & 1))
			return false;
	return true;
}

static void repro_command(char *buf, size_t len, uint64_t seed)
{
	char ops[1024];
	int n;

	n = snprintf(buf, len, "zsync-fuzz --replay %#llx -j %u --ops-per-thread %u --chaos %u%s%s",
		     (unsigned long long)seed, fz_opts.threads, fz_opts.ops_per_thread,
		     fz_opts.chaos_pct, fz_opts.faults ? " --faults" : "",
		     fz_opts.unpriv_ok ? "" : " --no-unpriv");
	if (!all_ops() && n > 0 && (size_t)n < len) {
		ops_string(ops, sizeof(ops));
		n += snprintf(buf + n, len - (size_t)n, " --ops %s", ops);
	}
	if (fz_opts.scenario_mask != (1U << fz_nr_scenarios()) - 1 && n > 0 && (size_t)n < len) {
		fz_scenario_string(fz_opts.scenario_mask, ops, sizeof(ops));
		snprintf(buf + n, len - (size_t)n, " --scenarios %s", ops[0] ? ops : "none");
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* Best effort: a knob of a cgroup that is going away. */
static void write_knob(const char *dir, const char *knob, const char *val)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, knob);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		fd = -fd;	/* nothing to do: the cgroup may be gone */
	close(fd < 0 ? -fd : fd);
}

/*
 * Remove episode EP's scratch directory and cgroup: thaw it, kill what is
 * left in it and retry rmdir (polling) until it is empty.
 */
static void episode_cleanup(int ep)
{
	char path[300];
	int i;

	snprintf(path, sizeof(path), "/tmp/zsync-fuzz.%d.%d", getpid(), ep);
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(path, sizeof(path), "/sys/fs/cgroup/zsync-fuzz.%d/ep%d", getpid(), ep);
	for (i = 0; i < 5000; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return;
		write_knob(path, "cgroup.freeze", "0");
		write_knob(path, "cgroup.kill", "1");
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(1000);
	}
	fprintf(stderr, "zsync-fuzz: cannot remove %s: %s\n", path, strerror(errno));
}

/*
 * Whether episode EP's cgroup was frozen, which this thaws.  An episode can
 * freeze itself: CGROUP_ATTACH of one of its own processes (pid 1 of its
 * PID namespace is the episode) into its pool cgroup, then CGROUP_FREEZE
 * of that cgroup.  Root can do the same with write(2); it is not a hang of
 * the module's making.
 */
static bool episode_thaw(int ep)
{
	char dir[300], path[320], val[4] = "";
	bool frozen;
	int fd;

	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/zsync-fuzz.%d/ep%d", getpid(), ep);
	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	frozen = read(fd, val, sizeof(val) - 1) > 0 && val[0] == '1';
	close(fd);
	if (frozen)
		write_knob(dir, "cgroup.freeze", "0");
	return frozen;
}

/* The contents of DIR/NAME/FILE, NUL-terminated, without its final newline. */
static bool fz_read_file_at(const char *dir, const char *name, const char *file,
			    char *buf, size_t len)
{
	char path[400];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return true;
}

/* The state letter of process (or thread) DIR/NAME if it is in group PGID, else 0. */
static char group_member_state(const char *dir, const char *name, pid_t pgid)
{
	char stat[512], *p;
	int pgrp = 0;

	if (!fz_read_file_at(dir, name, "stat", stat, sizeof(stat)) ||
	    !(p = strrchr(stat, ')')) || sscanf(p + 2, "%*c %*d %d", &pgrp) != 1 ||
	    pgrp != pgid)
		return 0;
	return p[2];
}

/*
 * Append, for every thread of process group PGID: pid/tid, state and
 * wchan (what it sleeps in), to say where an episode that does not end
 * stands before it is killed.
 */
static void describe_group(pid_t pgid, char *buf, size_t len)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t at = strlen(buf);

	if (!d)
		return;
	while ((e = readdir(d)) && at + 64 < len) {
		char path[300], wchan[64], state;
		struct dirent *t;
		DIR *td;

		if (!group_member_state("/proc", e->d_name, pgid))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", e->d_name);
		td = opendir(path);
		while (td && (t = readdir(td)) && at + 64 < len) {
			if (t->d_name[0] == '.' || !(state = group_member_state(path, t->d_name, pgid)))
				continue;
			if (!fz_read_file_at(path, t->d_name, "wchan", wchan, sizeof(wchan)))
				strcpy(wchan, "?");
			at += (size_t)snprintf(buf + at, len - at, " %s/%s:%c:%s", e->d_name,
					       t->d_name, state, wchan);
		}
		if (td)
			closedir(td);
	}
	closedir(d);
}

/*
 * Whether an episode that did not end (threads as describe_group() lists
 * them) only waits, interruptibly, in a tty read or write, and otherwise
 * for its children, in pause() or in the chaos thread's pacing sleep: a
 * READ or WRITE on a pty that a racing process of the episode drained or
 * filled blocks its submitter as read(2) or write(2) would
 * (Documentation/internals.rst, "The submitting thread again").  That is not a kernel hang: SIGKILL must still end it,
 * and the module's counts must still return to baseline.
 */
static bool blocked_in_tty_only(const char *where)
{
	/*
	 * Before FIRST_TTY: states that never hold an episode up by
	 * themselves (a zombie, a reaper, pause(), the chaos thread's pacing
	 * nanosleep between its actions); from it on: a tty wait.
	 */
	static const char *const ok[] = { ":Z:", ":S:do_wait", ":S:__do_sys_pause",
					  ":S:hrtimer_nanosleep", ":S:do_nanosleep",
					  ":S:wait_woken", ":S:n_tty_", ":S:file_tty_write",
					  ":S:tty_write" };
	enum { FIRST_TTY = 5 };
	bool tty = false;
	const char *t;

	for (t = strchr(where, ' '); t; t = strchr(t + 1, ' ')) {
		const char *st = strchr(t, ':');
		size_t i;

		if (!st)
			return false;
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (!strncmp(st, ok[i], strlen(ok[i])))
				break;
		if (i == sizeof(ok) / sizeof(ok[0]))
			return false;
		tty |= i >= FIRST_TTY;
	}
	return tty;
}

/* Describe processes of group PGID that are in D state; returns how many. */
static int report_d_state(pid_t pgid, char *why, size_t len)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char stack[1024] = "";

		if (group_member_state("/proc", e->d_name, pgid) != 'D')
			continue;
		fz_read_file_at("/proc", e->d_name, "stack", stack, sizeof(stack));
		if (!n++)
			snprintf(why, len, "pid %s stuck in D state after SIGKILL; kernel stack:\n%s",
				 e->d_name, stack);
	}
	closedir(d);
	return n;
}

static bool reap_within(pid_t pid, int *status, int64_t deadline)
{
	while (fz_now_ns() < deadline) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno == ECHILD)
			return true;
		usleep(2000);
	}
	return false;
}

/*
 * The episode runs as init of a PID namespace of its own: pid numbers in
 * its SQEs and in what its hostile pointers point at (a cgroup.procs write
 * of "1", say) can then only name its own processes, never the VM's init
 * or the fuzzer.  Returns the episode's exit status.
 */
static int run_in_pid_ns(uint64_t seed, int ep)
{
	int status;
	pid_t pid;

	if (!fz_opts.pid_ns)
		return fz_run_episode(seed, ep);
	if (unshare(CLONE_NEWPID))
		return 2;
	pid = fork();
	if (pid == 0)
		_exit(fz_run_episode(seed, ep));
	if (pid < 0)
		return 2;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 2;
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

/* Run episode SEED in a child; EP_* and a description in res->why. */
static int run_child(uint64_t seed, int ep, struct fz_result *res)
{
	int64_t limit = (int64_t)(fz_opts.grace_secs * 3 + 60) * 1000000000;
	bool ended, killed_here = false;
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(res->why, sizeof(res->why), "fork: %s", strerror(errno));
		return EP_SETUP;
	}
	if (pid == 0) {
		setpgid(0, 0);
		_exit(run_in_pid_ns(seed, ep));
	}
	setpgid(pid, pid);
	ended = reap_within(pid, &status, fz_now_ns() + limit);
	if (!ended && episode_thaw(ep)) {
		printf("# fuzz: episode %d (%#llx) froze its own cgroup with a process of its own "
		       "in it; thawed\n", ep, (unsigned long long)seed);
		fflush(stdout);
		ended = reap_within(pid, &status, fz_now_ns() + limit);
	}
	if (!ended) {
		char where[FZ_MSG_MAX / 2] = "";
		bool tty_wait;

		describe_group(pid, where, sizeof(where));
		tty_wait = blocked_in_tty_only(where);
		killpg(pid, SIGKILL);
		if (!reap_within(pid, &status, fz_now_ns() + 20LL * 1000000000) &&
		    report_d_state(pid, res->why, sizeof(res->why)))
			return EP_HUNG;
		if (tty_wait) {
			printf("# fuzz: episode %d (%#llx) waited in a tty read or write, as the "
			       "syscall would, and ended by SIGKILL:%s\n", ep,
			       (unsigned long long)seed, where);
			fflush(stdout);
			killed_here = true;
			goto ended;
		}
		snprintf(res->why, sizeof(res->why),
			 "episode did not end within %lld s (a thread blocked in the kernel?); "
			 "threads (pid/tid:state:wchan):%s", (long long)(limit / 1000000000), where);
		return EP_HUNG;
	}
ended:
	killpg(pid, SIGKILL);	/* victims and other leftovers of the episode */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	episode_cleanup(ep);
	if (fz_violated()) {
		snprintf(res->why, sizeof(res->why), "%s", fz_stats->msg);
		return EP_VIOLATION;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		snprintf(res->why, sizeof(res->why), "episode setup failed (see above)");
		return EP_SETUP;
	}
	/* Our own SIGKILL of an accepted tty wait is how that episode ends. */
	if (WIFSIGNALED(status) && !(killed_here && WTERMSIG(status) == SIGKILL)) {
		snprintf(res->why, sizeof(res->why), "episode process killed by signal %d",
			 WTERMSIG(status));
		return EP_VIOLATION;
	}
	return EP_OK;
}

/*
 * One memory cgroup for the whole run, the episodes' cgroups beneath it:
 * creating and removing the only memory cgroup flips the kernel's
 * memcg_sockets_enabled_key, and flipping it under TCP traffic on another
 * CPU crashes 6.x kernels under TCG (tcp_grow_window(), int3), with or
 * without zsync.
 */
static void run_cgroup(bool create)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/zsync-fuzz.%d", getpid());
	if (!create) {
		if (rmdir(path) && errno != ENOENT)
			fprintf(stderr, "zsync-fuzz: cannot remove %s: %s\n", path, strerror(errno));
		return;
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return;		/* no cgroup2: the cgroup ops then get errors */
	strncat(path, "/cgroup.subtree_control", sizeof(path) - strlen(path) - 1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "+memory +pids", 13) < 0)
			fprintf(stderr, "zsync-fuzz: %s: %s\n", path, strerror(errno));
		close(fd);
	}
}

struct baseline {
	int ctl;
	unsigned long long rings_open;
	long refcnt;
	unsigned long taint;
};

/* /proc/sys/kernel/tainted: a WARN, BUG or KASAN report sets a new bit. */
static unsigned long kernel_taint(void)
{
	unsigned long t = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "re");

	if (f) {
		if (fscanf(f, "%lu", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

/*
 * The kernel's own oracle: a splat during the episode taints the kernel.
 * The taint stays, so only the first episode that caused one is named;
 * its seed is what CI prints for a replay under KASAN.
 */
static int check_taint(const struct baseline *b, char *why, size_t len)
{
	unsigned long now = kernel_taint();

	if (!(now & ~b->taint))
		return 0;
	snprintf(why, len, "the kernel became tainted (%#lx, was %#lx): a WARN, BUG or KASAN report during the episode, see the kernel log",
		 now, b->taint);
	return EP_TAINT;
}

/* Poll until the module's counts are back (ring release may be deferred). */
static int check_baseline(const struct baseline *b, char *why, size_t len)
{
	int64_t deadline = fz_now_ns() + (int64_t)fz_opts.grace_secs * 1000000000;
	struct zsync_stats st = { 0 };
	long refcnt = -1;

	do {
		fz_stats_ioctl(b->ctl, &st);
		refcnt = fz_module_refcnt();
		if (st.rings_open == b->rings_open && refcnt == b->refcnt)
			return 0;
		usleep(5000);
	} while (fz_now_ns() < deadline);
	snprintf(why, len, "leak: %llu rings open (baseline %llu), module refcount %ld (baseline %ld) %u s after the episode ended",
		 (unsigned long long)st.rings_open, b->rings_open, refcnt, b->refcnt, fz_opts.grace_secs);
	return EP_LEAK;
}

static void print_histogram(FILE *out)
{
	unsigned long sqes = 0, cqes = 0;
	int op, e;

	fprintf(out, "# %-14s %8s %8s %8s  terminal errors\n", "op", "sqes", "ok", "more");
	for (op = 0; op < FZ_NR_OPS; op++) {
		char errs[512] = "";
		size_t n = 0;

		for (e = 0; e < FZ_MAX_ERRNO && n < sizeof(errs); e++) {
			unsigned long c = atomic_load(&fz_stats->op_err[op][e]);

			if (c)
				n += snprintf(errs + n, sizeof(errs) - n, " %s:%lu",
					      e ? strerrorname_np(e) ?: "?" : "other", c);
		}
		sqes += atomic_load(&fz_stats->op_sqes[op]);
		cqes += atomic_load(&fz_stats->op_ok[op]) + atomic_load(&fz_stats->op_more[op]);
		fprintf(out, "# %-14s %8lu %8lu %8lu %s\n", fz_op_name(op),
			atomic_load(&fz_stats->op_sqes[op]), atomic_load(&fz_stats->op_ok[op]),
			atomic_load(&fz_stats->op_more[op]), errs);
	}
	fprintf(out, "# enters %lu, ioctls %lu, MSG_RING CQEs %lu, chaos actions %lu, SQEs %lu\n",
		atomic_load(&fz_stats->enters), atomic_load(&fz_stats->ioctls),
		atomic_load(&fz_stats->msg_cqes), atomic_load(&fz_stats->chaos_actions), sqes);
	(void)cqes;
}

static void run_fuzz(const struct baseline *b, struct fz_result *res, uint64_t replay)
{
	uint64_t master = fz_opts.seed;
	int64_t start = fz_now_ns(), next_progress = start + 10LL * 1000000000;
	int ep;

	for (ep = 0; ; ep++) {
		uint64_t seed = replay ? replay : fz_next(&master);
		int st;

		if (replay ? ep > 0 : (fz_opts.iterations && (unsigned int)ep >= fz_opts.iterations))
			break;
		if (!replay && fz_now_ns() - start >= (int64_t)fz_opts.seconds * 1000000000)
			break;
		st = run_child(seed, ep, res);
		if (st == EP_OK)
			st = check_taint(b, res->why, sizeof(res->why));
		if (st == EP_OK)
			st = check_baseline(b, res->why, sizeof(res->why));
		res->episodes++;
		if (st != EP_OK) {
			res->status = st;
			res->failed_seed = seed;
			res->failed_ep = ep;
			return;
		}
		if (!fz_opts.quiet && fz_now_ns() >= next_progress) {
			next_progress += 10LL * 1000000000;
			printf("# fuzz: %lld/%u s, %lu episodes, %lu enters\n",
			       (long long)((fz_now_ns() - start) / 1000000000), fz_opts.seconds,
			       res->episodes, atomic_load(&fz_stats->enters));
			fflush(stdout);
		}
	}
}

static int take_baseline(struct baseline *b)
{
	struct zsync_stats st;
	int ret = fz_stats_ioctl(b->ctl, &st);

	b->rings_open = st.rings_open;
	b->refcnt = fz_module_refcnt();
	b->taint = kernel_taint();
	return ret;
}

/*
 * Does episode SEED still fail with the current options?  Two tries.  A
 * leak stays leaked, so each try measures its own baseline.
 */
static bool still_fails(struct baseline *b, uint64_t seed)
{
	struct fz_result r;
	int i;

	for (i = 0; i < 2; i++) {
		take_baseline(b);
		memset(&r, 0, sizeof(r));
		atomic_store(&fz_stats->violation, 0);
		run_fuzz(b, &r, seed);
		if (r.status != EP_OK)
			return true;
	}
	return false;
}

static int shrink(struct baseline *b, uint64_t seed)
{
	unsigned int lo = 1, hi = fz_opts.ops_per_thread, saved;
	char cmd[1400];
	int op;

	printf("# shrink: replaying %#llx\n", (unsigned long long)seed);
	if (!still_fails(b, seed)) {
		printf("# shrink: episode %#llx did not fail again (timing-dependent?)\n",
		       (unsigned long long)seed);
		return 1;
	}
	while (lo < hi) {		/* fewest SQEs per thread that still fail */
		fz_opts.ops_per_thread = (lo + hi) / 2;
		if (still_fails(b, seed))
			hi = fz_opts.ops_per_thread;
		else
			lo = fz_opts.ops_per_thread + 1;
	}
	fz_opts.ops_per_thread = hi;
	saved = fz_opts.threads;
	fz_opts.threads = 1;
	if (!still_fails(b, seed))
		fz_opts.threads = saved;
	for (op = 0; op < (int)fz_nr_scenarios(); op++) {
		if (!(fz_opts.scenario_mask & (1U << op)))
			continue;
		fz_opts.scenario_mask &= ~(1U << op);
		if (!still_fails(b, seed))
			fz_opts.scenario_mask |= 1U << op;
	}
	for (op = 0; op <= ZSYNC_OP_LAST; op++) {
		uint64_t bit = 1ULL << (op % 64);

		if (!(fz_opts.op_mask[op / 64] & bit))
			continue;
		fz_opts.op_mask[op / 64] &= ~bit;
		if (!still_fails(b, seed))
			fz_opts.op_mask[op / 64] |= bit;
	}
	repro_command(cmd, sizeof(cmd), seed);
	printf("# shrink: reproduction: %s --trace\n", cmd);
	fz_opts.trace = true;
	still_fails(b, seed);
	return 0;
}

static void print_ktap(const struct fz_result *r, double secs)
{
	char cmd[1400];
	bool inv = r->status != EP_VIOLATION, leak = r->status != EP_LEAK;
	bool hang = r->status != EP_HUNG, clean = r->status != EP_TAINT;
	int fails = !inv + !leak + !hang + !clean;

	printf("TAP version 13\n1..4\n");
	printf("%s 1 fuzz: every consumed SQE got exactly one terminal CQE, no stray CQE\n",
	       inv ? "ok" : "not ok");
	printf("%s 2 fuzz: module refcount and open rings back to baseline after every episode\n",
	       leak ? "ok" : "not ok");
	printf("%s 3 fuzz: every episode ended, nothing left in D state\n", hang ? "ok" : "not ok");
	printf("%s 4 fuzz: no episode tainted the kernel\n", clean ? "ok" : "not ok");
	printf("# fuzz: seed %#llx, %lu episodes in %.0f s\n",
	       (unsigned long long)fz_opts.seed, r->episodes, secs);
	if (r->status != EP_OK) {
		repro_command(cmd, sizeof(cmd), r->failed_seed);
		printf("# fuzz: FAILED in episode %d (seed %#llx): %s\n", r->failed_ep,
		       (unsigned long long)r->failed_seed, r->why);
		printf("# reproduce: %s\n# shrink: %s --shrink\n", cmd, cmd);
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:%d\n", 4 - fails,
	       fails - (r->status == EP_SETUP), r->status == EP_SETUP);
}

static bool keep_lsm_gate;

#define LSM_GATE "/sys/module/zsync/parameters/lsm_bypass_net"

/*
 * ACCEPT, CONNECT and SHUTDOWN are refused unless the administrator sets
 * lsm_bypass_net (the LSM hooks they would call are not exported): set it
 * for the run, so their code is fuzzed too.  Returns the old value.
 */
static char lsm_gate(char want)
{
	char old = 0;
	FILE *f;

	if (keep_lsm_gate)
		return 0;
	f = fopen(LSM_GATE, "re");
	if (!f)
		return 0;
	if (fread(&old, 1, 1, f) != 1)
		old = 0;
	fclose(f);
	f = fopen(LSM_GATE, "we");
	if (f) {
		fputc(want, f);
		fclose(f);
	}
	return old;
}

static int parse_args(int argc, char **argv, uint64_t *replay, bool *do_shrink)
{
	enum { O_OPT = 256, O_OPS, O_SCEN, O_KEEPLSM, O_NOPIDNS, O_CHAOS, O_NOUNPRIV, O_FAULTS, O_GRACE, O_REPLAY,
	       O_SHRINK, O_TRACE, O_KTAP };
	static const struct option lo[] = {
		{ "seed", 1, 0, 's' }, { "time", 1, 0, 't' }, { "iterations", 1, 0, 'n' },
		{ "threads", 1, 0, 'j' }, { "ops-per-thread", 1, 0, O_OPT },
		{ "ops", 1, 0, O_OPS }, { "chaos", 1, 0, O_CHAOS }, { "scenarios", 1, 0, O_SCEN },
		{ "no-unpriv", 0, 0, O_NOUNPRIV }, { "keep-lsm-gate", 0, 0, O_KEEPLSM },
		{ "no-pid-ns", 0, 0, O_NOPIDNS }, { "faults", 0, 0, O_FAULTS },
		{ "grace", 1, 0, O_GRACE }, { "replay", 1, 0, O_REPLAY },
		{ "shrink", 0, 0, O_SHRINK }, { "trace", 0, 0, O_TRACE },
		{ "ktap", 0, 0, O_KTAP }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' },
		{ 0 },
	};
	int c;

	fz_opts.seed = (uint64_t)fz_now_ns() ^ ((uint64_t)getpid() << 32);
	fz_opts.seconds = 60;
	fz_opts.threads = 2;
	fz_opts.ops_per_thread = 300;
	fz_opts.chaos_pct = 25;
	fz_opts.unpriv_ok = true;
	fz_opts.pid_ns = true;
	fz_opts.grace_secs = 20;
	memset(fz_opts.op_mask, 0xff, sizeof(fz_opts.op_mask));
	fz_opts.scenario_mask = (1U << fz_nr_scenarios()) - 1;
	while ((c = getopt_long(argc, argv, "s:t:n:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 's': fz_opts.seed = strtoull(optarg, NULL, 0); break;
		case 't': fz_opts.seconds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'n': fz_opts.iterations = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'j': fz_opts.threads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case O_OPT: fz_opts.ops_per_thread = (unsigned int)strtoul(optarg, NULL, 0); break;
		case O_OPS: if (parse_ops(optarg)) return 2; break;
		case O_SCEN: if (fz_scenario_parse(optarg, &fz_opts.scenario_mask)) return 2; break;
		case O_CHAOS: fz_opts.chaos_pct = (unsigned int)strtoul(optarg, NULL, 0); break;
		case O_NOUNPRIV: fz_opts.unpriv_ok = false; break;
		case O_KEEPLSM: keep_lsm_gate = true; break;
		case O_NOPIDNS: fz_opts.pid_ns = false; break;
		case O_FAULTS: fz_opts.faults = true; break;
		case O_GRACE: fz_opts.grace_secs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case O_REPLAY: *replay = strtoull(optarg, NULL, 0); break;
		case O_SHRINK: *do_shrink = true; break;
		case O_TRACE: fz_opts.trace = true; break;
		case O_KTAP: fz_opts.ktap = true; break;
		case 'q': fz_opts.quiet = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !fz_opts.threads || fz_opts.threads > FZ_MAX_THREADS ||
	    !fz_opts.ops_per_thread || fz_opts.chaos_pct > 100 || (*do_shrink && !*replay)) {
		fprintf(stderr, "zsync-fuzz: bad arguments (-j 1-%d, --ops-per-thread > 0, --chaos 0-100, --shrink needs --replay)\n",
			FZ_MAX_THREADS);
		usage(stderr);
		return 2;
	}
	fz_opts.ops_per_thread = fz_opts.ops_per_thread > 100000 ? 100000 : fz_opts.ops_per_thread;
	return 0;
}

int main(int argc, char **argv)
{
	struct fz_result res = { 0 };
	struct baseline b = { 0 };
	uint64_t replay = 0;
	bool do_shrink = false;
	int64_t start = fz_now_ns();
	int ret = parse_args(argc, argv, &replay, &do_shrink), armed = 0;
	char old_gate;

	if (ret)
		return ret;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fz_stats = mmap(NULL, sizeof(*fz_stats), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	b.ctl = open("/dev/zsync", O_RDWR | O_CLOEXEC);
	if (fz_stats == MAP_FAILED || b.ctl < 0 || take_baseline(&b)) {
		fprintf(stderr, "zsync-fuzz: cannot open /dev/zsync: %s (is zsync.ko loaded?)\n",
			strerror(errno));
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);	/* orphans of episodes are reaped here */
	fz_opts.run_pid = getpid();
	if (fz_opts.faults) {
		armed = fz_faults_arm();
		if (armed < 0) {
			fprintf(stderr, "zsync-fuzz: --faults: no fault injection here (%s); needs CONFIG_FAULT_INJECTION_DEBUG_FS and debugfs\n",
				strerror(-armed));
			if (fz_opts.ktap)
				printf("TAP version 13\n1..1\nok 1 fuzz # SKIP no fault injection\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n");
			return 4;
		}
	}
	old_gate = lsm_gate('Y');
	run_cgroup(true);
	printf("# zsync-fuzz: seed %#llx, %u s, -j %u, %u SQEs per thread, chaos %u%%%s\n",
	       (unsigned long long)fz_opts.seed, fz_opts.seconds, fz_opts.threads,
	       fz_opts.ops_per_thread, fz_opts.chaos_pct, fz_opts.faults ? ", fault injection" : "");
	if (do_shrink)
		ret = shrink(&b, replay);
	else
		run_fuzz(&b, &res, replay);
	if (fz_opts.faults)
		fz_faults_disarm();
	if (old_gate)
		lsm_gate(old_gate);
	run_cgroup(false);
	print_histogram(stdout);
	if (fz_opts.faults)
		fz_faults_report(stdout);
	if (do_shrink)
		return ret;
	if (fz_opts.ktap)
		print_ktap(&res, (double)(fz_now_ns() - start) / 1e9);
	else if (res.status != EP_OK) {
		char cmd[1400];

		repro_command(cmd, sizeof(cmd), res.failed_seed);
		printf("zsync-fuzz: FAILED in episode %d (seed %#llx): %s\nreproduce: %s\n",
		       res.failed_ep, (unsigned long long)res.failed_seed, res.why, cmd);
	} else {
		printf("zsync-fuzz: ok: seed %#llx, %lu episodes, every invariant held\n",
		       (unsigned long long)fz_opts.seed, res.episodes);
	}
	return res.status == EP_OK ? 0 : res.status == EP_SETUP ? 2 : 1;
}
