/*
 * vm.c - editing the boot identity map. entry.S maps 0..4 GiB with 2 MiB
 * pages; tests that need 4 KiB granularity split one 2 MiB page into a
 * page table with the same translation and attributes first.
 *
 * TLB: only this CPU's TLB is flushed. Tests that change mappings other
 * CPUs use must flush there too.
 */
#include "vm.h"
#include "x86.h"
#include "libc.h"

#define PT_POOL_PAGES 16

static u64 pt_pool[PT_POOL_PAGES][512] __aligned(4096);
static int pt_pool_used;

static u64 *table_of(u64 entry)
{
	return (u64 *)(entry & PT_ADDR_MASK);   /* identity mapped */
}

u64 *vm_lookup(u64 va, int *level)
{
	u64 *pml4 = (u64 *)(read_cr3() & PT_ADDR_MASK);
	u64 *e = &pml4[(va >> 39) & 511];

	if (!(*e & PT_PRESENT))
		return NULL;
	e = &table_of(*e)[(va >> 30) & 511];    /* PDPTE (no 1 GiB pages here) */
	if (!(*e & PT_PRESENT))
		return NULL;
	e = &table_of(*e)[(va >> 21) & 511];    /* PDE */
	if (*e & PT_PS) {
		*level = 2;
		return e;
	}
	if (!(*e & PT_PRESENT))
		return NULL;
	*level = 1;
	return &table_of(*e)[(va >> 12) & 511];
}

/* Replace the 2 MiB PDE by a table of 512 4 KiB PTEs mapping the same. */
static void split_large_page(u64 *pde)
{
	u64 *pt;
	/* In a 2 MiB PDE bit 12 is PAT; in a PTE PAT is bit 7 (= PS). */
	u64 flags = *pde & (PT_NX | 0x17f) & ~PT_PS;
	u64 base = *pde & PT_ADDR_MASK & ~(LARGE_PAGE_SIZE - 1);

	if (*pde & (1ull << 12))
		flags |= 1ull << 7;
	if (pt_pool_used == PT_POOL_PAGES)
		panic("vm: page table pool exhausted");
	pt = pt_pool[pt_pool_used++];
	for (int i = 0; i < 512; i++)
		pt[i] = (base + i * PAGE_SIZE) | flags;
	/* Upper-level entries stay permissive; the PTEs decide. */
	*pde = (u64)pt | PT_PRESENT | PT_WRITE | PT_USER;
	flush_tlb();
}

u64 *vm_pte_4k(u64 va)
{
	int level;
	u64 *e = vm_lookup(va, &level);

	if (!e)
		panic("vm: %lx is not mapped", va);
	if (level == 2) {
		split_large_page(e);
		e = vm_lookup(va, &level);
	}
	return e;
}

void vm_set_flags(u64 va, u64 set, u64 clear)
{
	u64 *pte = vm_pte_4k(va);

	*pte = (*pte & ~clear) | set;
	invlpg((void *)va);
}
