// SynIC messages (spec/vsm.md §7) and intercept messages (§6.1-§6.3): message types, the 256-byte HV_MESSAGE
// and its header, the 40-byte x64 intercept header, the memory intercept message byte for byte, and the other
// intercept/notification payloads. SINT/SIMP/SIEFP/STIMER register layouts are in msr.ts.
// Offsets below are from the start of the message payload (HV_MESSAGE byte 16).

import { defineBits } from './bitfields.js';
import { defineLayout } from './layouts.js';
import { HV_X64_SEGMENT_REGISTER } from './vsm.js';

/** HvMessageType, u32 (OpenVMM `hvdef`; kvm-unit-tests `hv_message_type`; Linux `hvgdk_mini.h`). */
export const HvMessageType = {
  HvMessageTypeNone: 0x00000000,
  HvMessageTypeUnmappedGpa: 0x80000000,
  /** Secure memory intercept (§6.1). */
  HvMessageTypeGpaIntercept: 0x80000001,
  HvMessageTypeUnacceptedGpa: 0x80000003,
  HvMessageTypeGpaAttributeIntercept: 0x80000004,
  HvMessageTypeEnablePartitionVtlIntercept: 0x80000005,
  HvMessageTypeTimerExpired: 0x80000010,
  HvMessageTypeInvalidVpRegisterValue: 0x80000020,
  HvMessageTypeUnrecoverableException: 0x80000021,
  HvMessageTypeUnsupportedFeature: 0x80000022,
  /** Linux only. */
  HvMessageTypeOpaqueIntercept: 0x8000003f,
  HvMessageTypeEventLogBufferComplete: 0x80000040,
  HvMessageTypeHypercallIntercept: 0x80000050,
  /** Linux only. */
  HvMessageTypeSynicEventIntercept: 0x80000060,
  /** Linux only. */
  HvMessageTypeSynicSintIntercept: 0x80000061,
  HvMessageTypeSynicSintDeliverable: 0x80000062,
  /** Linux only. */
  HvMessageTypeAsyncCallCompletion: 0x80000070,
  HvMessageTypeX64IoPortIntercept: 0x80010000,
  HvMessageTypeMsrIntercept: 0x80010001,
  HvMessageTypeX64CpuidIntercept: 0x80010002,
  HvMessageTypeExceptionIntercept: 0x80010003,
  HvMessageTypeX64ApicEoi: 0x80010004,
  /** [conflict] LEGACY_FP_ERROR in Linux and kvm-unit-tests; X64IommuPrq in OpenVMM. Not needed. */
  HvMessageTypeX64LegacyFpError: 0x80010005,
  /** [conflict] OpenVMM and the secondary Microsoft header; Linux calls 0x80010006 IOMMU_PRQ. Use this. */
  HvMessageTypeRegisterIntercept: 0x80010006,
  HvMessageTypeX64Halt: 0x80010007,
  HvMessageTypeX64InterruptionDeliverable: 0x80010008,
  HvMessageTypeX64SipiIntercept: 0x80010009,
} as const;

export type HvMessageTypeName = keyof typeof HvMessageType;

// ---------------------------------------------------------------------------------------------------------
// SynIC message page and HV_MESSAGE (§7).

export const HV_MESSAGE_SIZE = 256;
export const HV_MESSAGE_PAYLOAD_SIZE = 240;
/** Message page = 16 slots of HV_MESSAGE_SIZE; slot n belongs to SINT n. Same shape for the event flags page. */
export const HV_SYNIC_SLOT_COUNT = 16;
export const HV_SYNIC_EVENT_FLAGS_SIZE = 256;
/** Secure intercepts always go to SINT0 of the next higher VTL. */
export const HV_SYNIC_INTERCEPTION_SINT_INDEX = 0;

export const HV_MESSAGE_HEADER = defineLayout('HV_MESSAGE_HEADER', 16, [
  /** 0 = slot free. */
  { name: 'messageType', offset: 0, size: 4 },
  { name: 'payloadSize', offset: 4, size: 1 },
  /** HV_MESSAGE_FLAGS. */
  { name: 'messageFlags', offset: 5, size: 1 },
  { name: 'reserved', offset: 6, size: 2 },
  /** Sender / port id. */
  { name: 'sender', offset: 8, size: 8 },
]);

/** Bit 0: another message is queued for this slot; the guest then writes EOM after freeing it. */
export const HV_MESSAGE_FLAGS = defineBits('HV_MESSAGE_FLAGS', 8, [{ name: 'messagePending', shift: 0, width: 1 }]);

export const HV_MESSAGE = defineLayout('HV_MESSAGE', HV_MESSAGE_SIZE, [
  { name: 'header', offset: 0, size: 16, layout: HV_MESSAGE_HEADER },
  { name: 'payload', offset: 16, size: HV_MESSAGE_PAYLOAD_SIZE },
]);

// ---------------------------------------------------------------------------------------------------------
// Intercept header, 40 bytes (§6.2).

export const HV_X64_INTERCEPT_MESSAGE_HEADER = defineLayout('HV_X64_INTERCEPT_MESSAGE_HEADER', 40, [
  { name: 'vpIndex', offset: 0x00, size: 4 },
  /** HV_X64_INSTRUCTION_LENGTH_AND_CR8. kvm-unit-tests compare the whole byte (CR8 0 in its test). */
  { name: 'instructionLengthAndCr8', offset: 0x04, size: 1 },
  /** HvInterceptAccessType. */
  { name: 'interceptAccessType', offset: 0x05, size: 1 },
  /** HV_X64_VP_EXECUTION_STATE. */
  { name: 'executionState', offset: 0x06, size: 2 },
  { name: 'csSegment', offset: 0x08, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'rip', offset: 0x18, size: 8 },
  { name: 'rflags', offset: 0x20, size: 8 },
]);

/** CR8 in the upper nibble is OpenVMM's. */
export const HV_X64_INSTRUCTION_LENGTH_AND_CR8 = defineBits('HV_X64_INSTRUCTION_LENGTH_AND_CR8', 8, [
  { name: 'instructionLength', shift: 0, width: 4 },
  { name: 'cr8', shift: 4, width: 4 },
]);

export const HvInterceptAccessType = {
  HvInterceptAccessRead: 0,
  HvInterceptAccessWrite: 1,
  HvInterceptAccessExecute: 2,
} as const;

export const HV_X64_VP_EXECUTION_STATE = defineBits('HV_X64_VP_EXECUTION_STATE', 16, [
  { name: 'cpl', shift: 0, width: 2 },
  { name: 'cr0Pe', shift: 2, width: 1 },
  { name: 'cr0Am', shift: 3, width: 1 },
  { name: 'eferLma', shift: 4, width: 1 },
  { name: 'debugActive', shift: 5, width: 1 },
  { name: 'interruptionPending', shift: 6, width: 1 },
  { name: 'vtl', shift: 7, width: 4 },
  { name: 'enclaveMode', shift: 11, width: 1 },
  { name: 'interruptShadow', shift: 12, width: 1 },
  { name: 'virtualizationFaultActive', shift: 13, width: 1 },
]);

// The 16 general registers, in message order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15), 8 bytes each.
const GPRS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
type Fields8<T extends readonly string[]> = { readonly [K in keyof T]: { readonly name: T[K]; readonly offset: number; readonly size: 8 } };
type GprFields = Fields8<typeof GPRS>;
const gprFields = (base: number): GprFields =>
  GPRS.map((name, i) => ({ name, offset: base + 8 * i, size: 8 as const })) as unknown as GprFields;

const HEADER = { name: 'header', offset: 0, size: 40, layout: HV_X64_INTERCEPT_MESSAGE_HEADER } as const;

// ---------------------------------------------------------------------------------------------------------
// Memory intercept (GpaIntercept / UnmappedGpa), §6.1: the 0xF0-byte form that KVM/QEMU/kvm-unit-tests use
// (kvm-unit-tests compares all 240 bytes). OpenVMM's struct stops at 0x50 (no DS/SS/GPRs).

export const HV_X64_MEMORY_INTERCEPT_MESSAGE = defineLayout('HV_X64_MEMORY_INTERCEPT_MESSAGE', 0xf0, [
  HEADER,
  /** HvCacheType (vsm.ts); 6 = WB. */
  { name: 'cacheType', offset: 0x28, size: 4 },
  /** 0..16; 0 for an execute intercept. */
  { name: 'instructionByteCount', offset: 0x2c, size: 1 },
  /** HV_X64_MEMORY_ACCESS_INFO. */
  { name: 'memoryAccessInfo', offset: 0x2d, size: 1 },
  /** OpenVMM: TPR priority; kvm-unit-tests: reserved. Must be 0. */
  { name: 'tprPriority', offset: 0x2e, size: 1 },
  { name: 'reserved', offset: 0x2f, size: 1 },
  { name: 'guestVirtualAddress', offset: 0x30, size: 8 },
  { name: 'guestPhysicalAddress', offset: 0x38, size: 8 },
  { name: 'instructionBytes', offset: 0x40, size: 16 },
  { name: 'dsSegment', offset: 0x50, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'ssSegment', offset: 0x60, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  ...gprFields(0x70),
]);
export const HV_X64_MEMORY_INTERCEPT_MESSAGE_OPENVMM_SIZE = 0x50;

export const HV_X64_MEMORY_ACCESS_INFO = defineBits('HV_X64_MEMORY_ACCESS_INFO', 8, [
  { name: 'gvaValid', shift: 0, width: 1 },
  { name: 'gvaGpaValid', shift: 1, width: 1 },
  { name: 'hypercallOutputPending', shift: 2, width: 1 },
  { name: 'tlbLocked', shift: 3, width: 1 },
  { name: 'supervisorShadowStack', shift: 4, width: 1 },
]);

// ---------------------------------------------------------------------------------------------------------
// Other payloads (§6.3). "Header only" messages (X64Halt, UnrecoverableException) are just
// HV_X64_INTERCEPT_MESSAGE_HEADER.

/** RegisterIntercept (0x80010006). accessInfo = the value being written. */
export const HV_X64_REGISTER_INTERCEPT_MESSAGE = defineLayout('HV_X64_REGISTER_INTERCEPT_MESSAGE', 64, [
  HEADER,
  /** Bit 0: memory operand. */
  { name: 'flags', offset: 40, size: 1 },
  { name: 'reserved8', offset: 41, size: 1 },
  { name: 'reserved16', offset: 42, size: 2 },
  { name: 'registerName', offset: 44, size: 4 },
  { name: 'accessInfo', offset: 48, size: 16 },
]);

/** MsrIntercept (0x80010001). */
export const HV_X64_MSR_INTERCEPT_MESSAGE = defineLayout('HV_X64_MSR_INTERCEPT_MESSAGE', 64, [
  HEADER,
  { name: 'msrNumber', offset: 40, size: 4 },
  { name: 'reserved', offset: 44, size: 4 },
  { name: 'rdx', offset: 48, size: 8 },
  { name: 'rax', offset: 56, size: 8 },
]);

/** X64CpuidIntercept (0x80010002). */
export const HV_X64_CPUID_INTERCEPT_MESSAGE = defineLayout('HV_X64_CPUID_INTERCEPT_MESSAGE', 104, [
  HEADER,
  { name: 'rax', offset: 40, size: 8 },
  { name: 'rcx', offset: 48, size: 8 },
  { name: 'rdx', offset: 56, size: 8 },
  { name: 'rbx', offset: 64, size: 8 },
  { name: 'defaultResultRax', offset: 72, size: 8 },
  { name: 'defaultResultRcx', offset: 80, size: 8 },
  { name: 'defaultResultRdx', offset: 88, size: 8 },
  { name: 'defaultResultRbx', offset: 96, size: 8 },
]);

/** X64IoPortIntercept (0x80010000). */
export const HV_X64_IO_PORT_INTERCEPT_MESSAGE = defineLayout('HV_X64_IO_PORT_INTERCEPT_MESSAGE', 128, [
  HEADER,
  { name: 'portNumber', offset: 40, size: 2 },
  /** HV_X64_IO_PORT_ACCESS_INFO. */
  { name: 'accessInfo', offset: 42, size: 1 },
  { name: 'instructionByteCount', offset: 43, size: 1 },
  { name: 'reserved', offset: 44, size: 4 },
  { name: 'rax', offset: 48, size: 8 },
  { name: 'instructionBytes', offset: 56, size: 16 },
  { name: 'dsSegment', offset: 72, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'esSegment', offset: 88, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'rcx', offset: 104, size: 8 },
  { name: 'rsi', offset: 112, size: 8 },
  { name: 'rdi', offset: 120, size: 8 },
]);

export const HV_X64_IO_PORT_ACCESS_INFO = defineBits('HV_X64_IO_PORT_ACCESS_INFO', 8, [
  { name: 'accessSize', shift: 0, width: 3 },
  { name: 'stringOp', shift: 3, width: 1 },
  { name: 'repPrefix', shift: 4, width: 1 },
]);

/** ExceptionIntercept (0x80010003). */
export const HV_X64_EXCEPTION_INTERCEPT_MESSAGE = defineLayout('HV_X64_EXCEPTION_INTERCEPT_MESSAGE', 0xf0, [
  HEADER,
  { name: 'exceptionVector', offset: 40, size: 2 },
  /** HV_X64_EXCEPTION_INFO. */
  { name: 'exceptionInfo', offset: 42, size: 1 },
  { name: 'instructionByteCount', offset: 43, size: 1 },
  { name: 'errorCode', offset: 44, size: 4 },
  { name: 'exceptionParameter', offset: 48, size: 8 },
  { name: 'reserved', offset: 56, size: 8 },
  { name: 'instructionBytes', offset: 64, size: 16 },
  { name: 'dsSegment', offset: 80, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  { name: 'ssSegment', offset: 96, size: 16, layout: HV_X64_SEGMENT_REGISTER },
  ...gprFields(112),
]);

export const HV_X64_EXCEPTION_INFO = defineBits('HV_X64_EXCEPTION_INFO', 8, [
  { name: 'errorCodeValid', shift: 0, width: 1 },
  { name: 'softwareException', shift: 1, width: 1 },
]);

/** HypercallIntercept (0x80000050). */
export const HV_X64_HYPERCALL_INTERCEPT_MESSAGE = defineLayout('HV_X64_HYPERCALL_INTERCEPT_MESSAGE', 208, [
  HEADER,
  { name: 'rax', offset: 40, size: 8 },
  { name: 'rbx', offset: 48, size: 8 },
  { name: 'rcx', offset: 56, size: 8 },
  { name: 'rdx', offset: 64, size: 8 },
  { name: 'r8', offset: 72, size: 8 },
  { name: 'rsi', offset: 80, size: 8 },
  { name: 'rdi', offset: 88, size: 8 },
  { name: 'xmm0', offset: 96, size: 16 },
  { name: 'xmm1', offset: 112, size: 16 },
  { name: 'xmm2', offset: 128, size: 16 },
  { name: 'xmm3', offset: 144, size: 16 },
  { name: 'xmm4', offset: 160, size: 16 },
  { name: 'xmm5', offset: 176, size: 16 },
  { name: 'flags', offset: 192, size: 4 },
  { name: 'reserved', offset: 196, size: 12 },
]);

/** X64SipiIntercept (0x80010009). */
export const HV_X64_SIPI_INTERCEPT_MESSAGE = defineLayout('HV_X64_SIPI_INTERCEPT_MESSAGE', 48, [
  HEADER,
  { name: 'targetVpIndex', offset: 40, size: 4 },
  { name: 'interruptVector', offset: 44, size: 4 },
]);

// Payloads without the intercept header.

/** TimerExpired (0x80000010). Times in 100 ns units of TIME_REF_COUNT. */
export const HV_TIMER_MESSAGE_PAYLOAD = defineLayout('HV_TIMER_MESSAGE_PAYLOAD', 24, [
  { name: 'timerIndex', offset: 0, size: 4 },
  { name: 'reserved', offset: 4, size: 4 },
  { name: 'expirationTime', offset: 8, size: 8 },
  { name: 'deliveryTime', offset: 16, size: 8 },
]);

/** InvalidVpRegisterValue (0x80000020). */
export const HV_INVALID_VP_REGISTER_MESSAGE = defineLayout('HV_INVALID_VP_REGISTER_MESSAGE', 8, [
  { name: 'vpIndex', offset: 0, size: 4 },
  { name: 'reserved', offset: 4, size: 4 },
]);

/** X64ApicEoi (0x80010004). */
export const HV_X64_APIC_EOI_MESSAGE = defineLayout('HV_X64_APIC_EOI_MESSAGE', 8, [
  { name: 'vpIndex', offset: 0, size: 4 },
  { name: 'interruptVector', offset: 4, size: 4 },
]);
