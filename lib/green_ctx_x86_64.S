/* SPDX-License-Identifier: MIT */
/*
 * Green thread context switch for x86_64 (System V ABI).
 *
 * void zk_ctx_switch(void **save_sp, void *load_sp)
 *   Pushes what the ABI says a callee must preserve (rbp, rbx, r12-r15,
 *   the MXCSR control bits and the x87 control word), stores the stack
 *   pointer in *save_sp, switches to load_sp and pops the same frame from
 *   there; the final ret resumes the other context where it switched out.
 *
 * Frame at the saved stack pointer, lowest address first (zk_ctx_init()
 * in exec_green.c builds a first one with the same layout):
 *   0: mxcsr (4 bytes), x87 cw (2), padding (2)
 *   8: r15  16: r14  24: r13  32: r12  40: rbx  48: rbp  56: return address
 *
 * zk_ctx_entry: where a new context's first ret lands; r12 holds the
 * entry function and r13 its argument.  The function must never return.
 */
	.text

	.globl	zk_ctx_switch
	.type	zk_ctx_switch, @function
	.p2align 4
zk_ctx_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	zk_ctx_switch, .-zk_ctx_switch

	.globl	zk_ctx_entry
	.type	zk_ctx_entry, @function
	.p2align 4
zk_ctx_entry:
	.cfi_startproc
	.cfi_undefined rip		/* the outermost frame: stop unwinding */
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	zk_ctx_entry, .-zk_ctx_entry

	.section .note.GNU-stack,"",@progbits
