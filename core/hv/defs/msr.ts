// Synthetic MSRs (spec/vsm.md §1.1, §4, §7, §10): numbers, the per-VTL banking of every item of the TLFS
// private/shared lists (§5.1) as one table, and the bit layouts of the hypercall, VP assist page, SynIC and
// synthetic timer MSRs. A reserved bit set in an MSR write raises #GP (the tables' `status` is unused there;
// callers test reservedBitsSet()).

import { defineBits } from './bitfields.js';

export const HvMsr = {
  HV_X64_MSR_GUEST_OS_ID: 0x40000000,
  HV_X64_MSR_HYPERCALL: 0x40000001,
  HV_X64_MSR_VP_INDEX: 0x40000002,
  HV_X64_MSR_RESET: 0x40000003,
  HV_X64_MSR_VP_RUNTIME: 0x40000010,
  HV_X64_MSR_TIME_REF_COUNT: 0x40000020,
  HV_X64_MSR_REFERENCE_TSC: 0x40000021,
  HV_X64_MSR_TSC_FREQUENCY: 0x40000022,
  HV_X64_MSR_APIC_FREQUENCY: 0x40000023,
  /** [UNCERTAIN] number only from secondary copies of Microsoft's header (not OpenVMM/Linux). */
  HV_X64_MSR_NPIEP_CONFIG: 0x40000040,
  HV_X64_MSR_EOI: 0x40000070,
  HV_X64_MSR_ICR: 0x40000071,
  HV_X64_MSR_TPR: 0x40000072,
  /** The TLFS private-state list calls it HV_X64_MSR_APIC_ASSIST_PAGE. */
  HV_X64_MSR_VP_ASSIST_PAGE: 0x40000073,
  HV_X64_MSR_SCONTROL: 0x40000080,
  HV_X64_MSR_SVERSION: 0x40000081,
  HV_X64_MSR_SIEFP: 0x40000082,
  HV_X64_MSR_SIMP: 0x40000083,
  HV_X64_MSR_EOM: 0x40000084,
  HV_X64_MSR_SIRBP: 0x40000085,
  HV_X64_MSR_SINT0: 0x40000090,
  HV_X64_MSR_SINT1: 0x40000091,
  HV_X64_MSR_SINT2: 0x40000092,
  HV_X64_MSR_SINT3: 0x40000093,
  HV_X64_MSR_SINT4: 0x40000094,
  HV_X64_MSR_SINT5: 0x40000095,
  HV_X64_MSR_SINT6: 0x40000096,
  HV_X64_MSR_SINT7: 0x40000097,
  HV_X64_MSR_SINT8: 0x40000098,
  HV_X64_MSR_SINT9: 0x40000099,
  HV_X64_MSR_SINT10: 0x4000009a,
  HV_X64_MSR_SINT11: 0x4000009b,
  HV_X64_MSR_SINT12: 0x4000009c,
  HV_X64_MSR_SINT13: 0x4000009d,
  HV_X64_MSR_SINT14: 0x4000009e,
  HV_X64_MSR_SINT15: 0x4000009f,
  HV_X64_MSR_STIMER0_CONFIG: 0x400000b0,
  HV_X64_MSR_STIMER0_COUNT: 0x400000b1,
  HV_X64_MSR_STIMER1_CONFIG: 0x400000b2,
  HV_X64_MSR_STIMER1_COUNT: 0x400000b3,
  HV_X64_MSR_STIMER2_CONFIG: 0x400000b4,
  HV_X64_MSR_STIMER2_COUNT: 0x400000b5,
  HV_X64_MSR_STIMER3_CONFIG: 0x400000b6,
  HV_X64_MSR_STIMER3_COUNT: 0x400000b7,
  /** [UNCERTAIN] STATS page numbers only from secondary header copies (Linux names them in a comment). */
  HV_X64_MSR_STATS_PARTITION_RETAIL_PAGE: 0x400000e0,
  HV_X64_MSR_STATS_PARTITION_INTERNAL_PAGE: 0x400000e1,
  HV_X64_MSR_STATS_VP_RETAIL_PAGE: 0x400000e2,
  HV_X64_MSR_STATS_VP_INTERNAL_PAGE: 0x400000e3,
  HV_X64_MSR_GUEST_IDLE: 0x400000f0,
  /** [UNCERTAIN] number only from secondary header copies. */
  HV_X64_MSR_DEBUG_DEVICE_OPTIONS: 0x400000ff,
  HV_X64_MSR_CRASH_P0: 0x40000100,
  HV_X64_MSR_CRASH_P1: 0x40000101,
  HV_X64_MSR_CRASH_P2: 0x40000102,
  HV_X64_MSR_CRASH_P3: 0x40000103,
  HV_X64_MSR_CRASH_P4: 0x40000104,
  HV_X64_MSR_CRASH_CTL: 0x40000105,
  /** [UNCERTAIN] number only from secondary header copies. */
  HV_X64_MSR_BELOW_1MB_PAGE: 0x40000200,
} as const;

export type HvMsrName = keyof typeof HvMsr;

/** Value → name for the synthetic MSRs; frozen. */
export const HV_MSR_NAMES: Readonly<Record<number, HvMsrName>> = Object.freeze(
  Object.fromEntries(Object.entries(HvMsr).map(([k, v]) => [v, k])) as Record<number, HvMsrName>,
);

export const HV_SYNIC_SINT_COUNT = 16;
export const HV_SYNIC_STIMER_COUNT = 4;
/** SVERSION reads as 1. */
export const HV_SYNIC_VERSION = 1;
/** Guest OS id bit 63 (high dword bit 31): open-source OS. The id must be non-zero to enable the hypercall page. */
export const HV_GUEST_OS_ID_OPEN_SOURCE_HI = 0x80000000;

// ---------------------------------------------------------------------------------------------------------
// Per-VTL banking (§5.1; §10 adds the crash MSRs as partition-wide). One row per item of the two §5.1 lists.
// `msrs` holds every MSR number the row covers (architectural and synthetic); rows about registers or
// internal state have none. A row that is private is saved/restored on every VTL switch (STYLE 8: perVtl[]).

export type Banking = 'private' | 'shared' | 'partition';

export interface BankingRow {
  readonly item: string;
  readonly banking: Banking;
  readonly msrs: readonly number[];
  readonly note: string;
}

const row = (item: string, banking: Banking, msrs: readonly number[], note = ''): BankingRow =>
  Object.freeze({ item, banking, msrs: Object.freeze([...msrs]), note });
const range = (first: number, last: number): number[] => Array.from({ length: last - first + 1 }, (_, i) => first + i);

export const HV_VTL_BANKING: readonly BankingRow[] = Object.freeze([
  // Private to each VTL.
  row('SYSENTER_CS / ESP / EIP', 'private', [0x174, 0x175, 0x176]),
  row('STAR / LSTAR / CSTAR / SFMASK', 'private', [0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084]),
  row('EFER', 'private', [0xc0000080]),
  row('PAT', 'private', [0x277]),
  row('KERNEL_GS_BASE', 'private', [0xc0000102]),
  row('FS.BASE / GS.BASE', 'private', [0xc0000100, 0xc0000101]),
  row('TSC_AUX', 'private', [0xc0000103]),
  row('HV_X64_MSR_HYPERCALL', 'private', [HvMsr.HV_X64_MSR_HYPERCALL], 'each VTL has its own hypercall overlay page'),
  row('HV_X64_MSR_GUEST_OS_ID', 'private', [HvMsr.HV_X64_MSR_GUEST_OS_ID]),
  row('HV_X64_MSR_REFERENCE_TSC', 'private', [HvMsr.HV_X64_MSR_REFERENCE_TSC], 'own overlay per VTL; contents equal'),
  row('HV_X64_MSR_APIC_FREQUENCY', 'private', [HvMsr.HV_X64_MSR_APIC_FREQUENCY], 'listed private by the TLFS although read-only'),
  row('HV_X64_MSR_EOI / ICR / TPR', 'private', [HvMsr.HV_X64_MSR_EOI, HvMsr.HV_X64_MSR_ICR, HvMsr.HV_X64_MSR_TPR], "alias the VTL's own APIC"),
  row('HV_X64_MSR_VP_ASSIST_PAGE', 'private', [HvMsr.HV_X64_MSR_VP_ASSIST_PAGE], 'TLFS list: HV_X64_MSR_APIC_ASSIST_PAGE'),
  row('HV_X64_MSR_NPIEP_CONFIG', 'private', [HvMsr.HV_X64_MSR_NPIEP_CONFIG], '[UNCERTAIN] number from secondary header copies'),
  row('HV_X64_MSR_SCONTROL / SVERSION / SIEFP / SIMP / EOM', 'private', range(0x40000080, 0x40000084)),
  row('HV_X64_MSR_SIRBP', 'private', [HvMsr.HV_X64_MSR_SIRBP]),
  row('SINT0..SINT15', 'private', range(0x40000090, 0x4000009f)),
  row('STIMER0..3 CONFIG / COUNT', 'private', range(0x400000b0, 0x400000b7)),
  row('Local APIC', 'private', [0x1b], 'own LAPIC per VTL (all registers, TPR/CR8, APIC_BASE enable bits, LVT timer); same APIC ID in both VTLs'),
  row('RIP, RSP, RFLAGS', 'private', []),
  row('CR0, CR3, CR4, DR7', 'private', []),
  row('IDTR, GDTR, CS, DS, ES, FS, GS, SS, TR, LDTR', 'private', [], 'full hidden state'),
  row('TSC', 'private', [0x10], '[UNCERTAIN] how real Hyper-V implements it; one TSC with a per-VTL offset satisfies the list'),
  row('pending event/exception/NMI injection state', 'private', [], 'not architectural; KVM clears queued events on switch'),
  // Shared by all VTLs of a VP.
  row('HV_X64_MSR_TSC_FREQUENCY', 'shared', [HvMsr.HV_X64_MSR_TSC_FREQUENCY]),
  row('HV_X64_MSR_VP_INDEX', 'shared', [HvMsr.HV_X64_MSR_VP_INDEX]),
  row('HV_X64_MSR_VP_RUNTIME', 'shared', [HvMsr.HV_X64_MSR_VP_RUNTIME]),
  row('HV_X64_MSR_RESET', 'shared', [HvMsr.HV_X64_MSR_RESET]),
  row('HV_X64_MSR_TIME_REF_COUNT', 'shared', [HvMsr.HV_X64_MSR_TIME_REF_COUNT]),
  row('HV_X64_MSR_GUEST_IDLE', 'shared', [HvMsr.HV_X64_MSR_GUEST_IDLE]),
  row('HV_X64_MSR_DEBUG_DEVICE_OPTIONS', 'shared', [HvMsr.HV_X64_MSR_DEBUG_DEVICE_OPTIONS], '[UNCERTAIN] number from secondary header copies'),
  row('HV_X64_MSR_BELOW_1MB_PAGE', 'shared', [HvMsr.HV_X64_MSR_BELOW_1MB_PAGE], '[UNCERTAIN] not in the TLFS shared list; from the talk'),
  row('HV_X64_MSR_STATS_* pages', 'shared', range(0x400000e0, 0x400000e3), '[UNCERTAIN] not in the TLFS shared list; from the talk'),
  row('MTRRs', 'shared', [0xfe, 0x2ff, ...range(0x200, 0x20f), 0x250, 0x258, 0x259, ...range(0x268, 0x26f)]),
  row('MCG_CAP, MCG_STATUS', 'shared', [0x179, 0x17a]),
  row('RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8..R15', 'shared', [], 'RSP is private'),
  row('CR2', 'shared', [], 'KVM RFC: CR2 is not isolated per VTL'),
  row('DR0..DR3, DR6', 'shared', [], 'DR6 shared or private per processor: VsmCapabilities.dr6Shared (bit 0)'),
  row('x87 / MMX state, XMM/YMM (AVX) state, MXCSR, XCR0', 'shared', []),
  // §10 only.
  row('HV_X64_MSR_CRASH_P0..P4 / CRASH_CTL', 'partition', range(0x40000100, 0x40000105), '§10 only: partition-wide'),
]);

/** MSR number → banking, derived from HV_VTL_BANKING. MSRs not listed are the x86 model's business. */
export const HV_MSR_BANKING: Readonly<Record<number, Banking>> = Object.freeze(
  Object.fromEntries(HV_VTL_BANKING.flatMap((r) => r.msrs.map((m) => [m, r.banking]))) as Record<number, Banking>,
);

// ---------------------------------------------------------------------------------------------------------
// Bit layouts. GPN fields hold the page number (GPA >> 12).

/** HV_X64_MSR_HYPERCALL (§1.1): reserved bits 2..11 → #GP; once `locked`, further writes fail. */
export const HV_X64_MSR_HYPERCALL_CONTENTS = defineBits('HV_X64_MSR_HYPERCALL_CONTENTS', 64, [
  { name: 'enable', shift: 0, width: 1 },
  { name: 'locked', shift: 1, width: 1 },
  { name: 'gpn', shift: 12, width: 52 },
]);

/** HV_X64_MSR_VP_ASSIST_PAGE (§4): reserved bits 1..11 → #GP. */
export const HV_X64_MSR_VP_ASSIST_PAGE_CONTENTS = defineBits('HV_X64_MSR_VP_ASSIST_PAGE_CONTENTS', 64, [
  { name: 'enable', shift: 0, width: 1 },
  { name: 'gpn', shift: 12, width: 52 },
]);

/** HV_X64_MSR_SCONTROL (§7). */
export const HV_SYNIC_SCONTROL = defineBits('HV_SYNIC_SCONTROL', 64, [{ name: 'enable', shift: 0, width: 1 }]);

/** HV_X64_MSR_SIMP and HV_X64_MSR_SIEFP (§7): the page is a per-VTL overlay while enabled. */
export const HV_SYNIC_SIMP_SIEFP = defineBits('HV_SYNIC_SIMP_SIEFP', 64, [
  { name: 'enable', shift: 0, width: 1 },
  { name: 'gpn', shift: 12, width: 52 },
]);

/** HV_X64_MSR_SINTx (§7). Vector valid 16..255. `asIntercept` is bit 19 in Linux/Microsoft headers, reserved in OpenVMM. */
export const HV_SYNIC_SINT = defineBits('HV_SYNIC_SINT', 64, [
  { name: 'vector', shift: 0, width: 8 },
  { name: 'masked', shift: 16, width: 1 },
  { name: 'autoEoi', shift: 17, width: 1 },
  { name: 'polling', shift: 18, width: 1 },
  { name: 'asIntercept', shift: 19, width: 1 },
  { name: 'proxy', shift: 20, width: 1 },
]);
/** SINT reset value: masked. */
export const HV_SYNIC_SINT_RESET = 0x10000;
export const HV_SYNIC_SINT_MIN_VECTOR = 16;

/** HV_X64_MSR_STIMERn_CONFIG (§7). COUNT is in 100 ns units of TIME_REF_COUNT. */
export const HV_STIMER_CONFIG = defineBits('HV_STIMER_CONFIG', 64, [
  { name: 'enable', shift: 0, width: 1 },
  { name: 'periodic', shift: 1, width: 1 },
  { name: 'lazy', shift: 2, width: 1 },
  /** Writing COUNT enables the timer. */
  { name: 'autoEnable', shift: 3, width: 1 },
  /** Direct mode only. */
  { name: 'apicVector', shift: 4, width: 8 },
  { name: 'directMode', shift: 12, width: 1 },
  { name: 'sint', shift: 16, width: 4 },
]);

/** HV_X64_MSR_NPIEP_CONFIG (§5.1 note: "bits 0..3 prevent SGDT/SIDT/SLDT/STR"; one bit each in that order). */
export const HV_X64_MSR_NPIEP_CONFIG_CONTENTS = defineBits('HV_X64_MSR_NPIEP_CONFIG_CONTENTS', 64, [
  { name: 'preventSgdt', shift: 0, width: 1 },
  { name: 'preventSidt', shift: 1, width: 1 },
  { name: 'preventSldt', shift: 2, width: 1 },
  { name: 'preventStr', shift: 3, width: 1 },
]);
