// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz: one episode, run in a child process of its own.
 *
 * An accounting episode gives each worker thread its own ring and tracks
 * every SQE it writes by sequence number (in user_data):
 *   - queued: written, not yet consumed by the kernel (SQ head);
 *   - submitted: consumed, so exactly one terminal CQE must follow;
 *   - done: its terminal CQE (no ZSYNC_CQE_F_MORE) arrived.
 * A CQE for a sequence that is not "submitted" is a violation: a double
 * completion, a CQE for an SQE never consumed, a user_data never written.
 * At the end each thread cancels everything and waits for every submitted
 * request's terminal CQE; MSG_RING CQEs each ring received must equal the
 * MSG_RING sends that reported success.  Meanwhile a chaos thread swaps
 * and closes the fds ops use, signals the sources and interrupts waits.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define FZ_ZSYNC_GID	990	/* group of /dev/zsync in the test VM */

static pthread_barrier_t fz_barrier;

static int grow_reqs(struct fz_thread *t)
{
	uint64_t cap = t->cap_reqs ? t->cap_reqs * 2 : 4096;
	struct fz_req *n = realloc(t->reqs, cap * sizeof(*n));

	if (!n)
		return -ENOMEM;
	memset(n + t->cap_reqs, 0, (cap - t->cap_reqs) * sizeof(*n));
	t->reqs = n;
	t->cap_reqs = cap;
	return 0;
}

/* Mark what the kernel consumed (the SQ head passed it) as submitted. */
static void account_consumed(struct fz_thread *t)
{
	struct fz_ring *r = &t->ring;
	uint32_t head = atomic_load_explicit(r->sq_head, memory_order_acquire);

	if (head - t->consumed > r->local_tail - t->consumed) {
		fz_violation("t%d: SQ head %u moved past the tail %u (consumed %u)",
			     t->id, head, r->local_tail, t->consumed);
		return;
	}
	for (; t->consumed != head; t->consumed++) {
		struct fz_req *q = &t->reqs[t->slot_seq[t->consumed & r->sq_mask]];

		q->state = FZ_REQ_SUBMITTED;
		t->outstanding++;
		atomic_fetch_add(&fz_stats->op_sqes[q->op], 1);
	}
}

static bool res_exceeds_len(const struct fz_req *q, int32_t res)
{
	if (q->trunc)
		return false;	/* RECV with MSG_TRUNC: the datagram's real size */
	switch (q->op) {
	case ZSYNC_OP_READ: case ZSYNC_OP_WRITE: case ZSYNC_OP_SEND: case ZSYNC_OP_RECV:
		return res > 0 && (uint32_t)res > q->len;
	}
	return false;
}

static void account_msg(struct fz_thread *t, const struct zsync_cqe *cqe)
{
	atomic_fetch_add(&fz_stats->msg_cqes, 1);
	if (FZ_UD_THR(cqe->user_data) != (uint64_t)t->id)
		fz_violation("t%d: MSG_RING CQE %#llx was addressed to ring %llu%s",
			     t->id, (unsigned long long)cqe->user_data,
			     (unsigned long long)FZ_UD_THR(cqe->user_data),
			     FZ_UD_THR(cqe->user_data) == 0xff ? " (an fd that is no set-up ring)" : "");
	t->msg_received++;
}

static void account_cqe(struct fz_episode *ep, struct fz_thread *t, const struct zsync_cqe *cqe)
{
	uint64_t ud = cqe->user_data, seq = FZ_UD_SEQ(ud);
	bool more = cqe->flags & ZSYNC_CQE_F_MORE;
	struct fz_req *q;

	if (FZ_UD_TAGOF(ud) == FZ_UD_MSG_TAG)
		return account_msg(t, cqe);
	if (FZ_UD_TAGOF(ud) != FZ_UD_TAG || FZ_UD_THR(ud) != (uint64_t)t->id || seq >= t->nr_reqs)
		return fz_violation("t%d: CQE for user_data %#llx that was never submitted here (res %d flags %#x)",
				    t->id, (unsigned long long)ud, cqe->res, cqe->flags);
	q = &t->reqs[seq];
	if (q->state == FZ_REQ_DONE)
		return fz_violation("t%d: double completion: second terminal-or-later CQE for #%llu %s (res %d flags %#x)",
				    t->id, (unsigned long long)seq, fz_op_name(q->op), cqe->res, cqe->flags);
	if (q->state != FZ_REQ_SUBMITTED)
		return fz_violation("t%d: CQE for #%llu %s whose SQE the kernel had not consumed (res %d)",
				    t->id, (unsigned long long)seq, fz_op_name(q->op), cqe->res);
	if (more && !q->multishot)
		return fz_violation("t%d: ZSYNC_CQE_F_MORE on single-shot #%llu %s (res %d)",
				    t->id, (unsigned long long)seq, fz_op_name(q->op), cqe->res);
	if ((cqe->flags & ZSYNC_CQE_F_VALUE_BIT31) && q->op != ZSYNC_OP_SOURCE_WAIT)
		return fz_violation("t%d: VALUE_BIT31 on #%llu %s", t->id,
				    (unsigned long long)seq, fz_op_name(q->op));
	if (res_exceeds_len(q, cqe->res))
		return fz_violation("t%d: #%llu %s returned %d bytes for a %u-byte buffer",
				    t->id, (unsigned long long)seq, fz_op_name(q->op), cqe->res, q->len);
	fz_count_cqe(q->op, cqe, !more);
	if (more)
		return;
	q->state = FZ_REQ_DONE;
	t->outstanding--;
	/* Only a send that succeeded posted into its target. */
	if (q->op == ZSYNC_OP_MSG_RING && cqe->res == 0 && q->target < ep->nr_threads)
		atomic_fetch_add(&ep->thr[q->target].msg_sent_to, 1);
}

static void reap(struct fz_episode *ep, struct fz_thread *t)
{
	struct fz_ring *r = &t->ring;
	uint32_t head = atomic_load_explicit(r->cq_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(r->cq_tail, memory_order_acquire);

	if (tail - head > r->p.cq_entries) {
		fz_violation("t%d: CQ tail %u is %u past head %u: more than the %u entries",
			     t->id, tail, tail - head, head, r->p.cq_entries);
		return;
	}
	for (; head != tail && !fz_violated(); head++)
		account_cqe(ep, t, &r->cqes[head & r->cq_mask]);
	atomic_store_explicit(r->cq_head, head, memory_order_release);
}

/* Write one generated SQE; false when the SQ ring is full. */
static bool queue_one(struct fz_episode *ep, struct fz_thread *t, bool cancel_all)
{
	struct zsync_sqe *sqe;
	struct fz_req *q;
	uint64_t seq;

	if (t->nr_reqs == t->cap_reqs && grow_reqs(t))
		return false;
	sqe = fz_ring_sqe(&t->ring);
	if (!sqe)
		return false;
	seq = t->nr_reqs++;
	q = &t->reqs[seq];
	if (cancel_all) {
		sqe->opcode = ZSYNC_OP_CANCEL;
		sqe->op_flags = ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL;
		sqe->user_data = FZ_UD(FZ_UD_TAG, t->id, seq);
		q->multishot = 0;
	} else {
		fz_gen_sqe(ep, t, sqe, seq, &q->multishot);
	}
	q->op = sqe->opcode < ZSYNC_OP_LAST ? sqe->opcode : ZSYNC_OP_LAST;
	q->len = sqe->len;
	q->trunc = sqe->opcode == ZSYNC_OP_RECV && (sqe->op_flags & MSG_TRUNC);
	q->target = sqe->opcode == ZSYNC_OP_MSG_RING ? (uint8_t)FZ_UD_THR(sqe->off) : 0xff;
	q->state = FZ_REQ_QUEUED;
	t->slot_seq[(t->ring.local_tail - 1) & t->ring.sq_mask] = (uint32_t)seq;
	return true;
}

static void restrict_and_enable(struct fz_thread *t)
{
	struct zsync_restriction res = { .allowed_sqe_flags = ZSYNC_SQE_FLAGS_ALL };
	unsigned int i;

	for (i = 0; i < 4; i++)
		res.allowed_ops[i] = fz_chance(&t->rng, 80) ? ~0ULL : fz_next(&t->rng);
	if (fz_chance(&t->rng, 10))
		res.resv[0] = 1;
	if (fz_chance(&t->rng, 70))
		ioctl(t->ring.fd, ZSYNC_IOC_RESTRICT, &res);
	ioctl(t->ring.fd, ZSYNC_IOC_ENABLE);
	t->disabled = false;
}

/* The ring-level calls: eventfd, hostile ENTER arguments, probe, stats. */
static void ring_ioctl(struct fz_episode *ep, struct fz_thread *t)
{
	struct zsync_enter e = { 0 };
	struct zsync_probe pr = { 0 };
	struct zsync_stats st;
	int fd;

	atomic_fetch_add(&fz_stats->ioctls, 1);
	switch (fz_below(&t->rng, 7)) {
	case 0:
		fd = fz_chance(&t->rng, 70) ? t->eventfd : fz_pool_pick(&ep->pool, &t->rng, FZ_K_NONE);
		ioctl(t->ring.fd, ZSYNC_IOC_REGISTER_EVENTFD, &fd);
		break;
	case 1:
		ioctl(t->ring.fd, ZSYNC_IOC_UNREGISTER_EVENTFD);
		break;
	case 2:		/* hostile struct ENTER: nothing may be consumed wrongly */
		e.flags = (uint32_t)fz_next(&t->rng) & 3;
		e.sigmask = fz_chance(&t->rng, 50) ? fz_hostile_ptr(t, 8) : 0;
		e.sigmask_size = fz_below(&t->rng, 3) * 8;
		e.timeout = fz_hostile_ptr(t, 16);
		e.resv[0] = fz_chance(&t->rng, 20);
		atomic_store_explicit(t->ring.sq_tail, t->ring.local_tail, memory_order_release);
		ioctl(t->ring.fd, ZSYNC_IOC_ENTER, fz_chance(&t->rng, 10) ? (void *)1 : (void *)&e);
		break;
	case 3:		/* by value with bits that must be zero */
		ioctl(t->ring.fd, ZSYNC_IOC_ENTER_VALUE, (unsigned long)fz_next(&t->rng) | (1UL << 40));
		break;
	case 4:
		ioctl(t->ring.fd, ZSYNC_IOC_PROBE, &pr);
		break;
	case 5:
		fz_stats_ioctl(t->ring.fd, &st);
		break;
	default:	/* SETUP again on a set-up ring */
		ioctl(t->ring.fd, ZSYNC_IOC_SETUP, &t->ring.p);
		break;
	}
}

static void submit_round(struct fz_episode *ep, struct fz_thread *t, unsigned int *left)
{
	unsigned int n = 1 + fz_below(&t->rng, 16), pending;
	int64_t tmo = 1000000LL * (1 + fz_below(&t->rng, 5));
	unsigned int flags = fz_chance(&t->rng, 50) ? ZSYNC_ENTER_GETEVENTS : 0;
	int ret;

	t->last_linked = false;	/* a chain does not go on into the next ENTER */
	while (n-- && *left && queue_one(ep, t, false))
		(*left)--;
	if (fz_chance(&t->rng, 5))
		ring_ioctl(ep, t);
	if (t->disabled && fz_chance(&t->rng, 20))
		restrict_and_enable(t);
	pending = t->ring.local_tail - t->consumed;
	ret = fz_ring_enter(&t->ring, fz_chance(&t->rng, 10) ? fz_below(&t->rng, pending + 3) : pending,
			    fz_below(&t->rng, 3), flags, tmo);
	account_consumed(t);
	reap(ep, t);
	if (ret == -EBADFD && t->disabled && fz_chance(&t->rng, 50))
		restrict_and_enable(t);
}

/* Cancel everything, then wait for every submitted request's last CQE. */
static void drain(struct fz_episode *ep, struct fz_thread *t)
{
	int64_t deadline = fz_now_ns() + (int64_t)fz_opts.grace_secs * 1000000000;
	int64_t next_cancel = 0;
	uint64_t seq;

	if (t->disabled)
		restrict_and_enable(t);
	while ((t->outstanding || t->ring.local_tail != t->consumed) && !fz_violated()) {
		if (fz_now_ns() > deadline)
			break;
		if (fz_now_ns() >= next_cancel && queue_one(ep, t, true))
			next_cancel = fz_now_ns() + 200000000;
		fz_ring_enter(&t->ring, t->ring.local_tail - t->consumed, 1,
			      ZSYNC_ENTER_GETEVENTS, 20000000);
		account_consumed(t);
		reap(ep, t);
	}
	if (!t->outstanding || fz_violated())
		return;
	for (seq = 0; seq < t->nr_reqs; seq++)
		if (t->reqs[seq].state == FZ_REQ_SUBMITTED)
			break;
	fz_violation("t%d: %llu request(s) never completed within %u s of CANCEL ANY|ALL, first #%llu %s",
		     t->id, (unsigned long long)t->outstanding, fz_opts.grace_secs,
		     (unsigned long long)seq, fz_op_name(t->reqs[seq].op));
}

/* After every sender finished: each MSG_RING success posted exactly one CQE here. */
static void check_msgs(struct fz_episode *ep, struct fz_thread *t)
{
	int i;

	for (i = 0; i < 100 && !fz_violated(); i++) {
		fz_ring_enter(&t->ring, 0, 0, ZSYNC_ENTER_GETEVENTS, 0);
		reap(ep, t);
		if (!(atomic_load(t->ring.sq_flags) & ZSYNC_SQ_CQ_OVERFLOW) &&
		    atomic_load(t->ring.cq_tail) == atomic_load(t->ring.cq_head))
			break;
	}
	if (t->msg_received != atomic_load(&t->msg_sent_to))
		fz_violation("t%d: received %llu MSG_RING CQEs, senders saw %llu successful sends",
			     t->id, (unsigned long long)t->msg_received,
			     (unsigned long long)atomic_load(&t->msg_sent_to));
}

/* What a worker needs besides its ring; before fault injection starts. */
static int thread_init(struct fz_episode *ep, struct fz_thread *t, int id)
{
	t->id = id;
	t->ep = ep;
	t->rng = ep->seed ^ (0x1000193ULL * (uint64_t)(id + 1));
	t->ring.fd = -1;
	t->disabled = fz_chance(&t->rng, 15);
	if (fz_bufs_init(t) || grow_reqs(t))
		return -ENOMEM;
	t->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return 0;
}

/*
 * The worker's ring, under fault injection if it is on: there SETUP may
 * fail, which is fine as long as it fails cleanly, and the thread then
 * only takes part in the barriers.
 */
static int thread_ring(struct fz_thread *t)
{
	int i, err = -ENODEV;

	for (i = 0; i < 3 && err; i++)
		err = fz_ring_setup(&t->ring, &t->rng, t->disabled);
	if (!err) {
		t->slot_seq = calloc(t->ring.p.sq_entries, sizeof(*t->slot_seq));
		t->consumed = t->ring.local_tail;
		if (t->slot_seq)
			return 0;
		err = -ENOMEM;
		fz_ring_close(&t->ring);
	}
	t->ring.fd = -1;
	if (fz_opts.faults)
		return 0;
	fprintf(stderr, "zsync-fuzz: t%d: ring setup: %s\n", t->id, strerror(-err));
	return err;
}

static void *worker(void *arg)
{
	struct fz_thread *t = arg;
	struct fz_episode *ep = t->ep;
	unsigned int left = ep->ops_per_thread;

	t->tid = (pid_t)syscall(SYS_gettid);
	/* Faults from here on, in this thread only: ring setup included. */
	if (fz_opts.faults)
		fz_faults_enable_self();
	t->setup_err = thread_ring(t);
	pthread_barrier_wait(&fz_barrier);	/* every ring exists: MSG_RING targets */
	if (t->ring.fd >= 0) {
		while (left && !fz_violated() && !atomic_load(&ep->stop))
			submit_round(ep, t, &left);
	}
	pthread_barrier_wait(&fz_barrier);
	if (t->ring.fd >= 0)
		drain(ep, t);
	pthread_barrier_wait(&fz_barrier);	/* every MSG_RING result is known */
	if (t->ring.fd >= 0 && !fz_violated())
		check_msgs(ep, t);
	return NULL;
}

static void drop_privileges(void)
{
	gid_t g = FZ_ZSYNC_GID;

	if (setgroups(1, &g) || setgid(65534) || setuid(65534))
		fprintf(stderr, "zsync-fuzz: cannot drop to nobody: %s\n", strerror(errno));
	/* So that its /proc files (make-it-fail) stay its own. */
	prctl(PR_SET_DUMPABLE, 1);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: waits see EINTR */
	signal(SIGPIPE, SIG_IGN);
}

static int run_accounting(struct fz_episode *ep)
{
	pthread_t th[FZ_MAX_THREADS], chaos;
	unsigned int i;
	int err = 0;

	pthread_barrier_init(&fz_barrier, NULL, ep->nr_threads);
	for (i = 0; i < ep->nr_threads && !err; i++)
		err = thread_init(ep, &ep->thr[i], (int)i);
	if (err) {
		fprintf(stderr, "zsync-fuzz: episode setup failed: %s\n", strerror(-err));
		return 2;
	}
	/* Threads start before any fault injection: the barriers need them all. */
	for (i = 0; i < ep->nr_threads; i++) {
		err = pthread_create(&th[i], NULL, worker, &ep->thr[i]);
		if (err) {
			fprintf(stderr, "zsync-fuzz: pthread_create: %s\n", strerror(err));
			_exit(2);
		}
	}
	err = pthread_create(&chaos, NULL, fz_chaos_thread, ep);
	for (i = 0; i < ep->nr_threads; i++)
		pthread_join(th[i], NULL);
	atomic_store(&ep->stop, true);
	if (!err)
		pthread_join(chaos, NULL);
	for (i = 0; i < ep->nr_threads; i++) {
		fz_ring_close(&ep->thr[i].ring);
		if (ep->thr[i].setup_err)
			return 2;
	}
	return fz_violated() ? 3 : 0;
}

/*
 * The episode of SEED, in this (child) process.  Exit status: 0 ok,
 * 3 an invariant broke (fz_stats->msg says which), 2 setup failed.
 */
int fz_run_episode(uint64_t seed, int ep_no)
{
	struct fz_episode *ep = calloc(1, sizeof(*ep));
	uint64_t rng = seed;
	int ret;

	if (!ep)
		return 2;
	ep->seed = seed;
	ep->nr_threads = 1 + fz_below(&rng, fz_opts.threads);
	ep->ops_per_thread = fz_opts.ops_per_thread;
	/* Draw every choice whatever the options, so options never shift the stream. */
	ep->chaos = fz_chance(&rng, fz_opts.chaos_pct);
	ep->unpriv = fz_chance(&rng, 20) && fz_opts.unpriv_ok;
	if (fz_opts.trace)
		fprintf(stderr, "episode %#llx: %s, %u thread(s)%s\n", (unsigned long long)seed,
			ep->chaos ? "chaos" : "accounting", ep->nr_threads,
			ep->unpriv ? ", as nobody" : "");
	signals_init();
	if (fz_pool_init(&ep->pool, &rng, ep_no)) {
		fprintf(stderr, "zsync-fuzz: fd pool: %s\n", strerror(errno));
		return 2;
	}
	if (ep->unpriv)
		drop_privileges();
	ret = ep->chaos ? fz_chaos_episode(ep) : run_accounting(ep);
	fz_pool_fini(&ep->pool);
	return ret;
}
