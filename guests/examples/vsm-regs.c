/*
 * vsm-regs.c - HvCallGetVpRegisters / HvCallSetVpRegisters (spec/vsm.md §2.5,
 * §3) in the memory and XMM-fast forms: own registers against what the CPU
 * says, rep calls, the TLFS HV_REGISTER_ASSOC element layout, negative
 * cases, the generic hypercall-input rules of §1.3 exercised through these
 * calls, cross-VTL access (VTL0 may not touch VTL1; VTL1 may read and write
 * VTL0), and other VPs: a second VP started with HvCallStartVirtualProcessor
 * (§2.8, falling back to INIT/SIPI), HvCallGetVpIndexFromApicId (§2.9),
 * remote reads and writes from VTL0 and VTL1. Run with -smp 2 for the last
 * part.
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define MSR_PAT 0x277
#define KGS_A   0xffff8000aaaa0000ul
#define KGS_B   0xffff8000bbbb0000ul
#define LSTAR_A 0xffff8000cccc0000ul
#define CSTAR_A 0xffff8000dddd0000ul
#define BAD_NAME 0xacacacacu

extern u64 gdt[];               /* entry.S */

static union hv_register_value rv(u64 lo) { return (union hv_register_value){ { lo, 0 } }; }

static u64 get1(u8 vtl, u32 vp, u32 name, u16 *status)
{
	u64 v = 0;

	*status = hv_get_reg(vp, vtl, name, &v);
	return v;
}

static void expect_seg(const struct hv_x64_segment_register *s, u16 sel,
		       struct hv_x64_segment_register *e)
{
	u64 d = gdt[sel >> 3];
	u32 limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);

	e->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	e->limit = (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;
	e->selector = sel;
	e->attributes = ((d >> 40) & 0xffff) & ~0x0f00;
	(void)s;
}

/* ---- A: own registers ---- */

static void test_own_registers(void)
{
	struct { const char *name; u32 reg; u64 want; } t[] = {
		{ "CR0", HV_X64_REGISTER_CR0, read_cr0() },
		{ "CR3", HV_X64_REGISTER_CR3, read_cr3() },
		{ "CR4", HV_X64_REGISTER_CR4, read_cr4() },
		{ "EFER", HV_X64_REGISTER_EFER, rdmsr(MSR_EFER) },
		{ "PAT", HV_X64_REGISTER_PAT, rdmsr(MSR_PAT) },
		{ "LSTAR", HV_X64_REGISTER_LSTAR, LSTAR_A },
		{ "KernelGsBase", HV_X64_REGISTER_KERNEL_GS_BASE, KGS_A },
		{ "ApicBase", HV_X64_REGISTER_APIC_BASE, rdmsr(MSR_APIC_BASE) },
		{ "VpIndex (synthetic)", HV_REGISTER_VP_INDEX, rdmsr(HV_X64_MSR_VP_INDEX) },
		{ "GuestOsId (synthetic)", HV_REGISTER_GUEST_OS_ID, HV_GUEST_OS_ID_VTL0 },
		{ "Hypercall (synthetic)", HV_REGISTER_HYPERCALL, rdmsr(HV_X64_MSR_HYPERCALL) },
		{ "VpAssistPage (synthetic)", HV_REGISTER_VP_ASSIST_PAGE, rdmsr(HV_X64_MSR_VP_ASSIST_PAGE) },
	};
	struct { u16 limit; u64 base; } __attribute__((packed)) gd, id;
	union hv_register_value v[4];
	struct hv_x64_segment_register e;
	u32 names[4] = { HV_X64_REGISTER_CS, HV_X64_REGISTER_GS, HV_X64_REGISTER_GDTR, HV_X64_REGISTER_IDTR };
	u64 r;

	wrmsr(MSR_LSTAR, LSTAR_A);
	wrmsr(MSR_KERNEL_GS_BASE, KGS_A);
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		u16 s;
		u64 got = get1(HV_INPUT_VTL_CURRENT, HV_VP_INDEX_SELF, t[i].reg, &s);

		report(s == 0 && got == t[i].want, "GetVpRegisters(self, own VTL) %s (%x): %s, %lx "
		       "(CPU says %lx)", t[i].name, t[i].reg, hv_status_name(s), got, t[i].want);
	}
	r = hv_get_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, names, 4, v);
	asm volatile("sgdt %0" : "=m"(gd));
	asm volatile("sidt %0" : "=m"(id));
	expect_seg(&v[0].seg, KERNEL_CS, &e);
	report(hv_status(r) == 0 && v[0].seg.base == e.base && v[0].seg.limit == e.limit &&
	       v[0].seg.selector == e.selector && v[0].seg.attributes == e.attributes,
	       "GetVpRegisters CS: base %lx limit %x sel %x attr %x (want %lx %x %x %x)",
	       v[0].seg.base, v[0].seg.limit, v[0].seg.selector, v[0].seg.attributes, e.base, e.limit,
	       e.selector, e.attributes);
	report(v[1].seg.base == rdmsr(MSR_GS_BASE) && v[1].seg.selector == 0,
	       "GetVpRegisters GS: base %lx (GS_BASE MSR %lx), selector %x", v[1].seg.base,
	       rdmsr(MSR_GS_BASE), v[1].seg.selector);
	report(v[2].table.base == gd.base && v[2].table.limit == gd.limit && v[3].table.base == id.base &&
	       v[3].table.limit == id.limit,
	       "GetVpRegisters GDTR %lx/%x IDTR %lx/%x (SGDT %lx/%x, SIDT %lx/%x)", v[2].table.base,
	       v[2].table.limit, v[3].table.base, v[3].table.limit, gd.base, gd.limit, id.base, id.limit);
}

/* ---- B/C: rep and fast forms, Set ---- */

static void test_forms(void)
{
	u32 names[5] = { HV_X64_REGISTER_CR0, HV_X64_REGISTER_CR3, HV_X64_REGISTER_CR4,
			 HV_X64_REGISTER_EFER, HV_REGISTER_VP_INDEX };
	u64 want[5] = { read_cr0(), read_cr3(), read_cr4(), rdmsr(MSR_EFER), rdmsr(HV_X64_MSR_VP_INDEX) };
	union hv_register_value v[5], s[4];
	bool xmm_in = hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_INPUT;
	bool xmm_out = hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_OUTPUT;
	u32 snames[4] = { HV_X64_REGISTER_KERNEL_GS_BASE, HV_X64_REGISTER_LSTAR,
			  HV_X64_REGISTER_CSTAR, HV_X64_REGISTER_SFMASK };
	u64 r;
	bool ok = true;

	memset(v, 0, sizeof(v));
	r = hv_get_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, names, 5, v);
	for (int i = 0; i < 5; i++)
		ok &= v[i].q[0] == want[i] && v[i].q[1] == 0;
	report(hv_status(r) == 0 && hv_reps(r) == 5 && ok,
	       "rep GetVpRegisters, 5 names in one memory call: %s, reps %u, values %lx %lx %lx %lx %lx",
	       hv_status_name(hv_status(r)), hv_reps(r), v[0].q[0], v[1].q[0], v[2].q[0], v[3].q[0],
	       v[4].q[0]);

	/* §2.5: the TLFS element is name, 12 reserved bytes, value (32 bytes),
	 * interleaved; two registers in one memory call show the layout. */
	s[0] = rv(KGS_B);
	s[1] = rv(LSTAR_A + 0x1000);
	r = hv_set_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, snames, s, 2);
	report(hv_status(r) == 0 && hv_reps(r) == 2 && rdmsr(MSR_KERNEL_GS_BASE) == KGS_B &&
	       rdmsr(MSR_LSTAR) == LSTAR_A + 0x1000,
	       "SetVpRegisters, 2 HV_REGISTER_ASSOC elements (interleaved name/value): %s, reps %u; "
	       "KERNEL_GS_BASE %lx LSTAR %lx", hv_status_name(hv_status(r)), hv_reps(r),
	       rdmsr(MSR_KERNEL_GS_BASE), rdmsr(MSR_LSTAR));

	if (!(xmm_in && xmm_out)) {
		report_skip("XMM fast Get/Set: XMM hypercall input/output not both advertised (EDX %x)",
			    hv_info.features_edx);
		return;
	}
	memset(v, 0, sizeof(v));
	r = hv_get_vp_registers_fast(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, names, 4, v);
	ok = true;
	for (int i = 0; i < 4; i++)
		ok &= v[i].q[0] == want[i];
	report(hv_status(r) == 0 && hv_reps(r) == 4 && ok,
	       "fast GetVpRegisters, 4 names (names in XMM0, values in XMM1..4): %s, reps %u, "
	       "values %lx %lx %lx %lx", hv_status_name(hv_status(r)), hv_reps(r), v[0].q[0],
	       v[1].q[0], v[2].q[0], v[3].q[0]);
	hv_report_failure(hv_get_vp_registers_fast(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
						   HV_INPUT_VTL_CURRENT, names, 5, v),
			  "fast GetVpRegisters with 5 names (do not fit in XMM0..5)");
	s[0] = rv(KGS_A);
	s[1] = rv(LSTAR_A);
	s[2] = rv(CSTAR_A);
	r = hv_set_vp_registers_fast(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, snames, s, 3);
	report(hv_status(r) == 0 && hv_reps(r) == 3 && rdmsr(MSR_KERNEL_GS_BASE) == KGS_A &&
	       rdmsr(MSR_LSTAR) == LSTAR_A && rdmsr(MSR_CSTAR) == CSTAR_A,
	       "fast SetVpRegisters, 3 elements (name XMM(2i), value XMM(2i+1)): %s, reps %u; "
	       "%lx %lx %lx", hv_status_name(hv_status(r)), hv_reps(r), rdmsr(MSR_KERNEL_GS_BASE),
	       rdmsr(MSR_LSTAR), rdmsr(MSR_CSTAR));
	s[3] = rv(0x300);
	hv_report_failure(hv_set_vp_registers_fast(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
						   HV_INPUT_VTL_CURRENT, snames, s, 4),
			  "fast SetVpRegisters with 4 elements (128 bytes > 112)");
	wrmsr(MSR_CSTAR, 0);
}

/* ---- D: negative cases ---- */

static void test_negative(void)
{
	u32 names[3] = { HV_X64_REGISTER_CR0, HV_X64_REGISTER_CR3, HV_X64_REGISTER_CR4 };
	union hv_register_value v[3] = { rv(read_cr0()), rv(read_cr3()), rv(read_cr4()) };
	bool fast_ok = (hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_INPUT) &&
		       (hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_OUTPUT);
	u64 r;

	for (int fast = 0; fast < 1 + fast_ok; fast++) {
		const char *f = fast ? "fast" : "memory";
		u64 (*get)(u64, u32, u8, const u32 *, int, union hv_register_value *) =
			fast ? hv_get_vp_registers_fast : hv_get_vp_registers;
		u64 (*set)(u64, u32, u8, const u32 *, const union hv_register_value *, int) =
			fast ? hv_set_vp_registers_fast : hv_set_vp_registers;
		u32 bad[3] = { BAD_NAME, HV_X64_REGISTER_CR3, HV_X64_REGISTER_CR4 };
		u32 mid[3] = { HV_X64_REGISTER_CR0, BAD_NAME, HV_X64_REGISTER_CR4 };
		union hv_register_value tmp[3];

		hv_report_status(get(HV_PARTITION_ID_SELF, 0xacacacac, HV_INPUT_VTL_CURRENT, names, 3, tmp),
				 HV_STATUS_INVALID_VP_INDEX, "Get (%s) VP index 0xacacacac", f);
		hv_report_status(set(HV_PARTITION_ID_SELF, 0xacacacac, HV_INPUT_VTL_CURRENT, names, v, 1),
				 HV_STATUS_INVALID_VP_INDEX, "Set (%s) VP index 0xacacacac", f);
		hv_report_failure(get(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL(HV_VTL_ALL),
				      names, 3, tmp), "Get (%s) input VTL 15", f);
		hv_report_failure(set(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL(HV_VTL_ALL),
				      names, v, 1), "Set (%s) input VTL 15", f);
		hv_report_status(get(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 0x20, names, 3, tmp),
				 HV_STATUS_INVALID_PARAMETER, "Get (%s) HV_INPUT_VTL reserved bit 5 set", f);
		hv_report_status(get(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL(1), names, 3, tmp),
				 HV_STATUS_ACCESS_DENIED, "Get (%s) from VTL0 of VTL1's registers", f);
		hv_report_status(set(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL(1), names, v, 1),
				 HV_STATUS_ACCESS_DENIED, "Set (%s) from VTL0 of VTL1's registers", f);
		/* §1.4: kvm-unit-tests want INVALID_PARAMETER for an unknown name,
		 * OpenVMM returns UNKNOWN_REGISTER_NAME (0x87) [uncertain]. */
		hv_report_status2(get(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, bad, 3, tmp),
				  HV_STATUS_INVALID_PARAMETER, HV_STATUS_UNKNOWN_REGISTER_NAME,
				  "Get (%s) register name 0xacacacac", f);
		hv_report_status2(set(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, bad, v, 1),
				  HV_STATUS_INVALID_PARAMETER, HV_STATUS_UNKNOWN_REGISTER_NAME,
				  "Set (%s) register name 0xacacacac", f);
		r = get(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, mid, 3, tmp);
		report((hv_status(r) == HV_STATUS_INVALID_PARAMETER ||
			hv_status(r) == HV_STATUS_UNKNOWN_REGISTER_NAME) && hv_reps(r) == 1,
		       "Get (%s) [CR0, bad, CR4]: %s after %u rep(s) (want the error after 1)", f,
		       hv_status_name(hv_status(r)), hv_reps(r));
	}
	/* §3.1: VsmVpSecureConfigVtlN from VTL <= N: QEMU INVALID_PARAMETER,
	 * OpenVMM ACCESS_DENIED (get_vsm_vp_secure_config_vtl). */
	hv_report_status2(hv_get_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
					      (u32[]){ HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0 }, 1, v),
			  HV_STATUS_INVALID_PARAMETER, HV_STATUS_ACCESS_DENIED,
			  "VTL0 reads VsmVpSecureConfigVtl0");
	hv_report_failure(hv_get_vp_registers(42, HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, names, 1, v),
			  "Get with partition 42");
}

/* ---- E: generic hypercall input rules (§1.3), through GetVpRegisters ---- */

static u8 abi_page[2][PAGE_SIZE] __aligned(PAGE_SIZE);

static void test_abi(void)
{
	u8 *in = hv_input_page(), *out = hv_output_page();
	u32 name = HV_X64_REGISTER_CR0;
	struct hv_vp_registers_header h = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 0, { 0 } };

	memcpy(in, &h, 16);
	memcpy(in + 16, &name, 4);
	hv_report_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, 0, 0), (u64)in, (u64)out),
			 HV_STATUS_INVALID_HYPERCALL_INPUT, "rep call with rep count 0");
	hv_report_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, 1, 1), (u64)in, (u64)out),
			 HV_STATUS_INVALID_HYPERCALL_INPUT, "rep start 1 >= rep count 1");
	hv_report_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 1, 1, 0), (u64)in, (u64)out),
			 HV_STATUS_INVALID_HYPERCALL_INPUT, "variable header size 1 on GetVpRegisters");
	hv_report_status(hv_hypercall(hv_control(HVCALL_TRANSLATE_VIRTUAL_ADDRESS, false, 0, 1, 0),
				      (u64)in, (u64)out),
			 HV_STATUS_INVALID_HYPERCALL_INPUT, "simple call (TranslateVirtualAddress) with rep count 1");
	hv_report_status(hv_hypercall(0x7fff, (u64)in, (u64)out), HV_STATUS_INVALID_HYPERCALL_CODE,
			 "unknown call code 0x7fff");

	memcpy(abi_page[0] + 8, &h, 16);
	memcpy(abi_page[0] + 24, &name, 4);
	hv_report_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0),
				      (u64)abi_page[0] + 4, (u64)out),
			 HV_STATUS_INVALID_ALIGNMENT, "input GPA not 8-byte aligned");
	hv_report_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0),
				      (u64)in, (u64)abi_page[1] + 4),
			 HV_STATUS_INVALID_ALIGNMENT, "output GPA not 8-byte aligned");
	memcpy(abi_page[1] - 8, &h, 8);         /* header starts 8 bytes before page 1 */
	memcpy(abi_page[1], (u8 *)&h + 8, 8);
	memcpy(abi_page[1] + 8, &name, 4);
	hv_report_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0),
				      (u64)abi_page[1] - 8, (u64)out),
			 HV_STATUS_INVALID_HYPERCALL_INPUT, "input block crossing a page boundary");
	report_info("reserved control bit 27: %s (KVM rejects it, OpenVMM ignores it; §1.3)",
		    hv_status_name(hv_status(hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0) |
							  (1ul << 27), (u64)in, (u64)out))));
}

/* ---- F: from VTL1 ---- */

static volatile struct {
	u16 st[8];
	u64 v[8];
	u64 vtl1_cr3, vtl0_page_byte;
} f1;

static u64 v1_cross(struct vsm_call *c)
{
	u32 cs = HV_X64_REGISTER_CS;
	union hv_register_value seg;

	f1.vtl1_cr3 = read_cr3();
	f1.v[0] = get1(HV_INPUT_VTL(0), HV_VP_INDEX_SELF, HV_X64_REGISTER_CR3, (u16 *)&f1.st[0]);
	f1.v[1] = get1(HV_INPUT_VTL_CURRENT, HV_VP_INDEX_SELF, HV_X64_REGISTER_CR3, (u16 *)&f1.st[1]);
	f1.v[2] = get1(HV_INPUT_VTL(1), HV_VP_INDEX_SELF, HV_X64_REGISTER_CR3, (u16 *)&f1.st[2]);
	f1.v[3] = get1(HV_INPUT_VTL(0), HV_VP_INDEX_SELF, HV_X64_REGISTER_RIP, (u16 *)&f1.st[3]);
	if (f1.st[3] == 0 && f1.v[3] >= (u64)hv_hypercall_page(0) &&
	    f1.v[3] < (u64)hv_hypercall_page(0) + PAGE_SIZE)
		f1.vtl0_page_byte = *(volatile u8 *)f1.v[3];
	f1.st[4] = hv_status(hv_get_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL(0),
						 &cs, 1, &seg));
	f1.v[4] = seg.seg.selector | ((u64)seg.seg.attributes << 16);
	f1.st[5] = hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL(0), HV_X64_REGISTER_KERNEL_GS_BASE, KGS_B);
	f1.st[6] = hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
			      HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED);
	f1.v[6] = get1(HV_INPUT_VTL_CURRENT, HV_VP_INDEX_SELF, HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
		       (u16 *)&f1.st[7]);
	hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0, 0);
	f1.v[7] = get1(HV_INPUT_VTL_CURRENT, HV_VP_INDEX_SELF, HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
		       (u16 *)&f1.st[7]);
	return 0;
}

static void test_from_vtl1(void)
{
	wrmsr(MSR_KERNEL_GS_BASE, KGS_A);
	vsm_vtl1_call(v1_cross, 0);
	report(f1.st[0] == 0 && f1.v[0] == read_cr3(),
	       "VTL1 gets VTL0's CR3: %s, %lx (VTL0 CR3 %lx)", hv_status_name(f1.st[0]), f1.v[0], read_cr3());
	report(f1.st[1] == 0 && f1.v[1] == f1.vtl1_cr3 && f1.v[1] != read_cr3(),
	       "VTL1 gets its own CR3 (input VTL = current): %s, %lx (VTL1 CR3 %lx)",
	       hv_status_name(f1.st[1]), f1.v[1], f1.vtl1_cr3);
	report(f1.st[2] == 0 && f1.v[2] == f1.vtl1_cr3,
	       "VTL1 gets CR3 with explicit input VTL 1: %s, %lx", hv_status_name(f1.st[2]), f1.v[2]);
	report(f1.st[3] == 0 && f1.vtl0_page_byte == 0xc3,
	       "VTL1 gets VTL0's RIP %lx: inside VTL0's hypercall page, at a RET (%x) after the "
	       "VMCALL (§5.2 step 3)", f1.v[3], (u32)f1.vtl0_page_byte);
	report(f1.st[4] == 0 && (u16)f1.v[4] == KERNEL_CS,
	       "VTL1 gets VTL0's CS: selector %lx attributes %lx", f1.v[4] & 0xffff, f1.v[4] >> 16);
	report(f1.st[5] == 0 && rdmsr(MSR_KERNEL_GS_BASE) == KGS_B,
	       "VTL1 sets VTL0's KERNEL_GS_BASE (status %x): VTL0 reads %lx", f1.st[5],
	       rdmsr(MSR_KERNEL_GS_BASE));
	report(f1.st[6] == 0 && (f1.v[6] & HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED) &&
	       !(f1.v[7] & HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED),
	       "VTL1 sets VsmVpSecureConfigVtl0.tlb_locked (status %x, reads %lx) and clears it (%lx)",
	       f1.st[6], f1.v[6], f1.v[7]);
}

/* ---- G: other VPs ---- */

static volatile u64 ap_val[4];
static volatile bool ap_ok;

static void ap_setup(void *arg)
{
	hv_init_cpu();
}

static void ap_boot(void *arg)
{
	ap_ok = vsm_ap_boot();
}

static void ap_read_kgs(void *arg)
{
	ap_val[0] = rdmsr(MSR_KERNEL_GS_BASE);
}

static u64 ap_vtl1_remote(struct vsm_call *c)
{
	u16 s;

	ap_val[1] = get1(HV_INPUT_VTL_CURRENT, 0, HV_REGISTER_VP_INDEX, &s);
	ap_val[2] = s;
	return 0;
}

static void ap_vtl1(void *arg)
{
	vsm_vtl1_call(ap_vtl1_remote, 0);
}

static volatile struct {
	u16 st[6];
	u64 v[6];
	u64 own_cr3;
} g1;

static u64 v1_remote(struct vsm_call *c)
{
	g1.own_cr3 = read_cr3();
	g1.v[0] = get1(HV_INPUT_VTL_CURRENT, 1, HV_X64_REGISTER_CR3, (u16 *)&g1.st[0]);
	g1.v[1] = get1(HV_INPUT_VTL(0), 1, HV_X64_REGISTER_CR3, (u16 *)&g1.st[1]);
	g1.st[2] = hv_set_reg(1, HV_INPUT_VTL(0), HV_X64_REGISTER_KERNEL_GS_BASE, KGS_B + 1);
	/* kvm-unit-tests: VTL1 locks every VP's VTL0 TLB with VP index = that
	 * VP and input VTL 1. */
	g1.st[3] = hv_set_reg(1, HV_INPUT_VTL(1), HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
			      HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED);
	g1.v[4] = get1(HV_INPUT_VTL(1), 1, HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0, (u16 *)&g1.st[4]);
	g1.st[5] = hv_set_reg(1, HV_INPUT_VTL(1), HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0, 0);
	return 0;
}

static bool start_second_vp(void)
{
	struct hv_initial_vp_context ctx;
	int ncpus = fwcfg_nb_cpus();

	if (!(hv_info.priv_hi & HV_START_VIRTUAL_PROCESSOR)) {
		report_skip("HvCallStartVirtualProcessor: no StartVirtualProcessor privilege "
			    "(EBX %x); starting VP1 with INIT/SIPI", hv_info.priv_hi);
		return smp_init(NULL, NULL) >= 2;
	}
	vsm_vtl0_ap_context(1, &ctx);
	hv_report_status(hv_start_virtual_processor(42, 1, 0, &ctx), HV_STATUS_INVALID_PARTITION_ID,
			 "StartVirtualProcessor partition 42");
	hv_report_status(hv_start_virtual_processor(HV_PARTITION_ID_SELF, 0, 0, &ctx),
			 HV_STATUS_INVALID_VP_INDEX, "StartVirtualProcessor on the calling VP");
	hv_report_status(hv_start_virtual_processor(HV_PARTITION_ID_SELF, ncpus + 64, 0, &ctx),
			 HV_STATUS_INVALID_VP_INDEX, "StartVirtualProcessor VP %d (no such VP)", ncpus + 64);
	hv_report_failure(hv_start_virtual_processor(HV_PARTITION_ID_SELF, 1, 1, &ctx),
			  "StartVirtualProcessor from VTL0 into VTL1");
	if (!hv_report_status(vsm_start_vp(1), HV_STATUS_SUCCESS,
			      "StartVirtualProcessor(VP1, VTL0) at the SDK's AP entry"))
		return false;
	for (long i = 0; i < 50000000 && cpu_count() < 2; i++)
		pause();
	if (!report(cpu_count() >= 2 && cpu_online(1), "VP1 runs the SDK's AP code (CPUs online %d)",
		    cpu_count()))
		return false;
	hv_report_status(vsm_start_vp(1), HV_STATUS_INVALID_VP_STATE,
			 "StartVirtualProcessor(VP1) again");
	return true;
}

static void test_other_vps(void)
{
	u16 s;
	u64 v;
	u32 vp = 0xffffffff;

	if (fwcfg_nb_cpus() < 2) {
		report_skip("other VPs: needs -smp 2 or more (fw_cfg reports %d CPU)", fwcfg_nb_cpus());
		return;
	}
	if (!start_second_vp())
		return;
	on_cpu(1, ap_setup, NULL);
	if (hv_info.priv_hi & HV_START_VIRTUAL_PROCESSOR) {
		/* §2.9: with one zero-padded element the 4- and 8-byte layouts agree. */
		u64 r = hv_get_vp_index_from_apic_id(HV_PARTITION_ID_SELF, 0, 1, &vp);

		report(hv_status(r) == 0 && vp == 1, "GetVpIndexFromApicId(APIC ID 1): %s, VP %u",
		       hv_status_name(hv_status(r)), vp);
	}
	v = get1(HV_INPUT_VTL_CURRENT, 1, HV_REGISTER_VP_INDEX, &s);
	report(s == 0 && v == 1, "VTL0 on VP0 gets VP1's VpIndex: %s, %lu", hv_status_name(s), v);
	v = get1(HV_INPUT_VTL_CURRENT, 1, HV_X64_REGISTER_CR3, &s);
	report(s == 0 && v == read_cr3(), "VTL0 on VP0 gets VP1's CR3: %s, %lx (VP0 %lx)",
	       hv_status_name(s), v, read_cr3());

	hv_report_status(vsm_enable_ap(1), HV_STATUS_SUCCESS, "VTL1 on VP0 enables VTL1 on VP1");
	on_cpu(1, ap_boot, NULL);
	report(ap_ok, "VP1 enters its VTL1");
	get1(HV_INPUT_VTL(1), 1, HV_X64_REGISTER_CR3, &s);
	hv_report_status(s, HV_STATUS_ACCESS_DENIED, "VTL0 on VP0 gets VP1's VTL1 CR3");

	vsm_vtl1_call(v1_remote, 0);
	report(g1.st[0] == 0 && g1.v[0] == g1.own_cr3,
	       "VTL1 on VP0 gets VP1's VTL1 CR3: %s, %lx (VTL1 page tables %lx)",
	       hv_status_name(g1.st[0]), g1.v[0], g1.own_cr3);
	report(g1.st[1] == 0 && g1.v[1] == read_cr3(), "VTL1 on VP0 gets VP1's VTL0 CR3: %s, %lx",
	       hv_status_name(g1.st[1]), g1.v[1]);
	on_cpu(1, ap_read_kgs, NULL);
	report(g1.st[2] == 0 && ap_val[0] == KGS_B + 1,
	       "VTL1 on VP0 sets VP1's VTL0 KERNEL_GS_BASE (status %x): VP1 reads %lx", g1.st[2], ap_val[0]);
	report(g1.st[3] == 0 && g1.st[4] == 0 && (g1.v[4] & HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED) &&
	       g1.st[5] == 0,
	       "VTL1 on VP0 locks VP1's VTL0 TLB (VsmVpSecureConfigVtl0, VP 1, input VTL 1): status %x, "
	       "reads %lx, unlock status %x", g1.st[3], g1.v[4], g1.st[5]);
	on_cpu(1, ap_vtl1, NULL);
	report(ap_val[2] == 0 && ap_val[1] == 0, "VTL1 on VP1 gets VP0's VTL1 VpIndex: %s, %lu",
	       hv_status_name(ap_val[2]), ap_val[1]);
}

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	long r;

	if (!vsm_report_platform())
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised on VP0: %lx", r))
		return report_summary();
	test_own_registers();
	test_forms();
	test_negative();
	test_abi();
	test_from_vtl1();
	test_other_vps();
	return report_summary();
}
