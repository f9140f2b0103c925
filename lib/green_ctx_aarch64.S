/* SPDX-License-Identifier: MIT */
/*
 * Green thread context switch for aarch64 (AAPCS64).
 *
 * void zk_ctx_switch(void **save_sp, void *load_sp)
 *   Saves the callee-saved registers (x19-x28, the frame pointer x29, the
 *   link register x30 and the low halves d8-d15 of v8-v15) below the stack
 *   pointer, stores it in *save_sp, switches to load_sp, restores the same
 *   160-byte frame from there and returns through the restored x30.
 *
 * Frame at the saved stack pointer (zk_ctx_init() builds a first one):
 *   0: x19 x20   16: x21 x22   32: x23 x24   48: x25 x26   64: x27 x28
 *  80: x29 x30   96: d8 d9    112: d10 d11  128: d12 d13  144: d14 d15
 *
 * zk_ctx_entry: where a new context's first ret lands (x30); x19 holds the
 * entry function and x20 its argument.  The function must never return.
 */
	.text

	.globl	zk_ctx_switch
	.type	zk_ctx_switch, %function
	.p2align 4
zk_ctx_switch:
	.cfi_startproc
	sub	sp, sp, #160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	ret
	.cfi_endproc
	.size	zk_ctx_switch, .-zk_ctx_switch

	.globl	zk_ctx_entry
	.type	zk_ctx_entry, %function
	.p2align 4
zk_ctx_entry:
	.cfi_startproc
	.cfi_undefined x30		/* the outermost frame: stop unwinding */
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	zk_ctx_entry, .-zk_ctx_entry

	.section .note.GNU-stack,"",%progbits
