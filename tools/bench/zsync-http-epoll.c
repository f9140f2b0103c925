// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-http-epoll: the floor the HTTP servers of make bench-http are
 * measured against.
 *
 *   zsync-http-epoll [--port N] [--bind ADDR]
 *
 * One thread, level-triggered epoll, non-blocking sockets, keep-alive:
 * what a C programmer writes by hand with nothing between the program and
 * the kernel.  Every request head (up to its blank line, "\r\n\r\n") gets
 * one response, in order: GET / the same 200 as zk-httpd and the Go and
 * Node peers (Content-Type, Server, Date, Content-Length and the 20-byte
 * body), anything else 404.  Minimal on purpose: no request bodies, no
 * Connection: close (the client closes), a head over 8 KiB closes the
 * connection.  The responses to the heads of one read (pipelining) go
 * out in one send.  A connection owns memory only for an unfinished head
 * or an unsent tail; while a tail waits, it is not read from, so a client
 * that does not read only slows itself.  SIGTERM/SIGINT: exit 0.
 */
#include <stdbool.h>
#include <time.h>

#include "epoll-server.h"

#define PROG		"zsync-http-epoll"
#define BUFSZ		(64 * 1024)
#define MAX_HEAD	(8 * 1024)
#define RESP_MAX	256

/* What a connection keeps between events; absent while it keeps nothing. */
struct conn {
	char *in;		/* received bytes not yet answered */
	size_t inlen;
	char *out;		/* responses the peer's window had no room for */
	size_t outlen, outoff;
};

struct server {
	struct epoll_server es;	/* first: on_ready() casts it back */
	time_t date_sec;	/* when ok[] and notfound[] were formatted */
	char ok[RESP_MAX], notfound[RESP_MAX];
	size_t oklen, notfoundlen;
	char in[BUFSZ], out[BUFSZ];
};

static const char index_body[] = "Hello from zk-httpd\n";

/* The two responses, formatted again only when the Date second changes. */
static void format_responses(struct server *s)
{
	static const char nf_body[] = "404 page not found\n";
	time_t now = time(NULL);
	char date[64];
	struct tm tm;

	if (now == s->date_sec)
		return;
	s->date_sec = now;
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
	s->oklen = (size_t)snprintf(s->ok, RESP_MAX,
				    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: http-epoll\r\n"
				    "Date: %s\r\nContent-Length: %zu\r\n\r\n%s",
				    date, sizeof(index_body) - 1, index_body);
	s->notfoundlen = (size_t)snprintf(s->notfound, RESP_MAX,
					  "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
					  "Server: http-epoll\r\nDate: %s\r\nContent-Length: %zu\r\n\r\n%s",
					  date, sizeof(nf_body) - 1, nf_body);
}

/* A connection's slot (epoll-server.h) holds its struct conn, if any. */
static struct conn *conn_get(struct server *s, int fd)
{
	void **slot = epoll_server_slot(&s->es, fd);

	if (slot && !*slot)
		*slot = calloc(1, sizeof(struct conn));
	return slot ? *slot : NULL;
}

static struct conn *conn_find(struct server *s, int fd)
{
	return epoll_server_get(&s->es, fd);
}

/* Free what @fd keeps once it keeps nothing. */
static void conn_trim(struct server *s, int fd)
{
	struct conn *c = conn_find(s, fd);

	if (c && !c->in && !c->out) {
		free(c);
		s->es.slots[fd] = NULL;
	}
}

static void drop(struct server *s, int fd)
{
	struct conn *c = conn_find(s, fd);

	if (c) {
		free(c->in);
		free(c->out);
		free(c);
		s->es.slots[fd] = NULL;
	}
	close(fd);
}

/* Keep a copy of @len bytes at @p in *@dst; false without memory. */
static bool keep(char **dst, size_t *dlen, const char *p, size_t len)
{
	*dst = malloc(len);
	if (!*dst)
		return false;
	memcpy(*dst, p, len);
	*dlen = len;
	return true;
}

/*
 * Send @buf[0..@len); what the window has no room for is kept and the
 * connection waits for room instead of input (*@parked).  False when the
 * connection is finished.
 */
static bool send_all(struct server *s, int fd, const char *buf, size_t len, bool *parked)
{
	size_t off = 0;
	struct conn *c;

	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno != EAGAIN)
			return false;
		c = conn_get(s, fd);
		if (!c || !keep(&c->out, &c->outlen, buf + off, len - off))
			return false;
		c->outoff = 0;
		*parked = true;
		return epoll_server_watch(&s->es, EPOLL_CTL_MOD, fd, EPOLLOUT) == 0;
	}
	return true;
}

/*
 * Answer every complete head in @data[0..@len), the responses gathered in
 * s->out, and keep the rest (an unfinished head, or what is left when the
 * peer stops reading).  False when the connection is finished.
 */
static bool advance(struct server *s, int fd, const char *data, size_t len)
{
	size_t pos = 0, outlen = 0;
	bool parked = false;
	struct conn *c;

	while (!parked) {
		const char *end = memmem(data + pos, len - pos, "\r\n\r\n", 4);
		bool ok;

		if (!end)
			break;
		if (outlen + RESP_MAX > sizeof(s->out)) {
			if (!send_all(s, fd, s->out, outlen, &parked))
				return false;
			outlen = 0;
			if (parked)
				break;
		}
		ok = len - pos >= 6 && !memcmp(data + pos, "GET / ", 6);
		memcpy(s->out + outlen, ok ? s->ok : s->notfound, ok ? s->oklen : s->notfoundlen);
		outlen += ok ? s->oklen : s->notfoundlen;
		pos = (size_t)(end + 4 - data);
	}
	if (outlen && !send_all(s, fd, s->out, outlen, &parked))
		return false;
	if (pos == len)
		return true;
	/* An unfinished head may not grow past MAX_HEAD; parked input may. */
	if (!parked && len - pos > MAX_HEAD)
		return false;
	c = conn_get(s, fd);
	return c && keep(&c->in, &c->inlen, data + pos, len - pos);
}

static void on_readable(struct server *s, int fd)
{
	struct conn *c = conn_find(s, fd);
	size_t n = c && c->in ? c->inlen : 0;
	ssize_t r;

	/* An unfinished head goes first; a later one ends where it started. */
	if (n)
		memcpy(s->in, c->in, n);
	r = recv(fd, s->in + n, sizeof(s->in) - n, 0);
	if (r < 0 && errno == EAGAIN)
		return;
	if (n) {
		free(c->in);
		c->in = NULL;
	}
	if (r <= 0 || !advance(s, fd, s->in, n + (size_t)r))
		drop(s, fd);
	else
		conn_trim(s, fd);
}

static void on_writable(struct server *s, int fd)
{
	struct conn *c = s->es.slots[fd];
	ssize_t w;

	while (c->outoff < c->outlen) {
		w = send(fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN)
				drop(s, fd);
			return;
		}
		c->outoff += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	if (epoll_server_watch(&s->es, EPOLL_CTL_MOD, fd, EPOLLIN) < 0) {
		drop(s, fd);
		return;
	}
	/* The requests that came with those answered while it was full. */
	if (c->in) {
		size_t n = c->inlen;

		memcpy(s->in, c->in, n);
		free(c->in);
		c->in = NULL;
		if (!advance(s, fd, s->in, n)) {
			drop(s, fd);
			return;
		}
	}
	conn_trim(s, fd);
}

/* The server is its epoll_server's container (es comes first). */
static void on_ready(struct epoll_server *es, int fd)
{
	struct server *s = (struct server *)es;
	struct conn *c = conn_find(s, fd);

	if (c && c->out)
		on_writable(s, fd);
	else
		on_readable(s, fd);
}

static void on_wake(struct epoll_server *es)
{
	format_responses((struct server *)es);
}

int main(int argc, char **argv)
{
	static struct server s;

	epoll_server_args(&s.es, PROG, 8080,
			  "A single-threaded epoll HTTP/1.1 server (GET /, keep-alive, pipelining),\n"
			  "the floor of make bench-http.", argc, argv);
	echo_raise_nofile(PROG);
	if (epoll_server_listen(&s.es) < 0)
		return 1;
	s.date_sec = (time_t)-1;
	s.es.on_ready = on_ready;
	s.es.on_wake = on_wake;
	return epoll_server_run(&s.es);
}
