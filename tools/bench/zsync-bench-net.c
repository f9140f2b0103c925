// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-net: TCP echo round trips over loopback.
 *
 * An echo server thread and a client (the main thread) exchange 64-byte
 * messages over 1 and over 64 connections, each message sent back before
 * the next one goes on that connection.  Both sides use the same backend:
 *
 *   zsync     libzsync-k on /dev/zsync: RECV, then SEND (MSG_WAITALL) of
 *             what came, per connection; one ENTER submits and waits
 *   io_uring  the same with liburing (default setup flags)
 *   epoll     non-blocking sockets, epoll_wait(), read() and write()
 *
 * Connections are set up (and TCP_NODELAY set), and each side's ring or
 * epoll set up, before the clock starts; each measurement runs for a fixed
 * time, and the result is round trips per second over all connections.
 * After a warm-up, each round measures every cell (connections x backend,
 * the backends in turn); a cell prints the median [min..max] of its rounds.
 *
 * Context switches: around each measurement, the voluntary and
 * nonvoluntary switches of every thread of the process (the client, the
 * echo server thread, and io_uring's iou-wrk threads if any: the sum over
 * /proc/self/task/<tid>/status) and, separately, of every kworker on the
 * machine (the zsync_io workqueue is unbound, so its work cannot be told
 * from other kworkers'; the test VM is otherwise idle).  Both are printed
 * per round trip, median of the rounds.
 *
 * Placement: the client (main thread) and the server thread are pinned with
 * sched_setaffinity() the same way for every backend: by default both to
 * the first CPU the process may use (--cpus same); --cpus split puts the
 * server on the second, --cpus none leaves the scheduler free (and then
 * prints in how many rounds the two ended on one CPU).  Kernel threads
 * (kworkers, io-wq) are not pinned.  Unpinned, the result depended on the
 * boot: in the 2-vCPU TCG test VM a wakeup across vCPUs costs milliseconds
 * (a halted vCPU waits for its IPI), so a measurement whose two threads
 * the scheduler happened to split ran 10 to 20 times slower than one whose
 * threads shared a CPU, whatever the backend.  On one CPU the bench
 * measures what each backend's path costs, not where the scheduler put it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "zsync-k.h"

#define MSG_SIZE		64
#define MAX_CONNS		64
#define RING_ENTRIES		256
/* 5 rounds x 6 cells x (0.5 s + setup) stay under a minute in the test VM. */
#define DEFAULT_MS		500
/* A run that takes this long is stuck: the process ends (SIGALRM). */
#define WATCHDOG_SECS		300

static const unsigned int conn_counts[] = { 1, 64 };
#define NR_TESTS	(sizeof(conn_counts) / sizeof(conn_counts[0]))

/* The fds of one measurement's connections, and what each side needs. */
struct conns {
	unsigned int n;
	int client[MAX_CONNS];
	int server[MAX_CONNS];
};

/* Context switches so far: of this process's threads, of every kworker. */
struct switches {
	unsigned long long own, kworker;
};

/* Voluntary + nonvoluntary switches in one /proc/.../status; the Name too. */
static unsigned long long status_switches(const char *path, char *name, size_t len)
{
	unsigned long long sum = 0, v;
	char line[256];
	FILE *f = fopen(path, "re");

	if (name)
		*name = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (name && !strncmp(line, "Name:\t", 6)) {
			size_t n = strcspn(line + 6, "\n");

			n = n < len ? n : len - 1;
			memcpy(name, line + 6, n);
			name[n] = 0;
		}
		else if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
			 sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
			sum += v;
	}
	fclose(f);
	return sum;
}

/* The sum over /proc/@pid/task/<tid>/status; only of kworkers if @kworkers. */
static unsigned long long task_switches(const char *pid, bool kworkers)
{
	unsigned long long sum = 0;
	char path[96], name[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		unsigned long long n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%.16s/status", pid, d->d_name);
		n = status_switches(path, name, sizeof(name));
		if (!kworkers || !strncmp(name, "kworker", 7))
			sum += n;
	}
	closedir(dir);
	return sum;
}

static void switches_now(struct switches *sw)
{
	struct dirent *d;
	DIR *proc;

	sw->own = task_switches("self", false);
	sw->kworker = 0;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc)))
		if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && strlen(d->d_name) < 16)
			sw->kworker += task_switches(d->d_name, true);
	closedir(proc);
}

/*
 * One measurement: from run_start() (the client side is set up) until the
 * deadline, and how many round trips completed; the context switches
 * between run_start() and run_end().
 */
struct run {
	unsigned long ms;
	double start, deadline, end;
	unsigned long done;
	struct switches sw0, sw1;
	int client_cpu, server_cpu;	/* where each ran at the end */
};

static void run_start(struct run *r)
{
	switches_now(&r->sw0);
	r->start = bench_now_ns();
	r->deadline = r->start + r->ms * 1e6;
}

/* After the last round trip, before the client side is torn down. */
/* The CPU the server thread last served on (sched_getcpu() after each wait). */
static atomic_int server_cpu_seen = -1;

static void run_end(struct run *r)
{
	r->end = bench_now_ns();
	r->client_cpu = sched_getcpu();
	r->server_cpu = atomic_load(&server_cpu_seen);
	switches_now(&r->sw1);
}

/* The server thread: set up and serving (or failed before). */
static atomic_int server_ready;

/* Counts a completed round trip; whether the connection does another. */
static bool run_goes_on(struct run *r)
{
	r->done++;
	return bench_now_ns() < r->deadline;
}

struct ring_ops;

struct backend {
	const char *name;
	/* A ring backend: the shared protocol over these (ring_serve(), ring_drive()). */
	const struct ring_ops *ring;
	/* Otherwise: echo on @c->server until every connection is closed: 0 or -errno. */
	int (*serve)(struct conns *c, char *why);
	/*
	 * Round trips on every @c->client until @r->deadline (bench_now_ns()), then
	 * waits for those under way; counts them in @r.  0 or -errno.
	 */
	int (*drive)(struct conns *c, struct run *r, char *why);
	/* Optional: 0, or why the backend cannot run here. */
	int (*probe)(char *why);
	char why[REASON_LEN];
	bool up;
	bool ok[NR_TESTS];
	char fail_why[NR_TESTS][REASON_LEN];
};

/* The message connection @i sends; the echo must match it. */
static void message(char *buf, unsigned int i)
{
	memset(buf, 'a' + i % 26, MSG_SIZE);
	buf[0] = (char)i;
}

/* ---- user_data of the ring backends ------------------------------------ */

/* Connection index and whether it is a send, in one user_data. */
static __u64 ud(unsigned int i, bool send)
{
	return (__u64)i << 1 | send;
}

static unsigned int ud_conn(__u64 v)
{
	return (unsigned int)(v >> 1);
}

static bool ud_send(__u64 v)
{
	return v & 1;
}

/*
 * The two ring backends run the very same protocol through these: queue
 * a RECV, queue a SEND, and one step (submit what is queued, wait for a
 * CQE, hand every ready CQE to a callback).
 */
typedef int (*cqe_fn)(void *st, __u64 v, int res, char *why);

struct ring_ops {
	size_t size;		/* of the ring object init() sets up */
	int (*init)(void *ring, char *why);
	void (*exit)(void *ring);
	bool (*recv)(void *ring, int fd, void *buf, unsigned int len, int flags, __u64 v);
	bool (*send)(void *ring, int fd, const void *buf, unsigned int len, int flags, __u64 v);
	int (*step)(void *ring, cqe_fn fn, void *st, char *why);
};

struct server_state {
	const struct ring_ops *ops;
	void *ring;
	struct conns *c;
	char buf[MAX_CONNS][MSG_SIZE];
	unsigned int open;
};

/* Server: a RECV's data goes back with a SEND, after which the next RECV. */
static int server_cqe(void *st, __u64 v, int res, char *why)
{
	struct server_state *s = st;
	unsigned int i = ud_conn(v);
	int fd = s->c->server[i];
	bool queued;

	if (res < 0)
		return fail(why, res, "server %s: %s", ud_send(v) ? "send" : "recv",
			    strerror(-res));
	if (!ud_send(v) && res == 0) {
		s->open--;
		return 0;
	}
	if (ud_send(v))
		queued = s->ops->recv(s->ring, fd, s->buf[i], MSG_SIZE, 0, ud(i, false));
	else
		queued = s->ops->send(s->ring, fd, s->buf[i], res, MSG_WAITALL, ud(i, true));
	return queued ? 0 : fail(why, -EBUSY, "server: SQ full");
}

static int ring_serve(const struct ring_ops *ops, struct conns *c, char *why)
{
	static struct server_state s;
	void *ring = calloc(1, ops->size);
	unsigned int i;
	int ret = ring ? ops->init(ring, why) : fail(why, -ENOMEM, "no memory");

	if (ret) {
		free(ring);
		return ret;
	}
	memset(&s, 0, sizeof(s));
	s.ops = ops;
	s.ring = ring;
	s.c = c;
	s.open = c->n;
	for (i = 0; i < c->n; i++)
		ops->recv(ring, c->server[i], s.buf[i], MSG_SIZE, 0, ud(i, false));
	atomic_store(&server_ready, 1);
	while (s.open && !ret) {
		ret = ops->step(ring, server_cqe, &s, why);
		atomic_store_explicit(&server_cpu_seen, sched_getcpu(), memory_order_relaxed);
	}
	ops->exit(ring);
	free(ring);
	return ret;
}

struct client_state {
	const struct ring_ops *ops;
	void *ring;
	struct conns *c;
	char out[MAX_CONNS][MSG_SIZE];
	char in[MAX_CONNS][MSG_SIZE];
	struct run *r;
	unsigned int busy;
};

/* Client: one round trip on connection @i, a SEND and a RECV of the echo. */
static bool client_round(struct client_state *s, unsigned int i)
{
	int fd = s->c->client[i];

	return s->ops->send(s->ring, fd, s->out[i], MSG_SIZE, 0, ud(i, true)) &&
	       s->ops->recv(s->ring, fd, s->in[i], MSG_SIZE, MSG_WAITALL, ud(i, false));
}

static int client_cqe(void *st, __u64 v, int res, char *why)
{
	struct client_state *s = st;
	unsigned int i = ud_conn(v);

	if (res != MSG_SIZE)
		return fail(why, res < 0 ? res : -EPROTO, "client %s: res %d",
			    ud_send(v) ? "send" : "recv", res);
	if (ud_send(v))
		return 0;
	if (memcmp(s->in[i], s->out[i], MSG_SIZE))
		return fail(why, -EPROTO, "connection %u: echo differs", i);
	if (run_goes_on(s->r))
		return client_round(s, i) ? 0 : fail(why, -EBUSY, "client: SQ full");
	s->busy--;
	return 0;
}

static int ring_drive(const struct ring_ops *ops, struct conns *c, struct run *r,
		      char *why)
{
	static struct client_state s;
	void *ring = calloc(1, ops->size);
	unsigned int i;
	int ret = ring ? ops->init(ring, why) : fail(why, -ENOMEM, "no memory");

	if (ret) {
		free(ring);
		return ret;
	}
	memset(&s, 0, sizeof(s));
	s.ops = ops;
	s.ring = ring;
	s.c = c;
	s.r = r;
	s.busy = c->n;
	for (i = 0; i < c->n; i++)
		message(s.out[i], i);
	run_start(r);
	for (i = 0; i < c->n; i++)
		client_round(&s, i);
	while (s.busy && !ret)
		ret = ops->step(ring, client_cqe, &s, why);
	run_end(r);
	ops->exit(ring);
	free(ring);
	return ret;
}

/* ---- zsync ------------------------------------------------------------- */

static int zs_init(void *ring, char *why)
{
	int ret = zk_ring_init(RING_ENTRIES, ring, 0);

	return ret ? fail(why, ret, "zk_ring_init: %s", strerror(-ret)) : 0;
}

static void zs_exit(void *ring)
{
	zk_ring_exit(ring);
}

static bool zs_recv(void *ring, int fd, void *buf, unsigned int len, int flags, __u64 v)
{
	struct zsync_sqe *sqe = zk_get_sqe(ring);

	if (!sqe)
		return false;
	zk_prep_recv(sqe, fd, buf, len, flags);
	zk_sqe_set_data64(sqe, v);
	return true;
}

static bool zs_send(void *ring, int fd, const void *buf, unsigned int len, int flags, __u64 v)
{
	struct zsync_sqe *sqe = zk_get_sqe(ring);

	if (!sqe)
		return false;
	zk_prep_send(sqe, fd, buf, len, flags);
	zk_sqe_set_data64(sqe, v);
	return true;
}

static int zs_step(void *ring, cqe_fn fn, void *st, char *why)
{
	struct zsync_cqe *cqe;
	unsigned int head, n = 0;
	int ret;

	do {
		ret = zk_submit_and_wait(ring, 1);
	} while (ret == -EINTR);
	if (ret < 0)
		return fail(why, ret, "zk_submit_and_wait: %s", strerror(-ret));
	ret = 0;
	zk_for_each_cqe((struct zk_ring *)ring, head, cqe) {
		ret = fn(st, cqe->user_data, cqe->res, why);
		n++;
		if (ret)
			break;
	}
	zk_cq_advance(ring, n);
	return ret;
}

static const struct ring_ops zs_ops = {
	.size = sizeof(struct zk_ring), .init = zs_init, .exit = zs_exit,
	.recv = zs_recv, .send = zs_send, .step = zs_step,
};

static int zs_probe(char *why)
{
	struct zk_ring ring;
	struct zsync_probe p;
	int ret = zs_init(&ring, why);

	if (ret)
		return ret;
	ret = zk_probe(&ring, &p);
	if (ret)
		fail(why, ret, "zk_probe: %s", strerror(-ret));
	else if (!zk_probe_has_op(&p, ZSYNC_OP_SEND) || !zk_probe_has_op(&p, ZSYNC_OP_RECV))
		ret = fail(why, -EOPNOTSUPP, "the loaded zsync.ko has no SEND/RECV");
	zk_ring_exit(&ring);
	return ret;
}

/* ---- io_uring ---------------------------------------------------------- */

static int iu_init(void *ring, char *why)
{
	int ret = io_uring_queue_init(RING_ENTRIES, ring, 0);

	return ret ? fail(why, ret, "io_uring_queue_init: %s", strerror(-ret)) : 0;
}

static void iu_exit(void *ring)
{
	io_uring_queue_exit(ring);
}

static bool iu_recv(void *ring, int fd, void *buf, unsigned int len, int flags, __u64 v)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return false;
	io_uring_prep_recv(sqe, fd, buf, len, flags);
	io_uring_sqe_set_data64(sqe, v);
	return true;
}

static bool iu_send(void *ring, int fd, const void *buf, unsigned int len, int flags, __u64 v)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return false;
	io_uring_prep_send(sqe, fd, buf, len, flags);
	io_uring_sqe_set_data64(sqe, v);
	return true;
}

static int iu_step(void *ring, cqe_fn fn, void *st, char *why)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret;

	do {
		ret = io_uring_submit_and_wait(ring, 1);
	} while (ret == -EINTR);
	if (ret < 0)
		return fail(why, ret, "io_uring_submit_and_wait: %s", strerror(-ret));
	ret = 0;
	io_uring_for_each_cqe((struct io_uring *)ring, head, cqe) {
		ret = fn(st, cqe->user_data, cqe->res, why);
		n++;
		if (ret)
			break;
	}
	io_uring_cq_advance(ring, n);
	return ret;
}

static const struct ring_ops iu_ops = {
	.size = sizeof(struct io_uring), .init = iu_init, .exit = iu_exit,
	.recv = iu_recv, .send = iu_send, .step = iu_step,
};

/* ---- epoll ------------------------------------------------------------- */

static int ep_setup(struct conns *c, const int *fds, char *why)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned int i;

	if (ep < 0)
		return fail(why, -errno, "epoll_create1: %s", strerror(errno));
	for (i = 0; i < c->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev)) {
			close(ep);
			return fail(why, -errno, "epoll_ctl: %s", strerror(errno));
		}
	}
	return ep;
}

/* Writes all of @buf to a non-blocking socket. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			poll(&p, 1, -1);
		} else {
			return -errno;
		}
	}
	return 0;
}

/* epoll_wait(); nothing for 10 s is a failure. */
static int ep_wait(int ep, struct epoll_event *evs, char *why)
{
	int n;

	/* io_uring's task work, left from its runs, may interrupt a wait. */
	do {
		n = epoll_wait(ep, evs, MAX_CONNS, 10000);
	} while (n < 0 && errno == EINTR);

	if (n < 0)
		return fail(why, -errno, "epoll_wait: %s", strerror(errno));
	if (n == 0)
		return fail(why, -ETIMEDOUT, "epoll_wait: nothing for 10 s");
	return n;
}

static int ep_serve(struct conns *c, char *why)
{
	struct epoll_event evs[MAX_CONNS];
	unsigned int open = c->n;
	char buf[MSG_SIZE];
	int ep = ep_setup(c, c->server, why), n, k, ret = 0;

	if (ep < 0)
		return ep;
	atomic_store(&server_ready, 1);
	while (open && !ret) {
		n = ep_wait(ep, evs, why);
		atomic_store_explicit(&server_cpu_seen, sched_getcpu(), memory_order_relaxed);
		for (k = 0; k < n && !ret; k++) {
			int fd = c->server[evs[k].data.u32];
			ssize_t got = read(fd, buf, sizeof(buf));

			if (got > 0)
				ret = write_all(fd, buf, (size_t)got);
			else if (got == 0 && !epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL))
				open--;
			else if (got < 0 && errno != EAGAIN)
				ret = fail(why, -errno, "server read: %s", strerror(errno));
		}
		if (n < 0)
			ret = n;
	}
	close(ep);
	return ret;
}

/* Client: one more echo byte chunk on connection @i; 1 when it is complete. */
static int ep_client_read(struct client_state *s, unsigned int i, unsigned int *got,
			  char *why)
{
	ssize_t n = read(s->c->client[i], s->in[i] + *got, MSG_SIZE - *got);

	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return fail(why, n ? -errno : -EPIPE, "client read: %zd", n);
	*got += (unsigned int)n;
	if (*got < MSG_SIZE)
		return 0;
	*got = 0;
	if (memcmp(s->in[i], s->out[i], MSG_SIZE))
		return fail(why, -EPROTO, "connection %u: echo differs", i);
	return 1;
}

static int ep_drive(struct conns *c, struct run *r, char *why)
{
	static struct client_state s;
	struct epoll_event evs[MAX_CONNS];
	unsigned int got[MAX_CONNS] = {}, i;
	int ep = ep_setup(c, c->client, why), n, k, ret = 0;

	if (ep < 0)
		return ep;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.r = r;
	s.busy = c->n;
	for (i = 0; i < c->n; i++)
		message(s.out[i], i);
	run_start(r);
	for (i = 0; i < c->n && !ret; i++)
		ret = write_all(c->client[i], s.out[i], MSG_SIZE);
	while (s.busy && !ret) {
		n = ep_wait(ep, evs, why);
		for (k = 0; k < n && !ret; k++) {
			i = evs[k].data.u32;
			ret = ep_client_read(&s, i, &got[i], why);
			if (ret <= 0)
				continue;
			ret = 0;
			if (run_goes_on(r))
				ret = write_all(c->client[i], s.out[i], MSG_SIZE);
			else
				s.busy--;
		}
		if (n < 0)
			ret = n;
	}
	run_end(r);
	close(ep);
	return ret;
}

/* ---- driver ------------------------------------------------------------- */

static struct backend backends[] = {
	{ .name = "zsync", .ring = &zs_ops, .probe = zs_probe },
	{ .name = "io_uring", .ring = &iu_ops },
	{ .name = "epoll", .serve = ep_serve, .drive = ep_drive },
};

/* 0, or why @b cannot run here: a ring it cannot set up, or its own probe. */
static int backend_probe(struct backend *b)
{
	if (b->probe)
		return b->probe(b->why);
	if (b->ring) {
		void *ring = calloc(1, b->ring->size);
		int ret = ring ? b->ring->init(ring, b->why) : -ENOMEM;

		if (!ret)
			b->ring->exit(ring);
		free(ring);
		return ret;
	}
	return 0;
}
#define NR_BACKENDS	(sizeof(backends) / sizeof(backends[0]))

static void set_nodelay_nonblock(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* @n connected pairs over 127.0.0.1. */
static int conns_open(struct conns *c, unsigned int n, char *why)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned int i;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, len) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &len) || listen(lfd, MAX_CONNS))
		return fail(why, -errno, "listener: %s", strerror(errno));
	c->n = n;
	for (i = 0; i < n; i++) {
		c->client[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->client[i] < 0 ||
		    connect(c->client[i], (struct sockaddr *)&addr, sizeof(addr)))
			return fail(why, -errno, "connect: %s", strerror(errno));
		c->server[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c->server[i] < 0)
			return fail(why, -errno, "accept: %s", strerror(errno));
		set_nodelay_nonblock(c->client[i]);
		set_nodelay_nonblock(c->server[i]);
	}
	close(lfd);
	return 0;
}

static void conns_close(struct conns *c, const int *fds)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		close(fds[i]);
}

/* Where the client and the server thread run: see the comment at the top. */
enum pin { PIN_SPLIT, PIN_SAME, PIN_NONE };
static const char *const pin_names[] = { "split", "same", "none" };

static int client_cpu = -1, server_cpu = -1;

/* Pins the calling thread to @cpu (-1: leaves it). */
static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Chooses the CPUs for @pin from the process's affinity; pins the main thread. */
static void pin_setup(enum pin pin)
{
	cpu_set_t set;
	int cpu, first = -1, second = -1;

	if (pin == PIN_NONE || sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && second < 0; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (first < 0)
			first = cpu;
		else
			second = cpu;
	}
	client_cpu = first;
	server_cpu = pin == PIN_SPLIT && second >= 0 ? second : first;
	pin_self(client_cpu);
}

struct serve_arg {
	struct backend *b;
	struct conns *c;
	int ret;
	char why[REASON_LEN];
};

static void *serve_thread(void *arg)
{
	struct serve_arg *a = arg;

	pin_self(server_cpu);
	a->ret = a->b->ring ? ring_serve(a->b->ring, a->c, a->why) : a->b->serve(a->c, a->why);
	atomic_store(&server_ready, 1);	/* also when it failed before serving */
	return NULL;
}

/* One measurement's results. */
struct sample {
	double rts;		/* round trips per second */
	double own_sw;		/* the process's context switches per round trip */
	double kworker_sw;	/* every kworker's, per round trip */
	bool same_cpu;		/* client and server thread ended on one CPU */
};

/* One measurement of @ms into @out, or -errno with @why set. */
static int run_once(struct backend *b, unsigned int nconns, unsigned long ms,
		    struct sample *out, char *why)
{
	static struct conns c;
	struct serve_arg a = { .b = b, .c = &c };
	struct run r = { .ms = ms };
	pthread_t th;
	int ret;

	ret = conns_open(&c, nconns, why);
	if (ret)
		return ret;
	atomic_store(&server_ready, 0);
	if (pthread_create(&th, NULL, serve_thread, &a))
		return fail(why, -EAGAIN, "pthread_create failed");
	alarm(WATCHDOG_SECS);
	/* The server's ring is set up and its RECVs queued before the clock starts. */
	while (!atomic_load(&server_ready))
		sched_yield();
	ret = b->ring ? ring_drive(b->ring, &c, &r, why) : b->drive(&c, &r, why);
	if (!ret && r.done) {
		out->rts = r.done * 1e9 / (r.end - r.start);
		out->own_sw = (double)(r.sw1.own - r.sw0.own) / r.done;
		out->kworker_sw = (double)(r.sw1.kworker - r.sw0.kworker) / r.done;
		out->same_cpu = r.client_cpu == r.server_cpu;
	} else if (!ret) {
		ret = fail(why, -EPROTO, "no round trip completed");
	}
	/* End of stream on every connection ends the server. */
	conns_close(&c, c.client);
	pthread_join(th, NULL);
	alarm(0);
	conns_close(&c, c.server);
	if (!ret && a.ret)
		ret = fail(why, a.ret, "%s", a.why);
	return ret;
}

struct options {
	unsigned long ms;
	unsigned int rounds;
	enum pin pin;
};

/* Per cell and round. */
static struct sample samples[NR_BACKENDS][NR_TESTS][BENCH_MAX_ROUNDS];
static struct bench_stat rts_stat[NR_BACKENDS][NR_TESTS], own_stat[NR_BACKENDS][NR_TESTS],
			 kw_stat[NR_BACKENDS][NR_TESTS];

/*
 * Warm every cell up, then @o->rounds rounds, each measuring every cell
 * with the backends in turn (the first one rotates), so that a drift of
 * the host hits every backend alike.
 */
static int run_all(const struct options *o)
{
	double v[3][BENCH_MAX_ROUNDS];
	unsigned int round, k;
	struct sample warm;
	int failed = 0;
	size_t bi, ti;

	pin_setup(o->pin);
	for (bi = 0; bi < NR_BACKENDS; bi++) {
		struct backend *b = &backends[bi];

		b->up = backend_probe(b) == 0;
		for (ti = 0; ti < NR_TESTS && b->up; ti++) {
			b->ok[ti] = !run_once(b, conn_counts[ti], o->ms / 5 + 1, &warm,
					      b->fail_why[ti]);
			failed |= !b->ok[ti];
		}
	}
	for (round = 0; round < o->rounds; round++)
		for (ti = 0; ti < NR_TESTS; ti++)
			for (k = 0; k < NR_BACKENDS; k++) {
				struct backend *b = &backends[(k + round) % NR_BACKENDS];

				if (!b->up || !b->ok[ti])
					continue;
				b->ok[ti] = !run_once(b, conn_counts[ti], o->ms,
						      &samples[b - backends][ti][round],
						      b->fail_why[ti]);
				failed |= !b->ok[ti];
			}
	for (bi = 0; bi < NR_BACKENDS; bi++)
		for (ti = 0; ti < NR_TESTS; ti++) {
			if (!backends[bi].up || !backends[bi].ok[ti])
				continue;
			for (round = 0; round < o->rounds; round++) {
				v[0][round] = samples[bi][ti][round].rts;
				v[1][round] = samples[bi][ti][round].own_sw;
				v[2][round] = samples[bi][ti][round].kworker_sw;
			}
			rts_stat[bi][ti] = bench_stat_of(v[0], o->rounds);
			own_stat[bi][ti] = bench_stat_of(v[1], o->rounds);
			kw_stat[bi][ti] = bench_stat_of(v[2], o->rounds);
		}
	return failed;
}

static bool cell_ok(const struct backend *b, size_t ti)
{
	return b->up && b->ok[ti];
}

static void print_ratio(const struct backend *a, const struct backend *b, size_t ti)
{
	if (cell_ok(a, ti) && cell_ok(b, ti))
		printf(" %13.2f", rts_stat[a - backends][ti].med / rts_stat[b - backends][ti].med);
	else
		printf(" %13s", "n/a");
}

static const struct bench_stat none;

static void print_table(const struct options *o)
{
	const struct backend *zs = &backends[0];
	size_t ti, bi;

	printf("zsync-bench-net: TCP echo over loopback, %d-byte messages, %lu ms per "
	       "measurement; median [min..max] of %u interleaved rounds\n", MSG_SIZE, o->ms,
	       o->rounds);
	if (client_cpu < 0)
		printf("placement: not pinned (--cpus none)\n\n");
	else
		printf("placement: client thread on CPU %d, echo server thread on CPU %d "
		       "(--cpus %s), the same for every backend\n\n", client_cpu, server_cpu,
		       pin_names[o->pin]);
	printf("%-5s", "conns");
	for (bi = 0; bi < NR_BACKENDS; bi++) {
		char head[32];

		snprintf(head, sizeof(head), "%s rt/s", backends[bi].name);
		printf(" %26s", head);
	}
	for (bi = 1; bi < NR_BACKENDS; bi++) {
		char head[32];

		snprintf(head, sizeof(head), "zs/%s", backends[bi].name);
		printf(" %13s", head);
	}
	printf("\n");
	for (ti = 0; ti < NR_TESTS; ti++) {
		printf("%-5u", conn_counts[ti]);
		for (bi = 0; bi < NR_BACKENDS; bi++)
			bench_print_stat(26, 0, cell_ok(&backends[bi], ti) ? &rts_stat[bi][ti] : &none);
		for (bi = 1; bi < NR_BACKENDS; bi++)
			print_ratio(zs, &backends[bi], ti);
		printf("\n");
	}
	printf("\ncontext switches per round trip, median [min..max]: of the process's threads\n"
	       "(client, echo server, io-wq) | of all kworkers on the machine\n");
	printf("%-5s", "conns");
	for (bi = 0; bi < NR_BACKENDS; bi++)
		printf(" %37s", backends[bi].name);
	printf("\n");
	for (ti = 0; ti < NR_TESTS; ti++) {
		printf("%-5u", conn_counts[ti]);
		for (bi = 0; bi < NR_BACKENDS; bi++) {
			bool ok = cell_ok(&backends[bi], ti);
			char cell[96];

			if (ok)
				snprintf(cell, sizeof(cell), "%.2f [%.2f..%.2f] | %.2f",
					 own_stat[bi][ti].med, own_stat[bi][ti].min,
					 own_stat[bi][ti].max, kw_stat[bi][ti].med);
			else
				snprintf(cell, sizeof(cell), "n/a");
			printf(" %37s", cell);
		}
		printf("\n");
	}
	if (client_cpu < 0) {
		/* Unpinned: where the scheduler put the two threads decides a lot. */
		printf("\nclient and server thread on the same CPU at the end of a measurement, "
		       "rounds:\n");
		for (ti = 0; ti < NR_TESTS; ti++) {
			printf("%-5u", conn_counts[ti]);
			for (bi = 0; bi < NR_BACKENDS; bi++) {
				unsigned int round, same = 0;

				for (round = 0; round < o->rounds; round++)
					same += samples[bi][ti][round].same_cpu;
				printf(" %s %u/%u", backends[bi].name, same, o->rounds);
			}
			printf("\n");
		}
	}
	printf("\nrt/s ratios are of the medians (> 1: zsync faster)\n");
	for (bi = 0; bi < NR_BACKENDS; bi++) {
		const struct backend *b = &backends[bi];

		if (!b->up) {
			printf("%s: n/a: %s\n", b->name, b->why);
			continue;
		}
		for (ti = 0; ti < NR_TESTS; ti++)
			if (!b->ok[ti])
				printf("%s, %u connections: failed: %s\n", b->name,
				       conn_counts[ti], b->fail_why[ti]);
	}
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--ms N] [--rounds R] [--cpus split|same|none] [--help]\n"
		"\n"
		"TCP echo round trips over loopback with 1 and %d connections, server\n"
		"thread and client in one process, both on the same backend: zsync\n"
		"($ZSYNC_DEV or /dev/zsync), io_uring, epoll.  After a warm-up, each round\n"
		"measures every cell, the backends in turn; a cell prints the median\n"
		"[min..max] of the rounds, and the context switches per round trip.\n"
		"Unavailable backends print n/a with the reason.\n"
		"\n"
		"  --ms N      length of one measurement in milliseconds (default %d)\n"
		"  --rounds R  interleaved rounds, 1..%d (default %d; --repeat: the same)\n"
		"  --cpus P    same (default): client and server thread pinned to one CPU;\n"
		"              split: to two different CPUs; none: not pinned\n"
		"\n"
		"exit status: 0 all available backends measured, 1 a backend failed\n"
		"mid-run, 2 bad usage.\n",
		prog, MAX_CONNS, DEFAULT_MS, BENCH_MAX_ROUNDS, BENCH_DEFAULT_ROUNDS);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "ms", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	unsigned int p;
	int c;

	o->ms = DEFAULT_MS;
	o->rounds = BENCH_DEFAULT_ROUNDS;
	o->pin = PIN_SAME;
	while ((c = getopt_long(argc, argv, "n:r:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, 1000UL * WATCHDOG_SECS / 2, &o->ms))
				goto bad;
			break;
		case 'r':
			if (parse_ulong(optarg, BENCH_MAX_ROUNDS, &v))
				goto bad;
			o->rounds = (unsigned int)v;
			break;
		case 'c':
			for (p = 0; p < 3 && strcmp(optarg, pin_names[p]); p++)
				;
			if (p == 3)
				goto bad;
			o->pin = (enum pin)p;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(EXIT_OK);
		default:
			goto bad;
		}
	}
	if (optind == argc)
		return 0;
bad:
	usage(stderr, argv[0]);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct options o;
	int failed;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	/* A peer gone mid-run must fail the run, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	failed = run_all(&o);
	print_table(&o);
	return failed ? EXIT_FAILED : EXIT_OK;
}
