/*
 * usermode.h - running code at CPL3 and the SYSCALL/SYSRET interface.
 */
#ifndef VSMRR_USERMODE_H
#define VSMRR_USERMODE_H

#include "types.h"

/* Registers of a SYSCALL as seen by the kernel-side handler. */
struct syscall_regs {
	u64 nr;                         /* rax */
	u64 arg[6];                     /* rdi rsi rdx r10 r8 r9 */
	u64 rip;                        /* rcx: user return address */
	u64 rflags;                     /* r11: user RFLAGS */
	u64 rsp;                        /* user stack pointer */
};

typedef u64 (*syscall_handler_t)(struct syscall_regs *regs);

/* Reserved system call number: ends run_in_user() with arg[0]. */
#define SYS_USER_EXIT   0xfffffffful

/* Program STAR/LSTAR/SFMASK on this CPU and set the C handler that gets
 * every SYSCALL except SYS_USER_EXIT. SFMASK clears IF, TF, DF and AC. */
void syscall_init(syscall_handler_t handler);

enum user_entry { USER_VIA_IRET, USER_VIA_SYSRET };

/*
 * Call fn(arg) at CPL3 on a private user stack, entered with IRETQ or
 * SYSRETQ, and return its result once it returns (the return path is the
 * SYS_USER_EXIT system call). Needs syscall_init() first. All memory is
 * mapped user-accessible by default, so fn can use the kernel's code and
 * data (but not call the SDK's printf or use privileged instructions).
 */
u64 run_in_user(u64 (*fn)(u64), u64 arg, enum user_entry how);

/* System call from user mode with up to six arguments. */
static inline u64 syscall6(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	register u64 r10 asm("r10") = a3;
	register u64 r8 asm("r8") = a4;
	register u64 r9 asm("r9") = a5;
	u64 ret;
	asm volatile("syscall"
		     : "=a"(ret), "+D"(a0), "+S"(a1), "+d"(a2), "+r"(r10), "+r"(r8), "+r"(r9)
		     : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

#endif
