/*
 * vm.h - changing the boot identity map (4 GiB, 2 MiB pages) at run time:
 * split a 2 MiB page into 512 4 KiB pages and edit single entries.
 */
#ifndef VSMRR_VM_H
#define VSMRR_VM_H

#include "types.h"

#define PT_PRESENT   (1ull << 0)
#define PT_WRITE     (1ull << 1)
#define PT_USER      (1ull << 2)
#define PT_PWT       (1ull << 3)
#define PT_PCD       (1ull << 4)
#define PT_ACCESSED  (1ull << 5)
#define PT_DIRTY     (1ull << 6)
#define PT_PS        (1ull << 7)    /* large page, in a PDE */
#define PT_GLOBAL    (1ull << 8)
#define PT_NX        (1ull << 63)
#define PT_ADDR_MASK 0x000ffffffffff000ull

#define PAGE_SIZE      4096ul
#define LARGE_PAGE_SIZE (2ul << 20)

/* Pointer to the entry that maps va (a PDE for a 2 MiB page, else a PTE);
 * *level is set to 2 or 1. NULL if va is not mapped. */
u64 *vm_lookup(u64 va, int *level);
/* Make sure va is mapped by a 4 KiB PTE and return a pointer to it. */
u64 *vm_pte_4k(u64 va);
/* Set and clear flag bits of va's 4 KiB PTE and flush the TLB entry. */
void vm_set_flags(u64 va, u64 set, u64 clear);

#endif
