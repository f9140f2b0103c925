// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-soak: TCP echo over loopback, both ends in the worker's ring.
 *
 * Server: a listener with an ACCEPT armed (multishot in some rings,
 * single-shot with the peer's address in others); each connection echoes
 * what it receives: RECV, then SEND with MSG_WAITALL of exactly that,
 * every other connection with RECVMSG/SENDMSG on two iovecs.
 *
 * Clients: NET_CLIENTS connections at a time, each streaming a random
 * amount (up to 256 KiB) of a pattern of its own in random chunks, with at
 * most NET_WINDOW bytes unechoed, and checking every byte that comes back
 * at its offset.  Then 1 in 8 shut down their sending side and wait for
 * the server's end of stream; the rest reset (SO_LINGER 0), which leaves
 * no TIME_WAIT socket behind to blur the memory checks.
 *
 * When ACCEPT, CONNECT and SHUTDOWN are refused (lsm_bypass_net=N) the
 * same happens with accept4(2), connect(2) and shutdown(2), readiness
 * coming from POLL_ADD.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "soak.h"

#define NET_MAX_TOTAL	(256 * 1024)

static void net_abort_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

static void srv_recv(struct worker *w, struct sconn *s);

/* An orderly close answers a client's end of stream; anything else resets. */
static void srv_close(struct sconn *s, bool orderly)
{
	if (!s->closed && orderly)
		close(s->fd);
	else if (!s->closed)
		net_abort_close(s->fd);
	s->fd = -1;
	s->closed = true;
}

static void srv_send_done(struct worker *w, struct sop *op,
			  const struct zsync_cqe *cqe, bool terminal)
{
	struct sconn *s = op->ctx;

	(void)terminal;
	s->busy = false;
	if (cqe->res >= 0 && (uint32_t)cqe->res == s->len) {
		srv_recv(w, s);
		return;
	}
	if (!w->draining)
		soak_bad_res(w, C_F_TCP, op, cqe, "echo SEND with MSG_WAITALL fell short");
	srv_close(s, false);
}

static void srv_send(struct worker *w, struct sconn *s)
{
	struct zsync_sqe *sqe = sring_prep(w, srv_send_done, s, 0, NULL);

	if (!sqe)
		return;		/* s->len stays: resent from net_tick() */
	if (s->msg) {
		uint32_t half = s->len / 2;

		s->iov[0] = (struct iovec){ s->buf, half };
		s->iov[1] = (struct iovec){ s->buf + half, s->len - half };
		s->m = (struct msghdr){ .msg_iov = s->iov, .msg_iovlen = 2 };
		zk_prep_sendmsg(sqe, s->fd, &s->m, MSG_WAITALL);
	} else {
		zk_prep_send(sqe, s->fd, s->buf, s->len, MSG_WAITALL);
	}
	s->busy = true;
}

static void srv_recv_done(struct worker *w, struct sop *op,
			  const struct zsync_cqe *cqe, bool terminal)
{
	struct sconn *s = op->ctx;

	(void)terminal;
	s->busy = false;
	if (cqe->res > 0) {
		s->len = (uint32_t)cqe->res;
		srv_send(w, s);
		return;
	}
	/* The client's end of stream, or its reset once it had everything. */
	if (cqe->res != 0 && cqe->res != -ECONNRESET && !w->draining)
		soak_bad_res(w, C_F_TCP, op, cqe, "server RECV");
	srv_close(s, cqe->res == 0);
}

static void srv_recv(struct worker *w, struct sconn *s)
{
	struct zsync_sqe *sqe = sring_prep(w, srv_recv_done, s, 0, NULL);

	s->len = 0;
	if (!sqe)
		return;
	if (s->msg) {
		s->iov[0] = (struct iovec){ s->buf, NET_CHUNK / 2 };
		s->iov[1] = (struct iovec){ s->buf + NET_CHUNK / 2, NET_CHUNK / 2 };
		s->m = (struct msghdr){ .msg_iov = s->iov, .msg_iovlen = 2 };
		zk_prep_recvmsg(sqe, s->fd, &s->m, 0);
	} else {
		zk_prep_recv(sqe, s->fd, s->buf, NET_CHUNK, 0);
	}
	s->busy = true;
}

static void srv_new(struct worker *w, int fd)
{
	struct net_state *n = &w->net;
	struct sconn *s = calloc(1, sizeof(*s));

	if (!s || !(s->buf = malloc(NET_CHUNK))) {
		soak_fail(w, C_F_OTHER, "out of memory for a connection");
		free(s);
		close(fd);
		return;
	}
	s->fd = fd;
	s->msg = n->accepted++ & 1;
	s->next = n->srv;
	n->srv = s;
	srv_recv(w, s);
}

static void accept_done(struct worker *w, struct sop *op,
			const struct zsync_cqe *cqe, bool terminal)
{
	struct net_state *n = &w->net;

	if (cqe->res >= 0) {
		if (!n->multishot && (n->peer.sin_family != AF_INET ||
				      n->peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK)))
			soak_bad_res(w, C_F_TCP, op, cqe, "ACCEPT's peer address is not 127.0.0.1");
		srv_new(w, cqe->res);
	}
	if (!terminal)
		return;
	/* A multishot accept also ends with an fd when its backlog is full. */
	n->accepting = false;
	if (cqe->res < 0 && !w->draining)
		soak_bad_res(w, C_F_TCP, op, cqe, "ACCEPT failed");
}

/* Without the ACCEPT op: POLL_ADD on the listener, then accept4(2). */
static void listen_ready(struct worker *w, struct sop *op,
			 const struct zsync_cqe *cqe, bool terminal)
{
	struct net_state *n = &w->net;
	int fd;

	if (cqe->res > 0) {
		while ((fd = accept4(n->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			srv_new(w, fd);
		if (errno != EAGAIN)
			soak_fail(w, C_F_TCP, "accept4: %s", errname(errno));
	}
	if (!terminal)
		return;
	n->accepting = false;
	if (cqe->res < 0 && !w->draining)
		soak_bad_res(w, C_F_TCP, op, cqe, "POLL_ADD on the listener");
}

static void arm_accept(struct worker *w)
{
	struct net_state *n = &w->net;
	struct zsync_sqe *sqe;

	if (w->cfg->net_ops) {
		sqe = sring_prep(w, accept_done, NULL, 0, NULL);
		if (!sqe)
			return;
		if (n->multishot) {
			zk_prep_accept(sqe, n->lfd, NULL, NULL, SOCK_CLOEXEC,
				       ZSYNC_ACCEPT_MULTISHOT);
		} else {
			memset(&n->peer, 0, sizeof(n->peer));
			n->peerlen = sizeof(n->peer);
			zk_prep_accept(sqe, n->lfd, (struct sockaddr *)&n->peer,
				       &n->peerlen, SOCK_CLOEXEC, 0);
		}
	} else {
		sqe = sring_prep(w, listen_ready, NULL, 0, NULL);
		if (!sqe)
			return;
		zk_prep_poll_add(sqe, n->lfd, EPOLLIN, ZSYNC_POLL_MULTISHOT);
	}
	n->accepting = true;
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

static void client_kick(struct worker *w, struct cconn *c);

static void client_end(struct worker *w, struct cconn *c, bool done)
{
	if (done)
		ctr_add(w->slot, C_TCP_CONNS, 1);
	net_abort_close(c->fd);
	free(c->sbuf);
	free(c->rbuf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * A connection that failed may still have an op in flight (a SEND while
 * its RECV found bad data).  Shut the socket down, which ends those ops,
 * and free the connection only once their CQEs are in: a slot reused
 * earlier would take a stale CQE for the next connection's.
 */
static void client_fail(struct worker *w, struct cconn *c)
{
	if (!c->dead && c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	c->dead = true;
	if (!c->inflight)
		client_end(w, c, false);
}

static struct zsync_sqe *client_prep(struct worker *w, sop_fn fn, struct cconn *c)
{
	struct zsync_sqe *sqe = sring_prep(w, fn, c, 0, NULL);

	if (sqe)
		c->inflight++;
	return sqe;
}

/* Every client callback starts here: false if the connection is dead. */
static bool client_op_done(struct worker *w, struct cconn *c)
{
	c->inflight--;
	if (!c->dead)
		return true;
	client_fail(w, c);
	return false;
}

static void client_connected(struct worker *w, struct sop *op,
			     const struct zsync_cqe *cqe, bool terminal)
{
	struct cconn *c = op->ctx;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)terminal;
	c->connecting = false;
	if (!client_op_done(w, c))
		return;
	if (op->opcode == ZSYNC_OP_POLL_ADD && cqe->res > 0) {
		/* A non-blocking connect(2) is over; SO_ERROR says how. */
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	} else if (cqe->res < 0) {
		err = -cqe->res;
	}
	if (err) {
		if (!w->draining)
			soak_fail(w, C_F_TCP, "%s user_data %#llx: connecting to 127.0.0.1:%u: %s",
				  opname(op->opcode), (unsigned long long)op->ud,
				  ntohs(w->net.addr.sin_port), errname(err));
		client_fail(w, c);
		return;
	}
	c->connected = true;
	client_kick(w, c);
}

static void client_start(struct worker *w, struct cconn *c)
{
	struct net_state *n = &w->net;
	int type = SOCK_STREAM | SOCK_CLOEXEC | (w->cfg->net_ops ? 0 : SOCK_NONBLOCK);
	struct zsync_sqe *sqe;

	if (!sring_room(w, 1))
		return;
	c->fd = socket(AF_INET, type, 0);
	c->sbuf = malloc(NET_CHUNK);
	c->rbuf = malloc(NET_CHUNK);
	if (c->fd < 0 || !c->sbuf || !c->rbuf) {
		soak_fail(w, C_F_OTHER, "client socket: %s", errname(errno));
		client_end(w, c, false);
		return;
	}
	c->active = true;
	c->seed = rng_next(&w->rng);
	c->total = rng_range(&w->rng, 0, 3) ? rng_range(&w->rng, 1, NET_MAX_TOTAL) :
					      rng_range(&w->rng, 1, 64);
	c->msg = rng_next(&w->rng) & 1;
	c->graceful = rng_range(&w->rng, 0, 7) == 0;
	c->idx = (int)n->conn_seq++;
	if (w->cfg->net_ops) {
		sqe = client_prep(w, client_connected, c);
		zk_prep_connect(sqe, c->fd, (struct sockaddr *)&n->addr, sizeof(n->addr));
	} else if (connect(c->fd, (struct sockaddr *)&n->addr, sizeof(n->addr)) == 0) {
		c->connected = true;
		client_kick(w, c);
		return;
	} else if (errno == EINPROGRESS) {
		sqe = client_prep(w, client_connected, c);
		zk_prep_poll_add(sqe, c->fd, EPOLLOUT, 0);
	} else {
		soak_fail(w, C_F_TCP, "connect(2) to 127.0.0.1:%u: %s",
			  ntohs(n->addr.sin_port), errname(errno));
		client_end(w, c, false);
		return;
	}
	c->connecting = true;
}

static void client_sent(struct worker *w, struct sop *op,
			const struct zsync_cqe *cqe, bool terminal)
{
	struct cconn *c = op->ctx;

	(void)terminal;
	c->sending = false;
	if (!client_op_done(w, c))
		return;
	if (cqe->res >= 0 && (uint32_t)cqe->res == c->send_len) {
		c->sent += c->send_len;
		client_kick(w, c);
		return;
	}
	if (!w->draining)
		soak_bad_res(w, C_F_TCP, op, cqe, "client SEND with MSG_WAITALL fell short");
	client_fail(w, c);
}

static void client_send(struct worker *w, struct cconn *c)
{
	uint64_t left = c->total - c->sent;
	uint32_t len = rng_range(&w->rng, 1, NET_CHUNK), half;
	struct zsync_sqe *sqe = client_prep(w, client_sent, c);

	if (!sqe)
		return;
	if (len > left)
		len = (uint32_t)left;
	pat_fill(c->sbuf, c->seed, c->sent, len);
	if (c->msg) {
		half = rng_range(&w->rng, 0, len);
		c->siov[0] = (struct iovec){ c->sbuf, half };
		c->siov[1] = (struct iovec){ c->sbuf + half, len - half };
		c->smsg = (struct msghdr){ .msg_iov = c->siov, .msg_iovlen = 2 };
		zk_prep_sendmsg(sqe, c->fd, &c->smsg, MSG_WAITALL);
	} else {
		zk_prep_send(sqe, c->fd, c->sbuf, len, MSG_WAITALL);
	}
	c->send_len = len;
	c->sending = true;
}

/* Check what came back: at its offset, and never more than went out. */
static bool client_check(struct worker *w, struct cconn *c, const struct sop *op,
			 uint32_t n)
{
	uint64_t out = c->sent + (c->sending ? c->send_len : 0);
	long bad;

	if (c->rcvd + n > out) {
		soak_fail(w, C_F_TCP, "connection %d: %s user_data %#llx brought %u bytes at %llu, only %llu were sent",
			  c->idx, opname(op->opcode), (unsigned long long)op->ud, n,
			  (unsigned long long)c->rcvd, (unsigned long long)out);
		return false;
	}
	bad = pat_check(c->rbuf, c->seed, c->rcvd, n);
	if (bad >= 0) {
		soak_fail(w, C_F_TCP, "connection %d: %s user_data %#llx: echoed byte %llu differs (%u bytes at %llu)",
			  c->idx, opname(op->opcode), (unsigned long long)op->ud,
			  (unsigned long long)(c->rcvd + (uint64_t)bad), n,
			  (unsigned long long)c->rcvd);
		return false;
	}
	return true;
}

static void client_received(struct worker *w, struct sop *op,
			    const struct zsync_cqe *cqe, bool terminal)
{
	struct cconn *c = op->ctx;

	(void)terminal;
	c->recving = false;
	if (!client_op_done(w, c))
		return;
	if (cqe->res > 0) {
		if (!client_check(w, c, op, (uint32_t)cqe->res)) {
			client_fail(w, c);
			return;
		}
		c->rcvd += (uint64_t)cqe->res;
		ctr_add(w->slot, C_TCP_BYTES, (uint64_t)cqe->res);
		client_kick(w, c);
		return;
	}
	if (cqe->res == 0 && c->shut && c->rcvd == c->total) {
		client_end(w, c, true);		/* the server's end of stream */
		return;
	}
	if (!w->draining) {
		if (cqe->res == 0)
			soak_fail(w, C_F_TCP, "connection %d: end of stream after %llu of %llu bytes",
				  c->idx, (unsigned long long)c->rcvd, (unsigned long long)c->total);
		else
			soak_bad_res(w, C_F_TCP, op, cqe, "client RECV");
	}
	client_fail(w, c);
}

static void client_recv(struct worker *w, struct cconn *c)
{
	struct zsync_sqe *sqe = client_prep(w, client_received, c);

	if (!sqe)
		return;
	if (c->msg) {
		c->riov[0] = (struct iovec){ c->rbuf, NET_CHUNK / 4 };
		c->riov[1] = (struct iovec){ c->rbuf + NET_CHUNK / 4, NET_CHUNK - NET_CHUNK / 4 };
		c->rmsg = (struct msghdr){ .msg_iov = c->riov, .msg_iovlen = 2 };
		zk_prep_recvmsg(sqe, c->fd, &c->rmsg, 0);
	} else {
		zk_prep_recv(sqe, c->fd, c->rbuf, NET_CHUNK, 0);
	}
	c->recving = true;
}

static void client_shut(struct worker *w, struct sop *op,
			const struct zsync_cqe *cqe, bool terminal)
{
	struct cconn *c = op->ctx;

	(void)terminal;
	if (!client_op_done(w, c))
		return;
	if (cqe->res) {
		if (!w->draining)
			soak_bad_res(w, C_F_TCP, op, cqe, "SHUTDOWN(SHUT_WR)");
		client_fail(w, c);
		return;
	}
	c->shut = true;
	client_kick(w, c);
}

/* Everything echoed: reset, or shut down and wait for the server's EOF. */
static void client_finish(struct worker *w, struct cconn *c)
{
	struct zsync_sqe *sqe;

	if (!c->graceful) {
		client_end(w, c, true);
		return;
	}
	if (!w->cfg->net_ops) {
		if (shutdown(c->fd, SHUT_WR) < 0) {
			soak_fail(w, C_F_TCP, "shutdown(2): %s", errname(errno));
			client_fail(w, c);
			return;
		}
		c->shut = true;
		client_kick(w, c);
		return;
	}
	sqe = client_prep(w, client_shut, c);
	if (!sqe)
		return;
	zk_prep_shutdown(sqe, c->fd, SHUT_WR);
	c->shutting = true;
}

static void client_kick(struct worker *w, struct cconn *c)
{
	if (!c->active || c->dead || !c->connected || (c->shutting && !c->shut))
		return;
	if (!c->recving && (c->rcvd < c->total || c->shut))
		client_recv(w, c);
	if (!c->sending && c->sent < c->total && c->sent - c->rcvd < NET_WINDOW)
		client_send(w, c);
	if (!c->sending && !c->recving && !c->shutting && c->rcvd == c->total)
		client_finish(w, c);
}

/* ------------------------------------------------------------------ */
/* Generations                                                         */
/* ------------------------------------------------------------------ */

void net_init(struct worker *w)
{
	unsigned int i;

	memset(&w->net, 0, sizeof(w->net));
	w->net.lfd = -1;
	for (i = 0; i < NET_CLIENTS; i++)
		w->net.cl[i].fd = -1;
}

int net_gen_start(struct worker *w)
{
	struct net_state *n = &w->net;
	socklen_t len = sizeof(n->addr);

	n->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sin_family = AF_INET;
	n->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (n->lfd < 0 || bind(n->lfd, (struct sockaddr *)&n->addr, sizeof(n->addr)) < 0 ||
	    listen(n->lfd, 64) < 0 ||
	    getsockname(n->lfd, (struct sockaddr *)&n->addr, &len) < 0) {
		soak_fail(w, C_F_OTHER, "TCP listener on 127.0.0.1: %s", errname(errno));
		return -1;
	}
	n->multishot = rng_next(&w->rng) & 1;
	n->accepting = false;
	return 0;
}

void net_tick(struct worker *w)
{
	struct net_state *n = &w->net;
	struct sconn *s, **pp;
	unsigned int i;

	if (n->lfd < 0)
		return;
	if (!n->accepting)
		arm_accept(w);
	for (i = 0; i < NET_CLIENTS; i++) {
		if (!n->cl[i].active)
			client_start(w, &n->cl[i]);
		else
			client_kick(w, &n->cl[i]);	/* retries a full SQ */
	}
	for (pp = &n->srv; (s = *pp); ) {
		if (s->closed && !s->busy) {
			*pp = s->next;
			free(s->buf);
			free(s);
			continue;
		}
		if (!s->busy && !s->closed)
			s->len ? srv_send(w, s) : srv_recv(w, s);
		pp = &s->next;
	}
}

/*
 * The ring is gone: whatever ops were in flight, the streams are in an
 * unknown state.  Reset every connection and free the buffers (not reuse
 * them: an abandoned op must not write into a new connection's data).
 */
void net_gen_end(struct worker *w)
{
	struct net_state *n = &w->net;
	struct sconn *s;
	unsigned int i;

	for (i = 0; i < NET_CLIENTS; i++)
		if (n->cl[i].active)
			client_end(w, &n->cl[i], false);
	while ((s = n->srv)) {
		n->srv = s->next;
		srv_close(s, false);
		free(s->buf);
		free(s);
	}
	if (n->lfd >= 0)
		close(n->lfd);
	n->lfd = -1;
	n->accepting = false;
}
