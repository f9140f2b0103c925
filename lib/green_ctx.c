// SPDX-License-Identifier: MIT
/*
 * First frames for the context switch in green_ctx_<arch>.S: the same
 * layout the switch pops, holding the entry function and its argument in
 * callee-saved registers and zk_ctx_entry as the return address.
 */
#include <stdint.h>
#include <string.h>

#include "green_ctx.h"

void zk_ctx_entry(void);

#if defined(__x86_64__)

/* csr, r15, r14, r13, r12, rbx, rbp, return address; then 16 spare bytes
 * so that after the final ret the stack is 16-byte aligned at a call. */
#define FRAME_WORDS	8
#define FRAME_PAD	16

void *zk_ctx_init(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - FRAME_PAD - FRAME_WORDS * 8);

	memset(sp, 0, FRAME_WORDS * 8 + FRAME_PAD);
	sp[0] = 0x1f80 | (uint64_t)0x037f << 32;	/* default MXCSR, x87 cw */
	sp[3] = (uint64_t)(uintptr_t)arg;		/* r13 */
	sp[4] = (uint64_t)(uintptr_t)fn;		/* r12 */
	sp[7] = (uint64_t)(uintptr_t)zk_ctx_entry;	/* return address */
	return sp;
}

#elif defined(__aarch64__)

#define FRAME_WORDS	20	/* x19-x30, d8-d15 */

void *zk_ctx_init(void *stack, size_t size, void (*fn)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - FRAME_WORDS * 8);

	memset(sp, 0, FRAME_WORDS * 8);
	sp[0] = (uint64_t)(uintptr_t)fn;		/* x19 */
	sp[1] = (uint64_t)(uintptr_t)arg;		/* x20 */
	sp[11] = (uint64_t)(uintptr_t)zk_ctx_entry;	/* x30 */
	return sp;
}

#else
#error "green threads: no context switch for this architecture"
#endif
