/*
 * desc.h - descriptor tables (GDT, IDT, TSS), per-CPU data, and the
 * exception/interrupt handling API.
 */
#ifndef VSMRR_DESC_H
#define VSMRR_DESC_H

#include "types.h"
#include "layout.h"

/* 64-bit TSS. Hardware reads RSP0 on a CPL3->CPL0 transition and IST1 on
 * vectors whose gate selects IST 1 (the double-fault gate does). */
struct tss {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

/* Per-CPU data, reached through the GS base while in the kernel. */
struct percpu {
	struct percpu *self;            /* PERCPU_SELF */
	u64 syscall_rsp;                /* PERCPU_SYSCALL_RSP */
	u64 user_rsp;                   /* PERCPU_USER_RSP */
	u64 user_ret_rsp;               /* PERCPU_USER_RET_RSP */
	u32 id;                         /* APIC ID = CPU index */
	volatile u32 online;
	volatile int ex_vector;         /* last vector caught by a fixup */
	u32 pad0;
	volatile u64 ex_error_code;     /* its error code */
	/* on_cpu() mailbox: the function pointer is written last and cleared
	 * by the target CPU when the function returned. */
	void (*volatile work_fn)(void *);
	void *volatile work_arg;
	u8 pad1[PERCPU_TSS - 72];
	struct tss tss;                 /* PERCPU_TSS */
} __aligned(64);

/*
 * Register frame built by the interrupt stubs (sdk/isr.S). Handlers may
 * change any field; the stub reloads all of them, so e.g. advancing rip
 * skips the faulting instruction and changing rax changes the result.
 */
struct ex_regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector;
	u64 error_code;                 /* 0 for vectors without one */
	u64 rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

typedef void (*handler_t)(struct ex_regs *regs);

/* Install a handler for a vector (0..255); returns the previous one.
 * NULL restores the default (fixup table, then "unhandled" exit). */
handler_t handle_exception(u8 vector, handler_t fn);
/* Change a gate's DPL (3 lets user code use INT n) and IST (0 = none). */
void set_gate(u8 vector, int dpl, int ist);
/* Clear or set a gate's P bit (a not-present gate raises #NP). */
void set_gate_present(u8 vector, bool present);
const char *exception_name(u8 vector);

/*
 * Fixup table: a faulting instruction at address F can be given a resume
 * address R with EXTABLE_ENTRY("F", "R") inside the asm statement. The
 * default handler then records vector and error code in the per-CPU data
 * and continues at R. Used by the *_safe helpers below.
 */
#define EXTABLE_ENTRY(fault, fixup) \
	".pushsection .ex_table, \"a\"\n\t.balign 8\n\t.quad " fault ", " fixup "\n\t.popsection\n\t"
/* Apply a fixup for regs->rip if there is one; true if applied. */
bool extable_fixup(struct ex_regs *regs);

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	asm volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static inline int smp_id(void) { return this_cpu()->id; }

/* Vector caught by the last fixup on this CPU (-1 = none); resets it. */
static inline int exception_vector(void)
{
	int v = this_cpu()->ex_vector;
	this_cpu()->ex_vector = -1;
	return v;
}
static inline u64 exception_error_code(void) { return this_cpu()->ex_error_code; }

/* Run a faulting-capable access; return the exception vector or -1. */
static inline int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	this_cpu()->ex_vector = -1;
	asm volatile("1: rdmsr\n2:\n\t" EXTABLE_ENTRY("1b", "2b")
		     : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*val = lo | ((u64)hi << 32);
	return exception_vector();
}

static inline int wrmsr_safe(u32 msr, u64 val)
{
	this_cpu()->ex_vector = -1;
	asm volatile("1: wrmsr\n2:\n\t" EXTABLE_ENTRY("1b", "2b")
		     :: "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return exception_vector();
}

static inline int read64_safe(const volatile void *p, u64 *val)
{
	u64 v = 0;
	this_cpu()->ex_vector = -1;
	asm volatile("1: movq (%1), %0\n2:\n\t" EXTABLE_ENTRY("1b", "2b")
		     : "+r"(v) : "r"(p) : "memory");
	*val = v;
	return exception_vector();
}

static inline int write64_safe(volatile void *p, u64 val)
{
	this_cpu()->ex_vector = -1;
	asm volatile("1: movq %1, (%0)\n2:\n\t" EXTABLE_ENTRY("1b", "2b")
		     :: "r"(p), "r"(val) : "memory");
	return exception_vector();
}

/* Load DS with a selector; DS is restored to KERNEL_DS afterwards. */
static inline int load_ds_safe(u16 sel)
{
	this_cpu()->ex_vector = -1;
	asm volatile("1: mov %0, %%ds\n2:\n\t" EXTABLE_ENTRY("1b", "2b")
		     "mov %1, %%ds" :: "r"(sel), "r"((u16)KERNEL_DS) : "memory");
	return exception_vector();
}

/* Internal: per-CPU descriptor setup, called by the SDK startup code. */
void cpu_init_descriptors(int id);
extern struct percpu percpu[MAX_CPUS];

#endif
