// SPDX-License-Identifier: MIT
/*
 * Green threads: stackful coroutines on the thread that created the
 * runtime.  zk_async() queues the new thread, which gets a stack (guard
 * page below it) when the scheduler first runs it; a wait parks the
 * running green thread by switching back to the scheduler, which is
 * whatever thread-level wait (zk_await() at the root, zk_io_exit()...) is
 * running the ready queue; a wake makes it ready again and the scheduler
 * switches to it.
 *
 * Allocation: one stack per started thread, recycled from the worker's
 * cache of dead threads' stacks when it has one (see "The stack cache"
 * below), else mmap()ed; none on switches or waits.
 */
#include <errno.h>
#include <stdint.h>
#include <execinfo.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "green_ctx.h"
#include "io_internal.h"

/*
 * The stack cache.  A fresh stack costs an mmap(), an mprotect() for the
 * guard and a page fault on first touch, and unmapping it costs a TLB
 * shootdown that interrupts every CPU the process has run on: tens of
 * microseconds a green thread on a VM, where faults and IPIs are dear, so
 * a dead thread's stack is kept for the next spawn instead.
 *
 * The cache is a LIFO list, hottest first: the stack reused is the one
 * freed last, whose top pages are still resident and in the CPU's caches.
 * It has no fixed cap.  A stack is only mapped when the list is empty, so
 * cached plus live stacks never exceed the most green threads the program
 * has had started and unfinished at once: the cache never holds memory, or
 * mappings (see vm.max_map_count), the program did not already need at its
 * peak.  A fixed cap smaller than the working set turns every spawn beyond
 * the cap back into mmap + fault + munmap.
 *
 * What a burst left behind decays: every STACK_TRIM_NS, the stacks that
 * stayed in the list through the whole period (its low-water mark) were
 * not needed, and half of them, the coldest (at the tail), are unmapped.
 * A steady working set keeps its stacks; a burst's surplus halves each
 * period of activity (spawns, exits, scheduling rounds at the root) and is
 * gone when the runtime exits.  Unmapping is chosen over MADV_DONTNEED or
 * MADV_FREE of cold stacks: those would keep the mappings and still cost
 * a syscall with a TLB flush each, and madvise on every exit would bring
 * back the per-thread syscall and refaults the cache exists to avoid.
 */
#define STACK_TRIM_NS		1000000000LL
#define STACK_TICKS		64	/* looks at the clock: every 64th tick */

/* Lives at the top of a cached (unused) stack, whose page stays hot. */
struct cached_stack {
	struct zk_list link;
	void *map;
	size_t len;
};

/* Asked once: every switch needs it (stack_bounds()), and sysconf() is a call. */
static size_t page_size(void)
{
	static size_t cached;	/* atomic: any runtime's thread may ask */
	size_t pg = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	long p;

	if (pg)
		return pg;
	p = sysconf(_SC_PAGESIZE);
	pg = p > 0 ? (size_t)p : 4096;
	__atomic_store_n(&cached, pg, __ATOMIC_RELAXED);
	return pg;
}

/* Where a cached stack's entry lives: just below its top. */
static struct cached_stack *cache_entry(void *map, size_t len)
{
	uintptr_t top = ((uintptr_t)map + len) & ~(uintptr_t)63;

	return (struct cached_stack *)(top - 64);
}

static void stack_unmap_entry(struct cached_stack *c)
{
	munmap(c->map, c->len);
}

static int stack_get(struct zk_io *io, struct zk_task *t)
{
	size_t pg = page_size();
	size_t len = (io->rt->opts.stack_size + pg - 1) / pg * pg + pg;
	struct zk_list *n = zk_list_pop(&io->stack_cache);
	void *map;

	if (n) {
		struct cached_stack *c = zk_container_of(n, struct cached_stack, link);

		if (--io->stacks_cached < io->stacks_low)
			io->stacks_low = io->stacks_cached;
		t->stack = c->map;
		t->stack_len = c->len;
		/* The dead thread's frames never returned: forget their poison. */
		zk_san_unpoison((char *)c->map + pg, c->len - pg);
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

/* Unmap the colder half of what the cache did not need since the last trim. */
static void stack_trim(struct zk_io *io, int64_t now)
{
	unsigned int n = (io->stacks_low + 1) / 2;
	struct zk_list *l;

	while (n-- && (l = io->stack_cache.prev) != &io->stack_cache) {
		zk_list_del(l);
		io->stacks_cached--;
		stack_unmap_entry(zk_container_of(l, struct cached_stack, link));
	}
	io->stacks_low = io->stacks_cached;
	io->stack_trim_at = now + STACK_TRIM_NS;
}

/* On every STACK_TICKS-th exit or root round: trim when a period is over. */
static void stack_trim_tick(struct zk_io *io)
{
	int64_t now;

	if (++io->stack_ticks % STACK_TICKS)
		return;
	now = zk_mono_ns();
	if (now >= io->stack_trim_at)
		stack_trim(io, now);
}

static void stack_put(struct zk_io *io, struct zk_task *t)
{
	struct cached_stack *c;

	if (!t->stack)
		return;
	c = cache_entry(t->stack, t->stack_len);
	zk_san_unpoison(c, sizeof(*c));	/* see stack_get() */
	c->map = t->stack;
	c->len = t->stack_len;
	zk_list_insert(&c->link, &io->stack_cache, io->stack_cache.next);
	io->stacks_cached++;
	t->stack = NULL;
	stack_trim_tick(io);
}

static void stack_cache_drain(struct zk_io *io)
{
	struct zk_list *n;

	while ((n = zk_list_pop(&io->stack_cache)))
		stack_unmap_entry(zk_container_of(n, struct cached_stack, link));
	io->stacks_cached = 0;
	io->stacks_low = 0;
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

/*
 * Give @t, about to run for the first time, its stack and first frame.
 * When no stack can be had, @t dies unstarted with the error as its
 * result, as a cancelled one does with -ECANCELED.
 */
static bool green_start(struct zk_io *io, struct zk_task *t)
{
	int ret = stack_get(io, t);

	if (ret) {
		zk_san_fiber_free(t->san_fiber);
		t->san_fiber = NULL;
		__atomic_store_n(&t->state, ZK_TASK_DEAD, __ATOMIC_RELAXED);
		zk_future_complete(io, &t->fut, ret);	/* last touch */
		return false;
	}
	t->sp = zk_ctx_init(t->stack, t->stack_len, green_main, t);
	return true;
}

static void green_resume(struct zk_io *io, struct zk_task *t)
{
	if (!t->stack && !green_start(io, t))
		return;
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
	/* Green threads of a runtime all live on the thread that created it. */
	if (!zk_on_thread(&io->rt->root))
		return -EINVAL;
	/*
	 * No stack yet: it gets one when it first runs (green_start()).  A
	 * thread that runs to its end without parking hands the same stack
	 * on to the next, so a burst of spawns needs as many stacks as
	 * threads park at once, not as many as were spawned.
	 */
	t->w = &io->rt->root;
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
	if (on_green_stack(io)) {
		green_suspend(io, io->cur, ZK_TASK_PARKED);
		return;
	}
	/* A round at the root: lets a cache that no exits visit decay too. */
	if (io->stacks_cached)
		stack_trim_tick(io);
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
