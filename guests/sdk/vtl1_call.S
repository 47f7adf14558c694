/*
 * vtl1_call.S - the VTL0 side of a VTL call (spec/vsm.md §2.3, §5.2) and
 * the entry of an AP started with HvCallStartVirtualProcessor (§2.8).
 *
 * A VTL call goes through the hypercall page's VTL-call sequence
 * (vsm_vtl_call_seq = page + VsmCodePageOffsets.call): RCX = 0 (the VTL
 * call input), then the page does RAX <- RCX, ECX <- 0x11, VMCALL, RET. All
 * shared registers may come back changed by VTL1, so the callee-saved ones
 * are kept on VTL0's own (private) stack.
 */
#include "layout.h"

#define R15 0
#define R14 8
#define R13 16
#define R12 24
#define R11 32
#define R10 40
#define R9  48
#define R8  56
#define RBP 64
#define RDI 72
#define RSI 80
#define RDX 88
#define RCX 96
#define RBX 104
#define RAX 112

	.text
	.code64

/* u64 vtl_call(u64 op, u64 a1, u64 a2, u64 a3): VTL1 gets RDI = op,
 * RSI = a1, RDX = a2, R8 = a3; the result is VTL1's RDX. */
	.globl vtl_call
vtl_call:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rcx, %r8
	xor %ecx, %ecx
	call *vsm_vtl_call_seq(%rip)
	mov %rdx, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

/* void vtl_call_regs(struct vsm_gprs *r): every shared GPR from *r, the
 * VTL call, every GPR back into *r. */
	.globl vtl_call_regs
vtl_call_regs:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi
	mov R15(%rdi), %r15
	mov R14(%rdi), %r14
	mov R13(%rdi), %r13
	mov R12(%rdi), %r12
	mov R11(%rdi), %r11
	mov R10(%rdi), %r10
	mov R9(%rdi), %r9
	mov R8(%rdi), %r8
	mov RBP(%rdi), %rbp
	mov RSI(%rdi), %rsi
	mov RDX(%rdi), %rdx
	mov RCX(%rdi), %rcx
	mov RBX(%rdi), %rbx
	mov RAX(%rdi), %rax
	mov RDI(%rdi), %rdi
	call *vsm_vtl_call_seq(%rip)
	push %rdi
	mov 8(%rsp), %rdi
	mov %r15, R15(%rdi)
	mov %r14, R14(%rdi)
	mov %r13, R13(%rdi)
	mov %r12, R12(%rdi)
	mov %r11, R11(%rdi)
	mov %r10, R10(%rdi)
	mov %r9, R9(%rdi)
	mov %r8, R8(%rdi)
	mov %rbp, RBP(%rdi)
	mov %rsi, RSI(%rdi)
	mov %rdx, RDX(%rdi)
	mov %rcx, RCX(%rdi)
	mov %rbx, RBX(%rdi)
	mov %rax, RAX(%rdi)
	pop %rax
	mov %rax, RDI(%rdi)
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

/*
 * VTL0 entry of a VP started by vsm_start_vp(): already in long mode with
 * the SDK's GDT, CR3 and stack from the context. Same state as entry.S's
 * AP path gives ap_main().
 */
	.globl vsm_ap_start
vsm_ap_start:
	cli
	cld
#ifndef NO_SSE
	fninit
	ldmxcsr ap_mxcsr(%rip)
#endif
	mov $1, %eax
	cpuid
	shr $24, %ebx                   /* initial APIC ID = CPU index */
	mov %ebx, %edi
	xor %ebp, %ebp
	call ap_main                    /* never returns */
1:	cli
	hlt
	jmp 1b

	.section .rodata
	.balign 4
ap_mxcsr:
	.long 0x1f80

	.section .note.GNU-stack, "", @progbits
