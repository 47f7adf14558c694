// Input/output block layouts of the VSM and related hypercalls (spec/vsm.md §2.1-§2.10), the initial VP
// context and segment/table register values (§2.2), the VP assist page and its VTL control area (§4), the VTL
// protection flags (§6) and the translate/flush flag words and result codes (§2.6, §2.7, §9).
// Offsets are bytes, little-endian, packed. Value representation: see layouts.ts.

import { defineBits } from './bitfields.js';
import { defineLayout } from './layouts.js';
import { HvStatus } from './status.js';

/** Reserved bits 5..7 of an HV_INPUT_VTL byte (hypercall.ts HV_INPUT_VTL). */
const INPUT_VTL_RSVD = 0xe0;

// ---------------------------------------------------------------------------------------------------------
// Register values (§2.2, §3.2).

/** HV_X64_SEGMENT_REGISTER, 16 bytes. */
export const HV_X64_SEGMENT_REGISTER = defineLayout('HV_X64_SEGMENT_REGISTER', 16, [
  { name: 'base', offset: 0, size: 8 },
  { name: 'limit', offset: 8, size: 4 },
  { name: 'selector', offset: 12, size: 2 },
  /** HV_X64_SEGMENT_ATTRIBUTES. Bits 8..11 are not checked here: the handler decides (see §6.1 on limit[19:16]). */
  { name: 'attributes', offset: 14, size: 2 },
]);

/**
 * Segment attributes (VMX access-rights order). Bits 8..11 reserved; intercept messages report descriptor
 * bytes 5..6 with those bits (limit[19:16]) cleared, e.g. 0xAF9B → 0xA09B (§6.1).
 */
export const HV_X64_SEGMENT_ATTRIBUTES = defineBits('HV_X64_SEGMENT_ATTRIBUTES', 16, [
  { name: 'type', shift: 0, width: 4 },
  { name: 'nonSystem', shift: 4, width: 1 },
  { name: 'dpl', shift: 5, width: 2 },
  { name: 'present', shift: 7, width: 1 },
  { name: 'available', shift: 12, width: 1 },
  { name: 'long', shift: 13, width: 1 },
  { name: 'defaultBig', shift: 14, width: 1 },
  { name: 'granularity', shift: 15, width: 1 },
]);

/** HV_X64_TABLE_REGISTER (IDTR/GDTR), 16 bytes. */
export const HV_X64_TABLE_REGISTER = defineLayout('HV_X64_TABLE_REGISTER', 16, [
  { name: 'pad', offset: 0, size: 6 },
  { name: 'limit', offset: 6, size: 2 },
  { name: 'base', offset: 8, size: 8 },
]);

/** HV_INITIAL_VP_CONTEXT, 224 bytes (OpenVMM `InitialVpContextX64`, Linux `hv_init_vp_context`). */
export const HV_INITIAL_VP_CONTEXT = defineLayout('HV_INITIAL_VP_CONTEXT', 224, [
  { name: 'rip', offset: 0x00, size: 8 },
  { name: 'rsp', offset: 0x08, size: 8 },
  { name: 'rflags', offset: 0x10, size: 8 },
  { name: 'cs', offset: 0x18, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'ds', offset: 0x28, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'es', offset: 0x38, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'fs', offset: 0x48, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'gs', offset: 0x58, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'ss', offset: 0x68, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'tr', offset: 0x78, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'ldtr', offset: 0x88, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'idtr', offset: 0x98, size: 16, layout: HV_X64_TABLE_REGISTER },
  { name: 'gdtr', offset: 0xa8, size: 16, layout: HV_X64_TABLE_REGISTER },
  { name: 'efer', offset: 0xb8, size: 8 },
  { name: 'cr0', offset: 0xc0, size: 8 },
  { name: 'cr3', offset: 0xc8, size: 8 },
  { name: 'cr4', offset: 0xd0, size: 8 },
  { name: 'msrCrPat', offset: 0xd8, size: 8 },
]);

// ---------------------------------------------------------------------------------------------------------
// HvCallEnablePartitionVtl (§2.1), 16 bytes; fits a fast call.

export const HV_INPUT_ENABLE_PARTITION_VTL = defineLayout('HV_INPUT_ENABLE_PARTITION_VTL', 16, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'targetVtl', offset: 8, size: 1 },
  { name: 'flags', offset: 9, size: 1, reservedBits: 0xf8 },
  { name: 'reserved16', offset: 10, size: 2, reserved: true },
  { name: 'reserved32', offset: 12, size: 4, reserved: true },
]);

export const HV_ENABLE_PARTITION_VTL_FLAGS = defineBits('HV_ENABLE_PARTITION_VTL_FLAGS', 8, [
  { name: 'enableMbec', shift: 0, width: 1 },
  { name: 'enableSupervisorShadowStack', shift: 1, width: 1 },
  { name: 'enableHardwareHvpt', shift: 2, width: 1 },
]);

// ---------------------------------------------------------------------------------------------------------
// HvCallEnableVpVtl (§2.2) and HvCallStartVirtualProcessor (§2.8), 240 bytes, slow only.

/** targetVtl is a plain VTL number (Linux types it HV_INPUT_VTL but, like kvm-unit-tests, writes no use bit). */
export const HV_INPUT_ENABLE_VP_VTL = defineLayout('HV_INPUT_ENABLE_VP_VTL', 240, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'vpIndex', offset: 8, size: 4 },
  { name: 'targetVtl', offset: 12, size: 1 },
  { name: 'reserved', offset: 13, size: 3, reserved: true },
  { name: 'vpContext', offset: 16, size: 224, layout: HV_INITIAL_VP_CONTEXT },
]);

export const HV_INPUT_START_VIRTUAL_PROCESSOR = defineLayout('HV_INPUT_START_VIRTUAL_PROCESSOR', 240, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'vpIndex', offset: 8, size: 4 },
  { name: 'targetVtl', offset: 12, size: 1 },
  { name: 'reserved', offset: 13, size: 3, reserved: true },
  { name: 'vpContext', offset: 16, size: 224, layout: HV_INITIAL_VP_CONTEXT },
]);

// ---------------------------------------------------------------------------------------------------------
// HvCallVtlCall / HvCallVtlReturn (§2.3, §4, §5). Inputs are RAX at the vmcall, not a block.

/** VtlCall input must be 0. (VtlReturn: HV_VTL_RETURN_INPUT_FAST in hypercall.ts.) */
export const HV_VTL_CALL_INPUT = 0;

/** HV_VTL_ENTRY_REASON, written to the entered VTL's control area. */
export const HvVtlEntryReason = {
  HvVtlEntryReserved: 0,
  HvVtlEntryVtlCall: 1,
  HvVtlEntryInterrupt: 2,
  /** OpenVMM only (intercept-page feature); not in the TLFS HV_VTL_ENTRY_REASON. */
  HvVtlEntryIntercept: 3,
} as const;

/** HV_VP_VTL_CONTROL, 24 bytes (at VP assist page offset 0x08). */
export const HV_VP_VTL_CONTROL = defineLayout('HV_VP_VTL_CONTROL', 24, [
  { name: 'entryReason', offset: 0x00, size: 4 },
  /** Bit 0: VINA asserted (HV_VTL_VINA_ASSERTED). */
  { name: 'vinaStatus', offset: 0x04, size: 1 },
  { name: 'reserved8', offset: 0x05, size: 1 },
  { name: 'reserved16', offset: 0x06, size: 2 },
  /** 64-bit VTL: RAX; 32-bit: EAX (low) + ECX (high). Restored into the lower VTL on a non-fast return. */
  { name: 'vtlReturnRax', offset: 0x08, size: 8 },
  /** 64-bit VTL: RCX; 32-bit: EDX + reserved. */
  { name: 'vtlReturnRcx', offset: 0x10, size: 8 },
]);
export const HV_VTL_VINA_ASSERTED = 0x1;

/** HV_VP_ASSIST_PAGE (OpenVMM `HvVpAssistPage` = Linux `hv_vp_assist_page`); bytes 0x270.. of the page unused. */
export const HV_VP_ASSIST_PAGE = defineLayout('HV_VP_ASSIST_PAGE', 0x270, [
  /** Lazy EOI, bit 0. */
  { name: 'apicAssist', offset: 0x00, size: 4 },
  { name: 'reserved0', offset: 0x04, size: 4 },
  { name: 'vtlControl', offset: 0x08, size: 24, layout: HV_VP_VTL_CONTROL },
  { name: 'nestedEnlightenmentsControl', offset: 0x20, size: 8 },
  { name: 'enlightenVmEntry', offset: 0x28, size: 1 },
  { name: 'currentNestedVmcs', offset: 0x30, size: 8 },
  { name: 'syntheticTimeUnhaltedTimerExpired', offset: 0x38, size: 1 },
  { name: 'virtualizationFaultInformation', offset: 0x40, size: 40 },
  { name: 'reserved1', offset: 0x68, size: 8 },
  /** Only with the intercept-page feature. */
  { name: 'interceptMessage', offset: 0x70, size: 256 },
  /** [layout not given in vsm.md] */
  { name: 'vtlReturnActions', offset: 0x170, size: 256 },
]);

// ---------------------------------------------------------------------------------------------------------
// VTL protections: HV_MAP_GPA_FLAGS (§6) and HvCallModifyVtlProtectionMask (§2.4).

/**
 * [conflict noted] kvm-unit-tests' `hyperv.h` labels bit 2 UMX and bit 3 KMX under MBEC, the reverse of
 * OpenVMM/Linux; these follow OpenVMM/Linux. Without MBEC a fetch is allowed iff (mask & 0xC) ≠ 0.
 * Legal combinations: none, R, R+X, R+W, R+W+X (write or execute without read is invalid).
 */
export const HvMapGpaFlags = {
  HV_MAP_GPA_READABLE: 0x1,
  HV_MAP_GPA_WRITABLE: 0x2,
  HV_MAP_GPA_KERNEL_EXECUTABLE: 0x4,
  HV_MAP_GPA_USER_EXECUTABLE: 0x8,
  HV_MAP_GPA_SUPERVISOR_SHADOW_STACK: 0x10,
  HV_MAP_GPA_PAGING_WRITABILITY: 0x20,
  HV_MAP_GPA_VERIFY_PAGING_WRITABILITY: 0x40,
  HV_MAP_GPA_ADJUSTABLE: 0x8000,
} as const;
/** KX | UX: "executable" when MBEC is off. */
export const HV_MAP_GPA_EXECUTABLE = 0xc;
/** R | W | KX | UX: the default-protection-mask nibble of VsmPartitionConfig. */
export const HV_MAP_GPA_PERMISSIONS_MASK = 0xf;
/** Bits 7..14 and 16..31: reserved for VTL protections. */
export const HV_MAP_GPA_RESERVED_VTL = (~Object.values(HvMapGpaFlags).reduce((a, b) => a | b, 0)) >>> 0;

export const HV_INPUT_MODIFY_VTL_PROTECTION_MASK = defineLayout('HV_INPUT_MODIFY_VTL_PROTECTION_MASK', 16, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'mapFlags', offset: 8, size: 4, reservedBits: HV_MAP_GPA_RESERVED_VTL },
  { name: 'targetVtl', offset: 12, size: 1, reservedBits: INPUT_VTL_RSVD },
  { name: 'reserved', offset: 13, size: 3, reserved: true },
]);
/** One GPN (u64) per rep. A fast call packs two per XMM register: at most 12 GPNs. */
export const HV_MODIFY_VTL_PROTECTION_MASK_ELEMENT_SIZE = 8;
export const HV_MODIFY_VTL_PROTECTION_MASK_FAST_MAX = 12;

// ---------------------------------------------------------------------------------------------------------
// HvCallGetVpRegisters / HvCallSetVpRegisters (§2.5).

/** Shared 16-byte header of Get and Set. */
export const HV_INPUT_GET_SET_VP_REGISTERS = defineLayout('HV_INPUT_GET_SET_VP_REGISTERS', 16, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'vpIndex', offset: 8, size: 4 },
  { name: 'inputVtl', offset: 12, size: 1, reservedBits: INPUT_VTL_RSVD },
  { name: 'reserved', offset: 13, size: 3, reserved: true },
]);
/** Get: rep input = u32 names from offset 16; rep output = 16-byte values. */
export const HV_GET_VP_REGISTERS_NAME_SIZE = 4;
export const HV_GET_VP_REGISTERS_FAST_MAX = 4;

/**
 * Set: rep input = 32-byte elements from offset 16, name and value interleaved (TLFS/OpenVMM/Linux), NOT a
 * names array followed by values (kvm-unit-tests' own marshalling, which coincides only for a fast single
 * register). The padding is not marked `reserved`: kvm-unit-tests' multi-register negative tests put their
 * second name there and expect the error that the header or first name produces.
 */
export const HV_REGISTER_ASSOC = defineLayout('HV_REGISTER_ASSOC', 32, [
  { name: 'name', offset: 0, size: 4 },
  { name: 'pad', offset: 4, size: 12 },
  { name: 'value', offset: 16, size: 16 },
]);
export const HV_SET_VP_REGISTERS_FAST_MAX = 3;

// ---------------------------------------------------------------------------------------------------------
// HvCallTranslateVirtualAddress (0x0052) and Ex (0x00AC) (§2.6, §9).

export const HV_INPUT_TRANSLATE_VIRTUAL_ADDRESS = defineLayout('HV_INPUT_TRANSLATE_VIRTUAL_ADDRESS', 32, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'vpIndex', offset: 8, size: 4 },
  { name: 'reserved', offset: 12, size: 4, reserved: true },
  /** HV_TRANSLATE_GVA_CONTROL_FLAGS. */
  { name: 'controlFlags', offset: 16, size: 8 },
  /** GVA >> 12. */
  { name: 'gvaPage', offset: 24, size: 8 },
]);

/** Bits 11..55 reserved. inputVtl (bits 56..63) is an HV_INPUT_VTL byte: whose paging context to walk. */
export const HV_TRANSLATE_GVA_CONTROL_FLAGS = defineBits('HV_TRANSLATE_GVA_CONTROL_FLAGS', 64, [
  { name: 'validateRead', shift: 0, width: 1 },
  { name: 'validateWrite', shift: 1, width: 1 },
  { name: 'validateExecute', shift: 2, width: 1 },
  /** Ignore U/S, SMEP/SMAP. */
  { name: 'privilegeExempt', shift: 3, width: 1 },
  /** Set A (and D for write validation) bits; those writes are subject to VTL protections. */
  { name: 'setPageTableBits', shift: 4, width: 1 },
  /** On a successful VTL1 translation, lock the VP's VTL0 TLB until the next VTL return (§8). */
  { name: 'tlbFlushInhibit', shift: 5, width: 1 },
  { name: 'supervisorAccess', shift: 6, width: 1 },
  { name: 'userAccess', shift: 7, width: 1 },
  { name: 'enforceSmap', shift: 8, width: 1 },
  { name: 'overrideSmap', shift: 9, width: 1 },
  { name: 'shadowStack', shift: 10, width: 1 },
  { name: 'inputVtl', shift: 56, width: 8 },
]);

/** HV_TRANSLATE_GVA_RESULT, 8 bytes. */
export const HV_TRANSLATE_GVA_RESULT = defineLayout('HV_TRANSLATE_GVA_RESULT', 8, [
  { name: 'resultCode', offset: 0, size: 4 },
  { name: 'cacheType', offset: 4, size: 1 },
  /** Bit 0: the GPA is an overlay page of that VP/VTL. */
  { name: 'overlayPage', offset: 5, size: 1, reservedBits: 0xfe },
  { name: 'reserved', offset: 6, size: 2, reserved: true },
]);

/** Output of 0x0052, 16 bytes. The hypercall status is SUCCESS even when the translation fails. */
export const HV_OUTPUT_TRANSLATE_VIRTUAL_ADDRESS = defineLayout('HV_OUTPUT_TRANSLATE_VIRTUAL_ADDRESS', 16, [
  { name: 'translationResult', offset: 0, size: 8, layout: HV_TRANSLATE_GVA_RESULT },
  { name: 'gpaPage', offset: 8, size: 8 },
]);

/** Output of 0x00AC, 64 bytes. */
export const HV_OUTPUT_TRANSLATE_VIRTUAL_ADDRESS_EX = defineLayout('HV_OUTPUT_TRANSLATE_VIRTUAL_ADDRESS_EX', 64, [
  { name: 'translationResult', offset: 0, size: 8, layout: HV_TRANSLATE_GVA_RESULT },
  { name: 'reserved0', offset: 8, size: 8 },
  /** HvX64PendingEvent [layout not given in vsm.md]. */
  { name: 'eventInfo', offset: 16, size: 32 },
  { name: 'gpaPage', offset: 48, size: 8 },
  { name: 'reserved1', offset: 56, size: 8 },
]);

export const HvTranslateGvaResultCode = {
  HvTranslateGvaSuccess: 0,
  /** a.k.a. GVA_UNMAPPED. */
  HvTranslateGvaPageNotPresent: 1,
  HvTranslateGvaPrivilegeViolation: 2,
  HvTranslateGvaInvalidPageTableFlags: 3,
  HvTranslateGvaGpaUnmapped: 4,
  HvTranslateGvaGpaNoReadAccess: 5,
  HvTranslateGvaGpaNoWriteAccess: 6,
  HvTranslateGvaGpaIllegalOverlayAccess: 7,
  HvTranslateGvaIntercept: 8,
  HvTranslateGvaGpaUnaccepted: 9,
} as const;

export const HvCacheType = {
  HvCacheTypeUncached: 0,
  HvCacheTypeWriteCombining: 1,
  HvCacheTypeWriteThrough: 4,
  HvCacheTypeWriteProtected: 5,
  HvCacheTypeWriteBack: 6,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Flushes (§2.7) and processor sets (§2.7, §2.10).

export const HV_INPUT_FLUSH_VIRTUAL_ADDRESS_SPACE = defineLayout('HV_INPUT_FLUSH_VIRTUAL_ADDRESS_SPACE', 24, [
  /** CR3 value. */
  { name: 'addressSpace', offset: 0, size: 8 },
  { name: 'flags', offset: 8, size: 8 },
  /** 0 with allProcessors clear: KVM treats as all processors (WS2012 workaround). */
  { name: 'processorMask', offset: 16, size: 8 },
]);

/** OpenVMM HvFlushFlags. */
export const HV_FLUSH_FLAGS = defineBits('HV_FLUSH_FLAGS', 64, [
  { name: 'allProcessors', shift: 0, width: 1 },
  { name: 'allVirtualAddressSpaces', shift: 1, width: 1 },
  { name: 'nonGlobalMappingsOnly', shift: 2, width: 1 },
  { name: 'useExtendedRangeFormat', shift: 3, width: 1 },
  { name: 'useTargetVtl', shift: 4, width: 1 },
  { name: 'targetVtl0', shift: 8, width: 1 },
  { name: 'targetVtl1', shift: 9, width: 1 },
]);

/** FlushVirtualAddressList(Ex) rep element, u64. */
export const HV_GVA_RANGE = defineBits('HV_GVA_RANGE', 64, [
  { name: 'additionalPages', shift: 0, width: 12 },
  { name: 'gvaPage', shift: 12, width: 52 },
]);
/** Extended range format (flags.useExtendedRangeFormat): bit 11 marks a large-page range. */
export const HV_GVA_RANGE_EXTENDED = defineBits('HV_GVA_RANGE_EXTENDED', 64, [
  { name: 'additionalPages', shift: 0, width: 11 },
  { name: 'largePage', shift: 11, width: 1 },
  { name: 'gvaPage', shift: 12, width: 52 },
]);
export const HV_GVA_RANGE_SIZE = 8;

/** HV_VP_SET fixed part; one u64 bank follows per set bit of validBankMask (bank n = VPs 64n..64n+63). */
export const HV_VP_SET = defineLayout('HV_VP_SET', 16, [
  { name: 'format', offset: 0, size: 8 },
  { name: 'validBankMask', offset: 8, size: 8 },
]);
export const HvGenericSetFormat = { HV_GENERIC_SET_SPARSE_4K: 0, HV_GENERIC_SET_ALL: 1 } as const;
export const HV_VP_SET_BANK_SIZE = 8;

/** Fixed part; the variable header holds the banks (var-header size must equal their number, else INVALID_HYPERCALL_INPUT). */
export const HV_INPUT_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = defineLayout('HV_INPUT_FLUSH_VIRTUAL_ADDRESS_SPACE_EX', 32, [
  { name: 'addressSpace', offset: 0, size: 8 },
  { name: 'flags', offset: 8, size: 8 },
  { name: 'vpSet', offset: 16, size: 16, layout: HV_VP_SET },
]);

// ---------------------------------------------------------------------------------------------------------
// HvCallGetVpIndexFromApicId (§2.9).

export const HV_INPUT_GET_VP_INDEX_FROM_APIC_ID = defineLayout('HV_INPUT_GET_VP_INDEX_FROM_APIC_ID', 16, [
  { name: 'partitionId', offset: 0, size: 8 },
  { name: 'targetVtl', offset: 8, size: 1 },
  { name: 'reserved', offset: 9, size: 7, reserved: true },
]);
/**
 * [UNCERTAIN which layout real Hyper-V uses] The TLFS page shows 8-byte in/out elements (u32 + 4 padding);
 * OpenVMM and Linux use packed u32. Following OpenVMM/Linux.
 */
export const HV_GET_VP_INDEX_FROM_APIC_ID_ELEMENT_SIZE = 4;

// ---------------------------------------------------------------------------------------------------------
// HvCallSendSyntheticClusterIpi(Ex) (§2.10). Fast: RDX = vector | vtl << 32, R8 = mask.

/** Byte 5 is `flags` in OpenVMM; the TLFS shows bytes 5..7 as padding, Linux sends 0 in bytes 4..7. */
export const HV_INPUT_SEND_SYNTHETIC_CLUSTER_IPI = defineLayout('HV_INPUT_SEND_SYNTHETIC_CLUSTER_IPI', 16, [
  { name: 'vector', offset: 0, size: 4 },
  { name: 'targetVtl', offset: 4, size: 1, reservedBits: INPUT_VTL_RSVD },
  { name: 'flags', offset: 5, size: 1 },
  { name: 'reserved', offset: 6, size: 2 },
  /** Bit n = VP index n. */
  { name: 'processorMask', offset: 8, size: 8 },
]);

export const HV_INPUT_SEND_SYNTHETIC_CLUSTER_IPI_EX = defineLayout('HV_INPUT_SEND_SYNTHETIC_CLUSTER_IPI_EX', 24, [
  { name: 'vector', offset: 0, size: 4 },
  { name: 'targetVtl', offset: 4, size: 1, reservedBits: INPUT_VTL_RSVD },
  { name: 'flags', offset: 5, size: 1 },
  { name: 'reserved', offset: 6, size: 2 },
  { name: 'vpSet', offset: 8, size: 16, layout: HV_VP_SET },
]);
/** Vector outside 0x10..0xFF → HV_STATUS_INVALID_HYPERCALL_INPUT. */
export const HV_IPI_MIN_VECTOR = 0x10;
export const HV_IPI_MAX_VECTOR = 0xff;
export const HV_IPI_BAD_VECTOR_STATUS = HvStatus.HV_STATUS_INVALID_HYPERCALL_INPUT;
