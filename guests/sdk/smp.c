/*
 * smp.c - bringing up the application processors and giving them work.
 *
 * Start-up: copy the real-mode trampoline below 1 MiB, broadcast INIT and
 * then Startup IPIs (vector = trampoline page) to all CPUs but this one.
 * Each AP goes real -> protected -> long mode (trampoline.S, entry.S),
 * picks its stack by APIC ID and calls ap_main(). APs then sleep in HLT
 * and run on_cpu() work, woken by a fixed IPI.
 */
#include "smp.h"
#include "apic.h"
#include "desc.h"
#include "fwcfg.h"
#include "libc.h"
#include "x86.h"

extern char ap_tramp_start[], ap_tramp_end[];

static volatile int online_count = 1;   /* the BSP */

void __noreturn ap_main(int id);

void __noreturn ap_main(int id)
{
	struct percpu *me;

	cpu_init_descriptors(id);
	apic_enable();
	me = this_cpu();
	me->online = 1;
	__atomic_add_fetch(&online_count, 1, __ATOMIC_RELEASE);

	for (;;) {
		void (*fn)(void *);

		cli();
		fn = __atomic_load_n(&me->work_fn, __ATOMIC_ACQUIRE);
		if (!fn) {
			safe_halt();        /* the wake IPI ends the HLT */
			continue;
		}
		sti();
		fn(me->work_arg);
		__atomic_store_n(&me->work_fn, NULL, __ATOMIC_RELEASE);
	}
}

/* Busy wait; the exact time does not matter under an emulator. */
static void spin(unsigned long n)
{
	while (n--)
		pause();
}

/* Wait up to `loops` polls for `want` CPUs to be online. */
static bool wait_online(int want, unsigned long loops)
{
	while (loops--) {
		if (__atomic_load_n(&online_count, __ATOMIC_ACQUIRE) >= want)
			return true;
		pause();
	}
	return false;
}

static void start_aps(void)
{
	u32 sipi = APIC_DEST_ALL_BUT_SELF | APIC_DM_STARTUP | APIC_ICR_ASSERT |
		   (AP_TRAMPOLINE_ADDR >> 12);
	int want = fwcfg_nb_cpus();

	if (want <= 0 || want > MAX_CPUS)
		want = MAX_CPUS;    /* unknown: wait for the timeout */

	memcpy((void *)AP_TRAMPOLINE_ADDR, ap_tramp_start, ap_tramp_end - ap_tramp_start);

	/* INIT, ~10 ms, SIPI, ~200 us, second SIPI only if someone is missing
	 * (an AP that already runs ignores it anyway). */
	apic_icr_write(APIC_DEST_ALL_BUT_SELF | APIC_DM_INIT | APIC_ICR_ASSERT, 0);
	spin(100000);
	apic_icr_write(sipi, 0);
	if (!wait_online(want, 2000000)) {
		apic_icr_write(sipi, 0);
		wait_online(want, 50000000);
	}
}

int smp_init(void (*fn)(void *arg), void *arg)
{
	static bool started;

	if (!started) {
		started = true;
		start_aps();
	}
	if (fn) {
		for (int i = 0; i < MAX_CPUS; i++)
			if (i != smp_id() && cpu_online(i))
				on_cpu_async(i, fn, arg);
		for (int i = 0; i < MAX_CPUS; i++)
			if (i != smp_id() && cpu_online(i))
				on_cpu_wait(i);
	}
	return cpu_count();
}

int cpu_count(void)
{
	return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE);
}

bool cpu_online(int cpu)
{
	return cpu >= 0 && cpu < MAX_CPUS && percpu[cpu].online;
}

void on_cpu_wait(int cpu)
{
	while (__atomic_load_n(&percpu[cpu].work_fn, __ATOMIC_ACQUIRE))
		pause();
}

void on_cpu_async(int cpu, void (*fn)(void *arg), void *arg)
{
	if (cpu == smp_id()) {
		fn(arg);
		return;
	}
	if (!cpu_online(cpu))
		panic("on_cpu: CPU %d is not online", cpu);
	on_cpu_wait(cpu);               /* previous work must be done */
	percpu[cpu].work_arg = arg;
	__atomic_store_n(&percpu[cpu].work_fn, fn, __ATOMIC_RELEASE);
	apic_send_ipi(cpu, IPI_WAKE_VECTOR);
}

void on_cpu(int cpu, void (*fn)(void *arg), void *arg)
{
	on_cpu_async(cpu, fn, arg);
	if (cpu != smp_id())
		on_cpu_wait(cpu);
}

void spin_lock(spinlock_t *l)
{
	u64 flags = irq_save();

	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			pause();
	l->flags = flags;
}

void spin_unlock(spinlock_t *l)
{
	u64 flags = l->flags;

	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
}
