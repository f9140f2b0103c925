// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz: chaos.  Two kinds:
 *
 * - fz_chaos_thread() runs beside the workers of an accounting episode:
 *   it swaps and closes the pool's fds under in-flight ops, feeds pipes,
 *   sockets and eventfds so that waiting ops complete, signals event
 *   sources, queues connections for ACCEPT and interrupts waits with
 *   signals.  None of that may break the CQE accounting.
 *
 * - fz_chaos_episode() runs hostile scenarios whose only invariants are
 *   "the kernel survives, the process ends, nothing leaks" (the parent
 *   checks the module's refcount and open rings afterwards): scribbling
 *   over ring indices and SQEs, unmapping and mprotecting the rings,
 *   sharing a ring across fork() and exec(), SIGKILL of a waiter, closing
 *   a ring while a thread waits on it, a ring fd sent into a socket that
 *   one of its own requests holds, an eventfd that a poll on the same ring
 *   watches.  Each runs in a grandchild so a wrecked process is contained.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

static void pause_us(uint64_t *rng, unsigned int max_us)
{
	struct timespec ts = { 0, 1000L * (1 + fz_below(rng, max_us)) };

	nanosleep(&ts, NULL);	/* pacing, not synchronisation */
}

static bool nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

/* Make a waiting read, recv, accept or poll on FD complete. */
static void feed(struct fz_pool *pool, uint64_t *rng)
{
	char buf[512];
	uint64_t one = 1;
	int fd;

	switch (fz_below(rng, 6)) {
	case 0:
		fd = fz_pool_pick(pool, rng, FZ_K_PIPE_W);
		if (fd >= 3 && nonblocking(fd) && write(fd, buf, 1 + fz_below(rng, sizeof(buf))) < 0)
			break;
		break;
	case 1:
		fd = fz_pool_pick(pool, rng, fz_chance(rng, 50) ? FZ_K_UNIX : FZ_K_TCP);
		if (fd >= 3 && send(fd, buf, 1 + fz_below(rng, sizeof(buf)), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		break;
	case 2:
		fd = fz_pool_pick(pool, rng, FZ_K_EVENTFD);
		if (fd >= 3 && nonblocking(fd) && write(fd, &one, sizeof(one)) < 0)
			break;
		break;
	case 3:
		fd = fz_pool_pick(pool, rng, FZ_K_PIPE_R);
		if (fd >= 3 && nonblocking(fd) && read(fd, buf, sizeof(buf)) < 0)
			break;
		break;
	case 4: {
		struct zsync_source_signal s = { .value = (uint32_t)fz_next(rng) };

		fd = fz_pool_pick(pool, rng, FZ_K_SOURCE);
		if (fd >= 3)
			ioctl(fd, ZSYNC_IOC_SOURCE_SIGNAL, &s);
		break;
	}
	default:	/* a connection for ACCEPT, parked in the pool */
		fd = fz_make_fd(pool, FZ_K_TCP, rng);
		if (fd >= 0)
			close(fd);
		break;
	}
}

void *fz_chaos_thread(void *arg)
{
	struct fz_episode *ep = arg;
	uint64_t rng = ep->seed ^ 0xc4a05ULL;
	unsigned int i;

	/*
	 * No fault injection here: this thread opens ptys, sockets and pipes
	 * for the pool, kernel paths that are not ours (a failed vmalloc in
	 * n_tty_open() warns with a stack).  The workers' ring calls get them.
	 */
	while (!atomic_load(&ep->stop) && !fz_violated()) {
		atomic_fetch_add(&fz_stats->chaos_actions, 1);
		switch (fz_below(&rng, 10)) {
		case 0:
		case 1:
			fz_pool_swap(&ep->pool, &rng);
			break;
		case 2:
			i = fz_below(&rng, ep->nr_threads);
			if (ep->thr[i].tid > 0)
				syscall(SYS_tgkill, getpid(), ep->thr[i].tid, SIGUSR1);
			break;
		case 3: {
			uint64_t one = 1;

			i = fz_below(&rng, ep->nr_threads);
			if (ep->thr[i].eventfd >= 0 && write(ep->thr[i].eventfd, &one, sizeof(one)) < 0)
				break;
			break;
		}
		default:
			feed(&ep->pool, &rng);
			break;
		}
		pause_us(&rng, 500);
	}
	return NULL;
}

/* A throwaway thread state for generating SQEs without accounting. */
static int scratch_thread(struct fz_episode *ep, struct fz_thread *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->ep = ep;
	t->rng = seed;
	t->eventfd = -1;
	if (fz_ring_setup(&t->ring, &t->rng, false))
		return -1;
	ep->thr[0].ring.fd = t->ring.fd;	/* MSG_RING targets this ring */
	return fz_bufs_init(t);
}

/* Submit N generated SQEs (unaccounted) and enter; the ring may be wrecked. */
static void spray(struct fz_episode *ep, struct fz_thread *t, unsigned int n, bool wait)
{
	uint8_t ms;
	struct zsync_sqe *sqe;
	struct fz_ring *r = &t->ring;

	while (n--) {
		if (!r->sqes)
			break;
		sqe = fz_ring_sqe(r);
		if (!sqe)
			break;
		fz_gen_sqe(ep, t, sqe, t->nr_reqs++, &ms);
	}
	if (r->sq_tail)
		fz_ring_enter(r, r->p.sq_entries * 2, wait ? 1 : 0,
			      wait ? ZSYNC_ENTER_GETEVENTS : 0, 2000000);
	else
		ioctl(r->fd, ZSYNC_IOC_ENTER_VALUE, ZSYNC_ENTER_VALUE(8, 0, 0));
	if (r->cq_head && r->cq_tail)
		atomic_store(r->cq_head, atomic_load(r->cq_tail));
}

struct scribble {
	struct fz_thread *t;
	atomic_bool stop;
};

static void *scribbler(void *arg)
{
	struct scribble *s = arg;
	struct fz_ring *r = &s->t->ring;
	uint64_t rng = s->t->rng ^ 0x5c41bb1eULL;
	_Atomic uint32_t *words[] = { r->sq_head, r->sq_tail, r->sq_flags, r->cq_head,
				      r->cq_tail, r->cq_overflow };

	while (!atomic_load(&s->stop)) {
		uint32_t v = fz_chance(&rng, 50) ? (uint32_t)fz_next(&rng) : fz_below(&rng, 4096);

		if (fz_chance(&rng, 70))
			atomic_store(words[fz_below(&rng, 6)], v);
		else
			((uint32_t *)r->sqes)[fz_below(&rng, (uint32_t)(r->sqes_len / 4))] = v;
		pause_us(&rng, 50);
	}
	return NULL;
}

static void scenario_scribble(struct fz_episode *ep, struct fz_thread *t)
{
	struct scribble s = { .t = t };
	pthread_t th;
	int i;

	/* Under fault injection the thread's stack may not come. */
	if (pthread_create(&th, NULL, scribbler, &s))
		return;
	for (i = 0; i < 200; i++) {
		/* Local tail follows the scribbled one so SQEs keep flowing. */
		t->ring.local_tail = atomic_load(t->ring.sq_tail);
		spray(ep, t, 1 + fz_below(&t->rng, 8), fz_chance(&t->rng, 30));
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
}

static void scenario_unmap(struct fz_episode *ep, struct fz_thread *t)
{
	struct fz_ring *r = &t->ring;
	void *sq = r->sq_map;
	int i;

	spray(ep, t, 16, false);
	switch (fz_below(&t->rng, 3)) {
	case 0:
		fz_ring_unmap(r);
		break;
	case 1:
		mprotect(r->sq_map, r->sq_len, PROT_NONE);
		mprotect(r->cq_map, r->cq_len, PROT_READ);
		mprotect(r->sqes, r->sqes_len, PROT_NONE);
		r->sq_tail = NULL;
		r->cq_head = r->cq_tail = NULL;
		r->sqes = NULL;
		break;
	default:	/* the SQE array mapped again over the CQ ring's address */
		mmap(r->cq_map, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		     r->fd, ZSYNC_OFF_SQES);
		break;
	}
	for (i = 0; i < 20; i++) {
		ioctl(r->fd, ZSYNC_IOC_ENTER_VALUE, ZSYNC_ENTER_VALUE(4, 0, 0));
		/* A buffer address where the ring used to be. */
		if (r->sqes && r->sq_tail) {
			struct zsync_sqe *sqe = fz_ring_sqe(r);

			if (sqe) {
				sqe->opcode = ZSYNC_OP_READ;
				sqe->fd = fz_pool_pick(&ep->pool, &t->rng, FZ_K_FILE);
				sqe->addr = (uintptr_t)sq;
				sqe->len = 4096;
			}
		}
	}
}

static void scenario_fork(struct fz_episode *ep, struct fz_thread *t)
{
	pid_t pid;
	int i;

	spray(ep, t, 8, false);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < 50; i++)
			spray(ep, t, 4, false);
		if (fz_chance(&t->rng, 50))
			execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	for (i = 0; i < 50; i++)
		spray(ep, t, 4, fz_chance(&t->rng, 20));
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* Has task PATH (/proc/.../stat) reached a sleeping wait (state S)?  Polls. */
static bool wait_sleeping(const char *path, int ms)
{
	char buf[512], *p;
	int i;

	for (i = 0; i < ms; i++) {
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * The calling thread's stat file as others can open it: the episode runs
 * in a PID namespace of its own but sees the VM's /proc, where its own
 * numbers mean nothing; /proc/thread-self resolves to the right one.
 */
static void self_stat_path(char *buf, size_t len)
{
	char link[64];
	ssize_t n = readlink("/proc/thread-self", link, sizeof(link) - 1);

	link[n > 0 ? n : 0] = '\0';
	snprintf(buf, len, "/proc/%s/stat", link);
}

static void scenario_kill_waiter(struct fz_episode *ep, struct fz_thread *t)
{
	struct zsync_enter e = { .min_complete = 100000, .flags = ZSYNC_ENTER_GETEVENTS };
	char path[128] = "";
	int p[2];
	pid_t pid;

	spray(ep, t, 16, false);
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		self_stat_path(path, sizeof(path));
		if (write(p[1], path, sizeof(path)) == (ssize_t)sizeof(path))
			ioctl(t->ring.fd, ZSYNC_IOC_ENTER, &e);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], path, sizeof(path)) != (ssize_t)sizeof(path)) {
		close(p[0]);
		return;
	}
	close(p[0]);
	wait_sleeping(path, 5000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Once the main thread sleeps in ENTER, close the ring under it. */
static void *close_ring_later(void *arg)
{
	struct fz_thread *t = arg;

	wait_sleeping(t->stat_path, 5000);
	fz_ring_close(&t->ring);
	_exit(0);	/* the waiter in ENTER dies with the process */
}

static void scenario_close_while_waiting(struct fz_episode *ep, struct fz_thread *t)
{
	struct zsync_enter e = { .min_complete = 100000, .flags = ZSYNC_ENTER_GETEVENTS };
	pthread_t th;

	spray(ep, t, 16, false);
	self_stat_path(t->stat_path, sizeof(t->stat_path));
	if (pthread_create(&th, NULL, close_ring_later, t))
		return;
	ioctl(t->ring.fd, ZSYNC_IOC_ENTER, &e);
	pthread_join(th, NULL);
}

/* The ring's fd in the receive queue of a socket its own request holds. */
static void scenario_scm_loop(struct fz_episode *ep, struct fz_thread *t)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 'r';
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	struct zsync_sqe *sqe;
	int sv[2];

	(void)ep;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &t->ring.fd, sizeof(int));
	sendmsg(sv[1], &m, 0);
	sqe = fz_ring_sqe(&t->ring);
	if (sqe) {
		sqe->opcode = ZSYNC_OP_POLL_ADD;
		sqe->fd = sv[0];
		sqe->len = POLLOUT | POLLPRI;	/* never POLLIN: it must stay pending */
		sqe->op_flags = ZSYNC_POLL_MULTISHOT;
		fz_ring_enter(&t->ring, 1, 0, 0, 0);
	}
	close(sv[0]);
	close(sv[1]);
}

/* A multishot poll on the ring's own eventfd: each CQE signals it again. */
static void scenario_eventfd_loop(struct fz_episode *ep, struct fz_thread *t)
{
	int efd = eventfd(0, EFD_NONBLOCK), i;
	struct zsync_sqe *sqe;

	if (efd < 0)
		return;
	ioctl(t->ring.fd, ZSYNC_IOC_REGISTER_EVENTFD, &efd);
	sqe = fz_ring_sqe(&t->ring);
	if (sqe) {
		sqe->opcode = ZSYNC_OP_POLL_ADD;
		sqe->fd = efd;
		sqe->len = POLLIN;
		sqe->op_flags = ZSYNC_POLL_MULTISHOT;
	}
	for (i = 0; i < 20; i++)
		spray(ep, t, 4, fz_chance(&t->rng, 50));
}

typedef void (*fz_scenario_fn)(struct fz_episode *, struct fz_thread *);

static const struct {
	const char *name;
	fz_scenario_fn fn;
} scenarios[] = {
	{ "scribble", scenario_scribble },
	{ "unmap", scenario_unmap },
	{ "fork", scenario_fork },
	{ "kill-waiter", scenario_kill_waiter },
	{ "close-while-waiting", scenario_close_while_waiting },
	{ "scm-loop", scenario_scm_loop },
	{ "eventfd-loop", scenario_eventfd_loop },
};

#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* Run scenario I in a grandchild; its death by a signal is not a failure. */
static void run_scenario(struct fz_episode *ep, unsigned int i, uint64_t seed)
{
	struct fz_thread *t = calloc(1, sizeof(*t));
	pid_t pid;

	if (!t)
		return;
	if (fz_opts.trace)
		fprintf(stderr, "chaos: %s\n", scenarios[i].name);
	pid = fork();
	if (pid == 0) {
		if (fz_opts.faults)
			fz_faults_enable_self();
		if (scratch_thread(ep, t, seed) == 0)
			scenarios[i].fn(ep, t);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(t);
}

int fz_chaos_episode(struct fz_episode *ep)
{
	uint64_t rng = ep->seed ^ 0xc4a0500dULL;
	unsigned int n = 1 + fz_below(&rng, 4);

	ep->nr_threads = 1;
	while (n--) {
		uint64_t seed = fz_next(&rng);
		unsigned int i = fz_below(&rng, NR_SCENARIOS);

		if (!(fz_opts.scenario_mask & (1U << i)))
			continue;
		atomic_fetch_add(&fz_stats->chaos_actions, 1);
		run_scenario(ep, i, seed);
	}
	return 0;
}

unsigned int fz_nr_scenarios(void)
{
	return NR_SCENARIOS;
}

/* "scribble,fork" -> bit mask; -1 on an unknown name. */
int fz_scenario_parse(const char *list, uint32_t *mask)
{
	char *dup = strdup(list), *tok, *save = NULL;
	unsigned int i;

	*mask = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_SCENARIOS && strcmp(tok, scenarios[i].name); i++)
			;
		if (i == NR_SCENARIOS) {
			fprintf(stderr, "zsync-fuzz: unknown scenario '%s'\n", tok);
			free(dup);
			return -1;
		}
		*mask |= 1U << i;
	}
	free(dup);
	return 0;
}

void fz_scenario_string(uint32_t mask, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < NR_SCENARIOS && n < len; i++)
		if (mask & (1U << i))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", scenarios[i].name);
}
