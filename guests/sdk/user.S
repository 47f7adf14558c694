/*
 * user.S - CPL3 entry (IRETQ or SYSRETQ), the SYSCALL entry point and the
 * way back from user mode.
 *
 * GS convention: in the kernel GS.base points to this CPU's struct percpu
 * and KERNEL_GS_BASE holds the user value; SWAPGS exchanges them on every
 * transition (here and in isr.S).
 */
#include "layout.h"

#define SYS_USER_EXIT   -1

	.text
	.code64

/*
 * u64 run_in_user_asm(u64 (*fn)(u64) [rdi], u64 arg [rsi],
 *                     void *user_stack_top [rdx], int use_sysret [ecx])
 * Saves the callee-saved registers and RFLAGS, records where to come back
 * (user_ret_rsp), makes the stack below that the kernel stack for SYSCALL
 * and for interrupts from CPL3 (TSS.RSP0), and drops to CPL3 at
 * user_trampoline with RDI = fn, RSI = arg.
 */
	.globl run_in_user_asm
run_in_user_asm:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	cli                                 /* no interrupt between SWAPGS and CPL3 */
	mov %rsp, %gs:PERCPU_USER_RET_RSP
	mov %rsp, %rax
	sub $64, %rax
	and $-16, %rax
	mov %rax, %gs:PERCPU_SYSCALL_RSP
	mov %rax, %gs:(PERCPU_TSS + 4)      /* TSS.RSP0 */
	test %ecx, %ecx
	jnz 1f
	/* IRETQ frame: SS, RSP, RFLAGS (IF=1), CS, RIP */
	pushq $(USER_DS | 3)
	push %rdx
	pushq $0x202
	pushq $(USER_CS | 3)
	pushq $user_trampoline
	swapgs
	iretq
1:	/* SYSRETQ: RIP from RCX, RFLAGS from R11, CS/SS from STAR[63:48] */
	mov $user_trampoline, %rcx
	mov $0x202, %r11
	mov %rdx, %rsp
	swapgs
	sysretq

/* First user-mode code: call fn(arg), then return its result to the kernel
 * with the reserved system call. */
user_trampoline:
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	mov %rax, %rdi
	mov $SYS_USER_EXIT, %rax
	syscall
	ud2                                 /* not reached */

/*
 * SYSCALL lands here at CPL0 with RCX = user RIP, R11 = user RFLAGS, RSP
 * still the user stack, and RFLAGS masked by SFMASK (IF, TF, DF, AC clear).
 */
	.globl syscall_entry
syscall_entry:
	swapgs
	mov %rsp, %gs:PERCPU_USER_RSP
	mov %gs:PERCPU_SYSCALL_RSP, %rsp
	cmp $SYS_USER_EXIT, %rax
	je user_exit
	/* struct syscall_regs, lowest address first: nr, arg[0..5], rip,
	 * rflags, rsp. The C handler may change any of them. */
	pushq %gs:PERCPU_USER_RSP
	push %r11
	push %rcx
	push %r9
	push %r8
	push %r10
	push %rdx
	push %rsi
	push %rdi
	push %rax
	mov %rsp, %rdi
#ifndef NO_SSE
	sub $512, %rsp                      /* user SSE state: see isr.S */
	fxsave64 (%rsp)
	call *syscall_handler_fn(%rip)
	fxrstor64 (%rsp)
	add $512, %rsp
#else
	call *syscall_handler_fn(%rip)
#endif
	add $8, %rsp                        /* nr; RAX = result */
	pop %rdi
	pop %rsi
	pop %rdx
	pop %r10
	pop %r8
	pop %r9
	pop %rcx
	pop %r11
	pop %rsp                            /* back on the user stack */
	swapgs
	sysretq

/* SYS_USER_EXIT: continue in run_in_user_asm's frame with RAX = arg 0. */
user_exit:
	mov %gs:PERCPU_USER_RET_RSP, %rsp
	mov %rdi, %rax
	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

	.section .note.GNU-stack, "", @progbits
