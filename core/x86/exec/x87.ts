// x87: the control and status instructions that start-up code uses (FNINIT, FNCLEX, FLDCW, FNSTCW,
// FNSTSW), and the register stack's data movement for constants and 80-bit memory operands (FLD1,
// FLDPI and the other constants, FLD m80, FSTP m80). x87 arithmetic is not implemented: those
// encodings raise #UD and are reported.
//
// The register images are kept in ST order (ST0 first, 16 bytes each), as FXSAVE stores them; FSW
// bits 11..13 hold TOP and FTW is the abridged tag byte indexed by physical register.

/** 80-bit constants (exponent, mantissa high and low 32 bits), rounded to nearest as the FPU loads them. */
const CONSTANTS: Record<number, [number, number, number]> = {
  0xe8: [0x3fff, 0x80000000, 0x00000000], // FLD1
  0xe9: [0x4000, 0xd49a784b, 0xcd1b8afe], // FLDL2T
  0xea: [0x3fff, 0xb8aa3b29, 0x5c17f0bc], // FLDL2E
  0xeb: [0x4000, 0xc90fdaa2, 0x2168c235], // FLDPI
  0xec: [0x3ffd, 0x9a209a84, 0xfbcff799], // FLDLG2
  0xed: [0x3ffe, 0xb17217f7, 0xd1cf79ac], // FLDLN2
  0xee: [0, 0, 0], // FLDZ
};

function push(c: Cpu, bytes: Uint8Array): void {
  const st = c.st;
  const top = (((st.fsw >> 11) & 7) - 1) & 7;
  st.fpregs.copyWithin(16, 0, 112);
  st.fpregs.fill(0, 0, 16);
  st.fpregs.set(bytes.subarray(0, 10), 0);
  st.fsw = (st.fsw & ~0x3800) | (top << 11);
  st.ftw |= 1 << top;
}

function pop(c: Cpu): void {
  const st = c.st;
  const top = (st.fsw >> 11) & 7;
  st.ftw &= ~(1 << top);
  st.fpregs.copyWithin(0, 16, 128);
  st.fpregs.fill(0, 112, 128);
  st.fsw = (st.fsw & ~0x3800) | (((top + 1) & 7) << 11);
}

import type { Cpu } from '../cpu.js';
import { Fault } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { CR0, EXC } from '../defs/arch.js';

export function execX87(c: Cpu, i: Insn): boolean {
  const st = c.st;
  if (st.cr0 & (CR0.EM | CR0.TS)) throw new Fault(st.cr0 & CR0.EM ? EXC.NM : EXC.NM);
  const esc = i.sub; // 0..7 for D8..DF
  if (i.mod === 3) {
    const modrm = 0xc0 | ((i.reg & 7) << 3) | (i.rm & 7);
    if (esc === 3 && modrm === 0xe3) { st.fcw = 0x37f; st.fsw = 0; st.ftw = 0; return true; } // FNINIT
    const k = CONSTANTS[modrm];
    if (esc === 1 && k) {
      const b = new Uint8Array(10);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, k[2], true); dv.setUint32(4, k[1], true); dv.setUint16(8, k[0], true);
      push(c, b);
      return true;
    }
    if (esc === 3 && modrm === 0xe2) { st.fsw &= 0x7f00; return true; } // FNCLEX
    if (esc === 7 && modrm === 0xe0) { st.lo[0] = (st.lo[0] & ~0xffff) | st.fsw; return true; } // FNSTSW AX
    return false;
  }
  const r = i.reg & 7;
  if (esc === 1 && r === 5) { c.ea(i); st.fcw = c.readMem(2); return true; } // FLDCW
  if (esc === 1 && r === 7) { c.ea(i); c.writeMem(2, st.fcw, 0); return true; } // FNSTCW
  if (esc === 5 && r === 7) { c.ea(i); c.writeMem(2, st.fsw, 0); return true; } // FNSTSW m16
  if (esc === 3 && r === 7) { // FSTP m80
    c.ea(i);
    const lo = c.eaLo, hi = c.eaHi;
    c.mmu.probe(lo, hi, 10, 1);
    for (let k = 0; k < 10; k++) { c.eaLo = (lo + k) | 0; c.eaHi = hi; c.writeMem(1, st.fpregs[k], 0); }
    pop(c);
    return true;
  }
  if (esc === 3 && r === 5) { // FLD m80
    c.ea(i);
    const lo = c.eaLo, hi = c.eaHi;
    const b = new Uint8Array(10);
    for (let k = 0; k < 10; k++) { c.eaLo = (lo + k) | 0; c.eaHi = hi; b[k] = c.readMem(1); }
    push(c, b);
    return true;
  }
  return false;
}
