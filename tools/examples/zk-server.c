// SPDX-License-Identifier: MIT
/*
 * zk-server: options, listener, signals and the root context of the TCP
 * server examples (zk-echo, zk-httpd).  See zk-server.h.
 *
 * The root waits in zk_select() for the next connection, for a finished
 * connection (each task posts itself on an unbounded channel as it ends)
 * and for SIGTERM/SIGINT, which the handler turns into a byte on a socket
 * pair.  A waiting connection costs its task and its buffers: a slow or
 * silent client parks only its own task (on the thread pool, its own
 * worker: size the pool with --threads for the connections served at once).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "zk-server.h"

/* Connections taken from the listener's queue per accept that completes. */
#define ACCEPT_BURST	64
#define MAX_OPTS	24

static int sigwrite_fd = -1;

/* ------------------------------------------------------------------ */
/* Helpers for the connection tasks                                    */
/* ------------------------------------------------------------------ */

/*
 * Once the task is cancelled (shutdown) new ops fail with -ECANCELED
 * without running, so close it directly.
 */
void zks_close(struct zk_io *io, int fd)
{
	if (zk_close(io, fd) == -ECANCELED)
		close(fd);
}

int64_t zks_conn_end(struct zk_io *io, struct zks_conn *c, int64_t result)
{
	zk_chan_try_send(io, c->srv->done, &c);
	return result;
}

ssize_t zks_send_all(struct zk_io *io, int fd, const char *buf, size_t len)
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

int64_t zks_step_recv(struct zk_io *io, struct zks_conn *c, int state, void *buf, size_t len)
{
	c->state = state;
	zk_recv_async(io, c->op, c->fd, buf, len, 0);
	return zk_pending(io, c->op);
}

int64_t zks_step_send(struct zk_io *io, struct zks_conn *c, int state,
		      const void *buf, size_t len)
{
	c->state = state;
	zk_send_async(io, c->op, c->fd, buf, len, 0);
	return zk_pending(io, c->op);
}

int64_t zks_step_close(struct zk_io *io, struct zks_conn *c, int state)
{
	c->state = state;
	zk_close_async(io, c->op, c->fd);
	return zk_pending(io, c->op);
}

int64_t zks_step_begin(struct zk_io *io, struct zks_conn *c)
{
	zk_step_state(io, c->state);
	return c->state == 0 ? 0 : zk_future_result(c->op);
}

int64_t zks_step_closed(struct zk_io *io, struct zks_conn *c, int64_t r, int64_t result)
{
	if (r == -ECANCELED)	/* the close never ran */
		close(c->fd);
	return zks_conn_end(io, c, result);
}

/* ------------------------------------------------------------------ */
/* The root: accept, reap, shut down                                   */
/* ------------------------------------------------------------------ */

static void live_add(struct zks *s, struct zks_conn *c)
{
	c->prev = NULL;
	c->next = s->live;
	if (s->live)
		s->live->prev = c;
	s->live = c;
	s->open++;
}

static void live_del(struct zks *s, struct zks_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->open--;
}

static void conn_free(struct zks *s, struct zks_conn *c)
{
	if (s->app->conn_free)
		s->app->conn_free(c);
	zk_future_free(s->io, c->task);
	zk_future_free(s->io, c->op);
	free(c);
}

static void spawn_conn(struct zks *s, int fd)
{
	struct zks_conn *c = calloc(1, s->conn_size);
	int one = 1;

	if (!c) {
		close(fd);
		return;
	}
	/* Replies are small and latency-bound: send them at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = s;
	c->fd = fd;
	if (s->app->conn_init)
		s->app->conn_init(c);
	if (s->stackless) {
		c->op = zk_future_new();
		c->task = c->op ? zk_async_step(s->io, s->app->step, c) : NULL;
	} else {
		c->task = zk_async(s->io, s->app->run, c);
	}
	if (!c->task) {
		fprintf(stderr, "%s: spawning a connection task: %s\n", s->app->name,
			strerror(errno));
		close(fd);
		conn_free(s, c);
		return;
	}
	live_add(s, c);
	s->served++;
}

/* @c's task posted itself as it ended: its future completes at once. */
static void reap_conn(struct zks *s, struct zks_conn *c)
{
	live_del(s, c);
	conn_free(s, c);
}

/*
 * A failed accept: out of descriptors or memory waits a little for
 * connections to end rather than spinning; others (a peer that reset
 * before we took it) are the peer's business.
 */
static void accept_failed(struct zks *s, int err)
{
	static time_t last;

	if (err != -EMFILE && err != -ENFILE && err != -ENOBUFS && err != -ENOMEM)
		return;
	if (time(NULL) != last) {
		last = time(NULL);
		fprintf(stderr, "%s: accept: %s (%lu open)\n", s->app->name, strerror(-err),
			s->open);
	}
	zk_sleep(s->io, 10 * 1000 * 1000);
}

/*
 * One accept per turn of the loop would admit a burst of connections only
 * as fast as the loop turns, which with thousands of busy connections is
 * slow: take what the (non-blocking) listener has queued right away, as
 * a multishot accept would, and go back to waiting when it is empty.
 */
static void accept_backlog(struct zks *s)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		spawn_conn(s, fd);
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Let in-flight work finish: every connection's read side is shut down,
 * so a task waiting for its next request sees end of file and ends, and
 * one sending a response finishes it first.  Those still running after
 * the grace period are cancelled.  (A task may have closed its descriptor
 * and not been reaped yet: shutdown() then fails on a closed or non-socket
 * descriptor, as nothing opens sockets any more.)
 */
static void shut_down(struct zks *s)
{
	int64_t deadline = now_ns() + (int64_t)s->grace * 1000000000;
	struct zks_conn *c, *ended;

	while (zk_chan_try_recv(s->io, s->done, &ended) == 0)
		reap_conn(s, ended);
	for (c = s->live; c; c = c->next)
		shutdown(c->fd, SHUT_RD);
	while (s->live) {
		struct zk_select_case cs = { .kind = ZK_CASE_RECV, .ch = s->done, .elem = &ended };
		int64_t left = deadline - now_ns();

		if (left <= 0 || zk_select(s->io, &cs, 1, left) != 0)
			break;
		reap_conn(s, ended);
	}
	for (c = s->live; c; c = c->next)
		zk_cancel(s->io, c->task);
	while (s->live && zk_chan_try_recv(s->io, s->done, &ended) == 0)
		reap_conn(s, ended);
}

static int serve(struct zks *s)
{
	struct zk_future *acc = zk_future_new(), *sig = zk_future_new();
	struct zks_conn *ended;
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
		fprintf(stderr, "%s: zk_select: %s\n", s->app->name, strerror(-r));
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
static int catch_signals(struct zks *s)
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
static void raise_nofile(const char *prog)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			fprintf(stderr, "%s: setrlimit(RLIMIT_NOFILE): %s\n", prog, strerror(errno));
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

static void usage(FILE *f, const struct zks_app *app, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"%s\n"
		"  --executor NAME   green (default), stackless or threads; blocking is\n"
		"                    refused (it runs one task at a time: one client)\n"
		"  --backend NAME    auto (default, or $ZK_BACKEND), zsync, io_uring, blocking\n"
		"  --port N          TCP port (default %d; 0: any, printed at start)\n"
		"  --bind ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
		"  --threads N       thread pool size for --executor threads: the\n"
		"                    connections served at once (default 1024)\n"
		"  --stack BYTES     green thread stack size (default: the library's)\n"
		"  --grace S         at shutdown, how long open connections may take to\n"
		"                    finish before they are cancelled (default 10)\n"
		"%s"
		"  -h, --help        this text\n"
		"Prints '%s: listening on ADDR:PORT ...' once it accepts.  SIGTERM or\n"
		"SIGINT: stop accepting, let every connection finish what it is sending,\n"
		"close them all, exit 0.\n",
		prog, app->summary, app->default_port, app->usage ? app->usage : "", app->name);
}

unsigned long zks_parse_num(const char *prog, const char *opt, const char *s,
			    unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "%s: %s '%s': %s (expected %lu..%lu)\n", prog, opt, s,
			strerror(errno ? errno : EINVAL), min, max);
		exit(2);
	}
	return v;
}

/* --executor and --backend go through the library's own name parsing. */
static void parse_name(const char *prog, const char *var, const char *name,
		       struct zk_io_opts *o)
{
	if (setenv(var, name, 1) < 0 || zk_io_opts_from_env(o) < 0) {
		fprintf(stderr, "%s: %s '%s': %s (see --help)\n", prog,
			strcmp(var, ZK_ENV_BACKEND) ? "--executor" : "--backend", name,
			strerror(EINVAL));
		exit(2);
	}
}

struct config {
	struct zk_io_opts opts;
	const char *addr;
	unsigned int port, grace;
};

/* The common options, then the example's own. */
static void build_opts(const struct zks_app *app, struct option *lo, char *so, size_t so_len)
{
	static const struct option common[] = {
		{ "executor", required_argument, NULL, 'e' },
		{ "backend", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "stack", required_argument, NULL, 's' },
		{ "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t n = sizeof(common) / sizeof(common[0]), i;

	memcpy(lo, common, sizeof(common));
	for (i = 0; app->longopts && app->longopts[i].name && n < MAX_OPTS - 1; i++)
		lo[n++] = app->longopts[i];
	memset(&lo[n], 0, sizeof(lo[n]));
	snprintf(so, so_len, "e:b:p:a:t:s:g:h%s", app->shortopts ? app->shortopts : "");
}

static void parse_args(const struct zks_app *app, int argc, char **argv, struct config *cf)
{
	struct option lo[MAX_OPTS];
	const char *p = app->name;
	char so[64];
	int o, r;

	build_opts(app, lo, so, sizeof(so));
	cf->opts.executor = ZK_EXEC_GREEN;
	if (zk_io_opts_from_env(&cf->opts) < 0) {
		fprintf(stderr, "%s: $ZK_BACKEND or $ZK_EXECUTOR: %s\n", p, strerror(EINVAL));
		exit(2);
	}
	while ((o = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (o) {
		case 'e': parse_name(p, ZK_ENV_EXECUTOR, optarg, &cf->opts); break;
		case 'b': parse_name(p, ZK_ENV_BACKEND, optarg, &cf->opts); break;
		case 'p': cf->port = (unsigned int)zks_parse_num(p, "--port", optarg, 0, 65535); break;
		case 'a': cf->addr = optarg; break;
		case 't': cf->opts.threads = (unsigned int)zks_parse_num(p, "--threads", optarg, 1, 100000); break;
		case 's': cf->opts.stack_size = zks_parse_num(p, "--stack", optarg, 4096, 1 << 30); break;
		case 'g': cf->grace = (unsigned int)zks_parse_num(p, "--grace", optarg, 0, 3600); break;
		case 'h': usage(stdout, app, argv[0]); exit(0);
		case '?': usage(stderr, app, argv[0]); exit(2);
		default:
			r = app->option ? app->option(o, optarg) : -EINVAL;
			if (r < 0) {
				fprintf(stderr, "%s: %s: %s (see --help)\n", p, argv[optind - 1],
					strerror(-r));
				exit(2);
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", p, argv[optind]);
		exit(2);
	}
	if (cf->opts.executor == ZK_EXEC_BLOCKING) {
		fprintf(stderr, "%s: --executor blocking: %s: it runs one task at a time, so it "
			"would serve one client at a time\n", p, strerror(EINVAL));
		exit(2);
	}
	if (cf->opts.executor == ZK_EXEC_THREADS && !cf->opts.threads)
		cf->opts.threads = 1024;
}

int zks_main(const struct zks_app *app, int argc, char **argv)
{
	struct config cf = { .addr = "127.0.0.1", .port = (unsigned int)app->default_port,
			     .grace = 10 };
	struct zks s = { .app = app, .lfd = -1, .conn_size = app->conn_size };
	unsigned int port = 0;
	int r;

	parse_args(app, argc, argv, &cf);
	raise_nofile(app->name);
	s.stackless = cf.opts.executor == ZK_EXEC_STACKLESS;
	s.grace = cf.grace;
	if (app->init && (r = app->init(&s)) < 0)
		return 1;
	s.lfd = listen_on(cf.addr, cf.port, &port);
	if (s.lfd < 0) {
		fprintf(stderr, "%s: listen on %s:%u: %s\n", app->name, cf.addr, cf.port,
			strerror(-s.lfd));
		return 1;
	}
	r = catch_signals(&s);
	if (r == 0)
		r = zk_io_init(&s.io, &cf.opts);
	if (r) {
		fprintf(stderr, "%s: %s backend, %s executor: %s\n", app->name,
			zk_backend_name(cf.opts.backend), zk_executor_name(cf.opts.executor),
			strerror(-r));
		return 1;
	}
	s.done = zk_chan_new_unbounded(sizeof(struct zks_conn *));
	if (!s.done) {
		fprintf(stderr, "%s: zk_chan_new_unbounded: %s\n", app->name, strerror(errno));
		return 1;
	}
	printf("%s: listening on %s:%u (%s executor, %s backend)\n", app->name, cf.addr, port,
	       zk_executor_name(zk_io_executor(s.io)), zk_backend_name(zk_io_backend(s.io)));
	fflush(stdout);
	r = serve(&s);
	printf("%s: shut down after %lu connections\n", app->name, s.served);
	zk_chan_free(s.done);
	zk_io_exit(s.io);
	return r ? 1 : 0;
}
