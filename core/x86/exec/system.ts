// System instructions: control/debug registers, MSRs, descriptor tables, privilege checks for I/O and
// interrupt flag, SYSCALL/SYSRET/SYSENTER/SYSEXIT, SWAPGS, CPUID, TSC, FXSAVE/FXRSTOR, XCR0.

import type { Cpu } from '../cpu.js';
import { Fault, LoopExit } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { MODE, PFX } from '../decode/insn.js';
import { CR0, CR4, CR4_SUPPORTED, EFER, EXC, FLAG, MSR, SEG } from '../defs/arch.js';
import { EXIT } from '../host.js';
import { loadSystemSeg, readDescriptor } from './segments.js';

function needCpl0(c: Cpu): void {
  if (c.st.cpl !== 0) throw new Fault(EXC.GP, 0);
}

function canonical(hi: number): boolean {
  const top = hi >> 15;
  return top === 0 || top === -1;
}

/** This context's TSC: the VP's virtual time plus its offset, modulo 2^64 (kept below 2^53 in practice). */
function tscNow(c: Cpu): number {
  c.host.tsc(c.msrOut);
  const t = (c.msrOut.hi >>> 0) * 4294967296 + (c.msrOut.lo >>> 0) + c.st.tscOffset;
  return t < 0 ? t + 18446744073709551616 : t;
}

export function execMovFromCr(c: Cpu, i: Insn): void {
  needCpl0(c);
  const st = c.st;
  const size = c.long ? 8 : 4;
  let lo: number, hi = 0;
  switch (i.reg) {
    case 0: lo = st.cr0; break;
    case 2: lo = st.cr2Lo; hi = st.cr2Hi; break;
    case 3: lo = st.cr3Lo; hi = st.cr3Hi; break;
    case 4: lo = st.cr4; break;
    case 8: lo = c.host.getCr8(); break;
    default: throw new Fault(EXC.UD);
  }
  c.setReg(size, i.rm, lo, hi);
}

export function execMovToCr(c: Cpu, i: Insn): void {
  needCpl0(c);
  const st = c.st;
  const lo = c.st.lo[i.rm];
  const hi = c.long ? c.st.hi[i.rm] : 0;
  if ((i.reg === 0 || i.reg === 4) && c.host.interceptWrite?.('cr', i.reg, lo, hi)) {
    throw { kind: 'cr', index: i.reg, lo, hi, gpa: 0, access: 1 };
  }
  switch (i.reg) {
    case 0: writeCr0(c, lo, hi); break;
    case 2: st.cr2Lo = lo; st.cr2Hi = hi; break;
    case 3: {
      // Bit 63 with PCIDE means "do not flush"; vsmrr flushes anyway, which is always allowed.
      const h = hi & 0x7fffffff;
      if (h & 0xffffff00) throw new Fault(EXC.GP, 0);
      st.cr3Lo = lo; st.cr3Hi = h;
      c.mmu.flushNonGlobal();
      c.invalidateFetch();
      break;
    }
    case 4: writeCr4(c, lo, hi); break;
    case 8: if (hi || lo & ~0xf) throw new Fault(EXC.GP, 0); c.host.setCr8(lo); c.eventPending = true; break;
    default: throw new Fault(EXC.UD);
  }
}

export function writeCr0(c: Cpu, lo: number, hi: number): void {
  const st = c.st;
  if (hi) throw new Fault(EXC.GP, 0);
  let v = (lo | CR0.ET) >>> 0;
  if ((v & CR0.PG) && !(v & CR0.PE)) throw new Fault(EXC.GP, 0);
  if ((v & CR0.NW) && !(v & CR0.CD)) throw new Fault(EXC.GP, 0);
  const old = st.cr0 >>> 0;
  if (!(old & CR0.PG) && (v & CR0.PG) && (st.eferLo & EFER.LME)) {
    if (!(st.cr4 & CR4.PAE)) throw new Fault(EXC.GP, 0);
    st.eferLo |= EFER.LMA;
  }
  if ((old & CR0.PG) && !(v & CR0.PG) && (st.eferLo & EFER.LMA)) {
    if (c.mode === MODE.M64) throw new Fault(EXC.GP, 0);
    st.eferLo &= ~EFER.LMA;
  }
  v |= 0;
  st.cr0 = v;
  if (((old ^ v) & (CR0.PG | CR0.PE | CR0.WP)) !== 0) c.mmu.flushAll();
  if (!(v & CR0.PE)) st.cpl = 0;
  c.updateMode();
}

export function writeCr4(c: Cpu, lo: number, hi: number): void {
  const st = c.st;
  if (hi || (lo & ~CR4_SUPPORTED)) throw new Fault(EXC.GP, 0);
  if ((st.eferLo & EFER.LMA) && !(lo & CR4.PAE)) throw new Fault(EXC.GP, 0);
  if ((lo & CR4.PCIDE) && !(st.cr4 & CR4.PCIDE) && ((st.cr3Lo & 0xfff) || !(st.eferLo & EFER.LMA))) throw new Fault(EXC.GP, 0);
  const old = st.cr4;
  st.cr4 = lo;
  if ((old ^ lo) & (CR4.PGE | CR4.PAE | CR4.PSE | CR4.PCIDE | CR4.SMEP)) c.mmu.flushAll();
  c.invalidateFetch();
}

export function execMovDr(c: Cpu, i: Insn, toDr: boolean): void {
  needCpl0(c);
  const st = c.st;
  let n = i.reg;
  if (n === 4 || n === 5) { if (st.cr4 & CR4.DE) throw new Fault(EXC.UD); n += 2; }
  if (n > 7) throw new Fault(EXC.UD);
  if (toDr) {
    const lo = st.lo[i.rm] >>> 0, hi = c.long ? st.hi[i.rm] >>> 0 : 0;
    if ((n === 6 || n === 7) && hi) throw new Fault(EXC.GP, 0);
    let v = hi * 4294967296 + lo;
    if (n === 6) v = (lo | 0xffff0ff0) >>> 0;
    if (n === 7) v = ((lo | 0x400) & ~0xd000) >>> 0;
    st.dr[n] = v;
  } else {
    const v = st.dr[n];
    c.setReg(c.long ? 8 : 4, i.rm, v % 4294967296 | 0, Math.floor(v / 4294967296) | 0);
  }
}

/** RDMSR/WRMSR for the MSRs the CPU itself owns; others go to the host. */
export function execRdmsr(c: Cpu): void {
  needCpl0(c);
  const st = c.st;
  const idx = st.lo[1] >>> 0;
  if (c.host.interceptRead?.(idx)) throw { kind: 'msr', index: idx, lo: 0, hi: 0, gpa: 0, access: 0 };
  let lo = 0, hi = 0;
  switch (idx) {
    case MSR.IA32_EFER: lo = st.eferLo; break;
    case MSR.IA32_STAR: lo = st.starLo; hi = st.starHi; break;
    case MSR.IA32_LSTAR: lo = st.lstarLo; hi = st.lstarHi; break;
    case MSR.IA32_CSTAR: lo = st.cstarLo; hi = st.cstarHi; break;
    case MSR.IA32_FMASK: lo = st.fmask; break;
    case MSR.IA32_FS_BASE: lo = st.seg[SEG.FS].baseLo; hi = st.seg[SEG.FS].baseHi; break;
    case MSR.IA32_GS_BASE: lo = st.seg[SEG.GS].baseLo; hi = st.seg[SEG.GS].baseHi; break;
    case MSR.IA32_KERNEL_GS_BASE: lo = st.kernelGsBaseLo; hi = st.kernelGsBaseHi; break;
    case MSR.IA32_TSC_AUX: lo = st.tscAux; break;
    case MSR.IA32_SYSENTER_CS: lo = st.sysenterCs; break;
    case MSR.IA32_SYSENTER_ESP: lo = st.sysenterEspLo; hi = st.sysenterEspHi; break;
    case MSR.IA32_SYSENTER_EIP: lo = st.sysenterEipLo; hi = st.sysenterEipHi; break;
    case MSR.IA32_PAT: lo = st.patLo; hi = st.patHi; break;
    case MSR.IA32_TSC: { const t = tscNow(c); lo = t % 4294967296; hi = Math.floor(t / 4294967296); break; }
    default:
      if (!c.host.rdmsr(idx, c.msrOut)) throw new Fault(EXC.GP, 0);
      lo = c.msrOut.lo; hi = c.msrOut.hi;
  }
  st.lo[0] = lo; st.hi[0] = 0; st.lo[2] = hi; st.hi[2] = 0;
}

export function execWrmsr(c: Cpu): void {
  needCpl0(c);
  const st = c.st;
  const idx = st.lo[1] >>> 0;
  const lo = st.lo[0], hi = st.lo[2];
  if (c.host.interceptWrite?.('msr', idx, lo, hi)) throw { kind: 'msr', index: idx, lo, hi, gpa: 0, access: 1 };
  const needCanon = () => { if (!canonical(hi)) throw new Fault(EXC.GP, 0); };
  switch (idx) {
    case MSR.IA32_EFER: {
      if (hi || (lo & ~(EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE))) throw new Fault(EXC.GP, 0);
      // LME cannot change while paging is on; LMA is read-only.
      if ((st.cr0 & CR0.PG) && ((lo ^ st.eferLo) & EFER.LME)) throw new Fault(EXC.GP, 0);
      const old = st.eferLo;
      st.eferLo = (lo & ~EFER.LMA) | (st.eferLo & EFER.LMA);
      if ((old ^ st.eferLo) & EFER.NXE) c.mmu.flushAll();
      break;
    }
    case MSR.IA32_STAR: st.starLo = lo; st.starHi = hi; break;
    case MSR.IA32_LSTAR: needCanon(); st.lstarLo = lo; st.lstarHi = hi; break;
    case MSR.IA32_CSTAR: needCanon(); st.cstarLo = lo; st.cstarHi = hi; break;
    case MSR.IA32_FMASK: st.fmask = lo; break;
    case MSR.IA32_FS_BASE: needCanon(); st.seg[SEG.FS].baseLo = lo; st.seg[SEG.FS].baseHi = hi; break;
    case MSR.IA32_GS_BASE: needCanon(); st.seg[SEG.GS].baseLo = lo; st.seg[SEG.GS].baseHi = hi; break;
    case MSR.IA32_KERNEL_GS_BASE: needCanon(); st.kernelGsBaseLo = lo; st.kernelGsBaseHi = hi; break;
    case MSR.IA32_TSC_AUX: if (hi) throw new Fault(EXC.GP, 0); st.tscAux = lo; break;
    case MSR.IA32_TSC: {
      // The TSC is virtual time plus a per-context offset (TSC-deadline timers assume offset 0).
      c.host.tsc(c.msrOut);
      st.tscOffset = ((hi >>> 0) * 4294967296 + (lo >>> 0)) - ((c.msrOut.hi >>> 0) * 4294967296 + (c.msrOut.lo >>> 0));
      break;
    }
    case MSR.IA32_SYSENTER_CS: st.sysenterCs = lo & 0xffff; break;
    case MSR.IA32_SYSENTER_ESP: needCanon(); st.sysenterEspLo = lo; st.sysenterEspHi = hi; break;
    case MSR.IA32_SYSENTER_EIP: needCanon(); st.sysenterEipLo = lo; st.sysenterEipHi = hi; break;
    case MSR.IA32_PAT: {
      for (let k = 0; k < 8; k++) {
        const t = ((k < 4 ? lo : hi) >>> ((k & 3) * 8)) & 0xff;
        if (t === 2 || t === 3 || t > 7) throw new Fault(EXC.GP, 0);
      }
      st.patLo = lo; st.patHi = hi; break;
    }
    default:
      if (!c.host.wrmsr(idx, lo >>> 0, hi >>> 0)) throw new Fault(EXC.GP, 0);
      c.eventPending = true; // APIC/TPR writes may unmask an interrupt
  }
}

export function execCpuid(c: Cpu): void {
  const st = c.st;
  c.host.cpuid(st.lo[0] >>> 0, st.lo[1] >>> 0, c.out4);
  const o = c.out4;
  st.lo[0] = o[0] | 0; st.lo[3] = o[1] | 0; st.lo[1] = o[2] | 0; st.lo[2] = o[3] | 0;
  st.hi[0] = 0; st.hi[3] = 0; st.hi[1] = 0; st.hi[2] = 0;
}

export function execRdtsc(c: Cpu, withAux: boolean): void {
  const st = c.st;
  if (st.cr4 & CR4.TSD && st.cpl !== 0) throw new Fault(EXC.GP, 0);
  const t = tscNow(c);
  st.lo[0] = t % 4294967296 | 0; st.hi[0] = 0; st.lo[2] = Math.floor(t / 4294967296) | 0; st.hi[2] = 0;
  if (withAux) { st.lo[1] = st.tscAux; st.hi[1] = 0; }
}

/** I/O privilege: CPL <= IOPL (no TSS I/O bitmap support: a bitmap-permitted port still faults). */
function ioAllowed(c: Cpu): void {
  const st = c.st;
  if ((st.cr0 & CR0.PE) && (st.cpl > ((st.flags >> 12) & 3) || st.flags & FLAG.VM)) throw new Fault(EXC.GP, 0);
}

export function execIn(c: Cpu, i: Insn): void {
  ioAllowed(c);
  const port = portOf(c, i);
  const size = i.osz as 1 | 2 | 4;
  const v = c.host.ioRead(port, size);
  c.setReg(size, 0, v, 0);
}

export function execOut(c: Cpu, i: Insn): void {
  ioAllowed(c);
  const port = portOf(c, i);
  const size = i.osz as 1 | 2 | 4;
  const v = c.getReg(size, 0);
  c.host.ioWrite(port, size, size === 4 ? v >>> 0 : v);
}

/** IN/OUT take the port from imm8 (opcodes E4-E7, decoded with sub 1) or DX (EC-EF). */
function portOf(c: Cpu, i: Insn): number {
  return i.sub === 1 ? i.imm & 0xff : c.st.lo[2] & 0xffff;
}

export function execCliSti(c: Cpu, set: boolean): void {
  const st = c.st;
  if ((st.cr0 & CR0.PE) && st.cpl > ((st.flags >> 12) & 3)) throw new Fault(EXC.GP, 0);
  if (set) {
    if (!(st.flags & FLAG.IF)) { st.intShadow = true; c.eventPending = true; }
    st.flags |= FLAG.IF;
  } else st.flags &= ~FLAG.IF;
}

export function execHlt(c: Cpu): void {
  needCpl0(c);
  c.st.halted = true;
  c.exitCode = EXIT.HALT;
}

export function execPushf(c: Cpu, i: Insn): void {
  const st = c.st;
  if (st.flags & FLAG.VM && ((st.flags >> 12) & 3) < 3) throw new Fault(EXC.GP, 0);
  const f = c.getFlags() & ~(FLAG.RF | FLAG.VM);
  c.push(i.osz, i.osz === 2 ? f & 0xffff : f, 0);
}

export function execPopf(c: Cpu, i: Insn): void {
  const st = c.st;
  const v = c.pop(i.osz);
  const old = c.getFlags();
  const iopl = (old >> 12) & 3;
  let mask = FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.TF | FLAG.DF | FLAG.OF | FLAG.NT | FLAG.AC | FLAG.ID;
  if (st.cpl === 0 || !(st.cr0 & CR0.PE)) mask |= FLAG.IOPL;
  if (st.cpl <= iopl || !(st.cr0 & CR0.PE)) mask |= FLAG.IF;
  if (i.osz === 2) mask &= 0xffff;
  c.setFlags((old & ~mask) | (v & mask));
}

function writeTableReg(c: Cpu, i: Insn, t: { baseLo: number; baseHi: number; limit: number }): void {
  c.ea(i);
  const eaLo = c.eaLo, eaHi = c.eaHi;
  c.writeMem(2, t.limit & 0xffff, 0);
  c.eaLo = (eaLo + 2) | 0; c.eaHi = eaHi;
  if (c.long) c.writeMem(8, t.baseLo, t.baseHi);
  else c.writeMem(4, t.baseLo, 0);
}

function readTableReg(c: Cpu, i: Insn, t: { baseLo: number; baseHi: number; limit: number }): void {
  needCpl0(c);
  c.ea(i);
  const eaLo = c.eaLo, eaHi = c.eaHi;
  const limit = c.readMem(2);
  c.eaLo = (eaLo + 2) | 0; c.eaHi = eaHi;
  let lo: number, hi = 0;
  if (c.long) { lo = c.readMem(8); hi = c.vhi; if (!canonical(hi)) throw new Fault(EXC.GP, 0); }
  else { lo = c.readMem(4); if (i.osz === 2) lo &= 0xffffff; }
  t.limit = limit; t.baseLo = lo; t.baseHi = hi;
}

export function execDescTable(c: Cpu, i: Insn, which: 'sgdt' | 'sidt' | 'lgdt' | 'lidt'): void {
  const st = c.st;
  if ((which === 'sgdt' || which === 'sidt') && st.cr4 & CR4.UMIP && st.cpl > 0) throw new Fault(EXC.GP, 0);
  switch (which) {
    case 'sgdt': writeTableReg(c, i, st.gdtr); break;
    case 'sidt': writeTableReg(c, i, st.idtr); break;
    case 'lgdt': readTableReg(c, i, st.gdtr); break;
    case 'lidt': readTableReg(c, i, st.idtr); break;
  }
}

export function execSystemSeg(c: Cpu, i: Insn, which: 'lldt' | 'ltr' | 'sldt' | 'str'): void {
  const st = c.st;
  if (!(st.cr0 & CR0.PE) || st.flags & FLAG.VM) throw new Fault(EXC.UD);
  if (which === 'sldt' || which === 'str') {
    const v = st.seg[which === 'sldt' ? SEG.LDTR : SEG.TR].selector;
    if (i.mod === 3) c.setReg(i.osz === 8 ? 8 : i.osz === 4 ? 4 : 2, i.rm, v, 0);
    else { c.ea(i); c.writeMem(2, v, 0); }
    return;
  }
  needCpl0(c);
  const sel = c.readE(i, 2);
  loadSystemSeg(c, which === 'lldt' ? SEG.LDTR : SEG.TR, sel);
}

export function execSmsw(c: Cpu, i: Insn): void {
  const v = c.st.cr0;
  if (i.mod === 3) c.setReg(i.osz, i.rm, i.osz === 2 ? v & 0xffff : v, 0);
  else { c.ea(i); c.writeMem(2, v & 0xffff, 0); }
}

export function execLmsw(c: Cpu, i: Insn): void {
  needCpl0(c);
  const v = c.readE(i, 2);
  const st = c.st;
  // LMSW can set PE but never clear it, and touches only PE/MP/EM/TS.
  const nv = (st.cr0 & ~0xe) | (v & 0xe) | (st.cr0 & 1) | (v & 1);
  writeCr0(c, nv, 0);
}

export function execClts(c: Cpu): void {
  needCpl0(c);
  c.st.cr0 &= ~CR0.TS;
}

export function execInvlpg(c: Cpu, i: Insn): void {
  needCpl0(c);
  c.ea(i);
  c.mmu.flushPage(c.eaLo, c.eaHi);
  c.invalidateFetch();
}

export function execSwapgs(c: Cpu): void {
  needCpl0(c);
  const st = c.st;
  const gs = st.seg[SEG.GS];
  const lo = gs.baseLo, hi = gs.baseHi;
  gs.baseLo = st.kernelGsBaseLo; gs.baseHi = st.kernelGsBaseHi;
  st.kernelGsBaseLo = lo; st.kernelGsBaseHi = hi;
}

function flatCode(s: { selector: number; baseLo: number; baseHi: number; limit: number; attr: number }, sel: number, dpl: number, long: boolean): void {
  s.selector = sel; s.baseLo = 0; s.baseHi = 0; s.limit = 0xffffffff;
  s.attr = 0x9b | (dpl << 5) | 0x8000 | (long ? 0x2000 : 0x4000);
}

function flatData(s: { selector: number; baseLo: number; baseHi: number; limit: number; attr: number }, sel: number, dpl: number): void {
  s.selector = sel; s.baseLo = 0; s.baseHi = 0; s.limit = 0xffffffff;
  s.attr = 0x93 | (dpl << 5) | 0x8000 | 0x4000;
}

export function execSyscall(c: Cpu): void {
  const st = c.st;
  if (!(st.eferLo & EFER.SCE)) throw new Fault(EXC.UD);
  const sel = (st.starHi & 0xffff) & ~3;
  const flags = c.getFlags();
  if (st.eferLo & EFER.LMA) {
    st.lo[1] = st.ripLo; st.hi[1] = st.ripHi;
    st.lo[11] = flags & ~FLAG.RF; st.hi[11] = 0;
    flatCode(st.seg[SEG.CS], sel, 0, c.mode === MODE.M64 || true);
    if (c.mode !== MODE.M64) { st.ripLo = st.cstarLo; st.ripHi = st.cstarHi; }
    else { st.ripLo = st.lstarLo; st.ripHi = st.lstarHi; }
    st.flags = (flags & ~st.fmask & ~FLAG.RF) | FLAG.FIXED1;
  } else {
    st.lo[1] = st.ripLo;
    flatCode(st.seg[SEG.CS], sel, 0, false);
    st.ripLo = st.starLo; st.ripHi = 0;
    st.flags = flags & ~(FLAG.VM | FLAG.IF | FLAG.RF);
  }
  st.lf = 0;
  flatData(st.seg[SEG.SS], (sel + 8) & 0xffff, 0);
  st.cpl = 0;
  c.updateMode();
}

export function execSysret(c: Cpu, i: Insn): void {
  const st = c.st;
  if (!(st.eferLo & EFER.SCE)) throw new Fault(EXC.UD);
  if (st.cpl !== 0 || !(st.cr0 & CR0.PE)) throw new Fault(EXC.GP, 0);
  const base = st.starHi >>> 16;
  const to64 = (i.pfx & PFX.REXW) !== 0;
  if (st.eferLo & EFER.LMA) {
    if (to64 && !canonical(st.hi[1])) throw new Fault(EXC.GP, 0);
    flatCode(st.seg[SEG.CS], ((to64 ? base + 16 : base) | 3) & 0xffff, 3, to64);
    if (!to64) st.seg[SEG.CS].attr = (st.seg[SEG.CS].attr & ~0x2000) | 0x4000;
    st.ripLo = st.lo[1]; st.ripHi = to64 ? st.hi[1] : 0;
    c.setFlags((st.lo[11] & ~(FLAG.RF | FLAG.VM)) | FLAG.FIXED1);
  } else {
    flatCode(st.seg[SEG.CS], (base | 3) & 0xffff, 3, false);
    st.ripLo = st.lo[1]; st.ripHi = 0;
    st.flags |= FLAG.IF;
    c.eventPending = true;
  }
  // SS selector is loaded but its cache is the fixed flat descriptor (SDM SYSRET).
  flatData(st.seg[SEG.SS], ((base + 8) | 3) & 0xffff, 3);
  st.cpl = 3;
  c.updateMode();
}

export function execSysenter(c: Cpu): void {
  const st = c.st;
  if (!(st.cr0 & CR0.PE) || (st.sysenterCs & 0xfffc) === 0) throw new Fault(EXC.GP, 0);
  const long = (st.eferLo & EFER.LMA) !== 0;
  const flags = c.getFlags();
  st.flags = flags & ~(FLAG.VM | FLAG.IF | FLAG.RF); st.lf = 0;
  flatCode(st.seg[SEG.CS], st.sysenterCs & 0xfffc, 0, long);
  flatData(st.seg[SEG.SS], (st.sysenterCs + 8) & 0xfffc, 0);
  st.cpl = 0;
  st.lo[4] = st.sysenterEspLo; st.hi[4] = long ? st.sysenterEspHi : 0;
  st.ripLo = st.sysenterEipLo; st.ripHi = long ? st.sysenterEipHi : 0;
  c.updateMode();
}

export function execSysexit(c: Cpu, i: Insn): void {
  const st = c.st;
  if (!(st.cr0 & CR0.PE) || (st.sysenterCs & 0xfffc) === 0 || st.cpl !== 0) throw new Fault(EXC.GP, 0);
  const to64 = (i.pfx & PFX.REXW) !== 0;
  flatCode(st.seg[SEG.CS], ((st.sysenterCs + (to64 ? 32 : 16)) | 3) & 0xffff, 3, to64);
  flatData(st.seg[SEG.SS], ((st.sysenterCs + (to64 ? 40 : 24)) | 3) & 0xffff, 3);
  st.cpl = 3;
  st.lo[4] = st.lo[1]; st.hi[4] = to64 ? st.hi[1] : 0;
  st.ripLo = st.lo[2]; st.ripHi = to64 ? st.hi[2] : 0;
  c.updateMode();
}

export function execXgetbv(c: Cpu): void {
  const st = c.st;
  if (!(st.cr4 & CR4.OSXSAVE)) throw new Fault(EXC.UD);
  if (st.lo[1] !== 0) throw new Fault(EXC.GP, 0);
  st.lo[0] = st.xcr0Lo; st.hi[0] = 0; st.lo[2] = 0; st.hi[2] = 0;
}

export function execXsetbv(c: Cpu): void {
  const st = c.st;
  if (!(st.cr4 & CR4.OSXSAVE)) throw new Fault(EXC.UD);
  needCpl0(c);
  // XCR0: x87 (bit 0, must be set) and SSE (bit 1) are the only state components.
  if (st.lo[1] !== 0 || st.lo[2] !== 0 || !(st.lo[0] & 1) || (st.lo[0] & ~3)) throw new Fault(EXC.GP, 0);
  st.xcr0Lo = st.lo[0];
}

export function execVmcall(c: Cpu): void {
  // The hypervisor decides (CPL checks, hypercalls disabled → #UD) — leave the loop with RIP at VMCALL.
  c.st.ripLo = c.startLo; c.st.ripHi = c.startHi;
  throw new LoopExit(EXIT.HYPERCALL);
}

export function execFsgsbase(c: Cpu, i: Insn): void {
  const st = c.st;
  if (c.mode !== MODE.M64 || !(st.cr4 & CR4.FSGSBASE)) throw new Fault(EXC.UD);
  const which = i.reg & 7;
  const seg = st.seg[which & 1 ? SEG.GS : SEG.FS];
  const size = i.pfx & PFX.REXW ? 8 : 4;
  if (which < 2) c.setReg(size, i.rm, seg.baseLo, size === 8 ? seg.baseHi : 0);
  else if (which < 4) {
    const lo = st.lo[i.rm], hi = size === 8 ? st.hi[i.rm] : 0;
    if (!canonical(hi)) throw new Fault(EXC.GP, 0);
    seg.baseLo = lo; seg.baseHi = hi;
  } else throw new Fault(EXC.UD);
}

/** LAR / LSL: load access rights or segment limit; ZF says whether the selector was valid. */
export function execLarLsl(c: Cpu, i: Insn, lsl: boolean): void {
  const st = c.st;
  if (!(st.cr0 & CR0.PE)) throw new Fault(EXC.UD);
  const sel = c.readE(i, 2);
  c.materialize();
  let ok = false, val = 0;
  if (sel & ~3) {
    try {
      const d = readDescriptor(c, sel);
      const dpl = (d.hi >>> 13) & 3;
      const sbit = (d.hi >>> 12) & 1;
      const type = (d.hi >>> 8) & 0xf;
      const conforming = sbit && (type & 0xc) === 0xc;
      const typeOk = sbit ? true : lsl ? [1, 2, 3, 9, 11].includes(type) : [1, 2, 3, 9, 11, 12].includes(type);
      if (typeOk && (conforming || (dpl >= st.cpl && dpl >= (sel & 3)))) {
        ok = true;
        if (lsl) { let l = (d.lo & 0xffff) | (d.hi & 0xf0000); if (d.hi & 0x800000) l = ((l << 12) | 0xfff) >>> 0; val = l; }
        else val = d.hi & 0x00f0ff00;
      }
    } catch (e) { if (!(e instanceof Fault)) throw e; }
  }
  if (ok) { st.flags |= FLAG.ZF; c.setReg(i.osz, i.reg, val, 0); }
  else st.flags &= ~FLAG.ZF;
}

export function execVerrVerw(c: Cpu, i: Insn, write: boolean): void {
  const st = c.st;
  const sel = c.readE(i, 2);
  c.materialize();
  let ok = false;
  if (sel & ~3) {
    try {
      const d = readDescriptor(c, sel);
      const type = (d.hi >>> 8) & 0xf;
      const dpl = (d.hi >>> 13) & 3;
      const sbit = (d.hi >>> 12) & 1;
      const conforming = (type & 0xc) === 0xc;
      if (sbit && (conforming || (dpl >= st.cpl && dpl >= (sel & 3)))) {
        ok = write ? !(type & 8) && (type & 2) !== 0 : !(type & 8) || (type & 2) !== 0;
      }
    } catch (e) { if (!(e instanceof Fault)) throw e; }
  }
  st.flags = ok ? st.flags | FLAG.ZF : st.flags & ~FLAG.ZF;
}
