/*
 * vsm-ipi.c - IPIs and the per-VTL local APICs (spec/vsm.md §5.1, §5.4,
 * §2.10), on 2 to 4 VPs. Both VTLs use the same vector, so which IDT's
 * handler runs tells which VTL took the interrupt:
 *   - fixed IPIs through each VTL's own local APIC: a VTL1 IPI to a VP
 *     running VTL0 (even with IF = 0, or halted) enters VTL1 at once with
 *     entry reason "interrupt"; a VTL0 IPI to a VP sitting in VTL1 waits
 *     until it returns; VTL0 -> VTL0 and VTL1 -> VTL1 deliver normally;
 *   - HvCallSendSyntheticClusterIpi and its Ex form, memory and fast forms,
 *     with and without the target VTL, and their status codes for bad input;
 *   - disabling VTL1's APIC (software, SVR; hardware, IA32_APIC_BASE) leaves
 *     VTL0's taking its IPIs and its timer, and the reverse;
 *   - TPR isolation: VTL1's TPR does not mask VTL0's interrupts and VTL0's
 *     CR8 does not hold VTL1's;
 *   - CPUID.1:EDX[9] as each VTL sees it follows that VTL's APIC base.
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define V_IPI           0x50    /* the test vector, in both VTLs */
#define V_TIMER0        0x52    /* VTL0's local APIC timer */
#define SPIN_LIMIT      20000   /* 2 ms of reference time: "never happened" */
#define GRACE           300     /* 30 us: what must wait may not arrive in this time */
#define APIC_BASE_EN    (1ul << 11)

static int ncpu;

/* What the handlers saw, per VP (VTL0 memory; VTL1's handler writes it too). */
static volatile u32 h0[HV_MAX_VPS], h1[HV_MAX_VPS], t0[HV_MAX_VPS];
static volatile u32 h1_reason[HV_MAX_VPS], h1_cr8[HV_MAX_VPS];

static inline u64 ref_time(void) { return rdmsr(HV_X64_MSR_TIME_REF_COUNT); }
static inline u64 read_cr8(void) { u64 v; asm volatile("mov %%cr8, %0" : "=r"(v)); return v; }
static inline void write_cr8(u64 v) { asm volatile("mov %0, %%cr8" :: "r"(v) : "memory"); }
static inline u32 cpuid_apic_bit(void) { return (cpuid(1).d >> 9) & 1; }

static void v0_isr(struct ex_regs *r)
{
	int me = smp_id();

	if (r->vector == V_TIMER0)
		t0[me]++;
	else
		h0[me]++;
	apic_eoi();
}

static void v1_isr(struct ex_regs *r)
{
	int me = smp_id();

	h1_reason[me] = vsm_vtl1_assist()->vtl_control.entry_reason;
	h1_cr8[me] = read_cr8();
	h1[me]++;
	apic_eoi();
}

static bool wait_count(volatile u32 *v, u32 want)
{
	u64 end = ref_time() + SPIN_LIMIT;

	while (*v < want && ref_time() < end)
		pause();
	return *v >= want;
}

static void grace(void)
{
	u64 end = ref_time() + GRACE;

	while (ref_time() < end)
		pause();
}

static void wait_flag(volatile int *f)
{
	u64 end = ref_time() + SPIN_LIMIT;

	while (!*f && ref_time() < end)
		pause();
}

static u64 v1_interrupt_entries(int vp)
{
	struct vsm_vtl1_stats s;

	vsm_vtl1_stats(vp, &s);
	return s.interrupts;
}

/* ---- VTL1 code run through VTL calls ---- */

static u64 v1_setup(struct vsm_call *c)
{
	vsm_vtl1_handle_exception(V_IPI, v1_isr);
	return 0;
}

static u64 v1_send_apic_ipi(struct vsm_call *c)
{
	if (c->arg == ~0ul)
		apic_icr_write(APIC_DEST_ALL_BUT_SELF | APIC_DM_FIXED | APIC_ICR_ASSERT | V_IPI, 0);
	else
		apic_send_ipi(c->arg, V_IPI);
	return 0;
}

/* Software enable (arg 1, apic_enable) or disable (arg 0) of VTL1's APIC; returns SVR. */
static u64 v1_apic_sw(struct vsm_call *c)
{
	if (c->arg)
		apic_enable();
	else
		apic_write(APIC_SVR, apic_read(APIC_SVR) & ~APIC_SVR_ENABLE);
	return apic_read(APIC_SVR);
}

/* Hardware enable (arg 1) or disable (arg 0) of VTL1's APIC. Returns VTL1's
 * CPUID.1:EDX[9] afterwards in bit 0 and IA32_APIC_BASE.EN in bit 1. */
static u64 v1_apic_hw(struct vsm_call *c)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	if (c->arg) {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
		apic_enable();
	} else {
		wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_EN);
	}
	return cpuid_apic_bit() | (((rdmsr(MSR_APIC_BASE) & APIC_BASE_EN) != 0) << 1);
}

static u64 v1_cpuid_apic(struct vsm_call *c)
{
	return cpuid_apic_bit();
}

/* VTL1's TPR through the APIC register. Lowering it lets in what it held:
 * returns the number of VTL1 interrupts taken right after. */
static u64 v1_set_tpr(struct vsm_call *c)
{
	u32 before = h1[smp_id()];

	apic_write(APIC_TPR, c->arg);
	for (int i = 0; i < 8; i++)
		asm volatile("sti; nop; cli" ::: "memory");
	return h1[smp_id()] - before;
}

/* ---- running code on another VP ---- */

static struct { vsm_vtl1_fn fn; u64 arg, ret; } remote;

static void remote_vtl1_call(void *unused)
{
	remote.ret = vsm_vtl1_call(remote.fn, remote.arg);
}

/* Run fn in VTL1 on VP `vp` (a VTL call there) and return its result. */
static u64 v1_on(int vp, vsm_vtl1_fn fn, u64 arg)
{
	remote.fn = fn;
	remote.arg = arg;
	on_cpu(vp, remote_vtl1_call, NULL);
	return remote.ret;
}

/* The target VP's states while the sender acts. */
enum { T_VTL0_CLI, T_VTL0_STI, T_VTL1, T_VTL0_CR8, T_VTL0_APIC_OFF };
static volatile int t_mode, t_ready, t_release;
static volatile u64 t_h0_in_vtl1;       /* VTL0 interrupts taken while the target sat in VTL1 */

/* In VTL1 with IF = 1 until released. Returns VTL0's handler count delta. */
static u64 v1_target(struct vsm_call *c)
{
	int me = smp_id();
	u32 before = h0[me];

	t_ready = 1;
	sti();
	while (!t_release)
		pause();
	cli();
	return h0[me] - before;
}

static void target(void *unused)
{
	switch (t_mode) {
	case T_VTL1:
		t_h0_in_vtl1 = vsm_vtl1_call(v1_target, 0);
		sti();          /* a held VTL0 interrupt is taken here */
		return;
	case T_VTL0_CR8:
		write_cr8(15);
		break;
	case T_VTL0_APIC_OFF:
		apic_write(APIC_SVR, apic_read(APIC_SVR) & ~APIC_SVR_ENABLE);
		break;
	}
	if (t_mode == T_VTL0_CLI)
		cli();
	else
		sti();
	t_ready = 1;
	while (!t_release)
		pause();
	if (t_mode == T_VTL0_CR8)
		write_cr8(0);
	if (t_mode == T_VTL0_APIC_OFF)
		apic_enable();
	sti();
}

static void start_target(int vp, int mode)
{
	t_mode = mode;
	t_ready = 0;
	t_release = 0;
	on_cpu_async(vp, target, NULL);
	wait_flag(&t_ready);
}

static void finish_target(int vp)
{
	t_release = 1;
	on_cpu_wait(vp);
}

/* ---- fixed IPIs through the local APICs ---- */

static void test_apic_ipis(int vp)
{
	u32 b0 = h0[vp], b1 = h1[vp];
	u64 e0 = v1_interrupt_entries(vp);
	bool ok, held;

	/* VTL0 -> VTL0. */
	start_target(vp, T_VTL0_STI);
	apic_send_ipi(vp, V_IPI);
	ok = wait_count(&h0[vp], b0 + 1);
	finish_target(vp);
	report(ok && h0[vp] == b0 + 1 && h1[vp] == b1 && v1_interrupt_entries(vp) == e0,
	       "VTL0 IPI to VP%d running VTL0: taken by VTL0's handler (VTL0 +%u, VTL1 +%u)",
	       vp, h0[vp] - b0, h1[vp] - b1);

	/* VTL1 -> VP in VTL0 with IF = 0: preempts VTL0. */
	b0 = h0[vp]; b1 = h1[vp]; e0 = v1_interrupt_entries(vp);
	start_target(vp, T_VTL0_CLI);
	vsm_vtl1_call(v1_send_apic_ipi, vp);
	ok = wait_count(&h1[vp], b1 + 1);
	finish_target(vp);
	report(ok && h1[vp] == b1 + 1 && h0[vp] == b0 && h1_reason[vp] == HV_VTL_ENTRY_REASON_INTERRUPT &&
	       v1_interrupt_entries(vp) == e0 + 1,
	       "VTL1 IPI to VP%d running VTL0 with IF=0: enters VTL1 (entry reason %u, interrupt entries +%lu), "
	       "VTL1's handler takes it (VTL1 +%u, VTL0 +%u)",
	       vp, h1_reason[vp], v1_interrupt_entries(vp) - e0, h1[vp] - b1, h0[vp] - b0);

	/* VTL1 -> VP in VTL1: taken there, no interrupt entry. */
	b0 = h0[vp]; b1 = h1[vp]; e0 = v1_interrupt_entries(vp);
	start_target(vp, T_VTL1);
	vsm_vtl1_call(v1_send_apic_ipi, vp);
	ok = wait_count(&h1[vp], b1 + 1);
	finish_target(vp);
	report(ok && h1[vp] == b1 + 1 && h0[vp] == b0 && h1_reason[vp] == HV_VTL_ENTRY_REASON_VTL_CALL &&
	       v1_interrupt_entries(vp) == e0,
	       "VTL1 IPI to VP%d running VTL1: taken by VTL1's handler inside the VTL call (entry reason %u, "
	       "interrupt entries +%lu)", vp, h1_reason[vp], v1_interrupt_entries(vp) - e0);

	/* VTL0 -> VP in VTL1: waits for the VTL return. */
	b0 = h0[vp]; b1 = h1[vp]; e0 = v1_interrupt_entries(vp);
	start_target(vp, T_VTL1);
	apic_send_ipi(vp, V_IPI);
	grace();
	held = h0[vp] == b0;
	finish_target(vp);
	ok = wait_count(&h0[vp], b0 + 1);
	report(held && t_h0_in_vtl1 == 0 && ok && h0[vp] == b0 + 1 && h1[vp] == b1,
	       "VTL0 IPI to VP%d sitting in VTL1: held while VTL1 runs (%s, %lu taken in VTL1), taken by "
	       "VTL0's handler after the return (VTL0 +%u, VTL1 +%u)",
	       vp, held ? "held" : "not held", t_h0_in_vtl1, h0[vp] - b0, h1[vp] - b1);
}

/* VTL1 IPIs to halted VPs, one by one and broadcast. */
static void test_apic_ipis_halted(void)
{
	u32 b0[HV_MAX_VPS], b1[HV_MAX_VPS];
	u64 e0[HV_MAX_VPS];
	bool ok = true;

	for (int k = 0; k < ncpu; k++) {
		b0[k] = h0[k]; b1[k] = h1[k]; e0[k] = v1_interrupt_entries(k);
	}
	vsm_vtl1_call(v1_send_apic_ipi, 1);
	ok = wait_count(&h1[1], b1[1] + 1);
	report(ok && h1_reason[1] == HV_VTL_ENTRY_REASON_INTERRUPT && h0[1] == b0[1] &&
	       v1_interrupt_entries(1) == e0[1] + 1,
	       "VTL1 IPI to VP1 halted in VTL0: enters VTL1 (entry reason %u), VTL1's handler takes it",
	       h1_reason[1]);

	b1[1] = h1[1]; e0[1] = v1_interrupt_entries(1);
	vsm_vtl1_call(v1_send_apic_ipi, ~0ul);
	for (int k = 1; k < ncpu; k++)
		ok &= wait_count(&h1[k], b1[k] + 1);
	grace();
	for (int k = 1; k < ncpu; k++)
		ok &= h1[k] == b1[k] + 1 && h0[k] == b0[k] && v1_interrupt_entries(k) == e0[k] + 1;
	ok &= h1[0] == b1[0] && h0[0] == b0[0];
	report(ok, "VTL1 broadcast IPI (all but self) from VP0: VTL1 of VP1..%d takes it once each, "
	       "through an interrupt entry; VTL0 sees nothing", ncpu - 1);
}

/* ---- HvCallSendSyntheticClusterIpi(Ex) ---- */

enum { PV_MEM, PV_FAST, PV_EX, PV_EX_ALL };
static const char *const pv_form[] = { "SendSyntheticClusterIpi", "SendSyntheticClusterIpi (fast)",
	"SendSyntheticClusterIpiEx", "SendSyntheticClusterIpiEx (all VPs)" };
static struct { int form; u32 vector; u8 vtl; u64 mask; u32 varhead, rep; u64 format; } pv;

static u64 do_pv(void)
{
	u64 *in = hv_input_page();
	u64 rdx, r8;

	switch (pv.form) {
	case PV_FAST:
		rdx = pv.vector | ((u64)pv.vtl << 32);
		r8 = pv.mask;
		return hv_hypercall_fast(hv_control(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, true, 0, 0, 0), &rdx, &r8);
	case PV_EX:
	case PV_EX_ALL:
		in[0] = pv.vector | ((u64)pv.vtl << 32);
		in[1] = pv.format;                      /* HV_VP_SET format: 0 sparse banks, 1 all */
		in[2] = pv.format == 0 ? 1 : 0;         /* valid bank mask: bank 0 */
		in[3] = pv.mask;
		return hv_hypercall(hv_control(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, false, pv.varhead, 0, 0),
				    (u64)in, 0);
	default:
		in[0] = pv.vector | ((u64)pv.vtl << 32);
		in[1] = pv.mask;
		return hv_hypercall(hv_control(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, false, 0, pv.rep, 0), (u64)in, 0);
	}
}

static u64 v1_pv(struct vsm_call *c) { return do_pv(); }

static u64 pv_send(bool from_vtl1, int form, u8 vtl, u64 mask)
{
	pv.form = form;
	pv.vector = V_IPI;
	pv.vtl = vtl;
	pv.mask = mask;
	pv.varhead = form == PV_EX ? 1 : 0;
	pv.rep = 0;
	pv.format = form == PV_EX_ALL ? 1 : 0;
	return from_vtl1 ? vsm_vtl1_call(v1_pv, 0) : do_pv();
}

static const char *vtl_name(u8 input_vtl)
{
	return input_vtl == HV_INPUT_VTL(0) ? "target VTL0" : input_vtl == HV_INPUT_VTL(1) ? "target VTL1" :
	       "no target VTL";
}

/* One PV IPI to `vp` in state `mode`; `to_vtl1` says where it must land. */
static void pv_case(int vp, int mode, bool from_vtl1, int form, u8 vtl, bool to_vtl1)
{
	u32 b0 = h0[vp], b1 = h1[vp];
	u64 e0 = v1_interrupt_entries(vp), r;
	bool ok, held = true;
	u32 want_reason = mode == T_VTL1 ? HV_VTL_ENTRY_REASON_VTL_CALL : HV_VTL_ENTRY_REASON_INTERRUPT;

	start_target(vp, mode);
	r = pv_send(from_vtl1, form, vtl, 1ul << vp);
	if (!to_vtl1 && mode == T_VTL1) {
		grace();
		held = h0[vp] == b0;
	}
	ok = to_vtl1 ? wait_count(&h1[vp], b1 + 1) : true;
	finish_target(vp);
	if (!to_vtl1)
		ok = wait_count(&h0[vp], b0 + 1);
	if (to_vtl1) {
		ok &= h1[vp] == b1 + 1 && h0[vp] == b0 && h1_reason[vp] == want_reason &&
		      v1_interrupt_entries(vp) == e0 + (mode == T_VTL1 ? 0 : 1);
		report(hv_status(r) == HV_STATUS_SUCCESS && ok,
		       "%s from VTL%d, %s, to VP%d %s: VTL1's handler takes it (status %x, entry reason %u, "
		       "interrupt entries +%lu, VTL0 +%u)", pv_form[form], from_vtl1, vtl_name(vtl), vp,
		       mode == T_VTL1 ? "sitting in VTL1" : "running VTL0 with IF=0", hv_status(r), h1_reason[vp],
		       v1_interrupt_entries(vp) - e0, h0[vp] - b0);
	} else {
		ok &= h0[vp] == b0 + 1 && h1[vp] == b1 && v1_interrupt_entries(vp) == e0;
		report(hv_status(r) == HV_STATUS_SUCCESS && ok && held,
		       "%s from VTL%d, %s, to VP%d %s: VTL0's handler takes it%s (status %x, VTL1 +%u)",
		       pv_form[form], from_vtl1, vtl_name(vtl), vp,
		       mode == T_VTL1 ? "sitting in VTL1" : "running VTL0",
		       mode == T_VTL1 ? (held ? " after the VTL return" : " BEFORE the VTL return") : "",
		       hv_status(r), h1[vp] - b1);
	}
}

static void test_pv_ipis(void)
{
	u64 others = ((1ul << ncpu) - 1) & ~1ul, r;
	u32 b0[HV_MAX_VPS], b1[HV_MAX_VPS];
	bool ok = true;

	pv_case(1, T_VTL0_STI, false, PV_MEM, HV_INPUT_VTL_CURRENT, false);
	pv_case(1, T_VTL0_CLI, false, PV_FAST, HV_INPUT_VTL(1), true);
	pv_case(1, T_VTL0_CLI, false, PV_MEM, HV_INPUT_VTL(1), true);
	pv_case(1, T_VTL1, false, PV_EX, HV_INPUT_VTL(1), true);
	pv_case(1, T_VTL0_CLI, true, PV_EX, HV_INPUT_VTL_CURRENT, true);
	pv_case(1, T_VTL1, true, PV_FAST, HV_INPUT_VTL_CURRENT, true);
	pv_case(1, T_VTL0_STI, true, PV_MEM, HV_INPUT_VTL(0), false);
	pv_case(1, T_VTL1, true, PV_MEM, HV_INPUT_VTL(0), false);
	pv_case(1, T_VTL1, false, PV_FAST, HV_INPUT_VTL(0), false);

	/* Several targets at once: every other VP (halted in VTL0). */
	for (int k = 0; k < ncpu; k++) {
		b0[k] = h0[k]; b1[k] = h1[k];
	}
	r = pv_send(false, PV_EX, HV_INPUT_VTL_CURRENT, others);
	for (int k = 1; k < ncpu; k++)
		ok &= wait_count(&h0[k], b0[k] + 1);
	r |= pv_send(true, PV_MEM, HV_INPUT_VTL_CURRENT, others) << 16;
	for (int k = 1; k < ncpu; k++)
		ok &= wait_count(&h1[k], b1[k] + 1);
	grace();
	for (int k = 1; k < ncpu; k++)
		ok &= h0[k] == b0[k] + 1 && h1[k] == b1[k] + 1;
	ok &= h0[0] == b0[0] && h1[0] == b1[0];
	report(r == 0 && ok, "PV IPIs to VP1..%d at once (Ex from VTL0, then memory form from VTL1): each VP "
	       "takes one in VTL0 and one in VTL1, the sender none", ncpu - 1);

	/* HV_VP_SET "all": the sender too (it takes its own once it enables interrupts). */
	for (int k = 0; k < ncpu; k++)
		b0[k] = h0[k];
	ok = true;
	r = pv_send(false, PV_EX_ALL, HV_INPUT_VTL(0), 0);
	for (int i = 0; i < 8; i++)
		asm volatile("sti; nop; cli" ::: "memory");
	for (int k = 0; k < ncpu; k++)
		ok &= wait_count(&h0[k], b0[k] + 1);
	report(hv_status(r) == HV_STATUS_SUCCESS && ok, "%s, target VTL0: every VP takes it in VTL0, the "
	       "sender included (status %x)", pv_form[PV_EX_ALL], hv_status(r));
}

static void test_pv_status(bool from_vtl1)
{
	const char *who = from_vtl1 ? "VTL1" : "VTL0";
	u32 sum0 = 0, sum1 = 0, after0 = 0, after1 = 0;
	u64 r;

	for (int k = 0; k < ncpu; k++) {
		sum0 += h0[k]; sum1 += h1[k];
	}
#define PV_BAD(form_, vector_, vtl_, mask_, varhead_, rep_) ({ \
	pv.form = form_; pv.vector = vector_; pv.vtl = vtl_; pv.mask = mask_; \
	pv.varhead = varhead_; pv.rep = rep_; pv.format = 0; \
	from_vtl1 ? vsm_vtl1_call(v1_pv, 0) : do_pv(); })
	hv_report_status(PV_BAD(PV_MEM, 0x0f, HV_INPUT_VTL_CURRENT, 2, 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
			 "%s: SendSyntheticClusterIpi with vector 0xf (below 0x10)", who);
	hv_report_status(PV_BAD(PV_MEM, 0x100, HV_INPUT_VTL_CURRENT, 2, 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
			 "%s: SendSyntheticClusterIpi with vector 0x100 (above 0xff)", who);
	hv_report_status(PV_BAD(PV_FAST, 0x0f, HV_INPUT_VTL_CURRENT, 2, 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
			 "%s: SendSyntheticClusterIpi (fast) with vector 0xf", who);
	hv_report_status(PV_BAD(PV_EX, 0x0f, HV_INPUT_VTL_CURRENT, 2, 1, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
			 "%s: SendSyntheticClusterIpiEx with vector 0xf", who);
	hv_report_status(PV_BAD(PV_MEM, V_IPI, 0x31, 2, 0, 0), HV_STATUS_INVALID_PARAMETER,
			 "%s: SendSyntheticClusterIpi with reserved HV_INPUT_VTL bits (0x31)", who);
	hv_report_status(PV_BAD(PV_EX, V_IPI, 0x90, 2, 1, 0), HV_STATUS_INVALID_PARAMETER,
			 "%s: SendSyntheticClusterIpiEx with reserved HV_INPUT_VTL bits (0x90)", who);
	hv_report_status(PV_BAD(PV_MEM, V_IPI, HV_INPUT_VTL(2), 2, 0, 0), HV_STATUS_INVALID_PARAMETER,
			 "%s: SendSyntheticClusterIpi to VTL2 (no such VTL)", who);
	hv_report_status(PV_BAD(PV_MEM, V_IPI, HV_INPUT_VTL_CURRENT, 2, 0, 1), HV_STATUS_INVALID_HYPERCALL_INPUT,
			 "%s: SendSyntheticClusterIpi (a simple call) with rep count 1", who);
	hv_report_status(PV_BAD(PV_EX, V_IPI, HV_INPUT_VTL_CURRENT, 2, 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
			 "%s: SendSyntheticClusterIpiEx with bank 0 valid but no variable header for it", who);
	r = ({ pv.form = PV_EX_ALL; pv.vector = V_IPI; pv.vtl = HV_INPUT_VTL_CURRENT; pv.varhead = 0;
	       pv.format = 2; from_vtl1 ? vsm_vtl1_call(v1_pv, 0) : do_pv(); });
	hv_report_status(r, HV_STATUS_INVALID_PARAMETER, "%s: SendSyntheticClusterIpiEx with HV_VP_SET format 2", who);
	r = PV_BAD(PV_MEM, V_IPI, HV_INPUT_VTL_CURRENT, 1ul << 63, 0, 0);
	report_info("%s: SendSyntheticClusterIpi naming VP63 (no such VP): %s (%x) (vsmrr refuses the whole "
		    "call; the TLFS does not say)", who, hv_status_name(hv_status(r)), hv_status(r));
#undef PV_BAD
	grace();
	for (int k = 0; k < ncpu; k++) {
		after0 += h0[k]; after1 += h1[k];
	}
	report(after0 == sum0 && after1 == sum1, "%s: none of the refused IPIs was delivered (VTL0 +%u, VTL1 +%u)",
	       who, after0 - sum0, after1 - sum1);
}

/* ---- disabling one VTL's APIC ---- */

/* On VP `vp` in VTL0: VTL0's one-shot APIC timer still fires. */
static volatile bool timer_ok;

static void vtl0_timer_check(void *unused)
{
	int me = smp_id();
	u32 before = t0[me];

	apic_timer_oneshot(V_TIMER0, 20000, 1);
	timer_ok = wait_count(&t0[me], before + 1);
	apic_timer_stop();
}

static volatile u32 vtl0_cpuid_bit;

static void vtl0_cpuid_check(void *unused)
{
	vtl0_cpuid_bit = cpuid_apic_bit();
}

/* With VTL1's APIC of `vp` disabled: VTL0 IPIs and timer work, VTL1 IPIs are dropped. */
static void check_vtl0_intact(int vp, const char *how)
{
	u32 b0 = h0[vp], b1 = h1[vp];
	u64 e0 = v1_interrupt_entries(vp);
	bool ipi0, dropped;

	apic_send_ipi(vp, V_IPI);
	ipi0 = wait_count(&h0[vp], b0 + 1);
	timer_ok = false;
	on_cpu(vp, vtl0_timer_check, NULL);
	vsm_vtl1_call(v1_send_apic_ipi, vp);
	grace();
	dropped = h1[vp] == b1 && v1_interrupt_entries(vp) == e0;
	report(ipi0 && timer_ok && dropped,
	       "VTL1's APIC on VP%d %s: VTL0's APIC still takes its IPI (%s) and its timer (%s); "
	       "VTL1 IPIs to it are dropped (%s)", vp, how, ipi0 ? "yes" : "no", timer_ok ? "yes" : "no",
	       dropped ? "dropped" : "delivered");
}

/* After re-enabling VTL1's APIC of `vp`: VTL1 IPIs arrive again. */
static void check_vtl1_back(int vp, const char *how)
{
	u32 b1 = h1[vp];
	bool ok;

	vsm_vtl1_call(v1_send_apic_ipi, vp);
	ok = wait_count(&h1[vp], b1 + 1);
	report(ok && h1_reason[vp] == HV_VTL_ENTRY_REASON_INTERRUPT,
	       "VTL1's APIC on VP%d %s again: a VTL1 IPI enters VTL1 again (entry reason %u)", vp, how,
	       h1_reason[vp]);
}

static void test_apic_disable(void)
{
	int vp = 1;
	u64 svr, r;
	u32 b0, b1;
	u64 e0;
	bool ok;

	/* Software disable (SVR) of VTL1's APIC. */
	svr = v1_on(vp, v1_apic_sw, 0);
	report(!(svr & APIC_SVR_ENABLE), "VTL1 clears SVR[8] of its APIC on VP%d (SVR %lx)", vp, svr);
	check_vtl0_intact(vp, "software-disabled");
	svr = v1_on(vp, v1_apic_sw, 1);
	check_vtl1_back(vp, "software-enabled");

	/* Hardware disable (IA32_APIC_BASE.EN) of VTL1's APIC; CPUID follows it in VTL1 only. */
	r = v1_on(vp, v1_apic_hw, 0);
	on_cpu(vp, vtl0_cpuid_check, NULL);
	report(r == 0 && vtl0_cpuid_bit == 1,
	       "VTL1 clears IA32_APIC_BASE.EN on VP%d: VTL1 reads EN %lu and CPUID.1:EDX[9] %lu; VTL0 reads "
	       "CPUID.1:EDX[9] %u", vp, (r >> 1) & 1, r & 1, vtl0_cpuid_bit);
	check_vtl0_intact(vp, "hardware-disabled");
	r = v1_on(vp, v1_apic_hw, 1);
	report(r == 3, "VTL1 sets IA32_APIC_BASE.EN again: VTL1 reads EN %lu and CPUID.1:EDX[9] %lu",
	       (r >> 1) & 1, r & 1);
	check_vtl1_back(vp, "hardware-enabled");

	/* The reverse: VTL0's APIC software-disabled, VTL1's keeps working. */
	b0 = h0[vp]; b1 = h1[vp]; e0 = v1_interrupt_entries(vp);
	start_target(vp, T_VTL0_APIC_OFF);
	apic_send_ipi(vp, V_IPI);
	vsm_vtl1_call(v1_send_apic_ipi, vp);
	ok = wait_count(&h1[vp], b1 + 1);
	grace();
	finish_target(vp);
	report(ok && h1[vp] == b1 + 1 && h0[vp] == b0 && v1_interrupt_entries(vp) == e0 + 1,
	       "VTL0's APIC on VP%d software-disabled: its VTL0 IPI is dropped (VTL0 +%u), a VTL1 IPI still "
	       "enters VTL1 (VTL1 +%u)", vp, h0[vp] - b0, h1[vp] - b1);

	/* VTL0's APIC hardware-disabled on VP0 (this VP, interrupts off): CPUID per VTL. */
	{
		u64 base = rdmsr(MSR_APIC_BASE);
		u32 v0_off, v1_off, v0_on;

		cli();
		wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_EN);
		v0_off = cpuid_apic_bit();
		v1_off = vsm_vtl1_call(v1_cpuid_apic, 0);
		wrmsr(MSR_APIC_BASE, base);
		apic_enable();
		v0_on = cpuid_apic_bit();
		report(v0_off == 0 && v1_off == 1 && v0_on == 1,
		       "VTL0 clears IA32_APIC_BASE.EN on VP0: CPUID.1:EDX[9] reads %u in VTL0 and %u in VTL1; "
		       "%u in VTL0 once EN is set again", v0_off, v1_off, v0_on);
	}
}

/* ---- TPR isolation ---- */

static void test_tpr(void)
{
	int vp = 1;
	u32 b0 = h0[vp], b1 = h1[vp];
	u64 e0 = v1_interrupt_entries(vp), taken;
	bool ok0, held1, held0, ok1;

	/* VTL1 raises its TPR (APIC register) to 0xf0 on VP1. */
	v1_on(vp, v1_set_tpr, 0xf0);
	apic_send_ipi(vp, V_IPI);
	ok0 = wait_count(&h0[vp], b0 + 1);
	vsm_vtl1_call(v1_send_apic_ipi, vp);
	grace();
	held1 = h1[vp] == b1 && v1_interrupt_entries(vp) == e0;
	report(ok0 && held1, "VTL1's TPR 0xf0 on VP%d: VTL0's IPI is still taken (%s); VTL1's IPI is held "
	       "(%s, no VTL entry)", vp, ok0 ? "yes" : "no", held1 ? "held" : "delivered");
	taken = v1_on(vp, v1_set_tpr, 0);
	report(taken == 1 && h1[vp] == b1 + 1, "VTL1 lowers its TPR: the held VTL1 IPI is taken then (%lu)", taken);

	/* VTL0 raises CR8 to 15 on VP1. */
	b0 = h0[vp]; b1 = h1[vp]; e0 = v1_interrupt_entries(vp);
	start_target(vp, T_VTL0_CR8);
	apic_send_ipi(vp, V_IPI);
	vsm_vtl1_call(v1_send_apic_ipi, vp);
	ok1 = wait_count(&h1[vp], b1 + 1);
	grace();
	held0 = h0[vp] == b0;
	finish_target(vp);
	ok0 = wait_count(&h0[vp], b0 + 1);
	report(ok1 && h1_reason[vp] == HV_VTL_ENTRY_REASON_INTERRUPT && v1_interrupt_entries(vp) == e0 + 1 &&
	       h1_cr8[vp] == 0,
	       "VTL0's CR8 15 on VP%d: a VTL1 IPI still enters VTL1 (entry reason %u) and VTL1's handler sees "
	       "its own CR8 %u", vp, h1_reason[vp], h1_cr8[vp]);
	report(held0 && ok0 && h0[vp] == b0 + 1,
	       "VTL0's CR8 15 on VP%d holds VTL0's own IPI (%s) until CR8 goes back to 0 (then taken: %s)", vp,
	       held0 ? "held" : "not held", ok0 ? "yes" : "no");
}

/* ---- setup ---- */

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	long r;
	u32 v1bit;

	if (!vsm_report_platform())
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised: %lx", r))
		return report_summary();
	ncpu = smp_init(NULL, NULL);
	if (ncpu > HV_MAX_VPS)
		ncpu = HV_MAX_VPS;
	if (ncpu < 2) {
		report_skip("IPIs: need --smp 2 or more (%d CPU online)", ncpu);
		return report_summary();
	}
	for (int k = 1; k < ncpu; k++)
		vsm_bring_up_ap(k);
	handle_exception(V_IPI, v0_isr);
	handle_exception(V_TIMER0, v0_isr);
	vsm_vtl1_call(v1_setup, 0);

	v1bit = vsm_vtl1_call(v1_cpuid_apic, 0);
	report(cpuid_apic_bit() == 1 && v1bit == 1, "CPUID.1:EDX[9] (APIC present) reads %u in VTL0 and %u in VTL1 "
	       "with both APICs enabled", cpuid_apic_bit(), v1bit);

	for (int k = 1; k < ncpu; k++)
		test_apic_ipis(k);
	test_apic_ipis_halted();
	test_pv_ipis();
	test_pv_status(false);
	test_pv_status(true);
	test_apic_disable();
	test_tpr();
	return report_summary();
}
