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
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-common.h"

#define PROG	"zsync-echo-epoll"
#define BUFSZ	(64 * 1024)
#define EVENTS	256

/* The unsent tail of an echo, when the peer's window was full. */
struct pending {
	size_t len, off;
	char data[];
};

struct server {
	int ep, lfd, sfd;
	struct pending **pend;	/* by fd */
	size_t npend;
	char buf[BUFSZ];
};

static void drop(struct server *s, int fd)
{
	if ((size_t)fd < s->npend) {
		free(s->pend[fd]);
		s->pend[fd] = NULL;
	}
	close(fd);
}

static int watch(struct server *s, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(s->ep, op, fd, &ev);
}

/* Keep @buf[@off..@len) for later and wait for room instead of input. */
static bool park(struct server *s, int fd, const char *buf, size_t off, size_t len)
{
	struct pending *p;

	if ((size_t)fd >= s->npend) {
		size_t n = (size_t)fd * 2 + 64;
		struct pending **np = realloc(s->pend, n * sizeof(*np));

		if (!np)
			return false;
		memset(np + s->npend, 0, (n - s->npend) * sizeof(*np));
		s->pend = np;
		s->npend = n;
	}
	p = malloc(sizeof(*p) + len - off);
	if (!p)
		return false;
	p->len = len - off;
	p->off = 0;
	memcpy(p->data, buf + off, p->len);
	s->pend[fd] = p;
	return watch(s, EPOLL_CTL_MOD, fd, EPOLLOUT) == 0;
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
	struct pending *p = s->pend[fd];

	s->pend[fd] = NULL;
	if (!send_or_park(s, fd, p->data, p->off, p->len) ||
	    (!s->pend[fd] && watch(s, EPOLL_CTL_MOD, fd, EPOLLIN) < 0))
		drop(s, fd);
	free(p);
}

static void on_accept(struct server *s)
{
	int fd, one = 1;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (watch(s, EPOLL_CTL_ADD, fd, EPOLLIN) < 0)
			close(fd);
	}
	if (errno == EMFILE || errno == ENFILE)
		fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
}

static int serve(struct server *s)
{
	struct epoll_event ev[EVENTS];

	for (;;) {
		int n = epoll_wait(s->ep, ev, EVENTS, -1), i;

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == s->sfd)
				return 0;
			if (fd == s->lfd)
				on_accept(s);
			else if ((size_t)fd < s->npend && s->pend[fd])
				on_writable(s, fd);
			else
				on_readable(s, fd);
		}
	}
}

static int setup(struct server *s, const char *addr, unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sin);
	sigset_t set;
	int one = 1;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->ep < 0 || s->lfd < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->sfd < 0 || bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(s->lfd, 4096) < 0 || getsockname(s->lfd, (struct sockaddr *)&sin, &len) < 0 ||
	    watch(s, EPOLL_CTL_ADD, s->lfd, EPOLLIN) < 0 || watch(s, EPOLL_CTL_ADD, s->sfd, EPOLLIN) < 0)
		return -1;
	printf(PROG ": listening on %s:%u\n", addr, ntohs(sin.sin_port));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct server s;
	const char *addr = "127.0.0.1";
	unsigned int port = 7007;
	int o;

	while ((o = getopt_long(argc, argv, "p:a:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'p': port = (unsigned int)echo_parse_num(PROG, "--port", optarg, 0, 65535); break;
		case 'a': addr = optarg; break;
		case 'h':
			printf("usage: " PROG " [--port N (7007; 0: any)] [--bind ADDR (127.0.0.1)]\n"
			       "A single-threaded epoll TCP echo server, the floor of make bench-echo.\n"
			       "Prints '" PROG ": listening on ADDR:PORT'; SIGTERM exits 0.\n");
			return 0;
		default:
			fprintf(stderr, "usage: " PROG " [--port N] [--bind ADDR]   (see --help)\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	echo_raise_nofile(PROG);
	if (setup(&s, addr, port) < 0) {
		fprintf(stderr, PROG ": listen on %s:%u: %s\n", addr, port, strerror(errno));
		return 1;
	}
	return serve(&s);
}
