/*
 * x86.h - thin inline wrappers around privileged and special instructions:
 * port I/O, MSRs, control registers, CPUID, interrupt flag, TLB.
 */
#ifndef VSMRR_X86_H
#define VSMRR_X86_H

#include "types.h"

/* RFLAGS bits */
#define X86_EFLAGS_CF   (1ul << 0)
#define X86_EFLAGS_PF   (1ul << 2)
#define X86_EFLAGS_ZF   (1ul << 6)
#define X86_EFLAGS_SF   (1ul << 7)
#define X86_EFLAGS_TF   (1ul << 8)
#define X86_EFLAGS_IF   (1ul << 9)
#define X86_EFLAGS_DF   (1ul << 10)
#define X86_EFLAGS_OF   (1ul << 11)
#define X86_EFLAGS_AC   (1ul << 18)

/* Control register bits */
#define X86_CR0_PE      (1ul << 0)
#define X86_CR0_MP      (1ul << 1)
#define X86_CR0_EM      (1ul << 2)
#define X86_CR0_TS      (1ul << 3)
#define X86_CR0_NE      (1ul << 5)
#define X86_CR0_WP      (1ul << 16)
#define X86_CR0_PG      (1ul << 31)
#define X86_CR4_PAE     (1ul << 5)
#define X86_CR4_OSFXSR  (1ul << 9)
#define X86_CR4_OSXMMEXCPT (1ul << 10)

/* MSRs */
#define MSR_APIC_BASE       0x0000001b
#define MSR_EFER            0xc0000080
#define MSR_STAR            0xc0000081
#define MSR_LSTAR           0xc0000082
#define MSR_CSTAR           0xc0000083
#define MSR_SFMASK          0xc0000084
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102
#define EFER_SCE            (1ul << 0)
#define EFER_LME            (1ul << 8)
#define EFER_LMA            (1ul << 10)
#define EFER_NXE            (1ul << 11)

/* Exception vectors */
#define DE_VECTOR  0
#define DB_VECTOR  1
#define NMI_VECTOR 2
#define BP_VECTOR  3
#define OF_VECTOR  4
#define BR_VECTOR  5
#define UD_VECTOR  6
#define NM_VECTOR  7
#define DF_VECTOR  8
#define TS_VECTOR  10
#define NP_VECTOR  11
#define SS_VECTOR  12
#define GP_VECTOR  13
#define PF_VECTOR  14
#define MF_VECTOR  16
#define AC_VECTOR  17
#define MC_VECTOR  18
#define XM_VECTOR  19

/* #PF error code bits */
#define PFERR_PRESENT   (1u << 0)
#define PFERR_WRITE     (1u << 1)
#define PFERR_USER      (1u << 2)
#define PFERR_RSVD      (1u << 3)
#define PFERR_FETCH     (1u << 4)

static inline void outb(u16 port, u8 v)  { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8  inb(u16 port) { u8 v;  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((u64)hi << 32);
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid { u32 a, b, c, d; };

static inline struct cpuid cpuid_count(u32 leaf, u32 sub)
{
	struct cpuid r;
	asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
		     : "a"(leaf), "c"(sub));
	return r;
}

static inline struct cpuid cpuid(u32 leaf) { return cpuid_count(leaf, 0); }

#define DEFINE_CR(n) \
static inline u64 read_cr##n(void) { u64 v; asm volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
static inline void write_cr##n(u64 v) { asm volatile("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 read_rflags(void)
{
	u64 f;
	asm volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline u16 read_cs(void) { u16 v; asm volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline u16 read_ss(void) { u16 v; asm volatile("mov %%ss, %0" : "=r"(v)); return v; }

static inline void cli(void) { asm volatile("cli" ::: "memory"); }
static inline void sti(void) { asm volatile("sti" ::: "memory"); }
static inline void hlt(void) { asm volatile("hlt" ::: "memory"); }
static inline void pause(void) { asm volatile("pause" ::: "memory"); }
/* STI's one-instruction interrupt shadow makes "sti; hlt" race free: an
 * interrupt that became pending before STI wakes the HLT. */
static inline void safe_halt(void) { asm volatile("sti; hlt" ::: "memory"); }

static inline u64 irq_save(void) { u64 f = read_rflags(); cli(); return f; }
static inline void irq_restore(u64 f) { if (f & X86_EFLAGS_IF) sti(); }

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((u64)hi << 32);
}

static inline void invlpg(const volatile void *va)
{
	asm volatile("invlpg (%0)" :: "r"(va) : "memory");
}

static inline void flush_tlb(void) { write_cr3(read_cr3()); }

#endif
