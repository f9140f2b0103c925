// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-echo-epoll: the floor the echo servers are measured against.
 *
 *   zsync-echo-epoll [--port N] [--bind ADDR]
 *
 * One thread, level-triggered epoll, non-blocking sockets, one shared
 * read buffer: what a C programmer writes by hand with nothing between
 * the program and the kernel.  A connection owns memory only while the
 * peer is not reading its echo (the unsent tail); meanwhile it is not
 * read from, so a client that does not read only slows itself.
 * SIGTERM/SIGINT: close everything, exit 0.
 */
#include <stdbool.h>

#include "epoll-server.h"

#define PROG	"zsync-echo-epoll"
#define BUFSZ	(64 * 1024)

/* The unsent tail of an echo, when the peer's window was full. */
struct pending {
	size_t len, off;
	char data[];
};

struct server {
	struct epoll_server es;	/* first: on_ready() casts it back */
	char buf[BUFSZ];
};

/* A connection's slot (epoll-server.h) holds its unsent tail, if any. */
static void drop(struct server *s, int fd)
{
	if ((size_t)fd < s->es.nslots) {
		free(s->es.slots[fd]);
		s->es.slots[fd] = NULL;
	}
	close(fd);
}

/* Keep @buf[@off..@len) for later and wait for room instead of input. */
static bool park(struct server *s, int fd, const char *buf, size_t off, size_t len)
{
	void **slot = epoll_server_slot(&s->es, fd);
	struct pending *p;

	p = slot ? malloc(sizeof(*p) + len - off) : NULL;
	if (!p)
		return false;
	p->len = len - off;
	p->off = 0;
	memcpy(p->data, buf + off, p->len);
	*slot = p;
	return epoll_server_watch(&s->es, EPOLL_CTL_MOD, fd, EPOLLOUT) == 0;
}

/* Send @buf[@off..@len); false when the connection is finished. */
static bool send_or_park(struct server *s, int fd, const char *buf, size_t off, size_t len)
{
	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN && park(s, fd, buf, off, len);
		off += (size_t)w;
	}
	return true;
}

static void on_readable(struct server *s, int fd)
{
	ssize_t r = recv(fd, s->buf, sizeof(s->buf), 0);

	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0 || !send_or_park(s, fd, s->buf, 0, (size_t)r))
		drop(s, fd);
}

static void on_writable(struct server *s, int fd)
{
	struct pending *p = s->es.slots[fd];

	s->es.slots[fd] = NULL;
	if (!send_or_park(s, fd, p->data, p->off, p->len) ||
	    (!s->es.slots[fd] && epoll_server_watch(&s->es, EPOLL_CTL_MOD, fd, EPOLLIN) < 0))
		drop(s, fd);
	free(p);
}

/* The server is its epoll_server's container (es comes first). */
static void on_ready(struct epoll_server *es, int fd)
{
	struct server *s = (struct server *)es;

	if (epoll_server_get(es, fd))
		on_writable(s, fd);
	else
		on_readable(s, fd);
}

int main(int argc, char **argv)
{
	static struct server s;

	epoll_server_args(&s.es, PROG, 7007,
			  "A single-threaded epoll TCP echo server, the floor of make bench-echo.",
			  argc, argv);
	echo_raise_nofile(PROG);
	if (epoll_server_listen(&s.es) < 0)
		return 1;
	s.es.on_ready = on_ready;
	return epoll_server_run(&s.es);
}
