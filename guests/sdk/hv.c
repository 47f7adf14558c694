/*
 * hv.c - Hyper-V discovery, hypercall page setup and hypercall wrappers
 * (spec/vsm.md §1, §2). Every wrapper calls through the hypercall page of
 * the VTL it runs in (per-VTL private MSR, §5.1) and uses that (VTL, VP)'s
 * own input/output pages, so VTL1 code interrupting VTL0 in the middle of
 * building a hypercall never shares a buffer with it.
 *
 * Which VTL we are in is derived from the GS base: VTL0 runs on the SDK's
 * percpu[] array, VTL1 (vsm.c) on its own copy. The per-VTL bookkeeping
 * is kept on one page per VTL, so VTL1 can protect its copy from VTL0.
 */
#include "hv.h"
#include "desc.h"
#include "libc.h"
#include "x86.h"
#include "report.h"

struct hv_vtl_state {
	void *hypercall_page;
	struct {
		void *in, *out;
	} io[HV_MAX_VPS];
};

static union {
	struct hv_vtl_state s;
	u8 page[HV_PAGE_SIZE];
} hv_vtl[HV_NUM_VTLS] __aligned(HV_PAGE_SIZE);

static u8 hv_vtl0_hypercall_page[HV_PAGE_SIZE] __aligned(HV_PAGE_SIZE);
static u8 hv_vtl0_io[HV_MAX_VPS][2][HV_PAGE_SIZE] __aligned(HV_PAGE_SIZE);

struct hv_info hv_info;

const char *hv_status_name(u16 s)
{
	switch (s) {
	case HV_STATUS_SUCCESS: return "SUCCESS";
	case HV_STATUS_INVALID_HYPERCALL_CODE: return "INVALID_HYPERCALL_CODE";
	case HV_STATUS_INVALID_HYPERCALL_INPUT: return "INVALID_HYPERCALL_INPUT";
	case HV_STATUS_INVALID_ALIGNMENT: return "INVALID_ALIGNMENT";
	case HV_STATUS_INVALID_PARAMETER: return "INVALID_PARAMETER";
	case HV_STATUS_ACCESS_DENIED: return "ACCESS_DENIED";
	case HV_STATUS_INVALID_PARTITION_STATE: return "INVALID_PARTITION_STATE";
	case HV_STATUS_OPERATION_DENIED: return "OPERATION_DENIED";
	case HV_STATUS_UNKNOWN_PROPERTY: return "UNKNOWN_PROPERTY";
	case HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE: return "PROPERTY_VALUE_OUT_OF_RANGE";
	case HV_STATUS_INSUFFICIENT_MEMORY: return "INSUFFICIENT_MEMORY";
	case HV_STATUS_PARTITION_TOO_DEEP: return "PARTITION_TOO_DEEP";
	case HV_STATUS_INVALID_PARTITION_ID: return "INVALID_PARTITION_ID";
	case HV_STATUS_INVALID_VP_INDEX: return "INVALID_VP_INDEX";
	case HV_STATUS_NOT_FOUND: return "NOT_FOUND";
	case HV_STATUS_INVALID_PORT_ID: return "INVALID_PORT_ID";
	case HV_STATUS_INVALID_CONNECTION_ID: return "INVALID_CONNECTION_ID";
	case HV_STATUS_INSUFFICIENT_BUFFERS: return "INSUFFICIENT_BUFFERS";
	case HV_STATUS_NOT_ACKNOWLEDGED: return "NOT_ACKNOWLEDGED";
	case HV_STATUS_INVALID_VP_STATE: return "INVALID_VP_STATE";
	case HV_STATUS_ACKNOWLEDGED: return "ACKNOWLEDGED";
	case HV_STATUS_INVALID_SAVE_RESTORE_STATE: return "INVALID_SAVE_RESTORE_STATE";
	case HV_STATUS_INVALID_SYNIC_STATE: return "INVALID_SYNIC_STATE";
	case HV_STATUS_OBJECT_IN_USE: return "OBJECT_IN_USE";
	case HV_STATUS_NO_DATA: return "NO_DATA";
	case HV_STATUS_INACTIVE: return "INACTIVE";
	case HV_STATUS_NO_RESOURCES: return "NO_RESOURCES";
	case HV_STATUS_FEATURE_UNAVAILABLE: return "FEATURE_UNAVAILABLE";
	case HV_STATUS_PARTIAL_PACKET: return "PARTIAL_PACKET";
	case HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED: return "PROCESSOR_FEATURE_NOT_SUPPORTED";
	case HV_STATUS_INVALID_LP_INDEX: return "INVALID_LP_INDEX";
	case HV_STATUS_INVALID_REGISTER_VALUE: return "INVALID_REGISTER_VALUE";
	case HV_STATUS_INVALID_VTL_STATE: return "INVALID_VTL_STATE";
	case HV_STATUS_OPERATION_FAILED: return "OPERATION_FAILED";
	case HV_STATUS_TIMEOUT: return "TIMEOUT";
	case HV_STATUS_CALL_PENDING: return "CALL_PENDING";
	case HV_STATUS_VTL_ALREADY_ENABLED: return "VTL_ALREADY_ENABLED";
	case HV_STATUS_UNKNOWN_REGISTER_NAME: return "UNKNOWN_REGISTER_NAME";
	default: return "?";
	}
}

/* ---- discovery and setup ---- */

bool hv_detect(void)
{
	struct cpuid c = cpuid(1);

	memset(&hv_info, 0, sizeof(hv_info));
	hv_info.present = (c.c >> 31) & 1;
	if (!hv_info.present)
		return false;
	c = cpuid(HV_CPUID_VENDOR_AND_MAX_FUNCTIONS);
	hv_info.max_leaf = c.a;
	memcpy(hv_info.vendor + 0, &c.b, 4);
	memcpy(hv_info.vendor + 4, &c.c, 4);
	memcpy(hv_info.vendor + 8, &c.d, 4);
	if (c.b != HV_CPUID_VENDOR_EBX || c.c != HV_CPUID_VENDOR_ECX ||
	    c.d != HV_CPUID_VENDOR_EDX || hv_info.max_leaf < HV_CPUID_FEATURES)
		return false;
	hv_info.interface = cpuid(HV_CPUID_INTERFACE).a;
	c = cpuid(HV_CPUID_VERSION);
	hv_info.build = c.a;
	hv_info.version = c.b;
	c = cpuid(HV_CPUID_FEATURES);
	hv_info.priv_lo = c.a;
	hv_info.priv_hi = c.b;
	hv_info.features_ecx = c.c;
	hv_info.features_edx = c.d;
	if (hv_info.max_leaf >= HV_CPUID_IMPLEMENT_LIMITS)
		hv_info.max_vps = cpuid(HV_CPUID_IMPLEMENT_LIMITS).a;
	return hv_info.interface == HV_CPUID_INTERFACE_HV1;
}

int hv_current_vtl(void)
{
	struct percpu *p = this_cpu();

	return (p->id < MAX_CPUS && p == &percpu[p->id]) ? 0 : 1;
}

void *hv_hypercall_page(int vtl)
{
	return hv_vtl[vtl].s.hypercall_page;
}

void *hv_vtl_state_page(int vtl)
{
	return hv_vtl[vtl].page;
}

void hv_set_io_pages(int vtl, int vp, void *in, void *out)
{
	if (vp < 0 || vp >= HV_MAX_VPS)
		panic("hv: VP %d >= HV_MAX_VPS (%d)", vp, HV_MAX_VPS);
	hv_vtl[vtl].s.io[vp].in = in;
	hv_vtl[vtl].s.io[vp].out = out;
}

void hv_enable_hypercalls(void *page, u64 os_id)
{
	/* §1.1: the guest OS ID must be non-zero before the hypercall page
	 * can be enabled. Both MSRs are private to the VTL (§5.1). */
	wrmsr(HV_X64_MSR_GUEST_OS_ID, os_id);
	wrmsr(HV_X64_MSR_HYPERCALL, (u64)page | HV_HYPERCALL_ENABLE);
	hv_vtl[hv_current_vtl()].s.hypercall_page = page;
}

void hv_init_cpu(void)
{
	int id = smp_id();

	hv_set_io_pages(0, id, hv_vtl0_io[id][0], hv_vtl0_io[id][1]);
	hv_enable_hypercalls(hv_vtl0_hypercall_page, HV_GUEST_OS_ID_VTL0);
}

int hv_init(void)
{
	if (!hv_detect()) {
		printf("hv: no Hyper-V interface (CPUID.1:ECX[31]=%d, vendor \"%s\", "
		       "interface %x)\n", hv_info.present, hv_info.vendor, hv_info.interface);
		return -1;
	}
	hv_init_cpu();
	return 0;
}

static struct hv_vtl_state *cur(void)
{
	return &hv_vtl[hv_current_vtl()].s;
}

void *hv_input_page(void)
{
	void *p = cur()->io[smp_id()].in;

	if (!p)
		panic("hv: no hypercall input page for VTL%d VP %d", hv_current_vtl(), smp_id());
	return p;
}

void *hv_output_page(void)
{
	void *p = cur()->io[smp_id()].out;

	if (!p)
		panic("hv: no hypercall output page for VTL%d VP %d", hv_current_vtl(), smp_id());
	return p;
}

/* ---- raw calls ---- */

static void *page_or_panic(void)
{
	void *page = cur()->hypercall_page;

	if (!page)
		panic("hv: hypercall page of VTL%d not enabled", hv_current_vtl());
	return page;
}

/* The hypercall page code only changes RAX (and, for fast output, RDX, R8
 * and XMM registers: §1.2); RCX/RDX/R8 are still declared as outputs. */
u64 hv_hypercall(u64 control, u64 input_gpa, u64 output_gpa)
{
	void *page = page_or_panic();
	register u64 r8 asm("r8") = output_gpa;
	u64 ret;

	asm volatile("call *%[page]"
		     : "=a"(ret), "+c"(control), "+d"(input_gpa), "+r"(r8)
		     : [page] "r"(page)
		     : "memory", "cc");
	return ret;
}

u64 hv_hypercall_fast(u64 control, u64 *rdx, u64 *r8)
{
	void *page = page_or_panic();
	register u64 r8_ asm("r8") = *r8;
	u64 d = *rdx, ret;

	control |= HV_HYPERCALL_FAST;
	asm volatile("call *%[page]"
		     : "=a"(ret), "+c"(control), "+d"(d), "+r"(r8_)
		     : [page] "r"(page)
		     : "memory", "cc");
	*rdx = d;
	*r8 = r8_;
	return ret;
}

u64 hv_hypercall_xmm(u64 control, u64 *rdx, u64 *r8, struct hv_xmm *x)
{
#ifdef NO_SSE
	(void)control; (void)rdx; (void)r8; (void)x;
	panic("hv: XMM fast hypercalls need SSE (NO_SSE build)");
#else
	void *page = page_or_panic();
	register u64 r8_ asm("r8") = *r8;
	u64 d = *rdx, ret;

	control |= HV_HYPERCALL_FAST;
	asm volatile("movdqu 0x00(%[x]), %%xmm0\n\t"
		     "movdqu 0x10(%[x]), %%xmm1\n\t"
		     "movdqu 0x20(%[x]), %%xmm2\n\t"
		     "movdqu 0x30(%[x]), %%xmm3\n\t"
		     "movdqu 0x40(%[x]), %%xmm4\n\t"
		     "movdqu 0x50(%[x]), %%xmm5\n\t"
		     "call *%[page]\n\t"
		     "movdqu %%xmm0, 0x00(%[x])\n\t"
		     "movdqu %%xmm1, 0x10(%[x])\n\t"
		     "movdqu %%xmm2, 0x20(%[x])\n\t"
		     "movdqu %%xmm3, 0x30(%[x])\n\t"
		     "movdqu %%xmm4, 0x40(%[x])\n\t"
		     "movdqu %%xmm5, 0x50(%[x])"
		     : "=&a"(ret), "+c"(control), "+d"(d), "+r"(r8_)
		     : [x] "r"(x), [page] "r"(page)
		     : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5");
	*rdx = d;
	*r8 = r8_;
	return ret;
#endif
}

/* ---- Get/SetVpRegisters (§2.5) ---- */

static void fill_header(void *p, u64 partition, u32 vp, u8 input_vtl)
{
	struct hv_vp_registers_header *h = p;

	memset(h, 0, sizeof(*h));
	h->partition_id = partition;
	h->vp_index = vp;
	h->input_vtl = input_vtl;
}

u64 hv_get_vp_registers(u64 partition, u32 vp, u8 input_vtl, const u32 *names,
			int n, union hv_register_value *values)
{
	u8 *in = hv_input_page();
	u8 *out = hv_output_page();
	u64 r;

	if (n < 0 || 16 + 4 * n > (int)HV_PAGE_SIZE || 16 * n > (int)HV_PAGE_SIZE)
		panic("hv_get_vp_registers: %d registers do not fit a page", n);
	fill_header(in, partition, vp, input_vtl);
	memcpy(in + 16, names, 4 * n);
	memset(out, 0, 16 * n);
	r = hv_hypercall(hv_control(HVCALL_GET_VP_REGISTERS, false, 0, n, 0),
			 (u64)in, (u64)out);
	memcpy(values, out, 16 * n);
	return r;
}

u64 hv_set_vp_registers(u64 partition, u32 vp, u8 input_vtl, const u32 *names,
			const union hv_register_value *values, int n)
{
	u8 *in = hv_input_page();
	struct hv_register_assoc *e = (struct hv_register_assoc *)(in + 16);

	if (n < 0 || 16 + 32 * n > (int)HV_PAGE_SIZE)
		panic("hv_set_vp_registers: %d registers do not fit a page", n);
	fill_header(in, partition, vp, input_vtl);
	for (int i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].name = names[i];
		e[i].value = values[i];
	}
	return hv_hypercall(hv_control(HVCALL_SET_VP_REGISTERS, false, 0, n, 0),
			    (u64)in, 0);
}

u64 hv_get_vp_registers_fast(u64 partition, u32 vp, u8 input_vtl,
			     const u32 *names, int n, union hv_register_value *values)
{
	struct hv_vp_registers_header h;
	struct hv_xmm x;
	u32 *name_slots = (u32 *)x.q;
	int in_regs = (n + 3) / 4;
	u64 rdx, r8, r;

	memset(&x, 0, sizeof(x));
	fill_header(&h, partition, vp, input_vtl);
	memcpy(&rdx, (u8 *)&h, 8);
	memcpy(&r8, (u8 *)&h + 8, 8);
	for (int i = 0; i < n && i < 24; i++)
		name_slots[i] = names[i];
	r = hv_hypercall_xmm(hv_control(HVCALL_GET_VP_REGISTERS, true, 0, n, 0),
			     &rdx, &r8, &x);
	/* Values start in the XMM register after the last one holding names. */
	if (hv_status(r) == HV_STATUS_SUCCESS && in_regs + n <= 6)
		memcpy(values, &x.q[2 * in_regs], 16 * n);
	return r;
}

u64 hv_set_vp_registers_fast(u64 partition, u32 vp, u8 input_vtl, const u32 *names,
			     const union hv_register_value *values, int n)
{
	struct hv_vp_registers_header h;
	struct hv_xmm x;
	u64 rdx, r8;

	memset(&x, 0, sizeof(x));
	fill_header(&h, partition, vp, input_vtl);
	memcpy(&rdx, (u8 *)&h, 8);
	memcpy(&r8, (u8 *)&h + 8, 8);
	/* TLFS layout: element i = name in XMM(2i) low dword, value in XMM(2i+1). */
	for (int i = 0; i < n && i < 3; i++) {
		x.q[4 * i] = names[i];
		x.q[4 * i + 2] = values[i].q[0];
		x.q[4 * i + 3] = values[i].q[1];
	}
	return hv_hypercall_xmm(hv_control(HVCALL_SET_VP_REGISTERS, true, 0, n, 0),
				&rdx, &r8, &x);
}

u16 hv_get_reg(u32 vp, u8 input_vtl, u32 name, u64 *value)
{
	union hv_register_value v = { { 0, 0 } };
	u64 r = hv_get_vp_registers(HV_PARTITION_ID_SELF, vp, input_vtl, &name, 1, &v);

	*value = v.q[0];
	return hv_status(r);
}

u16 hv_set_reg(u32 vp, u8 input_vtl, u32 name, u64 value)
{
	union hv_register_value v = { { value, 0 } };

	return hv_status(hv_set_vp_registers(HV_PARTITION_ID_SELF, vp, input_vtl,
					     &name, &v, 1));
}

u64 hv_read_reg(u32 name)
{
	u64 v;
	u16 s = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT, name, &v);

	if (s != HV_STATUS_SUCCESS)
		panic("hv: GetVpRegisters(%x) in VTL%d failed: %s (%x)", name,
		      hv_current_vtl(), hv_status_name(s), s);
	return v;
}

/* ---- ModifyVtlProtectionMask (§2.4) ---- */

u64 hv_modify_vtl_protection_mask(u64 partition, u8 input_vtl, u32 map_flags,
				  const u64 *gpns, int n)
{
	u8 *in = hv_input_page();
	struct hv_modify_vtl_protection_mask_header *h = (void *)in;

	if (n < 0 || 16 + 8 * n > (int)HV_PAGE_SIZE)
		panic("hv_modify_vtl_protection_mask: %d pages do not fit a page", n);
	memset(h, 0, sizeof(*h));
	h->partition_id = partition;
	h->map_flags = map_flags;
	h->input_vtl = input_vtl;
	memcpy(in + 16, gpns, 8 * n);
	return hv_hypercall(hv_control(HVCALL_MODIFY_VTL_PROTECTION_MASK, false, 0, n, 0),
			    (u64)in, 0);
}

u64 hv_modify_vtl_protection_mask_fast(u64 partition, u8 input_vtl, u32 map_flags,
				       const u64 *gpns, int n)
{
	struct hv_modify_vtl_protection_mask_header h;
	struct hv_xmm x;
	u64 rdx, r8;

	memset(&h, 0, sizeof(h));
	h.partition_id = partition;
	h.map_flags = map_flags;
	h.input_vtl = input_vtl;
	memcpy(&rdx, (u8 *)&h, 8);
	memcpy(&r8, (u8 *)&h + 8, 8);
	memset(&x, 0, sizeof(x));
	for (int i = 0; i < n && i < 12; i++)   /* two GPNs per XMM register */
		x.q[i] = gpns[i];
	return hv_hypercall_xmm(hv_control(HVCALL_MODIFY_VTL_PROTECTION_MASK, true, 0, n, 0),
				&rdx, &r8, &x);
}

/* ---- TranslateVirtualAddress(Ex) (§2.6) ---- */

static void *translate_input(u64 partition, u32 vp, u64 flags, u64 gva)
{
	struct hv_translate_va_input *in = hv_input_page();

	memset(in, 0, sizeof(*in));
	in->partition_id = partition;
	in->vp_index = vp;
	in->control_flags = flags;
	in->gva_page = gva >> 12;
	return in;
}

u64 hv_translate_va(u64 partition, u32 vp, u64 flags, u64 gva,
		    struct hv_translate_va_output *out)
{
	void *in = translate_input(partition, vp, flags, gva);
	void *o = hv_output_page();
	u64 r;

	memset(o, 0xa5, sizeof(*out));  /* so an untouched output is visible */
	r = hv_hypercall(hv_control(HVCALL_TRANSLATE_VIRTUAL_ADDRESS, false, 0, 0, 0),
			 (u64)in, (u64)o);
	memcpy(out, o, sizeof(*out));
	return r;
}

u64 hv_translate_va_ex(u64 partition, u32 vp, u64 flags, u64 gva,
		       struct hv_translate_va_ex_output *out)
{
	void *in = translate_input(partition, vp, flags, gva);
	void *o = hv_output_page();
	u64 r;

	memset(o, 0xa5, sizeof(*out));
	r = hv_hypercall(hv_control(HVCALL_TRANSLATE_VIRTUAL_ADDRESS_EX, false, 0, 0, 0),
			 (u64)in, (u64)o);
	memcpy(out, o, sizeof(*out));
	return r;
}

u64 hv_translate_va_fast(u64 partition, u32 vp, u64 flags, u64 gva,
			 struct hv_translate_va_output *out)
{
	struct hv_xmm x;
	u64 rdx = partition, r8 = vp, r;        /* VP index u32 + 4 reserved bytes */

	memset(&x, 0, sizeof(x));
	x.q[0] = flags;
	x.q[1] = gva >> 12;
	x.q[2] = x.q[3] = 0xa5a5a5a5a5a5a5a5ul;
	r = hv_hypercall_xmm(hv_control(HVCALL_TRANSLATE_VIRTUAL_ADDRESS, true, 0, 0, 0),
			     &rdx, &r8, &x);
	memcpy(out, &x.q[2], sizeof(*out));     /* output: XMM1 */
	return r;
}

/* ---- other calls ---- */

u64 hv_start_virtual_processor(u64 partition, u32 vp, u8 vtl,
			       const struct hv_initial_vp_context *ctx)
{
	struct hv_enable_vp_vtl_input *in = hv_input_page();

	memset(in, 0, sizeof(*in));
	in->partition_id = partition;
	in->vp_index = vp;
	in->target_vtl = vtl;
	in->context = *ctx;
	return hv_hypercall(hv_control(HVCALL_START_VIRTUAL_PROCESSOR, false, 0, 0, 0),
			    (u64)in, 0);
}

u64 hv_get_vp_index_from_apic_id(u64 partition, u8 vtl, u32 apic_id, u32 *vp)
{
	u8 *in = hv_input_page();
	u8 *out = hv_output_page();
	u64 r;

	memset(in, 0, 32);
	memcpy(in, &partition, 8);
	in[8] = vtl;
	memcpy(in + 16, &apic_id, 4);
	memset(out, 0xff, 4);
	memset(out + 4, 0, 4);
	r = hv_hypercall(hv_control(HVCALL_GET_VP_INDEX_FROM_APIC_ID, false, 0, 1, 0),
			 (u64)in, (u64)out);
	memcpy(vp, out, 4);
	return r;
}

u64 hv_send_synthetic_cluster_ipi(u32 vector, u8 input_vtl, u64 vp_mask)
{
	u8 *in = hv_input_page();

	memset(in, 0, 16);
	memcpy(in, &vector, 4);
	in[4] = input_vtl;
	memcpy(in + 8, &vp_mask, 8);
	return hv_hypercall(hv_control(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, false, 0, 0, 0),
			    (u64)in, 0);
}

void hv_enable_vp_assist(void *page)
{
	wrmsr(HV_X64_MSR_VP_ASSIST_PAGE, (u64)page | HV_VP_ASSIST_PAGE_ENABLE);
}

void hv_synic_enable(void *simp, void *siefp)
{
	wrmsr(HV_X64_MSR_SIMP, (u64)simp | HV_SYNIC_SIMP_ENABLE);
	wrmsr(HV_X64_MSR_SIEFP, (u64)siefp | HV_SYNIC_SIEFP_ENABLE);
	wrmsr(HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
}

static void dump_seg(const char *name, const struct hv_x64_segment_register *s)
{
	printf("    %s: base %lx limit %x sel %x attr %x\n", name, s->base, s->limit,
	       s->selector, s->attributes);
}

void hv_dump_message(const char *prefix, const struct hv_message *m)
{
	const struct hv_x64_intercept_message_header *h = (const void *)m->payload;

	printf("%s: message type %x size %u flags %x sender %lx\n", prefix,
	       m->header.message_type, m->header.payload_size, m->header.message_flags,
	       m->header.sender);
	if ((m->header.message_type & 0x80010000) == 0x80010000 ||
	    m->header.message_type == HVMSG_GPA_INTERCEPT ||
	    m->header.message_type == HVMSG_UNMAPPED_GPA) {
		printf("    vp %u ilen %u cr8 %u access %u exec_state %x rip %lx rflags %lx\n",
		       h->vp_index, HV_INTERCEPT_INSTRUCTION_LENGTH(h), HV_INTERCEPT_CR8(h),
		       h->access_type, h->execution_state, h->rip, h->rflags);
		dump_seg("cs", &h->cs);
	}
	if (m->header.message_type == HVMSG_GPA_INTERCEPT ||
	    m->header.message_type == HVMSG_UNMAPPED_GPA) {
		const struct hv_x64_memory_intercept_message *mi = (const void *)m->payload;

		printf("    cache %u ibc %u info %x tpr %x rsvd %x gva %lx gpa %lx\n",
		       mi->cache_type, mi->instruction_byte_count, mi->memory_access_info,
		       mi->tpr_priority, mi->reserved, mi->gva, mi->gpa);
		dump_seg("ds", &mi->ds);
		dump_seg("ss", &mi->ss);
		printf("    rax %lx rcx %lx rdx %lx rbx %lx rsp %lx rbp %lx rsi %lx rdi %lx\n",
		       mi->rax, mi->rcx, mi->rdx, mi->rbx, mi->rsp, mi->rbp, mi->rsi, mi->rdi);
		printf("    r8 %lx r9 %lx r10 %lx r11 %lx r12 %lx r13 %lx r14 %lx r15 %lx\n",
		       mi->r8, mi->r9, mi->r10, mi->r11, mi->r12, mi->r13, mi->r14, mi->r15);
	}
	for (int row = 0; row < HV_MESSAGE_PAYLOAD_BYTES; row += 32) {
		char line[3 * 32 + 1];
		int n = 0;

		for (int i = 0; i < 32; i++)
			n += snprintf(line + n, sizeof(line) - n, "%02x ", m->payload_bytes[row + i]);
		printf("    +%02x: %s\n", row, line);
	}
}

static bool status_report(bool ok, u64 result, const char *expect, const char *fmt, va_list ap)
{
	char what[192];
	u16 s = hv_status(result);

	vsnprintf(what, sizeof(what), fmt, ap);
	return report(ok, "%s: %s (0x%x), expected %s", what, hv_status_name(s), s, expect);
}

bool hv_report_status(u64 result, u16 want, const char *fmt, ...)
{
	char expect[64];
	va_list ap;
	bool ok;

	snprintf(expect, sizeof(expect), "%s (0x%x)", hv_status_name(want), want);
	va_start(ap, fmt);
	ok = status_report(hv_status(result) == want, result, expect, fmt, ap);
	va_end(ap);
	return ok;
}

bool hv_report_status2(u64 result, u16 want1, u16 want2, const char *fmt, ...)
{
	char expect[96];
	va_list ap;
	bool ok;

	snprintf(expect, sizeof(expect), "%s (0x%x) or %s (0x%x)", hv_status_name(want1), want1,
		 hv_status_name(want2), want2);
	va_start(ap, fmt);
	ok = status_report(hv_status(result) == want1 || hv_status(result) == want2, result,
			   expect, fmt, ap);
	va_end(ap);
	return ok;
}

bool hv_report_failure(u64 result, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = status_report(hv_status(result) != HV_STATUS_SUCCESS, result, "a failure", fmt, ap);
	va_end(ap);
	return ok;
}

/* ---- layout checks against spec/vsm.md ---- */

#define CHECK_SIZE(t, n)        _Static_assert(sizeof(t) == (n), #t " size")
#define CHECK_OFF(t, f, n)      _Static_assert(offsetof(t, f) == (n), #t "." #f " offset")

CHECK_SIZE(struct hv_x64_segment_register, 16);
CHECK_SIZE(struct hv_x64_table_register, 16);
CHECK_OFF(struct hv_x64_table_register, limit, 6);
CHECK_SIZE(union hv_register_value, 16);
CHECK_SIZE(struct hv_register_assoc, 32);
CHECK_OFF(struct hv_register_assoc, value, 16);
CHECK_SIZE(struct hv_vp_registers_header, 16);
CHECK_SIZE(struct hv_initial_vp_context, 224);
CHECK_OFF(struct hv_initial_vp_context, cs, 0x18);
CHECK_OFF(struct hv_initial_vp_context, ldtr, 0x88);
CHECK_OFF(struct hv_initial_vp_context, idtr, 0x98);
CHECK_OFF(struct hv_initial_vp_context, gdtr, 0xa8);
CHECK_OFF(struct hv_initial_vp_context, efer, 0xb8);
CHECK_OFF(struct hv_initial_vp_context, msr_cr_pat, 0xd8);
CHECK_SIZE(struct hv_enable_vp_vtl_input, 240);
CHECK_OFF(struct hv_enable_vp_vtl_input, target_vtl, 12);
CHECK_OFF(struct hv_enable_vp_vtl_input, context, 16);
CHECK_SIZE(struct hv_enable_partition_vtl_input, 16);
CHECK_OFF(struct hv_enable_partition_vtl_input, flags, 9);
CHECK_SIZE(struct hv_modify_vtl_protection_mask_header, 16);
CHECK_OFF(struct hv_modify_vtl_protection_mask_header, input_vtl, 12);
CHECK_SIZE(struct hv_translate_va_input, 32);
CHECK_OFF(struct hv_translate_va_input, control_flags, 16);
CHECK_SIZE(struct hv_translate_va_output, 16);
CHECK_SIZE(struct hv_translate_va_ex_output, 64);
CHECK_OFF(struct hv_translate_va_ex_output, pending_event, 16);
CHECK_OFF(struct hv_translate_va_ex_output, gpa_page, 48);
CHECK_SIZE(struct hv_vp_vtl_control, 24);
CHECK_OFF(struct hv_vp_assist_page, vtl_control, 0x08);
CHECK_OFF(struct hv_vp_assist_page, vtl_control.entry_reason, 0x08);
CHECK_OFF(struct hv_vp_assist_page, vtl_control.vina_status, 0x0c);
CHECK_OFF(struct hv_vp_assist_page, vtl_control.vtl_return_rax, 0x10);
CHECK_OFF(struct hv_vp_assist_page, vtl_control.vtl_return_rcx, 0x18);
CHECK_OFF(struct hv_vp_assist_page, nested_control, 0x20);
CHECK_OFF(struct hv_vp_assist_page, current_nested_vmcs, 0x30);
CHECK_OFF(struct hv_vp_assist_page, virtualization_fault_information, 0x40);
CHECK_OFF(struct hv_vp_assist_page, intercept_message, 0x70);
CHECK_OFF(struct hv_vp_assist_page, vtl_return_actions, 0x170);
CHECK_SIZE(struct hv_message_header, 16);
CHECK_SIZE(struct hv_message, HV_MESSAGE_SIZE);
CHECK_SIZE(struct hv_message_page, 4096);
CHECK_SIZE(struct hv_x64_intercept_message_header, 40);
CHECK_OFF(struct hv_x64_intercept_message_header, cs, 8);
CHECK_OFF(struct hv_x64_intercept_message_header, rip, 0x18);
CHECK_OFF(struct hv_x64_intercept_message_header, rflags, 0x20);
CHECK_SIZE(struct hv_x64_memory_intercept_message, 0xf0);
CHECK_OFF(struct hv_x64_memory_intercept_message, cache_type, 0x28);
CHECK_OFF(struct hv_x64_memory_intercept_message, instruction_byte_count, 0x2c);
CHECK_OFF(struct hv_x64_memory_intercept_message, memory_access_info, 0x2d);
CHECK_OFF(struct hv_x64_memory_intercept_message, tpr_priority, 0x2e);
CHECK_OFF(struct hv_x64_memory_intercept_message, gva, 0x30);
CHECK_OFF(struct hv_x64_memory_intercept_message, gpa, 0x38);
CHECK_OFF(struct hv_x64_memory_intercept_message, instruction_bytes, 0x40);
CHECK_OFF(struct hv_x64_memory_intercept_message, ds, 0x50);
CHECK_OFF(struct hv_x64_memory_intercept_message, ss, 0x60);
CHECK_OFF(struct hv_x64_memory_intercept_message, rax, 0x70);
CHECK_OFF(struct hv_x64_memory_intercept_message, rsp, 0x90);
CHECK_OFF(struct hv_x64_memory_intercept_message, r15, 0xe8);
CHECK_OFF(struct hv_x64_msr_intercept_message, msr_number, 0x28);
CHECK_OFF(struct hv_x64_msr_intercept_message, rdx, 0x30);
CHECK_OFF(struct hv_x64_msr_intercept_message, rax, 0x38);
CHECK_OFF(struct hv_x64_register_intercept_message, flags, 0x28);
CHECK_OFF(struct hv_x64_register_intercept_message, register_name, 0x2c);
CHECK_OFF(struct hv_x64_register_intercept_message, access_info, 0x30);
