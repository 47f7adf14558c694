/*
 * vtl1.S - VTL1 entry, VTL return/re-entry and VTL1 interrupt stubs
 * (spec/vsm.md §5). C side: vsm.c.
 *
 * Shared vs private (§5.1): RSP, RIP, RFLAGS are private, so VTL1 can keep
 * its own stack across switches; every other GPR and the x87/SSE state are
 * shared, so VTL1 must save them before using any, and put them back before
 * it returns. RAX and RCX do not survive the hypercall page's VTL-return
 * sequence (RAX <- RCX, ECX <- 0x12): VTL0's values for those travel
 * through the VTL control area of the VP assist page on a non-fast return.
 *
 * struct vsm_frame (640 bytes, 16-byte aligned, on the VTL1 stack):
 *     +0    FXSAVE image                         (512)
 *     +512  r15 r14 ... r8 rbp rdi rsi rdx rcx rbx rax   (15 x 8)
 *     +632  VTL1 RSP inside vtl1_switch (first entry: RFLAGS at entry)
 * The GPRs are pushed/popped in place: vtl1_switch points RSP at +512, pops
 * all of them (ending at +632) and calls the return sequence, which pushes
 * its return address into the already-consumed RAX slot; after re-entry the
 * page's RET leaves RSP at +632 again and the pushes rebuild the frame.
 */
#include "layout.h"

#define FRAME_REGS      512
#define FRAME_RSP       632
#define FRAME_RCX       (512 + 12 * 8)

.macro PUSH_GPRS
	push %rax
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
.endm

.macro POP_GPRS
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
.endm

/* Save the shared x87/SSE state below the GPRs (RSP = frame + 512) and give
 * VTL1's C code a clean x87/MXCSR state. */
.macro SAVE_FPU
#ifndef NO_SSE
	fxsave64 -FRAME_REGS(%rsp)
	fninit
	ldmxcsr vtl1_mxcsr(%rip)
#endif
.endm

	.text
	.code64

/*
 * First VTL1 instruction on a VP (RIP of the EnableVpVtl context): RSP =
 * top of this VP's VTL1 stack (16-byte aligned), RFLAGS = 2, all shared
 * registers as VTL0 left them at its VTL call.
 */
	.globl vtl1_start
vtl1_start:
	pushfq                          /* frame->vtl1_rsp := RFLAGS at entry */
	PUSH_GPRS
	SAVE_FPU
	sub $FRAME_REGS, %rsp           /* RSP = frame (stack below it) */
	cld
	mov %rsp, %rdi
	call vtl1_main                  /* never returns */
1:	cli
	hlt
	jmp 1b

/*
 * void vtl1_switch(struct vsm_frame *f, u64 kind)
 * VTL return with the shared state in *f (kind: 0 = normal, 1 = fast; it
 * travels in RCX), and on the next entry to VTL1 store VTL0's shared state
 * in *f and return to the caller. VTL1 leaves (and so resumes) with IF = 0.
 */
	.globl vtl1_switch
vtl1_switch:
	cli                             /* RSP walks through the frame below: no
					 * interrupt may push onto the stack */
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, FRAME_RSP(%rdi)
#ifndef NO_SSE
	fxrstor64 (%rdi)
#endif
	mov %rsi, FRAME_RCX(%rdi)
	lea FRAME_REGS(%rdi), %rsp
	POP_GPRS                        /* RSP = frame + 632 */
	call *vtl1_return_seq(%rip)     /* RAX <- RCX, ECX <- 0x12, VTL return */
	/* VTL1 resumes here on its next entry, IF = 0, VTL0's registers. */
	PUSH_GPRS                       /* RSP = frame + 512 */
	SAVE_FPU
	mov (FRAME_RSP - FRAME_REGS)(%rsp), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	cld
	ret

/* VTL1's interrupt stubs: 16 bytes apart, like isr.S, with their own C
 * dispatcher (vtl1_isr_dispatch, VTL1's own handler table). */
	.balign 16
	.globl vtl1_isr_stubs
vtl1_isr_stubs:
	.set vec, 0
	.rept 256
	.org vtl1_isr_stubs + vec * 16, 0xcc
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp vtl1_isr_common
	.set vec, vec + 1
	.endr
	.org vtl1_isr_stubs + 256 * 16, 0xcc

vtl1_isr_common:
	PUSH_GPRS
	mov %rsp, %rbx                  /* struct ex_regs * */
	and $-16, %rsp
#ifndef NO_SSE
	sub $512, %rsp
	fxsave64 (%rsp)
#endif
	cld
	mov %rbx, %rdi
	call vtl1_isr_dispatch
#ifndef NO_SSE
	fxrstor64 (%rsp)
#endif
	mov %rbx, %rsp
	POP_GPRS
	add $16, %rsp                   /* vector, error code */
	iretq

	.section .rodata
	.balign 4
vtl1_mxcsr:
	.long 0x1f80

/* One page of VTL1 data used by the code above (protected with the rest
 * of VTL1's memory): the address of VTL1's VTL-return sequence. */
	.bss
	.balign 4096
	.globl vtl1_asm_data, vtl1_return_seq
vtl1_asm_data:
vtl1_return_seq:
	.skip 4096

	.section .note.GNU-stack, "", @progbits
