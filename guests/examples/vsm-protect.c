/*
 * vsm-protect.c - VTL protections (spec/vsm.md §2.4, §3.1, §6, §6.1, §6.2):
 * VsmPartitionConfig's default mask and its write-once rule, then VTL1
 * protects single VTL0 pages against read, write and execute; VTL0 touches
 * them; the secure memory intercept arrives in VTL1's SINT0 message slot and
 * is checked field by field; VTL1 relaxes the mask and returns; VTL0's
 * instruction is retried and completes. Also: user-mode execute (with MBEC:
 * KX vs UX; without: the execute rule of §6), a string instruction crossing
 * into a protected page, VTL1's own pages protected from VTL0, a hypercall
 * whose input page VTL0 may not read, and ModifyVtlProtectionMask errors.
 *
 * Expected message contents follow §6.1 (the kvm-unit-tests expectations).
 * Where §6.1 is a kvm-unit-tests choice rather than a TLFS rule, the check
 * says so: the GVA (TLFS HV_X64_MEMORY_ACCESS_INFO makes it optional, so
 * "not reported" and "reported correctly" both pass).
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define IPI_VECTOR      0xee
#define EXEC_MAGIC      0x5a5a1234u
#define SKIP_MARK       0x51c1bbedul

/* Register patterns loaded before every access (expected message GPRs). */
#define P_RBX 0xb0b1b2b3b4b5b6b7ul
#define P_RCX 0xc0c1c2c3c4c5c6c7ul
#define P_RDX 0xd0d1d2d3d4d5d6d7ul
#define P_RSI 0x5051525354555657ul
#define P_RDI 0xd1d1d2d2d3d3d4d4ul
#define P_RBP 0xbbbbbbbb00000001ul
#define P_R8  0x0808080808080808ul
#define P_R9  0x0909090909090909ul
#define P_R10 0x1010101010101010ul
#define P_R11 0x1111111111111111ul
#define P_R12 0x1212121212121212ul
#define P_R13 0x1313131313131313ul
#define P_R14 0x1414141414141414ul
#define P_R15 0x1515151515151515ul
#define P_RAX 0xa0a1a2a3a4a5a6a7ul

/* Globals the access stubs (top-level asm) fill in: RSP and RFLAGS right
 * before the access instruction. */
volatile u64 acc_rsp, acc_rflags;

#define LOAD_PATTERNS \
	"movabs $0xb0b1b2b3b4b5b6b7, %rbx\n\tmovabs $0xd0d1d2d3d4d5d6d7, %rdx\n\t" \
	"movabs $0xbbbbbbbb00000001, %rbp\n\t" \
	"movabs $0x0808080808080808, %r8\n\tmovabs $0x0909090909090909, %r9\n\t" \
	"movabs $0x1010101010101010, %r10\n\tmovabs $0x1111111111111111, %r11\n\t" \
	"movabs $0x1212121212121212, %r12\n\tmovabs $0x1313131313131313, %r13\n\t" \
	"movabs $0x1414141414141414, %r14\n\tmovabs $0x1515151515151515, %r15\n\t"
#define SAVE_CALLEE "push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
#define RESTORE_CALLEE "pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\tret\n"
#define RECORD "pushfq\n\tpop %rax\n\tmov %rax, acc_rflags(%rip)\n\tmov %rsp, acc_rsp(%rip)\n\t"

/* u64 access_read(u64 addr): RAX = addr; "mov (%rax),%rax" (48 8b 00). */
/* u64 access_write(u64 addr): RAX = addr; "mov %rax,(%rax)" (48 89 00). */
/* u64 access_exec(u64 addr): RAX = addr; "call *%rax" (ff d0). */
/* u64 access_movsb(u64 dst, u64 src, u64 n): "rep movsb" (f3 a4); returns RCX. */
u64 access_read(u64 addr);
u64 access_write(u64 addr);
u64 access_exec(u64 addr);
u64 access_movsb(u64 dst, u64 src, u64 n);
extern char access_read_insn[], access_write_insn[], access_exec_insn[], access_movsb_insn[];
asm(".text\n"
    "access_read:\n\t" SAVE_CALLEE RECORD LOAD_PATTERNS
    "mov %rdi, %rax\n\tmovabs $0xc0c1c2c3c4c5c6c7, %rcx\n\tmovabs $0x5051525354555657, %rsi\n\t"
    "movabs $0xd1d1d2d2d3d3d4d4, %rdi\n\t"
    ".globl access_read_insn\naccess_read_insn:\n\tmov (%rax), %rax\n\t" RESTORE_CALLEE
    "access_write:\n\t" SAVE_CALLEE RECORD LOAD_PATTERNS
    "mov %rdi, %rax\n\tmovabs $0xc0c1c2c3c4c5c6c7, %rcx\n\tmovabs $0x5051525354555657, %rsi\n\t"
    "movabs $0xd1d1d2d2d3d3d4d4, %rdi\n\t"
    ".globl access_write_insn\naccess_write_insn:\n\tmov %rax, (%rax)\n\t" RESTORE_CALLEE
    "access_exec:\n\t" SAVE_CALLEE RECORD LOAD_PATTERNS
    "mov %rdi, %rax\n\tmovabs $0xc0c1c2c3c4c5c6c7, %rcx\n\tmovabs $0x5051525354555657, %rsi\n\t"
    "movabs $0xd1d1d2d2d3d3d4d4, %rdi\n\t"
    ".globl access_exec_insn\naccess_exec_insn:\n\tcall *%rax\n\t" RESTORE_CALLEE
    "access_movsb:\n\t" SAVE_CALLEE "mov %rdx, %rcx\n\tcld\n\t" RECORD LOAD_PATTERNS
    "movabs $0xa0a1a2a3a4a5a6a7, %rax\n\t"
    ".globl access_movsb_insn\naccess_movsb_insn:\n\trep movsb\n\tmov %rcx, %rax\n\t" RESTORE_CALLEE);

static u8 page_a[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_cr8[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 str_pages[3][PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_user[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_default[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_secret[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_ipi[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 page_fast[2][PAGE_SIZE] __aligned(PAGE_SIZE);
extern u64 gdt[];               /* entry.S */

static bool mbec;
static u8 default_mask;

/* ---- VTL1 intercept handler driven by VTL0's expectations ---- */

enum { ACT_RELAX, ACT_SKIP };

static volatile struct {
	int count;
	int action;
	u32 relax_mask;
	u64 relax_result;
	u64 skip_rax;
	u16 skip_status;
	struct hv_message msg;
	struct vsm_gprs frame_regs;
} icpt;

static void v1_intercept(struct vsm_intercept *ic)
{
	const struct hv_x64_memory_intercept_message *m = (const void *)ic->msg->payload;

	icpt.count++;
	icpt.msg = *ic->msg;
	icpt.frame_regs = ic->frame->regs;
	if (ic->msg->header.message_type != HVMSG_GPA_INTERCEPT || icpt.count > 20) {
		hv_dump_message("VTL1: unexpected", ic->msg);
		report(false, "VTL1: intercept #%d, type %x: not a GPA intercept, or the access "
		       "keeps faulting after the mask was relaxed", icpt.count,
		       ic->msg->header.message_type);
		exit(report_summary());
	}
	if (icpt.action == ACT_RELAX) {
		icpt.relax_result = vsm_protect(m->gpa & ~0xffful, 1, icpt.relax_mask);
	} else {
		icpt.skip_status = vsm_vtl0_skip(&m->header);
		ic->frame->regs.rax = icpt.skip_rax;
	}
}

static u64 v1_protect(struct vsm_call *c)
{
	u64 *a = (u64 *)c->arg;         /* { gpa, pages, mask } */

	return vsm_protect(a[0], a[1], (u32)a[2]);
}

/* VTL0: VTL1 sets the mask of [gpa, +pages); returns the raw result. */
static u64 protect(void *gpa, u64 pages, u32 mask)
{
	u64 a[3] = { (u64)gpa, pages, mask };

	return vsm_vtl1_call(v1_protect, (u64)a);
}

static void arm(int action, u32 relax_mask)
{
	icpt.count = 0;
	icpt.action = action;
	icpt.relax_mask = relax_mask;
	icpt.relax_result = ~0ul;
	memset((void *)&icpt.msg, 0, sizeof(icpt.msg));
}

/* ---- expected message ---- */

static void seg_from_gdt(u16 sel, struct hv_x64_segment_register *s)
{
	u64 d = gdt[sel >> 3];
	u32 limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);

	s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s->limit = (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;       /* G */
	s->selector = sel;
	s->attributes = ((d >> 40) & 0xffff) & ~0x0f00;        /* §6.1: limit 19:16 cleared */
}

static void expect_header(struct hv_x64_memory_intercept_message *e, u64 rip, u32 ilen,
			  u32 access, u64 gpa)
{
	u64 cr0 = read_cr0();
	u16 cs, ds, ss;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	asm volatile("mov %%ds, %0" : "=r"(ds));
	asm volatile("mov %%ss, %0" : "=r"(ss));
	memset(e, 0, sizeof(*e));
	e->header.vp_index = rdmsr(HV_X64_MSR_VP_INDEX);
	e->header.instruction_length_cr8 = ilen;
	e->header.access_type = access;
	e->header.execution_state = (cs & 3) | HV_EXEC_STATE_CR0_PE |
				    ((cr0 & (1ul << 18)) ? HV_EXEC_STATE_CR0_AM : 0) |
				    HV_EXEC_STATE_EFER_LMA;
	seg_from_gdt(cs, &e->header.cs);
	e->header.rip = rip;
	e->header.rflags = acc_rflags | (1ul << 16);    /* §6.1: RF set */
	e->cache_type = HV_CACHE_TYPE_WRITE_BACK;
	e->gpa = gpa;
	seg_from_gdt(ds, &e->ds);
	seg_from_gdt(ss, &e->ss);
	e->rax = P_RAX; e->rcx = P_RCX; e->rdx = P_RDX; e->rbx = P_RBX;
	e->rsp = acc_rsp; e->rbp = P_RBP; e->rsi = P_RSI; e->rdi = P_RDI;
	e->r8 = P_R8; e->r9 = P_R9; e->r10 = P_R10; e->r11 = P_R11;
	e->r12 = P_R12; e->r13 = P_R13; e->r14 = P_R14; e->r15 = P_R15;
}

static bool seg_eq(const struct hv_x64_segment_register *a, const struct hv_x64_segment_register *b)
{
	return a->base == b->base && a->limit == b->limit && a->selector == b->selector &&
	       a->attributes == b->attributes;
}

/* Compare the intercept VTL1 recorded with *e, one report per field. */
static void check_message(const char *what, const struct hv_x64_memory_intercept_message *e,
			  u64 gva, bool full)
{
	const struct hv_message *msg = (const struct hv_message *)&icpt.msg;
	const struct hv_x64_memory_intercept_message *m = (const void *)msg->payload;
	const struct hv_x64_intercept_message_header *h = &m->header, *eh = &e->header;
	const u64 *mg = &m->rax, *eg = &e->rax;
	static const char *const gn[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	char bad[160] = "";
	int n = 0;
	bool ok;

	report(msg->header.message_type == HVMSG_GPA_INTERCEPT && icpt.count == 1,
	       "%s: one message in VTL1's SINT0 slot, type %x (want 80000001 GpaIntercept), count %d",
	       what, msg->header.message_type, icpt.count);
	if (full)
		report(msg->header.payload_size == sizeof(*m) && msg->header.message_flags == 0 &&
		       msg->header.reserved == 0,
		       "%s: message header payload size %x (want f0, long form §6.1), flags %x, reserved %x",
		       what, msg->header.payload_size, msg->header.message_flags, msg->header.reserved);
	report(h->vp_index == eh->vp_index, "%s: header VP index %u (want %u)", what, h->vp_index,
	       eh->vp_index);
	report(HV_INTERCEPT_INSTRUCTION_LENGTH(h) == HV_INTERCEPT_INSTRUCTION_LENGTH(eh),
	       "%s: header instruction length %u (want %u)", what, HV_INTERCEPT_INSTRUCTION_LENGTH(h),
	       HV_INTERCEPT_INSTRUCTION_LENGTH(eh));
	report(HV_INTERCEPT_CR8(h) == HV_INTERCEPT_CR8(eh), "%s: header CR8 %u (want %u)", what,
	       HV_INTERCEPT_CR8(h), HV_INTERCEPT_CR8(eh));
	report(h->access_type == eh->access_type, "%s: header access type %u (want %u)", what,
	       h->access_type, eh->access_type);
	report(h->execution_state == eh->execution_state,
	       "%s: header execution state %x (want %x: CPL %u, PE, AM %d, LMA, VTL0)", what,
	       h->execution_state, eh->execution_state, HV_EXEC_STATE_CPL(eh->execution_state),
	       !!(eh->execution_state & HV_EXEC_STATE_CR0_AM));
	report(seg_eq(&h->cs, &eh->cs), "%s: header CS base %lx limit %x sel %x attr %x (want %lx %x %x %x)",
	       what, h->cs.base, h->cs.limit, h->cs.selector, h->cs.attributes, eh->cs.base,
	       eh->cs.limit, eh->cs.selector, eh->cs.attributes);
	report(h->rip == eh->rip, "%s: header RIP %lx (want %lx)", what, h->rip, eh->rip);
	report(h->rflags == eh->rflags, "%s: header RFLAGS %lx (want %lx: VTL0's with RF)", what,
	       h->rflags, eh->rflags);
	if (!full) {
		report(m->gpa == e->gpa, "%s: GPA %lx (want %lx)", what, m->gpa, e->gpa);
		return;
	}
	report(m->cache_type == HV_CACHE_TYPE_WRITE_BACK, "%s: cache type %u (want 6, WB)", what,
	       m->cache_type);
	report(m->instruction_byte_count == e->instruction_byte_count &&
	       !memcmp(m->instruction_bytes, e->instruction_bytes, 16),
	       "%s: instruction bytes (%u) %02x %02x %02x %02x ... (want %u: %02x %02x %02x, rest 0)",
	       what, m->instruction_byte_count, m->instruction_bytes[0], m->instruction_bytes[1],
	       m->instruction_bytes[2], m->instruction_bytes[3], e->instruction_byte_count,
	       e->instruction_bytes[0], e->instruction_bytes[1], e->instruction_bytes[2]);
	/* §6.1 (kvm-unit-tests) expects GVA-valid 0 and GVA 0; the TLFS makes the
	 * GVA optional (MemoryAccessInfo.GvaValid), so a correct GVA passes too. */
	report((m->memory_access_info & ~(HV_MEMORY_ACCESS_GVA_VALID | HV_MEMORY_ACCESS_GVA_GPA_VALID)) == 0 &&
	       ((!(m->memory_access_info & HV_MEMORY_ACCESS_GVA_VALID) && m->gva == 0) ||
		((m->memory_access_info & HV_MEMORY_ACCESS_GVA_VALID) && m->gva == gva)),
	       "%s: memory access info %x, GVA %lx (want not valid and 0, or valid and %lx)", what,
	       m->memory_access_info, m->gva, gva);
	report(m->tpr_priority == 0 && m->reserved == 0,
	       "%s: bytes 0x2e/0x2f %x %x (want 0 0)", what, m->tpr_priority, m->reserved);
	report(m->gpa == e->gpa, "%s: GPA %lx (want %lx)", what, m->gpa, e->gpa);
	report(seg_eq(&m->ds, &e->ds), "%s: DS base %lx limit %x sel %x attr %x (want %lx %x %x %x)",
	       what, m->ds.base, m->ds.limit, m->ds.selector, m->ds.attributes, e->ds.base,
	       e->ds.limit, e->ds.selector, e->ds.attributes);
	report(seg_eq(&m->ss, &e->ss), "%s: SS base %lx limit %x sel %x attr %x (want %lx %x %x %x)",
	       what, m->ss.base, m->ss.limit, m->ss.selector, m->ss.attributes, e->ss.base,
	       e->ss.limit, e->ss.selector, e->ss.attributes);
	for (int i = 0; i < 16; i++)
		if (mg[i] != eg[i] && n < (int)sizeof(bad) - 48)
			n += snprintf(bad + n, sizeof(bad) - n, " %s=%lx(want %lx)", gn[i], mg[i], eg[i]);
	report(!bad[0], "%s: 16 GPRs as VTL0 had them at the access%s", what, bad[0] ? bad : " (all equal)");
	ok = icpt.frame_regs.rax == m->rax && icpt.frame_regs.rcx == m->rcx &&
	     icpt.frame_regs.rdx == m->rdx && icpt.frame_regs.rbx == m->rbx &&
	     icpt.frame_regs.rdi == m->rdi && icpt.frame_regs.r15 == m->r15;
	report(ok, "%s: VTL1's shared registers at the interrupt entry equal the message's "
	       "(rax %lx/%lx rcx %lx/%lx)", what, icpt.frame_regs.rax, m->rax, icpt.frame_regs.rcx,
	       m->rcx);
}

/* ---- tests ---- */

static volatile u64 cfg_read[5];
static volatile u64 cfg_status[4];

static u64 v1_partition_config(struct vsm_call *c)
{
	u64 mask = c->arg, other = mask == 0xf ? 0xb : 0xf;

	cfg_status[0] = hv_get_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
				   HV_REGISTER_VSM_PARTITION_CONFIG, (u64 *)&cfg_read[0]);
	cfg_status[1] = hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
				   HV_REGISTER_VSM_PARTITION_CONFIG,
				   HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | (mask << 1));
	cfg_read[1] = hv_read_reg(HV_REGISTER_VSM_PARTITION_CONFIG);
	cfg_status[2] = hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
				   HV_REGISTER_VSM_PARTITION_CONFIG,
				   HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | (other << 1));
	cfg_read[2] = hv_read_reg(HV_REGISTER_VSM_PARTITION_CONFIG);
	cfg_status[3] = hv_set_reg(HV_VP_INDEX_SELF, HV_INPUT_VTL_CURRENT,
				   HV_REGISTER_VSM_PARTITION_CONFIG, 0);
	cfg_read[3] = hv_read_reg(HV_REGISTER_VSM_PARTITION_CONFIG);
	return hv_status(vsm_protect_vtl1_memory());
}

static void test_default_mask(void)
{
	u64 want = HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | ((u64)default_mask << 1);
	u64 r;

	r = vsm_vtl1_call(v1_partition_config, default_mask);
	report(cfg_status[0] == 0 && cfg_read[0] == 0,
	       "VsmPartitionConfig (VTL1) before: %lx (status %lx), protections not enabled",
	       cfg_read[0], cfg_status[0]);
	report(cfg_status[1] == 0 && cfg_read[1] == want,
	       "VsmPartitionConfig := enable | default mask %x: status %lx, reads %lx (want %lx)",
	       default_mask, cfg_status[1], cfg_read[1], want);
	/* §3.1 write-once rule (QEMU, kvm-unit-tests test_default_protection_mask;
	 * TLFS: the default mask "cannot be changed once it is set"). */
	report(cfg_status[2] == 0 && cfg_read[2] == want,
	       "VsmPartitionConfig with another default mask: write succeeds (%lx) but reads %lx "
	       "(mask kept)", cfg_status[2], cfg_read[2]);
	report(cfg_status[3] == 0 && cfg_read[3] == want,
	       "VsmPartitionConfig := 0: write succeeds (%lx) but reads %lx (protection stays on)",
	       cfg_status[3], cfg_read[3]);
	report(r == 0, "VTL1 protected its own pages from VTL0 (status %lx)", r);

	/* An untouched page gets the default mask: all of R, W and X work. */
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	page_default[0] = 0xb8;                 /* mov $EXEC_MAGIC, %eax; ret */
	memcpy(page_default + 1, &(u32){ EXEC_MAGIC }, 4);
	page_default[5] = 0xc3;
	page_default[64] = 0x77;
	report(access_read((u64)page_default + 64) % 256 == 0x77 &&
	       access_write((u64)page_default + 128) == (u64)page_default + 128 &&
	       *(volatile u64 *)(page_default + 128) == (u64)page_default + 128 &&
	       access_exec((u64)page_default) == EXEC_MAGIC && icpt.count == 0,
	       "a page VTL1 never touched: read, write, execute from VTL0 work with the default "
	       "mask %x (intercepts %d)", default_mask, icpt.count);
	hv_report_status(protect(page_default, 1, default_mask), HV_STATUS_SUCCESS,
			 "ModifyVtlProtectionMask to the default mask %x", default_mask);
	report(access_read((u64)page_default + 64) % 256 == 0x77 &&
	       access_exec((u64)page_default) == EXEC_MAGIC && icpt.count == 0,
	       "a page explicitly set to the default mask behaves the same (intercepts %d)", icpt.count);
}

static void test_read_write_exec(void)
{
	struct hv_x64_memory_intercept_message e;
	u64 v;

	/* read: no access at all */
	memset(page_a, 0, PAGE_SIZE);
	*(u64 *)page_a = 0x0123456789abcdef;
	hv_report_status(protect(page_a, 1, HV_MAP_GPA_NO_ACCESS), HV_STATUS_SUCCESS,
			 "VTL1 removes all VTL0 access to page %p", page_a);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	v = access_read((u64)page_a);
	report(v == 0x0123456789abcdef && hv_status(icpt.relax_result) == 0,
	       "read of a no-access page: intercepted, VTL1 relaxed (status %lx), the read was "
	       "retried and returned %lx", icpt.relax_result, v);
	expect_header(&e, (u64)access_read_insn, 3, HV_INTERCEPT_ACCESS_READ, (u64)page_a);
	e.rax = (u64)page_a;
	e.instruction_byte_count = 3;
	memcpy(e.instruction_bytes, "\x48\x8b\x00", 3);
	check_message("read intercept", &e, (u64)page_a, true);

	/* write: read-only */
	hv_report_status(protect(page_a, 1, HV_MAP_GPA_READABLE), HV_STATUS_SUCCESS,
			 "VTL1 makes page %p read-only for VTL0", page_a);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	report(access_read((u64)page_a) == 0x0123456789abcdef && icpt.count == 0,
	       "reading the read-only page works without an intercept (count %d)", icpt.count);
	v = access_write((u64)page_a + 8);
	report(*(volatile u64 *)(page_a + 8) == (u64)page_a + 8 && icpt.count == 1,
	       "write to the read-only page: intercepted, relaxed, retried; memory now holds %lx",
	       *(volatile u64 *)(page_a + 8));
	expect_header(&e, (u64)access_write_insn, 3, HV_INTERCEPT_ACCESS_WRITE, (u64)page_a + 8);
	e.rax = (u64)page_a + 8;
	e.instruction_byte_count = 3;
	memcpy(e.instruction_bytes, "\x48\x89\x00", 3);
	check_message("write intercept", &e, (u64)page_a + 8, true);

	/* execute: read + write, no execute */
	page_a[0] = 0xb8;
	memcpy(page_a + 1, &(u32){ EXEC_MAGIC }, 4);
	page_a[5] = 0xc3;
	hv_report_status(protect(page_a, 1, HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE),
			 HV_STATUS_SUCCESS, "VTL1 makes page %p read+write, not executable", page_a);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	v = access_exec((u64)page_a);
	report(v == EXEC_MAGIC && icpt.count == 1,
	       "call into the non-executable page: intercepted, relaxed, the fetch retried and "
	       "the code ran (returned %lx)", v);
	/* §6.1: the length is that of the calling instruction, no instruction
	 * bytes, RIP = the fetch address, RSP after the call's push. */
	expect_header(&e, (u64)page_a, 2, HV_INTERCEPT_ACCESS_EXECUTE, (u64)page_a);
	e.rax = (u64)page_a;
	e.rsp = acc_rsp - 8;
	check_message("execute intercept", &e, (u64)page_a, true);

	/* CR8 in the header (TLFS HV_X64_INTERCEPT_MESSAGE_HEADER Cr8 field) */
	*(u64 *)page_cr8 = 0x3838383838383838;
	protect(page_cr8, 1, HV_MAP_GPA_NO_ACCESS);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	{
		u64 cr8 = 3;
		asm volatile("mov %0, %%cr8" :: "r"(cr8));
		v = access_read((u64)page_cr8);
		cr8 = 0;
		asm volatile("mov %0, %%cr8" :: "r"(cr8));
	}
	expect_header(&e, (u64)access_read_insn, 3 | (3 << 4), HV_INTERCEPT_ACCESS_READ,
		      (u64)page_cr8);
	report(v == 0x3838383838383838, "read with CR8 = 3: retried and returned %lx", v);
	check_message("read intercept with CR8 = 3", &e, (u64)page_cr8, false);
}

static void test_string_crossing(void)
{
	u8 *src = str_pages[0] + PAGE_SIZE - 32;        /* 32 bytes before page 1 */
	u8 *dst;
	const struct hv_x64_memory_intercept_message *m = (const void *)icpt.msg.payload;
	u64 rcx;
	bool ok = true;

	/* Write crossing: copy 64 bytes from page 0 to [page 1 end - 32, page 2 + 32),
	 * page 2 read-only. The first 32 iterations complete; the first write
	 * into page 2 is intercepted with RCX/RSI/RDI of that iteration, like a
	 * fault in a REP string instruction. */
	for (int i = 0; i < 64; i++)
		str_pages[0][PAGE_SIZE - 64 + i] = 0xa0 + i;
	memset(str_pages[1], 0, PAGE_SIZE);
	memset(str_pages[2], 0, PAGE_SIZE);
	src = str_pages[0] + PAGE_SIZE - 64;
	dst = str_pages[2] - 32;
	protect(str_pages[2], 1, HV_MAP_GPA_READABLE);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	rcx = access_movsb((u64)dst, (u64)src, 64);
	for (int i = 0; i < 64; i++)
		ok &= dst[i] == (u8)(0xa0 + i);
	report(rcx == 0 && ok && icpt.count == 1,
	       "REP MOVSB writing across into a read-only page: one intercept, then completed "
	       "(RCX %lx, data ok %d, intercepts %d)", rcx, ok, icpt.count);
	report(m->header.access_type == HV_INTERCEPT_ACCESS_WRITE && m->gpa == (u64)str_pages[2] &&
	       m->header.rip == (u64)access_movsb_insn && HV_INTERCEPT_INSTRUCTION_LENGTH(&m->header) == 2,
	       "REP MOVSB write intercept: access %u (want 1), GPA %lx (want %p, first byte of the "
	       "protected page), RIP %lx (want %p), length %u (want 2)", m->header.access_type, m->gpa,
	       str_pages[2], m->header.rip, access_movsb_insn, HV_INTERCEPT_INSTRUCTION_LENGTH(&m->header));
	report(m->rcx == 32 && m->rdi == (u64)str_pages[2] && m->rsi == (u64)src + 32,
	       "REP MOVSB write intercept: RCX %lx (want 0x20 left), RDI %lx (want %p), RSI %lx "
	       "(want %lx)", m->rcx, m->rdi, str_pages[2], m->rsi, (u64)src + 32);
	report(m->instruction_byte_count == 2 && m->instruction_bytes[0] == 0xf3 &&
	       m->instruction_bytes[1] == 0xa4,
	       "REP MOVSB write intercept: instruction bytes (%u) %02x %02x (want 2: f3 a4)",
	       m->instruction_byte_count, m->instruction_bytes[0], m->instruction_bytes[1]);

	/* Read crossing: source runs into a no-access page. */
	for (int i = 0; i < 32; i++)
		str_pages[2][i] = 0x50 + i;
	memset(str_pages[0], 0, 64);
	protect(str_pages[2], 1, HV_MAP_GPA_NO_ACCESS);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	rcx = access_movsb((u64)str_pages[0], (u64)str_pages[2] - 32, 64);
	ok = true;
	for (int i = 0; i < 32; i++)
		ok &= str_pages[0][32 + i] == (u8)(0x50 + i);
	report(rcx == 0 && ok && icpt.count == 1 && m->header.access_type == HV_INTERCEPT_ACCESS_READ &&
	       m->gpa == (u64)str_pages[2] && m->rcx == 32,
	       "REP MOVSB reading across into a no-access page: read intercept at GPA %lx (want %p) "
	       "with RCX %lx (want 0x20), then completed (RCX %lx, data ok %d)", m->gpa, str_pages[2],
	       m->rcx, rcx, ok);
}

/* CPL3 side of the user-execute tests. */
static u64 user_call(u64 target)
{
	return ((u64 (*)(void))target)();
}

static u64 sys_none(struct syscall_regs *r)
{
	return 0;
}

static void exec_case(const char *what, u32 mask, bool user, bool want_intercept)
{
	const struct hv_x64_memory_intercept_message *m = (const void *)icpt.msg.payload;
	u64 v;

	page_user[0] = 0xb8;
	memcpy(page_user + 1, &(u32){ EXEC_MAGIC }, 4);
	page_user[5] = 0xc3;
	protect(page_user, 1, mask);
	arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
	v = user ? run_in_user(user_call, (u64)page_user, USER_VIA_IRET)
		 : access_exec((u64)page_user);
	if (!want_intercept) {
		report(v == EXEC_MAGIC && icpt.count == 0, "%s: mask %x, CPL%d fetch allowed "
		       "(returned %lx, intercepts %d)", what, mask, user ? 3 : 0, v, icpt.count);
		return;
	}
	report(v == EXEC_MAGIC && icpt.count == 1 &&
	       m->header.access_type == HV_INTERCEPT_ACCESS_EXECUTE &&
	       HV_EXEC_STATE_CPL(m->header.execution_state) == (user ? 3u : 0u) &&
	       m->header.cs.selector == (user ? (USER_CS | 3) : KERNEL_CS) &&
	       m->header.rip == (u64)page_user && m->gpa == (u64)page_user,
	       "%s: mask %x, CPL%d fetch intercepted (count %d, access %u, exec state %x, CS %x, "
	       "RIP %lx, GPA %lx), relaxed, retried (returned %lx)", what, mask, user ? 3 : 0,
	       icpt.count, m->header.access_type, m->header.execution_state, m->header.cs.selector,
	       m->header.rip, m->gpa, v);
}

static void test_user_exec(void)
{
	syscall_init(sys_none);
	if (mbec) {
		/* §6: with MBEC, CPL0 fetches need KX (bit 2), CPL3 fetches UX
		 * (bit 3); OpenVMM/Linux naming (kvm-unit-tests swaps the two). */
		exec_case("MBEC, kernel-execute only", 0x7, false, false);
		exec_case("MBEC, kernel-execute only", 0x7, true, true);
		exec_case("MBEC, user-execute only", 0xb, true, false);
		exec_case("MBEC, user-execute only", 0xb, false, true);
	} else {
		report_skip("MBEC user/kernel execute split: VsmCapabilities has no MBEC for VTL1 "
			    "(%lx)", vsm.capabilities);
		/* §6 without MBEC: a fetch is allowed if either execute bit is set
		 * (the kvm-unit-tests use R|W|UX = 0xb as "RWX"). */
		exec_case("no MBEC, R|W|UX", 0xb, false, false);
		exec_case("no MBEC, R|W|UX", 0xb, true, false);
		exec_case("no MBEC, R|W|KX", 0x7, false, false);
		exec_case("no MBEC, R|W|KX", 0x7, true, false);
	}
	exec_case("R|W (no execute)", 0x3, true, true);
}

static volatile u64 vtl1_secret_read;

static u64 v1_read_secret(struct vsm_call *c)
{
	vtl1_secret_read = *(volatile u64 *)page_secret;
	return 0;
}

static void test_vtl1_memory(void)
{
	struct vsm_region r[4];
	int n = vsm_vtl1_regions(r, 4);
	const struct hv_x64_memory_intercept_message *m = (const void *)icpt.msg.payload;

	/* VTL1's own pages are no-access for VTL0 (vsm_protect_vtl1_memory). */
	for (int i = 0; i < n; i++) {
		u64 addr = r[i].start + (r[i].pages - 1) * PAGE_SIZE, v;

		arm(ACT_SKIP, 0);
		icpt.skip_rax = SKIP_MARK;
		v = access_read(addr);
		report(v == SKIP_MARK && icpt.count == 1 && m->gpa == addr &&
		       m->header.access_type == HV_INTERCEPT_ACCESS_READ && icpt.skip_status == 0,
		       "VTL0 read of VTL1 memory (%s, %lx) intercepted; VTL1 skipped it (RIP status %x) "
		       "and VTL0 got %lx", r[i].what, addr, icpt.skip_status, v);
	}
	/* The higher VTL is not restricted by what it imposes on VTL0. */
	*(volatile u64 *)page_secret = 0x5ec2e75ec2e75ec2;
	protect(page_secret, 1, HV_MAP_GPA_NO_ACCESS);
	vsm_vtl1_call(v1_read_secret, 0);
	report(vtl1_secret_read == 0x5ec2e75ec2e75ec2,
	       "VTL1 reads a page it made no-access for VTL0: %lx", vtl1_secret_read);
}

static volatile u64 v1_results[4];

static u64 v1_bad_protect(struct vsm_call *c)
{
	u64 gpn = (u64)page_fast[0] >> 12;

	v1_results[0] = hv_modify_vtl_protection_mask(HV_PARTITION_ID_SELF, HV_INPUT_VTL(1),
						      HV_MAP_GPA_READABLE, &gpn, 1);
	v1_results[1] = hv_modify_vtl_protection_mask(42, HV_INPUT_VTL(0), HV_MAP_GPA_READABLE, &gpn, 1);
	/* Write without read is not a legal combination (§6, TLFS "legal
	 * combinations": none, R, R+X, R+W, R+W+X); vsm.md names no status. */
	v1_results[2] = hv_modify_vtl_protection_mask(HV_PARTITION_ID_SELF, HV_INPUT_VTL(0),
						      HV_MAP_GPA_WRITABLE, &gpn, 1);
	if (hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_INPUT) {
		u64 gpns[2] = { (u64)page_fast[0] >> 12, (u64)page_fast[1] >> 12 };

		v1_results[3] = hv_modify_vtl_protection_mask_fast(HV_PARTITION_ID_SELF, HV_INPUT_VTL(0),
								   HV_MAP_GPA_READABLE, gpns, 2);
	}
	return 0;
}

static void ipi_handler(struct ex_regs *r)
{
	apic_eoi();
}

static void test_modify_errors(void)
{
	u64 gpn = (u64)page_fast[0] >> 12;

	hv_report_status(hv_modify_vtl_protection_mask(HV_PARTITION_ID_SELF, HV_INPUT_VTL(0),
						       HV_MAP_GPA_READABLE, &gpn, 1),
			 HV_STATUS_ACCESS_DENIED, "ModifyVtlProtectionMask from VTL0 on VTL0");
	hv_report_status(hv_modify_vtl_protection_mask(HV_PARTITION_ID_SELF, HV_INPUT_VTL_CURRENT,
						       HV_MAP_GPA_READABLE, &gpn, 1),
			 HV_STATUS_ACCESS_DENIED, "ModifyVtlProtectionMask from VTL0, no target VTL");
	vsm_vtl1_call(v1_bad_protect, 0);
	hv_report_status(v1_results[0], HV_STATUS_ACCESS_DENIED,
			 "ModifyVtlProtectionMask from VTL1 on VTL1");
	hv_report_status(v1_results[1], HV_STATUS_INVALID_PARTITION_ID,
			 "ModifyVtlProtectionMask with partition 42");
	hv_report_failure(v1_results[2], "ModifyVtlProtectionMask with W but not R (0x2)");
	if (hv_info.features_edx & HV_FEATURE_XMM_HYPERCALL_INPUT) {
		arm(ACT_RELAX, HV_MAP_GPA_PERMISSIONS_ALL);
		page_fast[1][8] = 0x42;
		report(hv_status(v1_results[3]) == 0 && hv_reps(v1_results[3]) == 2,
		       "ModifyVtlProtectionMask XMM fast form with 2 GPNs: %s, reps %u",
		       hv_status_name(hv_status(v1_results[3])), hv_reps(v1_results[3]));
		access_write((u64)page_fast[1] + 8);
		report(icpt.count == 1 && ((const struct hv_x64_memory_intercept_message *)
					   icpt.msg.payload)->gpa == (u64)page_fast[1] + 8,
		       "the second page of the fast call is read-only: write intercepted (count %d)",
		       icpt.count);
	} else {
		report_skip("ModifyVtlProtectionMask XMM fast form: no XMM hypercall input");
	}
	protect(page_fast[0], 2, HV_MAP_GPA_PERMISSIONS_ALL);

	/* §6: hypervisor accesses on behalf of VTL0 honour the protections: a
	 * hypercall whose input page VTL0 may not read fails (KVM selftest
	 * test_side_channel: SendSyntheticClusterIpiEx -> INVALID_HYPERCALL_INPUT). */
	{
		u32 vec = IPI_VECTOR;
		u64 r, set[3] = { 0 /* sparse 4K banks */, 1 /* bank 0 */, 1ul << smp_id() };

		handle_exception(IPI_VECTOR, ipi_handler);
		memset(page_ipi, 0, 64);
		memcpy(page_ipi, &vec, 4);      /* vector, VTL 0 (no use bit), flags 0 */
		memcpy(page_ipi + 8, set, sizeof(set));
		protect(page_ipi, 1, HV_MAP_GPA_NO_ACCESS);
		arm(ACT_SKIP, 0);
		r = hv_hypercall(hv_control(HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, false, 1, 0, 0),
				 (u64)page_ipi, 0);
		hv_report_status(r, HV_STATUS_INVALID_HYPERCALL_INPUT,
				 "SendSyntheticClusterIpiEx with its input in a page VTL0 may not read");
		report_info("intercept messages during that hypercall: %d", icpt.count);
		protect(page_ipi, 1, HV_MAP_GPA_PERMISSIONS_ALL);
		/* Had the IPI been sent anyway, take it here (the handler EOIs). */
		asm volatile("sti; nop; cli" ::: "memory");
		handle_exception(IPI_VECTOR, NULL);
	}
}

int main(void)
{
	struct vsm_config cfg = { 0 };
	long r;

	if (!vsm_report_platform())
		return report_summary();
	if (vsm_prepare())
		return report_summary();
	mbec = HV_VSM_CAP_MBEC_VTL_MASK(vsm.capabilities) & (1u << 1);
	/* With MBEC the default mask must keep kernel execute; without it,
	 * 0xb (R|W|UX) is what the kvm-unit-tests use. */
	default_mask = mbec ? HV_MAP_GPA_PERMISSIONS_ALL : 0xb;
	cfg.mbec = mbec;
	cfg.default_mask = 0;   /* VsmPartitionConfig is written by the test */
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised (MBEC %s): %lx", mbec ? "on" : "off", r))
		return report_summary();
	vsm_install_intercept_handler(v1_intercept);
	test_default_mask();
	test_read_write_exec();
	test_string_crossing();
	test_user_exec();
	test_vtl1_memory();
	test_modify_errors();
	return report_summary();
}
