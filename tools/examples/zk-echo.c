// SPDX-License-Identifier: MIT
/*
 * zk-echo: a TCP echo server, one task per connection.
 *
 *   zk-echo [--executor green|stackless|threads] [--backend NAME] [--port N]
 *
 * The same source runs on every executor and backend; --executor and
 * --backend only change what zk_io_init() is given.  echo_conn() is
 * ordinary sequential code (recv, send it all back, repeat) that runs as a
 * green thread or on a pool thread.  A stackless task has no stack to keep
 * locals across a wait, so the stackless executor runs the same loop as a
 * state machine (echo_step()), which would run on the others too.
 *
 * The root context accepts and reaps: it waits in zk_select() for the
 * next connection, for a finished connection (each task posts itself on
 * an unbounded channel as it ends) and for SIGTERM/SIGINT, which the
 * handler turns into a byte on a socket pair.  On that byte the root stops
 * accepting, closes the listener, cancels every open connection, waits
 * for each task to end and exits 0.
 *
 * A waiting connection costs its task and its buffer: a slow or silent
 * client parks only its own task (on the thread pool, its own worker:
 * size the pool with --threads for the connections served at once).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "zsync-k-io.h"

/* Connections taken from the listener's queue per accept that completes. */
#define ACCEPT_BURST	64

struct conn;

struct server {
	struct zk_io *io;
	int lfd;		/* listening socket (non-blocking) */
	int sig[2];		/* the signal handler writes to sig[1] */
	struct zk_chan *done;	/* struct conn * of every task that ended */
	struct conn *live;	/* open connections (root only) */
	unsigned long served, open;
	size_t bufsize;
	bool stackless;
};

struct conn {
	struct server *srv;
	struct conn *prev, *next;	/* srv->live */
	struct zk_future *task;
	int fd;
	/* the state machine's state (unused by echo_conn) */
	int state;
	struct zk_future *op;
	size_t have, sent;
	int64_t result;
	char buf[];
};

static int sigwrite_fd = -1;

/* ------------------------------------------------------------------ */
/* A connection                                                        */
/* ------------------------------------------------------------------ */

/*
 * Close @fd through the runtime; once the task is cancelled (shutdown)
 * new ops fail with -ECANCELED without running, so close it directly.
 */
static void conn_close(struct zk_io *io, int fd)
{
	if (zk_close(io, fd) == -ECANCELED)
		close(fd);
}

/* The task's last act: hand itself to the root, which frees it. */
static int64_t conn_end(struct zk_io *io, struct conn *c, int64_t result)
{
	zk_chan_try_send(io, c->srv->done, &c);
	return result;
}

static ssize_t send_all(struct zk_io *io, int fd, const char *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = zk_send(io, fd, buf + sent, len - sent, 0);

		if (n < 0)
			return n;
		sent += (size_t)n;
	}
	return (ssize_t)sent;
}

/* Direct style: green threads and the thread pool. */
static int64_t echo_conn(struct zk_io *io, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	while ((n = zk_recv(io, c->fd, c->buf, c->srv->bufsize, 0)) > 0) {
		n = send_all(io, c->fd, c->buf, (size_t)n);
		if (n < 0)
			break;
	}
	conn_close(io, c->fd);
	return conn_end(io, c, n);
}

/* The same loop as a state machine: stackless tasks. */
enum { ST_START, ST_RECV, ST_SEND, ST_CLOSE };

static int64_t step_recv(struct zk_io *io, struct conn *c)
{
	c->state = ST_RECV;
	zk_recv_async(io, c->op, c->fd, c->buf, c->srv->bufsize, 0);
	return zk_pending(io, c->op);
}

static int64_t step_send(struct zk_io *io, struct conn *c)
{
	c->state = ST_SEND;
	zk_send_async(io, c->op, c->fd, c->buf + c->sent, c->have - c->sent, 0);
	return zk_pending(io, c->op);
}

static int64_t step_close(struct zk_io *io, struct conn *c, int64_t result)
{
	c->result = result;
	c->state = ST_CLOSE;
	zk_close_async(io, c->op, c->fd);
	return zk_pending(io, c->op);
}

static int64_t echo_step(struct zk_io *io, void *arg)
{
	struct conn *c = arg;
	int64_t r = c->state == ST_START ? 0 : zk_future_result(c->op);

	zk_step_state(io, c->state);
	switch (c->state) {
	case ST_RECV:
		if (r <= 0)
			return step_close(io, c, r);
		c->have = (size_t)r;
		c->sent = 0;
		return step_send(io, c);
	case ST_SEND:
		if (r < 0)
			return step_close(io, c, r);
		c->sent += (size_t)r;
		if (c->sent < c->have)
			return step_send(io, c);
		return step_recv(io, c);
	case ST_CLOSE:
		if (r == -ECANCELED)	/* the close never ran */
			close(c->fd);
		return conn_end(io, c, c->result);
	default:
		return step_recv(io, c);
	}
}

/* ------------------------------------------------------------------ */
/* The root: accept, reap, shut down                                   */
/* ------------------------------------------------------------------ */

static void live_add(struct server *s, struct conn *c)
{
	c->prev = NULL;
	c->next = s->live;
	if (s->live)
		s->live->prev = c;
	s->live = c;
	s->open++;
}

static void live_del(struct server *s, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->open--;
}

static void spawn_conn(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof(*c) + s->bufsize);
	int one = 1;

	if (!c) {
		close(fd);
		return;
	}
	/* Echo replies are small and latency-bound: send them at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = s;
	c->fd = fd;
	if (s->stackless) {
		c->op = zk_future_new();
		c->task = c->op ? zk_async_step(s->io, echo_step, c) : NULL;
	} else {
		c->task = zk_async(s->io, echo_conn, c);
	}
	if (!c->task) {
		fprintf(stderr, "zk-echo: spawning a connection task: %s\n", strerror(errno));
		zk_future_free(s->io, c->op);
		close(fd);
		free(c);
		return;
	}
	live_add(s, c);
	s->served++;
}

/* @c's task posted itself as it ended: its future completes at once. */
static void reap_conn(struct server *s, struct conn *c)
{
	live_del(s, c);
	zk_future_free(s->io, c->task);
	zk_future_free(s->io, c->op);
	free(c);
}

/*
 * A failed accept: out of descriptors or memory waits a little for
 * connections to end rather than spinning; others (a peer that reset
 * before we took it) are the peer's business.
 */
static void accept_failed(struct server *s, int err)
{
	static time_t last;

	if (err != -EMFILE && err != -ENFILE && err != -ENOBUFS && err != -ENOMEM)
		return;
	if (time(NULL) != last) {
		last = time(NULL);
		fprintf(stderr, "zk-echo: accept: %s (%lu open)\n", strerror(-err), s->open);
	}
	zk_sleep(s->io, 10 * 1000 * 1000);
}

/*
 * One accept per turn of the loop would admit a burst of connections only
 * as fast as the loop turns, which with thousands of busy connections is
 * slow: take what the (non-blocking) listener has queued right away, as
 * a multishot accept would, and go back to waiting when it is empty.
 */
static void accept_backlog(struct server *s)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		spawn_conn(s, fd);
	}
}

/* Cancel every open connection and wait until each task has ended. */
static void shut_down(struct server *s)
{
	struct conn *c, *ended;

	for (c = s->live; c; c = c->next)
		zk_cancel(s->io, c->task);
	while (s->live && zk_chan_try_recv(s->io, s->done, &ended) == 0)
		reap_conn(s, ended);
}

static int serve(struct server *s)
{
	struct zk_future *acc = zk_future_new(), *sig = zk_future_new();
	struct conn *ended;
	char sigbyte;
	int r = -ENOMEM;

	if (!acc || !sig)
		goto out;
	zk_recv_async(s->io, sig, s->sig[0], &sigbyte, 1, 0);
	zk_accept_async(s->io, acc, s->lfd, NULL, NULL, SOCK_CLOEXEC);
	for (;;) {
		struct zk_select_case cases[] = {
			{ .kind = ZK_CASE_FUTURE, .f = sig },
			{ .kind = ZK_CASE_RECV, .ch = s->done, .elem = &ended },
			{ .kind = ZK_CASE_FUTURE, .f = acc },
		};

		r = zk_select(s->io, cases, 3, -1);
		if (r == 0 || r < 0)
			break;
		if (r == 1) {
			reap_conn(s, ended);
			continue;
		}
		r = (int)zk_future_result(acc);
		if (r >= 0) {
			spawn_conn(s, r);
			accept_backlog(s);
		} else {
			accept_failed(s, r);
		}
		zk_accept_async(s->io, acc, s->lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	if (r < 0)
		fprintf(stderr, "zk-echo: zk_select: %s\n", strerror(-r));
	zk_cancel(s->io, acc);
	close(s->lfd);
	shut_down(s);
out:
	zk_future_free(s->io, acc);
	zk_future_free(s->io, sig);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static void on_signal(int signo)
{
	char b = (char)signo;
	int saved = errno;

	if (write(sigwrite_fd, &b, 1) < 0) {
		/* the root has the byte it needs already */
	}
	errno = saved;
}

/*
 * SIGTERM and SIGINT become a byte on a socket pair the root receives on
 * with the runtime (a socket, so every backend waits for it without
 * blocking its thread).  SIGPIPE is ignored: a peer that went away is an
 * error on its own connection.
 */
static int catch_signals(struct server *s)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->sig) < 0)
		return -errno;
	sigwrite_fd = s->sig[1];
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Many thousands of connections: as many descriptors as we may have. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			perror("zk-echo: setrlimit(RLIMIT_NOFILE)");
	}
}

static int listen_on(const char *addr, unsigned int port, unsigned int *bound)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*bound = ntohs(sin.sin_port);
	return fd;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"A TCP echo server on libzsync-k, one task per connection.\n"
		"  --executor NAME   green (default), stackless or threads; blocking is\n"
		"                    refused (it runs one task at a time: one client)\n"
		"  --backend NAME    auto (default, or $ZK_BACKEND), zsync, io_uring, blocking\n"
		"  --port N          TCP port (default 7007; 0: any, printed at start)\n"
		"  --bind ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
		"  --threads N       thread pool size for --executor threads: the\n"
		"                    connections served at once (default 1024)\n"
		"  --buffer BYTES    receive buffer per connection (default 4096)\n"
		"  --stack BYTES     green thread stack size (default: the library's)\n"
		"  -h, --help        this text\n"
		"Prints 'zk-echo: listening on ADDR:PORT ...' once it accepts.  SIGTERM or\n"
		"SIGINT: stop accepting, close every connection, exit 0.\n", prog);
}

/* Parse an unsigned number in [min, max] or exit with a message. */
static unsigned long parse_num(const char *opt, const char *s, unsigned long min,
			       unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "zk-echo: %s '%s': %s (expected %lu..%lu)\n", opt, s,
			strerror(errno ? errno : EINVAL), min, max);
		exit(2);
	}
	return v;
}

/* --executor and --backend go through the library's own name parsing. */
static void parse_name(const char *var, const char *name, struct zk_io_opts *o)
{
	if (setenv(var, name, 1) < 0 || zk_io_opts_from_env(o) < 0) {
		fprintf(stderr, "zk-echo: %s '%s': %s (see --help)\n",
			strcmp(var, ZK_ENV_BACKEND) ? "--executor" : "--backend", name,
			strerror(EINVAL));
		exit(2);
	}
}

struct config {
	struct zk_io_opts opts;
	const char *addr;
	unsigned int port;
	size_t bufsize;
};

static void parse_args(int argc, char **argv, struct config *cf)
{
	static const struct option longopts[] = {
		{ "executor", required_argument, NULL, 'e' },
		{ "backend", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "stack", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o;

	cf->opts.executor = ZK_EXEC_GREEN;
	if (zk_io_opts_from_env(&cf->opts) < 0) {
		fprintf(stderr, "zk-echo: $ZK_BACKEND or $ZK_EXECUTOR: %s\n", strerror(EINVAL));
		exit(2);
	}
	while ((o = getopt_long(argc, argv, "e:b:p:a:t:B:s:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'e': parse_name(ZK_ENV_EXECUTOR, optarg, &cf->opts); break;
		case 'b': parse_name(ZK_ENV_BACKEND, optarg, &cf->opts); break;
		case 'p': cf->port = (unsigned int)parse_num("--port", optarg, 0, 65535); break;
		case 'a': cf->addr = optarg; break;
		case 't': cf->opts.threads = (unsigned int)parse_num("--threads", optarg, 1, 100000); break;
		case 'B': cf->bufsize = parse_num("--buffer", optarg, 1, 1 << 24); break;
		case 's': cf->opts.stack_size = parse_num("--stack", optarg, 4096, 1 << 30); break;
		case 'h': usage(stdout, argv[0]); exit(0);
		default: usage(stderr, argv[0]); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zk-echo: unexpected argument '%s' (see --help)\n", argv[optind]);
		exit(2);
	}
	if (cf->opts.executor == ZK_EXEC_BLOCKING) {
		fprintf(stderr, "zk-echo: --executor blocking: %s: it runs one task at a time, so it "
			"would serve one client at a time\n", strerror(EINVAL));
		exit(2);
	}
	if (cf->opts.executor == ZK_EXEC_THREADS && !cf->opts.threads)
		cf->opts.threads = 1024;
}

int main(int argc, char **argv)
{
	struct config cf = { .addr = "127.0.0.1", .port = 7007, .bufsize = 4096 };
	struct server s = { .lfd = -1 };
	unsigned int port = 0;
	int r;

	parse_args(argc, argv, &cf);
	raise_nofile();
	s.bufsize = cf.bufsize;
	s.stackless = cf.opts.executor == ZK_EXEC_STACKLESS;
	s.lfd = listen_on(cf.addr, cf.port, &port);
	if (s.lfd < 0) {
		fprintf(stderr, "zk-echo: listen on %s:%u: %s\n", cf.addr, cf.port, strerror(-s.lfd));
		return 1;
	}
	r = catch_signals(&s);
	if (r == 0)
		r = zk_io_init(&s.io, &cf.opts);
	if (r) {
		fprintf(stderr, "zk-echo: %s backend, %s executor: %s\n",
			zk_backend_name(cf.opts.backend), zk_executor_name(cf.opts.executor),
			strerror(-r));
		return 1;
	}
	s.done = zk_chan_new_unbounded(sizeof(struct conn *));
	if (!s.done) {
		fprintf(stderr, "zk-echo: zk_chan_new_unbounded: %s\n", strerror(errno));
		return 1;
	}
	printf("zk-echo: listening on %s:%u (%s executor, %s backend)\n", cf.addr, port,
	       zk_executor_name(zk_io_executor(s.io)), zk_backend_name(zk_io_backend(s.io)));
	fflush(stdout);
	r = serve(&s);
	printf("zk-echo: shut down after %lu connections\n", s.served);
	zk_chan_free(s.done);
	zk_io_exit(s.io);
	return r ? 1 : 0;
}
