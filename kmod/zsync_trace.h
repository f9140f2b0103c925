/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zsync's tracepoints (Documentation/tracing.rst): events/zsync/ in
 * tracefs.  Each is a static key while nobody listens: off, it costs a
 * patched-out jump.  @ring and @req are kernel pointers, printed hashed
 * (%p) and usable as keys: a request's events share its @req until its
 * CQE, after which the memory may serve another request.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM zsync

#if !defined(_ZSYNC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ZSYNC_TRACE_H

#include <linux/tracepoint.h>
#include "zsync.h"

/* Where a request runs (zsync_issue_path). */
#ifndef ZSYNC_TRACE_PATH_ENUM
#define ZSYNC_TRACE_PATH_ENUM
enum zsync_trace_path {
	ZSYNC_PATH_INLINE,	/* completed during submission */
	ZSYNC_PATH_POLL,	/* armed on the file's wait queues */
	ZSYNC_PATH_WORKER,	/* sent to a zsync_io worker */
	ZSYNC_PATH_TASK,	/* queued for its submitting thread */
};

/* zsync_cqe's opcode for a CQE of no SQE of its ring (MSG_RING's). */
#define ZSYNC_TRACE_NO_OPCODE	0xff
#endif

TRACE_DEFINE_ENUM(ZSYNC_PATH_INLINE);
TRACE_DEFINE_ENUM(ZSYNC_PATH_POLL);
TRACE_DEFINE_ENUM(ZSYNC_PATH_WORKER);
TRACE_DEFINE_ENUM(ZSYNC_PATH_TASK);

/* A step of a cgroup, pidfd or namespace op (zsync_op_step). */
#ifndef ZSYNC_TRACE_STEP_ENUM
#define ZSYNC_TRACE_STEP_ENUM
enum zsync_trace_step {
	ZSYNC_STEP_PID,		/* a pidfd's process resolved: res its pid, or -ESRCH */
	ZSYNC_STEP_WRITE,	/* a cgroup file written: res bytes, or -errno */
	ZSYNC_STEP_STATE,	/* cgroup.events read: res ZSYNC_CGROUP_* bits, or -errno */
	ZSYNC_STEP_EXIT,	/* a pidfd's process looked at: res its wait status, or -EAGAIN */
	ZSYNC_STEP_SOCKET,	/* a socket made in a network namespace: res its fd, or -errno */
};
#endif

TRACE_DEFINE_ENUM(ZSYNC_STEP_PID);
TRACE_DEFINE_ENUM(ZSYNC_STEP_WRITE);
TRACE_DEFINE_ENUM(ZSYNC_STEP_STATE);
TRACE_DEFINE_ENUM(ZSYNC_STEP_EXIT);
TRACE_DEFINE_ENUM(ZSYNC_STEP_SOCKET);

/*
 * An SQE consumed: @res is prep's result (0, or the error its CQE will
 * carry); fd is the file's descriptor, -1 for ops without one.  @req is the
 * request, or for a request-less SQE (see zsync_submit_noreq()) the slot
 * of the submission batch that holds its CQE: either way an id that lives
 * from the SQE's submission to its terminal CQE.
 */
TRACE_EVENT(zsync_submit,
	TP_PROTO(const struct zsync_ring *ring, const void *req,
		 const struct zsync_sqe *sqe, int res, int fd),
	TP_ARGS(ring, req, sqe, res, fd),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(u8,		opcode)
		__field(u8,		sqe_flags)
		__field(int,		res)
		__field(int,		fd)
	),
	TP_fast_assign(
		__entry->ring		= ring;
		__entry->req		= req;
		__entry->user_data	= sqe->user_data;
		__entry->opcode		= sqe->opcode;
		__entry->sqe_flags	= sqe->flags;
		__entry->res		= res;
		__entry->fd		= fd;
	),
	TP_printk("ring %p req %p user_data 0x%llx opcode %u flags 0x%x res %d fd %d",
		  __entry->ring, __entry->req, __entry->user_data, __entry->opcode,
		  __entry->sqe_flags, __entry->res, __entry->fd)
);

/*
 * Where a request runs: at once (inline) or later (armed on a poll, a
 * worker, its task).  @req as in zsync_submit: a request-less SQE runs
 * inline.
 */
TRACE_EVENT(zsync_issue_path,
	TP_PROTO(const struct zsync_ring *ring, const void *req,
		 u64 user_data, u8 opcode, enum zsync_trace_path path),
	TP_ARGS(ring, req, user_data, opcode, path),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(u8,		opcode)
		__field(int,		path)
	),
	TP_fast_assign(
		__entry->ring		= ring;
		__entry->req		= req;
		__entry->user_data	= user_data;
		__entry->opcode		= opcode;
		__entry->path		= path;
	),
	TP_printk("ring %p req %p user_data 0x%llx opcode %u path %s",
		  __entry->ring, __entry->req, __entry->user_data, __entry->opcode,
		  __print_symbolic(__entry->path, { ZSYNC_PATH_INLINE, "inline" },
				   { ZSYNC_PATH_POLL, "poll" }, { ZSYNC_PATH_WORKER, "worker" },
				   { ZSYNC_PATH_TASK, "task" }))
);

/*
 * A CQE posted, into the CQ ring or, @overflow, into the overflow list.
 * @req as in zsync_submit; NULL for a CQE of no SQE of @ring (MSG_RING's,
 * @opcode ZSYNC_TRACE_NO_OPCODE).
 */
TRACE_EVENT(zsync_cqe,
	TP_PROTO(const struct zsync_ring *ring, const void *req, u8 opcode,
		 u64 user_data, s32 res, u32 cflags, bool overflow),
	TP_ARGS(ring, req, opcode, user_data, res, cflags, overflow),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(u8,		opcode)
		__field(s32,		res)
		__field(u32,		cflags)
		__field(bool,		overflow)
	),
	TP_fast_assign(
		__entry->ring		= ring;
		__entry->req		= req;
		__entry->user_data	= user_data;
		__entry->opcode		= opcode;
		__entry->res		= res;
		__entry->cflags		= cflags;
		__entry->overflow	= overflow;
	),
	TP_printk("ring %p req %p user_data 0x%llx opcode %u res %d cflags 0x%x%s",
		  __entry->ring, __entry->req, __entry->user_data, __entry->opcode,
		  __entry->res, __entry->cflags, __entry->overflow ? " overflow" : "")
);

/* CQEs moved from the overflow list into the CQ ring; @left still wait. */
TRACE_EVENT(zsync_overflow_flush,
	TP_PROTO(const struct zsync_ring *ring, u32 moved, u32 left),
	TP_ARGS(ring, moved, left),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(u32,		moved)
		__field(u32,		left)
	),
	TP_fast_assign(
		__entry->ring	= ring;
		__entry->moved	= moved;
		__entry->left	= left;
	),
	TP_printk("ring %p moved %u left %u", __entry->ring, __entry->moved, __entry->left)
);

/* A wakeup from a file a request is armed on (@mask: what it reports). */
TRACE_EVENT(zsync_poll_wake,
	TP_PROTO(const struct zsync_req *req, u32 mask),
	TP_ARGS(req, mask),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(u32,		mask)
	),
	TP_fast_assign(
		__entry->ring		= req->ring;
		__entry->req		= req;
		__entry->user_data	= req->user_data;
		__entry->mask		= mask;
	),
	TP_printk("ring %p req %p user_data 0x%llx mask 0x%x",
		  __entry->ring, __entry->req, __entry->user_data, __entry->mask)
);

/* A chain member that will not run: its CQE carries @res (-ECANCELED). */
TRACE_EVENT(zsync_link_fail,
	TP_PROTO(const struct zsync_req *req, s32 res),
	TP_ARGS(req, res),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(u8,		opcode)
		__field(s32,		res)
	),
	TP_fast_assign(
		__entry->ring		= req->ring;
		__entry->req		= req;
		__entry->user_data	= req->user_data;
		__entry->opcode		= req->opcode;
		__entry->res		= res;
	),
	TP_printk("ring %p req %p user_data 0x%llx opcode %u res %d",
		  __entry->ring, __entry->req, __entry->user_data, __entry->opcode,
		  __entry->res)
);

/* A cancel (CANCEL, POLL_REMOVE, ring close): what it looked for, how many it ended. */
TRACE_EVENT(zsync_cancel,
	TP_PROTO(const struct zsync_ring *ring, const struct zsync_cancel *c, int matched),
	TP_ARGS(ring, c, matched),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(u64,		key)
		__field(s32,		fd)
		__field(u32,		flags)
		__field(int,		matched)
	),
	TP_fast_assign(
		__entry->ring		= ring;
		__entry->key		= c->user_data;
		__entry->fd		= c->fd;
		__entry->flags		= c->flags;
		__entry->matched	= matched;
	),
	TP_printk("ring %p user_data 0x%llx fd %d flags 0x%x matched %d",
		  __entry->ring, __entry->key, __entry->fd, __entry->flags, __entry->matched)
);

/* A TIMEOUT or LINK_TIMEOUT expired (hard irq context). */
TRACE_EVENT(zsync_timeout_fire,
	TP_PROTO(const struct zsync_req *req, bool link),
	TP_ARGS(req, link),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(bool,		link)
	),
	TP_fast_assign(
		__entry->ring		= req->ring;
		__entry->req		= req;
		__entry->user_data	= req->user_data;
		__entry->link		= link;
	),
	TP_printk("ring %p req %p user_data 0x%llx%s",
		  __entry->ring, __entry->req, __entry->user_data,
		  __entry->link ? " link" : "")
);

/* An event source signalled (by its driver, or SOURCE_SIGNAL): @reached waiters. */
TRACE_EVENT(zsync_source_signal,
	TP_PROTO(const void *src, u32 value, int reached),
	TP_ARGS(src, value, reached),
	TP_STRUCT__entry(
		__field(const void *,	src)
		__field(u32,		value)
		__field(int,		reached)
	),
	TP_fast_assign(
		__entry->src		= src;
		__entry->value		= value;
		__entry->reached	= reached;
	),
	TP_printk("source %p value %u reached %d", __entry->src, __entry->value,
		  __entry->reached)
);

/*
 * One step of a cgroup, pidfd or namespace op, which does several things
 * in the kernel where a shell would run several commands: @what names the
 * file or object (a knob name, "cgroup.procs"), at most 31 bytes kept.
 */
TRACE_EVENT(zsync_op_step,
	TP_PROTO(const struct zsync_req *req, enum zsync_trace_step step, const char *what,
		 long res),
	TP_ARGS(req, step, what, res),
	TP_STRUCT__entry(
		__field(const void *,	ring)
		__field(const void *,	req)
		__field(u64,		user_data)
		__field(u8,		opcode)
		__field(int,		step)
		__array(char,		what, 32)
		__field(long,		res)
	),
	TP_fast_assign(
		__entry->ring		= req->ring;
		__entry->req		= req;
		__entry->user_data	= req->user_data;
		__entry->opcode		= req->opcode;
		__entry->step		= step;
		strscpy(__entry->what, what, sizeof(__entry->what));
		__entry->res		= res;
	),
	TP_printk("ring %p req %p user_data 0x%llx opcode %u step %s %s res %ld",
		  __entry->ring, __entry->req, __entry->user_data, __entry->opcode,
		  __print_symbolic(__entry->step,
				   { ZSYNC_STEP_PID,	"pid" },
				   { ZSYNC_STEP_WRITE,	"write" },
				   { ZSYNC_STEP_STATE,	"state" },
				   { ZSYNC_STEP_EXIT,	"exit" },
				   { ZSYNC_STEP_SOCKET,	"socket" }),
		  __entry->what, __entry->res)
);

#endif /* _ZSYNC_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE zsync_trace
#include <trace/define_trace.h>
