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
 * @ring: caller-owned struct zk_ring to initialise; its fd is -1 after a
 *	failure, so zk_ring_exit() on it is harmless
 * @flags: ZSYNC_SETUP_* flags (ZSYNC_SETUP_R_DISABLED, ...)
 *
 * Opens $ZSYNC_DEV, or /dev/zsync when unset, sets it up and maps it.
 *
 * Return: 0, or -errno (-ENOENT when the device node is missing).
 */
int zk_ring_init(unsigned int entries, struct zk_ring *ring, unsigned int flags);

/**
 * zk_ring_init_params() - like zk_ring_init() with full control of setup
 * @entries: wanted SQ size, overrides @p->sq_entries
 * @ring: caller-owned struct zk_ring to initialise
 * @p: setup parameters in (flags, cq_entries with ZSYNC_SETUP_CQSIZE,
 *	overflow_limit; reserved fields zero); granted sizes, features and
 *	offsets out
 *
 * Return: 0 or -errno.
 */
int zk_ring_init_params(unsigned int entries, struct zk_ring *ring,
			struct zsync_params *p);

/**
 * zk_ring_init_fd() - set up and map a ring on an already open device fd
 * @fd: open file of /dev/zsync (O_RDWR), not set up yet
 * @ring: caller-owned struct zk_ring to initialise
 * @p: setup parameters in/out, @p->sq_entries included
 *
 * On success the ring owns @fd and zk_ring_exit() closes it; on failure
 * the caller still owns it.
 *
 * Return: 0 or -errno (-EPROTO when the ring layout the module reports
 * is not one this library can use: library and module do not match).
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
 *
 * Return: the number of free slots, 0 when the SQ is full.
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
 * The SQE lives in the shared SQE array: fill it (zk_prep_*(),
 * zk_sqe_set_*()) before the next zk_submit(), which hands it to the
 * kernel.
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
 *
 * Return: the number of such SQEs (those zk_submit() would hand over).
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
 *
 * Return: the number of CQEs between the CQ head and the kernel's tail
 * (those waiting in the overflow list not included).
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
 * @nr: number of CQEs consumed, oldest first; at most zk_cq_ready()
 *
 * Their slots may be overwritten by the kernel as soon as this returns.
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
 * @cqe: the CQE (must be the oldest one, as peek/wait return); NULL does
 *	nothing
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
 *
 * Return: true while the kernel's ZSYNC_SQ_CQ_OVERFLOW flag is set.
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
 * @cqe: receives the CQE (NULL when none is ready); it points into the
 *	CQ ring: release it with zk_cqe_seen() once read
 *
 * Flushes the overflow list (one ENTER) when the CQ is empty and CQEs
 * wait there.
 *
 * Return: 0, or -EAGAIN when no CQE is ready.
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
 * @cqe: receives the oldest CQE (NULL on failure); release it with
 *	zk_cqe_seen()
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
 * @cqe: receives the oldest CQE (NULL on failure); release it with
 *	zk_cqe_seen()
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
 * @efd: eventfd file descriptor (eventfd(2)); the ring takes its own
 *	reference, so @efd may be closed afterwards
 *
 * Return: 0 or -errno (-EBUSY when an eventfd is already registered).
 */
int zk_register_eventfd(struct zk_ring *ring, int efd);

/**
 * zk_unregister_eventfd() - stop signalling the registered eventfd
 * @ring: the ring
 *
 * Return: 0 or -errno (-ENXIO when none is registered).
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
 *
 * Return: true if the module implements @op (it may still be disabled:
 * see zk_probe_op_disabled()); false for numbers past the bitmap.
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
 *
 * Return: true if @op is implemented but disabled right now.
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
 * @cqe: a CQE of a SOURCE_WAIT with ZSYNC_CQE_F_MORE set (the final CQE,
 *	without MORE, carries an error in res instead)
 *
 * Return: the 32-bit value the source was signalled with: bits 0-30
 * from res, bit 31 from the ZSYNC_CQE_F_VALUE_BIT31 flag.
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
 * @sqe: the SQE, from zk_get_sqe()
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
 * @sqe: the SQE, from zk_get_sqe()
 * @res: the result its CQE carries: any value, a negative errno included
 *	(which breaks a chain, as a failing op would)
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
 * @sqe: the SQE, from zk_get_sqe()
 * @ts: timeout, relative unless ZSYNC_TIMEOUT_ABS; copied at submission,
 *	so it may live on the stack until zk_submit() returns
 * @count: completion count: CQEs other than TIMEOUT and LINK_TIMEOUT ones
 *	posted after arming, at most 2^31 - 1; 0 for time only
 * @flags: ZSYNC_TIMEOUT_* (ABS, BOOTTIME or REALTIME, ETIME_SUCCESS)
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
 * @sqe: the SQE, from zk_get_sqe() right after the target's
 * @ts: timeout, relative to when the target is armed unless
 *	ZSYNC_TIMEOUT_ABS; copied at submission
 * @flags: ZSYNC_TIMEOUT_ABS, ZSYNC_TIMEOUT_BOOTTIME, ZSYNC_TIMEOUT_REALTIME
 *	(ZSYNC_TIMEOUT_ETIME_SUCCESS is -EINVAL)
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
 * @sqe: the SQE, from zk_get_sqe()
 * @user_data: user_data to match (0 with ZSYNC_CANCEL_ANY)
 * @flags: ZSYNC_CANCEL_* (ALL, ANY)
 *
 * The CQE's res is the number of requests cancelled, -ENOENT when none
 * matched, -EALREADY when the match was completing already.
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file descriptor number the requests were submitted with (it may
 *	have been closed since)
 * @flags: ZSYNC_CANCEL_ALL or 0 (ZSYNC_CANCEL_FD is added)
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
 * @sqe: the SQE, from zk_get_sqe()
 * @ring_fd: target ring: a set-up zsync ring fd, this ring's own included
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file to poll (not a zsync ring)
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
 * @sqe: the SQE, from zk_get_sqe()
 * @user_data: user_data of the POLL_ADD to remove (the one armed first
 *	when several share it)
 *
 * The CQE's res is 0 (the poll's own -ECANCELED CQE comes first),
 * -ENOENT or -EALREADY.
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file open for reading
 * @buf: buffer, which must stay valid until the CQE
 * @nbytes: its size in bytes (one READ moves at most 0x7ffff000)
 * @off: file offset, or ZSYNC_OFF_CURRENT to read at, and advance, the
 *	file position (the only choice on pipes and sockets)
 *
 * The CQE's res is the number of bytes read, 0 at the end of the file.
 */
static inline void zk_prep_read(struct zsync_sqe *sqe, int fd, void *buf,
				unsigned int nbytes, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_READ, fd, buf, nbytes, off);
}

/**
 * zk_prep_write() - WRITE @nbytes of @buf at @off; see zk_prep_read()
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file open for writing
 * @buf: the data, which must stay valid until the CQE
 * @nbytes: how many bytes to write (one WRITE moves at most 0x7ffff000)
 * @off: file offset, or ZSYNC_OFF_CURRENT to write at, and advance, the
 *	file position
 *
 * The CQE's res is the number of bytes written.
 */
static inline void zk_prep_write(struct zsync_sqe *sqe, int fd, const void *buf,
				 unsigned int nbytes, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_WRITE, fd, buf, nbytes, off);
}

/**
 * zk_prep_readv() - READV into @nr_vecs buffers at @off
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file open for reading
 * @iovecs: array of @nr_vecs buffers, filled in order; the array is
 *	copied at submission, the buffers must stay valid until the CQE
 * @nr_vecs: number of entries of @iovecs, at most 1024 (UIO_MAXIOV)
 * @off: file offset, or ZSYNC_OFF_CURRENT for the file position
 */
static inline void zk_prep_readv(struct zsync_sqe *sqe, int fd,
				 const struct iovec *iovecs,
				 unsigned int nr_vecs, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_READV, fd, iovecs, nr_vecs, off);
}

/**
 * zk_prep_writev() - WRITEV from @nr_vecs buffers at @off
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file open for writing
 * @iovecs: array of @nr_vecs buffers, written in order; the array is
 *	copied at submission, the buffers must stay valid until the CQE
 * @nr_vecs: number of entries of @iovecs, at most 1024 (UIO_MAXIOV)
 * @off: file offset, or ZSYNC_OFF_CURRENT for the file position
 */
static inline void zk_prep_writev(struct zsync_sqe *sqe, int fd,
				  const struct iovec *iovecs,
				  unsigned int nr_vecs, __u64 off)
{
	zk_prep_rw(sqe, ZSYNC_OP_WRITEV, fd, iovecs, nr_vecs, off);
}

/**
 * zk_rw_set_flags() - RWF_* flags (preadv2(2)) of a READ/WRITE/READV/WRITEV
 * @sqe: an SQE prepared by zk_prep_read(), zk_prep_write(),
 *	zk_prep_readv() or zk_prep_writev(), before or after that call
 * @rwf: RWF_DSYNC, RWF_SYNC, RWF_APPEND, RWF_NOWAIT, ... (RWF_HIPRI is
 *	-EINVAL); replaces the SQE's op_flags
 */
static inline void zk_rw_set_flags(struct zsync_sqe *sqe, unsigned int rwf)
{
	sqe->op_flags = rwf;
}

/**
 * zk_prep_fsync() - FSYNC @fd (@flags: ZSYNC_FSYNC_DATASYNC)
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: file to flush to its storage
 * @flags: 0 for fsync(2), ZSYNC_FSYNC_DATASYNC for fdatasync(2)
 *
 * Syncs the whole file: the range fields, sqe->off and sqe->len, stay 0
 * as zk_get_sqe() left them (set them for a byte range, len 0 meaning to
 * the end).
 */
static inline void zk_prep_fsync(struct zsync_sqe *sqe, int fd, unsigned int flags)
{
	sqe->opcode = ZSYNC_OP_FSYNC;
	sqe->fd = fd;
	sqe->op_flags = flags;
}

/**
 * zk_prep_openat() - OPENAT @path relative to @dfd
 * @sqe: the SQE, from zk_get_sqe()
 * @dfd: AT_FDCWD, or a directory the path resolves beneath
 * @path: NUL-terminated path, copied at submission
 * @flags: O_* flags of openat(2); unknown ones are -EINVAL
 * @mode: mode for O_CREAT/O_TMPFILE (the umask applies), else 0
 *
 * The CQE's res is the new descriptor, in the submitting thread's fd
 * table.
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: a descriptor of the submitting process; not a zsync ring (-EBADF:
 *	close those with close(2))
 *
 * Ops in flight on the file keep their own reference and go on.
 */
static inline void zk_prep_close(struct zsync_sqe *sqe, int fd)
{
	sqe->opcode = ZSYNC_OP_CLOSE;
	sqe->fd = fd;
}

/**
 * zk_prep_statx() - STATX @path relative to @dfd into @statxbuf
 * @sqe: the SQE, from zk_get_sqe()
 * @dfd: directory fd (the path resolves beneath it) or AT_FDCWD
 * @path: NUL-terminated path, copied at submission
 * @flags: AT_* flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, ...)
 * @mask: STATX_* fields wanted
 * @statxbuf: struct statx filled in before the CQE is posted; it must
 *	stay valid until then
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: listening socket
 * @addr: peer address to fill, or NULL; it must stay valid until the CQE
 * @addrlen: in/out size of @addr (NULL exactly when @addr is); read at
 *	submission, written with the full length when a connection arrives
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: socket to connect
 * @addr: address to connect to; copied at submission, so it may go away
 *	once zk_submit() returns
 * @addrlen: size of @addr, at most sizeof(struct sockaddr_storage)
 *
 * The CQE's res is 0 once connected, or how the attempt failed
 * (-ECONNREFUSED, -ETIMEDOUT, ...).
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: socket
 * @buf: the data, which must stay valid until the CQE
 * @len: its size in bytes; the SQE holds 32 bits and one SEND moves at
 *	most 0x7ffff000
 * @msg_flags: MSG_DONTWAIT, MSG_WAITALL, MSG_MORE, ... (MSG_NOSIGNAL is
 *	always implied: a broken connection is res -EPIPE, never SIGPIPE)
 *
 * The CQE's res is the number of bytes sent.
 */
static inline void zk_prep_send(struct zsync_sqe *sqe, int fd, const void *buf,
				size_t len, int msg_flags)
{
	zk_prep_sock_io(sqe, ZSYNC_OP_SEND, fd, buf, len, msg_flags);
}

/**
 * zk_prep_recv() - RECV up to @len bytes into @buf from @fd
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: socket
 * @buf: buffer, which must stay valid until the CQE
 * @len: its size in bytes; the SQE holds 32 bits
 * @msg_flags: MSG_DONTWAIT, MSG_WAITALL, MSG_PEEK, MSG_TRUNC, MSG_OOB or 0
 *
 * The CQE's res is the number of bytes received, 0 at the end of the
 * stream.
 */
static inline void zk_prep_recv(struct zsync_sqe *sqe, int fd, void *buf,
				size_t len, int msg_flags)
{
	zk_prep_sock_io(sqe, ZSYNC_OP_RECV, fd, buf, len, msg_flags);
}

/**
 * zk_prep_sendmsg() - SENDMSG @msg on @fd
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: socket
 * @msg: the message; the struct msghdr, its iovec array, the destination
 *	address and the control data are copied at submission, the data
 *	buffers must stay valid until the CQE
 * @msg_flags: MSG_* flags, as for zk_prep_send()
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: socket
 * @msg: where to receive; written back at completion as recvmsg(2) does,
 *	so the struct msghdr, its address, control and data buffers must
 *	stay valid until the CQE (its iovec array is copied at submission)
 * @msg_flags: MSG_* flags of zk_prep_recv(), plus MSG_CMSG_CLOEXEC and
 *	MSG_ERRQUEUE
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
 * @sqe: the SQE, from zk_get_sqe()
 * @fd: connected socket
 * @how: SHUT_RD, SHUT_WR or SHUT_RDWR, as for shutdown(2)
 */
static inline void zk_prep_shutdown(struct zsync_sqe *sqe, int fd, int how)
{
	sqe->opcode = ZSYNC_OP_SHUTDOWN;
	sqe->fd = fd;
	sqe->len = (__u32)how;
}

/**
 * zk_prep_cgroup_attach() - CGROUP_ATTACH: move process @pid into the cgroup
 * @sqe: the SQE, from zk_get_sqe()
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
 * @sqe: the SQE, from zk_get_sqe()
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
 * @sqe: the SQE, from zk_get_sqe()
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
 * @sqe: the SQE, from zk_get_sqe()
 * @cgroup_fd: a directory of a cgroup2 mount
 * @knob: a file name in it, such as "memory.max"; copied at submission
 * @value: what to write, such as "64M": 1 to 4096 characters, its NUL
 *	not written; copied at submission
 *
 * The CQE's res is strlen(@value) on success.
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
 * @sqe: the SQE, from zk_get_sqe()
 * @cgroup_fd: a directory of a cgroup2 mount, the cgroup to freeze (not
 *	the root)
 */
static inline void zk_prep_cgroup_freeze(struct zsync_sqe *sqe, int cgroup_fd)
{
	zk_prep_cgroup_op(sqe, ZSYNC_OP_CGROUP_FREEZE, cgroup_fd);
}

/**
 * zk_prep_cgroup_thaw() - CGROUP_THAW: res 0 once the cgroup is no longer frozen
 * @sqe: the SQE, from zk_get_sqe()
 * @cgroup_fd: a directory of a cgroup2 mount, the cgroup to thaw; while
 *	its parent is frozen the THAW waits
 */
static inline void zk_prep_cgroup_thaw(struct zsync_sqe *sqe, int cgroup_fd)
{
	zk_prep_cgroup_op(sqe, ZSYNC_OP_CGROUP_THAW, cgroup_fd);
}

/**
 * zk_prep_cgroup_kill() - CGROUP_KILL: SIGKILL everything, res 0 once empty
 * @sqe: the SQE, from zk_get_sqe()
 * @cgroup_fd: a directory of a cgroup2 mount, the cgroup whose processes
 *	(and its descendants') are killed
 */
static inline void zk_prep_cgroup_kill(struct zsync_sqe *sqe, int cgroup_fd)
{
	zk_prep_cgroup_op(sqe, ZSYNC_OP_CGROUP_KILL, cgroup_fd);
}

/**
 * zk_prep_cgroup_op_files() - CGROUP_FREEZE, CGROUP_THAW or CGROUP_KILL on
 * files the caller keeps open (ZSYNC_CGROUP_FILES): no open per op
 * @sqe: the SQE, from zk_get_sqe()
 * @op: ZSYNC_OP_CGROUP_FREEZE, ZSYNC_OP_CGROUP_THAW or ZSYNC_OP_CGROUP_KILL
 * @events_fd: the cgroup's cgroup.events, open for reading
 * @knob_fd: the same cgroup's cgroup.freeze (FREEZE, THAW) or cgroup.kill
 *	(KILL), open for writing
 *
 * As write(2) on @knob_fd, then a wait on @events_fd; the files' opener's
 * credentials and cgroup namespace apply.  Another file, or files of two
 * cgroups, end it with -EINVAL; a file not open for its use with -EBADF.
 */
static inline void zk_prep_cgroup_op_files(struct zsync_sqe *sqe, int op, int events_fd,
					   int knob_fd)
{
	sqe->opcode = (__u8)op;
	sqe->fd = events_fd;
	sqe->len = (__u32)knob_fd;
	sqe->op_flags = ZSYNC_CGROUP_FILES;
}

/**
 * zk_prep_cgroup_wait() - CGROUP_WAIT: multishot, res the ZSYNC_CGROUP_*
 * state: once at arming, then on every change of a bit in @mask
 * @sqe: the SQE, from zk_get_sqe()
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
 * zk_prep_cgroup_wait_files() - CGROUP_WAIT on a cgroup.events the caller
 * keeps open (ZSYNC_CGROUP_FILES), as zk_prep_cgroup_wait()
 * @sqe: the SQE, from zk_get_sqe()
 * @events_fd: the cgroup's cgroup.events, open for reading; the op reads
 *	it, which resets its poll state as a read(2) would
 * @mask: ZSYNC_CGROUP_POPULATED and/or ZSYNC_CGROUP_FROZEN
 */
static inline void zk_prep_cgroup_wait_files(struct zsync_sqe *sqe, int events_fd,
					     unsigned int mask)
{
	zk_prep_cgroup_wait(sqe, events_fd, mask);
	sqe->op_flags = ZSYNC_CGROUP_FILES;
}

/**
 * zk_prep_pidfd_wait() - PIDFD_WAIT: res the waitpid(2) status once the
 * process behind @pidfd has exited (it is not reaped)
 * @sqe: the SQE, from zk_get_sqe()
 * @pidfd: the process, from pidfd_open(2) or clone3(CLONE_PIDFD); the
 *	caller need not be its parent
 */
static inline void zk_prep_pidfd_wait(struct zsync_sqe *sqe, int pidfd)
{
	sqe->opcode = ZSYNC_OP_PIDFD_WAIT;
	sqe->fd = pidfd;
}

/**
 * zk_prep_ns_socket() - NS_SOCKET: socket(2) in the network namespace
 * behind @netns_fd; res is the new fd
 * @sqe: the SQE, from zk_get_sqe()
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
 * @sqe: the SQE, from zk_get_sqe()
 * @ns_fd: an open namespace file, such as /proc/PID/ns/net or
 *	/proc/PID/ns/user, or a bind mount of one
 * @info: filled in when the op runs; it must stay valid until the CQE
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
 * @sqe: the SQE, from zk_get_sqe()
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
 * @sqe: the SQE, from zk_get_sqe()
 * @source_fd: a user event, from zk_source_create() (a driver's source
 *	is -EPERM)
 * @value: what every waiter's CQE carries (see zk_cqe_source_value())
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
 * @sqe: the SQE, before or after its zk_prep_*()
 * @data: any value; it comes back in cqe->user_data (zk_cqe_get_data64())
 *	and is what CANCEL and POLL_REMOVE match
 */
static inline void zk_sqe_set_data64(struct zsync_sqe *sqe, __u64 data)
{
	sqe->user_data = data;
}

/**
 * zk_sqe_set_data() - pointer echoed back in the CQE
 * @sqe: the SQE, before or after its zk_prep_*()
 * @data: any pointer, stored as user_data and never dereferenced; read
 *	it back with zk_cqe_get_data()
 */
static inline void zk_sqe_set_data(struct zsync_sqe *sqe, void *data)
{
	sqe->user_data = (__u64)(uintptr_t)data;
}

/**
 * zk_sqe_set_flags() - set ZSYNC_SQE_* flags (replaces the old ones)
 * @sqe: the SQE, before or after its zk_prep_*()
 * @flags: ZSYNC_SQE_LINK (the next SQE runs only after this one
 *	succeeded) or 0
 */
static inline void zk_sqe_set_flags(struct zsync_sqe *sqe, unsigned int flags)
{
	sqe->flags = (__u8)flags;
}

/**
 * zk_cqe_get_data64() - user_data of the request
 * @cqe: a CQE from zk_peek_cqe() or zk_wait_cqe*()
 *
 * Return: what zk_sqe_set_data64() (or zk_sqe_set_data()) stored.
 */
static inline __u64 zk_cqe_get_data64(const struct zsync_cqe *cqe)
{
	return cqe->user_data;
}

/**
 * zk_cqe_get_data() - user_data of the request, as a pointer
 * @cqe: a CQE from zk_peek_cqe() or zk_wait_cqe*()
 *
 * Return: the pointer zk_sqe_set_data() stored.
 */
static inline void *zk_cqe_get_data(const struct zsync_cqe *cqe)
{
	return (void *)(uintptr_t)cqe->user_data;
}

#ifdef __cplusplus
}
#endif

#endif /* ZSYNC_K_H */
