// SPDX-License-Identifier: MIT
/*
 * Mutex, condition variable, semaphore and wait group.  Each is a small
 * state word and a FIFO of waiting futures under an internal lock that is
 * held only for a few instructions (never across a wait).  Releasing hands
 * the mutex or the semaphore unit straight to the first waiter, so a
 * woken waiter never has to compete again and nothing starves.
 */
#include <errno.h>
#include <stdlib.h>

#include "io_internal.h"

struct zk_mutex {
	pthread_mutex_t lock;
	bool locked;
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

/* ---- mutex ---------------------------------------------------------- */

struct zk_mutex *zk_mutex_new(void)
{
	return PRIM_NEW(struct zk_mutex);
}

void zk_mutex_free(struct zk_mutex *m)
{
	prim_free(m);
}

static int mutex_lock(struct zk_io *io, struct zk_mutex *m, bool cancellable)
{
	pthread_mutex_lock(&m->lock);
	if (!m->locked) {
		m->locked = true;
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	/* 0: unlock handed it to us; -ECANCELED: we left the queue unowned. */
	return (int)wait_in_queue(io, &m->lock, &m->q, cancellable, ZK_WAIT_MUTEX);
}

int zk_mutex_lock(struct zk_io *io, struct zk_mutex *m)
{
	return mutex_lock(io, m, true);
}

int zk_mutex_trylock(struct zk_io *io, struct zk_mutex *m)
{
	int ret = -EBUSY;

	(void)io;
	pthread_mutex_lock(&m->lock);
	if (!m->locked) {
		m->locked = true;
		ret = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void zk_mutex_unlock(struct zk_io *io, struct zk_mutex *m)
{
	struct zk_list done;

	zk_list_init(&done);
	pthread_mutex_lock(&m->lock);
	/* Handed over, it stays locked: it is the waiter's now. */
	if (!hand_over(&m->q, &done))
		m->locked = false;
	unlock_and_complete(io, &m->lock, &done);
}

int zk_mutex_lock_async(struct zk_io *io, struct zk_future *f, struct zk_mutex *m)
{
	bool ready;

	pthread_mutex_lock(&m->lock);
	ready = !m->locked;
	m->locked = true;
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
