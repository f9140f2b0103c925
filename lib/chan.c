// SPDX-License-Identifier: MIT
/*
 * Channels: a ring buffer of fixed-size elements plus queues of waiting
 * senders and receivers, all under one lock.  A receiver arriving while
 * senders wait takes from the buffer and moves the first sender's element
 * in (or, with no buffer, takes it straight from the sender); a sender
 * arriving while receivers wait hands its element straight over.  So an
 * element is copied exactly once into its receiver, and every send is
 * received at most once: none lost, none duplicated.
 *
 * Allocation: the buffer at zk_chan_new(); an unbounded channel doubles it
 * (realloc) when full, and that is the only allocation after creation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

#define UNBOUNDED_START	16

struct zk_chan {
	pthread_mutex_t lock;
	size_t esz;
	size_t cap;		/* bounded: fixed; unbounded: current buffer */
	bool unbounded;
	bool closed;
	char *buf;
	size_t head, count;
	struct zk_list sendq, recvq;
};

static struct zk_chan *chan_alloc(size_t esz, size_t cap, bool unbounded)
{
	struct zk_chan *ch;

	if (!esz) {
		errno = EINVAL;
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		goto nomem;
	if (cap) {
		ch->buf = malloc(esz * cap);
		if (!ch->buf) {
			free(ch);
			goto nomem;
		}
	}
	pthread_mutex_init(&ch->lock, NULL);
	ch->esz = esz;
	ch->cap = cap;
	ch->unbounded = unbounded;
	zk_list_init(&ch->sendq);
	zk_list_init(&ch->recvq);
	return ch;
nomem:
	errno = ENOMEM;
	return NULL;
}

struct zk_chan *zk_chan_new(size_t elem_size, size_t capacity)
{
	return chan_alloc(elem_size, capacity, false);
}

struct zk_chan *zk_chan_new_unbounded(size_t elem_size)
{
	return chan_alloc(elem_size, UNBOUNDED_START, true);
}

void zk_chan_free(struct zk_chan *ch)
{
	if (!ch)
		return;
	pthread_mutex_destroy(&ch->lock);
	free(ch->buf);
	free(ch);
}

/* Without a division: head + i < 2 * cap, and a divide costs ~30 cycles. */
static void *slot(struct zk_chan *ch, size_t i)
{
	size_t n = ch->head + i;

	return ch->buf + (n < ch->cap ? n : n - ch->cap) * ch->esz;
}

/* Elements are most often a word: copy one without calling memcpy(). */
static void copy_elem(const struct zk_chan *ch, void *to, const void *from)
{
	if (ch->esz == sizeof(uint64_t))
		memcpy(to, from, sizeof(uint64_t));
	else
		memcpy(to, from, ch->esz);
}

/* Unbounded: double the buffer, unrolling the ring into the new one. */
static int grow(struct zk_chan *ch)
{
	size_t ncap = ch->cap * 2, first;
	char *nbuf;

	if (ncap < ch->cap)
		return -ENOMEM;
	nbuf = malloc(ncap * ch->esz);
	if (!nbuf)
		return -ENOMEM;
	first = ch->cap - ch->head < ch->count ? ch->cap - ch->head : ch->count;
	memcpy(nbuf, ch->buf + ch->head * ch->esz, first * ch->esz);
	memcpy(nbuf + first * ch->esz, ch->buf, (ch->count - first) * ch->esz);
	free(ch->buf);
	ch->buf = nbuf;
	ch->cap = ncap;
	ch->head = 0;
	return 0;
}

static void push(struct zk_chan *ch, const void *elem)
{
	copy_elem(ch, slot(ch, ch->count), elem);
	ch->count++;
}

static void pop(struct zk_chan *ch, void *elem)
{
	copy_elem(ch, elem, slot(ch, 0));
	ch->head = ch->head + 1 < ch->cap ? ch->head + 1 : 0;
	ch->count--;
}

/*
 * Send under the lock.  Returns 0 (sent), -EPIPE, -ENOMEM or -EAGAIN (it
 * would wait); completions owed to others go to @done.
 */
static int send_locked(struct zk_chan *ch, const void *elem, struct zk_list *done)
{
	struct zk_future *r;

	if (ch->closed)
		return -EPIPE;
	r = zk_prim_take(&ch->recvq, done);
	if (r) {
		copy_elem(ch, r->pw.elem, elem);
		zk_prim_finish(done, r, 0);
		return 0;
	}
	if (ch->count == ch->cap) {
		if (!ch->unbounded)
			return -EAGAIN;
		if (grow(ch))
			return -ENOMEM;
	}
	push(ch, elem);
	return 0;
}

/* Receive under the lock: 0, -EPIPE (closed and drained) or -EAGAIN. */
static int recv_locked(struct zk_chan *ch, void *elem, struct zk_list *done)
{
	struct zk_future *s;

	if (ch->count) {
		pop(ch, elem);
		s = zk_prim_take(&ch->sendq, done);
		if (s) {	/* its element takes the freed slot */
			push(ch, s->pw.elem);
			zk_prim_finish(done, s, 0);
		}
		return 0;
	}
	s = zk_prim_take(&ch->sendq, done);
	if (s) {		/* no buffer: straight from the sender */
		copy_elem(ch, elem, s->pw.elem);
		zk_prim_finish(done, s, 0);
		return 0;
	}
	return ch->closed ? -EPIPE : -EAGAIN;
}

/* For zk_select(), which holds the locks of all its channels at once. */
void zk_chan_lock(struct zk_chan *ch)
{
	pthread_mutex_lock(&ch->lock);
}

void zk_chan_unlock(struct zk_chan *ch)
{
	pthread_mutex_unlock(&ch->lock);
}

int zk_chan_try_locked(struct zk_chan *ch, void *elem, bool is_send,
		       struct zk_list *done)
{
	return is_send ? send_locked(ch, elem, done) : recv_locked(ch, elem, done);
}

void zk_chan_enqueue_locked(struct zk_chan *ch, struct zk_future *f, void *elem,
			    bool is_send, uint32_t *claim)
{
	zk_prim_enqueue(&ch->lock, is_send ? &ch->sendq : &ch->recvq, f, elem, claim,
			is_send ? ZK_WAIT_CHAN_SEND : ZK_WAIT_CHAN_RECV);
}

/*
 * A send (@is_send) or receive now if it can be done at once, else (with
 * @f) queue @f to wait.  Returns the try's result: -EAGAIN, with @f, means
 * @f was queued.
 */
static int chan_try_or_queue(struct zk_io *io, struct zk_future *f, struct zk_chan *ch,
			     void *elem, bool is_send)
{
	struct zk_list done;
	int ret;

	zk_list_init(&done);
	pthread_mutex_lock(&ch->lock);
	ret = zk_chan_try_locked(ch, elem, is_send, &done);
	if (ret == -EAGAIN && f)
		zk_chan_enqueue_locked(ch, f, elem, is_send, NULL);
	pthread_mutex_unlock(&ch->lock);
	zk_prim_complete_all(io, &done);
	return ret;
}

/*
 * Start a send (@is_send) or receive on @f, which completes at once when
 * it can, else waits in the queue.  Returns 0, or -EAGAIN when @f is NULL
 * (try) and it would wait, or the error of a try.
 */
static int chan_op_start(struct zk_io *io, struct zk_future *f, struct zk_chan *ch,
			 void *elem, bool is_send)
{
	int ret = chan_try_or_queue(io, f, ch, elem, is_send);

	if (f && ret != -EAGAIN)
		zk_future_prim_done(f, ret);
	return f && ret == -EAGAIN ? 0 : ret;
}

int zk_chan_send_async(struct zk_io *io, struct zk_future *f,
		       struct zk_chan *ch, const void *elem)
{
	return chan_op_start(io, f, ch, (void *)elem, true);
}

int zk_chan_recv_async(struct zk_io *io, struct zk_future *f,
		       struct zk_chan *ch, void *elem)
{
	return chan_op_start(io, f, ch, elem, false);
}

/*
 * A send or receive that waits.  Done at once, it never touches @f: the
 * future is only set up (by zk_prim_enqueue()) when it has to wait.
 */
static int chan_wait_op(struct zk_io *io, struct zk_chan *ch, void *elem, bool is_send)
{
	struct zk_future f;
	int ret;

	f.heap = false;		/* all zk_prim_enqueue() keeps of it */
	ret = chan_try_or_queue(io, &f, ch, elem, is_send);
	if (ret != -EAGAIN)
		return ret;
	return (int)zk_await(io, &f);
}

int zk_chan_send(struct zk_io *io, struct zk_chan *ch, const void *elem)
{
	return chan_wait_op(io, ch, (void *)elem, true);
}

int zk_chan_recv(struct zk_io *io, struct zk_chan *ch, void *elem)
{
	return chan_wait_op(io, ch, elem, false);
}

int zk_chan_try_send(struct zk_io *io, struct zk_chan *ch, const void *elem)
{
	return chan_op_start(io, NULL, ch, (void *)elem, true);
}

int zk_chan_try_recv(struct zk_io *io, struct zk_chan *ch, void *elem)
{
	return chan_op_start(io, NULL, ch, elem, false);
}

int zk_chan_close(struct zk_io *io, struct zk_chan *ch)
{
	struct zk_list done;
	struct zk_future *f;
	bool was_closed;

	zk_list_init(&done);
	pthread_mutex_lock(&ch->lock);
	was_closed = ch->closed;
	ch->closed = true;
	/* Receivers only wait on an empty buffer: they all get -EPIPE. */
	while ((f = zk_prim_take(&ch->recvq, &done)))
		zk_prim_finish(&done, f, -EPIPE);
	while ((f = zk_prim_take(&ch->sendq, &done)))
		zk_prim_finish(&done, f, -EPIPE);
	pthread_mutex_unlock(&ch->lock);
	zk_prim_complete_all(io, &done);
	return was_closed ? -EPIPE : 0;
}

size_t zk_chan_len(struct zk_chan *ch)
{
	size_t n;

	pthread_mutex_lock(&ch->lock);
	n = ch->count;
	pthread_mutex_unlock(&ch->lock);
	return n;
}
