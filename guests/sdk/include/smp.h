/*
 * smp.h - starting application processors and running work on them.
 */
#ifndef VSMRR_SMP_H
#define VSMRR_SMP_H

#include "types.h"

/*
 * Start every AP with INIT-SIPI-SIPI (broadcast to all but self), wait until
 * the number of CPUs fw_cfg reports is online (or a timeout), then run
 * fn(arg) on every AP concurrently and wait for all to return. fn may be
 * NULL. Returns the number of online CPUs, the BSP included.
 * APs then idle in HLT and accept work from on_cpu().
 */
int smp_init(void (*fn)(void *arg), void *arg);
int cpu_count(void);
bool cpu_online(int cpu);

/* Run fn(arg) on `cpu` (wakes it with an IPI) and wait for it to return. */
void on_cpu(int cpu, void (*fn)(void *arg), void *arg);
/* Same without waiting; on_cpu_wait() waits for that CPU's work to end. */
void on_cpu_async(int cpu, void (*fn)(void *arg), void *arg);
void on_cpu_wait(int cpu);

/* Spinlock; lock() also disables interrupts (restored by unlock()), so a
 * handler on the same CPU cannot deadlock on it. */
typedef struct {
	volatile int locked;
	u64 flags;
} spinlock_t;

void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

#endif
