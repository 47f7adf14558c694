// Register names for HvCallGetVpRegisters / HvCallSetVpRegisters (spec/vsm.md §3.1, §3.2) and the bit layouts
// of the VSM registers. Key names follow OpenVMM `HvX64RegisterName` (= the "Register" column of §3.1);
// Linux spells them HV_X64_REGISTER_* / HV_REGISTER_* (e.g. VsmCodePageOffsets = HV_REGISTER_VSM_CODE_PAGE_OFFSETS).
// A register value is 16 bytes (u128); segment and table registers use the 16-byte layouts in vsm.ts.

import { defineBits } from './bitfields.js';

export const HV_REGISTER_VALUE_SIZE = 16;

export const HvRegisterName = {
  // Interrupt/event state and crash registers (§3.2).
  InternalActivityState: 0x00000004,
  GuestCrashP0: 0x00000210,
  GuestCrashP1: 0x00000211,
  GuestCrashP2: 0x00000212,
  GuestCrashP3: 0x00000213,
  GuestCrashP4: 0x00000214,
  GuestCrashCtl: 0x00000215,
  PendingInterruption: 0x00010002,
  InterruptState: 0x00010003,
  /** Writing an exception event here queues it in the target VTL (HV_X64_PENDING_EXCEPTION_EVENT below). */
  PendingEvent0: 0x00010004,
  PendingEvent1: 0x00010005,
  DeliverabilityNotifications: 0x00010006,

  // General registers, architectural order.
  Rax: 0x00020000, Rcx: 0x00020001, Rdx: 0x00020002, Rbx: 0x00020003,
  Rsp: 0x00020004, Rbp: 0x00020005, Rsi: 0x00020006, Rdi: 0x00020007,
  R8: 0x00020008, R9: 0x00020009, R10: 0x0002000a, R11: 0x0002000b,
  R12: 0x0002000c, R13: 0x0002000d, R14: 0x0002000e, R15: 0x0002000f,
  Rip: 0x00020010,
  Rflags: 0x00020011,

  // Floating point / vector.
  Xmm0: 0x00030000, Xmm1: 0x00030001, Xmm2: 0x00030002, Xmm3: 0x00030003,
  Xmm4: 0x00030004, Xmm5: 0x00030005, Xmm6: 0x00030006, Xmm7: 0x00030007,
  Xmm8: 0x00030008, Xmm9: 0x00030009, Xmm10: 0x0003000a, Xmm11: 0x0003000b,
  Xmm12: 0x0003000c, Xmm13: 0x0003000d, Xmm14: 0x0003000e, Xmm15: 0x0003000f,
  FpMmx0: 0x00030010, FpMmx1: 0x00030011, FpMmx2: 0x00030012, FpMmx3: 0x00030013,
  FpMmx4: 0x00030014, FpMmx5: 0x00030015, FpMmx6: 0x00030016, FpMmx7: 0x00030017,
  FpControlStatus: 0x00030018,
  XmmControlStatus: 0x00030019,

  // Control registers.
  Cr0: 0x00040000,
  Cr2: 0x00040001,
  Cr3: 0x00040002,
  Cr4: 0x00040003,
  Cr8: 0x00040004,
  /** XCR0. */
  Xfem: 0x00040005,

  // Debug registers.
  Dr0: 0x00050000, Dr1: 0x00050001, Dr2: 0x00050002, Dr3: 0x00050003,
  Dr6: 0x00050004,
  Dr7: 0x00050005,

  // Segment registers (16-byte HV_X64_SEGMENT_REGISTER values).
  Es: 0x00060000, Cs: 0x00060001, Ss: 0x00060002, Ds: 0x00060003,
  Fs: 0x00060004, Gs: 0x00060005, Ldtr: 0x00060006, Tr: 0x00060007,

  // Table registers (16-byte HV_X64_TABLE_REGISTER values).
  Idtr: 0x00070000,
  Gdtr: 0x00070001,

  // MSRs. MTRRs are HV_REGISTER_MTRR_FIRST..LAST.
  Tsc: 0x00080000,
  Efer: 0x00080001,
  KernelGsBase: 0x00080002,
  ApicBase: 0x00080003,
  Pat: 0x00080004,
  SysenterCs: 0x00080005,
  SysenterEip: 0x00080006,
  SysenterEsp: 0x00080007,
  Star: 0x00080008,
  Lstar: 0x00080009,
  Cstar: 0x0008000a,
  Sfmask: 0x0008000b,
  InitialApicId: 0x0008000c,
  TscAux: 0x0008007b,
  Bndcfgs: 0x0008007c,
  DebugCtl: 0x0008007d,
  SpecCtrl: 0x00080084,
  Xss: 0x0008008b,
  UCet: 0x0008008c,
  SCet: 0x0008008d,
  Ssp: 0x0008008e,
  Pl0Ssp: 0x0008008f,
  Pl1Ssp: 0x00080090,
  Pl2Ssp: 0x00080091,
  Pl3Ssp: 0x00080092,
  TscDeadline: 0x00080095,
  TscAdjust: 0x00080096,

  // APIC registers: HV_REGISTER_APIC_BASE + x2APIC MSR number (HV_REGISTER_APIC_FIRST..LAST).
  ApicTpr: 0x00084808,
  ApicEoi: 0x0008480b,
  ApicIcr: 0x00084830,

  // Synthetic MSRs.
  VpRuntime: 0x00090000,
  Hypercall: 0x00090001,
  GuestOsId: 0x00090002,
  VpIndex: 0x00090003,
  TimeRefCount: 0x00090004,
  VpAssistPage: 0x00090013,
  ReferenceTsc: 0x00090017,
  Sint0: 0x000a0000, Sint1: 0x000a0001, Sint2: 0x000a0002, Sint3: 0x000a0003,
  Sint4: 0x000a0004, Sint5: 0x000a0005, Sint6: 0x000a0006, Sint7: 0x000a0007,
  Sint8: 0x000a0008, Sint9: 0x000a0009, Sint10: 0x000a000a, Sint11: 0x000a000b,
  Sint12: 0x000a000c, Sint13: 0x000a000d, Sint14: 0x000a000e, Sint15: 0x000a000f,
  Scontrol: 0x000a0010,
  Sversion: 0x000a0011,
  /** SIEFP. */
  Sifp: 0x000a0012,
  /** SIMP. */
  Sipp: 0x000a0013,
  Eom: 0x000a0014,
  Sirbp: 0x000a0015,
  Stimer0Config: 0x000b0000, Stimer0Count: 0x000b0001,
  Stimer1Config: 0x000b0002, Stimer1Count: 0x000b0003,
  Stimer2Config: 0x000b0004, Stimer2Count: 0x000b0005,
  Stimer3Config: 0x000b0006, Stimer3Count: 0x000b0007,

  // VSM registers (§3.1).
  VsmCodePageOffsets: 0x000d0002,
  VsmVpStatus: 0x000d0003,
  VsmPartitionStatus: 0x000d0004,
  VsmVina: 0x000d0005,
  VsmCapabilities: 0x000d0006,
  VsmPartitionConfig: 0x000d0007,
  GuestVsmPartitionConfig: 0x000d0008,
  VsmVpSecureConfigVtl0: 0x000d0010,
  VsmVpSecureConfigVtl1: 0x000d0011,
  VsmVpSecureConfigVtl2: 0x000d0012,
  VsmVpSecureConfigVtl3: 0x000d0013,
  VsmVpSecureConfigVtl4: 0x000d0014,
  VsmVpSecureConfigVtl5: 0x000d0015,
  VsmVpSecureConfigVtl6: 0x000d0016,
  VsmVpSecureConfigVtl7: 0x000d0017,
  VsmVpSecureConfigVtl8: 0x000d0018,
  VsmVpSecureConfigVtl9: 0x000d0019,
  VsmVpSecureConfigVtl10: 0x000d001a,
  VsmVpSecureConfigVtl11: 0x000d001b,
  VsmVpSecureConfigVtl12: 0x000d001c,
  VsmVpSecureConfigVtl13: 0x000d001d,
  VsmVpSecureConfigVtl14: 0x000d001e,
  /** OpenVMM spells it HvRegisterVsmWpWaitForTlbLock. [semantics not verified] */
  VsmVpWaitForTlbLock: 0x000d0020,
  CrInterceptControl: 0x000e0000,
  CrInterceptCr0Mask: 0x000e0001,
  CrInterceptCr4Mask: 0x000e0002,
  CrInterceptIa32MiscEnableMask: 0x000e0003,
} as const;

export type HvRegisterNameKey = keyof typeof HvRegisterName;
export type KnownHvRegisterName = (typeof HvRegisterName)[HvRegisterNameKey];
/** Open: guests pass any u32; unknown names get HV_STATUS_INVALID_PARAMETER (§2.5). */
export type HvRegisterNameValue = KnownHvRegisterName | (number & {});

/** Value → key; frozen. */
export const HV_REGISTER_NAMES: Readonly<Record<number, HvRegisterNameKey>> = Object.freeze(
  Object.fromEntries(Object.entries(HvRegisterName).map(([k, v]) => [v, k])) as Record<number, HvRegisterNameKey>,
);

/** MTRR register names (§3.2 gives only the range). */
export const HV_REGISTER_MTRR_FIRST = 0x0008000d;
export const HV_REGISTER_MTRR_LAST = 0x0008007a;
/**
 * APIC register names = HV_REGISTER_APIC_BASE + x2APIC MSR number, for HV_REGISTER_APIC_FIRST..LAST.
 * vsm.md §3.2 writes "0x00080000 + x2APIC MSR number", which contradicts its own examples (ApicTpr 0x00084808
 * for MSR 0x808, range 0x00084802..0x0008483F = MSRs 0x802..0x83F): the base that fits them is 0x00084000.
 */
export const HV_REGISTER_APIC_BASE = 0x00084000;
export const HV_REGISTER_APIC_FIRST = 0x00084802;
export const HV_REGISTER_APIC_LAST = 0x0008483f;
/** VsmVpSecureConfigVtlN = HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0 + N, N = 0..14. */
export const HV_REGISTER_VSM_VP_SECURE_CONFIG_VTL0 = HvRegisterName.VsmVpSecureConfigVtl0;

// ---------------------------------------------------------------------------------------------------------
// VSM register bit layouts (§3.1). Reserved bits are the gaps. VsmCodePageOffsets, VsmVpStatus,
// VsmPartitionStatus and VsmCapabilities are read-only.

export const HV_REGISTER_VSM_CODE_PAGE_OFFSETS = defineBits('HV_REGISTER_VSM_CODE_PAGE_OFFSETS', 64, [
  { name: 'vtlCallOffset', shift: 0, width: 12 },
  { name: 'vtlReturnOffset', shift: 12, width: 12 },
]);

export const HV_REGISTER_VSM_VP_STATUS = defineBits('HV_REGISTER_VSM_VP_STATUS', 64, [
  { name: 'activeVtl', shift: 0, width: 4 },
  { name: 'activeMbecEnabled', shift: 4, width: 1 },
  /** Per VP. */
  { name: 'enabledVtlSet', shift: 16, width: 16 },
]);

/**
 * Initially enabledVtlSet = 0b1, maximumVtl = 1. kvm-unit-tests' union has no shadow-stack field (bits 36..63
 * reserved there); compatible.
 */
export const HV_REGISTER_VSM_PARTITION_STATUS = defineBits('HV_REGISTER_VSM_PARTITION_STATUS', 64, [
  { name: 'enabledVtlSet', shift: 0, width: 16 },
  { name: 'maximumVtl', shift: 16, width: 4 },
  { name: 'mbecEnabledVtlSet', shift: 20, width: 16 },
  { name: 'supervisorShadowStackEnabledVtlSet', shift: 36, width: 4 },
]);

/** Per VP, per VTL, written by VTL1. [VINA trigger conditions not verified] */
export const HV_REGISTER_VSM_VINA = defineBits('HV_REGISTER_VSM_VINA', 64, [
  { name: 'vector', shift: 0, width: 8 },
  { name: 'enabled', shift: 8, width: 1 },
  { name: 'autoReset', shift: 9, width: 1 },
  { name: 'autoEoi', shift: 10, width: 1 },
]);

/**
 * OpenVMM positions. [UNCERTAIN/conflict] kvm-unit-tests' `hv_register_vsm_capabilities` puts
 * deny-lower-VTL-startup at bit 46, the MBEC mask at 47..62 and DR6-shared at 63 (and reads "MBEC allowed for
 * VTL1" from bit 48). Advertise mbecVtlMask = 0 and leave bits 46..63 clear so both readings agree.
 */
export const HV_REGISTER_VSM_CAPABILITIES = defineBits('HV_REGISTER_VSM_CAPABILITIES', 64, [
  { name: 'dr6Shared', shift: 0, width: 1 },
  { name: 'mbecVtlMask', shift: 1, width: 16 },
  { name: 'denyLowerVtlStartup', shift: 17, width: 1 },
  { name: 'supervisorShadowStack', shift: 18, width: 1 },
  { name: 'hardwareHvpt', shift: 19, width: 1 },
  { name: 'softwareHvpt', shift: 20, width: 1 },
  { name: 'hvptRangeBits', shift: 21, width: 6 },
  { name: 'interceptPageAvailable', shift: 27, width: 1 },
  { name: 'returnActionAvailable', shift: 28, width: 1 },
  /** VTL2 only. */
  { name: 'vtl0AliasMapAvailable', shift: 29, width: 1 },
  { name: 'interceptNotPresentAvailable', shift: 30, width: 1 },
  { name: 'installInterceptEx', shift: 31, width: 1 },
  /** VTL2 only. */
  { name: 'interceptSystemResetAvailable', shift: 32, width: 1 },
  { name: 'proxyInterruptRedirectAvailable', shift: 34, width: 1 },
]);

/**
 * Per VTL (each VTL's copy controls the VTLs below it). Write-once rule (§3.1): once enableVtlProtection is 1,
 * later writes keep the old enableVtlProtection and defaultVtlProtectionMask (the write still succeeds).
 */
export const HV_REGISTER_VSM_PARTITION_CONFIG = defineBits('HV_REGISTER_VSM_PARTITION_CONFIG', 64, [
  { name: 'enableVtlProtection', shift: 0, width: 1 },
  /** R, W, KX, UX: the HV_MAP_GPA_FLAGS low nibble (vsm.ts). */
  { name: 'defaultVtlProtectionMask', shift: 1, width: 4 },
  { name: 'zeroMemoryOnReset', shift: 5, width: 1 },
  { name: 'denyLowerVtlStartup', shift: 6, width: 1 },
  { name: 'interceptAcceptance', shift: 7, width: 1 },
  { name: 'interceptEnableVtlProtection', shift: 8, width: 1 },
  { name: 'interceptVpStartup', shift: 9, width: 1 },
  { name: 'interceptCpuidUnimplemented', shift: 10, width: 1 },
  { name: 'interceptUnrecoverableException', shift: 11, width: 1 },
  { name: 'interceptPage', shift: 12, width: 1 },
  { name: 'interceptRestorePartitionTime', shift: 13, width: 1 },
  { name: 'interceptNotPresent', shift: 14, width: 1 },
  { name: 'interceptSystemReset', shift: 15, width: 1 },
]);

/** Isolated VMs only; not needed for plain VSM. */
export const HV_REGISTER_GUEST_VSM_PARTITION_CONFIG = defineBits('HV_REGISTER_GUEST_VSM_PARTITION_CONFIG', 64, [
  { name: 'maximumVtl', shift: 0, width: 4 },
  { name: 'vtl0InterruptInjectionMode', shift: 4, width: 2 },
  { name: 'vtl1InterruptInjectionMode', shift: 6, width: 2 },
]);

/**
 * VsmVpSecureConfigVtlN configures lower VTL N of this VP, written from a higher VTL; accessing VtlN from
 * VTL ≤ N → HV_STATUS_INVALID_PARAMETER (QEMU). tlbLocked: see §8.
 */
export const HV_REGISTER_VSM_VP_SECURE_CONFIG = defineBits('HV_REGISTER_VSM_VP_SECURE_CONFIG', 64, [
  { name: 'mbecEnabled', shift: 0, width: 1 },
  { name: 'tlbLocked', shift: 1, width: 1 },
  { name: 'supervisorShadowStackEnabled', shift: 2, width: 1 },
  { name: 'hardwareHvptEnabled', shift: 3, width: 1 },
]);

/** [semantics not verified] */
export const HV_REGISTER_VSM_VP_WAIT_FOR_TLB_LOCK = defineBits('HV_REGISTER_VSM_VP_WAIT_FOR_TLB_LOCK', 64, [
  { name: 'wait', shift: 0, width: 1 },
]);

/**
 * CrInterceptControl, per VP, set by VTL1. For cr0Write/cr4Write/ia32MiscEnableWrite only changes of bits in
 * the matching CrIntercept*Mask register are intercepted. [Which message (MsrIntercept vs RegisterIntercept)
 * Hyper-V sends for the MSR-class bits is not verified, §6.3.]
 */
export const HV_REGISTER_CR_INTERCEPT_CONTROL = defineBits('HV_REGISTER_CR_INTERCEPT_CONTROL', 64, [
  { name: 'cr0Write', shift: 0, width: 1 },
  { name: 'cr4Write', shift: 1, width: 1 },
  { name: 'xcr0Write', shift: 2, width: 1 },
  { name: 'ia32MiscEnableRead', shift: 3, width: 1 },
  { name: 'ia32MiscEnableWrite', shift: 4, width: 1 },
  { name: 'msrLstarRead', shift: 5, width: 1 },
  { name: 'msrLstarWrite', shift: 6, width: 1 },
  { name: 'msrStarRead', shift: 7, width: 1 },
  { name: 'msrStarWrite', shift: 8, width: 1 },
  { name: 'msrCstarRead', shift: 9, width: 1 },
  { name: 'msrCstarWrite', shift: 10, width: 1 },
  { name: 'apicBaseMsrRead', shift: 11, width: 1 },
  { name: 'apicBaseMsrWrite', shift: 12, width: 1 },
  { name: 'msrEferRead', shift: 13, width: 1 },
  { name: 'msrEferWrite', shift: 14, width: 1 },
  { name: 'gdtrWrite', shift: 15, width: 1 },
  { name: 'idtrWrite', shift: 16, width: 1 },
  { name: 'ldtrWrite', shift: 17, width: 1 },
  { name: 'trWrite', shift: 18, width: 1 },
  { name: 'msrSysenterCsWrite', shift: 19, width: 1 },
  { name: 'msrSysenterEipWrite', shift: 20, width: 1 },
  { name: 'msrSysenterEspWrite', shift: 21, width: 1 },
  { name: 'msrSfmaskWrite', shift: 22, width: 1 },
  { name: 'msrTscAuxWrite', shift: 23, width: 1 },
  { name: 'msrSgxLaunchControlWrite', shift: 24, width: 1 },
  { name: 'msrXssWrite', shift: 25, width: 1 },
  { name: 'msrScetWrite', shift: 26, width: 1 },
  { name: 'msrPlsSspWrite', shift: 27, width: 1 },
  { name: 'msrInterruptSspTableAddrWrite', shift: 28, width: 1 },
]);

/**
 * Low qword of a PendingEvent0 value carrying an exception (§3.2); the high qword (bits 64..127) is the
 * exception parameter (e.g. CR2 for #PF).
 */
export const HV_X64_PENDING_EXCEPTION_EVENT = defineBits('HV_X64_PENDING_EXCEPTION_EVENT', 64, [
  { name: 'eventPending', shift: 0, width: 1 },
  { name: 'eventType', shift: 1, width: 3 },
  { name: 'deliverErrorCode', shift: 8, width: 1 },
  { name: 'vector', shift: 16, width: 16 },
  { name: 'errorCode', shift: 32, width: 32 },
]);
export const HV_X64_PENDING_EVENT_TYPE_EXCEPTION = 0;
