// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-manager, ring path: one zsync ring, one event loop.  Each
 * phase queues one SQE per container (or four: the knobs) and the loop
 * submits them and reaps the CQEs in the same ENTER, so a phase costs a
 * handful of ENTERs however many containers there are.  Long-lived
 * watches ride on the same ring: a PIDFD_WAIT per process (exits, with
 * their status; SIGCHLD is ignored while this path runs, so the kernel
 * reaps and no waitid is needed) and a POLL_ADD (POLLPRI) per
 * memory.events, read with a ring READ when it fires (OOM kills).
 *
 * What stays a syscall: mkdir and rmdir (the module does not do them,
 * see Documentation/cgroup-ns.rst), clone3, and the SIGKILL that
 * injects a crash in the steady phase.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mgr.h"

#define RING_ENTRIES	2048

/* What a CQE completes: user_data is (container << 4) | kind. */
enum kind {
	K_OPEN_DIR, K_OPEN_MEM, K_OPEN_EVENTS, K_OPEN_FREEZE, K_SET, K_MEMPOLL,
	K_MEMREAD, K_ATTACH, K_PIDWAIT, K_FREEZE, K_THAW, K_KILL, K_CLOSE, K_POLLREM,
};

/* What create opens under each container's directory, as the plain path does. */
enum { P_DIR, P_MEM, P_EVENTS, P_FREEZE, NR_PATHS };
static const char *const path_file[NR_PATHS] = {
	[P_MEM] = "memory.events", [P_EVENTS] = "cgroup.events", [P_FREEZE] = "cgroup.freeze",
};

static struct zk_ring ring;
static char (*paths)[NR_PATHS][48];	/* per container: "c0001", "c0001/memory.events", ... */

int ring_setup(struct mgr *m)
{
	unsigned int i;
	int ret = bench_zsync_init(&ring, RING_ENTRIES, m->why);

	if (ret)
		return ret;
	paths = calloc(m->n, sizeof(*paths));
	if (!paths)
		return fail(m->why, -ENOMEM, "out of memory");
	for (i = 0; i < m->n; i++) {
		char name[sizeof(paths[i][P_DIR])];
		unsigned int p;

		ctr_name(name, sizeof(name), i);
		memcpy(paths[i][P_DIR], name, sizeof(name));
		for (p = P_MEM; p < NR_PATHS; p++)
			snprintf(paths[i][p], sizeof(paths[i][p]), "%.16s/%s", name, path_file[p]);
	}
	return 0;
}

void ring_teardown(void)
{
	zk_ring_exit(&ring);
	free(paths);
}

/* An SQE for container @i's @kind; a full SQ is submitted first. */
static struct zsync_sqe *sqe_for(unsigned int i, enum kind kind, bool phase_op,
				 struct mgr *m)
{
	struct zsync_sqe *sqe = zk_get_sqe(&ring);

	if (!sqe) {
		double t0 = bench_now_ns();

		zk_submit(&ring);
		mgr_wait_ns += bench_now_ns() - t0;
		sqe = zk_get_sqe(&ring);
	}
	if (!sqe) {
		fprintf(stderr, "zsync-bench-manager: SQ still full after a submit\n");
		exit(EXIT_FAILED);
	}
	memset(sqe, 0, sizeof(*sqe));
	zk_sqe_set_data64(sqe, ((uint64_t)i << 4) | kind);
	m->pending += phase_op;
	return sqe;
}

static void arm_mem(struct mgr *m, unsigned int i)
{
	zk_prep_poll_add(sqe_for(i, K_MEMPOLL, false, m), m->c[i].mem, POLLPRI, 0);
}

static void close_fd(struct mgr *m, unsigned int i, int fd)
{
	zk_prep_close(sqe_for(i, K_CLOSE, true, m), fd);
}

/* Start container @i's process: clone3, then ATTACH and PIDFD_WAIT queued. */
static int start_one(struct mgr *m, unsigned int i, bool oom)
{
	struct ctr *c = &m->c[i];
	pid_t pid;
	int pidfd = ctr_spawn(m, i, oom, &pid);

	if (pidfd < 0)
		return fail(m->why, pidfd, "clone3: %s", strerror(-pidfd));
	mgr_took_process(m, c, pidfd, oom);
	zk_prep_cgroup_attach_pidfd(sqe_for(i, K_ATTACH, true, m), c->dir, pidfd);
	zk_prep_pidfd_wait(sqe_for(i, K_PIDWAIT, false, m), pidfd);
	return 0;
}


/* A process exited: close its pidfd; in the steady phase restart it. */
static int on_exit_cqe(struct mgr *m, unsigned int i)
{
	struct ctr *c = &m->c[i];
	bool was_crash = c->doomed;

	close_fd(m, i, c->pidfd);
	c->pidfd = -1;
	mgr_note_exit(m, c);
	return mgr_restart(m, i, was_crash, start_one);
}

static void on_mem(struct mgr *m, unsigned int i, enum kind kind, int res)
{
	struct ctr *c = &m->c[i];

	if (kind == K_MEMREAD && res > 0) {
		c->membuf[res < (int)sizeof(c->membuf) ? res : (int)sizeof(c->membuf) - 1] = '\0';
		mgr_note_oom_kills(m, c, c->membuf);
	}
	if (m->closing || res < 0) {
		c->mem_armed = false;
		m->nr_mem_armed--;
	} else if (kind == K_MEMPOLL) {
		zk_prep_read(sqe_for(i, K_MEMREAD, false, m), c->mem, c->membuf,
			     sizeof(c->membuf) - 1, 0);
	} else {
		arm_mem(m, i);
	}
}

static int on_cqe(struct mgr *m, const struct zsync_cqe *cqe)
{
	unsigned int i = (unsigned int)(cqe->user_data >> 4);
	enum kind kind = (enum kind)(cqe->user_data & 15);
	struct ctr *c = &m->c[i];
	int res = cqe->res;

	if (kind == K_MEMPOLL || kind == K_MEMREAD) {
		on_mem(m, i, kind, res);
		return 0;
	}
	if (kind == K_PIDWAIT)
		return on_exit_cqe(m, i);	/* -ECHILD too: it is gone */
	m->pending--;
	if (res < 0 && kind != K_POLLREM)
		return fail(m->why, res, "container %u: op %d: %s", i, kind, strerror(-res));
	switch (kind) {
	case K_OPEN_DIR:
		c->dir = res;
		break;
	case K_OPEN_MEM:
		c->mem = res;
		break;
	case K_OPEN_EVENTS:
		c->events = res;
		break;
	case K_OPEN_FREEZE:
		c->freeze = res;
		break;
	case K_FREEZE:
		c->frozen = true;
		m->nr_frozen++;
		break;
	case K_THAW:
		c->frozen = false;
		m->nr_frozen--;
		break;
	case K_KILL:
		c->populated = false;
		m->nr_populated--;
		break;
	case K_ATTACH:
		c->attached = true;
		if (!c->populated)
			m->nr_populated++;
		c->populated = true;
		break;
	default:
		break;
	}
	return 0;
}

/* The event loop: submit what is queued, wait for a CQE, handle them all. */
static int run_until(struct mgr *m, bool (*done)(const struct mgr *))
{
	struct zsync_cqe *cqe;
	unsigned int head, seen;
	int ret;

	while (!done(m)) {
		double t0 = bench_now_ns();

		ret = zk_submit_and_wait(&ring, 1);
		mgr_wait_ns += bench_now_ns() - t0;
		if (ret < 0 && ret != -EINTR && ret != -EBUSY)
			return fail(m->why, ret, "ENTER: %s", strerror(-ret));
		seen = 0;
		ret = 0;
		zk_for_each_cqe(&ring, head, cqe) {
			if (!ret)
				ret = on_cqe(m, cqe);
			seen++;
		}
		zk_cq_advance(&ring, seen);
		if (ret)
			return ret;
	}
	return 0;
}

static bool no_pending(const struct mgr *m)
{
	return !m->pending;
}

static bool all_gone(const struct mgr *m)
{
	return !m->pending && !m->nr_running;
}

static bool watches_ended(const struct mgr *m)
{
	return !m->pending && !m->nr_mem_armed;
}

static int ring_create(struct mgr *m)
{
	unsigned int i, k;
	int ret;

	for (i = 0; i < m->n; i++) {
		if (sys_mkdirat(m->parent_fd, paths[i][0]))
			return fail(m->why, -errno, "mkdir %s/%s: %s", m->parent,
				    paths[i][0], strerror(errno));
		zk_prep_openat(sqe_for(i, K_OPEN_DIR, true, m), m->parent_fd, paths[i][P_DIR],
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		zk_prep_openat(sqe_for(i, K_OPEN_MEM, true, m), m->parent_fd, paths[i][P_MEM],
			       O_RDONLY | O_CLOEXEC, 0);
		zk_prep_openat(sqe_for(i, K_OPEN_EVENTS, true, m), m->parent_fd,
			       paths[i][P_EVENTS], O_RDONLY | O_CLOEXEC, 0);
		zk_prep_openat(sqe_for(i, K_OPEN_FREEZE, true, m), m->parent_fd,
			       paths[i][P_FREEZE], O_WRONLY | O_CLOEXEC, 0);
	}
	ret = run_until(m, no_pending);
	for (i = 0; !ret && i < m->n; i++) {
		for (k = 0; k < NR_KNOBS; k++)
			zk_prep_cgroup_set_str(sqe_for(i, K_SET, true, m), m->c[i].dir,
					       m->knob_name[k], m->knob_value[k]);
		m->c[i].mem_armed = true;
		m->nr_mem_armed++;
		arm_mem(m, i);
	}
	return ret ? ret : run_until(m, no_pending);
}

static int ring_remove(struct mgr *m)
{
	unsigned int i;
	int ret;

	m->closing = true;
	for (i = 0; i < m->n; i++)
		if (m->c[i].mem_armed)
			zk_prep_poll_remove(sqe_for(i, K_POLLREM, true, m),
					    ((uint64_t)i << 4) | K_MEMPOLL);
	ret = run_until(m, watches_ended);
	for (i = 0; !ret && i < m->n; i++) {
		close_fd(m, i, m->c[i].dir);
		close_fd(m, i, m->c[i].mem);
		close_fd(m, i, m->c[i].events);
		close_fd(m, i, m->c[i].freeze);
		m->c[i].dir = m->c[i].mem = m->c[i].events = m->c[i].freeze = -1;
		if (sys_unlinkat_dir(m->parent_fd, paths[i][0]))
			return fail(m->why, -errno, "rmdir %s/%s: %s", m->parent,
				    paths[i][0], strerror(errno));
	}
	return ret ? ret : run_until(m, no_pending);
}

/*
 * Queue @op on every container and wait for all of them.  FREEZE and THAW
 * use the cgroup.events and cgroup.freeze that create opened, as the plain
 * path does (ZSYNC_CGROUP_FILES); KILL opens its files per op.
 */
static int each_and_wait(struct mgr *m, enum kind kind, int op,
			 bool (*done)(const struct mgr *))
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		struct zsync_sqe *sqe = sqe_for(i, kind, true, m);

		if (op == ZSYNC_OP_CGROUP_KILL)
			zk_prep_cgroup_op(sqe, op, m->c[i].dir);
		else
			zk_prep_cgroup_op_files(sqe, op, m->c[i].events, m->c[i].freeze);
	}
	return run_until(m, done);
}


/*
 * --ring-kill set: cgroup.kill written with CGROUP_SET (done in the
 * ENTER, no wait in the module), and "empty" known from the PIDFD_WAITs:
 * a container's one process has left its cgroup before its pidfd polls
 * readable (cgroup_exit() comes before exit_notify()).  Only for a
 * manager that knows every process of a container.
 */
static int kill_by_set(struct mgr *m)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		zk_prep_cgroup_set_str(sqe_for(i, K_SET, true, m), m->c[i].dir,
				       "cgroup.kill", "1");
	m->nr_populated = 0;
	return run_until(m, all_gone);
}

int ring_phase(struct mgr *m, enum mgr_phase ph)
{
	unsigned int i;
	int ret;

	switch (ph) {
	case PH_CREATE:
		m->closing = false;
		return ring_create(m);
	case PH_START:
		for (i = 0, ret = 0; i < m->n && !ret; i++)
			ret = start_one(m, i, false);
		return ret ? ret : run_until(m, no_pending);
	case PH_FREEZE:
		return each_and_wait(m, K_FREEZE, ZSYNC_OP_CGROUP_FREEZE, no_pending);
	case PH_THAW:
		return each_and_wait(m, K_THAW, ZSYNC_OP_CGROUP_THAW, no_pending);
	case PH_STEADY:
		return mgr_steady(m, run_until);
	case PH_KILL:
		return m->kill_by_set ? kill_by_set(m) :
		       each_and_wait(m, K_KILL, ZSYNC_OP_CGROUP_KILL, all_gone);
	case PH_REMOVE:
		return ring_remove(m);
	default:
		return 0;
	}
}
