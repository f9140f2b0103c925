// SPDX-License-Identifier: MIT
/*
 * Hierarchical cancellation tokens.  A token records the waiters waiting
 * under it; cancelling it marks it and its whole subtree and wakes those
 * waiters, each of which then cancels what it waits on from its own
 * thread (zk_await_internal()).  All tokens of one tree share a lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

static struct zk_token_tree *tree_new(void)
{
	struct zk_token_tree *tr = malloc(sizeof(*tr));

	if (!tr)
		return NULL;
	pthread_mutex_init(&tr->lock, NULL);
	tr->refs = 1;
	return tr;
}

static void tree_put_locked(struct zk_token_tree *tr)
{
	bool last = --tr->refs == 0;

	pthread_mutex_unlock(&tr->lock);
	if (last) {
		pthread_mutex_destroy(&tr->lock);
		free(tr);
	}
}

int zk_token_init(struct zk_token *t, struct zk_token *parent)
{
	memset(t, 0, sizeof(*t));
	zk_list_init(&t->children);
	zk_list_init(&t->sibling);
	zk_list_init(&t->waiters);
	if (!parent) {
		t->tree = tree_new();
		return t->tree ? 0 : -ENOMEM;
	}
	t->tree = parent->tree;
	pthread_mutex_lock(&t->tree->lock);
	t->tree->refs++;
	t->parent = parent;
	zk_list_add_tail(&parent->children, &t->sibling);
	t->cancelled = parent->cancelled;
	pthread_mutex_unlock(&t->tree->lock);
	return 0;
}

void zk_token_destroy(struct zk_token *t)
{
	struct zk_token_tree *tr = t->tree;
	struct zk_list *n;

	if (!tr)
		return;
	pthread_mutex_lock(&tr->lock);
	/* Orphans keep their state; they no longer hear from us. */
	while ((n = zk_list_pop(&t->children)))
		zk_container_of(n, struct zk_token, sibling)->parent = NULL;
	if (t->parent)
		zk_list_del(&t->sibling);
	t->tree = NULL;
	tree_put_locked(tr);
}

struct zk_token *zk_token_new(struct zk_token *parent)
{
	struct zk_token *t = malloc(sizeof(*t));

	if (!t || zk_token_init(t, parent)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->heap = true;
	return t;
}

void zk_token_free(struct zk_token *t)
{
	if (!t)
		return;
	zk_token_destroy(t);
	free(t);
}

/* Mark @t's subtree and wake its waiters; the tree lock is held. */
static void cancel_subtree(struct zk_io *io, struct zk_token *t)
{
	struct zk_list *n;

	__atomic_store_n(&t->cancelled, 1, __ATOMIC_SEQ_CST);
	while ((n = zk_list_pop(&t->waiters))) {
		struct zk_waiter *w = zk_container_of(n, struct zk_waiter, tlink);

		w->in_token = false;
		zk_waiter_wake(io, w);
	}
	for (n = t->children.next; n != &t->children; n = n->next)
		cancel_subtree(io, zk_container_of(n, struct zk_token, sibling));
}

int zk_token_cancel(struct zk_io *io, struct zk_token *t)
{
	int ret = 0;

	pthread_mutex_lock(&t->tree->lock);
	if (t->cancelled)
		ret = -EALREADY;
	else
		cancel_subtree(io, t);
	pthread_mutex_unlock(&t->tree->lock);
	return ret;
}

bool zk_token_cancelled(const struct zk_token *t)
{
	return t && __atomic_load_n(&t->cancelled, __ATOMIC_ACQUIRE);
}

bool zk_token_watch(struct zk_token *t, struct zk_waiter *w)
{
	bool ok;

	pthread_mutex_lock(&t->tree->lock);
	ok = !t->cancelled;
	if (ok) {
		w->tok = t;
		w->in_token = true;
		zk_list_add_tail(&t->waiters, &w->tlink);
	}
	pthread_mutex_unlock(&t->tree->lock);
	return ok;
}

unsigned int zk_token_unwatch(struct zk_token *t, struct zk_waiter *w)
{
	unsigned int taken;

	pthread_mutex_lock(&t->tree->lock);
	taken = !w->in_token;
	if (w->in_token) {
		zk_list_del(&w->tlink);
		w->in_token = false;
	}
	pthread_mutex_unlock(&t->tree->lock);
	return taken;
}

struct zk_token *zk_current_token(struct zk_io *io)
{
	return io->cur ? &io->cur->token : NULL;
}

bool zk_cancelled(struct zk_io *io)
{
	return zk_token_cancelled(zk_current_token(io));
}
