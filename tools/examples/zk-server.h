/* SPDX-License-Identifier: MIT */
/*
 * zk-server: the part of a TCP server example that is not the protocol.
 *
 * zk-echo and zk-httpd share it: option parsing (--executor, --backend,
 * --port, --bind, --threads, --stack, --help and the example's own),
 * the listener, SIGTERM/SIGINT, and the root context that accepts, spawns
 * one task per connection, reaps the tasks that ended and shuts down.
 *
 * An example describes itself in a struct zks_app: the size of its
 * connection (a struct zks_conn first), the task that serves one in direct
 * style (green threads, thread pool) and the same as a state machine
 * (stackless).  Only the executor choice changes which one runs.
 *
 * Shutdown, on SIGTERM or SIGINT: stop accepting, close the listener,
 * shut down the read side of every open connection (a task waiting for a
 * request sees end of file; one sending a response finishes it), wait up
 * to --grace seconds for every task to end, cancel those still running,
 * exit 0.
 */
#ifndef ZK_SERVER_H
#define ZK_SERVER_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "zsync-k-io.h"

struct zks;

/* The head of every connection; the example's fields follow it. */
struct zks_conn {
	struct zks *srv;
	struct zks_conn *prev, *next;	/* srv->live */
	struct zk_future *task;
	struct zk_future *op;		/* stackless: the op it waits for */
	int fd;
	int state;			/* stackless: where it is */
};

struct zks_app {
	const char *name;		/* "zk-echo": messages start with it */
	const char *summary;		/* one line for --help */
	const char *usage;		/* the example's own options, for --help */
	int default_port;
	size_t conn_size;		/* bytes of its connection, >= zks_conn */
	zk_task_fn run;			/* serve one connection, direct style */
	zk_step_fn step;		/* the same as a state machine */
	/* the example's own options, and what to do with each */
	const struct option *longopts;
	const char *shortopts;
	int (*option)(int opt, const char *arg);	/* 0, or -errno */
	int (*init)(struct zks *s);			/* after parsing; may be NULL */
	void (*conn_init)(struct zks_conn *c);		/* may be NULL */
	void (*conn_free)(struct zks_conn *c);		/* may be NULL */
};

struct zks {
	const struct zks_app *app;
	struct zk_io *io;
	int lfd;			/* listening socket (non-blocking) */
	int sig[2];			/* the signal handler writes to sig[1] */
	struct zk_chan *done;		/* struct zks_conn * of every task that ended */
	struct zks_conn *live;		/* open connections (root only) */
	unsigned long served, open;
	size_t conn_size;		/* app->conn_size; the app's init may raise it */
	bool stackless;
	unsigned int grace;		/* seconds in-flight work may take at shutdown */
};

/* Parse, listen, serve until SIGTERM/SIGINT; returns main()'s status. */
int zks_main(const struct zks_app *app, int argc, char **argv);

/* Parse an unsigned number in [min, max] or exit 2 with a message. */
unsigned long zks_parse_num(const char *prog, const char *opt, const char *s,
			    unsigned long min, unsigned long max);

/* Close @fd through the runtime, or directly once the task is cancelled. */
void zks_close(struct zk_io *io, int fd);

/* A connection task's last act: hand itself to the root, which frees it. */
int64_t zks_conn_end(struct zk_io *io, struct zks_conn *c, int64_t result);

/* Send all of @buf: its length, or the first error. */
ssize_t zks_send_all(struct zk_io *io, int fd, const char *buf, size_t len);

/* The stackless state machine's usual ops: start one, return pending. */
int64_t zks_step_recv(struct zk_io *io, struct zks_conn *c, int state, void *buf, size_t len);
int64_t zks_step_send(struct zk_io *io, struct zks_conn *c, int state,
		      const void *buf, size_t len);
int64_t zks_step_close(struct zk_io *io, struct zks_conn *c, int state);

/* A step's start: the result of the op it waited for (0 at ST_START = 0). */
int64_t zks_step_begin(struct zk_io *io, struct zks_conn *c);

/* A step after its close op completed with @r: the task ends with @result. */
int64_t zks_step_closed(struct zk_io *io, struct zks_conn *c, int64_t r, int64_t result);

#endif
