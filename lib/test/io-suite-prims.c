// SPDX-License-Identifier: MIT
/*
 * Executor-layer suite, part 2: channels (bounded, unbounded, rendezvous,
 * close, a million messages), mutex, condition variable, semaphore, wait
 * group and select.  Concurrent parties are zt_peer()s: tasks where the
 * executor runs tasks concurrently, OS threads where it does not.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "io-suite.h"

#define MS	1000000LL

/* ------------------------------------------------------------------ */
/* Channels                                                            */
/* ------------------------------------------------------------------ */

static int t_chan_bounded(struct zt_ctx *c)
{
	struct zk_chan *ch = zk_chan_new(sizeof(int), 4);
	struct zk_io *io;
	int i, v;

	ZT_CHECK(c, ch && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zk_chan_try_send(io, ch, &i) == 0, "send %d", i);
	ZT_CHECK(c, zk_chan_try_send(io, ch, &i) == -EAGAIN, "full channel took a 5th");
	ZT_CHECK(c, zk_chan_len(ch) == 4, "len %zu", zk_chan_len(ch));
	for (i = 0; i < 4; i++) {
		ZT_CHECK(c, zk_chan_recv(io, ch, &v) == 0 && v == i, "recv %d: %d", i, v);
	}
	ZT_CHECK(c, zk_chan_try_recv(io, ch, &v) == -EAGAIN, "empty channel gave one");
	ZT_CHECK(c, zk_chan_close(io, ch) == 0, "close");
	ZT_CHECK(c, zk_chan_close(io, ch) == -EPIPE, "second close");
	ZT_CHECK(c, zk_chan_send(io, ch, &i) == -EPIPE, "send after close");
	ZT_CHECK(c, zk_chan_recv(io, ch, &v) == -EPIPE, "recv after close");
	ZT_CHECK(c, zk_chan_new(0, 4) == NULL && errno == EINVAL, "elem size 0");
	zk_chan_free(ch);
	zk_io_exit(io);
	return ZT_PASS;
}

static int t_chan_unbounded(struct zt_ctx *c)
{
	struct zk_chan *ch = zk_chan_new_unbounded(sizeof(uint64_t));
	struct zk_io *io;
	uint64_t i, v;

	ZT_CHECK(c, ch && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 10000; i++) {
		ZT_CHECK(c, zk_chan_try_send(io, ch, &i) == 0, "send %llu", (unsigned long long)i);
		if (i % 3 == 0) {	/* interleave, so the ring wraps while growing */
			ZT_CHECK(c, zk_chan_try_recv(io, ch, &v) == 0 && v == i / 3,
				 "early recv %llu", (unsigned long long)v);
		}
	}
	zk_chan_close(io, ch);
	for (i = 3334; i < 10000; i++)
		ZT_CHECK(c, zk_chan_recv(io, ch, &v) == 0 && v == i,
			 "drain %llu got %llu", (unsigned long long)i, (unsigned long long)v);
	ZT_CHECK(c, zk_chan_recv(io, ch, &v) == -EPIPE, "drained and closed");
	zk_chan_free(ch);
	zk_io_exit(io);
	return ZT_PASS;
}

struct chan_arg {
	struct zk_chan *ch;
	unsigned int id, count;
	uint8_t *seen;		/* consumers: one byte per message */
	int64_t got;
};

static int64_t produce(struct zk_io *io, void *arg)
{
	struct chan_arg *a = arg;
	unsigned int i;

	for (i = 0; i < a->count; i++) {
		uint64_t m = (uint64_t)a->id << 32 | i;
		int r = zk_chan_send(io, a->ch, &m);

		if (r)
			return r;
	}
	return 0;
}

/* Receive until closed; count and mark each message (none twice). */
static int64_t consume(struct zk_io *io, void *arg)
{
	struct chan_arg *a = arg;
	uint64_t m;
	int r;

	while ((r = zk_chan_recv(io, a->ch, &m)) == 0) {
		size_t idx = (size_t)(m >> 32) * a->count + (uint32_t)m;

		if (__atomic_fetch_add(&a->seen[idx], 1, __ATOMIC_RELAXED))
			return -EEXIST;		/* a duplicate */
		a->got++;
	}
	return r == -EPIPE ? 0 : r;
}

/* Two producers, two consumers, a small bounded channel in between. */
static int chan_stream(struct zt_ctx *c, size_t cap, unsigned int total)
{
	struct chan_arg prod[2], cons[2];
	struct zt_peer pp[2], pc[2];
	struct zk_chan *ch = zk_chan_new(sizeof(uint64_t), cap);
	unsigned int per = total / 2, i;
	uint8_t *seen = calloc(total, 1);
	struct zk_io *io;
	int64_t got = 0;

	ZT_CHECK(c, ch && seen && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 2; i++) {
		cons[i] = (struct chan_arg){ .ch = ch, .count = per, .seen = seen };
		prod[i] = (struct chan_arg){ .ch = ch, .id = i, .count = per };
		ZT_CHECK(c, zt_peer_start(c, io, &pc[i], consume, &cons[i]) == 0, "consumer");
	}
	for (i = 0; i < 2; i++)
		ZT_CHECK(c, zt_peer_start(c, io, &pp[i], produce, &prod[i]) == 0, "producer");
	for (i = 0; i < 2; i++)
		ZT_CHECK(c, zt_peer_join(io, &pp[i]) == 0, "producer %u", i);
	zk_chan_close(io, ch);
	for (i = 0; i < 2; i++) {
		int64_t r = zt_peer_join(io, &pc[i]);

		ZT_CHECK(c, r == 0, "consumer %u: %lld", i, (long long)r);
		got += cons[i].got;
	}
	ZT_CHECK(c, got == (int64_t)(2 * per), "received %lld of %u", (long long)got, 2 * per);
	for (i = 0; i < 2 * per; i++)
		ZT_CHECK(c, seen[i] == 1, "message %u seen %u times", i, seen[i]);
	free(seen);
	zk_chan_free(ch);
	zk_io_exit(io);
	return ZT_PASS;
}

static int t_chan_million(struct zt_ctx *c)
{
	return chan_stream(c, 64, zt_scaled(c, 1000000));
}

static int t_chan_rendezvous(struct zt_ctx *c)
{
	return chan_stream(c, 0, zt_scaled(c, 20000));
}

static int64_t recv_one(struct zk_io *io, void *arg)
{
	int v;

	return zk_chan_recv(io, arg, &v);
}

static int t_chan_close_wakes(struct zt_ctx *c)
{
	struct zk_chan *ch = zk_chan_new(sizeof(int), 1);
	struct zt_peer p;
	struct zk_io *io;

	ZT_CHECK(c, ch && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zt_peer_start(c, io, &p, recv_one, ch) == 0, "peer");
	zk_sleep(io, 20 * MS);		/* let it block */
	zk_chan_close(io, ch);
	ZT_CHECK(c, zt_peer_join(io, &p) == -EPIPE, "blocked receiver after close");
	zk_chan_free(ch);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Mutex, cond, semaphore, wait group                                  */
/* ------------------------------------------------------------------ */

struct shared {
	struct zk_mutex *m;
	struct zk_cond *cv;
	struct zk_sem *sem;
	struct zk_wg *wg;
	long counter;		/* guarded by m (or the semaphore) */
	int inside, max_inside;	/* atomics */
	unsigned int rounds;
};

static int64_t add_locked(struct zk_io *io, void *arg)
{
	struct shared *s = arg;
	unsigned int i;

	for (i = 0; i < s->rounds; i++) {
		if (zk_mutex_lock(io, s->m))
			return -1;
		s->counter++;
		if (i % 64 == 0)
			zk_yield(io);	/* hold it across a switch sometimes */
		zk_mutex_unlock(io, s->m);
	}
	return 0;
}

static int t_mutex(struct zt_ctx *c)
{
	struct shared s = { .m = zk_mutex_new(), .rounds = zt_scaled(c, 20000) };
	struct zk_future *heap_f;
	struct zt_peer p[4];
	struct zk_io *io;
	int i;

	ZT_CHECK(c, s.m && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zk_mutex_trylock(io, s.m) == 0, "trylock free");
	ZT_CHECK(c, zk_mutex_trylock(io, s.m) == -EBUSY, "trylock held");
	zk_mutex_unlock(io, s.m);
	/*
	 * A heap future whose lock is taken at once: zk_future_free() must
	 * still free it (LeakSanitizer checks, in make native-test).
	 */
	heap_f = zk_future_new();
	ZT_CHECK(c, heap_f && zk_mutex_lock_async(io, heap_f, s.m) == 0, "lock_async");
	ZT_CHECK(c, zk_await(io, heap_f) == 0, "lock_async result");
	zk_mutex_unlock(io, s.m);
	zk_future_free(io, heap_f);
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zt_peer_start(c, io, &p[i], add_locked, &s) == 0, "peer");
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zt_peer_join(io, &p[i]) == 0, "peer %d", i);
	ZT_CHECK(c, s.counter == 4L * s.rounds, "counter %ld, want %ld", s.counter,
		 4L * s.rounds);
	zk_mutex_free(s.m);
	zk_io_exit(io);
	return ZT_PASS;
}

/*
 * Two peers lock and unlock without pause while a third locker queues: it
 * must get the mutex (unlock hands it over once it waited 1 ms) before
 * the peers' deadline, however often they win the retries.
 */
struct hammer {
	struct zk_mutex *m;
	long counter;		/* guarded by m */
	int running, stop;	/* atomics */
	int64_t deadline_ms;
};

static int64_t hammer(struct zk_io *io, void *arg)
{
	struct hammer *h = arg;
	unsigned long i;

	for (i = 0; !__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE); i++) {
		if (i % 256 == 0 && zt_now_ms() > h->deadline_ms)
			return -ETIMEDOUT;	/* the locker starved */
		if (zk_mutex_lock(io, h->m))
			return -1;
		h->counter++;
		zk_mutex_unlock(io, h->m);
		if (i == 1000)
			__atomic_fetch_add(&h->running, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static int t_mutex_starve(struct zt_ctx *c)
{
	struct hammer h = { .deadline_ms = zt_now_ms() + 20000 };
	struct zt_peer p[2];
	struct zk_io *io;
	int64_t r0, r1;
	int i;

	ZT_SKIP_IF(c, c->opts.executor == ZK_EXEC_GREEN,
		   "green threads: peers that never yield keep the locker off the thread");
	h.m = zk_mutex_new();
	ZT_CHECK(c, h.m && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 2; i++)
		ZT_CHECK(c, zt_peer_start(c, io, &p[i], hammer, &h) == 0, "peer");
	while (__atomic_load_n(&h.running, __ATOMIC_ACQUIRE) < 2 && zt_now_ms() < h.deadline_ms)
		sched_yield();	/* both hammer it: the contention is real */
	ZT_CHECK(c, zk_mutex_lock(io, h.m) == 0, "lock");
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	zk_mutex_unlock(io, h.m);
	r0 = zt_peer_join(io, &p[0]);
	r1 = zt_peer_join(io, &p[1]);
	ZT_CHECK(c, r0 == 0 && r1 == 0, "peers %lld %lld (-ETIMEDOUT: the locker starved)",
		 (long long)r0, (long long)r1);
	ZT_CHECK(c, h.counter >= 2000, "counter %ld", h.counter);
	zk_mutex_free(h.m);
	zk_io_exit(io);
	return ZT_PASS;
}

static int64_t cond_consumer(struct zk_io *io, void *arg)
{
	struct shared *s = arg;
	unsigned int taken = 0;

	zk_mutex_lock(io, s->m);
	while (taken < s->rounds) {
		while (s->counter == 0)
			if (zk_cond_wait(io, s->cv, s->m))
				return -1;
		s->counter--;
		taken++;
	}
	zk_mutex_unlock(io, s->m);
	return taken;
}

static int t_cond(struct zt_ctx *c)
{
	struct shared s = { .m = zk_mutex_new(), .cv = zk_cond_new(), .rounds = 500 };
	struct zt_peer p[2];
	struct zk_io *io;
	unsigned int i;

	ZT_CHECK(c, s.m && s.cv && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 2; i++)
		ZT_CHECK(c, zt_peer_start(c, io, &p[i], cond_consumer, &s) == 0, "peer");
	for (i = 0; i < 2 * s.rounds; i++) {
		zk_mutex_lock(io, s.m);
		s.counter++;
		if (i % 2)
			zk_cond_broadcast(io, s.cv);
		else
			zk_cond_signal(io, s.cv);
		zk_mutex_unlock(io, s.m);
		if (i % 50 == 0)
			zk_sleep(io, 1 * MS);
	}
	for (i = 0; i < 2; i++)
		ZT_CHECK(c, zt_peer_join(io, &p[i]) == s.rounds, "consumer %u", i);
	ZT_CHECK(c, s.counter == 0, "left %ld", s.counter);
	zk_cond_free(s.cv);
	zk_mutex_free(s.m);
	zk_io_exit(io);
	return ZT_PASS;
}

static int64_t sem_user(struct zk_io *io, void *arg)
{
	struct shared *s = arg;
	unsigned int i;

	for (i = 0; i < 10; i++) {
		int in, max;

		if (zk_sem_acquire(io, s->sem))
			return -1;
		in = __atomic_add_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
		max = __atomic_load_n(&s->max_inside, __ATOMIC_SEQ_CST);
		while (in > max && !__atomic_compare_exchange_n(&s->max_inside, &max, in,
								false, __ATOMIC_SEQ_CST,
								__ATOMIC_SEQ_CST))
			;
		zk_sleep(io, 1 * MS);
		__atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
		zk_sem_release(io, s->sem);
	}
	return 0;
}

static int t_sem(struct zt_ctx *c)
{
	struct shared s = { .sem = zk_sem_new(2) };
	struct zt_peer p[4];
	struct zk_io *io;
	int i;

	ZT_CHECK(c, s.sem && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zt_peer_start(c, io, &p[i], sem_user, &s) == 0, "peer");
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zt_peer_join(io, &p[i]) == 0, "peer %d", i);
	ZT_CHECK(c, s.max_inside >= 1 && s.max_inside <= 2, "%d inside at once",
		 s.max_inside);
	ZT_CHECK(c, zk_sem_try_acquire(io, s.sem) == 0 && zk_sem_try_acquire(io, s.sem) == 0,
		 "both units back");
	ZT_CHECK(c, zk_sem_try_acquire(io, s.sem) == -EAGAIN, "a third unit");
	zk_sem_free(s.sem);
	zk_io_exit(io);
	return ZT_PASS;
}

static int64_t wg_member(struct zk_io *io, void *arg)
{
	struct shared *s = arg;

	zk_sleep(io, 20 * MS);
	__atomic_add_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
	return zk_wg_done(io, s->wg);
}

static int t_wait_group(struct zt_ctx *c)
{
	struct shared s = { .wg = zk_wg_new() };
	struct zt_peer p[4];
	struct zk_io *io;
	int i;

	ZT_CHECK(c, s.wg && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zk_wg_wait(io, s.wg) == 0, "wait on zero");
	ZT_CHECK(c, zk_wg_add(io, s.wg, 4) == 0, "add");
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zt_peer_start(c, io, &p[i], wg_member, &s) == 0, "peer");
	ZT_CHECK(c, zk_wg_wait(io, s.wg) == 0, "wait");
	ZT_CHECK(c, __atomic_load_n(&s.inside, __ATOMIC_SEQ_CST) == 4,
		 "wait returned with %d of 4 done", s.inside);
	for (i = 0; i < 4; i++)
		ZT_CHECK(c, zt_peer_join(io, &p[i]) == 0, "peer %d", i);
	ZT_CHECK(c, zk_wg_add(io, s.wg, -1) == -EINVAL, "below zero");
	zk_wg_free(s.wg);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Select                                                              */
/* ------------------------------------------------------------------ */

struct send_arg {
	struct zk_chan *ch;
	int value;
	int64_t delay_ms;
	unsigned int count;
};

static int64_t send_later(struct zk_io *io, void *arg)
{
	struct send_arg *a = arg;
	unsigned int i;
	int r = 0;

	zk_sleep(io, a->delay_ms * MS);
	for (i = 0; i < a->count && !r; i++)
		r = zk_chan_send(io, a->ch, &a->value);
	return r;
}

static int t_select_basic(struct zt_ctx *c)
{
	struct zk_chan *c1 = zk_chan_new(sizeof(int), 1), *c2 = zk_chan_new(sizeof(int), 1);
	struct send_arg a = { .value = 42, .delay_ms = 20, .count = 1 };
	struct zk_future *sleep = zk_future_new();
	struct zk_select_case cs[3];
	int v1 = -1, v2 = -1, r;
	struct zt_peer p;
	struct zk_io *io;

	ZT_CHECK(c, c1 && c2 && sleep && zt_io(c, &io) == 0, "init");
	cs[0] = (struct zk_select_case){ .kind = ZK_CASE_RECV, .ch = c1, .elem = &v1 };
	cs[1] = (struct zk_select_case){ .kind = ZK_CASE_RECV, .ch = c2, .elem = &v2 };
	/* Timeout: nothing is consumed, the withdrawn waits steal nothing. */
	r = zk_select(io, cs, 2, 30 * MS);
	ZT_CHECK(c, r == -ETIME, "select on empty channels: %d", r);
	ZT_CHECK(c, zk_select(io, cs, 2, 0) == -ETIME, "poll");
	r = 5;
	zk_chan_send(io, c2, &r);
	ZT_CHECK(c, zk_select(io, cs, 2, -1) == 1 && v2 == 5, "ready at once: v2 %d", v2);
	/* A peer's send wakes the select. */
	a.ch = c2;
	ZT_CHECK(c, zt_peer_start(c, io, &p, send_later, &a) == 0, "peer");
	r = zk_select(io, cs, 2, 5000 * MS);
	ZT_CHECK(c, r == 1 && v2 == 42 && v1 == -1, "select: %d, v1 %d v2 %d", r, v1, v2);
	ZT_CHECK(c, zt_peer_join(io, &p) == 0, "peer");
	/* A future beats an idle channel; a send case on a full channel waits. */
	v1 = 9;
	zk_chan_send(io, c1, &v1);
	ZT_CHECK(c, zk_sleep_async(io, sleep, 10 * MS) == 0, "sleep");
	cs[0] = (struct zk_select_case){ .kind = ZK_CASE_SEND, .ch = c1, .elem = &v1 };
	cs[2] = (struct zk_select_case){ .kind = ZK_CASE_FUTURE, .f = sleep };
	r = zk_select(io, cs, 3, 5000 * MS);
	ZT_CHECK(c, r == 2 && cs[2].result == 0, "future case: %d", r);
	ZT_CHECK(c, zk_chan_len(c1) == 1 && zk_chan_len(c2) == 0, "channels touched");
	zk_future_free(io, sleep);
	zk_chan_free(c1);
	zk_chan_free(c2);
	zk_io_exit(io);
	return ZT_PASS;
}

/* Two senders, one select loop receiving from both: none lost. */
static int t_select_stream(struct zt_ctx *c)
{
	struct zk_chan *ch[2] = { zk_chan_new(sizeof(int), 2), zk_chan_new(sizeof(int), 0) };
	unsigned int n = zt_scaled(c, 20000), got[2] = { 0, 0 }, i;
	struct send_arg a[2];
	struct zk_select_case cs[2];
	struct zt_peer p[2];
	struct zk_io *io;
	int v[2];

	ZT_CHECK(c, ch[0] && ch[1] && zt_io(c, &io) == 0, "init");
	for (i = 0; i < 2; i++) {
		a[i] = (struct send_arg){ .ch = ch[i], .value = (int)i + 1, .count = n };
		cs[i] = (struct zk_select_case){ .kind = ZK_CASE_RECV, .ch = ch[i], .elem = &v[i] };
		ZT_CHECK(c, zt_peer_start(c, io, &p[i], send_later, &a[i]) == 0, "peer");
	}
	for (i = 0; i < 2 * n; i++) {
		int r = zk_select(io, cs, 2, 10000 * MS);

		ZT_CHECK(c, r == 0 || r == 1, "select %u: %d", i, r);
		ZT_CHECK(c, v[r] == r + 1, "case %d carried %d", r, v[r]);
		got[r]++;
	}
	for (i = 0; i < 2; i++)
		ZT_CHECK(c, zt_peer_join(io, &p[i]) == 0, "peer %u", i);
	ZT_CHECK(c, got[0] == n && got[1] == n, "got %u + %u of %u each", got[0], got[1], n);
	ZT_CHECK(c, zk_chan_len(ch[0]) == 0, "left over");
	zk_chan_free(ch[0]);
	zk_chan_free(ch[1]);
	zk_io_exit(io);
	return ZT_PASS;
}

const struct zt_test zt_prim_tests[] = {
	{ "chan_bounded", t_chan_bounded },
	{ "chan_unbounded", t_chan_unbounded },
	{ "chan_million", t_chan_million },
	{ "chan_rendezvous", t_chan_rendezvous },
	{ "chan_close_wakes", t_chan_close_wakes },
	{ "mutex", t_mutex },
	{ "mutex_starve", t_mutex_starve },
	{ "cond", t_cond },
	{ "semaphore", t_sem },
	{ "wait_group", t_wait_group },
	{ "select_basic", t_select_basic },
	{ "select_stream", t_select_stream },
};
const unsigned int zt_prim_count = sizeof(zt_prim_tests) / sizeof(zt_prim_tests[0]);
