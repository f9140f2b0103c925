// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-manager, plain path: the best design on plain syscalls we
 * know of.  One epoll set holds every container's cgroup.events and
 * memory.events (EPOLLPRI | EPOLLET: a change wakes the loop once, and a
 * file is read only when its value matters) and every process's pidfd
 * (EPOLLIN | EPOLLONESHOT: the exit, reaped with waitid(P_PIDFD), which
 * gives the status).  cgroup.freeze stays open from create on, so a freeze or thaw
 * is one write(2); a knob, an attach and a kill are openat, write,
 * close.  Nothing sleeps: every wait is epoll_wait on the set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "mgr.h"

#define EVENTS_PER_WAIT	256
#define WAIT_MS		30000	/* a wait this long means something is broken */

/* epoll data: (container << 4) | kind. */
enum pkind { P_EVENTS, P_MEM, P_PID };

static int epfd = -1;

int plain_setup(struct mgr *m)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? fail(m->why, -errno, "epoll_create1: %s", strerror(errno)) : 0;
}

void plain_teardown(void)
{
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}

static uint64_t tag(unsigned int i, enum pkind kind)
{
	return ((uint64_t)i << 4) | kind;
}

static int spawn_one(struct mgr *m, unsigned int i, bool oom)
{
	int pidfd = ctr_spawn(m, i, oom, &m->c[i].pid);

	if (pidfd < 0)
		return fail(m->why, pidfd, "clone3: %s", strerror(-pidfd));
	mgr_took_process(m, &m->c[i], pidfd, oom);
	return 0;
}

/* Write the pid to cgroup.procs and watch the pidfd. */
static int attach_one(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	char num[16];
	int ret;

	snprintf(num, sizeof(num), "%d", (int)c->pid);
	ret = sys_write_at(c->dir, "cgroup.procs", num);
	if (ret)
		return fail(m->why, ret, "container %u: cgroup.procs: %s", i, strerror(-ret));
	c->attached = true;
	/*
	 * EPOLLONESHOT: a pidfd closed after its exit may stay in the set a
	 * while (a child cloned just before holds it until its close_range)
	 * and, its process dead, would wake every epoll_wait until then.
	 */
	if (sys_epoll_ctl(epfd, EPOLL_CTL_ADD, c->pidfd, EPOLLIN | EPOLLONESHOT, tag(i, P_PID)))
		return fail(m->why, -errno, "epoll_ctl pidfd: %s", strerror(errno));
	return 0;
}

static int start_one(struct mgr *m, unsigned int i, bool oom)
{
	int ret = spawn_one(m, i, oom);

	return ret ? ret : attach_one(m, i);
}

/* The pidfd is readable: reap (the status), close, maybe restart. */
static int on_exit_event(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	bool was_crash = c->doomed;
	int status, ret;

	/* A wakeup from before a close (see attach_one()) names no process. */
	if (c->pidfd < 0)
		return 0;
	ret = sys_waitid_pidfd(c->pidfd, &status);
	if (ret < 0)
		return fail(m->why, -errno, "waitid: %s", strerror(errno));
	if (ret > 0)
		return 0;	/* not exited after all */
	sys_close(c->pidfd);	/* leaves the epoll set with it */
	c->pidfd = -1;
	mgr_note_exit(m, c);
	return mgr_restart(m, i, was_crash, start_one);
}

static int on_state_event(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	char buf[256];
	ssize_t n;
	bool frozen, populated;

	if (!m->watch_state)
		return 0;	/* EPOLLET: nothing to re-arm */
	n = sys_pread(c->events, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return fail(m->why, -errno, "cgroup.events: %s", strerror(errno));
	buf[n] = '\0';
	frozen = strstr(buf, "frozen 1") != NULL;
	populated = strstr(buf, "populated 1") != NULL;
	m->nr_frozen += frozen - c->frozen;
	m->nr_populated += populated - c->populated;
	c->frozen = frozen;
	c->populated = populated;
	return 0;
}

static int on_mem_event(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	char buf[256];
	ssize_t n = sys_pread(c->mem, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return fail(m->why, -errno, "memory.events: %s", strerror(errno));
	buf[n] = '\0';
	mgr_note_oom_kills(m, c, buf);
	return 0;
}

static int run_until(struct mgr *m, bool (*done)(const struct mgr *))
{
	struct epoll_event ev[EVENTS_PER_WAIT];
	int n, k, ret;

	while (!done(m)) {
		n = sys_epoll_wait(epfd, ev, EVENTS_PER_WAIT, WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(m->why, n ? -errno : -ETIMEDOUT, "epoll_wait: %s",
				    n ? strerror(errno) : "nothing for 30 s");
		for (k = 0; k < n; k++) {
			unsigned int i = (unsigned int)(ev[k].data.u64 >> 4);

			switch ((enum pkind)(ev[k].data.u64 & 15)) {
			case P_EVENTS:
				ret = on_state_event(m, i);
				break;
			case P_MEM:
				ret = on_mem_event(m, i);
				break;
			default:
				ret = on_exit_event(m, i);
				break;
			}
			if (ret)
				return ret;
		}
	}
	return 0;
}

static bool all_frozen(const struct mgr *m)
{
	return m->nr_frozen == m->n;
}

static bool none_frozen(const struct mgr *m)
{
	return !m->nr_frozen;
}

static bool all_empty(const struct mgr *m)
{
	return !m->nr_populated && !m->nr_running;
}

/* Open @name in container @i's cgroup, into the epoll set if @ev. */
static int open_in(struct mgr *m, unsigned int i, const char *name, int flags,
		   enum pkind kind, bool ev)
{
	int fd = sys_openat(m->c[i].dir, name, flags);

	if (fd < 0)
		return fail(m->why, -errno, "container %u: %s: %s", i, name, strerror(errno));
	if (ev && sys_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLPRI | EPOLLET, tag(i, kind)))
		return fail(m->why, -errno, "epoll_ctl %s: %s", name, strerror(errno));
	return fd;
}

static int create_one(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	char name[16];
	unsigned int k;
	int ret;

	ctr_name(name, sizeof(name), i);
	if (sys_mkdirat(m->parent_fd, name))
		return fail(m->why, -errno, "mkdir %s/%s: %s", m->parent, name, strerror(errno));
	c->dir = sys_openat(m->parent_fd, name, O_RDONLY | O_DIRECTORY);
	if (c->dir < 0)
		return fail(m->why, -errno, "open %s/%s: %s", m->parent, name, strerror(errno));
	for (k = 0; k < NR_KNOBS; k++) {
		ret = sys_write_at(c->dir, m->knob_name[k], m->knob_value[k]);
		if (ret)
			return fail(m->why, ret, "%s/%s: %s", name, m->knob_name[k], strerror(-ret));
	}
	c->events = open_in(m, i, "cgroup.events", O_RDONLY, P_EVENTS, true);
	if (c->events < 0)
		return c->events;
	c->freeze = open_in(m, i, "cgroup.freeze", O_WRONLY, P_EVENTS, false);
	if (c->freeze < 0)
		return c->freeze;
	c->mem = open_in(m, i, "memory.events", O_RDONLY, P_MEM, true);
	return c->mem < 0 ? c->mem : 0;
}

static int remove_one(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	char name[16];

	sys_close(c->events);
	sys_close(c->freeze);
	sys_close(c->mem);
	sys_close(c->dir);
	c->events = c->freeze = c->mem = c->dir = -1;
	ctr_name(name, sizeof(name), i);
	if (sys_unlinkat_dir(m->parent_fd, name))
		return fail(m->why, -errno, "rmdir %s/%s: %s", m->parent, name, strerror(errno));
	return 0;
}

/* Write @value to every cgroup.freeze, then wait until @done. */
static int freeze_all(struct mgr *m, const char *value, bool (*done)(const struct mgr *))
{
	unsigned int i;
	int ret;

	for (i = 0; i < m->n; i++)
		if (sys_write(m->c[i].freeze, value, 1) < 0)
			return fail(m->why, -errno, "cgroup.freeze: %s", strerror(errno));
	m->watch_state = true;
	ret = run_until(m, done);
	m->watch_state = false;
	return ret;
}

static int kill_all(struct mgr *m)
{
	unsigned int i;
	int ret;

	for (i = 0; i < m->n; i++) {
		m->c[i].populated = true;	/* every one runs a process */
		ret = sys_write_at(m->c[i].dir, "cgroup.kill", "1");
		if (ret)
			return fail(m->why, ret, "cgroup.kill: %s", strerror(-ret));
	}
	m->nr_populated = m->n;
	m->watch_state = true;
	ret = run_until(m, all_empty);
	m->watch_state = false;
	return ret;
}


int plain_phase(struct mgr *m, enum mgr_phase ph)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->n && !ret; i++) {
		if (ph == PH_CREATE)
			ret = create_one(m, i);
		else if (ph == PH_START)
			ret = spawn_one(m, i, false);
		else if (ph == PH_REMOVE)
			ret = remove_one(m, i);
	}
	/*
	 * The attaches back to back, as the ring's batch runs them: each
	 * cgroup.procs write takes cgroup_threadgroup_rwsem for writing,
	 * whose RCU grace period consecutive writers share.
	 */
	for (i = 0; ph == PH_START && i < m->n && !ret; i++)
		ret = attach_one(m, i);
	if (ret)
		return ret;
	switch (ph) {
	case PH_FREEZE:
		return freeze_all(m, "1", all_frozen);
	case PH_THAW:
		return freeze_all(m, "0", none_frozen);
	case PH_STEADY:
		return mgr_steady(m, run_until);
	case PH_KILL:
		return kill_all(m);
	default:
		return 0;
	}
}
