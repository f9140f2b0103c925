// SPDX-License-Identifier: MIT
/*
 * The blocking executor: every call completes before it returns.  A task
 * runs on the spawner's thread and stack, inside zk_async(); a wait sleeps
 * in the thread's loop.  There is no concurrency between tasks: use the
 * thread pool, green threads or state machines for that (or OS threads,
 * each with its own runtime, sharing primitives).
 */
#include <sched.h>

#include "io_internal.h"

/* Shared with the thread pool: thread-level waiting, no tasks to resume. */
int zk_exec_no_start(struct zk_runtime *rt)
{
	(void)rt;
	return 0;
}

void zk_exec_no_stop(struct zk_runtime *rt)
{
	(void)rt;
}

static int blocking_spawn(struct zk_io *io, struct zk_task *t)
{
	zk_task_run(io, t);
	return 0;
}

void zk_exec_thread_park(struct zk_io *io)
{
	zk_loop_wait(io, true);
}

struct zk_task *zk_exec_no_task(struct zk_io *io)
{
	(void)io;
	return NULL;
}

void zk_exec_no_resume(struct zk_io *io, struct zk_task *t)
{
	(void)io;
	(void)t;
}

int zk_exec_thread_yield(struct zk_io *io)
{
	(void)io;
	sched_yield();
	return 0;
}

void zk_exec_no_release(struct zk_io *io, struct zk_task *t)
{
	(void)io;
	(void)t;
}

const struct zk_exec_ops zk_exec_blocking = {
	.kind = ZK_EXEC_BLOCKING,
	.start = zk_exec_no_start,
	.stop = zk_exec_no_stop,
	.spawn = blocking_spawn,
	.park = zk_exec_thread_park,
	.parkable = zk_exec_no_task,
	.make_ready = zk_exec_no_resume,
	.yield = zk_exec_thread_yield,
	.release = zk_exec_no_release,
};
