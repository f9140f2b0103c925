// SPDX-License-Identifier: MIT
/*
 * The cgroup watch stream and the pidfd exit wait (see cglife.c for the
 * two paths).
 *
 * A watch keeps cgroup.events, memory.events and pids.events open.  Each
 * zk_cg_watch_next() reads all three (a read re-arms the file's POLLPRI),
 * reports the first value that differs from the last one reported, and
 * otherwise polls the three for POLLPRI at once.  The polls are POLL_ADDs
 * on the zsync ring when the cgroup family may run (CGROUP_WAIT covers only
 * two of the five values, and a future completes once while CGROUP_WAIT
 * is multishot), poll(2) or io_uring otherwise.
 *
 * The pidfd wait is PIDFD_WAIT on the ring; the fallback polls the pidfd
 * (POLLIN once the process exited) and asks waitid(P_PIDFD, WNOWAIT), so
 * neither path reaps the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cg_internal.h"

#ifndef P_PIDFD
#define P_PIDFD	3
#endif

/* Which file holds which value, and under what key. */
static const struct {
	unsigned int file;
	const char *key;
} watch_keys[ZK_CG_EV_KINDS] = {
	[ZK_CG_EV_POPULATED] = { 0, "populated" },
	[ZK_CG_EV_FROZEN] = { 0, "frozen" },
	[ZK_CG_EV_OOM] = { 1, "oom" },
	[ZK_CG_EV_OOM_KILL] = { 1, "oom_kill" },
	[ZK_CG_EV_PIDS_MAX] = { 2, "max" },
};

static const char *const watch_files[ZK_CG_WATCH_FILES] = {
	"cgroup.events", "memory.events", "pids.events"
};

/* Read every file; @now gets each value (-1: its file is absent). */
static int watch_read(struct zk_cg_watch *w, int64_t now[ZK_CG_EV_KINDS])
{
	char buf[ZK_CG_WATCH_FILES][512];
	unsigned int i;
	int ret;

	for (i = 0; i < ZK_CG_WATCH_FILES; i++) {
		buf[i][0] = '\0';
		if (w->fds[i] < 0)
			continue;
		ret = zk_cg_read_file(w->fds[i], buf[i], sizeof(buf[i]));
		if (ret)
			return ret;
	}
	for (i = 0; i < ZK_CG_EV_KINDS; i++)
		now[i] = zk_cg_field(buf[watch_keys[i].file], watch_keys[i].key);
	return 0;
}

void zk_cg_watch_close(struct zk_cg_watch *w)
{
	unsigned int i;

	for (i = 0; i < ZK_CG_WATCH_FILES; i++) {
		if (w->fds[i] >= 0)
			close(w->fds[i]);
		w->fds[i] = -1;
	}
}

int zk_cg_watch_init(struct zk_io *io, struct zk_cg_watch *w, struct zk_cg *cg)
{
	unsigned int i;
	int ret;

	(void)io;
	memset(w, 0, sizeof(*w));
	w->cg = cg;
	for (i = 0; i < ZK_CG_WATCH_FILES; i++) {
		w->fds[i] = openat(cg->fd, watch_files[i], O_RDONLY | O_CLOEXEC);
		if (w->fds[i] < 0 && (i == 0 || errno != ENOENT)) {
			ret = -errno;
			goto fail;
		}
	}
	ret = watch_read(w, w->last);
	if (!ret)
		return 0;
fail:
	zk_cg_watch_close(w);
	return ret;
}

/* The first value that moved since it was last reported, into @ev. */
static bool watch_diff(struct zk_cg_watch *w, const int64_t now[ZK_CG_EV_KINDS],
		       struct zk_cg_event *ev)
{
	unsigned int i;

	for (i = 0; i < ZK_CG_EV_KINDS; i++) {
		if (now[i] == w->last[i])
			continue;
		w->last[i] = now[i];
		ev->kind = (enum zk_cg_event_kind)i;
		ev->value = now[i];
		return true;
	}
	return false;
}

/* Poll every open file for POLLPRI until one is ready or @deadline. */
static int watch_poll(struct zk_io *io, struct zk_cg_watch *w, bool ring,
		      int64_t deadline)
{
	struct zk_future f[ZK_CG_WATCH_FILES];
	struct zk_select_case c[ZK_CG_WATCH_FILES];
	unsigned int i, n = 0;
	int64_t left = deadline < 0 ? -1 : deadline - zk_mono_ns();
	int won;

	for (i = 0; i < ZK_CG_WATCH_FILES; i++) {
		struct zk_op *op;

		if (w->fds[i] < 0)
			continue;
		op = zk_cg_op(&f[n], ZK_OPC_POLL, w->fds[i]);
		op->flags = POLLPRI;
		op->sys_only = !ring;
		zk_op_start(io, &f[n]);
		c[n] = (struct zk_select_case){ .kind = ZK_CASE_FUTURE, .f = &f[n] };
		n++;
	}
	won = zk_select(io, c, n, deadline < 0 ? -1 : (left > 0 ? left : 0));
	for (i = 0; i < n; i++)
		zk_cancel(io, &f[i]);
	if (won == -ETIME)
		return -ETIMEDOUT;
	if (won >= 0 && zk_future_result(&f[won]) < 0)
		return (int)zk_future_result(&f[won]);
	return won < 0 ? won : 0;
}

int zk_cg_watch_next(struct zk_io *io, struct zk_cg_watch *w,
		     struct zk_cg_event *ev, int64_t timeout_ns)
{
	int64_t deadline = zk_cg_deadline(timeout_ns), now[ZK_CG_EV_KINDS];
	bool ring = zk_cg_waits_on_ring(io, w->cg);
	int ret;

	zk_cg_note(w->cg, ring ? ZK_CG_PATH_RING : ZK_CG_PATH_FALLBACK);
	for (;;) {
		ret = watch_read(w, now);
		if (ret)
			return ret;
		if (watch_diff(w, now, ev))
			return 0;
		ret = watch_poll(io, w, ring, deadline);
		if (ret)
			return ret;
	}
}

/* ---- pidfd exit ------------------------------------------------------ */

/* A waitid() answer as the waitpid(2) status the ring reports. */
static int wait_status(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_KILLED:
		return si->si_status & 0x7f;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	default:
		return -ECHILD;
	}
}

static int pidfd_wait_sys(struct zk_io *io, int pidfd, int64_t deadline)
{
	siginfo_t si;
	int ret = zk_cg_poll_until(io, pidfd, POLLIN, false, deadline);

	if (ret < 0)
		return ret;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOWAIT | WNOHANG) < 0)
		return -errno;
	return wait_status(&si);
}

int zk_cg_pidfd_wait(struct zk_io *io, struct zk_cg *cg, int pidfd,
		     int64_t timeout_ns)
{
	int64_t deadline = zk_cg_deadline(timeout_ns);
	struct zk_future f;
	int ret;

	if (zk_cg_ring_ok(io, cg, ZK_OPC_PIDFD_WAIT)) {
		zk_cg_op(&f, ZK_OPC_PIDFD_WAIT, pidfd);
		zk_op_start(io, &f);
		ret = (int)zk_cg_await_until(io, &f, deadline);
		if (!zk_cg_refused(ret)) {
			zk_cg_note(cg, ZK_CG_PATH_RING);
			return ret;
		}
	}
	zk_cg_note(cg, ZK_CG_PATH_FALLBACK);
	return pidfd_wait_sys(io, pidfd, deadline);
}
