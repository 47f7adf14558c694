/*
 * vsm-pingpong.c - VTL call / VTL return ping-pong (spec/vsm.md §2.3, §4,
 * §5): entry reason and RAX/RCX on entry and on fast and non-fast returns,
 * VTL1 resuming exactly where it returned, a VTL1 timer interrupt entering
 * VTL1 in the middle of VTL0 code, and one check per item of both lists of
 * §5.1 (private per VTL / shared between VTLs).
 *
 * The privacy checks follow one protocol:
 *   1. VTL0 writes a distinctive value D0;
 *   2. VTL1 reads the item (a private item shows VTL1's own value, a shared
 *      one D0) and writes its own distinctive value D1;
 *   3. VTL0 reads it again (private: still D0; shared: D1);
 *   4. VTL1 reads it again (private: D1) and restores; then VTL0 restores.
 * Items that cannot be observed from a guest get a "SKIP:" line naming them.
 * MSRs behind a privilege bit or a CPUID feature are skipped (with the
 * reason) when it is absent.
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define TIMER_VECTOR    0xd0
#define EOI_VECTOR      0xd8
#define MSR_TSC         0x10
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MCG_CAP     0x179
#define MSR_MCG_STATUS  0x17a
#define MSR_PAT         0x277
#define MSR_MTRRCAP     0xfe
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_PHYSMASK0 0x201
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_TSC_AUX     0xc0000103
#define X86_CR0_AM      (1ul << 18)
#define X86_CR4_TSD     (1ul << 2)
#define X86_CR4_DE      (1ul << 3)
#define X86_CR4_OSXSAVE (1ul << 18)

static bool has_priv_lo(u32 bit) { return hv_info.priv_lo & bit; }

/* ====================================================================
 * 1. Entry reason, RAX/RCX, fast and non-fast return
 * ==================================================================== */

static volatile struct {
	u32 reason_call, reason_page;
	u64 rax, rcx;
} e1;

static u64 v1_entry_probe(struct vsm_call *c)
{
	e1.reason_call = c->entry_reason;
	e1.reason_page = vsm_vtl1_assist()->vtl_control.entry_reason;
	e1.rax = c->frame->regs.rax;
	e1.rcx = c->frame->regs.rcx;
	return 0x600d;
}

static u64 v1_nonfast(struct vsm_call *c)
{
	c->fast_return = false;
	c->ret_rax = 0xa1a2a3a4a5a6a7a8;
	c->ret_rcx = 0xc1c2c3c4c5c6c7c8;
	return 0x6007;
}

static u64 v1_add1(struct vsm_call *c)
{
	return c->arg + 1;
}

static void test_entry_and_return(void)
{
	struct vsm_gprs g;
	struct vsm_vtl1_stats s0, s1;
	int bad = -1;

	memset(&g, 0, sizeof(g));
	g.rdi = VSM_OP_RUN;
	g.rsi = (u64)v1_entry_probe;
	g.rax = 0x1234;         /* replaced by the stub: RAX <- RCX (0) */
	vtl_call_regs(&g);
	report(g.rdx == 0x600d, "VTL call runs the VTL1 step (RDX %lx)", g.rdx);
	report(e1.reason_call == HV_VTL_ENTRY_REASON_VTL_CALL &&
	       e1.reason_page == HV_VTL_ENTRY_REASON_VTL_CALL,
	       "entry reason after a VTL call: %u (VP assist page VTL control area 0x08: %u), want 1",
	       e1.reason_call, e1.reason_page);
	report(e1.rax == 0 && e1.rcx == HVCALL_VTL_CALL,
	       "VTL1 entry via VTL call: RAX %lx (the VTL call input, 0), RCX %lx (0x11 from the "
	       "page stub)", e1.rax, e1.rcx);
	/* §5.3 step 5: a fast return leaves RAX/RCX as the return sequence left
	 * them, RAX = 1 (RCX copied), RCX = 0x12. */
	report(g.rax == 1 && g.rcx == HVCALL_VTL_RETURN,
	       "fast VTL return: VTL0 RAX %lx (want 1), RCX %lx (want 0x12)", g.rax, g.rcx);

	memset(&g, 0, sizeof(g));
	g.rdi = VSM_OP_RUN;
	g.rsi = (u64)v1_nonfast;
	vtl_call_regs(&g);
	report(g.rdx == 0x6007 && g.rax == 0xa1a2a3a4a5a6a7a8 && g.rcx == 0xc1c2c3c4c5c6c7c8,
	       "non-fast VTL return: RAX %lx RCX %lx from VTL1's VTL control area (0x10/0x18)",
	       g.rax, g.rcx);

	vsm_vtl1_stats(0, &s0);
	for (u64 i = 0; i < 1000; i++) {
		if (vsm_vtl1_call(v1_add1, i * 7) != i * 7 + 1) {
			bad = i;
			break;
		}
	}
	vsm_vtl1_stats(0, &s1);
	report(bad < 0 && s1.calls - s0.calls == 1001 && s1.interrupts == s0.interrupts,
	       "1000 VTL call/return round trips (first bad %d); VTL1 counted %lu VTL-call entries "
	       "(want 1001 incl. the stats call) and %lu interrupt entries (want 0)", bad,
	       s1.calls - s0.calls, s1.interrupts - s0.interrupts);
}

/* ====================================================================
 * 2. VTL1 resumes where it returned (RIP and RSP are private)
 * ==================================================================== */

static volatile struct {
	u64 rsp_before[3], rsp_after[3];
	u32 reason[3];
	u64 marker;
} y;

static u64 v1_yielder(struct vsm_call *c)
{
	volatile u64 marker = 0xfeedfacecafef00d;
	u64 local = 0x10c41;

	for (int i = 0; i < 3; i++) {
		u64 rsp;

		asm volatile("mov %%rsp, %0" : "=r"(rsp));
		y.rsp_before[i] = rsp;
		local = local * 3 + c->arg;
		vsm_vtl1_yield(c, local);       /* VTL return in the middle of the loop */
		asm volatile("mov %%rsp, %0" : "=r"(rsp));
		y.rsp_after[i] = rsp;
		y.reason[i] = c->entry_reason;
	}
	y.marker = marker;
	return local + c->arg;
}

static volatile u64 vtl0_rsp_before, vtl0_rsp_after;

static void test_resume(void)
{
	u64 want = 0x10c41, got[4];
	bool ok = true;

	asm volatile("mov %%rsp, %0" : "=r"(vtl0_rsp_before));
	got[0] = vsm_vtl1_call(v1_yielder, 1);
	/* These calls do not start anything new: VTL1 continues inside
	 * v1_yielder after its last VTL return. */
	got[1] = vtl_call(VSM_OP_NOP, 0, 2, 0);
	got[2] = vtl_call(VSM_OP_NOP, 0, 3, 0);
	got[3] = vtl_call(VSM_OP_NOP, 0, 4, 0);
	asm volatile("mov %%rsp, %0" : "=r"(vtl0_rsp_after));
	for (int i = 0; i < 3; i++) {
		want = want * 3 + (i + 1);
		ok &= got[i] == want;
	}
	ok &= got[3] == want + 4;
	report(ok && y.marker == 0xfeedfacecafef00d,
	       "VTL1 resumes after its last VTL return, inside the same function: results %lx %lx "
	       "%lx %lx, stack marker %lx", got[0], got[1], got[2], got[3], y.marker);
	report(y.rsp_before[0] == y.rsp_after[0] && y.rsp_before[1] == y.rsp_after[1] &&
	       y.rsp_before[2] == y.rsp_after[2],
	       "private RIP/RSP: VTL1's RSP around each VTL return unchanged (%lx/%lx %lx/%lx %lx/%lx)",
	       y.rsp_before[0], y.rsp_after[0], y.rsp_before[1], y.rsp_after[1], y.rsp_before[2],
	       y.rsp_after[2]);
	{
		struct vsm_region r[4];
		int n = vsm_vtl1_regions(r, 4);
		bool in_vtl1 = false;

		for (int i = 0; i < n; i++)
			in_vtl1 |= y.rsp_after[0] >= r[i].start &&
				   y.rsp_after[0] < r[i].start + r[i].pages * PAGE_SIZE;
		report(vtl0_rsp_before == vtl0_rsp_after && in_vtl1,
		       "private RSP: VTL0's RSP %lx kept across the calls; VTL1's %lx is on its own "
		       "stack (%d)", vtl0_rsp_after, y.rsp_after[0], in_vtl1);
	}
	report(y.reason[0] == 1 && y.reason[1] == 1 && y.reason[2] == 1,
	       "entry reason of each resumed call: %u %u %u (want 1)", y.reason[0], y.reason[1],
	       y.reason[2]);
}

/* ====================================================================
 * 3. Shared general purpose registers
 * ==================================================================== */

static const char *const gpr_names[15] = {
	"R15", "R14", "R13", "R12", "R11", "R10", "R9", "R8",
	"RBP", "RDI", "RSI", "RDX", "RCX", "RBX", "RAX",
};

static volatile struct vsm_gprs gprs_seen_by_vtl1;

static u64 pat_in(int i) { return 0x5a00beefcafe0000ul | ((u64)i << 48) | i; }
static u64 pat_out(int i) { return ~pat_in(i); }

static u64 v1_swap_gprs(struct vsm_call *c)
{
	u64 *r = (u64 *)&c->frame->regs;

	gprs_seen_by_vtl1 = c->frame->regs;
	for (int i = 0; i < 15; i++)
		if (i != 11 && i != 12 && i != 14)      /* RDX = result; RCX/RAX via the stub */
			r[i] = pat_out(i);
	return pat_out(11);
}

static void test_shared_gprs(void)
{
	struct vsm_gprs g;
	u64 *in = (u64 *)&g;
	u64 sent[15];
	const u64 *seen = (const u64 *)&gprs_seen_by_vtl1;

	for (int i = 0; i < 15; i++)
		in[i] = pat_in(i);
	g.rdi = VSM_OP_RUN;
	g.rsi = (u64)v1_swap_gprs;
	g.rcx = 0;
	memcpy(sent, &g, sizeof(sent));
	vtl_call_regs(&g);
	for (int i = 0; i < 15; i++) {
		if (i == 12 || i == 14)
			continue;       /* RCX, RAX: see the interrupt-entry test */
		report(seen[i] == sent[i] && in[i] == pat_out(i),
		       "shared %s: VTL1 saw %lx (VTL0 had %lx), VTL0 got back %lx (VTL1 wrote %lx)",
		       gpr_names[i], seen[i], sent[i], in[i], pat_out(i));
	}
}

/* ====================================================================
 * 4. Interrupt entry: a VTL1 APIC timer fires while VTL0 runs
 * ==================================================================== */

static volatile u64 timer_hits;
/* Referenced from the top-level asm below, hence global. */
volatile u64 spin_count;

/* Load all 15 GPRs from in[] (struct vsm_gprs order), count spin_count
 * down (memory only), store all 15 into out[]. */
void spin_with_patterns(const u64 *in, u64 *out);
asm(".text\n"
    "spin_with_patterns:\n\t"
    "push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
    "push %rsi\n\t"
    "mov 0(%rdi), %r15\n\tmov 8(%rdi), %r14\n\tmov 16(%rdi), %r13\n\tmov 24(%rdi), %r12\n\t"
    "mov 32(%rdi), %r11\n\tmov 40(%rdi), %r10\n\tmov 48(%rdi), %r9\n\tmov 56(%rdi), %r8\n\t"
    "mov 64(%rdi), %rbp\n\tmov 80(%rdi), %rsi\n\tmov 88(%rdi), %rdx\n\tmov 96(%rdi), %rcx\n\t"
    "mov 104(%rdi), %rbx\n\tmov 112(%rdi), %rax\n\tmov 72(%rdi), %rdi\n"
    "1:\tdecq spin_count(%rip)\n\tjnz 1b\n\t"
    "push %rdi\n\tmov 8(%rsp), %rdi\n\t"
    "mov %r15, 0(%rdi)\n\tmov %r14, 8(%rdi)\n\tmov %r13, 16(%rdi)\n\tmov %r12, 24(%rdi)\n\t"
    "mov %r11, 32(%rdi)\n\tmov %r10, 40(%rdi)\n\tmov %r9, 48(%rdi)\n\tmov %r8, 56(%rdi)\n\t"
    "mov %rbp, 64(%rdi)\n\tmov %rsi, 80(%rdi)\n\tmov %rdx, 88(%rdi)\n\tmov %rcx, 96(%rdi)\n\t"
    "mov %rbx, 104(%rdi)\n\tmov %rax, 112(%rdi)\n\tpop %rax\n\tmov %rax, 72(%rdi)\n\t"
    "add $8, %rsp\n\t"
    "pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\tret\n");

static void v1_timer_isr(struct ex_regs *r)
{
	timer_hits++;
	apic_eoi();
}

static u64 v1_arm_timer(struct vsm_call *c)
{
	vsm_vtl1_handle_exception(TIMER_VECTOR, v1_timer_isr);
	apic_timer_oneshot(TIMER_VECTOR, c->arg, 1);
	return apic_read(APIC_LVT_TIMER);
}

static u64 v1_stop_timer(struct vsm_call *c)
{
	apic_timer_stop();
	vsm_vtl1_handle_exception(TIMER_VECTOR, NULL);
	return 0;
}

static void test_interrupt_entry(void)
{
	u64 in[15], out[15];
	struct vsm_vtl1_stats s0, s1;
	const u64 *seen;
	int rounds = 0, attempt;
	bool inside = false;

	for (int i = 0; i < 15; i++)
		in[i] = 0x1717000000000000ul | ((u64)i << 32) | (0x1000 + i);
	/* VTL0 keeps IF = 0 throughout: VTL1's interrupts preempt VTL0
	 * regardless of VTL0's RFLAGS.IF (§5.4). */
	for (attempt = 0; attempt < 3 && !inside; attempt++) {
		vsm_vtl1_stats(0, &s0);
		timer_hits = 0;
		vsm_vtl1_call(v1_arm_timer, 20000);
		for (rounds = 0; rounds < 400 && !timer_hits; rounds++) {
			spin_count = 50000;
			spin_with_patterns(in, out);
		}
		vsm_vtl1_stats(0, &s1);
		seen = (const u64 *)&s1.last_interrupt_gprs;
		inside = timer_hits && !memcmp(seen, in, sizeof(in));
		if (timer_hits && !inside)
			report_info("VTL1 timer fired outside the register-pattern loop (RAX %lx); "
				    "retrying", s1.last_interrupt_gprs.rax);
	}
	vsm_vtl1_call(v1_stop_timer, 0);
	/* (last_entry_reason is the stats call's own, so count entries instead) */
	report(timer_hits == 1 && s1.interrupts - s0.interrupts == 1,
	       "VTL1 APIC timer preempts VTL0 (IF=0): %lu timer interrupt(s) in VTL1 after %d "
	       "rounds, %lu entries with reason 2 (interrupt)", timer_hits, rounds,
	       s1.interrupts - s0.interrupts);
	report(s1.last_interrupt_gprs.rax == in[14] && s1.last_interrupt_gprs.rcx == in[12] && inside,
	       "interrupt entry reason 2 with VTL0's exact shared registers: VTL1 saw RAX %lx RCX %lx "
	       "(VTL0 had %lx %lx), all 15 GPRs equal: %d", s1.last_interrupt_gprs.rax,
	       s1.last_interrupt_gprs.rcx, in[14], in[12], inside);
	{
		int bad = -1;

		for (int i = 0; i < 15; i++)
			if (out[i] != in[i])
				bad = i;
		report(inside && bad < 0, "after the interrupt entry's non-fast return VTL0 continues "
		       "with all 15 GPRs intact (interrupt inside the loop: %d; first bad: %s %lx want %lx)",
		       inside, bad < 0 ? "none" : gpr_names[bad], bad < 0 ? 0 : out[bad],
		       bad < 0 ? 0 : in[bad]);
		report(inside && out[14] == in[14] && out[12] == in[12],
		       "shared RAX, RCX: VTL1 saw VTL0's RAX/RCX, and VTL0's RAX %lx RCX %lx came back "
		       "exactly through the VTL control area (interrupt inside the loop: %d)",
		       out[14], out[12], inside);
	}
}

/* ====================================================================
 * 5. Private architectural MSRs (4-step protocol, one MSR at a time)
 * ==================================================================== */

static volatile struct {
	u32 msr;
	u64 d1;
	u64 vtl1_first, vtl1_orig, vtl1_kept;
} mc;

static u64 v1_msr_step1(struct vsm_call *c)
{
	mc.vtl1_first = mc.vtl1_orig = rdmsr(mc.msr);
	wrmsr(mc.msr, mc.d1);
	return 0;
}

static u64 v1_msr_step2(struct vsm_call *c)
{
	mc.vtl1_kept = rdmsr(mc.msr);
	wrmsr(mc.msr, mc.vtl1_orig);
	return 0;
}

/* No GS-based code between the VTL0 write and its restore (GS_BASE is one
 * of the cases), hence no report() inside. */
static void msr_case(const char *name, u32 msr, u64 d0, u64 d1)
{
	u64 orig0 = rdmsr(msr), after0;

	mc.msr = msr;
	mc.d1 = d1;
	wrmsr(msr, d0);
	vsm_vtl1_call(v1_msr_step1, 0);
	after0 = rdmsr(msr);
	vsm_vtl1_call(v1_msr_step2, 0);
	wrmsr(msr, orig0);
	report(mc.vtl1_first != d0 && after0 == d0 && mc.vtl1_kept == d1,
	       "private %s (%x): VTL1 read %lx while VTL0 had %lx; after VTL1 wrote %lx VTL0 "
	       "reads %lx and VTL1 %lx", name, msr, mc.vtl1_first, d0, d1, after0, mc.vtl1_kept);
}

static void test_private_msrs(void)
{
	u64 efer1 = vsm_first_entry[0].efer;
	bool nx = (cpuid(0x80000001).d >> 20) & 1;

	msr_case("SYSENTER_CS", MSR_SYSENTER_CS, 0x1234, 0x5678);
	msr_case("SYSENTER_ESP", MSR_SYSENTER_ESP, 0xffff800000011000, 0xffff800000022000);
	msr_case("SYSENTER_EIP", MSR_SYSENTER_EIP, 0xffff800000033000, 0xffff800000044000);
	msr_case("STAR", MSR_STAR, 0x0023001000000000, 0x0033002000000000);
	msr_case("LSTAR", MSR_LSTAR, 0xffff800000100000, 0xffff800000200000);
	msr_case("CSTAR", MSR_CSTAR, 0xffff800000300000, 0xffff800000400000);
	msr_case("SFMASK", MSR_SFMASK, 0x4700, 0x0300);
	/* EFER: VTL0 keeps SCE (set by the SDK); VTL1 starts without SCE
	 * (context) and turns SCE on and NXE off (its page tables have no NX
	 * bits). */
	msr_case("EFER", MSR_EFER, rdmsr(MSR_EFER), (efer1 | EFER_SCE) & ~(nx ? EFER_NXE : 0));
	/* PAT: entry 0 WB -> WT in VTL0, entry 1 WT -> WB in VTL1. */
	msr_case("PAT", MSR_PAT, rdmsr(MSR_PAT) ^ 0x2, vsm_first_entry[0].pat ^ 0x200);
	msr_case("KERNEL_GS_BASE", MSR_KERNEL_GS_BASE, 0xffff800000500000, 0xffff800000600000);
	msr_case("FS.BASE", MSR_FS_BASE, 0xffff800000700000, 0xffff800000800000);
	msr_case("GS.BASE", MSR_GS_BASE, 0xffff800000900000, 0xffff800000a00000);
	if ((cpuid(0x80000001).d >> 27) & 1)    /* RDTSCP implies IA32_TSC_AUX */
		msr_case("TSC_AUX", MSR_TSC_AUX, 0x11, 0x22);
	else
		report_skip("private TSC_AUX: CPU has no RDTSCP (CPUID 0x80000001 EDX[27] = 0)");
}

/* ====================================================================
 * 6. Everything else through a probe of the whole visible state
 * ==================================================================== */

enum {
	P_HYPERCALL, P_GUEST_OS_ID, P_VP_ASSIST, P_SCONTROL, P_SVERSION, P_SIEFP, P_SIMP, P_SIRBP,
	P_SINT0, P_STIMER0 = P_SINT0 + 16, P_TPR = P_STIMER0 + 8, P_ICR, P_REF_TSC, P_APIC_FREQ,
	P_NPIEP, P_VP_INDEX, P_TSC_FREQ, P_VP_RUNTIME, P_TIME_REF, P_RESET, P_DEBUG_OPTS,
	P_BELOW_1MB, P_STATS0, P_APIC_BASE = P_STATS0 + 4, P_MTRRCAP, P_MTRR_DEF, P_MTRR_BASE0,
	P_MTRR_MASK0, P_MCG_CAP, P_MCG_STATUS, P_NUM
};
static u32 probe_msrs[P_NUM] = {
	[P_HYPERCALL] = HV_X64_MSR_HYPERCALL, [P_GUEST_OS_ID] = HV_X64_MSR_GUEST_OS_ID,
	[P_VP_ASSIST] = HV_X64_MSR_VP_ASSIST_PAGE, [P_SCONTROL] = HV_X64_MSR_SCONTROL,
	[P_SVERSION] = HV_X64_MSR_SVERSION, [P_SIEFP] = HV_X64_MSR_SIEFP,
	[P_SIMP] = HV_X64_MSR_SIMP, [P_SIRBP] = HV_X64_MSR_SIRBP,
	[P_SINT0 + 0] = HV_X64_MSR_SINT0 + 0, [P_SINT0 + 1] = HV_X64_MSR_SINT0 + 1,
	[P_SINT0 + 2] = HV_X64_MSR_SINT0 + 2, [P_SINT0 + 3] = HV_X64_MSR_SINT0 + 3,
	[P_SINT0 + 4] = HV_X64_MSR_SINT0 + 4, [P_SINT0 + 5] = HV_X64_MSR_SINT0 + 5,
	[P_SINT0 + 6] = HV_X64_MSR_SINT0 + 6, [P_SINT0 + 7] = HV_X64_MSR_SINT0 + 7,
	[P_SINT0 + 8] = HV_X64_MSR_SINT0 + 8, [P_SINT0 + 9] = HV_X64_MSR_SINT0 + 9,
	[P_SINT0 + 10] = HV_X64_MSR_SINT0 + 10, [P_SINT0 + 11] = HV_X64_MSR_SINT0 + 11,
	[P_SINT0 + 12] = HV_X64_MSR_SINT0 + 12, [P_SINT0 + 13] = HV_X64_MSR_SINT0 + 13,
	[P_SINT0 + 14] = HV_X64_MSR_SINT0 + 14, [P_SINT0 + 15] = HV_X64_MSR_SINT0 + 15,
	[P_STIMER0 + 0] = HV_X64_MSR_STIMER0_CONFIG, [P_STIMER0 + 1] = HV_X64_MSR_STIMER0_COUNT,
	[P_STIMER0 + 2] = HV_X64_MSR_STIMER0_CONFIG + 2, [P_STIMER0 + 3] = HV_X64_MSR_STIMER0_COUNT + 2,
	[P_STIMER0 + 4] = HV_X64_MSR_STIMER0_CONFIG + 4, [P_STIMER0 + 5] = HV_X64_MSR_STIMER0_COUNT + 4,
	[P_STIMER0 + 6] = HV_X64_MSR_STIMER0_CONFIG + 6, [P_STIMER0 + 7] = HV_X64_MSR_STIMER0_COUNT + 6,
	[P_TPR] = HV_X64_MSR_TPR, [P_ICR] = HV_X64_MSR_ICR, [P_REF_TSC] = HV_X64_MSR_REFERENCE_TSC,
	[P_APIC_FREQ] = HV_X64_MSR_APIC_FREQUENCY, [P_NPIEP] = HV_X64_MSR_NPIEP_CONFIG,
	[P_VP_INDEX] = HV_X64_MSR_VP_INDEX, [P_TSC_FREQ] = HV_X64_MSR_TSC_FREQUENCY,
	[P_VP_RUNTIME] = HV_X64_MSR_VP_RUNTIME, [P_TIME_REF] = HV_X64_MSR_TIME_REF_COUNT,
	[P_RESET] = HV_X64_MSR_RESET, [P_DEBUG_OPTS] = HV_X64_MSR_DEBUG_DEVICE_OPTIONS,
	[P_BELOW_1MB] = HV_X64_MSR_BELOW_1MB_PAGE,
	[P_STATS0 + 0] = HV_X64_MSR_STATS_PARTITION_RETAIL,
	[P_STATS0 + 1] = HV_X64_MSR_STATS_PARTITION_INTERNAL,
	[P_STATS0 + 2] = HV_X64_MSR_STATS_VP_RETAIL, [P_STATS0 + 3] = HV_X64_MSR_STATS_VP_INTERNAL,
	[P_APIC_BASE] = MSR_APIC_BASE, [P_MTRRCAP] = MSR_MTRRCAP, [P_MTRR_DEF] = MSR_MTRR_DEF_TYPE,
	[P_MTRR_BASE0] = MSR_MTRR_PHYSBASE0, [P_MTRR_MASK0] = MSR_MTRR_PHYSMASK0,
	[P_MCG_CAP] = MSR_MCG_CAP, [P_MCG_STATUS] = MSR_MCG_STATUS,
};

struct probe {
	u64 msr[P_NUM];
	bool ok[P_NUM];                 /* the RDMSR did not fault */
	u64 cr0, cr2, cr3, cr4, cr8, dr[4], dr6, dr7, rflags, tsc;
	u16 cs, ds, es, fs, gs, ss, tr, ldtr;
	u16 gdt_limit, idt_limit;
	u64 gdt_base, idt_base;
	u32 apic_id, lvt_timer;
};

static void take_probe(struct probe *p)
{
	struct { u16 limit; u64 base; } __attribute__((packed)) t;

	for (int i = 0; i < P_NUM; i++)
		p->ok[i] = rdmsr_safe(probe_msrs[i], &p->msr[i]) < 0;
	p->cr0 = read_cr0();
	p->cr2 = read_cr2();
	p->cr3 = read_cr3();
	p->cr4 = read_cr4();
	asm volatile("mov %%cr8, %0" : "=r"(p->cr8));
	asm volatile("mov %%dr0, %0" : "=r"(p->dr[0]));
	asm volatile("mov %%dr1, %0" : "=r"(p->dr[1]));
	asm volatile("mov %%dr2, %0" : "=r"(p->dr[2]));
	asm volatile("mov %%dr3, %0" : "=r"(p->dr[3]));
	asm volatile("mov %%dr6, %0" : "=r"(p->dr6));
	asm volatile("mov %%dr7, %0" : "=r"(p->dr7));
	p->rflags = read_rflags();
	p->tsc = rdtsc();
	asm volatile("mov %%cs, %0" : "=r"(p->cs));
	asm volatile("mov %%ds, %0" : "=r"(p->ds));
	asm volatile("mov %%es, %0" : "=r"(p->es));
	asm volatile("mov %%fs, %0" : "=r"(p->fs));
	asm volatile("mov %%gs, %0" : "=r"(p->gs));
	asm volatile("mov %%ss, %0" : "=r"(p->ss));
	asm volatile("str %0" : "=r"(p->tr));
	asm volatile("sldt %0" : "=r"(p->ldtr));
	asm volatile("sgdt %0" : "=m"(t));
	p->gdt_limit = t.limit;
	p->gdt_base = t.base;
	asm volatile("sidt %0" : "=m"(t));
	p->idt_limit = t.limit;
	p->idt_base = t.base;
	p->apic_id = apic_id();
	p->lvt_timer = apic_read(APIC_LVT_TIMER);
}

static struct probe p0_pre, p1a, p0, p1b;
static bool dr6_shared;
static bool vtl0_mtrr_written;
static u32 mtrr_base_msr;       /* PHYSBASE of the highest variable pair */

/* Distinctive values. VTL0 (D0): */
#define D0_CR0_BIT      X86_CR0_AM
#define D0_CR4_BIT      X86_CR4_TSD
#define D0_DR7          0x000f0400ul    /* RW0/LEN0 set, no breakpoint enabled */
#define D0_CR8          1
#define D0_CR2          0xffff8000c0de0000ul
#define D0_DR(i)        (0xffff800000d00000ul + 0x1000 * (i))
#define D0_DR6          0xffff0ff1ul    /* B0 */
#define D0_LVT_TIMER    (APIC_LVT_MASKED | 0x33)
#define D0_ICR_HI       0x0f000000u
#define D0_SINT(n)      (HV_SYNIC_SINT_MASKED | (0x40 + (n)))
#define D0_STIMER_CFG(n) ((u64)((n) + 1) << HV_STIMER_SINT_SHIFT)  /* not enabled */
#define D0_STIMER_CNT(n) (0x1000ul + (n))
#define D0_MTRR_BASE    0x0000000012345006ul    /* WB, not valid (mask V = 0) */
#define D0_MTRR_MASK    0x0000000ffff00000ul
/* VTL1 (D1): */
#define D1_CR0_BIT      X86_CR0_AM
#define D1_CR4_BIT      X86_CR4_DE
#define D1_DR7          0x00f00400ul
#define D1_CR8          2
#define D1_CR2          0xffff8000beef0000ul
#define D1_DR(i)        (0xffff800000e00000ul + 0x1000 * (i))
#define D1_DR6          0xffff0ff2ul    /* B1 */
#define D1_LVT_TIMER    (APIC_LVT_MASKED | 0x44)
#define D1_ICR_HI       0x0e000000u
#define D1_SINT15       (HV_SYNIC_SINT_MASKED | 0x77)
#define D1_STIMER0_CFG  (5ul << HV_STIMER_SINT_SHIFT)
#define D1_STIMER0_CNT  0x2222ul
#define D1_MTRR_BASE    0x0000000023456006ul
#define LDT_SEL         (TSS_SEL_BASE + 16 * (MAX_CPUS - 1))    /* an unused TSS slot */

extern u64 gdt[];        /* entry.S */
static u8 vtl0_simp[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 vtl0_siefp[PAGE_SIZE] __aligned(PAGE_SIZE);
static u64 ldt_table[2];
static struct {
	u64 cr0, cr4, dr7, cr8, cr2, dr[4], dr6, lvt, icr_hi, mtrr_base, mtrr_mask;
} v1_orig;

static bool can_stimer(void) { return has_priv_lo(HV_ACCESS_SYNTHETIC_TIMER_MSRS); }
static bool has_mtrr(void) { return (cpuid(1).d >> 12) & 1; }

static u64 v1_probe_and_set(struct vsm_call *c)
{
	u64 v;

	take_probe(&p1a);
	v1_orig.cr0 = read_cr0();
	v1_orig.cr4 = read_cr4();
	asm volatile("mov %%dr7, %0" : "=r"(v1_orig.dr7));
	asm volatile("mov %%cr8, %0" : "=r"(v1_orig.cr8));
	v1_orig.cr2 = read_cr2();
	asm volatile("mov %%dr6, %0" : "=r"(v1_orig.dr6));
	v1_orig.lvt = apic_read(APIC_LVT_TIMER);
	v1_orig.icr_hi = apic_read(APIC_ICR_HI);

	write_cr0(read_cr0() | D1_CR0_BIT);
	write_cr4(read_cr4() | D1_CR4_BIT);
	v = D1_DR7; asm volatile("mov %0, %%dr7" :: "r"(v));
	v = D1_CR8; asm volatile("mov %0, %%cr8" :: "r"(v));
	write_cr2(D1_CR2);
	v = D1_DR(0); asm volatile("mov %0, %%dr0" :: "r"(v));
	v = D1_DR(1); asm volatile("mov %0, %%dr1" :: "r"(v));
	v = D1_DR(2); asm volatile("mov %0, %%dr2" :: "r"(v));
	v = D1_DR(3); asm volatile("mov %0, %%dr3" :: "r"(v));
	v = D1_DR6; asm volatile("mov %0, %%dr6" :: "r"(v));
	asm volatile("pushfq; orq $0x40000, (%%rsp); popfq" ::: "memory", "cc");  /* AC */
	apic_write(APIC_LVT_TIMER, D1_LVT_TIMER);
	apic_write(APIC_ICR_HI, D1_ICR_HI);
	wrmsr(HV_X64_MSR_SINT0 + 15, D1_SINT15);
	if (can_stimer()) {
		wrmsr(HV_X64_MSR_STIMER0_CONFIG, D1_STIMER0_CFG);
		wrmsr(HV_X64_MSR_STIMER0_COUNT, D1_STIMER0_CNT);
	}
	if (vtl0_mtrr_written)
		wrmsr(mtrr_base_msr, D1_MTRR_BASE);
	return 0;
}

static u64 v1_probe_and_restore(struct vsm_call *c)
{
	take_probe(&p1b);
	write_cr0(v1_orig.cr0);
	write_cr4(v1_orig.cr4);
	asm volatile("mov %0, %%dr7" :: "r"(v1_orig.dr7));
	asm volatile("mov %0, %%cr8" :: "r"(v1_orig.cr8));
	asm volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
	apic_write(APIC_LVT_TIMER, v1_orig.lvt);
	apic_write(APIC_ICR_HI, v1_orig.icr_hi);
	wrmsr(HV_X64_MSR_SINT0 + 15, HV_SYNIC_SINT_RESET_VALUE);
	if (can_stimer()) {
		wrmsr(HV_X64_MSR_STIMER0_CONFIG, 0);
		wrmsr(HV_X64_MSR_STIMER0_COUNT, 0);
	}
	return 0;
}

static void vtl0_set_d0(void)
{
	u64 v, base = (u64)ldt_table, limit = sizeof(ldt_table) - 1;
	u64 *d = &gdt[LDT_SEL >> 3];

	write_cr0(read_cr0() | D0_CR0_BIT);
	write_cr4(read_cr4() | D0_CR4_BIT);
	v = D0_DR7; asm volatile("mov %0, %%dr7" :: "r"(v));
	v = D0_CR8; asm volatile("mov %0, %%cr8" :: "r"(v));
	write_cr2(D0_CR2);
	v = D0_DR(0); asm volatile("mov %0, %%dr0" :: "r"(v));
	v = D0_DR(1); asm volatile("mov %0, %%dr1" :: "r"(v));
	v = D0_DR(2); asm volatile("mov %0, %%dr2" :: "r"(v));
	v = D0_DR(3); asm volatile("mov %0, %%dr3" :: "r"(v));
	v = D0_DR6; asm volatile("mov %0, %%dr6" :: "r"(v));
	asm volatile("pushfq; orq $0x40000, (%%rsp); popfq" ::: "memory", "cc");
	apic_write(APIC_LVT_TIMER, D0_LVT_TIMER);
	apic_write(APIC_ICR_HI, D0_ICR_HI);
	/* An LDT (16-byte system descriptor, type 2) in an unused GDT slot. */
	d[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x82ul << 40) |
	       (((base >> 24) & 0xff) << 56);
	d[1] = base >> 32;
	asm volatile("lldt %w0" :: "r"(LDT_SEL));
	if (has_priv_lo(HV_ACCESS_SYNIC_MSRS)) {
		for (int n = 0; n < 16; n++)
			wrmsr(HV_X64_MSR_SINT0 + n, D0_SINT(n));
		/* SIMP/SIEFP pages of VTL0's own, and SCONTROL = 0: if SCONTROL
		 * were shared this would switch off VTL1's SynIC. */
		wrmsr(HV_X64_MSR_SIMP, (u64)vtl0_simp | HV_SYNIC_SIMP_ENABLE);
		wrmsr(HV_X64_MSR_SIEFP, (u64)vtl0_siefp | HV_SYNIC_SIEFP_ENABLE);
		wrmsr(HV_X64_MSR_SCONTROL, 0);
	}
	if (can_stimer())
		for (int n = 0; n < 4; n++) {
			wrmsr(HV_X64_MSR_STIMER0_CONFIG + 2 * n, D0_STIMER_CFG(n));
			wrmsr(HV_X64_MSR_STIMER0_COUNT + 2 * n, D0_STIMER_CNT(n));
		}
	if (has_mtrr() && mtrr_base_msr) {
		if (rdmsr_safe(mtrr_base_msr, &v1_orig.mtrr_base) < 0 &&
		    rdmsr_safe(mtrr_base_msr + 1, &v1_orig.mtrr_mask) < 0 &&
		    !(v1_orig.mtrr_mask & (1ul << 11)) &&       /* pair unused */
		    wrmsr_safe(mtrr_base_msr, D0_MTRR_BASE) < 0 &&
		    wrmsr_safe(mtrr_base_msr + 1, D0_MTRR_MASK) < 0)
			vtl0_mtrr_written = true;
	}
}

static void vtl0_restore(void)
{
	u64 v = 0x400;

	write_cr0(read_cr0() & ~D0_CR0_BIT);
	write_cr4(read_cr4() & ~D0_CR4_BIT);
	asm volatile("mov %0, %%dr7" :: "r"(v));
	v = 0;
	asm volatile("mov %0, %%cr8" :: "r"(v));
	asm volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_ICR_HI, 0);
	asm volatile("lldt %w0" :: "r"(0));
	gdt[LDT_SEL >> 3] = 0;
	gdt[(LDT_SEL >> 3) + 1] = 0;
	if (has_priv_lo(HV_ACCESS_SYNIC_MSRS)) {
		wrmsr(HV_X64_MSR_SIMP, 0);
		wrmsr(HV_X64_MSR_SIEFP, 0);
		for (int n = 0; n < 16; n++)
			wrmsr(HV_X64_MSR_SINT0 + n, HV_SYNIC_SINT_RESET_VALUE);
	}
	if (can_stimer())
		for (int n = 0; n < 4; n++) {
			wrmsr(HV_X64_MSR_STIMER0_CONFIG + 2 * n, 0);
			wrmsr(HV_X64_MSR_STIMER0_COUNT + 2 * n, 0);
		}
	if (vtl0_mtrr_written) {
		wrmsr(mtrr_base_msr, v1_orig.mtrr_base);
		wrmsr(mtrr_base_msr + 1, v1_orig.mtrr_mask);
	}
}

/* Private item with the 4-step protocol. */
static void priv4(const char *what, u64 vtl1_first, u64 d0, u64 vtl0_after, u64 vtl1_kept, u64 d1)
{
	report(vtl1_first != d0 && vtl0_after == d0 && vtl1_kept == d1,
	       "private %s: VTL1 read %lx while VTL0 had %lx; after VTL1 wrote %lx VTL0 reads %lx "
	       "and VTL1 %lx", what, vtl1_first, d0, d1, vtl0_after, vtl1_kept);
}

/* Private item that is different in the two VTLs by construction. */
static void priv2(const char *what, u64 v0, u64 v1)
{
	report(v0 != v1, "private %s: VTL0 %lx, VTL1 %lx", what, v0, v1);
}

/* Shared item with the 4-step protocol. */
static void shared4(const char *what, u64 vtl1_first, u64 d0, u64 vtl0_after, u64 d1)
{
	report(vtl1_first == d0 && vtl0_after == d1,
	       "shared %s: VTL1 read %lx (VTL0 wrote %lx); after VTL1 wrote %lx VTL0 reads %lx",
	       what, vtl1_first, d0, d1, vtl0_after);
}

static void msr_skip_or(const char *name, int idx, const char *why)
{
	if (!p0.ok[idx] || !p1a.ok[idx])
		report_skip("%s (%x): %s; RDMSR faults (VTL0 %d, VTL1 %d)", name, probe_msrs[idx],
			    why, !p0.ok[idx], !p1a.ok[idx]);
	else
		report_skip("%s (%x): %s; values VTL0 %lx, VTL1 %lx", name, probe_msrs[idx], why,
			    p0.msr[idx], p1a.msr[idx]);
}

static void check_probe_private(void)
{
	u64 hc0 = (u64)hv_hypercall_page(0) | HV_HYPERCALL_ENABLE;

	/* --- RFLAGS, control/debug registers, descriptor tables, segments --- */
	priv4("RFLAGS.AC", p1a.rflags & X86_EFLAGS_AC, X86_EFLAGS_AC, p0.rflags & X86_EFLAGS_AC,
	      p1b.rflags & X86_EFLAGS_AC, X86_EFLAGS_AC);
	priv4("CR0.AM", p1a.cr0 & D0_CR0_BIT, D0_CR0_BIT, p0.cr0 & D0_CR0_BIT,
	      p1b.cr0 & D1_CR0_BIT, D1_CR0_BIT);
	report((p1a.cr0 & D0_CR0_BIT) == 0 && (p0.cr4 & D1_CR4_BIT) == 0 &&
	       (p1a.cr4 & D0_CR4_BIT) == 0 && (p1b.cr4 & D1_CR4_BIT) && (p0.cr4 & D0_CR4_BIT),
	       "private CR4: VTL0 set TSD (VTL1 sees CR4 %lx), VTL1 set DE (VTL0 sees CR4 %lx, "
	       "VTL1 %lx)", p1a.cr4, p0.cr4, p1b.cr4);
	priv2("CR3", p0.cr3, p1a.cr3);
	priv4("DR7", p1a.dr7, D0_DR7, p0.dr7, p1b.dr7, D1_DR7);
	priv2("IDTR", p0.idt_base, p1a.idt_base);
	priv2("GDTR", p0.gdt_base, p1a.gdt_base);
	priv2("CS selector", p0.cs, p1a.cs);
	priv2("DS selector", p0.ds, p1a.ds);
	priv2("ES selector", p0.es, p1a.es);
	priv2("FS selector", p0.fs, p1a.fs);
	priv2("GS selector", p0.gs, p1a.gs);
	priv2("SS selector", p0.ss, p1a.ss);
	priv2("TR selector", p0.tr, p1a.tr);
	report(p0.ldtr == LDT_SEL && p1a.ldtr == 0 && p1b.ldtr == 0,
	       "private LDTR: VTL0 loaded %x (reads %x), VTL1 reads %x / %x", LDT_SEL, p0.ldtr,
	       p1a.ldtr, p1b.ldtr);

	/* --- local APIC --- */
	priv4("local APIC TPR (CR8)", p1a.cr8, D0_CR8, p0.cr8, p1b.cr8, D1_CR8);
	priv4("local APIC LVT timer", p1a.lvt_timer, D0_LVT_TIMER, p0.lvt_timer, p1b.lvt_timer,
	      D1_LVT_TIMER);
	report(p0.apic_id == p1a.apic_id, "local APIC: APIC ID the same in both VTLs (%x, %x)",
	       p0.apic_id, p1a.apic_id);

	/* --- synthetic MSRs --- */
	report(p0.msr[P_HYPERCALL] == hc0 && p1a.msr[P_HYPERCALL] != hc0 &&
	       (p1a.msr[P_HYPERCALL] & HV_HYPERCALL_ENABLE),
	       "private HV_X64_MSR_HYPERCALL: VTL0 %lx, VTL1 %lx (its own page)",
	       p0.msr[P_HYPERCALL], p1a.msr[P_HYPERCALL]);
	report(p0.msr[P_GUEST_OS_ID] == HV_GUEST_OS_ID_VTL0 &&
	       p1a.msr[P_GUEST_OS_ID] == HV_GUEST_OS_ID_VTL1,
	       "private HV_X64_MSR_GUEST_OS_ID: VTL0 %lx, VTL1 %lx", p0.msr[P_GUEST_OS_ID],
	       p1a.msr[P_GUEST_OS_ID]);
	report((p0.msr[P_VP_ASSIST] & 1) && (p1a.msr[P_VP_ASSIST] & 1) &&
	       p0.msr[P_VP_ASSIST] != p1a.msr[P_VP_ASSIST],
	       "private HV_X64_MSR_VP_ASSIST_PAGE: VTL0 %lx, VTL1 %lx", p0.msr[P_VP_ASSIST],
	       p1a.msr[P_VP_ASSIST]);
	if (has_priv_lo(HV_ACCESS_SYNIC_MSRS)) {
		u64 simp0 = (u64)vtl0_simp | 1, siefp0 = (u64)vtl0_siefp | 1;
		bool sints_ok = p1a.msr[P_SINT0] == VSM_SINT0_VECTOR;

		report(p1a.msr[P_SCONTROL] == HV_SYNIC_CONTROL_ENABLE && p0.msr[P_SCONTROL] == 0 &&
		       p1b.msr[P_SCONTROL] == HV_SYNIC_CONTROL_ENABLE,
		       "private HV_X64_MSR_SCONTROL: VTL0 wrote 0 (reads %lx), VTL1's stays enabled (%lx, %lx)",
		       p0.msr[P_SCONTROL], p1a.msr[P_SCONTROL], p1b.msr[P_SCONTROL]);
		report(p1a.msr[P_SIMP] != simp0 && (p1a.msr[P_SIMP] & 1) && p0.msr[P_SIMP] == simp0 &&
		       p1b.msr[P_SIMP] == p1a.msr[P_SIMP],
		       "private HV_X64_MSR_SIMP: VTL1 reads its own %lx while VTL0 wrote %lx; VTL0 reads %lx",
		       p1a.msr[P_SIMP], simp0, p0.msr[P_SIMP]);
		report(p1a.msr[P_SIEFP] != siefp0 && (p1a.msr[P_SIEFP] & 1) && p0.msr[P_SIEFP] == siefp0 &&
		       p1b.msr[P_SIEFP] == p1a.msr[P_SIEFP],
		       "private HV_X64_MSR_SIEFP: VTL1 reads its own %lx while VTL0 wrote %lx; VTL0 reads %lx",
		       p1a.msr[P_SIEFP], siefp0, p0.msr[P_SIEFP]);
		for (int n = 1; n < 15; n++)
			sints_ok &= p1a.msr[P_SINT0 + n] == HV_SYNIC_SINT_RESET_VALUE;
		for (int n = 0; n < 15; n++)
			sints_ok &= p0.msr[P_SINT0 + n] == D0_SINT(n);
		sints_ok &= p1a.msr[P_SINT0 + 15] == HV_SYNIC_SINT_RESET_VALUE &&
			    p0.msr[P_SINT0 + 15] == D0_SINT(15) && p1b.msr[P_SINT0 + 15] == D1_SINT15;
		report(sints_ok, "private SINT0..15: VTL0 wrote masked 0x40+n; VTL1 reads SINT0 %lx "
		       "SINT1 %lx SINT15 %lx; VTL0 reads SINT0 %lx SINT15 %lx after VTL1 wrote SINT15 "
		       "%lx (VTL1: %lx)", p1a.msr[P_SINT0], p1a.msr[P_SINT0 + 1],
		       p1a.msr[P_SINT0 + 15], p0.msr[P_SINT0], p0.msr[P_SINT0 + 15], D1_SINT15,
		       p1b.msr[P_SINT0 + 15]);
		report_skip("private HV_X64_MSR_SVERSION: read-only constant, banking not observable "
			    "(VTL0 %lx, VTL1 %lx)", p0.msr[P_SVERSION], p1a.msr[P_SVERSION]);
		report_skip("private HV_X64_MSR_EOM: write-only, banking not observable (exercised "
			    "by VTL1's SINT0 handling)");
		msr_skip_or("private HV_X64_MSR_SIRBP", P_SIRBP, "semantics not defined by vsm.md, "
			    "nothing to write safely");
	} else {
		report_skip("private SCONTROL/SIEFP/SIMP/SINTx/SVERSION/EOM/SIRBP: no AccessSynicMsrs "
			    "privilege (CPUID 0x40000003 EAX %x)", hv_info.priv_lo);
	}
	if (can_stimer()) {
		bool ok = true;

		for (int i = 0; i < 8; i++) {
			u64 d0 = (i & 1) ? D0_STIMER_CNT(i / 2) : D0_STIMER_CFG(i / 2);

			ok &= p1a.msr[P_STIMER0 + i] == 0 && p0.msr[P_STIMER0 + i] == d0;
		}
		ok &= p1b.msr[P_STIMER0] == D1_STIMER0_CFG && p1b.msr[P_STIMER0 + 1] == D1_STIMER0_CNT;
		report(ok, "private STIMER0..3 CONFIG/COUNT: VTL1 reads %lx/%lx..%lx/%lx (want 0); "
		       "VTL0 %lx/%lx after VTL1 wrote %lx/%lx (VTL1: %lx/%lx)",
		       p1a.msr[P_STIMER0], p1a.msr[P_STIMER0 + 1], p1a.msr[P_STIMER0 + 6],
		       p1a.msr[P_STIMER0 + 7], p0.msr[P_STIMER0], p0.msr[P_STIMER0 + 1],
		       D1_STIMER0_CFG, D1_STIMER0_CNT, p1b.msr[P_STIMER0], p1b.msr[P_STIMER0 + 1]);
	} else {
		report_skip("private STIMER0..3: no AccessSyntheticTimerMsrs privilege (EAX %x)",
			    hv_info.priv_lo);
	}
	if (has_priv_lo(HV_ACCESS_APIC_MSRS))
		priv4("HV_X64_MSR_ICR (upper half = destination)", p1a.msr[P_ICR] >> 32, D0_ICR_HI,
		      p0.msr[P_ICR] >> 32, p1b.msr[P_ICR] >> 32, D1_ICR_HI);
	else
		report_skip("private HV_X64_MSR_ICR: no AccessApicMsrs privilege (EAX %x)", hv_info.priv_lo);
	if (has_priv_lo(HV_ACCESS_FREQUENCY_MSRS))
		report_skip("private HV_X64_MSR_APIC_FREQUENCY: read-only, both VTLs have the same "
			    "APIC frequency, banking not observable (VTL0 %lx, VTL1 %lx)",
			    p0.msr[P_APIC_FREQ], p1a.msr[P_APIC_FREQ]);
	else
		report_skip("private HV_X64_MSR_APIC_FREQUENCY: no AccessFrequencyMsrs privilege");
	msr_skip_or("private HV_X64_MSR_NPIEP_CONFIG", P_NPIEP, "number from secondary sources "
		    "only; setting its bits would make SGDT/SIDT/SLDT/STR fault in VTL0");
	report_skip("private pending event/exception/NMI injection state: not observable from "
		    "a guest without racing an injection across a switch");
}

static void check_probe_shared(void)
{
	report(p0.msr[P_VP_INDEX] == p1a.msr[P_VP_INDEX] && p0.ok[P_VP_INDEX],
	       "shared HV_X64_MSR_VP_INDEX (read-only): VTL0 %lx, VTL1 %lx", p0.msr[P_VP_INDEX],
	       p1a.msr[P_VP_INDEX]);
	if (has_priv_lo(HV_ACCESS_FREQUENCY_MSRS))
		report(p0.msr[P_TSC_FREQ] == p1a.msr[P_TSC_FREQ] && p0.ok[P_TSC_FREQ],
		       "shared HV_X64_MSR_TSC_FREQUENCY (read-only; equal is all that is observable): "
		       "VTL0 %lx, VTL1 %lx", p0.msr[P_TSC_FREQ], p1a.msr[P_TSC_FREQ]);
	else
		report_skip("shared HV_X64_MSR_TSC_FREQUENCY: no AccessFrequencyMsrs privilege");
	if (has_priv_lo(HV_ACCESS_VP_RUNTIME_MSR))
		report(p0_pre.msr[P_VP_RUNTIME] <= p1a.msr[P_VP_RUNTIME] &&
		       p1a.msr[P_VP_RUNTIME] <= p0.msr[P_VP_RUNTIME] &&
		       p0.msr[P_VP_RUNTIME] <= p1b.msr[P_VP_RUNTIME],
		       "shared HV_X64_MSR_VP_RUNTIME: one counter across VTLs, %lx (VTL0) <= %lx (VTL1) "
		       "<= %lx (VTL0) <= %lx (VTL1)", p0_pre.msr[P_VP_RUNTIME], p1a.msr[P_VP_RUNTIME],
		       p0.msr[P_VP_RUNTIME], p1b.msr[P_VP_RUNTIME]);
	else
		report_skip("shared HV_X64_MSR_VP_RUNTIME: no AccessVpRuntimeMsr privilege");
	if (has_priv_lo(HV_ACCESS_PARTITION_REFERENCE_COUNTER))
		report(p0_pre.msr[P_TIME_REF] <= p1a.msr[P_TIME_REF] &&
		       p1a.msr[P_TIME_REF] <= p0.msr[P_TIME_REF] &&
		       p0.msr[P_TIME_REF] <= p1b.msr[P_TIME_REF] &&
		       p0_pre.msr[P_TIME_REF] < p1b.msr[P_TIME_REF],
		       "shared HV_X64_MSR_TIME_REF_COUNT: one counter across VTLs, %lx <= %lx <= %lx "
		       "<= %lx", p0_pre.msr[P_TIME_REF], p1a.msr[P_TIME_REF], p0.msr[P_TIME_REF],
		       p1b.msr[P_TIME_REF]);
	else
		report_skip("shared HV_X64_MSR_TIME_REF_COUNT: no AccessPartitionReferenceCounter privilege");
	report_skip("shared HV_X64_MSR_RESET: a write resets the partition and a read always "
		    "gives 0, sharing not observable (VTL0 %lx, VTL1 %lx)", p0.msr[P_RESET],
		    p1a.msr[P_RESET]);
	report_skip("shared HV_X64_MSR_GUEST_IDLE: a read idles the VP until an interrupt; "
		    "there is no state to compare");
	msr_skip_or("shared HV_X64_MSR_DEBUG_DEVICE_OPTIONS", P_DEBUG_OPTS,
		    "number from secondary sources only, no defined value to write");
	msr_skip_or("shared HV_X64_MSR_BELOW_1MB_PAGE", P_BELOW_1MB,
		    "number from secondary sources only; a write would overlay low memory");
	msr_skip_or("shared HV_X64_MSR_STATS_PARTITION_RETAIL (and 0x400000e1..e3)", P_STATS0,
		    "numbers from secondary sources only; a write would map a stats overlay");

	if (has_mtrr() && vtl0_mtrr_written)
		report(p1a.msr[P_MTRR_BASE0] == D0_MTRR_BASE && p1a.msr[P_MTRR_MASK0] == D0_MTRR_MASK &&
		       p0.msr[P_MTRR_BASE0] == D1_MTRR_BASE && p0.msr[P_MTRRCAP] == p1a.msr[P_MTRRCAP] &&
		       p0.msr[P_MTRR_DEF] == p1a.msr[P_MTRR_DEF],
		       "shared MTRRs: VTL1 read base/mask %x: %lx/%lx (VTL0 wrote %lx/%lx); VTL0 "
		       "reads %lx after VTL1 wrote %lx; cap %lx/%lx, def %lx/%lx",
		       mtrr_base_msr, p1a.msr[P_MTRR_BASE0], p1a.msr[P_MTRR_MASK0], D0_MTRR_BASE, D0_MTRR_MASK,
		       p0.msr[P_MTRR_BASE0], D1_MTRR_BASE, p0.msr[P_MTRRCAP], p1a.msr[P_MTRRCAP],
		       p0.msr[P_MTRR_DEF], p1a.msr[P_MTRR_DEF]);
	else if (has_mtrr())
		report_skip("shared MTRRs: the highest variable pair (%x) is in use or faults, "
			    "nothing free to write", mtrr_base_msr);
	else
		report_skip("shared MTRRs: CPU has no MTRRs (CPUID.1:EDX[12] = 0)");
	if ((cpuid(1).d >> 14) & 1)
		report(p0.ok[P_MCG_CAP] && p0.msr[P_MCG_CAP] == p1a.msr[P_MCG_CAP] &&
		       p0.msr[P_MCG_STATUS] == p1a.msr[P_MCG_STATUS],
		       "shared MCG_CAP/MCG_STATUS (MCG_CAP read-only; equal is what is observable): "
		       "VTL0 %lx/%lx, VTL1 %lx/%lx", p0.msr[P_MCG_CAP], p0.msr[P_MCG_STATUS],
		       p1a.msr[P_MCG_CAP], p1a.msr[P_MCG_STATUS]);
	else
		report_skip("shared MCG_CAP/MCG_STATUS: CPU has no MCA (CPUID.1:EDX[14] = 0)");

	shared4("CR2", p1a.cr2, D0_CR2, p0.cr2, D1_CR2);
	report(p1a.dr[0] == D0_DR(0) && p1a.dr[1] == D0_DR(1) && p1a.dr[2] == D0_DR(2) &&
	       p1a.dr[3] == D0_DR(3) && p0.dr[0] == D1_DR(0) && p0.dr[1] == D1_DR(1) &&
	       p0.dr[2] == D1_DR(2) && p0.dr[3] == D1_DR(3),
	       "shared DR0..DR3: VTL1 read %lx %lx %lx %lx (VTL0 wrote %lx..), VTL0 reads %lx %lx %lx "
	       "%lx (VTL1 wrote %lx..)", p1a.dr[0], p1a.dr[1], p1a.dr[2], p1a.dr[3], D0_DR(0),
	       p0.dr[0], p0.dr[1], p0.dr[2], p0.dr[3], D1_DR(0));
	/* DR6: shared or private depending on VsmCapabilities.dr6_shared (§5.1). */
	if (dr6_shared)
		shared4("DR6 (VsmCapabilities.dr6_shared = 1)", p1a.dr6, D0_DR6, p0.dr6, D1_DR6);
	else
		priv4("DR6 (VsmCapabilities.dr6_shared = 0)", p1a.dr6, D0_DR6, p0.dr6, p1b.dr6, D1_DR6);
}

static void test_probe(void)
{
	u64 cap;

	dr6_shared = vsm.capabilities & HV_VSM_CAP_DR6_SHARED;
	/* Use the highest variable-range MTRR pair: firmware fills the low ones. */
	if (has_mtrr() && rdmsr_safe(MSR_MTRRCAP, &cap) < 0 && (cap & 0xff)) {
		mtrr_base_msr = MSR_MTRR_PHYSBASE0 + 2 * ((cap & 0xff) - 1);
		probe_msrs[P_MTRR_BASE0] = mtrr_base_msr;
		probe_msrs[P_MTRR_MASK0] = mtrr_base_msr + 1;
	}
	take_probe(&p0_pre);
	vtl0_set_d0();
	vsm_vtl1_call(v1_probe_and_set, 0);
	take_probe(&p0);
	vsm_vtl1_call(v1_probe_and_restore, 0);
	vtl0_restore();
	check_probe_private();
	check_probe_shared();
}

/* ====================================================================
 * 7. HV TPR and EOI MSRs, APIC_BASE, reference TSC page, TSC
 * ==================================================================== */

static volatile u64 t1[4];
static volatile int t1_faults;

/* The APIC MSRs are used with the *_safe helpers: a fault is a failure to
 * report, not a reason to stop the guest. */
static u64 v1_read_tpr(struct vsm_call *c)
{
	u64 v = 0;

	t1_faults += rdmsr_safe(HV_X64_MSR_TPR, &v) >= 0;
	t1[0] = v;
	t1[1] = apic_read(APIC_TPR);
	t1_faults += wrmsr_safe(HV_X64_MSR_TPR, 0x30) >= 0;
	return 0;
}

static u64 v1_reset_tpr(struct vsm_call *c)
{
	u64 v = 0;

	t1_faults += rdmsr_safe(HV_X64_MSR_TPR, &v) >= 0;
	t1[2] = v;
	t1_faults += wrmsr_safe(HV_X64_MSR_TPR, 0) >= 0;
	apic_write(APIC_TPR, 0);
	return 0;
}

static volatile int eoi_isr_hits;

static void v1_eoi_isr(struct ex_regs *r)
{
	eoi_isr_hits++;         /* no EOI: the vector stays in service */
}

static u64 v1_eoi_step1(struct vsm_call *c)
{
	vsm_vtl1_handle_exception(EOI_VECTOR, v1_eoi_isr);
	apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | APIC_ICR_ASSERT | EOI_VECTOR, 0);
	for (int i = 0; i < 100 && !eoi_isr_hits; i++)
		asm volatile("sti; nop; cli" ::: "memory");
	return apic_vector_bit(APIC_ISR, EOI_VECTOR);
}

static u64 v1_eoi_step2(struct vsm_call *c)
{
	u64 still = apic_vector_bit(APIC_ISR, EOI_VECTOR);

	if (wrmsr_safe(HV_X64_MSR_EOI, 0) >= 0) {        /* VTL1's own EOI through the MSR */
		t1_faults++;
		apic_eoi();
	}
	vsm_vtl1_handle_exception(EOI_VECTOR, NULL);
	return still | ((u64)apic_vector_bit(APIC_ISR, EOI_VECTOR) << 1);
}

static u64 v1_apic_disable(struct vsm_call *c)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) & ~(1ul << 11));
	return rdmsr(MSR_APIC_BASE);
}

static u64 v1_apic_enable(struct vsm_call *c)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1ul << 11));
	apic_enable();
	return rdmsr(MSR_APIC_BASE);
}

static u8 ref_tsc0[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 ref_tsc1[PAGE_SIZE] __aligned(PAGE_SIZE);

static u64 v1_ref_tsc(struct vsm_call *c)
{
	wrmsr(HV_X64_MSR_REFERENCE_TSC, (u64)ref_tsc1 | 1);
	return rdmsr(HV_X64_MSR_REFERENCE_TSC);
}

static u64 v1_rdtsc(struct vsm_call *c)
{
	return rdtsc();
}

static void test_apic_msrs_tsc(void)
{
	if (has_priv_lo(HV_ACCESS_APIC_MSRS)) {
		u64 tpr0 = 0, r;
		int f0;

		t1_faults = 0;
		f0 = wrmsr_safe(HV_X64_MSR_TPR, 0x20) >= 0;
		vsm_vtl1_call(v1_read_tpr, 0);
		f0 += rdmsr_safe(HV_X64_MSR_TPR, &tpr0) >= 0;
		vsm_vtl1_call(v1_reset_tpr, 0);
		report(!f0 && !t1_faults && t1[0] == 0 && t1[1] == 0 && tpr0 == 0x20 &&
		       apic_read(APIC_TPR) == 0x20 && t1[2] == 0x30,
		       "private HV_X64_MSR_TPR (the VTL's own APIC TPR): VTL1 read %lx (APIC TPR %lx) "
		       "while VTL0 had 0x20; VTL0 reads %lx after VTL1 wrote 0x30 (VTL1 %lx); MSR "
		       "faults: VTL0 %d, VTL1 %d", t1[0], t1[1], tpr0, t1[2], f0, t1_faults);
		wrmsr_safe(HV_X64_MSR_TPR, 0);
		apic_write(APIC_TPR, 0);

		/* EOI: VTL1 leaves a vector in service; VTL0's EOI MSR write must
		 * not retire it (it goes to VTL0's APIC). */
		eoi_isr_hits = 0;
		t1_faults = 0;
		r = vsm_vtl1_call(v1_eoi_step1, 0);
		f0 = wrmsr_safe(HV_X64_MSR_EOI, 0) >= 0;
		report(eoi_isr_hits == 1 && r == 1,
		       "VTL1 took its self-IPI %x and left it in service (hits %d, ISR bit %lu)",
		       EOI_VECTOR, eoi_isr_hits, r);
		r = vsm_vtl1_call(v1_eoi_step2, 0);
		report(r == 1 && !f0 && !t1_faults, "private HV_X64_MSR_EOI: VTL0's EOI did not retire "
		       "VTL1's in-service vector %x (still set: %lu), VTL1's own EOI MSR write did "
		       "(cleared: %d); MSR faults: VTL0 %d, VTL1 %d", EOI_VECTOR, r & 1, !(r & 2), f0,
		       t1_faults);
	} else {
		report_skip("private HV_X64_MSR_TPR/EOI: no AccessApicMsrs privilege (EAX %x)",
			    hv_info.priv_lo);
	}

	{
		u64 b1 = vsm_vtl1_call(v1_apic_disable, 0);
		u64 b0 = rdmsr(MSR_APIC_BASE);
		u32 id0 = apic_id();
		u64 b1e = vsm_vtl1_call(v1_apic_enable, 0);

		report(!(b1 & (1ul << 11)) && (b0 & (1ul << 11)) && id0 == (u32)smp_id() &&
		       (b1e & (1ul << 11)),
		       "private local APIC / APIC_BASE: VTL1 disabled its APIC (%lx); VTL0's APIC_BASE "
		       "%lx still enabled and working (APIC ID %u); VTL1 re-enabled (%lx)", b1, b0,
		       id0, b1e);
	}

	if (has_priv_lo(HV_ACCESS_PARTITION_REFERENCE_TSC)) {
		const volatile u64 *a = (const void *)ref_tsc0, *b = (const void *)ref_tsc1;
		u64 m1;

		wrmsr(HV_X64_MSR_REFERENCE_TSC, (u64)ref_tsc0 | 1);
		m1 = vsm_vtl1_call(v1_ref_tsc, 0);
		report(rdmsr(HV_X64_MSR_REFERENCE_TSC) == ((u64)ref_tsc0 | 1) &&
		       m1 == ((u64)ref_tsc1 | 1),
		       "private HV_X64_MSR_REFERENCE_TSC: VTL0 %lx, VTL1 %lx (own overlay pages)",
		       rdmsr(HV_X64_MSR_REFERENCE_TSC), m1);
		/* kvm-unit-tests test_per_vtl_tsc_reference_page: same contents */
		report(((u32)a[0] == (u32)b[0]) && a[1] == b[1] && a[2] == b[2] && (u32)a[0] != 0,
		       "reference TSC pages of both VTLs hold the same values: sequence %x/%x scale "
		       "%lx/%lx offset %lx/%lx", (u32)a[0], (u32)b[0], a[1], b[1], a[2], b[2]);
	} else {
		report_skip("private HV_X64_MSR_REFERENCE_TSC: no AccessPartitionReferenceTsc privilege");
	}

	/* TSC: private per the TLFS list; vsm.md §5.1 [UNCERTAIN how]: a
	 * per-VTL offset satisfies it. VTL0 moves its TSC 2^40 ahead; VTL1's
	 * must not jump. */
	{
		u64 before0 = rdtsc(), jump = 1ul << 40, t1a, t0, t1b;

		if (wrmsr_safe(MSR_TSC, before0 + jump) >= 0) {
			report_skip("private TSC: WRMSR to IA32_TSC faults in VTL0");
		} else {
			t1a = vsm_vtl1_call(v1_rdtsc, 0);
			t0 = rdtsc();
			t1b = vsm_vtl1_call(v1_rdtsc, 0);
			report(t0 >= before0 + jump && t1a < before0 + jump && t1b < t0 && t1a <= t1b,
			       "private TSC: VTL0 wrote TSC = %lx; VTL1 reads %lx then %lx, VTL0 %lx",
			       before0 + jump, t1a, t1b, t0);
		}
	}
}

/* ====================================================================
 * 8. x87, SSE, MXCSR, AVX, XCR0
 * ==================================================================== */

/* The whole shared x87/SSE state goes in with FXRSTOR and comes out with
 * FXSAVE (x87 register contents without x87 loads/stores, which vsmrr's
 * CPU leaves out): FCW 027f, ST0 = pattern A, MXCSR 9f80 (FZ), XMM0..15. */
u8 fx_in[512] __aligned(16), fx_out[512] __aligned(16);   /* used by the asm below */
static u8 vtl1_fx[512] __aligned(16);
static const u8 st0_a[10] = { 0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40 };
static const u8 st0_b[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };

/* void fpu_roundtrip(u64 fn): FXRSTOR fx_in, VTL call running fn in VTL1,
 * FXSAVE fx_out, then a clean x87/MXCSR state again. */
void fpu_roundtrip(u64 fn);
asm(".text\n"
    "fpu_roundtrip:\n\t"
    "push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
    "sub $8, %rsp\n\t"
    "fxrstor64 fx_in(%rip)\n\t"
    "mov %rdi, %rsi\n\tmov $1, %edi\n\txor %edx, %edx\n\txor %ecx, %ecx\n\t"
    "call *vsm_vtl_call_seq(%rip)\n\t"
    "fxsave64 fx_out(%rip)\n\t"
    "fninit\n\tmovl $0x1f80, (%rsp)\n\tldmxcsr (%rsp)\n\t"
    "add $8, %rsp\n\t"
    "pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\tret\n");

static u8 xmm_pat(int side, int i, int j)
{
	return side ? (u8)(0xc0 + i) ^ (u8)(j * 7) : (u8)(0x30 + i) ^ (u8)(j * 13);
}

/* VTL1 sees the shared state in the frame's FXSAVE image (vtl1.S saved it
 * at entry) and changes it there; vtl1.S restores it before returning. */
static u64 v1_fpu(struct vsm_call *c)
{
	u8 *fx = c->frame->fx;
	u16 fcw = 0x037f;
	u32 mxcsr = 0x7f80;     /* round toward zero */

	memcpy(vtl1_fx, fx, 512);
	memcpy(fx + FXSAVE_FCW, &fcw, 2);
	memcpy(fx + FXSAVE_MXCSR, &mxcsr, 4);
	memcpy(fx + FXSAVE_ST0, st0_b, 10);
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			fx[FXSAVE_XMM0 + 16 * i + j] = xmm_pat(1, i, j);
	return 0;
}

static void test_fpu(void)
{
	int bad_in = -1, bad_out = -1;
	u16 fcw1, fcw0;
	u32 mxcsr1, mxcsr0, mx = 0x9f80;

	memset(fx_in, 0, sizeof(fx_in));
	memcpy(fx_in + FXSAVE_FCW, &(u16){ 0x027f }, 2);
	fx_in[4] = 0x01;                        /* abridged tag: R0 valid */
	memcpy(fx_in + FXSAVE_MXCSR, &mx, 4);
	memcpy(fx_in + FXSAVE_ST0, st0_a, 10);
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			fx_in[FXSAVE_XMM0 + 16 * i + j] = xmm_pat(0, i, j);
	fpu_roundtrip((u64)v1_fpu);
	memcpy(&fcw1, vtl1_fx + FXSAVE_FCW, 2);
	memcpy(&mxcsr1, vtl1_fx + FXSAVE_MXCSR, 4);
	memcpy(&fcw0, fx_out + FXSAVE_FCW, 2);
	memcpy(&mxcsr0, fx_out + FXSAVE_MXCSR, 4);
	for (int i = 0; i < 16; i++) {
		if (memcmp(vtl1_fx + FXSAVE_XMM0 + 16 * i, fx_in + FXSAVE_XMM0 + 16 * i, 16))
			bad_in = i;
		for (int j = 0; j < 16; j++)
			if (fx_out[FXSAVE_XMM0 + 16 * i + j] != xmm_pat(1, i, j))
				bad_out = i;
	}
	report(fcw1 == 0x027f && !memcmp(vtl1_fx + FXSAVE_ST0, st0_a, 10) && fcw0 == 0x037f &&
	       !memcmp(fx_out + FXSAVE_ST0, st0_b, 10),
	       "shared x87/MMX state: VTL1 saw FCW %x, ST0 %s (VTL0 set 027f, pattern A); VTL0 "
	       "has FCW %x, ST0 %s after VTL1 set 037f, pattern B", fcw1,
	       !memcmp(vtl1_fx + FXSAVE_ST0, st0_a, 10) ? "A" : "other", fcw0,
	       !memcmp(fx_out + FXSAVE_ST0, st0_b, 10) ? "B" : "other");
	report(bad_in < 0 && bad_out < 0, "shared XMM0..XMM15: VTL1 saw VTL0's values (first bad "
	       "%d), VTL0 got VTL1's values back (first bad %d)", bad_in, bad_out);
	report(mxcsr1 == 0x9f80 && mxcsr0 == 0x7f80,
	       "shared MXCSR: VTL1 saw %x (VTL0 wrote 9f80), VTL0 reads %x after VTL1 wrote 7f80",
	       mxcsr1, mxcsr0);
}

static volatile u64 xcr0_vtl1[2];
static u8 ymm_buf[2][32] __aligned(32);

static u64 xgetbv0(void)
{
	u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | ((u64)hi << 32);
}

static void xsetbv0(u64 v)
{
	asm volatile("xsetbv" :: "a"((u32)v), "d"((u32)(v >> 32)), "c"(0) : "memory");
}

static u64 v1_xcr0(struct vsm_call *c)
{
	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	xcr0_vtl1[0] = xgetbv0();
	if (c->arg & 4) {       /* AVX: read YMM15, then write new upper halves */
		asm volatile("vmovdqu %%ymm15, %0" : "=m"(ymm_buf[0]));
		xsetbv0(3);
	}
	xcr0_vtl1[1] = xgetbv0();
	return 0;
}

static void test_xsave(void)
{
	struct cpuid c1 = cpuid(1);
	bool xsave = (c1.c >> 26) & 1, avx = (c1.c >> 28) & 1;
	u64 want = avx ? 7 : 3, after;

	if (!xsave) {
		report_skip("shared XCR0: CPU has no XSAVE (CPUID.1:ECX[26] = 0)");
		report_skip("shared YMM (AVX) state: CPU has no XSAVE/AVX");
		return;
	}
	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	xsetbv0(want);
	if (avx) {
		memset(ymm_buf, 0, sizeof(ymm_buf));
		for (int i = 0; i < 32; i++)
			ymm_buf[1][i] = 0x80 + i;
		asm volatile("vmovdqu %0, %%ymm15" :: "m"(ymm_buf[1]) : "xmm15");
	}
	vsm_vtl1_call(v1_xcr0, want);
	after = xgetbv0();
	report(xcr0_vtl1[0] == want && (!avx || after == 3),
	       "shared XCR0: VTL1 read %lx (VTL0 set %lx)%s; VTL0 reads %lx", xcr0_vtl1[0], want,
	       avx ? ", VTL1 set 3" : "", after);
	if (avx)
		report(!memcmp(ymm_buf[0] + 16, ymm_buf[1] + 16, 16),
		       "shared YMM: VTL1 read YMM15 upper half %02x..%02x (VTL0 wrote %02x..%02x)",
		       ymm_buf[0][16], ymm_buf[0][31], ymm_buf[1][16], ymm_buf[1][31]);
	else
		report_skip("shared YMM (AVX) state: CPU has no AVX (CPUID.1:ECX[28] = 0)");
	xsetbv0(3);
	write_cr4(read_cr4() & ~X86_CR4_OSXSAVE);
}

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	long r;

	if (!vsm_report_platform())
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised: VTL1 enabled and booted on VP0 (%lx)", r))
		return report_summary();
	test_entry_and_return();
	test_resume();
	test_shared_gprs();
	test_interrupt_entry();
	test_private_msrs();
	test_probe();
	test_apic_msrs_tsc();
	test_fpu();
	test_xsave();
	return report_summary();
}
