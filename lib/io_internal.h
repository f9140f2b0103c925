/* SPDX-License-Identifier: MIT */
/*
 * io_internal.h - libzsync-k's executor layer, the parts no user sees.
 *
 * The moving parts and who owns what:
 *  - struct zk_io is a worker: one OS thread's view of the runtime, with
 *    its own loop (one ring of the chosen backend) and an inbox through
 *    which other threads wake the waiters that live on it.
 *  - struct zk_future is the one thing anybody waits on: an op in flight,
 *    a task, or a place in a primitive's wait queue.  It completes once;
 *    its completer takes the single registered waiter and wakes it.
 *  - struct zk_waiter is a waiting context (a thread, a parked green thread,
 *    a suspended stackless task).  Whoever takes a waiter to wake it
 *    counts itself in done_takers when it no longer touches it; the waiter
 *    returns only once every taker it knows of has done so.
 *  - struct zk_token (cancellation) lists the waiters waiting under it and
 *    wakes them when cancelled; each woken waiter cancels what it waits on
 *    itself, on its own thread (so kernel ops are cancelled on the ring
 *    that owns them).
 */
#ifndef ZK_IO_INTERNAL_H
#define ZK_IO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "zsync-k.h"
#include "zsync-k-io.h"

struct zk_runtime;

#define zk_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define ZK_LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ZK_STORE(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ZK_LOAD_SC(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define ZK_STORE_SC(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ZK_XCHG(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

/* One iteration of a spin-wait: tell the CPU (and a sibling thread). */
static inline void zk_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ------------------------------------------------------------------ */
/* Intrusive doubly linked list                                        */
/* ------------------------------------------------------------------ */

struct zk_list {
	struct zk_list *next, *prev;
};

static inline void zk_list_init(struct zk_list *h)
{
	h->next = h->prev = h;
}

static inline bool zk_list_empty(const struct zk_list *h)
{
	return h->next == h;
}

static inline void zk_list_insert(struct zk_list *n, struct zk_list *prev,
				  struct zk_list *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

static inline void zk_list_add_tail(struct zk_list *h, struct zk_list *n)
{
	zk_list_insert(n, h->prev, h);
}

static inline void zk_list_del(struct zk_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* Remove and return the first node, or NULL. */
static inline struct zk_list *zk_list_pop(struct zk_list *h)
{
	struct zk_list *n = h->next;

	if (n == h)
		return NULL;
	zk_list_del(n);
	return n;
}

/* Move every node of @from to the tail of @to. */
static inline void zk_list_splice_tail(struct zk_list *to, struct zk_list *from)
{
	if (zk_list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	zk_list_init(from);
}

/* ------------------------------------------------------------------ */
/* Ops                                                                 */
/* ------------------------------------------------------------------ */

enum zk_opcode {
	ZK_OPC_READ,
	ZK_OPC_WRITE,
	ZK_OPC_RECV,
	ZK_OPC_SEND,
	ZK_OPC_ACCEPT,
	ZK_OPC_CONNECT,
	ZK_OPC_OPEN,
	ZK_OPC_CLOSE,
	ZK_OPC_FSYNC,
	ZK_OPC_SLEEP,
	ZK_OPC_POLL,		/* wait for op->flags (POLLIN, POLLPRI, ...) */
	/* From here on the zsync ring's cgroup family (cglife.c): other
	 * backends, and the poller, complete them with -EOPNOTSUPP. */
	ZK_OPC_CG_SET,
	ZK_OPC_CG_ATTACH,
	ZK_OPC_CG_FREEZE,
	ZK_OPC_CG_THAW,
	ZK_OPC_CG_KILL,
	ZK_OPC_PIDFD_WAIT,
	ZK_OPC_COUNT
};

#define ZK_OPC_RING_ONLY	ZK_OPC_CG_SET

static inline bool zk_opc_ring_only(unsigned int code)
{
	return code >= ZK_OPC_RING_ONLY;
}

enum zk_op_state {
	ZK_OP_IDLE,
	ZK_OP_INFLIGHT,		/* the backend owns it */
	ZK_OP_DONE,
};

/* One I/O request.  Lives inside a future; the backend completes it once. */
struct zk_op {
	uint8_t code;		/* enum zk_opcode */
	uint8_t state;		/* enum zk_op_state */
	bool fallback;		/* zsync: runs as a syscall, the ring lacks it */
	bool sys_only;		/* zsync: run it as the syscall regardless */
	bool cancel_sent;
	int fd;
	int flags;		/* MSG_*, SOCK_*, O_* */
	unsigned int mode;
	void *buf;		/* READ/RECV buffer; ACCEPT addr out */
	const void *cbuf;	/* WRITE/SEND buffer; CONNECT addr; OPEN path;
				 * CG_SET knob name */
	const void *cbuf2;	/* CG_SET value (len bytes) */
	size_t len;		/* CONNECT addrlen */
	uint64_t off;
	socklen_t *addrlen;	/* ACCEPT */
	int64_t ns;		/* SLEEP */
	/* backend-private */
	struct zsync_timespec ts;	/* SLEEP: same layout as __kernel_timespec */
	int64_t deadline;		/* blocking: absolute CLOCK_MONOTONIC ns */
	short events;			/* blocking: what readiness it waits for */
	struct zk_list link;		/* blocking: waiting fd ops or timers */
};

/* ------------------------------------------------------------------ */
/* Backends                                                            */
/* ------------------------------------------------------------------ */

struct zk_loop {
	const struct zk_backend_ops *ops;
	struct zk_io *w;		/* the worker that owns it */
	void *priv;
};

/*
 * A backend runs ops on one worker's loop, from that worker's thread only,
 * except wake(), which any thread may call.  Completions are delivered
 * with zk_op_done() from inside submit() (ops that finish at once) or
 * wait(); they never run user code.
 */
struct zk_backend_ops {
	enum zk_backend kind;
	int (*init)(struct zk_loop *l, unsigned int entries);
	void (*exit)(struct zk_loop *l);
	void (*submit)(struct zk_loop *l, struct zk_op *op);
	void (*cancel)(struct zk_loop *l, struct zk_op *op);
	/* Reap completions; if @block, sleep until one arrives or a wake. */
	void (*wait)(struct zk_loop *l, bool block);
	/* Make @target's current or next blocking wait return. */
	void (*wake)(struct zk_loop *target, struct zk_loop *waker);
	/* Whether @code runs on the ring (false: a fallback syscall). */
	bool (*native)(const struct zk_loop *l, enum zk_opcode code);
};

extern const struct zk_backend_ops zk_backend_blocking;
extern const struct zk_backend_ops zk_backend_uring;
extern const struct zk_backend_ops zk_backend_zsync;

/* Backends report a finished op (from the owning worker's thread). */
void zk_op_done(struct zk_loop *l, struct zk_op *op, int res);

/* io_sys.c: the op as plain syscalls. */
int zk_sys_perform(struct zk_op *op);
short zk_sys_events(const struct zk_op *op);
bool zk_sys_may_block(const struct zk_op *op);
int64_t zk_mono_ns(void);

/* backend_blocking.c, reused by the zsync backend for its fallbacks. */
struct zk_sys_poller;
int zk_poller_init(struct zk_sys_poller **pp);
void zk_poller_exit(struct zk_sys_poller *p);
void zk_poller_submit(struct zk_loop *l, struct zk_sys_poller *p, struct zk_op *op);
void zk_poller_cancel(struct zk_loop *l, struct zk_sys_poller *p, struct zk_op *op);
/* ppoll() the poller's fds, @extra_fd (if >= 0) and the wake eventfd. */
bool zk_poller_wait(struct zk_loop *l, struct zk_sys_poller *p, bool block,
		    int extra_fd);
void zk_poller_wake(struct zk_sys_poller *p);
int zk_poller_eventfd(const struct zk_sys_poller *p);
bool zk_poller_busy(const struct zk_sys_poller *p);

/* ------------------------------------------------------------------ */
/* Futures and waiters                                                 */
/* ------------------------------------------------------------------ */

enum zk_future_kind {
	ZK_F_IDLE,		/* zk_future_new(), nothing started yet */
	ZK_F_OP,		/* an op on f->owner's loop */
	ZK_F_TASK,		/* struct zk_task's future */
	ZK_F_PRIM,		/* a place in a primitive's wait queue */
};

/* f->wslot: 0 (nobody waits), ZK_WSLOT_DONE, or a struct zk_waiter *. */
#define ZK_WSLOT_DONE	((uintptr_t)1)

/* A wait on a primitive: which queue, what it carries. */
struct zk_prim_wait {
	struct zk_list link;	/* in the primitive's queue */
	pthread_mutex_t *lock;	/* the primitive's lock, which guards link */
	bool queued;		/* under *lock: still in the queue */
	void *elem;		/* channel: element to send / receive into */
	uint32_t *claim;	/* select: shared claim word, else NULL */
	int64_t res;		/* result to complete with, set by the dequeuer */
	uint8_t wkind;		/* enum zk_wait_kind: what it waits for */
};

struct zk_future {
	uintptr_t wslot;	/* atomic, see ZK_WSLOT_DONE */
	int64_t result;		/* valid once wslot says DONE */
	uint8_t kind;		/* enum zk_future_kind */
	bool heap;		/* zk_future_new(): zk_future_free() frees it */
	struct zk_io *owner;	/* ZK_F_OP: the worker whose loop runs it */
	union {
		struct zk_op op;
		struct zk_prim_wait pw;
	};
};

struct zk_task;

struct zk_waiter {
	struct zk_io *owner;		/* the worker it lives on */
	struct zk_task *task;		/* parked green/stackless task, or NULL */
	struct zk_waiter *inbox_next;	/* in owner's inbox */
	int queued;			/* atomic: in owner's inbox */
	unsigned int done_takers;	/* atomic: takers finished with it */
	struct zk_token *tok;		/* the token it is registered with */
	bool in_token;			/* under tok's lock: still registered */
	struct zk_list tlink;		/* in tok->waiters */
};

static inline bool zk_fut_done(const struct zk_future *f)
{
	return __atomic_load_n(&f->wslot, __ATOMIC_ACQUIRE) == ZK_WSLOT_DONE;
}

void zk_future_init(struct zk_future *f, enum zk_future_kind kind);
void zk_future_reset(struct zk_future *f, enum zk_future_kind kind);
/* A primitive's op on @f that was done at once: @f is done with @res. */
void zk_future_prim_done(struct zk_future *f, int64_t res);
/* Complete @f with @res and wake its waiter; @waker is the calling context. */
void zk_future_complete(struct zk_io *waker, struct zk_future *f, int64_t res);
/* Ask @f to finish early (op: cancel; task: cancel its token; prim: dequeue). */
void zk_future_request_cancel(struct zk_io *io, struct zk_future *f);
/* zk_await(), optionally deaf to the token (for relocking after cond_wait). */
int64_t zk_await_internal(struct zk_io *io, struct zk_future *f, bool cancellable);

void zk_waiter_init(struct zk_waiter *w, struct zk_io *io, struct zk_task *task);
/* Register @w on @f; false if @f is already done (nothing registered). */
bool zk_waiter_attach(struct zk_waiter *w, struct zk_future *f);
/* Unregister; returns 1 if a completer took @w (one more wake to expect). */
unsigned int zk_waiter_detach(struct zk_waiter *w, struct zk_future *f);
/* Wake a waiter taken from a future or token. */
void zk_waiter_wake(struct zk_io *waker, struct zk_waiter *w);
/* Wait until @expected takers are done with @w and it left the inbox. */
void zk_waiter_quiesce(struct zk_io *io, struct zk_waiter *w, unsigned int expected);

/* Start an op future on @io's loop (fails fast when cancelled). */
int zk_op_start(struct zk_io *io, struct zk_future *f);
/*
 * Take @f (idle, or done with its last op) for a new op @code on @fd.
 * Return: the op to fill in before zk_op_start(), or NULL (-EINVAL or
 * -EBUSY in *@err).
 */
struct zk_op *zk_op_begin(struct zk_future *f, enum zk_opcode code, int fd,
			  int *err);
/* Whether @io's loop runs @code on the zsync ring (not a fallback). */
bool zk_on_ring(const struct zk_io *io, enum zk_opcode code);

/* ------------------------------------------------------------------ */
/* What a context waits on: zk_io_dump() and the profiler (dump.c)     */
/* ------------------------------------------------------------------ */

/* 1 + enum zk_opcode for an op, then the other things one waits on. */
enum zk_wait_kind {
	ZK_WAIT_NONE = 0,
	ZK_WAIT_TASK = 1 + ZK_OPC_COUNT,
	ZK_WAIT_MUTEX,
	ZK_WAIT_COND,
	ZK_WAIT_SEM,
	ZK_WAIT_WG,
	ZK_WAIT_CHAN_SEND,
	ZK_WAIT_CHAN_RECV,
	ZK_WAIT_SELECT,
	ZK_WAIT_KINDS
};

#define ZK_WAIT_OP(code)	((uint8_t)(1 + (code)))

/*
 * Written by the waiting thread, read by a dump on any thread: every field
 * goes through relaxed atomics, and a dump only prints them (obj is never
 * dereferenced), so a torn read shows a stale value and nothing worse.
 */
struct zk_wait_rec {
	uint8_t kind;		/* enum zk_wait_kind; NONE: not waiting */
	int fd;			/* ops on an fd, else -1 */
	int64_t arg;		/* SLEEP: ns; data ops: length; select: cases */
	const void *obj;	/* the primitive, or the awaited task's future */
	int64_t since;		/* when the wait began (CLOCK_MONOTONIC ns) */
	bool timed;		/* since is precise: the profiler counts it */
};

struct zk_task;
/* The record of the context @io runs (its task, or the thread itself). */
struct zk_wait_rec *zk_wait_rec_of(struct zk_io *io);
/* A wait on @f (or, @f NULL, a select of @n cases) begins / ends. */
struct zk_wait_rec *zk_wait_begin(struct zk_io *io, const struct zk_future *f,
				  unsigned int n);
void zk_wait_begin_rec(struct zk_io *io, struct zk_wait_rec *r,
		       const struct zk_future *f, unsigned int n);
void zk_wait_end(struct zk_io *io, struct zk_task *t, struct zk_wait_rec *r,
		 bool on_stack);
const char *zk_wait_name(unsigned int kind);
/* The signal-requested dump, from the root's loop (dump_sig.c). */
void zk_dump_requested(struct zk_io *io);
void zk_dump_signal_off(struct zk_runtime *rt);

/* profile.c: count a finished wait of @r; @on_stack: unwind the caller. */
void zk_prof_account(struct zk_io *io, struct zk_task *t,
		     const struct zk_wait_rec *r, bool on_stack);
void zk_prof_free(struct zk_runtime *rt);
int zk_prof_env_start(struct zk_runtime *rt);
void zk_prof_env_write(struct zk_runtime *rt);

/* dump.c: "name+0xoff", "module+0xoff" or "0xaddr" of a code address. */
void zk_sym_name(const void *pc, char *buf, size_t len, bool offset);
/* A stdio stream on a dup() of @fd (fclose() leaves @fd open), or NULL. */
FILE *zk_fd_stream(int fd);
/* exec_green.c: the frames of parked green thread @t, root context only. */
int zk_green_backtrace(struct zk_io *io, struct zk_task *t, void **pcs, int max);

/* ------------------------------------------------------------------ */
/* Cancellation tokens                                                 */
/* ------------------------------------------------------------------ */

/* Every token of a tree shares one lock, so parents and children never
 * need lock ordering; the tree lives while any of its tokens does. */
struct zk_token_tree {
	pthread_mutex_t lock;
	unsigned int refs;
};

struct zk_token {
	struct zk_token_tree *tree;
	struct zk_token *parent;
	struct zk_list children;
	struct zk_list sibling;
	struct zk_list waiters;
	int cancelled;		/* atomic */
	bool heap;
};

int zk_token_init(struct zk_token *t, struct zk_token *parent);
void zk_token_destroy(struct zk_token *t);
/* Register @w so cancelling @t wakes it; false if @t is already cancelled. */
bool zk_token_watch(struct zk_token *t, struct zk_waiter *w);
/* Unregister; returns 1 if the canceller took @w (one more wake to expect). */
unsigned int zk_token_unwatch(struct zk_token *t, struct zk_waiter *w);

/* ------------------------------------------------------------------ */
/* Tasks and executors                                                 */
/* ------------------------------------------------------------------ */

enum zk_task_state {
	ZK_TASK_NEW,
	ZK_TASK_READY,
	ZK_TASK_RUNNING,
	ZK_TASK_PARKED,
	ZK_TASK_DEAD,
	/* M:N: woken while RUNNING; it goes back to a run queue, not to sleep */
	ZK_TASK_WOKEN,
};

struct zk_task {
	struct zk_future fut;		/* the task's future */
	zk_task_fn fn;			/* direct-style body, or NULL */
	zk_step_fn step;		/* state machine, or NULL */
	void *arg;
	struct zk_token token;		/* child of the spawner's */
	struct zk_io *w;		/* worker it runs on */
	struct zk_list link;		/* ready queue / pool queue */
	int state;			/* enum zk_task_state */
	/* state machines: what the last step waits for */
	struct zk_future *wait_f;
	bool wait_attached, watching, cancel_sent, rerun;
	bool step_now;			/* zk_pending() on a done future */
	struct zk_waiter waiter;
	/* green threads */
	void *sp;			/* saved stack pointer */
	void *stack;			/* mapping, guard page included */
	size_t stack_len;
	void *san_fiber;		/* TSan fiber */
	void *san_fake_stack;		/* ASan fake stack of this context */
	bool green_out;			/* switched out at least once, stack valid */
	void **bt;			/* zk_green_backtrace(): where to unwind */
	int bt_max, bt_n;
	/* zk_io_dump(), the profiler */
	struct zk_list all;		/* in rt->tasks */
	uint64_t id, parent_id;		/* 1, 2, ...; parent: 0 for a root */
	int step_state;			/* zk_step_state() */
	struct zk_wait_rec wait;
};

struct zk_exec_ops {
	enum zk_executor kind;
	int (*start)(struct zk_runtime *rt);
	void (*stop)(struct zk_runtime *rt);
	int (*spawn)(struct zk_io *io, struct zk_task *t);
	/* Wait until something may have changed for the current context. */
	void (*park)(struct zk_io *io);
	/* The task a wake must resume (green thread), or NULL (thread-level). */
	struct zk_task *(*parkable)(struct zk_io *io);
	/* From the owner's thread: resume @t, which a waker took. */
	void (*make_ready)(struct zk_io *io, struct zk_task *t);
	int (*yield)(struct zk_io *io);
	/* Free what the executor gave @t (its stack). */
	void (*release)(struct zk_io *io, struct zk_task *t);
	/* make_ready() may run on any thread (M:N): no inbox for tasks. */
	bool ready_anywhere;
	/* zk_pending() suspends the task (stackless), not the thread. */
	bool suspends_steps;
};

extern const struct zk_exec_ops zk_exec_blocking;
extern const struct zk_exec_ops zk_exec_threads;
extern const struct zk_exec_ops zk_exec_green;
extern const struct zk_exec_ops zk_exec_stackless;
extern const struct zk_exec_ops zk_exec_stackless_mn;

/* exec_threads.c: start rt->opts.threads workers running @main / stop them. */
int zk_pool_start(struct zk_runtime *rt, void *(*main)(void *));
void zk_pool_stop(struct zk_runtime *rt);

/* Executor parts that the blocking executor and the pool share. */
int zk_exec_no_start(struct zk_runtime *rt);
void zk_exec_no_stop(struct zk_runtime *rt);
void zk_exec_thread_park(struct zk_io *io);
struct zk_task *zk_exec_no_task(struct zk_io *io);
void zk_exec_no_resume(struct zk_io *io, struct zk_task *t);
int zk_exec_thread_yield(struct zk_io *io);
void zk_exec_no_release(struct zk_io *io, struct zk_task *t);

/* Run @t's body on the current thread and complete its future. */
void zk_task_run(struct zk_io *io, struct zk_task *t);
/* Take @t out of the runtime's list of tasks (it is being freed). */
void zk_task_forget(struct zk_runtime *rt, struct zk_task *t);

/* ------------------------------------------------------------------ */
/* Workers and the runtime                                             */
/* ------------------------------------------------------------------ */

struct zk_runtime;

/* struct zk_io: one worker (OS thread) of a runtime. */
struct zk_io {
	struct zk_runtime *rt;
	struct zk_loop loop;
	pthread_t thread;		/* the thread it runs on */
	pthread_t handle;		/* pool workers: to join */
	unsigned int index;		/* 0: the root (zk_io_init's caller) */
	struct zk_waiter *inbox;	/* atomic MPSC stack */
	int sleeping;			/* atomic: asleep, and how (io.c) */
	int kicked;			/* atomic: do not sleep */
	int64_t spin_ns;		/* adaptive spin budget before sleeping */
	unsigned int inflight;		/* ops submitted, not completed */
	struct zk_task *cur;		/* task running here, NULL at the root */
	/* green threads and state machines (run by the root worker) */
	struct zk_list ready;
	void *sched_sp;
	void *sched_fiber;		/* TSan: the thread's own fiber */
	void *sched_fake_stack;		/* ASan */
	const void *sched_stack_bottom;
	size_t sched_stack_size;
	struct zk_list stack_cache;	/* free green stacks, hottest first */
	unsigned int stacks_cached;
	unsigned int stacks_low;	/* fewest cached since the last trim */
	unsigned int stack_ticks;	/* exits and root rounds, see exec_green.c */
	int64_t stack_trim_at;		/* CLOCK_MONOTONIC ns of the next trim */
	/* thread pool, M:N: idle workers, under rt->lock */
	bool idle;
	struct zk_list idle_link;
	/* M:N: the run queue is ready, under rq_lock; rq_len mirrors its length */
	pthread_mutex_t rq_lock;
	unsigned int rq_len;		/* atomic: thieves skip empty queues */
	unsigned int steal_from;	/* next victim to look at */
	struct zk_wait_rec wait;	/* the thread's own waits, outside tasks */
	struct zk_prof *prof;		/* profiler table, while profiling */
};

struct zk_runtime {
	struct zk_io_opts opts;
	const struct zk_backend_ops *bops;
	const struct zk_exec_ops *eops;
	struct zk_io root;
	unsigned int nworkers;		/* thread pool workers */
	struct zk_io *workers;
	pthread_mutex_t lock;		/* pool queue */
	struct zk_list runq;
	struct zk_list idle;
	bool stopping;			/* written under lock, read atomically */
	unsigned int nidle;		/* atomic: M:N workers in idle */
	unsigned int next_worker;	/* atomic: M:N, spawns from outside */
	/* every task not freed yet, for zk_io_dump() */
	pthread_mutex_t tasks_lock;
	struct zk_list tasks;
	uint64_t next_id;
	int dump_req;			/* atomic: a signal asked for a dump */
	int dump_fd;
	unsigned int dump_flags;
	int profiling;			/* atomic: the profiler counts waits */
	struct zk_prof *prof_tables;	/* root's, then each pool worker's */
	unsigned int prof_n;
	char *prof_path;		/* ZK_PROFILE: written at zk_io_exit() */
};

int zk_worker_init(struct zk_runtime *rt, struct zk_io *w, unsigned int index);
void zk_worker_exit(struct zk_io *w);
/* One round of the loop: reap (and sleep if @block), then the inbox. */
void zk_loop_wait(struct zk_io *w, bool block);
void zk_inbox_process(struct zk_io *w);
/* Make @w's thread leave (or skip) its next blocking wait. */
void zk_worker_kick(struct zk_io *waker, struct zk_io *w);
bool zk_on_thread(const struct zk_io *w);

/* Single-thread scheduler shared by green threads and state machines. */
void zk_sched_park(struct zk_io *io, void (*resume)(struct zk_io *, struct zk_task *));
void zk_sched_make_ready(struct zk_io *io, struct zk_task *t);

/* Stackless: register @t's wait on @f (zk_pending() on that executor). */
void zk_stackless_suspend(struct zk_io *io, struct zk_task *t, struct zk_future *f);

/* Primitives' shared wait-queue helpers (sync_queue.c). */
void zk_prim_enqueue(pthread_mutex_t *lock, struct zk_list *q,
		     struct zk_future *f, void *elem, uint32_t *claim,
		     enum zk_wait_kind kind);
/* Dequeue the first waiter that can still be claimed (losers go to @done). */
struct zk_future *zk_prim_take(struct zk_list *q, struct zk_list *done);
/* Queue @f on @done to be completed with @res once the lock is dropped. */
void zk_prim_finish(struct zk_list *done, struct zk_future *f, int64_t res);
void zk_prim_complete_all(struct zk_io *io, struct zk_list *done);
void zk_prim_cancel(struct zk_io *io, struct zk_future *f);

/* chan.c, for zk_select(): lock every channel, try, or queue with a claim. */
struct zk_chan;
void zk_chan_lock(struct zk_chan *ch);
void zk_chan_unlock(struct zk_chan *ch);
int zk_chan_try_locked(struct zk_chan *ch, void *elem, bool is_send,
		       struct zk_list *done);
void zk_chan_enqueue_locked(struct zk_chan *ch, struct zk_future *f, void *elem,
			    bool is_send, uint32_t *claim);

#endif /* ZK_IO_INTERNAL_H */
