// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-echo-load: an echo load generator that holds many connections.
 *
 *   zsync-echo-load --port N [--connections N] [--size B] [--duration S] ...
 *
 * One thread, plain epoll (edge-triggered), no library: it must not share
 * code or bias with what it measures.  It opens N connections (at most
 * CONNECT_BURST connecting at once, so the server's backlog is not
 * flooded), waits until all are up, then each does closed-loop round
 * trips: send SIZE bytes, read SIZE bytes back, check every byte, send
 * the next.  Round trips completed during the warm-up are not counted;
 * those of the measured window are, with their latency (send of the
 * first byte to receipt of the last).
 *
 * Past ~28,000 connections to one address the ephemeral ports run out;
 * --sources K binds the connections round-robin to 127.0.0.1..127.0.0.K
 * (loopback only), each of which has its own port space.
 *
 * --stall K first opens K slowloris connections that send one byte and
 * then nothing; --check makes the exit status say whether every other
 * connection completed round trips while they stalled, with no error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-common.h"

#define PROG		"zsync-echo-load"
#define CONNECT_BURST	256
#define EVENTS		512

enum cstate { C_IDLE, C_CONNECTING, C_RUNNING, C_STALLED, C_DEAD };

struct conn {
	int fd;
	enum cstate state;
	uint32_t seq;		/* request number: seeds its bytes */
	size_t sent, got;	/* of the current request */
	int64_t start;		/* when its first byte went out */
	uint64_t done;		/* round trips completed */
};

struct load {
	struct sockaddr_in dst;
	unsigned int nconn, nstall, sources;
	size_t size;
	double duration, warmup, connect_timeout;
	bool check;
	struct conn *c;
	int ep;
	char *buf;
	unsigned int connecting, up, opened;
	unsigned int idle;			/* running, no round trip yet */
	int64_t measure_from, measure_to;	/* 0: not measuring yet */
	uint64_t *lat;				/* ns, measured window */
	size_t nlat, caplat;
	unsigned long err_connect, err_closed, err_mismatch, err_io;
};

/* The byte at @off of request @seq on connection @id. */
static inline unsigned char pattern(unsigned int id, uint32_t seq, size_t off)
{
	return (unsigned char)(id * 131u + seq * 7u + off);
}

static void record(struct load *l, int64_t ns)
{
	if (l->nlat == l->caplat) {
		size_t cap = l->caplat ? l->caplat * 2 : 1 << 16;
		uint64_t *n = realloc(l->lat, cap * sizeof(*n));

		if (!n)
			return;		/* keep counting what fits */
		l->lat = n;
		l->caplat = cap;
	}
	l->lat[l->nlat++] = (uint64_t)ns;
}

static void kill_conn(struct load *l, struct conn *c, unsigned long *counter)
{
	(*counter)++;
	if (c->state == C_RUNNING && !c->done)
		l->idle--;
	if (c->state == C_CONNECTING)
		l->connecting--;
	close(c->fd);
	c->fd = -1;
	c->state = C_DEAD;
}

/* Send what is left of the current request; false when @c died. */
static bool pump_send(struct load *l, struct conn *c, unsigned int id)
{
	char *out = l->buf;

	while (c->sent < l->size) {
		size_t n = l->size - c->sent, i;
		ssize_t w;

		for (i = 0; i < n; i++)
			out[i] = (char)pattern(id, c->seq, c->sent + i);
		w = send(c->fd, out, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN)
				return true;
			kill_conn(l, c, &l->err_io);
			return false;
		}
		c->sent += (size_t)w;
	}
	return true;
}

static void start_request(struct load *l, struct conn *c, unsigned int id)
{
	c->sent = c->got = 0;
	c->start = echo_now_ns();
	pump_send(l, c, id);
}

static void finish_request(struct load *l, struct conn *c, unsigned int id)
{
	int64_t now = echo_now_ns();

	if (l->measure_from && now >= l->measure_from && now < l->measure_to)
		record(l, now - c->start);
	if (c->done++ == 0)
		l->idle--;
	c->seq++;
	start_request(l, c, id);
}

/* Read the echo, checking each byte; start the next request when whole. */
static void pump_recv(struct load *l, struct conn *c, unsigned int id)
{
	char *in = l->buf;

	for (;;) {
		ssize_t r = recv(c->fd, in, l->size - c->got, 0);
		size_t i;

		if (r < 0) {
			if (errno != EAGAIN)
				kill_conn(l, c, &l->err_io);
			return;
		}
		if (r == 0) {
			kill_conn(l, c, &l->err_closed);
			return;
		}
		for (i = 0; i < (size_t)r; i++) {
			if ((unsigned char)in[i] != pattern(id, c->seq, c->got + i)) {
				kill_conn(l, c, &l->err_mismatch);
				return;
			}
		}
		c->got += (size_t)r;
		if (c->got == l->size) {
			finish_request(l, c, id);
			if (c->state != C_RUNNING)
				return;
		}
	}
}

static void connected(struct load *l, struct conn *c, unsigned int id)
{
	int err = 0, one = 1;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		if (l->err_connect == 0)
			fprintf(stderr, PROG ": connect: %s\n", strerror(err ? err : errno));
		kill_conn(l, c, &l->err_connect);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->connecting--;
	l->up++;
	if (id < l->nstall) {
		c->state = C_STALLED;
		if (send(c->fd, "s", 1, MSG_NOSIGNAL) != 1)
			kill_conn(l, c, &l->err_io);
		return;
	}
	c->state = C_RUNNING;
	l->idle++;
}

static void on_event(struct load *l, unsigned int id, uint32_t ev)
{
	struct conn *c = &l->c[id];

	if (c->state == C_CONNECTING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		connected(l, c, id);
	if (c->state != C_RUNNING || !l->measure_from)
		return;		/* stalled, dead, or before the start */
	if (c->sent < l->size && !pump_send(l, c, id))
		return;
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		pump_recv(l, c, id);
}

/* Open connection @id: non-blocking connect from its source address. */
static void open_conn(struct load *l, unsigned int id)
{
	struct conn *c = &l->c[id];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = id };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	l->opened++;
	if (fd < 0) {
		if (l->err_connect++ == 0)
			fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		c->state = C_DEAD;
		return;
	}
	c->fd = fd;
	c->state = C_CONNECTING;
	l->connecting++;
	if (l->sources > 1) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + id % l->sources);
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			goto fail;
	}
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&l->dst, sizeof(l->dst)) < 0 && errno != EINPROGRESS)
		goto fail;
	return;
fail:
	if (l->err_connect == 0)
		fprintf(stderr, PROG ": connection %u: %s\n", id, strerror(errno));
	kill_conn(l, c, &l->err_connect);
}

static void poll_once(struct load *l, int timeout_ms)
{
	struct epoll_event ev[EVENTS];
	int n = epoll_wait(l->ep, ev, EVENTS, timeout_ms), i;

	if (n < 0 && errno != EINTR) {
		fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
		exit(1);
	}
	for (i = 0; i < n; i++)
		on_event(l, ev[i].data.u32, ev[i].events);
}

/* Open everything, CONNECT_BURST at a time; false when it timed out. */
static bool connect_all(struct load *l)
{
	int64_t deadline = echo_now_ns() + (int64_t)(l->connect_timeout * 1e9);

	while (l->up + l->err_connect + l->err_io < l->nconn) {
		while (l->opened < l->nconn && l->connecting < CONNECT_BURST)
			open_conn(l, l->opened);
		if (echo_now_ns() > deadline)
			return false;
		poll_once(l, 10);
	}
	return true;
}

static void run(struct load *l)
{
	int64_t end;
	unsigned int i;

	if (!connect_all(l)) {
		fprintf(stderr, PROG ": %u of %u connections up after %.0f s\n", l->up,
			l->nconn, l->connect_timeout);
		for (i = 0; i < l->nconn; i++)
			if (l->c[i].state == C_CONNECTING)
				kill_conn(l, &l->c[i], &l->err_connect);
	}
	/* A handshake for scripts that act once the connections are up. */
	printf(PROG ": %u of %u connections up\n", l->up, l->nconn);
	fflush(stdout);
	l->measure_from = echo_now_ns() + (int64_t)(l->warmup * 1e9);
	l->measure_to = l->measure_from + (int64_t)(l->duration * 1e9);
	for (i = l->nstall; i < l->nconn; i++)
		if (l->c[i].state == C_RUNNING)
			start_request(l, &l->c[i], i);
	end = l->measure_to;
	while (echo_now_ns() < end)
		poll_once(l, 5);
	/* --check: give every connection until the timeout to do one. */
	end += (int64_t)(l->connect_timeout * 1e9);
	while (l->check && l->idle && echo_now_ns() < end)
		poll_once(l, 5);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const struct load *l, double p)
{
	size_t i;

	if (!l->nlat)
		return 0;
	i = (size_t)(p * (double)(l->nlat - 1) + 0.5);
	return (double)l->lat[i] / 1000.0;
}

/* Print the results; the exit status for --check. */
static int report(struct load *l)
{
	unsigned long errors = l->err_connect + l->err_closed + l->err_mismatch + l->err_io;
	uint64_t min_done = UINT64_MAX;
	unsigned int i, idle = 0;

	for (i = l->nstall; i < l->nconn; i++) {
		if (l->c[i].done < min_done)
			min_done = l->c[i].done;
		idle += l->c[i].done == 0;
	}
	if (min_done == UINT64_MAX)
		min_done = 0;
	qsort(l->lat, l->nlat, sizeof(*l->lat), cmp_u64);
	printf(PROG ": %u connections (%u stalled), %zu-byte messages, %.1f s: "
	       "%.0f round trips/s, p50 %.1f us, p99 %.1f us, p999 %.1f us, errors %lu "
	       "(connect %lu, closed %lu, mismatch %lu, io %lu)\n",
	       l->nconn, l->nstall, l->size, l->duration, (double)l->nlat / l->duration,
	       pct_us(l, 0.5), pct_us(l, 0.99), pct_us(l, 0.999), errors, l->err_connect,
	       l->err_closed, l->err_mismatch, l->err_io);
	printf("connections=%u rt_per_s=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f errors=%lu "
	       "min_rt_per_conn=%llu\n", l->nconn, (double)l->nlat / l->duration, pct_us(l, 0.5),
	       pct_us(l, 0.99), pct_us(l, 0.999), errors, (unsigned long long)min_done);
	if (!l->check)
		return errors ? 1 : 0;
	if (errors || idle) {
		printf(PROG ": check failed: %lu errors, %u of %u active connections without "
		       "a round trip\n", errors, idle, l->nconn - l->nstall);
		return 1;
	}
	printf(PROG ": check passed: every one of %u active connections echoed intact\n",
	       l->nconn - l->nstall);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --port N [options]\n"
		"Holds N echo connections doing closed-loop round trips; prints round\n"
		"trips/s, latency p50/p99/p999 and errors (and a key=value line).\n"
		"  --host ADDR          server IPv4 address (default 127.0.0.1)\n"
		"  --port N             server port (required)\n"
		"  --connections N      concurrent connections (default 64)\n"
		"  --size BYTES         message size (default 64)\n"
		"  --duration SECS      measured window (default 5)\n"
		"  --warmup SECS        round trips before it, not counted (default 1)\n"
		"  --sources K          bind to 127.0.0.1..127.0.0.K round-robin (default:\n"
		"                       one per 25,000 connections, for a loopback server)\n"
		"  --stall K            first K connections send 1 byte, then stall\n"
		"  --connect-timeout S  give up connecting after S seconds (default 30)\n"
		"  --check              exit 1 unless every active connection completed a\n"
		"                       round trip (waiting up to --connect-timeout more\n"
		"                       for the last) and nothing failed\n"
		"  -h, --help           this text\n");
}

static double parse_secs(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || v < 0 || v > 86400) {
		fprintf(stderr, PROG ": %s '%s': %s (expected seconds, 0..86400)\n", opt, s,
			strerror(errno ? errno : EINVAL));
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv, struct load *l)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "connections", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "sources", required_argument, NULL, 'S' },
		{ "stall", required_argument, NULL, 'z' },
		{ "connect-timeout", required_argument, NULL, 'T' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *host = "127.0.0.1";
	int o, port = -1;

	while ((o = getopt_long(argc, argv, "H:p:c:s:d:w:S:z:T:Ch", longopts, NULL)) != -1) {
		switch (o) {
		case 'H': host = optarg; break;
		case 'p': port = (int)echo_parse_num(PROG, "--port", optarg, 1, 65535); break;
		case 'c': l->nconn = (unsigned int)echo_parse_num(PROG, "--connections", optarg, 1, 1000000); break;
		case 's': l->size = echo_parse_num(PROG, "--size", optarg, 1, 1 << 20); break;
		case 'd': l->duration = parse_secs("--duration", optarg); break;
		case 'w': l->warmup = parse_secs("--warmup", optarg); break;
		case 'S': l->sources = (unsigned int)echo_parse_num(PROG, "--sources", optarg, 1, 250); break;
		case 'z': l->nstall = (unsigned int)echo_parse_num(PROG, "--stall", optarg, 0, 100000); break;
		case 'T': l->connect_timeout = parse_secs("--connect-timeout", optarg); break;
		case 'C': l->check = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc || port < 0) {
		fprintf(stderr, PROG ": %s (see --help)\n",
			port < 0 ? "--port is required" : "unexpected argument");
		exit(2);
	}
	if (l->duration <= 0) {
		fprintf(stderr, PROG ": --duration must be more than 0 s: %s\n", strerror(EINVAL));
		exit(2);
	}
	l->dst.sin_family = AF_INET;
	l->dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &l->dst.sin_addr) != 1) {
		fprintf(stderr, PROG ": --host '%s': %s (an IPv4 address)\n", host, strerror(EINVAL));
		exit(2);
	}
	l->nconn += l->nstall;
	if (!l->sources)
		l->sources = (l->dst.sin_addr.s_addr & htonl(0xff000000)) == htonl(0x7f000000) ?
			     l->nconn / 25000 + 1 : 1;
}

int main(int argc, char **argv)
{
	struct load l = { .nconn = 64, .size = 64, .duration = 5, .warmup = 1,
			  .connect_timeout = 30 };
	unsigned long nofile;

	parse_args(argc, argv, &l);
	nofile = echo_raise_nofile(PROG);
	if (nofile < l.nconn + 16UL) {
		fprintf(stderr, PROG ": %u connections need more descriptors than RLIMIT_NOFILE "
			"(%lu): %s\n", l.nconn, nofile, strerror(EMFILE));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	l.c = calloc(l.nconn, sizeof(*l.c));
	l.buf = malloc(l.size);
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!l.c || !l.buf || l.ep < 0) {
		fprintf(stderr, PROG ": setup: %s\n", strerror(l.ep < 0 ? errno : ENOMEM));
		return 1;
	}
	run(&l);
	return report(&l);
}
