/* SPDX-License-Identifier: MIT */
/*
 * zsync-k-io.h - libzsync-k's colorless Io interface: backends, executors,
 * futures, cancellation tokens and async primitives.
 *
 * User code receives a struct zk_io * and calls zk_read(), zk_sleep(),
 * zk_chan_send(), ... as if they were blocking calls.  Whether a call blocks
 * the OS thread, parks a green thread or (through zk_async_step()) suspends
 * a stackless task is decided once, by the executor chosen at zk_io_init().
 * The backend (the zsync module's rings, io_uring, or plain syscalls) is
 * chosen the same way, or from the environment (ZK_BACKEND, ZK_EXECUTOR).
 *
 * Rules:
 *  - every function that can fail returns a negative errno (or NULL where
 *    it returns a pointer, with errno set);
 *  - the library keeps no global state: everything hangs off the runtime
 *    that zk_io_init() creates;
 *  - allocation happens at init and at spawn (zk_io_init, zk_async*,
 *    zk_future_new, zk_token_new, zk_*_new) and when an unbounded channel
 *    grows; the calls on the hot path (ops, awaits, channel operations on a
 *    bounded channel, locks) never allocate;
 *  - a struct zk_io handle belongs to the context it was given to (the
 *    caller of zk_io_init(), or a task): do not pass it to another thread.
 *    Primitives (channels, mutexes, ...) and tokens are shared freely.
 *
 * Installed (make install), build with
 *	cc app.c $(pkg-config --cflags --libs zsync-k-io)
 * libzsync-k-io needs libzsync-k and liburing (pkg-config --static names them).
 * See Documentation/executors.rst.
 */
#ifndef ZSYNC_K_IO_H
#define ZSYNC_K_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct zk_io;
struct zk_future;
struct zk_token;
struct zk_chan;
struct zk_mutex;
struct zk_cond;
struct zk_sem;
struct zk_wg;

/* ------------------------------------------------------------------ */
/* Runtime                                                             */
/* ------------------------------------------------------------------ */

/**
 * enum zk_backend - what executes the I/O
 * @ZK_BACKEND_AUTO: zsync if /dev/zsync (or $ZSYNC_DEV) opens, else
 *	io_uring, else blocking
 * @ZK_BACKEND_ZSYNC: the module's rings; ops it lacks or has disabled run
 *	as syscalls
 * @ZK_BACKEND_IO_URING: io_uring, through liburing
 * @ZK_BACKEND_BLOCKING: plain syscalls; an op that would block waits for
 *	readiness in ppoll()
 */
enum zk_backend {
	ZK_BACKEND_AUTO = 0,
	ZK_BACKEND_ZSYNC,
	ZK_BACKEND_IO_URING,
	ZK_BACKEND_BLOCKING,
};

/**
 * enum zk_executor - what runs the tasks
 * @ZK_EXEC_BLOCKING: zk_async() runs the task to completion before
 *	returning; no two tasks run at once
 * @ZK_EXEC_THREADS: a pool of worker threads, one loop (ring) each,
 *	taking tasks from one queue
 * @ZK_EXEC_GREEN: stackful coroutines on the thread that called
 *	zk_io_init()
 * @ZK_EXEC_STACKLESS: state-machine tasks (zk_async_step()) on the thread
 *	that called zk_io_init()
 * @ZK_EXEC_STACKLESS_MN: state-machine tasks spread over @threads worker
 *	threads (M:N), one loop (ring) and one run queue each, with work
 *	stealing; the caller of zk_io_init() only spawns and awaits
 */
enum zk_executor {
	ZK_EXEC_BLOCKING = 0,
	ZK_EXEC_THREADS,
	ZK_EXEC_GREEN,
	ZK_EXEC_STACKLESS,
	ZK_EXEC_STACKLESS_MN,
};

/* Environment variables read by zk_io_opts_from_env(). */
#define ZK_ENV_BACKEND	"ZK_BACKEND"	/* auto, zsync, io_uring, blocking */
#define ZK_ENV_EXECUTOR	"ZK_EXECUTOR"	/* blocking, threads, green, stackless,
						 * stackless-mn */

/**
 * struct zk_io_opts - zk_io_init() options; zero means "default"
 * @backend: which backend (default: AUTO)
 * @executor: which executor (default: BLOCKING)
 * @threads: worker threads of ZK_EXEC_THREADS (default: online CPUs) and
 *	of ZK_EXEC_STACKLESS_MN (default: the CPUs this process may run on,
 *	sched_getaffinity())
 * @stack_size: green thread stack size in bytes, rounded up to pages
 *	(default 256 KiB; a guard page is added below it)
 * @entries: ring size of each loop (default 256)
 */
struct zk_io_opts {
	enum zk_backend backend;
	enum zk_executor executor;
	unsigned int threads;
	size_t stack_size;
	unsigned int entries;
};

/**
 * zk_io_opts_from_env() - override @o's backend/executor from ZK_BACKEND
 * and ZK_EXECUTOR
 * @o: options to update (fields not named by the environment are kept)
 *
 * Return: 0, or -EINVAL when a variable holds an unknown name.
 */
int zk_io_opts_from_env(struct zk_io_opts *o);

/**
 * zk_io_init() - create a runtime and return its root handle
 * @io: receives the handle for the calling thread (NULL on failure)
 * @opts: options, or NULL for all defaults; copied
 *
 * Allocates the runtime, opens one loop (ring) for the caller and, for
 * ZK_EXEC_THREADS, one per worker thread, and starts the workers.
 *
 * Return: 0, -ENOENT/-ENODEV/-ENOSYS when the requested backend is not
 * available here, -EINVAL for an unknown backend or executor, or
 * another -errno.
 */
int zk_io_init(struct zk_io **io, const struct zk_io_opts *opts);

/**
 * zk_io_exit() - stop the workers and free the runtime
 * @io: root handle from zk_io_init(), or NULL (ignored)
 *
 * Every task must have finished (await them first).
 */
void zk_io_exit(struct zk_io *io);

/**
 * zk_io_backend() - the backend @io actually uses (never AUTO)
 * @io: any handle of the runtime
 *
 * Return: ZK_BACKEND_ZSYNC, ZK_BACKEND_IO_URING or ZK_BACKEND_BLOCKING:
 * what ZK_BACKEND_AUTO resolved to, or what was asked for.
 */
enum zk_backend zk_io_backend(const struct zk_io *io);

/**
 * zk_io_executor() - the executor of @io's runtime
 * @io: any handle of the runtime
 *
 * Return: the executor zk_io_init() was given (ZK_EXEC_BLOCKING by
 * default).
 */
enum zk_executor zk_io_executor(const struct zk_io *io);

/**
 * zk_backend_name() - "zsync", "io_uring", "blocking" or "auto"
 * @b: a backend
 *
 * Return: the name ZK_BACKEND accepts for @b, a static string; "?" for a
 * value outside enum zk_backend.
 */
const char *zk_backend_name(enum zk_backend b);

/**
 * zk_executor_name() - "blocking", "threads", "green", "stackless" or
 * "stackless-mn"
 * @e: an executor
 *
 * Return: the name ZK_EXECUTOR accepts for @e, a static string; "?" for
 * a value outside enum zk_executor.
 */
const char *zk_executor_name(enum zk_executor e);

/**
 * zk_io_native_ops() - how many of @io's op kinds run on the backend's
 * ring rather than as a fallback syscall (zsync: those zk_probe() lists)
 * @io: handle whose loop is asked
 * @total: if not NULL, receives the number of op kinds
 *
 * Return: the number of op kinds that run natively; all of them on the
 * io_uring and blocking backends.
 */
unsigned int zk_io_native_ops(const struct zk_io *io, unsigned int *total);

/* ------------------------------------------------------------------ */
/* I/O: each call returns when the op completed, with its result       */
/* ------------------------------------------------------------------ */

/* Offset that means "the file position" (read(2)/write(2) semantics). */
#define ZK_OFF_CURRENT	((uint64_t)-1)

/**
 * zk_read() - read up to @len bytes at @off
 * @io: the calling context's handle
 * @fd: file open for reading
 * @buf: where the data goes
 * @len: its size in bytes
 * @off: file offset, or ZK_OFF_CURRENT to read at, and advance, the file
 *	position as read(2) does (the only choice on pipes and sockets)
 *
 * Return: the number of bytes read (0 at the end of the file; fewer than
 * @len is no error), or -errno (-ECANCELED when the caller's token was
 * cancelled first).
 */
ssize_t zk_read(struct zk_io *io, int fd, void *buf, size_t len, uint64_t off);

/**
 * zk_write() - write up to @len bytes at @off
 * @io: the calling context's handle
 * @fd: file open for writing
 * @buf: the data
 * @len: its size in bytes
 * @off: file offset, or ZK_OFF_CURRENT to write at, and advance, the
 *	file position as write(2) does
 *
 * Return: the number of bytes written (possibly fewer than @len), or
 * -errno (-ECANCELED when the caller's token was cancelled first).
 */
ssize_t zk_write(struct zk_io *io, int fd, const void *buf, size_t len, uint64_t off);

/**
 * zk_recv() - recv(2) with MSG_* @flags
 * @io: the calling context's handle
 * @fd: socket
 * @buf: where the data goes
 * @len: its size in bytes
 * @flags: MSG_* flags of recv(2) (MSG_PEEK, MSG_WAITALL, ...) or 0
 *
 * Return: the number of bytes received (0 at the end of the stream), or
 * -errno (-ECANCELED when the caller's token was cancelled first).
 */
ssize_t zk_recv(struct zk_io *io, int fd, void *buf, size_t len, int flags);

/**
 * zk_send() - send(2) with MSG_* @flags
 * @io: the calling context's handle
 * @fd: socket
 * @buf: the data
 * @len: its size in bytes
 * @flags: MSG_* flags of send(2) or 0; MSG_NOSIGNAL is always added
 *
 * Return: the number of bytes sent (possibly fewer than @len), or -errno
 * (-EPIPE for a broken connection, never SIGPIPE; -ECANCELED when the
 * caller's token was cancelled first).
 */
ssize_t zk_send(struct zk_io *io, int fd, const void *buf, size_t len, int flags);

/**
 * zk_accept() - accept4(2) with SOCK_* @flags
 * @io: the calling context's handle
 * @fd: listening socket
 * @addr: receives the peer's address, or NULL
 * @addrlen: in: the size of @addr; out: the address's full length; NULL
 *	when @addr is
 * @flags: SOCK_NONBLOCK and/or SOCK_CLOEXEC for the new socket, or 0
 *
 * The zsync backend runs accept4(2) itself unless the module allows
 * ACCEPT (lsm_bypass_net), so that LSM hooks see it.
 *
 * Return: the new connection's descriptor, or -errno.
 */
int zk_accept(struct zk_io *io, int fd, struct sockaddr *addr,
	      socklen_t *addrlen, int flags);

/**
 * zk_connect() - connect(2)
 * @io: the calling context's handle
 * @fd: socket; make it O_NONBLOCK (SOCK_NONBLOCK): where connect(2) runs
 *	as a syscall (the blocking backend, and the zsync backend unless the
 *	module allows CONNECT) a blocking socket blocks the whole thread
 * @addr: the address to connect to
 * @addrlen: its size
 *
 * Return: 0 once connected, or -errno (-ECONNREFUSED, -ETIMEDOUT, ...).
 */
int zk_connect(struct zk_io *io, int fd, const struct sockaddr *addr,
	       socklen_t addrlen);

/**
 * zk_open() - openat(AT_FDCWD, ...)
 * @io: the calling context's handle
 * @path: NUL-terminated path, relative ones from the current directory
 * @flags: O_* flags of open(2)
 * @mode: permissions for O_CREAT and O_TMPFILE (the umask applies), else 0
 *
 * Return: the new descriptor, or -errno.
 */
int zk_open(struct zk_io *io, const char *path, int flags, unsigned int mode);

/**
 * zk_close() - close(2)
 * @io: the calling context's handle
 * @fd: the descriptor to close
 *
 * Return: 0 or -errno.
 */
int zk_close(struct zk_io *io, int fd);

/**
 * zk_fsync() - fsync(2)
 * @io: the calling context's handle
 * @fd: file whose data and metadata go to its storage
 *
 * Return: 0 or -errno.
 */
int zk_fsync(struct zk_io *io, int fd);

/**
 * zk_sleep() - sleep @ns nanoseconds
 * @io: the calling context's handle
 * @ns: nanoseconds on CLOCK_MONOTONIC; 0 or less completes at the loop's
 *	next turn
 *
 * Return: 0 once the time passed, -ECANCELED when cancelled first.
 */
int zk_sleep(struct zk_io *io, int64_t ns);

/**
 * zk_yield() - let other green threads of this thread run; sched_yield()
 * on the other executors
 * @io: the calling context's handle
 *
 * Return: 0.
 */
int zk_yield(struct zk_io *io);

/* ------------------------------------------------------------------ */
/* Futures                                                             */
/* ------------------------------------------------------------------ */

/**
 * typedef zk_task_fn - a task body; its return value is the future's result
 * @io: the task's own handle: use it, not the spawner's, inside the task
 * @arg: the argument given to zk_async() or zk_async_in()
 *
 * Return: the task's result, what zk_await() on its future returns
 * (by convention >= 0, or -errno).
 */
typedef int64_t (*zk_task_fn)(struct zk_io *io, void *arg);

/**
 * zk_async() - run @fn(io, @arg) as a new task
 * @io: the spawning context
 * @fn: task body; it receives its own handle
 * @arg: its argument, passed as is; it must stay valid while the task
 *	uses it
 *
 * The task gets a cancellation token that is a child of the spawner's;
 * if that token is cancelled already, @fn never runs and the future
 * completes with -ECANCELED.  Blocking executor (and direct-style tasks
 * on the stackless one): @fn runs to completion before zk_async()
 * returns.
 *
 * Context: on ZK_EXEC_GREEN, the thread that called zk_io_init().
 * Return: the task's future (free it with zk_future_free() after it
 * completed), or NULL with errno set: ENOMEM; or EINVAL when a green
 * thread is spawned from a thread other than zk_io_init()'s.  A green
 * thread's stack is mapped when it first runs: if that fails, @fn never
 * runs and the future completes with the error (-ENOMEM).
 */
struct zk_future *zk_async(struct zk_io *io, zk_task_fn fn, void *arg);

/**
 * zk_async_in() - zk_async() with a token that is a child of @parent
 * @io: the spawning context
 * @parent: the parent token, for instance from zk_token_new() (NULL: the
 *	spawner's); cancelling it cancels the task
 * @fn: task body
 * @arg: its argument
 *
 * Return: as zk_async().
 */
struct zk_future *zk_async_in(struct zk_io *io, struct zk_token *parent,
			      zk_task_fn fn, void *arg);

/**
 * zk_await() - wait for @f to complete
 * @io: the waiting context
 * @f: the future (one awaiter at a time); an op's future is awaited on
 *	the handle that started the op
 *
 * If the waiting context's token is cancelled meanwhile, @f is cancelled
 * (its kernel op cancelled, its task's token cancelled) and the call still
 * waits for @f's final completion, so no resource outlives it.
 *
 * Return: @f's result: >= 0, or -errno (-ECANCELED once cancelled);
 * -EINVAL if @f never started anything, -EBUSY if another context awaits
 * it.
 */
int64_t zk_await(struct zk_io *io, struct zk_future *f);

/**
 * zk_cancel() - cancel @f and wait for its final completion
 * @io: the calling context
 * @f: the future
 *
 * An op in flight is cancelled in the kernel (CANCEL, io_uring cancel or
 * removal from the poll set); a task's token is cancelled, which cancels
 * its children and whatever they wait on.  Resources are released once,
 * by whichever of completion and cancellation won.
 *
 * Return: @f's result (-ECANCELED if the cancellation won the race).
 */
int64_t zk_cancel(struct zk_io *io, struct zk_future *f);

/**
 * zk_future_free() - release a future
 * @io: the calling context
 * @f: future from zk_async*() or zk_future_new() (NULL is ignored)
 *
 * A future still pending is cancelled and waited for first.
 */
void zk_future_free(struct zk_io *io, struct zk_future *f);

/**
 * zk_future_done() - whether @f has completed
 * @f: any future
 *
 * Return: true once @f's result is final; it does not wait.
 */
bool zk_future_done(const struct zk_future *f);

/**
 * zk_future_result() - result of a completed future (-EINPROGRESS if not)
 * @f: any future
 *
 * Return: @f's result once it completed, else -EINPROGRESS; it does not
 * wait.
 */
int64_t zk_future_result(const struct zk_future *f);

/**
 * zk_future_new() - an op future for the zk_*_async() calls
 *
 * Description: Allocated once, reused for any number of ops (one at a
 * time), freed with zk_future_free().
 *
 * Return: the future, idle, or NULL (errno ENOMEM).
 */
struct zk_future *zk_future_new(void);

/**
 * zk_read_async() - start an op on a future and return at once
 * @io: the calling context; the op belongs to its loop, so @f is awaited,
 *	cancelled and freed on this handle
 * @f: the future, from zk_future_new(): idle, or completed by its last
 *	op (whose result is then dropped)
 * @fd: the file, open for reading
 * @buf: the buffer; it must stay valid until @f completes
 * @len: its size in bytes
 * @off: the file offset, or ZK_OFF_CURRENT for the file position
 *
 * The async forms of zk_read(), zk_write(), zk_recv(), zk_send(),
 * zk_accept(), zk_open(), zk_close() and zk_sleep(): zk_read_async(),
 * zk_write_async(), zk_recv_async(), zk_send_async(), zk_accept_async(),
 * zk_open_async(), zk_close_async() and zk_sleep_async() take the same
 * arguments after @f as their blocking form:
 *
 * zk_write_async(): @buf is the data to write, @len its size, @off as
 * above.
 *
 * zk_recv_async(), zk_send_async(): @fd is a socket, @buf and @len the
 * buffer, @flags the MSG_* flags.
 *
 * zk_accept_async(): @fd is a listening socket, @addr and @addrlen
 * receive the peer's address (both NULL for none), @flags holds
 * SOCK_NONBLOCK and SOCK_CLOEXEC.
 *
 * zk_open_async(): @path (which must stay valid until @f completes),
 * @flags (O_*) and @mode, as zk_open() takes them.
 *
 * zk_close_async(): @fd only.  zk_sleep_async(): @ns, nanoseconds.
 *
 * @f completes with what the blocking form returns; zk_await() or
 * zk_pending() waits for it, zk_select() for one of several.  Buffers
 * must stay valid until @f completes.
 *
 * Return: 0 once the op started (its own errors come through @f);
 * -ECANCELED when the caller's token is cancelled already (@f is then
 * complete with -ECANCELED); -EBUSY while @f's last op is still in
 * flight, -EINVAL when @f is a task's or a primitive's future (@f is
 * left as it was).
 */
int zk_read_async(struct zk_io *io, struct zk_future *f, int fd, void *buf,
		  size_t len, uint64_t off);
int zk_write_async(struct zk_io *io, struct zk_future *f, int fd,
		   const void *buf, size_t len, uint64_t off);
int zk_recv_async(struct zk_io *io, struct zk_future *f, int fd, void *buf,
		  size_t len, int flags);
int zk_send_async(struct zk_io *io, struct zk_future *f, int fd,
		  const void *buf, size_t len, int flags);
int zk_accept_async(struct zk_io *io, struct zk_future *f, int fd,
		    struct sockaddr *addr, socklen_t *addrlen, int flags);
int zk_open_async(struct zk_io *io, struct zk_future *f, const char *path,
		  int flags, unsigned int mode);
int zk_close_async(struct zk_io *io, struct zk_future *f, int fd);
int zk_sleep_async(struct zk_io *io, struct zk_future *f, int64_t ns);

/* ------------------------------------------------------------------ */
/* Stackless tasks                                                     */
/* ------------------------------------------------------------------ */

/* Returned by a step function that waits (see zk_pending()). */
#define ZK_PENDING	INT64_MIN

/**
 * typedef zk_step_fn - one step of a state-machine task
 * @io: the task's own handle, for the ops and zk_pending() of this step
 * @arg: the state given to zk_async_step(), the same at every step
 *
 * Called again and again until it returns something other than
 * ZK_PENDING, which becomes the task's result.  It keeps its state in
 * @arg (no stack survives between steps) and returns zk_pending(io, f)
 * to be called again once the future f completed.
 *
 * Return: zk_pending()'s ZK_PENDING to be called again, or the task's
 * result.
 */
typedef int64_t (*zk_step_fn)(struct zk_io *io, void *arg);

/**
 * zk_async_step() - run a state-machine task
 * @io: spawning context
 * @step: the step function
 * @arg: its state, passed to every step; it must stay valid until the
 *	task completed
 *
 * On ZK_EXEC_STACKLESS the task has no stack: each step is a plain call
 * from the event loop.  On ZK_EXEC_STACKLESS_MN the steps run on the
 * worker threads, one at a time, each step possibly on another worker:
 * a step uses the @io it is given.  On the other executors the same
 * state machine runs as an ordinary task that awaits between steps.
 *
 * Context: on ZK_EXEC_GREEN and ZK_EXEC_STACKLESS, the thread that called
 * zk_io_init(); on ZK_EXEC_STACKLESS_MN, that thread or a step.
 * Return: as zk_async().
 */
struct zk_future *zk_async_step(struct zk_io *io, zk_step_fn step, void *arg);

/**
 * zk_pending() - from a step function: call me again when @f completed
 * @io: the step's handle
 * @f: the future to wait for: an op started on @io, a task's future or a
 *	primitive's
 *
 * If the task's token is cancelled meanwhile, @f is cancelled and the
 * step still runs once @f completed.
 *
 * Context: a step function of a zk_async_step() task, on its own handle.
 * Return: ZK_PENDING, for the step to return; -EINVAL when called outside
 * a step function or with a NULL or never started @f (returned as is,
 * it ends the task with -EINVAL).
 */
int64_t zk_pending(struct zk_io *io, struct zk_future *f);

/* ------------------------------------------------------------------ */
/* Cancellation tokens                                                 */
/* ------------------------------------------------------------------ */

/**
 * zk_token_new() - a cancellation token
 * @parent: parent token or NULL; a child of a cancelled parent starts
 *	cancelled, and cancelling the parent cancels the child
 *
 * Return: the token, or NULL (errno ENOMEM).
 */
struct zk_token *zk_token_new(struct zk_token *parent);

/**
 * zk_token_free() - free a token
 * @t: a token from zk_token_new(), or NULL
 *
 * Its children, tokens and tasks' tokens, may outlive it: they become
 * roots and keep their cancelled state.
 */
void zk_token_free(struct zk_token *t);

/**
 * zk_token_cancel() - cancel @t and, recursively, its children
 * @io: the calling context (used to wake the cancelled waiters)
 * @t: the token: from zk_token_new(), or a running task's
 *	(zk_current_token())
 *
 * Every context waiting under one of these tokens (on an op, a sleep, a
 * primitive, a task) is woken and cancels what it waits on; the ops they
 * would start later fail with -ECANCELED.
 *
 * Return: 0, or -EALREADY when @t was cancelled already (itself or
 * through an ancestor).
 */
int zk_token_cancel(struct zk_io *io, struct zk_token *t);

/**
 * zk_token_cancelled() - whether @t (or an ancestor) was cancelled
 * @t: a token, or NULL
 *
 * Return: true once @t is cancelled; false for NULL.
 */
bool zk_token_cancelled(const struct zk_token *t);

/**
 * zk_current_token() - the token of the running task (NULL at the root)
 * @io: the calling context's handle
 *
 * Return: the token of the task @io runs, owned by the task (it lives as
 * long as the task's future); NULL outside a task.
 */
struct zk_token *zk_current_token(struct zk_io *io);

/**
 * zk_cancelled() - whether the running task's token is cancelled
 * @io: the calling context's handle
 *
 * Return: true once the token of the task @io runs is cancelled; always
 * false outside a task.
 */
bool zk_cancelled(struct zk_io *io);

/* ------------------------------------------------------------------ */
/* Channels                                                            */
/* ------------------------------------------------------------------ */

/**
 * zk_chan_new() - a bounded channel of @capacity elements of @elem_size
 * bytes (capacity 0: every send waits for a receiver)
 * @elem_size: size of one element in bytes, not 0; sends and receives
 *	copy that many bytes
 * @capacity: elements buffered before a send waits; 0 hands each element
 *	straight from a sender to a receiver
 *
 * Return: the channel (free it with zk_chan_free()), or NULL (errno
 * ENOMEM, or EINVAL for an @elem_size of 0).
 */
struct zk_chan *zk_chan_new(size_t elem_size, size_t capacity);

/**
 * zk_chan_new_unbounded() - a channel whose sends never wait; its buffer
 * grows (doubling, with malloc) as needed
 * @elem_size: size of one element in bytes, not 0
 *
 * Return: the channel (free it with zk_chan_free()), or NULL (errno
 * ENOMEM, or EINVAL for an @elem_size of 0).
 */
struct zk_chan *zk_chan_new_unbounded(size_t elem_size);

/**
 * zk_chan_free() - free a channel nobody uses any more
 * @ch: the channel, with no sender or receiver waiting and no select
 *	naming it; elements still buffered are dropped; NULL is ignored
 */
void zk_chan_free(struct zk_chan *ch);

/**
 * zk_chan_send() - send a copy of *@elem, waiting while the channel is full
 * @io: the calling context's handle
 * @ch: the channel
 * @elem: the element, elem_size bytes, copied before the call returns
 *
 * Return: 0, -EPIPE if the channel is closed, -ECANCELED, -ENOMEM
 * (unbounded growth failed).
 */
int zk_chan_send(struct zk_io *io, struct zk_chan *ch, const void *elem);

/**
 * zk_chan_recv() - receive into *@elem, waiting while the channel is empty
 * @io: the calling context's handle
 * @ch: the channel
 * @elem: where the element is copied, elem_size bytes
 *
 * Return: 0, -EPIPE once the channel is closed and drained, -ECANCELED.
 */
int zk_chan_recv(struct zk_io *io, struct zk_chan *ch, void *elem);

/**
 * zk_chan_try_send() - send without waiting; -EAGAIN when it would wait
 * @io: the calling context's handle (it wakes the receiver)
 * @ch: the channel
 * @elem: the element, elem_size bytes, copied before the call returns
 *
 * Return: 0 when sent; -EAGAIN when the channel is full (capacity 0: no
 * receiver waits); -EPIPE if the channel is closed; -ENOMEM (unbounded
 * growth failed).
 */
int zk_chan_try_send(struct zk_io *io, struct zk_chan *ch, const void *elem);

/**
 * zk_chan_try_recv() - receive without waiting; -EAGAIN when empty
 * @io: the calling context's handle (it wakes a waiting sender)
 * @ch: the channel
 * @elem: where the element is copied, elem_size bytes
 *
 * Return: 0 when received; -EAGAIN when nothing is buffered and no
 * sender waits; -EPIPE once the channel is closed and drained.
 */
int zk_chan_try_recv(struct zk_io *io, struct zk_chan *ch, void *elem);

/**
 * zk_chan_close() - close: waiting and later senders get -EPIPE, receivers
 * drain what is buffered, then get -EPIPE
 * @io: the calling context's handle (it wakes the waiters)
 * @ch: the channel
 *
 * Return: 0, or -EPIPE when @ch was closed already.
 */
int zk_chan_close(struct zk_io *io, struct zk_chan *ch);

/**
 * zk_chan_len() - elements buffered right now
 * @ch: the channel
 *
 * Return: the number of elements in the buffer (senders waiting to hand
 * theirs over not counted); it may change as soon as it is read.
 */
size_t zk_chan_len(struct zk_chan *ch);

/**
 * zk_chan_send_async() - zk_chan_send() or zk_chan_recv() on a future
 * @io: the calling context
 * @f: the future, from zk_future_new(), not waited on by anything
 * @ch: the channel
 * @elem: the element to send (zk_chan_send_async()) or where to receive
 *	(zk_chan_recv_async()); it must stay valid until @f completes
 *
 * For state machines and zk_select(): @f completes with the send or
 * receive result, at once when the channel allows it.  Cancelling @f
 * (zk_cancel()) while it waits completes it with -ECANCELED and nothing
 * is sent or received.
 *
 * Return: 0 once started or done; -EPIPE or -ENOMEM when it failed at
 * once (@f is complete with that error too).
 */
int zk_chan_send_async(struct zk_io *io, struct zk_future *f,
		       struct zk_chan *ch, const void *elem);
int zk_chan_recv_async(struct zk_io *io, struct zk_future *f,
		       struct zk_chan *ch, void *elem);

/* ------------------------------------------------------------------ */
/* Mutex, condition variable, semaphore, wait group                     */
/* ------------------------------------------------------------------ */

/**
 * zk_mutex_new() - a mutex for tasks; zk_mutex_free() frees it
 *
 * Description: The mutex starts unlocked.  It is not tied to a thread:
 * tasks of any executor, thread or runtime may share it.
 *
 * zk_mutex_free(@m) frees a mutex nobody holds or waits for (NULL is
 * ignored).
 *
 * Return: the mutex, or NULL (errno ENOMEM).
 */
struct zk_mutex *zk_mutex_new(void);
void zk_mutex_free(struct zk_mutex *m);

/**
 * zk_mutex_lock() - lock (as Go's sync.Mutex: no waiter starves)
 * @io: the calling context's handle
 * @m: the mutex
 *
 * A free mutex is taken with one atomic operation.  A waiter woken by an
 * unlock competes again with running lockers, until it has waited 1 ms:
 * then the unlock hands the mutex to it (FIFO among such waiters).
 *
 * Return: 0 once the caller holds @m; -ECANCELED when the caller's token
 * was cancelled while it waited (@m is not held then).
 */
int zk_mutex_lock(struct zk_io *io, struct zk_mutex *m);

/**
 * zk_mutex_trylock() - lock if nobody holds the mutex, without waiting
 * @io: the calling context's handle
 * @m: the mutex
 *
 * Return: 0 when the caller now holds @m, -EBUSY when it is held.
 */
int zk_mutex_trylock(struct zk_io *io, struct zk_mutex *m);

/**
 * zk_mutex_unlock() - unlock (wakes or hands over to the first waiter)
 * @io: the calling context's handle (it wakes that waiter)
 * @m: a mutex the caller holds
 */
void zk_mutex_unlock(struct zk_io *io, struct zk_mutex *m);

/**
 * zk_mutex_lock_async() - @f completes with 0 once @m is ours
 * @io: the calling context's handle
 * @f: the future, from zk_future_new(), not waited on by anything; it
 *	completes at once when @m is free
 * @m: the mutex
 *
 * A queued @f is always handed the mutex (FIFO), never woken to retry.
 *
 * Cancelling @f (zk_cancel()) while it waits completes it with
 * -ECANCELED, without the mutex.
 *
 * Return: 0.
 */
int zk_mutex_lock_async(struct zk_io *io, struct zk_future *f, struct zk_mutex *m);

/**
 * zk_cond_new() - a condition variable; zk_cond_free() frees it
 *
 * Description: zk_cond_free(@c) frees one nobody waits on (NULL is
 * ignored).
 *
 * Return: the condition variable, or NULL (errno ENOMEM).
 */
struct zk_cond *zk_cond_new(void);
void zk_cond_free(struct zk_cond *c);

/**
 * zk_cond_wait() - unlock @m, wait for a signal, lock @m again
 * @io: the calling context's handle
 * @c: the condition variable
 * @m: a mutex the caller holds
 *
 * As with pthread_cond_wait(3), check the condition again on return.
 *
 * Return: 0, or -ECANCELED (@m is locked again in both cases).
 */
int zk_cond_wait(struct zk_io *io, struct zk_cond *c, struct zk_mutex *m);

/**
 * zk_cond_signal() - wake one waiter
 * @io: the calling context's handle (it wakes the waiter)
 * @c: the condition variable; a signal nobody waits for is lost
 */
void zk_cond_signal(struct zk_io *io, struct zk_cond *c);

/**
 * zk_cond_broadcast() - wake every waiter
 * @io: the calling context's handle (it wakes the waiters)
 * @c: the condition variable
 */
void zk_cond_broadcast(struct zk_io *io, struct zk_cond *c);

/**
 * zk_sem_new() - a counting semaphore; zk_sem_free() frees it
 * @count: the units it starts with
 *
 * zk_sem_free(@s) frees one nobody waits on (NULL is ignored).
 *
 * Return: the semaphore, or NULL (errno ENOMEM).
 */
struct zk_sem *zk_sem_new(unsigned int count);
void zk_sem_free(struct zk_sem *s);

/**
 * zk_sem_acquire() - take one unit, waiting while none is left
 * @io: the calling context's handle
 * @s: the semaphore
 *
 * Return: 0 once the caller has the unit; -ECANCELED when the caller's
 * token was cancelled while it waited (no unit taken).
 */
int zk_sem_acquire(struct zk_io *io, struct zk_sem *s);

/**
 * zk_sem_try_acquire() - take one unit if one is left, without waiting
 * @io: the calling context's handle
 * @s: the semaphore
 *
 * Return: 0 when the caller took a unit, -EAGAIN when none is left.
 */
int zk_sem_try_acquire(struct zk_io *io, struct zk_sem *s);

/**
 * zk_sem_release() - give one unit back (to the first waiter, if any)
 * @io: the calling context's handle (it wakes that waiter)
 * @s: the semaphore
 */
void zk_sem_release(struct zk_io *io, struct zk_sem *s);

/**
 * zk_sem_acquire_async() - @f completes with 0 once a unit is ours
 * @io: the calling context's handle
 * @f: the future, from zk_future_new(), not waited on by anything; it
 *	completes at once when a unit is left
 * @s: the semaphore
 *
 * Cancelling @f (zk_cancel()) while it waits completes it with
 * -ECANCELED, without a unit.
 *
 * Return: 0.
 */
int zk_sem_acquire_async(struct zk_io *io, struct zk_future *f, struct zk_sem *s);

/**
 * zk_wg_new() - a wait group (a counter to wait for at zero);
 * zk_wg_free() frees it
 *
 * Description: zk_wg_free(@wg) frees one nobody waits on (NULL is
 * ignored).
 *
 * Return: the wait group, its counter 0, or NULL (errno ENOMEM).
 */
struct zk_wg *zk_wg_new(void);
void zk_wg_free(struct zk_wg *wg);

/**
 * zk_wg_add() - add @n (may be negative) to the counter; -EINVAL below 0
 * @io: the calling context's handle (it wakes the waiters)
 * @wg: the wait group
 * @n: what to add; negative to take away
 *
 * When the counter reaches zero, every waiter is woken.
 *
 * Return: 0, or -EINVAL when the counter would go below zero (it is left
 * unchanged).
 */
int zk_wg_add(struct zk_io *io, struct zk_wg *wg, int n);

/**
 * zk_wg_done() - zk_wg_add(io, wg, -1)
 * @io: the calling context's handle
 * @wg: the wait group
 *
 * Return: 0, or -EINVAL when the counter is zero already.
 */
int zk_wg_done(struct zk_io *io, struct zk_wg *wg);

/**
 * zk_wg_wait() - wait until the counter is zero
 * @io: the calling context's handle
 * @wg: the wait group
 *
 * Return: 0 once the counter is zero (at once if it is), -ECANCELED when
 * the caller's token was cancelled first.
 */
int zk_wg_wait(struct zk_io *io, struct zk_wg *wg);

/**
 * zk_wg_wait_async() - @f completes with 0 when the counter is zero
 * @io: the calling context's handle
 * @f: the future, from zk_future_new(), not waited on by anything; it
 *	completes at once when the counter is zero
 * @wg: the wait group
 *
 * Return: 0.
 */
int zk_wg_wait_async(struct zk_io *io, struct zk_future *f, struct zk_wg *wg);

/* ------------------------------------------------------------------ */
/* Select                                                              */
/* ------------------------------------------------------------------ */

/**
 * enum zk_case_kind - what a struct zk_select_case waits for
 * @ZK_CASE_FUTURE: its future completes
 * @ZK_CASE_SEND: its element can be sent on its channel
 * @ZK_CASE_RECV: an element can be received from its channel into its
 *	element
 */
enum zk_case_kind {
	ZK_CASE_FUTURE,
	ZK_CASE_SEND,
	ZK_CASE_RECV,
};

/**
 * struct zk_select_case - one alternative of zk_select()
 * @kind: what it waits for
 * @f: ZK_CASE_FUTURE: the future (it is not consumed nor cancelled)
 * @ch: ZK_CASE_SEND/RECV: the channel
 * @elem: the element to send, or where to receive
 * @result: out: the chosen case's result (the future's; 0, -EPIPE or
 *	-ENOMEM for a channel op)
 */
struct zk_select_case {
	enum zk_case_kind kind;
	struct zk_future *f;
	struct zk_chan *ch;
	void *elem;
	int64_t result;
};

/**
 * zk_select() - wait until one of @cases can proceed, or @timeout_ns
 * @io: waiting context
 * @cases: the alternatives (a future at most once)
 * @n: how many, 1 to 16
 * @timeout_ns: relative timeout, < 0 for none (0: poll once)
 *
 * Exactly one channel operation happens, the chosen one; the others have
 * no effect.  Cases are tried in order when several are ready at once.
 *
 * Return: the chosen case's index, -ETIME on timeout, -ECANCELED,
 * -EINVAL (@n out of range, a case without its future, channel or
 * element, or a future never started), -EBUSY (a future someone else
 * awaits).
 */
int zk_select(struct zk_io *io, struct zk_select_case *cases, unsigned int n,
	      int64_t timeout_ns);

/* ------------------------------------------------------------------ */
/* Seeing inside: task dumps and wait profiles                         */
/* ------------------------------------------------------------------ */

/* zk_io_dump() flags. */
#define ZK_DUMP_JSON	1u	/* one JSON object instead of text */

/* Environment variable read by zk_io_init(): profile into this file. */
#define ZK_ENV_PROFILE	"ZK_PROFILE"

/**
 * zk_io_dump() - write every live task of @io's runtime to @fd
 * @io: a handle of the runtime
 * @fd: where the dump goes (written with write(2); not closed)
 * @flags: 0 for text, ZK_DUMP_JSON for one JSON object and a newline
 *
 * Each task not freed yet is shown with its id, executor, state
 * (running, runnable, waiting or done), what it waits on ("recv fd 5",
 * "sleep 200 ms", "chan_recv 0x...", "mutex_lock 0x...", "task #3") and
 * for how long, its body (symbolized with dladdr(3) where the symbol is
 * exported, else as module+offset or an address), the task that spawned
 * it and its cancellation token.  A suspended green thread also shows its
 * stack at the suspension point; a state machine shows its step function
 * and the state it last recorded with zk_step_state().  Threads (the root
 * and pool workers) that wait outside a task are listed too.
 *
 * Stacks are captured only when the dump runs at the root of a green
 * runtime (not inside a green thread).  On the thread pool, tasks keep
 * running while the dump reads them; each line is consistent only with
 * itself.
 *
 * Context: @io's own thread.
 * Return: the number of tasks shown, or -errno (a failed write).
 */
int zk_io_dump(struct zk_io *io, int fd, unsigned int flags);

/**
 * zk_io_dump_on_signal() - dump @io's runtime to @fd when @signo arrives
 * @io: the runtime's root handle
 * @signo: the signal, e.g. SIGUSR1 or SIGQUIT; 0 to stop and restore the
 *	previous action
 * @fd: where the dumps go; it must stay open while enabled
 * @flags: as zk_io_dump()'s
 *
 * The handler only sets a flag and wakes the root's loop, both
 * async-signal-safe; the dump itself runs on the root thread the next
 * time it passes through its loop (any wait, zk_await(), zk_yield()).
 * One runtime of the process at a time may have it; zk_io_exit() stops it.
 *
 * Return: 0; -EBUSY when another runtime has it; -EINVAL for a bad
 * @signo or a handle that is not the root; or sigaction(2)'s -errno.
 */
int zk_io_dump_on_signal(struct zk_io *io, int signo, int fd, unsigned int flags);

/**
 * zk_step_state() - record the running task's state-machine position
 * @io: the calling task's handle
 * @state: any number the step function uses for where it is (its state)
 *
 * zk_io_dump() shows it next to the step function, and the profiler keys
 * a state machine's waits by it.  Outside a task it does nothing.
 */
void zk_step_state(struct zk_io *io, int state);

/**
 * zk_io_profile_start() - count the time every task waits, by what and where
 * @io: a handle of the runtime
 *
 * From now on each wait that ends adds its duration (CLOCK_MONOTONIC) to a
 * bucket keyed by the waiting stack (unwound with backtrace(3) when the
 * wait ends: the frames at the suspension point) and the wait's kind; a
 * state machine's key is its step function, its zk_step_state() and the
 * kind.  Allocates one table per worker (a fixed number of buckets; waits
 * that find it full are counted as "[dropped]").  Off, a wait costs one
 * predictable branch.  Also started by zk_io_init() when ZK_PROFILE names
 * a file, which zk_io_exit() then writes.
 *
 * Return: 0 (the counts start from zero again), or -ENOMEM.
 */
int zk_io_profile_start(struct zk_io *io);

/**
 * zk_io_profile_stop() - stop counting; the counts are kept
 * @io: a handle of the runtime
 */
void zk_io_profile_stop(struct zk_io *io);

/**
 * zk_io_profile_write() - write the counts as folded stacks
 * @io: a handle of the runtime
 * @fd: where they go, one line per stack: "frame;frame;...;[kind] N",
 *	outermost frame first, N the microseconds waited; what
 *	flamegraph.pl, speedscope and tools/zsync-flame read
 *
 * Frames are symbolized with dladdr(3) (an unexported function appears as
 * module+offset, or as an address in a static binary; zsync-flame -e
 * resolves those with addr2line).
 *
 * Return: the number of lines, or -errno (-ENOENT: never started).
 */
int zk_io_profile_write(struct zk_io *io, int fd);

/* ------------------------------------------------------------------ */
/* Cgroup lifecycle for runtime authors (Documentation/cgroup-ns.rst) */
/* ------------------------------------------------------------------ */

/*
 * Each call runs on the zsync ring's cgroup family when the backend is
 * zsync and the module offers the op, and otherwise as plain syscalls plus
 * a readiness wait (POLLPRI) on cgroup.events: the same call, the same
 * result, from any executor.  A ring op refused with -EOPNOTSUPP, -EPERM
 * or -EINVAL is done again as syscalls, so the caller sees the syscalls'
 * answer.  Timeouts are relative nanoseconds, < 0 for none; a wait that
 * runs out returns -ETIMEDOUT.
 */

/* struct zk_cg flags. */
#define ZK_CG_NO_RING	1u	/* never use the ring's cgroup family */

/**
 * enum zk_cg_path - how a lifecycle call ran
 * @ZK_CG_PATH_NONE: no call yet
 * @ZK_CG_PATH_RING: on the zsync ring's ops
 * @ZK_CG_PATH_FALLBACK: as plain syscalls and poll(POLLPRI)
 */
enum zk_cg_path {
	ZK_CG_PATH_NONE = 0,
	ZK_CG_PATH_RING,
	ZK_CG_PATH_FALLBACK,
};

/**
 * struct zk_cg - one cgroup, as zk_cg_create() or zk_cg_open() left it
 * @fd: O_DIRECTORY fd of the cgroup (-1 once removed or closed)
 * @parent_fd: the parent's directory fd (a dup), for zk_cg_remove()
 * @name: the cgroup's name in its parent
 * @flags: ZK_CG_NO_RING or 0
 * @last_path: how the last call on it ran
 * @ring_calls: how many calls ran on the ring
 * @fallback_calls: how many ran as syscalls
 */
struct zk_cg {
	int fd;
	int parent_fd;
	char name[256];
	unsigned int flags;
	enum zk_cg_path last_path;
	unsigned int ring_calls;
	unsigned int fallback_calls;
};

/**
 * struct zk_cg_knob - a file of the cgroup and the value to write to it
 * @name: file name, such as "memory.max"
 * @value: what to write, such as "64M"
 */
struct zk_cg_knob {
	const char *name;
	const char *value;
};

/**
 * zk_cg_create() - create a cgroup, enable controllers, set its knobs
 * @io: the calling context
 * @cg: receives the cgroup
 * @parent_fd: directory fd of the parent cgroup (or AT_FDCWD with a path
 *	in @name; the parent is then opened as the directory above it)
 * @name: the new cgroup's name (a single component when @parent_fd is
 *	a directory)
 * @controllers: space-separated controllers to enable in the parent's
 *	cgroup.subtree_control ("memory pids"), or NULL
 * @knobs: knobs to set once it exists (one ring submission), or NULL
 * @n: how many knobs
 * @flags: ZK_CG_NO_RING or 0
 *
 * mkdir(2) is always a syscall (it must pass the path-based LSM hooks).
 * On a failure after mkdir, the cgroup is removed again.
 *
 * Return: 0, or -errno (-EEXIST if it exists; the first knob's error).
 */
int zk_cg_create(struct zk_io *io, struct zk_cg *cg, int parent_fd,
		 const char *name, const char *controllers,
		 const struct zk_cg_knob *knobs, unsigned int n,
		 unsigned int flags);

/**
 * zk_cg_open() - take an existing cgroup
 * @io: the calling context
 * @cg: receives the cgroup
 * @parent_fd: as for zk_cg_create()
 * @name: as for zk_cg_create()
 * @flags: ZK_CG_NO_RING or 0
 *
 * Return: 0 or -errno.
 */
int zk_cg_open(struct zk_io *io, struct zk_cg *cg, int parent_fd,
	       const char *name, unsigned int flags);

/**
 * zk_cg_close() - close @cg's fds without removing the cgroup
 * @cg: the cgroup (closed fds are -1; closing twice is harmless)
 */
void zk_cg_close(struct zk_cg *cg);

/**
 * zk_cg_set() - write knobs, all in one ring submission
 * @io: the calling context
 * @cg: the cgroup
 * @knobs: the knobs
 * @n: how many
 *
 * Return: 0, or the first failing knob's -errno (the others are written).
 */
int zk_cg_set(struct zk_io *io, struct zk_cg *cg,
	      const struct zk_cg_knob *knobs, unsigned int n);

/**
 * zk_cg_attach() - move process @pid into @cg
 * @io: the calling context
 * @cg: the cgroup
 * @pid: a pid in the caller's pid namespace; 0 is the caller's process
 *
 * Return: 0 or -errno (the cgroup.procs write's: -ESRCH, -EACCES, ...).
 */
int zk_cg_attach(struct zk_io *io, struct zk_cg *cg, pid_t pid);

/**
 * zk_cg_attach_pidfd() - move the process behind @pidfd into @cg
 * @io: the calling context
 * @cg: the cgroup
 * @pidfd: from pidfd_open(2) or clone3(CLONE_PIDFD)
 *
 * Return: 0 or -errno; -ESRCH once the process has exited.
 */
int zk_cg_attach_pidfd(struct zk_io *io, struct zk_cg *cg, int pidfd);

/**
 * zk_cg_freeze() - freeze @cg and wait until cgroup.events says frozen 1
 * @io: the calling context
 * @cg: the cgroup
 * @timeout_ns: how long to wait, < 0 for ever
 *
 * On timeout or cancellation the freeze is reverted (cgroup.freeze 0).
 *
 * Return: 0 once frozen, -ETIMEDOUT, -ECANCELED or another -errno.
 */
int zk_cg_freeze(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns);

/**
 * zk_cg_thaw() - thaw @cg and wait until cgroup.events says frozen 0
 * @io: the calling context
 * @cg: the cgroup
 * @timeout_ns: how long to wait, < 0 for ever (a frozen parent keeps it
 *	frozen)
 *
 * On timeout or cancellation the cgroup is frozen again (cgroup.freeze 1).
 *
 * Return: 0 once thawed, -ETIMEDOUT, -ECANCELED or another -errno.
 */
int zk_cg_thaw(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns);

/**
 * zk_cg_kill() - SIGKILL everything in @cg and wait until it is empty
 * @io: the calling context
 * @cg: the cgroup
 * @timeout_ns: how long to wait, < 0 for ever
 *
 * Return: 0 once cgroup.events says populated 0, -ETIMEDOUT (the kill
 * stays sent), -ECANCELED or another -errno.
 */
int zk_cg_kill(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns);

/**
 * zk_cg_remove() - rmdir(2) @cg, retrying -EBUSY until it is empty
 * @io: the calling context
 * @cg: the cgroup; its fds are closed once it is removed
 * @timeout_ns: how long to retry, < 0 for ever
 *
 * Return: 0, -ETIMEDOUT (still busy), or rmdir's -errno.
 */
int zk_cg_remove(struct zk_io *io, struct zk_cg *cg, int64_t timeout_ns);

/**
 * zk_cg_pidfd_wait() - wait until the process behind @pidfd has exited
 * @io: the calling context
 * @cg: path flags and counters (ZK_CG_NO_RING), or NULL
 * @pidfd: the process; the ring does not reap it, neither does the
 *	fallback (waitid(P_PIDFD, WEXITED | WNOWAIT), which needs the caller
 *	to be its parent)
 * @timeout_ns: how long to wait, < 0 for ever
 *
 * Return: the waitpid(2) status (>= 0), -ETIMEDOUT or -errno.
 */
int zk_cg_pidfd_wait(struct zk_io *io, struct zk_cg *cg, int pidfd,
		     int64_t timeout_ns);

/**
 * enum zk_cg_event_kind - what changed, in a struct zk_cg_event
 * @ZK_CG_EV_POPULATED: cgroup.events populated (value: 0 or 1)
 * @ZK_CG_EV_FROZEN: cgroup.events frozen (value: 0 or 1)
 * @ZK_CG_EV_OOM: memory.events oom went up (value: the new count)
 * @ZK_CG_EV_OOM_KILL: memory.events oom_kill went up (value: the count)
 * @ZK_CG_EV_PIDS_MAX: pids.events max went up (value: the count)
 * @ZK_CG_EV_KINDS: how many kinds there are (not an event)
 */
enum zk_cg_event_kind {
	ZK_CG_EV_POPULATED,
	ZK_CG_EV_FROZEN,
	ZK_CG_EV_OOM,
	ZK_CG_EV_OOM_KILL,
	ZK_CG_EV_PIDS_MAX,
	ZK_CG_EV_KINDS,
};

/**
 * struct zk_cg_event - one change seen by zk_cg_watch_next()
 * @kind: what changed
 * @value: its new value
 */
struct zk_cg_event {
	enum zk_cg_event_kind kind;
	int64_t value;
};

/* The files a watch polls: cgroup.events, memory.events, pids.events. */
#define ZK_CG_WATCH_FILES	3

/**
 * struct zk_cg_watch - a stream of changes of one cgroup
 * @cg: the cgroup watched
 * @fds: its event files (-1: absent, e.g. the controller is off)
 * @last: the values last reported (or read at zk_cg_watch_init()), by
 *	enum zk_cg_event_kind
 */
struct zk_cg_watch {
	struct zk_cg *cg;
	int fds[ZK_CG_WATCH_FILES];
	int64_t last[ZK_CG_EV_KINDS];
};

/**
 * zk_cg_watch_init() - start watching @cg; @w->last holds the state now
 * @io: the calling context
 * @w: the watch
 * @cg: the cgroup (it must outlive the watch)
 *
 * Return: 0 or -errno.
 */
int zk_cg_watch_init(struct zk_io *io, struct zk_cg_watch *w, struct zk_cg *cg);

/**
 * zk_cg_watch_next() - the next change, waiting for one if none is pending
 * @io: the calling context
 * @w: the watch
 * @ev: receives the change
 * @timeout_ns: how long to wait, < 0 for ever
 *
 * Changes come in enum zk_cg_event_kind order when several happened at
 * once; a bit that flipped twice between two reads is not seen.  The
 * wait is a poll (POLLPRI) on the event files: a POLL_ADD on the zsync
 * ring, poll(2) or io_uring otherwise.
 *
 * Return: 0, -ETIMEDOUT, -ECANCELED or -errno (-ENODEV once removed).
 */
int zk_cg_watch_next(struct zk_io *io, struct zk_cg_watch *w,
		     struct zk_cg_event *ev, int64_t timeout_ns);

/**
 * zk_cg_watch_close() - stop watching (closes the event files)
 * @w: the watch
 */
void zk_cg_watch_close(struct zk_cg_watch *w);

#ifdef __cplusplus
}
#endif

#endif /* ZSYNC_K_IO_H */
