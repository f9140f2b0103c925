/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync-k internal definitions shared by the ring core and the op families.
 */
#ifndef _ZSYNC_INTERNAL_H
#define _ZSYNC_INTERNAL_H

#include <linux/types.h>
#include <linux/sched.h>
#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/llist.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/hrtimer.h>
#include <linux/refcount.h>
#include <linux/rbtree.h>
#include <linux/completion.h>
#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/irq_work.h>
#include <linux/percpu.h>
#include <linux/uio.h>
#include <linux/fs.h>
#include <linux/errno.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/nospec.h>
#include <linux/zsync.h>

struct eventfd_ctx;
struct seq_file;
struct file;
struct cgroup;
struct cred;
struct mm_struct;
struct task_struct;
struct pid;
struct net;
struct zsync_req;
struct zsync_wuser;
struct zsync_poll_entry;
struct statx;

/* Module parameters (main.c). */
extern unsigned int zsync_max_entries;
extern unsigned int zsync_max_overflow;
extern unsigned int zsync_max_inflight;
extern unsigned int zsync_multishot_backlog;
extern unsigned int zsync_max_workers;
extern unsigned int zsync_max_source_waiters;
extern unsigned int zsync_user_ring_kb;

/*
 * Shared SQ ring header.  head is written only by the kernel and tail only by
 * userspace; they live on separate cache lines so the two sides do not
 * bounce one line between them.
 */
struct zsync_sq_shared {
	u32 head ____cacheline_aligned_in_smp;
	u32 tail ____cacheline_aligned_in_smp;
	u32 ring_mask ____cacheline_aligned_in_smp;
	u32 ring_entries;
	u32 flags;
};

/* Shared CQ ring header followed by the CQE array. */
struct zsync_cq_shared {
	u32 head ____cacheline_aligned_in_smp;
	u32 tail ____cacheline_aligned_in_smp;
	u32 ring_mask ____cacheline_aligned_in_smp;
	u32 ring_entries;
	u32 overflow;
	struct zsync_cqe cqes[] ____cacheline_aligned_in_smp;
};

/* Chain being built from consecutive SQEs of one ENTER. */
struct zsync_chain {
	struct zsync_req *head;
	struct zsync_req *last;
	bool failed;
};

#define ZSYNC_SUBMIT_BATCH	32

/*
 * A CQE completed during submission, held until the batch posts them
 * together (zsync_post_cqe_batch()).  @req is NULL for a request-less one
 * (an op that completes from its SQE alone, or an SQE refused before it
 * needed a request); bit 0 of @req tags a CQE that had to wait in the
 * overflow list (zsync_req_tag_overflowed()).
 */
struct zsync_done {
	u64			user_data;
	s32			res;
	u8			opcode;
	struct zsync_req	*req;
};

/* One ENTER's submission (zsync_submit_sqes(), submit.c), under submit_lock. */
struct zsync_submit {
	struct zsync_chain chain;
	struct zsync_sqe sqe;		/* the SQE being submitted, copied */
	/* Lone CQEs completed during submission; posted up to nr_posted. */
	struct zsync_done done[ZSYNC_SUBMIT_BATCH];
	unsigned int	nr_done;
	unsigned int	nr_posted;
	/*
	 * Request-less CQEs not posted yet: each has a request reserved in
	 * the ring's private cache, to wait in if the CQ ring is full.
	 */
	unsigned int	nr_noreq;
	unsigned int	credits;	/* ring refs and nr_live taken, not used yet */
	unsigned int	live_done;	/* posted from the batch: out of nr_live */
	unsigned int	refs_done;	/* recycled from the batch: ring refs to drop */
	unsigned int	cq_room;	/* free CQEs when last looked (a hint) */
};

struct zsync_ring {
	/* Serialises SETUP, RESTRICT/ENABLE, eventfd registration and submission. */
	struct mutex		submit_lock;
	bool			ready;		/* regions exist (store-release in SETUP) */
	bool			enabled;	/* ENTER allowed */
	bool			r_disabled;	/* set up with ZSYNC_SETUP_R_DISABLED */
	bool			restricted;
	DECLARE_BITMAP(allowed_ops, 256);
	u8			allowed_sqe_flags;

	struct zsync_sq_shared	*sq;
	struct zsync_cq_shared	*cq;
	struct zsync_sqe	*sqes;
	size_t			sq_size, cq_size, sqes_size;	/* page-rounded */
	struct zsync_user	*user;		/* charged for the regions, or NULL */
	unsigned long		user_pages;
	u32			sq_entries, sq_mask;
	u32			cq_entries, cq_mask;
	u32			sq_head;	/* private consumer index */
	struct zsync_submit	submit;		/* the submission running now */
	struct task_struct	*batch_task;	/* its thread, while it runs */
	bool			chain_broken;	/* cancel SQEs up to the end of a chain */

	/* Completion side; taken from any context, hard irq included. */
	spinlock_t		cq_lock;
	u32			cq_tail;	/* private producer index */
	u64			cq_seq;		/* non-timeout CQEs ever posted (never wraps) */
	struct list_head	overflow;	/* zsync_req.ovf_node, in order */
	u32			nr_overflow;
	u32			overflow_total;
	u32			overflow_limit;
	bool			dying;		/* closing: nothing is posted any more */
	wait_queue_head_t	cq_wait;	/* ENTER waiters only (zsync_cq_wait()) */
	wait_queue_head_t	poll_wq;	/* pollers of the ring fd */
	struct eventfd_ctx __rcu *evfd;
	bool			evfd_batch;	/* ZSYNC_SETUP_EVENTFD_BATCH */
	bool			task_signal;	/* ZSYNC_SETUP_TASK_SIGNAL */
	struct file		*file;		/* its file; no reference (main.c) */
	atomic_t		notify_pending;	/* CQEs whose eventfd signal notify_work owes */

	/* In-flight bookkeeping; taken from any context. */
	spinlock_t		lock;
	struct list_head	inflight;	/* armed requests, in arm order (CANCEL_ANY) */
	struct rb_root		cancel_ud;	/* armed requests by (user_data, arm_seq) */
	struct rb_root		cancel_fd;	/* armed requests with an fd, by (fd, arm_seq) */
	u64			arm_seq;	/* last zsync_req.arm_seq given out */
	struct rb_root_cached	count_timeouts;	/* by target_seq, then arming order */
	u64			count_next;	/* earliest target_seq, U64_MAX if none */

	atomic_t		nr_live;	/* requests without their terminal CQE yet, + credits */
	u32			credits;	/* reserved refs + nr_live counts (submit_lock) */
	refcount_t		refs;		/* 1 for the file + 1 per request */
	struct completion	done;		/* refs reached zero */
	/*
	 * Keeps only the memory of the ring: 1 for the file + 1 per MSG_RING
	 * naming it, which must not keep the file (and ->release) alive.
	 */
	refcount_t		obj_refs;

	/*
	 * Freed requests, kept for reuse so the submission hot path skips the
	 * slab and memcg charging: pushed from any context, taken in bulk
	 * under submit_lock into req_cache.
	 */
	struct llist_head	req_free;	/* freed by any context */
	atomic_t		nr_free;	/* on req_free (bounds it) */
	struct llist_node	*req_cache;	/* private: submit_lock */
	u32			nr_req_cache;	/* on req_cache (submit_lock) */

	struct llist_head	chain_list;	/* chain continuations from async context */
	struct work_struct	chain_work;

	/* Work for submitting threads (worker.c); taken from any context. */
	spinlock_t		task_lock;
	struct list_head	task_list;	/* zsync_req.task_node */
	u32			nr_task_work;
	u32			task_seq;	/* work deferred so far (task_lock) */
	bool			task_closed;	/* closing: defer no more */
	/* Serialises walks of task_list, which park task_cursor in it. */
	struct mutex		task_walk;
	struct list_head	task_cursor;

	/* Requests whose last reference went in interrupt context. */
	struct llist_head	free_list;
	struct work_struct	free_work;

	/* CQE notification deferred out of a wakeup callback. */
	struct irq_work		notify_work;

	/* For ZSYNC_IOC_RINGS (stats.c). */
	struct list_head	all_node;	/* zsync_all_rings, under its mutex */
	u64			id;		/* unique since load */
	struct pid		*owner;		/* the process that set it up */
	char			owner_comm[TASK_COMM_LEN];
	u32			nr_armed[ZSYNC_OP_LAST];	/* armed requests by op (lock) */
};

/* SQE fields an opcode reads; every other field must be zero. */
#define ZSYNC_FIELD_FD		BIT(0)
#define ZSYNC_FIELD_OFF		BIT(1)
#define ZSYNC_FIELD_ADDR	BIT(2)
#define ZSYNC_FIELD_LEN		BIT(3)
#define ZSYNC_FIELD_OPFLAGS	BIT(4)
#define ZSYNC_FIELD_ADDR2	BIT(5)

/* What an op needs of its submitter besides the SQE (zsync_opdef.flags). */
#define ZSYNC_OPF_FILE		BIT(0)	/* sqe->fd is a file: taken at prep */
#define ZSYNC_OPF_IDENTITY	BIT(1)	/* may run in a worker: borrows mm, creds */
#define ZSYNC_OPF_TASK		BIT(2)	/* uses the fd table or fs: submitting thread only */
/* What zsync_req_capture() takes for: without any, only the fd table's identity. */
#define ZSYNC_OPF_CAPTURE	(ZSYNC_OPF_FILE | ZSYNC_OPF_IDENTITY | ZSYNC_OPF_TASK)
/* Skips an LSM hook its syscall calls: disabled unless lsm_bypass_net. */
#define ZSYNC_OPF_SKIPS_LSM	BIT(3)

enum zsync_issue_ret {
	ZSYNC_ISSUE_DONE,	/* req->res holds the result */
	ZSYNC_ISSUE_ARMED,	/* the op completes later via zsync_req_complete() */
};

struct zsync_opdef {
	const char	*name;
	u32		fields;		/* ZSYNC_FIELD_* */
	/* Process context, submitter's identity; copies what it needs from sqe. */
	int		(*prep)(struct zsync_req *req, const struct zsync_sqe *sqe);
	/*
	 * Runs the op.  Once the op is armed it may complete, and the request
	 * be freed, at any moment: issue() must not touch req after arming.
	 */
	enum zsync_issue_ret (*issue)(struct zsync_req *req);
	/*
	 * Called with ring->lock held on an armed request, from any context.
	 * Returns 0 if the op will never complete by itself any more (the
	 * caller then completes it), -EALREADY if it is completing right now.
	 */
	int		(*cancel)(struct zsync_req *req);
	u32		flags;		/* ZSYNC_OPF_* */
	/*
	 * Ops that wait with zsync_poll_arm(): runs the op again after a
	 * wakeup, in a worker with the submitter's identity (the submitting
	 * thread for ZSYNC_OPF_TASK ops and pinned requests).  Returns
	 * -EAGAIN to keep waiting (a multishot op after posting its CQEs),
	 * else the terminal result.
	 */
	int		(*retry)(struct zsync_req *req);
	/*
	 * Optional: run by the wakeup that won the request, in the wakeup's
	 * context with @e's queue lock held, instead of scheduling retry().
	 */
	void		(*poll_wake)(struct zsync_req *req, struct zsync_poll_entry *e,
				     __poll_t mask);
	/* Optional: frees what prep allocated.  Process context. */
	void		(*cleanup)(struct zsync_req *req);
	/*
	 * Optional, for ops that complete from the SQE alone: checks the
	 * op's own fields as prep() would and sets the CQE's result, so a
	 * lone SQE needs no request (see zsync_submit_noreq()).  Returns 0 or
	 * the error prep() would have returned.
	 */
	int		(*complete_noreq)(const struct zsync_sqe *sqe, s32 *res);
	/* Bytes of the command area (the union in zsync_req) the op uses. */
	u16		cmd_size;
};

#define ZSYNC_POLL_ENTRIES	2

struct zsync_poll_entry {
	struct wait_queue_entry	wait;
	wait_queue_head_t	*head;		/* NULL once unhooked */
};

/* A request waiting on a file's wait queues (poll.c). */
struct zsync_poll {
	struct zsync_poll_entry	entry[ZSYNC_POLL_ENTRIES];
	u8			nr_entries;
	bool			too_many;	/* ->poll used more queues than we hold */
	__poll_t		events;
	atomic_t		refs;		/* ownership count and CANCEL bit */
};

/* How an armed op waits, for zsync_async_cancel(). */
enum {
	ZSYNC_ASYNC_NONE,
	ZSYNC_ASYNC_POLL,	/* on wait queues (zsync_poll_arm()) */
	ZSYNC_ASYNC_WORK,	/* queued for a worker (zsync_punt()) */
	ZSYNC_ASYNC_TASK,	/* a chain continuation waiting for its thread */
};

typedef void (*zsync_async_fn)(struct zsync_req *req, bool cancel);

struct zsync_timeout {
	struct hrtimer		timer;
	ktime_t			expires;
	enum hrtimer_mode	mode;
	u32			flags;		/* ZSYNC_TIMEOUT_* */
	u32			count;
	u64			target_seq;
	struct rb_node		count_node;	/* ring->count_timeouts (RB_EMPTY_NODE if not) */
	struct zsync_req	*target;	/* LINK_TIMEOUT: the guarded request */
	struct zsync_req	*victim;	/* LINK_TIMEOUT: the target it cancelled */
	bool			armed;
};

/*
 * A CQE that waits in ring->overflow because the CQ ring was full.  Every
 * request has one for its terminal CQE (zsync_req.ovf); a multishot
 * request also has a pool of them, preallocated at prep, for the CQEs it
 * posts before that (zsync_req_post_more()); a CQE posted into a ring on
 * behalf of another ring (MSG_RING) gets one allocated (req == NULL).
 */
struct zsync_ovf {
	struct list_head	node;
	struct zsync_cqe	cqe;
	struct zsync_req	*req;
	u8			kind;		/* ZSYNC_OVF_* */
	/*
	 * TERMINAL only, written under cq_lock.  The owner's last put reads
	 * queued without it: clearing it is the list's last access.
	 */
	bool			queued;		/* on ring->overflow */
	bool			orphan;		/* the request is dead: free it on unlink */
};

/*
 * A terminal CQE in the overflow list holds no reference: it keeps only
 * the request's memory, never what the request took (its file, creds, mm).
 * The last put of a request whose CQE still waits there releases those and
 * leaves the memory to the list (zsync_ovf_adopt()), so an unread CQE can
 * never pin a file: a socket holding the ring's own fd in its queue, kept
 * by an overflowed request of that ring, would otherwise keep both forever.
 */
enum {
	ZSYNC_OVF_TERMINAL,	/* zsync_req.ovf: the request's own terminal CQE */
	ZSYNC_OVF_POOL,		/* a multishot slot: back to req->ovf_free */
	ZSYNC_OVF_AUX,		/* allocated for MSG_RING: freed once flushed */
};

struct zsync_cancel {
	u64			user_data;
	s32			fd;
	u32			flags;
	u8			opcode;		/* with only_opcode: match this op only */
	bool			only_opcode;
	/* If set: only requests submitted through this fd table. */
	const struct files_struct *owner;
};

struct zsync_poll_add {
	__poll_t		events;
	bool			multishot;
};

struct zsync_msg {
	struct zsync_ring	*target;	/* an obj_refs reference, not the file */
	u64			user_data;	/* of the CQE posted in the target */
	s32			res;
};

/* READ, WRITE, READV, WRITEV (ops/rw.c). */
struct zsync_rw {
	struct iov_iter		iter;		/* the user buffers still to transfer */
	struct iovec		fast_iov;	/* storage for one buffer */
	struct iovec		*iov;		/* READV/WRITEV: the copied array, or NULL */
	loff_t			pos;		/* next offset, unless use_fpos */
	u64			fsize_limit;	/* WRITE: the submitter's RLIMIT_FSIZE */
	ssize_t			done;		/* bytes moved before a worker took over */
	rwf_t			rwf;		/* RWF_* */
	u16			ioprio;		/* the submitter's I/O priority */
	u8			dir;		/* READ or WRITE */
	bool			use_fpos;	/* ZSYNC_OFF_CURRENT on a seekable file */
};

/* FSYNC (ops/rw.c). */
struct zsync_fsync {
	loff_t			start;
	loff_t			end;		/* inclusive */
	bool			datasync;
};

/* OPENAT, STATX (ops/fs.c); req->file is the directory fd, if not AT_FDCWD. */
struct zsync_fs {
	char			*path;		/* copied at prep */
	struct statx __user	*statxbuf;	/* STATX */
	int			flags;		/* O_* (OPENAT), AT_* (STATX) */
	umode_t			mode;		/* OPENAT */
	u32			mask;		/* STATX: STATX_* */
};

/* SEND, RECV: the user's buffer and how much of it is done. */
struct zsync_sr {
	void __user		*buf;
	u32			len;
	u32			done;
	u32			msg_flags;	/* sqe->op_flags */
};

struct zsync_accept {
	struct sockaddr __user	*addr;		/* the peer's address goes there */
	int __user		*addrlen;
	int			addr_room;	/* *addrlen at submission */
	u32			file_flags;	/* O_CLOEXEC, O_NONBLOCK of the new file */
	bool			multishot;
};

struct zsync_connect {
	struct sockaddr_storage	*addr;		/* copied at prep */
	int			addrlen;
};

struct zsync_msg_io;

/* CGROUP_SET: what to write where, copied at prep. */
struct zsync_cgroup_set {
	char			*knob;		/* file name in the cgroup directory */
	void			*value;
	u32			len;
};

/* CGROUP_ATTACH: the process, by number or by pidfd. */
struct zsync_cgroup_attach {
	struct pid		*pid;		/* by pidfd (a reference), or NULL */
	pid_t			nr;		/* by number, in the submitter's pid ns */
};

/* CGROUP_FREEZE/THAW/KILL/WAIT: req->file is the cgroup's cgroup.events. */
struct zsync_cgroup_wait {
	struct file		*knob;		/* cgroup.freeze or cgroup.kill, or NULL */
	struct cgroup		*cgrp;		/* FREEZE/THAW/KILL: held, or NULL */
	u32			mask;		/* ZSYNC_CGROUP_* bits watched */
	u32			want;		/* FREEZE/THAW/KILL: their value when done */
	u32			last;		/* WAIT: the state last posted */
	bool			posted;		/* WAIT: last is valid */
};

/* PIDFD_WAIT: req->file is the pidfd. */
struct zsync_pidfd_wait {
	struct pid		*pid;		/* the pidfd's, kept alive by req->file */
	struct task_struct	*task;		/* held for its exit status */
};

/* NS_SOCKET: req->file is the netns fd, which keeps @net alive. */
struct zsync_ns_socket {
	struct net		*net;
	int			domain;
	int			type;		/* SOCK_STREAM, ... */
	int			flags;		/* SOCK_NONBLOCK, SOCK_CLOEXEC */
	int			protocol;
};

/* NS_INFO: the answer, read at prep, and where to copy it. */
struct zsync_ns_info_req {
	struct zsync_ns_info	info;
	struct zsync_ns_info __user *uinfo;
};

/* SOURCE_WAIT and SOURCE_SIGNAL (ops/source.c, source.c). */
struct zsync_source_req {
	struct zsync_source	*src;		/* held by req->file, taken at prep */
	struct list_head	node;		/* src->waiters while armed (src->lock) */
	atomic_t		state;		/* ZSYNC_SRCW_* */
	u64			arm_gen;	/* src's signal count when armed (src->lock) */
	s32			end_res;	/* result when the source's side ends it */
	u32			value;		/* SOURCE_SIGNAL */
};

/*
 * States of a SOURCE_WAIT, which decide between a source posting a CQE
 * (under src->lock) and a canceller (under ring->lock) who may complete
 * the request: no CQE flagged MORE may follow the terminal one.
 */
enum {
	ZSYNC_SRCW_IDLE,		/* not armed yet (or never) */
	ZSYNC_SRCW_ARMED,		/* waiting for signals */
	ZSYNC_SRCW_POSTING,		/* a signal is posting its CQE */
	ZSYNC_SRCW_POSTING_CANCEL,	/* ... and a canceller asked to end it */
	ZSYNC_SRCW_DONE,		/* someone owns its completion */
};

/*
 * Who owns an armed request's completion (zsync_req.own, under ring->lock).
 * Only ARMED requests are in the cancel index, and only the party that
 * moves a request out of ARMED (zsync_req_claim_locked(), or
 * zsync_req_disarm() for an owner that goes on with it) may complete it.
 */
enum {
	ZSYNC_REQ_IDLE,		/* not armed: its submitter or chain holds it */
	ZSYNC_REQ_ARMED,	/* armed: cancellers, timers, wakeups may claim it */
	ZSYNC_REQ_CLAIMED,	/* claimed: its claimer completes it, once */
};

struct zsync_req {
	struct zsync_ring	*ring;
	const struct zsync_opdef *def;
	u64			user_data;
	u8			opcode;
	u8			sqe_flags;
	bool			failed;		/* prep failed: res holds the error */
	bool			lt_attached;	/* a LINK_TIMEOUT follows (set at prep) */
	bool			has_lt;		/* link is still that guard (ring->lock) */
	u8			own;		/* ZSYNC_REQ_* (ring->lock) */
	s32			res;
	s32			fd;		/* for CANCEL_FD; -1 if the op has none */
	refcount_t		refs;
	u32			arm_time;	/* jiffies when armed (ZSYNC_IOC_RINGS) */
	struct list_head	inflight;	/* ring->inflight while armed */
	struct rb_node		ud_node;	/* ring->cancel_ud while armed */
	struct rb_node		fd_node;	/* ring->cancel_fd while armed, if fd >= 0 */
	u64			arm_seq;	/* order of arming, for "first" match */
	struct zsync_req	*link;		/* next request of the chain */
	struct llist_node	chain_node;
	struct zsync_ovf	ovf;		/* the terminal CQE, if it overflows */
	struct zsync_ovf	*ovf_pool;	/* multishot: preallocated slots */
	struct list_head	ovf_free;	/* unused slots of ovf_pool (cq_lock) */

	/* The submitter's, taken at prep (worker.c). */
	const struct files_struct *owner;	/* its fd table; compared, never used */
	bool			identity_lazy;	/* creds, mm not taken yet (lone, inline) */
	struct file		*file;
	const struct cred	*creds;
	struct mm_struct	*mm;
	struct task_struct	*task;

	/* Execution away from the submitter (worker.c, poll.c). */
	u8			async;		/* ZSYNC_ASYNC_* */
	zsync_async_fn		async_fn;
	struct work_struct	work;
	struct list_head	task_node;	/* ring->task_list */
	bool			task_queued;	/* on ring->task_list (task_lock) */
	bool			work_pending;	/* waits for its user's worker quota */
	struct zsync_wuser	*wuser;		/* whose quota a punted op counts in */
	struct zsync_poll	poll;

	union {
		struct zsync_timeout	timeout;
		struct zsync_cancel	cancel;
		struct zsync_poll_add	poll_add;
		struct zsync_msg	msg;
		struct zsync_rw		rw;
		struct zsync_fsync	fsync;
		struct zsync_fs		fs;
		s32			close_fd;
		struct zsync_sr		sr;
		struct zsync_msg_io	*msgio;		/* SENDMSG, RECVMSG (ops/net.c) */
		struct zsync_accept	accept;
		struct zsync_connect	connect;
		int			shutdown_how;
		struct zsync_cgroup_set	cg_set;
		struct zsync_cgroup_attach cg_attach;
		struct zsync_cgroup_wait cg_wait;
		struct zsync_pidfd_wait	pidfd_wait;
		struct zsync_ns_socket	ns_socket;
		struct zsync_ns_info_req ns_info;
		struct zsync_source_req	source;
	};
};

/*
 * The command area: the union at the end of struct zsync_req, one member
 * per op family.  zsync_req_prep() zeroes only the bytes the op uses
 * (zsync_opdef.cmd_size), so a NOP clears nothing; every member must fit
 * ZSYNC_CMD_MAX, which opdef.c checks at build time.
 */
#define ZSYNC_CMD_OFFSET	offsetof(struct zsync_req, timeout)
#define ZSYNC_CMD_SIZE(member)	sizeof_field(struct zsync_req, member)
#define ZSYNC_CMD_MAX		144

static inline void zsync_req_cmd_clear(struct zsync_req *req, size_t size)
{
	memset((char *)req + ZSYNC_CMD_OFFSET, 0, size);
}

/* Whether freeing @req must drop what prep took (it must, in process context). */
static inline bool zsync_req_has_resources(const struct zsync_req *req)
{
	return req->file || req->creds || req->mm || req->task ||
	       (req->def && req->def->cleanup);
}

/* Whether current is submitting SQEs of @ring, under its submit_lock. */
static inline bool zsync_in_submission(const struct zsync_ring *ring)
{
	return in_task() && READ_ONCE(ring->batch_task) == current;
}

/*
 * zsync_post_cqe_batch() tags the slots of requests whose CQE it had to
 * put in the overflow list (bit 0: requests are cache-line aligned).
 */
static inline struct zsync_req *zsync_req_tag_overflowed(struct zsync_req *req)
{
	return (struct zsync_req *)((unsigned long)req | 1UL);
}

static inline bool zsync_req_overflowed(const struct zsync_req *req)
{
	return (unsigned long)req & 1UL;
}

static inline struct zsync_req *zsync_req_untag(struct zsync_req *req)
{
	return (struct zsync_req *)((unsigned long)req & ~1UL);
}

/* CQEs of TIMEOUT and LINK_TIMEOUT SQEs do not count towards TIMEOUT counts. */
static inline bool zsync_opcode_is_timeout(u8 opcode)
{
	return opcode == ZSYNC_OP_TIMEOUT || opcode == ZSYNC_OP_LINK_TIMEOUT;
}

static inline bool zsync_req_is_timeout(const struct zsync_req *req)
{
	return zsync_opcode_is_timeout(req->opcode);
}

/*
 * The restart codes are for the syscall exit path; a CQE reports what the
 * syscall would have returned to userspace: -EINTR.
 */
static inline s32 zsync_res_from_syscall(long res)
{
	switch (res) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	}
	return res;
}

/* Features every ring gets (struct zsync_params.features). */
#define ZSYNC_FEATURES	(ZSYNC_FEAT_NODROP | ZSYNC_FEAT_LINKS | \
			 ZSYNC_FEAT_RESTRICT | ZSYNC_FEAT_EVENTFD | \
			 ZSYNC_FEAT_ENTER_VALUE | ZSYNC_FEAT_EVENTFD_BATCH | \
			 ZSYNC_FEAT_TASK_SIGNAL)

DECLARE_PER_CPU(unsigned int, zsync_wake_nesting);

/* Module-wide counters (stats.c), summed by ZSYNC_IOC_STATS. */
struct zsync_pcpu_stats {
	u64	sqes;
	u64	cqes;
	u64	cqes_overflowed;
	u64	ops_disabled;
};
DECLARE_PER_CPU(struct zsync_pcpu_stats, zsync_pcpu_stats);
extern atomic_long_t zsync_rings_open;
extern atomic_long_t zsync_rings_total;

/* Any context: a this_cpu op is atomic against interrupts. */
#define zsync_stat_add(field, n)	this_cpu_add(zsync_pcpu_stats.field, (n))
#define zsync_stat_inc(field)		zsync_stat_add(field, 1)

/* main.c */
bool zsync_file_is_ring(const struct file *file);

/* opdef.c */
long zsync_probe(void __user *arg);
extern const struct zsync_opdef zsync_opdefs[ZSYNC_OP_LAST];
extern unsigned long zsync_disabled_families;
bool zsync_op_disabled(u8 opcode);

/* Returns the op for @opcode, or NULL; safe against speculation. */
static inline const struct zsync_opdef *zsync_opdef_get(u8 opcode)
{
	const struct zsync_opdef *def;

	if (opcode >= ZSYNC_OP_LAST)
		return NULL;
	def = &zsync_opdefs[array_index_nospec(opcode, ZSYNC_OP_LAST)];
	return def->prep ? def : NULL;
}

/* stats.c */
long zsync_stats(void __user *arg);
void zsync_rings_add(struct zsync_ring *ring);
void zsync_rings_del(struct zsync_ring *ring);
void zsync_ring_set_owner(struct zsync_ring *ring);
long zsync_rings_list(void __user *arg);

/* req.c */
int zsync_req_cache_init(void);
void zsync_req_cache_exit(void);
void zsync_req_cache_drain(struct zsync_ring *ring);
struct zsync_req *zsync_req_alloc(struct zsync_ring *ring, struct zsync_submit *s);
void zsync_req_cache_push(struct zsync_ring *ring, struct zsync_req *req);
bool zsync_req_reserve_slow(struct zsync_ring *ring, struct zsync_submit *s);
void zsync_req_post_and_put(struct zsync_req *req, s32 res);
void zsync_run_chain(struct zsync_req *req);
void zsync_chain_end(struct zsync_chain *chain);
void zsync_req_complete(struct zsync_req *req, s32 res);
void zsync_req_arm(struct zsync_req *req);
void zsync_req_arm_locked(struct zsync_req *req);
bool zsync_req_claim_locked(struct zsync_req *req);
void zsync_req_disarm(struct zsync_req *req);
void zsync_req_complete_armed(struct zsync_req *req, s32 res);
void zsync_req_free_work(struct work_struct *work);
void zsync_req_get(struct zsync_req *req);
void zsync_req_put(struct zsync_req *req);
void zsync_req_free_orphan(struct zsync_req *req);
bool zsync_ovf_adopt(struct zsync_req *req);
void zsync_chain_work(struct work_struct *work);

/*
 * A request-less CQE that finds the CQ ring full waits in a request, so
 * each one the batch holds unposted has one reserved in the private
 * cache (zsync_req_for_overflow()).  Caller holds ring->submit_lock.
 * Return: false if out of memory.
 */
static inline bool zsync_req_reserve(struct zsync_ring *ring, struct zsync_submit *s)
{
	return likely(ring->nr_req_cache > s->nr_noreq) || zsync_req_reserve_slow(ring, s);
}

/* submit.c */
void zsync_submit_post_pending(struct zsync_ring *ring);
void zsync_ring_put_credits(struct zsync_ring *ring, u32 nr);
int zsync_submit_sqes(struct zsync_ring *ring, u32 nr);

/* cancel_match.c */
int zsync_cancel_match(struct zsync_ring *ring, const struct zsync_cancel *c,
		       struct zsync_req *self);
int zsync_cancel_locked(struct zsync_req *req);

/* ring.c */
struct zsync_ring *zsync_ring_alloc(void);
void zsync_ring_release(struct zsync_ring *ring);
void zsync_ring_flush(struct zsync_ring *ring, struct file *file, fl_owner_t id);
void zsync_ring_put(struct zsync_ring *ring);
void zsync_ring_obj_put(struct zsync_ring *ring);
long zsync_ring_setup(struct zsync_ring *ring, void __user *arg);
long zsync_ring_enter(struct zsync_ring *ring, void __user *arg);
long zsync_ring_enter_value(struct zsync_ring *ring, unsigned long arg);
long zsync_ring_register_eventfd(struct zsync_ring *ring, void __user *arg);
long zsync_ring_unregister_eventfd(struct zsync_ring *ring);
long zsync_ring_restrict(struct zsync_ring *ring, void __user *arg);
long zsync_ring_enable(struct zsync_ring *ring);
int zsync_ring_mmap(struct zsync_ring *ring, struct vm_area_struct *vma);
__poll_t zsync_ring_poll_mask(struct zsync_ring *ring);
void zsync_ring_show_fdinfo(struct zsync_ring *ring, struct seq_file *m);

/* cq.c */
u32 zsync_cq_ready(const struct zsync_ring *ring);
bool zsync_cq_overflow_movable(const struct zsync_ring *ring);
u32 zsync_cq_space(const struct zsync_ring *ring);
void zsync_cq_notify_work(struct irq_work *work);
void zsync_cq_kill(struct zsync_ring *ring);
void zsync_post_cqe(struct zsync_req *req, s32 res, u32 cflags);
unsigned int zsync_post_cqe_batch(struct zsync_ring *ring, struct zsync_done *done,
				  unsigned int nr);
struct zsync_req *zsync_req_for_overflow(struct zsync_ring *ring, const struct zsync_done *d);
void zsync_cq_notify(struct zsync_ring *ring, unsigned int nr);
int zsync_req_alloc_ovf_pool(struct zsync_req *req, unsigned int nr);
bool zsync_req_post_more(struct zsync_req *req, s32 res, u32 cflags);
int zsync_post_aux_cqe(struct zsync_ring *ring, u64 user_data, s32 res, u32 cflags);
void zsync_flush_overflow(struct zsync_ring *ring);
void zsync_cq_counted_armed(struct zsync_ring *ring);

/* worker.c */
extern struct workqueue_struct *zsync_chain_wq;
int zsync_worker_init(void);
void zsync_worker_exit(void);
int zsync_req_capture(struct zsync_req *req, const struct zsync_sqe *sqe, bool lone);
bool zsync_req_capture_late(struct zsync_req *req);
void zsync_req_pin_task(struct zsync_req *req);
bool zsync_file_worker_ok(const struct file *file);
bool zsync_task_unqueue(struct zsync_req *req);
void zsync_req_release_resources(struct zsync_req *req);
void zsync_req_strip(struct zsync_req *req);
enum zsync_issue_ret zsync_issue_identity(struct zsync_req *req);
void zsync_worker_queue(struct zsync_req *req, zsync_async_fn fn);
enum zsync_issue_ret zsync_punt(struct zsync_req *req, zsync_async_fn fn);
int zsync_async_cancel(struct zsync_req *req);
void zsync_task_defer(struct zsync_req *req, zsync_async_fn fn);
enum zsync_issue_ret zsync_task_defer_armed(struct zsync_req *req, zsync_async_fn fn);
u32 zsync_task_work_seq(const struct zsync_ring *ring);
void zsync_run_task_work(struct zsync_ring *ring);
void zsync_run_task_work_nonblocking(struct zsync_ring *ring);
void zsync_task_signal(struct zsync_ring *ring, struct task_struct *task);
void zsync_cancel_task_work(struct zsync_ring *ring);

/* poll.c */
enum zsync_issue_ret zsync_poll_arm(struct zsync_req *req, __poll_t events);
int zsync_poll_cancel(struct zsync_req *req);
void zsync_poll_disarm(struct zsync_req *req);
void zsync_poll_schedule(struct zsync_req *req);
bool zsync_poll_release(struct zsync_req *req);
void zsync_poll_finish_in_wakeup(struct zsync_req *req, struct zsync_poll_entry *e, s32 res);

/* ops/timeout.c */
int zsync_timeout_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_timeout_issue(struct zsync_req *req);
int zsync_timeout_cancel(struct zsync_req *req);
int zsync_link_timeout_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
int zsync_link_timeout_cancel(struct zsync_req *req);
int zsync_link_timeout_attach(struct zsync_req *target, struct zsync_req *lt);
void zsync_link_timeout_arm(struct zsync_req *target);
struct zsync_req *zsync_link_timeout_detach(struct zsync_req *target,
					    struct zsync_req **owned_lt);
void zsync_flush_count_timeouts(struct zsync_ring *ring);

/* ops/nop.c */
int zsync_nop_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
int zsync_nop_complete_noreq(const struct zsync_sqe *sqe, s32 *res);
enum zsync_issue_ret zsync_nop_issue(struct zsync_req *req);


/* source.c */
struct zsync_source *zsync_source_from_file(struct file *file, bool signal);
int zsync_source_arm(struct zsync_source *src, struct zsync_req *req);
void zsync_source_unlink(struct zsync_source *src, struct zsync_req *req);
int zsync_source_signal_task(struct zsync_source *src, u32 value);
long zsync_source_ioctl_create(void __user *arg);

/* ops/source.c */
int zsync_source_wait_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_source_wait_issue(struct zsync_req *req);
int zsync_source_wait_cancel(struct zsync_req *req);
void zsync_source_wait_cleanup(struct zsync_req *req);
int zsync_source_wait_post(struct zsync_req *req, u32 value, bool *owned);
bool zsync_source_wait_claim(struct zsync_req *req, s32 res);
void zsync_source_wait_end(struct zsync_req *req);
int zsync_source_signal_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_source_signal_issue(struct zsync_req *req);

/* ops/cancel.c */
int zsync_cancel_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_cancel_issue(struct zsync_req *req);

/* ops/poll.c */
int zsync_poll_add_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_poll_add_issue(struct zsync_req *req);
int zsync_poll_add_retry(struct zsync_req *req);
void zsync_poll_add_wake(struct zsync_req *req, struct zsync_poll_entry *e, __poll_t mask);
int zsync_poll_remove_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_poll_remove_issue(struct zsync_req *req);

/* ops/msg.c */
int zsync_msg_ring_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_msg_ring_issue(struct zsync_req *req);
void zsync_msg_ring_cleanup(struct zsync_req *req);

/* ops/rw.c */
int zsync_rw_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_rw_issue(struct zsync_req *req);
int zsync_rw_retry(struct zsync_req *req);
bool zsync_rw_retry_may_block(const struct zsync_req *req);
void zsync_rw_cleanup(struct zsync_req *req);
int zsync_fsync_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_fsync_issue(struct zsync_req *req);

/* ops/fs.c */
int zsync_openat_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_openat_issue(struct zsync_req *req);
int zsync_close_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_close_issue(struct zsync_req *req);
int zsync_statx_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_statx_issue(struct zsync_req *req);
void zsync_fs_cleanup(struct zsync_req *req);

/* ops/net.c */
int zsync_send_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_send_issue(struct zsync_req *req);
int zsync_send_retry(struct zsync_req *req);
int zsync_recv_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_recv_issue(struct zsync_req *req);
int zsync_recv_retry(struct zsync_req *req);
int zsync_sendmsg_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_sendmsg_issue(struct zsync_req *req);
int zsync_sendmsg_retry(struct zsync_req *req);
int zsync_recvmsg_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_recvmsg_issue(struct zsync_req *req);
int zsync_recvmsg_retry(struct zsync_req *req);
void zsync_msg_cleanup(struct zsync_req *req);
int zsync_accept_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_accept_issue(struct zsync_req *req);
int zsync_accept_retry(struct zsync_req *req);
int zsync_connect_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_connect_issue(struct zsync_req *req);
int zsync_connect_retry(struct zsync_req *req);
void zsync_connect_cleanup(struct zsync_req *req);
int zsync_shutdown_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_shutdown_issue(struct zsync_req *req);

/* ops/cgroup.c */
int zsync_cgroup_set_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_cgroup_set_issue(struct zsync_req *req);
void zsync_cgroup_set_cleanup(struct zsync_req *req);
int zsync_cgroup_attach_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_cgroup_attach_issue(struct zsync_req *req);
void zsync_cgroup_attach_cleanup(struct zsync_req *req);
int zsync_cgroup_control_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_cgroup_control_issue(struct zsync_req *req);
int zsync_cgroup_state_retry(struct zsync_req *req);
int zsync_cgroup_wait_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_cgroup_wait_issue(struct zsync_req *req);
int zsync_cgroup_wait_retry(struct zsync_req *req);
void zsync_cgroup_wait_cleanup(struct zsync_req *req);
void zsync_cgroup_control_wake(struct zsync_req *req, struct zsync_poll_entry *e,
			       __poll_t mask);

/* ops/ns.c */
int zsync_pidfd_wait_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_pidfd_wait_issue(struct zsync_req *req);
int zsync_pidfd_wait_retry(struct zsync_req *req);
void zsync_pidfd_wait_cleanup(struct zsync_req *req);
int zsync_ns_socket_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_ns_socket_issue(struct zsync_req *req);
int zsync_ns_info_prep(struct zsync_req *req, const struct zsync_sqe *sqe);
enum zsync_issue_ret zsync_ns_info_issue(struct zsync_req *req);

/* The op's issue(); the hot ones are called directly, not through a thunk. */
#define zsync_issue_op(req)						\
	INDIRECT_CALL_2((req)->def->issue, zsync_nop_issue, zsync_rw_issue, (req))

/*
 * Runs @req's issue() with its submitter's identity (zsync_issue_identity()).
 * An op that captured none (NOP, CANCEL, TIMEOUT, ...) runs as it is.
 */
static inline enum zsync_issue_ret zsync_issue(struct zsync_req *req)
{
	if (!req->mm && !req->creds)
		return zsync_issue_op(req);
	return zsync_issue_identity(req);
}

/**
 * zsync_cq_counted() - complete the TIMEOUTs whose count a new CQE reached
 * @ring: the ring; any context, no ring lock held; called after the CQE's
 *	cq_seq increment, once cq_lock was released
 *
 * O(1) unless one is due: cq_seq is compared with the earliest target.
 * No barrier: count_next is read after this poster's hold of cq_lock, and
 * the arming side reads cq_seq under cq_lock after writing count_next
 * (zsync_cq_counted_armed()), so one of the two sees the other.
 */
static inline void zsync_cq_counted(struct zsync_ring *ring)
{
	if (READ_ONCE(ring->cq_seq) >= READ_ONCE(ring->count_next))
		zsync_flush_count_timeouts(ring);
}

#endif /* _ZSYNC_INTERNAL_H */
