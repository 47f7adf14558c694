// Architectural state of one logical processor as the interpreter sees it. 64-bit values are two
// 32-bit halves; GPR halves live in Int32Arrays so that V8 keeps them as small integers.

import { SEG } from './defs/arch.js';

/** A segment register with its hidden (descriptor cache) part. */
export class Segment {
  selector = 0;
  /** Linear base: low and high halves (high is non-zero only for FS/GS/TR/LDTR in long mode). */
  baseLo = 0;
  baseHi = 0;
  /** Byte-granular limit (already scaled by G). */
  limit = 0xffff;
  /** Descriptor attribute bits 40..55 packed as in VMX: type(4) S(1) DPL(2) P(1) ... AVL L D/B G. */
  attr = 0x93;

  copyFrom(o: Segment): void {
    this.selector = o.selector; this.baseLo = o.baseLo; this.baseHi = o.baseHi; this.limit = o.limit; this.attr = o.attr;
  }
}

/** Segment attribute bits (VMX access-rights layout). */
export const SATTR = { TYPE: 0xf, S: 0x10, DPL_SHIFT: 5, P: 0x80, AVL: 0x1000, L: 0x2000, DB: 0x4000, G: 0x8000, UNUSABLE: 0x10000 } as const;

export class DescriptorTable {
  baseLo = 0;
  baseHi = 0;
  limit = 0xffff;
}

/** Lazy-flag operation kinds: how the last arithmetic result defines CF/PF/AF/ZF/SF/OF. */
export const LF = { EAGER: 0, ADD: 1, SUB: 2, LOGIC: 3, INC: 4, DEC: 5, ADC: 6, SBB: 7 } as const;

export class CpuState {
  readonly lo = new Int32Array(16);
  readonly hi = new Int32Array(16);
  ripLo = 0;
  ripHi = 0;
  /** RFLAGS; the arithmetic bits are valid only when lf === LF.EAGER. */
  flags = 0x2;
  lf: number = LF.EAGER;
  /** Operand size in bytes of the lazily recorded operation. */
  lfSize = 4;
  lfResLo = 0; lfResHi = 0;
  lfALo = 0; lfAHi = 0;
  lfBLo = 0; lfBHi = 0;
  /** Carry in (ADC/SBB) or the preserved CF (INC/DEC). */
  lfCarry = 0;

  readonly seg: Segment[] = Array.from({ length: 8 }, () => new Segment());
  readonly gdtr = new DescriptorTable();
  readonly idtr = new DescriptorTable();

  cr0 = 0x60000010;
  cr2Lo = 0; cr2Hi = 0;
  cr3Lo = 0; cr3Hi = 0;
  cr4 = 0;
  /** CR8 / TPR bits 7:4 live in the local APIC; the machine keeps CR8 there. */
  eferLo = 0;
  readonly dr = new Float64Array(8);
  xcr0Lo = 1;

  // MSRs the CPU itself implements.
  sysenterCs = 0; sysenterEspLo = 0; sysenterEspHi = 0; sysenterEipLo = 0; sysenterEipHi = 0;
  starLo = 0; starHi = 0;
  lstarLo = 0; lstarHi = 0;
  cstarLo = 0; cstarHi = 0;
  fmask = 0;
  kernelGsBaseLo = 0; kernelGsBaseHi = 0;
  tscAux = 0;
  /** Added to the VP's virtual time to give this context's TSC (WRMSR IA32_TSC sets it). */
  tscOffset = 0;
  patLo = 0x00070406; patHi = 0x00070406;

  // SSE / x87 state.
  readonly xmm = new Int32Array(16 * 4);
  mxcsr = 0x1f80;
  fcw = 0x37f;
  fsw = 0;
  ftw = 0;
  /** x87 register images for FXSAVE/FXRSTOR (8 × 16 bytes). No x87 arithmetic is implemented. */
  readonly fpregs = new Uint8Array(128);

  /** Current privilege level (CS.RPL in protected mode, 0 in real mode, 3 in V86). */
  cpl = 0;
  /** STI / MOV SS interrupt shadow: interrupts are blocked until after the next instruction. */
  intShadow = false;
  /** NMI blocked until the next IRET. */
  nmiBlocked = false;
  halted = false;

  get cs() { return this.seg[SEG.CS]; }
  get ss() { return this.seg[SEG.SS]; }
}
