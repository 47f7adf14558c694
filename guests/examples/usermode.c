/*
 * usermode.c - CPL3: enter it with IRETQ and with SYSRETQ, make system
 * calls (SYSCALL/SYSRET with SWAPGS in the kernel entry), use an INT gate
 * with DPL 3, and check the protection faults user code must get: INT to
 * a DPL 0 gate, HLT, and reads/writes of a supervisor-only page.
 *
 * The user-mode functions below run at CPL3: they only touch memory and
 * store results in `u`; the kernel side checks them afterwards.
 */
#include "vsmrr.h"

enum { SYS_ADD = 1, SYS_SUM6, SYS_KERNEL_STATE };

/* Filled in by user code (all memory is user-accessible by default). */
static volatile struct {
	u64 cpl, add, sum6, kernel_state, int80, rflags;
	u64 regs_kept;
	u32 pf_read, pf_write;
} u;

/* Filled in by the kernel-side handlers. */
static volatile struct {
	u64 syscall_cpl, syscall_if, syscall_gs_ok, syscalls;
	u64 int80_cs;
	u64 gp_error, gp_cs, pf_error, pf_cr2, faults;
} k;

static u8 kpage[PAGE_SIZE] __aligned(PAGE_SIZE);

/* ---- kernel side ---- */

static u64 sys_handler(struct syscall_regs *r)
{
	k.syscalls++;
	k.syscall_cpl = read_cs() & 3;
	k.syscall_if = read_rflags() & X86_EFLAGS_IF;   /* SFMASK clears IF */
	k.syscall_gs_ok = this_cpu()->self == this_cpu(); /* SWAPGS worked */

	switch (r->nr) {
	case SYS_ADD:
		return r->arg[0] + r->arg[1];
	case SYS_SUM6:  /* weights catch swapped arguments */
		return r->arg[0] + 2 * r->arg[1] + 3 * r->arg[2] +
		       4 * r->arg[3] + 5 * r->arg[4] + 6 * r->arg[5];
	case SYS_KERNEL_STATE:
		return (read_cs() & 3) | (k.syscall_gs_ok << 8);
	default:
		return (u64)-1;
	}
}

static void int80_handler(struct ex_regs *r)
{
	k.int80_cs = r->cs;
	r->rax += 1000;
}

static void gp_handler(struct ex_regs *r)
{
	k.faults++;
	k.gp_error = r->error_code;
	k.gp_cs = r->cs;
	if (!extable_fixup(r))
		panic("unexpected #GP at %lx", r->rip);
}

static void pf_handler(struct ex_regs *r)
{
	k.faults++;
	k.pf_error = r->error_code;
	k.pf_cr2 = read_cr2();
	if (!extable_fixup(r))
		panic("unexpected #PF at %lx (cr2 %lx)", r->rip, read_cr2());
}

/* ---- user side (CPL3) ---- */

static u64 user_main(u64 arg)
{
	u64 v;

	u.cpl = read_cs() & 3;
	u.rflags = read_rflags();
	u.add = syscall6(SYS_ADD, 40, 2, 0, 0, 0, 0);
	u.sum6 = syscall6(SYS_SUM6, 1, 2, 3, 4, 5, 6);
	u.kernel_state = syscall6(SYS_KERNEL_STATE, 0, 0, 0, 0, 0, 0);

	/* The SYSCALL entry must preserve everything but RAX, RCX, R11. */
	{
		register u64 r8 asm("r8") = 8, r9 asm("r9") = 9, r10 asm("r10") = 10;
		register u64 r12 asm("r12") = 12;
		u64 rdi = 0xd1, rsi = 0x51, rdx = 0xd0, ret;

		asm volatile("syscall"
			     : "=a"(ret), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8),
			       "+r"(r9), "+r"(r10), "+r"(r12)
			     : "a"((u64)SYS_ADD) : "rcx", "r11", "memory");
		u.regs_kept = ret == 0xd1 + 0x51 && rdi == 0xd1 && rsi == 0x51 &&
			      rdx == 0xd0 && r8 == 8 && r9 == 9 && r10 == 10 && r12 == 12;
	}

	/* INT 0x80 through a DPL 3 gate; the handler adds 1000 to RAX. */
	v = 5;
	asm volatile("int $0x80" : "+a"(v) :: "memory");
	u.int80 = v;

	return 0x1234 + arg;
}

/* INT 0x81 has a DPL 0 gate: #GP. Returns 1 if the fixup ran. */
static u64 user_int81(u64 unused)
{
	u32 faulted;

	asm volatile("movl $0, %0\n1: int $0x81\n\tjmp 3f\n2: movl $1, %0\n3:\n\t"
		     EXTABLE_ENTRY("1b", "2b") : "=r"(faulted) :: "memory");
	return faulted;
}

/* HLT is privileged: #GP(0). */
static u64 user_hlt(u64 unused)
{
	u32 faulted;

	asm volatile("movl $0, %0\n1: hlt\n\tjmp 3f\n2: movl $1, %0\n3:\n\t"
		     EXTABLE_ENTRY("1b", "2b") : "=r"(faulted) :: "memory");
	return faulted;
}

static u64 user_touch_kpage(u64 write)
{
	u64 v = 0;

	if (write)
		asm volatile("movl $0, %0\n1: movq %1, (%2)\n\tjmp 3f\n2: movl $1, %0\n3:\n\t"
			     EXTABLE_ENTRY("1b", "2b")
			     : "=m"(u.pf_write) : "r"(v), "r"(kpage + 8) : "memory");
	else
		asm volatile("movl $0, %0\n1: movq (%2), %1\n\tjmp 3f\n2: movl $1, %0\n3:\n\t"
			     EXTABLE_ENTRY("1b", "2b")
			     : "=m"(u.pf_read), "+r"(v) : "r"(kpage + 16) : "memory");
	return read_cs() & 3;
}

static void run(enum user_entry how, const char *name)
{
	u64 ret;
	memset((void *)&u, 0, sizeof(u));
	memset((void *)&k, 0, sizeof(k));
	ret = run_in_user(user_main, 7, how);

	report(ret == 0x1234 + 7, "%s: user function returned %lx", name, ret);
	report(u.cpl == 3, "%s: CPL in user mode is %lu", name, u.cpl);
	report(u.rflags & X86_EFLAGS_IF, "%s: IF=1 in user mode", name);
	report(u.add == 42, "%s: SYSCALL add(40, 2) = %lu", name, u.add);
	report(u.sum6 == 91, "%s: SYSCALL with 6 arguments = %lu", name, u.sum6);
	report(u.kernel_state == 0x100, "%s: handler at CPL0 with kernel GS (%lx)",
	       name, u.kernel_state);
	report(k.syscall_cpl == 0 && !k.syscall_if && k.syscalls == 4,
	       "%s: handler saw CPL %lu, IF %lu, %lu calls", name, k.syscall_cpl,
	       k.syscall_if >> 9, k.syscalls);
	report(u.regs_kept, "%s: SYSCALL preserves RDI RSI RDX R8-R10 R12", name);
	report(u.int80 == 1005 && k.int80_cs == (USER_CS | 3),
	       "%s: INT 0x80 via DPL3 gate from CS %lx returned %lu", name, k.int80_cs, u.int80);
}

static void test_faults(void)
{
	u64 gp_arch = (0x81 << 3) | 2, gp_quirk = (0x81 << 4) | 2;
	u64 r;

	memset((void *)&k, 0, sizeof(k));
	r = run_in_user(user_int81, 0, USER_VIA_IRET);
	/* Architecturally (vector << 3) | IDT; QEMU <= 7.2 uses << 4. */
	report(r == 1 && k.faults == 1 && k.gp_cs == (USER_CS | 3) &&
	       (k.gp_error == gp_arch || k.gp_error == gp_quirk),
	       "INT 0x81 (DPL0 gate) from CPL3: #GP error %lx = (0x81 << 3) | IDT%s",
	       k.gp_error, k.gp_error == gp_quirk ? " (QEMU quirk: << 4)" : "");

	memset((void *)&k, 0, sizeof(k));
	r = run_in_user(user_hlt, 0, USER_VIA_SYSRET);
	report(r == 1 && k.faults == 1 && k.gp_error == 0 && k.gp_cs == (USER_CS | 3),
	       "HLT at CPL3: #GP(0)");

	/* Supervisor-only page: user access faults with U=1 in the error. */
	vm_set_flags((u64)kpage, 0, PT_USER);
	memset((void *)&k, 0, sizeof(k));
	r = run_in_user(user_touch_kpage, 0, USER_VIA_IRET);
	report(r == 3 && u.pf_read && k.faults == 1 &&
	       k.pf_error == (PFERR_USER | PFERR_PRESENT) && k.pf_cr2 == (u64)kpage + 16,
	       "user read of supervisor page: #PF error %lx = U|P, cr2 %lx",
	       k.pf_error, k.pf_cr2);
	memset((void *)&k, 0, sizeof(k));
	r = run_in_user(user_touch_kpage, 1, USER_VIA_SYSRET);
	report(r == 3 && u.pf_write && k.faults == 1 &&
	       k.pf_error == (PFERR_USER | PFERR_WRITE | PFERR_PRESENT) &&
	       k.pf_cr2 == (u64)kpage + 8,
	       "user write to supervisor page: #PF error %lx = U|W|P, cr2 %lx",
	       k.pf_error, k.pf_cr2);
	kpage[8] = 0x77;
	report(kpage[8] == 0x77, "the kernel can still write the supervisor page");
	vm_set_flags((u64)kpage, PT_USER, 0);
}

int main(void)
{
	syscall_init(sys_handler);
	handle_exception(0x80, int80_handler);
	set_gate(0x80, 3, 0);                   /* INT 0x80 allowed from CPL3 */
	handle_exception(GP_VECTOR, gp_handler);
	handle_exception(PF_VECTOR, pf_handler);

	run(USER_VIA_IRET, "iret");
	run(USER_VIA_SYSRET, "sysret");
	test_faults();

	report((read_cs() & 3) == 0, "back at CPL0 after all user runs");
	return report_summary();
}
