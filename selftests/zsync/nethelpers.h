/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Socket helpers shared by the network selftests.  Include after helpers.h.
 * Everything runs over loopback: 127.0.0.1, or AF_UNIX.
 */
#ifndef ZSYNC_SELFTEST_NETHELPERS_H
#define ZSYNC_SELFTEST_NETHELPERS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

/* A @type socket bound to 127.0.0.1 on a free port; @addr gets the address. */
static inline int zt_inet_socket(struct __test_metadata *_metadata, int type,
				 struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)addr, sizeof(*addr)))
		TH_LOG("bind: %s", strerror(errno));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)addr, &len));
	return fd;
}

/* A TCP listener on 127.0.0.1; @addr gets its address. */
static inline int zt_tcp_listener(struct __test_metadata *_metadata,
				  struct sockaddr_in *addr, int backlog)
{
	int fd = zt_inet_socket(_metadata, SOCK_STREAM, addr);

	ASSERT_EQ(0, listen(fd, backlog)) TH_LOG("listen: %s", strerror(errno));
	return fd;
}

/* A TCP socket connected to @addr with a plain connect(2). */
static inline int zt_tcp_connect(struct __test_metadata *_metadata,
				 const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, connect(fd, (const struct sockaddr *)addr, sizeof(*addr)))
		TH_LOG("connect: %s", strerror(errno));
	return fd;
}

/* A connected TCP pair over loopback: sv[0] the client, sv[1] the server side. */
static inline void zt_tcp_pair(struct __test_metadata *_metadata, int sv[2])
{
	struct sockaddr_in addr;
	int lfd = zt_tcp_listener(_metadata, &addr, 1);

	sv[0] = zt_tcp_connect(_metadata, &addr);
	sv[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, sv[1]) TH_LOG("accept: %s", strerror(errno));
	close(lfd);
}

/* An address on 127.0.0.1 where nothing listens (a port bound, then freed). */
static inline void zt_refused_addr(struct __test_metadata *_metadata,
				   struct sockaddr_in *addr)
{
	close(zt_inet_socket(_metadata, SOCK_STREAM, addr));
}

/* Queue what @fd takes now without blocking; returns the bytes. */
static inline size_t zt_send_until_eagain(int fd)
{
	static const char junk[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = send(fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

/*
 * Fill @fd's send side so that it stays full.  TCP frees room as the peer
 * acknowledges what was in flight, and reports POLLOUT only once a third
 * of the buffer is free: keep filling until no POLLOUT comes for 100 ms
 * (nothing is in flight any more), then take whatever smaller room is
 * left.  Returns the bytes queued.
 */
static inline size_t zt_fill_socket(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t total = 0;

	do {
		total += zt_send_until_eagain(fd);
	} while (poll(&p, 1, 100) == 1);
	return total + zt_send_until_eagain(fd);
}

/* Read what @fd has now, without blocking; returns the bytes. */
static inline size_t zt_drain(int fd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

/* Whether @fd reports @events within @ms (poll(2)). */
static inline bool zt_poll_ready(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 && (p.revents & events);
}

/*
 * Wait until the ring has work for this thread to run (it reports POLLIN
 * before any CQE when only deferred work is there); asserts it does.
 */
static inline void zt_wait_deferred(struct __test_metadata *_metadata,
				    struct zk_ring *ring)
{
	ASSERT_TRUE(zt_poll_ready(ring->fd, POLLIN, ZT_PROMPT_MS))
		TH_LOG("the ring never reported work for this thread");
	ASSERT_EQ(0u, zk_cq_ready(ring)) TH_LOG("a CQE came before the deferred work ran");
}

/* An abstract AF_UNIX address named @name (no filesystem involved). */
static inline socklen_t zt_abstract_addr(struct sockaddr_un *sun, const char *name)
{
	size_t len = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + 1, name, len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* Whether a connection waits on listener @lfd (never blocks). */
static inline bool zt_connection_pending(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

#endif /* ZSYNC_SELFTEST_NETHELPERS_H */
