/* SPDX-License-Identifier: MIT */
/*
 * zsync-k.h - libzsync-k, userspace access to /dev/zsync rings.
 *
 * A ring is one open of /dev/zsync plus three shared mappings: the SQ ring
 * (indices and flags), the SQE array and the CQ ring (indices and CQEs).
 * Typical use:
 *
 *	struct zk_ring ring;
 *	struct zsync_sqe *sqe;
 *	struct zsync_cqe *cqe;
 *
 *	if (zk_ring_init(8, &ring, 0) < 0) ...
 *	sqe = zk_get_sqe(&ring);
 *	zk_prep_nop(sqe);
 *	zk_sqe_set_data64(sqe, 42);
 *	zk_submit_and_wait(&ring, 1);
 *	zk_wait_cqe(&ring, &cqe);
 *	... cqe->res, zk_cqe_get_data64(cqe) ...
 *	zk_cqe_seen(&ring, cqe);
 *	zk_ring_exit(&ring);
 *
 * Every function that can fail returns a negative errno.  The library keeps
 * no global state and never allocates on the submission/completion path; a
 * struct zk_ring must not be used by two threads at once without locking.
 *
 * The header needs POSIX declarations (sigset_t): compile with _GNU_SOURCE
 * or _POSIX_C_SOURCE >= 200112L, as -std=c11 alone hides them.
 * Usable from C11 and C++.  Installed (make install), build with
 *	cc app.c $(pkg-config --cflags --libs zsync-k)
 * libzsync-k needs nothing but libc.
 */
#ifndef ZSYNC_K_H
#define ZSYNC_K_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
/*
 * The project's own copy of the uapi header (uapi/linux/zsync.h), under
 * the library's include directory as liburing ships <liburing/io_uring.h>:
 * the system's kernel headers do not have <linux/zsync.h>, and installing
 * one into /usr/include/linux would clash with linux-libc-dev.  In the
 * source tree lib/include/zsync-k/linux/ holds symlinks to uapi/linux/.
 */
#include <zsync-k/linux/zsync.h>

#ifdef __cplusplus
extern "C" {
#endif

struct statx;

/*
 * Memory ordering.  Ring indices are free-running 32-bit counters shared
 * with the kernel, which runs concurrently on other CPUs:
 *  - indices the kernel writes (sq head, cq tail, sq flags) are read with
 *    an acquire load, so everything the kernel wrote before publishing them
 *    (the CQE contents; its reads of SQE slots we are about to reuse) is
 *    ordered before what we do next;
 *  - indices we write (sq tail, cq head) are stored with release, so our
 *    SQE contents are complete before the kernel can see the new tail, and
 *    our reads of CQEs are finished before the kernel may overwrite them.
 * On x86 these compile to plain moves; the point is to stop the compiler
 * (and weaker CPUs) from reordering around them.
 */
#define zk_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define zk_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

/*
 * struct zk_sq and struct zk_cq are declared at file scope (not nested in
 * struct zk_ring) so that C++ sees the same names as C.
 */
struct zk_sq {
	unsigned int *khead, *ktail, *kflags;
	unsigned int mask, entries;
	unsigned int sqe_head;		/* tail value last published */
	unsigned int sqe_tail;		/* next slot zk_get_sqe hands out */
	struct zsync_sqe *sqes;
	void *ring_ptr;
	size_t ring_sz;
	size_t sqes_sz;
};

struct zk_cq {
	unsigned int *khead, *ktail, *koverflow;
	unsigned int mask, entries;
	struct zsync_cqe *cqes;
	void *ring_ptr;
	size_t ring_sz;
};

struct zk_ring {
	int fd;
	unsigned int flags;		/* setup flags (ZSYNC_SETUP_*) */
	unsigned int features;		/* ZSYNC_FEAT_* */
	struct zk_sq sq;
	struct zk_cq cq;
};

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                  */
/* ------------------------------------------------------------------ */

/**
 * zk_ring_init() - open a ring with @entries SQ entries
 * @entries: wanted SQ size (rounded up to a power of two by the kernel)
 * @ring: ring to initialise
 * @flags: ZSYNC_SETUP_* flags
 *
 * Opens $ZSYNC_DEV, or /dev/zsync when unset, sets it up and maps it.
 * Return: 0, or -errno (-ENOENT when the device node is missing).
 */
int zk_ring_init(unsigned int entries, struct zk_ring *ring, unsigned int flags);

/**
 * zk_ring_init_params() - like zk_ring_init() with full control of setup
 * @entries: wanted SQ size, overrides @p->sq_entries
 * @ring: ring to initialise
 * @p: setup parameters in; granted sizes, features and offsets out
 *
 * Return: 0 or -errno.
 */
int zk_ring_init_params(unsigned int entries, struct zk_ring *ring,
			struct zsync_params *p);

/**
 * zk_ring_init_fd() - set up and map a ring on an already open device fd
 * @fd: open file of /dev/zsync (O_RDWR)
 * @ring: ring to initialise
 * @p: setup parameters in/out, @p->sq_entries included
 *
 * On success the ring owns @fd and zk_ring_exit() closes it; on failure
 * the caller still owns it.  Return: 0 or -errno.
 */
int zk_ring_init_fd(int fd, struct zk_ring *ring, struct zsync_params *p);

/**
 * zk_ring_exit() - unmap and close a ring
 * @ring: ring set up by zk_ring_init*()
 *
 * The kernel cancels whatever is still in flight.
 */
void zk_ring_exit(struct zk_ring *ring);

/* ------------------------------------------------------------------ */
/* Submission                                                          */
/* ------------------------------------------------------------------ */

/**
 * zk_sq_space_left() - SQ slots zk_get_sqe() can still hand out
 * @ring: the ring
 *
 * Slots are in use from the kernel's head (what it has consumed) up to
 * the local tail (what zk_get_sqe() has handed out, submitted or not).
 */
static inline unsigned int zk_sq_space_left(const struct zk_ring *ring)
{
	unsigned int head = zk_load_acquire(ring->sq.khead);

	return ring->sq.entries - (ring->sq.sqe_tail - head);
}

/**
 * zk_get_sqe() - take the next free SQE
 * @ring: the ring
 *
 * Return: a zeroed SQE, or NULL when the SQ is full (submit first).
 */
static inline struct zsync_sqe *zk_get_sqe(struct zk_ring *ring)
{
	struct zk_sq *sq = &ring->sq;
	struct zsync_sqe *sqe;

	if (zk_sq_space_left(ring) == 0)
		return NULL;
	sqe = &sq->sqes[sq->sqe_tail & sq->mask];
	sq->sqe_tail++;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

/**
 * zk_sq_pending() - SQEs published or handed out that the kernel has not
 * consumed yet
 * @ring: the ring
 */
static inline unsigned int zk_sq_pending(const struct zk_ring *ring)
{
	return ring->sq.sqe_tail - zk_load_acquire(ring->sq.khead);
}

/**
 * zk_submit() - publish the SQEs taken with zk_get_sqe() and submit them
 * @ring: the ring
 *
 * Also resubmits entries an earlier ENTER left unconsumed (e.g. -EBUSY).
 * Return: number of SQEs the kernel consumed (0 when none were pending),
 * or -errno.
 */
int zk_submit(struct zk_ring *ring);

/**
 * zk_submit_and_wait() - zk_submit(), then wait for @wait_nr CQEs
 * @ring: the ring
 * @wait_nr: CQEs that must be ready before returning (0: do not wait)
 *
 * Return: number of SQEs consumed, or -errno.
 */
int zk_submit_and_wait(struct zk_ring *ring, unsigned int wait_nr);

/**
 * zk_enter() - raw ZSYNC_IOC_ENTER
 * @ring: the ring
 * @to_submit: SQEs to consume (must already be published)
 * @min_complete: CQEs to wait for, with ZSYNC_ENTER_GETEVENTS
 * @flags: ZSYNC_ENTER_*
 * @sigmask: signal mask during the wait, or NULL
 * @ts: relative timeout of the wait, or NULL for none
 * @wait_res: if not NULL, receives the wait's own outcome (0, -ETIME,
 *	      -EINTR, ...) as the kernel reported it
 *
 * Return: number of SQEs consumed, or -errno (the submission's error, or
 * the wait's when nothing was consumed).
 */
int zk_enter(struct zk_ring *ring, unsigned int to_submit,
	     unsigned int min_complete, unsigned int flags,
	     const sigset_t *sigmask, const struct zsync_timespec *ts,
	     int *wait_res);

/* ------------------------------------------------------------------ */
/* Completion                                                          */
/* ------------------------------------------------------------------ */

/**
 * zk_cq_ready() - CQEs ready to be read
 * @ring: the ring
 */
static inline unsigned int zk_cq_ready(const struct zk_ring *ring)
{
	/* Our own head: only we write it, a relaxed load is enough. */
	unsigned int head = __atomic_load_n(ring->cq.khead, __ATOMIC_RELAXED);

	return zk_load_acquire(ring->cq.ktail) - head;
}

/**
 * zk_cq_advance() - hand @nr read CQEs back to the kernel
 * @ring: the ring
 * @nr: number of CQEs consumed
 */
static inline void zk_cq_advance(struct zk_ring *ring, unsigned int nr)
{
	unsigned int head;

	if (!nr)
		return;
	head = __atomic_load_n(ring->cq.khead, __ATOMIC_RELAXED);
	zk_store_release(ring->cq.khead, head + nr);
}

/**
 * zk_cqe_seen() - mark the CQE returned by peek/wait as consumed
 * @ring: the ring
 * @cqe: the CQE (must be the oldest one, as peek/wait return)
 */
static inline void zk_cqe_seen(struct zk_ring *ring, struct zsync_cqe *cqe)
{
	if (cqe)
		zk_cq_advance(ring, 1);
}

/**
 * zk_cq_overflowed() - whether CQEs wait in the kernel's overflow list
 * @ring: the ring
 *
 * Any ENTER flushes them into the CQ as space allows; peek and wait do
 * that for you.
 */
static inline bool zk_cq_overflowed(const struct zk_ring *ring)
{
	return zk_load_acquire(ring->sq.kflags) & ZSYNC_SQ_CQ_OVERFLOW;
}

/**
 * zk_for_each_cqe() - iterate over the ready CQEs without consuming them
 * @ring: the ring
 * @head: unsigned int cursor
 * @cqe: struct zsync_cqe * set to each CQE
 *
 * Follow with zk_cq_advance(ring, count).
 */
#define zk_for_each_cqe(ring, head, cqe)					\
	for ((head) = __atomic_load_n((ring)->cq.khead, __ATOMIC_RELAXED);	\
	     ((cqe) = ((head) != zk_load_acquire((ring)->cq.ktail) ?		\
		       &(ring)->cq.cqes[(head) & (ring)->cq.mask] : NULL));	\
	     (head)++)

/**
 * zk_peek_cqe() - the oldest ready CQE, without blocking
 * @ring: the ring
 * @cqe: receives the CQE; release it with zk_cqe_seen()
 *
 * Flushes the overflow list (one ENTER) when the CQ is empty and CQEs
 * wait there.  Return: 0, or -EAGAIN when no CQE is ready.
 */
int zk_peek_cqe(struct zk_ring *ring, struct zsync_cqe **cqe);

/**
 * zk_wait_cqe() - the oldest CQE, blocking until there is one
 * @ring: the ring
 * @cqe: receives the CQE; release it with zk_cqe_seen()
 *
 * Return: 0 or -errno (-EINTR when a signal interrupted the wait).
 */
int zk_wait_cqe(struct zk_ring *ring, struct zsync_cqe **cqe);

/**
 * zk_wait_cqe_nr() - block until @wait_nr CQEs are ready
 * @ring: the ring
 * @cqe: receives the oldest CQE
 * @wait_nr: CQEs to wait for (0 behaves like zk_peek_cqe(); more than the
 *	CQ ring holds is -EINVAL)
 *
 * Return: 0 or -errno.
 */
int zk_wait_cqe_nr(struct zk_ring *ring, struct zsync_cqe **cqe,
		   unsigned int wait_nr);

/**
 * zk_wait_cqe_timeout() - zk_wait_cqe() with a relative timeout
 * @ring: the ring
 * @cqe: receives the oldest CQE
 * @ts: relative timeout, NULL to wait forever
 *
 * Return: 0, -ETIME when the timeout passed with no CQE, or -errno.
 */
int zk_wait_cqe_timeout(struct zk_ring *ring, struct zsync_cqe **cqe,
			const struct zsync_timespec *ts);

/* ------------------------------------------------------------------ */
/* Registration and restriction                                        */
/* ------------------------------------------------------------------ */

/**
 * zk_register_eventfd() - signal @efd on every CQE posted
 * @ring: the ring
 * @efd: eventfd file descriptor
 *
 * Return: 0 or -errno.
 */
int zk_register_eventfd(struct zk_ring *ring, int efd);

/**
 * zk_unregister_eventfd() - stop signalling the registered eventfd
 * @ring: the ring
 *
 * Return: 0 or -errno.
 */
int zk_unregister_eventfd(struct zk_ring *ring);

/**
 * zk_restrict() - limit the ops/SQE flags a disabled ring will accept
 * @ring: ring set up with ZSYNC_SETUP_R_DISABLED
 * @r: allowed opcodes and SQE flags (build with zk_restriction_allow_op())
 *
 * Return: 0 or -errno.
 */
int zk_restrict(struct zk_ring *ring, const struct zsync_restriction *r);

/**
 * zk_enable() - enable a ring set up with ZSYNC_SETUP_R_DISABLED
 * @ring: the ring
 *
 * Return: 0 or -errno.
 */
int zk_enable(struct zk_ring *ring);

/**
 * zk_probe() - ask the module which opcodes it implements
 * @ring: any ring, set up or not (only its fd is used)
 * @p: receives the answer
 *
 * Return: 0 or -errno (-ENOTTY from a module older than the probe).
 */
int zk_probe(const struct zk_ring *ring, struct zsync_probe *p);

/**
 * zk_op_name() - the name of opcode @op, as the uapi header spells it
 * without its ZSYNC_OP_ prefix ("NOP", "CGROUP_FREEZE", ...)
 * @op: ZSYNC_OP_*
 *
 * Return: a static string; NULL for a number this library does not know.
 */
const char *zk_op_name(unsigned int op);

/**
 * zk_probe_has_op() - whether the probe answer @p lists @op
 * @p: from zk_probe()
 * @op: ZSYNC_OP_*
 */
static inline bool zk_probe_has_op(const struct zsync_probe *p, unsigned int op)
{
	return op < 64 * 4 && (p->ops[op / 64] >> (op % 64)) & 1;
}

/**
 * zk_probe_op_disabled() - whether the probe answer @p says the
 * administrator disabled @op (its SQEs complete with -EOPNOTSUPP)
 * @p: from zk_probe()
 * @op: ZSYNC_OP_*
 */
static inline bool zk_probe_op_disabled(const struct zsync_probe *p, unsigned int op)
{
	return op < 64 * 4 && (p->disabled_ops[op / 64] >> (op % 64)) & 1;
}

/**
 * zk_stats() - module-wide counters: rings open, SQEs, CQEs, ...
 * @ring: any ring, set up or not (only its fd is used; it counts as open)
 * @st: receives the counters
 *
 * Return: 0 or -errno (-ENOTTY from a module without ZSYNC_IOC_STATS).
 */
int zk_stats(const struct zk_ring *ring, struct zsync_stats *st);

/**
 * zk_restriction_allow_op() - add @op to the allowed set of @r
 * @r: restriction (zero it first)
 * @op: ZSYNC_OP_*
 */
static inline void zk_restriction_allow_op(struct zsync_restriction *r,
					   unsigned int op)
{
	if (op < 64 * 4)
		r->allowed_ops[op / 64] |= 1ULL << (op % 64);
}

/* ------------------------------------------------------------------ */
/* Event sources                                                       */
/* ------------------------------------------------------------------ */

/**
 * zk_source_create() - create a user event (ZSYNC_IOC_SOURCE_CREATE)
 * @ring: any ring, set up or not (only its fd is used)
 * @flags: ZSYNC_SOURCE_* (ZSYNC_SOURCE_CLOEXEC)
 *
 * The event lives as long as its file: dup() it or pass it to other
 * processes (SCM_RIGHTS); armed SOURCE_WAITs hold the file too, so closing
 * descriptors never ends them (CANCEL does).
 * Return: the new descriptor, or -errno.
 */
int zk_source_create(const struct zk_ring *ring, unsigned int flags);

/**
 * zk_source_signal() - signal a user event (ZSYNC_IOC_SOURCE_SIGNAL)
 * @source_fd: descriptor from zk_source_create()
 * @value: what every waiter gets (see zk_cqe_source_value())
 *
 * Return: the number of waiters that got a CQE, or -errno (-ENODEV: the
 * source is gone; -EPERM: a driver's source).
 */
int zk_source_signal(int source_fd, __u32 value);

/**
 * zk_cqe_source_value() - the value a SOURCE_WAIT CQE flagged MORE carries
 * @cqe: the CQE
 */
static inline __u32 zk_cqe_source_value(const struct zsync_cqe *cqe)
{
	return ((__u32)cqe->res & 0x7fffffffU) | (cqe->flags & ZSYNC_CQE_F_VALUE_BIT31);
}

/* ------------------------------------------------------------------ */
/* SQE preparation.  Each helper sets every field its opcode reads;    */
/* zk_get_sqe() zeroed the rest.  None touches flags or user_data, so  */
/* zk_sqe_set_*() may come before or after.                            */
/* ------------------------------------------------------------------ */

/**
 * zk_prep_nop() - NOP: completes with res 0
 */
static inline void zk_prep_nop(struct zsync_sqe *sqe)
{
	sqe->opcode = ZSYNC_OP_NOP;
	sqe->fd = 0;
	sqe->len = 0;
	sqe->op_flags = 0;
}

/**
 * zk_prep_nop_result() - NOP that completes with res @res
 */
static inline void zk_prep_nop_result(struct zsync_sqe *sqe, int res)
{
	sqe->opcode = ZSYNC_OP_NOP;
	sqe->fd = 0;
	sqe->len = (__u32)res;
	sqe->op_flags = ZSYNC_NOP_INJECT_RESULT;
}

/**
 * zk_prep_timeout() - TIMEOUT: -ETIME when @ts passes, 0 once @count other
 * CQEs have been posted (0: time only)
 * @sqe: the SQE
 * @ts: timeout; copied at submission, so it may live on the stack until
 *	zk_submit() returns
 * @count: completion count
 * @flags: ZSYNC_TIMEOUT_*
 */
static inline void zk_prep_timeout(struct zsync_sqe *sqe,
				   const struct zsync_timespec *ts,
				   unsigned int count, unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_TIMEOUT;
	sqe->fd = 0;
	sqe->addr = (__u64)(uintptr_t)ts;
	sqe->off = count;
	sqe->len = 0;
	sqe->op_flags = flags;
}

/**
 * zk_prep_link_timeout() - LINK_TIMEOUT for the preceding SQE, which must
 * carry ZSYNC_SQE_LINK
 * @sqe: the SQE
 * @ts: timeout, copied at submission
 * @flags: ZSYNC_TIMEOUT_*
 */
static inline void zk_prep_link_timeout(struct zsync_sqe *sqe,
					const struct zsync_timespec *ts,
					unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_LINK_TIMEOUT;
	sqe->fd = 0;
	sqe->addr = (__u64)(uintptr_t)ts;
	sqe->off = 0;
	sqe->len = 0;
	sqe->op_flags = flags;
}

/**
 * zk_prep_cancel() - CANCEL the request(s) whose user_data is @user_data
 * @sqe: the SQE
 * @user_data: user_data to match
 * @flags: ZSYNC_CANCEL_* (ALL, ANY)
 */
static inline void zk_prep_cancel(struct zsync_sqe *sqe, __u64 user_data,
				  unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_CANCEL;
	sqe->fd = 0;
	sqe->addr = user_data;
	sqe->len = 0;
	sqe->op_flags = flags;
}

/**
 * zk_prep_cancel_fd() - CANCEL the request(s) acting on @fd
 * @sqe: the SQE
 * @fd: file descriptor to match
 * @flags: ZSYNC_CANCEL_* (ZSYNC_CANCEL_FD is added)
 */
static inline void zk_prep_cancel_fd(struct zsync_sqe *sqe, int fd,
				     unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_CANCEL;
	sqe->fd = fd;
	sqe->addr = 0;
	sqe->len = 0;
	sqe->op_flags = flags | ZSYNC_CANCEL_FD;
}

/**
 * zk_prep_msg_ring() - MSG_RING: post a CQE (@user_data, @res) into the
 * ring whose fd is @ring_fd
 * @sqe: the SQE
 * @ring_fd: target ring
 * @user_data: user_data of the CQE posted in the target
 * @res: res of that CQE
 */
static inline void zk_prep_msg_ring(struct zsync_sqe *sqe, int ring_fd,
				    __u64 user_data, int res)
{
	sqe->opcode = ZSYNC_OP_MSG_RING;
	sqe->fd = ring_fd;
	sqe->off = user_data;
	sqe->len = (__u32)res;
}

/**
 * zk_prep_poll_add() - POLL_ADD: complete when @fd reports one of @events
 * @sqe: the SQE
 * @fd: file to poll
 * @events: EPOLLIN, EPOLLOUT, ... (res is the ready subset)
 * @flags: ZSYNC_POLL_* (ZSYNC_POLL_MULTISHOT)
 */
static inline void zk_prep_poll_add(struct zsync_sqe *sqe, int fd,
				    unsigned int events, unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_POLL_ADD;
	sqe->fd = fd;
	sqe->len = events;
	sqe->op_flags = flags;
}

/**
 * zk_prep_poll_remove() - POLL_REMOVE the POLL_ADD whose user_data is @user_data
 */
static inline void zk_prep_poll_remove(struct zsync_sqe *sqe, __u64 user_data)
{
	sqe->opcode = ZSYNC_OP_POLL_REMOVE;
	sqe->fd = 0;
	sqe->addr = user_data;
}

/* READ, WRITE, READV, WRITEV share their layout. */
static inline void zk_prep_rw(struct zsync_sqe *sqe, int op, int fd,
			      const void *addr, unsigned int len, __u64 off)
{
	sqe->opcode = (__u8)op;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)addr;
	sqe->len = len;
	sqe->off = off;
}

/**
 * zk_prep_read() - READ @nbytes at @off (ZSYNC_OFF_CURRENT: file position)
 * @sqe: the SQE
 * @fd: file
 * @buf: buffer, which must stay valid until the CQE
 * @nbytes: its size
 * @off: file offset or ZSYNC_OFF_CURRENT
 */
static inline void zk_prep_read(struct zsync_sqe *sqe, int fd, void *buf,
				unsigned int nbytes, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_READ, fd, buf, nbytes, off);
}

/**
 * zk_prep_write() - WRITE @nbytes of @buf at @off; see zk_prep_read()
 */
static inline void zk_prep_write(struct zsync_sqe *sqe, int fd, const void *buf,
				 unsigned int nbytes, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_WRITE, fd, buf, nbytes, off);
}

/**
 * zk_prep_readv() - READV into @nr_vecs buffers at @off
 */
static inline void zk_prep_readv(struct zsync_sqe *sqe, int fd,
				 const struct iovec *iovecs,
				 unsigned int nr_vecs, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_READV, fd, iovecs, nr_vecs, off);
}

/**
 * zk_prep_writev() - WRITEV from @nr_vecs buffers at @off
 */
static inline void zk_prep_writev(struct zsync_sqe *sqe, int fd,
				  const struct iovec *iovecs,
				  unsigned int nr_vecs, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_WRITEV, fd, iovecs, nr_vecs, off);
}

/**
 * zk_rw_set_flags() - RWF_* flags (preadv2(2)) of a READ/WRITE/READV/WRITEV
 */
static inline void zk_rw_set_flags(struct zsync_sqe *sqe, unsigned int rwf)
{
	sqe->op_flags = rwf;
}

/**
 * zk_prep_fsync() - FSYNC @fd (@flags: ZSYNC_FSYNC_DATASYNC)
 */
static inline void zk_prep_fsync(struct zsync_sqe *sqe, int fd, unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_FSYNC;
	sqe->fd = fd;
	sqe->op_flags = flags;
}

/**
 * zk_prep_openat() - OPENAT @path relative to @dfd
 * @sqe: the SQE
 * @dfd: AT_FDCWD, or a directory the path resolves beneath
 * @path: path, read at submission
 * @flags: O_* flags
 * @mode: mode for O_CREAT/O_TMPFILE
 */
static inline void zk_prep_openat(struct zsync_sqe *sqe, int dfd, const char *path,
				  int flags, unsigned int mode)
{
	sqe->opcode = ZSYNC_OP_OPENAT;
	sqe->fd = dfd;
	sqe->addr = (__u64)(uintptr_t)path;
	sqe->op_flags = (__u32)flags;
	sqe->len = mode;
}

/**
 * zk_prep_close() - CLOSE @fd
 */
static inline void zk_prep_close(struct zsync_sqe *sqe, int fd)
{
	sqe->opcode = ZSYNC_OP_CLOSE;
	sqe->fd = fd;
}

/**
 * zk_prep_statx() - STATX @path relative to @dfd into @statxbuf
 * @sqe: the SQE
 * @dfd: directory fd or AT_FDCWD
 * @path: path, read at submission
 * @flags: AT_* flags
 * @mask: STATX_* fields wanted
 * @statxbuf: struct statx filled in before the CQE is posted
 */
static inline void zk_prep_statx(struct zsync_sqe *sqe, int dfd, const char *path,
				 int flags, unsigned int mask, struct statx *statxbuf)
{
	sqe->opcode = ZSYNC_OP_STATX;
	sqe->fd = dfd;
	sqe->addr = (__u64)(uintptr_t)path;
	sqe->op_flags = (__u32)flags;
	sqe->len = mask;
	sqe->addr2 = (__u64)(uintptr_t)statxbuf;
}

/**
 * zk_prep_accept() - ACCEPT a connection on @fd
 * @sqe: the SQE
 * @fd: listening socket
 * @addr: peer address to fill, or NULL
 * @addrlen: in/out size of @addr, or NULL
 * @sock_flags: SOCK_NONBLOCK | SOCK_CLOEXEC for the new socket
 * @flags: ZSYNC_ACCEPT_* (ZSYNC_ACCEPT_MULTISHOT needs @addr NULL)
 *
 * ACCEPT, CONNECT and SHUTDOWN cannot call the LSM hooks of their syscalls:
 * the module refuses them (-EOPNOTSUPP, disabled in zk_probe()) unless the
 * administrator set lsm_bypass_net.  Call accept4(2), connect(2),
 * shutdown(2) instead then; zk_accept() and zk_connect() do.
 */
static inline void zk_prep_accept(struct zsync_sqe *sqe, int fd,
				  struct sockaddr *addr, socklen_t *addrlen,
				  int sock_flags, unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_ACCEPT;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)addr;
	sqe->addr2 = (__u64)(uintptr_t)addrlen;
	sqe->len = (__u32)sock_flags;
	sqe->op_flags = flags;
}

/**
 * zk_prep_connect() - CONNECT @fd to @addr (copied at submission); refused
 * by default, see zk_prep_accept()
 */
static inline void zk_prep_connect(struct zsync_sqe *sqe, int fd,
				   const struct sockaddr *addr, socklen_t addrlen)
{
	sqe->opcode = ZSYNC_OP_CONNECT;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)addr;
	sqe->len = addrlen;
}

/* SEND and RECV share their layout. */
static inline void zk_prep_sock_io(struct zsync_sqe *sqe, int op, int fd,
				   const void *buf, size_t len, int msg_flags)
{
	sqe->opcode = (__u8)op;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)buf;
	sqe->len = (__u32)len;
	sqe->op_flags = (__u32)msg_flags;
}

/**
 * zk_prep_send() - SEND @len bytes of @buf on @fd with MSG_* @msg_flags
 */
static inline void zk_prep_send(struct zsync_sqe *sqe, int fd, const void *buf,
				size_t len, int msg_flags)
{
	zk_prep_sock_io(sqe, ZSYNC_OP_SEND, fd, buf, len, msg_flags);
}

/**
 * zk_prep_recv() - RECV up to @len bytes into @buf from @fd
 */
static inline void zk_prep_recv(struct zsync_sqe *sqe, int fd, void *buf,
				size_t len, int msg_flags)
{
	zk_prep_sock_io(sqe, ZSYNC_OP_RECV, fd, buf, len, msg_flags);
}

/**
 * zk_prep_sendmsg() - SENDMSG @msg on @fd
 */
static inline void zk_prep_sendmsg(struct zsync_sqe *sqe, int fd,
				   const struct msghdr *msg, int msg_flags)
{
	sqe->opcode = ZSYNC_OP_SENDMSG;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)msg;
	sqe->op_flags = (__u32)msg_flags;
}

/**
 * zk_prep_recvmsg() - RECVMSG into @msg from @fd
 */
static inline void zk_prep_recvmsg(struct zsync_sqe *sqe, int fd,
				   struct msghdr *msg, int msg_flags)
{
	sqe->opcode = ZSYNC_OP_RECVMSG;
	sqe->fd = fd;
	sqe->addr = (__u64)(uintptr_t)msg;
	sqe->op_flags = (__u32)msg_flags;
}

/**
 * zk_prep_shutdown() - SHUTDOWN @fd (@how: SHUT_RD, SHUT_WR, SHUT_RDWR);
 * refused by default, see zk_prep_accept()
 */
static inline void zk_prep_shutdown(struct zsync_sqe *sqe, int fd, int how)
{
	sqe->opcode = ZSYNC_OP_SHUTDOWN;
	sqe->fd = fd;
	sqe->len = (__u32)how;
}

/**
 * zk_prep_cgroup_attach() - CGROUP_ATTACH: move process @pid into the cgroup
 * @sqe: the SQE
 * @cgroup_fd: a directory of a cgroup2 mount
 * @pid: a pid in the submitter's pid namespace; 0 is the submitter's process
 */
static inline void zk_prep_cgroup_attach(struct zsync_sqe *sqe, int cgroup_fd, pid_t pid)
{
	sqe->opcode = ZSYNC_OP_CGROUP_ATTACH;
	sqe->fd = cgroup_fd;
	sqe->len = (__u32)pid;
	sqe->op_flags = 0;
}

/**
 * zk_prep_cgroup_attach_pidfd() - CGROUP_ATTACH the process behind @pidfd;
 * -ESRCH if it has exited, whoever has its number now
 * @sqe: the SQE
 * @cgroup_fd: a directory of a cgroup2 mount
 * @pidfd: from pidfd_open(2) or clone3(CLONE_PIDFD)
 */
static inline void zk_prep_cgroup_attach_pidfd(struct zsync_sqe *sqe, int cgroup_fd,
					       int pidfd)
{
	sqe->opcode = ZSYNC_OP_CGROUP_ATTACH;
	sqe->fd = cgroup_fd;
	sqe->len = (__u32)pidfd;
	sqe->op_flags = ZSYNC_CGROUP_ATTACH_PIDFD;
}

/**
 * zk_prep_cgroup_set() - CGROUP_SET: write @value to the knob @knob
 * @sqe: the SQE
 * @cgroup_fd: a directory of a cgroup2 mount
 * @knob: a file name in it, such as "memory.max"; copied at submission
 * @value: what to write, such as "64M"; copied at submission
 * @len: its length, 1..4096 (res is @len on success)
 */
static inline void zk_prep_cgroup_set(struct zsync_sqe *sqe, int cgroup_fd,
				      const char *knob, const void *value,
				      unsigned int len)
{
	sqe->opcode = ZSYNC_OP_CGROUP_SET;
	sqe->fd = cgroup_fd;
	sqe->addr = (__u64)(uintptr_t)knob;
	sqe->addr2 = (__u64)(uintptr_t)value;
	sqe->len = len;
}

/**
 * zk_prep_cgroup_set_str() - zk_prep_cgroup_set() of a NUL-terminated @value
 */
static inline void zk_prep_cgroup_set_str(struct zsync_sqe *sqe, int cgroup_fd,
					  const char *knob, const char *value)
{
	zk_prep_cgroup_set(sqe, cgroup_fd, knob, value, (unsigned int)strlen(value));
}

/* CGROUP_FREEZE, CGROUP_THAW and CGROUP_KILL share their layout. */
static inline void zk_prep_cgroup_op(struct zsync_sqe *sqe, int op, int cgroup_fd)
{
	sqe->opcode = (__u8)op;
	sqe->fd = cgroup_fd;
}

/**
 * zk_prep_cgroup_freeze() - CGROUP_FREEZE: res 0 once the cgroup is frozen
 */
static inline void zk_prep_cgroup_freeze(struct zsync_sqe *sqe, int cgroup_fd)
{
	zk_prep_cgroup_op(sqe, ZSYNC_OP_CGROUP_FREEZE, cgroup_fd);
}

/**
 * zk_prep_cgroup_thaw() - CGROUP_THAW: res 0 once the cgroup is no longer frozen
 */
static inline void zk_prep_cgroup_thaw(struct zsync_sqe *sqe, int cgroup_fd)
{
	zk_prep_cgroup_op(sqe, ZSYNC_OP_CGROUP_THAW, cgroup_fd);
}

/**
 * zk_prep_cgroup_kill() - CGROUP_KILL: SIGKILL everything, res 0 once empty
 */
static inline void zk_prep_cgroup_kill(struct zsync_sqe *sqe, int cgroup_fd)
{
	zk_prep_cgroup_op(sqe, ZSYNC_OP_CGROUP_KILL, cgroup_fd);
}

/**
 * zk_prep_cgroup_wait() - CGROUP_WAIT: multishot, res the ZSYNC_CGROUP_*
 * state: once at arming, then on every change of a bit in @mask
 * @sqe: the SQE
 * @cgroup_fd: a directory of a cgroup2 mount
 * @mask: ZSYNC_CGROUP_POPULATED and/or ZSYNC_CGROUP_FROZEN
 */
static inline void zk_prep_cgroup_wait(struct zsync_sqe *sqe, int cgroup_fd,
				       unsigned int mask)
{
	sqe->opcode = ZSYNC_OP_CGROUP_WAIT;
	sqe->fd = cgroup_fd;
	sqe->len = mask;
}

/**
 * zk_prep_pidfd_wait() - PIDFD_WAIT: res the waitpid(2) status once the
 * process behind @pidfd has exited (it is not reaped)
 */
static inline void zk_prep_pidfd_wait(struct zsync_sqe *sqe, int pidfd)
{
	sqe->opcode = ZSYNC_OP_PIDFD_WAIT;
	sqe->fd = pidfd;
}

/**
 * zk_prep_ns_socket() - NS_SOCKET: socket(2) in the network namespace
 * behind @netns_fd; res is the new fd
 * @sqe: the SQE
 * @netns_fd: an open /proc/PID/ns/net (or a bind mount of one)
 * @domain: AF_INET, AF_UNIX, ...
 * @type: SOCK_STREAM, ... with SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol: as for socket(2)
 */
static inline void zk_prep_ns_socket(struct zsync_sqe *sqe, int netns_fd, int domain,
				     int type, int protocol)
{
	sqe->opcode = ZSYNC_OP_NS_SOCKET;
	sqe->fd = netns_fd;
	sqe->len = (__u32)domain;
	sqe->op_flags = (__u32)type;
	sqe->off = (__u64)(unsigned int)protocol;
}

/**
 * zk_prep_ns_info() - NS_INFO: type, inode and owner of the namespace
 * behind @ns_fd, written to @info before the CQE (res 0)
 */
static inline void zk_prep_ns_info(struct zsync_sqe *sqe, int ns_fd,
				   struct zsync_ns_info *info)
{
	sqe->opcode = ZSYNC_OP_NS_INFO;
	sqe->fd = ns_fd;
	sqe->addr = (__u64)(uintptr_t)info;
}

/**
 * zk_prep_source_wait() - SOURCE_WAIT: a CQE flagged ZSYNC_CQE_F_MORE for
 * every signal of the source @source_fd, until the wait ends (one CQE
 * without MORE: -ECANCELED, -ENODEV, -EOVERFLOW, ...)
 * @sqe: the SQE
 * @source_fd: a user event or a driver's source
 */
static inline void zk_prep_source_wait(struct zsync_sqe *sqe, int source_fd)
{
	sqe->opcode = ZSYNC_OP_SOURCE_WAIT;
	sqe->fd = source_fd;
}

/**
 * zk_prep_source_signal() - SOURCE_SIGNAL: signal the user event
 * @source_fd with @value; res is the number of waiters reached
 * @sqe: the SQE
 * @source_fd: a user event
 * @value: the value
 */
static inline void zk_prep_source_signal(struct zsync_sqe *sqe, int source_fd,
					 __u32 value)
{
	sqe->opcode = ZSYNC_OP_SOURCE_SIGNAL;
	sqe->fd = source_fd;
	sqe->len = value;
}

/**
 * zk_sqe_set_data64() - user_data echoed back in the CQE
 */
static inline void zk_sqe_set_data64(struct zsync_sqe *sqe, __u64 data)
{
	sqe->user_data = data;
}

/**
 * zk_sqe_set_data() - pointer echoed back in the CQE
 */
static inline void zk_sqe_set_data(struct zsync_sqe *sqe, void *data)
{
	sqe->user_data = (__u64)(uintptr_t)data;
}

/**
 * zk_sqe_set_flags() - set ZSYNC_SQE_* flags (replaces the old ones)
 */
static inline void zk_sqe_set_flags(struct zsync_sqe *sqe, unsigned int flags)
{
	sqe->flags = (__u8)flags;
}

/**
 * zk_cqe_get_data64() - user_data of the request
 */
static inline __u64 zk_cqe_get_data64(const struct zsync_cqe *cqe)
{
	return cqe->user_data;
}

/**
 * zk_cqe_get_data() - user_data of the request, as a pointer
 */
static inline void *zk_cqe_get_data(const struct zsync_cqe *cqe)
{
	return (void *)(uintptr_t)cqe->user_data;
}

#ifdef __cplusplus
}
#endif

#endif /* ZSYNC_K_H */
