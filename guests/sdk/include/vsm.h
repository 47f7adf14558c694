/*
 * vsm.h - Virtual Secure Mode for guests: enabling VTL1 (spec/vsm.md §2.1,
 * §2.2), VTL call and return (§2.3, §5), and a small VTL1 "secure kernel"
 * runtime that lives in the same image as the VTL0 test:
 *
 *   - VTL1 has its own page tables (identity map of 0..4 GiB, 2 MiB pages),
 *     GDT (different selectors from VTL0's), IDT, TSS, stack, struct percpu
 *     (its GS base), hypercall page, VP assist page and SynIC pages. All of
 *     that is protected from VTL0 with HvCallModifyVtlProtectionMask once
 *     VTL1 has booted. The VTL1 code itself shares .text with VTL0 (one
 *     linker script for both), so it is not protected.
 *   - On every entry VTL1 saves the shared registers (all GPRs but RSP, and
 *     the x87/SSE state with FXSAVE) into a struct vsm_frame on its stack,
 *     looks at the entry reason in its VP assist page (§4) and either runs
 *     the function VTL0 asked for (VTL call) or takes its pending
 *     interrupts (SINT0 intercept messages, timers...) and hands intercept
 *     messages to the registered handler. It then restores the shared state
 *     (possibly changed) and does a VTL return: fast after a VTL call, and
 *     non-fast with VTL0's exact RAX/RCX in the VTL control area after an
 *     interrupt entry (§5.3, §5.4).
 *
 * VTL0 side:                          VTL1 side:
 *   vsm_init(&cfg)                      struct vsm_call (argument, frame)
 *   vsm_vtl1_call(fn, arg)              vsm_vtl1_yield(c, result)
 *   vtl_call(op, a1, a2, a3)            vsm_set_intercept_handler(fn)
 *   vtl_call_regs(&gprs)                vsm_protect(gpa, pages, mask)
 *   vsm_enable_ap(vp), vsm_ap_boot()    vsm_vtl0_set_reg/get_reg, vsm_vtl0_skip
 */
#ifndef VSMRR_VSM_H
#define VSMRR_VSM_H

#include "types.h"
#include "hv.h"
#include "desc.h"

#define VSM_MAX_VPS             HV_MAX_VPS
#define VSM_VTL1_STACK_SIZE     0x4000
#define VSM_SINT0_VECTOR        0xe0    /* VTL1's SINT0: secure intercepts */

/* VTL1's GDT selectors, deliberately not VTL0's (0x08/0x10/0x38+16n), so
 * that the banking of segment registers is observable. */
#define VTL1_CS                 0x28
#define VTL1_DS                 0x30
#define VTL1_TSS_SEL(vp)        (0x40 + 16 * (vp))
#define VTL1_GDT_ENTRIES        (8 + 2 * VSM_MAX_VPS)

/* Shared general purpose registers, in the order vtl1.S pushes them (the
 * same order as the first fields of struct ex_regs). RSP is private. */
struct vsm_gprs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
};

/* What VTL1 saved at its latest entry (on the VTL1 stack; vtl1.S). */
struct vsm_frame {
	u8 fx[512];             /* FXSAVE image of the shared x87/SSE state */
	struct vsm_gprs regs;   /* shared GPRs as VTL0 left them */
	u64 vtl1_rsp;           /* vtl1.S bookkeeping (first entry: RFLAGS) */
} __aligned(16);

/* FXSAVE image offsets */
#define FXSAVE_FCW      0
#define FXSAVE_MXCSR    24
#define FXSAVE_ST0      32      /* STn/MMn at 32 + 16n */
#define FXSAVE_XMM0     160     /* XMMn at 160 + 16n */

/* ---- VTL0 side ---- */

struct vsm_config {
	/* VsmPartitionConfig default protection mask (R|W|KX|UX, §3.1) that
	 * VTL1 writes with enable_vtl_protection = 1 at boot. 0: do not
	 * touch VsmPartitionConfig (and do not protect VTL1's pages). */
	u8 default_mask;
	bool mbec;              /* EnablePartitionVtl with EnableMbec, and
				 * VsmVpSecureConfigVtl0.mbec_enabled on each VP */
	bool no_self_protect;   /* leave VTL1's own pages accessible to VTL0 */
};
#define VSM_CONFIG_DEFAULT ((struct vsm_config){ .default_mask = HV_MAP_GPA_PERMISSIONS_ALL })

struct vsm_state {
	bool prepared, enabled, booted;
	u64 code_page_offsets;  /* HvRegisterVsmCodePageOffsets as VTL0 read it */
	u32 call_offset, return_offset;
	u64 capabilities;       /* HvRegisterVsmCapabilities */
	struct vsm_config cfg;
};
extern struct vsm_state vsm;
/* VTL0's VTL-call sequence (hypercall page + call offset), used by vtl_call. */
extern void *vsm_vtl_call_seq;

/*
 * Step by step (vsm-enable does them one at a time):
 *   vsm_prepare()    hv_init, privilege checks, VsmCodePageOffsets, VTL0's
 *                    VP assist page, VTL1 page tables/GDT/IDT. No VSM state
 *                    changes. Returns 0 or -1 (reason printed).
 *   vsm_enable_partition_vtl(), vsm_enable_vp_vtl() with vsm_vtl1_context()
 *   vsm_boot(&cfg)   first VTL call on this VP (VTL1 sets itself up), then
 *                    VTL1 applies cfg. Returns an HV status (0 = ok).
 *   vsm_init(&cfg)   all of the above on the calling VP; HV status or -1.
 */
int vsm_prepare(void);
u64 vsm_enable_partition_vtl(u64 partition, u8 vtl, u8 flags);        /* fast call */
u64 vsm_enable_partition_vtl_slow(u64 partition, u8 vtl, u8 flags);   /* memory */
u64 vsm_enable_vp_vtl(u64 partition, u32 vp, u8 vtl,
		      const struct hv_initial_vp_context *ctx);
/* VTL1's initial context for VP `vp` (§2.2): entry vtl1_start, VTL1 stack,
 * GDT/IDT/TSS/page tables, flat 64-bit segments, GS base = VTL1's percpu.
 * Also (re)initialises that VP's VTL1 percpu/TSS, so run it in VTL0 before
 * VTL1 exists (BSP) and in VTL1 afterwards. */
void vsm_vtl1_context(u32 vp, struct hv_initial_vp_context *ctx);
u64 vsm_boot(const struct vsm_config *cfg);
long vsm_init(const struct vsm_config *cfg);

/* Other VPs (bootstrap rule, §2.2): VTL1 on the BSP enables VTL1 on VP `vp`
 * (raw result); then VP `vp` itself (in VTL0) runs vsm_ap_boot(). */
u64 vsm_enable_ap(u32 vp);
/*
 * VP0 enables VTL1 on AP `vp` (vsm_enable_ap) and has the AP run vsm_ap_boot() through on_cpu(),
 * reporting both steps; returns whether the AP's VTL1 answered.
 */
bool vsm_bring_up_ap(u32 vp);
bool vsm_ap_boot(void);
/* Start VP `vp` in VTL0 with HvCallStartVirtualProcessor (§2.8) at the
 * SDK's AP entry (ap_main), on its SDK stack. Raw result. */
u64 vsm_start_vp(u32 vp);
/* The VTL0 context vsm_start_vp() uses (for negative tests). */
void vsm_vtl0_ap_context(u32 vp, struct hv_initial_vp_context *ctx);

/* VTL call operations understood by the VTL1 dispatcher. */
#define VSM_OP_NOP      0       /* returns VSM_NOP_MAGIC */
#define VSM_OP_RUN      1       /* a1 = vsm_vtl1_fn, a2 = its argument */
#define VSM_NOP_MAGIC   0x56534d4e4f50ul     /* "VSMNOP" */
#define VSM_BAD_OP      0xbad0bad0bad0bad0ul

/* Raw VTL call (vtl1_call.S): RDI = op, RSI = a1, RDX = a2, R8 = a3,
 * RCX = 0, then the page's VTL-call sequence. Returns what VTL1 left in
 * RDX. Preserves the callee-saved registers itself. */
u64 vtl_call(u64 op, u64 a1, u64 a2, u64 a3);
/* VTL call with every shared GPR taken from *r (RCX is the VTL call input
 * and must be 0 for a valid call; RAX is overwritten by the page stub),
 * and every GPR after the return stored back into *r. */
void vtl_call_regs(struct vsm_gprs *r);

struct vsm_call;
typedef u64 (*vsm_vtl1_fn)(struct vsm_call *c);
/* Run fn in VTL1 on this VP; returns its result. */
static inline u64 vsm_vtl1_call(vsm_vtl1_fn fn, u64 arg)
{
	return vtl_call(VSM_OP_RUN, (u64)fn, arg, 0);
}

/* First-entry snapshot of VTL1's state on each VP, taken before VTL1
 * touches anything, for checking the EnableVpVtl context (§2.2). */
struct vsm_entry_state {
	bool valid;
	u64 rflags, rsp;
	u64 cr0, cr3, cr4, efer, pat;
	u64 fs_base, gs_base, kernel_gs_base;
	u16 cs, ds, es, fs, gs, ss, tr, ldtr;
	struct { u16 limit; u64 base; } gdtr, idtr;
	struct vsm_gprs regs;   /* shared GPRs at that first entry */
};
extern struct vsm_entry_state vsm_first_entry[VSM_MAX_VPS];

/* Per-VP VTL1 counters (kept in VTL1 memory; vsm_vtl1_stats() copies). */
struct vsm_vtl1_stats {
	u64 entries;            /* every VTL1 entry */
	u64 calls;              /* entry reason VTL call */
	u64 interrupts;         /* entry reason interrupt */
	u64 other_reasons;      /* any other entry reason (a failure) */
	u64 sint0_irqs;         /* SINT0 interrupts taken */
	u64 intercepts;         /* messages handed to the intercept handler */
	u64 empty_sint0;        /* SINT0 interrupt with an empty slot */
	u64 polled_messages;    /* message found without its interrupt (a failure) */
	u64 lost_messages;      /* message overwritten before it was handled */
	u32 last_entry_reason;
	struct vsm_gprs last_interrupt_gprs;    /* shared GPRs at the latest
						 * interrupt entry */
};
/* From VTL0 (one VTL call, which the copy already counts) or VTL1. */
void vsm_vtl1_stats(u32 vp, struct vsm_vtl1_stats *out);

/* ---- VTL1 side (only valid in VTL1) ---- */

struct vsm_call {
	u64 arg;                /* a2 of the VTL call */
	u32 vp;                 /* VP index */
	u32 entry_reason;       /* HV_VTL_ENTRY_REASON_* of the latest entry */
	struct vsm_frame *frame;        /* shared state; changes go back to VTL0 */
	bool fast_return;       /* default true: VTL0 gets RAX = 1, RCX = 0x12 */
	u64 ret_rax, ret_rcx;   /* non-fast return: VTL0's RAX/RCX (§5.3) */
};

/* VTL return from inside fn (keeping fn's stack frame), then wait for the
 * next VTL call from VTL0, handling interrupt entries meanwhile. VTL0's
 * vtl_call returns `result`; the return kind is c->fast_return. On the
 * next call, c is updated (arg, entry reason, frame) and fast_return is
 * reset to true. Returns the number of interrupt entries handled while
 * waiting. */
u64 vsm_vtl1_yield(struct vsm_call *c, u64 result);

struct vsm_intercept {
	u32 vp;
	const struct hv_message *msg;   /* copy of the SINT0 message */
	struct vsm_frame *frame;        /* VTL0's shared state (modifiable) */
};
typedef void (*vsm_intercept_fn)(struct vsm_intercept *ic);
/* Handler for SINT0 messages (intercepts). NULL: the default, which dumps
 * the message, fails and exits. VTL1 only. */
void vsm_set_intercept_handler(vsm_intercept_fn fn);
/* The same from VTL0 (through a VTL call). */
void vsm_install_intercept_handler(vsm_intercept_fn fn);

/* VTL1's own exception/interrupt handlers (its own IDT). */
handler_t vsm_vtl1_handle_exception(u8 vector, handler_t fn);

bool vsm_in_vtl1(void);
/* ModifyVtlProtectionMask for VTL0 over [gpa, gpa + pages * 4K). Raw
 * result of the first failing chunk, or of the last one. */
u64 vsm_protect(u64 gpa, u64 pages, u32 mask);
/* VTL0's private registers of this VP (SetVpRegisters with input VTL 0). */
u16 vsm_vtl0_set_reg(u32 name, u64 value);
u16 vsm_vtl0_get_reg(u32 name, u64 *value);
/* Advance VTL0's RIP past the intercepted instruction (header RIP +
 * instruction length). */
u16 vsm_vtl0_skip(const struct hv_x64_intercept_message_header *h);
/* Inject an exception into VTL0 (PendingEvent0, §3.2). */
u16 vsm_vtl0_inject_exception(u8 vector, bool has_error, u32 error);

/* VTL1's VP assist page on this VP (VTL1 only). */
struct hv_vp_assist_page *vsm_vtl1_assist(void);
/* Protect every page that belongs to VTL1 (VTL1 only). */
u64 vsm_protect_vtl1_memory(void);
/* Page-aligned ranges of VTL1-private memory (for tests that probe it). */
struct vsm_region {
	u64 start, pages;
	const char *what;
};
int vsm_vtl1_regions(struct vsm_region *out, int max);

/* The discovery checks every VSM guest starts with (report() lines:
 * hypervisor bit, "Microsoft Hv", "Hv#1", AccessVsm, AccessVpRegisters)
 * plus INFO lines with the privilege/feature words. False if VSM cannot
 * be used. */
bool vsm_report_platform(void);

/* Helpers for checks: read VSM registers of the current VTL. */
static inline u64 vsm_vp_status(void) { return hv_read_reg(HV_REGISTER_VSM_VP_STATUS); }
static inline u64 vsm_partition_status(void) { return hv_read_reg(HV_REGISTER_VSM_PARTITION_STATUS); }

#endif
