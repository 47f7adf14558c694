// Architectural constants of x86-64 (Intel SDM names). Data only.

/** General-purpose register numbers as encoded in ModRM/REX. */
export const R = {
  RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSP: 4, RBP: 5, RSI: 6, RDI: 7,
  R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15,
} as const;

/**
 * Byte registers after decoding: 0..15 are the low bytes (AL..R15B, with SPL..DIL when a REX prefix
 * is present); 16..19 are AH, CH, DH, BH (legacy high bytes, only without REX).
 */
export const BYTE_HIGH_BASE = 16;

/** Segment register numbers as encoded in ModRM.reg for MOV Sreg. */
export const SEG = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5, LDTR: 6, TR: 7 } as const;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;

export const FLAG = {
  CF: 1 << 0, FIXED1: 1 << 1, PF: 1 << 2, AF: 1 << 4, ZF: 1 << 6, SF: 1 << 7, TF: 1 << 8, IF: 1 << 9,
  DF: 1 << 10, OF: 1 << 11, IOPL: 3 << 12, NT: 1 << 14, RF: 1 << 16, VM: 1 << 17, AC: 1 << 18,
  VIF: 1 << 19, VIP: 1 << 20, ID: 1 << 21,
} as const;
export const ARITH_FLAGS = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF;

export const CR0 = {
  PE: 1 << 0, MP: 1 << 1, EM: 1 << 2, TS: 1 << 3, ET: 1 << 4, NE: 1 << 5, WP: 1 << 16, AM: 1 << 18,
  NW: 1 << 29, CD: 1 << 30, PG: 1 << 31,
} as const;

export const CR4 = {
  VME: 1 << 0, PVI: 1 << 1, TSD: 1 << 2, DE: 1 << 3, PSE: 1 << 4, PAE: 1 << 5, MCE: 1 << 6, PGE: 1 << 7,
  PCE: 1 << 8, OSFXSR: 1 << 9, OSXMMEXCPT: 1 << 10, UMIP: 1 << 11, FSGSBASE: 1 << 16, PCIDE: 1 << 17,
  OSXSAVE: 1 << 18, SMEP: 1 << 20, SMAP: 1 << 21,
} as const;
/** CR4 bits this CPU implements; setting any other bit raises #GP. */
export const CR4_SUPPORTED =
  CR4.VME | CR4.PVI | CR4.TSD | CR4.DE | CR4.PSE | CR4.PAE | CR4.MCE | CR4.PGE | CR4.PCE | CR4.OSFXSR |
  CR4.OSXMMEXCPT | CR4.FSGSBASE | CR4.PCIDE | CR4.OSXSAVE | CR4.SMEP;

export const EFER = { SCE: 1 << 0, LME: 1 << 8, LMA: 1 << 10, NXE: 1 << 11 } as const;
export const EFER_SUPPORTED = EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE;

export const EXC = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14,
  MF: 16, AC: 17, MC: 18, XM: 19,
} as const;
export const EXC_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS',
  11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM',
};
/** Vectors that push an error code. */
export const EXC_HAS_ERROR = (v: number): boolean => v === 8 || (v >= 10 && v <= 14) || v === 17;

/** Page-fault error code bits. */
export const PFEC = { P: 1, W: 2, U: 4, RSVD: 8, I: 16 } as const;

export const MSR = {
  IA32_TSC: 0x10,
  IA32_APIC_BASE: 0x1b,
  IA32_FEATURE_CONTROL: 0x3a,
  IA32_SPEC_CTRL: 0x48,
  IA32_BIOS_SIGN_ID: 0x8b,
  IA32_MTRRCAP: 0xfe,
  IA32_SYSENTER_CS: 0x174,
  IA32_SYSENTER_ESP: 0x175,
  IA32_SYSENTER_EIP: 0x176,
  IA32_MCG_CAP: 0x179,
  IA32_MCG_STATUS: 0x17a,
  IA32_MISC_ENABLE: 0x1a0,
  IA32_PAT: 0x277,
  IA32_MTRR_DEF_TYPE: 0x2ff,
  IA32_TSC_DEADLINE: 0x6e0,
  IA32_EFER: 0xc0000080,
  IA32_STAR: 0xc0000081,
  IA32_LSTAR: 0xc0000082,
  IA32_CSTAR: 0xc0000083,
  IA32_FMASK: 0xc0000084,
  IA32_FS_BASE: 0xc0000100,
  IA32_GS_BASE: 0xc0000101,
  IA32_KERNEL_GS_BASE: 0xc0000102,
  IA32_TSC_AUX: 0xc0000103,
} as const;
