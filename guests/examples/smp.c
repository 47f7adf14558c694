/*
 * smp.c - start all APs (INIT-SIPI-SIPI), let each one report its APIC ID,
 * then check the CPU count against fw_cfg, run work on every CPU with IPIs
 * and hammer a spinlock-protected counter from all CPUs at once.
 */
#include "vsmrr.h"

#define LOCK_ROUNDS 20000

static spinlock_t lock;
static int started;             /* APs that ran ap_hello, under lock */
static u64 seen_mask;           /* bit per APIC ID, under lock */
static bool ids_ok = true;      /* under lock */
static u64 counter;             /* under lock */
static u64 atomic_counter;      /* lock-free */
static volatile bool go;

static void ap_hello(void *arg)
{
	u32 id = apic_id();

	spin_lock(&lock);
	printf("AP %d: APIC ID %u, CPUID initial APIC ID %u\n",
	       smp_id(), id, cpuid(1).b >> 24);
	started++;
	if (id != (u32)smp_id() || (seen_mask & (1ull << id)))
		ids_ok = false;
	seen_mask |= 1ull << id;
	spin_unlock(&lock);
}

/* Work sent with on_cpu(): write our ID where the sender asked. */
static void store_id(void *arg)
{
	*(volatile u32 *)arg = apic_id();
}

/* Every CPU adds LOCK_ROUNDS to both counters, all at the same time. */
static void hammer(void *arg)
{
	while (!go)
		pause();
	for (int i = 0; i < LOCK_ROUNDS; i++) {
		spin_lock(&lock);
		counter++;
		spin_unlock(&lock);
		__atomic_add_fetch(&atomic_counter, 1, __ATOMIC_RELAXED);
	}
}

int main(void)
{
	int want = fwcfg_nb_cpus();
	int n;

	printf("fw_cfg reports %d CPU(s)\n", want);
	n = smp_init(ap_hello, NULL);
	printf("%d CPU(s) online\n", n);

	report(want > 0, "fw_cfg NB_CPUS = %d", want);
	report(n == want, "online CPUs (%d) = fw_cfg NB_CPUS (%d)", n, want);
	report(started == n - 1, "callback ran on every AP (%d)", started);
	report(ids_ok, "each AP has a distinct APIC ID equal to its CPU index");
	report(seen_mask == ((1ull << n) - 1) - 1,
	       "APIC IDs are 1..%d (mask %lx)", n - 1, seen_mask);

	/* on_cpu: one IPI-driven call per AP, results come back in memory. */
	bool on_cpu_ok = true;
	for (int cpu = 0; cpu < n; cpu++) {
		volatile u32 got = ~0u;
		on_cpu(cpu, store_id, (void *)&got);
		if (got != (u32)cpu)
			on_cpu_ok = false;
	}
	report(on_cpu_ok, "on_cpu() ran on each of the %d CPUs", n);

	/* Contention: all CPUs at once. */
	for (int cpu = 1; cpu < n; cpu++)
		on_cpu_async(cpu, hammer, NULL);
	go = true;
	hammer(NULL);
	for (int cpu = 1; cpu < n; cpu++)
		on_cpu_wait(cpu);
	report(counter == (u64)n * LOCK_ROUNDS, "spinlock counter %lu = %d * %d",
	       counter, n, LOCK_ROUNDS);
	report(atomic_counter == (u64)n * LOCK_ROUNDS, "lock add counter %lu = %d * %d",
	       atomic_counter, n, LOCK_ROUNDS);

	return report_summary();
}
