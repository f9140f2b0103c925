// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-http-client: the HTTP client of zk-httpd's functional test.
 *
 *   zsync-http-client --port N --raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' [--responses K]
 *   zsync-http-client --port N --connections N [--requests R] [--stall K] ...
 *
 * One thread, poll(), no library: it checks what it does not share code
 * with.  --raw sends the bytes given (C escapes \r \n \t \\ \xHH) on one
 * connection, all at once, and prints every byte received; it stops after
 * K complete responses (Content-Length framing), or at end of file when K
 * is 0.  --expect-close then also waits for the server to close.
 *
 * Without --raw it holds --connections connections at once, each sending
 * --requests GETs of --path one after the other (keep-alive) and checking
 * the status and body length of each; a connection that is done stays
 * open until every one is, so the server holds them all at the same time.
 * --stall K first opens K slowloris connections that send the start of a
 * request head a byte at a time (every --stall-ms) and never finish it;
 * the others must all be served meanwhile.
 *
 * Exit status 0 when everything asked for happened before --timeout.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-common.h"

#define PROG		"zsync-http-client"
#define RBUF		(256 * 1024)

static const char slow_head[] = "GET / HTTP/1.1\r\nHost: slowloris\r\nX-Slow: ";

struct conn {
	int fd;
	bool connected, done;
	size_t sent, got;	/* of the current request / response */
	unsigned int answered;
	char *buf;
};

static struct {
	struct sockaddr_in dst;
	unsigned int nconn, nreq, nstall, stall_ms, responses, expect_status;
	long expect_length;	/* -1: any */
	double timeout;
	bool expect_close, bodies;
	const char *raw, *path;
} opt = { .nreq = 1, .stall_ms = 100, .expect_status = 200, .expect_length = -1,
	  .timeout = 30, .path = "/" };

static char request[1024];
static size_t request_len;

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

/*
 * The length of the complete response at the start of @buf, 0 if it is
 * not complete, -1 if it is not HTTP; sets its status.
 */
static long response_len(const char *buf, size_t len, unsigned int *status)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *p;
	size_t head;
	long cl = 0;

	if (len >= 12 && strncmp(buf, "HTTP/1.", 7))
		return -1;
	if (!end)
		return 0;
	head = (size_t)(end - buf) + 4;
	*status = (unsigned int)atoi(buf + 9);
	for (p = buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		p++;
		if (!strncasecmp(p, "Content-Length:", 15))
			cl = atol(p + 15);
	}
	return head + (size_t)cl <= len ? (long)(head + (size_t)cl) : 0;
}

/* ------------------------------------------------------------------ */
/* --raw: one connection                                               */
/* ------------------------------------------------------------------ */

/* --bodies: print a response's body only. */
static void put_body(const char *resp, size_t len)
{
	const char *body = (const char *)memmem(resp, len, "\r\n\r\n", 4) + 4;

	fwrite(body, 1, len - (size_t)(body - resp), stdout);
}

/* Decode C escapes in place; returns the length. */
static size_t unescape(char *s)
{
	char *o = s, *i = s;

	while (*i) {
		if (*i != '\\' || !i[1]) {
			*o++ = *i++;
			continue;
		}
		i++;
		switch (*i) {
		case 'r': *o++ = '\r'; i++; break;
		case 'n': *o++ = '\n'; i++; break;
		case 't': *o++ = '\t'; i++; break;
		case 'x': *o++ = (char)strtol((char[3]){ i[1], i[1] ? i[2] : 0, 0 }, NULL, 16);
			  i += 1 + (i[1] != 0) + (i[1] && i[2]); break;
		default: *o++ = *i++;
		}
	}
	return (size_t)(o - s);
}

static int connect_to(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Wait for @events on @fd until @deadline; false on timeout. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - echo_now_ns();

	if (left <= 0)
		return false;
	return poll(&p, 1, (int)(left / 1000000) + 1) > 0;
}

static int run_raw(void)
{
	int64_t deadline = echo_now_ns() + (int64_t)(opt.timeout * 1e9);
	char *buf = malloc(RBUF), *req = strdup(opt.raw);
	size_t len = unescape(req), sent = 0, got = 0, off = 0;
	unsigned int answered = 0, status;
	bool eof = false;
	int fd = connect_to();

	if (fd < 0 || !buf) {
		fprintf(stderr, PROG ": connect: %s\n", strerror(fd < 0 ? -fd : ENOMEM));
		return 1;
	}
	while (sent < len && wait_fd(fd, POLLOUT, deadline)) {
		ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
			break;
		sent += n > 0 ? (size_t)n : 0;
	}
	/* Read until the responses asked for are in, or end of file. */
	while ((!opt.responses || answered < opt.responses || opt.expect_close) && !eof &&
	       got < RBUF && wait_fd(fd, POLLIN, deadline)) {
		ssize_t n = recv(fd, buf + got, RBUF - got, 0);
		long r;

		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0) {
			eof = true;	/* a reset after the response counts as closing */
			break;
		}
		if (!opt.bodies)
			fwrite(buf + got, 1, (size_t)n, stdout);
		got += (size_t)n;
		while ((r = response_len(buf + off, got - off, &status)) > 0) {
			if (opt.bodies)
				put_body(buf + off, (size_t)r);
			off += (size_t)r;
			answered++;
		}
		fflush(stdout);	/* a test may be waiting for it */
	}
	close(fd);
	if (opt.responses && answered < opt.responses) {
		fprintf(stderr, PROG ": %u responses of %u\n", answered, opt.responses);
		return 1;
	}
	if ((opt.expect_close || !opt.responses) && !eof) {
		fprintf(stderr, PROG ": the server did not close the connection\n");
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Many connections                                                    */
/* ------------------------------------------------------------------ */

/* A response in: check it; false if it is wrong. */
static bool check_response(struct conn *c, unsigned int status, long len)
{
	const char *body = memmem(c->buf, (size_t)len, "\r\n\r\n", 4) + 4;
	long blen = len - (body - c->buf);

	if (status != opt.expect_status || (opt.expect_length >= 0 && blen != opt.expect_length)) {
		fprintf(stderr, PROG ": status %u, body %ld bytes (expected %u, %ld)\n", status,
			blen, opt.expect_status, opt.expect_length);
		return false;
	}
	return true;
}

/* Move @c on as far as it goes without waiting; false on a failure. */
static bool pump(struct conn *c, short revents)
{
	unsigned int status;
	long r;
	ssize_t n;

	if (!c->connected) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return true;
		c->connected = true;
	}
	while (!c->done && c->sent < request_len) {
		n = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN;
		c->sent += (size_t)n;
	}
	while (!c->done) {
		n = recv(c->fd, c->buf + c->got, RBUF - c->got, 0);
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		c->got += (size_t)n;
		r = response_len(c->buf, c->got, &status);
		if (r < 0 || (r == 0 && c->got == RBUF))
			return false;
		if (r == 0)
			continue;
		if (!check_response(c, status, r))
			return false;
		c->got = c->sent = 0;	/* no pipelining here: nothing follows */
		if (++c->answered == opt.nreq)
			c->done = true;
		else
			return pump(c, revents);
	}
	return true;
}

/* Slowloris connections: open them, then a byte each now and then. */
static int *open_stalls(void)
{
	int *fds = calloc(opt.nstall + 1, sizeof(int));
	unsigned int i;

	for (i = 0; fds && i < opt.nstall; i++) {
		fds[i] = connect_to();
		if (fds[i] < 0) {
			fprintf(stderr, PROG ": stall connect: %s\n", strerror(-fds[i]));
			exit(1);
		}
	}
	return fds;
}

static void drip(int *fds, unsigned int *pos)
{
	unsigned int i;

	for (i = 0; i < opt.nstall; i++)
		send(fds[i], i % 2 ? "a" : &slow_head[*pos % (sizeof(slow_head) - 1)], 1,
		     MSG_NOSIGNAL);
	(*pos)++;
}

static int run_load(void)
{
	int64_t start = echo_now_ns(), deadline = start + (int64_t)(opt.timeout * 1e9);
	int64_t next_drip = start;
	struct conn *c = calloc(opt.nconn, sizeof(*c));
	struct pollfd *pf = calloc(opt.nconn, sizeof(*pf));
	int *stalls = open_stalls();
	unsigned int i, done = 0, failed = 0, pos = 0;

	if (!c || !pf || !stalls)
		return 1;
	request_len = (size_t)snprintf(request, sizeof(request),
				       "GET %s HTTP/1.1\r\nHost: zsync-http-client\r\n\r\n", opt.path);
	for (i = 0; i < opt.nconn; i++) {
		c[i].fd = connect_to();
		c[i].buf = malloc(RBUF);
		if (c[i].fd < 0 || !c[i].buf) {
			fprintf(stderr, PROG ": connection %u: %s\n", i,
				strerror(c[i].fd < 0 ? -c[i].fd : ENOMEM));
			return 1;
		}
		pf[i] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN | POLLOUT };
	}
	while (done + failed < opt.nconn && echo_now_ns() < deadline) {
		if (opt.nstall && echo_now_ns() >= next_drip) {
			drip(stalls, &pos);
			next_drip += (int64_t)opt.stall_ms * 1000000;
		}
		if (poll(pf, opt.nconn, opt.nstall ? (int)opt.stall_ms : 100) < 0)
			return 1;
		for (i = 0; i < opt.nconn; i++) {
			if (!pf[i].revents || pf[i].fd < 0)
				continue;
			if (!pump(&c[i], pf[i].revents)) {
				failed++;
				pf[i].fd = -1;
			} else if (c[i].done) {
				done++;
				pf[i].fd = -1;	/* done: held open, no longer polled */
			} else {
				pf[i].events = c[i].sent < request_len ? POLLOUT : POLLIN;
			}
		}
	}
	printf(PROG ": %u of %u connections got %u responses each (%u failed) in %.2f s "
	       "with %u slowloris connections open\n", done, opt.nconn, opt.nreq, failed,
	       (double)(echo_now_ns() - start) / 1e9, opt.nstall);
	return done == opt.nconn ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --port N [--raw BYTES [--responses K] [--expect-close] [--bodies]]\n"
		"       " PROG " --port N --connections N [--requests R] [--path P]\n"
		"                [--stall K] [--stall-ms MS] [--status S] [--length L]\n"
		"  --addr ADDR        server address (default 127.0.0.1)\n"
		"  --raw BYTES        send BYTES (C escapes) on one connection, print the reply\n"
		"  --responses K      with --raw: stop after K responses (0: at end of file)\n"
		"  --expect-close     with --raw: the server must then close the connection\n"
		"  --bodies           with --raw: print the responses' bodies only\n"
		"  --connections N    hold N connections, each making --requests GETs\n"
		"  --path P           what they GET (default /)\n"
		"  --status S         the status each must get (default 200)\n"
		"  --length L         the body length each must get (default: any)\n"
		"  --stall K          K slowloris connections meanwhile\n"
		"  --stall-ms MS      a slowloris byte every MS ms (default 100)\n"
		"  --timeout S        give up after S seconds (default 30)\n"
		"Exit status 0 when all of it happened in time.\n");
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' }, { "port", required_argument, NULL, 'p' },
		{ "raw", required_argument, NULL, 'r' }, { "responses", required_argument, NULL, 'k' },
		{ "expect-close", no_argument, NULL, 'x' }, { "bodies", no_argument, NULL, 'B' },
		{ "connections", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' }, { "path", required_argument, NULL, 'P' },
		{ "status", required_argument, NULL, 'S' }, { "length", required_argument, NULL, 'L' },
		{ "stall", required_argument, NULL, 's' }, { "stall-ms", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *addr = "127.0.0.1";
	unsigned long port = 0;
	int o;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'a': addr = optarg; break;
		case 'p': port = echo_parse_num(PROG, "--port", optarg, 1, 65535); break;
		case 'r': opt.raw = optarg; break;
		case 'k': opt.responses = (unsigned int)echo_parse_num(PROG, "--responses", optarg, 0, 10000); break;
		case 'x': opt.expect_close = true; break;
		case 'B': opt.bodies = true; break;
		case 'c': opt.nconn = (unsigned int)echo_parse_num(PROG, "--connections", optarg, 1, 100000); break;
		case 'n': opt.nreq = (unsigned int)echo_parse_num(PROG, "--requests", optarg, 1, 1000000); break;
		case 'P': opt.path = optarg; break;
		case 'S': opt.expect_status = (unsigned int)echo_parse_num(PROG, "--status", optarg, 100, 599); break;
		case 'L': opt.expect_length = (long)echo_parse_num(PROG, "--length", optarg, 0, RBUF / 2); break;
		case 's': opt.nstall = (unsigned int)echo_parse_num(PROG, "--stall", optarg, 0, 10000); break;
		case 'm': opt.stall_ms = (unsigned int)echo_parse_num(PROG, "--stall-ms", optarg, 1, 60000); break;
		case 't': opt.timeout = (double)echo_parse_num(PROG, "--timeout", optarg, 1, 3600); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc || !port || (!opt.raw == !opt.nconn) || strlen(opt.path) > 900) {
		fprintf(stderr, PROG ": %s: give --port and one of --raw or --connections "
			"(see --help)\n", strerror(EINVAL));
		exit(2);
	}
	opt.dst = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &opt.dst.sin_addr) != 1) {
		fprintf(stderr, PROG ": --addr '%s': %s\n", addr, strerror(EINVAL));
		exit(2);
	}
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	if (opt.nconn + opt.nstall + 16 > echo_raise_nofile(PROG)) {
		fprintf(stderr, PROG ": %u connections: %s (RLIMIT_NOFILE)\n",
			opt.nconn + opt.nstall, strerror(EMFILE));
		return 1;
	}
	return opt.raw ? run_raw() : run_load();
}
