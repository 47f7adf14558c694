// Integer arithmetic and logic: the eight ALU ops, INC/DEC/NEG/NOT, TEST, shifts and rotates,
// multiply and divide, bit tests and scans, SHLD/SHRD, XADD/CMPXCHG. 64-bit values are lo/hi halves.

import type { Cpu } from '../cpu.js';
import { Fault, sizeMask, ucmp } from '../cpu.js';
import type { Insn } from '../decode/insn.js';
import { FORM } from '../decode/insn.js';
import { ALU } from '../decode/ops.js';
import { EXC, FLAG as FLAG_DEF } from '../defs/arch.js';
import { LF as LF_DEF } from '../state.js';
import { PARITY as PARITY_DEF } from '../../util/bits.js';

// Module-level aliases of imports: V8 folds these (see cpu.ts), not the imports themselves.
const FLAG = FLAG_DEF, LF = LF_DEF, PARITY = PARITY_DEF;

const B64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Source operand of a two-operand instruction (FORM.EG / GE / EI); sets c.vhi for 8-byte sizes. */
export function readSrc(c: Cpu, i: Insn, size: number): number {
  switch (i.form) {
    case FORM.EG: return c.getReg(size, i.reg);
    case FORM.GE: return c.readE(i, size);
    // The high half unsigned, as the lazy-flag record has always kept it (it is part of the state hash).
    default: c.vhi = i.immHi >>> 0; return size === 1 ? i.imm & 0xff : size === 2 ? i.imm & 0xffff : i.imm | 0;
  }
}

/** Apply ALU operation `op` to a and b; returns lo, high half in c.vhi; records lazy flags. */
export function aluOp(c: Cpu, op: number, size: number, a: number, ahi: number, b: number, bhi: number): number {
  const st = c.st;
  let lo: number, hi = 0;
  switch (op) {
    case ALU.ADD: case ALU.ADC: {
      const cin = op === ALU.ADC && c.cf() ? 1 : 0;
      if (size === 8) {
        const s = (a >>> 0) + (b >>> 0) + cin;
        lo = s | 0; hi = (ahi + bhi + (s > 0xffffffff ? 1 : 0)) | 0;
      } else lo = (a + b + cin) & sizeMask(size);
      st.lfCarry = cin;
      c.setLazy(op === ALU.ADD ? LF.ADD : LF.ADC, size, lo, hi, a, ahi, b, bhi);
      break;
    }
    case ALU.SUB: case ALU.SBB: case ALU.CMP: {
      const cin = op === ALU.SBB && c.cf() ? 1 : 0;
      if (size === 8) {
        const s = (a >>> 0) - (b >>> 0) - cin;
        lo = s | 0; hi = (ahi - bhi - (s < 0 ? 1 : 0)) | 0;
      } else lo = (a - b - cin) & sizeMask(size);
      st.lfCarry = cin;
      c.setLazy(op === ALU.SBB ? LF.SBB : LF.SUB, size, lo, hi, a, ahi, b, bhi);
      break;
    }
    case ALU.AND: lo = a & b; hi = ahi & bhi; c.setLazy(LF.LOGIC, size, lo, hi, 0, 0, 0, 0); break;
    case ALU.OR: lo = a | b; hi = ahi | bhi; c.setLazy(LF.LOGIC, size, lo, hi, 0, 0, 0, 0); break;
    default: lo = a ^ b; hi = ahi ^ bhi; c.setLazy(LF.LOGIC, size, lo, hi, 0, 0, 0, 0); break;
  }
  if (size !== 8) hi = 0;
  c.vhi = hi;
  return lo;
}

export function execAlu(c: Cpu, i: Insn): void {
  const size = i.osz;
  const op = i.sub;
  if (i.mod === 3) {
    if (size === 4) { alu32Reg(c, i, op); return; }
    if (size === 8) { alu64Reg(c, i, op); return; }
  }
  let a: number, ahi: number;
  const b = readSrc(c, i, size);
  const bhi = size === 8 ? c.vhi : 0;
  if (i.form === FORM.GE) { a = c.getReg(size, i.reg); ahi = size === 8 ? c.vhi : 0; }
  else { a = op === ALU.CMP ? c.readE(i, size) : c.readRmw(i, size); ahi = size === 8 ? c.vhi : 0; }
  const r = aluOp(c, op, size, a, ahi, b, bhi);
  if (op === ALU.CMP) return;
  const rhi = c.vhi;
  if (i.form === FORM.GE) c.setReg(size, i.reg, r, rhi);
  else c.writeE(i, size, r, rhi);
}

export function execTest(c: Cpu, i: Insn): void {
  const size = i.osz;
  const b = readSrc(c, i, size);
  const bhi = c.vhi;
  const a = c.readE(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  c.setLazy(LF.LOGIC, size, a & b, size === 8 ? ahi & bhi : 0, 0, 0, 0, 0);
}

export function execIncDec(c: Cpu, i: Insn, dec: boolean): void {
  const size = i.osz;
  const a = c.readRmw(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  const carry = c.cf() ? 1 : 0;
  let lo: number, hi = 0;
  if (size === 8) {
    const s = (a >>> 0) + (dec ? -1 : 1);
    lo = s | 0; hi = (ahi + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
  } else lo = (a + (dec ? -1 : 1)) & sizeMask(size);
  c.writeE(i, size, lo, hi);
  c.setLazy(dec ? LF.DEC : LF.INC, size, lo, hi, a, ahi, 1, 0);
  c.st.lfCarry = carry;
}

export function execNotNeg(c: Cpu, i: Insn, neg: boolean): void {
  const size = i.osz;
  const a = c.readRmw(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  if (!neg) {
    c.writeE(i, size, ~a & sizeMask(size), ~ahi);
    return;
  }
  const r = aluOp(c, ALU.SUB, size, 0, 0, a, ahi);
  c.writeE(i, size, r, c.vhi);
}

/** Shift/rotate count source: 1, CL or imm8; masked to 5 bits (6 for 64-bit). */
function shiftCount(c: Cpu, i: Insn, size: number): number {
  const raw = i.form === FORM.E1 ? 1 : i.form === FORM.ECL ? c.st.lo[1] & 0xff : i.imm & 0xff;
  return raw & (size === 8 ? 63 : 31);
}

/**
 * Set every arithmetic flag eagerly (shifts and multiplies): CF and OF as given, ZF/SF/PF from the
 * result, AF cleared (undefined there; real CPUs clear it). Nothing of the lazy record survives, so it
 * is dropped without being evaluated.
 */
function setFlagBits(c: Cpu, cf: boolean, of: boolean, size: number, resLo: number, resHi: number): void {
  const st = c.st;
  const m = sizeMask(size);
  const zero = size === 8 ? (resLo | resHi) === 0 : (resLo & m) === 0;
  const sign = size === 8 ? resHi < 0 : size === 4 ? resLo < 0 : ((resLo >> (size * 8 - 1)) & 1) === 1;
  st.flags = (st.flags & ~(FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF)) | (cf ? FLAG.CF : 0) |
    (of ? FLAG.OF : 0) | (zero ? FLAG.ZF : 0) | (sign ? FLAG.SF : 0) | (PARITY[resLo & 0xff] ? FLAG.PF : 0);
  st.lf = LF.EAGER;
}

export function execShift(c: Cpu, i: Insn): void {
  const size = i.osz;
  const count = shiftCount(c, i, size);
  const a = c.readRmw(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  const bits = size * 8;
  const kind = i.sub;
  // A zero count changes nothing, except that a 32-bit register destination is still written
  // (zero-extended to 64 bits), as on hardware.
  if (count === 0) { if (size === 4 && i.mod === 3) c.st.hi[i.rm] = 0; return; }
  if (kind <= 1 && size <= 4) {
    // ROL/ROR on 8/16/32 bits without BigInt: flags other than CF/OF are untouched.
    if (count === 0) return;
    const m = sizeMask(size) >>> 0;
    const ua = (a & m) >>> 0;
    const k = count % bits;
    const r = k === 0 ? ua : (kind === 0 ? ((ua << k) | (ua >>> (bits - k))) : ((ua >>> k) | (ua << (bits - k)))) & m;
    const cf = kind === 0 ? (r & 1) === 1 : ((r >>> (bits - 1)) & 1) === 1;
    const msb = ((r >>> (bits - 1)) & 1) === 1;
    const of = kind === 0 ? msb !== cf : msb !== (((r >>> (bits - 2)) & 1) === 1);
    c.writeE(i, size, r | 0, 0);
    c.materialize();
    c.st.flags = (c.st.flags & ~(FLAG.CF | FLAG.OF)) | (cf ? FLAG.CF : 0) | (of ? FLAG.OF : 0);
    return;
  }
  if (kind <= 3) {
    // Rotates: flags other than CF/OF are untouched.
    const v = B64(a, ahi) & ((1n << BigInt(bits)) - 1n);
    let r: bigint, cf: boolean;
    const n = BigInt(bits);
    const maskN = (1n << n) - 1n;
    if (kind === 0 || kind === 1) {
      if (count === 0) return;
      const k = BigInt(count % bits);
      r = kind === 0 ? ((v << k) | (v >> ((n - k) % n))) & maskN : ((v >> k) | (v << ((n - k) % n))) & maskN;
      cf = kind === 0 ? (r & 1n) === 1n : ((r >> (n - 1n)) & 1n) === 1n;
    } else {
      const cnt = size === 1 ? count % 9 : size === 2 ? count % 17 : count;
      if (cnt === 0) { if (count === 0) return; }
      const cin = c.cf() ? 1n : 0n;
      const k = BigInt(cnt);
      const wide = (cin << n) | v; // n+1 bit value, carry on top
      const m1 = (1n << (n + 1n)) - 1n;
      const rot = kind === 2 ? ((wide << k) | (wide >> ((n + 1n - k) % (n + 1n)))) & m1
        : ((wide >> k) | (wide << ((n + 1n - k) % (n + 1n)))) & m1;
      r = rot & maskN;
      cf = (rot >> n) === 1n;
    }
    const msb = ((r >> (n - 1n)) & 1n) === 1n;
    let of: boolean;
    if (kind === 0 || kind === 2) of = msb !== cf;
    else of = msb !== (((r >> (n - 2n)) & 1n) === 1n);
    const lo = Number(r & 0xffffffffn) | 0, hi = Number(r >> 32n) | 0;
    c.writeE(i, size, lo, hi);
    c.materialize();
    let f = c.st.flags & ~(FLAG.CF | FLAG.OF);
    if (cf) f |= FLAG.CF;
    if (of) f |= FLAG.OF;
    c.st.flags = f;
    return;
  }
  if (count === 0) return;
  let lo: number, hi: number, cf: boolean, of: boolean;
  if (size === 8) {
    // 64-bit SHL/SHR/SAR on halves; count is 1..63.
    const n = count;
    if (kind === 4) {
      // CF is the last bit shifted out: bit (64 - n) of the source.
      if (n < 32) { lo = a << n; hi = (ahi << n) | (a >>> (32 - n)); cf = ((ahi >>> (32 - n)) & 1) === 1; }
      else { lo = 0; hi = a << (n - 32); cf = n === 32 ? (ahi & 1) === 1 : ((a >>> (64 - n)) & 1) === 1; }
      of = (hi >>> 31 === 1) !== cf;
    } else if (kind === 5) {
      if (n < 32) { lo = (a >>> n) | (ahi << (32 - n)); hi = ahi >>> n; cf = ((a >>> (n - 1)) & 1) === 1; }
      else { lo = ahi >>> (n - 32); hi = 0; cf = ((n === 32 ? ahi >>> 31 : ahi >>> (n - 33)) & 1) === 1; if (n === 32) cf = (a >>> 31) === 1; }
      lo |= 0;
      of = (ahi >>> 31) === 1;
    } else {
      if (n < 32) { lo = (a >>> n) | (ahi << (32 - n)); hi = ahi >> n; cf = ((a >>> (n - 1)) & 1) === 1; }
      else { lo = ahi >> (n - 32); hi = ahi >> 31; cf = n === 32 ? (a >>> 31) === 1 : ((ahi >> (n - 33)) & 1) === 1; }
      lo |= 0;
      of = false;
    }
  } else {
    const m = sizeMask(size);
    const ua = (a & m) >>> 0;
    hi = 0;
    if (kind === 4) {
      lo = count >= 32 ? 0 : (ua << count) & m;
      cf = count <= bits ? ((ua >>> (bits - count)) & 1) === 1 : false;
      if (count > bits) cf = false;
      of = ((lo >>> (bits - 1)) & 1) === 1 !== cf;
    } else if (kind === 5) {
      lo = count >= 32 ? 0 : (ua >>> count) & m;
      cf = count <= bits ? ((ua >>> (count - 1)) & 1) === 1 : false;
      of = ((ua >>> (bits - 1)) & 1) === 1;
    } else {
      const sa = (ua << (32 - bits)) >> (32 - bits);
      lo = (sa >> Math.min(count, 31)) & m;
      cf = ((sa >> Math.min(count - 1, 31)) & 1) === 1;
      of = false;
    }
  }
  c.writeE(i, size, lo, hi);
  // AF is undefined after shifts; real CPUs clear it for non-zero counts (setFlagBits does).
  setFlagBits(c, cf, of, size, lo, hi);
}

export function execShiftDouble(c: Cpu, i: Insn, right: boolean): void {
  const size = i.osz;
  const raw = i.form === FORM.ECL ? c.st.lo[1] & 0xff : i.imm & 0xff;
  const count = raw & (size === 8 ? 63 : 31);
  const a = c.readRmw(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  if (count === 0) { if (size === 4 && i.mod === 3) c.st.hi[i.rm] = 0; return; } // still zero-extends
  const b = c.getReg(size, i.reg);
  const bhi = size === 8 ? c.vhi : 0;
  const n = BigInt(size * 8);
  const mask = (1n << n) - 1n;
  const dst = B64(a, ahi) & mask, src = B64(b, bhi) & mask;
  const k = BigInt(count);
  let r: bigint, cf: boolean;
  if (size === 2 && count > 16) {
    // Undefined result for 16-bit counts > 16; mimic Intel: shift through a 48-bit value.
    const wide = right ? (dst | (src << 16n) | (dst << 32n)) : ((dst << 32n) | (src << 16n) | dst);
    r = right ? (wide >> k) & mask : (wide << k >> 32n) & mask;
    cf = right ? ((wide >> (k - 1n)) & 1n) === 1n : (((wide << (k - 1n)) >> 47n) & 1n) === 1n;
  } else if (right) {
    r = ((dst >> k) | (src << (n - k))) & mask;
    cf = ((dst >> (k - 1n)) & 1n) === 1n;
  } else {
    r = ((dst << k) | (src >> (n - k))) & mask;
    cf = ((dst >> (n - k)) & 1n) === 1n;
  }
  const lo = Number(r & 0xffffffffn) | 0, hi = Number(r >> 32n) | 0;
  c.writeE(i, size, lo, hi);
  const of = ((r >> (n - 1n)) & 1n) !== ((dst >> (n - 1n)) & 1n);
  setFlagBits(c, cf, of, size, lo, hi);
}

/** MUL / IMUL (one operand): RDX:RAX = RAX * r/m. */
export function execMulWide(c: Cpu, i: Insn, signed: boolean): void {
  const size = i.osz;
  const b = c.readE(i, size);
  const bhi = size === 8 ? c.vhi : 0;
  const st = c.st;
  const bits = BigInt(size * 8);
  const mask = (1n << bits) - 1n;
  let x = B64(st.lo[0], st.hi[0]) & mask, y = B64(b, bhi) & mask;
  if (signed) { x = BigInt.asIntN(size * 8, x); y = BigInt.asIntN(size * 8, y); }
  const p = x * y;
  const up = BigInt.asUintN(size * 16, p);
  const low = up & mask, high = up >> bits;
  let overflow: boolean;
  if (signed) overflow = BigInt.asIntN(size * 8, low) !== p;
  else overflow = high !== 0n;
  const lo32 = (v: bigint) => Number(v & 0xffffffffn) | 0;
  if (size === 1) c.setReg(2, 0, Number(up), 0);
  else if (size === 2) { c.setReg(2, 0, Number(low), 0); c.setReg(2, 2, Number(high), 0); }
  else {
    c.setReg(size, 0, lo32(low), lo32(low >> 32n));
    c.setReg(size, 2, lo32(high), lo32(high >> 32n));
  }
  mulFlags(c, overflow, size, lo32(low), lo32(low >> 32n));
}

function mulFlags(c: Cpu, overflow: boolean, size: number, lo: number, hi: number): void {
  // CF = OF = overflow; SF, ZF, PF as Intel computes them from the low result; AF cleared.
  setFlagBits(c, overflow, overflow, size, lo, hi);
}

/** IMUL Gv, Ev (two operand) and IMUL Gv, Ev, imm (three operand). */
export function execImul(c: Cpu, i: Insn, three: boolean): void {
  const size = i.osz;
  const a = c.readE(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  let b: number, bhi: number;
  if (three) { b = i.imm; bhi = i.immHi; }
  else { b = c.getReg(size, i.reg); bhi = size === 8 ? c.vhi : 0; }
  let lo: number, hi = 0, overflow: boolean;
  if (size === 4) {
    // The double product is exact below 2^53 and can only exceed that when it overflows anyway.
    const p = (a | 0) * (b | 0);
    lo = Math.imul(a, b);
    overflow = p !== lo;
  } else if (size === 8 && (ahi === (a >> 31)) && (bhi === (b >> 31))) {
    // Both operands are sign-extended 32-bit values: the product fits in 63 bits, no overflow.
    lo = mul32x32(c, a | 0, b | 0, true); hi = c.vhi; overflow = false;
  } else if (size === 2) {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    lo = p & 0xffff;
    overflow = ((lo << 16) >> 16) !== p;
  } else {
    // 64 × 64: multiply the magnitudes in 16-bit limbs (every partial sum stays exact in a double),
    // then restore the sign. The signed product overflows when it does not fit in 64 bits.
    const neg = (ahi ^ bhi) < 0;
    let xl = a | 0, xh = ahi | 0, yl = b | 0, yh = bhi | 0;
    if (xh < 0) { xh = (~xh + (xl === 0 ? 1 : 0)) | 0; xl = -xl | 0; }
    if (yh < 0) { yh = (~yh + (yl === 0 ? 1 : 0)) | 0; yl = -yl | 0; }
    const x0 = xl & 0xffff, x1 = xl >>> 16, x2 = xh & 0xffff, x3 = xh >>> 16;
    const y0 = yl & 0xffff, y1 = yl >>> 16, y2 = yh & 0xffff, y3 = yh >>> 16;
    let t = x0 * y0;
    const r0 = t % 65536;
    t = (t - r0) / 65536 + x0 * y1 + x1 * y0;
    const r1 = t % 65536;
    t = (t - r1) / 65536 + x0 * y2 + x1 * y1 + x2 * y0;
    const r2 = t % 65536;
    t = (t - r2) / 65536 + x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0;
    const r3 = t % 65536;
    // The high 64 bits of the magnitude only matter as zero / non-zero.
    t = (t - r3) / 65536 + x1 * y3 + x2 * y2 + x3 * y1 + x2 * y3 + x3 * y2 + x3 * y3;
    const highZero = t === 0;
    lo = r0 | (r1 << 16); hi = r2 | (r3 << 16);
    // Magnitude limits: 2^63 - 1 for a positive product, 2^63 for a negative one.
    overflow = !highZero || (neg ? (hi >>> 0) > 0x80000000 || (hi === (0x80000000 | 0) && lo !== 0) : hi < 0);
    if (neg) { hi = (~hi + (lo === 0 ? 1 : 0)) | 0; lo = -lo | 0; }
  }
  c.setReg(size, i.reg, lo, hi);
  mulFlags(c, overflow, size, lo, hi);
}

/** DIV / IDIV: RDX:RAX / r/m → quotient RAX, remainder RDX; #DE on zero or overflow. */
export function execDiv(c: Cpu, i: Insn, signed: boolean): void {
  const size = i.osz;
  const b = c.readE(i, size);
  const bhi = size === 8 ? c.vhi : 0;
  const st = c.st;
  const bits = size * 8;
  const B = BigInt(bits);
  let divisor = B64(b, bhi) & ((1n << B) - 1n);
  if (divisor === 0n) throw new Fault(EXC.DE);
  let dividend: bigint;
  if (size === 1) dividend = BigInt(st.lo[0] & 0xffff);
  else if (size === 2) dividend = (BigInt(st.lo[2] & 0xffff) << 16n) | BigInt(st.lo[0] & 0xffff);
  else if (size === 4) dividend = (BigInt(st.lo[2] >>> 0) << 32n) | BigInt(st.lo[0] >>> 0);
  else dividend = (B64(st.lo[2], st.hi[2]) << 64n) | B64(st.lo[0], st.hi[0]);
  if (signed) { dividend = BigInt.asIntN(bits * 2, dividend); divisor = BigInt.asIntN(bits, divisor); }
  const q = dividend / divisor; // BigInt division truncates toward zero, as IDIV does
  const r = dividend % divisor;
  if (signed ? BigInt.asIntN(bits, q) !== q : q >> B !== 0n) throw new Fault(EXC.DE);
  const uq = BigInt.asUintN(bits, q), ur = BigInt.asUintN(bits, r);
  const lo32 = (v: bigint) => Number(v & 0xffffffffn) | 0;
  if (size === 1) c.setReg(2, 0, Number(uq) | (Number(ur) << 8), 0);
  else {
    c.setReg(size, 0, lo32(uq), lo32(uq >> 32n));
    c.setReg(size, 2, lo32(ur), lo32(ur >> 32n));
  }
}

/** BT/BTS/BTR/BTC with a register or immediate bit offset. */
export function execBt(c: Cpu, i: Insn): void {
  const size = i.osz;
  const bits = size * 8;
  const st = c.st;
  let offLo: number, offHi = 0;
  if (i.form === FORM.EI) offLo = i.imm & (bits - 1);
  else { offLo = c.getReg(size, i.reg); offHi = size === 8 ? c.vhi : 0; }
  let bit: number;
  if (i.mod === 3) {
    bit = offLo & (bits - 1);
  } else {
    c.ea(i);
    if (i.form !== FORM.EI) {
      // A register bit offset is signed and may address memory outside the operand.
      let off = size === 2 ? BigInt((offLo << 16) >> 16) : size === 4 ? BigInt(offLo | 0) : BigInt.asIntN(64, B64(offLo, offHi));
      const byteOff = (off >> BigInt(Math.log2(bits))) * BigInt(size);
      off = off & BigInt(bits - 1);
      const ea = BigInt.asUintN(64, B64(c.eaLo, c.eaHi) + byteOff);
      c.eaLo = Number(ea & 0xffffffffn) | 0; c.eaHi = Number(ea >> 32n) | 0;
      if (!c.long) c.eaHi = 0;
      bit = Number(off);
    } else bit = offLo;
  }
  let v = i.mod === 3 ? c.getReg(size, i.rm) : c.readMem(size);
  let vhi = size === 8 ? c.vhi : 0;
  const inHi = bit >= 32;
  const mask = 1 << (bit & 31);
  const old = ((inHi ? vhi : v) & mask) !== 0;
  if (i.sub !== 0) {
    const apply = (x: number) => (i.sub === 1 ? x | mask : i.sub === 2 ? x & ~mask : x ^ mask);
    if (inHi) vhi = apply(vhi); else v = apply(v);
    if (i.mod === 3) c.setReg(size, i.rm, v, vhi); else c.writeMem(size, v, vhi);
  }
  c.materialize();
  st.flags = old ? st.flags | FLAG.CF : st.flags & ~FLAG.CF;
}

/** BSF/BSR (and TZCNT/LZCNT decoded as them): ZF=1 and destination unchanged when the source is 0. */
export function execBitScan(c: Cpu, i: Insn, reverse: boolean): void {
  const size = i.osz;
  const v = c.readE(i, size);
  const vhi = size === 8 ? c.vhi : 0;
  c.materialize();
  const st = c.st;
  const m = sizeMask(size);
  const lo = v & m;
  if ((lo | vhi) === 0) { st.flags |= FLAG.ZF; return; }
  let idx: number;
  if (reverse) idx = vhi !== 0 ? 63 - Math.clz32(vhi) : 31 - Math.clz32(lo);
  else idx = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 63 - Math.clz32(vhi & -vhi);
  st.flags &= ~FLAG.ZF;
  c.setReg(size, i.reg, idx, 0);
}

export function execPopcnt(c: Cpu, i: Insn): void {
  const size = i.osz;
  const v = c.readE(i, size);
  const vhi = size === 8 ? c.vhi : 0;
  const pc = (x: number) => { x = x - ((x >>> 1) & 0x55555555); x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24; };
  const n = pc(v & sizeMask(size)) + pc(vhi);
  c.setReg(size, i.reg, n, 0);
  c.materialize();
  c.st.flags = (c.st.flags & ~(FLAG.CF | FLAG.PF | FLAG.AF | FLAG.ZF | FLAG.SF | FLAG.OF)) | (n === 0 ? FLAG.ZF : 0);
}

export function execXadd(c: Cpu, i: Insn): void {
  const size = i.osz;
  const a = c.readRmw(i, size);
  const ahi = size === 8 ? c.vhi : 0;
  const b = c.getReg(size, i.reg);
  const bhi = size === 8 ? c.vhi : 0;
  const r = aluOp(c, ALU.ADD, size, a, ahi, b, bhi);
  const rhi = c.vhi;
  // SRC := DEST, then DEST := sum: with the same register as both operands the sum wins. Memory is
  // written first so that a faulting write leaves the register untouched.
  if (i.mod === 3) { c.setReg(size, i.reg, a, ahi); c.setReg(size, i.rm, r, rhi); return; }
  c.writeE(i, size, r, rhi);
  c.setReg(size, i.reg, a, ahi);
}

export function execCmpxchg(c: Cpu, i: Insn): void {
  const size = i.osz;
  const st = c.st;
  const d = c.readRmw(i, size);
  const dhi = size === 8 ? c.vhi : 0;
  const acc = c.getReg(size, 0);
  const acchi = size === 8 ? c.vhi : 0;
  aluOp(c, ALU.CMP, size, acc, acchi, d, dhi);
  if (ucmp(acc, acchi, d, dhi, size) === 0) {
    const s = c.getReg(size, i.reg);
    c.writeE(i, size, s, size === 8 ? c.vhi : 0);
  } else {
    // A memory destination is written back with its own value (a locked RMW always writes); a
    // register destination is not written at all (a 32-bit one is not zero-extended).
    if (i.mod !== 3) c.writeE(i, size, d, dhi);
    c.setReg(size, 0, d, dhi);
  }
  void st;
}

export function execCmpxchg8b(c: Cpu, i: Insn): void {
  const st = c.st;
  c.ea(i);
  const wide = (i.pfx & 64) !== 0; // REX.W → CMPXCHG16B
  if (wide && (c.eaLo & 15)) throw new Fault(EXC.GP, 0);
  const eaLo = c.eaLo, eaHi = c.eaHi;
  const lo = c.readMem(wide ? 8 : 4);
  const lohi = wide ? c.vhi : 0;
  c.eaLo = (eaLo + (wide ? 8 : 4)) | 0; c.eaHi = eaHi;
  const hi = c.readMem(wide ? 8 : 4);
  const hihi = wide ? c.vhi : 0;
  const sz = wide ? 8 : 4;
  const eq = lo === c.getReg(sz, 0) && (!wide || lohi === c.vhi) && hi === c.getReg(sz, 2) && (!wide || hihi === c.vhi);
  c.materialize();
  if (eq) {
    c.eaLo = eaLo; c.eaHi = eaHi;
    c.writeMem(sz, st.lo[3], st.hi[3]);
    c.eaLo = (eaLo + sz) | 0;
    c.writeMem(sz, st.lo[1], st.hi[1]);
    st.flags |= FLAG.ZF;
  } else {
    c.setReg(sz, 0, lo, lohi);
    c.setReg(sz, 2, hi, hihi);
    st.flags &= ~FLAG.ZF;
  }
}

/** Fast path: 32-bit ALU op with a register destination (the most common form in compiled code). */
export function alu32Reg(c: Cpu, i: Insn, op: number): void {
  const st = c.st;
  const form = i.form;
  const d = form === FORM.GE ? i.reg : i.rm;
  const a = st.lo[d];
  const b = form === FORM.EI ? i.imm | 0 : st.lo[form === FORM.GE ? i.rm : i.reg];
  let r: number, kind: number;
  switch (op) {
    case ALU.ADD: r = (a + b) | 0; kind = LF.ADD; break;
    case ALU.SUB: case ALU.CMP: r = (a - b) | 0; kind = LF.SUB; break;
    case ALU.AND: r = a & b; kind = LF.LOGIC; break;
    case ALU.OR: r = a | b; kind = LF.LOGIC; break;
    case ALU.XOR: r = a ^ b; kind = LF.LOGIC; break;
    case ALU.ADC: { const cin = c.cf() ? 1 : 0; r = (a + b + cin) | 0; st.lfCarry = cin; kind = LF.ADC; break; }
    default: { const cin = c.cf() ? 1 : 0; r = (a - b - cin) | 0; st.lfCarry = cin; kind = LF.SBB; break; }
  }
  st.lf = kind; st.lfSize = 4;
  st.lfResLo = r; st.lfResHi = 0; st.lfALo = a; st.lfAHi = 0; st.lfBLo = b; st.lfBHi = 0;
  if (op !== ALU.CMP) { st.lo[d] = r; st.hi[d] = 0; }
}

/** Fast path: 64-bit ALU op with a register destination. */
export function alu64Reg(c: Cpu, i: Insn, op: number): void {
  const st = c.st;
  const form = i.form;
  const d = form === FORM.GE ? i.reg : i.rm;
  const a = st.lo[d], ah = st.hi[d];
  let b: number, bh: number;
  if (form === FORM.EI) { b = i.imm | 0; bh = i.immHi | 0; }
  else { const s = form === FORM.GE ? i.rm : i.reg; b = st.lo[s]; bh = st.hi[s]; }
  let r: number, rh: number, kind: number;
  switch (op) {
    case ALU.ADD: { const t = (a >>> 0) + (b >>> 0); r = t | 0; rh = (ah + bh + (t > 0xffffffff ? 1 : 0)) | 0; kind = LF.ADD; break; }
    case ALU.SUB: case ALU.CMP: { const t = (a >>> 0) - (b >>> 0); r = t | 0; rh = (ah - bh - (t < 0 ? 1 : 0)) | 0; kind = LF.SUB; break; }
    case ALU.AND: r = a & b; rh = ah & bh; kind = LF.LOGIC; break;
    case ALU.OR: r = a | b; rh = ah | bh; kind = LF.LOGIC; break;
    case ALU.XOR: r = a ^ b; rh = ah ^ bh; kind = LF.LOGIC; break;
    default: {
      r = aluOp(c, op, 8, a, ah, b, bh);
      if (op !== ALU.CMP) { st.lo[d] = r; st.hi[d] = c.vhi; }
      return;
    }
  }
  st.lf = kind; st.lfSize = 8;
  st.lfResLo = r; st.lfResHi = rh; st.lfALo = a; st.lfAHi = ah; st.lfBLo = b; st.lfBHi = bh;
  if (op !== ALU.CMP) { st.lo[d] = r; st.hi[d] = rh; }
}

/**
 * 32×32 → 64-bit multiply without BigInt (16-bit limbs keep every partial product exact).
 * Returns the low half; the high half is left in c.vhi.
 */
function mul32x32(c: Cpu, a: number, b: number, signed: boolean): number {
  const neg = signed && ((a < 0) !== (b < 0)) && a !== 0 && b !== 0;
  let x = signed ? Math.abs(a) : a >>> 0, y = signed ? Math.abs(b) : b >>> 0;
  x >>>= 0; y >>>= 0;
  const x0 = x & 0xffff, x1 = x >>> 16, y0 = y & 0xffff, y1 = y >>> 16;
  const p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  let lo = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  let hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  if (neg) { lo = ~lo; hi = ~hi; const t = (lo >>> 0) + 1; lo = t | 0; if (t > 0xffffffff) hi = hi + 1; }
  c.vhi = hi | 0;
  return lo | 0;
}
