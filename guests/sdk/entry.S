/*
 * entry.S - Multiboot header and the way from the loader's 32-bit protected
 * mode (paging off) into 64-bit long mode, for the BSP and for the APs.
 *
 * Loader state (Multiboot v1): EAX = 0x2BADB002, EBX = physical address of
 * the multiboot info, flat 4 GiB CS/DS, interrupts off, no usable stack.
 */
#include "layout.h"

#define MB_MAGIC        0x1badb002
#define MB_FLAGS        0x00000003      /* bit0: align modules, bit1: memory info */

#define CR0_PE          (1 << 0)
#define CR0_MP          (1 << 1)        /* WAIT/FWAIT honour TS */
#define CR0_EM          (1 << 2)        /* must be 0 for SSE */
#define CR0_TS          (1 << 3)
#define CR0_NE          (1 << 5)        /* native x87 error reporting */
#define CR0_WP          (1 << 16)       /* supervisor writes honour R/W */
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define CR4_OSFXSR      (1 << 9)        /* FXSAVE/FXRSTOR + SSE enabled */
#define CR4_OSXMMEXCPT  (1 << 10)       /* unmasked SSE exceptions -> #XM */
#define MSR_EFER        0xc0000080
#define EFER_SCE        (1 << 0)
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)
#define PTE_PRW_U       0x7             /* present, writable, user */
#define PDE_2M          0x87            /* present, writable, user, 2 MiB */

/* The header must be in the first 8 KiB of the file: the linker script puts
 * this section first. No a.out kludge (flag 16): QEMU loads the ELF. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.data
	.globl mb_magic, mb_info_phys
mb_magic:       .long 0
mb_info_phys:   .long 0
mxcsr_default:  .long 0x1f80            /* all SSE exceptions masked */

/*
 * GDT. Entries 1..6 are fixed (see layout.h for why in this order); the
 * 16-byte TSS descriptors after them are written by desc.c.
 */
	.balign 16
	.globl gdt, gdt_desc
gdt:
	.quad 0                             /* null */
	.quad 0x00af9a000000ffff            /* KERNEL_CS   64-bit code, DPL0 */
	.quad 0x00cf92000000ffff            /* KERNEL_DS   data, DPL0 */
	.quad 0x00cffa000000ffff            /* USER_CS32   32-bit code, DPL3 */
	.quad 0x00cff2000000ffff            /* USER_DS     data, DPL3 */
	.quad 0x00affa000000ffff            /* USER_CS     64-bit code, DPL3 */
	.quad 0x00cf9a000000ffff            /* KERNEL_CS32 32-bit code, DPL0 */
	.fill 2 * MAX_CPUS, 8, 0            /* TSS descriptors */
gdt_end:
	.balign 8
	.word 0                             /* padding: align the base */
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt                           /* 32-bit LGDT reads the low half */

/* Page tables (identity map of 0..4 GiB) and stacks. Zeroed below. */
	.bss
	.balign 4096
	.globl pml4
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096                  /* one page directory per GiB */
	.balign 16
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
	.globl ap_stacks
ap_stacks:
	.skip MAX_CPUS * AP_STACK_SIZE

/*
 * Shared 32-bit sequence: PAE + SSE enable bits in CR4, our PML4 in CR3,
 * EFER.LME/SCE (+NXE if CPUID reports NX), then CR0.PG. After it the CPU is
 * in long mode's compatibility sub-mode; a far jump to a 64-bit code
 * segment follows. Expects our GDT loaded and DS flat; clobbers EAX-EDX, ESI.
 */
.macro ENTER_LONG_MODE
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	xor %esi, %esi
	mov $0x80000001, %eax
	cpuid
	bt $20, %edx                        /* NX supported? */
	jnc 1f
	mov $EFER_NXE, %esi
1:	mov $MSR_EFER, %ecx
	rdmsr
	or $(EFER_LME | EFER_SCE), %eax
	or %esi, %eax
	wrmsr
	mov %cr0, %eax
	and $~(CR0_EM | CR0_TS), %eax
	or $(CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_PE), %eax
	mov %eax, %cr0
.endm

/* 64-bit common setup: data segments, x87/SSE state (NO_SSE: the SDK
 * build for -mgeneral-regs-only guests executes no x87/SSE instruction). */
.macro LOAD_SEGMENTS_64
	mov $KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs                        /* GS base is set later via MSR */
#ifndef NO_SSE
	fninit
	ldmxcsr mxcsr_default(%rip)
#endif
.endm

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, mb_magic                  /* loader's DS is flat */
	mov %ebx, mb_info_phys
	lgdt gdt_desc
	mov $KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	ljmp $KERNEL_CS32, $1f              /* leave the loader's CS */
1:
	/* Zero .bss ourselves instead of trusting the loader. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	mov $(pdpt + PTE_PRW_U), %eax
	mov %eax, pml4
	mov $(pd + PTE_PRW_U), %eax
	mov $pdpt, %edi
	mov $4, %ecx
2:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 2b

	/* 2048 PDEs of 2 MiB each cover 0..4 GiB (incl. the APIC page). */
	mov $PDE_2M, %eax
	mov $pd, %edi
	mov $2048, %ecx
3:	mov %eax, (%edi)                    /* high dword stays 0 */
	add $0x200000, %eax
	add $8, %edi
	loop 3b

	ENTER_LONG_MODE
	ljmp $KERNEL_CS, $start64

	.code64
start64:
	LOAD_SEGMENTS_64
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp
	call sdk_main                       /* never returns */
4:	cli
	hlt
	jmp 4b

/*
 * AP path. The real-mode trampoline (trampoline.S) loaded our GDT, set
 * CR0.PE and jumped here with CS = KERNEL_CS32; DS still holds a real-mode
 * value, so reload the segments before touching memory.
 */
	.code32
	.globl ap_start32
ap_start32:
	mov $KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	ENTER_LONG_MODE
	ljmp $KERNEL_CS, $ap_start64

	.code64
ap_start64:
	LOAD_SEGMENTS_64
	/* Stack by initial APIC ID (CPUID.1:EBX[31:24]), so any number of
	 * APs may run this at the same time. */
	mov $1, %eax
	cpuid
	shr $24, %ebx
	cmp $MAX_CPUS, %ebx
	jae 6f
	lea 1(%rbx), %rax
	imul $AP_STACK_SIZE, %rax
	add $ap_stacks, %rax
	mov %rax, %rsp
	mov %ebx, %edi
	xor %ebp, %ebp
	call ap_main                        /* never returns */
6:	cli
	hlt
	jmp 6b

	.section .note.GNU-stack, "", @progbits
