/*
 * multiboot.h - the Multiboot v1 information the loader passes in EBX, and
 * a copy of the parts the SDK keeps (the original may be overwritten).
 */
#ifndef VSMRR_MULTIBOOT_H
#define VSMRR_MULTIBOOT_H

#include "types.h"

#define MULTIBOOT_BOOTLOADER_MAGIC  0x2badb002

#define MB_INFO_MEMORY   (1u << 0)
#define MB_INFO_CMDLINE  (1u << 2)
#define MB_INFO_MMAP     (1u << 6)

struct multiboot_info {
	u32 flags;
	u32 mem_lower;          /* KiB below 1 MiB */
	u32 mem_upper;          /* KiB above 1 MiB (up to the first hole) */
	u32 boot_device;
	u32 cmdline;            /* physical address of a C string */
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __packed;

/* Memory map entry; `size` does not count itself. */
struct multiboot_mmap {
	u32 size;
	u64 addr, len;
	u32 type;               /* 1 = usable RAM */
} __packed;

/* Values captured at boot (valid for the whole run). */
extern u32 mb_magic;                    /* EAX at entry */
extern struct multiboot_info mb_info;   /* copy of *EBX; flags 0 if none */

/* Kernel command line ("" if none). QEMU passes "IMAGE args...". */
const char *mb_cmdline(void);
/* Value of "key=value" on the command line, or `def` if absent. */
unsigned long cmdline_ulong(const char *key, unsigned long def);
/* Copy the value of "key=value" into buf; false if absent. */
bool cmdline_str(const char *key, char *buf, size_t size);
/* Iterate the memory map copy: returns false past the end. */
bool mb_mmap_entry(int i, struct multiboot_mmap *out);

#endif
