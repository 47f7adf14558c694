/*
 * hello.c - the smallest useful guest: prints where it runs and checks the
 * boot state the SDK promises (long mode, Multiboot info, fw_cfg).
 */
#include "vsmrr.h"

static void cpu_vendor(char out[13])
{
	struct cpuid r = cpuid(0);

	memcpy(out, &r.b, 4);
	memcpy(out + 4, &r.d, 4);
	memcpy(out + 8, &r.c, 4);
	out[12] = '\0';
}

int main(int argc, char **argv)
{
	char vendor[13];
	u64 mb_ram = 0, fw_ram;
	struct multiboot_mmap e;

	printf("Hello from vsmrr guest\n");
	printf("cmdline: \"%s\"\n", mb_cmdline());
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = \"%s\"\n", i, argv[i]);

	report(mb_magic == MULTIBOOT_BOOTLOADER_MAGIC, "multiboot magic %x", mb_magic);
	if (mb_info.flags & MB_INFO_MEMORY) {
		mb_ram = ((u64)mb_info.mem_upper + 1024) * 1024;
		printf("multiboot: mem_lower %u KiB, mem_upper %u KiB (%lu MiB up to the first hole)\n",
		       mb_info.mem_lower, mb_info.mem_upper, mb_ram >> 20);
	}
	report(mb_info.flags & MB_INFO_MEMORY, "multiboot memory info present");
	for (int i = 0; mb_mmap_entry(i, &e); i++)
		printf("mmap[%d]: %016lx-%016lx type %u\n", i, e.addr, e.addr + e.len - 1, e.type);

	report(fwcfg_present(), "fw_cfg signature \"QEMU\"");
	fw_ram = fwcfg_ram_size();
	printf("fw_cfg: RAM %lu MiB, %d CPU(s)\n", fw_ram >> 20, fwcfg_nb_cpus());
	report(fw_ram && mb_ram && mb_ram <= fw_ram,
	       "multiboot memory (%lu KiB) <= fw_cfg RAM size (%lu KiB)",
	       mb_ram >> 10, fw_ram >> 10);

	cpu_vendor(vendor);
	printf("CPU vendor: %s\n", vendor);
	report(vendor[0] != '\0', "cpuid vendor string is not empty");
	report(rdmsr(MSR_EFER) & EFER_LMA, "long mode active (EFER.LMA)");
	report((read_cs() & 3) == 0, "running at CPL0");
	report(read_cr4() & X86_CR4_OSFXSR, "SSE enabled (CR4.OSFXSR)");
	report(apic_id() == (u32)smp_id(), "APIC ID %u matches CPUID initial APIC ID", apic_id());

	return report_summary();
}
