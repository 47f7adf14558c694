/*
 * vsm-enable.c - enabling VTL1 step by step (spec/vsm.md §2.1, §2.2, §2.3,
 * §3.1): discovery, the hypercall page and VsmCodePageOffsets, VSM status
 * registers before and after, every negative case of HvCallEnablePartitionVtl
 * and HvCallEnableVpVtl with the status it must return, VTL call/return
 * misuse (#UD), the initial VTL1 context as VTL1 sees it at its first
 * instruction, and (with -smp 2 or more) the bootstrap rule for other VPs.
 *
 * Status codes: where vsm.md gives one (INVALID_PARTITION_ID, INVALID_VP_INDEX,
 * INVALID_PARAMETER) it is required exactly. "VTL already enabled" is
 * [UNCERTAIN] in vsm.md §1.4 (kvm-unit-tests: INVALID_PARAMETER 0x5; OpenVMM
 * and Linux define VTL_ALREADY_ENABLED 0x86); the TLFS (HvCallEnableVpVtl,
 * "Restrictions") only says the call fails, so either of the two is
 * accepted. Cases vsm.md marks [inferred] are checked as "fails".
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

/* #UD bookkeeping: the handler skips a VMCALL/VMMCALL (3 bytes), so a
 * rejected VTL call/return continues at the page's RET. */
static volatile struct {
	int count;
	u64 rip;
	int vtl;
} ud;

static void ud_skip_hypercall(struct ex_regs *r)
{
	const u8 *ip = (const u8 *)r->rip;

	ud.count++;
	ud.rip = r->rip;
	ud.vtl = hv_current_vtl();
	if (ip[0] == 0x0f && ip[1] == 0x01 && (ip[2] == 0xc1 || ip[2] == 0xd9)) {
		r->rip += 3;
		return;
	}
	printf("#UD at %lx (bytes %02x %02x %02x) is not a hypercall instruction\n",
	       r->rip, ip[0], ip[1], ip[2]);
	exit(EXIT_UNHANDLED);
}

/* Call a sequence in a hypercall page with RCX = rcx (all else as is). */
static void call_seq(void *seq, u64 rcx)
{
	asm volatile("call *%[seq]"
		     : "+c"(rcx)
		     : [seq] "r"(seq)
		     : "rax", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static bool in_page(u64 rip, void *page)
{
	return rip >= (u64)page && rip < (u64)page + HV_PAGE_SIZE;
}

/* ---- A/B: discovery, hypercall page, code page offsets ---- */

static void check_hypercall_setup(void)
{
	u64 hc = rdmsr(HV_X64_MSR_HYPERCALL);
	u8 *page = hv_hypercall_page(0);
	static const u8 call_bytes[] = { 0x48, 0x89, 0xc8, 0xb9, 0x11, 0, 0, 0 };
	static const u8 ret_bytes[] = { 0x48, 0x89, 0xc8, 0xb9, 0x12, 0, 0, 0 };
	u64 v;
	u16 s;

	report(rdmsr(HV_X64_MSR_GUEST_OS_ID) == HV_GUEST_OS_ID_VTL0,
	       "HV_X64_MSR_GUEST_OS_ID reads back %lx", rdmsr(HV_X64_MSR_GUEST_OS_ID));
	report(hc == ((u64)page | HV_HYPERCALL_ENABLE),
	       "HV_X64_MSR_HYPERCALL reads back %lx (page %p | enable)", hc, page);
	report_info("VP index (HV_X64_MSR_VP_INDEX) %lu, APIC ID %u", rdmsr(HV_X64_MSR_VP_INDEX),
		    apic_id());

	s = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_CODE_PAGE_OFFSETS, &v);
	report(s == HV_STATUS_SUCCESS && (v >> 24) == 0 &&
	       HV_VSM_CODE_PAGE_CALL_OFFSET(v) != HV_VSM_CODE_PAGE_RETURN_OFFSET(v) &&
	       HV_VSM_CODE_PAGE_CALL_OFFSET(v) <= HV_PAGE_SIZE - 8 &&
	       HV_VSM_CODE_PAGE_RETURN_OFFSET(v) <= HV_PAGE_SIZE - 8,
	       "VsmCodePageOffsets = %lx (%s): call %x, return %x, bits 24..63 zero", v,
	       hv_status_name(s), HV_VSM_CODE_PAGE_CALL_OFFSET(v), HV_VSM_CODE_PAGE_RETURN_OFFSET(v));
	/* §1.1: both known page layouts (OpenVMM, KVM/QEMU) start the 64-bit
	 * sequences with "mov %rcx,%rax; mov $0x11/0x12,%ecx". The TLFS does not
	 * define the bytes; a layout with other bytes would be legal but would
	 * change the RAX/RCX values the other checks expect after a fast return. */
	report(!memcmp(page + HV_VSM_CODE_PAGE_CALL_OFFSET(v), call_bytes, 8),
	       "VTL call sequence at page+%x: %02x %02x %02x %02x %02x %02x %02x %02x "
	       "(mov %%rcx,%%rax; mov $0x11,%%ecx)", HV_VSM_CODE_PAGE_CALL_OFFSET(v),
	       page[HV_VSM_CODE_PAGE_CALL_OFFSET(v)], page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 1],
	       page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 2], page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 3],
	       page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 4], page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 5],
	       page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 6], page[HV_VSM_CODE_PAGE_CALL_OFFSET(v) + 7]);
	report(!memcmp(page + HV_VSM_CODE_PAGE_RETURN_OFFSET(v), ret_bytes, 8),
	       "VTL return sequence at page+%x: %02x %02x %02x %02x %02x %02x %02x %02x "
	       "(mov %%rcx,%%rax; mov $0x12,%%ecx)", HV_VSM_CODE_PAGE_RETURN_OFFSET(v),
	       page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v)], page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 1],
	       page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 2], page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 3],
	       page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 4], page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 5],
	       page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 6], page[HV_VSM_CODE_PAGE_RETURN_OFFSET(v) + 7]);
	report(page[0] == 0x0f && page[1] == 0x01 && (page[2] == 0xc1 || page[2] == 0xd9),
	       "hypercall page+0 is VMCALL/VMMCALL: %02x %02x %02x", page[0], page[1], page[2]);

	s = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_CAPABILITIES, &v);
	report(s == HV_STATUS_SUCCESS, "VsmCapabilities readable: %lx (%s); DR6 shared %lu, "
	       "MBEC VTL mask %x, deny-lower-VTL-startup %lu", v, hv_status_name(s),
	       v & HV_VSM_CAP_DR6_SHARED, HV_VSM_CAP_MBEC_VTL_MASK(v),
	       (v & HV_VSM_CAP_DENY_LOWER_VTL_STARTUP) >> 17);
}

/* ---- C: VSM status registers ---- */

static void check_status(const char *when, u32 part_enabled, u32 vp_enabled, u32 active)
{
	u64 ps = 0, vs = 0;
	u16 s1 = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_PARTITION_STATUS, &ps);
	u16 s2 = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_VP_STATUS, &vs);

	report(s1 == HV_STATUS_SUCCESS && HV_VSM_PARTITION_STATUS_ENABLED_VTLS(ps) == part_enabled &&
	       HV_VSM_PARTITION_STATUS_MAX_VTL(ps) == 1 && (ps >> 40) == 0,
	       "%s: VsmPartitionStatus %lx: enabled VTL set %x (want %x), maximum VTL %u (want 1), "
	       "MBEC set %x, SSS set %x", when, ps, HV_VSM_PARTITION_STATUS_ENABLED_VTLS(ps),
	       part_enabled, HV_VSM_PARTITION_STATUS_MAX_VTL(ps),
	       HV_VSM_PARTITION_STATUS_MBEC_VTLS(ps), HV_VSM_PARTITION_STATUS_SSS_VTLS(ps));
	report(s2 == HV_STATUS_SUCCESS && HV_VSM_VP_STATUS_ACTIVE_VTL(vs) == active &&
	       HV_VSM_VP_STATUS_ENABLED_VTLS(vs) == vp_enabled && !(vs & HV_VSM_VP_STATUS_ACTIVE_MBEC) &&
	       (vs & ~0xffff001ful) == 0,
	       "%s: VsmVpStatus %lx: active VTL %u (want %u), enabled VTL set %x (want %x)", when,
	       vs, HV_VSM_VP_STATUS_ACTIVE_VTL(vs), active, HV_VSM_VP_STATUS_ENABLED_VTLS(vs),
	       vp_enabled);
}

/* ---- D: VTL call / return before VTL1 exists ---- */

static void check_ud_before_enable(void)
{
	u8 *page = hv_hypercall_page(0);

	handle_exception(UD_VECTOR, ud_skip_hypercall);
	ud.count = 0;
	call_seq(page + vsm.call_offset, 0);
	report(ud.count == 1 && in_page(ud.rip, page),
	       "HvCallVtlCall with no VTL1 enabled: #UD in VTL0 (count %d, rip %lx, page %p)",
	       ud.count, ud.rip, page);
	ud.count = 0;
	call_seq(page + vsm.return_offset, 0);
	report(ud.count == 1 && in_page(ud.rip, page),
	       "HvCallVtlReturn from VTL0: #UD (count %d, rip %lx)", ud.count, ud.rip);
	handle_exception(UD_VECTOR, NULL);
}

/* ---- E: HvCallEnablePartitionVtl negatives ---- */

static void check_enable_partition_negative(void)
{
	u32 maxvtl = HV_VSM_PARTITION_STATUS_MAX_VTL(vsm_partition_status());
	bool mbec = HV_VSM_CAP_MBEC_VTL_MASK(vsm.capabilities) & (1u << 1);

	for (int slow = 0; slow < 2; slow++) {
		const char *form = slow ? "memory" : "fast";
		u64 (*call)(u64, u8, u8) = slow ? vsm_enable_partition_vtl_slow : vsm_enable_partition_vtl;

		hv_report_status(call(42, 1, 0), HV_STATUS_INVALID_PARTITION_ID,
				 "EnablePartitionVtl(%s) partition 42", form);
		hv_report_status(call(HV_PARTITION_ID_SELF, 0, 0), HV_STATUS_INVALID_PARAMETER,
				 "EnablePartitionVtl(%s) VTL0 (always enabled)", form);
		hv_report_status(call(HV_PARTITION_ID_SELF, maxvtl + 1, 0), HV_STATUS_INVALID_PARAMETER,
				 "EnablePartitionVtl(%s) VTL%u > maximum VTL %u", form, maxvtl + 1, maxvtl);
		/* VsmCapabilities MBEC mask: OpenVMM layout (bits 1..16, VTL1 =
		 * bit 2); kvm-unit-tests reads bit 48 instead (§3.1 conflict). */
		if (!mbec)
			hv_report_status(call(HV_PARTITION_ID_SELF, 1, HV_ENABLE_PARTITION_VTL_MBEC),
					 HV_STATUS_INVALID_PARAMETER,
					 "EnablePartitionVtl(%s) EnableMbec without MBEC in VsmCapabilities", form);
		else
			report_skip("EnablePartitionVtl(%s) EnableMbec negative: VsmCapabilities "
				    "advertises MBEC for VTL1 (%lx)", form, vsm.capabilities);
	}
	check_status("after EnablePartitionVtl negatives", 0x1, 0x1, 0);
}

/* ---- F/H: HvCallEnableVpVtl negatives ---- */

static void check_enable_vp_before_partition(void)
{
	struct hv_initial_vp_context ctx;

	vsm_vtl1_context(0, &ctx);
	/* [inferred] in vsm.md; TLFS HvCallEnableVpVtl: "To enable a VTL on a
	 * VP, it must first be enabled for the partition." */
	hv_report_failure(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 1, &ctx),
			  "EnableVpVtl(self, VTL1) before EnablePartitionVtl(VTL1)");
	check_status("after EnableVpVtl before partition enable", 0x1, 0x1, 0);
}

static void check_enable_vp_negative(void)
{
	struct hv_initial_vp_context ctx;
	int ncpus = fwcfg_nb_cpus() > 0 ? fwcfg_nb_cpus() : 1;

	vsm_vtl1_context(0, &ctx);
	hv_report_status(vsm_enable_vp_vtl(42, HV_VP_INDEX_SELF, 1, &ctx),
			 HV_STATUS_INVALID_PARTITION_ID, "EnableVpVtl partition 42");
	hv_report_status(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_ANY_VP, 1, &ctx),
			 HV_STATUS_INVALID_VP_INDEX, "EnableVpVtl VP index 0xffffffff");
	hv_report_status(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, ncpus + 64, 1, &ctx),
			 HV_STATUS_INVALID_VP_INDEX, "EnableVpVtl VP index %d (no such VP, %d VPs)",
			 ncpus + 64, ncpus);
	hv_report_status(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 0, &ctx),
			 HV_STATUS_INVALID_PARAMETER, "EnableVpVtl VTL0 (always enabled)");
	/* VTL beyond the maximum: vsm.md lists this status only for
	 * EnablePartitionVtl; here only "fails" is checked. */
	hv_report_failure(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 2, &ctx),
			  "EnableVpVtl VTL2 (beyond the maximum VTL)");
	check_status("after EnableVpVtl negatives", 0x3, 0x1, 0);
}

/* ---- I: the first VTL1 entry ---- */

static u64 read_vtl1_status(struct vsm_call *c)
{
	u64 *o = (u64 *)c->arg;

	o[0] = hv_read_reg(HV_REGISTER_VSM_VP_STATUS);
	o[1] = hv_read_reg(HV_REGISTER_VSM_PARTITION_STATUS);
	o[2] = hv_read_reg(HV_REGISTER_VSM_CODE_PAGE_OFFSETS);
	return vsm_in_vtl1();
}

static void check_first_entry(const struct hv_initial_vp_context *ctx)
{
	struct vsm_entry_state *e = &vsm_first_entry[0];
	struct vsm_gprs g = {
		.r15 = 0x1515151515151515, .r14 = 0x1414141414141414, .r13 = 0x1313131313131313,
		.r12 = 0x1212121212121212, .r11 = 0x1111111111111111, .r10 = 0x1010101010101010,
		.r9 = 0x0909090909090909, .r8 = 0x0808080808080808, .rbp = 0xbbbbbbbbbbbbbbbb,
		.rdi = VSM_OP_NOP, .rsi = 0x5151515151515151, .rdx = 0xdddddddddddddddd,
		.rcx = 0, .rbx = 0xb0b0b0b0b0b0b0b0, .rax = 0xaaaaaaaaaaaaaaaa,
	};
	struct vsm_gprs want = g;
	u64 st[3] = { 0, 0, 0 };

	vtl_call_regs(&g);
	report(g.rdx == VSM_NOP_MAGIC, "first VTL call (NOP) answered by VTL1: RDX %lx", g.rdx);
	if (!e->valid) {
		report(false, "VTL1 recorded its first entry");
		return;
	}
	want.rax = 0;           /* the VTL call input (RCX = 0 copied by the stub) */
	want.rcx = HVCALL_VTL_CALL;
	report(!memcmp(&e->regs, &want, sizeof(want)),
	       "first entry: shared GPRs are VTL0's (rbx %lx rbp %lx rsi %lx rdx %lx r8 %lx "
	       "r15 %lx), RAX %lx (want 0), RCX %lx (want 0x11)", e->regs.rbx, e->regs.rbp,
	       e->regs.rsi, e->regs.rdx, e->regs.r8, e->regs.r15, e->regs.rax, e->regs.rcx);
	report(e->rsp == ctx->rsp, "first entry: RSP %lx = context RSP %lx", e->rsp, ctx->rsp);
	report(e->rflags == ctx->rflags, "first entry: RFLAGS %lx = context %lx", e->rflags, ctx->rflags);
	report(e->cr0 == ctx->cr0, "first entry: CR0 %lx = context %lx", e->cr0, ctx->cr0);
	report(e->cr3 == ctx->cr3 && e->cr3 != read_cr3(), "first entry: CR3 %lx = context %lx "
	       "(VTL0 CR3 %lx)", e->cr3, ctx->cr3, read_cr3());
	report(e->cr4 == ctx->cr4, "first entry: CR4 %lx = context %lx", e->cr4, ctx->cr4);
	report(e->efer == ctx->efer, "first entry: EFER %lx = context %lx", e->efer, ctx->efer);
	report(e->pat == ctx->msr_cr_pat, "first entry: PAT %lx = context %lx", e->pat, ctx->msr_cr_pat);
	report(e->cs == ctx->cs.selector && e->ss == ctx->ss.selector && e->ds == ctx->ds.selector &&
	       e->es == ctx->es.selector && e->fs == ctx->fs.selector && e->gs == ctx->gs.selector,
	       "first entry: selectors cs %x ss %x ds %x es %x fs %x gs %x (context %x %x %x %x %x %x)",
	       e->cs, e->ss, e->ds, e->es, e->fs, e->gs, ctx->cs.selector, ctx->ss.selector,
	       ctx->ds.selector, ctx->es.selector, ctx->fs.selector, ctx->gs.selector);
	report(e->gs_base == ctx->gs.base && e->fs_base == ctx->fs.base,
	       "first entry: GS base %lx FS base %lx (context %lx %lx)", e->gs_base, e->fs_base,
	       ctx->gs.base, ctx->fs.base);
	report(e->tr == ctx->tr.selector && e->ldtr == ctx->ldtr.selector,
	       "first entry: TR %x LDTR %x (context %x %x)", e->tr, e->ldtr, ctx->tr.selector,
	       ctx->ldtr.selector);
	report(e->gdtr.base == ctx->gdtr.base && e->gdtr.limit == ctx->gdtr.limit,
	       "first entry: GDTR %lx/%x (context %lx/%x)", e->gdtr.base, e->gdtr.limit,
	       ctx->gdtr.base, ctx->gdtr.limit);
	report(e->idtr.base == ctx->idtr.base && e->idtr.limit == ctx->idtr.limit,
	       "first entry: IDTR %lx/%x (context %lx/%x)", e->idtr.base, e->idtr.limit,
	       ctx->idtr.base, ctx->idtr.limit);

	report(vsm_vtl1_call(read_vtl1_status, (u64)st) == 1, "VTL1 runs with its own GS base");
	report(HV_VSM_VP_STATUS_ACTIVE_VTL(st[0]) == 1 && HV_VSM_VP_STATUS_ENABLED_VTLS(st[0]) == 3,
	       "in VTL1: VsmVpStatus %lx: active VTL 1, enabled set 3", st[0]);
	report(HV_VSM_PARTITION_STATUS_ENABLED_VTLS(st[1]) == 3,
	       "in VTL1: VsmPartitionStatus %lx: enabled set 3", st[1]);
	report(st[2] == vsm.code_page_offsets,
	       "in VTL1: VsmCodePageOffsets %lx = VTL0's %lx (§1.1: same for all VTLs)", st[2],
	       vsm.code_page_offsets);
}

/* ---- J: wrong-VTL cases ---- */

static volatile u64 vtl1_results[6];
static volatile int vtl1_ud[2];

static u64 vtl1_negatives(struct vsm_call *c)
{
	struct hv_initial_vp_context ctx;
	u8 *page = hv_hypercall_page(1);

	vtl1_results[0] = vsm_enable_partition_vtl(HV_PARTITION_ID_SELF, 1, 0);
	vtl1_results[1] = vsm_enable_partition_vtl(HV_PARTITION_ID_SELF, 2, 0);
	/* Build the context for the enabled VP without disturbing VP0's
	 * VTL1 percpu (vsm_vtl1_context() rewrites it): use a copy. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.rip = 1;
	vtl1_results[2] = vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 1, &ctx);
	vtl1_results[3] = vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 0, &ctx);

	vsm_vtl1_handle_exception(UD_VECTOR, ud_skip_hypercall);
	ud.count = 0;
	call_seq(page + vsm.call_offset, 0);    /* VTL1 has no higher VTL to call */
	vtl1_ud[0] = ud.count == 1 && ud.vtl == 1 && in_page(ud.rip, page);
	ud.count = 0;
	call_seq(page + vsm.return_offset, 2);  /* return input: only bit 0 may be set */
	vtl1_ud[1] = ud.count == 1 && ud.vtl == 1 && in_page(ud.rip, page);
	vsm_vtl1_handle_exception(UD_VECTOR, NULL);
	return 1;
}

static void check_wrong_vtl(void)
{
	struct vsm_vtl1_stats before, after;
	struct vsm_gprs g;
	u8 *page = hv_hypercall_page(0);
	static u8 raw_call[16] __aligned(16);

	report(vsm_vtl1_call(vtl1_negatives, 0) == 1, "VTL1 negative-case step ran");
	hv_report_status2(vtl1_results[0], HV_STATUS_INVALID_PARAMETER, HV_STATUS_VTL_ALREADY_ENABLED,
			  "from VTL1: EnablePartitionVtl(VTL1) again");
	hv_report_status(vtl1_results[1], HV_STATUS_INVALID_PARAMETER,
			 "from VTL1: EnablePartitionVtl(VTL2 > maximum)");
	hv_report_status2(vtl1_results[2], HV_STATUS_INVALID_PARAMETER, HV_STATUS_VTL_ALREADY_ENABLED,
			  "from VTL1: EnableVpVtl(self, VTL1) already enabled");
	hv_report_status(vtl1_results[3], HV_STATUS_INVALID_PARAMETER,
			 "from VTL1: EnableVpVtl(self, VTL0)");
	report(vtl1_ud[0], "HvCallVtlCall from VTL1 (no higher VTL): #UD in VTL1");
	report(vtl1_ud[1], "HvCallVtlReturn with input 2 (reserved bit): #UD in VTL1");

	/* VTL call with a non-zero input (RCX = 1 at the page): #UD, no switch. */
	handle_exception(UD_VECTOR, ud_skip_hypercall);
	vsm_vtl1_stats(0, &before);
	memset(&g, 0, sizeof(g));
	g.rdi = VSM_OP_NOP;
	g.rcx = 1;
	ud.count = 0;
	vtl_call_regs(&g);
	vsm_vtl1_stats(0, &after);
	report(ud.count == 1 && ud.vtl == 0 && after.entries == before.entries + 1,
	       "HvCallVtlCall with input 1: #UD in VTL0 (count %d rip %lx), VTL1 not entered "
	       "(entries %lu -> %lu, +1 for the stats call)", ud.count, ud.rip, before.entries,
	       after.entries);

	/* VTL call code with the fast bit in the control word: #UD (§2.3). */
	memcpy(raw_call, page, 3);              /* this platform's VMCALL/VMMCALL */
	if (raw_call[0] != 0x0f || raw_call[1] != 0x01)
		memcpy(raw_call, "\x0f\x01\xc1", 3);  /* not found (reported above): VMCALL */
	raw_call[3] = 0xc3;
	vsm_vtl1_stats(0, &before);
	ud.count = 0;
	{
		u64 rcx = HVCALL_VTL_CALL | HV_HYPERCALL_FAST, rax = 0;
		asm volatile("call *%[stub]" : "+a"(rax), "+c"(rcx) : [stub] "r"(raw_call)
			     : "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
	}
	vsm_vtl1_stats(0, &after);
	report(ud.count == 1 && ud.rip == (u64)raw_call && after.entries == before.entries + 1,
	       "VMCALL with control 0x10011 (VTL call + fast bit): #UD (count %d rip %lx), "
	       "no VTL switch", ud.count, ud.rip);
	handle_exception(UD_VECTOR, NULL);
}

/* ---- K: other VPs and the bootstrap rule ---- */

static volatile u64 ap_status[4];
static volatile u64 ap_result;
static volatile bool ap_booted;

static void ap_hv_init(void *arg)
{
	hv_init_cpu();
	ap_status[0] = hv_read_reg(HV_REGISTER_VSM_VP_STATUS);
}

static void ap_try_enable_self(void *arg)
{
	struct hv_initial_vp_context ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.rip = 1;
	ap_result = vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 1, &ctx);
	ap_status[1] = hv_read_reg(HV_REGISTER_VSM_VP_STATUS);
}

static u64 ap_vtl1_probe(struct vsm_call *c)
{
	ap_status[3] = rdmsr(HV_X64_MSR_VP_INDEX) | ((u64)hv_read_reg(HV_REGISTER_VSM_VP_STATUS) << 32);
	return 1;
}

static void ap_boot(void *arg)
{
	ap_status[2] = hv_read_reg(HV_REGISTER_VSM_VP_STATUS);
	ap_booted = vsm_ap_boot();
	if (ap_booted)
		vsm_vtl1_call(ap_vtl1_probe, 0);
}

static u64 vtl1_enable_again(struct vsm_call *c)
{
	struct hv_initial_vp_context ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.rip = 1;
	return vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, c->arg, 1, &ctx);
}

static void check_other_vps(void)
{
	struct hv_initial_vp_context ctx;
	int n = smp_init(NULL, NULL);

	if (n < 2) {
		report_skip("bootstrap rule for other VPs: needs -smp 2 or more (%d CPU online)", n);
		return;
	}
	on_cpu(1, ap_hv_init, NULL);
	report(HV_VSM_VP_STATUS_ENABLED_VTLS(ap_status[0]) == 1,
	       "VP1 VsmVpStatus before: %lx (enabled set 1)", ap_status[0]);

	/* §2.2 bootstrap rule / TLFS HvCallEnableVpVtl "Restrictions": once a VP
	 * has VTL1, enabling it elsewhere must come from VTL1. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.rip = 1;
	hv_report_failure(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, 1, 1, &ctx),
			  "from VTL0 on VP0: EnableVpVtl(VP1, VTL1) after VP0 has VTL1");
	on_cpu(1, ap_try_enable_self, NULL);
	hv_report_failure(ap_result, "from VTL0 on VP1: EnableVpVtl(self, VTL1)");
	report(HV_VSM_VP_STATUS_ENABLED_VTLS(ap_status[1]) == 1,
	       "VP1 VsmVpStatus after the refused calls: %lx (enabled set 1)", ap_status[1]);

	hv_report_status(vsm_enable_ap(1), HV_STATUS_SUCCESS,
			 "from VTL1 on VP0: EnableVpVtl(VP1, VTL1)");
	on_cpu(1, ap_boot, NULL);
	report(HV_VSM_VP_STATUS_ENABLED_VTLS(ap_status[2]) == 3 &&
	       HV_VSM_VP_STATUS_ACTIVE_VTL(ap_status[2]) == 0,
	       "VP1 VsmVpStatus after enable: %lx (enabled set 3, active 0)", ap_status[2]);
	report(ap_booted, "VP1's first VTL call reaches VTL1 on VP1");
	report((u32)ap_status[3] == 1 && HV_VSM_VP_STATUS_ACTIVE_VTL(ap_status[3] >> 32) == 1,
	       "in VTL1 on VP1: VP_INDEX %u, VsmVpStatus %lx (active 1)", (u32)ap_status[3],
	       ap_status[3] >> 32);
	hv_report_status2(vsm_vtl1_call(vtl1_enable_again, 1), HV_STATUS_INVALID_PARAMETER,
			  HV_STATUS_VTL_ALREADY_ENABLED, "from VTL1 on VP0: EnableVpVtl(VP1) again");
}

int main(void)
{
	struct hv_initial_vp_context ctx;
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;

	if (!vsm_report_platform())
		return report_summary();
	if (!report(hv_init() == 0, "hypercall page enabled"))
		return report_summary();
	if (!report(vsm_prepare() == 0, "VSM SDK prepared (VsmCodePageOffsets, VTL0 VP assist page)"))
		return report_summary();
	check_hypercall_setup();
	check_status("before enabling", 0x1, 0x1, 0);
	check_ud_before_enable();
	check_enable_partition_negative();
	check_enable_vp_before_partition();

	hv_report_status(vsm_enable_partition_vtl(HV_PARTITION_ID_SELF, 1, 0), HV_STATUS_SUCCESS,
			 "EnablePartitionVtl(self, VTL1)");
	check_status("after EnablePartitionVtl", 0x3, 0x1, 0);
	hv_report_status2(vsm_enable_partition_vtl(HV_PARTITION_ID_SELF, 1, 0),
			  HV_STATUS_INVALID_PARAMETER, HV_STATUS_VTL_ALREADY_ENABLED,
			  "EnablePartitionVtl(VTL1) again");
	check_enable_vp_negative();

	vsm_vtl1_context(0, &ctx);
	if (!hv_report_status(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 1, &ctx),
			      HV_STATUS_SUCCESS, "EnableVpVtl(self, VTL1)"))
		return report_summary();
	vsm.enabled = true;
	check_status("after EnableVpVtl (VTL1 not run yet)", 0x3, 0x3, 0);
	hv_report_status2(vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 1, &ctx),
			  HV_STATUS_INVALID_PARAMETER, HV_STATUS_VTL_ALREADY_ENABLED,
			  "EnableVpVtl(self, VTL1) again from VTL0");

	check_first_entry(&ctx);
	check_wrong_vtl();
	hv_report_status(vsm_boot(&cfg), HV_STATUS_SUCCESS,
			 "VTL1 boot: VsmPartitionConfig and protection of VTL1's pages");
	check_status("at the end (VTL0)", 0x3, 0x3, 0);
	check_other_vps();
	return report_summary();
}
