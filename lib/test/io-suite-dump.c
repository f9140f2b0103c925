// SPDX-License-Identifier: MIT
/*
 * Executor-layer suite, part 3: seeing inside a runtime.  zk_io_dump()
 * (text and JSON, and on a signal) must name what each task waits on,
 * its body and, for a parked green thread, the functions on its stack;
 * the wait profiler's folded stacks must add up to the time waited.
 *
 * The functions the dumps must name are global, and the runner is linked
 * with -rdynamic, so that dladdr() can name them.  Tasks are observed by
 * polling dumps until they show the expected wait, never by sleeping.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io-suite.h"

#define MS		1000000LL
#define LONG_SLEEP	(10000 * MS)
#define DUMP_MAX	(64 * 1024)

struct dbuf {
	int fd;			/* a memfd the dumps go to */
	char text[DUMP_MAX];
};

static int dbuf_open(struct dbuf *d)
{
	d->fd = memfd_create("zk-dump", MFD_CLOEXEC);
	return d->fd < 0 ? -errno : 0;
}

/* What the memfd holds now, NUL-terminated; then empty it. */
static void dbuf_take(struct dbuf *d)
{
	ssize_t n = pread(d->fd, d->text, sizeof(d->text) - 1, 0);

	d->text[n > 0 ? n : 0] = 0;
	/* The dumps write at the file position: back to an empty start. */
	if (ftruncate(d->fd, 0) || lseek(d->fd, 0, SEEK_SET))
		d->text[0] = 0;
}

/* Dump until the dump contains @needle (the tasks got there), 10 s at most. */
static bool dump_until(struct zk_io *io, struct dbuf *d, unsigned int flags,
		       const char *needle)
{
	int i;

	for (i = 0; i < 10000; i++) {
		if (zk_io_dump(io, d->fd, flags) < 0)
			return false;
		dbuf_take(d);
		if (strstr(d->text, needle))
			return true;
		zk_sleep(io, MS);
	}
	return false;
}

/* ---- a sleeping task: its stack at the suspension point ------------ */

int64_t zt_dump_sleeper(struct zk_io *io, void *arg)
{
	(void)arg;
	return zk_sleep(io, LONG_SLEEP);
}

int64_t zt_dump_step(struct zk_io *io, void *arg)
{
	struct zk_future *f = arg;

	if (zk_future_done(f))
		return zk_future_result(f);
	zk_step_state(io, 7);
	zk_sleep_async(io, f, LONG_SLEEP);
	return zk_pending(io, f);
}

static int64_t dump_self(struct zk_io *io, void *arg)
{
	struct dbuf *d = arg;

	return zk_io_dump(io, d->fd, 0);
}

/* Blocking executor: a task runs inline, so it can only dump itself. */
static int dump_blocking(struct zt_ctx *c, struct zk_io *io, struct dbuf *d)
{
	struct zk_future *f = zk_async(io, dump_self, d);
	int64_t r = f ? zk_await(io, f) : -ENOMEM;

	dbuf_take(d);
	ZT_CHECK(c, r == 1, "dump from the task: %lld", (long long)r);
	ZT_CHECK(c, strstr(d->text, "task #1 (blocking) running") &&
		 strstr(d->text, "parent root"), "dump:\n%.120s", d->text);
	zk_future_free(io, f);
	return ZT_PASS;
}

static int test_dump_sleep(struct zt_ctx *c)
{
	bool steps = zt_steps(c);
	struct zk_future *sf = NULL, *f;
	struct dbuf *d = malloc(sizeof(*d));
	struct zk_io *io;
	int ret = ZT_FAIL;

	ZT_CHECK(c, d && dbuf_open(d) == 0 && zt_io(c, &io) == 0, "setup");
	if (c->opts.executor == ZK_EXEC_BLOCKING) {
		ret = dump_blocking(c, io, d);
		goto out;
	}
	sf = steps ? zk_future_new() : NULL;
	f = steps ? zk_async_step(io, zt_dump_step, sf) : zk_async(io, zt_dump_sleeper, NULL);
	if (!f || !dump_until(io, d, 0, "on sleep 10000 ms")) {
		snprintf(c->msg, sizeof(c->msg), "no task waits on the sleep:\n%.120s", d->text);
		goto out;
	}
	if (steps && (!strstr(d->text, "step zt_dump_step, state 7") ||
		      !strstr(d->text, "stackless") || !strstr(d->text, ") waiting"))) {
		snprintf(c->msg, sizeof(c->msg), "state machine:\n%.120s", d->text);
		goto out;
	}
	if (!steps && !strstr(d->text, "fn zt_dump_sleeper, parent root")) {
		snprintf(c->msg, sizeof(c->msg), "body:\n%.120s", d->text);
		goto out;
	}
	/* The parked green thread's own frames: the wait, then its caller. */
	if (c->opts.executor == ZK_EXEC_GREEN) {
		const char *w = strstr(d->text, "zk_sleep+0x");
		const char *caller = w ? strstr(w, "zt_dump_sleeper+0x") : NULL;

		if (!strstr(d->text, "stack at the suspension point") || !caller) {
			snprintf(c->msg, sizeof(c->msg), "stack:\n%.120s", d->text);
			goto out;
		}
	}
	ret = zk_cancel(io, f) == -ECANCELED ? ZT_PASS : ZT_FAIL;
	snprintf(c->msg, sizeof(c->msg), "cancel");
	zk_future_free(io, f);
out:
	zk_future_free(io, sf);
	zk_io_exit(io);
	close(d->fd);
	free(d);
	return ret;
}

/* ---- primitives: a channel receive and a mutex --------------------- */

struct prims {
	struct zk_chan *ch;
	struct zk_mutex *m;
	struct zk_future *f;	/* state machines: their wait */
	int v;
};

static int64_t recv_body(struct zk_io *io, void *arg)
{
	struct prims *p = arg;

	return zk_chan_recv(io, p->ch, &p->v);
}

static int64_t lock_body(struct zk_io *io, void *arg)
{
	struct prims *p = arg;
	int r = zk_mutex_lock(io, p->m);

	if (!r)
		zk_mutex_unlock(io, p->m);
	return r;
}

static int64_t recv_step(struct zk_io *io, void *arg)
{
	struct prims *p = arg;

	if (zk_future_done(p->f))
		return zk_future_result(p->f);
	zk_chan_recv_async(io, p->f, p->ch, &p->v);
	return zk_pending(io, p->f);
}

/* A tiny JSON checker: true when @s is one valid value (then blanks). */
static bool json_value(const char **s);

static void json_ws(const char **s)
{
	while (**s == ' ' || **s == '\n' || **s == '\t' || **s == '\r')
		(*s)++;
}

static bool json_string(const char **s)
{
	if (*(*s)++ != '"')
		return false;
	for (; **s && **s != '"'; (*s)++)
		if (**s == '\\' && !*++(*s))
			return false;
	return *(*s)++ == '"';
}

static bool json_seq(const char **s, char close, bool keys)
{
	json_ws(s);
	if (**s == close) {
		(*s)++;
		return true;
	}
	for (;;) {
		json_ws(s);
		if (keys) {
			if (!json_string(s))
				return false;
			json_ws(s);
			if (*(*s)++ != ':')
				return false;
		}
		if (!json_value(s))
			return false;
		json_ws(s);
		if (**s == close) {
			(*s)++;
			return true;
		}
		if (*(*s)++ != ',')
			return false;
	}
}

static bool json_value(const char **s)
{
	json_ws(s);
	if (**s == '{' || **s == '[') {
		char open = *(*s)++;

		return json_seq(s, open == '{' ? '}' : ']', open == '{');
	}
	if (**s == '"')
		return json_string(s);
	if (!strncmp(*s, "true", 4) || !strncmp(*s, "null", 4)) {
		*s += 4;
		return true;
	}
	if (!strncmp(*s, "false", 5)) {
		*s += 5;
		return true;
	}
	if (**s != '-' && (**s < '0' || **s > '9'))
		return false;
	while (**s == '-' || (**s >= '0' && **s <= '9'))
		(*s)++;
	return true;
}

static bool json_valid(const char *s)
{
	if (!json_value(&s))
		return false;
	json_ws(&s);
	return !*s;
}

static int check_prims(struct zt_ctx *c, struct zk_io *io, struct dbuf *d,
		       struct prims *p, bool steps)
{
	char want[64];

	snprintf(want, sizeof(want), "on chan_recv %p", (void *)p->ch);
	ZT_CHECK(c, dump_until(io, d, 0, want), "no %s:\n%.120s", want, d->text);
	if (!steps) {
		snprintf(want, sizeof(want), "on mutex_lock %p", (void *)p->m);
		ZT_CHECK(c, dump_until(io, d, 0, want), "no %s:\n%.120s", want, d->text);
	}
	ZT_CHECK(c, zk_io_dump(io, d->fd, ZK_DUMP_JSON) >= 1, "json dump");
	dbuf_take(d);
	ZT_CHECK(c, json_valid(d->text), "invalid JSON:\n%.120s", d->text);
	ZT_CHECK(c, strstr(d->text, "\"kind\":\"chan_recv\"") &&
		 strstr(d->text, "\"state\":\"waiting\""), "JSON:\n%.120s", d->text);
	return ZT_PASS;
}

static int test_dump_prims(struct zt_ctx *c)
{
	bool steps = zt_steps(c);
	struct zk_future *rf, *lf = NULL;
	struct prims p = { 0 };
	struct dbuf *d;
	struct zk_io *io;
	int ret, one = 1;

	ZT_SKIP_IF(c, c->opts.executor == ZK_EXEC_BLOCKING,
		   "tasks run inline: nobody could dump them while they wait");
	d = malloc(sizeof(*d));
	p.ch = zk_chan_new(sizeof(int), 0);
	p.m = zk_mutex_new();
	ZT_CHECK(c, d && p.ch && p.m && dbuf_open(d) == 0 && zt_io(c, &io) == 0, "setup");
	p.f = zk_future_new();
	zk_mutex_lock(io, p.m);
	rf = steps ? zk_async_step(io, recv_step, &p) : zk_async(io, recv_body, &p);
	if (!steps)
		lf = zk_async(io, lock_body, &p);
	ret = check_prims(c, io, d, &p, steps);
	zk_mutex_unlock(io, p.m);
	zk_chan_send(io, p.ch, &one);
	if (zk_await(io, rf) || (lf && zk_await(io, lf)) || p.v != 1) {
		snprintf(c->msg, sizeof(c->msg), "tasks' results");
		ret = ZT_FAIL;
	}
	zk_future_free(io, rf);
	zk_future_free(io, lf);
	zk_future_free(io, p.f);
	zk_io_exit(io);
	zk_chan_free(p.ch);
	zk_mutex_free(p.m);
	close(d->fd);
	free(d);
	return ret;
}

/* ---- on a signal --------------------------------------------------- */

static int test_dump_signal(struct zt_ctx *c)
{
	struct dbuf *d = malloc(sizeof(*d));
	struct zk_io *io, *other;
	int ret;

	ZT_CHECK(c, d && dbuf_open(d) == 0 && zt_io(c, &io) == 0, "setup");
	ret = zk_io_dump_on_signal(io, SIGUSR1, d->fd, ZK_DUMP_JSON);
	ZT_CHECK(c, ret == 0, "dump_on_signal: %d", ret);
	ZT_CHECK(c, zt_io(c, &other) == 0, "second runtime");
	ret = zk_io_dump_on_signal(other, SIGUSR2, d->fd, 0);
	zk_io_exit(other);
	ZT_CHECK(c, ret == -EBUSY, "second runtime: %d", ret);
	raise(SIGUSR1);		/* the handler runs before raise() returns */
	dbuf_take(d);
	ZT_CHECK(c, !d->text[0], "dumped inside the handler");
	zk_sleep(io, 1);	/* through the loop: the dump happens here */
	dbuf_take(d);
	ZT_CHECK(c, json_valid(d->text) && strstr(d->text, "\"tasks_live\":0"),
		 "dump after the signal:\n%.120s", d->text);
	ZT_CHECK(c, zk_io_dump_on_signal(io, 0, -1, 0) == 0, "off");
	zk_io_exit(io);
	close(d->fd);
	free(d);
	return ZT_PASS;
}

/* ---- the wait profiler --------------------------------------------- */

#define PROF_SLEEPS	3
#define PROF_SLEEP_MS	20

int64_t zt_prof_sleeper(struct zk_io *io, void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < PROF_SLEEPS; i++)
		zk_sleep(io, PROF_SLEEP_MS * MS);
	return 0;
}

struct prof_step {
	struct zk_future *f;
	int n;
};

int64_t zt_prof_step(struct zk_io *io, void *arg)
{
	struct prof_step *s = arg;

	if (s->n++ == PROF_SLEEPS)
		return 0;
	zk_step_state(io, 1);
	zk_sleep_async(io, s->f, PROF_SLEEP_MS * MS);
	return zk_pending(io, s->f);
}

/* Sum the lines whose stack contains @frames and ends in @leaf. */
static long long folded_sum(const char *text, const char *frames, const char *leaf)
{
	long long sum = 0;
	const char *l;

	for (l = text; *l; l = strchr(l, '\n') + 1) {
		const char *end = strchr(l, '\n');
		size_t ll = strlen(leaf);
		const char *sp = end;

		while (sp && sp > l && *sp != ' ')
			sp--;
		if (!end || sp == l)
			return -1;
		if (sp - l >= (long)ll && !strncmp(sp - ll, leaf, ll) &&
		    (!frames || (memmem(l, (size_t)(sp - l), frames, strlen(frames)))))
			sum += atoll(sp + 1);
	}
	return sum;
}

static int test_profile(struct zt_ctx *c)
{
	bool steps = zt_steps(c);
	struct prof_step ps = { .f = zk_future_new() };
	struct dbuf *d = malloc(sizeof(*d));
	long long us, frames_us, elapsed;
	struct zk_future *f;
	struct zk_io *io;
	int64_t t0;
	int lines;

	ZT_CHECK(c, d && ps.f && dbuf_open(d) == 0 && zt_io(c, &io) == 0, "setup");
	ZT_CHECK(c, zk_io_profile_write(io, d->fd) == -ENOENT, "write before start");
	ZT_CHECK(c, zk_io_profile_start(io) == 0, "start");
	t0 = zt_now_ms();
	f = steps ? zk_async_step(io, zt_prof_step, &ps) : zk_async(io, zt_prof_sleeper, NULL);
	ZT_CHECK(c, f && zk_await(io, f) == 0, "sleeper");
	elapsed = (zt_now_ms() - t0 + 1) * 1000;
	zk_io_profile_stop(io);
	zk_sleep(io, MS);	/* not counted: stopped */
	lines = zk_io_profile_write(io, d->fd);
	dbuf_take(d);
	ZT_CHECK(c, lines >= 1, "write: %d", lines);
	us = folded_sum(d->text, NULL, ";[sleep]");
	frames_us = folded_sum(d->text, steps ? "[state_machine];zt_prof_step;state_1" :
			       "zt_prof_sleeper", ";[sleep]");
	/*
	 * A wait is counted from the await, and each sleep's timer starts
	 * just before it, in zk_sleep(): a thread preempted in between (a
	 * loaded host: 59036 us of 60000 was seen) counts a little less.
	 * Nine tenths still fails a profiler that misses or halves a wait.
	 */
	ZT_CHECK(c, us >= PROF_SLEEPS * PROF_SLEEP_MS * 1000 * 9 / 10 && us <= elapsed,
		 "slept %lld us of %lld:\n%.120s", us, elapsed, d->text);
	ZT_CHECK(c, frames_us == us, "the sleeps under the task's frames: %lld of %lld:\n%.120s",
		 frames_us, us, d->text);
	zk_future_free(io, f);
	zk_future_free(io, ps.f);
	zk_io_exit(io);
	close(d->fd);
	free(d);
	return ZT_PASS;
}

const struct zt_test zt_dump_tests[] = {
	{ "dump_sleep", test_dump_sleep },
	{ "dump_prims", test_dump_prims },
	{ "dump_signal", test_dump_signal },
	{ "profile", test_profile },
};
const unsigned int zt_dump_count = sizeof(zt_dump_tests) / sizeof(zt_dump_tests[0]);
