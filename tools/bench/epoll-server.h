/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the plain-epoll floors (zsync-echo-epoll, zsync-http-epoll) share:
 * their options (--port, --bind, --help), the listener, SIGTERM/SIGINT as
 * a signalfd in the same epoll set, and accepting.  One thread, level
 * triggered, no libzsync-k: they are the yardstick, not the subject.
 */
#ifndef ZSYNC_EPOLL_SERVER_H
#define ZSYNC_EPOLL_SERVER_H

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-common.h"

struct epoll_server {
	const char *prog, *addr;
	unsigned int port;
	int ep, lfd, sfd;
	void **slots;		/* what each connection keeps, by fd */
	size_t nslots;
	/* A connection's descriptor is ready (for what it is watched for). */
	void (*on_ready)(struct epoll_server *s, int fd);
	/* Optional: epoll_wait() returned, before its events are handled. */
	void (*on_wake)(struct epoll_server *s);
};

static inline int epoll_server_watch(struct epoll_server *s, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(s->ep, op, fd, &ev);
}

/* What @fd keeps, or NULL. */
static inline void *epoll_server_get(struct epoll_server *s, int fd)
{
	return (size_t)fd < s->nslots ? s->slots[fd] : NULL;
}

/* Where @fd's pointer lives, the table grown to hold it; NULL without memory. */
static inline void **epoll_server_slot(struct epoll_server *s, int fd)
{
	if ((size_t)fd >= s->nslots) {
		size_t n = (size_t)fd * 2 + 64;
		void **ns = realloc(s->slots, n * sizeof(*ns));

		if (!ns)
			return NULL;
		memset(ns + s->nslots, 0, (n - s->nslots) * sizeof(*ns));
		s->slots = ns;
		s->nslots = n;
	}
	return &s->slots[fd];
}

/* --port N, --bind ADDR, --help (@what: the tool in a line); exits on error. */
static inline void epoll_server_args(struct epoll_server *s, const char *prog,
				     unsigned int port, const char *what, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o;

	s->prog = prog;
	s->addr = "127.0.0.1";
	s->port = port;
	while ((o = getopt_long(argc, argv, "p:a:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'p': s->port = (unsigned int)echo_parse_num(prog, "--port", optarg, 0, 65535); break;
		case 'a': s->addr = optarg; break;
		case 'h':
			printf("usage: %s [--port N (%u; 0: any)] [--bind ADDR (127.0.0.1)]\n%s\n"
			       "Prints '%s: listening on ADDR:PORT'; SIGTERM exits 0.\n",
			       prog, port, what, prog);
			exit(0);
		default:
			fprintf(stderr, "usage: %s [--port N] [--bind ADDR]   (see --help)\n", prog);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[optind]);
		exit(2);
	}
}

/*
 * Listen (backlog 4096: a thousand clients connect at once), put the
 * listener and a signalfd for SIGTERM/SIGINT in a new epoll set and print
 * the line the benches wait for.  Returns -1 with the error printed.
 */
static inline int epoll_server_listen(struct epoll_server *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	socklen_t len = sizeof(sin);
	sigset_t set;
	int one = 1;

	if (inet_pton(AF_INET, s->addr, &sin.sin_addr) != 1) {
		errno = EINVAL;
		goto fail;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->ep < 0 || s->lfd < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto fail;
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->sfd < 0 || bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(s->lfd, 4096) < 0 || getsockname(s->lfd, (struct sockaddr *)&sin, &len) < 0 ||
	    epoll_server_watch(s, EPOLL_CTL_ADD, s->lfd, EPOLLIN) < 0 ||
	    epoll_server_watch(s, EPOLL_CTL_ADD, s->sfd, EPOLLIN) < 0)
		goto fail;
	printf("%s: listening on %s:%u\n", s->prog, s->addr, ntohs(sin.sin_port));
	fflush(stdout);
	return 0;
fail:
	fprintf(stderr, "%s: listen on %s:%u: %s\n", s->prog, s->addr, s->port, strerror(errno));
	return -1;
}

/* Accept every queued connection, non-blocking, TCP_NODELAY, watched for input. */
static inline void epoll_server_accept(struct epoll_server *s)
{
	int fd, one = 1;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (epoll_server_watch(s, EPOLL_CTL_ADD, fd, EPOLLIN) < 0)
			close(fd);
	}
	if (errno == EMFILE || errno == ENFILE)
		fprintf(stderr, "%s: accept: %s\n", s->prog, strerror(errno));
}

/* Serve until SIGTERM/SIGINT (0) or an epoll_wait() error (1). */
static inline int epoll_server_run(struct epoll_server *s)
{
	struct epoll_event ev[256];

	for (;;) {
		int n = epoll_wait(s->ep, ev, 256, -1), i;

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "%s: epoll_wait: %s\n", s->prog, strerror(errno));
			return 1;
		}
		if (s->on_wake)
			s->on_wake(s);
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == s->sfd)
				return 0;
			if (fd == s->lfd)
				epoll_server_accept(s);
			else
				s->on_ready(s, fd);
		}
	}
}

#endif /* ZSYNC_EPOLL_SERVER_H */
