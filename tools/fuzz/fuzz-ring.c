// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-fuzz: rings through the raw uapi, module-wide counters, and the
 * record of what the run reached (histogram) and what it broke.
 *
 * The fuzzer does not use libzsync-k for its rings (only for op names): it
 * must be able to do what the library never would (scribble over indices, unmap the rings,
 * submit garbage), and a library bug must not hide a kernel one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "zsync-k.h"

const char *fz_op_name(int op)
{
	const char *name = op >= 0 ? zk_op_name((unsigned int)op) : NULL;

	if (op == ZSYNC_OP_LAST)
		return "(unknown)";
	return name ? name : "?";
}

int64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The first broken invariant is the one reported; later ones are noise. */
void fz_violation(const char *fmt, ...)
{
	int expected = 0;
	va_list ap;

	if (!atomic_compare_exchange_strong(&fz_stats->violation, &expected, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(fz_stats->msg, sizeof(fz_stats->msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "zsync-fuzz: VIOLATION: %s\n", fz_stats->msg);
}

bool fz_violated(void)
{
	return atomic_load(&fz_stats->violation) != 0;
}

void fz_count_cqe(int op, const struct zsync_cqe *cqe, bool terminal)
{
	if (op < 0 || op >= FZ_NR_OPS)
		op = ZSYNC_OP_LAST;
	if (!terminal) {
		atomic_fetch_add(&fz_stats->op_more[op], 1);
		return;
	}
	if (cqe->res >= 0)
		atomic_fetch_add(&fz_stats->op_ok[op], 1);
	else if (-cqe->res < FZ_MAX_ERRNO)
		atomic_fetch_add(&fz_stats->op_err[op][-cqe->res], 1);
	else
		atomic_fetch_add(&fz_stats->op_err[op][0], 1);
}

static void *map_region(int fd, size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}

static _Atomic uint32_t *field(void *base, uint32_t off)
{
	return (_Atomic uint32_t *)((char *)base + off);
}

/*
 * Random but mostly sane sizes: tiny CQ rings make the overflow list and
 * the EBUSY limit reachable, R_DISABLED makes RESTRICT/ENABLE reachable.
 * Returns 0 or -errno (the fd is closed on failure).
 */
int fz_ring_setup(struct fz_ring *r, uint64_t *rng, bool disabled)
{
	struct zsync_params *p = &r->p;
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = open("/dev/zsync", O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	p->sq_entries = 1U << fz_below(rng, 8);
	if (fz_chance(rng, 50)) {
		p->flags |= ZSYNC_SETUP_CQSIZE;
		p->cq_entries = p->sq_entries << fz_below(rng, 3);
		if (fz_chance(rng, 20))
			p->cq_entries = 1 + fz_below(rng, 4);
	}
	if (fz_chance(rng, 20))
		p->flags |= ZSYNC_SETUP_CLAMP;
	if (fz_chance(rng, 20))
		p->flags |= ZSYNC_SETUP_EVENTFD_BATCH;
	/* Retries then also run from task_work, racing exits and closes. */
	if (fz_chance(rng, 25))
		p->flags |= ZSYNC_SETUP_TASK_SIGNAL;
	if (disabled)
		p->flags |= ZSYNC_SETUP_R_DISABLED;
	if (fz_chance(rng, 30))
		p->overflow_limit = 1 + fz_below(rng, 64);
	if (ioctl(r->fd, ZSYNC_IOC_SETUP, p) < 0 &&
	    (p->flags &= ~ZSYNC_SETUP_CQSIZE, ioctl(r->fd, ZSYNC_IOC_SETUP, p) < 0))
		goto fail;
	r->sq_len = (size_t)p->sq_off.flags + sizeof(uint32_t);
	r->cq_len = (size_t)p->cq_off.cqes + (size_t)p->cq_entries * sizeof(struct zsync_cqe);
	r->sqes_len = (size_t)p->sq_entries * sizeof(struct zsync_sqe);
	r->sq_map = map_region(r->fd, r->sq_len, ZSYNC_OFF_SQ_RING);
	r->cq_map = map_region(r->fd, r->cq_len, ZSYNC_OFF_CQ_RING);
	r->sqes = map_region(r->fd, r->sqes_len, ZSYNC_OFF_SQES);
	if (!r->sq_map || !r->cq_map || !r->sqes) {
		err = -errno;
		fz_ring_close(r);
		return err;
	}
	r->sq_head = field(r->sq_map, p->sq_off.head);
	r->sq_tail = field(r->sq_map, p->sq_off.tail);
	r->sq_flags = field(r->sq_map, p->sq_off.flags);
	r->sq_mask = *field(r->sq_map, p->sq_off.ring_mask);
	r->cq_head = field(r->cq_map, p->cq_off.head);
	r->cq_tail = field(r->cq_map, p->cq_off.tail);
	r->cq_overflow = field(r->cq_map, p->cq_off.overflow);
	r->cq_mask = *field(r->cq_map, p->cq_off.ring_mask);
	r->cqes = (struct zsync_cqe *)((char *)r->cq_map + p->cq_off.cqes);
	r->local_tail = atomic_load(r->sq_tail);
	return 0;
fail:
	err = -errno;
	close(r->fd);
	r->fd = -1;
	return err;
}

void fz_ring_unmap(struct fz_ring *r)
{
	if (r->sq_map)
		munmap(r->sq_map, r->sq_len);
	if (r->cq_map)
		munmap(r->cq_map, r->cq_len);
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	r->sq_map = r->cq_map = NULL;
	r->sqes = NULL;
}

void fz_ring_close(struct fz_ring *r)
{
	fz_ring_unmap(r);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* The next free SQE, zeroed, or NULL when the SQ ring is full. */
struct zsync_sqe *fz_ring_sqe(struct fz_ring *r)
{
	uint32_t head = atomic_load_explicit(r->sq_head, memory_order_acquire);
	struct zsync_sqe *sqe;

	if (r->local_tail - head >= r->p.sq_entries)
		return NULL;
	sqe = &r->sqes[r->local_tail & r->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	r->local_tail++;
	return sqe;
}

/*
 * Publish what was written and enter.  A timeout bounds every wait, so a
 * fuzzer thread never hangs on a CQE that will not come; the struct form
 * and the by-value form are both used.  Returns the ioctl's result or
 * -errno.
 */
int fz_ring_enter(struct fz_ring *r, uint32_t to_submit, uint32_t min_complete,
		  unsigned int flags, int64_t timeout_ns)
{
	struct zsync_timespec ts = {
		.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000,
	};
	struct zsync_enter e = {
		.to_submit = to_submit, .min_complete = min_complete, .flags = flags,
	};
	int ret;

	atomic_store_explicit(r->sq_tail, r->local_tail, memory_order_release);
	atomic_fetch_add(&fz_stats->enters, 1);
	if (!(flags & ZSYNC_ENTER_GETEVENTS) || !min_complete) {
		ret = ioctl(r->fd, ZSYNC_IOC_ENTER_VALUE,
			    ZSYNC_ENTER_VALUE(to_submit, 0, flags));
	} else {
		e.timeout = (uintptr_t)&ts;
		ret = ioctl(r->fd, ZSYNC_IOC_ENTER, &e);
	}
	if (ret < 0) {
		ret = -errno;
		if (-ret < FZ_MAX_ERRNO)
			atomic_fetch_add(&fz_stats->enter_err[-ret], 1);
	}
	return ret;
}

int fz_stats_ioctl(int fd, struct zsync_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, ZSYNC_IOC_STATS, st) < 0 ? -errno : 0;
}

long fz_module_refcnt(void)
{
	FILE *f = fopen("/sys/module/zsync/refcnt", "re");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}
