// Control transfer: near and far jumps, calls and returns, conditional branches, loops, ENTER/LEAVE,
// software interrupts.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { MODE } from '../decode/insn.js';
import { EXC, FLAG, SEG } from '../defs/arch.js';
import { deliverEvent } from './interrupts.js';
import { loadCodeSeg, loadDataSeg, readDescriptor } from './segments.js';

export function execJcc(c: Cpu, i: Insn): void {
  if (!c.cond(i.sub)) return;
  // Fast path: a 64-bit branch that stays within the same 4 GiB (RIP high half unchanged, so still
  // canonical).
  if (i.osz === 8) {
    const st = c.st;
    const s = (st.ripLo >>> 0) + i.imm;
    if (s >= 0 && s <= 0xffffffff) { st.ripLo = s | 0; return; }
  }
  c.jumpRel(i.imm, i.osz);
}

export function execJmp(c: Cpu, i: Insn): void {
  if (i.mod < 0) { c.jumpRel(i.imm, i.osz); return; }
  const t = c.readE(i, i.osz);
  c.jumpTo(t, c.vhi, i.osz);
}

export function execCall(c: Cpu, i: Insn): void {
  const st = c.st;
  const retLo = st.ripLo, retHi = st.ripHi;
  if (i.mod < 0) {
    c.push(i.osz, retLo, retHi);
    try { c.jumpRel(i.imm, i.osz); } catch (e) { c.addSp(i.osz); throw e; }
    return;
  }
  const t = c.readE(i, i.osz);
  const th = c.vhi;
  c.push(i.osz, retLo, retHi);
  try { c.jumpTo(t, th, i.osz); } catch (e) { c.addSp(i.osz); throw e; }
}

export function execRet(c: Cpu, i: Insn): void {
  const lo = c.peek(i.osz, 0);
  const hi = c.vhi;
  c.jumpTo(lo, hi, i.osz);
  c.addSp(i.osz + (i.mod < 0 ? i.imm & 0xffff : 0));
}

export function execLoop(c: Cpu, i: Insn, kind: 'loop' | 'loope' | 'loopne' | 'jcxz'): void {
  const st = c.st;
  const asz = i.asz;
  let zero: boolean;
  if (kind === 'jcxz') {
    zero = asz === 8 ? (st.lo[1] | st.hi[1]) === 0 : asz === 4 ? st.lo[1] === 0 : (st.lo[1] & 0xffff) === 0;
    if (zero) c.jumpRel(i.imm, i.osz);
    return;
  }
  if (asz === 8) {
    const s = (st.lo[1] >>> 0) - 1;
    st.hi[1] = s < 0 ? (st.hi[1] - 1) | 0 : st.hi[1]; st.lo[1] = s | 0;
    zero = (st.lo[1] | st.hi[1]) === 0;
  } else if (asz === 4) { st.lo[1] = (st.lo[1] - 1) | 0; if (c.long) st.hi[1] = 0; zero = st.lo[1] === 0; }
  else { st.lo[1] = (st.lo[1] & ~0xffff) | ((st.lo[1] - 1) & 0xffff); zero = (st.lo[1] & 0xffff) === 0; }
  let take = !zero;
  if (kind === 'loope') take &&= c.zf();
  else if (kind === 'loopne') take &&= !c.zf();
  if (take) c.jumpRel(i.imm, i.osz);
}

export function execEnter(c: Cpu, i: Insn): void {
  const st = c.st;
  const size = i.osz;
  const alloc = i.imm & 0xffff;
  const level = i.imm2 & 31;
  const ss = c.stackSize();
  c.push(size, st.lo[5], st.hi[5]);
  const frameLo = st.lo[4], frameHi = st.hi[4];
  let bpLo = st.lo[5], bpHi = st.hi[5];
  for (let k = 1; k < level; k++) {
    const s = (bpLo >>> 0) - size;
    bpHi = s < 0 && ss === 8 ? (bpHi - 1) | 0 : bpHi; bpLo = ss === 2 ? (bpLo & ~0xffff) | (s & 0xffff) : s | 0;
    c.linear(SEG.SS, ss === 2 ? bpLo & 0xffff : bpLo, ss === 8 ? bpHi : 0);
    const v = c.readMem(size);
    c.push(size, v, c.vhi);
  }
  if (level > 0) c.push(size, frameLo, frameHi);
  if (size === 2) st.lo[5] = (st.lo[5] & ~0xffff) | (frameLo & 0xffff);
  else if (ss === 8 || size === 8) { st.lo[5] = frameLo; st.hi[5] = frameHi; }
  else { st.lo[5] = frameLo; if (c.long) st.hi[5] = 0; }
  c.addSp(-alloc);
}

export function execLeave(c: Cpu, i: Insn): void {
  const st = c.st;
  const ss = c.stackSize();
  if (ss === 8) { st.lo[4] = st.lo[5]; st.hi[4] = st.hi[5]; }
  else if (ss === 4) st.lo[4] = st.lo[5];
  else st.lo[4] = (st.lo[4] & ~0xffff) | (st.lo[5] & 0xffff);
  const v = c.pop(i.osz);
  c.setReg(i.osz, 5, v, c.vhi);
}

export function execInt(c: Cpu, vector: number): void {
  deliverEvent(c, vector, -1, true);
}

export function execInto(c: Cpu): void {
  if (c.of()) deliverEvent(c, EXC.OF, -1, true);
}

/** Far JMP/CALL to selector:offset (direct Ap or indirect Mp). Call gates are not implemented (#GP). */
export function execFar(c: Cpu, i: Insn, call: boolean): void {
  const st = c.st;
  let off: number, offHi = 0, sel: number;
  if (i.mod < 0) { off = i.imm; sel = i.imm2; }
  else {
    c.ea(i);
    const osz = i.osz;
    off = c.readMem(osz === 8 ? 8 : osz);
    offHi = osz === 8 ? c.vhi : 0;
    const eaLo = c.eaLo;
    c.eaLo = (eaLo + osz) | 0;
    sel = c.readMem(2);
    if (osz === 2) off &= 0xffff;
  }
  const retSel = st.seg[SEG.CS].selector, retLo = st.ripLo, retHi = st.ripHi;
  if (st.cr0 & 1 && !(st.flags & FLAG.VM)) {
    const d = readDescriptor(c, sel);
    const sbit = (d.hi >>> 12) & 1;
    const type = (d.hi >>> 8) & 0xf;
    if (!sbit || !(type & 8)) throw new Fault(EXC.GP, sel & 0xfffc); // gates and TSS: not supported
    const dpl = (d.hi >>> 13) & 3;
    const conforming = (type & 4) !== 0;
    if (conforming ? dpl > st.cpl : (dpl !== st.cpl || (sel & 3) > st.cpl)) throw new Fault(EXC.GP, sel & 0xfffc);
  }
  if (call) {
    const sz = i.osz;
    c.push(sz, retSel, 0);
    c.push(sz, retLo, retHi);
  }
  loadCodeSeg(c, sel, st.cr0 & 1 ? st.cpl : 0);
  st.ripLo = i.osz === 2 ? off & 0xffff : off; st.ripHi = offHi;
  if (c.mode !== MODE.M64) st.ripHi = 0;
}

/** RETF (same privilege, or to an outer ring with SS:RSP). */
export function execRetf(c: Cpu, i: Insn): void {
  const st = c.st;
  const sz = i.osz;
  const lo = c.peek(sz, 0); const hi = sz === 8 ? c.vhi : 0;
  const sel = c.peek(sz, sz) & 0xffff;
  const extra = i.mod < 0 ? i.imm & 0xffff : 0;
  if (!(st.cr0 & 1) || st.flags & FLAG.VM) {
    loadCodeSeg(c, sel, 0);
    st.ripLo = lo & 0xffff; st.ripHi = 0;
    c.addSp(2 * sz + extra);
    return;
  }
  const rpl = sel & 3;
  if (rpl < st.cpl) throw new Fault(EXC.GP, sel & 0xfffc);
  if (rpl > st.cpl) {
    const spLo = c.peek(sz, 2 * sz + extra); const spHi = sz === 8 ? c.vhi : 0;
    const ss = c.peek(sz, 3 * sz + extra) & 0xffff;
    loadCodeSeg(c, sel, rpl);
    loadDataSeg(c, SEG.SS, ss);
    st.lo[4] = spLo; st.hi[4] = spHi;
    c.addSp(extra);
  } else {
    loadCodeSeg(c, sel, rpl);
    c.addSp(2 * sz + extra);
  }
  st.ripLo = sz === 2 ? lo & 0xffff : lo; st.ripHi = c.long ? hi : 0;
}
