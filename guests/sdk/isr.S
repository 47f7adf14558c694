/*
 * isr.S - interrupt/exception entry stubs.
 *
 * 256 stubs, each exactly 16 bytes apart starting at isr_stubs, so desc.c
 * computes a vector's stub as isr_stubs + 16 * vector. Every stub makes
 * the stack look the same (a dummy 0 error code where the CPU pushes none)
 * and jumps to isr_common, which saves all GPRs (struct ex_regs) and the
 * SSE state (not in the NO_SSE build), calls isr_dispatch(regs) and returns with IRETQ using the
 * possibly modified frame.
 */
#include "layout.h"

	.text
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	/* .org fails to assemble if the previous stub is longer than 16 bytes */
	.org isr_stubs + vec * 16, 0xcc
	/* Vectors for which the CPU pushes an error code. */
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr
	.org isr_stubs + 256 * 16, 0xcc

isr_common:
	/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. The kernel runs
	 * with GS.base = its per-CPU data; coming from CPL3 swap it in. */
	testb $3, 24(%rsp)
	jz 1f
	swapgs
1:	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	/* The handler is C compiled with SSE: save the interrupted code's
	 * x87/SSE state (FXSAVE needs a 16-byte aligned area). */
	mov %rsp, %rbx                      /* struct ex_regs *, callee-saved */
	and $-16, %rsp
#ifndef NO_SSE
	sub $512, %rsp
	fxsave64 (%rsp)
#endif
	cld                                 /* the ABI expects DF = 0 */
	mov %rbx, %rdi
	call isr_dispatch
#ifndef NO_SSE
	fxrstor64 (%rsp)
#endif
	mov %rbx, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp                       /* vector and error code */
	testb $3, 8(%rsp)                   /* returning to CPL3? */
	jz 2f
	swapgs
2:	iretq

	.section .note.GNU-stack, "", @progbits
