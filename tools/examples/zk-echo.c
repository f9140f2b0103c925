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
 * Accepting, reaping, signals and shutdown are zk-server.c's, shared with
 * zk-httpd: on SIGTERM the root stops accepting, shuts down the read side
 * of every connection (its task sees end of file and ends), waits for each
 * task to end and exits 0.
 */
#include <errno.h>
#include <stdlib.h>

#include "zk-server.h"

struct conn {
	struct zks_conn z;
	/* the state machine's state (unused by echo_conn) */
	size_t have, sent;
	int64_t result;
	char buf[];
};

static size_t bufsize = 4096;

/* Direct style: green threads and the thread pool. */
static int64_t echo_conn(struct zk_io *io, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	while ((n = zk_recv(io, c->z.fd, c->buf, bufsize, 0)) > 0) {
		n = zks_send_all(io, c->z.fd, c->buf, (size_t)n);
		if (n < 0)
			break;
	}
	zks_close(io, c->z.fd);
	return zks_conn_end(io, &c->z, n);
}

/* The same loop as a state machine: stackless tasks. */
enum { ST_START, ST_RECV, ST_SEND, ST_CLOSE };

static int64_t step_close(struct zk_io *io, struct conn *c, int64_t result)
{
	c->result = result;
	return zks_step_close(io, &c->z, ST_CLOSE);
}

static int64_t echo_step(struct zk_io *io, void *arg)
{
	struct conn *c = arg;
	int64_t r = zks_step_begin(io, &c->z);

	switch (c->z.state) {
	case ST_RECV:
		if (r <= 0)
			return step_close(io, c, r);
		c->have = (size_t)r;
		c->sent = 0;
		return zks_step_send(io, &c->z, ST_SEND, c->buf, c->have);
	case ST_SEND:
		if (r < 0)
			return step_close(io, c, r);
		c->sent += (size_t)r;
		if (c->sent < c->have)
			return zks_step_send(io, &c->z, ST_SEND, c->buf + c->sent,
					     c->have - c->sent);
		return zks_step_recv(io, &c->z, ST_RECV, c->buf, bufsize);
	case ST_CLOSE:
		return zks_step_closed(io, &c->z, r, c->result);
	default:
		return zks_step_recv(io, &c->z, ST_RECV, c->buf, bufsize);
	}
}

static int echo_option(int opt, const char *arg)
{
	if (opt != 'B')
		return -EINVAL;
	bufsize = zks_parse_num("zk-echo", "--buffer", arg, 1, 1 << 24);
	return 0;
}

/* Each connection carries its receive buffer. */
static int echo_init(struct zks *s)
{
	s->conn_size = sizeof(struct conn) + bufsize;
	return 0;
}

static const struct option echo_longopts[] = {
	{ "buffer", required_argument, NULL, 'B' },
	{ 0 }
};

static const struct zks_app echo_app = {
	.name = "zk-echo",
	.summary = "A TCP echo server on libzsync-k, one task per connection.",
	.usage = "  --buffer BYTES    receive buffer per connection (default 4096)\n",
	.default_port = 7007,
	.conn_size = sizeof(struct conn),
	.run = echo_conn,
	.step = echo_step,
	.longopts = echo_longopts,
	.shortopts = "B:",
	.option = echo_option,
	.init = echo_init,
};

int main(int argc, char **argv)
{
	return zks_main(&echo_app, argc, argv);
}
