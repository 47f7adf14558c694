/*
 * vsm-translate.c - HvCallTranslateVirtualAddress (0x52) and ...Ex (0xac)
 * across VTLs (spec/vsm.md §2.6, §9): validation flags against U/S, R/W and
 * NX, every result code a guest can provoke (PAGE_NOT_PRESENT, PRIVILEGE_
 * VIOLATION, INVALID_PAGE_TABLE_FLAGS, GPA_UNMAPPED, GPA_NO_READ_ACCESS,
 * GPA_NO_WRITE_ACCESS), overlay pages per VTL, setting A/D bits (and being
 * refused when the page table is write-protected for VTL0), the VTL field of
 * the control flags (each VTL has its own CR3), the Ex and XMM-fast forms,
 * hypercall-level errors, and the TLB-flush-inhibit flag.
 *
 * VTL0 gets a scratch hierarchy at PML4[2] (VA 0x10000000000 = SCRATCH) with
 * one 4 KiB slot per case, so the PTEs can be bent without VTL0 ever using
 * those addresses. VTL1's own page tables map only 0..4 GiB.
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define SCRATCH         0x10000000000ul         /* PML4 index 2 */
#define SLOT(n)         (SCRATCH + (u64)(n) * PAGE_SIZE)
#define PTE_FLAGS       (PT_PRESENT | PT_WRITE | PT_USER | PT_ACCESSED | PT_DIRTY)

enum {
	S_NORMAL, S_SUPERVISOR, S_READONLY, S_NX, S_NOTPRESENT, S_RESERVED, S_NORAM,
	S_NOREAD, S_READONLY_VTL, S_HYPERCALL, S_ASSIST, S_AD, S_COUNT
};

static u64 sc_pdpt[512] __aligned(PAGE_SIZE);
static u64 sc_pd[512] __aligned(PAGE_SIZE);
static u64 sc_pt[512] __aligned(PAGE_SIZE);
static u8 page_t0[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_noread[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_ro[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_ad[PAGE_SIZE] __aligned(PAGE_SIZE);
static bool nx;
static u64 pml4e_saved;

#define RWX_EXEMPT (HV_TRANSLATE_GVA_VALIDATE_READ | HV_TRANSLATE_GVA_VALIDATE_WRITE | \
		    HV_TRANSLATE_GVA_VALIDATE_EXECUTE | HV_TRANSLATE_GVA_PRIVILEGE_EXEMPT)
#define V0 HV_TRANSLATE_GVA_VTL(HV_INPUT_VTL(0))
#define V1 HV_TRANSLATE_GVA_VTL(HV_INPUT_VTL(1))

static u32 maxphyaddr(void)
{
	return cpuid(0x80000000).a >= 0x80000008 ? (cpuid(0x80000008).a & 0xff) : 36;
}

static void build_scratch(void)
{
	u64 *pml4 = (u64 *)(read_cr3() & PT_ADDR_MASK);
	u32 mp = maxphyaddr();

	pml4e_saved = pml4[2];
	pml4[2] = (u64)sc_pdpt | PT_PRESENT | PT_WRITE | PT_USER | PT_ACCESSED;
	sc_pdpt[0] = (u64)sc_pd | PT_PRESENT | PT_WRITE | PT_USER | PT_ACCESSED;
	sc_pd[0] = (u64)sc_pt | PT_PRESENT | PT_WRITE | PT_USER | PT_ACCESSED;
	sc_pt[S_NORMAL] = (u64)page_t0 | PTE_FLAGS;
	sc_pt[S_SUPERVISOR] = (u64)page_t0 | (PTE_FLAGS & ~PT_USER);
	sc_pt[S_READONLY] = (u64)page_t0 | (PTE_FLAGS & ~PT_WRITE);
	sc_pt[S_NX] = (u64)page_t0 | PTE_FLAGS | (nx ? PT_NX : 0);
	sc_pt[S_NOTPRESENT] = (u64)page_t0 | (PTE_FLAGS & ~PT_PRESENT);
	/* A physical-address bit at MAXPHYADDR is reserved in a PTE. */
	sc_pt[S_RESERVED] = (u64)page_t0 | PTE_FLAGS | (mp < 52 ? 1ul << mp : 0);
	/* Half way up the physical address space: far beyond RAM, not MMIO. */
	sc_pt[S_NORAM] = (1ul << (mp - 1)) | PTE_FLAGS;
	sc_pt[S_NOREAD] = (u64)page_noread | PTE_FLAGS;
	sc_pt[S_READONLY_VTL] = (u64)page_ro | PTE_FLAGS;
	sc_pt[S_HYPERCALL] = (u64)hv_hypercall_page(0) | PTE_FLAGS;
	sc_pt[S_ASSIST] = (rdmsr(HV_X64_MSR_VP_ASSIST_PAGE) & PT_ADDR_MASK) | PTE_FLAGS;
	sc_pt[S_AD] = (u64)page_ad | PT_PRESENT | PT_WRITE | PT_USER;  /* A = D = 0 */
	flush_tlb();
}

static void check(const char *what, u64 r, const struct hv_translate_va_output *o,
		  u32 result, u64 gpa_page, int overlay)
{
	bool ok = hv_status(r) == HV_STATUS_SUCCESS && o->result_code == result;

	if (result == HV_TRANSLATE_GVA_SUCCESS)
		ok &= o->cache_type == HV_CACHE_TYPE_WRITE_BACK && o->gpa_page == gpa_page &&
		      (overlay < 0 || (int)(o->flags & HV_TRANSLATE_GVA_OVERLAY_PAGE) == overlay);
	report(ok, "%s: %s, result %u (want %u), cache %u, overlay %u%s, GPN %lx (want %lx)",
	       what, hv_status_name(hv_status(r)), o->result_code, result, o->cache_type,
	       o->flags & 1, overlay < 0 ? "" : overlay ? "/1" : "/0", o->gpa_page,
	       result == HV_TRANSLATE_GVA_SUCCESS ? gpa_page : 0ul);
}

static void tr(const char *what, u64 flags, u64 gva, u32 result, u64 gpa_page, int overlay)
{
	struct hv_translate_va_output o;
	u64 r = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, flags, gva, &o);

	check(what, r, &o, result, gpa_page, overlay);
}

static u64 v1_protect(struct vsm_call *c)
{
	u64 *a = (u64 *)c->arg;

	return vsm_protect(a[0], 1, (u32)a[1]);
}

static u64 protect(void *p, u32 mask)
{
	u64 a[2] = { (u64)p, mask };

	return vsm_vtl1_call(v1_protect, (u64)a);
}

static void test_vtl0(void)
{
	u64 pn = (u64)page_t0 >> 12;

	tr("VTL0->VTL0 scratch slot, R|W|X + privilege exempt", RWX_EXEMPT | V0, SLOT(S_NORMAL),
	   HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	tr("VTL0->VTL0 (VTL field 0: caller's VTL)", RWX_EXEMPT, SLOT(S_NORMAL),
	   HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	tr("VTL0->VTL0 identity-mapped address of the same page", RWX_EXEMPT | V0, (u64)page_t0,
	   HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	tr("unmapped canonical GVA 0x8000000000 (PML4[1] empty)", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
	   0x8000000000ul, HV_TRANSLATE_GVA_PAGE_NOT_PRESENT, 0, -1);
	/* §9 maps a non-canonical GVA onto "page not present / invalid GVA". */
	tr("non-canonical GVA 0x0000800000000000", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
	   0x0000800000000000ul, HV_TRANSLATE_GVA_PAGE_NOT_PRESENT, 0, -1);
	tr("not-present PTE", HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_NOTPRESENT),
	   HV_TRANSLATE_GVA_PAGE_NOT_PRESENT, 0, -1);

	tr("supervisor page, read as supervisor (CPL 0)", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
	   SLOT(S_SUPERVISOR), HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	tr("supervisor page, read forced as user", HV_TRANSLATE_GVA_VALIDATE_READ |
	   HV_TRANSLATE_GVA_USER_ACCESS | V0, SLOT(S_SUPERVISOR),
	   HV_TRANSLATE_GVA_PRIVILEGE_VIOLATION, 0, -1);
	tr("supervisor page, user read with privilege exempt", HV_TRANSLATE_GVA_VALIDATE_READ |
	   HV_TRANSLATE_GVA_USER_ACCESS | HV_TRANSLATE_GVA_PRIVILEGE_EXEMPT | V0,
	   SLOT(S_SUPERVISOR), HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	tr("read-only PTE, validate read", HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_READONLY),
	   HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	tr("read-only PTE, validate write (CR0.WP = 1)", HV_TRANSLATE_GVA_VALIDATE_WRITE | V0,
	   SLOT(S_READONLY), HV_TRANSLATE_GVA_PRIVILEGE_VIOLATION, 0, -1);
	if (nx) {
		tr("NX PTE, validate read", HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_NX),
		   HV_TRANSLATE_GVA_SUCCESS, pn, 0);
		tr("NX PTE, validate execute", HV_TRANSLATE_GVA_VALIDATE_EXECUTE | V0, SLOT(S_NX),
		   HV_TRANSLATE_GVA_PRIVILEGE_VIOLATION, 0, -1);
	} else {
		report_skip("NX PTE cases: EFER.NXE off (CPU without NX)");
	}
	if (maxphyaddr() < 52)
		tr("PTE with a reserved address bit", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
		   SLOT(S_RESERVED), HV_TRANSLATE_GVA_INVALID_PAGE_TABLE_FLAGS, 0, -1);
	else
		report_skip("reserved-bit PTE: MAXPHYADDR is 52, no reserved address bit");
	tr("PTE pointing far beyond RAM", HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_NORAM),
	   HV_TRANSLATE_GVA_GPA_UNMAPPED, 0, -1);

	/* VTL protections of the resulting GPA (§9: GPA_NO_READ/WRITE_ACCESS). */
	hv_report_status(protect(page_noread, HV_MAP_GPA_NO_ACCESS), 0, "VTL1 makes page %p no-access",
			 page_noread);
	hv_report_status(protect(page_ro, HV_MAP_GPA_READABLE), 0, "VTL1 makes page %p read-only",
			 page_ro);
	tr("GPA VTL0 may not read, validate read", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
	   SLOT(S_NOREAD), HV_TRANSLATE_GVA_GPA_NO_READ_ACCESS, 0, -1);
	tr("GPA read-only for VTL0, validate read", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
	   SLOT(S_READONLY_VTL), HV_TRANSLATE_GVA_SUCCESS, (u64)page_ro >> 12, 0);
	tr("GPA read-only for VTL0, validate write", HV_TRANSLATE_GVA_VALIDATE_WRITE | V0,
	   SLOT(S_READONLY_VTL), HV_TRANSLATE_GVA_GPA_NO_WRITE_ACCESS, 0, -1);

	tr("VTL0's hypercall page", HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_HYPERCALL),
	   HV_TRANSLATE_GVA_SUCCESS, (u64)hv_hypercall_page(0) >> 12, 1);
	tr("VTL0's VP assist page", HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_ASSIST),
	   HV_TRANSLATE_GVA_SUCCESS, rdmsr(HV_X64_MSR_VP_ASSIST_PAGE) >> 12, 1);
}

static void test_ad_bits(void)
{
	tr("A/D clear, validate read without SET_PAGE_TABLE_BITS", HV_TRANSLATE_GVA_VALIDATE_READ | V0,
	   SLOT(S_AD), HV_TRANSLATE_GVA_SUCCESS, (u64)page_ad >> 12, 0);
	report(!(sc_pt[S_AD] & (PT_ACCESSED | PT_DIRTY)), "without SET_PAGE_TABLE_BITS the PTE "
	       "stays %lx (A, D clear)", sc_pt[S_AD]);
	tr("validate read with SET_PAGE_TABLE_BITS", HV_TRANSLATE_GVA_VALIDATE_READ |
	   HV_TRANSLATE_GVA_SET_PAGE_TABLE_BITS | V0, SLOT(S_AD), HV_TRANSLATE_GVA_SUCCESS,
	   (u64)page_ad >> 12, 0);
	report((sc_pt[S_AD] & PT_ACCESSED) && !(sc_pt[S_AD] & PT_DIRTY),
	       "read validation set A only: PTE %lx", sc_pt[S_AD]);
	tr("validate write with SET_PAGE_TABLE_BITS", HV_TRANSLATE_GVA_VALIDATE_WRITE |
	   HV_TRANSLATE_GVA_SET_PAGE_TABLE_BITS | V0, SLOT(S_AD), HV_TRANSLATE_GVA_SUCCESS,
	   (u64)page_ad >> 12, 0);
	report((sc_pt[S_AD] & (PT_ACCESSED | PT_DIRTY)) == (PT_ACCESSED | PT_DIRTY),
	       "write validation set D too: PTE %lx", sc_pt[S_AD]);

	/* §9: the A/D update is itself subject to VTL protections. */
	sc_pt[S_AD] &= ~(PT_ACCESSED | PT_DIRTY);
	hv_report_status(protect(sc_pt, HV_MAP_GPA_READABLE), 0,
			 "VTL1 makes VTL0's scratch page table read-only");
	tr("SET_PAGE_TABLE_BITS with the page table write-protected for VTL0",
	   HV_TRANSLATE_GVA_VALIDATE_READ | HV_TRANSLATE_GVA_SET_PAGE_TABLE_BITS | V0, SLOT(S_AD),
	   HV_TRANSLATE_GVA_GPA_NO_WRITE_ACCESS, 0, -1);
	report(!(sc_pt[S_AD] & PT_ACCESSED), "the A bit was not set: PTE %lx", sc_pt[S_AD]);
	protect(sc_pt, HV_MAP_GPA_PERMISSIONS_ALL);
}

static void test_forms_and_errors(void)
{
	struct hv_translate_va_ex_output ex;
	struct hv_translate_va_output o;
	u64 r, zero[4] = { 0 };
	int ncpus = fwcfg_nb_cpus() > 0 ? fwcfg_nb_cpus() : 1;

	r = hv_translate_va_ex(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, RWX_EXEMPT | V0,
			       SLOT(S_NORMAL), &ex);
	report(hv_status(r) == 0 && ex.result_code == 0 && ex.cache_type == HV_CACHE_TYPE_WRITE_BACK &&
	       !(ex.flags & 1) && ex.gpa_page == (u64)page_t0 >> 12 &&
	       !memcmp(ex.pending_event, zero, 32),
	       "TranslateVirtualAddressEx: status %s, result %u, cache %u, overlay %u, GPN %lx "
	       "(want %lx, @48), pending event zero", hv_status_name(hv_status(r)), ex.result_code,
	       ex.cache_type, ex.flags & 1, ex.gpa_page, (u64)page_t0 >> 12);
	r = hv_translate_va_ex(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
			       HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_NOTPRESENT), &ex);
	report(hv_status(r) == 0 && ex.result_code == HV_TRANSLATE_GVA_PAGE_NOT_PRESENT,
	       "TranslateVirtualAddressEx, not present: status %s, result %u (want 1)",
	       hv_status_name(hv_status(r)), ex.result_code);
	r = hv_translate_va_ex(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
			       HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_HYPERCALL), &ex);
	report(hv_status(r) == 0 && ex.result_code == 0 && (ex.flags & 1),
	       "TranslateVirtualAddressEx, hypercall page: overlay %u (want 1)", ex.flags & 1);

	if ((hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_INPUT) &&
	    (hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_OUTPUT)) {
		r = hv_translate_va_fast(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, RWX_EXEMPT | V0,
					 SLOT(S_NORMAL), &o);
		check("XMM fast form (flags+GVA in XMM0, output in XMM1)", r, &o,
		      HV_TRANSLATE_GVA_SUCCESS, (u64)page_t0 >> 12, 0);
	} else {
		report_skip("XMM fast form: XMM hypercall input/output not both advertised (EDX %x)",
			    hv_info.features_edx);
	}

	/* §2.6: never a higher VTL (QEMU INVALID_VP_STATE, KVM RFC
	 * INVALID_HYPERCALL_INPUT; the TLFS gives no code): only "fails". */
	hv_report_failure(hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
					  HV_TRANSLATE_GVA_VALIDATE_READ | V1, (u64)page_t0, &o),
			  "VTL0 translating in VTL1's context");
	hv_report_status(hv_translate_va(HV_PARTITION_ID_SELF, HV_ANY_VP,
					 HV_TRANSLATE_GVA_VALIDATE_READ | V0, (u64)page_t0, &o),
			 HV_STATUS_INVALID_VP_INDEX, "VP index HV_ANY_VP");
	hv_report_status(hv_translate_va(HV_PARTITION_ID_SELF, ncpus + 64,
					 HV_TRANSLATE_GVA_VALIDATE_READ | V0, (u64)page_t0, &o),
			 HV_STATUS_INVALID_VP_INDEX, "VP index %d (no such VP)", ncpus + 64);
	/* Not listed for this call in vsm.md; every other VSM call uses it. */
	hv_report_status(hv_translate_va(42, HV_VP_INDEX_SELF, HV_TRANSLATE_GVA_VALIDATE_READ | V0,
					 (u64)page_t0, &o),
			 HV_STATUS_INVALID_PARTITION_ID, "partition 42");
}

/* ---- from VTL1 ---- */

static volatile struct {
	u64 r[8];
	struct hv_translate_va_output o[8];
	u64 vtl1_hc, secure_cfg_locked, secure_cfg_status;
} v1;

static u64 v1_translate(struct vsm_call *c)
{
	u8 *hc1 = hv_hypercall_page(1);

	v1.vtl1_hc = (u64)hc1;
	v1.r[0] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, RWX_EXEMPT | V0,
				  SLOT(S_NORMAL), (void *)&v1.o[0]);
	v1.r[1] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
				  HV_TRANSLATE_GVA_VALIDATE_READ | V0, SLOT(S_HYPERCALL), (void *)&v1.o[1]);
	v1.r[2] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
				  HV_TRANSLATE_GVA_VALIDATE_READ | V1, SLOT(S_NORMAL), (void *)&v1.o[2]);
	v1.r[3] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
				  HV_TRANSLATE_GVA_VALIDATE_READ | V1, (u64)hc1, (void *)&v1.o[3]);
	v1.r[4] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
				  HV_TRANSLATE_GVA_VALIDATE_READ | V0, (u64)hc1, (void *)&v1.o[4]);
	v1.r[5] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
				  HV_TRANSLATE_GVA_VALIDATE_READ, (u64)page_t0, (void *)&v1.o[5]);
	/* §2.6/§8: TLB flush inhibit on a successful VTL0 translation locks
	 * VTL0's TLB on this VP until the next VTL return. */
	v1.r[6] = hv_translate_va(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
				  HV_TRANSLATE_GVA_VALIDATE_READ | HV_TRANSLATE_GVA_TLB_FLUSH_INHIBIT | V0,
				  (u64)page_t0, (void *)&v1.o[6]);
	v1.secure_cfg_status = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
					  HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
					  (u64 *)&v1.secure_cfg_locked);
	return 0;
}

static volatile u64 after_return_cfg;
static volatile u16 after_return_status;

static u64 v1_read_secure_cfg(struct vsm_call *c)
{
	after_return_status = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
					 HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0,
					 (u64 *)&after_return_cfg);
	return 0;
}

static void test_vtl1(void)
{
	u64 pn = (u64)page_t0 >> 12;

	vsm_vtl1_call(v1_translate, 0);
	check("VTL1->VTL0 of VTL0's scratch slot (VTL0's CR3)", v1.r[0], (void *)&v1.o[0],
	      HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	check("VTL1->VTL0 of VTL0's hypercall page", v1.r[1], (void *)&v1.o[1],
	      HV_TRANSLATE_GVA_SUCCESS, (u64)hv_hypercall_page(0) >> 12, 1);
	check("VTL1->VTL1 of the scratch VA (VTL1's CR3 does not map it)", v1.r[2], (void *)&v1.o[2],
	      HV_TRANSLATE_GVA_PAGE_NOT_PRESENT, 0, -1);
	check("VTL1->VTL1 of VTL1's hypercall page", v1.r[3], (void *)&v1.o[3],
	      HV_TRANSLATE_GVA_SUCCESS, v1.vtl1_hc >> 12, 1);
	/* The SDK made VTL1's pages no-access for VTL0, and a translation in
	 * VTL0's context validates against VTL0's permissions. */
	check("VTL1->VTL0 of VTL1's hypercall page GPA (no access for VTL0)", v1.r[4],
	      (void *)&v1.o[4], HV_TRANSLATE_GVA_GPA_NO_READ_ACCESS, 0, -1);
	check("VTL1, VTL field 0 (own context), identity address", v1.r[5], (void *)&v1.o[5],
	      HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	check("VTL1->VTL0 with TLB flush inhibit", v1.r[6], (void *)&v1.o[6],
	      HV_TRANSLATE_GVA_SUCCESS, pn, 0);
	report(v1.secure_cfg_status == 0 && (v1.secure_cfg_locked & HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED),
	       "after the inhibiting translation VsmVpSecureConfigVtl0 = %lx (TLB locked, status %lx)",
	       v1.secure_cfg_locked, v1.secure_cfg_status);
	vsm_vtl1_call(v1_read_secure_cfg, 0);
	report(after_return_status == 0 && !(after_return_cfg & HV_VSM_VP_SECURE_CONFIG_TLB_LOCKED),
	       "after a VTL return and a new VTL call: VsmVpSecureConfigVtl0 = %lx (TLB unlocked, §5.3)",
	       after_return_cfg);
}

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	long r;

	if (!vsm_report_platform())
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised: %lx", r))
		return report_summary();
	nx = rdmsr(MSR_EFER) & EFER_NXE;
	build_scratch();
	test_vtl0();
	test_ad_bits();
	test_forms_and_errors();
	test_vtl1();
	((u64 *)(read_cr3() & PT_ADDR_MASK))[2] = pml4e_saved;
	flush_tlb();
	return report_summary();
}
