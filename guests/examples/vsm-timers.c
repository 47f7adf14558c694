/*
 * vsm-timers.c - timers and VTLs (spec/vsm.md §5.4, §7): synthetic timers
 * STIMER0..3 in direct and message mode, one-shot and periodic, in each VTL;
 * and the priority rule between VTLs for timer interrupts, with synthetic
 * and local APIC timers:
 *   - a VTL1 timer that expires while VTL0 runs (even with VTL0's IF = 0)
 *     enters VTL1 at once, with entry reason "interrupt";
 *   - a VTL0 timer that expires while VTL1 runs is held until VTL1 returns,
 *     then delivered in VTL0.
 * Times are read from HV_X64_MSR_TIME_REF_COUNT (100 ns units).
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define V0_DIRECT       0x60    /* VTL0 vectors */
#define V0_SINT         0x61
#define V0_PERIODIC     0x62
#define V0_HELD         0x63
#define V0_LAPIC        0x64
#define V1_DIRECT       0x70    /* VTL1 vectors */
#define V1_SINT         0x71
#define V1_LAPIC        0x72
#define SINT_V0         2       /* SINT used by VTL0's message-mode timer */
#define SINT_V1         3       /* SINT used by VTL1's message-mode timer */
#define SPIN_LIMIT      20000   /* 2 ms of reference time: "never happened" */

static u8 v0_simp[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 v0_siefp[PAGE_SIZE] __aligned(PAGE_SIZE);

static inline u64 ref_time(void) { return rdmsr(HV_X64_MSR_TIME_REF_COUNT); }

static void stimer_set(int n, u64 config, u64 count)
{
	wrmsr(HV_X64_MSR_STIMER0_CONFIG + 2 * n, 0);
	wrmsr(HV_X64_MSR_STIMER0_COUNT + 2 * n, count);
	wrmsr(HV_X64_MSR_STIMER0_CONFIG + 2 * n, config);
}

static void stimer_off(int n)
{
	wrmsr(HV_X64_MSR_STIMER0_CONFIG + 2 * n, 0);
	wrmsr(HV_X64_MSR_STIMER0_COUNT + 2 * n, 0);
}

static u64 direct_cfg(u8 vector, bool periodic)
{
	return HV_STIMER_ENABLE | HV_STIMER_DIRECT_MODE | ((u64)vector << 4) |
	       (periodic ? HV_STIMER_PERIODIC : 0);
}

static u64 message_cfg(int sint, bool periodic)
{
	return HV_STIMER_ENABLE | ((u64)sint << HV_STIMER_SINT_SHIFT) | (periodic ? HV_STIMER_PERIODIC : 0);
}

/* What the handlers saw (VTL0 memory; VTL1's handlers write it too). */
struct seen {
	int count;
	u64 when[8];
	u32 msg_type[8], msg_timer[8];
	u64 msg_expiration[8], msg_delivery[8];
};
static volatile struct seen h0, h1;

static void record(volatile struct seen *h, u64 t)
{
	if (h->count < 8)
		h->when[h->count] = t;
	h->count++;
}

/* Copy the timer message out of `slot`, free the slot (EOM if another waits). */
static void take_timer_message(volatile struct seen *h, struct hv_message *slot)
{
	int i = h->count < 8 ? h->count : 7;
	const u64 *p = (const u64 *)slot->payload;

	h->msg_type[i] = slot->header.message_type;
	h->msg_timer[i] = (u32)p[0];
	h->msg_expiration[i] = p[1];
	h->msg_delivery[i] = p[2];
	slot->header.message_type = HVMSG_NONE;
	asm volatile("mfence" ::: "memory");
	if (slot->header.message_flags & HV_MESSAGE_FLAG_PENDING)
		wrmsr(HV_X64_MSR_EOM, 0);
}

static void v0_isr(struct ex_regs *r)
{
	u64 t = ref_time();

	if (r->vector == V0_SINT)
		take_timer_message(&h0, &((struct hv_message_page *)v0_simp)->sint_message[SINT_V0]);
	record(&h0, t);
	apic_eoi();
}

static void v1_isr(struct ex_regs *r)
{
	u64 t = ref_time();

	if (r->vector == V1_SINT) {
		struct hv_message_page *mp = (void *)(rdmsr(HV_X64_MSR_SIMP) & ~0xffful);

		take_timer_message(&h1, &mp->sint_message[SINT_V1]);
	}
	record(&h1, t);
	apic_eoi();
}

static void reset_records(void)
{
	memset((void *)&h0, 0, sizeof(h0));
	memset((void *)&h1, 0, sizeof(h1));
}

/* Spin with the given IF until h->count reaches n or SPIN_LIMIT passes. */
static bool wait_for(volatile struct seen *h, int n, bool irqs)
{
	u64 end = ref_time() + SPIN_LIMIT;

	if (irqs)
		sti();
	while (h->count < n && ref_time() < end)
		asm volatile("pause" ::: "memory");
	cli();
	return h->count >= n;
}

/* ---- VTL1 helpers (run through vsm_vtl1_call) ---- */

static u64 v1_setup(struct vsm_call *c)
{
	vsm_vtl1_handle_exception(V1_DIRECT, v1_isr);
	vsm_vtl1_handle_exception(V1_SINT, v1_isr);
	vsm_vtl1_handle_exception(V1_LAPIC, v1_isr);
	wrmsr(HV_X64_MSR_SINT0 + SINT_V1, V1_SINT);
	return 0;
}

/* c->arg: 0 = direct-mode STIMER2, 1 = message-mode STIMER1, 2 = local APIC one-shot timer;
 * the expiry is 500 (50 us) from now. Returns the programmed expiration time. */
static u64 v1_arm(struct vsm_call *c)
{
	u64 at = ref_time() + 500;

	if (c->arg == 0)
		stimer_set(2, direct_cfg(V1_DIRECT, false), at);
	else if (c->arg == 1)
		stimer_set(1, message_cfg(SINT_V1, false), at);
	else
		apic_timer_oneshot(V1_LAPIC, 50000, 1);       /* 50 us at 1 GHz (vsmrr) */
	return at;
}

static u64 v1_disarm(struct vsm_call *c)
{
	stimer_off(1);
	stimer_off(2);
	apic_timer_stop();
	return 0;
}

/* Spin in VTL1 until reference time c->arg; return how many VTL0 timer
 * interrupts VTL0's handler saw meanwhile (it cannot run: must be 0). */
static u64 v1_spin_until(struct vsm_call *c)
{
	while (ref_time() < c->arg)
		asm volatile("pause" ::: "memory");
	return h0.count;
}

/* ---- tests ---- */

static void test_vtl0_stimers(void)
{
	u64 t0, at;
	bool ok;

	/* Direct mode, one-shot. */
	reset_records();
	at = ref_time() + 300;
	stimer_set(0, direct_cfg(V0_DIRECT, false), at);
	ok = wait_for(&h0, 1, true);
	report(ok && h0.when[0] >= at && h0.when[0] < at + 50,
	       "VTL0 STIMER0 direct one-shot: vector %x at %lu (expiry %lu)", V0_DIRECT, h0.when[0], at);
	report(!(rdmsr(HV_X64_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE),
	       "VTL0 STIMER0: a one-shot timer clears its enable bit when it expires (config %lx)",
	       rdmsr(HV_X64_MSR_STIMER0_CONFIG));

	/* Message mode, one-shot: HvMessageTypeTimerExpired in the SINT slot. */
	reset_records();
	at = ref_time() + 300;
	stimer_set(1, message_cfg(SINT_V0, false), at);
	ok = wait_for(&h0, 1, true);
	report(ok && h0.msg_type[0] == HVMSG_TIMER_EXPIRED && h0.msg_timer[0] == 1 &&
	       h0.msg_expiration[0] == at && h0.msg_delivery[0] >= at && h0.msg_delivery[0] <= h0.when[0],
	       "VTL0 STIMER1 message one-shot: SINT%d type %x timer %u expiration %lu (want %lu) delivery %lu",
	       SINT_V0, h0.msg_type[0], h0.msg_timer[0], h0.msg_expiration[0], at, h0.msg_delivery[0]);

	/* Message mode, periodic: expirations on the period grid. */
	reset_records();
	t0 = ref_time();
	stimer_set(3, message_cfg(SINT_V0, true), 200);
	ok = wait_for(&h0, 4, true);
	stimer_off(3);
	report(ok && h0.msg_expiration[1] - h0.msg_expiration[0] == 200 &&
	       h0.msg_expiration[2] - h0.msg_expiration[1] == 200 &&
	       h0.msg_expiration[3] - h0.msg_expiration[2] == 200 &&
	       h0.msg_expiration[0] >= t0 + 200 && h0.msg_timer[3] == 3,
	       "VTL0 STIMER3 message periodic (200): expirations %lu %lu %lu %lu after start %lu",
	       h0.msg_expiration[0], h0.msg_expiration[1], h0.msg_expiration[2], h0.msg_expiration[3], t0);

	/* Direct mode, periodic: 5 interrupts in 5.5 periods. */
	reset_records();
	t0 = ref_time();
	stimer_set(2, direct_cfg(V0_PERIODIC, true), 400);
	sti();
	while (ref_time() < t0 + 5 * 400 + 200)
		asm volatile("pause" ::: "memory");
	cli();
	stimer_off(2);
	report(h0.count == 5, "VTL0 STIMER2 direct periodic (400): %d interrupts in 5.5 periods", h0.count);

	/* A stopped timer stays quiet. */
	reset_records();
	stimer_set(0, direct_cfg(V0_DIRECT, false), ref_time() + 100);
	stimer_off(0);
	report(!wait_for(&h0, 1, true), "VTL0 STIMER0 stopped before expiry: no interrupt (%d)", h0.count);
}

static const char *const kinds[] = { "synthetic timer (direct)", "synthetic timer (message)", "local APIC timer" };

/* A VTL1 timer expiring while VTL0 spins with IF = 0 enters VTL1 with entry reason interrupt. */
static void test_vtl1_preempts(int kind)
{
	struct vsm_vtl1_stats before, after;
	u64 at;
	bool ok;

	reset_records();
	vsm_vtl1_stats(smp_id(), &before);
	at = vsm_vtl1_call(v1_arm, kind);
	ok = wait_for(&h1, 1, false);
	vsm_vtl1_stats(smp_id(), &after);
	vsm_vtl1_call(v1_disarm, 0);
	report(ok && h1.when[0] >= at - (kind == 2 ? 5 : 0) && h1.when[0] < at + 50,
	       "VTL1 %s expiring while VTL0 runs with IF=0 is taken in VTL1 at %lu (expiry %lu)",
	       kinds[kind], h1.when[0], at);
	/* Between the two stats copies: the arming call, the interrupt entry, the second copy's call. */
	report(after.interrupts - before.interrupts == 1 && after.calls - before.calls == 2,
	       "VTL1 %s: one VTL entry with reason interrupt (interrupt entries +%lu, calls +%lu)",
	       kinds[kind], after.interrupts - before.interrupts, after.calls - before.calls);
	if (kind == 1)
		report(h1.msg_type[0] == HVMSG_TIMER_EXPIRED && h1.msg_timer[0] == 1 && h1.msg_expiration[0] == at,
		       "VTL1 STIMER1 message in VTL1's own SINT%d slot: type %x timer %u expiration %lu",
		       SINT_V1, h1.msg_type[0], h1.msg_timer[0], h1.msg_expiration[0]);
}

/* A VTL0 timer expiring while VTL1 runs waits until VTL1 returns. */
static void test_vtl0_held(int kind)
{
	u64 at, seen_in_vtl1, until;

	reset_records();
	at = ref_time() + 200;
	if (kind == 0)
		stimer_set(0, direct_cfg(V0_HELD, false), at);
	else if (kind == 1)
		stimer_set(1, message_cfg(SINT_V0, false), at);
	else
		apic_timer_oneshot(V0_LAPIC, 20000, 1);
	until = at + 300;
	sti();
	seen_in_vtl1 = vsm_vtl1_call(v1_spin_until, until);
	/* Interrupts are on: the held interrupt is taken right after the return. */
	asm volatile("nop; nop" ::: "memory");
	cli();
	stimer_off(0);
	stimer_off(1);
	apic_timer_stop();
	report(seen_in_vtl1 == 0 && h0.count == 1 && h0.when[0] >= until,
	       "VTL0 %s expiring while VTL1 runs is held (%lu taken during VTL1) and taken after the "
	       "return at %lu (VTL1 ran until %lu)", kinds[kind], seen_in_vtl1, h0.when[0], until);
}

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	long r;

	if (!vsm_report_platform())
		return report_summary();
	if (!report(hv_info.priv_lo & HV_ACCESS_SYNTHETIC_TIMER_MSRS,
		     "CPUID 0x40000003 EAX[3]: synthetic timer MSRs (EAX %x)", hv_info.priv_lo) ||
	    !report(hv_info.features_edx & HV_FEATURE_DIRECT_SYNTHETIC_TIMERS,
		    "CPUID 0x40000003 EDX[19]: direct synthetic timers (EDX %x)", hv_info.features_edx))
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised: %lx", r))
		return report_summary();
	handle_exception(V0_DIRECT, v0_isr);
	handle_exception(V0_SINT, v0_isr);
	handle_exception(V0_PERIODIC, v0_isr);
	handle_exception(V0_HELD, v0_isr);
	handle_exception(V0_LAPIC, v0_isr);
	wrmsr(HV_X64_MSR_SINT0 + SINT_V0, V0_SINT);
	hv_synic_enable(v0_simp, v0_siefp);
	vsm_vtl1_call(v1_setup, 0);

	test_vtl0_stimers();
	for (int k = 0; k < 3; k++)
		test_vtl1_preempts(k);
	for (int k = 0; k < 3; k++)
		test_vtl0_held(k);
	return report_summary();
}
