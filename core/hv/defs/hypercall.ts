// Hypercall ABI definitions (spec/vsm.md §1.1-§1.5, §2 table): call codes and their kinds, the hypercall
// input value (RCX) and result value (RAX) bit layouts, HV_INPUT_VTL, well-known ids, and the hypercall page
// stub bytes. Status codes are in status.ts. Input/output block layouts of the individual calls are in vsm.ts.

import { type U64, decodeBits, defineBits, encodeBits, getBits } from './bitfields.js';
import type { HvPartitionPrivilegeName } from './cpuid.js';
import { HvStatus } from './status.js';

// ---------------------------------------------------------------------------------------------------------
// Call codes (§2 table; OpenVMM `HypercallCode`, kvm-unit-tests `x86/hyperv.h`).

export const HvCall = {
  HvCallFlushVirtualAddressSpace: 0x0002,
  HvCallFlushVirtualAddressList: 0x0003,
  /** Linux: HVCALL_SEND_IPI. */
  HvCallSendSyntheticClusterIpi: 0x000b,
  HvCallModifyVtlProtectionMask: 0x000c,
  HvCallEnablePartitionVtl: 0x000d,
  HvCallEnableVpVtl: 0x000f,
  HvCallVtlCall: 0x0011,
  HvCallVtlReturn: 0x0012,
  HvCallFlushVirtualAddressSpaceEx: 0x0013,
  HvCallFlushVirtualAddressListEx: 0x0014,
  /** Linux: HVCALL_SEND_IPI_EX. */
  HvCallSendSyntheticClusterIpiEx: 0x0015,
  HvCallGetVpRegisters: 0x0050,
  HvCallSetVpRegisters: 0x0051,
  HvCallTranslateVirtualAddress: 0x0052,
  HvCallPostMessage: 0x005c,
  HvCallSignalEvent: 0x005d,
  HvCallStartVirtualProcessor: 0x0099,
  HvCallGetVpIndexFromApicId: 0x009a,
  HvCallTranslateVirtualAddressEx: 0x00ac,
} as const;

export type HvCallName = keyof typeof HvCall;
export type KnownHypercallCode = (typeof HvCall)[HvCallName];
/** Open: a guest may issue any 16-bit code; unknown ones get HV_STATUS_INVALID_HYPERCALL_CODE. */
export type HypercallCode = KnownHypercallCode | (number & {});

/**
 * simple: rep count and rep start must be 0. rep: rep count ≥ 1, rep start < rep count.
 * vtl: VtlCall/VtlReturn, special ABI via the hypercall page (§2.3): control must be exactly the code,
 * violations raise #UD and nothing is written to RAX.
 */
export type HypercallKind = 'simple' | 'rep' | 'vtl';

export interface HypercallInfo {
  readonly name: HvCallName;
  readonly kind: HypercallKind;
  /** A variable-size header is allowed (the Ex forms); otherwise a non-zero size is INVALID_HYPERCALL_INPUT. */
  readonly varHeader: boolean;
  /** Only the memory (slow) form exists (§2.2, §2.8). */
  readonly slowOnly: boolean;
  /**
   * CPUID 0x40000003 EBX privilege that gates the call (§1.6, KVM selftest `hyperv_features`); missing →
   * HV_STATUS_ACCESS_DENIED. Undefined where vsm.md names no gate.
   */
  readonly privilege?: HvPartitionPrivilegeName;
}

const info = (
  name: HvCallName, kind: HypercallKind, varHeader = false, slowOnly = false, privilege?: HvPartitionPrivilegeName,
): HypercallInfo => Object.freeze({ name, kind, varHeader, slowOnly, privilege });

/** Per-code ABI facts for the dispatcher, keyed by code. */
export const HYPERCALL_INFO: Readonly<Record<KnownHypercallCode, HypercallInfo>> = Object.freeze({
  [HvCall.HvCallFlushVirtualAddressSpace]: info('HvCallFlushVirtualAddressSpace', 'simple'),
  [HvCall.HvCallFlushVirtualAddressList]: info('HvCallFlushVirtualAddressList', 'rep'),
  [HvCall.HvCallSendSyntheticClusterIpi]: info('HvCallSendSyntheticClusterIpi', 'simple'),
  [HvCall.HvCallModifyVtlProtectionMask]: info('HvCallModifyVtlProtectionMask', 'rep', false, false, 'AccessVsm'),
  [HvCall.HvCallEnablePartitionVtl]: info('HvCallEnablePartitionVtl', 'simple', false, false, 'AccessVsm'),
  [HvCall.HvCallEnableVpVtl]: info('HvCallEnableVpVtl', 'simple', false, true, 'AccessVsm'),
  [HvCall.HvCallVtlCall]: info('HvCallVtlCall', 'vtl', false, false, 'AccessVsm'),
  [HvCall.HvCallVtlReturn]: info('HvCallVtlReturn', 'vtl', false, false, 'AccessVsm'),
  [HvCall.HvCallFlushVirtualAddressSpaceEx]: info('HvCallFlushVirtualAddressSpaceEx', 'simple', true),
  [HvCall.HvCallFlushVirtualAddressListEx]: info('HvCallFlushVirtualAddressListEx', 'rep', true),
  [HvCall.HvCallSendSyntheticClusterIpiEx]: info('HvCallSendSyntheticClusterIpiEx', 'simple', true),
  [HvCall.HvCallGetVpRegisters]: info('HvCallGetVpRegisters', 'rep', false, false, 'AccessVpRegisters'),
  [HvCall.HvCallSetVpRegisters]: info('HvCallSetVpRegisters', 'rep', false, false, 'AccessVpRegisters'),
  [HvCall.HvCallTranslateVirtualAddress]: info('HvCallTranslateVirtualAddress', 'simple'),
  [HvCall.HvCallPostMessage]: info('HvCallPostMessage', 'simple', false, true, 'PostMessages'),
  [HvCall.HvCallSignalEvent]: info('HvCallSignalEvent', 'simple', false, false, 'SignalEvents'),
  [HvCall.HvCallStartVirtualProcessor]: info('HvCallStartVirtualProcessor', 'simple', false, true, 'StartVirtualProcessor'),
  [HvCall.HvCallGetVpIndexFromApicId]: info('HvCallGetVpIndexFromApicId', 'rep', false, false, 'StartVirtualProcessor'),
  [HvCall.HvCallTranslateVirtualAddressEx]: info('HvCallTranslateVirtualAddressEx', 'simple'),
});

/** The info for a code, or undefined for a code this emulator does not know. */
export function hypercallInfo(code: number): HypercallInfo | undefined {
  return (HYPERCALL_INFO as Readonly<Record<number, HypercallInfo>>)[code];
}

// ---------------------------------------------------------------------------------------------------------
// Hypercall input value, RCX in 64-bit mode / EDX:EAX in 32-bit mode (§1.3).
// Reserved: bits 27..30, 44..47, 60..63 → HV_STATUS_INVALID_HYPERCALL_INPUT (KVM rule; OpenVMM's dispatcher
// does not check them). Linux's reserved mask for the low dword is 27..31, i.e. it includes the nested bit 31;
// HV_HYPERCALL_INPUT_RSVD_LO_KVM is that stricter mask.

export const HV_HYPERCALL_INPUT = defineBits('HV_HYPERCALL_INPUT', 64, [
  { name: 'callCode', shift: 0, width: 16 },
  { name: 'fast', shift: 16, width: 1 },
  /** In 8-byte units. */
  { name: 'varHeaderSize', shift: 17, width: 10 },
  { name: 'nested', shift: 31, width: 1 },
  { name: 'repCount', shift: 32, width: 12 },
  { name: 'repStartIndex', shift: 48, width: 12 },
], HvStatus.HV_STATUS_INVALID_HYPERCALL_INPUT);

/** Linux/KVM reserved mask of the low dword: bits 27..31 (includes `nested`). */
export const HV_HYPERCALL_INPUT_RSVD_LO_KVM = 0xf8000000;

export interface HypercallInput {
  callCode: HypercallCode;
  fast: boolean;
  varHeaderSize: number;
  nested: boolean;
  repCount: number;
  repStartIndex: number;
}

/** Decode RCX (as halves). Reserved bits are ignored here; check them with checkReservedBits(HV_HYPERCALL_INPUT). */
export function decodeHypercallInput(lo: number, hi: number): HypercallInput {
  const f = decodeBits(HV_HYPERCALL_INPUT, lo, hi);
  return {
    callCode: f.callCode, fast: f.fast === 1, varHeaderSize: f.varHeaderSize, nested: f.nested === 1,
    repCount: f.repCount, repStartIndex: f.repStartIndex,
  };
}

export function encodeHypercallInput(x: Partial<HypercallInput>): U64 {
  return encodeBits(HV_HYPERCALL_INPUT, {
    callCode: x.callCode, fast: x.fast ? 1 : 0, varHeaderSize: x.varHeaderSize, nested: x.nested ? 1 : 0,
    repCount: x.repCount, repStartIndex: x.repStartIndex,
  });
}

/** Fast input capacity: RDX + R8 (16 bytes) + XMM0..XMM5 (6 × 16) = 112 bytes (§1.2). */
export const HV_HYPERCALL_FAST_XMM_REGS = 6;
export const HV_HYPERCALL_FAST_MAX_BYTES = 16 + HV_HYPERCALL_FAST_XMM_REGS * 16;
/** Input/output GPAs must be 8-byte aligned (else HV_STATUS_INVALID_ALIGNMENT) and not cross a 4 KiB page. */
export const HV_HYPERCALL_BLOCK_ALIGN = 8;
export const HV_PAGE_SIZE = 4096;
export const HV_PAGE_SHIFT = 12;

// ---------------------------------------------------------------------------------------------------------
// Hypercall result value, RAX (§1.4). Bits 16..31 and 44..63 reserved (written as 0).

export const HV_HYPERCALL_RESULT = defineBits('HV_HYPERCALL_RESULT', 64, [
  { name: 'status', shift: 0, width: 16 },
  { name: 'repsCompleted', shift: 32, width: 12 },
]);

export function encodeHypercallResult(status: number, repsCompleted = 0): U64 {
  return encodeBits(HV_HYPERCALL_RESULT, { status, repsCompleted });
}

export function decodeHypercallResult(lo: number, hi: number): { status: number; repsCompleted: number } {
  return decodeBits(HV_HYPERCALL_RESULT, lo, hi);
}

// ---------------------------------------------------------------------------------------------------------
// HV_INPUT_VTL byte (§1.5). Reserved bits 5..7 → HV_STATUS_INVALID_PARAMETER.

export const HV_INPUT_VTL = defineBits('HV_INPUT_VTL', 8, [
  { name: 'targetVtl', shift: 0, width: 4 },
  { name: 'useTargetVtl', shift: 4, width: 1 },
], HvStatus.HV_STATUS_INVALID_PARAMETER);

export const HV_VTL_ALL = 0xf;
export const HV_INVALID_VTL = 0xff;
/** VTLs this emulator implements: VTL0 (normal) and VTL1 (secure). */
export const HV_NUM_VTLS = 2;

/** The VTL an HV_INPUT_VTL byte selects, given the caller's current VTL (bit 4 clear → the caller's VTL). */
export function inputVtlTarget(inputVtl: number, currentVtl: number): number {
  return getBits(inputVtl, 0, 4, 1) ? inputVtl & 0xf : currentVtl;
}

// ---------------------------------------------------------------------------------------------------------
// Well-known ids (§1.4).

export const HV_PARTITION_ID_SELF: Readonly<U64> = Object.freeze({ lo: 0xffffffff, hi: 0xffffffff });
export const HV_VP_INDEX_SELF = 0xfffffffe;
export const HV_ANY_VP = 0xffffffff;

// ---------------------------------------------------------------------------------------------------------
// Hypercall MSR page contents (§1.1), OpenVMM layout (`hv1_emulator/src/hv.rs`). The rest of the page is 0xCC.
// The KVM layout differs (32-bit call/return 0x04/0x0D, 64-bit 0x16/0x20); whichever is written,
// HvRegisterVsmCodePageOffsets must report the same offsets. Offsets are identical in every VTL.

export const HV_HYPERCALL_PAGE_FILL = 0xcc;
export const HV_VMCALL_INTEL = Object.freeze([0x0f, 0x01, 0xc1] as const);
export const HV_VMCALL_AMD = Object.freeze([0x0f, 0x01, 0xd9] as const);
export const HV_VMCALL_LENGTH = 3;

/** Stubs with the Intel vmcall; `vmcall` marks where the 3 hypercall-instruction bytes go. */
export const HV_HYPERCALL_PAGE_OPENVMM = Object.freeze([
  Object.freeze({ name: 'hypercall', offset: 0x00, code: Object.freeze(['vmcall', 0xc3] as const) }),
  /** 32-bit VTL call: mov ecx,eax; mov eax,0x11; vmcall; ret. */
  Object.freeze({ name: 'vtlCall32', offset: 0x04, code: Object.freeze([0x89, 0xc1, 0xb8, 0x11, 0, 0, 0, 'vmcall', 0xc3] as const) }),
  /** 64-bit VTL call: mov rax,rcx; mov ecx,0x11; vmcall; ret. */
  Object.freeze({ name: 'vtlCall64', offset: 0x0f, code: Object.freeze([0x48, 0x89, 0xc8, 0xb9, 0x11, 0, 0, 0, 'vmcall', 0xc3] as const) }),
  Object.freeze({ name: 'vtlReturn32', offset: 0x1b, code: Object.freeze([0x89, 0xc1, 0xb8, 0x12, 0, 0, 0, 'vmcall', 0xc3] as const) }),
  Object.freeze({ name: 'vtlReturn64', offset: 0x26, code: Object.freeze([0x48, 0x89, 0xc8, 0xb9, 0x12, 0, 0, 0, 'vmcall', 0xc3] as const) }),
] as const);

/** What HvRegisterVsmCodePageOffsets reports for the OpenVMM page in 64-bit mode. */
export const HV_VTL_CALL_OFFSET_64 = 0x0f;
export const HV_VTL_RETURN_OFFSET_64 = 0x26;
export const HV_VTL_CALL_OFFSET_32 = 0x04;
export const HV_VTL_RETURN_OFFSET_32 = 0x1b;

/** VtlReturn input (RAX at the vmcall): bit 0 = fast return, all other bits must be 0 (§2.3). */
export const HV_VTL_RETURN_INPUT_FAST = 0x1;

