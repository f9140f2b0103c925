// SPDX-License-Identifier: MIT
/*
 * io-suite-mn.c - the M:N executor (ZK_EXEC_STACKLESS_MN) under load:
 * state machines on every worker passing a million channel messages,
 * 100,000 tasks spread over the workers, cancellation from one worker of
 * tasks waiting on another's ring, and a stress run where tasks migrate,
 * get stolen and cancel each other.  Other executors skip these (the
 * rest of the suite runs on M:N too).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io-suite.h"

#define MS	1000000LL

static int skip_unless_mn(struct zt_ctx *c)
{
	if (c->opts.executor == ZK_EXEC_STACKLESS_MN)
		return ZT_PASS;
	snprintf(c->msg, sizeof(c->msg), "M:N executor only");
	return ZT_SKIP;
}

/* Distinct values among @n thread ids (sorted in place). */
static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static unsigned int distinct(unsigned long *v, size_t n)
{
	unsigned int d = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_ul);
	for (i = 0; i < n; i++)
		d += !i || v[i] != v[i - 1];
	return d;
}

/* ------------------------------------------------------------------ */
/* A million messages between state machines on different workers      */
/* ------------------------------------------------------------------ */

enum { NPROD = 4, NCONS = 4 };

struct mn_stream {
	struct zk_chan *ch;
	uint8_t *seen;
	unsigned int per;		/* messages per producer */
	int producing;			/* atomic: producers still running */
};

struct mn_party {
	struct mn_stream *s;
	struct zk_future *f;
	unsigned int id, i;
	uint64_t m;
	bool waiting;
	int64_t got;
};

static int64_t produce_step(struct zk_io *io, void *arg)
{
	struct mn_party *p = arg;
	struct mn_stream *s = p->s;

	if (p->waiting) {
		p->waiting = false;
		if (zk_future_result(p->f))
			return zk_future_result(p->f);
		p->i++;
	}
	if (p->i < s->per) {
		p->m = (uint64_t)p->id << 32 | p->i;
		p->waiting = true;
		zk_chan_send_async(io, p->f, s->ch, &p->m);
		return zk_pending(io, p->f);
	}
	/* The last producer closes the channel: the consumers drain it. */
	if (__atomic_sub_fetch(&s->producing, 1, __ATOMIC_ACQ_REL) == 0)
		zk_chan_close(io, s->ch);
	return 0;
}

static int64_t consume_step(struct zk_io *io, void *arg)
{
	struct mn_party *p = arg;
	struct mn_stream *s = p->s;

	if (p->waiting) {
		int64_t r = zk_future_result(p->f);
		size_t idx;

		p->waiting = false;
		if (r)
			return r == -EPIPE ? 0 : r;
		idx = (size_t)(p->m >> 32) * s->per + (uint32_t)p->m;
		if ((p->m >> 32) >= NPROD || (uint32_t)p->m >= s->per)
			return -ERANGE;
		if (__atomic_fetch_add(&s->seen[idx], 1, __ATOMIC_RELAXED))
			return -EEXIST;		/* a duplicate */
		p->got++;
	}
	p->waiting = true;
	zk_chan_recv_async(io, p->f, s->ch, &p->m);
	return zk_pending(io, p->f);
}

static int t_mn_chan_million(struct zt_ctx *c)
{
	struct mn_party prod[NPROD], cons[NCONS];
	struct zk_future *pf[NPROD], *cf[NCONS];
	struct mn_stream s = { .per = zt_scaled(c, 1000000) / NPROD, .producing = NPROD };
	unsigned int i, total = s.per * NPROD;
	struct zk_io *io;
	int64_t got = 0;
	int r = skip_unless_mn(c);

	if (r)
		return r;
	s.ch = zk_chan_new(sizeof(uint64_t), 64);
	s.seen = calloc(total, 1);
	ZT_CHECK(c, s.ch && s.seen && zt_io(c, &io) == 0, "init");
	for (i = 0; i < NCONS; i++) {
		cons[i] = (struct mn_party){ .s = &s, .f = zk_future_new() };
		cf[i] = zk_async_step(io, consume_step, &cons[i]);
		ZT_CHECK(c, cons[i].f && cf[i], "consumer %u", i);
	}
	for (i = 0; i < NPROD; i++) {
		prod[i] = (struct mn_party){ .s = &s, .id = i, .f = zk_future_new() };
		pf[i] = zk_async_step(io, produce_step, &prod[i]);
		ZT_CHECK(c, prod[i].f && pf[i], "producer %u", i);
	}
	for (i = 0; i < NPROD; i++) {
		r = (int)zk_await(io, pf[i]);
		ZT_CHECK(c, r == 0, "producer %u: %d", i, r);
		zk_future_free(io, pf[i]);
		zk_future_free(io, prod[i].f);
	}
	for (i = 0; i < NCONS; i++) {
		r = (int)zk_await(io, cf[i]);
		ZT_CHECK(c, r == 0, "consumer %u: %d", i, r);
		got += cons[i].got;
		zk_future_free(io, cf[i]);
		zk_future_free(io, cons[i].f);
	}
	ZT_CHECK(c, got == (int64_t)total, "received %lld of %u", (long long)got, total);
	for (i = 0; i < total; i++)
		ZT_CHECK(c, s.seen[i] == 1, "message %u seen %u times", i, s.seen[i]);
	free(s.seen);
	zk_chan_free(s.ch);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* 100,000 tasks over all the workers                                  */
/* ------------------------------------------------------------------ */

struct spread {
	unsigned long *ran_on;		/* each task's thread */
	struct zk_wg *wg;
	unsigned int n;
	int next;			/* atomic: slot of the next task */
};

static int64_t spread_step(struct zk_io *io, void *arg)
{
	struct spread *s = arg;
	int i = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED);
	volatile unsigned int spin = 0;

	while (spin < 200)	/* a little work: long enough to be stolen */
		spin++;
	s->ran_on[i] = (unsigned long)pthread_self();
	zk_wg_done(io, s->wg);
	return i;
}

static int t_mn_spread(struct zt_ctx *c)
{
	struct spread s = { .n = zt_scaled(c, 100000) };
	struct zk_future **f;
	struct zk_io *io;
	unsigned int i, d;
	int r = skip_unless_mn(c);

	if (r)
		return r;
	s.wg = zk_wg_new();
	s.ran_on = calloc(s.n, sizeof(*s.ran_on));
	f = calloc(s.n, sizeof(*f));
	ZT_CHECK(c, s.ran_on && f && s.wg && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zk_wg_add(io, s.wg, (int)s.n) == 0, "wg add");
	for (i = 0; i < s.n; i++) {
		f[i] = zk_async_step(io, spread_step, &s);
		ZT_CHECK(c, f[i], "spawn %u", i);
	}
	ZT_CHECK(c, zk_wg_wait(io, s.wg) == 0, "wg wait");
	for (i = 0; i < s.n; i++) {
		int64_t v = zk_await(io, f[i]);

		ZT_CHECK(c, v >= 0 && v < (int64_t)s.n, "task %u: %lld", i, (long long)v);
		zk_future_free(io, f[i]);
	}
	ZT_CHECK(c, __atomic_load_n(&s.next, __ATOMIC_RELAXED) == (int)s.n, "ran %d of %u",
		 s.next, s.n);
	d = distinct(s.ran_on, s.n);
	ZT_CHECK(c, d == c->opts.threads, "ran on %u threads of %u", d, c->opts.threads);
	free(s.ran_on);
	free(f);
	zk_wg_free(s.wg);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Cancellation across workers                                         */
/* ------------------------------------------------------------------ */

enum { NSLEEP = 32 };

struct xcancel {
	struct zk_wg *asleep;		/* every sleeper's op is in flight */
	struct zk_token *tok[NSLEEP];	/* the sleepers' tokens */
	struct zk_future *sf[NSLEEP];	/* their sleeps */
	int state[NSLEEP];
};

struct xsleeper {
	struct xcancel *x;
	int i;
};

static int64_t xsleep_step(struct zk_io *io, void *arg)
{
	struct xsleeper *s = arg;
	struct xcancel *x = s->x;

	if (x->state[s->i]++)
		return zk_future_result(x->sf[s->i]);
	__atomic_store_n(&x->tok[s->i], zk_current_token(io), __ATOMIC_RELEASE);
	if (zk_sleep_async(io, x->sf[s->i], 10000 * MS))
		return -1;
	zk_wg_done(io, x->asleep);
	return zk_pending(io, x->sf[s->i]);
}

/* Cancels every sleeper from whatever worker it runs on. */
static int64_t xcancel_step(struct zk_io *io, void *arg)
{
	struct xcancel *x = arg;
	int i, n = 0;

	for (i = 0; i < NSLEEP; i++)
		n += zk_token_cancel(io, __atomic_load_n(&x->tok[i], __ATOMIC_ACQUIRE)) == 0;
	return n;
}

static int t_mn_cancel_across(struct zt_ctx *c)
{
	struct xcancel x = { 0 };
	struct xsleeper s[NSLEEP];
	struct zk_future *f[NSLEEP], *cf;
	struct zk_io *io;
	int64_t t0, r;
	int i;

	if ((i = skip_unless_mn(c)))
		return i;
	x.asleep = zk_wg_new();
	ZT_CHECK(c, x.asleep && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zk_wg_add(io, x.asleep, NSLEEP) == 0, "wg");
	t0 = zt_now_ms();
	for (i = 0; i < NSLEEP; i++) {
		s[i] = (struct xsleeper){ .x = &x, .i = i };
		x.sf[i] = zk_future_new();
		f[i] = zk_async_step(io, xsleep_step, &s[i]);
		ZT_CHECK(c, x.sf[i] && f[i], "spawn %d", i);
	}
	ZT_CHECK(c, zk_wg_wait(io, x.asleep) == 0, "wait for the sleeps");
	/* One canceller task, on one worker: the sleeps are spread over all. */
	cf = zk_async_step(io, xcancel_step, &x);
	ZT_CHECK(c, cf, "canceller");
	r = zk_await(io, cf);
	ZT_CHECK(c, r == NSLEEP, "cancelled %lld of %d", (long long)r, NSLEEP);
	zk_future_free(io, cf);
	for (i = 0; i < NSLEEP; i++) {
		r = zk_await(io, f[i]);
		ZT_CHECK(c, r == -ECANCELED, "sleeper %d: %lld", i, (long long)r);
		zk_future_free(io, f[i]);
		zk_future_free(io, x.sf[i]);
	}
	ZT_CHECK(c, zt_now_ms() - t0 < 9000, "cancellation took %lld ms",
		 (long long)(zt_now_ms() - t0));
	zk_wg_free(x.asleep);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Stress: tasks migrate, get stolen and cancel each other             */
/* ------------------------------------------------------------------ */

enum { NSTRESS = 64 };

struct stress {
	struct zk_chan *ch;		/* unbounded: a send never waits */
	struct zk_token *tok[NSTRESS];	/* atomic: each task's own token */
	uint8_t *seen;			/* each message received at most once */
	unsigned int rounds;
	int64_t sent, recvd;		/* atomics */
	int moves;			/* atomic: steps on another thread */
};

struct stresser {
	struct stress *s;
	struct zk_future *f;		/* channel ops */
	struct zk_future *op;		/* sleeps: an op future cannot be a channel's */
	unsigned int i, round, phase;
	uint64_t out, in;
	unsigned long last;
};

/* Cancel a task now and then: cancelled tasks end with -ECANCELED. */
static void stress_cancel(struct zk_io *io, struct stresser *t)
{
	struct stress *s = t->s;
	unsigned int j = (t->i * 7 + t->round) % NSTRESS;
	struct zk_token *tok;

	if ((t->i * 31 + t->round * 17) % 211)
		return;
	tok = __atomic_load_n(&s->tok[j], __ATOMIC_ACQUIRE);
	if (tok)
		zk_token_cancel(io, tok);
}

static int64_t stress_step(struct zk_io *io, void *arg)
{
	struct stresser *t = arg;
	struct stress *s = t->s;
	unsigned long self = (unsigned long)pthread_self();
	int64_t r = t->phase ? zk_future_result(t->phase == 2 ? t->op : t->f) : 0;

	if (t->last && t->last != self)
		__atomic_add_fetch(&s->moves, 1, __ATOMIC_RELAXED);
	t->last = self;
	switch (t->phase) {
	case 0:
		__atomic_store_n(&s->tok[t->i], zk_current_token(io), __ATOMIC_RELEASE);
		break;
	case 1:		/* sent */
		if (r)
			return r;
		__atomic_add_fetch(&s->sent, 1, __ATOMIC_RELAXED);
		if (t->round % 3 == 0) {	/* a kernel op now and then */
			t->phase = 2;
			if (zk_sleep_async(io, t->op, (int64_t)(t->round % 5) * 20000))
				return zk_future_result(t->op);
			return zk_pending(io, t->op);
		}
		/* fall through */
	case 2:		/* slept */
		if (r)
			return r;
		t->phase = 3;
		zk_chan_recv_async(io, t->f, s->ch, &t->in);
		return zk_pending(io, t->f);
	case 3:		/* received */
		if (r)
			return r;
		if (t->in >= (uint64_t)NSTRESS * s->rounds ||
		    __atomic_fetch_add(&s->seen[t->in], 1, __ATOMIC_RELAXED))
			return -EEXIST;
		__atomic_add_fetch(&s->recvd, 1, __ATOMIC_RELAXED);
		t->round++;
		break;
	}
	if (t->round == s->rounds)
		return (int64_t)t->round;
	stress_cancel(io, t);
	t->phase = 1;
	t->out = (uint64_t)t->i * s->rounds + t->round;
	zk_chan_send_async(io, t->f, s->ch, &t->out);
	return zk_pending(io, t->f);
}

static int t_mn_stress(struct zt_ctx *c)
{
	struct stress s = { .rounds = zt_scaled(c, 400) };
	struct stresser t[NSTRESS];
	struct zk_future *f[NSTRESS];
	unsigned int i, done = 0, cancelled = 0;
	int64_t drained = 0;
	struct zk_io *io;
	uint64_t m;
	int r = skip_unless_mn(c);

	if (r)
		return r;
	s.ch = zk_chan_new_unbounded(sizeof(uint64_t));
	s.seen = calloc((size_t)NSTRESS * s.rounds, 1);
	ZT_CHECK(c, s.ch && s.seen && zt_io(c, &io) == 0, "init");
	for (i = 0; i < NSTRESS; i++) {
		t[i] = (struct stresser){ .s = &s, .i = i, .f = zk_future_new(),
					  .op = zk_future_new() };
		f[i] = zk_async_step(io, stress_step, &t[i]);
		ZT_CHECK(c, t[i].f && t[i].op && f[i], "spawn %u", i);
	}
	for (i = 0; i < NSTRESS; i++) {
		int64_t v = zk_await(io, f[i]);

		ZT_CHECK(c, v == (int64_t)s.rounds || v == -ECANCELED, "task %u: %lld phase %u round %u",
			 i, (long long)v, t[i].phase, t[i].round);
		done += v == (int64_t)s.rounds;
		cancelled += v == -ECANCELED;
	}
	/* Nothing lost: what was sent was received, or is still queued. */
	while (zk_chan_try_recv(io, s.ch, &m) == 0) {
		ZT_CHECK(c, m < (uint64_t)NSTRESS * s.rounds && !s.seen[m]++,
			 "drained %llu twice", (unsigned long long)m);
		drained++;
	}
	ZT_CHECK(c, s.sent == s.recvd + drained, "sent %lld, received %lld + %lld",
		 (long long)s.sent, (long long)s.recvd, (long long)drained);
	ZT_CHECK(c, cancelled > 0 && done + cancelled == NSTRESS,
		 "%u done, %u cancelled", done, cancelled);
	for (i = 0; i < NSTRESS; i++) {
		zk_future_free(io, f[i]);
		zk_future_free(io, t[i].f);
		zk_future_free(io, t[i].op);
	}
	free(s.seen);
	zk_chan_free(s.ch);
	zk_io_exit(io);
	return ZT_PASS;
}

const struct zt_test zt_mn_tests[] = {
	{ "mn_chan_million", t_mn_chan_million },
	{ "mn_spread", t_mn_spread },
	{ "mn_cancel_across", t_mn_cancel_across },
	{ "mn_stress", t_mn_stress },
};
const unsigned int zt_mn_count = sizeof(zt_mn_tests) / sizeof(zt_mn_tests[0]);
