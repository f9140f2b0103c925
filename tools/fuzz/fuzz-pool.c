// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz: the fd pool.  Every episode fills a table of descriptor
 * numbers with files of every kind an op can meet (pipes, sockets, ttys,
 * eventfds, pidfds, cgroup directories and knobs, namespace files, rings,
 * event sources, ...).  SQEs name slots by number, so the chaos thread can
 * close a slot or dup2() another file onto it while ops hold the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"

static int tcp_listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A connected TCP client (its server side waits in the listener's queue). */
static int tcp_client(int port, bool nonblock)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int udp_socket(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Connected to itself: SEND then RECV on one socket works. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int pty_pair(int *peer)
{
	char name[64];
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0)
		return -1;
	if (grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof(name))) {
		close(m);
		return -1;
	}
	*peer = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	return m;
}

static int scratch_file(struct fz_pool *pool, uint64_t *rng)
{
	char path[300], buf[4096];
	unsigned int i, n = 1 + fz_below(rng, 16);
	int fd;

	snprintf(path, sizeof(path), "%s/f%u", pool->dir_path, fz_below(rng, 4));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (fz_chance(rng, 20) ? O_APPEND : 0), 0600);
	if (fd < 0)
		return -1;
	memset(buf, 'a' + (int)fz_below(rng, 26), sizeof(buf));
	for (i = 0; i < n; i++)
		if (pwrite(fd, buf, sizeof(buf), (off_t)i * sizeof(buf)) < 0)
			break;
	return fd;
}

static int ns_file(uint64_t *rng)
{
	static const char *const ns[] = {
		"/proc/self/ns/net", "/proc/self/ns/user", "/proc/self/ns/uts",
		"/proc/self/ns/ipc", "/proc/self/ns/mnt", "/proc/self/ns/pid",
		"/proc/self/ns/cgroup", "/proc/self/ns/time",
	};

	return open(ns[fz_below(rng, sizeof(ns) / sizeof(ns[0]))], O_RDONLY | O_CLOEXEC);
}

static int proc_file(uint64_t *rng)
{
	static const char *const files[] = {
		"/proc/self/status", "/proc/self/maps", "/proc/self/mem",
		"/proc/self/stat", "/proc/meminfo", "/sys/module/zsync/refcnt",
	};

	/* Read-only: a WRITE into /proc/self/mem would rewrite the fuzzer. */
	return open(files[fz_below(rng, sizeof(files) / sizeof(files[0]))], O_RDONLY | O_CLOEXEC);
}

static int cgroup_fd(struct fz_pool *pool, uint64_t *rng, bool knob)
{
	static const char *const knobs[] = {
		"cgroup.events", "cgroup.procs", "memory.max", "pids.max",
		"cgroup.freeze", "cgroup.stat",
	};
	char path[400];

	if (!pool->cg_path[0])
		return -1;
	if (!knob)
		return open(fz_chance(rng, 70) ? pool->cg_path : "/sys/fs/cgroup",
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/%s", pool->cg_path,
		 knobs[fz_below(rng, sizeof(knobs) / sizeof(knobs[0]))]);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int source_fd(void)
{
	struct zsync_source_create c = { 0 };
	int dev = open("/dev/zsync", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0)
		return -1;
	fd = ioctl(dev, ZSYNC_IOC_SOURCE_CREATE, &c);
	close(dev);
	return fd;
}

static int short_lived_pidfd(void)
{
	pid_t pid = fork();
	int fd;

	if (pid == 0)
		_exit(7);
	if (pid < 0)
		return -1;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd;
}

/*
 * A new file of KIND; for two-ended kinds the other end is stored in
 * *peer (or -1).  Returns the fd or -1.
 */
static int make_kind(struct fz_pool *pool, int kind, uint64_t *rng, int *peer)
{
	int p[2], fd = -1;
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };

	*peer = -1;
	switch (kind) {
	case FZ_K_PIPE_R:
	case FZ_K_PIPE_W:
		if (pipe2(p, O_CLOEXEC | (fz_chance(rng, 50) ? O_NONBLOCK : 0)))
			return -1;
		*peer = kind == FZ_K_PIPE_R ? p[1] : p[0];
		return kind == FZ_K_PIPE_R ? p[0] : p[1];
	case FZ_K_UNIX:
	case FZ_K_UNIX_DGRAM:
		if (socketpair(AF_UNIX, (kind == FZ_K_UNIX ? SOCK_STREAM : SOCK_DGRAM) |
			       SOCK_CLOEXEC, 0, p))
			return -1;
		*peer = p[1];
		return p[0];
	case FZ_K_TCP_LISTEN: {
		int port;

		fd = tcp_listener(&port);
		if (fd >= 0 && !pool->tcp_port)
			pool->tcp_port = port;
		return fd;
	}
	case FZ_K_TCP:
		return pool->tcp_port ? tcp_client(pool->tcp_port, fz_chance(rng, 30)) : -1;
	case FZ_K_UDP:
		return udp_socket();
	case FZ_K_FILE:
		return scratch_file(pool, rng);
	case FZ_K_DIR:
		return open(fz_chance(rng, 80) ? pool->dir_path : "/proc/self",
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case FZ_K_DEVNULL:
		return open(fz_chance(rng, 50) ? "/dev/null" : "/dev/zero", O_RDWR | O_CLOEXEC);
	case FZ_K_PTY:
		return pty_pair(peer);
	case FZ_K_EVENTFD:
		return eventfd(fz_below(rng, 3), EFD_CLOEXEC | (fz_chance(rng, 50) ? EFD_NONBLOCK : 0));
	case FZ_K_PIDFD:
		if (pool->victim_pid > 0 && fz_chance(rng, 60))
			return (int)syscall(SYS_pidfd_open, pool->victim_pid, 0);
		return short_lived_pidfd();
	case FZ_K_CGROUP:
		return cgroup_fd(pool, rng, false);
	case FZ_K_CGFILE:
		return cgroup_fd(pool, rng, true);
	case FZ_K_NETNS:
		return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	case FZ_K_USERNS:
		return ns_file(rng);
	case FZ_K_RING:
		return open("/dev/zsync", O_RDWR | O_CLOEXEC);
	case FZ_K_SOURCE:
		return source_fd();
	case FZ_K_PROC:
		return proc_file(rng);
	case FZ_K_MEMFD:
		fd = memfd_create("fz", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, 65536)) {
			close(fd);
			fd = -1;
		}
		return fd;
	case FZ_K_EPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		return fd;
	case FZ_K_TIMERFD:
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (fd >= 0)
			timerfd_settime(fd, 0, &its, NULL);
		return fd;
	}
	return -1;
}

/* Put FD into slot I (closing what was there) with its kind. */
static void slot_set(struct fz_pool *pool, int i, int fd, int kind)
{
	int old = atomic_load(&pool->fd[i]);

	if (fd >= 0 && old >= 0 && fd != old) {
		/* dup2 keeps the slot's number: in-flight ops see it change. */
		if (dup2(fd, old) >= 0) {
			close(fd);
			fd = old;
		}
	} else if (old >= 0 && fd < 0) {
		close(old);
	}
	atomic_store(&pool->fd[i], fd);
	atomic_store(&pool->kind[i], fd < 0 ? FZ_K_NONE : kind);
}

int fz_make_fd(struct fz_pool *pool, int kind, uint64_t *rng)
{
	int peer, fd = make_kind(pool, kind, rng, &peer);

	if (peer >= 0)
		close(peer);
	return fd;
}

/* Fill slot I with a new file of KIND; its peer, if any, takes slot J. */
static void slot_fill(struct fz_pool *pool, int i, int j, int kind, uint64_t *rng)
{
	int peer, fd = make_kind(pool, kind, rng, &peer);
	static const int peer_kind[FZ_K_NR] = {
		[FZ_K_PIPE_R] = FZ_K_PIPE_W, [FZ_K_PIPE_W] = FZ_K_PIPE_R,
		[FZ_K_UNIX] = FZ_K_UNIX, [FZ_K_UNIX_DGRAM] = FZ_K_UNIX_DGRAM,
		[FZ_K_PTY] = FZ_K_PTY,
	};

	slot_set(pool, i, fd, kind);
	if (peer >= 0) {
		if (j >= 0 && j != i)
			slot_set(pool, j, peer, peer_kind[kind]);
		else
			close(peer);
	}
}

static pid_t spawn_victim(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/*
 * Scratch directory and cgroup of episode EP, a sleeping victim process
 * for the cgroup and pidfd ops, then every slot: each kind at least once.
 */
int fz_pool_init(struct fz_pool *pool, uint64_t *rng, int ep)
{
	int i, k;

	memset(pool, 0, sizeof(*pool));
	for (i = 0; i < FZ_POOL_SIZE; i++)
		atomic_store(&pool->fd[i], -1);
	snprintf(pool->dir_path, sizeof(pool->dir_path), "/tmp/zsync-fuzz.%d.%d", fz_opts.run_pid, ep);
	if (mkdir(pool->dir_path, 0777) && errno != EEXIST)
		return -errno;
	chmod(pool->dir_path, 0777);
	/* Under the run's cgroup (fuzz-main.c), which lives as long as the run. */
	snprintf(pool->cg_path, sizeof(pool->cg_path), "/sys/fs/cgroup/zsync-fuzz.%d/ep%d",
		 fz_opts.run_pid, ep);
	if (mkdir(pool->cg_path, 0755) && errno != EEXIST)
		pool->cg_path[0] = '\0';
	pool->victim_pid = spawn_victim();
	if (pool->cg_path[0] && pool->victim_pid > 0) {
		char path[300], pid[32];
		int fd;

		snprintf(path, sizeof(path), "%s/cgroup.procs", pool->cg_path);
		snprintf(pid, sizeof(pid), "%d", pool->victim_pid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, pid, strlen(pid)) < 0)
				fprintf(stderr, "zsync-fuzz: victim into %s: %s\n", path, strerror(errno));
			close(fd);
		}
	}
	slot_fill(pool, 0, -1, FZ_K_TCP_LISTEN, rng);
	for (i = 1, k = 1; i < FZ_POOL_SIZE; i++, k = k % (FZ_K_NR - 1) + 1) {
		if (atomic_load(&pool->fd[i]) >= 0)
			continue;
		slot_fill(pool, i, i + 1 < FZ_POOL_SIZE ? i + 1 : -1, k, rng);
	}
	return 0;
}

/* Chaos: replace one slot's file by a new one of a random kind. */
void fz_pool_swap(struct fz_pool *pool, uint64_t *rng)
{
	int i = 1 + (int)fz_below(rng, FZ_POOL_SIZE - 1);
	int j = 1 + (int)fz_below(rng, FZ_POOL_SIZE - 1);

	if (fz_chance(rng, 15)) {
		slot_set(pool, i, -1, FZ_K_NONE);
		return;
	}
	slot_fill(pool, i, j, 1 + (int)fz_below(rng, FZ_K_NR - 1), rng);
}

/*
 * An fd number for an op that wants WANT_KIND (FZ_K_NONE: anything):
 * mostly a slot of that kind, sometimes any slot, sometimes a number that
 * names nothing.  Never 0-2 (stderr carries the report).
 */
int fz_pool_pick(struct fz_pool *pool, uint64_t *rng, int want_kind)
{
	static const int bogus[] = { -1, -100, 1 << 20, 0x7fffffff, -0x7fffffff - 1, 1023 };
	unsigned int start, n;
	int fd;

	if (fz_chance(rng, 4))
		return bogus[fz_below(rng, sizeof(bogus) / sizeof(bogus[0]))];
	start = fz_below(rng, FZ_POOL_SIZE);
	if (want_kind != FZ_K_NONE && fz_chance(rng, 85)) {
		for (n = 0; n < FZ_POOL_SIZE; n++) {
			unsigned int i = (start + n) % FZ_POOL_SIZE;

			if (atomic_load(&pool->kind[i]) == want_kind)
				return atomic_load(&pool->fd[i]);
		}
	}
	fd = atomic_load(&pool->fd[start]);
	return fd < 3 ? -1 : fd;
}

void fz_pool_fini(struct fz_pool *pool)
{
	char path[400];
	int i;

	for (i = 0; i < FZ_POOL_SIZE; i++) {
		int fd = atomic_exchange(&pool->fd[i], -1);

		if (fd >= 0)
			close(fd);
	}
	if (pool->victim_pid > 0) {
		kill(pool->victim_pid, SIGKILL);
		pool->victim_pid = 0;
	}
	/* The scratch directory and the cgroup go in the parent, which also
	 * cleans up after an episode that was killed (fz_episode_cleanup()). */
	(void)path;
}
