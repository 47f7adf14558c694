// Segment descriptors: reading GDT/LDT entries, loading segment registers with the protected-mode
// checks, and the descriptor-cache layout conversions.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import { EXC, SEG } from '../defs/arch.js';
import { MODE } from '../decode/insn.js';
import type { Segment } from '../state.js';

/** A raw 8-byte descriptor (plus the high 8 bytes for 16-byte system descriptors in long mode). */
export interface Descriptor {
  lo: number;
  hi: number;
  /** Address of the descriptor (to set the accessed bit). */
  addrLo: number;
  addrHi: number;
}

/** Read the descriptor for `selector` from the GDT or LDT; #GP(selector) if outside the table. */
export function readDescriptor(c: Cpu, selector: number, vector: number = EXC.GP): Descriptor {
  const st = c.st;
  const ldt = (selector & 4) !== 0;
  const tbl = ldt ? st.seg[SEG.LDTR] : st.gdtr;
  const baseLo = ldt ? (tbl as Segment).baseLo : st.gdtr.baseLo;
  const baseHi = ldt ? (tbl as Segment).baseHi : st.gdtr.baseHi;
  const limit = tbl.limit;
  const off = selector & ~7;
  if (off + 7 > limit) throw new Fault(vector, selector & 0xfffc);
  const s = (baseLo >>> 0) + off;
  const addrLo = s | 0, addrHi = c.long ? (baseHi + (s > 0xffffffff ? 1 : 0)) | 0 : 0;
  const saveCpl = st.cpl;
  st.cpl = 0; // descriptor-table reads are supervisor accesses
  try {
    const lo = c.mmu.read32(addrLo, addrHi);
    const hi = c.mmu.read32((addrLo + 4) | 0, addrHi);
    return { lo, hi, addrLo, addrHi };
  } finally { st.cpl = saveCpl; }
}

/** Fill a segment cache from a descriptor. */
export function loadCache(s: Segment, selector: number, d: { lo: number; hi: number }): void {
  s.selector = selector & 0xffff;
  s.baseLo = ((d.lo >>> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000)) >>> 0 | 0;
  s.baseHi = 0;
  let limit = (d.lo & 0xffff) | (d.hi & 0xf0000);
  if (d.hi & 0x800000) limit = ((limit << 12) | 0xfff) >>> 0;
  s.limit = limit >>> 0;
  s.attr = (d.hi >>> 8) & 0xf0ff;
}

/** Set the accessed bit of a code/data descriptor in memory. */
function setAccessed(c: Cpu, d: Descriptor): void {
  if (d.hi & 0x100) return;
  const saveCpl = c.st.cpl;
  c.st.cpl = 0;
  try { c.mmu.write32((d.addrLo + 4) | 0, d.addrHi, d.hi | 0x100); } finally { c.st.cpl = saveCpl; }
  d.hi |= 0x100;
}

/**
 * MOV/POP to a data segment register or SS, in any mode (SDM "MOV—Move" protected-mode checks).
 */
export function loadDataSeg(c: Cpu, seg: number, selector: number): void {
  const st = c.st;
  const s = st.seg[seg];
  selector &= 0xffff;
  if (c.mode === MODE.M16 && !(st.cr0 & 1) || st.flags & 0x20000) {
    s.selector = selector; s.baseLo = selector << 4; s.baseHi = 0;
    if (seg === SEG.SS || seg === SEG.CS) { /* keep attributes */ }
    return;
  }
  const rpl = selector & 3;
  if ((selector & ~3) === 0) {
    if (seg === SEG.SS) {
      // A null SS is allowed in 64-bit mode below CPL 3 (used by interrupt stack frames).
      if (!(c.long && st.cpl !== 3 && rpl === st.cpl)) throw new Fault(EXC.GP, 0);
    }
    s.selector = selector; s.baseLo = 0; s.baseHi = 0; s.limit = 0; s.attr = 0x10000 | (rpl << 5);
    if (seg === SEG.SS) s.attr = 0x10000 | 0x4000 | (rpl << 5) | 0x93;
    return;
  }
  const d = readDescriptor(c, selector);
  const type = (d.hi >>> 8) & 0xf;
  const sbit = (d.hi >>> 12) & 1;
  const dpl = (d.hi >>> 13) & 3;
  const present = (d.hi >>> 15) & 1;
  if (seg === SEG.SS) {
    if (rpl !== st.cpl || !sbit || (type & 8) || !(type & 2) || dpl !== st.cpl) throw new Fault(EXC.GP, selector & 0xfffc);
    if (!present) throw new Fault(EXC.SS, selector & 0xfffc);
  } else {
    if (!sbit || ((type & 8) && !(type & 2))) throw new Fault(EXC.GP, selector & 0xfffc);
    // Data and non-conforming code segments need DPL >= max(CPL, RPL).
    if (!((type & 8) && (type & 4)) && (dpl < st.cpl || dpl < rpl)) throw new Fault(EXC.GP, selector & 0xfffc);
    if (!present) throw new Fault(EXC.NP, selector & 0xfffc);
  }
  setAccessed(c, d);
  loadCache(s, selector, d);
  if (seg === SEG.SS) c.updateMode();
}

/** Load CS for a far transfer to a code segment (no gates, no privilege change besides RPL rules). */
export function loadCodeSeg(c: Cpu, selector: number, cpl: number): void {
  const st = c.st;
  if (!(st.cr0 & 1) || st.flags & 0x20000) {
    const cs = st.seg[SEG.CS];
    cs.selector = selector & 0xffff; cs.baseLo = (selector & 0xffff) << 4; cs.baseHi = 0;
    c.updateMode();
    return;
  }
  if ((selector & ~3) === 0) throw new Fault(EXC.GP, 0);
  const d = readDescriptor(c, selector);
  const type = (d.hi >>> 8) & 0xf;
  if (!((d.hi >>> 12) & 1) || !(type & 8)) throw new Fault(EXC.GP, selector & 0xfffc);
  if (!((d.hi >>> 15) & 1)) throw new Fault(EXC.NP, selector & 0xfffc);
  setAccessed(c, d);
  loadCache(st.seg[SEG.CS], (selector & ~3) | cpl, d);
  st.cpl = cpl;
  c.updateMode();
}

/** LTR / LLDT: system descriptors, 16 bytes in long mode. */
export function loadSystemSeg(c: Cpu, seg: number, selector: number): void {
  const st = c.st;
  const s = st.seg[seg];
  if ((selector & ~3) === 0) {
    if (seg === SEG.TR) throw new Fault(EXC.GP, 0);
    s.selector = selector; s.baseLo = 0; s.baseHi = 0; s.limit = 0; s.attr = 0x10082;
    return;
  }
  if (selector & 4) throw new Fault(EXC.GP, selector & 0xfffc);
  const d = readDescriptor(c, selector);
  const type = (d.hi >>> 8) & 0xf;
  const sbit = (d.hi >>> 12) & 1;
  if (sbit || (seg === SEG.TR ? (type !== 9 && type !== 1) : type !== 2)) throw new Fault(EXC.GP, selector & 0xfffc);
  if (!((d.hi >>> 15) & 1)) throw new Fault(EXC.NP, selector & 0xfffc);
  loadCache(s, selector, d);
  if (c.long) {
    const saveCpl = st.cpl; st.cpl = 0;
    try { s.baseHi = c.mmu.read32((d.addrLo + 8) | 0, d.addrHi); } finally { st.cpl = saveCpl; }
  }
  if (seg === SEG.TR) {
    // Mark the TSS busy.
    const saveCpl = st.cpl; st.cpl = 0;
    try { c.mmu.write32((d.addrLo + 4) | 0, d.addrHi, d.hi | 0x200); } finally { st.cpl = saveCpl; }
    s.attr |= 2;
  }
}
