/*
 * apic.c - local APIC in xAPIC mode: enable, IPIs, timer.
 */
#include "apic.h"
#include "x86.h"
#include "libc.h"

#define APIC_BASE_ENABLE (1ull << 11)   /* IA32_APIC_BASE global enable */

void apic_enable(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	/* Software enable, with a spurious vector whose low bits are all 1s
	 * (older APICs hard-wire bits 3:0 of it to 1). */
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR);
	apic_write(APIC_TPR, 0);            /* accept every priority class */
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
}

void apic_icr_write(u32 lo, u32 dest)
{
	/* Writing the low word sends the IPI, so the destination goes first. */
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
	while (apic_read(APIC_ICR_LO) & APIC_ICR_BUSY)
		pause();
}

void apic_send_ipi(u32 dest, u8 vector)
{
	apic_icr_write(APIC_DM_FIXED | APIC_ICR_ASSERT | vector, dest);
}

/* Divide configuration register encoding: bits 3,1,0 = log2(divide) - 1,
 * with 0b111 meaning divide by 1. */
static u32 divide_bits(u32 divide)
{
	u32 l = 0;

	while ((1u << l) < divide && l < 7)
		l++;
	if (l == 0)
		return 0xb;
	l -= 1;
	return (l & 3) | ((l & 4) << 1);
}

static void timer_start(u32 lvt, u32 count, u32 divide)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TIMER_DCR, divide_bits(divide));
	apic_write(APIC_LVT_TIMER, lvt);
	apic_write(APIC_TIMER_ICR, count);  /* writing the count starts it */
}

void apic_timer_periodic(u8 vector, u32 count, u32 divide)
{
	timer_start(APIC_LVT_TIMER_PERIODIC | vector, count, divide);
}

void apic_timer_oneshot(u8 vector, u32 count, u32 divide)
{
	timer_start(vector, count, divide);
}

void apic_timer_stop(void)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TIMER_ICR, 0);
}
