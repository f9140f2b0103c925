// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-manager: the counted syscalls both paths make, the
 * containers' processes, and the steady phase's bookkeeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mgr.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

unsigned long mgr_syscalls;
double mgr_wait_ns;

/* libzsync-k's ENTER (and any other ioctl) - linked with --wrap=ioctl. */
BENCH_WRAP_IOCTL(mgr_syscalls)

/* @call, counted as one syscall. */
#define COUNTED(call)	(mgr_syscalls++, (call))

/* Each returns what the syscall does, errno set; and counts it. */
int sys_mkdirat(int dfd, const char *name) { return COUNTED(mkdirat(dfd, name, 0755)); }
int sys_unlinkat_dir(int dfd, const char *name) { return COUNTED(unlinkat(dfd, name, AT_REMOVEDIR)); }
int sys_openat(int dfd, const char *path, int flags) { return COUNTED(openat(dfd, path, flags | O_CLOEXEC)); }
int sys_close(int fd) { return COUNTED(close(fd)); }
ssize_t sys_write(int fd, const void *buf, size_t len) { return COUNTED(write(fd, buf, len)); }
ssize_t sys_pread(int fd, void *buf, size_t len, off_t off) { return COUNTED(pread(fd, buf, len, off)); }

int sys_waitid_pidfd(int pidfd, int *status)
{
	siginfo_t si;
	int ret;

	mgr_syscalls++;
	memset(&si, 0, sizeof(si));
	ret = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG);
	if (ret)
		return ret;
	if (!si.si_pid)
		return 1;	/* WNOHANG: still running */
	*status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
	return 0;
}

int sys_pidfd_kill(int pidfd)
{
	return (int)COUNTED(syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0));
}

int sys_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	mgr_syscalls++;
	return epoll_ctl(epfd, op, fd, &ev);
}

int sys_epoll_wait(int epfd, void *events, int max, int timeout_ms)
{
	double t0 = bench_now_ns();
	int ret;

	mgr_syscalls++;
	ret = epoll_wait(epfd, events, max, timeout_ms);
	mgr_wait_ns += bench_now_ns() - t0;
	return ret;
}

/* echo -n @value > @dfd/@name: openat, write, close; 0 or -errno. */
int sys_write_at(int dfd, const char *name, const char *value)
{
	int fd = sys_openat(dfd, name, O_WRONLY);
	ssize_t n = fd < 0 ? -1 : sys_write(fd, value, strlen(value));
	int err = n < 0 ? -errno : 0;

	if (fd >= 0)
		sys_close(fd);
	return err;
}

/* ---- the containers' processes ------------------------------------------- */

void ctr_name(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "c%04u", i);
}

/* Whether /proc/self/cgroup already names @want (the manager has attached us). */
static bool in_cgroup(const char *want)
{
	char buf[512];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, want) != NULL;
}

/*
 * The OOM child: once the manager has moved it into its cgroup (a poll of
 * its own /proc/self/cgroup: the child's CPU, not the manager's), touch
 * memory until memory.max has the OOM killer end it.
 */
static void __attribute__((noreturn)) child_oom(const char *cg)
{
	const size_t chunk = 1 << 20;

	while (!in_cgroup(cg))
		sched_yield();
	for (;;) {
		char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(3);
		memset(p, 1, chunk);
	}
}

int ctr_spawn(struct mgr *m, unsigned int i, bool oom, pid_t *pidp)
{
	struct clone_args args;
	char cg[160];
	int pidfd = -1;
	long pid;

	snprintf(cg, sizeof(cg), "%s/", m->parent + strlen("/sys/fs/cgroup"));
	ctr_name(cg + strlen(cg), sizeof(cg) - strlen(cg), i);
	strcat(cg, "\n");	/* c0001 is not c00012 */
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	mgr_syscalls++;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/*
		 * As an exec would with O_CLOEXEC: keep none of the manager's
		 * fds, whose pidfds and watched files would outlive their close
		 * in the manager (and stay in its epoll set).
		 */
		syscall(SYS_close_range, 3, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (oom)
			child_oom(cg);
		for (;;)
			pause();
	}
	*pidp = (pid_t)pid;
	return pidfd;	/* CLONE_PIDFD: already O_CLOEXEC */
}

/* ---- the steady phase's bookkeeping ------------------------------------- */

static uint64_t next_rand(struct mgr *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

bool mgr_next_is_oom(struct mgr *m)
{
	return m->oom_every && m->restarted % m->oom_every == m->oom_every - 1;
}

int mgr_pick_victim(struct mgr *m)
{
	unsigned int start = (unsigned int)(next_rand(m) % m->n), k;

	for (k = 0; k < m->n; k++) {
		struct ctr *c = &m->c[(start + k) % m->n];

		if (c->pidfd >= 0 && c->attached && !c->doomed && !c->oom)
			return (int)((start + k) % m->n);
	}
	return -1;
}

/*
 * The exit of an OOM-killed process can be handled before the
 * memory.events notification of its kill: the outcome check reads the
 * counters once more, outside the timed phase and its syscall counts.
 */
void mgr_sweep_oom_kills(struct mgr *m)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		struct ctr *c = &m->c[i];
		char buf[256];
		ssize_t n;

		if (c->mem < 0)
			continue;
		n = pread(c->mem, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		mgr_note_oom_kills(m, c, buf);
	}
}

void mgr_note_oom_kills(struct mgr *m, struct ctr *c, const char *text)
{
	int64_t v = mgr_oom_kill_of(text);

	if (v > c->oom_kill) {
		m->oom_kills += v - c->oom_kill;
		c->oom_kill = v;
	}
}

int64_t mgr_oom_kill_of(const char *text)
{
	const char *p = strstr(text, "oom_kill ");

	return p ? strtoll(p + 9, NULL, 10) : -1;
}

bool mgr_steady_done(const struct mgr *m)
{
	return m->injected >= m->restarts && !m->nr_doomed && !m->oom_running &&
	       !m->pending;
}

void mgr_took_process(struct mgr *m, struct ctr *c, int pidfd, bool oom)
{
	c->pidfd = pidfd;
	c->oom = oom;
	m->oom_running += oom;
	m->nr_running++;
}

int mgr_inject_crash(struct mgr *m)
{
	int v;

	if (m->injected >= m->restarts)
		return 0;
	v = mgr_pick_victim(m);
	if (v < 0)
		return 0;
	if (sys_pidfd_kill(m->c[v].pidfd))
		return fail(m->why, -errno, "pidfd_send_signal: %s", strerror(errno));
	m->c[v].doomed = true;
	m->nr_doomed++;
	m->injected++;
	return 0;
}

int mgr_restart(struct mgr *m, unsigned int i, bool was_crash, mgr_start_fn start)
{
	int ret;

	if (!m->steady)
		return 0;
	ret = start(m, i, was_crash && mgr_next_is_oom(m));
	m->restarted++;
	return ret ? ret : (was_crash ? mgr_inject_crash(m) : 0);
}

int mgr_steady(struct mgr *m, mgr_run_fn run)
{
	unsigned int k;
	int ret = 0;

	m->steady = true;
	for (k = 0; k < m->inflight && !ret; k++)
		ret = mgr_inject_crash(m);
	if (!ret)
		ret = run(m, mgr_steady_done);
	m->steady = false;
	return ret;
}

void mgr_note_exit(struct mgr *m, struct ctr *c)
{
	if (c->doomed) {
		c->doomed = false;
		m->nr_doomed--;
	}
	if (c->oom) {
		c->oom = false;
		m->oom_running--;
		m->oom_deaths++;
	}
	c->attached = false;
	m->nr_running--;
}
