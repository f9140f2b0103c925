/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * zsync-k: kernel-space async rings.  This header is the whole user/kernel
 * ABI of /dev/zsync: structures, opcodes, flags and ioctls.
 *
 * Rules: fixed-size structures built from __u8/__u16/__u32/__u64 only, with
 * explicit padding; every reserved field must be zero (the kernel checks and
 * answers -EINVAL); new fields only ever take the place of reserved ones.
 */
#ifndef _UAPI_LINUX_ZSYNC_H
#define _UAPI_LINUX_ZSYNC_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define ZSYNC_ABI_VERSION	1

/*
 * Submission queue entry, 64 bytes.  Which fields an opcode reads is listed
 * in Documentation/ops.rst; fields an opcode does not read must be zero.
 */
struct zsync_sqe {
	__u8	opcode;		/* ZSYNC_OP_* */
	__u8	flags;		/* ZSYNC_SQE_* */
	__u16	resv0;		/* must be zero */
	__s32	fd;		/* file descriptor the op acts on */
	__u64	off;		/* file offset; TIMEOUT: completion count */
	__u64	addr;		/* user pointer; CANCEL: user_data to match */
	__u32	len;		/* length; NOP: injected result */
	__u32	op_flags;	/* per-opcode flags (ZSYNC_TIMEOUT_*, ...) */
	__u64	user_data;	/* echoed back in the CQE */
	__u64	addr2;		/* second user pointer (later ops) */
	__u64	resv[2];	/* must be zero */
};

/* sqe->flags */
#define ZSYNC_SQE_LINK		(1U << 0)	/* next SQE runs after this one succeeds */
#define ZSYNC_SQE_FLAGS_ALL	(ZSYNC_SQE_LINK)

/* Completion queue entry, 16 bytes. */
struct zsync_cqe {
	__u64	user_data;	/* sqe->user_data of the request */
	__s32	res;		/* result: >= 0 on success, -errno on failure */
	__u32	flags;		/* ZSYNC_CQE_F_* */
};

/* cqe->flags */
#define ZSYNC_CQE_F_MORE	(1U << 0)	/* multishot: more CQEs follow */

/*
 * Opcodes.  Numbers are ABI and never reused.  An opcode the running module
 * does not implement completes with -EINVAL (and RESTRICT refuses to allow
 * it); ZSYNC_OP_LAST is one past the highest number assigned.
 */
enum zsync_op {
	/* core */
	ZSYNC_OP_NOP		= 0,
	ZSYNC_OP_TIMEOUT	= 1,
	ZSYNC_OP_LINK_TIMEOUT	= 2,
	ZSYNC_OP_CANCEL		= 3,
	ZSYNC_OP_MSG_RING	= 4,
	/* poll */
	ZSYNC_OP_POLL_ADD	= 5,
	ZSYNC_OP_POLL_REMOVE	= 6,
	/* file */
	ZSYNC_OP_READ		= 7,
	ZSYNC_OP_WRITE		= 8,
	ZSYNC_OP_READV		= 9,
	ZSYNC_OP_WRITEV		= 10,
	ZSYNC_OP_FSYNC		= 11,
	ZSYNC_OP_OPENAT		= 12,
	ZSYNC_OP_CLOSE		= 13,
	ZSYNC_OP_STATX		= 14,
	/* net */
	ZSYNC_OP_ACCEPT		= 15,
	ZSYNC_OP_CONNECT	= 16,
	ZSYNC_OP_SEND		= 17,
	ZSYNC_OP_RECV		= 18,
	ZSYNC_OP_SENDMSG	= 19,
	ZSYNC_OP_RECVMSG	= 20,
	ZSYNC_OP_SHUTDOWN	= 21,
	/* cgroup */
	ZSYNC_OP_CGROUP_ATTACH	= 22,
	ZSYNC_OP_CGROUP_SET	= 23,
	ZSYNC_OP_CGROUP_FREEZE	= 24,
	ZSYNC_OP_CGROUP_THAW	= 25,
	ZSYNC_OP_CGROUP_KILL	= 26,
	ZSYNC_OP_CGROUP_WAIT	= 27,
	/* ns/process */
	ZSYNC_OP_PIDFD_WAIT	= 28,
	ZSYNC_OP_NS_SOCKET	= 29,
	ZSYNC_OP_NS_INFO	= 30,
	/* event sources */
	ZSYNC_OP_SOURCE_WAIT	= 31,
	ZSYNC_OP_SOURCE_SIGNAL	= 32,

	ZSYNC_OP_LAST		/* not an opcode: one past the highest */
};

/* NOP op_flags */
#define ZSYNC_NOP_INJECT_RESULT	(1U << 0)	/* res = (__s32)sqe->len */

/*
 * TIMEOUT / LINK_TIMEOUT: sqe->addr points to a struct zsync_timespec that is
 * copied at submission.  TIMEOUT may also complete early, with res 0, once
 * sqe->off other completions have been posted after it was armed.
 */
struct zsync_timespec {
	__s64	tv_sec;
	__s64	tv_nsec;
};

#define ZSYNC_TIMEOUT_ABS		(1U << 0)	/* absolute time on its clock */
#define ZSYNC_TIMEOUT_BOOTTIME		(1U << 1)	/* CLOCK_BOOTTIME */
#define ZSYNC_TIMEOUT_REALTIME		(1U << 2)	/* CLOCK_REALTIME */
#define ZSYNC_TIMEOUT_ETIME_SUCCESS	(1U << 3)	/* expiry does not break a link */
#define ZSYNC_TIMEOUT_FLAGS_ALL		(ZSYNC_TIMEOUT_ABS | ZSYNC_TIMEOUT_BOOTTIME | \
					 ZSYNC_TIMEOUT_REALTIME | \
					 ZSYNC_TIMEOUT_ETIME_SUCCESS)

/*
 * CANCEL: by default the first in-flight request whose user_data equals
 * sqe->addr.  res is the number of requests cancelled, -ENOENT if none
 * matched, -EALREADY if the only match was already completing.
 */
#define ZSYNC_CANCEL_ALL	(1U << 0)	/* every match, not just the first */
#define ZSYNC_CANCEL_FD		(1U << 1)	/* match sqe->fd instead of user_data */
#define ZSYNC_CANCEL_ANY	(1U << 2)	/* match any request (with ALL: all) */
#define ZSYNC_CANCEL_FLAGS_ALL	(ZSYNC_CANCEL_ALL | ZSYNC_CANCEL_FD | ZSYNC_CANCEL_ANY)

/*
 * MSG_RING: post a CQE into another ring, e.g. to wake the thread that
 * waits on it.  fd: the target ring; off: user_data of the CQE posted
 * there; len: its res (a __s32).  res: 0, -EBADFD if fd is not a set-up
 * zsync ring, -EOVERFLOW if the target's overflow backlog is full.
 */

/*
 * POLL_ADD: fd: the file; len: the events wanted (EPOLLIN, EPOLLOUT, ...);
 * op_flags: ZSYNC_POLL_*.  res: the ready events.  A multishot poll posts a
 * CQE flagged ZSYNC_CQE_F_MORE on every wakeup that reports a wanted event,
 * until it is cancelled or an error (such as -EOVERFLOW) ends it.
 * POLL_REMOVE: addr: user_data of the POLL_ADD.  res: 0, -ENOENT, -EALREADY.
 */
#define ZSYNC_POLL_MULTISHOT	(1U << 0)
#define ZSYNC_POLL_FLAGS_ALL	(ZSYNC_POLL_MULTISHOT)

/*
 * READ, WRITE: fd; addr: buffer; len: its size; off: file offset, or
 * ZSYNC_OFF_CURRENT to use and advance the file position as read(2)
 * does; op_flags: RWF_* flags of preadv2(2).  res: bytes transferred.
 * READV, WRITEV: the same with addr: a struct iovec array, len: its count.
 * FSYNC: fd; op_flags: ZSYNC_FSYNC_*; off, len: the range (len 0: to the end).
 */
#define ZSYNC_OFF_CURRENT	((__u64)-1)
#define ZSYNC_FSYNC_DATASYNC	(1U << 0)	/* fdatasync(2) */
#define ZSYNC_FSYNC_FLAGS_ALL	(ZSYNC_FSYNC_DATASYNC)

/*
 * OPENAT: fd: AT_FDCWD, or a directory fd beneath which the whole path
 * resolves (see Documentation/ops.rst); addr: the path; len: mode;
 * op_flags: O_* flags.  res: the new fd, in the submitter's fd table.
 * CLOSE: fd.  STATX: fd: dirfd; addr: path; len: STATX_* mask; op_flags:
 * AT_* flags; addr2: struct statx to fill.
 */

/*
 * ACCEPT: fd: listening socket; addr: struct sockaddr to fill, or 0;
 * addr2: socklen_t in/out, or 0; len: SOCK_NONBLOCK | SOCK_CLOEXEC;
 * op_flags: ZSYNC_ACCEPT_*.  res: the new fd.  Multishot posts one CQE
 * flagged ZSYNC_CQE_F_MORE per accepted connection (addr must be 0).
 * CONNECT: fd; addr: struct sockaddr (copied at submission); len: its size.
 * SEND, RECV: fd; addr: buffer; len: its size; op_flags: MSG_* flags.
 * SENDMSG, RECVMSG: fd; addr: struct msghdr; op_flags: MSG_* flags.
 * SHUTDOWN: fd; len: SHUT_RD, SHUT_WR or SHUT_RDWR.
 */
#define ZSYNC_ACCEPT_MULTISHOT	(1U << 0)
#define ZSYNC_ACCEPT_FLAGS_ALL	(ZSYNC_ACCEPT_MULTISHOT)

/*
 * cgroup v2 ops (Documentation/cgroup-ns.rst).  fd is always a directory of
 * a cgroup2 mount; the knob files are opened relative to it by the
 * submitting thread, with its credentials and cgroup namespace, so every
 * check the kernel makes on write(2) applies.
 * CGROUP_ATTACH: len: a pid in the submitter's pid namespace (0: the
 * submitter's own process), or with ZSYNC_CGROUP_ATTACH_PIDFD a pidfd.
 * res: 0.
 * CGROUP_SET: addr: the knob's name (a NUL-terminated single path
 * component, such as "memory.max"); addr2: the value; len: its size
 * (1..4096).  Both are copied at submission.  res: len.
 * CGROUP_FREEZE, CGROUP_THAW: res 0 once cgroup.events reports frozen 1
 * (FREEZE) or frozen 0 (THAW).
 * CGROUP_KILL: writes cgroup.kill; res 0 once cgroup.events reports
 * populated 0.
 * CGROUP_WAIT: len: ZSYNC_CGROUP_* bits to watch.  Multishot: the first
 * CQE reports the state at arming, then one CQE (ZSYNC_CQE_F_MORE) per
 * change of a watched bit; res is the ZSYNC_CGROUP_* state.
 * FREEZE, THAW, KILL and WAIT take op_flags ZSYNC_CGROUP_FILES: fd is then
 * the cgroup's cgroup.events, open for reading, instead of its directory,
 * and for FREEZE, THAW and KILL len is an fd of the same cgroup's
 * cgroup.freeze (FREEZE, THAW) or cgroup.kill (KILL), open for writing.
 * Nothing is opened: the op writes and reads those files as write(2) and
 * read(2) on them would, with the credentials and cgroup namespace of
 * whoever opened them.  For a manager that keeps them open anyway.
 */
#define ZSYNC_CGROUP_ATTACH_PIDFD	(1U << 0)	/* len is a pidfd */
#define ZSYNC_CGROUP_ATTACH_FLAGS_ALL	(ZSYNC_CGROUP_ATTACH_PIDFD)

#define ZSYNC_CGROUP_FILES	(1U << 0)	/* fd: cgroup.events; len: the knob's fd */
#define ZSYNC_CGROUP_FILES_FLAGS_ALL	(ZSYNC_CGROUP_FILES)

#define ZSYNC_CGROUP_POPULATED	(1U << 0)	/* "populated 1" in cgroup.events */
#define ZSYNC_CGROUP_FROZEN	(1U << 1)	/* "frozen 1" in cgroup.events */
#define ZSYNC_CGROUP_STATE_ALL	(ZSYNC_CGROUP_POPULATED | ZSYNC_CGROUP_FROZEN)

/*
 * PIDFD_WAIT: fd: a pidfd.  res: the process's wait status, as waitpid(2)
 * encodes it (WIFEXITED(), WTERMSIG(), ...), once it has exited.  The
 * process is not reaped.
 * NS_SOCKET: fd: a network namespace fd (/proc/PID/ns/net); len: domain;
 * off: protocol; op_flags: type, with SOCK_NONBLOCK and SOCK_CLOEXEC, as
 * socket(2) takes them.  res: the new socket's fd, in the submitter's fd
 * table.
 * NS_INFO: fd: a namespace fd; addr: a struct zsync_ns_info to fill.  res: 0.
 */
struct zsync_ns_info {
	__u32	type;		/* CLONE_NEWNET, CLONE_NEWUSER, ... */
	__u32	resv0;		/* written as zero */
	__u64	ino;		/* inode number, as stat(2) and lsns(8) show it */
	__u64	owner_ino;	/* owning user namespace, 0: none or not visible */
	__u32	dev_major;	/* device of the nsfs mount, as stat(2) shows it */
	__u32	dev_minor;
	__u64	resv[4];	/* written as zero */
};

/*
 * SOURCE_WAIT: fd: an event source (a user event from ZSYNC_IOC_SOURCE_CREATE,
 * or a source a driver handed out).  Always multishot: every signal of the
 * source posts a CQE flagged ZSYNC_CQE_F_MORE whose res holds bits 0-30 of
 * the signalled value and whose ZSYNC_CQE_F_VALUE_BIT31 flag holds bit 31,
 * so res is never negative.  Like every op, the wait holds the file fd
 * names: closing the descriptor does not end it (CANCEL by fd does).  The
 * wait ends with one CQE without MORE: res -ECANCELED (CANCEL, ring
 * closed), -ENODEV (its driver destroyed the source), -EOVERFLOW (a signal
 * found the CQ ring full and the request's overflow backlog used up: that
 * signal was not delivered; arm again after reaping), -ENOSPC (the source
 * has max_source_waiters waiters already; the only CQE).
 *
 * SOURCE_SIGNAL: fd: a user event; len: the value (a __u32).  res: the
 * number of waiters that got a CQE, -EPERM if fd is a driver's source
 * (only the driver signals those).
 */
#define ZSYNC_CQE_F_VALUE_BIT31	(1U << 31)	/* SOURCE_WAIT: bit 31 of the value */

/* ZSYNC_IOC_SOURCE_CREATE: a new user event; the ioctl returns its fd. */
struct zsync_source_create {
	__u32	flags;		/* ZSYNC_SOURCE_* */
	__u32	resv[7];	/* must be zero */
};

#define ZSYNC_SOURCE_CLOEXEC	(1U << 0)	/* the new fd gets FD_CLOEXEC */
#define ZSYNC_SOURCE_FLAGS_ALL	(ZSYNC_SOURCE_CLOEXEC)

/* ZSYNC_IOC_SOURCE_SIGNAL, on a user event's fd: signal it with value. */
struct zsync_source_signal {
	__u32	value;
	__u32	resv[3];	/* must be zero */
};

/* Offsets of the fields of the SQ ring mapping, filled in by SETUP. */
struct zsync_sq_offsets {
	__u32	head;		/* kernel-owned consumer index */
	__u32	tail;		/* user-owned producer index */
	__u32	ring_mask;
	__u32	ring_entries;
	__u32	flags;		/* ZSYNC_SQ_* */
	__u32	resv[3];
};

/* Offsets of the fields of the CQ ring mapping, filled in by SETUP. */
struct zsync_cq_offsets {
	__u32	head;		/* user-owned consumer index */
	__u32	tail;		/* kernel-owned producer index */
	__u32	ring_mask;
	__u32	ring_entries;
	__u32	overflow;	/* CQEs that ever waited in the overflow list */
	__u32	cqes;		/* the struct zsync_cqe array */
	__u32	resv[2];
};

/* SQ ring flags, written by the kernel. */
#define ZSYNC_SQ_CQ_OVERFLOW	(1U << 0)	/* CQEs wait in the overflow list */

/* mmap offsets of the three regions. */
#define ZSYNC_OFF_SQ_RING	0ULL
#define ZSYNC_OFF_CQ_RING	0x8000000ULL
#define ZSYNC_OFF_SQES		0x10000000ULL

/* zsync_params.flags */
#define ZSYNC_SETUP_CQSIZE	(1U << 0)	/* cq_entries is given */
#define ZSYNC_SETUP_CLAMP	(1U << 1)	/* clamp sizes instead of -EINVAL */
#define ZSYNC_SETUP_R_DISABLED	(1U << 2)	/* start disabled: RESTRICT, then ENABLE */
/*
 * Signal the registered eventfd at least once per batch of CQEs posted
 * together (one ENTER's inline completions, one overflow flush) instead of
 * once per CQE: fewer wakeups for an event loop that reaps everything.
 */
#define ZSYNC_SETUP_EVENTFD_BATCH (1U << 3)
/*
 * Run a retry that is pinned to its submitting thread (a socket, pipe or
 * tty op woken after it waited) as soon as that thread returns to user
 * space, as io_uring does by default: the thread is notified like a signal
 * without a handler (task_work with TWA_SIGNAL), so a thread blocked in
 * another syscall or busy in user space gets its CQE without entering the
 * ring.  An interruptible wait of that other syscall ends early: restartable
 * syscalls restart, others may fail with EINTR as they do for a signal.
 * Without the flag such retries wait for the thread's next ENTER.
 */
#define ZSYNC_SETUP_TASK_SIGNAL	(1U << 4)
#define ZSYNC_SETUP_FLAGS_ALL	(ZSYNC_SETUP_CQSIZE | ZSYNC_SETUP_CLAMP | \
				 ZSYNC_SETUP_R_DISABLED | ZSYNC_SETUP_EVENTFD_BATCH | \
				 ZSYNC_SETUP_TASK_SIGNAL)

/* zsync_params.features */
#define ZSYNC_FEAT_NODROP	(1U << 0)	/* CQEs are never dropped */
#define ZSYNC_FEAT_LINKS	(1U << 1)	/* ZSYNC_SQE_LINK chains */
#define ZSYNC_FEAT_RESTRICT	(1U << 2)	/* ZSYNC_IOC_RESTRICT */
#define ZSYNC_FEAT_EVENTFD	(1U << 3)	/* ZSYNC_IOC_REGISTER_EVENTFD */
#define ZSYNC_FEAT_ENTER_VALUE	(1U << 4)	/* ZSYNC_IOC_ENTER_VALUE */
#define ZSYNC_FEAT_EVENTFD_BATCH (1U << 5)	/* ZSYNC_SETUP_EVENTFD_BATCH */
#define ZSYNC_FEAT_TASK_SIGNAL	(1U << 6)	/* ZSYNC_SETUP_TASK_SIGNAL */

struct zsync_params {
	__u32	sq_entries;	/* in: wanted; out: granted (power of two) */
	__u32	cq_entries;	/* in with ZSYNC_SETUP_CQSIZE; out: granted */
	__u32	flags;		/* in: ZSYNC_SETUP_* */
	__u32	features;	/* out: ZSYNC_FEAT_* */
	__u32	overflow_limit;	/* in: 0 for the default; out: granted */
	__u32	resv[3];	/* must be zero */
	struct zsync_sq_offsets sq_off;	/* out */
	struct zsync_cq_offsets cq_off;	/* out */
};

/* zsync_enter.flags */
#define ZSYNC_ENTER_GETEVENTS	(1U << 0)	/* wait for min_complete CQEs */
#define ZSYNC_ENTER_FLAGS_ALL	(ZSYNC_ENTER_GETEVENTS)

/*
 * ZSYNC_IOC_ENTER: consume up to to_submit SQEs, then, with
 * ZSYNC_ENTER_GETEVENTS, wait until min_complete CQEs are ready.  The ioctl
 * returns the number of SQEs consumed when that is not zero, otherwise the
 * error of the submission or of the wait.  Once the ioctl got as far as
 * the wait (or past submission without GETEVENTS), wait_res holds the
 * wait's own outcome (0, -ETIME, -EINTR, ...); it is not written when the
 * ioctl fails before that.
 */
struct zsync_enter {
	__u32	to_submit;
	__u32	min_complete;
	__u32	flags;		/* ZSYNC_ENTER_* */
	__u32	sigmask_size;	/* sizeof the kernel sigset (8) when sigmask is set */
	__u64	sigmask;	/* user pointer to a sigset, or 0 */
	__u64	timeout;	/* user pointer to a relative struct zsync_timespec, or 0 */
	__s32	wait_res;	/* out */
	__u32	resv[3];	/* must be zero */
};

/*
 * ZSYNC_IOC_ENTER_VALUE: ZSYNC_IOC_ENTER without the struct, for the hot
 * path: the ioctl argument itself is the request, so nothing is copied in
 * or out.  No timeout, no sigmask.  The ioctl returns the number of SQEs
 * consumed when that is not zero, else the error of the submission or the
 * wait's outcome (0, -EINTR, ...).  Bits of the argument:
 *   0-15   to_submit (at most 65535; the SQ ring is at most 32768)
 *   16-30  min_complete (at most 32767; larger waits use ZSYNC_IOC_ENTER)
 *   31     ZSYNC_ENTER_GETEVENTS
 *   32-63  must be zero (so that 32-bit callers and 64-bit ones agree)
 */
#define ZSYNC_ENTER_VALUE(to_submit, min_complete, flags)		\
	((unsigned long)(((to_submit) & 0xffffU) |			\
			 (((min_complete) & 0x7fffU) << 16) |		\
			 (((flags) & ZSYNC_ENTER_GETEVENTS) ? 1U << 31 : 0)))
#define ZSYNC_ENTER_VALUE_MAX_SUBMIT	0xffffU
#define ZSYNC_ENTER_VALUE_MAX_COMPLETE	0x7fffU

/*
 * ZSYNC_IOC_RESTRICT: on a ring set up with ZSYNC_SETUP_R_DISABLED, limit
 * the opcodes and SQE flags it accepts.  Once only, before ZSYNC_IOC_ENABLE.
 * A refused SQE completes with -EACCES.
 */
struct zsync_restriction {
	__u64	allowed_ops[4];		/* bitmap of ZSYNC_OP_* */
	__u8	allowed_sqe_flags;	/* mask of ZSYNC_SQE_* */
	__u8	resv0[7];		/* must be zero */
	__u64	resv[3];		/* must be zero */
};

/*
 * ZSYNC_IOC_PROBE: which opcodes this module implements, on any open of
 * /dev/zsync (set up or not).  Bit N of ops is opcode N.  An implemented
 * op may be disabled by the administrator (module parameter
 * disable_families): its SQEs then complete with -EOPNOTSUPP, and its bit
 * is also set in disabled_ops.  RESTRICT accepts every implemented op.
 */
struct zsync_probe {
	__u64	ops[4];		/* out: bitmap of implemented ZSYNC_OP_* */
	__u64	disabled_ops[4];	/* out: implemented but disabled right now */
	__u32	last_op;	/* out: the module's ZSYNC_OP_LAST */
	__u32	abi_version;	/* out: ZSYNC_ABI_VERSION */
	__u32	features;	/* out: ZSYNC_FEAT_* a ring set up now would get */
	__u32	resv[5];	/* in: must be zero */
};

/*
 * ZSYNC_IOC_STATS: module-wide counters, on any open of /dev/zsync (the
 * caller's own open counts as a ring).  Counters only grow, except
 * rings_open.
 */
struct zsync_stats {
	__u64	rings_open;	/* out: opens of /dev/zsync that exist now */
	__u64	rings_total;	/* out: opens since the module was loaded */
	__u64	sqes;		/* out: SQEs consumed */
	__u64	cqes;		/* out: CQEs written into CQ rings */
	__u64	cqes_overflowed;	/* out: CQEs that waited in an overflow list */
	__u64	ops_disabled;	/* out: SQEs refused because their family is disabled */
	__u64	resv[10];	/* in: must be zero */
};

/*
 * ZSYNC_IOC_RINGS: what every ring set up in the caller's PID namespace
 * (and its descendants) is doing now, for zsyncctl status.  Needs
 * CAP_SYS_ADMIN.  Writes up to nr entries of info_size bytes (which must
 * be sizeof(struct zsync_ring_info)) at buf, oldest ring first, starting
 * after the ring whose id is after_id (0: from the first); sets nr to the
 * number written and total to the number of such rings.  A caller with
 * more rings than room calls again with after_id = the last id it got.
 * The counts are a snapshot of each ring, not of all rings at one time.
 */
#define ZSYNC_RING_INFO_OPS	64	/* zsync_ring_info.waiting[] slots */

struct zsync_ring_info {
	__u64	id;		/* out: unique since the module was loaded */
	__s32	owner_pid;	/* out: the process that set it up, as the caller sees it */
	__u32	sq_entries;	/* out */
	__u32	cq_entries;	/* out */
	__u32	sq_pending;	/* out: SQEs published by userspace, not consumed yet */
	__u32	cq_ready;	/* out: CQEs in the CQ ring, not consumed yet */
	__u32	inflight;	/* out: requests without their terminal CQE */
	__u32	overflow;	/* out: CQEs waiting in the overflow list */
	__u32	overflow_total;	/* out: CQEs that ever had to wait there */
	__u32	task_work;	/* out: retries waiting for the submitting thread */
	__u32	oldest_op;	/* out: opcode of the longest-waiting request, or ZSYNC_OP_LAST */
	__u64	oldest_user_data;	/* out: its user_data */
	__u64	oldest_age_ms;	/* out: how long it has been waiting */
	char	owner_comm[16];	/* out: the owner's command name at setup */
	__u32	waiting[ZSYNC_RING_INFO_OPS];	/* out: waiting (armed) requests by opcode */
	__u64	resv[4];	/* out: zero */
};

struct zsync_rings {
	__u64	buf;		/* in: user pointer to nr struct zsync_ring_info */
	__u32	nr;		/* in: room at buf; out: entries written */
	__u32	total;		/* out: rings there are */
	__u64	after_id;	/* in: start after this ring id; out: the last id written */
	__u32	info_size;	/* in: sizeof(struct zsync_ring_info) */
	__u32	resv[3];	/* in: must be zero */
};

#define ZSYNC_IOC_MAGIC		0xA7
#define ZSYNC_IOC_SETUP		_IOWR(ZSYNC_IOC_MAGIC, 0x00, struct zsync_params)
#define ZSYNC_IOC_ENTER		_IOWR(ZSYNC_IOC_MAGIC, 0x01, struct zsync_enter)
#define ZSYNC_IOC_REGISTER_EVENTFD	_IOW(ZSYNC_IOC_MAGIC, 0x02, __s32)
#define ZSYNC_IOC_UNREGISTER_EVENTFD	_IO(ZSYNC_IOC_MAGIC, 0x03)
#define ZSYNC_IOC_RESTRICT	_IOW(ZSYNC_IOC_MAGIC, 0x04, struct zsync_restriction)
#define ZSYNC_IOC_ENABLE	_IO(ZSYNC_IOC_MAGIC, 0x05)
/*
 * Event sources.  SOURCE_CREATE works on any open of /dev/zsync and returns
 * the new fd; SOURCE_SIGNAL works on that fd and returns the number of
 * waiters reached.  0x08-0x0f: reserved for more ZSYNC_IOC_SOURCE_*.
 */
#define ZSYNC_IOC_SOURCE_CREATE	_IOW(ZSYNC_IOC_MAGIC, 0x06, struct zsync_source_create)
#define ZSYNC_IOC_SOURCE_SIGNAL	_IOW(ZSYNC_IOC_MAGIC, 0x07, struct zsync_source_signal)
#define ZSYNC_IOC_PROBE		_IOWR(ZSYNC_IOC_MAGIC, 0x10, struct zsync_probe)
#define ZSYNC_IOC_STATS		_IOWR(ZSYNC_IOC_MAGIC, 0x11, struct zsync_stats)
#define ZSYNC_IOC_ENTER_VALUE	_IO(ZSYNC_IOC_MAGIC, 0x12)
#define ZSYNC_IOC_RINGS		_IOWR(ZSYNC_IOC_MAGIC, 0x13, struct zsync_rings)

#endif /* _UAPI_LINUX_ZSYNC_H */
