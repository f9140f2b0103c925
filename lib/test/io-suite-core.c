// SPDX-License-Identifier: MIT
/*
 * Executor-layer suite, part 1: the Io calls on every backend, tasks and
 * futures, cancellation (single ops, tasks, token trees), state machines
 * and the green-thread scale test.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io-suite.h"

#define MS	1000000LL

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

int64_t zt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zt_io(struct zt_ctx *c, struct zk_io **io)
{
	return zk_io_init(io, &c->opts);
}

bool zt_concurrent_tasks(const struct zt_ctx *c)
{
	return c->opts.executor == ZK_EXEC_THREADS || c->opts.executor == ZK_EXEC_GREEN;
}

bool zt_steps(const struct zt_ctx *c)
{
	return c->opts.executor == ZK_EXEC_STACKLESS ||
	       c->opts.executor == ZK_EXEC_STACKLESS_MN;
}

unsigned int zt_scaled(const struct zt_ctx *c, unsigned int full)
{
	unsigned int n = (unsigned int)((uint64_t)full * c->scale / 100);

	return n ? n : 1;
}

static void *peer_thread(void *arg)
{
	struct zt_peer *p = arg;
	struct zk_io *io;

	p->err = zk_io_init(&io, &p->opts);
	if (p->err)
		return NULL;
	p->res = p->fn(io, p->arg);
	zk_io_exit(io);
	return NULL;
}

int zt_peer_start(struct zt_ctx *c, struct zk_io *io, struct zt_peer *p,
		  zk_task_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	if (zt_concurrent_tasks(c)) {
		p->f = zk_async(io, fn, arg);
		return p->f ? 0 : -errno;
	}
	p->opts = c->opts;
	p->opts.executor = ZK_EXEC_BLOCKING;
	return -pthread_create(&p->th, NULL, peer_thread, p);
}

int64_t zt_peer_join(struct zk_io *io, struct zt_peer *p)
{
	int64_t r;

	if (p->f) {
		r = zk_await(io, p->f);
		zk_future_free(io, p->f);
		return r;
	}
	pthread_join(p->th, NULL);
	return p->err ? p->err : p->res;
}

/* ------------------------------------------------------------------ */
/* Io calls                                                            */
/* ------------------------------------------------------------------ */

static int t_backend(struct zt_ctx *c)
{
	struct zk_io *io;
	unsigned int total, native;
	int ret = zt_io(c, &io);

	ZT_CHECK(c, ret == 0, "zk_io_init: %d", ret);
	ZT_CHECK(c, zk_io_backend(io) == c->opts.backend, "backend %s, asked %s",
		 zk_backend_name(zk_io_backend(io)), zk_backend_name(c->opts.backend));
	ZT_CHECK(c, zk_io_executor(io) == c->opts.executor, "executor %s",
		 zk_executor_name(zk_io_executor(io)));
	native = zk_io_native_ops(io, &total);
	ZT_CHECK(c, native >= 1 && native <= total, "native ops %u of %u", native, total);
	zk_io_exit(io);
	return ZT_PASS;
}

static int t_sleep(struct zt_ctx *c)
{
	struct zk_io *io;
	int64_t t0;
	int ret;

	ZT_CHECK(c, zt_io(c, &io) == 0, "init");
	t0 = zt_now_ms();
	ret = zk_sleep(io, 30 * MS);
	t0 = zt_now_ms() - t0;
	zk_io_exit(io);
	ZT_CHECK(c, ret == 0, "zk_sleep: %d", ret);
	/* Late is fine (a loaded host, TCG); early is not. */
	ZT_CHECK(c, t0 >= 29 && t0 < 10000, "slept %lld ms for 30", (long long)t0);
	return ZT_PASS;
}

static int t_file_rw(struct zt_ctx *c)
{
	char path[] = "/tmp/zk-io-test-XXXXXX", buf[4096], back[4096];
	struct zk_io *io;
	ssize_t n;
	int fd, i;

	ZT_CHECK(c, zt_io(c, &io) == 0, "init");
	fd = mkstemp(path);
	ZT_CHECK(c, fd >= 0, "mkstemp");
	close(fd);
	fd = zk_open(io, path, O_RDWR | O_CLOEXEC, 0);
	unlink(path);
	ZT_CHECK(c, fd >= 0, "zk_open: %d", fd);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	n = zk_write(io, fd, buf, sizeof(buf), 4096);
	ZT_CHECK(c, n == (ssize_t)sizeof(buf), "zk_write: %zd", n);
	ZT_CHECK(c, zk_fsync(io, fd) == 0, "zk_fsync");
	n = zk_read(io, fd, back, sizeof(back), 4096);
	ZT_CHECK(c, n == (ssize_t)sizeof(back) && !memcmp(buf, back, sizeof(buf)),
		 "zk_read: %zd, data %s", n, memcmp(buf, back, sizeof(buf)) ? "differs" : "ok");
	n = zk_read(io, fd, back, sizeof(back), 8192);
	ZT_CHECK(c, n == 0, "read at EOF: %zd", n);
	n = zk_write(io, fd, "xy", 2, ZK_OFF_CURRENT);
	ZT_CHECK(c, n == 2, "write at the file position: %zd", n);
	n = zk_read(io, fd, back, 2, 0);
	ZT_CHECK(c, n == 2 && !memcmp(back, "xy", 2), "position write landed at 0: %zd", n);
	ZT_CHECK(c, zk_close(io, fd) == 0, "zk_close");
	n = zk_read(io, fd, back, 1, 0);
	ZT_CHECK(c, n == -EBADF, "read of a closed fd: %zd", n);
	ZT_CHECK(c, zk_open(io, "/nonexistent/zk", O_RDONLY, 0) == -ENOENT, "ENOENT");
	zk_io_exit(io);
	return ZT_PASS;
}

struct pipe_arg {
	int fd;
	int64_t delay_ms;
};

static int64_t write_later(struct zk_io *io, void *arg)
{
	struct pipe_arg *a = arg;

	zk_sleep(io, a->delay_ms * MS);
	return zk_write(io, a->fd, "late", 4, ZK_OFF_CURRENT);
}

/* A read of an empty pipe waits (without blocking other tasks). */
static int t_pipe_wait(struct zt_ctx *c)
{
	struct pipe_arg a = { .delay_ms = 40 };
	struct zt_peer peer;
	struct zk_io *io;
	int p[2], ret;
	char buf[8];
	ssize_t n;
	int64_t t0;

	ZT_CHECK(c, zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, pipe2(p, O_CLOEXEC) == 0, "pipe");
	a.fd = p[1];
	t0 = zt_now_ms();
	ret = zt_peer_start(c, io, &peer, write_later, &a);
	ZT_CHECK(c, ret == 0, "peer: %d", ret);
	n = zk_read(io, p[0], buf, sizeof(buf), ZK_OFF_CURRENT);
	t0 = zt_now_ms() - t0;
	ZT_CHECK(c, zt_peer_join(io, &peer) == 4, "writer");
	ZT_CHECK(c, n == 4 && !memcmp(buf, "late", 4), "read %zd", n);
	ZT_CHECK(c, t0 >= 35, "read returned after %lld ms, before the write",
		 (long long)t0);
	close(p[0]);
	close(p[1]);
	zk_io_exit(io);
	return ZT_PASS;
}

struct sock_arg {
	struct sockaddr_in addr;
};

static int64_t echo_client(struct zk_io *io, void *arg)
{
	struct sock_arg *a = arg;
	char buf[16];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int64_t r;

	if (fd < 0)
		return -errno;
	r = zk_connect(io, fd, (struct sockaddr *)&a->addr, sizeof(a->addr));
	if (!r)
		r = zk_send(io, fd, "ping", 4, 0);
	if (r == 4)
		r = zk_recv(io, fd, buf, sizeof(buf), 0);
	if (r == 4 && memcmp(buf, "pong", 4))
		r = -EPROTO;
	close(fd);
	return r;
}

static int listen_local(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(fd, 16) || getsockname(fd, (struct sockaddr *)addr, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int t_socket_echo(struct zt_ctx *c)
{
	struct sock_arg a;
	struct zt_peer peer;
	struct zk_io *io;
	int lfd, cfd;
	char buf[16];
	ssize_t n;

	ZT_CHECK(c, zt_io(c, &io) == 0, "init");
	lfd = listen_local(&a.addr);
	ZT_CHECK(c, lfd >= 0, "listen");
	ZT_CHECK(c, zt_peer_start(c, io, &peer, echo_client, &a) == 0, "client");
	cfd = zk_accept(io, lfd, NULL, NULL, SOCK_CLOEXEC);
	ZT_CHECK(c, cfd >= 0, "zk_accept: %d", cfd);
	n = zk_recv(io, cfd, buf, sizeof(buf), 0);
	ZT_CHECK(c, n == 4 && !memcmp(buf, "ping", 4), "zk_recv: %zd", n);
	n = zk_send(io, cfd, "pong", 4, 0);
	ZT_CHECK(c, n == 4, "zk_send: %zd", n);
	n = zt_peer_join(io, &peer);
	ZT_CHECK(c, n == 4, "client: %zd", n);
	n = zk_recv(io, cfd, buf, sizeof(buf), 0);
	ZT_CHECK(c, n == 0, "recv after the client closed: %zd", n);
	close(cfd);
	close(lfd);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Tasks                                                               */
/* ------------------------------------------------------------------ */

static int64_t twice(struct zk_io *io, void *arg)
{
	zk_yield(io);
	return 2 * (int64_t)(intptr_t)arg;
}

static int t_async_await(struct zt_ctx *c)
{
	struct zk_future *f[100];
	struct zk_io *io;
	int64_t sum = 0;
	int i;

	ZT_CHECK(c, zt_io(c, &io) == 0, "init");
	for (i = 0; i < 100; i++) {
		f[i] = zk_async(io, twice, (void *)(intptr_t)i);
		ZT_CHECK(c, f[i], "zk_async %d", i);
		if (c->opts.executor == ZK_EXEC_BLOCKING)
			ZT_CHECK(c, zk_future_done(f[i]), "blocking: not done at return");
	}
	for (i = 0; i < 100; i++) {
		sum += zk_await(io, f[i]);
		ZT_CHECK(c, zk_future_result(f[i]) == 2 * i, "result %d", i);
		zk_future_free(io, f[i]);
	}
	ZT_CHECK(c, sum == 9900, "sum %lld", (long long)sum);
	zk_io_exit(io);
	return ZT_PASS;
}

/* A sleeper as a state machine: runs everywhere, stackless on stackless. */
struct sleeper {
	struct zk_future *f;
	int state;
	int64_t ns;
	int rounds;
	int started;		/* atomic: a sleep was submitted */
	int *asleep, *max_asleep;	/* atomics shared by a group, or NULL */
};

/* Count the group's sleepers, remembering the most at once. */
static void sleeper_count(struct sleeper *s, int delta)
{
	int now, max;

	if (!s->asleep)
		return;
	now = __atomic_add_fetch(s->asleep, delta, __ATOMIC_SEQ_CST);
	max = __atomic_load_n(s->max_asleep, __ATOMIC_SEQ_CST);
	while (now > max && !__atomic_compare_exchange_n(s->max_asleep, &max, now, false,
							 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

static int64_t sleeper_step(struct zk_io *io, void *arg)
{
	struct sleeper *s = arg;
	int64_t r;

	switch (s->state) {
	case 0:
		s->state = 1;
		sleeper_count(s, 1);
		if (zk_sleep_async(io, s->f, s->ns))
			return zk_future_result(s->f);
		__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
		return zk_pending(io, s->f);
	default:
		sleeper_count(s, -1);
		r = zk_future_result(s->f);
		if (r || ++s->rounds == 2)
			return r ? r : 7;
		s->state = 0;
		return sleeper_step(io, arg);
	}
}

/*
 * Sleeping state machines overlap their sleeps everywhere but on the
 * blocking executor.  Judged by how many slept at once, not by the clock,
 * which a loaded machine (or TCG) stretches at will.
 */
static int t_concurrent_sleeps(struct zt_ctx *c)
{
	enum { N = 16 };
	struct sleeper s[N];
	struct zk_future *f[N];
	int asleep = 0, max_asleep = 0;
	struct zk_io *io;
	int64_t t0;
	int i;

	ZT_CHECK(c, zt_io(c, &io) == 0, "init");
	t0 = zt_now_ms();
	for (i = 0; i < N; i++) {
		s[i] = (struct sleeper){ .f = zk_future_new(), .ns = 25 * MS,
					 .asleep = &asleep, .max_asleep = &max_asleep };
		f[i] = zk_async_step(io, sleeper_step, &s[i]);
		ZT_CHECK(c, f[i] && s[i].f, "spawn %d", i);
	}
	for (i = 0; i < N; i++) {
		int64_t r = zk_await(io, f[i]);

		ZT_CHECK(c, r == 7, "task %d: %lld", i, (long long)r);
		zk_future_free(io, f[i]);
		zk_future_free(io, s[i].f);
	}
	t0 = zt_now_ms() - t0;
	zk_io_exit(io);
	/* 16 tasks x 2 sleeps x 25 ms: 800 ms one after the other. */
	if (c->opts.executor == ZK_EXEC_BLOCKING) {
		ZT_CHECK(c, max_asleep == 1, "blocking: %d sleeps at once", max_asleep);
		ZT_CHECK(c, t0 >= 790, "blocking ran them in %lld ms", (long long)t0);
	} else {
		/* The pool overlaps up to one per worker; two prove it. */
		int want = c->opts.executor == ZK_EXEC_THREADS ? 2 : N;

		ZT_CHECK(c, max_asleep >= want, "at most %d of %d slept at once, want %d",
			 max_asleep, N, want);
	}
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Cancellation                                                        */
/* ------------------------------------------------------------------ */

static int64_t long_sleep(struct zk_io *io, void *arg)
{
	(void)arg;
	return zk_sleep(io, 10000 * MS);
}

/* The canceller: waits a little, cancels the token it is given. */
static int64_t cancel_later(struct zk_io *io, void *arg)
{
	zk_sleep(io, 30 * MS);
	return zk_token_cancel(io, arg);
}

static int t_cancel_op_future(struct zt_ctx *c)
{
	struct zk_future *f = zk_future_new();
	struct zk_io *io;
	int64_t t0, r;

	ZT_CHECK(c, f && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zk_sleep_async(io, f, 10000 * MS) == 0, "start");
	ZT_CHECK(c, !zk_future_done(f), "a 10 s sleep done at once");
	t0 = zt_now_ms();
	r = zk_cancel(io, f);
	ZT_CHECK(c, r == -ECANCELED, "zk_cancel: %lld", (long long)r);
	ZT_CHECK(c, zt_now_ms() - t0 < 5000, "cancel took %lld ms",
		 (long long)(zt_now_ms() - t0));
	/* Reusable after completion; a short sleep now really sleeps. */
	ZT_CHECK(c, zk_sleep_async(io, f, 1 * MS) == 0, "restart");
	ZT_CHECK(c, zk_await(io, f) == 0, "second sleep");
	ZT_CHECK(c, zk_cancel(io, f) == 0, "cancel after completion keeps the result");
	zk_future_free(io, f);
	zk_io_exit(io);
	return ZT_PASS;
}

/*
 * A recv waiting on an empty socket, cancelled: it ends -ECANCELED and
 * consumed nothing (the data sent afterwards all reaches the next recv).
 */
static int t_cancel_recv(struct zt_ctx *c)
{
	struct zk_future *f = zk_future_new();
	char buf[16], got[16];
	struct zk_io *io;
	int sv[2];
	ssize_t n;

	ZT_CHECK(c, f && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	ZT_CHECK(c, zk_recv_async(io, f, sv[0], buf, sizeof(buf), 0) == 0, "start");
	ZT_CHECK(c, zk_sleep(io, 10 * MS) == 0, "sleep");
	ZT_CHECK(c, !zk_future_done(f), "recv on an empty socket completed: %lld",
		 (long long)zk_future_result(f));
	ZT_CHECK(c, zk_cancel(io, f) == -ECANCELED, "cancel: %lld",
		 (long long)zk_future_result(f));
	ZT_CHECK(c, send(sv[1], "exactly-once", 12, 0) == 12, "send");
	n = zk_recv(io, sv[0], got, sizeof(got), 0);
	ZT_CHECK(c, n == 12 && !memcmp(got, "exactly-once", 12),
		 "the next recv got %zd bytes", n);
	close(sv[0]);
	close(sv[1]);
	zk_future_free(io, f);
	zk_io_exit(io);
	return ZT_PASS;
}

static int t_cancel_task(struct zt_ctx *c)
{
	struct zk_token *tok = zk_token_new(NULL);
	struct zt_peer canceller;
	struct zk_future *f;
	struct zk_io *io;
	int64_t t0, r;

	ZT_CHECK(c, tok && zt_io(c, &io) == 0, "init");
	t0 = zt_now_ms();
	ZT_CHECK(c, zt_peer_start(c, io, &canceller, cancel_later, tok) == 0, "peer");
	f = zk_async_in(io, tok, long_sleep, NULL);
	ZT_CHECK(c, f, "spawn");
	r = zk_await(io, f);
	ZT_CHECK(c, r == -ECANCELED, "task: %lld", (long long)r);
	ZT_CHECK(c, zt_now_ms() - t0 < 5000, "took %lld ms", (long long)(zt_now_ms() - t0));
	ZT_CHECK(c, zt_peer_join(io, &canceller) == 0, "canceller");
	zk_future_free(io, f);
	/* A task spawned under a cancelled token never runs. */
	f = zk_async_in(io, tok, twice, (void *)1);
	ZT_CHECK(c, f && zk_await(io, f) == -ECANCELED, "spawn under cancelled token");
	zk_future_free(io, f);
	ZT_CHECK(c, zk_token_cancel(io, tok) == -EALREADY, "second cancel");
	zk_token_free(tok);
	zk_io_exit(io);
	return ZT_PASS;
}

/* Cancelling a parent cancels children (and their sleeps) it spawned. */
static int64_t parent_of_two(struct zk_io *io, void *arg)
{
	struct zk_future *kid[2];
	int64_t r = 0;
	int i;

	(void)arg;
	for (i = 0; i < 2; i++)
		kid[i] = zk_async(io, long_sleep, NULL);
	for (i = 0; i < 2; i++) {
		if (!kid[i])
			return -ENOMEM;
		if (zk_await(io, kid[i]) != -ECANCELED)
			r = -EPROTO;	/* a child that was not cancelled */
		zk_future_free(io, kid[i]);
	}
	return r ? r : -ECANCELED;
}

static int64_t short_sleep(struct zk_io *io, void *arg)
{
	(void)arg;
	return zk_sleep(io, 60 * MS);
}

static int t_cancel_tree(struct zt_ctx *c)
{
	struct zk_token *root = zk_token_new(NULL);
	struct zk_token *a = zk_token_new(root), *b = zk_token_new(root);
	struct zk_token *sibling = zk_token_new(NULL);
	struct zk_future *f[3], *other;
	struct zt_peer canceller;
	struct zk_io *io;
	int64_t t0, r;
	int i;

	ZT_CHECK(c, root && a && b && sibling && zt_io(c, &io) == 0, "init");
	t0 = zt_now_ms();
	ZT_CHECK(c, zt_peer_start(c, io, &canceller, cancel_later, root) == 0, "peer");
	other = zk_async_in(io, sibling, short_sleep, NULL);
	f[0] = zk_async_in(io, a, parent_of_two, NULL);
	f[1] = zk_async_in(io, b, parent_of_two, NULL);
	f[2] = zk_async_in(io, b, long_sleep, NULL);
	for (i = 0; i < 3; i++) {
		ZT_CHECK(c, f[i], "spawn %d", i);
		r = zk_await(io, f[i]);
		ZT_CHECK(c, r == -ECANCELED, "subtree task %d: %lld", i, (long long)r);
		zk_future_free(io, f[i]);
	}
	ZT_CHECK(c, zt_peer_join(io, &canceller) == 0, "canceller");
	ZT_CHECK(c, zt_now_ms() - t0 < 5000, "took %lld ms", (long long)(zt_now_ms() - t0));
	ZT_CHECK(c, zk_token_cancelled(a) && zk_token_cancelled(b), "children marked");
	ZT_CHECK(c, !zk_token_cancelled(sibling), "an unrelated token was cancelled");
	r = zk_await(io, other);
	ZT_CHECK(c, r == 0, "the unrelated task: %lld", (long long)r);
	zk_future_free(io, other);
	zk_token_free(a);
	zk_token_free(b);
	zk_token_free(root);
	zk_token_free(sibling);
	zk_io_exit(io);
	return ZT_PASS;
}

/* A state machine cancelled while it waits in the kernel. */
static int t_cancel_step(struct zt_ctx *c)
{
	struct sleeper s = { .ns = 10000 * MS };
	struct zk_future *f;
	struct zk_io *io;
	int64_t t0, r;

	ZT_SKIP_IF(c, c->opts.executor == ZK_EXEC_BLOCKING,
		   "blocking executor: a task finishes before anyone can cancel it");
	s.f = zk_future_new();
	ZT_CHECK(c, s.f && zt_io(c, &io) == 0, "init");
	t0 = zt_now_ms();
	f = zk_async_step(io, sleeper_step, &s);
	ZT_CHECK(c, f, "spawn");
	/* Let it reach its sleep (a busy machine may take a while). */
	while (!__atomic_load_n(&s.started, __ATOMIC_ACQUIRE) && zt_now_ms() - t0 < 5000)
		zk_sleep(io, 2 * MS);
	ZT_CHECK(c, s.started, "the task never started its sleep");
	r = zk_cancel(io, f);
	ZT_CHECK(c, r == -ECANCELED, "cancelled step task: %lld", (long long)r);
	ZT_CHECK(c, zk_future_result(s.f) == -ECANCELED, "its sleep: %lld",
		 (long long)zk_future_result(s.f));
	ZT_CHECK(c, zt_now_ms() - t0 < 6000, "took %lld ms", (long long)(zt_now_ms() - t0));
	zk_future_free(io, f);
	zk_future_free(io, s.f);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Green threads at scale                                              */
/* ------------------------------------------------------------------ */

struct green_arg {
	int64_t counter;	/* one OS thread: no race */
	unsigned int sleepers;	/* the first this many sleep in the kernel */
	unsigned int next;
	struct zk_wg *gate;	/* the others park here until all exist */
};

/*
 * Every green thread parks once: on a kernel timer (an op whose CQE
 * resumes it) or, past @sleepers, on the gate.  All are alive at once.
 */
static int64_t green_worker(struct zk_io *io, void *arg)
{
	struct green_arg *g = arg;
	unsigned int me = g->next++;
	char pad[512];		/* touch some stack */

	memset(pad, 1, sizeof(pad));
	if (me < g->sleepers ? zk_sleep(io, 10 * MS) : zk_wg_wait(io, g->gate))
		return -1;
	zk_yield(io);
	g->counter++;
	return pad[100];
}

/*
 * ThreadSanitizer keeps a full thread state per fiber (each green thread
 * is one): 10,000 of them alive at once exhaust its internal allocator,
 * so a TSan build runs 500 (and says so).
 */
#if defined(__SANITIZE_THREAD__)
#define GREEN_N	500
#else
#define GREEN_N	10000
#endif

static int t_green_10k(struct zt_ctx *c)
{
	const int N = c->green && c->green < GREEN_N ? (int)c->green : GREEN_N;
	struct green_arg g = { .next = 0 };
	struct zk_future **f;
	struct zk_io *io;
	int64_t t0;
	int i;

	ZT_SKIP_IF(c, c->opts.executor != ZK_EXEC_GREEN, "green threads only");
	g.gate = zk_wg_new();
	/* All sleep in the kernel natively; a tenth in the VM (its debug
	 * kernel arms 10,000 timers slowly). */
	g.sleepers = zt_scaled(c, (unsigned int)N);
	f = calloc(N, sizeof(*f));
	ZT_CHECK(c, f && g.gate && zt_io(c, &io) == 0, "init");
	ZT_CHECK(c, zk_wg_add(io, g.gate, 1) == 0, "gate");
	t0 = zt_now_ms();
	for (i = 0; i < N; i++) {
		f[i] = zk_async(io, green_worker, &g);
		ZT_CHECK(c, f[i], "spawn %d: %s", i, strerror(errno));
	}
	/* Run them all until each has parked (the sleepers come back). */
	ZT_CHECK(c, zk_sleep(io, 20 * MS) == 0, "sleep");
	ZT_CHECK(c, g.next == (unsigned int)N, "%u of %d green threads started", g.next, N);
	zk_wg_done(io, g.gate);
	for (i = 0; i < N; i++) {
		ZT_CHECK(c, zk_await(io, f[i]) == 1, "green thread %d", i);
		zk_future_free(io, f[i]);
	}
	t0 = zt_now_ms() - t0;
	ZT_CHECK(c, g.counter == N, "counter %lld", (long long)g.counter);
	/* Overlapped; generous for TCG and debug kernels. */
	ZT_CHECK(c, t0 < 120000, "took %lld ms", (long long)t0);
	if (N != 10000)
		printf("# green_10k: %d green threads in this build or kernel\n", N);
	free(f);
	zk_wg_free(g.gate);
	zk_io_exit(io);
	return ZT_PASS;
}

/*
 * A state machine whose every wait is over at once (sends on an unbounded
 * channel) steps again without a trip through the ready queue, but only
 * so many times in a row: then the others get their turn.
 */
struct spinner {
	struct zk_chan *ch;
	struct zk_future *f;
	bool stop;
	uint64_t v;
};

static int64_t spin_step(struct zk_io *io, void *arg)
{
	struct spinner *s = arg;

	if (s->stop)
		return (int64_t)s->v;
	s->v++;
	if (zk_chan_send_async(io, s->f, s->ch, &s->v))
		return -1;
	return zk_pending(io, s->f);
}

static int64_t stop_step(struct zk_io *io, void *arg)
{
	(void)io;
	((struct spinner *)arg)->stop = true;
	return 0;
}

static int t_step_burst(struct zt_ctx *c)
{
	struct spinner s = { .stop = false };
	struct zk_future *spin, *stop;
	struct zk_io *io;
	int64_t sent;

	ZT_SKIP_IF(c, c->opts.executor != ZK_EXEC_STACKLESS,
		   "state machines that never wait spin elsewhere");
	s.ch = zk_chan_new_unbounded(sizeof(uint64_t));
	s.f = zk_future_new();
	ZT_CHECK(c, s.ch && s.f && zt_io(c, &io) == 0, "init");
	spin = zk_async_step(io, spin_step, &s);
	stop = zk_async_step(io, stop_step, &s);
	ZT_CHECK(c, spin && stop, "spawn");
	/* Only the stopper's turn ends the spinner. */
	sent = zk_await(io, spin);
	ZT_CHECK(c, zk_await(io, stop) == 0, "stopper");
	ZT_CHECK(c, sent > 1 && (size_t)sent == zk_chan_len(s.ch),
		 "%lld sent, %zu in the channel", (long long)sent, zk_chan_len(s.ch));
	zk_future_free(io, spin);
	zk_future_free(io, stop);
	zk_future_free(io, s.f);
	zk_chan_free(s.ch);
	zk_io_exit(io);
	return ZT_PASS;
}

/* ------------------------------------------------------------------ */
/* Green stacks: handed on, cached, guarded                            */
/* ------------------------------------------------------------------ */

#define PROBE_STACK	(64 * 1024)
#define PROBE_PARKED	200	/* half of it: more than the old fixed cache of 64 */

struct probe {
	int pipe_w;		/* to ask the kernel what is mapped */
	uintptr_t frame;	/* where the probe's frame was: on its stack */
	bool guarded;		/* its stack had a guard page below it */
	bool reused;		/* an earlier probe had run on its stack */
	struct zk_wg *started, *gate;	/* NULL: run to the end at once */
};

#define PROBE_MARK	((uintptr_t)0x5a6b7c8d9eafb0c1ULL)

/* The usable bytes of a stack end at the page above a shallow frame in it. */
static uintptr_t stack_bottom(uintptr_t frame)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	return (frame | (pg - 1)) + 1 - PROBE_STACK;
}

/*
 * Below the usable bytes lies the guard.  The kernel reading them for
 * write(2) says which is mapped: the lowest usable byte is, the byte
 * under it is not.
 */
static bool guard_below(uintptr_t bottom, int pipe_w)
{
	return write(pipe_w, (void *)bottom, 1) == 1 &&
	       write(pipe_w, (void *)(bottom - 1), 1) < 0 && errno == EFAULT;
}

/*
 * Notes where its stack is, whether it is guarded and whether a probe ran
 * on it before (a fresh mapping reads zero where the mark goes: at the
 * bottom, which no frame reaches); parks if told to.
 */
static int64_t stack_probe(struct zk_io *io, void *arg)
{
	struct probe *p = arg;
	volatile uintptr_t *mark;

	p->frame = (uintptr_t)__builtin_frame_address(0);
	mark = (volatile uintptr_t *)stack_bottom(p->frame);
	p->guarded = guard_below((uintptr_t)mark, p->pipe_w);
	p->reused = *mark == PROBE_MARK;
	*mark = PROBE_MARK;
	if (p->gate && (zk_wg_done(io, p->started) || zk_wg_wait(io, p->gate)))
		return -1;
	return 0;
}

static int cmp_uintptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Run @n probes that park until all have started; their frames, sorted, in
 * @frames, how many ran on a reused stack in *@reused.  Returns how many
 * had guarded stacks, or -1.
 */
static int park_probes(struct zk_io *io, struct probe *p, unsigned int n, int pipe_w,
		       uintptr_t *frames, int *reused)
{
	struct zk_wg *started = zk_wg_new(), *gate = zk_wg_new();
	struct zk_future *f[PROBE_PARKED];
	unsigned int i;
	int ret = -1;

	if (!started || !gate || zk_wg_add(io, started, (int)n) || zk_wg_add(io, gate, 1))
		goto out;
	for (i = 0; i < n; i++) {
		p[i] = (struct probe){ .pipe_w = pipe_w, .started = started, .gate = gate };
		f[i] = zk_async(io, stack_probe, &p[i]);
		if (!f[i])
			goto out;	/* leaks the ones before: the test fails */
	}
	ret = zk_wg_wait(io, started) ? -1 : 0;
	zk_wg_done(io, gate);
	*reused = 0;
	for (i = 0; i < n; i++) {
		if (zk_await(io, f[i]))
			ret = -1;
		zk_future_free(io, f[i]);
		frames[i] = p[i].frame;
		if (ret >= 0)
			ret += p[i].guarded;
		*reused += p[i].reused;
	}
	qsort(frames, n, sizeof(*frames), cmp_uintptr);
out:
	zk_wg_free(started);
	zk_wg_free(gate);
	return ret;
}

/*
 * A green thread that never parks hands its stack on: a burst of them runs
 * on one stack.  Threads parked at once have stacks of their own, and the
 * next as many reuse those.  Every stack, fresh or reused, has its guard.
 */
static int t_green_stacks(struct zt_ctx *c)
{
	struct zk_io_opts o = c->opts;
	struct probe p[PROBE_PARKED];
	uintptr_t frames[PROBE_PARKED], burst = 0;
	struct zk_future *f;
	struct zk_io *io;
	int pfd[2], i, reused;

	ZT_SKIP_IF(c, c->opts.executor != ZK_EXEC_GREEN, "green threads only");
	o.stack_size = PROBE_STACK;
	ZT_CHECK(c, pipe(pfd) == 0 && zk_io_init(&io, &o) == 0, "init");
	for (i = 0; i < 1000; i++) {
		p[0] = (struct probe){ .pipe_w = pfd[1] };
		f = zk_async(io, stack_probe, &p[0]);
		ZT_CHECK(c, f && zk_await(io, f) == 0, "probe %d", i);
		zk_future_free(io, f);
		if (!i)
			burst = p[0].frame;
		ZT_CHECK(c, p[0].frame == burst, "probe %d ran on another stack", i);
		ZT_CHECK(c, p[0].guarded, "no guard under the stack of probe %d", i);
		ZT_CHECK(c, p[0].reused == (i > 0), "probe %d: reused %d", i, p[0].reused);
	}

	ZT_CHECK(c, park_probes(io, p, PROBE_PARKED, pfd[1], frames, &reused) ==
		    PROBE_PARKED, "first parked round: not all ran on guarded stacks");
	for (i = 1; i < PROBE_PARKED; i++)
		ZT_CHECK(c, frames[i] - frames[i - 1] >= PROBE_STACK,
			 "stacks %d and %d overlap", i - 1, i);
	ZT_CHECK(c, reused == 1 && bsearch(&burst, frames, PROBE_PARKED, sizeof(*frames),
					   cmp_uintptr),
		 "%d stacks reused, not the 1 cached", reused);
	/*
	 * The cache keeps the working set.  A trim between the rounds (one a
	 * second at most, see exec_green.c) may unmap half of the stacks
	 * that sat unused; normally the second round gets all 200 back.
	 */
	ZT_CHECK(c, park_probes(io, p, PROBE_PARKED, pfd[1], frames, &reused) ==
		    PROBE_PARKED, "second parked round: not all ran on guarded stacks");
	ZT_CHECK(c, reused >= PROBE_PARKED / 2, "only %d of %d stacks reused", reused,
		 PROBE_PARKED);
	zk_io_exit(io);
	close(pfd[0]);
	close(pfd[1]);
	return ZT_PASS;
}

static int64_t mark_ran(struct zk_io *io, void *arg)
{
	(void)io;
	*(bool *)arg = true;
	return 0;
}

/*
 * A green thread whose stack cannot be mapped (a stack larger than the
 * address space) is spawned all the same, never runs, and its future
 * says why.
 */
static int t_green_no_stack(struct zt_ctx *c)
{
	struct zk_io_opts o = c->opts;
	struct zk_future *f;
	struct zk_io *io;
	bool ran = false;
	int64_t r;

	ZT_SKIP_IF(c, c->opts.executor != ZK_EXEC_GREEN, "green threads only");
	o.stack_size = (size_t)1 << 50;
	ZT_CHECK(c, zk_io_init(&io, &o) == 0, "init");
	f = zk_async(io, mark_ran, &ran);
	ZT_CHECK(c, f, "spawn: %s", strerror(errno));
	r = zk_await(io, f);
	ZT_CHECK(c, r == -ENOMEM && !ran, "result %lld, ran %d", (long long)r, ran);
	zk_future_free(io, f);
	zk_io_exit(io);
	return ZT_PASS;
}

const struct zt_test zt_core_tests[] = {
	{ "backend", t_backend },
	{ "sleep", t_sleep },
	{ "file_rw", t_file_rw },
	{ "pipe_wait", t_pipe_wait },
	{ "socket_echo", t_socket_echo },
	{ "async_await", t_async_await },
	{ "concurrent_sleeps", t_concurrent_sleeps },
	{ "cancel_op_future", t_cancel_op_future },
	{ "cancel_recv", t_cancel_recv },
	{ "cancel_task", t_cancel_task },
	{ "cancel_tree", t_cancel_tree },
	{ "cancel_step", t_cancel_step },
	{ "step_burst", t_step_burst },
	{ "green_10k", t_green_10k },
	{ "green_stacks", t_green_stacks },
	{ "green_no_stack", t_green_no_stack },
};
const unsigned int zt_core_count = sizeof(zt_core_tests) / sizeof(zt_core_tests[0]);
