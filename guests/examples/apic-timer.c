/*
 * apic-timer.c - local APIC timer: periodic and one-shot interrupts are
 * counted by a handler that EOIs; also masking, the in-service bit and
 * TPR blocking. Nothing depends on the timer's frequency, only on
 * interrupts arriving (or not) and on the counter registers moving.
 */
#include "vsmrr.h"

#define TIMER_VECTOR    0x40    /* priority class 4 */
#define PERIODIC_TICKS  10
#define DIVIDE          16
#define PERIOD          100000  /* 1.6 ms at 1 GHz / 16 */
#define SPIN_LIMIT      100000000ul

static volatile int ticks;
static volatile bool in_service_ok = true;

static void timer_handler(struct ex_regs *r)
{
	/* While the handler runs, the vector is in service. */
	if (!apic_vector_bit(APIC_ISR, TIMER_VECTOR))
		in_service_ok = false;
	ticks++;
	apic_eoi();
}

/* Sleep until `n` ticks arrived. cli + sti;hlt avoids the lost-wakeup race
 * of checking the counter and then halting. */
static void wait_ticks(int n)
{
	cli();
	while (ticks < n) {
		safe_halt();
		cli();
	}
	sti();
}

/* Bounded busy wait with interrupts enabled; true if `n` ticks arrived.
 * (No PAUSE in the loop: QEMU's TCG leaves its fast path on every PAUSE.) */
static bool spin_for_ticks(int n, unsigned long limit)
{
	sti();
	while (ticks < n && limit--)
		barrier();
	return ticks >= n;
}

static void test_periodic(void)
{
	int after_stop;

	ticks = 0;
	apic_timer_periodic(TIMER_VECTOR, PERIOD, DIVIDE);
	wait_ticks(PERIODIC_TICKS);
	apic_timer_stop();
	report(ticks >= PERIODIC_TICKS, "periodic timer: %d interrupts counted", ticks);
	report(in_service_ok, "timer vector set in ISR while its handler runs");
	report(!apic_vector_bit(APIC_ISR, TIMER_VECTOR), "ISR bit clear after EOI");

	after_stop = ticks;
	spin_for_ticks(after_stop + 1, 2000000);
	report(ticks == after_stop, "no interrupts after stopping the timer");
}

static void test_oneshot(void)
{
	u32 c1, c2;

	ticks = 0;
	apic_timer_oneshot(TIMER_VECTOR, 10000000, DIVIDE);
	c1 = apic_read(APIC_TIMER_CCR);
	for (int i = 0; i < 1000; i++)
		pause();
	c2 = apic_read(APIC_TIMER_CCR);
	report(c1 <= 10000000 && c2 < c1, "one-shot current count counts down (%u -> %u)", c1, c2);
	apic_timer_stop();

	ticks = 0;
	apic_timer_oneshot(TIMER_VECTOR, PERIOD, DIVIDE);
	wait_ticks(1);
	report(ticks == 1, "one-shot timer fired once");
	spin_for_ticks(2, 2000000);
	report(ticks == 1 && apic_read(APIC_TIMER_CCR) == 0,
	       "one-shot timer does not re-arm (ticks %d, current count %u)",
	       ticks, apic_read(APIC_TIMER_CCR));
}

static void test_masked(void)
{
	unsigned long limit = SPIN_LIMIT;

	ticks = 0;
	apic_timer_oneshot(TIMER_VECTOR, 1000, 1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | TIMER_VECTOR);
	sti();
	while (apic_read(APIC_TIMER_CCR) && limit--)
		barrier();
	spin_for_ticks(1, 100000);
	report(apic_read(APIC_TIMER_CCR) == 0, "masked timer still counts down to 0");
	report(ticks == 0 && !apic_vector_bit(APIC_IRR, TIMER_VECTOR),
	       "masked timer raises no interrupt");
	apic_timer_stop();
}

static void test_tpr(void)
{
	unsigned long limit = SPIN_LIMIT;

	/* TPR class 5 > vector class 4: the interrupt stays pending in IRR. */
	ticks = 0;
	apic_write(APIC_TPR, 0x50);
	apic_timer_oneshot(TIMER_VECTOR, 1000, 1);
	sti();
	/* The count reaching 0 and the interrupt being raised need not be
	 * simultaneous in an emulator: wait for the IRR bit as well. */
	while ((apic_read(APIC_TIMER_CCR) || !apic_vector_bit(APIC_IRR, TIMER_VECTOR)) &&
	       limit--)
		barrier();
	report(ticks == 0 && apic_vector_bit(APIC_IRR, TIMER_VECTOR),
	       "TPR 0x50 holds vector 0x%x pending in IRR (ticks %d)", TIMER_VECTOR, ticks);

	/* Lowering TPR delivers it. */
	apic_write(APIC_TPR, 0);
	report(spin_for_ticks(1, SPIN_LIMIT) && ticks == 1,
	       "lowering TPR delivers the pending interrupt");
	report(!apic_vector_bit(APIC_IRR, TIMER_VECTOR), "IRR bit clear after delivery");
	apic_timer_stop();
}

int main(void)
{
	u32 version = apic_read(APIC_LVR);

	printf("APIC ID %u, version register %x\n", apic_id(), version);
	report((version & 0xff) >= 0x10, "integrated APIC (version %x)", version & 0xff);
	report(apic_read(APIC_SVR) & APIC_SVR_ENABLE, "APIC software-enabled");

	handle_exception(TIMER_VECTOR, timer_handler);
	test_periodic();
	test_oneshot();
	test_masked();
	test_tpr();
	cli();
	return report_summary();
}
