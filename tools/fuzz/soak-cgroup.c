// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-soak: cgroup cycles, one at a time per worker.
 *
 *   begin    mkdir RUN/wID.N (RUN: the run's cgroup, see cgroup_setup()),
 *            fork a sleeper
 *   freeze   one chain: POLL_ADD on a pipe the sleeper closes once it has
 *            dropped what it inherited -> CGROUP_SET memory.max, pids.max
 *            (when RUN enables those controllers) -> CGROUP_ATTACH (pidfd)
 *            -> CGROUP_FREEZE, each waiting op guarded by a LINK_TIMEOUT;
 *            cgroup.events must then say frozen 1
 *   thaw     CGROUP_THAW + LINK_TIMEOUT; then frozen 0
 *   kill     CGROUP_WAIT (populated, multishot), CGROUP_KILL + LINK_TIMEOUT,
 *            PIDFD_WAIT + LINK_TIMEOUT: the sleeper died of SIGKILL, the
 *            cgroup is empty
 *   unwait   the CGROUP_WAIT reports populated 0, then is cancelled
 *   finish   reap the sleeper, rmdir
 *
 * A cycle that a ring's end interrupts (ops cancelled or abandoned) is
 * cleaned up with plain syscalls: cgroup.kill, wait for populated 0
 * (poll), reap, rmdir.  Ops of an abandoned cycle that still complete
 * carry its number in their arg and are ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "soak.h"

#ifndef SYS_close_range
#define SYS_close_range	436
#endif

/* The limits a runtime would set; CGROUP_SET answers with their length. */
static const char *const knobs[][2] = {
	{ NULL, NULL },
	{ "memory.max", "67108864" },
	{ "pids.max", "16" },
};

static const char *const phase_names[] = {
	[CG_IDLE] = "idle", [CG_FREEZE] = "poll+attach+freeze", [CG_THAW] = "thaw",
	[CG_KILL] = "kill", [CG_UNWAIT] = "wait for empty",
};

void cg_init(struct worker *w)
{
	struct cg_state *cg = &w->cg;

	memset(cg, 0, sizeof(*cg));
	cg->dfd = -1;
	cg->pidfd = -1;
	cg->gate = -1;
	cg->next_at = now_ns() + rng_range(&w->rng, 200, 1500) * NSEC_PER_MSEC;
}

/*
 * The process the cycle moves, freezes and kills.  It drops its copy of
 * the ring and of every other fd before it may be frozen: an inherited
 * mapping would keep the worker's ring alive after the worker closes it,
 * an inherited socket would keep a connection open.  Closing the pipe's
 * write end with the rest tells the worker it is done.
 */
static void __attribute__((noreturn)) cg_sleeper(struct worker *w)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != w->pid)
		_exit(0);
	zk_ring_exit(&w->ring.zr);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	for (;;)
		pause();
}

static void cg_set_phase(struct worker *w, enum cg_phase ph)
{
	struct cg_state *cg = &w->cg;

	cg->ph = ph;
	cg->submitted = false;
	cg->phase_deadline = now_ns() + 2 * w->cfg->settle_ns;
}

/* Reap the sleeper, waiting on its pidfd up to settle_ns. */
static void cg_reap(struct worker *w)
{
	struct cg_state *cg = &w->cg;
	struct pollfd p = { .fd = cg->pidfd, .events = POLLIN };
	char desc[512];

	if (cg->pid <= 0)
		return;
	if (cg->pidfd >= 0 &&
	    poll(&p, 1, (int)(w->cfg->settle_ns / NSEC_PER_MSEC)) != 1) {
		proc_describe(cg->pid, desc, sizeof(desc));
		soak_fail(w, C_F_CGROUP, "sleeper %d did not exit after SIGKILL: %s",
			  (int)cg->pid, desc);
		return;
	}
	if (waitpid(cg->pid, NULL, 0) < 0)
		soak_fail(w, C_F_CGROUP, "waitpid(sleeper %d): %s", (int)cg->pid,
			  errname(errno));
}

static void cg_reset(struct worker *w)
{
	struct cg_state *cg = &w->cg;

	if (cg->pidfd >= 0)
		close(cg->pidfd);
	if (cg->dfd >= 0)
		close(cg->dfd);
	if (cg->gate >= 0)
		close(cg->gate);
	cg->pidfd = cg->dfd = cg->gate = -1;
	cg->pid = 0;
	cg->path[0] = '\0';
	cg->pending = 0;
	cg->failed = cg->wait_armed = cg->wait_pop = cg->wait_empty = false;
	cg->cancel_live = false;
	cg->ph = CG_IDLE;
	cg->next_at = now_ns() + rng_range(&w->rng, 50, 500) * NSEC_PER_MSEC;
}

/* An interrupted or failed cycle: undo it with syscalls. */
static void cg_abort(struct worker *w)
{
	struct cg_state *cg = &w->cg;
	int ret;

	if (cg->pid > 0)
		kill(cg->pid, SIGKILL);
	if (cg->path[0]) {
		ret = cg_destroy(cg->path, w->cfg->settle_ns);
		if (ret < 0)
			soak_fail(w, C_F_CGROUP, "removing %s after an interrupted cycle: %s",
				  cg->path, errname(ret));
	}
	cg_reap(w);
	if (w->cfg->verbose)
		soak_info(w, "cgroup cycle %u interrupted in phase %s", cg->n,
			  phase_names[cg->ph]);
	cg_reset(w);
}

static int cg_begin(struct worker *w)
{
	struct cg_state *cg = &w->cg;
	int p[2];

	cg->n++;
	snprintf(cg->path, sizeof(cg->path), "%s/w%d.%u", w->cfg->cg_base, w->id, cg->n);
	if (mkdir(cg->path, 0755) < 0) {
		soak_fail(w, C_F_CGROUP, "mkdir %s: %s", cg->path, errname(errno));
		cg->path[0] = '\0';
		return -1;
	}
	cg->dfd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dfd < 0) {
		soak_fail(w, C_F_CGROUP, "open %s: %s", cg->path, errname(errno));
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		soak_fail(w, C_F_CGROUP, "pipe2: %s", errname(errno));
		return -1;
	}
	cg->gate = p[0];
	cg->pid = fork();
	if (cg->pid < 0) {
		soak_fail(w, C_F_CGROUP, "fork: %s", errname(errno));
		cg->pid = 0;
		close(p[1]);
		return -1;
	}
	if (cg->pid == 0)
		cg_sleeper(w);
	close(p[1]);
	cg->pidfd = pidfd_open_pid(cg->pid);
	if (cg->pidfd < 0) {
		soak_fail(w, C_F_CGROUP, "pidfd_open(%d): %s", (int)cg->pid, errname(cg->pidfd));
		cg->pidfd = -1;
		return -1;
	}
	return 0;
}

static void cg_done(struct worker *w, struct sop *op, const struct zsync_cqe *cqe,
		    bool terminal);

/* Each op's arg: the cycle number, and in bits 32-39 which knob it sets. */
static struct zsync_sqe *cg_sqe_tag(struct worker *w, unsigned int knob)
{
	return sring_prep(w, cg_done, NULL, w->cg.n | (uint64_t)knob << 32, NULL);
}

static struct zsync_sqe *cg_sqe(struct worker *w)
{
	return cg_sqe_tag(w, 0);
}

/* A guarded op: OP [LINK] -> LINK_TIMEOUT of settle_ns. */
static struct zsync_sqe *cg_guarded(struct worker *w, struct zsync_sqe *sqe)
{
	struct zsync_sqe *lt;

	zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
	lt = cg_sqe(w);
	zk_prep_link_timeout(lt, &w->cg.lt, 0);
	return lt;
}

/* Prepare the current phase's SQEs if the ring has room for all of them. */
static void cg_submit(struct worker *w)
{
	struct cg_state *cg = &w->cg;
	static const unsigned int need[] = {
		[CG_FREEZE] = 7, [CG_THAW] = 2, [CG_KILL] = 5, [CG_UNWAIT] = 1,
	};
	struct zsync_sqe *sqe;
	struct sop *op;
	unsigned int k;

	if (cg->ph == CG_UNWAIT && (!cg->wait_empty || cg->cancel_live || !cg->wait_armed))
		return;
	if (!sring_room(w, need[cg->ph]))
		return;
	cg->lt = ns_to_zts(w->cfg->settle_ns);
	switch (cg->ph) {
	case CG_FREEZE:
		/* A LINK_TIMEOUT with LINK: the chain goes on after its target. */
		sqe = cg_sqe(w);
		zk_prep_poll_add(sqe, cg->gate, EPOLLIN, 0);
		zk_sqe_set_flags(cg_guarded(w, sqe), ZSYNC_SQE_LINK);
		cg->pending = 2;
		for (k = 1; w->cfg->cg_limits && k < 3; k++, cg->pending++) {
			sqe = cg_sqe_tag(w, k);
			zk_prep_cgroup_set_str(sqe, cg->dfd, knobs[k][0], knobs[k][1]);
			zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
		}
		sqe = cg_sqe(w);
		zk_prep_cgroup_attach_pidfd(sqe, cg->dfd, cg->pidfd);
		zk_sqe_set_flags(sqe, ZSYNC_SQE_LINK);
		sqe = cg_sqe(w);
		zk_prep_cgroup_freeze(sqe, cg->dfd);
		cg_guarded(w, sqe);
		cg->pending += 3;
		break;
	case CG_THAW:
		sqe = cg_sqe(w);
		zk_prep_cgroup_thaw(sqe, cg->dfd);
		cg_guarded(w, sqe);
		cg->pending = 2;
		break;
	case CG_KILL:
		sqe = sring_prep(w, cg_done, NULL, cg->n, &op);
		zk_prep_cgroup_wait(sqe, cg->dfd, ZSYNC_CGROUP_POPULATED);
		cg->wait_ud = op->ud;
		cg->wait_armed = true;
		sqe = cg_sqe(w);
		zk_prep_cgroup_kill(sqe, cg->dfd);
		cg_guarded(w, sqe);
		sqe = cg_sqe(w);
		zk_prep_pidfd_wait(sqe, cg->pidfd);
		cg_guarded(w, sqe);
		cg->pending = 4;
		break;
	case CG_UNWAIT:
		zk_prep_cancel(cg_sqe(w), cg->wait_ud, 0);
		cg->cancel_live = true;
		break;
	case CG_IDLE:
		return;
	}
	cg->submitted = true;
}

/* What cgroup.events must say once a phase's CQEs are in. */
static void cg_expect_state(struct worker *w, int mask, int want, const char *after)
{
	struct cg_state *cg = &w->cg;
	int state = cg_read_state(cg->path);

	if (state < 0 || (state & mask) != want) {
		soak_fail(w, C_F_CGROUP, "%s after %s: cgroup.events says %s%s (%s)", cg->path,
			  after, state < 0 ? "nothing" : state & ZSYNC_CGROUP_POPULATED ?
			  "populated" : "empty", state >= 0 && state & ZSYNC_CGROUP_FROZEN ?
			  ", frozen" : "", state < 0 ? errname(state) : "unexpected");
		cg->failed = true;
	}
}

static void cg_finish(struct worker *w)
{
	struct cg_state *cg = &w->cg;
	int status = 0;
	pid_t got = waitpid(cg->pid, &status, WNOHANG);

	/* PIDFD_WAIT reported the exit: the zombie must be there to reap. */
	if (got != cg->pid)
		soak_fail(w, C_F_CGROUP, "sleeper %d not reapable after PIDFD_WAIT: waitpid %d (%s)",
			  (int)cg->pid, (int)got, got < 0 ? errname(errno) : "still running");
	else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		soak_fail(w, C_F_CGROUP, "sleeper %d: wait status %#x, expected SIGKILL",
			  (int)cg->pid, status);
	if (got == cg->pid)
		cg->pid = 0;
	if (rmdir(cg->path) < 0) {
		soak_fail(w, C_F_CGROUP, "rmdir %s after CGROUP_KILL: %s", cg->path,
			  errname(errno));
		cg_abort(w);
		return;
	}
	cg->path[0] = '\0';
	ctr_add(w->slot, C_CG_CYCLES, 1);
	if (w->cfg->verbose)
		soak_info(w, "cgroup cycle %u done", cg->n);
	cg_reset(w);
}

/* All CQEs of a phase are in: check, then go on (or clean up). */
static void cg_advance(struct worker *w)
{
	struct cg_state *cg = &w->cg;

	if (cg->pending || (!cg->submitted && cg->ph != CG_UNWAIT))
		return;
	if (cg->failed || w->draining) {
		cg_abort(w);
		return;
	}
	switch (cg->ph) {
	case CG_FREEZE:
		cg_expect_state(w, ZSYNC_CGROUP_POPULATED | ZSYNC_CGROUP_FROZEN,
				ZSYNC_CGROUP_POPULATED | ZSYNC_CGROUP_FROZEN, "CGROUP_FREEZE");
		cg_set_phase(w, CG_THAW);
		break;
	case CG_THAW:
		cg_expect_state(w, ZSYNC_CGROUP_POPULATED | ZSYNC_CGROUP_FROZEN,
				ZSYNC_CGROUP_POPULATED, "CGROUP_THAW");
		cg_set_phase(w, CG_KILL);
		break;
	case CG_KILL:
		cg_expect_state(w, ZSYNC_CGROUP_POPULATED, 0, "CGROUP_KILL");
		cg_set_phase(w, CG_UNWAIT);
		/* fall through - the wait may have ended already */
	case CG_UNWAIT:
		if (!cg->wait_armed && !cg->failed) {
			cg_finish(w);
			return;
		}
		break;
	case CG_IDLE:
		return;
	}
	if (cg->failed)
		cg_abort(w);
}

/* Check one terminal CQE of the phase's fixed ops. */
static void cg_check(struct worker *w, struct sop *op, const struct zsync_cqe *cqe)
{
	struct cg_state *cg = &w->cg;
	bool ok;

	if (cqe->res == -ECANCELED && (w->draining || cg->failed)) {
		cg->failed = true;	/* a drain, or a broken chain: quietly */
		return;
	}
	switch (op->opcode) {
	case ZSYNC_OP_LINK_TIMEOUT:
		ok = cqe->res == -ECANCELED;	/* its target completed first */
		break;
	case ZSYNC_OP_PIDFD_WAIT:
		ok = cqe->res >= 0 && WIFSIGNALED(cqe->res) && WTERMSIG(cqe->res) == SIGKILL;
		break;
	case ZSYNC_OP_POLL_ADD:
		ok = cqe->res > 0;	/* EPOLLHUP: the sleeper closed its end */
		break;
	case ZSYNC_OP_CGROUP_SET:
		ok = (op->arg >> 32) % 3 && cqe->res == (int)strlen(knobs[(op->arg >> 32) % 3][1]);
		break;
	default:
		ok = cqe->res == 0;
		break;
	}
	if (ok)
		return;
	soak_bad_res(w, C_F_CGROUP, op, cqe, op->opcode == ZSYNC_OP_LINK_TIMEOUT ?
		     "the guarded cgroup op did not complete within the settle time" :
		     phase_names[cg->ph]);
	cg->failed = true;
}

static void cg_wait_cqe(struct worker *w, struct sop *op, const struct zsync_cqe *cqe)
{
	struct cg_state *cg = &w->cg;

	if (cqe->res < 0) {
		soak_bad_res(w, C_F_CGROUP, op, cqe, "CGROUP_WAIT state CQE");
		return;
	}
	if (!(cqe->res & ZSYNC_CGROUP_POPULATED)) {
		cg->wait_empty = true;
		if (!cg->wait_pop)
			soak_bad_res(w, C_F_CGROUP, op, cqe,
				     "first CGROUP_WAIT CQE says empty, with the sleeper inside");
	}
	cg->wait_pop = true;
}

static void cg_done(struct worker *w, struct sop *op, const struct zsync_cqe *cqe,
		    bool terminal)
{
	struct cg_state *cg = &w->cg;

	if ((uint32_t)op->arg != cg->n || cg->ph == CG_IDLE)
		return;		/* an op of an aborted cycle */
	if (!terminal) {
		cg_wait_cqe(w, op, cqe);
		return;
	}
	switch (op->opcode) {
	case ZSYNC_OP_CGROUP_WAIT:
		cg->wait_armed = false;
		if (cqe->res != -ECANCELED)
			soak_bad_res(w, C_F_CGROUP, op, cqe, "CGROUP_WAIT ended by itself");
		break;
	case ZSYNC_OP_CANCEL:
		cg->cancel_live = false;
		/* -EALREADY: the wait was posting a change; cancel again. */
		if (cqe->res == -EALREADY && cg->wait_armed)
			cg->submitted = false;
		else if (cqe->res != 1 && cqe->res != -ENOENT && cqe->res != -EALREADY)
			soak_bad_res(w, C_F_CGROUP, op, cqe, "CANCEL of the CGROUP_WAIT");
		break;
	default:
		cg_check(w, op, cqe);
		cg->pending--;
		break;
	}
	cg_advance(w);
}

void cg_tick(struct worker *w, int64_t now)
{
	struct cg_state *cg = &w->cg;

	if (!w->cfg->cgroup_ok || !w->ring.open || w->draining)
		return;
	if (cg->ph == CG_IDLE) {
		if (now < cg->next_at)
			return;
		if (cg_begin(w) < 0) {
			cg_abort(w);
			return;
		}
		cg_set_phase(w, CG_FREEZE);
	}
	if (now > cg->phase_deadline) {
		soak_fail(w, C_F_CGROUP, "%s: phase %s stuck for %lld s (%u CQEs missing, wait %s)",
			  cg->path, phase_names[cg->ph],
			  (long long)(2 * w->cfg->settle_ns / NSEC_PER_SEC), cg->pending,
			  cg->wait_armed ? (cg->wait_empty ? "saw empty" : "armed") : "ended");
		cg_abort(w);
		return;
	}
	if (!cg->submitted)
		cg_submit(w);
}

/* The ring is gone (drained or abandoned): an unfinished cycle is undone. */
void cg_gen_end(struct worker *w)
{
	if (w->cg.ph != CG_IDLE || w->cg.path[0])
		cg_abort(w);
}
