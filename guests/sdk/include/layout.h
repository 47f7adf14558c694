/*
 * layout.h - constants shared between the assembly (.S) and C parts of the
 * SDK. Only #defines here: this file is included from assembly too.
 */
#ifndef VSMRR_LAYOUT_H
#define VSMRR_LAYOUT_H

/* Highest number of CPUs (APIC IDs 0..MAX_CPUS-1) the SDK can start. */
#define MAX_CPUS            32

/* Stacks. The BSP stack and per-AP stacks live in .bss. */
#define BOOT_STACK_SIZE     0x10000     /* BSP: 64 KiB */
#define AP_STACK_SIZE       0x4000      /* each AP: 16 KiB */
#define IST_STACK_SIZE      0x2000      /* #DF stack per CPU (IST1) */

/*
 * GDT layout. The order of the user entries is dictated by SYSRET:
 * with STAR[63:48] = USER_CS32, 64-bit SYSRET loads CS = USER_CS32 + 16
 * and SS = USER_CS32 + 8 (both with RPL 3). SYSCALL loads CS = KERNEL_CS
 * and SS = KERNEL_CS + 8, so kernel data must follow kernel code.
 */
#define KERNEL_CS           0x08        /* 64-bit code, DPL0 */
#define KERNEL_DS           0x10        /* flat data, DPL0 */
#define USER_CS32           0x18        /* 32-bit code, DPL3 (SYSRET base) */
#define USER_DS             0x20        /* flat data, DPL3 */
#define USER_CS             0x28        /* 64-bit code, DPL3 */
#define KERNEL_CS32         0x30        /* 32-bit code, DPL0 (boot, APs) */
#define TSS_SEL_BASE        0x38        /* CPU n's TSS: TSS_SEL_BASE + 16*n */
#define GDT_ENTRIES         (7 + 2 * MAX_CPUS)

/* Where the AP real-mode trampoline is copied (SIPI vector = addr >> 12). */
#define AP_TRAMPOLINE_ADDR  0x8000

/* Byte offsets inside struct percpu (checked by _Static_assert in desc.c). */
#define PERCPU_SELF         0
#define PERCPU_SYSCALL_RSP  8   /* kernel stack used by the SYSCALL entry */
#define PERCPU_USER_RSP     16  /* user RSP saved by the SYSCALL entry */
#define PERCPU_USER_RET_RSP 24  /* kernel RSP to resume when user code ends */
#define PERCPU_TSS          128 /* struct tss; RSP0 is at +4 */

/* Exit codes used by the SDK itself. */
#define EXIT_PASS           0
#define EXIT_FAIL           1
#define EXIT_UNHANDLED      3   /* exception without handler or fixup */
#define EXIT_PANIC          4   /* assertion or setup failure */

#endif
