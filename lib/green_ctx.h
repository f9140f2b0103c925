/* SPDX-License-Identifier: MIT */
/*
 * green_ctx.h - the hand-written context switch (green_ctx_<arch>.S) and
 * the sanitizer hooks that must surround every switch: AddressSanitizer
 * and ThreadSanitizer would otherwise take a stack switch for memory
 * corruption or lose track of which "thread" is running.
 */
#ifndef ZK_GREEN_CTX_H
#define ZK_GREEN_CTX_H

#include <stddef.h>

/* Save the current context's sp in *@save_sp, resume the one at @load_sp. */
void zk_ctx_switch(void **save_sp, void *load_sp);

/*
 * Build a first frame at the top of [@stack, @stack + @size) so that the
 * first zk_ctx_switch() to the returned sp calls @fn(@arg).
 */
void *zk_ctx_init(void *stack, size_t size, void (*fn)(void *), void *arg);

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ZK_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define ZK_TSAN 1
#endif

/* Before switching to the stack [@bottom, +@size); @fake: where ASan keeps
 * the leaving context's fake stack (NULL when it never comes back). */
static inline void zk_san_leave(void **fake, const void *bottom, size_t size,
				void *to_fiber)
{
#ifdef ZK_ASAN
	__sanitizer_start_switch_fiber(fake, bottom, size);
#else
	(void)fake; (void)bottom; (void)size;
#endif
#ifdef ZK_TSAN
	__tsan_switch_to_fiber(to_fiber, 0);
#else
	(void)to_fiber;
#endif
}

/* First thing after a switch lands; reports the stack we came from. */
static inline void zk_san_arrive(void *fake, const void **from_bottom,
				 size_t *from_size)
{
#ifdef ZK_ASAN
	__sanitizer_finish_switch_fiber(fake, from_bottom, from_size);
#else
	(void)fake; (void)from_bottom; (void)from_size;
#endif
}

/* Memory a dead fiber's frames may have left poisoned, about to be reused. */
static inline void zk_san_unpoison(const void *p, size_t size)
{
#ifdef ZK_ASAN
	__asan_unpoison_memory_region(p, size);
#else
	(void)p; (void)size;
#endif
}

static inline void *zk_san_fiber_new(void)
{
#ifdef ZK_TSAN
	return __tsan_create_fiber(0);
#else
	return NULL;
#endif
}

static inline void *zk_san_fiber_current(void)
{
#ifdef ZK_TSAN
	return __tsan_get_current_fiber();
#else
	return NULL;
#endif
}

static inline void zk_san_fiber_free(void *fiber)
{
#ifdef ZK_TSAN
	if (fiber)
		__tsan_destroy_fiber(fiber);
#else
	(void)fiber;
#endif
}

#endif /* ZK_GREEN_CTX_H */
