/*
 * apic.h - local APIC access in xAPIC (MMIO) mode, IPIs and the timer.
 */
#ifndef VSMRR_APIC_H
#define VSMRR_APIC_H

#include "types.h"

#define APIC_BASE_ADDR  0xfee00000ul

/* Register offsets in the xAPIC page */
#define APIC_ID         0x020
#define APIC_LVR        0x030
#define APIC_TPR        0x080
#define APIC_PPR        0x0a0
#define APIC_EOI        0x0b0
#define APIC_LDR        0x0d0
#define APIC_SVR        0x0f0
#define APIC_ISR        0x100   /* 8 registers, 0x10 apart */
#define APIC_TMR        0x180
#define APIC_IRR        0x200
#define APIC_ESR        0x280
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define APIC_LVT_TIMER  0x320
#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_LVT_ERROR  0x370
#define APIC_TIMER_ICR  0x380   /* initial count */
#define APIC_TIMER_CCR  0x390   /* current count */
#define APIC_TIMER_DCR  0x3e0   /* divide configuration */

#define APIC_SVR_ENABLE         (1u << 8)
#define APIC_LVT_MASKED         (1u << 16)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)

/* ICR low word */
#define APIC_DM_FIXED           0x000
#define APIC_DM_NMI             0x400
#define APIC_DM_INIT            0x500
#define APIC_DM_STARTUP         0x600
#define APIC_ICR_BUSY           (1u << 12)
#define APIC_ICR_ASSERT         (1u << 14)
#define APIC_ICR_LEVEL          (1u << 15)
#define APIC_DEST_SELF          (1u << 18)
#define APIC_DEST_ALL           (2u << 18)
#define APIC_DEST_ALL_BUT_SELF  (3u << 18)

/* Vectors the SDK itself uses. Tests should use 0x20..0xdf. */
#define APIC_SPURIOUS_VECTOR    0xff
#define IPI_WAKE_VECTOR         0xf0

static inline u32 apic_read(u32 reg)
{
	return *(volatile u32 *)(APIC_BASE_ADDR + reg);
}

static inline void apic_write(u32 reg, u32 val)
{
	*(volatile u32 *)(APIC_BASE_ADDR + reg) = val;
}

static inline void apic_eoi(void) { apic_write(APIC_EOI, 0); }
static inline u32 apic_id(void) { return apic_read(APIC_ID) >> 24; }

/* Test a vector's bit in the 256-bit ISR/IRR/TMR register arrays. */
static inline bool apic_vector_bit(u32 base, u8 vec)
{
	return (apic_read(base + (vec / 32) * 0x10) >> (vec % 32)) & 1;
}

/* Software-enable this CPU's APIC (SVR) with the spurious vector. */
void apic_enable(void);
/* Write ICR (high word first) and wait for delivery. */
void apic_icr_write(u32 lo, u32 dest);
/* Fixed-mode IPI of `vector` to the APIC with ID `dest`. */
void apic_send_ipi(u32 dest, u8 vector);
/* Timer: divide is the real divisor (1,2,4,...,128); count 0 stops. */
void apic_timer_periodic(u8 vector, u32 count, u32 divide);
void apic_timer_oneshot(u8 vector, u32 count, u32 divide);
void apic_timer_stop(void);

#endif
