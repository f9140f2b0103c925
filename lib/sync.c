// SPDX-License-Identifier: MIT
/*
 * Mutex, condition variable, semaphore and wait group.  Each is a small
 * state word and a FIFO of waiting futures under an internal lock that is
 * held only for a few instructions (never across a wait).  Releasing hands
 * the semaphore unit straight to the first waiter, so a woken waiter never
 * has to compete again and nothing starves.  The mutex is locked and
 * unlocked with atomics when free, and hands itself over only to a waiter
 * that waited long (see "mutex" below).
 */
#include <errno.h>
#include <stdlib.h>

#include "io_internal.h"

struct zk_mutex {
	pthread_mutex_t lock;	/* guards q */
	unsigned int state;	/* atomic: MUTEX_* below */
	struct zk_list q;
};

struct zk_cond {
	pthread_mutex_t lock;
	struct zk_list q;
};

struct zk_sem {
	pthread_mutex_t lock;
	unsigned int count;
	struct zk_list q;
};

struct zk_wg {
	pthread_mutex_t lock;
	long count;
	struct zk_list q;
};

/* All four start with their lock and have one queue: one constructor. */
static void *prim_new(size_t size, size_t q_off)
{
	char *p = calloc(1, size);

	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init((pthread_mutex_t *)(void *)p, NULL);
	zk_list_init((struct zk_list *)(void *)(p + q_off));
	return p;
}

#define PRIM_NEW(type)	((type *)prim_new(sizeof(type), offsetof(type, q)))

static void prim_free(void *p)
{
	if (!p)
		return;
	pthread_mutex_destroy((pthread_mutex_t *)p);
	free(p);
}

/* With *@lock held: queue a waiter, drop the lock, wait for it. */
static int64_t wait_in_queue(struct zk_io *io, pthread_mutex_t *lock,
			     struct zk_list *q, bool cancellable,
			     enum zk_wait_kind kind)
{
	struct zk_future f;

	zk_future_init(&f, ZK_F_IDLE);
	zk_prim_enqueue(lock, q, &f, NULL, NULL, kind);
	pthread_mutex_unlock(lock);
	return zk_await_internal(io, &f, cancellable);
}

/* With *@lock held: queue @f, or complete it now if @ready. */
static int queue_or_complete(struct zk_io *io, pthread_mutex_t *lock,
			     struct zk_list *q, struct zk_future *f, bool ready,
			     enum zk_wait_kind kind)
{
	if (!ready)
		zk_prim_enqueue(lock, q, f, NULL, NULL, kind);
	pthread_mutex_unlock(lock);
	if (ready) {
		zk_future_reset(f, ZK_F_PRIM);
		zk_future_complete(io, f, 0);
	}
	return 0;
}

/* Under the lock: give the first waiter 0 (completed later, from @done). */
static bool hand_over(struct zk_list *q, struct zk_list *done)
{
	struct zk_future *f = zk_prim_take(q, done);

	if (f)
		zk_prim_finish(done, f, 0);
	return f != NULL;
}

/* Drop *@lock, then complete what hand_over() queued. */
static void unlock_and_complete(struct zk_io *io, pthread_mutex_t *lock,
				struct zk_list *done)
{
	pthread_mutex_unlock(lock);
	zk_prim_complete_all(io, done);
}

/* ---- mutex ----------------------------------------------------------
 *
 * m->state is one atomic word, so an uncontended lock or unlock is one
 * compare-and-swap and never takes m->lock, which guards only the queue.
 * Two ways out of the queue, as in Go's sync.Mutex:
 *  - Retry (a direct-style zk_mutex_lock() that has waited less than
 *    MUTEX_STARVE_NS): unlock releases the mutex and wakes the first
 *    waiter (MUTEX_WOKEN), which competes again with running lockers and,
 *    if it loses, queues again at the head.  While a woken waiter is on
 *    its way, unlocks wake nobody: running threads pass the mutex among
 *    themselves with atomics, the way a pthread mutex does.
 *  - Handoff (a waiter that has waited longer, and every
 *    zk_mutex_lock_async(), whose completion means ownership): unlock
 *    keeps the mutex locked and gives it to that waiter.  Nobody can barge
 *    in front of it, so no waiter starves.
 * On the thread executors (blocking, pool) a locker also spins briefly
 * while the mutex is held and nobody is queued: its holder runs on
 * another CPU and is about to let go.
 */
enum {
	MUTEX_LOCKED = 1,
	MUTEX_WOKEN = 2,	/* a waiter was woken to retry and has not yet */
	MUTEX_QUEUED = 4,	/* the queue may be non-empty (set under m->lock) */
};

#define MUTEX_STARVE_NS	1000000LL
#define MUTEX_SPIN	100

/* A direct-style locker's place in the queue (f->pw.elem). */
struct mutex_waiter {
	int64_t since;		/* when it first queued */
};

static bool mutex_cas(struct zk_mutex *m, unsigned int *old, unsigned int val)
{
	return __atomic_compare_exchange_n(&m->state, old, val, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/*
 * Take the mutex if it is free.  @woken: the caller is the waiter that
 * unlock woke, which clears the flag whether it wins or not.
 */
static bool mutex_try(struct zk_mutex *m, bool woken)
{
	unsigned int s = __atomic_load_n(&m->state, __ATOMIC_RELAXED);

	while (!(s & MUTEX_LOCKED))
		if (mutex_cas(m, &s, (s | MUTEX_LOCKED) & ~(woken ? MUTEX_WOKEN : 0u)))
			return true;
	return false;
}

/* Thread executors: wait for the holder on another CPU to let go. */
static bool mutex_spin(struct zk_io *io, struct zk_mutex *m, bool woken)
{
	enum zk_executor e = io->rt->eops->kind;
	unsigned int i, s;

	if (e != ZK_EXEC_BLOCKING && e != ZK_EXEC_THREADS)
		return false;	/* the holder runs on this thread */
	for (i = 0; i < MUTEX_SPIN; i++) {
		s = __atomic_load_n(&m->state, __ATOMIC_RELAXED);
		if (s & MUTEX_QUEUED)
			return false;	/* the queue comes first */
		if (!(s & MUTEX_LOCKED) && mutex_try(m, woken))
			return true;
		zk_cpu_relax();
	}
	return false;
}

/*
 * Under m->lock: take the mutex, or mark it queued (and no longer woken,
 * for @woken) so that its unlock comes to the queue.
 */
static bool mutex_take_or_queue(struct zk_mutex *m, bool woken)
{
	unsigned int s = __atomic_load_n(&m->state, __ATOMIC_RELAXED), clear;

	clear = woken ? MUTEX_WOKEN : 0u;
	for (;;) {
		unsigned int want = s & MUTEX_LOCKED ? (s | MUTEX_QUEUED) & ~clear :
						       (s | MUTEX_LOCKED) & ~clear;

		if (mutex_cas(m, &s, want))
			return !(s & MUTEX_LOCKED);
	}
}

struct zk_mutex *zk_mutex_new(void)
{
	return PRIM_NEW(struct zk_mutex);
}

void zk_mutex_free(struct zk_mutex *m)
{
	prim_free(m);
}

/* Queue @f (a retrier at the head, where it was) and wait: 0, 1 or an error. */
static int64_t mutex_wait(struct zk_io *io, struct zk_mutex *m,
			  struct mutex_waiter *mw, bool retry, bool cancellable)
{
	struct zk_future f;

	zk_future_init(&f, ZK_F_IDLE);
	zk_prim_enqueue(&m->lock, &m->q, &f, mw, NULL, ZK_WAIT_MUTEX);
	if (retry) {
		zk_list_del(&f.pw.link);
		zk_list_insert(&f.pw.link, &m->q, m->q.next);
	}
	pthread_mutex_unlock(&m->lock);
	return zk_await_internal(io, &f, cancellable);
}

static int mutex_lock(struct zk_io *io, struct zk_mutex *m, bool cancellable)
{
	struct mutex_waiter mw = { .since = 0 };
	bool woken = false;
	int64_t r;

	for (;;) {
		if (mutex_try(m, woken) || mutex_spin(io, m, woken))
			return 0;
		pthread_mutex_lock(&m->lock);
		if (mutex_take_or_queue(m, woken)) {
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
		if (!mw.since)
			mw.since = zk_mono_ns();
		/* 0: handed to us; 1: released, try again; -ECANCELED: not ours. */
		r = mutex_wait(io, m, &mw, woken, cancellable);
		if (r != 1)
			return (int)r;
		woken = true;
	}
}

int zk_mutex_lock(struct zk_io *io, struct zk_mutex *m)
{
	return mutex_lock(io, m, true);
}

int zk_mutex_trylock(struct zk_io *io, struct zk_mutex *m)
{
	(void)io;
	return mutex_try(m, false) ? 0 : -EBUSY;
}

/* Under m->lock, with a queue: whether its head @f gets the mutex itself. */
static bool mutex_hand_over_to(const struct zk_future *f)
{
	const struct mutex_waiter *mw = f->pw.elem;

	return !mw || zk_mono_ns() - mw->since >= MUTEX_STARVE_NS;
}

/* Under m->lock: hand over, wake a retrier, or just unlock. */
static void mutex_release_locked(struct zk_mutex *m, struct zk_list *done)
{
	struct zk_future *f = zk_prim_take(&m->q, done);
	unsigned int s = __atomic_load_n(&m->state, __ATOMIC_RELAXED), want;
	bool handoff = f && mutex_hand_over_to(f);

	if (f)
		zk_prim_finish(done, f, handoff ? 0 : 1);
	do {
		want = s & ~(MUTEX_QUEUED | (handoff ? 0u : MUTEX_LOCKED));
		if (f && !handoff)
			want |= MUTEX_WOKEN;
		if (!zk_list_empty(&m->q))
			want |= MUTEX_QUEUED;
	} while (!mutex_cas(m, &s, want));
}

void zk_mutex_unlock(struct zk_io *io, struct zk_mutex *m)
{
	unsigned int s = MUTEX_LOCKED;
	struct zk_list done;

	if (mutex_cas(m, &s, 0))
		return;
	/* Someone is on the way to retry: let go, wake nobody. */
	while ((s & MUTEX_WOKEN) && !mutex_cas(m, &s, s & ~MUTEX_LOCKED))
		;
	if (s & MUTEX_WOKEN)
		return;
	zk_list_init(&done);
	pthread_mutex_lock(&m->lock);
	mutex_release_locked(m, &done);
	unlock_and_complete(io, &m->lock, &done);
}

int zk_mutex_lock_async(struct zk_io *io, struct zk_future *f, struct zk_mutex *m)
{
	bool ready;

	if (mutex_try(m, false)) {
		zk_future_reset(f, ZK_F_PRIM);
		zk_future_complete(io, f, 0);
		return 0;
	}
	pthread_mutex_lock(&m->lock);
	ready = mutex_take_or_queue(m, false);
	return queue_or_complete(io, &m->lock, &m->q, f, ready, ZK_WAIT_MUTEX);
}

/* ---- condition variable -------------------------------------------- */

struct zk_cond *zk_cond_new(void)
{
	return PRIM_NEW(struct zk_cond);
}

void zk_cond_free(struct zk_cond *c)
{
	prim_free(c);
}

int zk_cond_wait(struct zk_io *io, struct zk_cond *c, struct zk_mutex *m)
{
	struct zk_future f;
	int64_t r;

	zk_future_init(&f, ZK_F_IDLE);
	pthread_mutex_lock(&c->lock);
	zk_prim_enqueue(&c->lock, &c->q, &f, NULL, NULL, ZK_WAIT_COND);
	pthread_mutex_unlock(&c->lock);
	zk_mutex_unlock(io, m);
	r = zk_await(io, &f);
	mutex_lock(io, m, false);	/* the caller expects it back, cancelled or not */
	return r == -ECANCELED ? -ECANCELED : 0;
}

void zk_cond_signal(struct zk_io *io, struct zk_cond *c)
{
	struct zk_list done;

	zk_list_init(&done);
	pthread_mutex_lock(&c->lock);
	hand_over(&c->q, &done);
	unlock_and_complete(io, &c->lock, &done);
}

void zk_cond_broadcast(struct zk_io *io, struct zk_cond *c)
{
	struct zk_list done;

	zk_list_init(&done);
	pthread_mutex_lock(&c->lock);
	while (hand_over(&c->q, &done))
		;
	unlock_and_complete(io, &c->lock, &done);
}

/* ---- semaphore ------------------------------------------------------ */

struct zk_sem *zk_sem_new(unsigned int count)
{
	struct zk_sem *s = PRIM_NEW(struct zk_sem);

	if (s)
		s->count = count;
	return s;
}

void zk_sem_free(struct zk_sem *s)
{
	prim_free(s);
}

int zk_sem_acquire(struct zk_io *io, struct zk_sem *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->count) {
		s->count--;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	return (int)wait_in_queue(io, &s->lock, &s->q, true, ZK_WAIT_SEM);
}

int zk_sem_try_acquire(struct zk_io *io, struct zk_sem *s)
{
	int ret = -EAGAIN;

	(void)io;
	pthread_mutex_lock(&s->lock);
	if (s->count) {
		s->count--;
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void zk_sem_release(struct zk_io *io, struct zk_sem *s)
{
	struct zk_list done;

	zk_list_init(&done);
	pthread_mutex_lock(&s->lock);
	if (!hand_over(&s->q, &done))
		s->count++;
	unlock_and_complete(io, &s->lock, &done);
}

int zk_sem_acquire_async(struct zk_io *io, struct zk_future *f, struct zk_sem *s)
{
	bool ready;

	pthread_mutex_lock(&s->lock);
	ready = s->count > 0;
	if (ready)
		s->count--;
	return queue_or_complete(io, &s->lock, &s->q, f, ready, ZK_WAIT_SEM);
}

/* ---- wait group ----------------------------------------------------- */

struct zk_wg *zk_wg_new(void)
{
	return PRIM_NEW(struct zk_wg);
}

void zk_wg_free(struct zk_wg *wg)
{
	prim_free(wg);
}

int zk_wg_add(struct zk_io *io, struct zk_wg *wg, int n)
{
	struct zk_list done;
	int ret = 0;

	zk_list_init(&done);
	pthread_mutex_lock(&wg->lock);
	if (wg->count + n < 0)
		ret = -EINVAL;
	else
		wg->count += n;
	while (!ret && !wg->count && hand_over(&wg->q, &done))
		;
	unlock_and_complete(io, &wg->lock, &done);
	return ret;
}

int zk_wg_done(struct zk_io *io, struct zk_wg *wg)
{
	return zk_wg_add(io, wg, -1);
}

int zk_wg_wait(struct zk_io *io, struct zk_wg *wg)
{
	pthread_mutex_lock(&wg->lock);
	if (!wg->count) {
		pthread_mutex_unlock(&wg->lock);
		return 0;
	}
	return (int)wait_in_queue(io, &wg->lock, &wg->q, true, ZK_WAIT_WG);
}

int zk_wg_wait_async(struct zk_io *io, struct zk_future *f, struct zk_wg *wg)
{
	pthread_mutex_lock(&wg->lock);
	return queue_or_complete(io, &wg->lock, &wg->q, f, wg->count == 0,
				 ZK_WAIT_WG);
}
