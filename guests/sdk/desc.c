/*
 * desc.c - IDT, per-CPU TSS/GDT entries, per-CPU data, and the C side of
 * interrupt dispatch.
 */
#include "desc.h"
#include "x86.h"
#include "libc.h"
#include "apic.h"

_Static_assert(offsetof(struct percpu, self) == PERCPU_SELF, "percpu layout");
_Static_assert(offsetof(struct percpu, syscall_rsp) == PERCPU_SYSCALL_RSP, "percpu layout");
_Static_assert(offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "percpu layout");
_Static_assert(offsetof(struct percpu, user_ret_rsp) == PERCPU_USER_RET_RSP, "percpu layout");
_Static_assert(offsetof(struct percpu, tss) == PERCPU_TSS, "percpu layout");
_Static_assert(sizeof(struct tss) == 104, "TSS size");

struct idt_gate {
	u16 offset0;
	u16 selector;
	u8 ist;                 /* bits 2:0 */
	u8 type_attr;           /* P, DPL, type (0xE = 64-bit interrupt gate) */
	u16 offset1;
	u32 offset2;
	u32 reserved;
} __packed;

struct table_ptr {
	u16 limit;
	u64 base;
} __packed;

extern u64 gdt[];                       /* entry.S */
extern char isr_stubs[];                /* isr.S: 16 bytes per vector */
extern const u64 __ex_table_start[], __ex_table_end[];  /* linker.ld */

struct percpu percpu[MAX_CPUS];
static struct idt_gate idt[256] __aligned(16);
static handler_t handlers[256];
/* Per CPU: stack for IST1 (#DF) and a default RSP0 stack. */
static u8 cpu_stacks[MAX_CPUS][2][IST_STACK_SIZE] __aligned(16);

void set_gate(u8 vector, int dpl, int ist)
{
	u64 addr = (u64)isr_stubs + 16 * vector;
	struct idt_gate *g = &idt[vector];

	g->offset0 = addr;
	g->selector = KERNEL_CS;
	g->ist = ist;
	g->type_attr = 0x80 | (dpl << 5) | 0xe;  /* interrupt gate: IF cleared */
	g->offset1 = addr >> 16;
	g->offset2 = addr >> 32;
	g->reserved = 0;
}

void set_gate_present(u8 vector, bool present)
{
	if (present)
		idt[vector].type_attr |= 0x80;
	else
		idt[vector].type_attr &= ~0x80;
}

void idt_init(void);

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, 0, v == DF_VECTOR ? 1 : 0);
}

static void write_tss_descriptor(int id, struct tss *t)
{
	u64 base = (u64)t, limit = sizeof(*t) - 1;
	u64 *d = &gdt[(TSS_SEL_BASE >> 3) + 2 * id];

	d[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	       (0x89ull << 40) |                /* present, available 64-bit TSS */
	       (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	d[1] = base >> 32;
}

void cpu_init_descriptors(int id)
{
	struct percpu *p = &percpu[id];
	struct table_ptr idtr = { sizeof(idt) - 1, (u64)idt };

	p->self = p;
	p->id = id;
	p->ex_vector = -1;
	p->tss.ist[0] = (u64)cpu_stacks[id][0] + IST_STACK_SIZE;
	p->tss.rsp0 = (u64)cpu_stacks[id][1] + IST_STACK_SIZE;
	p->tss.iomap_base = sizeof(struct tss);  /* no I/O bitmap */
	p->syscall_rsp = p->tss.rsp0;

	write_tss_descriptor(id, &p->tss);
	asm volatile("ltr %w0" :: "r"(TSS_SEL_BASE + 16 * id));
	asm volatile("lidt %0" :: "m"(idtr));
	wrmsr(MSR_GS_BASE, (u64)p);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

handler_t handle_exception(u8 vector, handler_t fn)
{
	handler_t old = handlers[vector];

	handlers[vector] = fn;
	return old;
}

bool extable_fixup(struct ex_regs *regs)
{
	for (const u64 *e = __ex_table_start; e < __ex_table_end; e += 2) {
		if (e[0] == regs->rip) {
			this_cpu()->ex_vector = regs->vector;
			this_cpu()->ex_error_code = regs->error_code;
			regs->rip = e[1];
			return true;
		}
	}
	return false;
}

const char *exception_name(u8 vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
		"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
	};

	return vector < 32 ? names[vector] : "interrupt";
}

static void __noreturn unhandled(struct ex_regs *r)
{
	printf("UNHANDLED: vector %lu (%s) on CPU %d at rip=%lx cs=%lx error=%lx\n",
	       r->vector, exception_name(r->vector), smp_id(), r->rip, r->cs,
	       r->error_code);
	printf("  rflags=%lx rsp=%lx ss=%lx cr2=%lx\n", r->rflags, r->rsp, r->ss,
	       read_cr2());
	printf("  rax=%lx rbx=%lx rcx=%lx rdx=%lx\n", r->rax, r->rbx, r->rcx, r->rdx);
	printf("  rsi=%lx rdi=%lx rbp=%lx r8=%lx\n", r->rsi, r->rdi, r->rbp, r->r8);
	exit(EXIT_UNHANDLED);
}

void isr_dispatch(struct ex_regs *regs);

void isr_dispatch(struct ex_regs *regs)
{
	handler_t h = handlers[regs->vector];

	if (h)
		h(regs);
	else if (regs->vector == APIC_SPURIOUS_VECTOR)
		;                       /* spurious: no EOI by definition */
	else if (regs->vector == IPI_WAKE_VECTOR)
		apic_eoi();             /* smp.c: the woken CPU checks its mailbox */
	else if (regs->vector >= 32 || !extable_fixup(regs))
		unhandled(regs);
}
