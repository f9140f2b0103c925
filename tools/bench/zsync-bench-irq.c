// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-bench-irq: latency from an interrupt-context event to the thread
 * that waits for it seeing it, for several ways of waiting.
 *
 * Two kinds of event, each timestamped where it happens:
 *  - the edu device's interrupt (zsync_edu's IRQ job): the handler reads
 *    CLOCK_MONOTONIC on entry; the waiter gets that time as the value of
 *    its CQE, or asks for it after waking (ZSYNC_EDU_IOC_LAST_EVENT).  A
 *    second thread raises the interrupt while the waiter sleeps.
 *  - an hrtimer expiring at an absolute CLOCK_MONOTONIC deadline the
 *    waiter chose: zsync_edu's timer (which signals the client's source),
 *    zsync's TIMEOUT, io_uring's TIMEOUT and a timerfd.
 * Latency is the waiter's CLOCK_MONOTONIC right after it wakes, minus the
 * event's time.  The rows are measured interleaved, one sample of each per
 * round, so the noise of a shared machine (or of QEMU's TCG) hits them
 * alike.  Ratios compare each row with zsync SOURCE_WAIT on the same kind
 * of event (> 1: slower than zsync).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/zsync_edu.h>

#include "zsync-k.h"
#include "bench.h"

#define EDU_DEV			"/dev/zsync-edu0"
#define DEFAULT_SAMPLES		2000
#define ARM_AHEAD_NS		500000	/* deadline: this far after arming */
#define TRIGGER_GAP_NS		300000	/* the waiter is asleep by then */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
			       .tv_nsec = (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- an edu client --------------------------------------------------------- */

struct edu {
	int fd, src, efd, ep;
	struct zk_ring ring;
	bool ring_up;
};

static void edu_close(struct edu *e)
{
	if (e->ring_up)
		zk_ring_exit(&e->ring);
	if (e->ep >= 0)
		close(e->ep);
	if (e->efd >= 0)
		close(e->efd);
	if (e->src >= 0)
		close(e->src);
	if (e->fd >= 0)
		close(e->fd);
}

/*
 * A client whose events reach a SOURCE_WAIT (@wait) or an eventfd in an
 * epoll set (!@wait).
 */
static int edu_open(struct edu *e, bool wait, char *why)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct zsync_sqe *sqe;
	int ret;

	memset(e, 0, sizeof(*e));
	e->src = e->efd = e->ep = -1;
	e->fd = open(EDU_DEV, O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return fail(why, -errno, "%s: %s (no edu device or zsync_edu)", EDU_DEV,
			    strerror(errno));
	if (!wait) {
		e->efd = eventfd(0, EFD_CLOEXEC);
		e->ep = epoll_create1(EPOLL_CLOEXEC);
		if (e->efd < 0 || e->ep < 0 || epoll_ctl(e->ep, EPOLL_CTL_ADD, e->efd, &ev) ||
		    ioctl(e->fd, ZSYNC_EDU_IOC_EVENTFD, &e->efd))
			return fail(why, -errno, "eventfd/epoll setup: %s", strerror(errno));
		return 0;
	}
	e->src = ioctl(e->fd, ZSYNC_EDU_IOC_SOURCE, ZSYNC_SOURCE_CLOEXEC);
	if (e->src < 0)
		return fail(why, -errno, "ZSYNC_EDU_IOC_SOURCE: %s", strerror(errno));
	ret = zk_ring_init(64, &e->ring, 0);
	if (ret)
		return fail(why, ret, "zsync ring: %s", strerror(-ret));
	e->ring_up = true;
	sqe = zk_get_sqe(&e->ring);
	zk_prep_source_wait(sqe, e->src);
	ret = zk_submit(&e->ring);
	return ret == 1 ? 0 : fail(why, ret, "SOURCE_WAIT submit: %d", ret);
}

/* Blocks for the next CQE, which must carry a value; returns it. */
static int zs_wait_value(struct zk_ring *ring, uint32_t *value, char *why)
{
	struct zsync_cqe *cqe;
	int ret = zk_wait_cqe(ring, &cqe);

	if (ret)
		return fail(why, ret, "wait: %s", strerror(-ret));
	if (!(cqe->flags & ZSYNC_CQE_F_MORE))
		return fail(why, cqe->res, "SOURCE_WAIT ended: %s", strerror(-cqe->res));
	*value = zk_cqe_source_value(cqe);
	zk_cqe_seen(ring, cqe);
	return 0;
}

/* Blocks in epoll_wait, then drains the eventfd; returns the wake time. */
static int ep_wait(struct edu *e, uint64_t *t1, char *why)
{
	struct epoll_event ev;
	uint64_t count;

	if (epoll_wait(e->ep, &ev, 1, 5000) != 1)
		return fail(why, -errno, "epoll_wait: no event within 5 s");
	*t1 = now_ns();
	if (read(e->efd, &count, sizeof(count)) != sizeof(count))
		return fail(why, -errno, "eventfd read: %s", strerror(errno));
	return 0;
}

/* ---- the trigger thread: raises the device interrupt on request ---------- */

static struct {
	pthread_t thread;
	sem_t go;
	int fd;				/* the client to raise it for */
	int err;
	bool up, stop;
} trig;

static void *trigger_thread(void *arg)
{
	struct zsync_edu_job job = {
		.op = ZSYNC_EDU_JOB_IRQ, .flags = ZSYNC_EDU_JOB_F_TIMESTAMP, .arg = 1,
	};

	(void)arg;
	for (;;) {
		while (sem_wait(&trig.go) && errno == EINTR)
			;
		if (__atomic_load_n(&trig.stop, __ATOMIC_ACQUIRE))
			return NULL;
		sleep_ns(TRIGGER_GAP_NS);
		job.seq = 0;
		if (ioctl(trig.fd, ZSYNC_EDU_IOC_SUBMIT, &job))
			__atomic_store_n(&trig.err, -errno, __ATOMIC_RELEASE);
	}
}

static int trigger_start(char *why)
{
	if (trig.up)
		return 0;
	if (sem_init(&trig.go, 0, 0) || pthread_create(&trig.thread, NULL, trigger_thread, NULL))
		return fail(why, -EAGAIN, "trigger thread: %s", strerror(errno));
	trig.up = true;
	return 0;
}

static void trigger_stop(void)
{
	if (!trig.up)
		return;
	__atomic_store_n(&trig.stop, true, __ATOMIC_RELEASE);
	sem_post(&trig.go);
	pthread_join(trig.thread, NULL);
	sem_destroy(&trig.go);
	trig.up = false;
}

/* Ask for an interrupt in TRIGGER_GAP_NS; the caller then goes to sleep. */
static void trigger_irq(int fd)
{
	trig.fd = fd;
	sem_post(&trig.go);
}

/* ---- the rows: open, take one sample, close ------------------------------- */

struct state {
	struct edu edu;
	struct zk_ring zring;
	struct io_uring uring;
	int tfd;
	bool zring_up, uring_up;
};

static int open_irq_zsync(struct state *st, char *why)
{
	int ret = edu_open(&st->edu, true, why);

	return ret ? ret : trigger_start(why);
}

static int open_irq_epoll(struct state *st, char *why)
{
	int ret = edu_open(&st->edu, false, why);

	return ret ? ret : trigger_start(why);
}

static int open_timer_zsync(struct state *st, char *why)
{
	return edu_open(&st->edu, true, why);
}

static int open_timer_epoll(struct state *st, char *why)
{
	return edu_open(&st->edu, false, why);
}

static int open_zsync_ring(struct state *st, char *why)
{
	int ret = zk_ring_init(8, &st->zring, 0);

	if (ret)
		return fail(why, ret, "zsync ring: %s", strerror(-ret));
	st->zring_up = true;
	return 0;
}

static int open_uring(struct state *st, char *why)
{
	int ret = io_uring_queue_init(8, &st->uring, 0);

	if (ret)
		return fail(why, ret, "io_uring_queue_init: %s", strerror(-ret));
	st->uring_up = true;
	return 0;
}

static int open_timerfd(struct state *st, char *why)
{
	st->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	return st->tfd < 0 ? fail(why, -errno, "timerfd_create: %s", strerror(errno)) : 0;
}

static void state_close(struct state *st)
{
	edu_close(&st->edu);
	if (st->zring_up)
		zk_ring_exit(&st->zring);
	if (st->uring_up)
		io_uring_queue_exit(&st->uring);
	if (st->tfd >= 0)
		close(st->tfd);
}

static int trigger_error(char *why)
{
	int err = __atomic_load_n(&trig.err, __ATOMIC_ACQUIRE);

	return err ? fail(why, err, "IRQ job submit: %s", strerror(-err)) : 0;
}

static int sample_irq_zsync(struct state *st, uint64_t *lat, char *why)
{
	uint32_t v;
	int ret;

	trigger_irq(st->edu.fd);
	ret = zs_wait_value(&st->edu.ring, &v, why);
	/* The value is the handler's time, mod 2^32 ns. */
	*lat = (uint32_t)((uint32_t)now_ns() - v);
	return ret ? ret : trigger_error(why);
}

static int sample_irq_epoll(struct state *st, uint64_t *lat, char *why)
{
	uint64_t t1 = 0, t0 = 0;
	int ret;

	trigger_irq(st->edu.fd);
	ret = ep_wait(&st->edu, &t1, why);
	if (!ret && ioctl(st->edu.fd, ZSYNC_EDU_IOC_LAST_EVENT, &t0))
		ret = fail(why, -errno, "LAST_EVENT: %s", strerror(errno));
	*lat = t1 - t0;
	return ret ? ret : trigger_error(why);
}

static int edu_timer_sample(struct state *st, uint64_t *lat, char *why, bool zsync)
{
	uint64_t deadline = now_ns() + ARM_AHEAD_NS, t1 = 0;
	uint32_t v;
	int ret;

	if (ioctl(st->edu.fd, ZSYNC_EDU_IOC_TIMER, &deadline))
		return fail(why, -errno, "ZSYNC_EDU_IOC_TIMER: %s", strerror(errno));
	if (zsync) {
		ret = zs_wait_value(&st->edu.ring, &v, why);
		t1 = now_ns();
	} else {
		ret = ep_wait(&st->edu, &t1, why);
	}
	*lat = t1 - deadline;
	return ret;
}

static int sample_timer_zsync(struct state *st, uint64_t *lat, char *why)
{
	return edu_timer_sample(st, lat, why, true);
}

static int sample_timer_epoll(struct state *st, uint64_t *lat, char *why)
{
	return edu_timer_sample(st, lat, why, false);
}

static int sample_zsync_timeout(struct state *st, uint64_t *lat, char *why)
{
	uint64_t deadline = now_ns() + ARM_AHEAD_NS;
	struct zsync_timespec ts = {
		.tv_sec = (int64_t)(deadline / 1000000000ULL),
		.tv_nsec = (int64_t)(deadline % 1000000000ULL),
	};
	struct zsync_cqe *cqe;
	int ret;

	zk_prep_timeout(zk_get_sqe(&st->zring), &ts, 0, ZSYNC_TIMEOUT_ABS);
	ret = zk_submit_and_wait(&st->zring, 1);
	*lat = now_ns() - deadline;
	if (ret != 1 || zk_peek_cqe(&st->zring, &cqe) || cqe->res != -ETIME)
		return fail(why, ret < 0 ? ret : -EPROTO, "TIMEOUT did not expire");
	zk_cqe_seen(&st->zring, cqe);
	return 0;
}

static int sample_uring_timeout(struct state *st, uint64_t *lat, char *why)
{
	uint64_t deadline = now_ns() + ARM_AHEAD_NS;
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(deadline / 1000000000ULL),
		.tv_nsec = (long long)(deadline % 1000000000ULL),
	};
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_prep_timeout(io_uring_get_sqe(&st->uring), &ts, 0, IORING_TIMEOUT_ABS);
	ret = io_uring_submit_and_wait(&st->uring, 1);
	*lat = now_ns() - deadline;
	if (ret != 1 || io_uring_peek_cqe(&st->uring, &cqe) || cqe->res != -ETIME)
		return fail(why, ret < 0 ? ret : -EPROTO, "io_uring TIMEOUT did not expire");
	io_uring_cqe_seen(&st->uring, cqe);
	return 0;
}

static int sample_timerfd(struct state *st, uint64_t *lat, char *why)
{
	uint64_t deadline = now_ns() + ARM_AHEAD_NS, count;
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(deadline / 1000000000ULL),
			      .tv_nsec = (long)(deadline % 1000000000ULL) },
	};

	if (timerfd_settime(st->tfd, TFD_TIMER_ABSTIME, &its, NULL) ||
	    read(st->tfd, &count, sizeof(count)) != sizeof(count))
		return fail(why, -errno, "timerfd: %s", strerror(errno));
	*lat = now_ns() - deadline;
	return 0;
}

/* ---- driver ---------------------------------------------------------------- */

struct bench {
	const char *origin;		/* "edu interrupt" or "hrtimer" */
	const char *name;
	bool baseline;			/* zsync SOURCE_WAIT of its origin */
	bool needs_edu;
	int (*open)(struct state *st, char *why);
	int (*sample)(struct state *st, uint64_t *lat, char *why);
	/* filled in */
	struct state st;
	bool ok;
	char why[REASON_LEN];
	uint64_t *lat;
	double p50_us, p99_us;
};

static struct bench benches[] = {
	{ .origin = "edu interrupt", .name = "zsync SOURCE_WAIT", .baseline = true,
	  .needs_edu = true, .open = open_irq_zsync, .sample = sample_irq_zsync },
	{ .origin = "edu interrupt", .name = "eventfd + epoll_wait",
	  .needs_edu = true, .open = open_irq_epoll, .sample = sample_irq_epoll },
	{ .origin = "hrtimer", .name = "zsync SOURCE_WAIT (edu timer)", .baseline = true,
	  .needs_edu = true, .open = open_timer_zsync, .sample = sample_timer_zsync },
	{ .origin = "hrtimer", .name = "eventfd + epoll_wait (edu timer)",
	  .needs_edu = true, .open = open_timer_epoll, .sample = sample_timer_epoll },
	{ .origin = "hrtimer", .name = "zsync TIMEOUT",
	  .open = open_zsync_ring, .sample = sample_zsync_timeout },
	{ .origin = "hrtimer", .name = "io_uring TIMEOUT",
	  .open = open_uring, .sample = sample_uring_timeout },
	{ .origin = "hrtimer", .name = "timerfd read",
	  .open = open_timerfd, .sample = sample_timerfd },
};
#define NR_BENCHES	(sizeof(benches) / sizeof(benches[0]))

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One sample of every row per round, @warm rounds thrown away first.  A
 * row that fails is closed and says why; the others go on.
 */
static void run_rounds(unsigned int n, unsigned int warm)
{
	unsigned int round, i;

	for (i = 0; i < NR_BENCHES; i++) {
		struct bench *b = &benches[i];

		memset(&b->st, 0, sizeof(b->st));
		b->st.edu.fd = b->st.edu.src = b->st.edu.efd = b->st.edu.ep = -1;
		b->st.tfd = -1;
		b->lat = calloc(n, sizeof(*b->lat));
		b->ok = b->lat && !b->open(&b->st, b->why);
		if (!b->lat)
			snprintf(b->why, REASON_LEN, "out of memory");
	}
	for (round = 0; round < warm + n; round++) {
		for (i = 0; i < NR_BENCHES; i++) {
			struct bench *b = &benches[i];
			uint64_t lat = 0;

			if (!b->ok)
				continue;
			if (b->sample(&b->st, &lat, b->why)) {
				b->ok = false;
				continue;
			}
			if (round >= warm)
				b->lat[round - warm] = lat;
		}
	}
	trigger_stop();
	for (i = 0; i < NR_BENCHES; i++) {
		struct bench *b = &benches[i];

		state_close(&b->st);
		if (!b->ok)
			continue;
		qsort(b->lat, n, sizeof(*b->lat), cmp_u64);
		b->p50_us = b->lat[n / 2] / 1000.0;
		b->p99_us = b->lat[(n * 99) / 100] / 1000.0;
	}
}

static const struct bench *baseline_of(const struct bench *b)
{
	size_t i;

	for (i = 0; i < NR_BENCHES; i++)
		if (benches[i].baseline && !strcmp(benches[i].origin, b->origin))
			return &benches[i];
	return NULL;
}

static void print_table(unsigned int n)
{
	size_t i;

	printf("zsync-bench-irq: %u samples per row, rows interleaved; latency (us) from "
	       "the event to the waiting thread seeing it\n\n", n);
	printf("%-14s %-34s %9s %9s %11s %11s\n", "event", "waiting with", "p50 us",
	       "p99 us", "p50/zsync", "p99/zsync");
	for (i = 0; i < NR_BENCHES; i++) {
		const struct bench *b = &benches[i], *base = baseline_of(b);

		printf("%-14s %-34s", b->origin, b->name);
		if (!b->ok) {
			printf(" %9s %9s %11s %11s\n", "n/a", "n/a", "n/a", "n/a");
			continue;
		}
		printf(" %9.1f %9.1f", b->p50_us, b->p99_us);
		if (base && base->ok)
			printf(" %11.2f %11.2f\n", b->p50_us / base->p50_us,
			       b->p99_us / base->p99_us);
		else
			printf(" %11s %11s\n", "n/a", "n/a");
	}
	printf("\nevent time: edu interrupt = handler entry; hrtimer = the deadline.\n"
	       "ratios divide by zsync SOURCE_WAIT on the same event (> 1: slower than zsync)\n");
	for (i = 0; i < NR_BENCHES; i++)
		if (!benches[i].ok)
			printf("%s: n/a: %s\n", benches[i].name, benches[i].why);
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--samples N] [--help]\n"
		"\n"
		"Latency from an interrupt-context event to the thread waiting for it:\n"
		"edu device interrupts (zsync SOURCE_WAIT vs eventfd + epoll_wait, both\n"
		"signalled by zsync_edu's handler) and hrtimer deadlines (zsync SOURCE_WAIT\n"
		"on zsync_edu's timer, eventfd + epoll_wait, zsync TIMEOUT, io_uring\n"
		"TIMEOUT, timerfd).  Needs %s for the edu rows; others print n/a\n"
		"with the reason when unavailable.\n"
		"\n"
		"  --samples N   samples per row, after N/10 rounds of warm-up (default %d);\n"
		"                the rows are sampled in turn, one sample each per round\n"
		"\n"
		"exit status: 0 every available row measured, 1 a row failed, 2 bad usage.\n",
		prog, EDU_DEV, DEFAULT_SAMPLES);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long samples = DEFAULT_SAMPLES;
	int failed = 0, c;
	char *end;
	size_t i;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			samples = strtoul(optarg, &end, 10);
			if (errno || *end || !samples || samples > 1000000) {
				usage(stderr, argv[0]);
				return 2;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	run_rounds((unsigned int)samples, (unsigned int)(samples / 10));
	for (i = 0; i < NR_BENCHES; i++) {
		/* No edu device is no failure: those rows say n/a and why. */
		if (!benches[i].ok && (!benches[i].needs_edu || access(EDU_DEV, F_OK) == 0))
			failed = 1;
	}
	print_table((unsigned int)samples);
	for (i = 0; i < NR_BENCHES; i++)
		free(benches[i].lat);
	return failed;
}
