// SPDX-License-Identifier: MIT
/*
 * zk_select(): wait for the first of several futures, channel operations
 * and a timeout.  Channel cases are queued with a shared claim word; a
 * counterparty acts on one of them only if it wins that word, and the
 * select itself wins it before declaring a future, the timeout or a
 * cancellation the winner.  So exactly one channel operation (or none)
 * happens.  While it registers, the select holds the locks of all its
 * channels (in address order), so none of its cases can be claimed before
 * it has decided whether one can go at once.
 */
#include <errno.h>
#include <stdlib.h>

#include "io_internal.h"

#define ZK_SELECT_MAX	16

struct sel {
	struct zk_select_case *cases;
	unsigned int n;
	uint32_t claim;
	struct zk_future pf[ZK_SELECT_MAX];	/* channel cases' waits */
	struct zk_future tf;			/* the timeout */
	bool timed;
	struct zk_chan *locks[ZK_SELECT_MAX];
	unsigned int nlocks;
};

static bool is_chan(const struct zk_select_case *c)
{
	return c->kind == ZK_CASE_SEND || c->kind == ZK_CASE_RECV;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

static void lock_channels(struct sel *s)
{
	unsigned int i;

	s->nlocks = 0;
	for (i = 0; i < s->n; i++)
		if (is_chan(&s->cases[i]))
			s->locks[s->nlocks++] = s->cases[i].ch;
	qsort(s->locks, s->nlocks, sizeof(s->locks[0]), cmp_ptr);
	for (i = 0; i < s->nlocks; i++)
		if (!i || s->locks[i] != s->locks[i - 1])
			zk_chan_lock(s->locks[i]);
}

static void unlock_channels(struct sel *s)
{
	unsigned int i;

	for (i = 0; i < s->nlocks; i++)
		if (!i || s->locks[i] != s->locks[i - 1])
			zk_chan_unlock(s->locks[i]);
}

/*
 * Take the first case that can go now, else (if @queue) queue every
 * channel case.  Returns its index, or -1.
 */
static int try_or_queue(struct zk_io *io, struct sel *s, bool queue)
{
	struct zk_list done;
	unsigned int i;
	int winner = -1;

	zk_list_init(&done);
	lock_channels(s);
	for (i = 0; i < s->n && winner < 0; i++) {
		struct zk_select_case *c = &s->cases[i];
		int r;

		if (c->kind == ZK_CASE_FUTURE) {
			if (zk_fut_done(c->f)) {
				c->result = c->f->result;
				winner = (int)i;
			}
			continue;
		}
		r = zk_chan_try_locked(c->ch, c->elem, c->kind == ZK_CASE_SEND, &done);
		if (r != -EAGAIN) {
			c->result = r;
			winner = (int)i;
		}
	}
	for (i = 0; i < s->n && winner < 0 && queue; i++)
		if (is_chan(&s->cases[i]))
			zk_chan_enqueue_locked(s->cases[i].ch, &s->pf[i], s->cases[i].elem,
					       s->cases[i].kind == ZK_CASE_SEND,
					       &s->claim);
	unlock_channels(s);
	zk_prim_complete_all(io, &done);
	return winner;
}

static bool claim_for_us(struct sel *s)
{
	uint32_t zero = 0;

	return __atomic_compare_exchange_n(&s->claim, &zero, 1, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* The futures this select waits on: user futures, channel waits, timer. */
static struct zk_future *watched(struct sel *s, unsigned int i)
{
	if (i == s->n)
		return s->timed ? &s->tf : NULL;
	return s->cases[i].kind == ZK_CASE_FUTURE ? s->cases[i].f : &s->pf[i];
}

/*
 * Who won, if anyone yet: a channel case a counterparty completed for us,
 * or a future / the timeout / the token, once we hold the claim.
 * Returns an index, -ETIME, -ECANCELED, or -EAGAIN (not decided).
 */
static int decide(struct sel *s, bool cancelled)
{
	unsigned int i;
	bool any = cancelled;

	for (i = 0; i < s->n; i++) {
		struct zk_select_case *c = &s->cases[i];

		if (is_chan(c) && zk_fut_done(&s->pf[i]) && s->pf[i].result != -ECANCELED) {
			c->result = s->pf[i].result;
			return (int)i;
		}
		any |= c->kind == ZK_CASE_FUTURE && zk_fut_done(c->f);
	}
	any |= s->timed && zk_fut_done(&s->tf);
	if (!any || !claim_for_us(s))
		return -EAGAIN;	/* nothing yet, or a channel case is being won */
	if (cancelled)
		return -ECANCELED;
	for (i = 0; i < s->n; i++) {
		struct zk_select_case *c = &s->cases[i];

		if (c->kind == ZK_CASE_FUTURE && zk_fut_done(c->f)) {
			c->result = c->f->result;
			return (int)i;
		}
	}
	return -ETIME;
}

/* Withdraw the channel waits and the timer, and wait until all are done. */
static void withdraw(struct zk_io *io, struct sel *s)
{
	unsigned int i;
	bool all_done;

	for (i = 0; i < s->n; i++)
		if (is_chan(&s->cases[i]))
			zk_prim_cancel(io, &s->pf[i]);
	if (s->timed)
		zk_future_request_cancel(io, &s->tf);
	for (;;) {
		all_done = !s->timed || zk_fut_done(&s->tf);
		for (i = 0; i < s->n; i++)
			all_done &= !is_chan(&s->cases[i]) || zk_fut_done(&s->pf[i]);
		if (all_done)
			break;
		io->rt->eops->park(io);
	}
}

static int wait_for_winner(struct zk_io *io, struct sel *s)
{
	struct zk_token *tok = zk_current_token(io);
	bool attached[ZK_SELECT_MAX + 1] = { false };
	struct zk_wait_rec *rec;
	struct zk_waiter w;
	unsigned int i, expected = 0;
	bool watching = false;
	int winner;

	zk_waiter_init(&w, io, io->rt->eops->parkable(io));
	/* Only a successful attach can be taken, so only those are counted. */
	for (i = 0; i <= s->n; i++)
		if (watched(s, i))
			attached[i] = zk_waiter_attach(&w, watched(s, i));
	if (tok)
		watching = zk_token_watch(tok, &w);
	rec = zk_wait_begin(io, NULL, s->n);
	while ((winner = decide(s, zk_token_cancelled(tok))) == -EAGAIN)
		io->rt->eops->park(io);
	zk_wait_end(io, io->cur, rec, true);
	withdraw(io, s);
	for (i = 0; i <= s->n; i++)
		if (attached[i])
			expected += zk_waiter_detach(&w, watched(s, i));
	if (watching)
		expected += zk_token_unwatch(tok, &w);
	zk_waiter_quiesce(io, &w, expected);
	return winner;
}

static int check_cases(struct zk_select_case *cases, unsigned int n)
{
	unsigned int i;

	if (!n || n > ZK_SELECT_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (cases[i].kind == ZK_CASE_FUTURE) {
			if (!cases[i].f || cases[i].f->kind == ZK_F_IDLE)
				return -EINVAL;
			/* Someone else awaits it: we could not be woken. */
			if (!zk_fut_done(cases[i].f) &&
			    __atomic_load_n(&cases[i].f->wslot, __ATOMIC_ACQUIRE))
				return -EBUSY;
		} else if (!is_chan(&cases[i]) || !cases[i].ch || !cases[i].elem) {
			return -EINVAL;
		}
	}
	return 0;
}

int zk_select(struct zk_io *io, struct zk_select_case *cases, unsigned int n,
	      int64_t timeout_ns)
{
	struct sel s = { .cases = cases, .n = n };
	unsigned int i;
	int winner = check_cases(cases, n);

	if (winner)
		return winner;
	for (i = 0; i < n; i++)
		zk_future_init(&s.pf[i], ZK_F_IDLE);
	winner = try_or_queue(io, &s, timeout_ns != 0);
	if (winner >= 0)
		return winner;
	if (timeout_ns == 0)
		return -ETIME;
	if (timeout_ns > 0) {
		zk_future_init(&s.tf, ZK_F_IDLE);
		s.timed = zk_sleep_async(io, &s.tf, timeout_ns) == 0 || zk_fut_done(&s.tf);
	}
	return wait_for_winner(io, &s);
}
