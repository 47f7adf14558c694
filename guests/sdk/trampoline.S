/*
 * trampoline.S - real-mode start code for application processors.
 *
 * A Startup IPI with vector V starts an AP in real mode at CS:IP = V*0x100:0,
 * i.e. physical V*0x1000. smp.c copies the bytes between ap_tramp_start and
 * ap_tramp_end to AP_TRAMPOLINE_ADDR (below 1 MiB). The code only loads the
 * GDT, enables protected mode and jumps to ap_start32 in the kernel image
 * (entry.S), which does the rest; so it uses no absolute addresses except
 * the ones that stay valid after the copy (the GDT and ap_start32).
 */
#include "layout.h"

	.section .rodata, "a"
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds                        /* DS base = trampoline base */
	lgdtl (ap_tramp_gdtr - ap_tramp_start)
	mov %cr0, %eax
	or $1, %eax                         /* CR0.PE */
	mov %eax, %cr0
	ljmpl $KERNEL_CS32, $ap_start32     /* 32-bit offset: above 1 MiB */

	.balign 4
	.word 0
ap_tramp_gdtr:
	.word GDT_ENTRIES * 8 - 1
	.long gdt
ap_tramp_end:

	.section .note.GNU-stack, "", @progbits
