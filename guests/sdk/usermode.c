/*
 * usermode.c - SYSCALL MSR setup and the C side of run_in_user().
 */
#include "usermode.h"
#include "desc.h"
#include "x86.h"

#define USER_STACK_SIZE 0x4000

extern char syscall_entry[];            /* user.S */
u64 run_in_user_asm(u64 (*fn)(u64), u64 arg, void *stack_top, int use_sysret);

/* Called by syscall_entry for every system call except SYS_USER_EXIT. */
syscall_handler_t syscall_handler_fn;

static u8 user_stacks[MAX_CPUS][USER_STACK_SIZE] __aligned(16);

static u64 no_handler(struct syscall_regs *regs)
{
	(void)regs;
	return (u64)-1;
}

void syscall_init(syscall_handler_t handler)
{
	syscall_handler_fn = handler ? handler : no_handler;
	/* STAR[47:32]: SYSCALL CS (SS = +8). STAR[63:48]: SYSRET base; 64-bit
	 * SYSRET uses CS = base + 16, SS = base + 8 (see layout.h). */
	wrmsr(MSR_STAR, ((u64)USER_CS32 << 48) | ((u64)KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (u64)syscall_entry);
	wrmsr(MSR_SFMASK, X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_AC);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

u64 run_in_user(u64 (*fn)(u64), u64 arg, enum user_entry how)
{
	void *top = user_stacks[smp_id()] + USER_STACK_SIZE;

	return run_in_user_asm(fn, arg, top, how == USER_VIA_SYSRET);
}
