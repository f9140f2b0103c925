// SPDX-License-Identifier: MIT
/*
 * libzsync-k ring layer: setup and mapping of /dev/zsync rings, submission
 * through ZSYNC_IOC_ENTER, waiting for completions, registration.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zsync-k.h"

#define ZK_DEFAULT_DEV	"/dev/zsync"

/* Size of the kernel's sigset_t, which is what ENTER copies in. */
#define ZK_KERNEL_SIGSET_SIZE	(_NSIG / 8)

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static void *map_region(int fd, size_t len, __u64 off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
}

static void unmap_regions(struct zk_ring *ring)
{
	if (ring->sq.ring_ptr)
		munmap(ring->sq.ring_ptr, ring->sq.ring_sz);
	if (ring->sq.sqes)
		munmap(ring->sq.sqes, ring->sq.sqes_sz);
	if (ring->cq.ring_ptr)
		munmap(ring->cq.ring_ptr, ring->cq.ring_sz);
	ring->sq.ring_ptr = NULL;
	ring->sq.sqes = NULL;
	ring->cq.ring_ptr = NULL;
}

/* A __u32 field at @off must lie inside a mapping of @sz bytes. */
static bool field_fits(__u32 off, size_t sz)
{
	return off % sizeof(__u32) == 0 && (size_t)off + sizeof(__u32) <= sz;
}

/*
 * The kernel is trusted, but a mismatch between what SETUP said and what
 * the mapping holds means library and module disagree about the ABI:
 * refuse the ring rather than index out of bounds later.
 */
static int check_layout(const struct zsync_params *p)
{
	const struct zsync_sq_offsets *so = &p->sq_off;
	const struct zsync_cq_offsets *co = &p->cq_off;
	size_t sq_sz = (size_t)so->flags + sizeof(__u32);
	size_t cq_sz = (size_t)co->cqes;

	if (!p->sq_entries || (p->sq_entries & (p->sq_entries - 1)) ||
	    !p->cq_entries || (p->cq_entries & (p->cq_entries - 1)))
		return -EPROTO;
	if (!field_fits(so->head, sq_sz) || !field_fits(so->tail, sq_sz) ||
	    !field_fits(so->ring_mask, sq_sz) ||
	    !field_fits(so->ring_entries, sq_sz))
		return -EPROTO;
	if (co->cqes % _Alignof(struct zsync_cqe) ||
	    !field_fits(co->head, cq_sz) || !field_fits(co->tail, cq_sz) ||
	    !field_fits(co->ring_mask, cq_sz) ||
	    !field_fits(co->ring_entries, cq_sz) ||
	    !field_fits(co->overflow, cq_sz))
		return -EPROTO;
	return 0;
}

static unsigned int *ring_field(void *base, __u32 off)
{
	return (unsigned int *)((char *)base + off);
}

static int map_rings(struct zk_ring *ring, const struct zsync_params *p)
{
	struct zk_sq *sq = &ring->sq;
	struct zk_cq *cq = &ring->cq;
	int err;

	sq->ring_sz = (size_t)p->sq_off.flags + sizeof(__u32);
	sq->sqes_sz = (size_t)p->sq_entries * sizeof(struct zsync_sqe);
	cq->ring_sz = (size_t)p->cq_off.cqes +
		      (size_t)p->cq_entries * sizeof(struct zsync_cqe);

	sq->ring_ptr = map_region(ring->fd, sq->ring_sz, ZSYNC_OFF_SQ_RING);
	if (sq->ring_ptr == MAP_FAILED)
		goto fail;
	sq->sqes = map_region(ring->fd, sq->sqes_sz, ZSYNC_OFF_SQES);
	if (sq->sqes == MAP_FAILED)
		goto fail;
	cq->ring_ptr = map_region(ring->fd, cq->ring_sz, ZSYNC_OFF_CQ_RING);
	if (cq->ring_ptr == MAP_FAILED)
		goto fail;
	return 0;

fail:
	err = -errno;
	if (sq->ring_ptr == MAP_FAILED)
		sq->ring_ptr = NULL;
	if (sq->sqes == MAP_FAILED)
		sq->sqes = NULL;
	if (cq->ring_ptr == MAP_FAILED)
		cq->ring_ptr = NULL;
	unmap_regions(ring);
	return err;
}

static void bind_fields(struct zk_ring *ring, const struct zsync_params *p)
{
	struct zk_sq *sq = &ring->sq;
	struct zk_cq *cq = &ring->cq;

	sq->khead = ring_field(sq->ring_ptr, p->sq_off.head);
	sq->ktail = ring_field(sq->ring_ptr, p->sq_off.tail);
	sq->kflags = ring_field(sq->ring_ptr, p->sq_off.flags);
	sq->mask = *ring_field(sq->ring_ptr, p->sq_off.ring_mask);
	sq->entries = *ring_field(sq->ring_ptr, p->sq_off.ring_entries);
	/* Start from wherever the shared tail is (0 on a fresh ring). */
	sq->sqe_tail = zk_load_acquire(sq->ktail);
	sq->sqe_head = sq->sqe_tail;

	cq->khead = ring_field(cq->ring_ptr, p->cq_off.head);
	cq->ktail = ring_field(cq->ring_ptr, p->cq_off.tail);
	cq->koverflow = ring_field(cq->ring_ptr, p->cq_off.overflow);
	cq->mask = *ring_field(cq->ring_ptr, p->cq_off.ring_mask);
	cq->entries = *ring_field(cq->ring_ptr, p->cq_off.ring_entries);
	cq->cqes = (struct zsync_cqe *)((char *)cq->ring_ptr + p->cq_off.cqes);
}

/* The values in the mapping must agree with what SETUP returned. */
static int check_mapped_sizes(const struct zk_ring *ring,
			      const struct zsync_params *p)
{
	if (ring->sq.entries != p->sq_entries ||
	    ring->sq.mask != p->sq_entries - 1 ||
	    ring->cq.entries != p->cq_entries ||
	    ring->cq.mask != p->cq_entries - 1)
		return -EPROTO;
	return 0;
}

int zk_ring_init_fd(int fd, struct zk_ring *ring, struct zsync_params *p)
{
	int ret;

	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	if (ioctl(fd, ZSYNC_IOC_SETUP, p) < 0)
		return -errno;
	ret = check_layout(p);
	if (ret)
		return ret;

	ring->fd = fd;
	ret = map_rings(ring, p);
	if (ret)
		goto fail;
	bind_fields(ring, p);
	ret = check_mapped_sizes(ring, p);
	if (ret) {
		unmap_regions(ring);
		goto fail;
	}
	ring->flags = p->flags;
	ring->features = p->features;
	return 0;

fail:
	ring->fd = -1;
	return ret;
}

int zk_ring_init_params(unsigned int entries, struct zk_ring *ring,
			struct zsync_params *p)
{
	const char *dev = getenv("ZSYNC_DEV");
	int fd, ret;

	if (!dev || !*dev)
		dev = ZK_DEFAULT_DEV;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		memset(ring, 0, sizeof(*ring));
		ring->fd = -1;
		return -errno;
	}
	p->sq_entries = entries;
	ret = zk_ring_init_fd(fd, ring, p);
	if (ret)
		close(fd);
	return ret;
}

int zk_ring_init(unsigned int entries, struct zk_ring *ring, unsigned int flags)
{
	struct zsync_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	return zk_ring_init_params(entries, ring, &p);
}

void zk_ring_exit(struct zk_ring *ring)
{
	unmap_regions(ring);
	if (ring->fd >= 0)
		close(ring->fd);
	ring->fd = -1;
}

/* ------------------------------------------------------------------ */
/* Submission                                                          */
/* ------------------------------------------------------------------ */

int zk_enter(struct zk_ring *ring, unsigned int to_submit,
	     unsigned int min_complete, unsigned int flags,
	     const sigset_t *sigmask, const struct zsync_timespec *ts,
	     int *wait_res)
{
	struct zsync_enter e;
	int ret;

	/*
	 * The common case goes by value: no struct for the kernel to copy
	 * in, no wait_res to write back.
	 */
	if (!sigmask && !ts && !wait_res && !(flags & ~ZSYNC_ENTER_GETEVENTS) &&
	    (ring->features & ZSYNC_FEAT_ENTER_VALUE) &&
	    to_submit <= ZSYNC_ENTER_VALUE_MAX_SUBMIT &&
	    min_complete <= ZSYNC_ENTER_VALUE_MAX_COMPLETE) {
		ret = ioctl(ring->fd, ZSYNC_IOC_ENTER_VALUE,
			    ZSYNC_ENTER_VALUE(to_submit, min_complete, flags));
		return ret < 0 ? -errno : ret;
	}
	memset(&e, 0, sizeof(e));
	e.to_submit = to_submit;
	e.min_complete = min_complete;
	e.flags = flags;
	if (sigmask) {
		e.sigmask = (__u64)(uintptr_t)sigmask;
		e.sigmask_size = ZK_KERNEL_SIGSET_SIZE;
	}
	e.timeout = (__u64)(uintptr_t)ts;

	ret = ioctl(ring->fd, ZSYNC_IOC_ENTER, &e);
	if (ret < 0)
		ret = -errno;
	if (wait_res)
		*wait_res = e.wait_res;
	return ret;
}

/*
 * Publish the SQEs handed out by zk_get_sqe() and return how many the
 * kernel has yet to consume: the local tail minus the kernel's head.  That
 * also counts entries an earlier ENTER published but refused (-EBUSY),
 * so they go in again rather than being stranded.
 */
static unsigned int flush_sq(struct zk_ring *ring)
{
	struct zk_sq *sq = &ring->sq;

	if (sq->sqe_head != sq->sqe_tail) {
		zk_store_release(sq->ktail, sq->sqe_tail);
		sq->sqe_head = sq->sqe_tail;
	}
	return sq->sqe_tail - zk_load_acquire(sq->khead);
}

int zk_submit(struct zk_ring *ring)
{
	unsigned int to_submit = flush_sq(ring);

	if (!to_submit)
		return 0;
	return zk_enter(ring, to_submit, 0, 0, NULL, NULL, NULL);
}

int zk_submit_and_wait(struct zk_ring *ring, unsigned int wait_nr)
{
	unsigned int to_submit = flush_sq(ring);

	if (!wait_nr)
		return to_submit ? zk_enter(ring, to_submit, 0, 0, NULL, NULL,
					    NULL) : 0;
	/* Nothing to hand over and the CQEs are there: no need to enter. */
	if (!to_submit && zk_cq_ready(ring) >= wait_nr)
		return 0;
	return zk_enter(ring, to_submit, wait_nr, ZSYNC_ENTER_GETEVENTS,
			NULL, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Completion                                                          */
/* ------------------------------------------------------------------ */

static struct zsync_cqe *oldest_cqe(struct zk_ring *ring)
{
	unsigned int head = __atomic_load_n(ring->cq.khead, __ATOMIC_RELAXED);

	return &ring->cq.cqes[head & ring->cq.mask];
}

/*
 * CQEs in the kernel's overflow list reach the CQ only on an ENTER; with
 * nothing to submit and min_complete 0 it flushes and returns at once.
 */
static int flush_overflow(struct zk_ring *ring)
{
	return zk_enter(ring, 0, 0, ZSYNC_ENTER_GETEVENTS, NULL, NULL, NULL);
}

int zk_peek_cqe(struct zk_ring *ring, struct zsync_cqe **cqe)
{
	if (!zk_cq_ready(ring) && zk_cq_overflowed(ring))
		flush_overflow(ring);
	if (!zk_cq_ready(ring)) {
		*cqe = NULL;
		return -EAGAIN;
	}
	*cqe = oldest_cqe(ring);
	return 0;
}

/*
 * Wait until @wait_nr CQEs are ready or @ts passes.  One overflow flush
 * is tried before each blocking ENTER, so a set overflow flag with a
 * full-but-short CQ cannot make this spin.
 */
static int wait_cqes(struct zk_ring *ring, struct zsync_cqe **cqe,
		     unsigned int wait_nr, const struct zsync_timespec *ts)
{
	int ret, wait_res;

	*cqe = NULL;
	if (!wait_nr)
		return zk_peek_cqe(ring, cqe);
	/* The kernel clamps to the ring size; more could never be ready. */
	if (wait_nr > ring->cq.entries)
		return -EINVAL;

	for (;;) {
		if (zk_cq_ready(ring) >= wait_nr)
			break;
		if (zk_cq_overflowed(ring)) {
			ret = flush_overflow(ring);
			if (ret < 0 && ret != -EBUSY)
				return ret;
			if (zk_cq_ready(ring) >= wait_nr)
				break;
		}
		wait_res = 0;
		ret = zk_enter(ring, 0, wait_nr, ZSYNC_ENTER_GETEVENTS, NULL,
			       ts, &wait_res);
		if (zk_cq_ready(ring) >= wait_nr)
			break;
		if (ret == -ETIME || wait_res == -ETIME)
			return -ETIME;
		if (ret < 0)
			return ret;
		if (wait_res < 0)
			return wait_res;
	}
	*cqe = oldest_cqe(ring);
	return 0;
}

int zk_wait_cqe_nr(struct zk_ring *ring, struct zsync_cqe **cqe,
		   unsigned int wait_nr)
{
	return wait_cqes(ring, cqe, wait_nr, NULL);
}

int zk_wait_cqe(struct zk_ring *ring, struct zsync_cqe **cqe)
{
	return wait_cqes(ring, cqe, 1, NULL);
}

int zk_wait_cqe_timeout(struct zk_ring *ring, struct zsync_cqe **cqe,
			const struct zsync_timespec *ts)
{
	return wait_cqes(ring, cqe, 1, ts);
}

/* ------------------------------------------------------------------ */
/* Registration and restriction                                        */
/* ------------------------------------------------------------------ */

static int ring_ioctl(struct zk_ring *ring, unsigned long req, const void *arg)
{
	if (ioctl(ring->fd, req, arg) < 0)
		return -errno;
	return 0;
}

int zk_register_eventfd(struct zk_ring *ring, int efd)
{
	__s32 fd = efd;

	return ring_ioctl(ring, ZSYNC_IOC_REGISTER_EVENTFD, &fd);
}

int zk_unregister_eventfd(struct zk_ring *ring)
{
	return ring_ioctl(ring, ZSYNC_IOC_UNREGISTER_EVENTFD, NULL);
}

int zk_restrict(struct zk_ring *ring, const struct zsync_restriction *r)
{
	return ring_ioctl(ring, ZSYNC_IOC_RESTRICT, r);
}

int zk_enable(struct zk_ring *ring)
{
	return ring_ioctl(ring, ZSYNC_IOC_ENABLE, NULL);
}

int zk_probe(const struct zk_ring *ring, struct zsync_probe *p)
{
	memset(p, 0, sizeof(*p));
	if (ioctl(ring->fd, ZSYNC_IOC_PROBE, p) < 0)
		return -errno;
	return 0;
}

const char *zk_op_name(unsigned int op)
{
	static const char *const names[ZSYNC_OP_LAST] = {
		[ZSYNC_OP_NOP] = "NOP", [ZSYNC_OP_TIMEOUT] = "TIMEOUT",
		[ZSYNC_OP_LINK_TIMEOUT] = "LINK_TIMEOUT", [ZSYNC_OP_CANCEL] = "CANCEL",
		[ZSYNC_OP_MSG_RING] = "MSG_RING", [ZSYNC_OP_POLL_ADD] = "POLL_ADD",
		[ZSYNC_OP_POLL_REMOVE] = "POLL_REMOVE", [ZSYNC_OP_READ] = "READ",
		[ZSYNC_OP_WRITE] = "WRITE", [ZSYNC_OP_READV] = "READV",
		[ZSYNC_OP_WRITEV] = "WRITEV", [ZSYNC_OP_FSYNC] = "FSYNC",
		[ZSYNC_OP_OPENAT] = "OPENAT", [ZSYNC_OP_CLOSE] = "CLOSE",
		[ZSYNC_OP_STATX] = "STATX", [ZSYNC_OP_ACCEPT] = "ACCEPT",
		[ZSYNC_OP_CONNECT] = "CONNECT", [ZSYNC_OP_SEND] = "SEND",
		[ZSYNC_OP_RECV] = "RECV", [ZSYNC_OP_SENDMSG] = "SENDMSG",
		[ZSYNC_OP_RECVMSG] = "RECVMSG", [ZSYNC_OP_SHUTDOWN] = "SHUTDOWN",
		[ZSYNC_OP_CGROUP_ATTACH] = "CGROUP_ATTACH",
		[ZSYNC_OP_CGROUP_SET] = "CGROUP_SET",
		[ZSYNC_OP_CGROUP_FREEZE] = "CGROUP_FREEZE",
		[ZSYNC_OP_CGROUP_THAW] = "CGROUP_THAW",
		[ZSYNC_OP_CGROUP_KILL] = "CGROUP_KILL",
		[ZSYNC_OP_CGROUP_WAIT] = "CGROUP_WAIT",
		[ZSYNC_OP_PIDFD_WAIT] = "PIDFD_WAIT", [ZSYNC_OP_NS_SOCKET] = "NS_SOCKET",
		[ZSYNC_OP_NS_INFO] = "NS_INFO", [ZSYNC_OP_SOURCE_WAIT] = "SOURCE_WAIT",
		[ZSYNC_OP_SOURCE_SIGNAL] = "SOURCE_SIGNAL",
	};

	return op < ZSYNC_OP_LAST ? names[op] : NULL;
}

int zk_stats(const struct zk_ring *ring, struct zsync_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ioctl(ring->fd, ZSYNC_IOC_STATS, st) < 0)
		return -errno;
	return 0;
}
