// Data movement: MOV and its extending forms, LEA, XCHG, PUSH/POP, conversions, SETcc/CMOVcc, BSWAP.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { FORM } from '../decode/insn.js';
import { EXC, FLAG, SEG } from '../defs/arch.js';
import { readSrc } from './alu.js';
import { loadDataSeg } from './segments.js';

export function execMov(c: Cpu, i: Insn): void {
  const size = i.osz;
  const st = c.st;
  // Fast paths for 32/64-bit register and memory moves (most of all compiled code).
  if (size >= 4) {
    if (i.mod === 3) {
      if (i.form === FORM.EI) { st.lo[i.rm] = i.imm; st.hi[i.rm] = size === 8 ? i.immHi : 0; return; }
      const dst = i.form === FORM.GE ? i.reg : i.rm, src = i.form === FORM.GE ? i.rm : i.reg;
      st.lo[dst] = st.lo[src]; st.hi[dst] = size === 8 ? st.hi[src] : 0;
      return;
    }
    if (i.form === FORM.GE) {
      c.ea(i);
      st.lo[i.reg] = c.readMem(size); st.hi[i.reg] = size === 8 ? c.vhi : 0;
      return;
    }
    if (i.form === FORM.EG) {
      c.ea(i);
      c.writeMem(size, st.lo[i.reg], st.hi[i.reg]);
      return;
    }
  }
  if (i.form === FORM.GE) {
    const v = c.readE(i, size);
    c.setReg(size, i.reg, v, c.vhi);
  } else if (i.form === FORM.EG) {
    const v = c.getReg(size, i.reg);
    const h = c.vhi;
    if (i.mod !== 3) c.ea(i);
    c.writeE(i, size, v, h);
  } else {
    // EI: immediate (already sign-extended for Iz, full 64-bit for MOV r64, imm64)
    if (i.mod !== 3) c.ea(i);
    c.writeE(i, size, i.imm, i.immHi);
  }
}

export function execMovExtend(c: Cpu, i: Insn, signed: boolean): void {
  const from = i.sub;
  let v = c.readE(i, from);
  let hi = 0;
  if (signed) {
    if (from === 1) v = (v << 24) >> 24;
    else if (from === 2) v = (v << 16) >> 16;
    hi = v < 0 ? -1 : 0;
  }
  const size = i.osz;
  if (size === 2) v &= 0xffff;
  c.setReg(size, i.reg, v, hi);
}

export function execLea(c: Cpu, i: Insn): void {
  // The effective address without segmentation, truncated to the operand size.
  const st = c.st;
  if (i.osz === 8 && i.asz === 8 && i.base >= 0 && i.base < 16 && i.index < 0) {
    const s = (st.lo[i.base] >>> 0) + i.disp;
    st.hi[i.reg] = s > 0xffffffff ? (st.hi[i.base] + 1) | 0 : s < 0 ? (st.hi[i.base] - 1) | 0 : st.hi[i.base];
    st.lo[i.reg] = s | 0;
    return;
  }
  let lo = i.disp, hi = i.disp < 0 ? -1 : 0;
  if (i.base >= 0) {
    const blo = i.base === 16 ? st.ripLo : st.lo[i.base], bhi = i.base === 16 ? st.ripHi : st.hi[i.base];
    const s = (lo >>> 0) + (blo >>> 0);
    hi = (hi + bhi + (s > 0xffffffff ? 1 : 0)) | 0; lo = s | 0;
  }
  if (i.index >= 0) {
    const sc = i.scale;
    let xlo = st.lo[i.index], xhi = st.hi[i.index];
    if (sc) { xhi = (xhi << sc) | (xlo >>> (32 - sc)); xlo <<= sc; }
    const s = (lo >>> 0) + (xlo >>> 0);
    hi = (hi + xhi + (s > 0xffffffff ? 1 : 0)) | 0; lo = s | 0;
  }
  if (i.asz === 2) { lo &= 0xffff; hi = 0; } else if (i.asz === 4) hi = 0;
  c.setReg(i.osz, i.reg, lo, hi);
}

export function execXchg(c: Cpu, i: Insn): void {
  const size = i.osz;
  const a = c.readE(i, size);
  const ahi = c.vhi;
  const b = c.getReg(size, i.reg);
  const bhi = c.vhi;
  c.writeE(i, size, b, bhi);
  c.setReg(size, i.reg, a, ahi);
}

export function execPush(c: Cpu, i: Insn): void {
  const size = i.osz;
  if (i.mod === 3 && size === 8) { c.push(8, c.st.lo[i.rm], c.st.hi[i.rm]); return; }
  if (i.form === FORM.NONE) {
    // PUSH imm
    c.push(size, size === 2 ? i.imm & 0xffff : i.imm, i.immHi);
    return;
  }
  const v = c.readE(i, size);
  c.push(size, v, c.vhi);
}

export function execPop(c: Cpu, i: Insn): void {
  const size = i.osz;
  const v = c.peek(size, 0);
  const h = c.vhi;
  if (i.mod === 3) {
    c.addSp(size);
    c.setReg(size, i.rm, v, h);
    return;
  }
  // POP r/m computes the address with RSP already incremented; undo on a fault.
  const st = c.st;
  const spLo = st.lo[4], spHi = st.hi[4];
  c.addSp(size);
  try {
    c.ea(i);
    c.writeMem(size, v, h);
  } catch (e) { st.lo[4] = spLo; st.hi[4] = spHi; throw e; }
}

export function execPushSeg(c: Cpu, i: Insn): void {
  const seg = segOf(i);
  // A 32/64-bit push of a segment register writes only 16 bits on many CPUs; writing a zero-extended
  // value is also architecturally allowed and is what QEMU does.
  c.push(i.osz, c.st.seg[seg].selector, 0);
}

export function execPopSeg(c: Cpu, i: Insn): void {
  const seg = segOf(i);
  const v = c.peek(i.osz, 0) & 0xffff;
  loadDataSeg(c, seg, v);
  c.addSp(i.osz);
  if (seg === SEG.SS) { c.st.intShadow = true; c.eventPending = true; }
}

/** Segment named by a PUSHSEG/POPSEG opcode. */
function segOf(i: Insn): number {
  // The decoder leaves the opcode's segment in `sub` via the row operand; recover it from imm2-free
  // fields: the tables encode it as the operand name, mapped here.
  return i.sub;
}

export function execMovToSeg(c: Cpu, i: Insn): void {
  const seg = i.reg & 7;
  if (seg === SEG.CS || seg > SEG.GS) throw new Fault(EXC.UD);
  const v = c.readE(i, 2);
  loadDataSeg(c, seg, v);
  if (seg === SEG.SS) { c.st.intShadow = true; c.eventPending = true; }
}

export function execMovFromSeg(c: Cpu, i: Insn): void {
  const seg = i.reg & 7;
  if (seg > SEG.GS) throw new Fault(EXC.UD);
  const v = c.st.seg[seg].selector;
  if (i.mod === 3) c.setReg(i.osz, i.rm, v, 0);
  else { c.ea(i); c.writeMem(2, v, 0); }
}

export function execCbw(c: Cpu, i: Insn): void {
  const st = c.st;
  switch (i.osz) {
    case 2: st.lo[0] = (st.lo[0] & ~0xffff) | (((st.lo[0] << 24) >> 24) & 0xffff); break;
    case 4: st.lo[0] = (st.lo[0] << 16) >> 16; st.hi[0] = 0; break;
    default: st.hi[0] = st.lo[0] < 0 ? -1 : 0; break;
  }
}

export function execCwd(c: Cpu, i: Insn): void {
  const st = c.st;
  switch (i.osz) {
    case 2: st.lo[2] = (st.lo[2] & ~0xffff) | ((st.lo[0] & 0x8000) ? 0xffff : 0); break;
    case 4: st.lo[2] = st.lo[0] < 0 ? -1 : 0; st.hi[2] = 0; break;
    default: st.lo[2] = st.hi[0] < 0 ? -1 : 0; st.hi[2] = st.lo[2]; break;
  }
}

export function execSetcc(c: Cpu, i: Insn): void {
  const v = c.cond(i.sub) ? 1 : 0;
  if (i.mod !== 3) c.ea(i);
  c.writeE(i, 1, v, 0);
}

export function execCmovcc(c: Cpu, i: Insn): void {
  const size = i.osz;
  const v = c.readE(i, size); // the source is read (and may fault) even when the condition is false
  const h = c.vhi;
  if (c.cond(i.sub)) c.setReg(size, i.reg, v, h);
  else if (size === 4) c.st.hi[i.reg] = 0; // a 32-bit CMOV zero-extends even when not moving
}

export function execBswap(c: Cpu, i: Insn): void {
  const st = c.st;
  const r = i.rm;
  const sw = (x: number) => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  if (i.osz === 8) { const lo = st.lo[r]; st.lo[r] = sw(st.hi[r]); st.hi[r] = sw(lo); }
  else if (i.osz === 4) { st.lo[r] = sw(st.lo[r]); st.hi[r] = 0; }
  else st.lo[r] &= ~0xffff; // BSWAP r16 is undefined; real CPUs give 0
}

export function execXlat(c: Cpu, i: Insn): void {
  const st = c.st;
  let lo = (st.lo[3] + (st.lo[0] & 0xff)) | 0;
  let hi = st.hi[3];
  if ((st.lo[3] >>> 0) + (st.lo[0] & 0xff) > 0xffffffff) hi = (hi + 1) | 0;
  if (i.asz === 4) hi = 0; else if (i.asz === 2) { lo &= 0xffff; hi = 0; }
  c.linear(i.seg, lo, hi);
  const v = c.readMem(1);
  st.lo[0] = (st.lo[0] & ~0xff) | v;
}

export function execLahfSahf(c: Cpu, sahf: boolean): void {
  const st = c.st;
  if (sahf) {
    c.materialize();
    const mask = FLAG.SF | FLAG.ZF | FLAG.AF | FLAG.PF | FLAG.CF;
    st.flags = (st.flags & ~mask) | (((st.lo[0] >> 8) & 0xff) & mask) | FLAG.FIXED1;
  } else {
    st.lo[0] = (st.lo[0] & ~0xff00) | ((c.getFlags() & 0xff) << 8);
  }
}

export { readSrc };
