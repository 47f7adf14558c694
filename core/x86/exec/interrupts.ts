// Exception and interrupt delivery through the IVT/IDT in every mode, and IRET.

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import { EXC, FLAG, SEG } from '../defs/arch.js';
import { MODE } from '../decode/insn.js';
import { loadCache, loadDataSeg, readDescriptor } from './segments.js';

/** Read a supervisor-privileged 32-bit value at a linear address (IDT, TSS). */
function sysRead32(c: Cpu, lo: number, hi: number): number {
  const save = c.st.cpl;
  c.st.cpl = 0;
  try { return c.mmu.read32(lo, hi); } finally { c.st.cpl = save; }
}

/**
 * Deliver vector `v`. errorCode < 0 means none. `soft` marks INT n / INT3 / INTO (gate DPL checked,
 * and the return address is the next instruction — already in RIP).
 */
export function deliverEvent(c: Cpu, v: number, errorCode: number, soft: boolean): void {
  const st = c.st;
  st.halted = false;
  if (!(st.cr0 & 1)) { deliverReal(c, v); return; }
  const idt = st.idtr;
  const long = (st.eferLo & 0x400) !== 0;
  const gsz = long ? 16 : 8;
  const extBit = soft ? 0 : 1;
  if (v * gsz + gsz - 1 > idt.limit) throw new Fault(EXC.GP, v * 8 + 2 + extBit);
  const gLo = (idt.baseLo + v * gsz) | 0;
  const gHi = long ? idt.baseHi : 0;
  const w0 = sysRead32(c, gLo, gHi), w1 = sysRead32(c, (gLo + 4) | 0, gHi);
  const w2 = long ? sysRead32(c, (gLo + 8) | 0, gHi) : 0;
  const type = (w1 >>> 8) & 0x1f;
  const dpl = (w1 >>> 13) & 3;
  const present = (w1 >>> 15) & 1;
  const validTypes = long ? [0xe, 0xf] : [0xe, 0xf, 0x6, 0x7];
  if (!validTypes.includes(type)) throw new Fault(EXC.GP, v * 8 + 2 + extBit);
  if (soft && dpl < st.cpl) throw new Fault(EXC.GP, v * 8 + 2);
  if (!present) throw new Fault(EXC.NP, v * 8 + 2 + extBit);
  const sel = w0 >>> 16;
  const offLo = (w0 & 0xffff) | (w1 & 0xffff0000);
  const offHi = long ? w2 : 0;
  const trap = (type & 1) === 1;
  const ist = long ? w1 & 7 : 0;

  // Target code segment.
  if ((sel & ~3) === 0) throw new Fault(EXC.GP, extBit);
  const d = readDescriptor(c, sel, EXC.GP);
  const ctype = (d.hi >>> 8) & 0xf;
  const cdpl = (d.hi >>> 13) & 3;
  if (!((d.hi >>> 12) & 1) || !(ctype & 8) || cdpl > st.cpl) throw new Fault(EXC.GP, (sel & 0xfffc) + extBit);
  if (!((d.hi >>> 15) & 1)) throw new Fault(EXC.NP, (sel & 0xfffc) + extBit);
  const conforming = (ctype & 4) !== 0;
  const newCpl = conforming ? st.cpl : cdpl;
  if (long && !(d.hi & 0x200000)) throw new Fault(EXC.GP, (sel & 0xfffc) + extBit);

  const flags = c.getFlags();
  const oldCs = st.seg[SEG.CS].selector, oldSs = st.seg[SEG.SS].selector;
  const oldRipLo = st.ripLo, oldRipHi = st.ripHi;
  const oldSpLo = st.lo[4], oldSpHi = st.hi[4];
  if (long) {
    let spLo: number, spHi: number;
    const tr = st.seg[SEG.TR];
    if (ist) {
      const a = (tr.baseLo + 0x24 + (ist - 1) * 8) | 0;
      spLo = sysRead32(c, a, tr.baseHi); spHi = sysRead32(c, (a + 4) | 0, tr.baseHi);
    } else if (newCpl < st.cpl) {
      const a = (tr.baseLo + 4 + newCpl * 8) | 0;
      spLo = sysRead32(c, a, tr.baseHi); spHi = sysRead32(c, (a + 4) | 0, tr.baseHi);
    } else { spLo = oldSpLo; spHi = oldSpHi; }
    const top = spHi >> 15;
    if (top !== 0 && top !== -1) throw new Fault(EXC.SS, 0);
    spLo &= ~15; // the frame is 16-byte aligned in long mode
    const saveCpl = st.cpl;
    st.cpl = newCpl;
    const prevMode = c.mode;
    c.mode = MODE.M64; // pushes use 64-bit stack addressing
    const frame: [number, number][] = [[oldSs, 0], [oldSpLo, oldSpHi], [flags, 0], [oldCs, 0], [oldRipLo, oldRipHi]];
    if (errorCode >= 0) frame.push([errorCode, 0]);
    let p = spLo, ph = spHi;
    try {
      for (const [lo, hi] of frame) {
        const s = (p >>> 0) - 8;
        ph = s < 0 ? (ph - 1) | 0 : ph; p = s | 0;
        c.mmu.write64(p, ph, lo, hi);
      }
    } catch (e) { st.cpl = saveCpl; c.mode = prevMode; throw e; }
    st.lo[4] = p; st.hi[4] = ph;
    if (newCpl !== saveCpl) {
      const ss = st.seg[SEG.SS];
      ss.selector = newCpl; ss.baseLo = 0; ss.baseHi = 0; ss.limit = 0; ss.attr = 0x10000 | 0x4000 | (newCpl << 5) | 0x93;
    }
    loadCache(st.seg[SEG.CS], (sel & ~3) | newCpl, d);
    st.ripLo = offLo; st.ripHi = offHi;
  } else {
    const is32 = (type & 8) !== 0;
    const wsz = is32 ? 4 : 2;
    let ssSel = oldSs, spLo = oldSpLo;
    let ssCache: { lo: number; hi: number } | null = null;
    if (newCpl < st.cpl) {
      const tr = st.seg[SEG.TR];
      spLo = sysRead32(c, (tr.baseLo + 4 + newCpl * 8) | 0, 0);
      ssSel = sysRead32(c, (tr.baseLo + 8 + newCpl * 8) | 0, 0) & 0xffff;
      const sd = readDescriptor(c, ssSel, EXC.TS);
      ssCache = sd;
    }
    const frame: number[] = [];
    if (ssCache) frame.push(oldSs, oldSpLo);
    frame.push(flags, oldCs, oldRipLo);
    if (errorCode >= 0) frame.push(errorCode);
    // Stack writes at the new privilege with the new SS.
    const saveCpl = st.cpl;
    const ssSeg = st.seg[SEG.SS];
    const saved = { sel: ssSeg.selector, baseLo: ssSeg.baseLo, limit: ssSeg.limit, attr: ssSeg.attr };
    st.cpl = newCpl;
    if (ssCache) loadCache(ssSeg, ssSel, ssCache);
    const big = (ssSeg.attr & 0x4000) !== 0;
    let sp = big ? spLo : spLo & 0xffff;
    try {
      for (const val of frame) {
        sp = big ? (sp - wsz) | 0 : (sp - wsz) & 0xffff;
        const a = (ssSeg.baseLo + sp) | 0;
        if (wsz === 4) c.mmu.write32(a, 0, val); else c.mmu.write16(a, 0, val & 0xffff);
      }
    } catch (e) {
      st.cpl = saveCpl; ssSeg.selector = saved.sel; ssSeg.baseLo = saved.baseLo; ssSeg.limit = saved.limit; ssSeg.attr = saved.attr;
      throw e;
    }
    st.lo[4] = big ? sp : (spLo & ~0xffff) | sp;
    loadCache(st.seg[SEG.CS], (sel & ~3) | newCpl, d);
    st.ripLo = is32 ? offLo : offLo & 0xffff; st.ripHi = 0;
  }
  st.cpl = newCpl;
  let nf = flags & ~(FLAG.TF | FLAG.NT | FLAG.RF | FLAG.VM);
  if (!trap) nf &= ~FLAG.IF;
  st.flags = nf;
  st.lf = 0;
  c.updateMode();
}

function deliverReal(c: Cpu, v: number): void {
  const st = c.st;
  const idt = st.idtr;
  if (v * 4 + 3 > idt.limit) throw new Fault(EXC.GP, 0);
  const ent = c.mmu.read32((idt.baseLo + v * 4) | 0, 0);
  const flags = c.getFlags();
  c.push(2, flags, 0);
  c.push(2, st.seg[SEG.CS].selector, 0);
  c.push(2, st.ripLo, 0);
  const cs = st.seg[SEG.CS];
  cs.selector = ent >>> 16; cs.baseLo = (ent >>> 16) << 4;
  st.ripLo = ent & 0xffff; st.ripHi = 0;
  st.flags = flags & ~(FLAG.IF | FLAG.TF | FLAG.AC);
  st.lf = 0;
}

/** IRET / IRETD / IRETQ. */
export function execIret(c: Cpu, osz: number): void {
  const st = c.st;
  if (!(st.cr0 & 1)) {
    const ip = c.peek(osz, 0), cs = c.peek(osz, osz), fl = c.peek(osz, 2 * osz);
    c.addSp(3 * osz);
    st.seg[SEG.CS].selector = cs & 0xffff; st.seg[SEG.CS].baseLo = (cs & 0xffff) << 4;
    st.ripLo = osz === 2 ? ip & 0xffff : ip; st.ripHi = 0;
    c.setFlags(osz === 2 ? (c.getFlags() & ~0xffff) | (fl & 0xffff) : fl);
    st.nmiBlocked = false;
    c.updateMode();
    return;
  }
  if (st.flags & FLAG.NT && !c.long) throw new Fault(EXC.GP, 0); // task return: not supported
  const ripLo = c.peek(osz, 0); const ripHi = osz === 8 ? c.vhi : 0;
  const csSel = c.peek(osz, osz) & 0xffff;
  const fl = c.peek(osz, 2 * osz);
  const rpl = csSel & 3;
  if (rpl < st.cpl) throw new Fault(EXC.GP, csSel & 0xfffc);
  const d = readDescriptor(c, csSel);
  const ctype = (d.hi >>> 8) & 0xf;
  if (!((d.hi >>> 12) & 1) || !(ctype & 8)) throw new Fault(EXC.GP, csSel & 0xfffc);
  if (!((d.hi >>> 15) & 1)) throw new Fault(EXC.NP, csSel & 0xfffc);
  const toOuter = rpl > st.cpl;
  const popSs = c.long || toOuter;
  let spLo = 0, spHi = 0, ssSel = 0;
  if (popSs) {
    spLo = c.peek(osz, 3 * osz); spHi = osz === 8 ? c.vhi : 0;
    ssSel = c.peek(osz, 4 * osz) & 0xffff;
  }
  // Commit: flags (IOPL/IF only changeable with enough privilege).
  const old = c.getFlags();
  let mask = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.TF | FLAG.DF | FLAG.OF | FLAG.NT | FLAG.RF | FLAG.AC | FLAG.ID;
  if (st.cpl === 0) mask |= FLAG.IOPL | FLAG.VIF | FLAG.VIP;
  if (st.cpl <= ((old >> 12) & 3)) mask |= FLAG.IF;
  if (osz === 2) mask &= 0xffff;
  const newFlags = (old & ~mask) | (fl & mask);
  if (!popSs) c.addSp(3 * osz);
  const saveCpl = st.cpl;
  loadCache(st.seg[SEG.CS], csSel, d);
  st.cpl = rpl;
  c.updateMode();
  if (popSs) {
    try {
      if ((ssSel & ~3) === 0 && c.long && rpl !== 3) {
        const ss = st.seg[SEG.SS];
        ss.selector = ssSel; ss.baseLo = 0; ss.baseHi = 0; ss.limit = 0; ss.attr = 0x10000 | 0x4000 | (rpl << 5) | 0x93;
      } else loadDataSeg(c, SEG.SS, ssSel);
    } catch (e) {
      st.cpl = saveCpl; throw e;
    }
    st.lo[4] = spLo; st.hi[4] = osz === 8 ? spHi : 0;
  }
  st.ripLo = osz === 2 ? ripLo & 0xffff : ripLo; st.ripHi = osz === 8 ? ripHi : 0;
  c.setFlags(newFlags);
  st.nmiBlocked = false;
  if (toOuter) {
    // Data segments with DPL < new CPL become null.
    for (const s of [SEG.ES, SEG.DS, SEG.FS, SEG.GS]) {
      const sg = st.seg[s];
      const dpl = (sg.attr >> 5) & 3;
      const conformingCode = (sg.attr & 0x1c) === 0x1c;
      if (!conformingCode && dpl < rpl && !(sg.attr & 0x10000)) {
        sg.selector = 0; sg.attr = 0x10000;
        if (!c.long) { sg.baseLo = 0; sg.limit = 0; }
      }
    }
  }
  c.updateMode();
}
