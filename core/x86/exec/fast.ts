// Specialised handlers of the hottest instruction forms (Insn.fast, see fastForm in decode/insn.ts):
// register and flat-memory forms of MOV, the ALU ops, TEST, CMP with an immediate, LEA and MOVZX.
// Each one has exactly the effects of the generic handler it stands in for (registers, memory, the
// lazy-flag record field by field, faults before any change), only without the decoding of the form
// at run time. They are small on purpose: V8 inlines a function only below a bytecode size, and the
// dispatch inlines the hottest of them into the run loop.

import type { Cpu } from '../cpu.js';
import { FORM, type Insn } from '../decode/insn.js';
import { ALU } from '../decode/ops.js';
import type { CpuState } from '../state.js';
import { LF as LF_DEF } from '../state.js';

// V8 folds a module-level constant, not an import (see cpu.ts).
const LF = LF_DEF;

/** Destination register of a register-form two-operand instruction. */
const dst = (i: Insn): number => (i.form === FORM.GE ? i.reg : i.rm);
/** Source of a register-form two-operand instruction: the immediate or the other register. */
const srcLo = (st: CpuState, i: Insn): number => (i.form === FORM.EI ? i.imm : st.lo[i.form === FORM.GE ? i.rm : i.reg]);
const srcHi = (st: CpuState, i: Insn): number => (i.form === FORM.EI ? i.immHi : st.hi[i.form === FORM.GE ? i.rm : i.reg]);

// ---- MOV ----------------------------------------------------------------------------------------

export function movRR(c: Cpu, i: Insn): void {
  const st = c.st;
  const dst = i.form === FORM.GE ? i.reg : i.rm, src = i.form === FORM.GE ? i.rm : i.reg;
  st.lo[dst] = st.lo[src]; st.hi[dst] = i.osz === 8 ? st.hi[src] : 0;
}

export function movRI(c: Cpu, i: Insn): void {
  const st = c.st;
  st.lo[i.rm] = i.imm; st.hi[i.rm] = i.osz === 8 ? i.immHi : 0;
}

export function mov32Load(c: Cpu, i: Insn): void {
  const st = c.st;
  c.ea64(i);
  st.lo[i.reg] = c.mmu.read32(c.eaLo, c.eaHi); st.hi[i.reg] = 0;
}

export function mov64Load(c: Cpu, i: Insn): void {
  const st = c.st;
  c.ea64(i);
  const mmu = c.mmu;
  st.lo[i.reg] = mmu.read64(c.eaLo, c.eaHi); st.hi[i.reg] = mmu.hi;
}

export function mov32Store(c: Cpu, i: Insn): void {
  c.ea64(i);
  c.mmu.write32(c.eaLo, c.eaHi, c.st.lo[i.reg]);
}

export function mov64Store(c: Cpu, i: Insn): void {
  c.ea64(i);
  c.mmu.write64(c.eaLo, c.eaHi, c.st.lo[i.reg], c.st.hi[i.reg]);
}

// ---- ALU ops on registers (what alu32Reg / alu64Reg record) --------------------------------------

export function add32(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i);
  const a = st.lo[d], b = srcLo(st, i) | 0, r = (a + b) | 0;
  st.lf = LF.ADD; st.lfSize = 4; st.lfResLo = r; st.lfResHi = 0; st.lfALo = a; st.lfAHi = 0; st.lfBLo = b; st.lfBHi = 0;
  st.lo[d] = r; st.hi[d] = 0;
}

export function sub32(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i);
  const a = st.lo[d], b = srcLo(st, i) | 0, r = (a - b) | 0;
  st.lf = LF.SUB; st.lfSize = 4; st.lfResLo = r; st.lfResHi = 0; st.lfALo = a; st.lfAHi = 0; st.lfBLo = b; st.lfBHi = 0;
  st.lo[d] = r; st.hi[d] = 0;
}

export function cmp32(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i);
  const a = st.lo[d], b = srcLo(st, i) | 0, r = (a - b) | 0;
  st.lf = LF.SUB; st.lfSize = 4; st.lfResLo = r; st.lfResHi = 0; st.lfALo = a; st.lfAHi = 0; st.lfBLo = b; st.lfBHi = 0;
}

/** AND / OR / XOR: the record keeps the operands too, as alu32Reg does. */
function logic32(st: CpuState, d: number, r: number, a: number, b: number): void {
  st.lf = LF.LOGIC; st.lfSize = 4; st.lfResLo = r; st.lfResHi = 0; st.lfALo = a; st.lfAHi = 0; st.lfBLo = b; st.lfBHi = 0;
  st.lo[d] = r; st.hi[d] = 0;
}

export function and32(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i), a = st.lo[d], b = srcLo(st, i) | 0;
  logic32(st, d, a & b, a, b);
}

export function or32(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i), a = st.lo[d], b = srcLo(st, i) | 0;
  logic32(st, d, a | b, a, b);
}

export function xor32(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i), a = st.lo[d], b = srcLo(st, i) | 0;
  logic32(st, d, a ^ b, a, b);
}

export function add64(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i);
  const a = st.lo[d], ah = st.hi[d], b = srcLo(st, i) | 0, bh = srcHi(st, i) | 0;
  const r = (a + b) | 0, rh = (ah + bh + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
  st.lf = LF.ADD; st.lfSize = 8; st.lfResLo = r; st.lfResHi = rh; st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
  st.lo[d] = r; st.hi[d] = rh;
}

export function sub64(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i);
  const a = st.lo[d], ah = st.hi[d], b = srcLo(st, i) | 0, bh = srcHi(st, i) | 0;
  const r = (a - b) | 0, rh = (ah - bh - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
  st.lf = LF.SUB; st.lfSize = 8; st.lfResLo = r; st.lfResHi = rh; st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
  st.lo[d] = r; st.hi[d] = rh;
}

export function cmp64(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i);
  const a = st.lo[d], ah = st.hi[d], b = srcLo(st, i) | 0, bh = srcHi(st, i) | 0;
  const r = (a - b) | 0, rh = (ah - bh - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
  st.lf = LF.SUB; st.lfSize = 8; st.lfResLo = r; st.lfResHi = rh; st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
}

/** AND / OR / XOR on the operands read by the caller; the record keeps them, as alu64Reg does. */
function logic64(st: CpuState, d: number, r: number, rh: number, a: number, ah: number, b: number, bh: number): void {
  st.lf = LF.LOGIC; st.lfSize = 8; st.lfResLo = r; st.lfResHi = rh; st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
  st.lo[d] = r; st.hi[d] = rh;
}

export function and64(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i), a = st.lo[d], ah = st.hi[d], b = srcLo(st, i) | 0, bh = srcHi(st, i) | 0;
  logic64(st, d, a & b, ah & bh, a, ah, b, bh);
}

export function or64(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i), a = st.lo[d], ah = st.hi[d], b = srcLo(st, i) | 0, bh = srcHi(st, i) | 0;
  logic64(st, d, a | b, ah | bh, a, ah, b, bh);
}

export function xor64(c: Cpu, i: Insn): void {
  const st = c.st, d = dst(i), a = st.lo[d], ah = st.hi[d], b = srcLo(st, i) | 0, bh = srcHi(st, i) | 0;
  logic64(st, d, a ^ b, ah ^ bh, a, ah, b, bh);
}

// ---- TEST and CMP with an immediate (what execTest / execAlu record) -------------------------------

/** TEST r32, r32 / imm (the r/m is a register). */
export function test32(c: Cpu, i: Insn): void {
  const st = c.st;
  st.lf = LF.LOGIC; st.lfSize = 4; st.lfResLo = st.lo[i.rm] & srcLo(st, i); st.lfResHi = 0;
  st.lfALo = 0; st.lfAHi = 0; st.lfBLo = 0; st.lfBHi = 0;
}

export function test64(c: Cpu, i: Insn): void {
  const st = c.st;
  st.lf = LF.LOGIC; st.lfSize = 8; st.lfResLo = st.lo[i.rm] & srcLo(st, i); st.lfResHi = st.hi[i.rm] & srcHi(st, i);
  st.lfALo = 0; st.lfAHi = 0; st.lfBLo = 0; st.lfBHi = 0;
}

/** CMP m8/m32/m64, imm with a flat address. */
export function cmpMI(c: Cpu, i: Insn): void {
  const st = c.st, mmu = c.mmu, size = i.osz;
  c.ea64(i);
  let a: number, ah = 0, b = i.imm | 0, bh = 0, r: number, rh = 0;
  if (size === 1) { a = mmu.read8(c.eaLo, c.eaHi); b &= 0xff; r = (a - b) & 0xff; }
  else if (size === 4) { a = mmu.read32(c.eaLo, c.eaHi); r = (a - b) | 0; }
  else {
    // The record keeps the immediate's high half unsigned, as readSrc gives it to the generic path.
    a = mmu.read64(c.eaLo, c.eaHi); ah = mmu.hi; bh = i.immHi >>> 0;
    r = (a - b) | 0; rh = (ah - bh - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
  }
  st.lfCarry = 0;
  st.lf = LF.SUB; st.lfSize = size; st.lfResLo = r; st.lfResHi = rh; st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
}

/**
 * ADD / OR / AND / SUB / XOR / CMP r32/r64, m with a flat address: what execAlu records through
 * aluOp (CF-in 0 for the arithmetic kinds, a zero operand record for the logic ones).
 */
export function aluRM(c: Cpu, i: Insn): void {
  const st = c.st, mmu = c.mmu, d = i.reg, op = i.sub, wide = i.osz === 8;
  c.ea64(i);
  let b: number, bh = 0;
  if (wide) { b = mmu.read64(c.eaLo, c.eaHi); bh = mmu.hi; } else b = mmu.read32(c.eaLo, c.eaHi);
  const a = st.lo[d], ah = wide ? st.hi[d] : 0;
  let r: number, rh = 0;
  if (op === ALU.ADD || op === ALU.SUB || op === ALU.CMP) {
    const add = op === ALU.ADD;
    r = add ? (a + b) | 0 : (a - b) | 0;
    if (wide) rh = add ? (ah + bh + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0 : (ah - bh - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
    st.lfCarry = 0;
    st.lf = add ? LF.ADD : LF.SUB; st.lfSize = i.osz; st.lfResLo = r; st.lfResHi = rh;
    st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
    if (op === ALU.CMP) return;
  } else {
    r = op === ALU.AND ? a & b : op === ALU.OR ? a | b : a ^ b;
    rh = op === ALU.AND ? ah & bh : op === ALU.OR ? ah | bh : ah ^ bh;
    st.lf = LF.LOGIC; st.lfSize = i.osz; st.lfResLo = r; st.lfResHi = rh;
    st.lfALo = 0; st.lfAHi = 0; st.lfBLo = 0; st.lfBHi = 0;
  }
  st.lo[d] = r; st.hi[d] = rh;
}

// ---- LEA and MOVZX -------------------------------------------------------------------------------

/** LEA r64, m with 64-bit addressing (no segmentation: LEA ignores it anyway). */
export function lea64(c: Cpu, i: Insn): void {
  c.addr64(i);
  c.st.lo[i.reg] = c.eaLo; c.st.hi[i.reg] = c.eaHi;
}

/** LEA r32, m with 64-bit addressing: the address truncated to 32 bits. */
export function lea32(c: Cpu, i: Insn): void {
  c.addr64(i);
  c.st.lo[i.reg] = c.eaLo; c.st.hi[i.reg] = 0;
}

/** MOVZX r32/r64, r8/r16 (sub is the source size; 16..19 name AH..BH). */
export function movzxR(c: Cpu, i: Insn): void {
  const st = c.st, rm = i.rm;
  st.lo[i.reg] = i.sub === 2 ? st.lo[rm] & 0xffff : rm < 16 ? st.lo[rm] & 0xff : (st.lo[rm - 16] >> 8) & 0xff;
  st.hi[i.reg] = 0;
}

/** MOVZX r32/r64, m8/m16 with a flat address. */
export function movzxM(c: Cpu, i: Insn): void {
  const st = c.st;
  c.ea64(i);
  st.lo[i.reg] = i.sub === 2 ? c.mmu.read16(c.eaLo, c.eaHi) : c.mmu.read8(c.eaLo, c.eaHi);
  st.hi[i.reg] = 0;
}
