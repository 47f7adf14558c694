/*
 * vsm-fuzz.c - VTL0 hammers VTL1-protected pages (spec/vsm.md §6, §6.1)
 * with thousands of pseudo-random reads (1/2/4/8 bytes), writes, exchanges
 * and calls at random offsets, from a fixed seed. VTL1 never relaxes a
 * protection: for a data access it skips the instruction (RIP += length,
 * a read "returns" BLOCKED in RAX, a skipped XCHG leaves RSI as it was); for
 * a call it emulates the return (RIP = return address on VTL0's stack,
 * RSP += 8, RAX = BLOCKED).
 *
 * Pages:  secret_data  VTL1's secret, no access for VTL0
 *         secret_code  VTL1 code (NOP sled ending in "mov $BREACH1,%eax;
 *                      ret"), no access for VTL0
 *         ro_page      readable by VTL0 only (NOP sled ending in BREACH2)
 *         open_page    ordinary VTL0 page (NOP sled ending in OPEN_MAGIC)
 *         open_data    ordinary VTL0 data page
 * It passes when no access to a protected page ever succeeded (no read
 * returned anything but BLOCKED, no XCHG brought back old memory, the secret
 * and the read-only page are unchanged, no call returned a BREACH value),
 * every protected access was intercepted exactly once with a message that
 * matches it, and no access to the open pages or read of ro_page was
 * intercepted.
 *
 * Command line: iters=N (default 3000), seed=S.
 */
#include "vsmrr.h"
#include "hv.h"
#include "vsm.h"

#define BLOCKED         0xb10cb10cb10cb10cul
#define BREACH1         0xb1eaced1u
#define BREACH2         0xb1eaced2u
#define OPEN_MAGIC      0x0be11000u
#define SLED_END        (PAGE_SIZE - 16)        /* tail: mov $magic,%eax; ret */

static u8 secret_data[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 secret_code[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 ro_page[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 open_page[PAGE_SIZE] __aligned(PAGE_SIZE);
static u8 open_data[PAGE_SIZE] __aligned(PAGE_SIZE);

/* Access stubs: each data access is the stub's first instruction. */
u64 fz_read1(u64 a), fz_read2(u64 a), fz_read4(u64 a), fz_read8(u64 a);
u64 fz_write1(u64 a, u64 v), fz_write2(u64 a, u64 v), fz_write4(u64 a, u64 v), fz_write8(u64 a, u64 v);
u64 fz_xchg8(u64 a, u64 v), fz_call(u64 target);
extern char fz_call_insn[];
asm(".text\n"
    "fz_read1:\n\tmovzbl (%rdi), %eax\n\tret\n"
    "fz_read2:\n\tmovzwl (%rdi), %eax\n\tret\n"
    "fz_read4:\n\tmov (%rdi), %eax\n\tret\n"
    "fz_read8:\n\tmov (%rdi), %rax\n\tret\n"
    "fz_write1:\n\tmov %sil, (%rdi)\n\tret\n"
    "fz_write2:\n\tmov %si, (%rdi)\n\tret\n"
    "fz_write4:\n\tmov %esi, (%rdi)\n\tret\n"
    "fz_write8:\n\tmov %rsi, (%rdi)\n\tret\n"
    "fz_xchg8:\n\txchg %rsi, (%rdi)\n\tmov %rsi, %rax\n\tret\n"
    "fz_call:\n\tmov %rdi, %rax\n"
    ".globl fz_call_insn\nfz_call_insn:\n\tcall *%rax\n\tret\n");

/* What VTL0 is about to do (VTL1's handler checks the message against it)
 * and what VTL1 saw. */
static volatile struct {
	/* set by VTL0 before each operation */
	u64 op, addr, rip;
	u32 type;               /* 0 read, 1 write, 2 execute, 3 read or write */
	/* kept by VTL1 */
	u64 count, reads, writes, execs;
	u64 mismatches, rsp_mismatches, status_errors, runaway;
	u64 last_op_count, first_bad_op;
	char first_bad[160];
} fz = { .first_bad_op = ~0ul };

static bool in_page(u64 a, const u8 *p)
{
	return a >= (u64)p && a < (u64)p + PAGE_SIZE;
}

static void note_bad(const char *fmt, u64 a, u64 b)
{
	fz.mismatches++;
	if (fz.first_bad_op == ~0ul) {
		fz.first_bad_op = fz.op;
		snprintf((char *)fz.first_bad, sizeof(fz.first_bad), fmt, a, b);
	}
}

static void v1_fuzz_handler(struct vsm_intercept *ic)
{
	const struct hv_x64_memory_intercept_message *m = (const void *)ic->msg->payload;
	const struct hv_x64_intercept_message_header *h = &m->header;

	if (ic->msg->header.message_type != HVMSG_GPA_INTERCEPT ||
	    !(in_page(m->gpa, secret_data) || in_page(m->gpa, secret_code) || in_page(m->gpa, ro_page))) {
		hv_dump_message("VTL1 fuzz: unexpected", ic->msg);
		report(false, "VTL1 fuzz: op %lu: message type %x for GPA %lx outside the protected pages",
		       fz.op, ic->msg->header.message_type, m->gpa);
		exit(report_summary());
	}
	fz.count++;
	if (fz.last_op_count == fz.op + 1) {    /* a second intercept for the same op */
		if (++fz.runaway > 8) {
			hv_dump_message("VTL1 fuzz: runaway", ic->msg);
			report(false, "VTL1 fuzz: op %lu intercepted again and again (skip not applied?)",
			       fz.op);
			exit(report_summary());
		}
	}
	fz.last_op_count = fz.op + 1;
	if (m->gpa != fz.addr)
		note_bad("GPA %lx, VTL0 accessed %lx", m->gpa, fz.addr);
	if (fz.type == 3 ? h->access_type > 1 : h->access_type != fz.type)
		note_bad("access type %lu, want %lu", h->access_type, fz.type);

	if (h->access_type == HV_INTERCEPT_ACCESS_EXECUTE) {
		u32 names[2] = { HV_X64_REGISTER_RIP, HV_X64_REGISTER_RSP };
		union hv_register_value v[2];
		u64 rsp = 0;

		fz.execs++;
		if (h->rip != fz.addr)
			note_bad("execute intercept RIP %lx, want the call target %lx", h->rip, fz.addr);
		if (vsm_vtl0_get_reg(HV_X64_REGISTER_RSP, &rsp) != 0)
			fz.status_errors++;
		if (rsp != m->rsp)
			fz.rsp_mismatches++;
		/* Emulate the RET of the called code: VTL0's stack is identity mapped. */
		v[0] = (union hv_register_value){ { *(volatile u64 *)rsp, 0 } };
		v[1] = (union hv_register_value){ { rsp + 8, 0 } };
		if (hv_status(hv_set_vp_registers(HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_INPUT_VTL(0),
						  names, v, 2)))
			fz.status_errors++;
	} else {
		if (h->access_type == HV_INTERCEPT_ACCESS_READ)
			fz.reads++;
		else
			fz.writes++;
		if (h->rip != fz.rip)
			note_bad("data intercept RIP %lx, want the stub %lx", h->rip, fz.rip);
		if (vsm_vtl0_skip(h) != 0)
			fz.status_errors++;
	}
	ic->frame->regs.rax = BLOCKED;
}

/* ---- VTL1 setup and final check ---- */

static u64 secret_sum;
static u64 v1_seed = 0x9e3779b97f4a7c15ul;

static u64 xorshift(u64 *s)
{
	u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dul;
}

static u64 sum_page(const u8 *p)
{
	u64 h = 0xcbf29ce484222325ul;

	for (int i = 0; i < (int)PAGE_SIZE; i++)
		h = (h ^ p[i]) * 0x100000001b3ul;
	return h;
}

static void fill_sled(u8 *p, u32 magic)
{
	memset(p, 0x90, SLED_END);
	memset(p + SLED_END, 0xcc, 16);
	p[SLED_END] = 0xb8;                     /* mov $magic, %eax */
	memcpy(p + SLED_END + 1, &magic, 4);
	p[SLED_END + 5] = 0xc3;                 /* ret */
}

static u64 v1_setup(struct vsm_call *c)
{
	u64 r;

	for (int i = 0; i < (int)PAGE_SIZE; i += 8) {
		u64 x = xorshift(&v1_seed);

		memcpy(secret_data + i, &x, 8);
	}
	fill_sled(secret_code, BREACH1);
	secret_sum = sum_page(secret_data) ^ sum_page(secret_code);
	r = vsm_protect((u64)secret_data, 1, HV_MAP_GPA_NO_ACCESS);
	if (hv_status(r) == 0)
		r = vsm_protect((u64)secret_code, 1, HV_MAP_GPA_NO_ACCESS);
	if (hv_status(r) == 0)
		r = vsm_protect((u64)ro_page, 1, HV_MAP_GPA_READABLE);
	vsm_set_intercept_handler(v1_fuzz_handler);
	return r;
}

static u64 v1_check(struct vsm_call *c)
{
	return (sum_page(secret_data) ^ sum_page(secret_code)) == secret_sum;
}

/* ---- VTL0 loop ---- */

static u64 seed = 0x5eed0f5ecac7ul;

static u64 rnd(void) { return xorshift(&seed); }

struct tally {
	u64 ops, expected, read_breach, call_breach, xchg_breach, open_bad, ro_read_bad;
	u64 per_kind[10];
};

int main(void)
{
	struct vsm_config cfg = VSM_CONFIG_DEFAULT;
	unsigned long iters = cmdline_ulong("iters", 3000);
	struct tally t;
	u64 ro_sum, r, prev = 0, first_count_bad = ~0ul;

	seed = cmdline_ulong("seed", seed);
	if (!vsm_report_platform())
		return report_summary();
	r = vsm_init(&cfg);
	if (!report(r == 0, "VSM initialised: %lx", r))
		return report_summary();
	fill_sled(ro_page, BREACH2);
	fill_sled(open_page, OPEN_MAGIC);
	ro_sum = sum_page(ro_page);
	r = vsm_vtl1_call(v1_setup, 0);
	if (!hv_report_status(r, HV_STATUS_SUCCESS, "VTL1 filled its secret pages and protected them "
			      "(data/code: no access, ro_page: read-only)"))
		return report_summary();
	report_info("fuzzing %lu operations, seed %lx", iters, seed);

	memset(&t, 0, sizeof(t));
	for (u64 i = 0; i < iters; i++) {
		u64 kind = rnd() % 10, x = rnd(), v = rnd(), res;
		u32 w = 1u << (x & 3);                  /* access width 1, 2, 4, 8 */
		u64 off = (x >> 8) % (PAGE_SIZE - 8);
		u64 jump = (x >> 8) % SLED_END;
		u64 (*rd[4])(u64) = { fz_read1, fz_read2, fz_read4, fz_read8 };
		u64 (*wr[4])(u64, u64) = { fz_write1, fz_write2, fz_write4, fz_write8 };
		int wi = x & 3;

		fz.op = i;
		t.per_kind[kind]++;
		switch (kind) {
		case 0: case 1:         /* read VTL1's secret */
			fz.addr = (u64)secret_data + off; fz.rip = (u64)rd[wi]; fz.type = 0;
			t.expected++;
			if (rd[wi](fz.addr) != BLOCKED)
				t.read_breach++;
			break;
		case 2:                 /* write VTL1's secret */
			fz.addr = (u64)secret_data + off; fz.rip = (u64)wr[wi]; fz.type = 1;
			t.expected++;
			wr[wi](fz.addr, v);
			break;
		case 3:                 /* exchange with VTL1's secret */
			fz.addr = (u64)secret_data + (off & ~7ul); fz.rip = (u64)fz_xchg8; fz.type = 3;
			t.expected++;
			/* Skipped, RSI keeps v; executed, RSI would hold the secret. */
			res = fz_xchg8(fz.addr, v);
			if (res != v)
				t.xchg_breach++;
			break;
		case 4:                 /* call into VTL1's code */
			fz.addr = (u64)secret_code + jump; fz.rip = (u64)fz_call_insn; fz.type = 2;
			t.expected++;
			if (fz_call(fz.addr) != BLOCKED)
				t.call_breach++;
			break;
		case 5:                 /* call into the read-only (not executable) page */
			fz.addr = (u64)ro_page + jump; fz.rip = (u64)fz_call_insn; fz.type = 2;
			t.expected++;
			if (fz_call(fz.addr) != BLOCKED)
				t.call_breach++;
			break;
		case 6:                 /* write the read-only page */
			fz.addr = (u64)ro_page + off; fz.rip = (u64)wr[wi]; fz.type = 1;
			t.expected++;
			wr[wi](fz.addr, v);
			break;
		case 7: {               /* read the read-only page: allowed */
			u64 want = 0;

			fz.addr = (u64)ro_page + off; fz.type = 0;
			memcpy(&want, ro_page + off, w);
			if (rd[wi](fz.addr) != want)
				t.ro_read_bad++;
			break;
		}
		case 8: {               /* an ordinary VTL0 data page: allowed */
			u64 mask = w == 8 ? ~0ul : (1ul << (8 * w)) - 1;

			fz.addr = (u64)open_data + off;
			wr[wi](fz.addr, v);
			if (rd[wi](fz.addr) != (v & mask))
				t.open_bad++;
			break;
		}
		case 9:                 /* call into an ordinary VTL0 code page: allowed */
			if (fz_call((u64)open_page + jump) != OPEN_MAGIC)
				t.open_bad++;
			break;
		}
		if (fz.count != t.expected && first_count_bad == ~0ul)
			first_count_bad = i;
		if ((i + 1) % 1000 == 0 || i + 1 == iters) {
			report_info("%lu operations, %lu intercepts (expected %lu), %lu new", i + 1, fz.count,
				    t.expected, fz.count - prev);
			prev = fz.count;
		}
		t.ops++;
	}

	report(fz.count == t.expected && first_count_bad == ~0ul,
	       "VTL1 counted %lu intercepts for %lu protected accesses (first op with a count mismatch: %ld)",
	       fz.count, t.expected, (long)first_count_bad);
	report(fz.reads + fz.writes + fz.execs == fz.count &&
	       fz.execs == t.per_kind[4] + t.per_kind[5],
	       "intercepts by type: %lu read, %lu write, %lu execute (calls made: %lu)", fz.reads,
	       fz.writes, fz.execs, t.per_kind[4] + t.per_kind[5]);
	report(t.read_breach == 0 && t.xchg_breach == 0,
	       "no read or exchange of VTL1's secret succeeded (%lu reads, %lu exchanges; breaches %lu, %lu)",
	       t.per_kind[0] + t.per_kind[1], t.per_kind[3], t.read_breach, t.xchg_breach);
	report(vsm_vtl1_call(v1_check, 0) == 1,
	       "no write changed VTL1's secret data or code (%lu writes, %lu exchanges)",
	       t.per_kind[2], t.per_kind[3]);
	report(sum_page(ro_page) == ro_sum, "no write changed the read-only page (%lu writes)",
	       t.per_kind[6]);
	report(t.call_breach == 0, "no call executed VTL1 code or the non-executable page (%lu calls)",
	       t.per_kind[4] + t.per_kind[5]);
	report(t.ro_read_bad == 0 && t.open_bad == 0,
	       "allowed accesses worked without intercepts (%lu reads of ro_page, %lu bad; %lu "
	       "accesses/calls to the open pages, %lu bad)", t.per_kind[7], t.ro_read_bad,
	       t.per_kind[8] + t.per_kind[9], t.open_bad);
	report(fz.mismatches == 0, "every message matched its access (GPA, access type, RIP): %lu "
	       "mismatches, first at op %ld: %s", fz.mismatches, (long)fz.first_bad_op,
	       fz.first_bad[0] ? (const char *)fz.first_bad : "-");
	report(fz.rsp_mismatches == 0 && fz.status_errors == 0 && fz.runaway == 0,
	       "execute intercepts: message RSP = VTL0's RSP register (%lu mismatches); VTL1's "
	       "Get/SetVpRegisters all succeeded (%lu errors); no repeated intercept (%lu)",
	       fz.rsp_mismatches, fz.status_errors, fz.runaway);
	return report_summary();
}
