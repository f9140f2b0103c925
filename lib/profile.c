// SPDX-License-Identifier: MIT
/*
 * The wait profiler: where tasks spend their time waiting.  While it is
 * on, every wait that ends adds its duration to a bucket of its worker's
 * table, keyed by the stack it waited on (unwound with backtrace(3) right
 * where the wait ends, still inside the wait, so the frames are those of
 * the suspension point) and what it waited for; a state machine has no
 * stack to unwind, so its key is its step function, the state it recorded
 * with zk_step_state() and what it waited for.
 *
 * Off, a wait pays one predictable branch (zk_wait_end() tests the
 * record's "timed" flag, false unless profiling was on when it began).
 * Each worker has its own table, so the threads of a pool never share a
 * bucket; its lock is taken only while profiling, by its own thread and
 * by zk_io_profile_write().  A table has a fixed number of buckets: they
 * are allocated by zk_io_profile_start(), never on the hot path.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_internal.h"

#define PROF_FRAMES	32
#define PROF_SLOTS	1024	/* a power of two */
#define PROF_SKIP	2	/* zk_prof_account(), zk_wait_end() */

struct prof_bucket {
	uint64_t hash;		/* 0: empty */
	uint64_t ns, waits;
	const void *step;	/* state machines: step function, state */
	int state;
	uint8_t kind, nframes;
	void *pcs[PROF_FRAMES];	/* innermost first */
};

struct zk_prof {
	pthread_mutex_t lock;
	uint64_t dropped_ns, dropped_waits;
	struct prof_bucket b[PROF_SLOTS];
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;	/* FNV-1a, a word at a time */
}

static uint64_t key_hash(const struct prof_bucket *k)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int i;

	h = mix(h, k->kind);
	h = mix(h, (uintptr_t)k->step);
	h = mix(h, (uint64_t)(unsigned int)k->state);
	for (i = 0; i < k->nframes; i++)
		h = mix(h, (uintptr_t)k->pcs[i]);
	return h | 1;
}

static bool same_key(const struct prof_bucket *a, const struct prof_bucket *k)
{
	return a->hash == k->hash && a->kind == k->kind && a->step == k->step &&
	       a->state == k->state && a->nframes == k->nframes &&
	       !memcmp(a->pcs, k->pcs, k->nframes * sizeof(k->pcs[0]));
}

/* Open addressing; a full table counts the wait as dropped. */
static void add(struct zk_prof *p, const struct prof_bucket *k, uint64_t ns)
{
	unsigned int i, slot = (unsigned int)k->hash & (PROF_SLOTS - 1);

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PROF_SLOTS; i++, slot = (slot + 1) & (PROF_SLOTS - 1)) {
		struct prof_bucket *b = &p->b[slot];

		if (!b->hash)
			*b = *k;
		else if (!same_key(b, k))
			continue;
		b->ns += ns;
		b->waits++;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->dropped_ns += ns;
	p->dropped_waits++;
	pthread_mutex_unlock(&p->lock);
}

void zk_prof_account(struct zk_io *io, struct zk_task *t,
		     const struct zk_wait_rec *r, bool on_stack)
{
	struct zk_prof *p = ZK_LOAD(&io->prof);
	int64_t ns = zk_mono_ns() - r->since;
	void *pcs[PROF_FRAMES + PROF_SKIP];
	struct prof_bucket k;
	int n = 0;

	if (!p)
		return;
	memset(&k, 0, sizeof(k));
	k.kind = r->kind;
	if (on_stack) {
		n = backtrace(pcs, PROF_FRAMES + PROF_SKIP) - PROF_SKIP;
		if (n > 0)
			memcpy(k.pcs, pcs + PROF_SKIP, (size_t)n * sizeof(pcs[0]));
		k.nframes = (uint8_t)(n > 0 ? n : 0);
	} else if (t) {
		k.step = (const void *)t->step;
		k.state = __atomic_load_n(&t->step_state, __ATOMIC_RELAXED);
	}
	k.hash = key_hash(&k);
	add(p, &k, ns > 0 ? (uint64_t)ns : 0);
}

/* ---- start, stop ----------------------------------------------------- */

static struct zk_io *worker_of(struct zk_runtime *rt, unsigned int i)
{
	return i ? &rt->workers[i - 1] : &rt->root;
}

static int tables_alloc(struct zk_runtime *rt)
{
	unsigned int i, n = 1 + rt->nworkers;
	struct zk_prof *p = calloc(n, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		pthread_mutex_init(&p[i].lock, NULL);
		ZK_STORE(&worker_of(rt, i)->prof, &p[i]);
	}
	rt->prof_tables = p;
	rt->prof_n = n;
	return 0;
}

static void tables_clear(struct zk_runtime *rt)
{
	unsigned int i;

	for (i = 0; i < rt->prof_n; i++) {
		struct zk_prof *p = &rt->prof_tables[i];

		pthread_mutex_lock(&p->lock);
		memset(p->b, 0, sizeof(p->b));
		p->dropped_ns = p->dropped_waits = 0;
		pthread_mutex_unlock(&p->lock);
	}
}

int zk_io_profile_start(struct zk_io *io)
{
	struct zk_runtime *rt = io->rt;

	if (!rt->prof_tables) {
		if (tables_alloc(rt))
			return -ENOMEM;
	} else {
		tables_clear(rt);
	}
	ZK_STORE_SC(&rt->profiling, 1);
	return 0;
}

void zk_io_profile_stop(struct zk_io *io)
{
	ZK_STORE_SC(&io->rt->profiling, 0);
}

void zk_prof_free(struct zk_runtime *rt)
{
	unsigned int i;

	for (i = 0; i < rt->prof_n; i++)
		pthread_mutex_destroy(&rt->prof_tables[i].lock);
	free(rt->prof_tables);
	free(rt->prof_path);
	rt->prof_tables = NULL;
	rt->prof_n = 0;
}

/* ---- folded stacks --------------------------------------------------- */

struct line {
	char *stack;
	uint64_t us;
};

struct lines {
	struct line *v;
	size_t n, cap;
};

/* Appends to a growing buffer; false once out of memory. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *ns = realloc(b->s, cap);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* A frame name never contains the format's separators. */
static void sb_frame(struct sbuf *b, const char *name)
{
	char clean[256];
	size_t i;

	snprintf(clean, sizeof(clean), "%s", name);
	for (i = 0; clean[i]; i++)
		if (clean[i] == ';' || clean[i] == ' ' || clean[i] == '\n')
			clean[i] = '_';
	if (b->len)
		sb_add(b, ";");
	sb_add(b, clean);
}

/* Outermost frame first; return addresses minus one name the call. */
static char *fold(const struct prof_bucket *k)
{
	struct sbuf b = { 0 };
	char name[256];
	int i;

	if (!k->nframes && k->step) {
		sb_frame(&b, "[state_machine]");
		zk_sym_name(k->step, name, sizeof(name), false);
		sb_frame(&b, name);
		snprintf(name, sizeof(name), "state_%d", k->state);
		sb_frame(&b, name);
	}
	for (i = k->nframes - 1; i >= 0; i--) {
		zk_sym_name((const char *)k->pcs[i] - 1, name, sizeof(name), false);
		sb_frame(&b, name);
	}
	snprintf(name, sizeof(name), "[%s]", zk_wait_name(k->kind));
	sb_frame(&b, name);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static int lines_add(struct lines *l, char *stack, uint64_t ns)
{
	if (!stack)
		return -ENOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct line *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			free(stack);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].stack = stack;
	l->v[l->n++].us = ns / 1000;
	return 0;
}

static int collect_table(struct zk_prof *p, struct lines *l)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PROF_SLOTS && !ret; i++)
		if (p->b[i].hash)
			ret = lines_add(l, fold(&p->b[i]), p->b[i].ns);
	if (!ret && p->dropped_waits)
		ret = lines_add(l, strdup("[dropped]"), p->dropped_ns);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

/* Sorted, and one line per stack: different call sites of one function
 * and different workers fold into the same name. */
static int write_lines(struct lines *l, int fd)
{
	FILE *f = zk_fd_stream(fd);
	size_t i, j;
	int n = 0, err;

	if (!f)
		return -errno;
	qsort(l->v, l->n, sizeof(*l->v), cmp_line);
	for (i = 0; i < l->n; i = j) {
		uint64_t us = 0;

		for (j = i; j < l->n && !strcmp(l->v[i].stack, l->v[j].stack); j++)
			us += l->v[j].us;
		fprintf(f, "%s %" PRIu64 "\n", l->v[i].stack, us);
		n++;
	}
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err ? err : n;
}

int zk_io_profile_write(struct zk_io *io, int fd)
{
	struct zk_runtime *rt = io->rt;
	struct lines l = { 0 };
	unsigned int i;
	int ret = 0;

	if (!rt->prof_tables)
		return -ENOENT;
	for (i = 0; i < rt->prof_n && !ret; i++)
		ret = collect_table(&rt->prof_tables[i], &l);
	if (!ret)
		ret = write_lines(&l, fd);
	for (i = 0; i < l.n; i++)
		free(l.v[i].stack);
	free(l.v);
	return ret;
}

/* ---- ZK_PROFILE=FILE ------------------------------------------------- */

int zk_prof_env_start(struct zk_runtime *rt)
{
	const char *path = getenv(ZK_ENV_PROFILE);
	int ret;

	if (!path || !*path)
		return 0;
	rt->prof_path = strdup(path);
	ret = rt->prof_path ? zk_io_profile_start(&rt->root) : -ENOMEM;
	if (ret) {
		free(rt->prof_path);
		rt->prof_path = NULL;
	}
	return ret;
}

void zk_prof_env_write(struct zk_runtime *rt)
{
	int fd, ret;

	if (!rt->prof_path)
		return;
	fd = open(rt->prof_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ret = fd < 0 ? -errno : zk_io_profile_write(&rt->root, fd);
	if (fd >= 0)
		close(fd);
	/* Asked for through the environment: say so when it failed. */
	if (ret < 0)
		dprintf(STDERR_FILENO, "libzsync-k-io: %s=%s: %s\n", ZK_ENV_PROFILE,
			rt->prof_path, strerror(-ret));
}
