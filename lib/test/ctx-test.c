// SPDX-License-Identifier: MIT
/*
 * Unit test of the hand-written context switch alone (green_ctx.c and
 * green_ctx_<arch>.S), without the rest of the library, so it also builds
 * with a cross compiler and runs under qemu-user (make -f lib/lib.mk
 * ctx-test-aarch64).  Checks: the entry function gets its argument; the
 * new stack is 16-byte aligned; integer and floating-point values that the
 * ABI says survive a call survive every switch, while the other side
 * scribbles over all its registers; many round trips between contexts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "green_ctx.h"

#define ROUNDS		100000
#define STACK_SIZE	(64 * 1024)

static void *main_sp, *co_sp[2];
static unsigned long co_turns[2];
static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		if (failures++ < 5) {					\
			fprintf(stderr, "ctx-test: " __VA_ARGS__);	\
			fprintf(stderr, "\n");				\
		}							\
	}								\
} while (0)

/*
 * Per-context source values, volatile so the compiler cannot recompute
 * what it loaded from them: it has to keep the loads live across the
 * switch, in the callee-saved registers (or on the stack).
 */
static volatile unsigned long ival[3][10];
static volatile double fval[3][8];

static unsigned long churn(int ctx, unsigned long seed, void **save, void *to)
{
	unsigned long i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, sum;
	double f0, f1, f2, f3, f4, f5, f6, f7;
	int k;

	for (k = 0; k < 10; k++)
		ival[ctx][k] = seed * (unsigned long)(k + 3) + (unsigned long)ctx;
	for (k = 0; k < 8; k++)
		fval[ctx][k] = (double)seed / (double)(k + 2) + ctx;
	i0 = ival[ctx][0]; i1 = ival[ctx][1]; i2 = ival[ctx][2]; i3 = ival[ctx][3];
	i4 = ival[ctx][4]; i5 = ival[ctx][5]; i6 = ival[ctx][6]; i7 = ival[ctx][7];
	i8 = ival[ctx][8]; i9 = ival[ctx][9];
	f0 = fval[ctx][0]; f1 = fval[ctx][1]; f2 = fval[ctx][2]; f3 = fval[ctx][3];
	f4 = fval[ctx][4]; f5 = fval[ctx][5]; f6 = fval[ctx][6]; f7 = fval[ctx][7];

	zk_ctx_switch(save, to);

	CHECK(i0 == ival[ctx][0] && i1 == ival[ctx][1] && i2 == ival[ctx][2] &&
	      i3 == ival[ctx][3] && i4 == ival[ctx][4] && i5 == ival[ctx][5] &&
	      i6 == ival[ctx][6] && i7 == ival[ctx][7] && i8 == ival[ctx][8] &&
	      i9 == ival[ctx][9],
	      "context %d: integer registers changed across a switch (seed %lu)", ctx, seed);
	CHECK(f0 == fval[ctx][0] && f1 == fval[ctx][1] && f2 == fval[ctx][2] &&
	      f3 == fval[ctx][3] && f4 == fval[ctx][4] && f5 == fval[ctx][5] &&
	      f6 == fval[ctx][6] && f7 == fval[ctx][7],
	      "context %d: floating-point registers changed across a switch (seed %lu)",
	      ctx, seed);
	sum = i0 + i1 + i2 + i3 + i4 + i5 + i6 + i7 + i8 + i9;
	return sum + (unsigned long)(f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7);
}

static void co_main(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned long n = 1000003UL * (unsigned long)(id + 1);

	CHECK(id == 0 || id == 1, "entry argument %d", id);
	CHECK(((uintptr_t)__builtin_frame_address(0) & 15) == 0,
	      "context %d: frame not 16-byte aligned", id);
	for (;;) {
		co_turns[id]++;
		n += churn(id + 1, n, &co_sp[id], main_sp);
	}
}

int main(void)
{
	void *stack[2];
	unsigned long i, sum = 0;
	int id;

	for (id = 0; id < 2; id++) {
		stack[id] = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack[id] == MAP_FAILED)
			return 2;
		co_sp[id] = zk_ctx_init(stack[id], STACK_SIZE, co_main, (void *)(intptr_t)id);
	}
	for (i = 1; i <= ROUNDS; i++)
		sum += churn(0, i, &main_sp, co_sp[i & 1]);
	CHECK(co_turns[0] == ROUNDS / 2 && co_turns[1] == ROUNDS / 2,
	      "turns %lu/%lu, want %d each", co_turns[0], co_turns[1], ROUNDS / 2);
	printf("ctx-test: %d round trips between 3 contexts, %s (%lu)\n", ROUNDS,
	       failures ? "FAILED" : "ok", sum & 0xff);
	return failures ? 1 : 0;
}
