/*
 * vsm.c - VTL1 enablement and the VTL1 runtime (see vsm.h for the design).
 *
 * Memory ownership. Everything named v1_* (v1g, v1_vps) and the page in
 * vtl1.S that holds vtl1_return_seq belong to VTL1: VTL0 builds the parts
 * VTL1 needs for its very first instruction (page tables, GDT, IDT, the BSP's
 * percpu/TSS) before VTL1 exists, and after vsm_boot() VTL1 protects all of
 * it from VTL0 (no access). From then on VTL0 code must not touch v1_*; the
 * VTL0-side functions below only use VTL0 data or go through a VTL call.
 * Variables VTL0 reads (vsm, vsm_first_entry, stats copies) are plain VTL0
 * memory that VTL1 writes.
 *
 * Entry/exit protocol (vtl1.S): VTL1 always leaves with interrupts
 * disabled and resumes inside vtl1_switch() with VTL0's shared registers,
 * which it stores in the frame before touching anything. The first entry on
 * a VP starts at vtl1_start (EnableVpVtl's RIP) and ends up in vtl1_main().
 */
#include "vsm.h"
#include "hv.h"
#include "apic.h"
#include "desc.h"
#include "libc.h"
#include "report.h"
#include "smp.h"
#include "layout.h"
#include "x86.h"

#define PAGE 4096ul
#define MSR_PAT 0x277
#define PAT_DEFAULT 0x0007040600070406ul

/* 64-bit interrupt gate as two quadwords: offset 15:0, selector, IST,
 * type/attributes, offset 31:16 | offset 63:32, reserved. */
struct idt_gate {
	u64 lo, hi;
};

/* One VP's VTL1-private pages. pcpu must stay first: v1_self() casts the
 * GS-based this_cpu() pointer to the whole structure. */
struct v1_vp {
	union {
		struct {
			struct percpu pcpu;     /* GS base in VTL1; pcpu.tss is VTL1's TSS */
			u32 vp_index;
			bool initialized;
			volatile bool msg_valid;
			bool bad_reason_reported;
			struct hv_message msg;  /* latest SINT0 message (ISR copy) */
			struct vsm_vtl1_stats stats;
		};
		u8 page0[PAGE];
	};
	u8 assist[PAGE];                /* VTL1 VP assist page (overlay) */
	u8 simp[PAGE];                  /* VTL1 SynIC message page (overlay) */
	u8 siefp[PAGE];                 /* VTL1 SynIC event flags page (overlay) */
	u8 hc_in[PAGE];                 /* VTL1 hypercall input page */
	u8 hc_out[PAGE];                /* VTL1 hypercall output page */
	u8 stack[VSM_VTL1_STACK_SIZE];
} __aligned(PAGE);

/* Partition-wide VTL1 state. */
struct v1_global {
	u8 hypercall_page[PAGE];        /* VTL1's hypercall overlay */
	u64 pml4[512];
	u64 pdpt[512];
	u64 pd[4][512];
	struct idt_gate idt[256];
	union {
		struct {
			u64 gdt[VTL1_GDT_ENTRIES];
			handler_t exc[256];
			vsm_intercept_fn intercept;
			struct vsm_config cfg;
			bool booted;
		};
		u8 misc[PAGE];
	};
} __aligned(PAGE);

_Static_assert(offsetof(struct v1_vp, pcpu) == 0, "pcpu first");
_Static_assert(sizeof(((struct v1_vp *)0)->page0) == PAGE, "v1_vp page 0");
_Static_assert(sizeof(struct idt_gate) == 16, "gate size");
_Static_assert(sizeof(struct vsm_frame) == 640, "vsm_frame layout (vtl1.S)");
_Static_assert(offsetof(struct vsm_frame, regs) == 512, "vsm_frame layout (vtl1.S)");
_Static_assert(offsetof(struct vsm_frame, regs.rcx) == 512 + 12 * 8, "vsm_frame layout (vtl1.S)");
_Static_assert(offsetof(struct vsm_frame, vtl1_rsp) == 632, "vsm_frame layout (vtl1.S)");

static struct v1_vp v1_vps[VSM_MAX_VPS];
static struct v1_global v1g;

/* vtl1.S */
extern char vtl1_start[], vtl1_isr_stubs[], vtl1_asm_data[], vsm_ap_start[];
extern void *vtl1_return_seq;
void vtl1_switch(struct vsm_frame *f, u64 kind);
/* entry.S, smp.c */
extern u64 gdt[];
extern char ap_stacks[];

struct vsm_state vsm;
void *vsm_vtl_call_seq;
struct vsm_entry_state vsm_first_entry[VSM_MAX_VPS];
static u8 v0_assist[VSM_MAX_VPS][PAGE] __aligned(PAGE);
static struct vsm_vtl1_stats v0_stats_copy[VSM_MAX_VPS];

bool vsm_in_vtl1(void)
{
	return hv_current_vtl() == 1;
}

static inline struct v1_vp *v1_self(void)
{
	return (struct v1_vp *)this_cpu();
}

struct hv_vp_assist_page *vsm_vtl1_assist(void)
{
	return (struct hv_vp_assist_page *)v1_self()->assist;
}

/* ---- building VTL1's tables and context ---- */

static void set_seg(struct hv_x64_segment_register *s, u64 base, u32 limit,
		    u16 sel, u16 attr)
{
	s->base = base;
	s->limit = limit;
	s->selector = sel;
	s->attributes = attr;
}

static void v1_build_tables(void)
{
	for (int i = 0; i < 4 * 512; i++)       /* 2 MiB pages: P|RW|A|D|PS */
		v1g.pd[i / 512][i % 512] = ((u64)i << 21) | 0xe3;
	for (int i = 0; i < 4; i++)
		v1g.pdpt[i] = (u64)v1g.pd[i] | 0x23;    /* P|RW|A */
	v1g.pml4[0] = (u64)v1g.pdpt | 0x23;

	for (int v = 0; v < 256; v++) {
		u64 a = (u64)vtl1_isr_stubs + 16 * v;

		v1g.idt[v].lo = (a & 0xffff) | ((u64)VTL1_CS << 16) |
				(0x8eul << 40) |        /* present 64-bit interrupt gate, IST 0 */
				((a >> 16 & 0xffff) << 48);
		v1g.idt[v].hi = a >> 32;
	}
	memset(v1g.gdt, 0, sizeof(v1g.gdt));
	v1g.gdt[VTL1_CS >> 3] = 0x00af9b000000fffful;  /* 64-bit code, accessed */
	v1g.gdt[VTL1_DS >> 3] = 0x00cf93000000fffful;  /* data, accessed */
}

void vsm_vtl1_context(u32 vp, struct hv_initial_vp_context *ctx)
{
	struct v1_vp *v = &v1_vps[vp];
	struct percpu *p = &v->pcpu;
	u64 tss = (u64)&p->tss, limit = sizeof(struct tss) - 1;
	u64 *d = &v1g.gdt[(VTL1_TSS_SEL(vp)) >> 3];

	if (vp >= VSM_MAX_VPS)
		panic("vsm: VP %u >= VSM_MAX_VPS", vp);
	/* That VP's VTL1 percpu (its GS base) and TSS. */
	memset(p, 0, sizeof(*p));
	p->self = p;
	p->id = vp;
	p->ex_vector = -1;
	p->tss.rsp0 = (u64)v->stack + sizeof(v->stack);
	p->tss.iomap_base = sizeof(struct tss);
	v->vp_index = vp;
	v->initialized = false;
	d[0] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x8bul << 40) |
	       (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	d[1] = tss >> 32;

	memset(ctx, 0, sizeof(*ctx));
	ctx->rip = (u64)vtl1_start;
	ctx->rsp = (u64)v->stack + sizeof(v->stack);
	ctx->rflags = 0x2;                      /* IF = 0 */
	set_seg(&ctx->cs, 0, 0xffffffff, VTL1_CS, 0xa09b);      /* G L P S type B */
	set_seg(&ctx->ds, 0, 0xffffffff, VTL1_DS, 0xc093);      /* G DB P S type 3 */
	ctx->es = ctx->ss = ctx->fs = ctx->ds;
	set_seg(&ctx->gs, (u64)p, 0xffffffff, VTL1_DS, 0xc093);
	set_seg(&ctx->tr, tss, limit, VTL1_TSS_SEL(vp), 0x008b);
	set_seg(&ctx->ldtr, 0, 0, 0, 0x0082);
	ctx->idtr.limit = sizeof(v1g.idt) - 1;
	ctx->idtr.base = (u64)v1g.idt;
	ctx->gdtr.limit = sizeof(v1g.gdt) - 1;
	ctx->gdtr.base = (u64)v1g.gdt;
	ctx->efer = EFER_LME | EFER_LMA | ((cpuid(0x80000001).d >> 20) & 1 ? EFER_NXE : 0);
	ctx->cr0 = X86_CR0_PG | X86_CR0_WP | X86_CR0_NE | (1ul << 4) /* ET */ |
		   X86_CR0_MP | X86_CR0_PE;
	ctx->cr3 = (u64)v1g.pml4;
	ctx->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	ctx->msr_cr_pat = PAT_DEFAULT;
}

void vsm_vtl0_ap_context(u32 vp, struct hv_initial_vp_context *ctx)
{
	struct { u16 limit; u64 base; } __attribute__((packed)) idtr;

	asm volatile("sidt %0" : "=m"(idtr));
	memset(ctx, 0, sizeof(*ctx));
	ctx->rip = (u64)vsm_ap_start;
	ctx->rsp = (u64)ap_stacks + (vp + 1) * AP_STACK_SIZE;
	ctx->rflags = 0x2;
	set_seg(&ctx->cs, 0, 0xffffffff, KERNEL_CS, 0xa09b);
	set_seg(&ctx->ds, 0, 0xffffffff, KERNEL_DS, 0xc093);
	ctx->es = ctx->ss = ctx->ds;
	/* FS/GS null, as entry.S leaves them; ap_main sets the GS base. */
	set_seg(&ctx->tr, 0, 0xffff, 0, 0x008b);
	set_seg(&ctx->ldtr, 0, 0, 0, 0x0082);
	ctx->idtr.limit = idtr.limit;
	ctx->idtr.base = idtr.base;
	ctx->gdtr.limit = GDT_ENTRIES * 8 - 1;
	ctx->gdtr.base = (u64)gdt;
	ctx->efer = rdmsr(MSR_EFER);
	ctx->cr0 = read_cr0();
	ctx->cr3 = read_cr3();
	ctx->cr4 = read_cr4();
	ctx->msr_cr_pat = rdmsr(MSR_PAT);
}

/* ---- VTL0 side ---- */

int vsm_prepare(void)
{
	u64 v;
	u16 s;

	if (vsm.prepared)
		return 0;
	if (!hv_hypercall_page(0) && hv_init())
		return -1;
	if ((hv_info.priv_hi & (HV_ACCESS_VSM | HV_ACCESS_VP_REGISTERS)) !=
	    (HV_ACCESS_VSM | HV_ACCESS_VP_REGISTERS)) {
		printf("vsm: partition lacks AccessVsm/AccessVpRegisters (CPUID 0x40000003 EBX = %x)\n",
		       hv_info.priv_hi);
		return -1;
	}
	s = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_CODE_PAGE_OFFSETS, &v);
	if (s != HV_STATUS_SUCCESS) {
		printf("vsm: GetVpRegisters(VsmCodePageOffsets) failed: %s (%x)\n", hv_status_name(s), s);
		return -1;
	}
	vsm.code_page_offsets = v;
	vsm.call_offset = HV_VSM_CODE_PAGE_CALL_OFFSET(v);
	vsm.return_offset = HV_VSM_CODE_PAGE_RETURN_OFFSET(v);
	vsm_vtl_call_seq = (u8 *)hv_hypercall_page(0) + vsm.call_offset;
	s = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, HV_REGISTER_VSM_CAPABILITIES, &v);
	vsm.capabilities = s == HV_STATUS_SUCCESS ? v : 0;
	hv_enable_vp_assist(v0_assist[smp_id()]);
	v1_build_tables();
	vsm.prepared = true;
	return 0;
}

u64 vsm_enable_partition_vtl(u64 partition, u8 vtl, u8 flags)
{
	struct hv_enable_partition_vtl_input in;
	u64 rdx, r8;

	memset(&in, 0, sizeof(in));
	in.partition_id = partition;
	in.target_vtl = vtl;
	in.flags = flags;
	memcpy(&rdx, (u8 *)&in, 8);
	memcpy(&r8, (u8 *)&in + 8, 8);
	return hv_hypercall_fast(hv_control(HVCALL_ENABLE_PARTITION_VTL, true, 0, 0, 0), &rdx, &r8);
}

u64 vsm_enable_partition_vtl_slow(u64 partition, u8 vtl, u8 flags)
{
	struct hv_enable_partition_vtl_input *in = hv_input_page();

	memset(in, 0, sizeof(*in));
	in->partition_id = partition;
	in->target_vtl = vtl;
	in->flags = flags;
	return hv_hypercall(hv_control(HVCALL_ENABLE_PARTITION_VTL, false, 0, 0, 0), (u64)in, 0);
}

u64 vsm_enable_vp_vtl(u64 partition, u32 vp, u8 vtl, const struct hv_initial_vp_context *ctx)
{
	struct hv_enable_vp_vtl_input *in = hv_input_page();

	memset(in, 0, sizeof(*in));
	in->partition_id = partition;
	in->vp_index = vp;
	in->target_vtl = vtl;
	in->context = *ctx;
	return hv_hypercall(hv_control(HVCALL_ENABLE_VP_VTL, false, 0, 0, 0), (u64)in, 0);
}

static u64 v1_step_boot(struct vsm_call *c);
static u64 v1_step_enable_vp(struct vsm_call *c);

bool vsm_report_platform(void)
{
	bool ok = true;

	hv_detect();
	ok &= report(hv_info.present, "CPUID.1:ECX[31] (hypervisor present) = %d", hv_info.present);
	ok &= report(!strcmp(hv_info.vendor, "Microsoft Hv") && hv_info.max_leaf >= HV_CPUID_FEATURES,
		     "CPUID 0x40000000: vendor \"%s\", max leaf %x (want \"Microsoft Hv\", >= 40000003)",
		     hv_info.vendor, hv_info.max_leaf);
	ok &= report(hv_info.interface == HV_CPUID_INTERFACE_HV1,
		     "CPUID 0x40000001: interface %x (want 31237648 \"Hv#1\")", hv_info.interface);
	report_info("CPUID 0x40000002: build %x version %x; 0x40000003: EAX %x EBX %x ECX %x EDX %x; "
		    "0x40000005: max VPs %u", hv_info.build, hv_info.version, hv_info.priv_lo,
		    hv_info.priv_hi, hv_info.features_ecx, hv_info.features_edx, hv_info.max_vps);
	ok &= report(hv_info.priv_hi & HV_ACCESS_VSM,
		     "CPUID 0x40000003 EBX[16] AccessVsm (EBX = %x)", hv_info.priv_hi);
	ok &= report(hv_info.priv_hi & HV_ACCESS_VP_REGISTERS,
		     "CPUID 0x40000003 EBX[17] AccessVpRegisters (EBX = %x)", hv_info.priv_hi);
	return ok;
}

u64 vsm_boot(const struct vsm_config *cfg)
{
	u64 r = vtl_call(VSM_OP_NOP, 0, 0, 0);

	if (r != VSM_NOP_MAGIC) {
		printf("vsm: first VTL call on VP %d returned %lx, not %lx\n", smp_id(), r,
		       VSM_NOP_MAGIC);
		return HV_STATUS_OPERATION_FAILED;
	}
	vsm.cfg = *cfg;
	r = vsm_vtl1_call(v1_step_boot, (u64)&vsm.cfg);
	if (hv_status(r) == HV_STATUS_SUCCESS)
		vsm.booted = true;
	return r;
}

long vsm_init(const struct vsm_config *cfg)
{
	struct hv_initial_vp_context ctx;
	u64 r;

	if (vsm_prepare())
		return -1;
	r = vsm_enable_partition_vtl(HV_PARTITION_ID_SELF, 1,
				     cfg->mbec ? HV_ENABLE_PARTITION_VTL_MBEC : 0);
	if (hv_status(r)) {
		printf("vsm: HvCallEnablePartitionVtl(VTL1) failed: %s (%x)\n",
		       hv_status_name(hv_status(r)), hv_status(r));
		return hv_status(r);
	}
	vsm_vtl1_context(smp_id(), &ctx);
	r = vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, 1, &ctx);
	if (hv_status(r)) {
		printf("vsm: HvCallEnableVpVtl(self, VTL1) failed: %s (%x)\n",
		       hv_status_name(hv_status(r)), hv_status(r));
		return hv_status(r);
	}
	vsm.enabled = true;
	r = vsm_boot(cfg);
	if (hv_status(r))
		printf("vsm: VTL1 boot failed: %s (%x)\n", hv_status_name(hv_status(r)), hv_status(r));
	return hv_status(r);
}

u64 vsm_enable_ap(u32 vp)
{
	return vsm_vtl1_call(v1_step_enable_vp, vp);
}

bool vsm_ap_boot(void)
{
	u64 r;

	hv_init_cpu();
	hv_enable_vp_assist(v0_assist[smp_id()]);
	r = vtl_call(VSM_OP_NOP, 0, 0, 0);
	if (r != VSM_NOP_MAGIC)
		printf("vsm: first VTL call on VP %d returned %lx\n", smp_id(), r);
	return r == VSM_NOP_MAGIC;
}

static volatile bool ap_booted[HV_MAX_VPS];

static void ap_boot(void *arg)
{
	(void)arg;
	ap_booted[smp_id()] = vsm_ap_boot();
}

bool vsm_bring_up_ap(u32 vp)
{
	hv_report_status(vsm_enable_ap(vp), HV_STATUS_SUCCESS, "VTL1 on VP0 enables VTL1 on VP%d", vp);
	on_cpu(vp, ap_boot, NULL);
	return report(ap_booted[vp], "VP%d boots VTL1", vp);
}

u64 vsm_start_vp(u32 vp)
{
	struct hv_initial_vp_context ctx;

	vsm_vtl0_ap_context(vp, &ctx);
	return hv_start_virtual_processor(HV_PARTITION_ID_SELF, vp, 0, &ctx);
}

static u64 v1_step_stats(struct vsm_call *c)
{
	v0_stats_copy[c->arg] = v1_vps[c->arg].stats;
	return 0;
}

void vsm_vtl1_stats(u32 vp, struct vsm_vtl1_stats *out)
{
	if (vsm_in_vtl1()) {
		*out = v1_vps[vp].stats;
		return;
	}
	vsm_vtl1_call(v1_step_stats, vp);
	*out = v0_stats_copy[vp];
}

static u64 v1_step_set_handler(struct vsm_call *c)
{
	vsm_set_intercept_handler((vsm_intercept_fn)c->arg);
	return 0;
}

void vsm_install_intercept_handler(vsm_intercept_fn fn)
{
	vsm_vtl1_call(v1_step_set_handler, (u64)fn);
}

/* ---- VTL1 side ---- */

void vsm_set_intercept_handler(vsm_intercept_fn fn)
{
	v1g.intercept = fn;
}

handler_t vsm_vtl1_handle_exception(u8 vector, handler_t fn)
{
	handler_t old = v1g.exc[vector];

	v1g.exc[vector] = fn;
	return old;
}

u64 vsm_protect(u64 gpa, u64 pages, u32 mask)
{
	u64 gpns[64], r = 0;

	for (u64 done = 0; done < pages;) {
		int n = pages - done > 64 ? 64 : (int)(pages - done);

		for (int i = 0; i < n; i++)
			gpns[i] = (gpa >> 12) + done + i;
		r = hv_modify_vtl_protection_mask(HV_PARTITION_ID_SELF, HV_INPUT_VTL(0),
						  mask, gpns, n);
		if (hv_status(r) != HV_STATUS_SUCCESS || hv_reps(r) != (u32)n)
			return r;
		done += n;
	}
	return r;
}

int vsm_vtl1_regions(struct vsm_region *out, int max)
{
	struct vsm_region all[] = {
		{ (u64)&v1g, sizeof(v1g) / PAGE, "VTL1 hypercall page, page tables, IDT, GDT" },
		{ (u64)v1_vps, sizeof(v1_vps) / PAGE, "VTL1 per-VP pages and stacks" },
		{ (u64)hv_vtl_state_page(1), 1, "VTL1 hypercall bookkeeping" },
		{ (u64)vtl1_asm_data, 1, "VTL1 return sequence pointer" },
	};
	int n = 0;

	for (; n < (int)ARRAY_SIZE(all) && n < max; n++)
		out[n] = all[n];
	return n;
}

u64 vsm_protect_vtl1_memory(void)
{
	struct vsm_region r[8];
	int n = vsm_vtl1_regions(r, 8);
	u64 res = 0;

	for (int i = 0; i < n; i++) {
		res = vsm_protect(r[i].start, r[i].pages, HV_MAP_GPA_NO_ACCESS);
		if (hv_status(res)) {
			printf("vsm: protecting %s (%lx, %lu pages) failed: %s (%x)\n", r[i].what,
			       r[i].start, r[i].pages, hv_status_name(hv_status(res)), hv_status(res));
			return res;
		}
	}
	return res;
}

u16 vsm_vtl0_set_reg(u32 name, u64 value)
{
	return hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL(0), name, value);
}

u16 vsm_vtl0_get_reg(u32 name, u64 *value)
{
	return hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL(0), name, value);
}

u16 vsm_vtl0_skip(const struct hv_x64_intercept_message_header *h)
{
	return vsm_vtl0_set_reg(HV_X64_REGISTER_RIP, h->rip + HV_INTERCEPT_INSTRUCTION_LENGTH(h));
}

u16 vsm_vtl0_inject_exception(u8 vector, bool has_error, u32 error)
{
	u32 name = HV_REGISTER_PENDING_EVENT0;
	union hv_register_value v = { { hv_pending_exception_lo(vector, has_error, error), 0 } };

	return hv_status(hv_set_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
					     HV_INPUT_VTL(0), &name, &v, 1));
}

static u16 v1_set_mbec(void)
{
	return hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
			  HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0, HV_VSM_VP_SECURE_CONFIG_MBEC);
}

static u64 v1_step_boot(struct vsm_call *c)
{
	const struct vsm_config *cfg = (const void *)c->arg;
	u16 s;

	v1g.cfg = *cfg;
	if (cfg->mbec && (s = v1_set_mbec()) != HV_STATUS_SUCCESS) {
		printf("vsm: VTL1 setting VsmVpSecureConfigVtl0.mbec_enabled failed: %s (%x)\n",
		       hv_status_name(s), s);
		return s;
	}
	if (cfg->default_mask) {
		u64 val = HV_VSM_CONFIG_ENABLE_VTL_PROTECTION |
			  ((u64)cfg->default_mask << HV_VSM_CONFIG_DEFAULT_MASK_SHIFT);

		s = hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
			       HV_REGISTER_VSM_PARTITION_CONFIG, val);
		if (s != HV_STATUS_SUCCESS) {
			printf("vsm: VTL1 writing VsmPartitionConfig = %lx failed: %s (%x)\n", val,
			       hv_status_name(s), s);
			return s;
		}
		if (!cfg->no_self_protect) {
			u64 r = vsm_protect_vtl1_memory();

			if (hv_status(r))
				return r;
		}
	}
	v1g.booted = true;
	return 0;
}

static u64 v1_step_enable_vp(struct vsm_call *c)
{
	struct hv_initial_vp_context ctx;

	vsm_vtl1_context(c->arg, &ctx);
	return vsm_enable_vp_vtl(HV_PARTITION_ID_SELF, c->arg, 1, &ctx);
}

static void v1_take_message(struct v1_vp *v)
{
	struct hv_message_page *mp = (struct hv_message_page *)v->simp;
	volatile struct hv_message *slot = &mp->sint_message[HV_SYNIC_INTERCEPTION_SINT_INDEX];
	bool pending;

	if (READ_ONCE(slot->header.message_type) == HVMSG_NONE) {
		v->stats.empty_sint0++;
		return;
	}
	if (v->msg_valid)
		v->stats.lost_messages++;
	memcpy(&v->msg, (const void *)slot, sizeof(v->msg));
	v->msg_valid = true;
	pending = slot->header.message_flags & HV_MESSAGE_FLAG_PENDING;
	/* §7: free the slot, then EOM if another message is queued behind it. */
	slot->header.message_type = HVMSG_NONE;
	asm volatile("mfence" ::: "memory");
	if (pending)
		wrmsr(HV_X64_MSR_EOM, 0);
}

static void v1_sint0_isr(struct ex_regs *r)
{
	struct v1_vp *v = v1_self();

	v->stats.sint0_irqs++;
	v1_take_message(v);
	apic_eoi();
}

static void __noreturn v1_unhandled(struct ex_regs *r)
{
	printf("VTL1 UNHANDLED: vector %lu (%s) on VP %d at rip=%lx cs=%lx error=%lx\n",
	       r->vector, exception_name(r->vector), smp_id(), r->rip, r->cs, r->error_code);
	printf("  rflags=%lx rsp=%lx ss=%lx cr2=%lx\n", r->rflags, r->rsp, r->ss, read_cr2());
	printf("  rax=%lx rbx=%lx rcx=%lx rdx=%lx\n", r->rax, r->rbx, r->rcx, r->rdx);
	printf("  rsi=%lx rdi=%lx rbp=%lx r8=%lx\n", r->rsi, r->rdi, r->rbp, r->r8);
	exit(EXIT_UNHANDLED);
}

void vtl1_isr_dispatch(struct ex_regs *r);

void vtl1_isr_dispatch(struct ex_regs *r)
{
	handler_t h = v1g.exc[r->vector];

	if (h)
		h(r);
	else if (r->vector == VSM_SINT0_VECTOR)
		v1_sint0_isr(r);
	else if (r->vector == APIC_SPURIOUS_VECTOR)
		;
	else if (r->vector >= 32 || !extable_fixup(r))
		v1_unhandled(r);
}

/* Let VTL1's pending interrupts in (VTL1 runs with IF = 0 otherwise). */
static void v1_take_interrupts(struct v1_vp *v)
{
	struct hv_message_page *mp = (struct hv_message_page *)v->simp;
	volatile struct hv_message *slot = &mp->sint_message[HV_SYNIC_INTERCEPTION_SINT_INDEX];

	for (int i = 0; i < 8; i++)
		asm volatile("sti; nop; cli" ::: "memory");
	if (v->msg_valid || READ_ONCE(slot->header.message_type) == HVMSG_NONE)
		return;
	for (int i = 0; i < 100000 && !v->msg_valid; i++)
		asm volatile("sti; nop; cli" ::: "memory");
	if (!v->msg_valid) {
		report(false, "VTL1 VP%u: SINT0 message (type %x) in the message page but "
		       "SINT0 vector %x never delivered (SINT0 = %lx); taking it by polling",
		       v->vp_index, slot->header.message_type, VSM_SINT0_VECTOR,
		       rdmsr(HV_X64_MSR_SINT0));
		v->stats.polled_messages++;
		v1_take_message(v);
	}
}

static void v1_default_intercept(struct vsm_intercept *ic)
{
	hv_dump_message("VTL1: unexpected message", ic->msg);
	report(false, "VTL1 VP%u: message type %x arrived with no intercept handler installed",
	       ic->vp, ic->msg->header.message_type);
	exit(report_summary());
}

static struct hv_vp_vtl_control *v1_ctl(struct v1_vp *v)
{
	return &((struct hv_vp_assist_page *)v->assist)->vtl_control;
}

/* Interrupt entry (§5.4): take the interrupts, hand messages over, and
 * return non-fast with VTL0's RAX/RCX (maybe changed by the handler). */
static u64 v1_interrupt_entry(struct v1_vp *v, struct vsm_frame *f)
{
	v->stats.last_interrupt_gprs = f->regs;
	v1_take_interrupts(v);
	while (v->msg_valid) {
		struct hv_message m = v->msg;
		struct vsm_intercept ic = { .vp = v->vp_index, .msg = &m, .frame = f };

		v->msg_valid = false;
		v->stats.intercepts++;
		(v1g.intercept ? v1g.intercept : v1_default_intercept)(&ic);
	}
	v1_ctl(v)->vtl_return_rax = f->regs.rax;
	v1_ctl(v)->vtl_return_rcx = f->regs.rcx;
	return 0;
}

static u64 v1_finish(struct v1_vp *v, struct vsm_call *c)
{
	if (c->fast_return)
		return 1;
	v1_ctl(v)->vtl_return_rax = c->ret_rax;
	v1_ctl(v)->vtl_return_rcx = c->ret_rcx;
	return 0;
}

static u64 v1_call_entry(struct v1_vp *v, struct vsm_frame *f, u32 reason)
{
	struct vsm_call c = {
		.arg = f->regs.rdx, .vp = v->vp_index, .entry_reason = reason,
		.frame = f, .fast_return = true,
	};

	switch (f->regs.rdi) {
	case VSM_OP_NOP:
		f->regs.rdx = VSM_NOP_MAGIC;
		return 1;
	case VSM_OP_RUN:
		f->regs.rdx = ((vsm_vtl1_fn)f->regs.rsi)(&c);
		return v1_finish(v, &c);
	default:
		f->regs.rdx = VSM_BAD_OP;
		return 1;
	}
}

/* Read and count the entry reason of the entry that just happened. */
static u32 v1_entry_reason(struct v1_vp *v)
{
	u32 reason = READ_ONCE(v1_ctl(v)->entry_reason);

	v->stats.entries++;
	v->stats.last_entry_reason = reason;
	if (reason == HV_VTL_ENTRY_REASON_VTL_CALL) {
		v->stats.calls++;
	} else if (reason == HV_VTL_ENTRY_REASON_INTERRUPT) {
		v->stats.interrupts++;
	} else {
		v->stats.other_reasons++;
		if (!v->bad_reason_reported) {
			v->bad_reason_reported = true;
			report(false, "VTL1 VP%u: VTL entry reason %u (expected 1 = VTL call or "
			       "2 = interrupt); handled as an interrupt entry", v->vp_index, reason);
		}
	}
	return reason;
}

u64 vsm_vtl1_yield(struct vsm_call *c, u64 result)
{
	struct v1_vp *v = v1_self();
	struct vsm_frame *f = c->frame;
	u64 kind, handled = 0;

	f->regs.rdx = result;
	kind = v1_finish(v, c);
	for (;;) {
		vtl1_switch(f, kind);
		if (v1_entry_reason(v) == HV_VTL_ENTRY_REASON_VTL_CALL) {
			c->arg = f->regs.rdx;
			c->entry_reason = HV_VTL_ENTRY_REASON_VTL_CALL;
			c->fast_return = true;
			c->ret_rax = c->ret_rcx = 0;
			return handled;
		}
		kind = v1_interrupt_entry(v, f);
		handled++;
	}
}

static void v1_vp_init(struct v1_vp *v)
{
	u64 offs;

	hv_set_io_pages(1, v->vp_index, v->hc_in, v->hc_out);
	hv_enable_hypercalls(v1g.hypercall_page, HV_GUEST_OS_ID_VTL1);
	hv_enable_vp_assist(v->assist);
	apic_enable();
	wrmsr(HV_X64_MSR_SINT0, VSM_SINT0_VECTOR);
	hv_synic_enable(v->simp, v->siefp);
	offs = hv_read_reg(HV_REGISTER_VSM_CODE_PAGE_OFFSETS);
	vtl1_return_seq = v1g.hypercall_page + HV_VSM_CODE_PAGE_RETURN_OFFSET(offs);
	if (v1g.cfg.mbec)
		v1_set_mbec();
	v->initialized = true;
}

static void v1_snapshot(struct v1_vp *v, struct vsm_frame *f)
{
	struct vsm_entry_state *s = &vsm_first_entry[v->vp_index];
	struct { u16 limit; u64 base; } __attribute__((packed)) t;
	u16 sel;

	s->rflags = f->vtl1_rsp;                /* vtl1_start's PUSHFQ */
	s->rsp = (u64)f + sizeof(*f);
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->efer = rdmsr(MSR_EFER);
	s->pat = rdmsr(MSR_PAT);
	s->fs_base = rdmsr(MSR_FS_BASE);
	s->gs_base = rdmsr(MSR_GS_BASE);
	s->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	asm volatile("mov %%cs, %0" : "=r"(sel)); s->cs = sel;
	asm volatile("mov %%ds, %0" : "=r"(sel)); s->ds = sel;
	asm volatile("mov %%es, %0" : "=r"(sel)); s->es = sel;
	asm volatile("mov %%fs, %0" : "=r"(sel)); s->fs = sel;
	asm volatile("mov %%gs, %0" : "=r"(sel)); s->gs = sel;
	asm volatile("mov %%ss, %0" : "=r"(sel)); s->ss = sel;
	asm volatile("str %0" : "=r"(sel)); s->tr = sel;
	asm volatile("sldt %0" : "=r"(sel)); s->ldtr = sel;
	asm volatile("sgdt %0" : "=m"(t));
	s->gdtr.limit = t.limit;
	s->gdtr.base = t.base;
	asm volatile("sidt %0" : "=m"(t));
	s->idtr.limit = t.limit;
	s->idtr.base = t.base;
	s->regs = f->regs;
	s->valid = true;
}

void __noreturn vtl1_main(struct vsm_frame *f);

/* Called once per VP by vtl1_start (vtl1.S), on the first VTL1 entry. */
void __noreturn vtl1_main(struct vsm_frame *f)
{
	struct v1_vp *v = v1_self();
	u64 kind;

	v1_snapshot(v, f);
	v1_vp_init(v);
	/* The VP assist page did not exist at this entry, so there is no entry
	 * reason to read: the first entry can only be a VTL call. */
	v->stats.entries++;
	v->stats.calls++;
	v->stats.last_entry_reason = HV_VTL_ENTRY_REASON_VTL_CALL;
	kind = v1_call_entry(v, f, HV_VTL_ENTRY_REASON_VTL_CALL);
	for (;;) {
		vtl1_switch(f, kind);
		if (v1_entry_reason(v) == HV_VTL_ENTRY_REASON_VTL_CALL)
			kind = v1_call_entry(v, f, HV_VTL_ENTRY_REASON_VTL_CALL);
		else
			kind = v1_interrupt_entry(v, f);
	}
}
