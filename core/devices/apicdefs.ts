// Architectural constants of the local APIC (Intel SDM vol. 3A ch. 10 / 11) and the IPI message
// format shared by LocalApic, its timer and the machine's router.

export const APIC_DEFAULT_BASE = 0xfee00000;
export const APIC_MMIO_SIZE = 0x1000;
/** Version register: integrated APIC (0x14), 6 LVT entries (max LVT index 5), no EOI-suppression. */
export const APIC_VERSION = 0x00050014;

export const ApicMsr = { APIC_BASE: 0x1b, TSC_DEADLINE: 0x6e0, X2APIC_FIRST: 0x800, X2APIC_LAST: 0x8ff } as const;
/** IA32_APIC_BASE flag bits. */
export const ApicBaseBits = { BSP: 0x100, EXTD: 0x400, EN: 0x800 } as const;

/** xAPIC MMIO offsets; the x2APIC MSR is 0x800 + (offset >> 4). */
export const ApicReg = {
  ID: 0x20, VERSION: 0x30, TPR: 0x80, APR: 0x90, PPR: 0xa0, EOI: 0xb0, RRD: 0xc0, LDR: 0xd0, DFR: 0xe0,
  SVR: 0xf0, ISR: 0x100, TMR: 0x180, IRR: 0x200, ESR: 0x280, ICR_LO: 0x300, ICR_HI: 0x310,
  LVT_TIMER: 0x320, LVT_THERMAL: 0x330, LVT_PERF: 0x340, LVT_LINT0: 0x350, LVT_LINT1: 0x360, LVT_ERROR: 0x370,
  TIMER_INITIAL: 0x380, TIMER_CURRENT: 0x390, TIMER_DIVIDE: 0x3e0, SELF_IPI: 0x3f0,
} as const;

export const DeliveryMode = { FIXED: 0, LOWEST: 1, SMI: 2, NMI: 4, INIT: 5, STARTUP: 6, EXTINT: 7 } as const;
export const Shorthand = { NONE: 0, SELF: 1, ALL_INCLUDING_SELF: 2, ALL_EXCLUDING_SELF: 3 } as const;
export const Esr = {
  SEND_CHECKSUM: 0x01, RECV_CHECKSUM: 0x02, SEND_ACCEPT: 0x04, RECV_ACCEPT: 0x08, REDIRECTABLE_IPI: 0x10,
  SEND_ILLEGAL_VECTOR: 0x20, RECV_ILLEGAL_VECTOR: 0x40, ILLEGAL_REGISTER: 0x80,
} as const;
export const LvtBits = { MASKED: 0x10000, LEVEL: 0x8000, TIMER_MODE_SHIFT: 17 } as const;
export const TimerMode = { ONE_SHOT: 0, PERIODIC: 1, TSC_DEADLINE: 2 } as const;
export const LvtIndex = { TIMER: 0, THERMAL: 1, PERF: 2, LINT0: 3, LINT1: 4, ERROR: 5 } as const;
export const SVR_ENABLE = 0x100;

/** Writable bits of each LVT (timer, thermal, perf, LINT0, LINT1, error); the rest read 0. */
export const LVT_WRITABLE = [0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff] as const;
/** ICR low: vector, delivery mode, destination mode, level, trigger, shorthand. Delivery status reads 0 (sent at once). */
export const ICR_WRITABLE = 0x000ccfff;
export const TWO_32 = 0x1_0000_0000;

export interface Ipi {
  deliveryMode: number;
  vector: number;
  destMode: 'physical' | 'logical';
  /** xAPIC: the 8-bit destination (ICR bits 63:56); x2APIC: the 32-bit destination. */
  dest: number;
  shorthand: 0 | 1 | 2 | 3;
  level: boolean;
  trigger: 'edge' | 'level';
  /** Whether the sender is in x2APIC mode (selects destination format and broadcast value). */
  x2apic: boolean;
}
