// SPDX-License-Identifier: MIT
/*
 * Green threads: stackful coroutines on the thread that created the
 * runtime.  zk_async() maps a stack (guard page below it) and queues the
 * new thread; a wait parks the running green thread by switching back to
 * the scheduler, which is whatever thread-level wait (zk_await() at the
 * root, zk_io_exit()...) is running the ready queue; a wake makes it
 * ready again and the scheduler switches to it.
 *
 * Allocation: one stack per spawn (mmap, or a recycled one from the
 * worker's cache of up to STACK_CACHE_MAX); none on switches or waits.
 */
#include <errno.h>
#include <execinfo.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "green_ctx.h"
#include "io_internal.h"

#define STACK_CACHE_MAX	64

/* Lives at the bottom of a cached (unused) stack. */
struct cached_stack {
	struct zk_list link;
	void *map;
	size_t len;
};

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static int stack_get(struct zk_io *io, struct zk_task *t)
{
	size_t pg = page_size();
	size_t len = (io->rt->opts.stack_size + pg - 1) / pg * pg + pg;
	struct zk_list *n = zk_list_pop(&io->stack_cache);
	void *map;

	if (n) {
		struct cached_stack *c = zk_container_of(n, struct cached_stack, link);

		io->stacks_cached--;
		t->stack = c->map;
		t->stack_len = c->len;
		return 0;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (map == MAP_FAILED)
		return -errno;
	/* The guard: running off the bottom faults instead of corrupting. */
	if (mprotect(map, pg, PROT_NONE)) {
		munmap(map, len);
		return -errno;
	}
	t->stack = map;
	t->stack_len = len;
	return 0;
}

static void stack_put(struct zk_io *io, struct zk_task *t)
{
	size_t pg = page_size();

	if (!t->stack)
		return;
	if (io->stacks_cached < STACK_CACHE_MAX) {
		struct cached_stack *c = (void *)((char *)t->stack + pg);

		c->map = t->stack;
		c->len = t->stack_len;
		zk_list_add_tail(&io->stack_cache, &c->link);
		io->stacks_cached++;
	} else {
		munmap(t->stack, t->stack_len);
	}
	t->stack = NULL;
}

static void stack_cache_drain(struct zk_io *io)
{
	struct zk_list *n;

	while ((n = zk_list_pop(&io->stack_cache))) {
		struct cached_stack *c = zk_container_of(n, struct cached_stack, link);

		munmap(c->map, c->len);
	}
	io->stacks_cached = 0;
}

static void stack_bounds(const struct zk_task *t, const void **bottom, size_t *size)
{
	size_t pg = page_size();

	*bottom = (char *)t->stack + pg;
	*size = t->stack_len - pg;
}

/* From green thread @t back to the scheduler. */
static void switch_to_scheduler(struct zk_io *io, struct zk_task *t)
{
	bool dying = t->state == ZK_TASK_DEAD;

	zk_san_leave(dying ? NULL : &t->san_fake_stack, io->sched_stack_bottom,
		     io->sched_stack_size, io->sched_fiber);
	zk_ctx_switch(&t->sp, io->sched_sp);
	zk_san_arrive(t->san_fake_stack, NULL, NULL);
}

static void green_main(void *arg)
{
	struct zk_task *t = arg;
	struct zk_io *io = t->w;

	/* Learn the scheduler's stack, to tell ASan when we switch back. */
	zk_san_arrive(NULL, &io->sched_stack_bottom, &io->sched_stack_size);
	zk_task_run(io, t);
	switch_to_scheduler(io, t);
	abort();	/* a dead green thread is never resumed */
}

/*
 * From green thread @t to the scheduler, as @state.  A dump may switch back
 * to it before its wake only to have it unwind its own stack (the unwinder
 * reads the frames' CFI, so frame pointers are not needed); it then goes
 * straight back, still suspended.
 */
static void green_suspend(struct zk_io *io, struct zk_task *t, int state)
{
	t->state = state;
	t->green_out = true;
	switch_to_scheduler(io, t);
	while (t->bt) {
		t->bt_n = backtrace(t->bt, t->bt_max);
		t->bt = NULL;
		switch_to_scheduler(io, t);
	}
}

/* From the scheduler into green thread @t, until it switches out again. */
static void switch_to_green(struct zk_io *io, struct zk_task *t)
{
	const void *bottom;
	size_t size;

	io->sched_fiber = zk_san_fiber_current();
	stack_bounds(t, &bottom, &size);
	zk_san_leave(&io->sched_fake_stack, bottom, size, t->san_fiber);
	zk_ctx_switch(&io->sched_sp, t->sp);
	zk_san_arrive(io->sched_fake_stack, NULL, NULL);
}

int zk_green_backtrace(struct zk_io *io, struct zk_task *t, void **pcs, int max)
{
	if (io->rt->eops != &zk_exec_green || io->cur || !zk_on_thread(&io->rt->root) ||
	    !t->stack || !t->green_out ||
	    (t->state != ZK_TASK_PARKED && t->state != ZK_TASK_READY))
		return 0;
	t->bt = pcs;
	t->bt_max = max;
	t->bt_n = 0;
	switch_to_green(io, t);
	return t->bt_n;
}

static void green_resume(struct zk_io *io, struct zk_task *t)
{
	io->cur = t;
	t->state = ZK_TASK_RUNNING;
	switch_to_green(io, t);
	io->cur = NULL;
	if (t->state == ZK_TASK_DEAD) {
		zk_san_fiber_free(t->san_fiber);
		t->san_fiber = NULL;
		stack_put(io, t);
	}
}

static int green_spawn(struct zk_io *io, struct zk_task *t)
{
	int ret;

	/* Green threads of a runtime all live on the thread that created it. */
	if (!zk_on_thread(&io->rt->root))
		return -EINVAL;
	ret = stack_get(io, t);
	if (ret)
		return ret;
	t->w = &io->rt->root;
	t->sp = zk_ctx_init(t->stack, t->stack_len, green_main, t);
	t->san_fiber = zk_san_fiber_new();
	t->state = ZK_TASK_READY;
	zk_list_add_tail(&t->w->ready, &t->link);
	return 0;
}

static bool on_green_stack(struct zk_io *io)
{
	return io->cur && io->cur->stack;
}

static void green_park(struct zk_io *io)
{
	if (on_green_stack(io))
		green_suspend(io, io->cur, ZK_TASK_PARKED);
	else
		zk_sched_park(io, green_resume);
}

static struct zk_task *green_parkable(struct zk_io *io)
{
	return on_green_stack(io) ? io->cur : NULL;
}

static int green_yield(struct zk_io *io)
{
	struct zk_task *t = io->cur;

	if (!on_green_stack(io)) {
		zk_sched_park(io, green_resume);
		return 0;
	}
	zk_list_add_tail(&io->ready, &t->link);
	green_suspend(io, t, ZK_TASK_READY);
	return 0;
}

static void green_release(struct zk_io *io, struct zk_task *t)
{
	stack_put(io, t);	/* normally done when it died */
}

static void green_stop(struct zk_runtime *rt)
{
	stack_cache_drain(&rt->root);
}

const struct zk_exec_ops zk_exec_green = {
	.kind = ZK_EXEC_GREEN,
	.start = zk_exec_no_start,
	.stop = green_stop,
	.spawn = green_spawn,
	.park = green_park,
	.parkable = green_parkable,
	.make_ready = zk_sched_make_ready,
	.yield = green_yield,
	.release = green_release,
};
